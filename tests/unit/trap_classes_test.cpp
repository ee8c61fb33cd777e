#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>

#include "syndromes.h"

import arm.trap;

using arm::ExceptionClass;

// The exception classes other than MMIO and system registers, each syndrome built from
// the Arm ARM's ESR_EL2 ISS encodings (see syndromes.h and the comments per case).

namespace {
constexpr std::uint64_t kPc = 0x4020'0000;

arm::GuestRegisters guest() {
  arm::GuestRegisters regs;
  for (unsigned n = 0; n < 31; ++n) regs.x[n] = 0x6666'0000'0000'0000ull + n;
  regs.pc = kPc;
  regs.pstate = 0x3c5;
  return regs;
}

arm::TrapEvent decode(std::uint64_t esr, std::uint64_t far = 0, std::uint64_t hpfar = 0) {
  return arm::decode({esr, far, hpfar}, guest());
}
}  // namespace

TEST_CASE("WFI and WFE decode by TI; the completion moves the PC past them") {
  auto wfi = decode(syn::wfx(0b00));
  auto wfe = decode(syn::wfx(0b01));
  REQUIRE(wfi.get_if<arm::Wfx>() != nullptr);
  REQUIRE(wfe.get_if<arm::Wfx>() != nullptr);
  CHECK(wfi.get_if<arm::Wfx>()->kind == arm::WfxKind::Wfi);
  CHECK(wfi.get_if<arm::Wfx>()->waits_for_interrupt());
  CHECK(wfe.get_if<arm::Wfx>()->kind == arm::WfxKind::Wfe);
  CHECK_FALSE(wfe.get_if<arm::Wfx>()->waits_for_interrupt());
  CHECK_FALSE(wfi.get_if<arm::Wfx>()->has_timeout);
  auto regs = guest();
  arm::complete(regs, *wfi.get_if<arm::Wfx>());
  CHECK(regs.pc == kPc + 4);
}

TEST_CASE("WFIT and WFET with RV carry the timeout from register Rv") {
  auto wfit = decode(syn::wfx(0b10, true, 9));
  auto* event = wfit.get_if<arm::Wfx>();
  REQUIRE(event != nullptr);
  CHECK(event->kind == arm::WfxKind::Wfit);
  CHECK(event->waits_for_interrupt());
  CHECK(event->has_timeout);
  CHECK(event->timeout_register == 9);
  CHECK(event->timeout == guest().x[9]);
  auto wfet = decode(syn::wfx(0b11, true, 31));
  REQUIRE(wfet.get_if<arm::Wfx>() != nullptr);
  CHECK(wfet.get_if<arm::Wfx>()->kind == arm::WfxKind::Wfet);
  CHECK(wfet.get_if<arm::Wfx>()->timeout == 0);  // XZR
}

TEST_CASE("WFxT without RV has no known timeout, and RV is ignored for WFI") {
  auto wfit = decode(syn::wfx(0b10, false, 9));
  REQUIRE(wfit.get_if<arm::Wfx>() != nullptr);
  CHECK_FALSE(wfit.get_if<arm::Wfx>()->has_timeout);
  auto wfi = decode(syn::wfx(0b00, true, 9));
  REQUIRE(wfi.get_if<arm::Wfx>() != nullptr);
  CHECK_FALSE(wfi.get_if<arm::Wfx>()->has_timeout);
}

// A64 has no 16-bit instructions (Arm ARM C1.1): a WFI from AArch64 moves the PC by 4 even
// in a syndrome whose IL says 16 bits, which no CPU reports from AArch64 state.
TEST_CASE("a WFI from AArch64 completes with the PC moved by 4, whatever IL says") {
  for (const bool il : {true, false}) {
    auto event = decode(syn::wfx(0b00, false, 0, il));
    auto regs = guest();
    REQUIRE(event.get_if<arm::Wfx>() != nullptr);
    arm::complete(regs, *event.get_if<arm::Wfx>());
    CHECK(regs.pc == kPc + 4);
  }
}

