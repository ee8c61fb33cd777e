/*
 * The EL2 stage 1 translation tables of an EL2 image: an identity map (see the map in
 * arm/asm/mmu.h). The primary CPU builds them with its MMU off, before any constructor
 * or main() runs (start.S); every CPU then turns its MMU on with the same tables.
 *
 * Why: with the EL2 MMU off every data access is Device-nGnRnE (Arm ARM D8, "The
 * effects of disabling an address translation stage") and instruction fetches are
 * Normal non-cacheable: uncached context saves on every exit, exclusives that the
 * architecture does not promise to work on Device memory (Arm ARM B2, "Synchronization and semaphores"), and
 * writable code.
 */
#include <arm/asm/context.h>
#include <arm/asm/mmu.h>

/* Linker symbols (el2.ld.in), each 4 KiB aligned. */
extern char __image_start[], __text_end[], __rodata_end[], __image_end[];

#define TABLE_ALIGN __attribute__((aligned(1 << ARM_MMU_PAGE_SHIFT)))

/* In .bss: cleared by start.S before arm_el2_mmu_build() runs. TTBR0_EL2 points at it. */
uint64_t arm_el2_mmu_l1[ARM_MMU_ENTRIES] TABLE_ALIGN;
static uint64_t image_l2[ARM_MMU_ENTRIES] TABLE_ALIGN;
static uint64_t image_l3[ARM_EL2_MMU_IMAGE_L3_TABLES][ARM_MMU_ENTRIES] TABLE_ALIGN;

/* Lower attributes of a leaf (Arm ARM D8): the AttrIndx, access flag, AP[1] (RES1 at EL2). */
static uint64_t leaf(unsigned attr_index) {
  return ARM_PTE_VALID | ((uint64_t)attr_index << ARM_PTE_ATTR_SHIFT) | ARM_PTE_AF | ARM_PTE_AP1_RES1;
}

#define NORMAL_RW_XN (leaf(ARM_ATTR_NORMAL) | ARM_PTE_SH_INNER | ARM_PTE_XN)
/* Device memory is always treated as outer shareable; SH is ignored for it (Arm ARM D8). */
#define DEVICE_RW_XN (leaf(ARM_ATTR_DEVICE) | ARM_PTE_XN)

static uint64_t table_descriptor(const uint64_t* next) {
  return ((uint64_t)(uintptr_t)next & ARM_PTE_ADDRESS_MASK) | ARM_PTE_TABLE | ARM_PTE_VALID;
}

/* The permissions of one 4 KiB page of the image: W^X by construction (Arm ARM D8). */
static uint64_t image_page_attributes(uintptr_t address) {
  if (address >= (uintptr_t)__image_start && address < (uintptr_t)__text_end)
    return leaf(ARM_ATTR_NORMAL) | ARM_PTE_SH_INNER | ARM_PTE_AP_RO; /* text: RX */
  if (address >= (uintptr_t)__text_end && address < (uintptr_t)__rodata_end)
    return NORMAL_RW_XN | ARM_PTE_AP_RO; /* guest programs, rodata, init_array: R */
  return NORMAL_RW_XN;                   /* data, bss, stacks and the rest of RAM: RW */
}

