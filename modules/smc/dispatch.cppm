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

inline CallOutcome dispatch(const GuestCall& call, const GuestCallPolicy& policy) noexcept {
  if (call.immediate != 0) return NotHandled{};
  const FunctionId id{call.registers.x[0]};
  if (contains(policy.hypervisor_calls, id)) return NotHandled{};
  if (id.is_fast() && !id.reserved_bits_clear()) return answer_with(kNotSupported);
  if (is_arch_call(id)) return arch_call(id, call.registers, policy.cpus);
  if (policy.psci.emulate && psci::is_psci_call(id))
    return psci::call(id, call.registers, policy.psci).visit([&](auto& outcome) -> CallOutcome {
      if constexpr (requires { outcome.conduit; }) outcome.conduit = call.conduit;  // a PSCI event
      return outcome;
    });
  if (call.conduit == Conduit::Smc && policy.firmware.allows(id)) return Forward{};
  return answer_with(kNotSupported);
}

}  // namespace arm::smccc