TEST_CASE("FP/SIMD (EC 0x07), SVE (EC 0x19) and SME (EC 0x1D) access traps name their unit") {
  auto fp = decode(syn::esr(0x07, true, 0));
  auto sve = decode(syn::esr(0x19, true, 0));
  REQUIRE(fp.get_if<arm::FpAccessTrap>() != nullptr);
  REQUIRE(sve.get_if<arm::FpAccessTrap>() != nullptr);
  CHECK(fp.get_if<arm::FpAccessTrap>()->unit == arm::FpUnit::FpSimd);
  CHECK(sve.get_if<arm::FpAccessTrap>()->unit == arm::FpUnit::Sve);
  // SME: SMTC in ISS[2:0] (Arm ARM, ESR_EL2, "ISS encoding for an exception due to SME
  // functionality").
  const arm::SmeTrapCode codes[] = {arm::SmeTrapCode::SmeDisabled, arm::SmeTrapCode::IllegalInStreamingMode,
                                    arm::SmeTrapCode::StreamingModeDisabled, arm::SmeTrapCode::ZaDisabled,
                                    arm::SmeTrapCode::Zt0Disabled};
  for (unsigned smtc = 0; smtc < 5; ++smtc) {
    auto sme = decode(syn::esr(0x1d, true, smtc));
    REQUIRE(sme.get_if<arm::FpAccessTrap>() != nullptr);
    CHECK(sme.get_if<arm::FpAccessTrap>()->unit == arm::FpUnit::Sme);
    CHECK(sme.get_if<arm::FpAccessTrap>()->sme == codes[smtc]);
  }
  CHECK(decode(syn::esr(0x1d, true, 5)).is<arm::Unhandled>());  // reserved SMTC
}

TEST_CASE("a trapped pointer authentication instruction (EC 0x09) becomes PointerAuthTrap") {
  auto event = decode(syn::esr(0x09, true, 0));
  REQUIRE(event.get_if<arm::PointerAuthTrap>() != nullptr);
  CHECK(event.get_if<arm::PointerAuthTrap>()->pc == kPc);
}

TEST_CASE("illegal execution state (EC 0x0E) reports the PC and PSTATE") {
  auto event = decode(syn::esr(0x0e, true, 0));
  REQUIRE(event.get_if<arm::IllegalExecutionState>() != nullptr);
  CHECK(event.get_if<arm::IllegalExecutionState>()->pc == kPc);
  CHECK(event.get_if<arm::IllegalExecutionState>()->pstate == 0x3c5);
}

TEST_CASE("the unknown class (EC 0x00) becomes UnknownReason with the instruction length") {
  auto event = decode(syn::esr(0x00, true, 0));
  REQUIRE(event.get_if<arm::UnknownReason>() != nullptr);
  CHECK(event.get_if<arm::UnknownReason>()->pc == kPc);
  CHECK(event.get_if<arm::UnknownReason>()->instruction_length == 4);
}

TEST_CASE("HVC, SMC and every other AArch32 class become UnsupportedAArch32") {
  for (unsigned ec : {0x03u, 0x04u, 0x05u, 0x06u, 0x08u, 0x0cu, 0x11u, 0x12u, 0x13u, 0x28u, 0x38u, 0x3au}) {
    CAPTURE(ec);
    const std::uint64_t esr = syn::esr(ec, true, 0x1234);
    auto event = decode(esr);
    auto* aarch32 = event.get_if<arm::UnsupportedAArch32>();
    REQUIRE(aarch32 != nullptr);
    CHECK(static_cast<unsigned>(aarch32->ec) == ec);
    CHECK(aarch32->esr == esr);
    CHECK(aarch32->pc == kPc);
  }
}

TEST_CASE("any trap taken from AArch32 state (SPSR_EL2.M[4] = 1) is UnsupportedAArch32") {
  auto regs = guest();
  regs.pstate = 0x10;  // AArch32 User mode
  auto event = arm::decode({syn::wfx(0b00), 0, 0}, regs);
  CHECK(event.is<arm::UnsupportedAArch32>());
}

