// arm.fdt: read and write flattened device trees (Devicetree Specification v0.4,
// chapter 5 "Flattened Devicetree (DTB) Format"). A hypervisor derives its guest's tree
// from the one its firmware gave it: Reader walks the source token by token, Writer emits
// the result, and the hypervisor decides in between what to keep, change or add.
// No allocation: the Writer fills a caller-supplied buffer and reports overflow.
module;
#include <arm/runtime/std_support.h>
export module arm.fdt;

namespace arm::fdt {

constexpr std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
constexpr void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
constexpr std::size_t align4(std::size_t n) noexcept { return (n + 3) & ~std::size_t{3}; }
constexpr std::size_t string_length(const char* s) noexcept {
  std::size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}
export constexpr bool strings_equal(const char* a, const char* b) noexcept {
  std::size_t i = 0;
  for (; a[i] != '\0' && a[i] == b[i]; ++i) {
  }
  return a[i] == b[i];
}

// Structure block tokens (5.4.1).
constexpr std::uint32_t kBeginNode = 1;
constexpr std::uint32_t kEndNode = 2;
constexpr std::uint32_t kProp = 3;
constexpr std::uint32_t kNop = 4;
constexpr std::uint32_t kEnd = 9;

// Header fields, as byte offsets (5.2).
constexpr std::size_t kHeaderSize = 40;
constexpr std::size_t kOffMagic = 0, kOffTotalSize = 4, kOffStruct = 8, kOffStrings = 12, kOffMemRsv = 16,
                      kOffVersion = 20, kOffLastCompVersion = 24, kOffBootCpu = 28, kOffStringsSize = 32,
                      kOffStructSize = 36;

}  // namespace arm::fdt

export namespace arm::fdt {

inline constexpr std::uint32_t kMagic = 0xd00dfeed;

// Big-endian cells of a property value.
constexpr std::uint32_t cell(const std::uint8_t* data, std::size_t index) noexcept {
  return load_be32(data + 4 * index);
}

struct Token {
  enum class Kind : std::uint8_t { BeginNode, EndNode, Property, End, Error };
  Kind kind = Kind::End;
  const char* name = nullptr;          // node name (unit address included) or property name
  const std::uint8_t* data = nullptr;  // property value
  std::uint32_t size = 0;              // property value size in bytes
};

class Reader {
 public:
  // Checks the header of the blob at `blob`, which may extend at most `max_size` bytes.
  static bool valid(const void* blob, std::size_t max_size) noexcept {
    if (max_size < kHeaderSize) return false;
    const auto* p = static_cast<const std::uint8_t*>(blob);
    const std::uint32_t total = load_be32(p + kOffTotalSize);
    return load_be32(p + kOffMagic) == kMagic && total <= max_size && total >= kHeaderSize &&
           load_be32(p + kOffLastCompVersion) <= 17 && load_be32(p + kOffStruct) < total &&
           load_be32(p + kOffStrings) <= total;
  }

  explicit Reader(const void* blob) noexcept : base_(static_cast<const std::uint8_t*>(blob)) {
    total_ = load_be32(base_ + kOffTotalSize);
    cursor_ = load_be32(base_ + kOffStruct);
    struct_end_ = cursor_ + load_be32(base_ + kOffStructSize);
    strings_ = load_be32(base_ + kOffStrings);
    strings_size_ = load_be32(base_ + kOffStringsSize);
    if (struct_end_ > total_) struct_end_ = total_;
  }

  std::uint32_t total_size() const noexcept { return total_; }
  std::uint32_t boot_cpu() const noexcept { return load_be32(base_ + kOffBootCpu); }

  // The next token of the structure block; NOPs are skipped. Malformed input gives Error.
  Token next() noexcept {
    for (;;) {
      if (cursor_ + 4 > struct_end_) return {Token::Kind::Error};
      const std::uint32_t token = load_be32(base_ + cursor_);
      cursor_ += 4;
      switch (token) {
        case kNop:
          continue;
        case kBeginNode: {
          const char* name = reinterpret_cast<const char*>(base_ + cursor_);
          std::size_t length = 0;
          while (cursor_ + length < struct_end_ && name[length] != '\0') ++length;
          if (cursor_ + length >= struct_end_) return {Token::Kind::Error};
          cursor_ += static_cast<std::uint32_t>(align4(length + 1));
          return {Token::Kind::BeginNode, name};
        }
        case kEndNode:
          return {Token::Kind::EndNode};
        case kProp: {
          if (cursor_ + 8 > struct_end_) return {Token::Kind::Error};
          const std::uint32_t size = load_be32(base_ + cursor_);
          const std::uint32_t name_offset = load_be32(base_ + cursor_ + 4);
          cursor_ += 8;
          if (size > struct_end_ - cursor_ || name_offset >= strings_size_) return {Token::Kind::Error};
          Token property{Token::Kind::Property, reinterpret_cast<const char*>(base_ + strings_ + name_offset),
                         base_ + cursor_, size};
          cursor_ += static_cast<std::uint32_t>(align4(size));
          return property;
        }
        case kEnd:
          return {Token::Kind::End};
        default:
          return {Token::Kind::Error};
      }
    }
  }

 private:
  const std::uint8_t* base_;
  std::uint32_t total_ = 0;
  std::uint32_t cursor_ = 0;
  std::uint32_t struct_end_ = 0;
  std::uint32_t strings_ = 0;
  std::uint32_t strings_size_ = 0;
};

// Builds a DTB in a caller's buffer. Every call returns false once the buffer (or the
// strings table) is full; finish() then returns 0.
class Writer {
 public:
  static constexpr std::size_t kStringsCapacity = 4096;

