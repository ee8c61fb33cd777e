// dispatch(), the firmware allow-list and conduit, and the bridge to arm.trap's events.
#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>

import arm.trap;
import arm.smc;

#include "smc_calls.h"

using namespace arm::smccc;
using smc_test::FakeFirmware;
using smc_test::hvc;
using smc_test::smc;
using smc_test::x0_of;

namespace {
constexpr std::uint32_t kSipCall = 0x8200'1234;        // a Silicon Provider fast call
constexpr std::uint32_t kVendorHypCall = 0xc600'0001;  // a Vendor Specific Hypervisor call
constexpr std::uint32_t kTrustedOsYielding = 0x3200'0001;
const FunctionIdRange kSipRange[] = {{0x8200'0000, 0x8200'ffff}};
}  // namespace

TEST_CASE("a call with a non-zero immediate is not an SMCCC call: it goes to the hypervisor") {
  GuestCall call = hvc(arm::psci::kSystemOff);
  call.immediate = 0x42;
  auto outcome = dispatch(call, GuestCallPolicy{});
  CHECK(outcome.is<NotHandled>());
}

TEST_CASE("unknown function ids answer NOT_SUPPORTED through both conduits") {
  const GuestCallPolicy policy;
  for (std::uint32_t id : {kSipCall, kVendorHypCall, kTrustedOsYielding, 0x8300'0000u, 0xc500'0000u}) {
    CAPTURE(id);
    auto through_hvc = dispatch(hvc(id), policy);
    auto through_smc = dispatch(smc(id), policy);
    CHECK(x0_of(through_hvc) == kNotSupported);
    CHECK(x0_of(through_smc) == kNotSupported);
  }
}

