// arm.stage2: stage-2 translation tables for a VM (IPA -> PA), built from caller-owned
// pages. 4 KiB granule, a 39-bit IPA space whose walk starts at level 1 (the layout
// arm.percpu programs into VTCR_EL2), 1 GiB and 2 MiB block mappings where alignment
// allows, 4 KiB pages elsewhere.
//
// Descriptor formats: Arm ARM (DDI 0487 M.c) D8.3 "Translation table descriptor formats"
// (table, block and page descriptors) and D8.6 "Memory region attributes", its stage 2 part
// (MemAttr, S2AP, SH, AF, XN).
module;
#include <arm/runtime/std_support.h>
export module arm.stage2;

export namespace arm {

inline constexpr std::uint64_t kPageSize = 4096;
inline constexpr unsigned kEntriesPerTable = 512;

// Caller-owned 4 KiB pages for translation tables: the library never allocates.
class PagePool {
 public:
  // `pages` must be 4 KiB aligned and hold `count` pages.
  PagePool(void* pages, std::size_t count) noexcept : next_(static_cast<std::byte*>(pages)), left_(count) {}
  // A zeroed page, or nullptr when the pool is exhausted.
  void* allocate() noexcept {
    if (left_ == 0) return nullptr;
    std::byte* page = next_;
    next_ += kPageSize;
    --left_;
    for (std::size_t i = 0; i < kPageSize; ++i) page[i] = std::byte{0};
    return page;
  }
  std::size_t pages_left() const noexcept { return left_; }

 private:
  std::byte* next_;
  std::size_t left_;
};

// What a guest may do with a mapped range, and how the memory behaves.
enum class MemoryType : std::uint8_t { Normal, Device };
struct MemoryAttributes {
  MemoryType type = MemoryType::Normal;
  bool writable = true;
  bool executable = true;
};
inline constexpr MemoryAttributes kGuestRam{MemoryType::Normal, true, true};
inline constexpr MemoryAttributes kDeviceMemory{MemoryType::Device, true, false};

// Stage-2 descriptor fields.
namespace s2desc {
inline constexpr std::uint64_t kValid = 1ull << 0;
inline constexpr std::uint64_t kTableOrPage = 1ull << 1;          // at level 3: page; levels 0-2: table
inline constexpr unsigned kMemAttrShift = 2;                      // MemAttr[3:0] (HCR_EL2.FWB == 0)
inline constexpr std::uint64_t kMemAttrNormalWriteBack = 0b1111;  // outer WB, inner WB
inline constexpr std::uint64_t kMemAttrDeviceNgnre = 0b0001;
inline constexpr std::uint64_t kS2apRead = 1ull << 6;
inline constexpr std::uint64_t kS2apWrite = 1ull << 7;
inline constexpr std::uint64_t kShInner = 0b11ull << 8;
inline constexpr std::uint64_t kAccessFlag = 1ull << 10;
inline constexpr std::uint64_t kExecuteNever = 1ull << 54;               // XN[1] (XN[0] only with FEAT_XNX)
inline constexpr std::uint64_t kAddressMask = 0x0000'ffff'ffff'f000ull;  // OA[47:12]
}  // namespace s2desc

constexpr std::uint64_t leaf_attributes(const MemoryAttributes& attributes) noexcept {
  using namespace s2desc;
  std::uint64_t bits = kAccessFlag | kS2apRead;
  if (attributes.writable) bits |= kS2apWrite;
  if (attributes.type == MemoryType::Normal) {
    bits |= (kMemAttrNormalWriteBack << kMemAttrShift) | kShInner;
  } else {
    bits |= kMemAttrDeviceNgnre << kMemAttrShift;  // shareability is ignored for Device
  }
  if (!attributes.executable || attributes.type == MemoryType::Device) bits |= kExecuteNever;
  return bits;
}

enum class MapError : std::uint8_t { None, Unaligned, OutOfRange, AlreadyMapped, OutOfPages, NotAPage };

// The TLB maintenance that changing a live stage-2 entry needs, for one VM (its VTTBR):
// `invalidate_ipa(vttbr, ipa)` runs after the old entry was made invalid and before the
// new one is written (break-before-make); `publish()` after the new one is written.
// Stage2Tlb is the real one (aarch64 builds only); host tests record the calls.
template <class Tlb>
concept Stage2TlbMaintenance = requires(Tlb& tlb, std::uint64_t value) {
  { tlb.invalidate_ipa(value, value) } noexcept;
  { tlb.publish() } noexcept;
};

#if defined(__aarch64__)
// Arm ARM (DDI 0487 M.c) D8.17 "TLB maintenance" and the break-before-make sequence of D8.16
// "Translation Lookaside Buffers" ("Using break-before-make when updating translation table
// entries"), as KVM's
// __kvm_tlb_flush_vmid_ipa does it. TLBI IPAS2E1IS and VMALLE1IS act on the VMID in
// VTTBR_EL2, so the VM's VTTBR is put in place for them and the caller's restored.
struct Stage2Tlb {
  void invalidate_ipa(std::uint64_t vttbr, std::uint64_t ipa) const noexcept {
    std::uint64_t saved;
    asm volatile("mrs %0, vttbr_el2" : "=r"(saved));
    asm volatile(
        "dsb ishst\n"          // the invalid entry is visible to every walker ...
        "msr vttbr_el2, %0\n"  // ... the VM's VMID is current ...
        "isb\n"
        "tlbi ipas2e1is, %1\n"  // ... no CPU holds the stage-2 entry for the IPA ...
        "dsb ish\n"
        "tlbi vmalle1is\n"  // ... nor a combined stage 1+2 entry built from it,
        "dsb ish\n"
        "isb\n"
        "msr vttbr_el2, %2\n"
        "isb\n"
        :
        : "r"(vttbr), "r"(ipa >> 12), "r"(saved)  // TLBI IPAS2E1IS: Xt[35:0] = IPA[47:12]
        : "memory");
  }
  // The new entry is visible to every walker before the caller goes on.
  void publish() const noexcept { asm volatile("dsb ishst\n isb" ::: "memory"); }
  // Before a VMID is given to a new VM (or its tables are replaced): no CPU may keep an
  // entry of the VMID's earlier tables. TLBI VMALLS12E1IS, stage 1 and 2, for the VMID
  // in VTTBR_EL2 (Arm ARM C5.5 "TLB maintenance instructions").
  void invalidate_vmid(std::uint64_t vttbr) const noexcept {
    std::uint64_t saved;
    asm volatile("mrs %0, vttbr_el2" : "=r"(saved));
    asm volatile(
        "dsb ishst\n"
        "msr vttbr_el2, %0\n"
        "isb\n"
        "tlbi vmalls12e1is\n"
        "dsb ish\n"
        "isb\n"
        "msr vttbr_el2, %1\n"
        "isb\n"
        :
        : "r"(vttbr), "r"(saved)
        : "memory");
  }
};
static_assert(Stage2TlbMaintenance<Stage2Tlb>);
#endif

// Where an IPA leads: the result of a table walk (tests, and hypervisors that need to
// read guest memory by IPA).
struct Translation {
  bool mapped = false;
  std::uint64_t physical = 0;
  std::uint64_t descriptor = 0;
  unsigned level = 0;
};

class Stage2Table {
 public:
  static constexpr unsigned kIpaBits = 39;
  static constexpr unsigned kStartLevel = 1;

