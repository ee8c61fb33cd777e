// ESR_EL2, the Exception Syndrome Register, as named fields.
// Arm ARM (DDI 0487), D19.2 "ESR_EL2": EC [31:26], IL [25], ISS [24:0], ISS2 [55:32].
// The register stays 64-bit everywhere: ISS2 lives above bit 31.
module;
#include <arm/runtime/std_support.h>
export module arm.trap:esr;

export namespace arm {

// Extracts bits [high:low] of a register value.
constexpr std::uint64_t bits(std::uint64_t value, unsigned high, unsigned low) noexcept {
  const unsigned width = high - low + 1;
  const std::uint64_t mask = width >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
  return (value >> low) & mask;
}
constexpr bool bit(std::uint64_t value, unsigned position) noexcept { return ((value >> position) & 1) != 0; }

// ESR_ELx.EC values (Arm ARM D19.2, "ESR_EL2", field EC). Unallocated values decode as
// Unhandled events; they are never assumed impossible.
enum class ExceptionClass : std::uint8_t {
  Unknown = 0x00,
  WfiWfe = 0x01,
  Mcr32Cp15 = 0x03,
  Mcrr32Cp15 = 0x04,
  Mcr32Cp14 = 0x05,
  Ldc32Cp14 = 0x06,
  FpSimdAccess = 0x07,
  Vmrs32IdGroup = 0x08,
  PointerAuthInstruction = 0x09,
  Other64 = 0x0a,
  Mrrc32Cp14 = 0x0c,
  BranchTarget = 0x0d,
  IllegalState = 0x0e,
  Svc32 = 0x11,
  Hvc32 = 0x12,
  Smc32 = 0x13,
  Svc64 = 0x15,
  Hvc64 = 0x16,
  Smc64 = 0x17,
  SysReg64 = 0x18,
  SveAccess = 0x19,
  Eret = 0x1a,
  Tstart = 0x1b,
  PointerAuthFailure = 0x1c,
  SmeAccess = 0x1d,
  ImplementationDefinedEl3 = 0x1f,
  InstructionAbortLower = 0x20,
  InstructionAbortSame = 0x21,
  PcAlignment = 0x22,
  DataAbortLower = 0x24,
  DataAbortSame = 0x25,
  SpAlignment = 0x26,
  MemoryCopySet = 0x27,
  FpException32 = 0x28,
  FpException64 = 0x2c,
  GuardedControlStack = 0x2d,
  SError = 0x2f,
  BreakpointLower = 0x30,
  BreakpointSame = 0x31,
  SoftwareStepLower = 0x32,
  SoftwareStepSame = 0x33,
  WatchpointLower = 0x34,
  WatchpointSame = 0x35,
  Bkpt32 = 0x38,
  VectorCatch32 = 0x3a,
  Brk64 = 0x3c,
  PmuException = 0x3d,
};

// Whether an exception class can only come from AArch32 state: the trapped coprocessor
// accesses, SVC/HVC/SMC and BKPT of A32/T32, AArch32 floating-point exceptions and vector
// catch (Arm ARM, ESR_EL2, field EC). The library runs AArch64 guests only.
constexpr bool is_aarch32_class(ExceptionClass ec) noexcept {
  switch (ec) {
    case ExceptionClass::Mcr32Cp15:
    case ExceptionClass::Mcrr32Cp15:
    case ExceptionClass::Mcr32Cp14:
    case ExceptionClass::Ldc32Cp14:
    case ExceptionClass::Vmrs32IdGroup:
    case ExceptionClass::Mrrc32Cp14:
    case ExceptionClass::Svc32:
    case ExceptionClass::Hvc32:
    case ExceptionClass::Smc32:
    case ExceptionClass::FpException32:
    case ExceptionClass::Bkpt32:
    case ExceptionClass::VectorCatch32:
      return true;
    default:
      return false;
  }
}

// A read-only view of an ESR value with the architecture's field names.
class Esr {
 public:
  constexpr explicit Esr(std::uint64_t value) noexcept : value_(value) {}
  constexpr std::uint64_t value() const noexcept { return value_; }
  constexpr ExceptionClass ec() const noexcept { return static_cast<ExceptionClass>(bits(value_, 31, 26)); }
  // IL: 1 for a 32-bit instruction, 0 for a 16-bit one (T32) or where not applicable.
  constexpr bool il() const noexcept { return bit(value_, 25); }
  constexpr std::uint32_t iss() const noexcept { return static_cast<std::uint32_t>(bits(value_, 24, 0)); }
  constexpr std::uint32_t iss2() const noexcept { return static_cast<std::uint32_t>(bits(value_, 55, 32)); }
  // Length of the trapped instruction in bytes, from IL.
  constexpr unsigned instruction_length() const noexcept { return il() ? 4 : 2; }

  // Builds an ESR value from fields (tests and exception injection).
  static constexpr Esr make(ExceptionClass ec, bool il, std::uint32_t iss) noexcept {
    return Esr{(std::uint64_t{static_cast<std::uint8_t>(ec)} << 26) | (std::uint64_t{il} << 25) |
               (iss & 0x1ffffffu)};
  }

 private:
  std::uint64_t value_;
};

}  // namespace arm
