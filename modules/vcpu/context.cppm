// The parts of a guest's state that stay on the CPU between exits and move only in
// VCpu::load()/put(): EL1/EL0 system registers, FP/SIMD registers, the virtual timer
// and the virtual CPU identity.
module;
#include <arm/asm/context.h>
#include <arm/runtime/std_support.h>
export module arm.vcpu:context;
import arm.sysreg;

// asm/fpsimd.S. The host build has no FP context to move.
extern "C" void arm_fpsimd_save(void* state);
extern "C" void arm_fpsimd_restore(const void* state);

export namespace arm {

// The guest's EL1 and EL0 system registers a guest OS uses, the virtual timer, and the
// identity it reads (VMPIDR_EL2/VPIDR_EL2 stand in for MPIDR_EL1/MIDR_EL1).
inline constexpr SysReg kEl1ContextRegisters[] = {
    SysReg::SCTLR_EL1,  SysReg::ACTLR_EL1,      SysReg::CPACR_EL1,     SysReg::TTBR0_EL1,
    SysReg::TTBR1_EL1,  SysReg::TCR_EL1,        SysReg::MAIR_EL1,      SysReg::AMAIR_EL1,
    SysReg::VBAR_EL1,   SysReg::CONTEXTIDR_EL1, SysReg::TPIDR_EL0,     SysReg::TPIDRRO_EL0,
    SysReg::TPIDR_EL1,  SysReg::ESR_EL1,        SysReg::FAR_EL1,       SysReg::AFSR0_EL1,
    SysReg::AFSR1_EL1,  SysReg::PAR_EL1,        SysReg::CNTKCTL_EL1,   SysReg::CSSELR_EL1,
    SysReg::MDSCR_EL1,  SysReg::SP_EL0,         SysReg::SP_EL1,        SysReg::ELR_EL1,
    SysReg::SPSR_EL1,   SysReg::CNTV_CTL_EL0,   SysReg::CNTV_CVAL_EL0, SysReg::CNTVOFF_EL2,
    SysReg::VMPIDR_EL2, SysReg::VPIDR_EL2,
};
inline constexpr std::size_t kEl1ContextSize = sizeof(kEl1ContextRegisters) / sizeof(kEl1ContextRegisters[0]);

constexpr std::size_t el1_index(SysReg reg) noexcept {
  for (std::size_t i = 0; i < kEl1ContextSize; ++i)
    if (kEl1ContextRegisters[i] == reg) return i;
  return kEl1ContextSize;
}

// Values of kEl1ContextRegisters, in that order.
struct El1Context {
  std::uint64_t values[kEl1ContextSize] = {};
  template <SysReg R>
  constexpr std::uint64_t& at() noexcept {
    static_assert(el1_index(R) < kEl1ContextSize, "not part of the EL1 context");
    return values[el1_index(R)];
  }
  template <SysReg R>
  constexpr std::uint64_t at() const noexcept {
    static_assert(el1_index(R) < kEl1ContextSize, "not part of the EL1 context");
    return values[el1_index(R)];
  }
};

namespace detail {
template <std::size_t I = 0>
inline void save_el1(El1Context& context) noexcept {
  if constexpr (I < kEl1ContextSize) {
    context.values[I] = read_sysreg<kEl1ContextRegisters[I]>();
    save_el1<I + 1>(context);
  }
}
template <std::size_t I = 0>
inline void restore_el1(const El1Context& context) noexcept {
  if constexpr (I < kEl1ContextSize) {
    write_sysreg<kEl1ContextRegisters[I]>(context.values[I]);
    restore_el1<I + 1>(context);
  }
}
}  // namespace detail

inline void save_el1_context(El1Context& context) noexcept { detail::save_el1(context); }
inline void restore_el1_context(const El1Context& context) noexcept { detail::restore_el1(context); }

// The pointer authentication keys (FEAT_PAuth): EL1 state the guest owns (HCR_EL2.APK
// and API leave keys and instructions untrapped), switched only on CPUs that have them.
inline constexpr SysReg kPointerAuthKeys[] = {
    SysReg::APIAKEYLO_EL1, SysReg::APIAKEYHI_EL1, SysReg::APIBKEYLO_EL1, SysReg::APIBKEYHI_EL1,
    SysReg::APDAKEYLO_EL1, SysReg::APDAKEYHI_EL1, SysReg::APDBKEYLO_EL1, SysReg::APDBKEYHI_EL1,
    SysReg::APGAKEYLO_EL1, SysReg::APGAKEYHI_EL1,
};
inline constexpr std::size_t kPointerAuthKeyCount = sizeof(kPointerAuthKeys) / sizeof(kPointerAuthKeys[0]);

struct PointerAuthKeys {
  std::uint64_t values[kPointerAuthKeyCount] = {};
};

namespace detail {
template <std::size_t I = 0>
inline void save_keys(PointerAuthKeys& keys) noexcept {
  if constexpr (I < kPointerAuthKeyCount) {
    keys.values[I] = read_sysreg<kPointerAuthKeys[I]>();
    save_keys<I + 1>(keys);
  }
}
template <std::size_t I = 0>
inline void restore_keys(const PointerAuthKeys& keys) noexcept {
  if constexpr (I < kPointerAuthKeyCount) {
    write_sysreg<kPointerAuthKeys[I]>(keys.values[I]);
    restore_keys<I + 1>(keys);
  }
}
}  // namespace detail

inline void save_pointer_auth_keys(PointerAuthKeys& keys) noexcept { detail::save_keys(keys); }
inline void restore_pointer_auth_keys(const PointerAuthKeys& keys) noexcept { detail::restore_keys(keys); }

// V0-V31 (128 bits each), FPSR and FPCR; laid out as asm/fpsimd.S expects.
struct alignas(16) FpSimdState {
  std::uint64_t v[32][2] = {};  // V<n> as {low 64 bits, high 64 bits}
  std::uint64_t fpsr = 0;
  std::uint64_t fpcr = 0;
};
static_assert(__builtin_offsetof(FpSimdState, v) == static_cast<std::size_t>(ARM_FPSIMD_V(0)));
static_assert(__builtin_offsetof(FpSimdState, v[31]) == static_cast<std::size_t>(ARM_FPSIMD_V(31)));
static_assert(__builtin_offsetof(FpSimdState, fpsr) == static_cast<std::size_t>(ARM_FPSIMD_FPSR));
static_assert(__builtin_offsetof(FpSimdState, fpcr) == static_cast<std::size_t>(ARM_FPSIMD_FPCR));
static_assert(sizeof(FpSimdState) == static_cast<std::size_t>(ARM_FPSIMD_SIZE));

inline void save_fpsimd(FpSimdState& state) noexcept {
#if defined(__aarch64__)
  arm_fpsimd_save(&state);
#else
  (void)state;
#endif
}
inline void restore_fpsimd(const FpSimdState& state) noexcept {
#if defined(__aarch64__)
  arm_fpsimd_restore(&state);
#else
  (void)state;
#endif
}

}  // namespace arm