  // `vmid` tags the VM's TLB entries (VTTBR_EL2.VMID).
  Stage2Table(PagePool& pool, std::uint16_t vmid) noexcept
      : pool_(pool), root_(static_cast<std::uint64_t*>(pool.allocate())), vmid_(vmid) {}

  // False when the pool could not provide the root table.
  bool valid() const noexcept { return root_ != nullptr; }

  // Maps [ipa, ipa + size) to [pa, pa + size). Addresses and size must be 4 KiB aligned.
  MapError map(std::uint64_t ipa, std::uint64_t pa, std::uint64_t size,
               MemoryAttributes attributes) noexcept {
    if (!valid()) return MapError::OutOfPages;
    if ((ipa | pa | size) & (kPageSize - 1)) return MapError::Unaligned;
    if (ipa + size > (std::uint64_t{1} << kIpaBits) || ipa + size < ipa) return MapError::OutOfRange;
    const std::uint64_t leaf = leaf_attributes(attributes);
    while (size > 0) {
      // The largest block that fits at this address: 1 GiB (level 1), 2 MiB (level 2) or a page.
      unsigned level = 3;
      for (unsigned candidate = kStartLevel; candidate < 3; ++candidate) {
        const std::uint64_t block = block_size(candidate);
        if (((ipa | pa) & (block - 1)) == 0 && size >= block) {
          level = candidate;
          break;
        }
      }
      const MapError error = map_one(ipa, pa, level, leaf);
      if (error != MapError::None) return error;
      ipa += block_size(level);
      pa += block_size(level);
      size -= block_size(level);
    }
    return MapError::None;
  }

  Translation translate(std::uint64_t ipa) const noexcept {
    if (!valid() || ipa >= (std::uint64_t{1} << kIpaBits)) return {};
    const std::uint64_t* table = root_;
    for (unsigned level = kStartLevel; level <= 3; ++level) {
      const std::uint64_t descriptor = table[index(ipa, level)];
      if ((descriptor & s2desc::kValid) == 0) return {};
      const bool is_table = level < 3 && (descriptor & s2desc::kTableOrPage) != 0;
      if (!is_table) {
        const std::uint64_t offset = ipa & (block_size(level) - 1);
        return {true, (descriptor & s2desc::kAddressMask & ~(block_size(level) - 1)) + offset, descriptor,
                level};
      }
      table = reinterpret_cast<const std::uint64_t*>(descriptor & s2desc::kAddressMask);
    }
    return {};
  }