  Writer(void* buffer, std::size_t capacity) noexcept
      : base_(static_cast<std::uint8_t*>(buffer)), capacity_(capacity), cursor_(kStructStart) {
    ok_ = capacity_ >= kStructStart;
  }

  bool begin_node(const char* name) noexcept {
    const std::size_t length = string_length(name) + 1;
    if (!reserve(4 + align4(length))) return false;
    emit32(kBeginNode);
    emit_bytes(name, length);
    ++depth_;
    return true;
  }
  bool end_node() noexcept {
    if (depth_ == 0 || !reserve(4)) return ok_ = false;
    emit32(kEndNode);
    --depth_;
    return true;
  }
  bool property(const char* name, const void* data, std::uint32_t size) noexcept {
    const std::uint32_t name_offset = intern(name);
    if (!ok_ || !reserve(12 + align4(size))) return false;
    emit32(kProp);
    emit32(size);
    emit32(name_offset);
    emit_bytes(data, size);
    return true;
  }
  bool property_string(const char* name, const char* value) noexcept {
    return property(name, value, static_cast<std::uint32_t>(string_length(value) + 1));
  }
  bool property_u32(const char* name, std::uint32_t value) noexcept {
    std::uint8_t cells[4];
    store_be32(cells, value);
    return property(name, cells, 4);
  }
  // A 64-bit value as two cells (#address-cells = 2 style).
  bool property_u64(const char* name, std::uint64_t value) noexcept {
    std::uint8_t cells[8];
    store_be32(cells, static_cast<std::uint32_t>(value >> 32));
    store_be32(cells + 4, static_cast<std::uint32_t>(value));
    return property(name, cells, 8);
  }
  // <address size> as 2 + 2 cells.
  bool property_reg(const char* name, std::uint64_t address, std::uint64_t size) noexcept {
    std::uint8_t cells[16];
    store_be32(cells, static_cast<std::uint32_t>(address >> 32));
    store_be32(cells + 4, static_cast<std::uint32_t>(address));
    store_be32(cells + 8, static_cast<std::uint32_t>(size >> 32));
    store_be32(cells + 12, static_cast<std::uint32_t>(size));
    return property(name, cells, 16);
  }

  // Completes the blob (header, empty memory reservation map, strings); returns its total
  // size, or 0 if anything did not fit or a node is still open.
  std::size_t finish(std::uint32_t boot_cpu = 0) noexcept {
    if (!ok_ || depth_ != 0 || !reserve(4 + strings_size_)) return 0;
    emit32(kEnd);
    const std::size_t struct_size = cursor_ - kStructStart;
    const std::size_t strings_offset = cursor_;
    emit_bytes(strings_, strings_size_);
    const std::size_t total = align4(cursor_);
    store_be32(base_ + kOffMagic, kMagic);
    store_be32(base_ + kOffTotalSize, static_cast<std::uint32_t>(total));
    store_be32(base_ + kOffStruct, static_cast<std::uint32_t>(kStructStart));
    store_be32(base_ + kOffStrings, static_cast<std::uint32_t>(strings_offset));
    store_be32(base_ + kOffMemRsv, static_cast<std::uint32_t>(kHeaderSize));
    store_be32(base_ + kOffVersion, 17);
    store_be32(base_ + kOffLastCompVersion, 16);
    store_be32(base_ + kOffBootCpu, boot_cpu);
    store_be32(base_ + kOffStringsSize, strings_size_);
    store_be32(base_ + kOffStructSize, static_cast<std::uint32_t>(struct_size));
    for (std::size_t i = kHeaderSize; i < kStructStart; ++i) base_[i] = 0;  // reservation map terminator
    return total;
  }

 private:
  // Header, then one empty memory reservation entry (two zero u64s).
  static constexpr std::size_t kStructStart = kHeaderSize + 16;

  bool reserve(std::size_t bytes) noexcept {
    if (!ok_ || cursor_ + bytes > capacity_) ok_ = false;
    return ok_;
  }
  void emit32(std::uint32_t value) noexcept {
    store_be32(base_ + cursor_, value);
    cursor_ += 4;
  }
  void emit_bytes(const void* data, std::size_t size) noexcept {
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    for (std::size_t i = 0; i < size; ++i) base_[cursor_ + i] = bytes[i];
    for (std::size_t i = size; i < align4(size); ++i) base_[cursor_ + i] = 0;
    cursor_ += align4(size);
  }
  std::uint32_t intern(const char* name) noexcept {
    for (std::uint32_t offset = 0; offset < strings_size_;) {
      if (strings_equal(strings_ + offset, name)) return offset;
      offset += static_cast<std::uint32_t>(string_length(strings_ + offset) + 1);
    }
    const std::size_t length = string_length(name) + 1;
    if (strings_size_ + length > kStringsCapacity) {
      ok_ = false;
      return 0;
    }
    for (std::size_t i = 0; i < length; ++i) strings_[strings_size_ + i] = name[i];
    const std::uint32_t offset = strings_size_;
    strings_size_ += static_cast<std::uint32_t>(length);
    return offset;
  }

  std::uint8_t* base_;
  std::size_t capacity_;
  std::size_t cursor_;
  unsigned depth_ = 0;
  bool ok_ = true;
  char strings_[kStringsCapacity] = {};
  std::uint32_t strings_size_ = 0;
};

}  // namespace arm::fdt
