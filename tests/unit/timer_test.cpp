// arm.timer: the EL1 timers' condition, output level, TVAL view and deadline as Arm ARM D12
// "The Generic Timer in AArch64 state" defines them.
#include <doctest/doctest.h>

#include <cstdint>

import arm.timer;

namespace {
using arm::GenericTimer;
namespace ctl = arm::cnt_ctl;

GenericTimer armed(std::uint64_t cval, std::uint64_t offset = 0) {
  return GenericTimer{.ctl = ctl::kEnable, .cval = cval, .offset = offset};
}
}  // namespace

TEST_CASE("an enabled, unmasked timer asserts its output once the count reaches CVAL, not before") {
  const GenericTimer timer = armed(1000);
  CHECK_FALSE(timer.output(999));
  CHECK(timer.output(1000));
  CHECK(timer.output(1001));
}

TEST_CASE("a CVAL in the past is met at once") {
  const GenericTimer timer = armed(5);
  CHECK(timer.output(1'000'000));
  CHECK(timer.deadline(1'000'000) == 1'000'000);
}

TEST_CASE("IMASK holds the output low while ISTATUS still reports the condition") {
  const GenericTimer timer{.ctl = ctl::kEnable | ctl::kImask, .cval = 10};
  CHECK_FALSE(timer.output(20));
  CHECK(timer.read_ctl(20) == (ctl::kEnable | ctl::kImask | ctl::kIstatus));
  CHECK(timer.deadline(20) == arm::kNoDeadline);
}

TEST_CASE("a disabled timer asserts nothing and reads ISTATUS 0") {
  const GenericTimer timer{.ctl = 0, .cval = 10};
  CHECK_FALSE(timer.output(20));
  CHECK(timer.read_ctl(20) == 0);
  CHECK(timer.deadline(20) == arm::kNoDeadline);
}

TEST_CASE("ISTATUS is read-only and RES0 bits of CTL are ignored on a write") {
  GenericTimer timer;
  timer.write_ctl(~0ull);
  CHECK(timer.ctl == (ctl::kEnable | ctl::kImask));
}

TEST_CASE("the virtual timer compares physical count minus CNTVOFF with CVAL") {
  const GenericTimer timer = armed(100, 1000);
  CHECK_FALSE(timer.output(1099));
  CHECK(timer.output(1100));
  CHECK(timer.deadline(1050) == 1100);
}

TEST_CASE("a virtual count that wraps below zero is a huge count: any CVAL is met") {
  // CNTVOFF above the physical count: Count - Offset wraps modulo 2^64 (an unsigned compare).
  const GenericTimer timer = armed(0xffff'ffff'0000'0000ull, 2000);
  CHECK(timer.count(1000) == ~0ull - 999);
  CHECK(timer.output(1000));
}

TEST_CASE("a deadline beyond the end of the physical count is no deadline") {
  const GenericTimer timer = armed(~0ull, 0);
  CHECK(timer.deadline(10) == ~0ull - 0);            // reached exactly at the last count
  const GenericTimer far = armed(~0ull, ~0ull - 5);  // count = physical + 6
  CHECK(far.deadline(~0ull - 3) == arm::kNoDeadline);
}

TEST_CASE("TVAL reads the signed 32-bit distance to CVAL, negative once it has passed") {
  const GenericTimer timer = armed(1000);
  CHECK(timer.read_tval(900) == 100);
  CHECK(static_cast<std::int32_t>(timer.read_tval(1100)) == -100);
  CHECK(timer.read_tval(1100) == 0xffff'ff9cull);  // bits [63:32] RES0
}

TEST_CASE("a TVAL write sets CVAL to the count plus the sign-extended value") {
  GenericTimer timer = armed(0, 50);
  timer.write_tval(500, 1050);  // count 1000
  CHECK(timer.cval == 1500);
  timer.write_tval(0xffff'ffff'ffff'fff6ull, 1050);  // -10, upper bits ignored
  CHECK(timer.cval == 990);
  CHECK(timer.output(1050));
}

TEST_CASE("earliest picks the nearer deadline") {
  CHECK(arm::earliest(5, arm::kNoDeadline) == 5);
  CHECK(arm::earliest(arm::kNoDeadline, arm::kNoDeadline) == arm::kNoDeadline);
}
