// dispatch(): one guest HVC or SMC in, one decision out. Pure: it reads the call and the
// hypervisor's policy (including the tables the policy points to) and changes nothing, so
// every path is testable on the host.
//
// The order, for a call through HVC #0 or SMC #0 (DEN0028: SMCCC calls use immediate 0):
//   1. a function id the hypervisor claims (policy.hypervisor_calls) -> NotHandled: the
//      hypervisor answers the plain Hypercall/SecureMonitorCall event itself;
//   2. a malformed fast call (reserved bits [23:17] set) -> NOT_SUPPORTED;
//   3. an Arm Architecture call -> answered here (SMCCC_VERSION, SMCCC_ARCH_FEATURES, the
//      workaround discovery);
//   4. a PSCI call, when the policy emulates PSCI -> answered here, or a typed PSCI event
//      for the hypervisor to complete;
//   5. through SMC only, an id on the firmware allow-list -> Forward to the firmware;
//   6. anything else -> NOT_SUPPORTED (-1), through either conduit.
// A non-zero immediate is outside the convention: NotHandled, the hypervisor's own.
module;
#include <arm/runtime/std_support.h>
export module arm.smc:dispatch;
import arm.runtime;
import arm.trap;
import :smccc;
import :arch;
import :psci;
import :firmware;

export namespace arm::smccc {

// One call as the guest made it.
struct GuestCall {
  Conduit conduit = Conduit::Hvc;
  std::uint16_t immediate = 0;  // the HVC/SMC instruction's imm16
  CallRegisters registers;      // x0..x17 at the call
};

// Everything the hypervisor decides about its guests' calls, as data. The default policy
// emulates PSCI (with no vCPUs until the table is supplied), reports no speculation
// workarounds, forwards nothing to firmware and claims no ids for the hypervisor.
struct GuestCallPolicy {
  CpuVulnerabilities cpus;
  psci::Policy psci;
  FirmwareFilter firmware;
  Table<FunctionIdRange> hypervisor_calls;
};

// Pass the call unchanged to the firmware through the SMC conduit.
struct Forward {};
// Not the library's call: the hypervisor answers the Hypercall/SecureMonitorCall itself.
struct NotHandled {};

using CallOutcome =
    OneOf<Answer, Forward, NotHandled, PsciCpuOn, PsciCpuOff, PsciCpuSuspend, PsciSystemOff, PsciSystemReset>;

// A call the decoder built (arm.trap's Hypercall or SecureMonitorCall), which carries x0..x6.
template <class Call>
concept TrapCall = std::is_same_v<Call, Hypercall> || std::is_same_v<Call, SecureMonitorCall>;

namespace detail {
// What dispatch() reads of a call, from a GuestCall or in place from a call event.
inline Conduit conduit_of(const GuestCall& call) noexcept { return call.conduit; }
inline std::uint64_t function_id_register(const GuestCall& call) noexcept { return call.registers.x[0]; }
inline const CallRegisters& registers_of(const GuestCall& call) noexcept { return call.registers; }
template <TrapCall Call>
Conduit conduit_of(const Call& call) noexcept {
  return arm::conduit_of(call);
}
template <TrapCall Call>
std::uint64_t function_id_register(const Call& call) noexcept {
  return call.x[0];
}
// x0..x6 of the event and zero above, built only on the paths that read arguments.
template <TrapCall Call>
constexpr CallRegisters registers_of(const Call& call) noexcept {
  CallRegisters registers;
  for (unsigned n = 0; n < kCallArguments; ++n) registers.x[n] = call.x[n];
  return registers;
}

template <class Call>
CallOutcome dispatch(const Call& call, const GuestCallPolicy& policy) noexcept {
  if (call.immediate != 0) return NotHandled{};
  const FunctionId id{function_id_register(call)};
  if (contains(policy.hypervisor_calls, id)) return NotHandled{};
  if (id.is_fast() && !id.reserved_bits_clear()) return answer_with(kNotSupported);
  if (is_arch_call(id)) return arch_call(id, registers_of(call), policy.cpus);
  if (policy.psci.emulate && psci::is_psci_call(id))
    return psci::call(id, registers_of(call), policy.psci).visit([&](auto& outcome) -> CallOutcome {
      if constexpr (requires { outcome.conduit; }) outcome.conduit = conduit_of(call);  // a PSCI event
      return outcome;
    });
  if (conduit_of(call) == Conduit::Smc && policy.firmware.allows(id)) return Forward{};
  return answer_with(kNotSupported);
}
}  // namespace detail

inline CallOutcome dispatch(const GuestCall& call, const GuestCallPolicy& policy) noexcept {
  return detail::dispatch(call, policy);
}
// The same decision for a call event, read in place: the same as dispatch(guest_call(call)),
// without building the GuestCall's eighteen registers for a call that reads at most x0..x3
// (the vCPU's calls answered inside run()). Out of line: inlined into the vCPU, its
// Answer was stored to the registers byte by byte (measured, SMCCC_VERSION inside run():
// 147 instructions out of line, 149 inline).
template <TrapCall Call>
[[gnu::noinline]] CallOutcome dispatch(const Call& call, const GuestCallPolicy& policy) noexcept {
  return detail::dispatch(call, policy);
}

}  // namespace arm::smccc
