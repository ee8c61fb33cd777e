// The SMC Calling Convention itself (Arm DEN0028): function identifiers, return codes, the
// registers of a call, and the small vocabulary every other partition of arm.smc shares.
module;
#include <arm/runtime/std_support.h>
export module arm.smc:smccc;
import arm.trap;

export namespace arm::smccc {

// SMCCC return codes (DEN0028, "Return codes"). Returned sign-extended to 64 bits in x0:
// callers compare the whole register with -1 (Linux does), not only w0.
inline constexpr std::int64_t kSuccess = 0;
inline constexpr std::int64_t kNotSupported = -1;
inline constexpr std::int64_t kNotRequired = -2;
inline constexpr std::int64_t kInvalidParameter = -3;

// Owning entity numbers (DEN0028, "Function Identifier", bits [29:24]).
enum class Owner : std::uint8_t {
  ArmArchitecture = 0,
  CpuService = 1,
  SiliconProvider = 2,
  Oem = 3,
  StandardSecure = 4,  // PSCI lives here
  StandardHypervisor = 5,
  VendorHypervisor = 6,
};

// A function identifier in w0 (DEN0028, "Function Identifier"): bit 31 fast call, bit 30
// SMC64, bits [29:24] owning entity, bits [15:0] function number.
class FunctionId {
 public:
  static constexpr std::uint32_t kFastBit = 1u << 31;
  static constexpr std::uint32_t kSmc64Bit = 1u << 30;

  constexpr explicit FunctionId(std::uint64_t x0) noexcept : value_(static_cast<std::uint32_t>(x0)) {}
  constexpr std::uint32_t value() const noexcept { return value_; }
  constexpr bool is_fast() const noexcept { return (value_ & kFastBit) != 0; }
  constexpr bool is_smc64() const noexcept { return (value_ & kSmc64Bit) != 0; }
  constexpr Owner owner() const noexcept { return static_cast<Owner>((value_ >> 24) & 0x3f); }
  constexpr std::uint16_t number() const noexcept { return static_cast<std::uint16_t>(value_ & 0xffff); }
  // Bits [23:16] must be zero in a fast call (bit 16 is the SVE hint from SMCCC 1.3).
  constexpr bool reserved_bits_clear() const noexcept { return ((value_ >> 17) & 0x7f) == 0; }
  // The same function in the 32-bit convention (SMC32), to compare ids regardless of width.
  constexpr std::uint32_t as_smc32() const noexcept { return value_ & ~kSmc64Bit; }

 private:
  std::uint32_t value_;
};

// The version the library implements and reports through SMCCC_VERSION: 1.1 (DEN0028,
// "SMCCC_VERSION": major in [30:16], minor in [15:0]). Not 1.2: a call that reaches the
// hypervisor as an event carries x0..x6 and answers in x0..x3, which is the 1.1 contract.
inline constexpr std::uint32_t kImplementedVersion = (1u << 16) | 1u;

// Which instruction the guest used. An SMCCC implementation owns one conduit per calling
// world (DEN0028, "Conduits"), but a guest may try either: the hypervisor answers both.
using Conduit = arm::Conduit;  // arm.trap's: the call events carry it

// x0..x17 of a call: arguments on the way in, results on the way out. SMCCC 1.2 lets
// SMC64/HVC64 calls pass arguments and results in all of them (DEN0028, "Argument
// passing" and "Return values"); earlier versions use x0..x7 and x0..x3.
inline constexpr unsigned kCallRegisterCount = 18;
struct CallRegisters {
  std::uint64_t x[kCallRegisterCount] = {};
};

// The immediate answer to a call: x0..x3 as the convention returns them. Results a call
// does not define are zero, so nothing of the hypervisor leaks into them.
struct Answer {
  std::uint64_t x[4] = {};
};
constexpr Answer answer_with(std::int64_t x0) noexcept {
  return Answer{{static_cast<std::uint64_t>(x0), 0, 0, 0}};
}

// A read-only view of a table the hypervisor owns (the VM's vCPUs, an allow-list): a
// pointer and a count, because the freestanding build has no std::span. The hypervisor
// may change the table's contents between calls; the view never copies them.
template <class T>
class Table {
 public:
  constexpr Table() noexcept = default;
  constexpr Table(const T* items, std::size_t count) noexcept : items_(items), count_(count) {}
  template <std::size_t N>
  constexpr Table(const T (&items)[N]) noexcept : items_(items), count_(N) {}

  constexpr const T* begin() const noexcept { return items_; }
  constexpr const T* end() const noexcept { return items_ + count_; }
  constexpr std::size_t size() const noexcept { return count_; }
  constexpr bool empty() const noexcept { return count_ == 0; }
  constexpr const T& operator[](std::size_t index) const noexcept { return items_[index]; }

 private:
  const T* items_ = nullptr;
  std::size_t count_ = 0;
};

// An inclusive range of function identifiers, compared on w0 exactly as the guest passed
// it: list SMC32 and SMC64 forms separately when both are meant.
struct FunctionIdRange {
  std::uint32_t first = 0;
  std::uint32_t last = 0;
  constexpr bool contains(FunctionId id) const noexcept { return first <= id.value() && id.value() <= last; }
};

constexpr bool contains(Table<FunctionIdRange> ranges, FunctionId id) noexcept {
  for (const FunctionIdRange& range : ranges)
    if (range.contains(id)) return true;
  return false;
}

// SMC32 callers pass 32-bit arguments in w1..w7 (DEN0028, "SMC32/HVC32 argument passing":
// the upper halves of x1..x7 are ignored). Returns the registers as the callee must read them.
constexpr CallRegisters arguments_for(FunctionId id, const CallRegisters& registers) noexcept {
  CallRegisters arguments = registers;
  if (!id.is_smc64())
    for (unsigned n = 1; n < 8; ++n) arguments.x[n] &= 0xffff'ffffu;
  return arguments;
}

}  // namespace arm::smccc
