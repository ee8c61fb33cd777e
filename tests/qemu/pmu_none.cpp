// Scenario: a vCPU without a guest PMU (VCpuConfig::pmu = GuestPmu::None, the default) is
// told there is none (ID_AA64DFR0_EL1.PMUVer 0) and finds every PMU register UNDEFINED
// (pmu_none_guest.S): each access traps (MDCR_EL2.TPM, TPMCR) and the vCPU answers it
// inside run() with an undefined instruction, reads and writes alike.
#include "scenario.h"

import arm.vcpu;

extern "C" char pmu_none_guest[];
SCENARIO_GUEST_STACK(guest_stack);

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(pmu_none_guest),
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack)}};
  SCENARIO_CHECK(vcpu.pmu_counters() == 0);
  vcpu.load();
  // Every access is answered inside run(): none reaches the hypervisor.
  for (arm::Exit& exit : vcpu.run()) {
    auto* call = exit.get_if<arm::Hypercall>();
    SCENARIO_CHECK(call != nullptr && call->immediate == GUEST_REPORT);
    printf("pmu_none: guest reported %llu (x1 = %#llx) after %llu exits\n", (unsigned long long)call->x[0],
           (unsigned long long)call->x[1], (unsigned long long)vcpu.exit_count());
    return call->x[0] == GUEST_PASS ? 0 : 1;
  }
  return 1;
}
