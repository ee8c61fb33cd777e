// Scenario: a guest writes garbage to every GICD and GICR offset at every width, reads it
// all back, then turns everything off: it takes no interrupt it did not enable, the one
// it then enables is taken, and the hypervisor's loop keeps answering throughout
// (vgic_garbage_guest.S). The vGIC must neither crash, hang nor invent an interrupt.
#include "vgic_host.h"

extern "C" char vgic_garbage_guest[];
SCENARIO_GUEST_STACK(guest_stack);

namespace {
constexpr uint16_t kExit = 4;
arm::Vgic vgic{
    arm::VgicConfig{.vcpus = 1, .spis = 64, .gicd_base = kGicDistributor, .gicr_base = kGicRedistributor}};
}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  SCENARIO_CHECK(cpu.features().gic_system_registers);
  const uint64_t vttbr = image_only_stage2();
  SCENARIO_CHECK(vttbr != 0);
  VgicHost host(vgic);
  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(vgic_garbage_guest),
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack),
                  .stage2_vttbr = vttbr}};
  vcpu.load();
  auto run = vcpu.run();
  auto it = first_exit(run, host, 0);
  const int64_t result = run_until(it, host, 0, GUEST_REPORT, [](arm::Hypercall& call) {
    if (call.immediate != kExit) return false;
    call.complete(0);
    return true;
  });
  SCENARIO_CHECK(result == GUEST_PASS);
  // Every word and doubleword of 192 KiB twice or more, and the narrow sweeps.
  SCENARIO_CHECK(host.gic_accesses > 200'000);
  SCENARIO_CHECK(!vgic.has_work(0));
  return 0;
}
