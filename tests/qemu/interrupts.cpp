// Scenario: a physical interrupt (the EL2 physical timer, INTID 26) arriving while the
// guest runs produces an ExternalInterrupt exit; a virtual interrupt injected through a
// list register (INTID 27) is taken by the guest's own IRQ handler.
#include "scenario.h"

import arm.vcpu;

extern "C" char interrupts_guest[];
SCENARIO_GUEST_STACK(guest_stack);

namespace {
constexpr uint32_t kInjectedIntid = 27;
constexpr uint16_t kReady = 2;
}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  SCENARIO_CHECK(cpu.features().gic_system_registers);
  arm::PhysicalGic gic{kGicDistributor, kGicRedistributor};
  gic.init_this_cpu();
  gic.enable_private_interrupt(arm::HypervisorTimer::kIntid);

  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(interrupts_guest),
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack)}};
  vcpu.load();
  bool timer_exit_seen = false;
  for (arm::Exit& exit : vcpu.run()) {
    if (auto* call = exit.get_if<arm::Hypercall>()) {
      if (call->immediate == kReady) {
        // The guest spins from now on; only the hypervisor's timer can stop it.
        arm::HypervisorTimer::start(10000);
        call->complete(0);
        continue;
      }
      SCENARIO_CHECK(call->immediate == GUEST_REPORT);
      printf("guest reported %llu\n", (unsigned long long)call->x[0]);
      SCENARIO_CHECK(timer_exit_seen);
      return call->x[0] == GUEST_PASS ? 0 : 1;
    }
    SCENARIO_CHECK(exit.is<arm::ExternalInterrupt>());
    const uint32_t intid = gic.acknowledge();
    printf("external interrupt exit: INTID %u\n", intid);
    SCENARIO_CHECK(intid == arm::HypervisorTimer::kIntid);
    arm::HypervisorTimer::stop();
    gic.end_of_interrupt(intid);
    timer_exit_seen = true;
    SCENARIO_CHECK(vcpu.inject_interrupt({.intid = kInjectedIntid}));
  }
  return 1;
}