/* Returns 0, or a nonzero code if the image does not fit the tables (start.S stops). */
uint64_t arm_el2_mmu_build(void) {
  const uint64_t l1_size = ARM_U64(1) << ARM_MMU_L1_BLOCK_SHIFT;
  const uint64_t l2_size = ARM_U64(1) << ARM_MMU_L2_BLOCK_SHIFT;
  const uintptr_t image_start = (uintptr_t)__image_start;
  const uintptr_t image_end = (uintptr_t)__image_end;
  const uint64_t image_gib = image_start >> ARM_MMU_L1_BLOCK_SHIFT;
  if (((image_end - 1) >> ARM_MMU_L1_BLOCK_SHIFT) != image_gib) return 1;
  if (image_start < ARM_EL2_MMU_RAM_BASE || image_end > ARM_EL2_MMU_RAM_BASE + ARM_EL2_MMU_RAM_SIZE) return 2;

  arm_el2_mmu_l1[0] = DEVICE_RW_XN; /* the first GiB: QEMU virt's devices */
  for (uint64_t gib = ARM_EL2_MMU_RAM_BASE / l1_size;
       gib < (ARM_EL2_MMU_RAM_BASE + ARM_EL2_MMU_RAM_SIZE) / l1_size; ++gib)
    arm_el2_mmu_l1[gib] = (gib * l1_size) | NORMAL_RW_XN;

  /* The GiB holding the image: 2 MiB blocks, and 4 KiB pages where the image is. */
  const uint64_t gib_base = image_gib * l1_size;
  unsigned next_l3 = 0;
  for (unsigned n = 0; n < ARM_MMU_ENTRIES; ++n) {
    const uint64_t block = gib_base + n * l2_size;
    if (block + l2_size <= image_start || block >= image_end) {
      image_l2[n] = block | NORMAL_RW_XN;
      continue;
    }
    if (next_l3 == ARM_EL2_MMU_IMAGE_L3_TABLES) return 3;
    uint64_t* l3 = image_l3[next_l3++];
    for (unsigned p = 0; p < ARM_MMU_ENTRIES; ++p) {
      const uint64_t page = block + ((uint64_t)p << ARM_MMU_PAGE_SHIFT);
      l3[p] = page | image_page_attributes(page) | ARM_PTE_TABLE; /* bit 1 set: a page */
    }
    image_l2[n] = table_descriptor(l3);
  }
  arm_el2_mmu_l1[image_gib] = table_descriptor(image_l2);
  return 0;
}

bool arm_el2_map_device(uint64_t base, uint64_t size) {
  const uint64_t l1_size = ARM_U64(1) << ARM_MMU_L1_BLOCK_SHIFT;
  if (size == 0 || base + size < base || base + size > (ARM_U64(1) << ARM_MMU_VA_BITS)) return false;
  const uint64_t first = base >> ARM_MMU_L1_BLOCK_SHIFT;
  const uint64_t last = (base + size - 1) >> ARM_MMU_L1_BLOCK_SHIFT;
  for (uint64_t n = first; n <= last; ++n) {
    const uint64_t entry = arm_el2_mmu_l1[n];
    if ((entry & ARM_PTE_VALID) && entry != ((n * l1_size) | DEVICE_RW_XN)) return false;
  }
  for (uint64_t n = first; n <= last; ++n) arm_el2_mmu_l1[n] = (n * l1_size) | DEVICE_RW_XN;
  /* Invalid -> valid needs no TLB invalidation: translation faults are never held in a
     TLB (Arm ARM D8, "TLB maintenance"). The DSB makes the new entries visible to every CPU's walker
     (walks are inner shareable, TCR_EL2.SH0), the ISB to this CPU's later accesses. */
  __asm__ volatile("dsb ishst\n isb" ::: "memory");
  return true;
}

/* Cache maintenance by VA (Arm ARM DDI 0487 M.c D7.5.9 "A64 Cache maintenance
   instructions"), by the smallest line of CTR_EL0 (DminLine for data, IminLine for instructions). */
static uint64_t line_size(unsigned shift) {
  uint64_t ctr;
  __asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
  return ARM_U64(4) << ((ctr >> shift) & ((ARM_U64(1) << ARM_CTR_DMINLINE_WIDTH) - 1));
}

void arm_el2_clean_to_poc(const void* start, uint64_t size) {
  const uint64_t line = line_size(ARM_CTR_DMINLINE_SHIFT);
  const uintptr_t end = (uintptr_t)start + size;
  for (uintptr_t address = (uintptr_t)start & ~(line - 1); address < end; address += line)
    __asm__ volatile("dc cvac, %0" ::"r"(address) : "memory");
  __asm__ volatile("dsb ish" ::: "memory");
}

void arm_el2_sync_instructions(const void* start, uint64_t size) {
  arm_el2_clean_to_poc(start, size);
  const uint64_t line = line_size(ARM_CTR_IMINLINE_SHIFT);
  const uintptr_t end = (uintptr_t)start + size;
  for (uintptr_t address = (uintptr_t)start & ~(line - 1); address < end; address += line)
    __asm__ volatile("ic ivau, %0" ::"r"(address) : "memory");
  __asm__ volatile("dsb ish\n isb" ::: "memory");
}
