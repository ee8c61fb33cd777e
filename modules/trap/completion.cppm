// Completions: applying the hypervisor's answer to the guest's registers before the
// guest resumes. Pure functions over GuestRegisters.
module;
#include <arm/runtime/std_support.h>
export module arm.trap:completion;
import :registers;
import :esr;
import :events;

export namespace arm {

// SMCCC's NOT_SUPPORTED (DEN0028, "Return codes"): the answer to a call nobody handled.
inline constexpr std::uint64_t kSmcccNotSupported = static_cast<std::uint64_t>(-1);

// Result registers of an HVC or SMC. An unanswered call returns NOT_SUPPORTED in x0.
constexpr void write_call_result(GuestRegisters& regs, const CallResult& result) noexcept {
  if (!result.answered) {
    regs.x[0] = kSmcccNotSupported;
    return;
  }
  for (unsigned n = 0; n < 4; ++n) regs.x[n] = result.x[n];
}

// HVC is taken after the instruction: ELR_EL2 already points past it.
constexpr void complete(GuestRegisters& regs, const Hypercall& call) noexcept { write_call_result(regs, call.result); }

// A trapped SMC is taken before it executes (Arm ARM D1.11.2, HCR_EL2.TSC): the PC
// moves past it once the call is emulated. SMC is always a 32-bit instruction.
constexpr void complete(GuestRegisters& regs, const SecureMonitorCall& call) noexcept {
  write_call_result(regs, call.result);
  regs.pc += 4;
}

}  // namespace arm
