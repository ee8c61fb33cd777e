#include <doctest/doctest.h>

#include <cstdint>

import arm.smc;

using namespace arm::smccc;

TEST_CASE("a function id splits into fast/yielding, SMC32/SMC64, owner and number (DEN0028)") {
  const FunctionId psci_cpu_on64{0xC4000003};
  CHECK(psci_cpu_on64.is_fast());
  CHECK(psci_cpu_on64.is_smc64());
  CHECK(psci_cpu_on64.owner() == Owner::StandardSecure);
  CHECK(psci_cpu_on64.number() == 3);
  CHECK(psci_cpu_on64.as_smc32() == 0x84000003);
  CHECK(psci_cpu_on64.reserved_bits_clear());

  const FunctionId version{kSmcccVersion};
  CHECK(version.owner() == Owner::ArmArchitecture);
  CHECK_FALSE(version.is_smc64());

  // Only w0 counts: the upper half of x0 is ignored.
  CHECK(FunctionId{0xffffffff'80000000ull}.value() == kSmcccVersion);
  CHECK_FALSE(FunctionId{0x80ff0000}.reserved_bits_clear());
}

TEST_CASE("the library reports SMCCC 1.1") {
  CHECK((kImplementedVersion >> 16) == 1);
  CHECK((kImplementedVersion & 0xffff) == 1);
}
