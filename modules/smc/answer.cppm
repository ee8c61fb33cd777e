// The bridge between arm.trap's call events and dispatch(): build a GuestCall from a
// Hypercall or SecureMonitorCall, and answer the event from the outcome once the
// hypervisor has completed any PSCI event in it.
//
//   auto outcome = arm::smccc::dispatch(arm::smccc::guest_call(*smc), policy);
//   if (auto* on = outcome.get_if<arm::PsciCpuOn>()) on->complete(start_vcpu(*on));
//   if (!arm::smccc::answer(*smc, outcome, firmware)) smc->complete(my_service(smc->x));
//
// The events carry x0..x6 of the call and answer x0..x3 (SMCCC 1.1). A forwarded call
// therefore reaches the firmware with the guest's x0..x6 and zero in x7..x17, and the
// guest gets the firmware's x0..x3 back.
module;
#include <arm/runtime/std_support.h>
export module arm.smc:answer;
import arm.runtime;
import arm.trap;
import :smccc;
import :psci;
import :firmware;
import :dispatch;

export namespace arm::smccc {

template <TrapCall Call>
constexpr GuestCall guest_call(const Call& call) noexcept {
  return GuestCall{conduit_of(call), call.immediate, detail::registers_of(call)};
}

// The whole x0..x17, for a caller that holds the guest's registers rather than an event.
constexpr GuestCall guest_call(Conduit conduit, std::uint16_t immediate,
                               const GuestRegisters& regs) noexcept {
  GuestCall guest{conduit, immediate, {}};
  for (unsigned n = 0; n < kCallRegisterCount; ++n) guest.registers.x[n] = regs.x[n];
  return guest;
}

// Completes `call` from `outcome`: an Answer as it is, a PSCI event with its completion
// (NOT_SUPPORTED if the hypervisor left it incomplete), Forward with what the firmware
// returns through `firmware`. Returns false for NotHandled, leaving `call` to the
// hypervisor.
template <TrapCall Call, FirmwareConduit Firmware>
bool answer(Call& call, CallOutcome& outcome, Firmware& firmware) noexcept {
  return outcome.visit([&](auto& decision) -> bool {
    using Decision = std::remove_cvref_t<decltype(decision)>;
    if constexpr (std::is_same_v<Decision, NotHandled>) {
      return false;
    } else if constexpr (std::is_same_v<Decision, Answer>) {
      call.complete(decision.x[0], decision.x[1], decision.x[2], decision.x[3]);
      return true;
    } else if constexpr (std::is_same_v<Decision, Forward>) {
      const CallRegisters results = call_firmware(firmware, detail::registers_of(call));
      call.complete(results.x[0], results.x[1], results.x[2], results.x[3]);
      return true;
    } else {
      const Answer result = psci::answer_for(decision);
      call.complete(result.x[0], result.x[1], result.x[2], result.x[3]);
      return true;
    }
  });
}

// For a hypervisor that forwards nothing (its policy's allow-list is empty).
template <TrapCall Call>
bool answer(Call& call, CallOutcome& outcome) noexcept {
  NoFirmware none;
  return answer(call, outcome, none);
}

}  // namespace arm::smccc
