// Arm Architecture calls (DEN0028, "Arm Architecture Calls"): what a guest learns about
// the calling convention and the speculation workarounds.
#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>

import arm.smc;

#include "smc_calls.h"

using namespace arm::smccc;
using smc_test::hvc;
using smc_test::smc;
using smc_test::x0_of;

namespace {
const GuestCallPolicy kDefault{};

GuestCallPolicy unaffected_by(Exposure v2, Exposure v4, Exposure bhb) {
  GuestCallPolicy policy;
  policy.cpus = {v2, v4, bhb};
  return policy;
}
}  // namespace

TEST_CASE("SMCCC_VERSION reports 1.1 through both conduits") {
  for (const GuestCall& call : {hvc(kSmcccVersion), smc(kSmcccVersion)}) {
    auto outcome = dispatch(call, kDefault);
    REQUIRE(outcome.is<Answer>());
    CHECK(outcome.get_if<Answer>()->x[0] == 0x10001);
  }
}

TEST_CASE("an immediate answer zeroes the result registers the call does not define") {
  auto outcome = dispatch(hvc(kSmcccVersion, 0x1111, 0x2222, 0x3333), kDefault);
  const Answer* answer = outcome.get_if<Answer>();
  REQUIRE(answer != nullptr);
  CHECK(answer->x[1] == 0);
  CHECK(answer->x[2] == 0);
  CHECK(answer->x[3] == 0);
}

TEST_CASE("SMCCC_ARCH_FEATURES says SMCCC_VERSION and SMCCC_ARCH_FEATURES are implemented") {
  auto version = dispatch(hvc(kSmcccArchFeatures, kSmcccVersion), kDefault);
  auto features = dispatch(smc(kSmcccArchFeatures, kSmcccArchFeatures), kDefault);
  CHECK(x0_of(version) == kSuccess);
  CHECK(x0_of(features) == kSuccess);
}

TEST_CASE("SMCCC_ARCH_FEATURES answers NOT_SUPPORTED for SOC_ID, unknown ids and other owners' ids") {
  for (std::uint32_t queried : {kSmcccArchSocId, 0x8000'0003u, 0xc000'0000u, 0x8400'0000u, 0x8600'0000u}) {
    CAPTURE(queried);
    auto outcome = dispatch(hvc(kSmcccArchFeatures, queried), kDefault);
    CHECK(x0_of(outcome) == kNotSupported);
  }
}

TEST_CASE("SMCCC_ARCH_FEATURES reads only w1: it is an SMC32 call") {
  auto outcome = dispatch(hvc(kSmcccArchFeatures, 0xffff'ffff'0000'0000ull | kSmcccVersion), kDefault);
  CHECK(x0_of(outcome) == kSuccess);
}

TEST_CASE("by default every workaround query answers NOT_SUPPORTED: the guest must assume it is exposed") {
  for (std::uint32_t workaround : {kArchWorkaround1, kArchWorkaround2, kArchWorkaround3}) {
    CAPTURE(workaround);
    auto outcome = dispatch(smc(kSmcccArchFeatures, workaround), kDefault);
    CHECK(x0_of(outcome) == kNotSupported);
  }
}

TEST_CASE("CPUs declared unaffected: WORKAROUND_1 answers 1, WORKAROUND_2 answers NOT_REQUIRED") {
  const GuestCallPolicy policy = unaffected_by(Exposure::Unaffected, Exposure::Unaffected, Exposure::Unknown);
  auto w1 = dispatch(hvc(kSmcccArchFeatures, kArchWorkaround1), policy);
  auto w2 = dispatch(hvc(kSmcccArchFeatures, kArchWorkaround2), policy);
  CHECK(x0_of(w1) == kWorkaroundNotNeededOnThisPe);
  CHECK(x0_of(w2) == kNotRequired);
}

TEST_CASE("WORKAROUND_3 answers 1 only when the CPUs are unaffected by both Spectre-BHB and Spectre-v2") {
  auto bhb_only = dispatch(hvc(kSmcccArchFeatures, kArchWorkaround3),
                           unaffected_by(Exposure::Unknown, Exposure::Unknown, Exposure::Unaffected));
  auto both = dispatch(hvc(kSmcccArchFeatures, kArchWorkaround3),
                       unaffected_by(Exposure::Unaffected, Exposure::Unknown, Exposure::Unaffected));
  CHECK(x0_of(bhb_only) == kNotSupported);
  CHECK(x0_of(both) == kWorkaroundNotNeededOnThisPe);
}

TEST_CASE("a workaround call is NOT_SUPPORTED by default and a harmless success on unaffected CPUs") {
  const GuestCallPolicy unaffected =
      unaffected_by(Exposure::Unaffected, Exposure::Unaffected, Exposure::Unaffected);
  for (std::uint32_t workaround : {kArchWorkaround1, kArchWorkaround2, kArchWorkaround3}) {
    CAPTURE(workaround);
    auto by_default = dispatch(smc(workaround, 1), kDefault);
    auto when_unaffected = dispatch(smc(workaround, 1), unaffected);
    CHECK(x0_of(by_default) == kNotSupported);
    CHECK(x0_of(when_unaffected) == kSuccess);
  }
}

TEST_CASE("unknown Arm Architecture calls, and the SMC64 form of SMCCC_VERSION, are NOT_SUPPORTED") {
  for (std::uint64_t id :
       {std::uint64_t{kSmcccArchSocId}, std::uint64_t{0x8000'0042}, std::uint64_t{0xc000'0000}}) {
    CAPTURE(id);
    auto outcome = dispatch(hvc(id), kDefault);
    CHECK(x0_of(outcome) == kNotSupported);
  }
}

TEST_CASE("NOT_SUPPORTED is -1 in all 64 bits of x0, as callers compare it") {
  auto outcome = dispatch(hvc(0x8000'0042), kDefault);
  REQUIRE(outcome.is<Answer>());
  CHECK(outcome.get_if<Answer>()->x[0] == 0xffff'ffff'ffff'ffffull);
}

TEST_CASE("arch_features is usable at compile time") {
  static_assert(arch_features(kSmcccVersion, CpuVulnerabilities{}) == kSuccess);
  static_assert(arch_features(kArchWorkaround2, CpuVulnerabilities{}) == kNotSupported);
  CHECK(is_arch_call(FunctionId{kSmcccVersion}));
  CHECK_FALSE(is_arch_call(FunctionId{0x8400'0000}));
}
