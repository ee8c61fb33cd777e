#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>

#include "syndromes.h"

import arm.trap;

#include "finish.h"

using sr = arm::SysReg;

namespace {
constexpr std::uint64_t kPc = 0x4010'0000;

arm::GuestRegisters guest() {
  arm::GuestRegisters regs;
  for (unsigned n = 0; n < 31; ++n) regs.x[n] = 0x5555'0000'0000'0000ull + n;
  regs.pc = kPc;
  return regs;
}
}  // namespace

TEST_CASE("a SysRegEncoding keeps its five fields and compares by all of them") {
  constexpr arm::SysRegEncoding pmcr{3, 3, 9, 12, 0};
  static_assert(pmcr.op0() == 3 && pmcr.op1() == 3 && pmcr.crn() == 9 && pmcr.crm() == 12 && pmcr.op2() == 0);
  static_assert(pmcr == sr::PMCR_EL0);
  static_assert(arm::SysRegEncoding{sr::PMCR_EL0} != sr::PMCNTENSET_EL0);
  static_assert(arm::SysRegEncoding{sr::ICC_SGI1R_EL1} != sr::ICC_ASGI1R_EL1);
  CHECK(pmcr.value() == ((3u << 14) | (3u << 11) | (9u << 7) | (12u << 3) | 0u));
}

TEST_CASE("the named encodings are the Arm ARM's (op0, op1, CRn, CRm, op2)") {
  // Spot checks against each register's "Accessing" table; every row of sysregs.def is
  // checked against LLVM's assembler by the sysreg_table test (tools/check-sysreg-table).
  CHECK(sr::ICC_SGI1R_EL1 == arm::SysRegEncoding{3, 0, 12, 11, 5});
  CHECK(sr::ICC_ASGI1R_EL1 == arm::SysRegEncoding{3, 0, 12, 11, 6});
  CHECK(sr::ICC_SGI0R_EL1 == arm::SysRegEncoding{3, 0, 12, 11, 7});
  CHECK(sr::MDSCR_EL1 == arm::SysRegEncoding{2, 0, 0, 2, 2});
  CHECK(sr::OSLAR_EL1 == arm::SysRegEncoding{2, 0, 1, 0, 4});
  CHECK(sr::OSLSR_EL1 == arm::SysRegEncoding{2, 0, 1, 1, 4});
  CHECK(sr::OSDLR_EL1 == arm::SysRegEncoding{2, 0, 1, 3, 4});
  CHECK(sr::MDCCSR_EL0 == arm::SysRegEncoding{2, 3, 0, 1, 0});
  CHECK(sr::PMCCNTR_EL0 == arm::SysRegEncoding{3, 3, 9, 13, 0});
  CHECK(sr::PMUSERENR_EL0 == arm::SysRegEncoding{3, 3, 9, 14, 0});
  CHECK(sr::PMCCFILTR_EL0 == arm::SysRegEncoding{3, 3, 14, 15, 7});
  CHECK(sr::ID_AA64PFR0_EL1 == arm::SysRegEncoding{3, 0, 0, 4, 0});
  CHECK(sr::ID_AA64ISAR1_EL1 == arm::SysRegEncoding{3, 0, 0, 6, 1});
  CHECK(sr::ID_AA64MMFR2_EL1 == arm::SysRegEncoding{3, 0, 0, 7, 2});
  CHECK(sr::CNTP_CTL_EL0 == arm::SysRegEncoding{3, 3, 14, 2, 1});
  CHECK(sr::CNTP_CVAL_EL0 == arm::SysRegEncoding{3, 3, 14, 2, 2});
  CHECK(sr::CNTP_TVAL_EL0 == arm::SysRegEncoding{3, 3, 14, 2, 0});
  CHECK(sr::CNTPCT_EL0 == arm::SysRegEncoding{3, 3, 14, 0, 1});
  CHECK(sr::ACTLR_EL1 == arm::SysRegEncoding{3, 0, 1, 0, 1});
}

