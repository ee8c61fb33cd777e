/*
 * The one definition of every layout and constant that the EL2 assembly and the C++
 * modules share. The .S files include this header; the modules include it in their
 * global module fragment and static_assert their struct layouts against it
 * (modules/trap/registers.cppm, modules/vcpu/context.cppm), so a layout change that is not
 * made here fails to compile instead of corrupting a guest.
 */
#ifndef ARM_ASM_CONTEXT_H
#define ARM_ASM_CONTEXT_H

/* arm::GuestRegisters: what the world switch saves and restores on every exit. */
#define ARM_GUEST_X(n) ((n) * 8)          /* x0..x30 */
#define ARM_GUEST_PC (31 * 8)             /* ELR_EL2: where the guest resumes */
#define ARM_GUEST_PSTATE (32 * 8)         /* SPSR_EL2: the guest's PSTATE */
#define ARM_GUEST_REGISTERS_SIZE (33 * 8)

/* arm::FpSimdState: V0-V31, FPSR, FPCR, moved by VCpu::load()/put() (asm/fpsimd.S). */
#define ARM_FPSIMD_V(n) ((n) * 16)
#define ARM_FPSIMD_FPSR (32 * 16)
#define ARM_FPSIMD_FPCR (32 * 16 + 8)
#define ARM_FPSIMD_SIZE (32 * 16 + 16)

/*
 * The full register dump asm/vectors.S saves when EL2 takes an exception from EL2 itself
 * (a hypervisor bug), handed to arm_el2_unexpected_exception() (runtime/el2/platform.c) as
 * an array of 64-bit words indexed by these offsets / 8.
 */
#define ARM_FRAME_X(n) ((n) * 8)          /* x0..x30 */
#define ARM_FRAME_SP (31 * 8)             /* SP_EL2 before the exception */
#define ARM_FRAME_ELR (32 * 8)
#define ARM_FRAME_SPSR (33 * 8)
#define ARM_FRAME_ESR (34 * 8)
#define ARM_FRAME_FAR (35 * 8)
#define ARM_FRAME_SIZE (36 * 8)

/*
 * Which vector entry ended a guest run: the value arm_enter_guest() returns.
 * Arm ARM D1.10.2 "Exception vectors": four entries per source (sync, IRQ, FIQ, SError).
 */
#define ARM_EXIT_SYNCHRONOUS 0
#define ARM_EXIT_IRQ 1
#define ARM_EXIT_FIQ 2
#define ARM_EXIT_SERROR 3

/*
 * What arm_enter_guest() keeps on SP_EL2 while the guest runs (the guest cannot reach
 * SP_EL2): the host's x29 and x30, its x19 and x20, and the GuestRegisters pointer. Every
 * other general register is the caller's to save (arm::enter_guest() declares them
 * clobbered), so the compiler saves only what it keeps live across the run, once per call
 * of the function that enters the guest, not once more here. x19 and x20 are kept because
 * the exit loop holds two values across the switch (the vCPU and the coroutine frame):
 * one pair moved here costs 2 instructions where spilling and reloading both costs 4
 * (measured, exit_bench -icount shift=0: HVC 131 -> 128, MMIO read 177 -> 174, MRS 151 ->
 * 148); a second pair, x21 and x22, holds nothing the loop needs and costs 2 more (133).
 */
#define ARM_HOST_FRAME_X29 0
#define ARM_HOST_FRAME_X30 8
#define ARM_HOST_FRAME_X19 16 /* x19 and x20, one pair */
#define ARM_HOST_FRAME_GUEST 32
#define ARM_HOST_FRAME_SIZE 48

/* Per-CPU stack size of EL2 images (runtime/el2/start.S). */
#define ARM_EL2_STACK_SHIFT 14            /* 16 KiB per CPU */
#define ARM_EL2_MAX_CPUS 8

/* Load address of EL2 images on QEMU virt: 2 MiB into RAM, above the DTB QEMU places at
   the start of RAM. Their arm64 Image header (start.S) tells a boot loader's booti to put
   them ARM_EL2_IMAGE_BASE - ARM_EL2_RAM_BASE past the start of RAM. */
