// Trapped MSR, MRS and SYS instructions (EC 0x18): the ISS, "is this mine?" predicates for
// the groups the trap controls work on, and the SysRegRead/SysRegWrite events. The
// registers' names and encodings are arm.sysreg's (one table, sysregs.def), re-exported
// here: a trapped access compares against a name, `read->encoding == SysReg::CNTP_CTL_EL0`.
//
// Arm ARM (DDI 0487), ESR_EL2, "ISS encoding for an exception from MSR, MRS, or System
// instruction execution in AArch64 state"; encodings from each register's "Accessing"
// table (op0, op1, CRn, CRm, op2).
module;
#include <arm/runtime/std_support.h>
export module arm.trap:sysreg;
export import arm.sysreg;
import :esr;
import :events;

export namespace arm {

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
  static constexpr std::uint8_t instruction_length = kA64InstructionLength;
  std::uint64_t value = 0;
  Reply reply = Reply::None;

  void complete(std::uint64_t data) noexcept {
    value = data;
    reply = Reply::Answered;
  }
};

// A trapped MSR (or SYS instruction): `value` is Xt at the trap (XZR reads as 0). Emulated
// unless the hypervisor calls reject(); then the vCPU injects an undefined-instruction
// exception.
struct SysRegWrite {
  SysRegEncoding encoding;
  std::uint8_t rt = 0;
  static constexpr std::uint8_t instruction_length = kA64InstructionLength;
  std::uint64_t value = 0;
  Reply reply = Reply::None;

  void reject() noexcept { reply = Reply::Rejected; }
};

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
  return encoding == SysReg::OSLAR_EL1 || encoding == SysReg::OSLSR_EL1 || encoding == SysReg::OSDLR_EL1 ||
         encoding == SysReg::DBGPRCR_EL1;
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
         encoding != SysReg::MDRAR_EL1 && !is_powerdown_debug_register(encoding);
}

// The Performance Monitors registers: op0 = 3 with CRn = 9, CRm = 12..14 (op1 = 0 or 3),
// and the event counter/type block CRn = 14, CRm = 8..15 (op1 = 3).
constexpr bool is_pmu_register(SysRegEncoding encoding) noexcept {
  if (encoding.op0() != 3) return false;
  if (encoding.crn() == 9 && encoding.crm() >= 12 && encoding.crm() <= 14)
    return encoding.op1() == 0 || encoding.op1() == 3;
  return encoding.op1() == 3 && encoding.crn() == 14 && encoding.crm() >= 8;
}

// The encodings reserved for IMPLEMENTATION DEFINED registers, which HCR_EL2.TIDCP traps at
// EL1: op0 = 3, CRn = 11 or 15, any op1, CRm and op2 (Arm ARM DDI 0487 M.c D24.2.61, HCR_EL2.TIDCP;
// the System register encoding space reserves them).
// One masked compare (every trapped register that reaches the hypervisor passes here):
// op0 = 0b11 and CRn = 0b1x11.
constexpr bool is_implementation_defined_register(SysRegEncoding encoding) noexcept {
  constexpr SysRegEncoding kMask{3, 0, 0b1011, 0, 0};
  constexpr SysRegEncoding kMatch{3, 0, 0b1011, 0, 0};
  return (encoding.value() & kMask.value()) == kMatch.value();
}

// The FEAT_LOR LORegion registers HCR_EL2.TLOR traps: LORSA_EL1, LOREA_EL1, LORN_EL1, LORC_EL1,
// LORID_EL1 (op0 = 3, op1 = 0, CRn = 10, CRm = 4).
// One compare of op0..CRm, then op2 in {0, 1, 2, 3, 7} as a bit mask.
constexpr bool is_lor_register(SysRegEncoding encoding) noexcept {
  constexpr unsigned kOp2Bits = 3;
  constexpr unsigned kLorOp2s = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 7);
  return (encoding.value() >> kOp2Bits) == (SysRegEncoding{SysReg::LORSA_EL1}.value() >> kOp2Bits) &&
         ((kLorOp2s >> encoding.op2()) & 1) != 0;
}

// Whether a trapped write may be one HCR_EL2.TVM traps: the EL1 virtual memory control
// registers SCTLR_EL1, TTBR0/1_EL1, TCR_EL1, ESR_EL1, FAR_EL1, AFSR0/1_EL1, MAIR_EL1, AMAIR_EL1,
// CONTEXTIDR_EL1 and those of later features (TCR2_EL1, PIR_EL1, ...) all sit in op0 = 3,
// op1 = 0, CRn 1, 2, 5, 6, 10 or 13 (Arm ARM DDI 0487 M.c D24.2.61, HCR_EL2.TVM). arm.vcpu
// sets TVM only for a while (VCpu::answer_set_way_maintenance()).
constexpr bool may_be_trapped_by_tvm(SysRegEncoding encoding) noexcept {
  const unsigned crn = encoding.crn();
  return encoding.op0() == 3 && encoding.op1() == 0 &&
         (crn == 1 || crn == 2 || crn == 5 || crn == 6 || crn == 10 || crn == 13);
}