  // Live changes of one 4 KiB page while the VM may run (on any CPU), with
  // break-before-make (Arm ARM D8.16): the old entry becomes invalid, the TLBs forget it
  // (`tlb`), and only then is the new one written, so no CPU ever sees two translations
  // of the IPA at once or a torn entry. NotAPage: the IPA is unmapped (unmap, remap), or
  // mapped by a block (split it by mapping pages instead). A remap of an IPA that is not
  // mapped is an ordinary map(): invalid entries are never held in a TLB.
  template <Stage2TlbMaintenance Tlb>
  MapError unmap_page(std::uint64_t ipa, Tlb& tlb) noexcept {
    std::uint64_t* entry = live_page_entry(ipa);
    if (entry == nullptr) return MapError::NotAPage;
    __atomic_store_n(entry, std::uint64_t{0}, __ATOMIC_RELAXED);
    tlb.invalidate_ipa(vttbr(), ipa & ~(kPageSize - 1));
    return MapError::None;
  }

  template <Stage2TlbMaintenance Tlb>
  MapError remap_page(std::uint64_t ipa, std::uint64_t pa, MemoryAttributes attributes, Tlb& tlb) noexcept {
    if ((ipa | pa) & (kPageSize - 1)) return MapError::Unaligned;
    std::uint64_t* entry = live_page_entry(ipa);
    if (entry == nullptr) return MapError::NotAPage;
    __atomic_store_n(entry, std::uint64_t{0}, __ATOMIC_RELAXED);  // break
    tlb.invalidate_ipa(vttbr(), ipa);
    __atomic_store_n(
        entry,
        (pa & s2desc::kAddressMask) | leaf_attributes(attributes) | s2desc::kValid | s2desc::kTableOrPage,
        __ATOMIC_RELAXED);  // make
    tlb.publish();
    return MapError::None;
  }

  // VTTBR_EL2: the root table's address and the VMID in bits [63:48] (Arm ARM D19.2).
  std::uint64_t vttbr() const noexcept {
    return reinterpret_cast<std::uint64_t>(root_) | (std::uint64_t{vmid_} << 48);
  }
  std::uint16_t vmid() const noexcept { return vmid_; }

 private:
  static constexpr std::uint64_t block_size(unsigned level) noexcept {
    return std::uint64_t{1} << (12 + 9 * (3 - level));
  }
  static constexpr unsigned index(std::uint64_t ipa, unsigned level) noexcept {
    return static_cast<unsigned>((ipa >> (12 + 9 * (3 - level))) & (kEntriesPerTable - 1));
  }

  // The level 3 entry that maps ipa, or nullptr if none does (unmapped, or a block).
  std::uint64_t* live_page_entry(std::uint64_t ipa) noexcept {
    if (!valid() || ipa >= (std::uint64_t{1} << kIpaBits)) return nullptr;
    std::uint64_t* table = root_;
    for (unsigned level = kStartLevel; level < 3; ++level) {
      const std::uint64_t descriptor = table[index(ipa, level)];
      if ((descriptor & s2desc::kValid) == 0 || (descriptor & s2desc::kTableOrPage) == 0) return nullptr;
      table = reinterpret_cast<std::uint64_t*>(descriptor & s2desc::kAddressMask);
    }
    std::uint64_t* entry = &table[index(ipa, 3)];
    return (*entry & s2desc::kValid) != 0 ? entry : nullptr;
  }

  MapError map_one(std::uint64_t ipa, std::uint64_t pa, unsigned target_level, std::uint64_t leaf) noexcept {
    std::uint64_t* table = root_;
    for (unsigned level = kStartLevel; level < target_level; ++level) {
      std::uint64_t& entry = table[index(ipa, level)];
      if ((entry & s2desc::kValid) == 0) {
        auto* next = static_cast<std::uint64_t*>(pool_.allocate());
        if (next == nullptr) return MapError::OutOfPages;
        entry = reinterpret_cast<std::uint64_t>(next) | s2desc::kValid | s2desc::kTableOrPage;
      } else if ((entry & s2desc::kTableOrPage) == 0) {
        return MapError::AlreadyMapped;  // a block covers this range already
      }
      table = reinterpret_cast<std::uint64_t*>(entry & s2desc::kAddressMask);
    }
    std::uint64_t& entry = table[index(ipa, target_level)];
    if ((entry & s2desc::kValid) != 0) return MapError::AlreadyMapped;
    const std::uint64_t type = target_level == 3 ? (s2desc::kValid | s2desc::kTableOrPage) : s2desc::kValid;
    entry = (pa & s2desc::kAddressMask) | leaf | type;
    return MapError::None;
  }

  PagePool& pool_;
  std::uint64_t* root_;
  std::uint16_t vmid_;
};

}  // namespace arm
