// arm::finish() for the trap tests: applies an event's reply, or its row's default in the
// exit rules, to the guest's registers and records what it injected into EL1. Include
// after `import arm.trap;`.
#pragma once
#include <cstdint>

struct Finished {
  arm::El1ExceptionState el1;  // the guest's EL1 exception registers after the injection
  unsigned injections = 0;

  // ESR_EL1.EC of the injected exception (Arm ARM, ESR_EL1: EC [31:26]).
  arm::ExceptionClass injected_class() const {
    return static_cast<arm::ExceptionClass>((el1.esr >> 26) & 0x3f);
  }
};

template <class Event>
Finished finish(arm::GuestRegisters& regs, const Event& event) {
  Finished finished;
  finished.el1.vbar = 0x4008'0000;
  arm::finish(regs, event, [&](auto&& injection) {
    injection(regs, finished.el1);
    ++finished.injections;
  });
  return finished;
}
