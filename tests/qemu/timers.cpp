// Host of the timer scenarios (timer_*_guest.S): a one-vCPU hypervisor with arm.vgic, as
// the example hypervisor drives it. The virtual timer's PPI 27 is hardware-linked and its
// level followed at exits while high; the emulated EL1 physical timer's level comes from
// TimerLevel events and from its hardware copy's PPI 30; a trapped WFI waits (spinning at
// EL2) until its Wfx::deadline or until the vGIC has something to deliver, and fails the
// scenario if neither can ever happen: that WFI would sleep forever.
//
// Hypercalls: #TIMER_HVC_SYNC is only an exit (levels followed, list registers refilled);
// #TIMER_HVC_QUERY answers x0 = whether a list register holds INTID x1.
#include "scenario.h"
#include "timer_guest.h"

import arm.vcpu;
import arm.vgic;

#include "timer_host.h"

extern "C" char timer_guest[];
SCENARIO_GUEST_STACK(guest_stack);

// The guests' names for the timer fields are arm.timer's.
static_assert(TIMER_CTL_ENABLE == arm::cnt_ctl::kEnable && TIMER_CTL_IMASK == arm::cnt_ctl::kImask &&
              TIMER_CTL_ISTATUS == arm::cnt_ctl::kIstatus);
static_assert(VIRTUAL_TIMER_INTID == arm::kVirtualTimerIntid &&
              PHYSICAL_TIMER_INTID == arm::kPhysicalTimerIntid);

namespace {
constexpr uint32_t kMaintenanceIntid = 25;

arm::Vgic vgic{{.vcpus = 1, .spis = 32, .gicd_base = kGicDistributor, .gicr_base = kGicRedistributor}};
unsigned list_registers = 0;
bool virtual_timer_high = false;

// What a guest's GIC driver would do through GICD/GICR (this scenario runs without stage 2,
// so the guest's own accesses would reach the physical GIC): the timers' PPIs in group 1 and
// enabled, group 1 on at the distributor. The guest opens its virtual CPU interface itself.
void configure_vgic() {
  const uint64_t sgi_frame = kGicRedistributor + arm::kGicrFrameSize;
  const uint32_t timers = (1u << arm::kVirtualTimerIntid) | (1u << arm::kPhysicalTimerIntid);
  vgic.write(0, kGicDistributor + arm::gicd::CTLR, 4, arm::gicd::kCtlrEnableGrp1);
  vgic.write(0, sgi_frame + arm::gicr::IGROUPR0, 4, timers);
  vgic.write(0, sgi_frame + arm::gicr::ISENABLER0, 4, timers);
  vgic.map_hardware(arm::kVirtualTimerIntid, arm::kVirtualTimerIntid);
}

bool in_list_registers(uint32_t intid) {
  for (unsigned n = 0; n < list_registers; ++n) {
    const uint64_t lr = arm::read_list_register(n);
    if (!arm::list_register_free(lr) && arm::list_register_intid(lr) == intid) return true;
  }
  return false;
}

// Before every entry: the virtual timer's level follows its line (a drop the guest made
// untrapped), then the list registers are folded and refilled; a dropped level whose
// interrupt left the list registers unacknowledged leaves the physical PPI for the host to
// deactivate.
void sync(arm::PhysicalGic& gic, const arm::VCpu& vcpu) {
  const bool dropped = virtual_timer_high && !vcpu.virtual_timer_output();
  if (dropped) {
    virtual_timer_high = false;
    vgic.set_level(arm::kVirtualTimerIntid, false);
  }
  arm::VgicState cpu;
  for (unsigned n = 0; n < list_registers; ++n) cpu.lr[n] = arm::read_list_register(n);
  cpu.hcr = arm::read_sysreg<arm::SysReg::ICH_HCR_EL2>();
  vgic.fold(0, cpu, list_registers);
  vgic.flush(0, cpu, list_registers);
  for (unsigned n = 0; n < list_registers; ++n) arm::write_list_register(n, cpu.lr[n]);
  arm::write_sysreg<arm::SysReg::ICH_HCR_EL2>(cpu.hcr);
  if (dropped && !in_list_registers(arm::kVirtualTimerIntid) &&
      gic.private_interrupt_active(arm::kVirtualTimerIntid))
    gic.deactivate(arm::kVirtualTimerIntid);
}

void take_physical_interrupt(arm::PhysicalGic& gic, arm::VCpu& vcpu) {
  const uint32_t intid = gic.acknowledge();
  if (intid >= arm::kSpuriousIntid) return;
  gic.end_of_interrupt(intid);  // split EOI: priority drop only
  if (intid == arm::kVirtualTimerIntid) {
    virtual_timer_high = true;  // active until the guest deactivates (HW bit)
    vgic.set_level(intid, true);
    return;
  }
  if (intid == arm::kPhysicalTimerIntid) vgic.set_level(intid, vcpu.sample_timer_lines().physical_timer);
  gic.deactivate(intid);
}
}  // namespace

