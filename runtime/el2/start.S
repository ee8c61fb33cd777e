/*
 * Entry of an EL2 image. QEMU (-kernel image.elf with virtualization=on) and firmware
 * enter here at EL2 with the MMU off; a boot loader's `booti` (U-Boot) enters the raw
 * binary the same way, with x0 = its DTB, as it enters Linux. The primary CPU checks that
 * it runs at the address the image is linked for, clears .bss, builds the EL2 stage 1
 * tables (mmu.c), turns its MMU and caches on, installs the EL2 vectors, runs the static
 * constructors and calls main(); main's return value becomes the
 * exit status through semihosting (picolibc's exit()). Secondary CPUs enter at
 * arm_el2_secondary_entry through PSCI CPU_ON with their CPU index as context id and
 * turn their MMU on with the primary's tables before they touch memory.
 */
#include <arm/asm/context.h>
#include <arm/asm/mmu.h>

/* booting.rst flags: bit 0 = 0 little endian, bits 1-2 = 1 4 KiB pages (what mmu.c uses),
   bit 3 = 0 "place me text_offset past the 2 MiB aligned base of DRAM". */
#define ARM_IMAGE_FLAGS (1 << 1)

    .section .text.boot, "ax"
    .global _start
    .type _start, %function
_start:
/*
 * The arm64 Image header, so that a boot loader that boots Linux boots this image too
 * (U-Boot's booti, GRUB, ...). Layout and meaning: Linux Documentation/arch/arm64/
 * booting.rst, "Call the kernel image". 64 bytes; the first instruction jumps over it.
 * The image is linked at ARM_EL2_IMAGE_BASE and runs only there, so flags bit 3 is 0:
 * "the 2MB aligned base should be as close as possible to the base of DRAM", and
 * text_offset is the distance from the start of RAM to the link address. U-Boot 2023.01's
 * booti_setup (arch/arm/lib/image.c) then moves the image to
 * ALIGN(start of DRAM, 2 MiB) + text_offset = ARM_EL2_IMAGE_BASE wherever it was loaded.
 */
    b       primary_entry                   /* code0 */
    .long   0                               /* code1 */
    .quad   __image_text_offset             /* text_offset (el2.ld.in), little endian */
    .quad   __image_size                    /* image_size: through .bss and the stacks */
    .quad   ARM_IMAGE_FLAGS                 /* flags */
    .quad   0                               /* res2 */
    .quad   0                               /* res3 */
    .quad   0                               /* res4 */
    .ascii  "ARM\x64"                       /* magic */
    .long   0                               /* res5: no PE/COFF header */
    .if     . - _start != 64
    .error  "the arm64 Image header is 64 bytes"
    .endif

primary_entry:
    mrs     x19, CurrentEL
    cmp     x19, #(2 << 2)                  /* CurrentEL.EL, Arm ARM C5.2.1 */
    b.ne    not_at_el2
    /* Everything that follows uses absolute addresses (the literal pool, the stage 1
       tables, the vectors), so a copy entered anywhere else cannot work: stop now. */
    adr     x20, _start                     /* where we run */
    ldr     x21, =_start                    /* where we are linked */
    cmp     x20, x21
    b.ne    not_at_link_address
    mov     x19, x0                         /* keep the boot argument (DTB) */

    mov     x0, #0
    bl      set_stack_for_cpu
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
1:  cmp     x0, x1
    b.hs    2f
    str     xzr, [x0], #8
    b       1b
2:  adrp    x0, arm_boot_argument
    str     x19, [x0, :lo12:arm_boot_argument]
    bl      install_vectors                 /* a fault while building is reported */
    bl      arm_el2_mmu_build
    cbnz    x0, no_map
    /* Everything written so far (.bss, the tables, the stack) went to memory uncached;
       discard any stale line of it that the loader left in the caches, or it would
       shadow those writes once the caches are on. */
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __image_end
    add     x1, x1, :lo12:__image_end
    bl      invalidate_dcache_range
    bl      enable_mmu
    bl      arm_el2_run_constructors
    bl      main
    bl      exit                            /* picolibc: semihosting SYS_EXIT with w0 */
    b       .

/* x0 = context id = the CPU index given to PSCI CPU_ON by arm_el2_start_cpu(). */
    .global arm_el2_secondary_entry
    .type arm_el2_secondary_entry, %function
arm_el2_secondary_entry:
    mov     x19, x0
    cmp     x0, #ARM_EL2_MAX_CPUS           /* no stack for it: park instead of */
    b.hs    park                            /* overwriting another CPU's stack  */
    bl      enable_mmu                      /* before any load: the primary's data is cached */
    mov     x0, x19
    bl      set_stack_for_cpu
    bl      install_vectors
    mov     x0, x19
    bl      arm_el2_secondary_main
    b       .

park:
    wfe
    b       park

/* x0 = CPU index. SP_EL2 = top of that CPU's stack. Clobbers x1, x2. */
set_stack_for_cpu:
    msr     spsel, #1
    adrp    x1, __stack_top
    add     x1, x1, :lo12:__stack_top
    lsl     x2, x0, #ARM_EL2_STACK_SHIFT
    sub     x1, x1, x2
    mov     sp, x1
    ret

install_vectors:
    adrp    x0, arm_el2_vectors
    add     x0, x0, :lo12:arm_el2_vectors
    msr     vbar_el2, x0
    isb
    ret

