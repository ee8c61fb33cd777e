// The exit rules: for every event, in one row, its name and what the guest sees when the
// hypervisor gives it no reply or rejects it. finish() applies a reply (or the row's
// default) to the guest when the vCPU resumes it. arm.smc adds the rows of its PSCI events
// and arm.vcpu the row of ExternalInterrupt; arm.vcpu checks at compile time that every
// alternative of Exit has one.
//
// The defaults follow one principle: the guest sees what a machine without the emulated
// thing would give it. A device nobody answers is a bus error (a synchronous external
// abort); a register or instruction nobody emulates is UNDEFINED; a call nobody answers
// is SMCCC's NOT_SUPPORTED (DEN0028, "Return codes"); a write nobody rejected is done.
module;
#include <arm/runtime/std_support.h>
export module arm.trap:rules;
import :registers;
import :events;
import :mmio;
import :abort;
import :sysreg;
import :debug;
import :decode;
import :completion;
import :inject;

export namespace arm {

// What happens to the guest for an event without a (positive) reply.
enum class Default : std::uint8_t {
  Complete,       // as if answered: the event's completion runs (a write is done, a WF* waited)
  NotSupported,   // a call: x0 = NOT_SUPPORTED, the guest resumes past the call
  Resume,         // nothing to undo: the guest resumes where it was (an interrupt, an SError)
  Undefined,      // an undefined instruction exception at EL1 (inject_undefined_instruction)
  ExternalAbort,  // a synchronous external abort at EL1, data or instruction as the access (inject_abort)
};

struct ExitRule {
  const char* name = nullptr;             // for logs and statistics; nullptr: the event has no row
  Default no_reply = Default::Undefined;  // Reply::None
  Default rejected = Default::Undefined;  // Reply::Rejected (reject(): the writes only)
};

// One row per event. Reply::Answered always runs the event's completion (arm.trap:completion)
// and Reply::Retry always resumes at the same instruction; only the defaults differ.
template <class Event>
inline constexpr ExitRule kExitRule{};

// clang-format off
template <> inline constexpr ExitRule kExitRule<Hypercall> = {"hypercall", Default::NotSupported};
template <> inline constexpr ExitRule kExitRule<SecureMonitorCall> = {"smc", Default::NotSupported};
template <> inline constexpr ExitRule kExitRule<Wfx> = {"wfi/wfe", Default::Complete};
template <> inline constexpr ExitRule kExitRule<SysRegRead> = {"sysreg-read", Default::Undefined};
template <> inline constexpr ExitRule kExitRule<SysRegWrite> = {"sysreg-write", Default::Complete, Default::Undefined};
template <> inline constexpr ExitRule kExitRule<MmioRead> = {"mmio-read", Default::ExternalAbort};
template <> inline constexpr ExitRule kExitRule<MmioWrite> = {"mmio-write", Default::Complete, Default::ExternalAbort};
template <> inline constexpr ExitRule kExitRule<UndecodedDataAbort> = {"undecoded-data-abort", Default::ExternalAbort};
template <> inline constexpr ExitRule kExitRule<GuestMemoryFault> = {"guest-memory-fault", Default::ExternalAbort};
template <> inline constexpr ExitRule kExitRule<InstructionAbort> = {"instruction-abort", Default::ExternalAbort};
template <> inline constexpr ExitRule kExitRule<SystemError> = {"serror", Default::Resume};
// Traps with no emulation: the undefined instruction a machine without the feature gives.
template <> inline constexpr ExitRule kExitRule<FpAccessTrap> = {"fp-access-trap", Default::Undefined};
template <> inline constexpr ExitRule kExitRule<PointerAuthTrap> = {"pointer-auth-trap", Default::Undefined};
template <> inline constexpr ExitRule kExitRule<IllegalExecutionState> = {"illegal-state", Default::Undefined};
template <> inline constexpr ExitRule kExitRule<UnknownReason> = {"unknown-reason", Default::Undefined};
template <> inline constexpr ExitRule kExitRule<UnsupportedAArch32> = {"aarch32", Default::Undefined};
template <> inline constexpr ExitRule kExitRule<PcAlignmentFault> = {"pc-alignment", Default::Undefined};
template <> inline constexpr ExitRule kExitRule<SpAlignmentFault> = {"sp-alignment", Default::Undefined};
template <> inline constexpr ExitRule kExitRule<Breakpoint> = {"breakpoint", Default::Undefined};
template <> inline constexpr ExitRule kExitRule<SoftwareStep> = {"software-step", Default::Undefined};
template <> inline constexpr ExitRule kExitRule<Watchpoint> = {"watchpoint", Default::Undefined};
template <> inline constexpr ExitRule kExitRule<BrkInstruction> = {"brk", Default::Undefined};
template <> inline constexpr ExitRule kExitRule<Unhandled> = {"unhandled", Default::Undefined};
// clang-format on

template <class Event>
concept HasExitRule = kExitRule<Event>.name != nullptr;

namespace detail {
template <Default action, class Event, class Inject>
constexpr void apply_default(GuestRegisters& regs, const Event& event, Inject& inject) noexcept {
  if constexpr (action == Default::Complete) {
    complete(regs, event);
  } else if constexpr (action == Default::NotSupported) {
    complete_call_not_supported(regs, conduit_of(event));
  } else if constexpr (action == Default::Undefined) {
    inject([](GuestRegisters& r, El1ExceptionState& el1) { inject_undefined_instruction(r, el1); });
  } else if constexpr (action == Default::ExternalAbort) {
    inject([&](GuestRegisters& r, El1ExceptionState& el1) { inject_abort(r, el1, event); });
  }
}
}  // namespace detail

// Applies the hypervisor's reply to `event`, or its row's default, to the guest's
// registers. `inject(f)` runs f(regs, el1) against the guest's EL1 exception registers
// (which the caller reads only when an exception is injected). A row naming a default the
// event cannot take (Complete without a completion, ExternalAbort for a non-access) does
// not compile.
template <HasExitRule Event, class Inject>
constexpr void finish(GuestRegisters& regs, const Event& event, Inject&& inject) noexcept {
  constexpr ExitRule rule = kExitRule<Event>;
  if constexpr (requires { event.reply; }) {
    // The answered event first: the common case pays for one test.
    if (event.reply == Reply::Answered) [[likely]] {
      // Faults answered only by retry() have no completion and never get here.
      if constexpr (requires { complete(regs, event); }) complete(regs, event);
      return;
    }
    if (event.reply == Reply::Retry) return;
    if (event.reply == Reply::Rejected) {
      detail::apply_default<rule.rejected>(regs, event, inject);
      return;
    }
  }
  detail::apply_default<rule.no_reply>(regs, event, inject);
}

}  // namespace arm
