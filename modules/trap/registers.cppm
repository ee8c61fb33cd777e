// GuestRegisters: the guest state the world switch moves on every exit (x0-x30, the PC
// and PSTATE). Completions of arm.trap read and write it; the layout is shared with the
// assembly through arm/asm/context.h.
module;
#include <arm/asm/context.h>
#include <arm/runtime/std_support.h>
export module arm.trap:registers;

export namespace arm {

// Register number 31 in a load/store or MSR/MRS encoding names XZR: it reads as zero and
// writes to it are discarded (Arm ARM C1.2.5 "Register names").
inline constexpr unsigned kZeroRegister = 31;

struct GuestRegisters {
  std::uint64_t x[31] = {};  // x0..x30
  std::uint64_t pc = 0;      // ELR_EL2 at the exit: the preferred return address
  std::uint64_t pstate = 0;  // SPSR_EL2 at the exit

  constexpr std::uint64_t read(unsigned n) const noexcept { return n >= kZeroRegister ? 0 : x[n]; }
  constexpr void write(unsigned n, std::uint64_t value) noexcept {
    if (n < kZeroRegister) x[n] = value;
  }
};

static_assert(__builtin_offsetof(GuestRegisters, x) == static_cast<std::size_t>(ARM_GUEST_X(0)));
static_assert(__builtin_offsetof(GuestRegisters, x[30]) == static_cast<std::size_t>(ARM_GUEST_X(30)));
static_assert(__builtin_offsetof(GuestRegisters, pc) == static_cast<std::size_t>(ARM_GUEST_PC));
static_assert(__builtin_offsetof(GuestRegisters, pstate) == static_cast<std::size_t>(ARM_GUEST_PSTATE));
static_assert(sizeof(GuestRegisters) == static_cast<std::size_t>(ARM_GUEST_REGISTERS_SIZE));

// The syndrome registers read once at an exit: the decoder's whole input besides the
// guest registers. Arm ARM D19.2 (ESR_EL2, FAR_EL2, HPFAR_EL2).
struct Syndrome {
  std::uint64_t esr = 0;    // ESR_EL2
  std::uint64_t far = 0;    // FAR_EL2
  std::uint64_t hpfar = 0;  // HPFAR_EL2
};

}  // namespace arm
