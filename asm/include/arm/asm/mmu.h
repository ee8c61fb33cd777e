/*
 * The EL2 stage 1 translation of EL2 images (runtime/el2/mmu.c builds the tables,
 * runtime/el2/start.S turns the MMU on): the one definition of the register fields and
 * descriptor bits that the assembly, the C runtime and the tests share.
 *
 * Citations are to the Arm ARM, DDI 0487: D19.2 for the registers,
 * D8 "The AArch64 Virtual Memory System Architecture" for the descriptors.
 *
 * The map (identity: VA == PA), 4 KiB granule, 39-bit VA space, walk from level 1:
 *   0x0000_0000-0x3fff_ffff  Device-nGnRE, never executable: on QEMU virt every device
 *                            the hypervisor touches (GIC 0x0800_0000, PL011 0x0900_0000)
 *                            lives in the first GiB (one level 1 block).
 *   0x4000_0000-0x1_3fff_ffff  RAM window (ARM_EL2_MMU_RAM_BASE/SIZE): Normal write-back,
 *                            inner shareable, read-write, never executable, except the
 *                            image: text read-only executable, rodata read-only, data,
 *                            bss and stacks read-write (4 KiB pages, linker symbols).
 *   anything else            unmapped (translation fault) until a hypervisor maps it
 *                            with arm_el2_map_device().
 */
#ifndef ARM_ASM_MMU_H
#define ARM_ASM_MMU_H

/* Unsigned 64-bit constants in C, plain numbers in assembly. */
#ifdef __ASSEMBLER__
#define ARM_U64(x) x
#else
#define ARM_U64(x) x##ULL
#endif

/* ---- MAIR_EL2 (Arm ARM D19.2): one attribute byte per AttrIndx ---- */
#define ARM_MAIR_NORMAL_WB 0xff         /* Normal, inner/outer write-back non-transient, R+W allocate */
#define ARM_MAIR_DEVICE_NGNRE 0x04      /* Device-nGnRE */
#define ARM_MAIR_DEVICE_NGNRNE 0x00     /* Device-nGnRnE */
#define ARM_ATTR_NORMAL 0               /* AttrIndx values used in descriptors */
#define ARM_ATTR_DEVICE 1
#define ARM_ATTR_DEVICE_STRICT 2
#define ARM_MAIR_EL2_VALUE                                                            \
  ((ARM_MAIR_NORMAL_WB << (8 * ARM_ATTR_NORMAL)) | (ARM_MAIR_DEVICE_NGNRE << (8 * ARM_ATTR_DEVICE)) | \
   (ARM_MAIR_DEVICE_NGNRNE << (8 * ARM_ATTR_DEVICE_STRICT)))

/* ---- TCR_EL2 with HCR_EL2.E2H == 0 (Arm ARM D19.2) ---- */
#define ARM_TCR_T0SZ_SHIFT 0            /* T0SZ[5:0]: VA size = 64 - T0SZ */
#define ARM_TCR_IRGN0_SHIFT 8           /* IRGN0[9:8]: inner cacheability of walks */
#define ARM_TCR_ORGN0_SHIFT 10          /* ORGN0[11:10]: outer cacheability of walks */
#define ARM_TCR_SH0_SHIFT 12            /* SH0[13:12]: shareability of walks */
#define ARM_TCR_TG0_SHIFT 14            /* TG0[15:14]: 0b00 = 4 KiB granule */
#define ARM_TCR_PS_SHIFT 16             /* PS[18:16]: physical address size */
#define ARM_TCR_PS_WIDTH 3
#define ARM_TCR_RES1 ((ARM_U64(1) << 31) | (ARM_U64(1) << 23))
#define ARM_TCR_RGN_WBWA 1              /* Normal, write-back read/write-allocate cacheable */
#define ARM_TCR_SH_INNER 3              /* inner shareable */
#define ARM_MMU_VA_BITS 39
#define ARM_TCR_EL2_VALUE                                                                          \
  (ARM_TCR_RES1 | ((64 - ARM_MMU_VA_BITS) << ARM_TCR_T0SZ_SHIFT) |                                 \
   (ARM_TCR_RGN_WBWA << ARM_TCR_IRGN0_SHIFT) | (ARM_TCR_RGN_WBWA << ARM_TCR_ORGN0_SHIFT) |         \
   (ARM_TCR_SH_INNER << ARM_TCR_SH0_SHIFT) | (0 << ARM_TCR_TG0_SHIFT))
/* ID_AA64MMFR0_EL1.PARange[3:0] (Arm ARM D19.2) is copied into TCR_EL2.PS: same encoding. */
#define ARM_ID_AA64MMFR0_PARANGE_SHIFT 0

