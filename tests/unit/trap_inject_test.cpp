#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>

#include "syndromes.h"

import arm.trap;

// Exception injection into the guest's EL1 (Arm ARM D1.10, "Exception entry" and
// "Exception vectors"). PSTATE/SPSR values: M[3:0] [3:0] (0b0000 EL0t, 0b0100 EL1t,
// 0b0101 EL1h), M[4] AArch32, F [6], I [7], A [8], D [9], BTYPE [11:10], SSBS [12], IL
// [20], SS [21], PAN [22], UAO [23], DIT [24], N Z C V [31:28].

namespace {
constexpr std::uint64_t kVbar = 0xffff'8000'1001'0800ull;
constexpr std::uint64_t kPc = 0xffff'8000'1234'5678ull;
constexpr std::uint64_t kEl1h = 0b0101;
constexpr std::uint64_t kEl1t = 0b0100;
constexpr std::uint64_t kDaif = 0xfull << 6;
constexpr std::uint64_t kPan = 1ull << 22;
constexpr std::uint64_t kSpan = 1ull << 23;  // SCTLR_EL1.SPAN

arm::GuestRegisters at(std::uint64_t pstate) {
  arm::GuestRegisters regs;
  for (unsigned n = 0; n < 31; ++n) regs.x[n] = n;
  regs.pc = kPc;
  regs.pstate = pstate;
  return regs;
}

arm::El1ExceptionState el1(std::uint64_t sctlr = kSpan) {
  arm::El1ExceptionState state;
  state.vbar = kVbar;
  state.sctlr = sctlr;
  state.far = 0xfa4;
  return state;
}

unsigned ec_of(std::uint64_t esr) { return static_cast<unsigned>((esr >> 26) & 0x3f); }
}  // namespace

TEST_CASE("an UNDEF from EL1h: ESR_EL1 EC 0 with IL 1, ELR_EL1 = PC, SPSR_EL1 = PSTATE, vector +0x200") {
  const std::uint64_t pstate = (0b0110ull << 28) | kEl1h;  // Z and C set, interrupts unmasked
  auto regs = at(pstate);
  auto state = el1();
  arm::inject_undefined_instruction(regs, state);
  CHECK(state.esr == syn::esr(0x00, true, 0));
  CHECK(state.elr == kPc);
  CHECK(state.spsr == pstate);
  CHECK(state.far == 0xfa4);  // UNKNOWN for EC 0: left as it was
  CHECK(regs.pc == kVbar + 0x200);
  CHECK(regs.pstate == ((0b0110ull << 28) | kDaif | kEl1h));
  for (unsigned n = 0; n < 31; ++n) CHECK(regs.x[n] == n);
}

