// Trapped MSR, MRS and SYS instructions (EC 0x18): the system register encoding, named
// constants for the registers hypervisors commonly trap, "is this mine?" predicates for
// the groups the trap controls work on, and the SysRegRead/SysRegWrite events.
//
// Arm ARM (DDI 0487), ESR_EL2, "ISS encoding for an exception from MSR, MRS, or System
// instruction execution in AArch64 state"; encodings from each register's "Accessing"
// table (op0, op1, CRn, CRm, op2).
module;
#include <arm/runtime/std_support.h>
export module arm.trap:sysreg;
import :esr;

export namespace arm {

// The (op0, op1, CRn, CRm, op2) name of a system register or System instruction, packed
// into 16 bits as op0:op1:CRn:CRm:op2 (the order of the instruction's fields).
class SysRegEncoding {
 public:
  constexpr SysRegEncoding() noexcept = default;
  constexpr SysRegEncoding(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2) noexcept
      : value_(static_cast<std::uint16_t>(((op0 & 0x3) << 14) | ((op1 & 0x7) << 11) | ((crn & 0xf) << 7) |
                                          ((crm & 0xf) << 3) | (op2 & 0x7))) {}

  constexpr unsigned op0() const noexcept { return static_cast<unsigned>(bits(value_, 15, 14)); }
  constexpr unsigned op1() const noexcept { return static_cast<unsigned>(bits(value_, 13, 11)); }
  constexpr unsigned crn() const noexcept { return static_cast<unsigned>(bits(value_, 10, 7)); }
  constexpr unsigned crm() const noexcept { return static_cast<unsigned>(bits(value_, 6, 3)); }
  constexpr unsigned op2() const noexcept { return static_cast<unsigned>(bits(value_, 2, 0)); }
  constexpr std::uint16_t value() const noexcept { return value_; }

  // op0 == 0b01: a System instruction (DC, IC, TLBI, AT, ...), not a register.
  constexpr bool is_instruction() const noexcept { return op0() == 1; }

  friend constexpr bool operator==(SysRegEncoding, SysRegEncoding) noexcept = default;

 private:
  std::uint16_t value_ = 0;
};

// The ISS of a trapped MSR/MRS/SYS: Op0 [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10],
// Rt [9:5], CRm [4:1], Direction [0] (1: read, MRS or SYSL).
class SysRegIss {
 public:
  constexpr explicit SysRegIss(std::uint32_t iss) noexcept : iss_(iss & 0x1ffffff) {}
  constexpr unsigned op0() const noexcept { return static_cast<unsigned>(bits(iss_, 21, 20)); }
  constexpr unsigned op2() const noexcept { return static_cast<unsigned>(bits(iss_, 19, 17)); }
  constexpr unsigned op1() const noexcept { return static_cast<unsigned>(bits(iss_, 16, 14)); }
  constexpr unsigned crn() const noexcept { return static_cast<unsigned>(bits(iss_, 13, 10)); }
  constexpr unsigned rt() const noexcept { return static_cast<unsigned>(bits(iss_, 9, 5)); }
  constexpr unsigned crm() const noexcept { return static_cast<unsigned>(bits(iss_, 4, 1)); }
  constexpr bool is_read() const noexcept { return bit(iss_, 0); }
  constexpr SysRegEncoding encoding() const noexcept { return {op0(), op1(), crn(), crm(), op2()}; }

  // The ISS a trap of this access reports (tests, and hypervisors that re-inject).
  static constexpr std::uint32_t make(SysRegEncoding encoding, unsigned rt, bool read) noexcept {
    return (encoding.op0() << 20) | (encoding.op2() << 17) | (encoding.op1() << 14) | (encoding.crn() << 10) |
           ((rt & 0x1f) << 5) | (encoding.crm() << 1) | (read ? 1u : 0u);
  }

 private:
  std::uint32_t iss_;
};

// A trapped MRS (or SYSL). complete(value) answers it: the completion writes the value to
// Xt (XZR discards it) and moves the PC past the instruction. Unanswered, the PC stays and
// the vCPU injects an undefined-instruction exception.
struct SysRegRead {
  SysRegEncoding encoding;
  std::uint8_t rt = 0;
  std::uint8_t instruction_length = 4;
  std::uint64_t value = 0;
  bool answered = false;

  void complete(std::uint64_t data) noexcept {
    value = data;
    answered = true;
  }
};

// A trapped MSR (or SYS instruction): `value` is Xt at the trap (XZR reads as 0). Emulated
// unless the hypervisor calls reject(); then the vCPU injects an undefined-instruction
// exception.
struct SysRegWrite {
  SysRegEncoding encoding;
  std::uint8_t rt = 0;
  std::uint8_t instruction_length = 4;
  std::uint64_t value = 0;
  bool rejected = false;

