// The timer scenarios' common host start (timers.cpp, timer_parked.cpp). Include after
// `import arm.vcpu;`.
#pragma once
#include "scenario.h"

// EL2 on, the physical GIC up with split EOI (the guest's deactivation of a hardware-linked
// virtual interrupt deactivates the physical one) and the virtual timer's PPI enabled.
// False if this CPU cannot host guests or has no GIC system registers.
inline bool start_timer_host(arm::PerCpu& cpu, arm::PhysicalGic& gic) {
  if (cpu.enable() != arm::EnableError::None || !cpu.features().gic_system_registers) return false;
  gic.init_this_cpu();
  gic.set_split_eoi(true);
  gic.enable_private_interrupt(arm::kVirtualTimerIntid);
  return true;
}
