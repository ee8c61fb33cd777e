// Starting another physical CPU from a QEMU scenario: the runtime's secondary entry
// (runtime/el2/start.S, then arm_el2_secondary_main(cpu)), through the firmware's PSCI.
#pragma once
#include <stdint.h>
import arm.vcpu;

// NOLINTNEXTLINE(bugprone-dynamic-static-initializers): a declaration of the runtime's symbol
extern "C" char arm_el2_secondary_entry[];

// Starts physical CPU `cpu` (MPIDR Aff0 = cpu on QEMU virt) with context_id `cpu`, through
// the firmware's PSCI CPU_ON (DEN0022); true on SUCCESS.
inline bool start_cpu(unsigned cpu) {
  arm::smccc::CallRegisters call;
  call.x[0] = arm::psci::kCpuOn64;
  call.x[1] = cpu;
  call.x[2] = reinterpret_cast<uint64_t>(arm_el2_secondary_entry);
  call.x[3] = cpu;
  arm::smccc::SmcConduit firmware;
  return arm::smccc::call_firmware(firmware, call).x[0] == 0;
}
