// Debug exceptions a guest raises at EL2 when MDCR_EL2.TDE routes them there (a debugger
// in the hypervisor): hardware breakpoints, software step, watchpoints, BRK instructions.
// Each is taken before the instruction completes; the debugger decides what happens next.
//
// Arm ARM (DDI 0487), ESR_EL2, "ISS encoding for an exception from a Breakpoint or Vector
// Catch debug exception", "... from a Software Step exception", "... from a Watchpoint
// exception", "... from execution of a Breakpoint instruction".
module;
#include <arm/runtime/std_support.h>
export module arm.trap:debug;

export namespace arm {

// A hardware breakpoint matched the instruction at `pc` (EC 0x30).
struct Breakpoint {
  std::uint64_t pc = 0;
};

// A software step completed (EC 0x32). With `syndrome_valid` (ISV), `load_exclusive`
// (EX) says whether the stepped instruction was a Load-Exclusive.
struct SoftwareStep {
  std::uint64_t pc = 0;
  bool syndrome_valid = false;
  bool load_exclusive = false;
};

// A watchpoint matched a data access to `address` (FAR_EL2) (EC 0x34): WnR [6], CM [8].
struct Watchpoint {
  std::uint64_t address = 0;
  std::uint64_t pc = 0;
  bool write = false;
  bool cache_maintenance = false;
};

// BRK #comment executed (EC 0x3C); `pc` is the BRK itself.
struct BrkInstruction {
  std::uint16_t comment = 0;
  std::uint64_t pc = 0;
};

}  // namespace arm
