// Scenario: a guest brings up its virtual GIC (arm.vgic: GICD and GICR emulated, not in
// stage 2) and takes an SGI it sent itself, checking pending and active state through
// GICR reads at each step of its handler (vgic_own_sgi_guest.S).
#include "vgic_host.h"

extern "C" char vgic_own_sgi_guest[];
SCENARIO_GUEST_STACK(guest_stack);

namespace {
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
  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(vgic_own_sgi_guest),
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack),
                  .stage2_vttbr = vttbr}};
  vcpu.load();
  auto run = vcpu.run();
  auto it = first_exit(run, host, 0);
  SCENARIO_CHECK(run_until(it, host, 0, GUEST_REPORT) == GUEST_PASS);
  SCENARIO_CHECK(host.sgi_writes == 4 && host.kicks == 0);
  return 0;
}
