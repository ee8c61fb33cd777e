#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>

#include "syndromes.h"

import arm.trap;

#include "finish.h"

// Data Aborts from a lower Exception level (EC 0x24), built from the Arm ARM's "ISS
// encoding for an exception from a Data Abort" (see syndromes.h), decoded into MMIO
// accesses, undecoded aborts and guest memory faults, and completed.

namespace {
constexpr unsigned kTranslationL3 = 0b000111;
constexpr unsigned kAccessFlagL3 = 0b001011;
constexpr unsigned kPermissionL3 = 0b001111;
constexpr unsigned kSyncExternal = 0b010000;
constexpr unsigned kAlignment = 0b100001;
// A device at IPA 0x0900'0000 (HPFAR_EL2 = IPA[55:12] << 4) that the guest maps at VA
// 0xffff'0000'0800'0000; the access is at offset 0x10.
constexpr std::uint64_t kDeviceHpfar = syn::hpfar_for(0x0900'0000);
constexpr std::uint64_t kFar = 0xffff'0000'0800'0010ull;

constexpr std::uint64_t kPc = 0x4008'0000;

arm::GuestRegisters guest() {
  arm::GuestRegisters regs;
  for (unsigned n = 0; n < 31; ++n) regs.x[n] = 0x4444'4444'4444'4400ull + n;
  regs.pc = kPc;
  regs.pstate = 0x3c5;  // EL1h, DAIF masked
  return regs;
}

arm::TrapEvent decode(std::uint64_t esr, const arm::GuestRegisters& regs, std::uint64_t far = kFar,
                      std::uint64_t hpfar = kDeviceHpfar) {
  return arm::decode(arm::Syndrome{esr, far, hpfar}, regs);
}

// Completes a load of `data` into a copy of `regs` and returns the copy.
arm::GuestRegisters load(const syn::DataAbort& fields, std::uint64_t data) {
  arm::GuestRegisters regs = guest();
  auto event = decode(syn::data_abort(fields), regs);
  auto* read = event.get_if<arm::MmioRead>();
  REQUIRE(read != nullptr);
  read->complete(data);
  arm::complete(regs, *read);
  return regs;
}
}  // namespace

TEST_CASE("LDR x3 from an unmapped device page becomes an MmioRead of 8 bytes at IPA + FAR[11:0]") {
  const auto regs = guest();
  auto event =
      decode(syn::data_abort({.isv = true, .sas = 3, .srt = 3, .sf = true, .dfsc = kTranslationL3}), regs);
  auto* read = event.get_if<arm::MmioRead>();
  REQUIRE(read != nullptr);
  CHECK(read->address == 0x0900'0010);
  CHECK(read->far == kFar);
  CHECK(read->size == 8);
  CHECK(read->rt == 3);
  CHECK(read->sixty_four);
  CHECK_FALSE(read->sign_extend);
  CHECK_FALSE(read->acquire);
  CHECK(read->instruction_length == 4);
  CHECK(read->reply == arm::Reply::None);
}

TEST_CASE("an answered MmioRead writes Rt and moves the PC past the load; nothing else changes") {
  const auto regs =
      load({.isv = true, .sas = 3, .srt = 3, .sf = true, .dfsc = kTranslationL3}, 0x1122'3344'5566'7788);
  const auto before = guest();
  CHECK(regs.x[3] == 0x1122'3344'5566'7788);
  for (unsigned n = 0; n < 31; ++n)
    if (n != 3) CHECK(regs.x[n] == before.x[n]);
  CHECK(regs.pc == kPc + 4);
  CHECK(regs.pstate == before.pstate);
}

TEST_CASE("an unanswered MmioRead writes no register and becomes an external abort at the load") {
  auto regs = guest();
  auto event = decode(syn::data_abort({.isv = true, .sas = 2, .srt = 7, .dfsc = kTranslationL3}), regs);
  auto* read = event.get_if<arm::MmioRead>();
  REQUIRE(read != nullptr);
  const Finished finished = finish(regs, *read);
  CHECK(regs.x[7] == guest().x[7]);
  CHECK(finished.injections == 1);
  CHECK(finished.el1.elr == kPc);
  CHECK(finished.el1.far == kFar);
}

TEST_CASE("LDRSB into a W register sign-extends to 32 bits and zero-extends into X") {
  // SAS 0b00 (byte), SSE 1, SF 0 (Wt).
  CHECK(
      load({.isv = true, .sas = 0, .sse = true, .srt = 0, .sf = false, .dfsc = kTranslationL3}, 0x80).x[0] ==
      0x0000'0000'ffff'ff80ull);
  CHECK(
      load({.isv = true, .sas = 0, .sse = true, .srt = 0, .sf = false, .dfsc = kTranslationL3}, 0x7f).x[0] ==
      0x7f);
}

TEST_CASE("LDRSB into an X register sign-extends to 64 bits") {
  CHECK(load({.isv = true, .sas = 0, .sse = true, .srt = 0, .sf = true, .dfsc = kTranslationL3}, 0x80).x[0] ==
        0xffff'ffff'ffff'ff80ull);
}

TEST_CASE("LDRB zero-extends and drops whatever the device returned above the byte") {
  CHECK(load({.isv = true, .sas = 0, .srt = 1, .dfsc = kTranslationL3}, 0xffff'ff80).x[1] == 0x80);
}

TEST_CASE("LDRSH and LDRH: halfword with and without sign extension") {
  CHECK(load({.isv = true, .sas = 1, .sse = true, .srt = 2, .sf = false, .dfsc = kTranslationL3}, 0x8001)
            .x[2] == 0xffff'8001ull);
  CHECK(
      load({.isv = true, .sas = 1, .sse = true, .srt = 2, .sf = true, .dfsc = kTranslationL3}, 0x8001).x[2] ==
      0xffff'ffff'ffff'8001ull);
  CHECK(load({.isv = true, .sas = 1, .srt = 2, .dfsc = kTranslationL3}, 0x1'8001).x[2] == 0x8001);
}

TEST_CASE("LDRSW sign-extends a word into X; LDR W clears the upper half of X") {
  CHECK(load({.isv = true, .sas = 2, .sse = true, .srt = 4, .sf = true, .dfsc = kTranslationL3}, 0x8000'0000)
            .x[4] == 0xffff'ffff'8000'0000ull);
  CHECK(load({.isv = true, .sas = 2, .srt = 4, .sf = false, .dfsc = kTranslationL3}, 0xffff'ffff'8000'0000ull)
            .x[4] == 0x8000'0000ull);
}

TEST_CASE("a load into XZR (Rt = 31) completes without writing any register") {
  const auto regs = load({.isv = true, .sas = 3, .srt = 31, .sf = true, .dfsc = kTranslationL3}, 0xdead'beef);
  const auto before = guest();
  for (unsigned n = 0; n < 31; ++n) CHECK(regs.x[n] == before.x[n]);
  CHECK(regs.pc == kPc + 4);
}

// Every A64 instruction is 32 bits (Arm ARM C1.1): the decoder does not read IL, which a CPU
// sets for every trap from AArch64 state anyway.
TEST_CASE("a load from AArch64 moves the PC by 4, whatever IL says") {
  CHECK(load({.isv = true, .sas = 2, .srt = 1, .dfsc = kTranslationL3, .il = false}, 1).pc == kPc + 4);
  CHECK(load({.isv = true, .sas = 2, .srt = 1, .dfsc = kTranslationL3, .il = true}, 1).pc == kPc + 4);
}

TEST_CASE("a load-acquire reports AR") {
  auto regs = guest();
  auto event =
      decode(syn::data_abort({.isv = true, .sas = 2, .srt = 1, .ar = true, .dfsc = kTranslationL3}), regs);
  REQUIRE(event.get_if<arm::MmioRead>() != nullptr);
  CHECK(event.get_if<arm::MmioRead>()->acquire);
}

TEST_CASE("STR w5 becomes an MmioWrite of the low 32 bits of x5") {
  auto regs = guest();
  regs.x[5] = 0xaaaa'bbbb'cccc'ddddull;
  auto event =
      decode(syn::data_abort({.isv = true, .sas = 2, .srt = 5, .wnr = true, .dfsc = kTranslationL3}), regs);
  auto* write = event.get_if<arm::MmioWrite>();
  REQUIRE(write != nullptr);
  CHECK(write->address == 0x0900'0010);
  CHECK(write->size == 4);
  CHECK(write->rt == 5);
  CHECK(write->value == 0xcccc'ddddull);
  CHECK_FALSE(write->release);
  CHECK(finish(regs, *write).injections == 0);  // emulated by default
  CHECK(regs.pc == kPc + 4);
  CHECK(regs.x[5] == 0xaaaa'bbbb'cccc'ddddull);
}

TEST_CASE("STRB and STRH store only their byte and halfword") {
  auto regs = guest();
  regs.x[9] = 0x1234'5678'9abc'def0ull;
  auto byte =
      decode(syn::data_abort({.isv = true, .sas = 0, .srt = 9, .wnr = true, .dfsc = kTranslationL3}), regs);
  auto half =
      decode(syn::data_abort({.isv = true, .sas = 1, .srt = 9, .wnr = true, .dfsc = kTranslationL3}), regs);
  auto dword = decode(
      syn::data_abort(
          {.isv = true, .sas = 3, .srt = 9, .sf = true, .ar = true, .wnr = true, .dfsc = kTranslationL3}),
      regs);
  REQUIRE(byte.get_if<arm::MmioWrite>() != nullptr);
  REQUIRE(half.get_if<arm::MmioWrite>() != nullptr);
  REQUIRE(dword.get_if<arm::MmioWrite>() != nullptr);
  CHECK(byte.get_if<arm::MmioWrite>()->value == 0xf0);
  CHECK(half.get_if<arm::MmioWrite>()->value == 0xdef0);
  CHECK(dword.get_if<arm::MmioWrite>()->value == 0x1234'5678'9abc'def0ull);
  CHECK(dword.get_if<arm::MmioWrite>()->release);
}

TEST_CASE("a store of XZR (Rt = 31) writes zero") {
  auto regs = guest();
  auto event = decode(
      syn::data_abort({.isv = true, .sas = 3, .srt = 31, .sf = true, .wnr = true, .dfsc = kTranslationL3}),
      regs);
  REQUIRE(event.get_if<arm::MmioWrite>() != nullptr);
  CHECK(event.get_if<arm::MmioWrite>()->value == 0);
  CHECK(event.get_if<arm::MmioWrite>()->rt == 31);
}

TEST_CASE("a rejected MmioWrite becomes an external abort at the store") {
  auto regs = guest();
  auto event =
      decode(syn::data_abort({.isv = true, .sas = 2, .srt = 5, .wnr = true, .dfsc = kTranslationL3}), regs);
  auto* write = event.get_if<arm::MmioWrite>();
  REQUIRE(write != nullptr);
  write->reject();
  const Finished finished = finish(regs, *write);
  CHECK(finished.injections == 1);
  CHECK(finished.el1.elr == kPc);
}

TEST_CASE("translation and access flag faults at every level with ISV become MMIO accesses") {
  for (unsigned dfsc : {0b000100u, 0b000101u, 0b000110u, 0b000111u, 0b101011u, 0b001000u, 0b001001u,
                        0b001010u, kAccessFlagL3}) {
    CAPTURE(dfsc);
    auto event = decode(syn::data_abort({.isv = true, .sas = 2, .srt = 1, .dfsc = dfsc}), guest());
    REQUIRE(event.get_if<arm::MmioRead>() != nullptr);
    CHECK(event.get_if<arm::MmioRead>()->address == 0x0900'0010);
  }
}

TEST_CASE(
    "without an instruction syndrome (ISV = 0: LDP, writeback) the abort stays undecoded with IPA and FAR") {
  auto regs = guest();
  auto event = decode(syn::data_abort({.isv = false, .wnr = true, .dfsc = 0b000110}), regs);
  auto* abort = event.get_if<arm::UndecodedDataAbort>();
  REQUIRE(abort != nullptr);
  CHECK_FALSE(abort->syndrome_valid);
  CHECK(abort->write);
  CHECK(abort->address.ipa_known);
  CHECK(abort->address.page_offset_known);
  CHECK(abort->address.ipa == 0x0900'0010);
  CHECK(abort->address.va == kFar);
  CHECK(abort->fault.kind() == arm::FaultKind::Translation);
  CHECK(abort->fault.level() == 2);
  CHECK(abort->instruction_length == 4);
  CHECK(abort->reply == arm::Reply::None);
}

TEST_CASE("an undecoded abort moves the PC only when the hypervisor emulated it") {
  auto event = decode(syn::data_abort({.isv = false, .dfsc = kTranslationL3}), guest());
  auto* abort = event.get_if<arm::UndecodedDataAbort>();
  REQUIRE(abort != nullptr);
  auto regs = guest();
  const Finished unresolved = finish(regs, *abort);
  CHECK(unresolved.injections == 1);  // an external abort at the instruction
  CHECK(unresolved.el1.elr == kPc);
  regs = guest();
  abort->retry();
  CHECK(finish(regs, *abort).injections == 0);
  CHECK(regs.pc == kPc);
  abort->complete();
  CHECK(finish(regs, *abort).injections == 0);
  CHECK(regs.pc == kPc + 4);
}

TEST_CASE("a stage 2 permission fault keeps its level and reports the IPA as unknown") {
  for (int level = 0; level <= 3; ++level) {
    CAPTURE(level);
    auto event = decode(
        syn::data_abort(
            {.isv = true, .sas = 2, .srt = 1, .wnr = true, .dfsc = 0b001100u + static_cast<unsigned>(level)}),
        guest());
    auto* abort = event.get_if<arm::UndecodedDataAbort>();
    REQUIRE(abort != nullptr);
    CHECK(abort->fault.kind() == arm::FaultKind::Permission);
    CHECK(abort->fault.level() == level);
    CHECK_FALSE(abort->address.ipa_known);
    CHECK(abort->address.va == kFar);
    CHECK(abort->syndrome_valid);
  }
}

TEST_CASE(
    "once the hypervisor has the IPA of a permission fault, mmio_access builds the access from the "
    "syndrome") {
  auto regs = guest();
  regs.x[1] = 0xfeed'beef;
  auto event =
      decode(syn::data_abort({.isv = true, .sas = 2, .srt = 1, .wnr = true, .dfsc = kPermissionL3}), regs);
  auto* abort = event.get_if<arm::UndecodedDataAbort>();
  REQUIRE(abort != nullptr);
  // The IPA the hypervisor found by translating the VA (AT S1E1W), say 0x0a00'0010.
  auto access = arm::mmio_access(abort->syndrome, 0x0a00'0010, abort->address.va, regs);
  auto* write = access.get_if<arm::MmioWrite>();
  REQUIRE(write != nullptr);
  CHECK(write->address == 0x0a00'0010);
  CHECK(write->value == 0xfeed'beef);
  CHECK(write->size == 4);
}

TEST_CASE("cache maintenance (CM = 1) on a device address is not an MMIO access") {
  auto event =
      decode(syn::data_abort({.isv = true, .cm = true, .wnr = true, .dfsc = kTranslationL3}), guest());
  auto* abort = event.get_if<arm::UndecodedDataAbort>();
  REQUIRE(abort != nullptr);
  CHECK(abort->cache_maintenance);
}

TEST_CASE("a fault on the VNCR_EL2 page (VNCR = 1) is not an MMIO access") {
  auto event = decode(
      syn::data_abort({.isv = true, .sas = 3, .srt = 2, .sf = true, .vncr = true, .dfsc = kTranslationL3}),
      guest());
  REQUIRE(event.get_if<arm::UndecodedDataAbort>() != nullptr);
  CHECK(event.get_if<arm::UndecodedDataAbort>()->vncr);
}

TEST_CASE("a stage 2 fault on the guest's stage 1 table walk (S1PTW) is a GuestMemoryFault, never MMIO") {
  // The walk reads the guest's page tables at IPA 0x4001'2000, an unmapped page.
  auto event =
      decode(syn::data_abort({.isv = true, .sas = 3, .srt = 2, .sf = true, .s1ptw = true, .dfsc = 0b000101}),
             guest(), kFar, syn::hpfar_for(0x4001'2000));
  auto* fault = event.get_if<arm::GuestMemoryFault>();
  REQUIRE(fault != nullptr);
  CHECK(fault->s1ptw);
  CHECK(fault->fault.kind() == arm::FaultKind::Translation);
  CHECK(fault->fault.level() == 1);
  CHECK(fault->address.ipa_known);
  CHECK(fault->address.ipa == 0x4001'2000);
  CHECK_FALSE(fault->address.page_offset_known);
  CHECK(fault->address.va == kFar);
}

TEST_CASE("a permission fault on the stage 1 walk has a known IPA") {
  auto event = decode(syn::data_abort({.s1ptw = true, .wnr = true, .dfsc = kPermissionL3}), guest(), kFar,
                      syn::hpfar_for(0x4001'2000));
  auto* fault = event.get_if<arm::GuestMemoryFault>();
  REQUIRE(fault != nullptr);
  CHECK(fault->address.ipa_known);
  CHECK(fault->address.ipa == 0x4001'2000);
  CHECK(fault->write);
}

TEST_CASE("a synchronous external abort with FnV set reports neither VA nor IPA") {
  auto event =
      decode(syn::data_abort({.fnv = true, .ea = true, .dfsc = kSyncExternal}), guest(), 0xdead'beef);
  auto* fault = event.get_if<arm::GuestMemoryFault>();
  REQUIRE(fault != nullptr);
  CHECK(fault->fault.kind() == arm::FaultKind::SyncExternal);
  CHECK(fault->external);
  CHECK_FALSE(fault->address.va_known);
  CHECK(fault->address.va == 0);
  CHECK_FALSE(fault->address.ipa_known);
  CHECK(fault->reply == arm::Reply::None);
  fault->retry();
  CHECK(fault->reply == arm::Reply::Retry);
}

TEST_CASE("alignment faults, TLB conflicts, address size faults and ECC errors are GuestMemoryFaults") {
  for (unsigned dfsc : {kAlignment, 0b110000u, 0b000011u, 0b011000u, 0b011101u, 0b010101u, 0b110101u}) {
    CAPTURE(dfsc);
    auto event = decode(syn::data_abort({.isv = true, .sas = 2, .srt = 1, .dfsc = dfsc}), guest());
    CHECK(event.is<arm::GuestMemoryFault>());
  }
}

TEST_CASE("a Data Abort with a reserved fault status code is Unhandled") {
  const std::uint64_t esr = syn::data_abort({.isv = true, .dfsc = 0b111111});
  auto event = decode(esr, guest());
  REQUIRE(event.get_if<arm::Unhandled>() != nullptr);
  CHECK(event.get_if<arm::Unhandled>()->esr == esr);
}

TEST_CASE("extend_loaded_value follows SAS, SSE and SF") {
  CHECK(arm::extend_loaded_value(0xff, 1, true, false) == 0xffff'ffffull);
  CHECK(arm::extend_loaded_value(0xff, 1, true, true) == ~0ull);
  CHECK(arm::extend_loaded_value(0xff, 1, false, true) == 0xff);
  CHECK(arm::extend_loaded_value(0x8000'0000'0000'0000ull, 8, true, true) == 0x8000'0000'0000'0000ull);
  CHECK(arm::extend_loaded_value(0x1234'5678'9abc'def0ull, 8, false, false) == 0x9abc'def0ull);
  CHECK(arm::truncate_to_size(0x1234'5678'9abc'def0ull, 2) == 0xdef0);
  // A zero-extending load keeps only its access's bytes, whatever the hypervisor's value
  // holds above them, into a W or an X register.
  for (const bool sixty_four : {false, true}) {
    CHECK(arm::extend_loaded_value(0xdead'beef'8765'4321ull, 1, false, sixty_four) == 0x21);
    CHECK(arm::extend_loaded_value(0xdead'beef'8765'4321ull, 2, false, sixty_four) == 0x4321);
    CHECK(arm::extend_loaded_value(0xdead'beef'8765'4321ull, 4, false, sixty_four) == 0x8765'4321ull);
  }
  CHECK(arm::extend_loaded_value(0xdead'beef'8765'4321ull, 8, false, true) == 0xdead'beef'8765'4321ull);
  CHECK(arm::extend_loaded_value(0x8765'4321ull, 4, true, true) == 0xffff'ffff'8765'4321ull);
}
