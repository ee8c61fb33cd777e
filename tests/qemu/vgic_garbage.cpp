// Scenario: a guest writes garbage to every GICD and GICR offset at every width, reads it
// all back, then turns everything off: it takes no interrupt it did not enable, the one
// it then enables is taken, and the hypervisor's loop keeps answering throughout
// (vgic_garbage_guest.S). The vGIC must neither crash, hang nor invent an interrupt.
#include "vgic_host.h"

extern "C" char vgic_garbage_guest[];
SCENARIO_GUEST_STACK(guest_stack);

int main() {
  static VgicScenario scenario(scenario_vgic(1, 64));
  SCENARIO_CHECK(scenario.ready());
  SCENARIO_CHECK(scenario.run_alone(vgic_garbage_guest, guest_stack) == GUEST_PASS);
  // Every word and doubleword of 192 KiB twice or more, and the narrow sweeps.
  SCENARIO_CHECK(scenario.host.gic_accesses > 200'000);
  SCENARIO_CHECK(!scenario.vgic.has_work(0));
  return 0;
}
