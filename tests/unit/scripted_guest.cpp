#include "scripted_guest.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <deque>

import arm.trap;

namespace {
std::deque<scripted::Step> script;
}

void scripted::set_script(std::vector<Step> steps) { script.assign(steps.begin(), steps.end()); }
std::size_t scripted::steps_left() { return script.size(); }

extern "C" std::uint64_t arm_enter_guest(arm::GuestRegisters* guest) {
  REQUIRE_MESSAGE(!script.empty(), "the vCPU entered the guest more often than the script expects");
  scripted::Step step = std::move(script.front());
  script.pop_front();
  return step(*guest);
}
