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

// CPACR_EL1 fields (Arm ARM D19.2, "CPACR_EL1"): each 2-bit control says whether the unit's
// instructions and registers trap to EL1 at EL0 and EL1 (0b00, 0b10), at EL0 only (0b01) or
// not at all (0b11).
namespace cpacr {
inline constexpr std::uint64_t kZen = 0b11ull << 16;   // SVE; RES0 without FEAT_SVE
inline constexpr std::uint64_t kFpen = 0b11ull << 20;  // FP/SIMD
inline constexpr std::uint64_t kSmen = 0b11ull << 24;  // SME; RES0 without FEAT_SME
}  // namespace cpacr

// Hiding SVE and SME on a CPU that has them. CPTR_EL2.TZ and TSM (default_el2_config) trap
// the guest's SVE and SME instructions and registers (ZCR_EL1, SMCR_EL1, SVCR) to
// EL2, but a trap the guest's CPACR_EL1.ZEN or SMEN asks for comes first and is taken to its
// own EL1 (Arm ARM D19.2 CPACR_EL1; the pseudocode CheckSVEEnabled() and CheckSMEEnabled()
// test CPACR_EL1 before CPTR_EL2), as an SVE or SME access trap (ESR_EL1.EC 0x19, 0x1D) that
// a CPU without them never gives; CPACR_EL1 resets to 0, so a guest gets it unless it sets
// ZEN/SMEN. So where the vCPU hides them (VCpu, hidden_cpacr_controls() != 0):
//  - the hardware's CPACR_EL1.ZEN and SMEN stay 0b11, "no EL1 trap", whatever the guest
//    writes: its instructions reach CPTR_EL2's trap, and the vCPU injects the undefined
//    instruction (EC 0x00) a CPU without them gives (VCpu::answer_hidden_unit_trap());
//  - CPTR_EL2.TCPAC traps the guest's CPACR_EL1 accesses, answered inside run(): a write
//    goes to the hardware with those fields forced (hardware_cpacr()), a read returns them as
//    0 (guest_cpacr()): without FEAT_SVE and FEAT_SME, ZEN and SMEN are RES0, which the vCPU
//    implements as RAZ/WI. Every other field (FPEN, TTA, ...) is the guest's own, on the
//    hardware as written (and read back as the hardware keeps it): its FP/SIMD traps still go
//    to its own EL1. CPACR_EL1 accesses are the only added cost: Linux writes it once per CPU
//    as it comes up and never reads it (counted on QEMU max: README, Known limitations).
//  - SMIDR_EL1 is not trapped by CPTR_EL2.TSM but by HCR_EL2.TID1, which the vCPU sets on a
//    CPU with SME and answers inside run(): SMIDR_EL1 UNDEFINED, REVIDR_EL1 and AIDR_EL1 the
//    hardware's values.
// Left as the architecture makes it: the SVE and SME instructions also test CPACR_EL1.FPEN
// before CPTR_EL2 (same pseudocode), so while the guest's FPEN traps FP/SIMD at its current
// EL an SVE or SME instruction there is an FP/SIMD access trap (EC 0x07) to its EL1, as its
// own FP/SIMD instructions are. And TPIDR2_EL0 and SMPRI_EL1 (FEAT_SME) can be trapped
// only by FEAT_FGT's fine-grained traps: they are switched instead (context.cppm,
// SmeUntrappedRegisters).
constexpr std::uint64_t hidden_cpacr_controls(bool cpu_has_sve, bool cpu_has_sme) noexcept {
  return (cpu_has_sve ? cpacr::kZen : 0) | (cpu_has_sme ? cpacr::kSmen : 0);
}
// The hardware's CPACR_EL1 for the guest's value `guest`, and the guest's view of the
// hardware's, with the controls `hidden` (hidden_cpacr_controls()) held at "no EL1 trap".
constexpr std::uint64_t hardware_cpacr(std::uint64_t guest, std::uint64_t hidden) noexcept {
  return guest | hidden;
}
constexpr std::uint64_t guest_cpacr(std::uint64_t hardware, std::uint64_t hidden) noexcept {
  return hardware & ~hidden;
}

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
