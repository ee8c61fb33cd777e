// The events run() yields: everything arm.trap decodes, plus what only the vCPU sees.
module;
#include <arm/asm/context.h>
#include <arm/runtime/std_support.h>
export module arm.vcpu:exits;
import arm.runtime;
import arm.trap;
import arm.smc;

export namespace arm {

// Which vector entry ended a guest run (asm/vectors.S).
enum class ExitVector : std::uint64_t {
  Synchronous = ARM_EXIT_SYNCHRONOUS,
  Irq = ARM_EXIT_IRQ,
  Fiq = ARM_EXIT_FIQ,
  SError = ARM_EXIT_SERROR,
};
inline constexpr std::uint64_t kExitFromAArch32 = ARM_EXIT_AARCH32_FLAG;

// A physical interrupt arrived while the guest ran (HCR_EL2.IMO/FMO route it to EL2).
// The hypervisor acknowledges it at its interrupt controller.
struct ExternalInterrupt {
  bool fiq = false;
};

// The output level of one of the vCPU's timers changed inside run(): a trapped write to the
// emulated EL1 physical timer (CNTP_CTL_EL0, CNTP_CVAL_EL0, CNTP_TVAL_EL0) raised or lowered
// it. The write itself is already answered; the hypervisor passes the level to its virtual
// GIC (Vgic::set_level(intid, high, vcpu)) before the guest runs again, so that a level that
// dropped before the guest acknowledged its interrupt is retired as on hardware.
struct TimerLevel {
  std::uint32_t intid = 0;
  bool high = false;
};

// What run() yields: one typed event per exit that needs the hypervisor. The PSCI events
// come from HVC/SMC calls that arm.smc could not answer alone (VCpuConfig::calls).
using Exit = TrapEvent::With<ExternalInterrupt, TimerLevel, PsciCpuOn, PsciCpuOff, PsciCpuSuspend,
                             PsciSystemOff, PsciSystemReset>;

// A short name per exit type, for logs and statistics.
template <class Event>
inline constexpr const char* kExitName = "other";
template <>
inline constexpr const char* kExitName<Hypercall> = "hypercall";
template <>
inline constexpr const char* kExitName<SecureMonitorCall> = "smc";
template <>
inline constexpr const char* kExitName<Wfx> = "wfi/wfe";
template <>
inline constexpr const char* kExitName<FpAccessTrap> = "fp-access-trap";
template <>
inline constexpr const char* kExitName<PointerAuthTrap> = "pointer-auth-trap";
template <>
inline constexpr const char* kExitName<IllegalExecutionState> = "illegal-state";
template <>
inline constexpr const char* kExitName<UnknownReason> = "unknown-reason";
template <>
inline constexpr const char* kExitName<UnsupportedAArch32> = "aarch32";
template <>
inline constexpr const char* kExitName<SysRegRead> = "sysreg-read";
template <>
inline constexpr const char* kExitName<SysRegWrite> = "sysreg-write";
template <>
inline constexpr const char* kExitName<InstructionAbort> = "instruction-abort";
template <>
inline constexpr const char* kExitName<PcAlignmentFault> = "pc-alignment";
template <>
inline constexpr const char* kExitName<SpAlignmentFault> = "sp-alignment";
template <>
inline constexpr const char* kExitName<MmioRead> = "mmio-read";
template <>
inline constexpr const char* kExitName<MmioWrite> = "mmio-write";
template <>
inline constexpr const char* kExitName<UndecodedDataAbort> = "undecoded-data-abort";
template <>
inline constexpr const char* kExitName<GuestMemoryFault> = "guest-memory-fault";
template <>
inline constexpr const char* kExitName<SystemError> = "serror";
template <>
inline constexpr const char* kExitName<Breakpoint> = "breakpoint";
template <>
inline constexpr const char* kExitName<SoftwareStep> = "software-step";
template <>
inline constexpr const char* kExitName<Watchpoint> = "watchpoint";
template <>
inline constexpr const char* kExitName<BrkInstruction> = "brk";
template <>
inline constexpr const char* kExitName<Unhandled> = "unhandled";
template <>
inline constexpr const char* kExitName<ExternalInterrupt> = "external-interrupt";
template <>
inline constexpr const char* kExitName<TimerLevel> = "timer-level";
template <>
inline constexpr const char* kExitName<PsciCpuOn> = "psci-cpu-on";
template <>
inline constexpr const char* kExitName<PsciCpuOff> = "psci-cpu-off";
template <>
inline constexpr const char* kExitName<PsciCpuSuspend> = "psci-cpu-suspend";
template <>
inline constexpr const char* kExitName<PsciSystemOff> = "psci-system-off";
template <>
inline constexpr const char* kExitName<PsciSystemReset> = "psci-system-reset";

// The name of the exit type at `index` (Exit::index()).
constexpr const char* exit_name(std::size_t index) noexcept {
  if (index >= Exit::kAlternatives) return "?";
  return Exit::visit_type(index, []<class Event>(Event*) { return kExitName<Event>; });
}
constexpr const char* exit_name(const Exit& exit) noexcept { return exit_name(exit.index()); }

}  // namespace arm
