// Scenario: an SGI between two vCPUs of one VM (arm.vgic), the two sharing this CPU by
// load()/put(). vCPU 0's SGI to vCPU 1 (which enabled it) makes it pending in vCPU 1's
// redistributor and names vCPU 1 to kick; vCPU 1 takes it when it runs next, and answers
// with an IRM = 1 SGI that reaches vCPU 0 only (vgic_sgi_other_guest.S).
#include "vgic_host.h"

extern "C" char vgic_sgi_other_guest[];
SCENARIO_GUEST_STACK(stack_0);
SCENARIO_GUEST_STACK(stack_1);

int main() {
  static VgicScenario scenario(scenario_vgic(2, 32));
  SCENARIO_CHECK(scenario.ready());
  VgicHost& host = scenario.host;
  arm::VCpu vcpu0{scenario.vcpu(vgic_sgi_other_guest, stack_0, 0, 0)};
  arm::VCpu vcpu1{scenario.vcpu(vgic_sgi_other_guest, stack_1, 1, 1)};
  auto run0 = vcpu0.run();
  auto run1 = vcpu1.run();

  // vCPU 1 enables SGI 5 in its redistributor and yields.
  vcpu1.load();
  auto it1 = first_exit(run1, host, 1);
  SCENARIO_CHECK(run_until(it1, host, 1, VGIC_YIELD) == GUEST_PASS);
  vcpu1.put();

  // vCPU 0 sends it SGI 5: vCPU 1, not running here, is named to kick.
  vcpu0.load();
  auto it0 = first_exit(run0, host, 0);
  SCENARIO_CHECK(run_until(it0, host, 0, VGIC_YIELD) == GUEST_PASS);
  SCENARIO_CHECK(host.kicks == 0b10);
  SCENARIO_CHECK(scenario.vgic.has_work(1) && !scenario.vgic.has_work(0));
  host.kicks = 0;
  vcpu0.put();

  // vCPU 1 takes it and answers with SGI 6 to all others (IRM = 1): vCPU 0 only.
  vcpu1.load();
  resume(it1, host, 1);
  SCENARIO_CHECK(run_until(it1, host, 1, GUEST_REPORT) == GUEST_PASS);
  SCENARIO_CHECK(host.kicks == 0b01);
  vcpu1.put();

  vcpu0.load();
  resume(it0, host, 0);
  SCENARIO_CHECK(run_until(it0, host, 0, GUEST_REPORT) == GUEST_PASS);
  SCENARIO_CHECK(host.sgi_writes == 2);
  return 0;
}
