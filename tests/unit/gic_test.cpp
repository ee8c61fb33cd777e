#include <doctest/doctest.h>

#include <cstdint>

import arm.gic;

TEST_CASE("a virtual interrupt becomes a pending group 1 list register value (IHI 0069, ICH_LR<n>_EL2)") {
  const std::uint64_t value = arm::list_register_value({.intid = 27, .priority = 0xa0});
  CHECK((value & 0xffff'ffff) == 27);     // vINTID [31:0]
  CHECK(((value >> 48) & 0xff) == 0xa0);  // Priority [55:48]
  CHECK(((value >> 60) & 1) == 1);        // Group [60]
  CHECK(((value >> 61) & 1) == 0);        // HW [61]
  CHECK(((value >> 62) & 3) == 0b01);     // State [63:62]: pending
  CHECK_FALSE(arm::list_register_free(value));
  CHECK(arm::list_register_intid(value) == 27);
  CHECK(arm::list_register_free(0));
}

TEST_CASE("a hardware-linked virtual interrupt carries its physical INTID") {
  const std::uint64_t value =
      arm::list_register_value({.intid = 30, .group1 = true, .hardware = true, .physical_intid = 30});
  CHECK(((value >> 61) & 1) == 1);
  CHECK(((value >> 32) & 0x1fff) == 30);  // pINTID [44:32]
}
