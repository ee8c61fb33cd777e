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

// The rows the vCPU adds to the exit rules (arm.trap:rules; arm.smc has the PSCI rows).
template <>
inline constexpr ExitRule kExitRule<ExternalInterrupt> = {"external-interrupt", Default::Resume};
// Already answered inside run(); the hypervisor only passes the level on.
template <>
inline constexpr ExitRule kExitRule<TimerLevel> = {"timer-level", Default::Resume};

// Every event run() can yield has its row: its name, and what the guest sees when the
// hypervisor gives it no reply.
static_assert([]<class... Events>(OneOf<Events...>*) { return (HasExitRule<Events> && ...); }(
                  static_cast<Exit*>(nullptr)),
              "an Exit alternative without a row in the exit rules");

// The name of the exit type at `index` (Exit::index()).
constexpr const char* exit_name(std::size_t index) noexcept {
  if (index >= Exit::kAlternatives) return "?";
  return Exit::visit_type(index, []<class Event>(Event*) { return kExitRule<Event>.name; });
}
constexpr const char* exit_name(const Exit& exit) noexcept { return exit_name(exit.index()); }

}  // namespace arm
