// What a guest is told about the CPU. The vCPU switches some EL1 state and not other
// (SVE and SME registers, MTE tags and registers, activity monitors, MPAM, the statistical
// profiling and trace buffer units, LORegions); a guest that saw those features would use state it
// does not own, or trap on every use. With HCR_EL2.TID3 the guest's reads of the ID
// registers (op0 = 3, op1 = 0, CRn = 0, CRm = 1..7) trap, and the vCPU answers them
// itself from the hardware's values with those features removed.
module;
#include <arm/runtime/std_support.h>
export module arm.vcpu:features;
import arm.sysreg;
import arm.trap;

export namespace arm {

// A 4-bit ID register field [low + 3 : low].
struct IdField {
  SysRegEncoding reg;
  unsigned low;
};

// The fields the vCPU zeroes: "not implemented" for each (Arm ARM D19.2, the ID_AA64*
// register descriptions).
inline constexpr IdField kHiddenFeatures[] = {
    {SysReg::ID_AA64PFR0_EL1, 32},   // SVE
    {SysReg::ID_AA64PFR0_EL1, 40},   // MPAM
    {SysReg::ID_AA64PFR0_EL1, 44},   // AMU
    {SysReg::ID_AA64PFR1_EL1, 8},    // MTE
    {SysReg::ID_AA64PFR1_EL1, 24},   // SME
    {SysReg::ID_AA64PFR1_EL1, 16},   // MPAM_frac
    {SysReg::ID_AA64DFR0_EL1, 32},   // PMSVer (statistical profiling)
    {SysReg::ID_AA64DFR0_EL1, 44},   // TraceBuffer
    {SysReg::ID_AA64MMFR1_EL1, 16},  // LO: LORegions (HCR_EL2.TLOR makes their registers UNDEFINED)
};
// Fields whose "not implemented" is 0b1111, which the vCPU sets: the OS double lock
// (ID_AA64DFR0_EL1.DoubleLock [39:36], Arm ARM D19.2). The vCPU emulates OSDLR_EL1 as a PE
// without FEAT_DoubleLock has it, RAZ/WI (read_powerdown_debug_register, context.cppm).
inline constexpr IdField kAbsentSignedFeatures[] = {
    {SysReg::ID_AA64DFR0_EL1, 36},  // DoubleLock
};
inline constexpr std::uint64_t kSignedFieldNotImplemented = 0xf;
// Registers that describe only hidden features read as zero.
inline constexpr SysRegEncoding kHiddenRegisters[] = {SysReg::ID_AA64ZFR0_EL1, SysReg::ID_AA64SMFR0_EL1};

// ID_AA64DFR0_EL1.PMUVer [11:8] (Arm ARM D19.2): 0 is "no PMU", 0xf an IMPLEMENTATION DEFINED
// one; 1 FEAT_PMUv3, 4 FEAT_PMUv3p1, 5 v3p4, 6 v3p5 (MDCR_EL2.HCCD), 7 v3p7, 8 v3p8.
inline constexpr IdField kPmuVersion{SysReg::ID_AA64DFR0_EL1, 8};
inline constexpr std::uint64_t kPmuVersionV3 = 1;
inline constexpr std::uint64_t kPmuVersionV3p1 = 4;
inline constexpr std::uint64_t kPmuVersionV3p5 = 6;
inline constexpr std::uint64_t kPmuVersionImpDef = 0xf;
// The architected PMU (FEAT_PMUv3) version of a CPU whose ID_AA64DFR0_EL1 reads `dfr0`, 0
// when it has none (an IMPLEMENTATION DEFINED PMU is none for a guest).
constexpr std::uint64_t pmu_version(std::uint64_t dfr0) noexcept {
  const std::uint64_t version = (dfr0 >> kPmuVersion.low) & 0xf;
  return version == kPmuVersionImpDef ? 0 : version;
}

// The value a guest reads from ID register `encoding` whose hardware value is `value`. A
// vCPU without a guest PMU (VCpuConfig::pmu) reads PMUVer 0, as on a CPU without one: every
// PMU register is then UNDEFINED to it (MDCR_EL2.TPM, TPMCR trap them; unanswered, a trapped
// access is an undefined instruction).
constexpr std::uint64_t guest_id_register(SysRegEncoding encoding, std::uint64_t value, bool pmu) noexcept {
  for (SysRegEncoding hidden : kHiddenRegisters)
    if (encoding == hidden) return 0;
  if (encoding == kPmuVersion.reg && (!pmu || pmu_version(value) == 0))
    value &= ~(std::uint64_t{0xf} << kPmuVersion.low);
  for (const IdField& field : kHiddenFeatures)
    if (encoding == field.reg) value &= ~(std::uint64_t{0xf} << field.low);
  for (const IdField& field : kAbsentSignedFeatures)
    if (encoding == field.reg) value |= kSignedFieldNotImplemented << field.low;
  return value;
}

namespace detail {
// One mrs per encoding of the ID register space: mrs takes its register as an immediate.
template <unsigned CRm, unsigned Op2>
inline std::uint64_t read_id_space() noexcept {
#if defined(__aarch64__)
  std::uint64_t value;
  asm volatile("mrs %0, S3_0_C0_C%c1_%c2" : "=r"(value) : "i"(CRm), "i"(Op2));
  return value;
#else
  return host_id_space[(CRm - 1) * 8 + Op2];
#endif
}
template <unsigned CRm>
inline std::uint64_t read_id_row(unsigned op2) noexcept {
  switch (op2) {
    case 0:
      return read_id_space<CRm, 0>();
    case 1:
      return read_id_space<CRm, 1>();
    case 2:
      return read_id_space<CRm, 2>();
    case 3:
      return read_id_space<CRm, 3>();
    case 4:
      return read_id_space<CRm, 4>();
    case 5:
      return read_id_space<CRm, 5>();
    case 6:
      return read_id_space<CRm, 6>();
    default:
      return read_id_space<CRm, 7>();
  }
}
}  // namespace detail

// The hardware's value of an ID register in the trapped space (CRm 1..7), read at EL2.
inline std::uint64_t read_id_register(SysRegEncoding encoding) noexcept {
  switch (encoding.crm()) {
    case 1:
      return detail::read_id_row<1>(encoding.op2());
    case 2:
      return detail::read_id_row<2>(encoding.op2());
    case 3:
      return detail::read_id_row<3>(encoding.op2());
    case 4:
      return detail::read_id_row<4>(encoding.op2());
    case 5:
      return detail::read_id_row<5>(encoding.op2());
    case 6:
      return detail::read_id_row<6>(encoding.op2());
    default:
      return detail::read_id_row<7>(encoding.op2());
  }
}

}  // namespace arm