#define ARM_EL2_RAM_BASE 0x40000000
#define ARM_EL2_IMAGE_BASE 0x40200000
/* The console an EL2 image writes to until it learns another (arm_el2_console_set_pl011):
   QEMU virt's PL011, used by platform.c's console and start.S's early messages. */
#define ARM_EL2_DEFAULT_PL011 0x09000000

#ifdef __ASSEMBLER__
/*
 * Moving x2-x30 between the registers and a GuestRegisters at \base (x0 and x1 are the
 * caller's scratch and move separately). Shared by the world switch and the benchmark's
 * floor handler, so both move exactly the same registers.
 */
.macro arm_store_guest_x2_x30 base
    stp     x2, x3, [\base, #ARM_GUEST_X(2)]
    stp     x4, x5, [\base, #ARM_GUEST_X(4)]
    stp     x6, x7, [\base, #ARM_GUEST_X(6)]
    stp     x8, x9, [\base, #ARM_GUEST_X(8)]
    stp     x10, x11, [\base, #ARM_GUEST_X(10)]
    stp     x12, x13, [\base, #ARM_GUEST_X(12)]
    stp     x14, x15, [\base, #ARM_GUEST_X(14)]
    stp     x16, x17, [\base, #ARM_GUEST_X(16)]
    stp     x18, x19, [\base, #ARM_GUEST_X(18)]
    stp     x20, x21, [\base, #ARM_GUEST_X(20)]
    stp     x22, x23, [\base, #ARM_GUEST_X(22)]
    stp     x24, x25, [\base, #ARM_GUEST_X(24)]
    stp     x26, x27, [\base, #ARM_GUEST_X(26)]
    stp     x28, x29, [\base, #ARM_GUEST_X(28)]
    str     x30, [\base, #ARM_GUEST_X(30)]
.endm

.macro arm_load_guest_x2_x30 base
    ldp     x2, x3, [\base, #ARM_GUEST_X(2)]
    ldp     x4, x5, [\base, #ARM_GUEST_X(4)]
    ldp     x6, x7, [\base, #ARM_GUEST_X(6)]
    ldp     x8, x9, [\base, #ARM_GUEST_X(8)]
    ldp     x10, x11, [\base, #ARM_GUEST_X(10)]
    ldp     x12, x13, [\base, #ARM_GUEST_X(12)]
    ldp     x14, x15, [\base, #ARM_GUEST_X(14)]
    ldp     x16, x17, [\base, #ARM_GUEST_X(16)]
    ldp     x18, x19, [\base, #ARM_GUEST_X(18)]
    ldp     x20, x21, [\base, #ARM_GUEST_X(20)]
    ldp     x22, x23, [\base, #ARM_GUEST_X(22)]
    ldp     x24, x25, [\base, #ARM_GUEST_X(24)]
    ldp     x26, x27, [\base, #ARM_GUEST_X(26)]
    ldp     x28, x29, [\base, #ARM_GUEST_X(28)]
    ldr     x30, [\base, #ARM_GUEST_X(30)]
.endm

/*
 * The exit path of a lower-EL vector entry, inlined into each (asm/vectors.S), with the
 * guest's x0 and x1 pushed on SP_EL2 just below arm_enter_guest()'s host frame: saves the guest's
 * registers, ELR_EL2 and SPSR_EL2 into the GuestRegisters the frame names and returns from
 * arm_enter_guest() with \code in x0.
 */
.macro arm_guest_exit code
    ldr     x1, [sp, #16 + ARM_HOST_FRAME_GUEST]
    arm_store_guest_x2_x30 x1
    ldp     x2, x3, [sp], #16               /* the guest's x0, x1 */
    stp     x2, x3, [x1, #ARM_GUEST_X(0)]
    mrs     x2, elr_el2
    mrs     x3, spsr_el2
    stp     x2, x3, [x1, #ARM_GUEST_PC]
    mov     x0, #\code
    ldp     x19, x20, [sp, #ARM_HOST_FRAME_X19]
    ldp     x29, x30, [sp], #ARM_HOST_FRAME_SIZE
    ret
.endm
#endif

#endif
