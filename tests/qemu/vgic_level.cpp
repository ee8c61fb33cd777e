// Scenario: a level-sensitive SPI whose line the host drives with Vgic::set_level() on the
// guest's request: lowered before the guest acknowledges it, it is retired and never
// taken; acknowledged, it stays pending while the line is high, so one ended with the line
// still high is taken again (vgic_level_guest.S).
#include "vgic_host.h"

extern "C" char vgic_level_guest[];
SCENARIO_GUEST_STACK(guest_stack);

int main() {
  static VgicScenario scenario(scenario_vgic(1, 32));
  SCENARIO_CHECK(scenario.ready());
  unsigned raises = 0, lowers = 0;
  const int64_t result = scenario.run_alone(vgic_level_guest, guest_stack, [&](arm::Hypercall& call) {
    if (call.immediate == VGIC_RAISE) {
      scenario.vgic.set_level(VGIC_LEVEL_SPI, true);
      ++raises;
    } else if (call.immediate == VGIC_LOWER) {
      scenario.vgic.set_level(VGIC_LEVEL_SPI, false);
      ++lowers;
    } else {
      return false;
    }
    call.complete(0);
    return true;
  });
  SCENARIO_CHECK(result == GUEST_PASS);
  SCENARIO_CHECK(raises == 3 && lowers == 3);
  return 0;
}
