// Scenario: a guest that loops forever without trapping is stopped by the hypervisor's own
// timer (arm::HypervisorTimer: the EL2 physical timer, PPI 26, Arm ARM D11.2 "The Generic
// Timer in AArch64 state"). Its interrupt is routed to EL2 (HCR_EL2.IMO), so it ends the
// guest's run at EL1 or EL0 whatever the guest's own PSTATE.DAIF says (Arm ARM D1,
// "Asynchronous exception routing" and "masking": an interrupt taken to an Exception level
// above the current one is not masked by PSTATE.I).
//
// Four phases (runaway_guest_guest.S): an EL1 spin with DAIF masked, an exception storm
// that never leaves EL1, an EL0 spin and a WFE loop. For each, the host arms the timer
// before entering, expects an ExternalInterrupt exit, acknowledges INTID 26 at the GIC,
// stops the timer, ends the interrupt, checks that the guest was caught in the phase's
// loop, and moves it to the next phase by setting its PC and PSTATE. A guest stopped
// before it reached its loop (the timer may fire while the host itself is descheduled) is
// resumed with the timer armed again; every exit must still be the timer's.
#include "scenario.h"

import arm.vcpu;

extern "C" char runaway_el1_spin[], runaway_exception_storm[], runaway_storm_udf[], runaway_storm_end[],
    runaway_el0_entry[], runaway_el0_spin[], runaway_wfe_loop[], runaway_wfe_end[], runaway_guest_done[];

namespace {
constexpr uint64_t kDeadlineUs = 2000;

struct Phase {
  const char* name;
  const char* entry;  // the host enters the phase here, at EL1h with DAIF masked
  const char* loop;   // the endless loop is [loop, end),
  const char* end;
  uint64_t mode;                   // run in this PSTATE.M[3:0]
  int counter = -1;                // a register the loop increments (not 0: it has looped), or -1
  const char* counted = "";        // what the counter counts
  const char* faulting = nullptr;  // an exception storm's instruction: ELR_EL1, with ESR_EL1.EC 0
};

const Phase kPhases[] = {
    {"EL1 spin with DAIF masked", runaway_el1_spin, runaway_el1_spin, runaway_el1_spin + 4, arm::spsr::kEl1h},
    {"EL1 exception storm", runaway_exception_storm, runaway_storm_udf, runaway_storm_end, arm::spsr::kEl1h,
     20, "UNDEFINED exceptions taken at EL1", runaway_storm_udf},
    {"EL0 spin", runaway_el0_entry, runaway_el0_spin, runaway_el0_spin + 4, arm::spsr::kEl0t},
    {"WFE loop", runaway_wfe_loop, runaway_wfe_loop, runaway_wfe_end, arm::spsr::kEl1h, 21,
     "WFE loop iterations"},
};
constexpr unsigned kPhaseCount = sizeof kPhases / sizeof kPhases[0];

uint64_t address_of(const char* p) { return reinterpret_cast<uint64_t>(p); }
uint64_t counter_now() { return arm::read_sysreg<arm::SysReg::CNTPCT_EL0>(); }

bool within(uint64_t pc, const char* begin, const char* end) {
  return pc >= address_of(begin) && pc < address_of(end);
}

// Whether the guest was stopped inside the phase's endless loop.
bool caught_in_loop(const Phase& phase, const arm::VCpu& vcpu) {
  const arm::GuestRegisters& regs = vcpu.registers();
  if (!within(regs.pc, phase.loop, phase.end)) return false;
  if ((regs.pstate & arm::spsr::kModeMask) != phase.mode) return false;
  return phase.counter < 0 || regs.x[phase.counter] != 0;
}
}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  SCENARIO_CHECK(cpu.features().gic_system_registers);
  arm::PhysicalGic gic{kGicDistributor, kGicRedistributor};
  gic.init_this_cpu();
  gic.enable_private_interrupt(arm::HypervisorTimer::kIntid);

  arm::VCpu vcpu{{.entry = address_of(kPhases[0].entry)}};
  vcpu.load();
  unsigned phase = 0;
  uint64_t timer_exits = 0;  // in this phase
  uint64_t all_timer_exits = 0;
  uint64_t started = counter_now();
  arm::HypervisorTimer::start_us(kDeadlineUs);
  for (arm::Exit& exit : vcpu.run()) {
    if (phase == kPhaseCount) {
      auto* call = exit.get_if<arm::Hypercall>();
      SCENARIO_CHECK(call != nullptr && call->immediate == GUEST_REPORT && call->x[0] == GUEST_PASS);
      SCENARIO_CHECK(vcpu.exit_count() == all_timer_exits + 1);  // nothing but the timer stopped it
      printf("runaway_guest: all %u phases stopped by the hypervisor's timer\n", kPhaseCount);
      return 0;
    }
    const Phase& current = kPhases[phase];
    if (!exit.is<arm::ExternalInterrupt>()) {
      printf("%s: expected the timer's interrupt, got a %s exit\n", current.name, arm::exit_name(exit));
      return 1;
    }
    const uint64_t stopped = counter_now();
    SCENARIO_CHECK(arm::HypervisorTimer::expired());  // CNTHP_CTL_EL2.ISTATUS: the deadline passed
    const uint32_t intid = gic.acknowledge();
    arm::HypervisorTimer::stop();
    gic.end_of_interrupt(intid);
    SCENARIO_CHECK(intid == arm::HypervisorTimer::kIntid);
    ++timer_exits;
    ++all_timer_exits;

    arm::GuestRegisters& regs = vcpu.registers();
    // Every interrupt is masked in the guest's PSTATE, in every phase.
    SCENARIO_CHECK((regs.pstate & arm::spsr::kDaif) == arm::spsr::kDaif);
    if (!caught_in_loop(current, vcpu)) {
      // Stopped on the way into its loop: let it get there.
      SCENARIO_CHECK(within(regs.pc, current.entry, current.end));
      printf("%s: stopped at 0x%llx before its loop; resumed\n", current.name, (unsigned long long)regs.pc);
      vcpu.resume_as_is();
      arm::HypervisorTimer::start_us(kDeadlineUs);
      continue;
    }
    if (current.faulting != nullptr) {
      // The guest's own EL1 exception registers: an UNDEFINED exception (EC 0x00) at the UDF.
      SCENARIO_CHECK(arm::read_sysreg<arm::SysReg::ELR_EL1>() == address_of(current.faulting));
      SCENARIO_CHECK((arm::read_sysreg<arm::SysReg::ESR_EL1>() >> 26) == 0);
    }
    printf("runaway_guest: %s stopped after %llu counter ticks, %llu timer exit(s)", current.name,
           (unsigned long long)(stopped - started), (unsigned long long)timer_exits);
    if (current.counter >= 0)
      printf(", %llu %s", (unsigned long long)regs.x[current.counter], current.counted);
    printf("\n");

    // On to the next phase, or to the report.
    ++phase;
    regs.pc = address_of(phase < kPhaseCount ? kPhases[phase].entry : runaway_guest_done);
    regs.pstate = arm::kPstateEl1h | arm::kPstateDaifMasked;
    vcpu.resume_as_is();
    if (phase < kPhaseCount) {
      timer_exits = 0;
      started = counter_now();
      arm::HypervisorTimer::start_us(kDeadlineUs);
    }
  }
  return 1;
}
