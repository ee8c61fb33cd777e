// Scenario: an SGI to a vCPU that runs on the other physical CPU (vCPU n on CPU n, as in the
// example hypervisor). vCPU 1 waits on CPU 1 with IRQs open and never exits by itself;
// vCPU 0's SGI makes arm.vgic name it, the host on CPU 0 kicks CPU 1 with a physical SGI,
// CPU 1's exit fills vCPU 1's list registers and vCPU 1 takes the SGI
// (vgic_kick_guest.S). Both CPUs share the one arm::Vgic under its lock.
#include "vgic_host.h"

extern "C" char vgic_kick_guest[];
SCENARIO_GUEST_STACK(stack_0);
SCENARIO_GUEST_STACK(stack_1);

namespace {
VgicScenario* scenario = nullptr;
bool vcpu1_ready = false;
bool vcpu1_done = false;
int64_t vcpu1_result = -1;
unsigned vcpu1_kicked = 0;
}  // namespace

// Physical CPU 1 (started by main through PSCI CPU_ON) runs vCPU 1.
extern "C" void arm_el2_secondary_main(uint64_t cpu) {
  arm::PerCpu percpu;
  if (percpu.enable() == arm::EnableError::None) {
    VgicHost host(scenario->vgic, static_cast<unsigned>(cpu), /*kick_cpus=*/true);
    arm::VCpu vcpu{scenario->vcpu(vgic_kick_guest, stack_1, 1, 1)};
    vcpu.load();
    auto run = vcpu.run();
    auto it = first_exit(run, host, 1);
    if (run_until(it, host, 1, VGIC_YIELD) == GUEST_PASS) {
      __atomic_store_n(&vcpu1_ready, true, __ATOMIC_RELEASE);
      resume(it, host, 1);
      vcpu1_result = run_until(it, host, 1, GUEST_REPORT);
    }
    vcpu1_kicked = host.kicked;
  }
  __atomic_store_n(&vcpu1_done, true, __ATOMIC_RELEASE);
  for (;;) asm volatile("wfi");
}

int main() {
  static VgicScenario vm(scenario_vgic(2, 32), /*kick_cpus=*/true);
  SCENARIO_CHECK(vm.ready());
  scenario = &vm;
  SCENARIO_CHECK(start_cpu(1));
  SCENARIO_CHECK(wait_for(vcpu1_ready, 10));
  arm::VCpu vcpu0{vm.vcpu(vgic_kick_guest, stack_0, 0, 0)};
  vcpu0.load();
  auto run = vcpu0.run();
  auto it = first_exit(run, vm.host, 0);
  SCENARIO_CHECK(run_until(it, vm.host, 0, GUEST_REPORT) == GUEST_PASS);
  SCENARIO_CHECK(vm.host.kicks == 0b10);
  SCENARIO_CHECK(wait_for(vcpu1_done, 10));
  printf("vCPU 1 on CPU 1: reported %lld after %u kicks\n", (long long)vcpu1_result, vcpu1_kicked);
  SCENARIO_CHECK(vcpu1_result == GUEST_PASS);
  SCENARIO_CHECK(vcpu1_kicked >= 1);
  return 0;
}