TEST_CASE("the debug and PMU register banks place <n> where the Arm ARM does") {
  CHECK(arm::bank_register(sr::DBGBVR0_EL1, 0) == arm::SysRegEncoding{2, 0, 0, 0, 4});
  CHECK(arm::bank_register(sr::DBGBCR0_EL1, 15) == arm::SysRegEncoding{2, 0, 0, 15, 5});
  CHECK(arm::bank_register(sr::DBGWVR0_EL1, 3) == arm::SysRegEncoding{2, 0, 0, 3, 6});
  CHECK(arm::bank_register(sr::DBGWCR0_EL1, 7) == arm::SysRegEncoding{2, 0, 0, 7, 7});
  // PMEVCNTR<n>_EL0: CRm = 0b10:n[4:3], op2 = n[2:0]; PMEVTYPER<n>_EL0: CRm = 0b11:n[4:3].
  CHECK(arm::bank_register(sr::PMEVCNTR0_EL0, 0) == arm::SysRegEncoding{3, 3, 14, 8, 0});
  CHECK(arm::bank_register(sr::PMEVCNTR0_EL0, 30) == arm::SysRegEncoding{3, 3, 14, 11, 6});
  CHECK(arm::bank_register(sr::PMEVTYPER0_EL0, 9) == arm::SysRegEncoding{3, 3, 14, 13, 1});
  CHECK(arm::bank_register(sr::PMEVTYPER0_EL0, 30) == arm::SysRegEncoding{3, 3, 14, 15, 6});
}

TEST_CASE("the group predicates say which registers a trap control covers") {
  CHECK(arm::is_feature_id_register(sr::ID_AA64PFR0_EL1));
  CHECK(arm::is_feature_id_register(sr::ID_PFR0_EL1));
  CHECK(arm::is_feature_id_register(arm::SysRegEncoding{3, 0, 0, 7, 7}));  // unallocated, in the TID3 range
  CHECK_FALSE(arm::is_feature_id_register(sr::MIDR_EL1));                  // CRm 0: TID1/VPIDR, not TID3
  CHECK_FALSE(arm::is_feature_id_register(sr::CTR_EL0));
  CHECK(arm::is_debug_register(sr::MDSCR_EL1));
  CHECK(arm::is_debug_register(arm::bank_register(sr::DBGWCR0_EL1, 2)));
  CHECK(arm::is_debug_register(sr::MDCCSR_EL0));
  CHECK_FALSE(arm::is_debug_register(sr::PMCR_EL0));
  CHECK(arm::is_pmu_register(sr::PMCR_EL0));
  CHECK(arm::is_pmu_register(sr::PMINTENSET_EL1));
  CHECK(arm::is_pmu_register(arm::bank_register(sr::PMEVCNTR0_EL0, 5)));
  CHECK(arm::is_pmu_register(sr::PMCCFILTR_EL0));
  CHECK_FALSE(arm::is_pmu_register(sr::CNTP_CTL_EL0));
  CHECK_FALSE(arm::is_pmu_register(sr::ID_AA64DFR0_EL1));
  CHECK(arm::is_sgi_register(sr::ICC_SGI1R_EL1));
  CHECK(arm::is_sgi_register(sr::ICC_SGI0R_EL1));
  CHECK_FALSE(arm::is_sgi_register(sr::ICC_PMR_EL1));
  CHECK(arm::SysRegEncoding{sr::DC_ISW}.is_instruction());
  CHECK_FALSE(arm::SysRegEncoding{sr::SCTLR_EL1}.is_instruction());
}

