// Calls into the real firmware (EL3, or QEMU's built-in PSCI) on a guest's behalf.
//
// A guest's SMC reaches the firmware only when the hypervisor's allow-list admits its
// function id; the default list is empty, so the default is deny (NOT_SUPPORTED). The
// allow-list is data (ranges of function ids), not code. Admit only calls that are safe to
// pass through unchanged: the firmware sees the guest's arguments as they are, and guest
// physical addresses are not the firmware's physical addresses.
//
// The `smc #0` instruction itself sits behind a conduit: any type with
// `void call(CallRegisters&) noexcept`. SmcConduit is the real one and exists only in
// aarch64 builds (on the host, naming it does not compile); tests use a fake.
module;
#include <arm/runtime/std_support.h>
export module arm.smc:firmware;
import :smccc;

export namespace arm::smccc {

struct FirmwareFilter {
  Table<FunctionIdRange> allowed;  // empty: nothing reaches the firmware
  constexpr bool allows(FunctionId id) const noexcept { return contains(allowed, id); }
};

// Something that executes an SMCCC call: arguments in x0..x17 in, results out.
template <class Conduit>
concept FirmwareConduit = requires(Conduit& conduit, CallRegisters& registers) {
  { conduit.call(registers) } noexcept;
};

// For hypervisors that never forward: any call answers NOT_SUPPORTED.
struct NoFirmware {
  void call(CallRegisters& registers) const noexcept {
    registers = CallRegisters{{static_cast<std::uint64_t>(kNotSupported)}};
  }
};

#if defined(__aarch64__)
// The real conduit: `smc #0` from EL2 (DEN0028, "SMC and HVC calls"). x0..x17 carry
// arguments and results (SMCCC 1.2); the firmware preserves x18..x30 and SP. Memory is
// clobbered because a call may read or write buffers it was given.
struct SmcConduit {
  void call(CallRegisters& registers) const noexcept {
    register std::uint64_t x0 asm("x0") = registers.x[0];
    register std::uint64_t x1 asm("x1") = registers.x[1];
    register std::uint64_t x2 asm("x2") = registers.x[2];
    register std::uint64_t x3 asm("x3") = registers.x[3];
    register std::uint64_t x4 asm("x4") = registers.x[4];
    register std::uint64_t x5 asm("x5") = registers.x[5];
    register std::uint64_t x6 asm("x6") = registers.x[6];
    register std::uint64_t x7 asm("x7") = registers.x[7];
    register std::uint64_t x8 asm("x8") = registers.x[8];
    register std::uint64_t x9 asm("x9") = registers.x[9];
    register std::uint64_t x10 asm("x10") = registers.x[10];
    register std::uint64_t x11 asm("x11") = registers.x[11];
    register std::uint64_t x12 asm("x12") = registers.x[12];
    register std::uint64_t x13 asm("x13") = registers.x[13];
    register std::uint64_t x14 asm("x14") = registers.x[14];
    register std::uint64_t x15 asm("x15") = registers.x[15];
    register std::uint64_t x16 asm("x16") = registers.x[16];
    register std::uint64_t x17 asm("x17") = registers.x[17];
    asm volatile("smc #0"
                 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x6), "+r"(x7), "+r"(x8),
                   "+r"(x9), "+r"(x10), "+r"(x11), "+r"(x12), "+r"(x13), "+r"(x14), "+r"(x15), "+r"(x16),
                   "+r"(x17)
                 :
                 : "memory");
    registers =
        CallRegisters{{x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16, x17}};
  }
};
static_assert(FirmwareConduit<SmcConduit>);
#endif

static_assert(FirmwareConduit<NoFirmware>);

// Runs one call through the conduit and returns the firmware's x0..x17.
template <FirmwareConduit Conduit>
CallRegisters call_firmware(Conduit& conduit, const CallRegisters& arguments) noexcept {
  CallRegisters registers = arguments;
  conduit.call(registers);
  return registers;
}

}  // namespace arm::smccc