  void reject() noexcept { rejected = true; }
};

// Named encodings, as the Arm ARM spells the registers.
namespace sysreg {

// GICv3 CPU interface, SGI generation (ICH_HCR_EL2.TC / TALL1, or no GIC virtualization).
inline constexpr SysRegEncoding ICC_SGI1R_EL1{3, 0, 12, 11, 5};
inline constexpr SysRegEncoding ICC_ASGI1R_EL1{3, 0, 12, 11, 6};
inline constexpr SysRegEncoding ICC_SGI0R_EL1{3, 0, 12, 11, 7};
inline constexpr SysRegEncoding ICC_SRE_EL1{3, 0, 12, 12, 5};
inline constexpr SysRegEncoding ICC_PMR_EL1{3, 0, 4, 6, 0};
inline constexpr SysRegEncoding ICC_IAR1_EL1{3, 0, 12, 12, 0};
inline constexpr SysRegEncoding ICC_EOIR1_EL1{3, 0, 12, 12, 1};
inline constexpr SysRegEncoding ICC_DIR_EL1{3, 0, 12, 11, 1};
inline constexpr SysRegEncoding ICC_CTLR_EL1{3, 0, 12, 12, 4};
inline constexpr SysRegEncoding ICC_IGRPEN1_EL1{3, 0, 12, 12, 7};

// Debug (op0 == 0b10; MDCR_EL2.TDA, TDOSA, TDRA).
inline constexpr SysRegEncoding OSDTRRX_EL1{2, 0, 0, 0, 2};
inline constexpr SysRegEncoding MDCCINT_EL1{2, 0, 0, 2, 0};
inline constexpr SysRegEncoding MDSCR_EL1{2, 0, 0, 2, 2};
inline constexpr SysRegEncoding OSDTRTX_EL1{2, 0, 0, 3, 2};
inline constexpr SysRegEncoding OSECCR_EL1{2, 0, 0, 6, 2};
inline constexpr SysRegEncoding MDRAR_EL1{2, 0, 1, 0, 0};
inline constexpr SysRegEncoding OSLAR_EL1{2, 0, 1, 0, 4};
inline constexpr SysRegEncoding OSLSR_EL1{2, 0, 1, 1, 4};
inline constexpr SysRegEncoding OSDLR_EL1{2, 0, 1, 3, 4};
inline constexpr SysRegEncoding DBGPRCR_EL1{2, 0, 1, 4, 4};
inline constexpr SysRegEncoding DBGCLAIMSET_EL1{2, 0, 7, 8, 6};
inline constexpr SysRegEncoding DBGCLAIMCLR_EL1{2, 0, 7, 9, 6};
inline constexpr SysRegEncoding DBGAUTHSTATUS_EL1{2, 0, 7, 14, 6};
inline constexpr SysRegEncoding MDCCSR_EL0{2, 3, 0, 1, 0};
inline constexpr SysRegEncoding DBGDTR_EL0{2, 3, 0, 4, 0};
inline constexpr SysRegEncoding DBGDTRRX_EL0{2, 3, 0, 5, 0};  // MRS; MSR of the same encoding is DBGDTRTX_EL0
inline constexpr SysRegEncoding DBGDTRTX_EL0{2, 3, 0, 5, 0};
// Breakpoint and watchpoint registers <n> = 0..15: CRm = n.
constexpr SysRegEncoding DBGBVRn_EL1(unsigned n) noexcept { return {2, 0, 0, n, 4}; }
constexpr SysRegEncoding DBGBCRn_EL1(unsigned n) noexcept { return {2, 0, 0, n, 5}; }
constexpr SysRegEncoding DBGWVRn_EL1(unsigned n) noexcept { return {2, 0, 0, n, 6}; }
constexpr SysRegEncoding DBGWCRn_EL1(unsigned n) noexcept { return {2, 0, 0, n, 7}; }

// Performance Monitors (MDCR_EL2.TPM, TPMCR).
inline constexpr SysRegEncoding PMCR_EL0{3, 3, 9, 12, 0};
inline constexpr SysRegEncoding PMCNTENSET_EL0{3, 3, 9, 12, 1};
inline constexpr SysRegEncoding PMCNTENCLR_EL0{3, 3, 9, 12, 2};
inline constexpr SysRegEncoding PMOVSCLR_EL0{3, 3, 9, 12, 3};
inline constexpr SysRegEncoding PMSWINC_EL0{3, 3, 9, 12, 4};
inline constexpr SysRegEncoding PMSELR_EL0{3, 3, 9, 12, 5};
inline constexpr SysRegEncoding PMCEID0_EL0{3, 3, 9, 12, 6};
inline constexpr SysRegEncoding PMCEID1_EL0{3, 3, 9, 12, 7};
inline constexpr SysRegEncoding PMCCNTR_EL0{3, 3, 9, 13, 0};
inline constexpr SysRegEncoding PMXEVTYPER_EL0{3, 3, 9, 13, 1};
inline constexpr SysRegEncoding PMXEVCNTR_EL0{3, 3, 9, 13, 2};
inline constexpr SysRegEncoding PMUSERENR_EL0{3, 3, 9, 14, 0};
inline constexpr SysRegEncoding PMOVSSET_EL0{3, 3, 9, 14, 3};
inline constexpr SysRegEncoding PMINTENSET_EL1{3, 0, 9, 14, 1};
inline constexpr SysRegEncoding PMINTENCLR_EL1{3, 0, 9, 14, 2};
inline constexpr SysRegEncoding PMMIR_EL1{3, 0, 9, 14, 6};
inline constexpr SysRegEncoding PMCCFILTR_EL0{3, 3, 14, 15, 7};
// Event counters <n> = 0..30: CRm = 0b10:n[4:3] (counters) or 0b11:n[4:3] (types), op2 = n[2:0].
constexpr SysRegEncoding PMEVCNTRn_EL0(unsigned n) noexcept {
  return {3, 3, 14, 0b1000 | ((n >> 3) & 3), n & 7};
}
constexpr SysRegEncoding PMEVTYPERn_EL0(unsigned n) noexcept {
  return {3, 3, 14, 0b1100 | ((n >> 3) & 3), n & 7};
}

// Identification (HCR_EL2.TID1, TID2, TID3).
inline constexpr SysRegEncoding MIDR_EL1{3, 0, 0, 0, 0};
inline constexpr SysRegEncoding MPIDR_EL1{3, 0, 0, 0, 5};
inline constexpr SysRegEncoding REVIDR_EL1{3, 0, 0, 0, 6};
inline constexpr SysRegEncoding ID_PFR0_EL1{3, 0, 0, 1, 0};
inline constexpr SysRegEncoding ID_PFR1_EL1{3, 0, 0, 1, 1};
inline constexpr SysRegEncoding ID_DFR0_EL1{3, 0, 0, 1, 2};
inline constexpr SysRegEncoding ID_AFR0_EL1{3, 0, 0, 1, 3};
inline constexpr SysRegEncoding ID_MMFR0_EL1{3, 0, 0, 1, 4};
inline constexpr SysRegEncoding ID_MMFR1_EL1{3, 0, 0, 1, 5};
inline constexpr SysRegEncoding ID_MMFR2_EL1{3, 0, 0, 1, 6};
inline constexpr SysRegEncoding ID_MMFR3_EL1{3, 0, 0, 1, 7};
inline constexpr SysRegEncoding ID_ISAR0_EL1{3, 0, 0, 2, 0};
inline constexpr SysRegEncoding ID_ISAR1_EL1{3, 0, 0, 2, 1};
inline constexpr SysRegEncoding ID_ISAR2_EL1{3, 0, 0, 2, 2};
inline constexpr SysRegEncoding ID_ISAR3_EL1{3, 0, 0, 2, 3};
inline constexpr SysRegEncoding ID_ISAR4_EL1{3, 0, 0, 2, 4};
inline constexpr SysRegEncoding ID_ISAR5_EL1{3, 0, 0, 2, 5};
inline constexpr SysRegEncoding ID_MMFR4_EL1{3, 0, 0, 2, 6};
inline constexpr SysRegEncoding ID_ISAR6_EL1{3, 0, 0, 2, 7};
inline constexpr SysRegEncoding MVFR0_EL1{3, 0, 0, 3, 0};
inline constexpr SysRegEncoding MVFR1_EL1{3, 0, 0, 3, 1};
inline constexpr SysRegEncoding MVFR2_EL1{3, 0, 0, 3, 2};
inline constexpr SysRegEncoding ID_PFR2_EL1{3, 0, 0, 3, 4};
inline constexpr SysRegEncoding ID_DFR1_EL1{3, 0, 0, 3, 5};
inline constexpr SysRegEncoding ID_MMFR5_EL1{3, 0, 0, 3, 6};
inline constexpr SysRegEncoding ID_AA64PFR0_EL1{3, 0, 0, 4, 0};
inline constexpr SysRegEncoding ID_AA64PFR1_EL1{3, 0, 0, 4, 1};
inline constexpr SysRegEncoding ID_AA64PFR2_EL1{3, 0, 0, 4, 2};
inline constexpr SysRegEncoding ID_AA64ZFR0_EL1{3, 0, 0, 4, 4};
inline constexpr SysRegEncoding ID_AA64SMFR0_EL1{3, 0, 0, 4, 5};
inline constexpr SysRegEncoding ID_AA64DFR0_EL1{3, 0, 0, 5, 0};
inline constexpr SysRegEncoding ID_AA64DFR1_EL1{3, 0, 0, 5, 1};
inline constexpr SysRegEncoding ID_AA64AFR0_EL1{3, 0, 0, 5, 4};
inline constexpr SysRegEncoding ID_AA64AFR1_EL1{3, 0, 0, 5, 5};
inline constexpr SysRegEncoding ID_AA64ISAR0_EL1{3, 0, 0, 6, 0};
inline constexpr SysRegEncoding ID_AA64ISAR1_EL1{3, 0, 0, 6, 1};
inline constexpr SysRegEncoding ID_AA64ISAR2_EL1{3, 0, 0, 6, 2};
inline constexpr SysRegEncoding ID_AA64MMFR0_EL1{3, 0, 0, 7, 0};
inline constexpr SysRegEncoding ID_AA64MMFR1_EL1{3, 0, 0, 7, 1};
inline constexpr SysRegEncoding ID_AA64MMFR2_EL1{3, 0, 0, 7, 2};
inline constexpr SysRegEncoding ID_AA64MMFR3_EL1{3, 0, 0, 7, 3};
inline constexpr SysRegEncoding ID_AA64MMFR4_EL1{3, 0, 0, 7, 4};
inline constexpr SysRegEncoding CTR_EL0{3, 3, 0, 0, 1};
inline constexpr SysRegEncoding DCZID_EL0{3, 3, 0, 0, 7};
inline constexpr SysRegEncoding CCSIDR_EL1{3, 1, 0, 0, 0};
inline constexpr SysRegEncoding CLIDR_EL1{3, 1, 0, 0, 1};
inline constexpr SysRegEncoding AIDR_EL1{3, 1, 0, 0, 7};
inline constexpr SysRegEncoding CSSELR_EL1{3, 2, 0, 0, 0};

// Generic Timer (CNTHCTL_EL2.EL1PCEN, EL1PCTEN; the physical timer and counter).
inline constexpr SysRegEncoding CNTFRQ_EL0{3, 3, 14, 0, 0};
inline constexpr SysRegEncoding CNTPCT_EL0{3, 3, 14, 0, 1};
inline constexpr SysRegEncoding CNTVCT_EL0{3, 3, 14, 0, 2};
inline constexpr SysRegEncoding CNTPCTSS_EL0{3, 3, 14, 0, 5};
inline constexpr SysRegEncoding CNTVCTSS_EL0{3, 3, 14, 0, 6};
inline constexpr SysRegEncoding CNTKCTL_EL1{3, 0, 14, 1, 0};
inline constexpr SysRegEncoding CNTP_TVAL_EL0{3, 3, 14, 2, 0};
inline constexpr SysRegEncoding CNTP_CTL_EL0{3, 3, 14, 2, 1};
inline constexpr SysRegEncoding CNTP_CVAL_EL0{3, 3, 14, 2, 2};
inline constexpr SysRegEncoding CNTV_TVAL_EL0{3, 3, 14, 3, 0};
inline constexpr SysRegEncoding CNTV_CTL_EL0{3, 3, 14, 3, 1};
inline constexpr SysRegEncoding CNTV_CVAL_EL0{3, 3, 14, 3, 2};

// EL1 control registers (HCR_EL2.TACR, TVM, TRVM).
inline constexpr SysRegEncoding SCTLR_EL1{3, 0, 1, 0, 0};
inline constexpr SysRegEncoding ACTLR_EL1{3, 0, 1, 0, 1};
inline constexpr SysRegEncoding CPACR_EL1{3, 0, 1, 0, 2};
inline constexpr SysRegEncoding TTBR0_EL1{3, 0, 2, 0, 0};
inline constexpr SysRegEncoding TTBR1_EL1{3, 0, 2, 0, 1};
inline constexpr SysRegEncoding TCR_EL1{3, 0, 2, 0, 2};
inline constexpr SysRegEncoding AFSR0_EL1{3, 0, 5, 1, 0};
inline constexpr SysRegEncoding AFSR1_EL1{3, 0, 5, 1, 1};
inline constexpr SysRegEncoding ESR_EL1{3, 0, 5, 2, 0};
inline constexpr SysRegEncoding FAR_EL1{3, 0, 6, 0, 0};
inline constexpr SysRegEncoding MAIR_EL1{3, 0, 10, 2, 0};
inline constexpr SysRegEncoding AMAIR_EL1{3, 0, 10, 3, 0};
inline constexpr SysRegEncoding CONTEXTIDR_EL1{3, 0, 13, 0, 1};

// Set/way cache maintenance instructions (HCR_EL2.TSW): op0 == 0b01.
inline constexpr SysRegEncoding DC_ISW{1, 0, 7, 6, 2};
inline constexpr SysRegEncoding DC_CSW{1, 0, 7, 10, 2};
inline constexpr SysRegEncoding DC_CISW{1, 0, 7, 14, 2};

}  // namespace sysreg

// The feature ID registers HCR_EL2.TID3 traps: op0 = 3, op1 = 0, CRn = 0, CRm = 1..7
// (AArch32 and AArch64 ID registers, including the unallocated encodings of that range,
// which read as zero: Arm ARM, "System register encoding space", op0 == 0b11).
constexpr bool is_feature_id_register(SysRegEncoding encoding) noexcept {
  return encoding.op0() == 3 && encoding.op1() == 0 && encoding.crn() == 0 && encoding.crm() >= 1 &&
         encoding.crm() <= 7;
}

// The debug and trace system registers: the op0 == 0b10 encoding space.
constexpr bool is_debug_register(SysRegEncoding encoding) noexcept { return encoding.op0() == 2; }

// The powerdown debug registers MDCR_EL2.TDOSA traps (Arm ARM D19.2, MDCR_EL2): the OS lock
// (OSLAR_EL1, OSLSR_EL1), the OS double lock (OSDLR_EL1) and DBGPRCR_EL1.
constexpr bool is_powerdown_debug_register(SysRegEncoding encoding) noexcept {
  return encoding == sysreg::OSLAR_EL1 || encoding == sysreg::OSLSR_EL1 || encoding == sysreg::OSDLR_EL1 ||
         encoding == sysreg::DBGPRCR_EL1;
}

// The debug registers MDCR_EL2.TDA traps at EL1 and EL0 (Arm ARM D19.2, MDCR_EL2.TDA: "those
// debug System registers that are not trapped by MDCR_EL2.TDRA or MDCR_EL2.TDOSA"): MDSCR_EL1,
// MDCCINT_EL1, DBGBVR/DBGBCR/DBGWVR/DBGWCR<n>_EL1, the claim tags, DBGAUTHSTATUS_EL1,
// OSDTRRX/OSDTRTX/OSECCR_EL1 (op1 = 0) and the debug communications channel MDCCSR_EL0,
// DBGDTR_EL0, DBGDTRRX/TX_EL0 (op1 = 3). Not the rest of the op0 == 0b10 space: the trace
// registers (op1 = 1) are CPTR_EL2.TTA's, DBGVCR32_EL2 (op1 = 4) is EL2's own, MDRAR_EL1 is
// MDCR_EL2.TDRA's and the powerdown debug registers are MDCR_EL2.TDOSA's.
inline constexpr unsigned kDebugOp1El1 = 0;  // op1 of the EL1 debug registers
inline constexpr unsigned kDebugOp1El0 = 3;  // op1 of the EL0-accessible ones (the DCC)
constexpr bool is_trapped_by_debug_access_trap(SysRegEncoding encoding) noexcept {
  return is_debug_register(encoding) && (encoding.op1() == kDebugOp1El1 || encoding.op1() == kDebugOp1El0) &&
         encoding != sysreg::MDRAR_EL1 && !is_powerdown_debug_register(encoding);
}

// The Performance Monitors registers: op0 = 3 with CRn = 9, CRm = 12..14 (op1 = 0 or 3),
// and the event counter/type block CRn = 14, CRm = 8..15 (op1 = 3).
constexpr bool is_pmu_register(SysRegEncoding encoding) noexcept {
  if (encoding.op0() != 3) return false;
  if (encoding.crn() == 9 && encoding.crm() >= 12 && encoding.crm() <= 14)
    return encoding.op1() == 0 || encoding.op1() == 3;
  return encoding.op1() == 3 && encoding.crn() == 14 && encoding.crm() >= 8;
}

// The three GICv3 SGI generation registers; their writes decode with decode_sgi().
constexpr bool is_sgi_register(SysRegEncoding encoding) noexcept {
  return encoding == sysreg::ICC_SGI1R_EL1 || encoding == sysreg::ICC_ASGI1R_EL1 ||
         encoding == sysreg::ICC_SGI0R_EL1;
}

}  // namespace arm
