// Scenario: PSCI through both conduits with a real second CPU. The guest's CPU_ON reaches
// the host loop as a PsciCpuOn event; the host starts physical CPU 1 through the
// firmware's PSCI (QEMU's) and runs vCPU 1 there, which reports in and turns itself off;
// AFFINITY_INFO and ALREADY_ON come from the policy's vCPU table.
#include "scenario.h"
#include "start_cpu.h"

import arm.vcpu;

extern "C" char psci_smp_guest[];
SCENARIO_GUEST_STACK(guest_stack);

namespace {
arm::psci::AffinityEntry vcpus[2] = {{.mpidr = 0, .state = arm::psci::AffinityState::On},
                                     {.mpidr = 1, .state = arm::psci::AffinityState::Off}};
arm::smccc::GuestCallPolicy policy;
uint64_t secondary_entry = 0;
uint64_t secondary_context = 0;
volatile bool secondary_turned_off = false;

void set_state(unsigned cpu, arm::psci::AffinityState state) {
  __atomic_store(&vcpus[cpu].state, &state, __ATOMIC_RELEASE);
}
}  // namespace

// Physical CPU 1 arrives here (runtime/el2/start.S) after the firmware's CPU_ON.
extern "C" void arm_el2_secondary_main(uint64_t cpu) {
  arm::PerCpu percpu;
  if (percpu.enable() != arm::EnableError::None) return;
  set_state(static_cast<unsigned>(cpu), arm::psci::AffinityState::On);
  arm::VCpu vcpu{{.mpidr = cpu, .entry = secondary_entry, .argument = secondary_context, .calls = &policy}};
  vcpu.load();
  for (arm::Exit& exit : vcpu.run()) {
    if (auto* off = exit.get_if<arm::PsciCpuOff>()) {
      off->complete(arm::psci::Status::Success);
      break;
    }
  }
  set_state(static_cast<unsigned>(cpu), arm::psci::AffinityState::Off);
  secondary_turned_off = true;
  arm::smccc::CallRegisters call;
  call.x[0] = arm::psci::kCpuOff;
  arm::smccc::SmcConduit firmware;
  arm::smccc::call_firmware(firmware, call);
}

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  policy.psci.vcpus = vcpus;
  arm::VCpu vcpu{{.mpidr = 0,
                  .entry = reinterpret_cast<uint64_t>(psci_smp_guest),
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack),
                  .calls = &policy}};
  vcpu.load();
  unsigned cpu_on_events = 0;
  for (arm::Exit& exit : vcpu.run()) {
    if (auto* on = exit.get_if<arm::PsciCpuOn>()) {
      ++cpu_on_events;
      SCENARIO_CHECK(on->target_mpidr == 1 && on->target == 1 && on->context_id == 0x5eed);
      set_state(1, arm::psci::AffinityState::OnPending);
      secondary_entry = on->entry;
      secondary_context = on->context_id;
      SCENARIO_CHECK(start_cpu(1));
      on->complete(arm::psci::Status::Success);
      continue;
    }
    auto* call = exit.get_if<arm::Hypercall>();
    SCENARIO_CHECK(call != nullptr && call->immediate == GUEST_REPORT);
    printf("guest reported %llu; CPU_ON events %u\n", (unsigned long long)call->x[0], cpu_on_events);
    SCENARIO_CHECK(cpu_on_events == 1);  // the second CPU_ON got ALREADY_ON without an event
    // Wait up to 10 s of counter time for CPU 1 to finish (its QEMU thread may be slow to
    // run on a loaded host).
    const uint64_t deadline =
        arm::read_sysreg<arm::SysReg::CNTPCT_EL0>() + 10 * arm::read_sysreg<arm::SysReg::CNTFRQ_EL0>();
    while (!secondary_turned_off && arm::read_sysreg<arm::SysReg::CNTPCT_EL0>() < deadline) {
    }
    SCENARIO_CHECK(secondary_turned_off);
    return call->x[0] == GUEST_PASS ? 0 : 1;
  }
  return 1;
}
