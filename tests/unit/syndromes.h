// Syndrome values for the trap tests, built field by field from the Arm ARM (DDI 0487)
// definitions, independently of arm.trap's own accessors: a test that builds an ESR here
// and decodes it with arm.trap checks one reading of the manual against another.
#pragma once
#include <cstdint>

namespace syn {

// ESR_EL2: EC [31:26], IL [25], ISS [24:0], ISS2 [55:32] (Arm ARM, ESR_EL2).
constexpr std::uint64_t esr(unsigned ec, bool il, std::uint32_t iss) {
  return (std::uint64_t{ec & 0x3f} << 26) | (std::uint64_t{il} << 25) | (iss & 0x1ffffff);
}

// Arm ARM, ESR_EL2, "ISS encoding for an exception from a Data Abort": ISV [24], SAS
// [23:22], SSE [21], SRT [20:16], SF [15], AR [14], VNCR [13], FnV [10], EA [9], CM [8],
// S1PTW [7], WnR [6], DFSC [5:0]. EC 0x24: Data Abort from a lower Exception level.
struct DataAbort {
  bool isv = false;
  unsigned sas = 0;
  bool sse = false;
  unsigned srt = 0;
  bool sf = false;
  bool ar = false;
  bool vncr = false;
  bool fnv = false;
  bool ea = false;
  bool cm = false;
  bool s1ptw = false;
  bool wnr = false;
  unsigned dfsc = 0;
  bool il = true;
};
constexpr std::uint32_t data_abort_iss(const DataAbort& f) {
  return (std::uint32_t{f.isv} << 24) | ((f.sas & 3) << 22) | (std::uint32_t{f.sse} << 21) |
         ((f.srt & 31) << 16) | (std::uint32_t{f.sf} << 15) | (std::uint32_t{f.ar} << 14) |
         (std::uint32_t{f.vncr} << 13) | (std::uint32_t{f.fnv} << 10) | (std::uint32_t{f.ea} << 9) |
         (std::uint32_t{f.cm} << 8) | (std::uint32_t{f.s1ptw} << 7) | (std::uint32_t{f.wnr} << 6) |
         (f.dfsc & 0x3f);
}
constexpr std::uint64_t data_abort(const DataAbort& f) { return esr(0x24, f.il, data_abort_iss(f)); }

// Arm ARM, ESR_EL2, "ISS encoding for an exception from an Instruction Abort": FnV [10],
// EA [9], S1PTW [7], IFSC [5:0]. EC 0x20: Instruction Abort from a lower Exception level.
struct InstructionAbort {
  bool fnv = false;
  bool ea = false;
  bool s1ptw = false;
  unsigned ifsc = 0;
};
constexpr std::uint64_t instruction_abort(const InstructionAbort& f) {
  return esr(0x20, true,
             (std::uint32_t{f.fnv} << 10) | (std::uint32_t{f.ea} << 9) | (std::uint32_t{f.s1ptw} << 7) |
                 (f.ifsc & 0x3f));
}

// Arm ARM, ESR_EL2, "ISS encoding for an exception from MSR, MRS, or System instruction
// execution in AArch64 state": Op0 [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10], Rt
// [9:5], CRm [4:1], Direction [0] (1 = read). EC 0x18.
constexpr std::uint64_t sysreg(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2,
                               unsigned rt, bool read) {
  return esr(0x18, true,
             ((op0 & 3) << 20) | ((op2 & 7) << 17) | ((op1 & 7) << 14) | ((crn & 15) << 10) |
                 ((rt & 31) << 5) | ((crm & 15) << 1) | (read ? 1u : 0u));
}

// Arm ARM, ESR_EL2, "ISS encoding for an exception from a WF* instruction": RN [9:5],
// RV [2], TI [1:0] (0b00 WFI, 0b01 WFE, 0b10 WFIT, 0b11 WFET). EC 0x01.
constexpr std::uint64_t wfx(unsigned ti, bool rv = false, unsigned rn = 0, bool il = true) {
  return esr(0x01, il, ((rn & 31) << 5) | (std::uint32_t{rv} << 2) | (ti & 3));
}

// HPFAR_EL2.FIPA [47:4] holds IPA[55:12] (Arm ARM, HPFAR_EL2).
constexpr std::uint64_t hpfar_for(std::uint64_t ipa) { return (ipa >> 12) << 4; }

}  // namespace syn
