#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>

import arm.trap;

using arm::FaultKind;
using arm::FaultStatus;

// The DFSC/IFSC table: Arm ARM, ESR_EL2, "ISS encoding for an exception from a Data
// Abort", field DFSC.
TEST_CASE("each leveled fault status code decodes into its kind and level 0 to 3") {
  struct Group {
    unsigned base;
    FaultKind kind;
  };
  const Group groups[] = {{0b000000, FaultKind::AddressSize},
                          {0b000100, FaultKind::Translation},
                          {0b001000, FaultKind::AccessFlag},
                          {0b001100, FaultKind::Permission},
                          {0b010100, FaultKind::SyncExternalOnWalk},
                          {0b011100, FaultKind::ParityEccOnWalk},
                          {0b100100, FaultKind::GranuleProtectionOnWalk}};
  for (const Group& group : groups) {
    for (int level = 0; level <= 3; ++level) {
      const FaultStatus status{group.base + static_cast<unsigned>(level)};
      CAPTURE(group.base);
      CAPTURE(level);
      CHECK(status.kind() == group.kind);
      CHECK(status.has_level());
      CHECK(status.level() == level);
      CHECK(status.code() == group.base + static_cast<unsigned>(level));
    }
  }
}

TEST_CASE("the level -1 codes of FEAT_LPA2 decode with level -1") {
  CHECK(FaultStatus{0b101001}.kind() == FaultKind::AddressSize);
  CHECK(FaultStatus{0b101011}.kind() == FaultKind::Translation);
  CHECK(FaultStatus{0b010011}.kind() == FaultKind::SyncExternalOnWalk);
  CHECK(FaultStatus{0b011011}.kind() == FaultKind::ParityEccOnWalk);
  CHECK(FaultStatus{0b100011}.kind() == FaultKind::GranuleProtectionOnWalk);
  for (unsigned code : {0b101001u, 0b101011u, 0b010011u, 0b011011u, 0b100011u}) {
    CHECK(FaultStatus{code}.has_level());
    CHECK(FaultStatus{code}.level() == -1);
  }
}

TEST_CASE("the fault status codes without a level decode into their kinds") {
  CHECK(FaultStatus{0b010000}.kind() == FaultKind::SyncExternal);
  CHECK(FaultStatus{0b010001}.kind() == FaultKind::TagCheck);
  CHECK(FaultStatus{0b011000}.kind() == FaultKind::ParityEcc);
  CHECK(FaultStatus{0b100001}.kind() == FaultKind::Alignment);
  CHECK(FaultStatus{0b100010}.kind() == FaultKind::Debug);
  CHECK(FaultStatus{0b101000}.kind() == FaultKind::GranuleProtection);
  CHECK(FaultStatus{0b110000}.kind() == FaultKind::TlbConflict);
  CHECK(FaultStatus{0b110001}.kind() == FaultKind::UnsupportedAtomicUpdate);
  CHECK(FaultStatus{0b110100}.kind() == FaultKind::Lockdown);
  CHECK(FaultStatus{0b110101}.kind() == FaultKind::UnsupportedExclusive);
  CHECK_FALSE(FaultStatus{0b010000}.has_level());
  CHECK_FALSE(FaultStatus{0b110000}.has_level());
}

TEST_CASE("unallocated fault status codes decode as Reserved, not as some neighbour") {
  for (unsigned code :
       {0b010010u, 0b011001u, 0b011010u, 0b100000u, 0b101010u, 0b101100u, 0b110010u, 0b111111u}) {
    CAPTURE(code);
    CHECK(FaultStatus{code}.kind() == FaultKind::Reserved);
    CHECK_FALSE(FaultStatus{code}.has_level());
  }
}

TEST_CASE("every one of the 64 codes decodes, and only the table's codes are not Reserved") {
  unsigned allocated = 0;
  for (unsigned code = 0; code < 64; ++code)
    if (FaultStatus{code}.kind() != FaultKind::Reserved) ++allocated;
  // 7 groups of 4 levels, 5 level -1 codes, 10 codes without a level.
  CHECK(allocated == 7 * 4 + 5 + 10);
}

TEST_CASE("HPFAR_EL2.FIPA [47:4] gives IPA[55:12]") {
  // Arm ARM, HPFAR_EL2: FIPA, bits [47:4] (IPA[55:12] with FEAT_D128).
  CHECK(arm::hpfar_page(0x90000ull) == 0x9000000ull);                            // IPA 0x0900'0000
  CHECK(arm::hpfar_page(0xffff'ffff'ffff'fff0ull) == 0x00ff'ffff'ffff'f000ull);  // bits 63:48 and 3:0 ignored
  CHECK(arm::hpfar_page(0xf) == 0);
  CHECK(arm::hpfar_page(0xfedc'ba98'7650ull) == 0xfe'dcba'9876'5000ull);  // a 56-bit IPA (FEAT_D128)
}

TEST_CASE("a stage 2 translation fault composes the IPA from the HPFAR_EL2 page and FAR_EL2[11:0]") {
  const FaultStatus translation_l3{0b000111};
  const auto address = arm::fault_address(translation_l3, false, false, 0x90000, 0xffff'8000'1234'5abcull);
  CHECK(address.ipa_known);
  CHECK(address.va_known);
  CHECK(address.page_offset_known);
  CHECK(address.ipa == 0x0900'0abc);
  CHECK(address.va == 0xffff'8000'1234'5abcull);
}

TEST_CASE("HPFAR_EL2 is UNKNOWN for a stage 2 permission fault on the access itself") {
  // Arm ARM, HPFAR_EL2, "Configuration": written for Translation, Access flag and Address
  // size faults at stage 2, and for Permission faults only on a stage 1 table walk.
  const FaultStatus permission_l3{0b001111};
  const auto address = arm::fault_address(permission_l3, false, false, 0x90000, 0x1abc);
  CHECK_FALSE(address.ipa_known);
  CHECK_FALSE(address.page_offset_known);
  CHECK(address.ipa == 0);
  CHECK(address.va_known);
  CHECK(address.va == 0x1abc);
  CHECK(arm::hpfar_holds_ipa(permission_l3, true));
  CHECK(arm::hpfar_holds_ipa(FaultStatus{0b001001}, false));        // access flag
  CHECK(arm::hpfar_holds_ipa(FaultStatus{0b000010}, false));        // address size
  CHECK_FALSE(arm::hpfar_holds_ipa(FaultStatus{0b010000}, false));  // external abort
  CHECK_FALSE(arm::hpfar_holds_ipa(FaultStatus{0b100001}, false));  // alignment
}

TEST_CASE("with FnV set FAR_EL2 is not used: no VA and no page offset") {
  const auto address = arm::fault_address(FaultStatus{0b000101}, false, true, 0x90000, 0xdeadbeef);
  CHECK_FALSE(address.va_known);
  CHECK(address.va == 0);
  CHECK(address.ipa_known);
  CHECK_FALSE(address.page_offset_known);
  CHECK(address.ipa == 0x0900'0000);
}

TEST_CASE("on a stage 1 table walk the IPA is the descriptor's page and FAR_EL2 gives no offset") {
  const auto address =
      arm::fault_address(FaultStatus{0b000110}, true, false, 0x400100, 0xffff'0000'0000'0123ull);
  CHECK(address.ipa_known);
  CHECK(address.ipa == 0x4001'0000);
  CHECK_FALSE(address.page_offset_known);
  CHECK(address.va == 0xffff'0000'0000'0123ull);
}
