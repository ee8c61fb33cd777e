// Scenario: an exception taken at EL2 itself (a hypervisor bug, here an undefined
// instruction) is reported with the full register dump and ends the image with
// ARM_EL2_FAULT_STATUS (0x7f), never silently. The test expects exactly that status and
// the dump's lines.
#include "scenario.h"

int main() {
  printf("el2_fault: executing an undefined instruction at EL2\n");
  asm volatile("mov x19, #0x1919\n udf #0x42" ::: "x19");
  printf("el2_fault: still running after udf (the exception was ignored)\n");
  return 0;
}
