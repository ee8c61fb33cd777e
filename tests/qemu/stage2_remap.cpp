// Scenario: a stage-2 page remapped under a running guest (Stage2Table::remap_page,
// break-before-make with the TLB maintenance of arm::Stage2Tlb). CPU 1 runs a vCPU that
// reads one word of a guest page in a loop (stage2_remap_guest.S); once it runs, CPU 0
// remaps the page to another physical page. The guest must see the new page's word and
// never anything else; a load in the break window faults at stage 2 (an MMIO read exit
// on CPU 1), which is retried as is until the new page is in place. Then CPU 0 unmaps the
// page, waits until the guest's loads have faulted, and maps a third page with map():
// the guest sees that one next.
#include <arm/asm/mmu.h>

#include "scenario.h"
#include "start_cpu.h"

import arm.vcpu;

extern "C" char stage2_remap_guest[];
extern "C" char __text_end[], __rodata_end[];  // the guest programs (runtime/el2/el2.ld.in)

namespace {
constexpr uint64_t kDataIpa = 0x8000'0000;
constexpr uint64_t kOld = 0x4f4c'444f'4c44'4f4c;
constexpr uint64_t kNew = 0x4e45'574e'4557'4e45;
constexpr uint64_t kThird = 0x4452'4948'4452'4948;

alignas(4096) uint64_t page_old[512];
alignas(4096) uint64_t page_new[512];
alignas(4096) uint64_t page_third[512];
alignas(4096) unsigned char stage2_pages[8 * 4096];
uint64_t vttbr;
volatile bool guest_running;
volatile bool guest_saw_new;
volatile bool guest_done;
volatile uint64_t guest_result = ~uint64_t{0};
volatile unsigned window_faults;

uint64_t address_of(const void* p) { return reinterpret_cast<uint64_t>(p); }

}  // namespace

extern "C" void arm_el2_secondary_main(uint64_t cpu) {
  arm::PerCpu percpu;
  if (percpu.enable() == arm::EnableError::None) {
    arm::VCpu vcpu{
        {.mpidr = cpu, .entry = address_of(stage2_remap_guest), .argument = kDataIpa, .stage2_vttbr = vttbr}};
    vcpu.load();
    for (arm::Exit& exit : vcpu.run()) {
      if (auto* call = exit.get_if<arm::Hypercall>()) {
        if (call->immediate == 1) {
          guest_running = true;
          continue;
        }
        if (call->immediate == 2) {
          guest_saw_new = true;
          continue;
        }
        guest_result = call->immediate == GUEST_REPORT ? call->x[0] : 0xbad;
        break;
      }
      if (exit.get_if<arm::MmioRead>() != nullptr) {  // the break window: load again
        window_faults = window_faults + 1;
        vcpu.resume_as_is();
        continue;
      }
      guest_result = 0xbad0;
      break;
    }
  }
  __atomic_store_n(&guest_done, true, __ATOMIC_RELEASE);
  for (;;) asm volatile("wfi");
}

int main() {
  // The guest reads with its caches off: what the host wrote must reach the PoC.
  page_old[0] = kOld;
  page_new[0] = kNew;
  page_third[0] = kThird;
  arm_el2_clean_to_poc(page_third, sizeof page_third);
  arm_el2_clean_to_poc(page_old, sizeof page_old);
  arm_el2_clean_to_poc(page_new, sizeof page_new);
  arm::PagePool pool(stage2_pages, 8);
  arm::Stage2Table stage2(pool, 9);
  SCENARIO_CHECK(stage2.map(address_of(__text_end), address_of(__text_end),
                            address_of(__rodata_end) - address_of(__text_end),
                            arm::kGuestRam) == arm::MapError::None);
  SCENARIO_CHECK(stage2.map(kDataIpa, address_of(page_old), 4096, arm::kGuestRam) == arm::MapError::None);
  vttbr = stage2.vttbr();
  arm::Stage2Tlb tlb;
  tlb.invalidate_vmid(vttbr);  // VMID 9 may have served an earlier VM (firmware, a reboot)

  SCENARIO_CHECK(start_cpu(1));

  uint64_t frequency, start, now;
  asm volatile("mrs %0, cntfrq_el0\n mrs %1, cntpct_el0" : "=r"(frequency), "=r"(start));
  do asm volatile("isb\n mrs %0, cntpct_el0" : "=r"(now));
  while (!guest_running && !guest_done && now - start < 10 * frequency);
  SCENARIO_CHECK(guest_running);

  SCENARIO_CHECK(stage2.remap_page(kDataIpa, address_of(page_new), arm::kGuestRam, tlb) ==
                 arm::MapError::None);
  SCENARIO_CHECK(stage2.translate(kDataIpa).physical == address_of(page_new));

  asm volatile("mrs %0, cntpct_el0" : "=r"(start));
  do asm volatile("isb\n mrs %0, cntpct_el0" : "=r"(now));
  while (!guest_saw_new && !guest_done && now - start < 10 * frequency);
  SCENARIO_CHECK(guest_saw_new);
  SCENARIO_CHECK(stage2.unmap_page(kDataIpa, tlb) == arm::MapError::None);
  asm volatile("mrs %0, cntpct_el0" : "=r"(start));
  do asm volatile("isb\n mrs %0, cntpct_el0" : "=r"(now));
  while (window_faults < 3 && !guest_done && now - start < 10 * frequency);
  SCENARIO_CHECK(window_faults >= 3);  // the guest's loads fault while nothing is mapped
  SCENARIO_CHECK(stage2.map(kDataIpa, address_of(page_third), 4096, arm::kGuestRam) == arm::MapError::None);
  tlb.publish();  // invalid -> valid: no TLB invalidation, only visibility

  asm volatile("mrs %0, cntpct_el0" : "=r"(start));
  do asm volatile("isb\n mrs %0, cntpct_el0" : "=r"(now));
  while (!__atomic_load_n(&guest_done, __ATOMIC_ACQUIRE) && now - start < 10 * frequency);
  printf("stage2_remap: guest result %llx, stage-2 faults in the break window %u\n",
         (unsigned long long)guest_result, window_faults);
  SCENARIO_CHECK(guest_done);
  SCENARIO_CHECK(guest_result == GUEST_PASS);
  SCENARIO_CHECK(page_old[0] == kOld && page_new[0] == kNew && page_third[0] == kThird);
  return 0;
}
