// decode(): syndrome + guest registers in, one typed event out. Pure: no system register
// is read here, so every class is testable on the host.
module;
#include <arm/runtime/std_support.h>
export module arm.trap:decode;
import arm.runtime;
import :registers;
import :esr;
import :events;

export namespace arm {

using TrapEvent = OneOf<Hypercall, SecureMonitorCall, Unhandled>;

namespace detail {
template <class Call> Call decode_call(const Esr& esr, const GuestRegisters& regs) noexcept {
  // ISS for HVC/SMC from AArch64: imm16 in ISS[15:0] (Arm ARM D19.2, "ISS encoding for an
  // exception from HVC or SVC instruction execution" / "... SMC instruction execution").
  Call call;
  call.immediate = static_cast<std::uint16_t>(bits(esr.iss(), 15, 0));
  for (unsigned n = 0; n < 7; ++n) call.x[n] = regs.x[n];
  return call;
}
}  // namespace detail

constexpr Unhandled unhandled(const Syndrome& syndrome, const GuestRegisters& regs) noexcept {
  return Unhandled{syndrome.esr, syndrome.far, syndrome.hpfar, regs.pc};
}

inline TrapEvent decode(const Syndrome& syndrome, const GuestRegisters& regs) noexcept {
  const Esr esr{syndrome.esr};
  switch (esr.ec()) {
    case ExceptionClass::Hvc64:
      return detail::decode_call<Hypercall>(esr, regs);
    case ExceptionClass::Smc64:
      return detail::decode_call<SecureMonitorCall>(esr, regs);
    default:
      return unhandled(syndrome, regs);
  }
}

}  // namespace arm
