// Scenario: MMIO by trap-and-emulate. The guest runs with stage 2 on; its device page is
// not mapped, so every access is an MmioRead or MmioWrite exit. Loads of 1, 2, 4 and 8
// bytes into W and X registers, signed loads, XZR as destination and source, a store of
// each width, an access to an unmapped IPA inside the RAM range, and a load pair (no
// instruction syndrome), which the host leaves alone and the guest receives as an abort.
#include "scenario.h"

import arm.vcpu;

extern "C" char mmio_guest[];
extern "C" char __image_start[];
SCENARIO_GUEST_STACK(guest_stack);
alignas(4096) static unsigned char stage2_pages[8 * 4096];

namespace {
constexpr uint64_t kDevice = 0x0a00'0000;
constexpr uint64_t kUnmappedRam = 0x8000'0000;
constexpr uint64_t kReadValue = 0x8899'aabb'ccdd'eeffull;

struct ExpectedWrite {
  uint64_t address;
  uint8_t size;
  uint64_t value;
};
constexpr ExpectedWrite kWrites[] = {
    {kDevice, 1, 0x88},
    {kDevice + 2, 2, 0x7788},
    {kDevice + 4, 4, 0x5566'7788},
    {kDevice + 8, 8, 0x1122'3344'5566'7788},
    {kDevice + 16, 8, 0},
    {kDevice, 4, 0x5566'7788},
};
}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  arm::PagePool pool(stage2_pages, 8);
  arm::Stage2Table stage2(pool, 1);
  // The image (code, data, the guest's stack) mapped 1:1; nothing else.
  const uint64_t image = reinterpret_cast<uint64_t>(__image_start) & ~uint64_t{0x1f'ffff};
  SCENARIO_CHECK(stage2.map(image, image, 0x40'0000, arm::kGuestRam) == arm::MapError::None);

  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(mmio_guest),
                  .argument = kDevice,
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack),
                  .stage2_vttbr = stage2.vttbr()}};
  vcpu.load();
  unsigned reads = 0, writes = 0, undecoded = 0;
  for (arm::Exit& exit : vcpu.run()) {
    if (auto* read = exit.get_if<arm::MmioRead>()) {
      SCENARIO_CHECK(read->address == kDevice || read->address == kDevice + 8 ||
                     read->address == kUnmappedRam);
      read->complete(kReadValue);
      ++reads;
      continue;
    }
    if (auto* write = exit.get_if<arm::MmioWrite>()) {
      SCENARIO_CHECK(writes < sizeof kWrites / sizeof kWrites[0]);
      const ExpectedWrite& expected = kWrites[writes++];
      if (write->address != expected.address || write->size != expected.size ||
          write->value != expected.value) {
        printf("write %u: 0x%llx size %u value 0x%llx\n", writes, (unsigned long long)write->address,
               write->size, (unsigned long long)write->value);
        return 1;
      }
      continue;
    }
    if (exit.is<arm::UndecodedDataAbort>()) {
      ++undecoded;  // left alone: the vCPU injects an external abort
      continue;
    }
    auto* call = exit.get_if<arm::Hypercall>();
    SCENARIO_CHECK(call != nullptr && call->immediate == GUEST_REPORT);
    printf("guest reported %llu after %u reads, %u writes, %u undecoded aborts\n",
           (unsigned long long)call->x[0], reads, writes, undecoded);
    SCENARIO_CHECK(reads == 12 && writes == 6 && undecoded == 1);
    return call->x[0] == GUEST_PASS ? 0 : 1;
  }
  return 1;
}
