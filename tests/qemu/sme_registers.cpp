// Scenario (on a CPU with SME; CTest runs it on QEMU's max): TPIDR2_EL0 and SMPRI_EL1, the
// FEAT_SME registers no CPTR_EL2 trap covers, are per vCPU. Two vCPUs on one physical CPU,
// the host's own values left in both registers first: each vCPU's first look finds zeros,
// it writes its own values, the other vCPU runs, and it reads its own values back.
// SMPRI_EL1.Priority is RES0 where the CPU implements no streaming mode priorities
// (SMIDR_EL1.SMPS 0; Arm ARM D24.2 SMPRI_EL1, SMIDR_EL1), as on QEMU: then it reads 0.
#include "scenario.h"

import arm.vcpu;

extern "C" char sme_registers_guest[];
SCENARIO_GUEST_STACK(stack_a);
SCENARIO_GUEST_STACK(stack_b);

namespace {
constexpr uint64_t kSmidrSmps = 1ull << 15;  // SMIDR_EL1.SMPS: priorities supported
constexpr uint64_t kSmpriPriority = 0xf;     // SMPRI_EL1.Priority [3:0]

// The values vCPU `seed` writes (sme_registers_guest.S) as the CPU keeps them.
uint64_t own_tpidr2(uint64_t seed) { return (seed << 8) + 0x22; }
uint64_t own_smpri(uint64_t seed, bool priorities) { return priorities ? seed & kSmpriPriority : 0; }

// Runs a vCPU to its next hvc, which must be `immediate` with x1, x2 as given.
int expect(arm::EventStream<arm::Exit>::Iterator& it, uint16_t immediate, uint64_t x1, uint64_t x2) {
  auto* call = it->get_if<arm::Hypercall>();
  SCENARIO_CHECK(call != nullptr);
  if (call->immediate != immediate || call->x[1] != x1 || call->x[2] != x2) {
    printf("hvc #%u: TPIDR2_EL0 %#llx SMPRI_EL1 %#llx, expected hvc #%u with %#llx %#llx\n", call->immediate,
           (unsigned long long)call->x[1], (unsigned long long)call->x[2], immediate, (unsigned long long)x1,
           (unsigned long long)x2);
    return 1;
  }
  call->complete(call->x[0]);
  return 0;
}
}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  const arm::HardwareFeatures features = arm::probe();
  if (!features.sme) {
    printf("sme_registers: this CPU has no SME (ID_AA64PFR1_EL1.SME 0): run it on one that does\n");
    return 1;
  }
  const bool priorities = (arm::read_sysreg<arm::SysReg::SMIDR_EL1>() & kSmidrSmps) != 0;
  // The host's markers: no guest may see them.
  arm::write_sysreg<arm::SysReg::TPIDR2_EL0>(0x4444'4444'4444'4444ull);
  arm::write_sysreg<arm::SysReg::SMPRI_EL1>(priorities ? 0x7 : 0);

  const auto guest = reinterpret_cast<uint64_t>(sme_registers_guest);
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
  auto it_a = run_a.begin();
  SCENARIO_CHECK(expect(it_a, 1, 0, 0) == 0);  // zeros, not the host's
  ++it_a;                                      // A writes its values and yields
  SCENARIO_CHECK(expect(it_a, 1, 0, 0) == 0);  // x1, x2 still hold its first look
  a.put();
  b.load();
  auto it_b = run_b.begin();
  SCENARIO_CHECK(expect(it_b, 1, 0, 0) == 0);  // zeros, not A's
  ++it_b;
  SCENARIO_CHECK(expect(it_b, 1, 0, 0) == 0);
  b.put();
  a.load();
  ++it_a;
  SCENARIO_CHECK(expect(it_a, 2, own_tpidr2(0xa1), own_smpri(0xa1, priorities)) == 0);
  a.put();
  b.load();
  ++it_b;
  SCENARIO_CHECK(expect(it_b, 2, own_tpidr2(0xb2), own_smpri(0xb2, priorities)) == 0);
  b.put();
  SCENARIO_CHECK(a.sme_untrapped_registers().tpidr2_el0 == own_tpidr2(0xa1));
  SCENARIO_CHECK(b.sme_untrapped_registers().tpidr2_el0 == own_tpidr2(0xb2));
  printf("sme_registers: each vCPU kept its own TPIDR2_EL0 and SMPRI_EL1 (priorities %s)\n",
         priorities ? "implemented" : "RES0");
  return 0;
}