int main() {
  arm::PerCpu cpu;
  arm::PhysicalGic gic{kGicDistributor, kGicRedistributor};
  SCENARIO_CHECK(start_timer_host(cpu, gic));
  gic.enable_private_interrupt(arm::kPhysicalTimerIntid);
  gic.enable_private_interrupt(kMaintenanceIntid);
  configure_vgic();
  list_registers = arm::list_register_count() < arm::kMaxListRegisters ? arm::list_register_count()
                                                                       : arm::kMaxListRegisters;

  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(timer_guest),
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack),
                  .trap_wfi = true}};
  SCENARIO_CHECK(vcpu.emulates_physical_timer());
  vcpu.load();
  sync(gic, vcpu);
  unsigned wfi_exits = 0, timer_level_events = 0;
  for (arm::Exit& exit : vcpu.run()) {
    if (auto* call = exit.get_if<arm::Hypercall>()) {
      if (call->immediate == GUEST_REPORT) {
        printf(
            "guest reported %llu (x1 = %llu: on a pass, ticks from the last deadline to the handler); %u WFI "
            "exits, %u TimerLevel events\n",
            (unsigned long long)call->x[0], (unsigned long long)call->x[1], wfi_exits, timer_level_events);
        return call->x[0] == GUEST_PASS ? 0 : 1;
      }
      if (call->immediate == TIMER_HVC_QUERY) {
        sync(gic, vcpu);
        call->complete(in_list_registers(static_cast<uint32_t>(call->x[1])) ? 1 : 0);
        continue;
      }
      SCENARIO_CHECK(call->immediate == TIMER_HVC_SYNC);
      call->complete(0);
    } else if (exit.is<arm::ExternalInterrupt>()) {
      take_physical_interrupt(gic, vcpu);
    } else if (auto* level = exit.get_if<arm::TimerLevel>()) {
      ++timer_level_events;
      vgic.set_level(level->intid, level->high);
    } else if (auto* wait = exit.get_if<arm::Wfx>()) {
      ++wfi_exits;
      SCENARIO_CHECK(wait->waits_for_interrupt());
      // The vCPU answered a WFI with an interrupt in a list register itself; this one waits.
      SCENARIO_CHECK(wait->deadline != arm::kNoDeadline || vgic.has_work(0));
      while (arm::read_sysreg<arm::SysReg::CNTPCT_EL0>() < wait->deadline && !vgic.has_work(0)) {
      }
      const arm::TimerLines lines = vcpu.sample_timer_lines();
      vgic.set_level(arm::kPhysicalTimerIntid, lines.physical_timer);
      // The virtual timer's PPI is pending at the physical GIC by now: it exits at entry.
    } else {
      printf("unexpected exit: %s at pc 0x%llx\n", arm::exit_name(exit),
             (unsigned long long)vcpu.registers().pc);
      return 1;
    }
    sync(gic, vcpu);
  }
  return 1;
}
