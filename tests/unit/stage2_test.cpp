#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

import arm.stage2;

namespace {
struct Pages {
  explicit Pages(std::size_t count)
      : memory(static_cast<std::byte*>(std::aligned_alloc(arm::kPageSize, count * arm::kPageSize))),
        pool(memory, count) {}
  ~Pages() { std::free(memory); }
  std::byte* memory;
  arm::PagePool pool;
};
}  // namespace

TEST_CASE("a 2 MiB aligned range maps as level-2 blocks, the rest as pages") {
  Pages pages(8);
  arm::Stage2Table table(pages.pool, 5);
  REQUIRE(table.valid());
  REQUIRE(table.map(0x4000'0000, 0x4000'0000, 0x20'0000 + 0x3000, arm::kGuestRam) == arm::MapError::None);
  const auto block = table.translate(0x4000'1234);
  CHECK(block.mapped);
  CHECK(block.level == 2);
  CHECK(block.physical == 0x4000'1234);
  const auto page = table.translate(0x4020'2010);
  CHECK(page.mapped);
  CHECK(page.level == 3);
  CHECK(page.physical == 0x4020'2010);
  CHECK_FALSE(table.translate(0x4020'3000).mapped);
  CHECK((table.vttbr() >> 48) == 5);
}

TEST_CASE("a 1 GiB aligned range maps as one level-1 block") {
  Pages pages(2);
  arm::Stage2Table table(pages.pool, 1);
  REQUIRE(table.map(0x8000'0000, 0x1'0000'0000, 0x4000'0000, arm::kGuestRam) == arm::MapError::None);
  const auto t = table.translate(0x8000'0010);
  CHECK(t.level == 1);
  CHECK(t.physical == 0x1'0000'0010);
  CHECK(pages.pool.pages_left() == 1);  // only the root was needed
}

TEST_CASE(
    "stage-2 attributes: normal memory is write-back inner shareable, devices are nGnRE and never "
    "executable") {
  Pages pages(8);
  arm::Stage2Table table(pages.pool, 1);
  REQUIRE(table.map(0x0900'0000, 0x0900'0000, 0x1000, arm::kDeviceMemory) == arm::MapError::None);
  REQUIRE(table.map(0x4000'0000, 0x4000'0000, 0x1000, {arm::MemoryType::Normal, false, true}) ==
          arm::MapError::None);
  const std::uint64_t device = table.translate(0x0900'0000).descriptor;
  CHECK(((device >> 2) & 0xf) == 0b0001);
  CHECK((device & arm::s2desc::kExecuteNever) != 0);
  CHECK((device & arm::s2desc::kAccessFlag) != 0);
  const std::uint64_t ram = table.translate(0x4000'0000).descriptor;
  CHECK(((ram >> 2) & 0xf) == 0b1111);
  CHECK(((ram >> 8) & 3) == 0b11);
  CHECK((ram & arm::s2desc::kS2apRead) != 0);
  CHECK((ram & arm::s2desc::kS2apWrite) == 0);  // mapped read-only
  CHECK((ram & arm::s2desc::kExecuteNever) == 0);
}

TEST_CASE("mapping errors are reported, not ignored") {
  Pages pages(3);
  arm::Stage2Table table(pages.pool, 1);
  CHECK(table.map(0x1001, 0x1000, 0x1000, arm::kGuestRam) == arm::MapError::Unaligned);
  CHECK(table.map(1ull << 39, 0, 0x1000, arm::kGuestRam) == arm::MapError::OutOfRange);
  REQUIRE(table.map(0, 0, 0x1000, arm::kGuestRam) == arm::MapError::None);
  CHECK(table.map(0, 0, 0x1000, arm::kGuestRam) == arm::MapError::AlreadyMapped);
  CHECK(table.map(0x4000'0000, 0, 0x1000, arm::kGuestRam) == arm::MapError::OutOfPages);
  arm::PagePool empty(nullptr, 0);
  arm::Stage2Table no_root(empty, 1);
  CHECK_FALSE(no_root.valid());
  CHECK(no_root.map(0, 0, 0x1000, arm::kGuestRam) == arm::MapError::OutOfPages);
}

namespace {
// Records the TLB maintenance and what the table said at each step.
struct RecordingTlb {
  const arm::Stage2Table* table = nullptr;
  std::uint64_t ipa = 0;
  int invalidations = 0;
  int publishes = 0;
  bool mapped_at_invalidation = true;
  std::uint64_t vttbr = 0;
  std::uint64_t invalidated_ipa = 0;
  void invalidate_ipa(std::uint64_t v, std::uint64_t i) noexcept {
    ++invalidations;
    vttbr = v;
    invalidated_ipa = i;
    mapped_at_invalidation = table->translate(ipa).mapped;
  }
  void publish() noexcept { ++publishes; }
};
}  // namespace

TEST_CASE(
    "a remapped page breaks before it makes: invalid while the TLBs are invalidated, then the new page") {
  Pages pages(4);
  arm::Stage2Table table(pages.pool, 7);
  REQUIRE(table.map(0x4000'0000, 0x8000'0000, 0x3000, arm::kGuestRam) == arm::MapError::None);
  RecordingTlb tlb{.table = &table, .ipa = 0x4000'1000};
  REQUIRE(table.remap_page(0x4000'1000, 0x9000'0000, arm::MemoryAttributes{.writable = false}, tlb) ==
          arm::MapError::None);
  CHECK(tlb.invalidations == 1);
  CHECK(tlb.publishes == 1);
  CHECK_FALSE(tlb.mapped_at_invalidation);
  CHECK(tlb.vttbr == table.vttbr());
  CHECK(tlb.invalidated_ipa == 0x4000'1000);
  const auto page = table.translate(0x4000'1234);
  CHECK(page.mapped);
  CHECK(page.physical == 0x9000'0234);
  CHECK((page.descriptor & arm::s2desc::kS2apWrite) == 0);
  CHECK(table.translate(0x4000'0010).physical == 0x8000'0010);  // the neighbours stay
  CHECK(table.translate(0x4000'2010).physical == 0x8000'2010);
}

TEST_CASE("an unmapped page is invalid before the TLBs are invalidated and stays unmapped") {
  Pages pages(4);
  arm::Stage2Table table(pages.pool, 3);
  REQUIRE(table.map(0x4000'0000, 0x4000'0000, 0x2000, arm::kGuestRam) == arm::MapError::None);
  RecordingTlb tlb{.table = &table, .ipa = 0x4000'0000};
  REQUIRE(table.unmap_page(0x4000'0000, tlb) == arm::MapError::None);
  CHECK(tlb.invalidations == 1);
  CHECK_FALSE(tlb.mapped_at_invalidation);
  CHECK_FALSE(table.translate(0x4000'0000).mapped);
  CHECK(table.translate(0x4000'1000).mapped);
  // Map it again with map(): invalid entries need no TLB maintenance.
  CHECK(table.map(0x4000'0000, 0x5000'0000, 0x1000, arm::kGuestRam) == arm::MapError::None);
  CHECK(table.translate(0x4000'0000).physical == 0x5000'0000);
}

TEST_CASE("unmap and remap refuse unmapped IPAs, blocks and unaligned addresses, changing nothing") {
  Pages pages(4);
  arm::Stage2Table table(pages.pool, 3);
  REQUIRE(table.map(0x4000'0000, 0x4000'0000, 0x20'0000, arm::kGuestRam) == arm::MapError::None);  // a block
  RecordingTlb tlb{.table = &table, .ipa = 0x4000'0000};
  CHECK(table.unmap_page(0x4000'0000, tlb) == arm::MapError::NotAPage);
  CHECK(table.remap_page(0x4000'0000, 0x5000'0000, arm::kGuestRam, tlb) == arm::MapError::NotAPage);
  CHECK(table.unmap_page(0x8000'0000, tlb) == arm::MapError::NotAPage);
  CHECK(table.unmap_page(1ull << 39, tlb) == arm::MapError::NotAPage);
  CHECK(table.remap_page(0x4000'0000, 0x5000'0010, arm::kGuestRam, tlb) == arm::MapError::Unaligned);
  CHECK(tlb.invalidations == 0);
  CHECK(table.translate(0x4000'0000).physical == 0x4000'0000);
}
