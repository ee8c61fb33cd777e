// Scenario: an EL1 guest executes `hvc #0x42`; the exit arrives in the C++ loop over
// run() as a Hypercall carrying the immediate and x0..x6; the loop answers in x0; the
// guest checks the answer and reports.
#include "scenario.h"

import arm.vcpu;

extern "C" char hvc_guest[];
SCENARIO_GUEST_STACK(guest_stack);

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(hvc_guest),
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack)}};
  vcpu.load();
  bool answered = false;
  for (arm::Exit& exit : vcpu.run()) {
    auto* call = exit.get_if<arm::Hypercall>();
    SCENARIO_CHECK(call != nullptr);
    if (call->immediate == 0x42) {
      uint64_t sum = 0;
      for (unsigned n = 0; n < 7; ++n) {
        SCENARIO_CHECK(call->x[n] == n + 1);
        sum += call->x[n];
      }
      call->complete(sum);
      answered = true;
      continue;
    }
    SCENARIO_CHECK(call->immediate == GUEST_REPORT);
    printf("guest reported %llu after %llu exits\n", (unsigned long long)call->x[0],
           (unsigned long long)vcpu.exit_count());
    SCENARIO_CHECK(answered);
    return call->x[0] == GUEST_PASS ? 0 : 1;
  }
  return 1;
}
