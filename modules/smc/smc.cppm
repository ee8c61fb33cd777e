// arm.smc: the SMC Calling Convention (Arm DEN0028) and, on top of it, the calls a
// hypervisor answers for its guests. This file: function ids and the Arm Architecture
// calls (SMCCC_VERSION, SMCCC_ARCH_FEATURES).
module;
#include <arm/runtime/std_support.h>
export module arm.smc;

export namespace arm::smccc {

// SMCCC return codes (DEN0028, "Return codes").
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
  constexpr explicit FunctionId(std::uint64_t x0) noexcept : value_(static_cast<std::uint32_t>(x0)) {}
  constexpr std::uint32_t value() const noexcept { return value_; }
  constexpr bool is_fast() const noexcept { return (value_ >> 31) & 1; }
  constexpr bool is_smc64() const noexcept { return (value_ >> 30) & 1; }
  constexpr Owner owner() const noexcept { return static_cast<Owner>((value_ >> 24) & 0x3f); }
  constexpr std::uint16_t number() const noexcept { return static_cast<std::uint16_t>(value_ & 0xffff); }
  // Bits [23:16] must be zero in a fast call (bit 16 is the SVE hint from SMCCC 1.3).
  constexpr bool reserved_bits_clear() const noexcept { return ((value_ >> 17) & 0x7f) == 0; }
  // The same function in the 32-bit convention (SMC32), to compare ids regardless of width.
  constexpr std::uint32_t as_smc32() const noexcept { return value_ & ~(std::uint32_t{1} << 30); }

 private:
  std::uint32_t value_;
};

// Arm Architecture calls (DEN0028, section 7).
inline constexpr std::uint32_t kSmcccVersion = 0x8000'0000;
inline constexpr std::uint32_t kSmcccArchFeatures = 0x8000'0001;
inline constexpr std::uint32_t kSmcccArchSocId = 0x8000'0002;
inline constexpr std::uint32_t kArchWorkaround1 = 0x8000'8000;
inline constexpr std::uint32_t kArchWorkaround2 = 0x8000'7fff;
inline constexpr std::uint32_t kArchWorkaround3 = 0x8000'3fff;

// The SMCCC version the library implements: 1.1 (major in [30:16], minor in [15:0]).
inline constexpr std::uint32_t kImplementedVersion = (1u << 16) | 1u;

}  // namespace arm::smccc
