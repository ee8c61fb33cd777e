// Scenario: a branch into the hypervisor's data is an EL2 permission fault (data is
// never executable at EL2 stage 1, runtime/el2/mmu.c, and SCTLR_EL2.WXN makes anything
// writable execute-never), reported with the full dump and status 0x7f. The test
// expects an instruction abort from EL2 (ESR_EL2.EC 0x21, IFSC permission fault level
// 3: 0x8600000f).
#include "scenario.h"

namespace {
// A `ret` (0xd65f03c0) in writable data: it would run if data were executable.
alignas(4096) uint32_t data_code[1024] = {0xd65f03c0};
}  // namespace

int main() {
  printf("el2_mmu_jump_to_data: branching to %p\n", static_cast<void*>(data_code));
  asm volatile("mov x19, #0x1919\n blr %0" ::"r"(data_code) : "x19", "x30", "memory");
  printf("el2_mmu_jump_to_data: still running after executing data\n");
  return 0;
}
