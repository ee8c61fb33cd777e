// Scenario: a level-sensitive SPI whose line the host drives with Vgic::set_level() on the
// guest's request: lowered before the guest acknowledges it, it is retired and never
// taken; acknowledged, it stays pending while the line is high, so one ended with the line
// still high is taken again (vgic_level_guest.S).
#include "vgic_host.h"

extern "C" char vgic_level_guest[];
SCENARIO_GUEST_STACK(guest_stack);

namespace {
constexpr uint16_t kRaise = 2, kLower = 3, kExit = 4;
constexpr uint32_t kSpi = 40;
arm::Vgic vgic{
    arm::VgicConfig{.vcpus = 1, .spis = 32, .gicd_base = kGicDistributor, .gicr_base = kGicRedistributor}};
}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  SCENARIO_CHECK(cpu.features().gic_system_registers);
  const uint64_t vttbr = image_only_stage2();
  SCENARIO_CHECK(vttbr != 0);
  VgicHost host(vgic);
  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(vgic_level_guest),
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack),
                  .stage2_vttbr = vttbr}};
  vcpu.load();
  auto run = vcpu.run();
  auto it = first_exit(run, host, 0);
  unsigned raises = 0, lowers = 0;
  const int64_t result = run_until(it, host, 0, GUEST_REPORT, [&](arm::Hypercall& call) {
    if (call.immediate == kRaise) {
      vgic.set_level(kSpi, true);
      ++raises;
    } else if (call.immediate == kLower) {
      vgic.set_level(kSpi, false);
      ++lowers;
    } else if (call.immediate != kExit) {
      return false;
    }
    call.complete(0);
    return true;
  });
  SCENARIO_CHECK(result == GUEST_PASS);
  SCENARIO_CHECK(raises == 3 && lowers == 3);
  return 0;
}
