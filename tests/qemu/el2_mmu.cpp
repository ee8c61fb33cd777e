// Scenario: the EL2 stage 1 that runtime/el2 turns on at boot, checked on every CPU (2):
// SCTLR_EL2.M/C/I/WXN set; AT S1E2R/S1E2W (Arm ARM C5.5 "A64 system instructions for
// address translation", result in PAR_EL1) give RAM as Normal write-back inner
// shareable, the PL011 as Device-nGnRE, the image's text and rodata as not writable;
// and an exclusive-based lock (LDAXR/STXR, Arm ARM B2 "Synchronization and semaphores",
// which need Normal memory to be guaranteed) keeps a counter exact under contention from
// both CPUs. Data not executable and code not writable are the el2_mmu_* fault tests.
#include <arm/asm/mmu.h>

#include "scenario.h"
#include "start_cpu.h"

import arm.vcpu;

extern "C" char __text_end[];

namespace {
constexpr uintptr_t kPl011 = 0x0900'0000;
constexpr unsigned kIncrements = 20000;
const uint64_t rodata_word = 0x5eed;
uint64_t ram_word;
uint32_t lock_word;
volatile uint64_t counter;  // changed only under the lock
volatile unsigned cpus_done;
volatile unsigned failures[2];

uint64_t read_sctlr() {
  uint64_t value;
  asm volatile("mrs %0, sctlr_el2" : "=r"(value));
  return value;
}

// PAR_EL1 after AT S1E2R (write = false) or AT S1E2W of address.
uint64_t translate(uintptr_t address, bool write) {
  uint64_t par;
  if (write)
    asm volatile("at s1e2w, %1\n isb\n mrs %0, par_el1" : "=r"(par) : "r"(address) : "memory");
  else
    asm volatile("at s1e2r, %1\n isb\n mrs %0, par_el1" : "=r"(par) : "r"(address) : "memory");
  return par;
}

uint64_t attr(uint64_t par) { return par >> ARM_PAR_ATTR_SHIFT; }
uint64_t shareability(uint64_t par) { return (par >> ARM_PAR_SH_SHIFT) & 3; }
bool permission_fault(uint64_t par) {
  return (par & ARM_PAR_F) &&
         (((par >> ARM_PAR_FST_SHIFT) & ~uint64_t{ARM_FSC_LEVEL_MASK} & 0x3f) == ARM_FSC_PERMISSION);
}

#define MMU_CHECK(condition)                                                     \
  do {                                                                           \
    if (!(condition)) {                                                          \
      printf("cpu %u: check failed: %s (line %d)\n", cpu, #condition, __LINE__); \
      ++bad;                                                                     \
    }                                                                            \
  } while (0)

unsigned check_this_cpu(unsigned cpu) {
  unsigned bad = 0;
  const uint64_t sctlr = read_sctlr();
  MMU_CHECK(sctlr & ARM_SCTLR_M);
  MMU_CHECK(sctlr & ARM_SCTLR_C);
  MMU_CHECK(sctlr & ARM_SCTLR_I);
  MMU_CHECK(sctlr & ARM_SCTLR_WXN);
  MMU_CHECK(sctlr & ARM_SCTLR_SA);

  const uint64_t ram = translate(reinterpret_cast<uintptr_t>(&ram_word), true);
  MMU_CHECK(!(ram & ARM_PAR_F));
  MMU_CHECK(attr(ram) == ARM_MAIR_NORMAL_WB);
  MMU_CHECK(shareability(ram) == ARM_TCR_SH_INNER);
  MMU_CHECK((ram & ARM_PTE_ADDRESS_MASK) == (reinterpret_cast<uintptr_t>(&ram_word) & ARM_PTE_ADDRESS_MASK));

  const uint64_t device = translate(kPl011, true);
  MMU_CHECK(!(device & ARM_PAR_F));
  MMU_CHECK(attr(device) == ARM_MAIR_DEVICE_NGNRE);

  const uintptr_t text = reinterpret_cast<uintptr_t>(&check_this_cpu);
  MMU_CHECK(!(translate(text, false) & ARM_PAR_F));
  MMU_CHECK(permission_fault(translate(text, true)));
  const uintptr_t rodata = reinterpret_cast<uintptr_t>(&rodata_word);
  MMU_CHECK(rodata >= reinterpret_cast<uintptr_t>(__text_end));
  MMU_CHECK(!(translate(rodata, false) & ARM_PAR_F));
  MMU_CHECK(permission_fault(translate(rodata, true)));
  // Beyond the map: a translation fault, not a permission fault.
  MMU_CHECK((translate(uintptr_t{1} << 38, false) & ARM_PAR_F) &&
            !permission_fault(translate(uintptr_t{1} << 38, false)));
  return bad;
}

void lock() {
  uint32_t seen, failed;
  asm volatile(
      "   sevl\n"
      "1: wfe\n"
      "2: ldaxr %w0, [%2]\n"
      "   cbnz  %w0, 1b\n"
      "   stxr  %w1, %w3, [%2]\n"
      "   cbnz  %w1, 2b\n"
      : "=&r"(seen), "=&r"(failed)
      : "r"(&lock_word), "r"(1)
      : "memory");
}

void unlock() { asm volatile("stlr wzr, [%0]" ::"r"(&lock_word) : "memory"); }

void contend() {
  for (unsigned n = 0; n < kIncrements; ++n) {
    lock();
    counter = counter + 1;
    unlock();
  }
}
}  // namespace

extern "C" void arm_el2_secondary_main(uint64_t cpu) {
  failures[cpu] = check_this_cpu(static_cast<unsigned>(cpu));
  contend();
  __atomic_fetch_add(&cpus_done, 1, __ATOMIC_RELEASE);
  for (;;) asm volatile("wfi");
}

int main() {
  failures[0] = check_this_cpu(0);
  SCENARIO_CHECK(start_cpu(1));
  contend();
  __atomic_fetch_add(&cpus_done, 1, __ATOMIC_RELEASE);
  // Up to 10 s of counter time for CPU 1 (its QEMU thread may be slow on a loaded host).
  uint64_t frequency, start, now;
  asm volatile("mrs %0, cntfrq_el0\n mrs %1, cntpct_el0" : "=r"(frequency), "=r"(start));
  do asm volatile("isb\n mrs %0, cntpct_el0" : "=r"(now));
  while (__atomic_load_n(&cpus_done, __ATOMIC_ACQUIRE) < 2 && now - start < 10 * frequency);
  SCENARIO_CHECK(cpus_done == 2);
  printf("el2_mmu: counter %llu of %u; failed checks: cpu0 %u, cpu1 %u\n", (unsigned long long)counter,
         2 * kIncrements, failures[0], failures[1]);
  SCENARIO_CHECK(counter == 2ull * kIncrements);
  SCENARIO_CHECK(failures[0] == 0 && failures[1] == 0);
  return 0;
}
