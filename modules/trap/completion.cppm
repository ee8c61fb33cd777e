// Completions: applying the hypervisor's answer to the guest's registers before the
// guest resumes. Pure functions over GuestRegisters; arm.vcpu:rules says when each runs.
//
// The PC moves past a trapped instruction only when the instruction was emulated (by the
// event's instruction_length: 4 for every event the decoder builds, all of them from
// AArch64 state; see kA64InstructionLength in arm.trap:events). When it was not (an
// unanswered read, a rejected write, an unresolved fault) no completion runs and the PC
// stays on it: the vCPU injects an exception whose ELR_EL1 is that instruction, or the
// guest re-executes it.
// Register 31 is XZR in every encoding these events come from: reads give 0 and writes
// are discarded (GuestRegisters::read/write).
module;
#include <arm/runtime/std_support.h>
export module arm.trap:completion;
import :registers;
import :esr;
import :events;
import :mmio;
import :abort;
import :sysreg;

export namespace arm {

// SMCCC's NOT_SUPPORTED (DEN0028, "Return codes"): the answer to a call nobody handled.
inline constexpr std::uint64_t kSmcccNotSupported = static_cast<std::uint64_t>(-1);

constexpr void advance_pc(GuestRegisters& regs, unsigned instruction_length) noexcept {
  regs.pc += instruction_length;
}

constexpr Conduit conduit_of(const Hypercall&) noexcept { return Conduit::Hvc; }
constexpr Conduit conduit_of(const SecureMonitorCall&) noexcept { return Conduit::Smc; }

// A call's result registers x0-x3 (SMCCC 1.1), and where the guest resumes: the one place
// the conduit matters. HVC is taken after the instruction (ELR_EL2 already points past
// it); a trapped SMC is taken before it executes (Arm ARM D1.11.2, HCR_EL2.TSC), so the PC
// moves past it once the call is answered. SMC is always a 32-bit instruction.
constexpr void complete_call(GuestRegisters& regs, const std::uint64_t (&x)[4], Conduit conduit) noexcept {
  for (unsigned n = 0; n < 4; ++n) regs.x[n] = x[n];
  if (conduit == Conduit::Smc) advance_pc(regs, 4);
}
constexpr void complete_call(GuestRegisters& regs, const CallResult& result, Conduit conduit) noexcept {
  regs.x[0] = result.x[0];
  if (result.count > 1) [[unlikely]]
    for (unsigned n = 1; n < result.count && n < 4; ++n) regs.x[n] = result.x[n];
  if (conduit == Conduit::Smc) advance_pc(regs, 4);
}
// A call nobody answered returns NOT_SUPPORTED in x0 and leaves x1-x3 as they were.
constexpr void complete_call_not_supported(GuestRegisters& regs, Conduit conduit) noexcept {
  complete_call(regs, CallResult{{kSmcccNotSupported}, 1}, conduit);
}

// The completions of the answered events (Reply::Answered), and of the ones whose rule
// takes no reply as done (a write nobody rejected, a WF* the hypervisor waited for).
template <class Call>
  requires(std::is_same_v<Call, Hypercall> || std::is_same_v<Call, SecureMonitorCall>)
constexpr void complete(GuestRegisters& regs, const Call& call) noexcept {
  complete_call(regs, call.result, conduit_of(call));
}

// A trapped WF* is taken before it completes; the hypervisor's wait emulates it.
constexpr void complete(GuestRegisters& regs, const Wfx& wfx) noexcept {
  advance_pc(regs, wfx.instruction_length);
}

// An MMIO load writes Rt with the load's width and extension.
constexpr void complete(GuestRegisters& regs, const MmioRead& read) noexcept {
  regs.write(read.rt, extend_loaded_value(read.value, read.size, read.sign_extend, read.sixty_four));
  advance_pc(regs, read.instruction_length);
}

constexpr void complete(GuestRegisters& regs, const MmioWrite& write) noexcept {
  advance_pc(regs, write.instruction_length);
}

// MRS writes all 64 bits of Xt.
constexpr void complete(GuestRegisters& regs, const SysRegRead& read) noexcept {
  regs.write(read.rt, read.value);
  advance_pc(regs, read.instruction_length);
}

constexpr void complete(GuestRegisters& regs, const SysRegWrite& write) noexcept {
  advance_pc(regs, write.instruction_length);
}

// The hypervisor emulated the access itself (and wrote any destination register): only
// the PC moves.
constexpr void complete(GuestRegisters& regs, const UndecodedDataAbort& abort) noexcept {
  advance_pc(regs, abort.instruction_length);
}

}  // namespace arm
