// Scenario: interrupts nested deeper than the list registers (vgic_nesting_guest.S). Each
// SPI the guest asks for has a higher priority than every active one, so arm.vgic puts it
// in a list register ahead of the oldest active ones (which keep their priority in the
// guest's active priority registers); those come back, or are ended through EOIcount, as
// the guest unwinds. All six are taken in order, none is lost or taken twice.
#include "vgic_host.h"

extern "C" char vgic_nesting_guest[];
SCENARIO_GUEST_STACK(guest_stack);

int main() {
  static VgicScenario scenario(scenario_vgic(1, 32));
  SCENARIO_CHECK(scenario.ready());
  SCENARIO_CHECK(vgic_list_registers() < 6);  // deeper than the list registers
  unsigned raises = 0;
  const int64_t result = scenario.run_alone(vgic_nesting_guest, guest_stack, [&](arm::Hypercall& call) {
    if (call.immediate != VGIC_RAISE) return false;
    scenario.vgic.raise(static_cast<uint32_t>(call.x[0]));
    ++raises;
    call.complete(0);
    return true;
  });
  SCENARIO_CHECK(result == GUEST_PASS);
  SCENARIO_CHECK(raises == 6);
  SCENARIO_CHECK(!scenario.vgic.has_work(0));
  return 0;
}
