// A scripted stand-in for the world switch on the host: each entry into the "guest" runs
// the next step of a script, which changes the guest registers and the syndrome
// registers as a real trap would, and returns the vector code.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace arm {
struct GuestRegisters;
}

namespace scripted {
using Step = std::function<std::uint64_t(arm::GuestRegisters&)>;
// The steps the next arm_enter_guest() calls run, in order. Running out of steps fails
// the current test.
void set_script(std::vector<Step> steps);
std::size_t steps_left();
}  // namespace scripted
