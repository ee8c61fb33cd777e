// arm.sysreg: the one place the library touches system registers.
//
// At EL2 (aarch64 builds) read<R>()/write<R>() are single mrs/msr instructions. On the
// host they read and write an in-memory register file, so the unit tests can drive
// arm.percpu and arm.vcpu (an ID register value in, an HCR_EL2 value out) without a CPU.
// The register list lives in sysregs.def.
module;
#include <arm/runtime/std_support.h>
export module arm.sysreg;

export namespace arm {

enum class SysReg : std::uint16_t {
#define ARM_SYSREG(name, spelling) name,
#include "sysregs.def"
#undef ARM_SYSREG
  Count
};

inline constexpr std::size_t kSysRegCount = static_cast<std::size_t>(SysReg::Count);

#if !defined(__aarch64__)
// The host build's register file. Tests set ID registers here and read back what the
// library wrote.
inline std::uint64_t host_sysreg_file[kSysRegCount] = {};
// The ID register space (op0 3, op1 0, CRn 0, CRm 1..7, op2 0..7), for code that reads an
// ID register chosen at run time; index (CRm - 1) * 8 + op2.
inline std::uint64_t host_id_space[7 * 8] = {};
#endif

template <SysReg R>
inline std::uint64_t read_sysreg() noexcept {
#if defined(__aarch64__)
  std::uint64_t value = 0;
#define ARM_SYSREG(name, spelling) \
  if constexpr (R == SysReg::name) asm volatile("mrs %0, " #spelling : "=r"(value));
#include "sysregs.def"
#undef ARM_SYSREG
  return value;
#else
  return host_sysreg_file[static_cast<std::size_t>(R)];
#endif
}

template <SysReg R>
inline void write_sysreg(std::uint64_t value) noexcept {
#if defined(__aarch64__)
#define ARM_SYSREG(name, spelling) \
  if constexpr (R == SysReg::name) asm volatile("msr " #spelling ", %0" : : "r"(value));
#include "sysregs.def"
#undef ARM_SYSREG
#else
  host_sysreg_file[static_cast<std::size_t>(R)] = value;
#endif
}

// Context synchronization after system register writes that change how later
// instructions execute (Arm ARM, "Context synchronization event"); a no-op on host.
inline void instruction_barrier() noexcept {
#if defined(__aarch64__)
  asm volatile("isb" ::: "memory");
#endif
}

// Waits for an interrupt (WFI): returns once one is pending at this CPU's interface, even
// with PSTATE.I set (Arm ARM D1 "Wait for Interrupt"), or spuriously; a no-op on host.
inline void wait_for_interrupt() noexcept {
#if defined(__aarch64__)
  asm volatile("dsb sy\n\twfi" ::: "memory");
#endif
}

// Completes memory accesses before what follows (DSB ISH).
inline void data_barrier() noexcept {
#if defined(__aarch64__)
  asm volatile("dsb ish" ::: "memory");
#endif
}

}  // namespace arm