TEST_CASE("a fast call with reserved bits [23:17] set is NOT_SUPPORTED") {
  auto outcome = dispatch(hvc(0x8002'0000 | kSmcccVersion), GuestCallPolicy{});
  CHECK(x0_of(outcome) == kNotSupported);
}

TEST_CASE("ids the hypervisor claims reach it as plain calls, before the library's own answers") {
  const FunctionIdRange claimed[] = {{kVendorHypCall, kVendorHypCall},
                                     {arm::psci::kSystemSuspend64, arm::psci::kSystemSuspend64}};
  GuestCallPolicy policy;
  policy.hypervisor_calls = claimed;
  auto vendor = dispatch(hvc(kVendorHypCall), policy);
  auto suspend = dispatch(smc(arm::psci::kSystemSuspend64), policy);
  auto other = dispatch(hvc(kVendorHypCall + 1), policy);
  CHECK(vendor.is<NotHandled>());
  CHECK(suspend.is<NotHandled>());
  CHECK(x0_of(other) == kNotSupported);
}

TEST_CASE("the firmware allow-list admits SMCs in its ranges and nothing by default") {
  GuestCallPolicy policy;
  auto denied = dispatch(smc(kSipCall), policy);
  CHECK(x0_of(denied) == kNotSupported);
  policy.firmware.allowed = kSipRange;
  auto allowed = dispatch(smc(kSipCall), policy);
  auto outside = dispatch(smc(0x8201'0000), policy);
  CHECK(allowed.is<Forward>());
  CHECK(x0_of(outside) == kNotSupported);
}

TEST_CASE("an HVC is never forwarded to firmware, even for an allowed id") {
  GuestCallPolicy policy;
  policy.firmware.allowed = kSipRange;
  auto outcome = dispatch(hvc(kSipCall), policy);
  CHECK(x0_of(outcome) == kNotSupported);
}

TEST_CASE("with PSCI emulation off, PSCI ids follow the allow-list like any other call") {
  const FunctionIdRange psci_version[] = {{arm::psci::kPsciVersion, arm::psci::kPsciVersion}};
  GuestCallPolicy policy;
  policy.psci.emulate = false;
  policy.firmware.allowed = psci_version;
  auto version = dispatch(smc(arm::psci::kPsciVersion), policy);
  auto off = dispatch(smc(arm::psci::kSystemOff), policy);
  CHECK(version.is<Forward>());
  CHECK(x0_of(off) == kNotSupported);
}

TEST_CASE("Arm Architecture calls are answered by the hypervisor even if the allow-list names them") {
  const FunctionIdRange arch[] = {{0x8000'0000, 0x8000'ffff}};
  GuestCallPolicy policy;
  policy.firmware.allowed = arch;
  auto outcome = dispatch(smc(kSmcccVersion), policy);
  CHECK(x0_of(outcome) == kImplementedVersion);
}

TEST_CASE(
    "an allowed SMC runs the conduit once with the guest's x0..x6 and gives back the firmware's x0..x3") {
  GuestCallPolicy policy;
  policy.firmware.allowed = kSipRange;
  arm::SecureMonitorCall call;
  for (unsigned n = 0; n < 7; ++n) call.x[n] = 0x100 + n;
  call.x[0] = kSipCall;
  FakeFirmware firmware;
  for (unsigned n = 0; n < kCallRegisterCount; ++n) firmware.reply.x[n] = 0xf00 + n;

  auto outcome = dispatch(guest_call(call), policy);
  CHECK(answer(call, outcome, firmware));

  CHECK(firmware.calls == 1);
  CHECK(firmware.seen.x[0] == kSipCall);
  for (unsigned n = 1; n < 7; ++n) CHECK(firmware.seen.x[n] == 0x100 + n);
  for (unsigned n = 7; n < kCallRegisterCount; ++n) CHECK(firmware.seen.x[n] == 0);
  REQUIRE(call.reply == arm::Reply::Answered);
  for (unsigned n = 0; n < 4; ++n) CHECK(call.result.x[n] == 0xf00 + n);
}

TEST_CASE("a denied SMC never executes the conduit") {
  GuestCallPolicy policy;  // default: deny everything
  arm::SecureMonitorCall call;
  call.x[0] = kSipCall;
  FakeFirmware firmware;
  auto outcome = dispatch(guest_call(call), policy);
  CHECK(answer(call, outcome, firmware));
  CHECK(firmware.calls == 0);
  CHECK(call.result.x[0] == static_cast<std::uint64_t>(kNotSupported));
}

TEST_CASE("answering library-decided calls never executes the conduit") {
  FakeFirmware firmware;
  const GuestCallPolicy policy;
  for (std::uint32_t id :
       {kSmcccVersion, arm::psci::kPsciVersion, arm::psci::kCpuOn64, arm::psci::kSystemOff}) {
    arm::SecureMonitorCall call;
    call.x[0] = id;
    auto outcome = dispatch(guest_call(call), policy);
    answer(call, outcome, firmware);
  }
  CHECK(firmware.calls == 0);
}

TEST_CASE("NotHandled leaves the call unanswered for the hypervisor") {
  arm::Hypercall call;
  call.immediate = 0xffff;
  auto outcome = dispatch(guest_call(call), GuestCallPolicy{});
  CHECK_FALSE(answer(call, outcome));
  CHECK(call.reply == arm::Reply::None);
}

TEST_CASE("a PSCI event completed by the hypervisor answers the trapped SMC, and the PC moves past it") {
  arm::psci::AffinityEntry vcpus[] = {{0, arm::psci::AffinityState::On}, {1, arm::psci::AffinityState::Off}};
  GuestCallPolicy policy;
  policy.psci.vcpus = vcpus;
  arm::GuestRegisters regs;
  regs.pc = 0x4000'1000;
  regs.x[0] = arm::psci::kCpuOn64;
  regs.x[1] = 1;
  regs.x[2] = 0x4008'0000;
  regs.x[3] = 7;
  regs.x[4] = 0x4444;
  arm::SecureMonitorCall call;
  for (unsigned n = 0; n < 7; ++n) call.x[n] = regs.x[n];

  auto outcome = dispatch(guest_call(call), policy);
  auto* on = outcome.get_if<arm::PsciCpuOn>();
  REQUIRE(on != nullptr);
  on->complete(arm::psci::Status::Success);
  CHECK(answer(call, outcome));
  arm::complete(regs, call);

  CHECK(regs.x[0] == 0);
  CHECK(regs.x[1] == 0);
  CHECK(regs.x[4] == 0x4444);
  CHECK(regs.pc == 0x4000'1004);
}

TEST_CASE("an incomplete PSCI event answers NOT_SUPPORTED") {
  arm::Hypercall call;
  call.x[0] = arm::psci::kCpuOff;
  auto outcome = dispatch(guest_call(call), GuestCallPolicy{});
  REQUIRE(outcome.is<arm::PsciCpuOff>());
  CHECK(answer(call, outcome));
  CHECK(call.result.x[0] == static_cast<std::uint64_t>(kNotSupported));
}

TEST_CASE("guest_call keeps the conduit and immediate of the event and x0..x17 of the registers") {
  arm::Hypercall hvc_call;
  hvc_call.immediate = 3;
  arm::SecureMonitorCall smc_call;
  CHECK(guest_call(hvc_call).conduit == Conduit::Hvc);
  CHECK(guest_call(hvc_call).immediate == 3);
  CHECK(guest_call(smc_call).conduit == Conduit::Smc);

  arm::GuestRegisters regs;
  for (unsigned n = 0; n < 31; ++n) regs.x[n] = n;
  const GuestCall full = guest_call(Conduit::Smc, 0, regs);
  for (unsigned n = 0; n < kCallRegisterCount; ++n) CHECK(full.registers.x[n] == n);
}

TEST_CASE("NoFirmware answers NOT_SUPPORTED and zero in the other registers") {
  NoFirmware none;
  CallRegisters registers;
  registers.x[0] = kSipCall;
  registers.x[5] = 5;
  none.call(registers);
  CHECK(registers.x[0] == static_cast<std::uint64_t>(kNotSupported));
  CHECK(registers.x[5] == 0);
}

TEST_CASE("a Table views a hypervisor's array without copying it") {
  FunctionIdRange ranges[] = {{1, 2}, {10, 20}};
  const Table<FunctionIdRange> table = ranges;
  CHECK(table.size() == 2);
  CHECK(contains(table, FunctionId{15}));
  CHECK_FALSE(contains(table, FunctionId{5}));
  ranges[0].last = 5;
  CHECK(contains(table, FunctionId{5}));
  CHECK(Table<FunctionIdRange>{}.empty());
}

TEST_CASE("SMC32 arguments lose their upper halves, SMC64 arguments keep them") {
  CallRegisters registers;
  registers.x[0] = 0xffff'ffff'8400'0003ull;
  registers.x[1] = 0x1234'5678'9abc'def0ull;
  registers.x[7] = 0x1234'5678'9abc'def0ull;
  registers.x[8] = 0x1234'5678'9abc'def0ull;
  const CallRegisters narrow = arguments_for(FunctionId{registers.x[0]}, registers);
  CHECK(narrow.x[0] == registers.x[0]);
  CHECK(narrow.x[1] == 0x9abc'def0);
  CHECK(narrow.x[7] == 0x9abc'def0);
  CHECK(narrow.x[8] == registers.x[8]);
  const CallRegisters wide = arguments_for(FunctionId{0xc400'0003}, registers);
  CHECK(wide.x[1] == registers.x[1]);
}

// The vCPU dispatches its call events in place (dispatch(const Call&)); a hypervisor may build
// a GuestCall first. Both must decide every call the same way, through either conduit.
template <class Call>
void check_event_dispatch_agrees(const Call& call, const GuestCallPolicy& policy) {
  auto in_place = dispatch(call, policy);
  auto through_guest_call = dispatch(guest_call(call), policy);
  REQUIRE(in_place.index() == through_guest_call.index());
  if (auto* answer = in_place.template get_if<Answer>()) {
    const auto* other = through_guest_call.template get_if<Answer>();
    for (unsigned n = 0; n < 4; ++n) CHECK(answer->x[n] == other->x[n]);
  }
  if (auto* on = in_place.template get_if<arm::PsciCpuOn>()) {
    const auto* other = through_guest_call.template get_if<arm::PsciCpuOn>();
    CHECK(on->target_mpidr == other->target_mpidr);
    CHECK(on->target == other->target);
    CHECK(on->entry == other->entry);
    CHECK(on->context_id == other->context_id);
    CHECK(on->conduit == other->conduit);
  }
}

TEST_CASE("a call event dispatched in place is decided as its guest_call() is") {
  arm::psci::AffinityEntry vcpus[] = {{0, arm::psci::AffinityState::On}, {1, arm::psci::AffinityState::Off}};
  GuestCallPolicy policy;
  policy.psci.vcpus = vcpus;
  policy.hypervisor_calls = {kSipRange, 1};
  const std::uint64_t ids[] = {arm::smccc::kSmcccVersion,
                               arm::smccc::kSmcccArchFeatures,
                               arm::psci::kPsciVersion,
                               arm::psci::kCpuOn64,
                               arm::psci::kCpuOn,
                               arm::psci::kCpuOff,
                               arm::psci::kSystemOff,
                               kSipCall,
                               kVendorHypCall,
                               0x8021'0000,             // reserved bits set
                               0xffff'ffff'8400'0000};  // upper half set
  for (const std::uint64_t id : ids) {
    for (const std::uint16_t immediate : {std::uint16_t{0}, std::uint16_t{5}}) {
      CAPTURE(id);
      CAPTURE(immediate);
      arm::Hypercall hvc_call;
      arm::SecureMonitorCall smc_call;
      const std::uint64_t args[arm::kCallArguments] = {id, 0xffff'ffff'0000'0001, 0x4008'0000, 7, 8, 9, 10};
      for (unsigned n = 0; n < arm::kCallArguments; ++n) hvc_call.x[n] = smc_call.x[n] = args[n];
      hvc_call.immediate = smc_call.immediate = immediate;
      check_event_dispatch_agrees(hvc_call, policy);
      check_event_dispatch_agrees(smc_call, policy);
    }
  }
}