TEST_CASE("a PC alignment fault (EC 0x22) reports the misaligned address from FAR_EL2") {
  auto event = decode(syn::esr(0x22, true, 0), 0x4020'0002);
  REQUIRE(event.get_if<arm::PcAlignmentFault>() != nullptr);
  CHECK(event.get_if<arm::PcAlignmentFault>()->address == 0x4020'0002);
}

TEST_CASE("an SP alignment fault (EC 0x26) reports the PC") {
  auto event = decode(syn::esr(0x26, true, 0));
  REQUIRE(event.get_if<arm::SpAlignmentFault>() != nullptr);
  CHECK(event.get_if<arm::SpAlignmentFault>()->pc == kPc);
}

TEST_CASE("an instruction fetch from an unmapped page is an InstructionAbort with IPA and VA") {
  auto event = decode(syn::instruction_abort({.ifsc = 0b000111}), 0xffff'8000'0010'0abcull,
                      syn::hpfar_for(0x4030'0000));
  auto* abort = event.get_if<arm::InstructionAbort>();
  REQUIRE(abort != nullptr);
  CHECK(abort->fault.kind() == arm::FaultKind::Translation);
  CHECK(abort->fault.level() == 3);
  CHECK(abort->address.ipa == 0x4030'0abc);
  CHECK(abort->address.page_offset_known);
  CHECK(abort->address.va == 0xffff'8000'0010'0abcull);
  CHECK_FALSE(abort->s1ptw);
  CHECK(abort->reply == arm::Reply::None);
  abort->retry();
  CHECK(abort->reply == arm::Reply::Retry);
}

TEST_CASE("an instruction abort on the stage 1 walk, a permission fault and an external abort") {
  auto walk =
      decode(syn::instruction_abort({.s1ptw = true, .ifsc = 0b000110}), 0x1000, syn::hpfar_for(0x5000'0000));
  REQUIRE(walk.get_if<arm::InstructionAbort>() != nullptr);
  CHECK(walk.get_if<arm::InstructionAbort>()->s1ptw);
  CHECK(walk.get_if<arm::InstructionAbort>()->address.ipa == 0x5000'0000);
  CHECK_FALSE(walk.get_if<arm::InstructionAbort>()->address.page_offset_known);

  auto execute_never =
      decode(syn::instruction_abort({.ifsc = 0b001111}), 0x1000, syn::hpfar_for(0x5000'0000));
  REQUIRE(execute_never.get_if<arm::InstructionAbort>() != nullptr);
  CHECK(execute_never.get_if<arm::InstructionAbort>()->fault.kind() == arm::FaultKind::Permission);
  CHECK_FALSE(execute_never.get_if<arm::InstructionAbort>()->address.ipa_known);

  auto external = decode(syn::instruction_abort({.fnv = true, .ea = true, .ifsc = 0b010000}), 0x1000);
  REQUIRE(external.get_if<arm::InstructionAbort>() != nullptr);
  CHECK(external.get_if<arm::InstructionAbort>()->external);
  CHECK_FALSE(external.get_if<arm::InstructionAbort>()->address.va_known);
}

TEST_CASE("an SError (EC 0x2F) reports IDS, DFSC and the error state") {
  // Arm ARM, ESR_EL2, "ISS encoding for an SError exception": IDS [24], AET [12:10], DFSC [5:0].
  auto uncategorized = decode(syn::esr(0x2f, true, 0));
  REQUIRE(uncategorized.get_if<arm::SystemError>() != nullptr);
  CHECK(uncategorized.get_if<arm::SystemError>()->uncategorized);
  CHECK_FALSE(uncategorized.get_if<arm::SystemError>()->has_error_state);

  auto restartable = decode(syn::esr(0x2f, true, (0b010u << 10) | 0b010001));
  REQUIRE(restartable.get_if<arm::SystemError>() != nullptr);
  CHECK_FALSE(restartable.get_if<arm::SystemError>()->uncategorized);
  CHECK(restartable.get_if<arm::SystemError>()->has_error_state);
  CHECK(restartable.get_if<arm::SystemError>()->error_state == arm::ErrorState::Restartable);

  auto reserved_aet = decode(syn::esr(0x2f, true, (0b100u << 10) | 0b010001));
  REQUIRE(reserved_aet.get_if<arm::SystemError>() != nullptr);
  CHECK_FALSE(reserved_aet.get_if<arm::SystemError>()->has_error_state);

  auto impdef = decode(syn::esr(0x2f, true, (1u << 24) | 0xabcd));
  REQUIRE(impdef.get_if<arm::SystemError>() != nullptr);
  CHECK(impdef.get_if<arm::SystemError>()->implementation_defined);
  CHECK(impdef.get_if<arm::SystemError>()->iss == ((1u << 24) | 0xabcd));
}

TEST_CASE("debug exceptions from the guest: breakpoint, software step, watchpoint, BRK") {
  auto breakpoint = decode(syn::esr(0x30, true, 0b100010));
  REQUIRE(breakpoint.get_if<arm::Breakpoint>() != nullptr);
  CHECK(breakpoint.get_if<arm::Breakpoint>()->pc == kPc);

  // Software step: ISV [24], EX [6], IFSC 0b100010.
  auto step = decode(syn::esr(0x32, true, (1u << 24) | (1u << 6) | 0b100010));
  REQUIRE(step.get_if<arm::SoftwareStep>() != nullptr);
  CHECK(step.get_if<arm::SoftwareStep>()->syndrome_valid);
  CHECK(step.get_if<arm::SoftwareStep>()->load_exclusive);
  auto step_no_syndrome = decode(syn::esr(0x32, true, (1u << 6) | 0b100010));
  REQUIRE(step_no_syndrome.get_if<arm::SoftwareStep>() != nullptr);
  CHECK_FALSE(step_no_syndrome.get_if<arm::SoftwareStep>()->load_exclusive);

  // Watchpoint: CM [8], WnR [6], DFSC 0b100010; FAR_EL2 holds the address.
  auto watchpoint = decode(syn::esr(0x34, true, (1u << 6) | 0b100010), 0x4800'0008);
  REQUIRE(watchpoint.get_if<arm::Watchpoint>() != nullptr);
  CHECK(watchpoint.get_if<arm::Watchpoint>()->address == 0x4800'0008);
  CHECK(watchpoint.get_if<arm::Watchpoint>()->write);
  CHECK_FALSE(watchpoint.get_if<arm::Watchpoint>()->cache_maintenance);

  // BRK: Comment [15:0].
  auto brk = decode(syn::esr(0x3c, true, 0xf000));
  REQUIRE(brk.get_if<arm::BrkInstruction>() != nullptr);
  CHECK(brk.get_if<arm::BrkInstruction>()->comment == 0xf000);
  CHECK(brk.get_if<arm::BrkInstruction>()->pc == kPc);
}

TEST_CASE("same-EL classes, SVC64, ERET and unallocated classes are Unhandled with the raw syndrome") {
  for (unsigned ec : {0x02u, 0x0au, 0x0du, 0x15u, 0x1au, 0x1bu, 0x21u, 0x25u, 0x27u, 0x2cu, 0x31u, 0x33u,
                      0x35u, 0x3du, 0x3fu}) {
    CAPTURE(ec);
    const std::uint64_t esr = syn::esr(ec, true, 0x42) | (0x77ull << 32);
    auto event = decode(esr, 0x99, 0x88);
    auto* unhandled = event.get_if<arm::Unhandled>();
    REQUIRE(unhandled != nullptr);
    CHECK(unhandled->esr == esr);
    CHECK(unhandled->far == 0x99);
    CHECK(unhandled->hpfar == 0x88);
    CHECK(unhandled->pc == kPc);
  }
}

TEST_CASE("all 64 exception classes decode without trouble") {
  for (unsigned ec = 0; ec < 64; ++ec) {
    for (std::uint32_t iss : {0u, 0x1ffffffu, 0x0aaaaaau, 0x1555555u}) {
      auto event = decode(syn::esr(ec, true, iss), 0x1234, 0x5678);
      CHECK(event.index() < 23);
    }
  }
}
