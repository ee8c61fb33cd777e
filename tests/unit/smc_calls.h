// Helpers shared by the arm.smc tests: a guest call in a line, and the answer's x0 as the
// signed value the conventions define. Include after doctest and before nothing else:
// it needs arm.smc imported by the including file.
#pragma once

#include <cstdint>

namespace smc_test {

inline arm::smccc::GuestCall call(arm::smccc::Conduit conduit, std::uint64_t x0, std::uint64_t x1 = 0,
                                  std::uint64_t x2 = 0, std::uint64_t x3 = 0) {
  arm::smccc::GuestCall guest{conduit, 0, {}};
  guest.registers.x[0] = x0;
  guest.registers.x[1] = x1;
  guest.registers.x[2] = x2;
  guest.registers.x[3] = x3;
  return guest;
}
inline arm::smccc::GuestCall hvc(std::uint64_t x0, std::uint64_t x1 = 0, std::uint64_t x2 = 0,
                                 std::uint64_t x3 = 0) {
  return call(arm::smccc::Conduit::Hvc, x0, x1, x2, x3);
}
inline arm::smccc::GuestCall smc(std::uint64_t x0, std::uint64_t x1 = 0, std::uint64_t x2 = 0,
                                 std::uint64_t x3 = 0) {
  return call(arm::smccc::Conduit::Smc, x0, x1, x2, x3);
}

// x0 of an immediate answer, as a signed return code; a sentinel if the outcome is not an
// Answer (so a CHECK against a return code fails).
inline constexpr std::int64_t kNotAnAnswer = 0x7eadbeef;
inline std::int64_t x0_of(arm::smccc::CallOutcome& outcome) {
  auto* answer = outcome.get_if<arm::smccc::Answer>();
  return answer ? static_cast<std::int64_t>(answer->x[0]) : kNotAnAnswer;
}
inline std::int64_t code(arm::psci::Status status) { return static_cast<std::int64_t>(status); }

// A fake firmware conduit: counts calls, remembers the arguments, returns `reply`.
struct FakeFirmware {
  unsigned calls = 0;
  arm::smccc::CallRegisters seen;
  arm::smccc::CallRegisters reply;
  void call(arm::smccc::CallRegisters& registers) noexcept {
    ++calls;
    seen = registers;
    registers = reply;
  }
};

}  // namespace smc_test
