// arm.sysreg: the one place the library names and touches system registers.
//
// Every register is one row of sysregs.def, with its encoding. From that table come the
// SysReg enum (SysReg::SCTLR_EL1 is the register's one name in the library), each name's
// SysRegEncoding (what trap matching compares a trapped MRS/MSR against), and the
// accessors: at EL2 (aarch64 builds) read_sysreg<R>()/write_sysreg<R>() are single mrs/msr
// instructions; on the host they read and write an in-memory register file, so the unit
// tests can drive arm.percpu and arm.vcpu (an ID register value in, an HCR_EL2 value out)
// without a CPU.
module;
#include <arm/runtime/std_support.h>
export module arm.sysreg;

export namespace arm {

enum class SysReg : std::uint16_t {
#define ARM_SYSREG(name, op0, op1, crn, crm, op2) name,
#include "sysregs.def"
#undef ARM_SYSREG
  Count
};

inline constexpr std::size_t kSysRegCount = static_cast<std::size_t>(SysReg::Count);

// The (op0, op1, CRn, CRm, op2) name of a system register or System instruction, packed
// into 16 bits as op0:op1:CRn:CRm:op2 (the order of the instruction's fields). A SysReg
// converts to its encoding, so a trapped access compares directly against a name:
// `encoding == SysReg::ICC_SGI1R_EL1`.
class SysRegEncoding {
 public:
  constexpr SysRegEncoding() noexcept = default;
  constexpr SysRegEncoding(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2) noexcept
      : value_(static_cast<std::uint16_t>(((op0 & 0x3) << 14) | ((op1 & 0x7) << 11) | ((crn & 0xf) << 7) |
                                          ((crm & 0xf) << 3) | (op2 & 0x7))) {}
  constexpr SysRegEncoding(
      SysReg name) noexcept;  // NOLINT(google-explicit-constructor): a name is its encoding

  constexpr unsigned op0() const noexcept { return (value_ >> 14) & 0x3; }
  constexpr unsigned op1() const noexcept { return (value_ >> 11) & 0x7; }
  constexpr unsigned crn() const noexcept { return (value_ >> 7) & 0xf; }
  constexpr unsigned crm() const noexcept { return (value_ >> 3) & 0xf; }
  constexpr unsigned op2() const noexcept { return value_ & 0x7; }
  constexpr std::uint16_t value() const noexcept { return value_; }

  // op0 == 0b01: a System instruction (DC, IC, TLBI, AT, ...), not a register.
  constexpr bool is_instruction() const noexcept { return op0() == 1; }

  friend constexpr bool operator==(SysRegEncoding, SysRegEncoding) noexcept = default;

 private:
  std::uint16_t value_ = 0;
};

namespace detail {
inline constexpr SysRegEncoding kSysRegEncodings[kSysRegCount] = {
#define ARM_SYSREG(name, op0, op1, crn, crm, op2) {op0, op1, crn, crm, op2},
#include "sysregs.def"
#undef ARM_SYSREG
};
}  // namespace detail

constexpr SysRegEncoding::SysRegEncoding(SysReg name) noexcept
    : value_(detail::kSysRegEncodings[static_cast<std::size_t>(name)].value_) {}

// Register <n> of a bank that sysregs.def declares as consecutive rows (the breakpoint and
// watchpoint banks DBGBVR0_EL1.., the PMU's PMEVCNTR0_EL0.. and PMEVTYPER0_EL0..).
constexpr SysReg bank_register(SysReg first, unsigned n) noexcept {
  return static_cast<SysReg>(static_cast<std::uint16_t>(first) + n);
}

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
#define ARM_SYSREG(name, op0, op1, crn, crm, op2) \
  if constexpr (R == SysReg::name)                \
    asm volatile("mrs %0, S" #op0 "_" #op1 "_C" #crn "_C" #crm "_" #op2 : "=r"(value));
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
#define ARM_SYSREG(name, op0, op1, crn, crm, op2) \
  if constexpr (R == SysReg::name)                \
    asm volatile("msr S" #op0 "_" #op1 "_C" #crn "_C" #crm "_" #op2 ", %0" : : "r"(value));
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

// Cleans and invalidates the data and unified caches to the point of coherency for the
// addresses [address, address + size), by VA (DC CIVAC, one line of CTR_EL0.DminLine at a
// time), then completes that maintenance (DSB ISH). By VA, the maintenance reaches every cache
// that may hold the lines in the shareability domain, other CPUs' too (Arm ARM DDI 0487 M.c
// D7.5.9.5 "Effects of instructions that operate by VA to the PoC"), which by set/way it would
// not. The range must be mapped at EL2 (as Normal memory, or the DC faults at EL2). A no-op on
// the host.
inline void clean_invalidate_to_poc(std::uint64_t address, std::uint64_t size) noexcept {
#if defined(__aarch64__)
  constexpr unsigned kDminLineShift = 16;  // CTR_EL0.DminLine [19:16]: log2 of the line in words
  const std::uint64_t line = std::uint64_t{4} << ((read_sysreg<SysReg::CTR_EL0>() >> kDminLineShift) & 0xf);
  const std::uint64_t end = address + size;
  for (std::uint64_t va = address & ~(line - 1); va < end; va += line)
    asm volatile("dc civac, %0" ::"r"(va) : "memory");
  asm volatile("dsb ish" ::: "memory");
#else
  (void)address;
  (void)size;
#endif
}

// Completes memory accesses before what follows (DSB ISH).
inline void data_barrier() noexcept {
#if defined(__aarch64__)
  asm volatile("dsb ish" ::: "memory");
#endif
}

}  // namespace arm
