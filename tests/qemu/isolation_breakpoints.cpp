// Scenario: another vCPU's enabled breakpoint must not fire in a guest that enables debug
// exceptions (MDSCR_EL1.MDE, KDE) but whose own breakpoints are disabled. vCPU A puts
// breakpoint 0 on a function both guests call and hits it itself; then B, which set MDE and
// KDE while A's breakpoint was on the CPU, calls the same function after the host put A and
// loaded B. With the lazy debug switch, load() must restore B's breakpoints at once because
// B's MDE is set: no debug register access of B's traps first. The guests run at EL1 on
// physical addresses. (QEMU 7.2 generates Breakpoint exceptions with the CPU's OS lock as
// reset left it; should a QEMU not, A's positive control fails and says so.)
#include "scenario.h"

import arm.vcpu;

extern "C" char isolation_breakpoints_guest[];

namespace {
constexpr uint16_t kYield = 1;
constexpr uint16_t kDebugException = 2;
// ESR_EL1.EC of a Breakpoint exception taken from the current EL (Arm ARM D19.2, ESR_EL1).
constexpr uint64_t kEcBreakpointCurrentEl = 0x31;

// The immediate and x0 of the vCPU's next exit, which must be an HVC.
int next_hypercall(arm::EventStream<arm::Exit>::Iterator& it, uint16_t& immediate, uint64_t& x0) {
  auto* call = (*it).get_if<arm::Hypercall>();
  SCENARIO_CHECK(call != nullptr);
  immediate = call->immediate;
  x0 = call->x[0];
  return 0;
}
}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  const auto guest = reinterpret_cast<uint64_t>(isolation_breakpoints_guest);
  arm::VCpu a{{.mpidr = 0, .entry = guest, .argument = 0xa1}};
  arm::VCpu b{{.mpidr = 1, .entry = guest, .argument = 0xb2}};
  auto run_a = a.run();
  auto run_b = b.run();
  uint16_t immediate = 0;
  uint64_t x0 = 0;

  a.load();
  auto it_a = run_a.begin();
  SCENARIO_CHECK(next_hypercall(it_a, immediate, x0) == 0 && immediate == kYield);
  a.put();

  b.load();
  auto it_b = run_b.begin();
  SCENARIO_CHECK(next_hypercall(it_b, immediate, x0) == 0 && immediate == kYield);
  b.put();

  a.load();
  ++it_a;
  SCENARIO_CHECK(next_hypercall(it_a, immediate, x0) == 0);
  if (immediate != kDebugException || x0 != kEcBreakpointCurrentEl) {
    printf("vCPU A: its own breakpoint did not fire (hvc #%u, x0 = %llu)\n", immediate,
           (unsigned long long)x0);
    return 1;
  }
  a.put();  // A's enabled breakpoint stays in the CPU's registers

  b.load();  // B's MDE is set: load() must restore B's breakpoints, although B touches none
  ++it_b;
  SCENARIO_CHECK(next_hypercall(it_b, immediate, x0) == 0);
  if (immediate != GUEST_REPORT || x0 != GUEST_PASS) {
    printf("vCPU B: hvc #%u, x0 = %llu (A's breakpoint fired in B)\n", immediate, (unsigned long long)x0);
    return 1;
  }
  b.put();
  printf("isolation_breakpoints: A's breakpoint fired in A only\n");
  return 0;
}