TEST_CASE("MRS x7, CNTPCT_EL0 trapped becomes a SysRegRead; the answer lands in x7 and the PC moves by 4") {
  auto regs = guest();
  auto event = arm::decode({syn::sysreg(3, 3, 14, 0, 1, 7, true), 0, 0}, regs);
  auto* read = event.get_if<arm::SysRegRead>();
  REQUIRE(read != nullptr);
  CHECK(read->encoding == sr::CNTPCT_EL0);
  CHECK(read->rt == 7);
  CHECK(read->reply == arm::Reply::None);
  read->complete(0x1234'5678'9abc'def0ull);
  arm::complete(regs, *read);
  CHECK(regs.x[7] == 0x1234'5678'9abc'def0ull);
  CHECK(regs.x[6] == guest().x[6]);
  CHECK(regs.pc == kPc + 4);
}

TEST_CASE("an unanswered SysRegRead writes no register and becomes an UNDEF at the MRS") {
  auto regs = guest();
  auto event = arm::decode({syn::sysreg(3, 0, 0, 4, 0, 2, true), 0, 0}, regs);
  REQUIRE(event.get_if<arm::SysRegRead>() != nullptr);
  CHECK(event.get_if<arm::SysRegRead>()->encoding == sr::ID_AA64PFR0_EL1);
  const Finished finished = finish(regs, *event.get_if<arm::SysRegRead>());
  CHECK(regs.x[2] == guest().x[2]);
  CHECK(finished.injections == 1);
  CHECK(finished.injected_class() == arm::ExceptionClass::Unknown);
  CHECK(finished.el1.elr == kPc);
}

TEST_CASE("MRS into XZR (Rt = 31) answers without writing a register") {
  auto regs = guest();
  auto event = arm::decode({syn::sysreg(2, 0, 1, 1, 4, 31, true), 0, 0}, regs);
  auto* read = event.get_if<arm::SysRegRead>();
  REQUIRE(read != nullptr);
  CHECK(read->encoding == sr::OSLSR_EL1);
  read->complete(~0ull);
  arm::complete(regs, *read);
  for (unsigned n = 0; n < 31; ++n) CHECK(regs.x[n] == guest().x[n]);
  CHECK(regs.pc == kPc + 4);
}

TEST_CASE("MSR PMCR_EL0, x3 becomes a SysRegWrite carrying x3; emulated by default") {
  auto regs = guest();
  regs.x[3] = 0x41;
  auto event = arm::decode({syn::sysreg(3, 3, 9, 12, 0, 3, false), 0, 0}, regs);
  auto* write = event.get_if<arm::SysRegWrite>();
  REQUIRE(write != nullptr);
  CHECK(write->encoding == sr::PMCR_EL0);
  CHECK(write->rt == 3);
  CHECK(write->value == 0x41);
  CHECK(finish(regs, *write).injections == 0);
  CHECK(regs.pc == kPc + 4);
  CHECK(regs.x[3] == 0x41);
}

TEST_CASE("MSR OSLAR_EL1, xzr writes zero; a rejected write becomes an UNDEF at the MSR") {
  auto regs = guest();
  auto event = arm::decode({syn::sysreg(2, 0, 1, 0, 4, 31, false), 0, 0}, regs);
  auto* write = event.get_if<arm::SysRegWrite>();
  REQUIRE(write != nullptr);
  CHECK(write->encoding == sr::OSLAR_EL1);
  CHECK(write->value == 0);
  write->reject();
  const Finished finished = finish(regs, *write);
  CHECK(finished.injections == 1);
  CHECK(finished.injected_class() == arm::ExceptionClass::Unknown);
  CHECK(finished.el1.elr == kPc);
}

TEST_CASE("a trapped DC ISW (HCR_EL2.TSW) is a SysRegWrite with an op0 = 1 encoding") {
  auto regs = guest();
  auto event = arm::decode({syn::sysreg(1, 0, 7, 6, 2, 4, false), 0, 0}, regs);
  REQUIRE(event.get_if<arm::SysRegWrite>() != nullptr);
  CHECK(event.get_if<arm::SysRegWrite>()->encoding == sr::DC_ISW);
  CHECK(event.get_if<arm::SysRegWrite>()->value == guest().x[4]);
}

TEST_CASE("every set/way instruction HCR_EL2.TSW traps is set/way maintenance, and nothing else is") {
  struct Row {
    arm::SysReg name;
    arm::SetWayOperation operation;
    bool tags;
  };
  constexpr Row kRows[] = {
      {sr::DC_ISW, arm::SetWayOperation::Invalidate, false},
      {sr::DC_CSW, arm::SetWayOperation::Clean, false},
      {sr::DC_CISW, arm::SetWayOperation::CleanInvalidate, false},
      {sr::DC_IGSW, arm::SetWayOperation::Invalidate, true},
      {sr::DC_IGDSW, arm::SetWayOperation::Invalidate, true},
      {sr::DC_CGSW, arm::SetWayOperation::Clean, true},
      {sr::DC_CGDSW, arm::SetWayOperation::Clean, true},
      {sr::DC_CIGSW, arm::SetWayOperation::CleanInvalidate, true},
      {sr::DC_CIGDSW, arm::SetWayOperation::CleanInvalidate, true},
  };
  auto regs = guest();
  for (const Row& row : kRows) {
    regs.x[4] = (0xabcull << 4) | (3u << 1) | (0xffull << 32);  // level 3 (L4), RES0 bits set
    auto event = arm::decode({syn::sysreg(1, 0, 7, arm::SysRegEncoding{row.name}.crm(),
                                          arm::SysRegEncoding{row.name}.op2(), 4, false),
                              0, 0},
                             regs);
    auto* write = event.get_if<arm::SysRegWrite>();
    REQUIRE(write != nullptr);
    CHECK(write->encoding == row.name);
    CHECK(arm::is_set_way_maintenance(write->encoding));
    const arm::SetWayMaintenance op = arm::set_way_maintenance(*write);
    CHECK(op.operation == row.operation);
    CHECK(op.tags == row.tags);
    CHECK(op.level == 3);
    CHECK(op.set_way == 0xabc0);
  }
  // Not by set/way: DC IVAC, CVAC, CIVAC, ZVA, IC IALLU, and an op0 = 3 register at CRn 7.
  for (const arm::SysRegEncoding other :
       {arm::SysRegEncoding{1, 0, 7, 6, 1}, arm::SysRegEncoding{1, 3, 7, 10, 1},
        arm::SysRegEncoding{1, 3, 7, 14, 1}, arm::SysRegEncoding{1, 3, 7, 4, 1},
        arm::SysRegEncoding{1, 0, 7, 5, 0}, arm::SysRegEncoding{sr::PAR_EL1}})
    CHECK_FALSE(arm::is_set_way_maintenance(other));
}

TEST_CASE("TIDCP's IMPLEMENTATION DEFINED space is op0 = 3 with CRn 11 or 15") {
  CHECK(arm::is_implementation_defined_register({3, 0, 11, 0, 0}));
  CHECK(arm::is_implementation_defined_register({3, 7, 15, 15, 7}));
  CHECK_FALSE(arm::is_implementation_defined_register({3, 0, 10, 4, 0}));
  CHECK_FALSE(arm::is_implementation_defined_register({2, 0, 15, 0, 0}));
  CHECK_FALSE(arm::is_implementation_defined_register(sr::ACTLR_EL1));
}

TEST_CASE("the LORegion registers are the five of FEAT_LOR") {
  for (const arm::SysReg reg : {sr::LORSA_EL1, sr::LOREA_EL1, sr::LORN_EL1, sr::LORC_EL1, sr::LORID_EL1})
    CHECK(arm::is_lor_register(reg));
  CHECK_FALSE(arm::is_lor_register(sr::MAIR_EL1));
  CHECK_FALSE(arm::is_lor_register({3, 0, 10, 4, 4}));  // MPAMIDR_EL1 sits next to them
}

TEST_CASE("the registers HCR_EL2.TVM traps all sit where may_be_trapped_by_tvm looks") {
  for (const arm::SysReg reg :
       {sr::SCTLR_EL1, sr::TTBR0_EL1, sr::TTBR1_EL1, sr::TCR_EL1, sr::ESR_EL1, sr::FAR_EL1, sr::AFSR0_EL1,
        sr::AFSR1_EL1, sr::MAIR_EL1, sr::AMAIR_EL1, sr::CONTEXTIDR_EL1})
    CHECK(arm::may_be_trapped_by_tvm(reg));
  CHECK_FALSE(arm::may_be_trapped_by_tvm(sr::VBAR_EL1));
  CHECK_FALSE(arm::may_be_trapped_by_tvm(sr::CNTKCTL_EL1));
  CHECK_FALSE(arm::may_be_trapped_by_tvm(sr::HCR_EL2));
}

TEST_CASE("SysRegIss::make builds the ISS the decoder reads back") {
  for (const arm::SysRegEncoding encoding : {sr::ICC_SGI1R_EL1, arm::bank_register(sr::DBGBCR0_EL1, 9),
                                             arm::bank_register(sr::PMEVTYPER0_EL0, 17), sr::CNTP_CVAL_EL0}) {
    for (unsigned rt : {0u, 17u, 31u}) {
      for (bool read : {false, true}) {
        const arm::SysRegIss iss{arm::SysRegIss::make(encoding, rt, read)};
        CHECK(iss.encoding() == encoding);
        CHECK(iss.rt() == rt);
        CHECK(iss.is_read() == read);
        CHECK(arm::SysRegIss::make(encoding, rt, read) ==
              static_cast<std::uint32_t>(syn::sysreg(encoding.op0(), encoding.op1(), encoding.crn(),
                                                     encoding.crm(), encoding.op2(), rt, read) &
                                         0x1ffffff));
      }
    }
  }
}

// ICC_SGI1R_EL1 (GIC architecture specification, IHI 0069): TargetList [15:0], Aff1
// [23:16], INTID [27:24], Aff2 [39:32], IRM [40], RS [47:44], Aff3 [55:48].
TEST_CASE("an ICC_SGI1R_EL1 value decodes into INTID, affinity, range and target list") {
  const std::uint64_t value = (0x12ull << 48) | (0x3ull << 44) | (0x34ull << 32) | (0x9ull << 24) |
                              (0x56ull << 16) | 0b1000'0000'0000'0101ull;
  const arm::SgiTarget target = arm::decode_sgi(value);
  CHECK(target.intid == 9);
  CHECK(target.aff3 == 0x12);
  CHECK(target.aff2 == 0x34);
  CHECK(target.aff1 == 0x56);
  CHECK(target.range_selector == 3);
  CHECK(target.target_list == 0x8005);
  CHECK_FALSE(target.all_but_self);
  // RS 3 covers Aff0 48..63; bits 0, 2 and 15 are Aff0 48, 50 and 63.
  const std::uint64_t base = (0x12ull << 32) | (0x34ull << 16) | (0x56ull << 8);
  CHECK(target.targets(base | 48, 0));
  CHECK(target.targets(base | 50, 0));
  CHECK(target.targets(base | 63, 0));
  CHECK_FALSE(target.targets(base | 49, 0));
  CHECK_FALSE(target.targets(base | 2, 0));            // Aff0 outside the range
  CHECK_FALSE(target.targets(base | 64, 0));           // next range
  CHECK_FALSE(target.targets(base ^ (1ull << 8), 0));  // another Aff1
  CHECK(target.targets(base | 48 | (1ull << 31), 0));  // MPIDR_EL1 bit 31 (RES1) is not affinity
}

TEST_CASE("encode_sgi names exactly one PE, whatever its affinity, and decode_sgi reads it back") {
  const std::uint64_t pes[] = {0x0, 0x1, 0x0f, 0x10, 0x2f, 0x101, 0x01'0203, 0x7f'00ff'ff3c};
  for (const std::uint64_t mpidr : pes) {
    CAPTURE(mpidr);
    const arm::SgiTarget target = arm::decode_sgi(arm::encode_sgi(8, mpidr));
    CHECK(target.intid == 8);
    CHECK_FALSE(target.all_but_self);
    for (const std::uint64_t other : pes) CHECK(target.targets(other, 0) == (other == mpidr));
  }
  // The value itself, for MPIDR Aff3 0x7f, Aff2 0xff, Aff1 0xff, Aff0 0x3c (RS 3, bit 12).
  CHECK(arm::encode_sgi(8, 0x7f'00ff'ff3c) ==
        ((0x7full << 48) | (3ull << 44) | (0xffull << 32) | (8ull << 24) | (0xffull << 16) | (1u << 12)));
}

TEST_CASE("SGI to the usual targets: CPU 1 of cluster 0 and, with IRM, everyone but the sender") {
  const arm::SgiTarget cpu1 = arm::decode_sgi((1ull << 24) | 0b10);
  CHECK(cpu1.targets(0x8000'0001, 0x8000'0000));
  CHECK_FALSE(cpu1.targets(0x8000'0000, 0x8000'0000));
  const arm::SgiTarget broadcast = arm::decode_sgi((1ull << 40) | (5ull << 24));
  CHECK(broadcast.all_but_self);
  CHECK(broadcast.intid == 5);
  CHECK(broadcast.targets(0x8000'0102, 0x8000'0000));
  CHECK_FALSE(broadcast.targets(0x8000'0000, 0x8000'0000));
  CHECK_FALSE(broadcast.targets(0x0000'0000, 0x8000'0000));  // same affinity, other non-affinity bits
}
