// Scenario: a guest brings up its virtual GIC (arm.vgic: GICD and GICR emulated, not in
// stage 2) and takes an SGI it sent itself, checking pending and active state through
// GICR reads at each step of its handler (vgic_own_sgi_guest.S).
#include "vgic_host.h"

extern "C" char vgic_own_sgi_guest[];
SCENARIO_GUEST_STACK(guest_stack);

int main() {
  static VgicScenario scenario(scenario_vgic(1, 32));
  SCENARIO_CHECK(scenario.ready());
  SCENARIO_CHECK(scenario.run_alone(vgic_own_sgi_guest, guest_stack) == GUEST_PASS);
  SCENARIO_CHECK(scenario.host.sgi_writes == 4 && scenario.host.kicks == 0);
  return 0;
}
