#include <doctest/doctest.h>

#include <cstdint>

import arm.trap;

#include "finish.h"

using arm::ExceptionClass;

TEST_CASE("ESR_EL2 fields: EC [31:26], IL [25], ISS [24:0], ISS2 [55:32]") {
  const arm::Esr esr{(0x16ull << 26) | (1ull << 25) | 0x42 | (0xabcdefull << 32)};
  CHECK(esr.ec() == ExceptionClass::Hvc64);
  CHECK(esr.il());
  CHECK(esr.iss() == 0x42);
  CHECK(esr.iss2() == 0xabcdef);
  CHECK(esr.instruction_length() == 4);
  CHECK(arm::Esr::make(ExceptionClass::Hvc64, true, 0x42).value() == ((0x16ull << 26) | (1ull << 25) | 0x42));
}

TEST_CASE("HVC from AArch64 decodes into a Hypercall with the immediate and x0..x6") {
  arm::GuestRegisters regs;
  for (unsigned n = 0; n < 31; ++n) regs.x[n] = 0x1000 + n;
  // ISS for HVC: imm16 in ISS[15:0] (Arm ARM D19.2, ESR_EL2, "exception from HVC").
  const arm::Syndrome syndrome{arm::Esr::make(ExceptionClass::Hvc64, true, 0x42).value(), 0, 0};
  auto event = arm::decode(syndrome, regs);
  auto* call = event.get_if<arm::Hypercall>();
  REQUIRE(call != nullptr);
  CHECK(call->immediate == 0x42);
  for (unsigned n = 0; n < 7; ++n) CHECK(call->x[n] == 0x1000 + n);
}

TEST_CASE("an answered hypercall writes x0..x3 and leaves the PC (ELR already points past HVC)") {
  arm::GuestRegisters regs;
  regs.pc = 0x40001004;
  arm::Hypercall call;
  call.complete(7, 8, 9, 10);
  arm::complete(regs, call);
  CHECK(regs.x[0] == 7);
  CHECK(regs.x[3] == 10);
  CHECK(regs.pc == 0x40001004);
}

TEST_CASE("an unanswered hypercall returns SMCCC NOT_SUPPORTED in x0 and keeps x1..x3") {
  arm::GuestRegisters regs;
  regs.x[0] = 0x84000000;
  regs.x[1] = 11;
  regs.pc = 0x40001004;
  CHECK(finish(regs, arm::Hypercall{}).injections == 0);
  CHECK(regs.x[0] == static_cast<std::uint64_t>(-1));
  CHECK(regs.x[1] == 11);
  CHECK(regs.pc == 0x40001004);
}

TEST_CASE("an unanswered SMC returns NOT_SUPPORTED past the SMC") {
  arm::GuestRegisters regs;
  regs.pc = 0x40002000;
  CHECK(finish(regs, arm::SecureMonitorCall{}).injections == 0);
  CHECK(regs.x[0] == static_cast<std::uint64_t>(-1));
  CHECK(regs.pc == 0x40002004);
}

TEST_CASE("a trapped SMC advances the PC past the instruction once answered") {
  arm::GuestRegisters regs;
  regs.pc = 0x40002000;
  arm::SecureMonitorCall call;
  call.complete(0);
  arm::complete(regs, call);
  CHECK(regs.x[0] == 0);
  CHECK(regs.pc == 0x40002004);
}

TEST_CASE("an exception class the decoder does not handle becomes Unhandled with the raw syndrome") {
  arm::GuestRegisters regs;
  regs.pc = 0x1234;
  // EC 0x3F is unallocated (Arm ARM, ESR_EL2, field EC).
  const arm::Syndrome syndrome{
      arm::Esr::make(static_cast<ExceptionClass>(0x3f), true, 0).value() | 0x3f0000000000ull, 0x55, 0x66};
  auto event = arm::decode(syndrome, regs);
  auto* unhandled = event.get_if<arm::Unhandled>();
  REQUIRE(unhandled != nullptr);
  CHECK(unhandled->esr == syndrome.esr);
  CHECK(unhandled->far == 0x55);
  CHECK(unhandled->hpfar == 0x66);
  CHECK(unhandled->pc == 0x1234);
}

TEST_CASE("register 31 reads as zero and ignores writes (XZR)") {
  arm::GuestRegisters regs;
  regs.write(31, 99);
  CHECK(regs.read(31) == 0);
  regs.write(30, 99);
  CHECK(regs.read(30) == 99);
}