// Data cache maintenance by set/way (DC ISW, CSW, CISW and their FEAT_MTE2 tag forms),
// trapped by HCR_EL2.TSW: op0 = 1, op1 = 0, CRn = 7, CRm 6 (invalidate), 10 (clean) or 14
// (clean and invalidate), op2 2 (data), 4 (tags only: IGSW, CGSW, CIGSW) or 6 (data and tags:
// IGDSW, CGDSW, CIGDSW) (Arm ARM DDI 0487 M.c D7.5.8.2.2 "Cache maintenance instructions that
// operate by set/way", D7.5.9.2 "The data cache maintenance instruction (DC)").
enum class SetWayOperation : std::uint8_t { Invalidate, Clean, CleanInvalidate };

struct SetWayMaintenance {
  SetWayOperation operation = SetWayOperation::CleanInvalidate;
  bool tags = false;  // a FEAT_MTE2 form (op2 4 or 6)
  // Xt: Level [3:1] (0 is L1), SetWay [31:4] (where the set and way sit depends on the
  // cache's geometry, CCSIDR_EL1), the upper 32 bits RES0.
  unsigned level = 0;
  std::uint32_t set_way = 0;
};

inline constexpr unsigned kSetWayCrmInvalidate = 6;
inline constexpr unsigned kSetWayCrmClean = 10;
inline constexpr unsigned kSetWayCrmCleanInvalidate = 14;
inline constexpr unsigned kSetWayOp2Data = 2;

constexpr bool is_set_way_maintenance(SysRegEncoding encoding) noexcept {
  const unsigned crm = encoding.crm();
  const unsigned op2 = encoding.op2();
  return encoding.op0() == 1 && encoding.op1() == 0 && encoding.crn() == 7 &&
         (crm == kSetWayCrmInvalidate || crm == kSetWayCrmClean || crm == kSetWayCrmCleanInvalidate) &&
         (op2 == kSetWayOp2Data || op2 == 4 || op2 == 6);
}

// The operation a trapped set/way instruction asks for; only for is_set_way_maintenance().
constexpr SetWayMaintenance set_way_maintenance(const SysRegWrite& write) noexcept {
  SetWayMaintenance op;
  const unsigned crm = write.encoding.crm();
  op.operation = crm == kSetWayCrmInvalidate ? SetWayOperation::Invalidate
                 : crm == kSetWayCrmClean    ? SetWayOperation::Clean
                                             : SetWayOperation::CleanInvalidate;
  op.tags = write.encoding.op2() != kSetWayOp2Data;
  op.level = static_cast<unsigned>(bits(write.value, 3, 1));
  op.set_way = static_cast<std::uint32_t>(bits(write.value, 31, 4) << 4);
  return op;
}

// A set of groups of the system register encoding space, a group being one (op0, op1, CRn)
// and one half of CRm (0-7 or 8-15): 1024 groups, one bit each. The exit path's first test
// of a trapped access the vCPU might answer itself (VCpu's answered_ groups): SysRegEncoding's
// value is op0:op1:CRn:CRm:op2, so an encoding's group is its value shifted right by 6, and
// the test is a shift, a load and a bit test, whatever the number of registers behind it.
// The CRm halves keep apart what shares a CRn: CNTP_* (CRm 2) and the PMU's event counters
// (CRm 8-15) in op1 = 3, CRn = 14.
class RegisterGroups {
 public:
  static constexpr unsigned kGroupShift = 6;  // CRm[2:0] and op2 below the group
  static constexpr unsigned kAnyOp1 = 8;
  enum class CrmHalf : std::uint8_t { Low, High, Both };

  // Adds (op0, op1, crn) with the CRm values of `half`; kAnyOp1 for every op1.
  constexpr void add(unsigned op0, unsigned op1, unsigned crn, CrmHalf half = CrmHalf::Both) noexcept {
    if (op1 == kAnyOp1) {
      for (unsigned n = 0; n < 8; ++n) add(op0, n, crn, half);
      return;
    }
    if (half != CrmHalf::High) set(SysRegEncoding{op0, op1, crn, 0, 0});
    if (half != CrmHalf::Low) set(SysRegEncoding{op0, op1, crn, 8, 0});
  }
  constexpr bool contains(SysRegEncoding encoding) const noexcept {
    const unsigned group = encoding.value() >> kGroupShift;
    return ((words_[group / 64] >> (group % 64)) & 1) != 0;
  }

 private:
  constexpr void set(SysRegEncoding encoding) noexcept {
    const unsigned group = encoding.value() >> kGroupShift;
    words_[group / 64] |= std::uint64_t{1} << (group % 64);
  }
  std::uint64_t words_[16] = {};
};

// The three GICv3 SGI generation registers; their writes decode with decode_sgi().
constexpr bool is_sgi_register(SysRegEncoding encoding) noexcept {
  return encoding == SysReg::ICC_SGI1R_EL1 || encoding == SysReg::ICC_ASGI1R_EL1 ||
         encoding == SysReg::ICC_SGI0R_EL1;
}

}  // namespace arm
