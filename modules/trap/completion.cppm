// Completions: applying the hypervisor's answer to the guest's registers before the
// guest resumes. Pure functions over GuestRegisters.
//
// The PC moves past a trapped instruction only when the instruction was emulated (by the
// length the IL bit gave: 4, or 2 for a 16-bit T32 instruction). When it was not (an
// unanswered read, a rejected write, an unresolved fault) the PC stays on it: the vCPU
// injects an exception whose ELR_EL1 is that instruction, or the guest re-executes it.
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

// Result registers of an HVC or SMC. An unanswered call returns NOT_SUPPORTED in x0.
constexpr void write_call_result(GuestRegisters& regs, const CallResult& result) noexcept {
  if (!result.answered) {
    regs.x[0] = kSmcccNotSupported;
    return;
  }
  for (unsigned n = 0; n < 4; ++n) regs.x[n] = result.x[n];
}

// HVC is taken after the instruction: ELR_EL2 already points past it.
constexpr void complete(GuestRegisters& regs, const Hypercall& call) noexcept {
  write_call_result(regs, call.result);
}

// A trapped SMC is taken before it executes (Arm ARM D1.11.2, HCR_EL2.TSC): the PC
// moves past it once the call is emulated. SMC is always a 32-bit instruction.
constexpr void complete(GuestRegisters& regs, const SecureMonitorCall& call) noexcept {
  write_call_result(regs, call.result);
  regs.pc += 4;
}

// A trapped WF* is taken before it completes; the hypervisor's wait emulates it.
constexpr void complete(GuestRegisters& regs, const Wfx& wfx) noexcept {
  advance_pc(regs, wfx.instruction_length);
}

// An answered MMIO load writes Rt with the load's width and extension.
constexpr void complete(GuestRegisters& regs, const MmioRead& read) noexcept {
  if (!read.answered) return;
  regs.write(read.rt, extend_loaded_value(read.value, read.size, read.sign_extend, read.sixty_four));
  advance_pc(regs, read.instruction_length);
}

constexpr void complete(GuestRegisters& regs, const MmioWrite& write) noexcept {
  if (write.rejected) return;
  advance_pc(regs, write.instruction_length);
}

// MRS writes all 64 bits of Xt.
constexpr void complete(GuestRegisters& regs, const SysRegRead& read) noexcept {
  if (!read.answered) return;
  regs.write(read.rt, read.value);
  advance_pc(regs, read.instruction_length);
}

constexpr void complete(GuestRegisters& regs, const SysRegWrite& write) noexcept {
  if (write.rejected) return;
  advance_pc(regs, write.instruction_length);
}

// The hypervisor emulated the access itself (and wrote any destination register): only
// the PC moves. Retry and Unresolved leave the PC on the instruction.
constexpr void complete(GuestRegisters& regs, const UndecodedDataAbort& abort) noexcept {
  if (abort.resolution == FaultResolution::Emulated) advance_pc(regs, abort.instruction_length);
}

}  // namespace arm
