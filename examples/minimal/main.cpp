// The example hypervisor: one vCPU, a console hypercall, PSCI SYSTEM_OFF.
#include <stdio.h>

import arm.vcpu;

extern "C" char demo_guest[];
alignas(16) static unsigned char guest_stack[8192];

namespace {
constexpr uint16_t kConsoleHypercall = 1;
}  // namespace

int main() {
  arm::PerCpu cpu;
  if (cpu.enable() != arm::EnableError::None) {
    printf("hypervisor: this CPU cannot host guests (no EL2 or no AArch64 EL1)\n");
    return 1;
  }
  printf("hypervisor: EL2 ready, %u-bit physical addresses, GIC system registers %s\n",
         cpu.features().physical_address_bits, cpu.features().gic_system_registers ? "yes" : "no");
  static const arm::smccc::GuestCallPolicy calls;  // PSCI for one vCPU, nothing forwarded
  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(demo_guest),
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack),
                  .calls = &calls}};
  vcpu.load();
  unsigned long console_calls = 0;
  for (arm::Exit& exit : vcpu.run()) {
    if (auto* call = exit.get_if<arm::Hypercall>()) {
      if (call->immediate == kConsoleHypercall) {
        putchar(static_cast<int>(call->x[0]));
        ++console_calls;
        call->complete(0);
        continue;
      }
    }
    if (exit.is<arm::PsciSystemOff>()) break;
    printf("hypervisor: unexpected exit, stopping\n");
    return 1;
  }
  printf("hypervisor: guest powered off after %llu exits (%lu console hypercalls)\n",
         static_cast<unsigned long long>(vcpu.exit_count()), console_calls);
  cpu.disable();
  return 0;
}