/* ---- SCTLR_EL2 with HCR_EL2.E2H == 0 (Arm ARM D19.2) ---- */
#define ARM_SCTLR_M (ARM_U64(1) << 0)            /* stage 1 MMU enable */
#define ARM_SCTLR_A (ARM_U64(1) << 1)            /* alignment checking (left off) */
#define ARM_SCTLR_C (ARM_U64(1) << 2)            /* data accesses cacheable */
#define ARM_SCTLR_SA (ARM_U64(1) << 3)           /* SP alignment check */
#define ARM_SCTLR_I (ARM_U64(1) << 12)           /* instruction accesses cacheable */
#define ARM_SCTLR_WXN (ARM_U64(1) << 19)         /* writable implies execute-never */
/* RES1 in the E2H == 0 layout: [29:28], [23:22], [18], [16], [11], [5:4]. */
#define ARM_SCTLR_RES1                                                                      \
  ((ARM_U64(1) << 29) | (ARM_U64(1) << 28) | (ARM_U64(1) << 23) | (ARM_U64(1) << 22) | (ARM_U64(1) << 18) | (ARM_U64(1) << 16) | (ARM_U64(1) << 11) |     \
   (ARM_U64(1) << 5) | (ARM_U64(1) << 4))
#define ARM_SCTLR_EL2_MMU_ON                                                                \
  (ARM_SCTLR_RES1 | ARM_SCTLR_M | ARM_SCTLR_C | ARM_SCTLR_SA | ARM_SCTLR_I | ARM_SCTLR_WXN)

/* ---- VMSAv8-64 descriptors, 4 KiB granule (Arm ARM D8) ---- */
#define ARM_PTE_VALID ARM_U64(1)               /* bit 0 */
#define ARM_PTE_TABLE ARM_U64(2)               /* bit 1: table (levels 0-2) or page (level 3) */
#define ARM_PTE_ATTR_SHIFT 2                   /* AttrIndx[4:2] (Arm ARM D8) */
#define ARM_PTE_AP_RO (ARM_U64(1) << 7)        /* AP[2]: read-only (Arm ARM D8) */
#define ARM_PTE_AP1_RES1 (ARM_U64(1) << 6)     /* AP[1]: RES1 in a one-privilege regime (EL2, E2H == 0) */
#define ARM_PTE_SH_INNER (ARM_U64(3) << 8)     /* SH[9:8] (Arm ARM D8) */
#define ARM_PTE_AF (ARM_U64(1) << 10)          /* access flag: set, no Access flag fault (Arm ARM D8) */
#define ARM_PTE_XN (ARM_U64(1) << 54)          /* XN: execute-never (Arm ARM D8) */
#define ARM_PTE_ADDRESS_MASK ARM_U64(0x0000fffffffff000)
#define ARM_MMU_PAGE_SHIFT 12
#define ARM_MMU_L2_BLOCK_SHIFT 21              /* 2 MiB */
#define ARM_MMU_L1_BLOCK_SHIFT 30              /* 1 GiB */
#define ARM_MMU_ENTRIES 512

/* ---- PAR_EL1 after AT S1E2R/S1E2W (Arm ARM D19.2) ---- */
#define ARM_PAR_F ARM_U64(1)                   /* bit 0: the translation failed */
#define ARM_PAR_FST_SHIFT 1                    /* FST[6:1] when F == 1: the fault status code */
#define ARM_PAR_SH_SHIFT 7                     /* SH[8:7] when F == 0 */
#define ARM_PAR_ATTR_SHIFT 56                  /* ATTR[63:56] when F == 0: the MAIR byte */
/* DFSC/IFSC (ESR_EL2.ISS, Arm ARM D19.2): permission fault, levels 1-3 are 0b0011LL. */
#define ARM_FSC_PERMISSION 0x0c
#define ARM_FSC_LEVEL_MASK 0x03

/* CTR_EL0.DminLine[19:16] (Arm ARM D19.2): log2 of the smallest data cache line, in words. */
#define ARM_CTR_DMINLINE_SHIFT 16
#define ARM_CTR_DMINLINE_WIDTH 4
#define ARM_CTR_IMINLINE_SHIFT 0        /* IminLine[3:0]: the same for the I-cache */

/* The RAM window mapped Normal (see the map above). */
#define ARM_EL2_MMU_RAM_BASE ARM_U64(0x40000000)
#define ARM_EL2_MMU_RAM_SIZE ARM_U64(0x100000000)
/* Level 3 tables for the image's 4 KiB pages: one per 2 MiB the image overlaps. */
#define ARM_EL2_MMU_IMAGE_L3_TABLES 4

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
/*
 * Maps [base, base + size) as Device-nGnRE, read-write, never executable, for a device
 * the hypervisor adds outside the default map, in 1 GiB blocks (base rounded down, the
 * end rounded up). Returns false, changing nothing, if any part of it is already mapped
 * as something else or lies beyond the 39-bit VA space. Visible to every CPU on return.
 */
bool arm_el2_map_device(uint64_t base, uint64_t size);
/*
 * DC CVAC over [start, start + size), then DSB ISH: what the hypervisor wrote there
 * through its cacheable map reaches the point of coherency, where a guest that starts
 * with its MMU and caches off (the arm64 boot protocol) reads it. For a guest's DTB,
 * and any data the hypervisor copies or patches into guest memory.
 */
void arm_el2_clean_to_poc(const void* start, uint64_t size);
/*
 * The same, then IC IVAU over the range, DSB ISH and ISB: for instructions the
 * hypervisor wrote that a guest (or the hypervisor) will execute.
 */
void arm_el2_sync_instructions(const void* start, uint64_t size);
#ifdef __cplusplus
}
#endif
#endif

#endif