/*
 * EL2 stage 1 on, with the tables at arm_el2_mmu_l1 (mmu.c; the map is in arm/asm/mmu.h).
 * Arm ARM D19.2 MAIR_EL2, TCR_EL2, TTBR0_EL2, SCTLR_EL2. Uses no memory. Clobbers x0, x1.
 */
enable_mmu:
    ldr     x0, =ARM_MAIR_EL2_VALUE
    msr     mair_el2, x0
    ldr     x0, =ARM_TCR_EL2_VALUE
    mrs     x1, id_aa64mmfr0_el1            /* PS = the CPU's PARange: the same encoding */
    ubfx    x1, x1, #ARM_ID_AA64MMFR0_PARANGE_SHIFT, #ARM_TCR_PS_WIDTH
    bfi     x0, x1, #ARM_TCR_PS_SHIFT, #ARM_TCR_PS_WIDTH
    msr     tcr_el2, x0
    adrp    x0, arm_el2_mmu_l1
    msr     ttbr0_el2, x0
    /* The tables must be visible to the walker and no stale EL2 entry left in the TLB
       (whatever firmware ran before) when M becomes 1. */
    dsb     ish
    tlbi    alle2
    dsb     ish
    isb
    ldr     x0, =ARM_SCTLR_EL2_MMU_ON
    msr     sctlr_el2, x0
    isb
    /* Instructions fetched with the MMU off may sit in the I-cache under other
       attributes; start from a clean I-cache (as Linux's __enable_mmu does). */
    ic      iallu
    dsb     nsh
    isb
    ret

/* DC IVAC over [x0, x1), by the smallest data cache line (CTR_EL0.DminLine, Arm ARM
   D19.2). Clobbers x0-x3. */
invalidate_dcache_range:
    mrs     x3, ctr_el0
    ubfx    x3, x3, #ARM_CTR_DMINLINE_SHIFT, #ARM_CTR_DMINLINE_WIDTH
    mov     x2, #4
    lsl     x2, x2, x3
    sub     x3, x2, #1
    bic     x0, x0, x3
1:  cmp     x0, x1
    b.hs    2f
    dc      ivac, x0
    add     x0, x0, x2
    b       1b
2:  dsb     ish
    ret

/* The image does not fit the tables of mmu.c: stop with status 126. */
no_map:
    ldr     x1, =no_map_exit_block
    mov     w0, #0x18                       /* SYS_EXIT */
    hlt     #0xf000
    b       .

/* Entered at x20 instead of the link address x21. Only PC-relative code runs here: print
   both addresses on the PL011 of QEMU virt (platform.c's console), then stop with status
   123 through semihosting. */
not_at_link_address:
    adr     x0, wrong_address_message
    bl      early_puts
    mov     x0, x20
    bl      early_put_hex
    adr     x0, linked_at_message
    bl      early_puts
    mov     x0, x21
    bl      early_put_hex
    adr     x0, wrong_address_advice
    bl      early_puts
    adr     x1, wrong_address_exit_block
    mov     w0, #0x18                       /* SYS_EXIT */
    hlt     #0xf000
    b       .

/* Writes the NUL-terminated string at x0 to the PL011 (PL011 TRM DDI 0183: DR at +0, FR
   at +0x18, FR.TXFF bit 5), without a stack. Clobbers x0-x3. */
early_puts:
    mov     x1, #ARM_EL2_DEFAULT_PL011
1:  ldrb    w2, [x0], #1
    cbz     w2, 3f
2:  ldr     w3, [x1, #0x18]
    tbnz    w3, #5, 2b
    str     w2, [x1]
    b       1b
3:  ret

/* Writes x0 as 16 hexadecimal digits, without a stack. Clobbers x0-x5. */
early_put_hex:
    mov     x4, x0
    mov     x1, #ARM_EL2_DEFAULT_PL011
    mov     x5, #64
1:  sub     x5, x5, #4
    lsr     x2, x4, x5
    and     x2, x2, #0xf
    cmp     x2, #10
    add     x3, x2, #'0'
    add     x2, x2, #('a' - 10)
    csel    x2, x3, x2, lo
2:  ldr     w3, [x1, #0x18]
    tbnz    w3, #5, 2b
    str     w2, [x1]
    cbnz    x5, 1b
    ret

/* Not at EL2: nothing here can work. Report through semihosting and stop. */
not_at_el2:
    ldr     x1, =not_at_el2_exit_block
    mov     w0, #0x18                       /* SYS_EXIT */
    hlt     #0xf000
    b       .

    .section .rodata
    .balign 8
not_at_el2_exit_block:
    .quad   0x20026                         /* ADP_Stopped_ApplicationExit */
    .quad   125
no_map_exit_block:
    .quad   0x20026
    .quad   126
wrong_address_exit_block:
    .quad   0x20026
    .quad   123

    .section .text.boot, "ax"               /* read with adr: must stay within 1 MiB */
wrong_address_message:
    .asciz  "\r\nEL2 image entered at 0x"
linked_at_message:
    .asciz  ", but it is linked at 0x"
wrong_address_advice:
    .ascii  " and runs only there (runtime/el2/el2.ld.in). A boot loader must load it there,\r\n"
    .asciz  "or honour its arm64 Image header (booti moves it to text_offset past the start of RAM).\r\n"

    .bss
    .balign 8
    .global arm_boot_argument
arm_boot_argument:
    .quad   0
