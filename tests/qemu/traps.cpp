// Scenario: trapped MRS and MSR arrive as SysRegRead/SysRegWrite with the register's
// encoding; WFI arrives as a Wfx exit; a trapped register the host does not handle gets
// an undefined-instruction exception injected, which the guest's handler sees.
// The EL1 physical timer is not emulated here (VCpuConfig::emulate_physical_timer = false),
// so its registers are the trapped registers the host answers.
#include "scenario.h"

import arm.vcpu;

extern "C" char traps_guest[];
SCENARIO_GUEST_STACK(guest_stack);

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(traps_guest),
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack),
                  .trap_wfi = true,
                  .emulate_physical_timer = false}};
  vcpu.load();
  unsigned step = 0;
  for (arm::Exit& exit : vcpu.run()) {
    ++step;
    if (auto* call = exit.get_if<arm::Hypercall>()) {
      SCENARIO_CHECK(call->immediate == GUEST_REPORT);
      printf("guest reported %llu after %u exits\n", (unsigned long long)call->x[0], step);
      SCENARIO_CHECK(step == 6);
      return call->x[0] == GUEST_PASS ? 0 : 1;
    }
    switch (step) {
      case 1: {
        auto* read = exit.get_if<arm::SysRegRead>();
        SCENARIO_CHECK(read != nullptr && read->encoding == arm::SysReg::CNTP_CTL_EL0 && read->rt == 1);
        read->complete(5);
        break;
      }
      case 2: {
        auto* write = exit.get_if<arm::SysRegWrite>();
        SCENARIO_CHECK(write != nullptr && write->encoding == arm::SysReg::CNTP_CVAL_EL0);
        SCENARIO_CHECK(write->value == 0x1'2345'6789ull);
        break;
      }
      case 3: {
        auto* write = exit.get_if<arm::SysRegWrite>();
        SCENARIO_CHECK(write != nullptr && write->value == 0 && write->rt == 31);
        break;
      }
      case 4:
        SCENARIO_CHECK(exit.is<arm::Wfx>());
        break;
      case 5: {
        auto* read = exit.get_if<arm::SysRegRead>();
        SCENARIO_CHECK(read != nullptr && read->encoding == arm::SysReg::CNTP_TVAL_EL0);
        break;  // not answered: the vCPU injects UNDEF
      }
      default:
        SCENARIO_CHECK(false);
    }
  }
  return 1;
}