TEST_CASE("the vector depends on where the exception comes from") {
  struct Case {
    std::uint64_t pstate;
    std::uint64_t offset;
  };
  for (const Case c : {Case{kEl1t, 0x000}, Case{kEl1h, 0x200}, Case{0b0000, 0x400}, Case{0b1'0000, 0x600}}) {
    CAPTURE(c.pstate);
    auto regs = at(c.pstate);
    auto state = el1();
    arm::inject_undefined_instruction(regs, state);
    CHECK(regs.pc == kVbar + c.offset);
    CHECK((regs.pstate & 0x1f) == kEl1h);
    CHECK((regs.pstate & kDaif) == kDaif);
  }
}

TEST_CASE("VBAR_EL1 bits [10:0] are RES0 and not added to the vector") {
  auto regs = at(kEl1h);
  auto state = el1();
  state.vbar = kVbar | 0x7ff;
  arm::inject_undefined_instruction(regs, state);
  CHECK(regs.pc == kVbar + 0x200);
}

TEST_CASE("a PSTATE claiming EL2 cannot come from a guest and enters EL1 as if from EL1h") {
  auto regs = at(0b1001);
  auto state = el1();
  arm::inject_data_abort(regs, state, 0x1000, false);
  CHECK(regs.pc == kVbar + 0x200);
  CHECK(ec_of(state.esr) == 0x25);
  CHECK((regs.pstate & 0xf) == kEl1h);
}

TEST_CASE("an external data abort from EL1: EC 0x25, IL 1, DFSC 0b010000, WnR, FAR_EL1 = VA") {
  auto regs = at(kEl1h);
  auto state = el1();
  arm::inject_data_abort(regs, state, 0xffff'0000'0800'0010ull, true);
  // ISS: WnR [6], DFSC [5:0] (Arm ARM, ESR_EL1, "ISS encoding for an exception from a Data Abort").
  CHECK(state.esr == syn::esr(0x25, true, (1u << 6) | 0b010000));
  CHECK(state.far == 0xffff'0000'0800'0010ull);
  CHECK(state.elr == kPc);
  CHECK(regs.pc == kVbar + 0x200);
}

TEST_CASE("an external data abort from EL0 is EC 0x24 at the lower-EL vector") {
  auto regs = at(0b0000);
  auto state = el1();
  arm::inject_data_abort(regs, state, 0x0000'ffff'0000'0010ull, false);
  CHECK(state.esr == syn::esr(0x24, true, 0b010000));
  CHECK(regs.pc == kVbar + 0x400);
}

TEST_CASE("a data abort without a known VA sets FnV and writes 0 to FAR_EL1") {
  auto regs = at(kEl1h);
  auto state = el1();
  arm::inject_data_abort(regs, state, 0xdead'beef, false, false);
  CHECK(state.esr == syn::esr(0x25, true, (1u << 10) | 0b010000));
  CHECK(state.far == 0);
}

TEST_CASE("an external instruction abort: EC 0x21 from EL1, 0x20 from EL0, IFSC 0b010000") {
  auto regs = at(kEl1h);
  auto state = el1();
  arm::inject_instruction_abort(regs, state, kPc);
  CHECK(state.esr == syn::esr(0x21, true, 0b010000));
  CHECK(state.far == kPc);
  CHECK(regs.pc == kVbar + 0x200);
  auto user = at(0b0000);
  auto user_state = el1();
  arm::inject_instruction_abort(user, user_state, 0x40'0000);
  CHECK(user_state.esr == syn::esr(0x20, true, 0b010000));
  CHECK(user.pc == kVbar + 0x400);
}

TEST_CASE("exception entry sets PAN when SCTLR_EL1.SPAN is 0 and keeps it otherwise") {
  auto regs = at(kEl1h);
  auto state = el1(0);
  arm::inject_undefined_instruction(regs, state);
  CHECK((regs.pstate & kPan) != 0);
  auto kept = at(kEl1h);
  auto kept_state = el1(kSpan);
  arm::inject_undefined_instruction(kept, kept_state);
  CHECK((kept.pstate & kPan) == 0);
  auto with_pan = at(kEl1h | kPan);
  auto with_pan_state = el1(kSpan);
  arm::inject_undefined_instruction(with_pan, with_pan_state);
  CHECK((with_pan.pstate & kPan) != 0);
}

TEST_CASE("exception entry clears SS, IL, BTYPE and UAO, keeps DIT, and takes SSBS from SCTLR_EL1.DSSBS") {
  const std::uint64_t ss = 1ull << 21, il = 1ull << 20, btype = 3ull << 10, uao = 1ull << 23,
                      dit = 1ull << 24, ssbs = 1ull << 12;
  auto regs = at(kEl1h | ss | il | btype | uao | dit | ssbs);
  auto state = el1(kSpan);
  arm::inject_undefined_instruction(regs, state);
  CHECK(regs.pstate == (dit | kDaif | kEl1h));
  auto with_dssbs = at(kEl1h);
  auto dssbs_state = el1(kSpan | (1ull << 44));
  arm::inject_undefined_instruction(with_dssbs, dssbs_state);
  CHECK((with_dssbs.pstate & ssbs) != 0);
}

TEST_CASE(
    "from AArch32 EL0 only N, Z, C, V, PAN and DIT (from bit 21) carry over; SPSR_EL1 keeps the AArch32 "
    "form") {
  const std::uint64_t aarch32_user =
      (0xfull << 28) | (1ull << 21) | (1ull << 5) | 0b1'0000;  // NZCV, DIT, T, usr
  auto regs = at(aarch32_user);
  auto state = el1(kSpan);
  arm::inject_data_abort(regs, state, 0x8000, true);
  CHECK(state.spsr == aarch32_user);
  CHECK(ec_of(state.esr) == 0x24);
  CHECK(regs.pc == kVbar + 0x600);
  CHECK(regs.pstate == ((0xfull << 28) | (1ull << 24) | kDaif | kEl1h));
}

TEST_CASE("inject_abort turns an unanswered or rejected event into the matching abort") {
  arm::MmioRead read;
  read.far = 0x1000;
  auto regs = at(kEl1h);
  auto state = el1();
  arm::inject_abort(regs, state, read);
  CHECK(state.esr == syn::esr(0x25, true, 0b010000));
  CHECK(state.far == 0x1000);

  arm::MmioWrite write;
  write.far = 0x2000;
  regs = at(kEl1h);
  arm::inject_abort(regs, state, write);
  CHECK(state.esr == syn::esr(0x25, true, (1u << 6) | 0b010000));
  CHECK(state.far == 0x2000);

  arm::GuestMemoryFault fault;
  fault.address.va_known = false;
  regs = at(kEl1h);
  arm::inject_abort(regs, state, fault);
  CHECK(state.esr == syn::esr(0x25, true, (1u << 10) | 0b010000));

  arm::InstructionAbort fetch;
  fetch.address.va = kPc;
  fetch.address.va_known = true;
  regs = at(kEl1h);
  arm::inject_abort(regs, state, fetch);
  CHECK(state.esr == syn::esr(0x21, true, 0b010000));
  CHECK(state.far == kPc);
}
