// Scenario: a store into the hypervisor's own code is an EL2 permission fault (text is
// read-only at EL2 stage 1, runtime/el2/mmu.c), reported with the full dump and status
// 0x7f, never a silent write. The test expects a data abort from EL2: ESR_EL2 0x979f004f
// (EC 0x25, IL, ISV with a word store of wzr (SAS 2, SRT 31), WnR, DFSC 0x0f: a
// permission fault at level 3).
#include "scenario.h"

int main() {
  printf("el2_mmu_write_text: storing into main() at %p\n", reinterpret_cast<void*>(&main));
  asm volatile("mov x19, #0x1919\n str wzr, [%0]" ::"r"(&main) : "x19", "memory");
  printf("el2_mmu_write_text: still running after writing code\n");
  return 0;
}
