// Scenario: two vCPUs on one physical CPU. Each fills its FP/SIMD registers, FPCR,
// callee-saved registers, EL1 system registers, its first breakpoint and watchpoint, its
// OS lock (A locks it, B unlocks it) with its own values and yields; the
// host puts one and loads the other in between. Each guest checks that its values
// survived and that it never saw the host's or the other vCPU's values (its first entry
// sees only zeros, although the host left marker values in the FP/SIMD registers).
#include "scenario.h"

import arm.vcpu;

extern "C" char isolation_guest[];
extern "C" void arm_fpsimd_restore(const void* state);
SCENARIO_GUEST_STACK(stack_a);
SCENARIO_GUEST_STACK(stack_b);

namespace {
constexpr uint16_t kYield = 1;

// Runs a vCPU until its next hvc and checks what it was.
int expect_hypercall(arm::EventStream<arm::Exit>::Iterator& it, uint16_t immediate, uint64_t* x0 = nullptr) {
  arm::Exit& exit = *it;
  auto* call = exit.get_if<arm::Hypercall>();
  SCENARIO_CHECK(call != nullptr);
  if (call->immediate != immediate) {
    printf("expected hvc #%u, got hvc #%u with x0 = %llu\n", immediate, call->immediate,
           (unsigned long long)call->x[0]);
    return 1;
  }
  if (x0 != nullptr) *x0 = call->x[0];
  call->complete(call->x[0]);
  return 0;
}
}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);

  // Host marker values in the FP/SIMD registers: neither guest may ever see them.
  static arm::FpSimdState marker;
  for (auto& v : marker.v) v[0] = v[1] = 0x4444'4444'4444'4444ull;
  arm_fpsimd_restore(&marker);

  const auto guest = reinterpret_cast<uint64_t>(isolation_guest);
  arm::VCpu a{{.mpidr = 0,
               .entry = guest,
               .argument = 0xa1,
               .stack = reinterpret_cast<uint64_t>(stack_a + sizeof stack_a)}};
  arm::VCpu b{{.mpidr = 1,
               .entry = guest,
               .argument = 0xb2,
               .stack = reinterpret_cast<uint64_t>(stack_b + sizeof stack_b)}};
  auto run_a = a.run();
  auto run_b = b.run();

  a.load();
  auto it_a = run_a.begin();  // A runs to its first yield
  SCENARIO_CHECK(expect_hypercall(it_a, kYield) == 0);
  a.put();

  b.load();
  auto it_b = run_b.begin();  // B's first entry: must see zeros, not A's values
  SCENARIO_CHECK(expect_hypercall(it_b, kYield) == 0);
  b.put();

  for (int round = 0; round < 2; ++round) {
    a.load();
    ++it_a;
    SCENARIO_CHECK(expect_hypercall(it_a, round == 0 ? kYield : GUEST_REPORT) == 0 ||
                   (printf("vCPU A\n"), false));
    a.put();
    b.load();
    ++it_b;
    SCENARIO_CHECK(expect_hypercall(it_b, round == 0 ? kYield : GUEST_REPORT) == 0 ||
                   (printf("vCPU B\n"), false));
    b.put();
  }
  // The saved contexts hold each vCPU's own values.
  SCENARIO_CHECK(a.el1().at<arm::SysReg::TPIDR_EL1>() == (0xa1ull << 8) + 0x81);
  SCENARIO_CHECK(b.el1().at<arm::SysReg::TPIDR_EL1>() == (0xb2ull << 8) + 0x81);
  SCENARIO_CHECK(a.fpsimd().v[5][0] == (0xa1ull << 8) + 0x45);
  SCENARIO_CHECK(b.fpsimd().v[5][0] == (0xb2ull << 8) + 0x45);
  SCENARIO_CHECK(a.debug_registers().breakpoints[0].value == (0xa1ull << 8) + 0x88);
  SCENARIO_CHECK(b.debug_registers().breakpoints[0].value == (0xb2ull << 8) + 0x88);
  SCENARIO_CHECK(a.debug_registers().watchpoints[0].control == 0x1fb);  // enabled, PAC = 0xa1 & 3
  SCENARIO_CHECK(b.debug_registers().watchpoints[0].control == 0x1fd);  // PAC = 0xb2 & 3
  SCENARIO_CHECK(a.debug_registers().os_lock_locked);                   // OSLK = 0xa1 & 1
  SCENARIO_CHECK(!b.debug_registers().os_lock_locked);                  // OSLK = 0xb2 & 1
  printf("isolation: both vCPUs kept their registers across %llu + %llu exits\n",
         (unsigned long long)a.exit_count(), (unsigned long long)b.exit_count());
  return 0;
}
