/*
 * The EL2 exception vector table (VBAR_EL2). Arm ARM D1.10.2 "Exception vectors":
 * 16 entries of 0x80 bytes, grouped by where the exception came from:
 *   0x000 current EL with SP_EL0   0x200 current EL with SP_ELx
 *   0x400 lower EL in AArch64      0x600 lower EL in AArch32
 * Lower-EL exceptions are guest exits: they return from arm_enter_guest() with an ARM_EXIT_* code.
 * Current-EL exceptions are hypervisor bugs: they save a full ExceptionFrame and report
 * it through arm_el2_unexpected_exception(), which never returns. Nothing spins silently.
 */
#include <arm/asm/context.h>

/*
 * A guest exit: x0/x1 to SP_EL2 (out of the guest's reach) to free two registers, then the
 * whole exit path in the entry itself (arm_guest_exit, 26 instructions of the 32 an entry
 * has room for: no branch on the way out).
 */
.macro guest_exit_entry slot, code
    .org    arm_el2_vectors + \slot * 0x80    /* fails to assemble if the previous entry overflowed */
    stp     x0, x1, [sp, #-16]!
    arm_guest_exit \code
.endm

/* A fault of the hypervisor itself: dump everything, hand it to C++. */
.macro el2_fault_entry slot
    .org    arm_el2_vectors + \slot * 0x80
    sub     sp, sp, #ARM_FRAME_SIZE
    stp     x0, x1, [sp, #ARM_FRAME_X(0)]
    mov     x0, #\slot
    b       el2_fault_common
.endm

    .section .text.vectors, "ax"
    .balign 0x800
    .global arm_el2_vectors
arm_el2_vectors:
    el2_fault_entry 0                 /* current EL, SP_EL0: sync  */
    el2_fault_entry 1                 /*                     IRQ   */
    el2_fault_entry 2                 /*                     FIQ   */
    el2_fault_entry 3                 /*                     SError */
    el2_fault_entry 4                 /* current EL, SP_ELx: sync  */
    el2_fault_entry 5                 /*                     IRQ   */
    el2_fault_entry 6                 /*                     FIQ   */
    el2_fault_entry 7                 /*                     SError */
    guest_exit_entry 8, ARM_EXIT_SYNCHRONOUS      /* lower EL, AArch64 */
    guest_exit_entry 9, ARM_EXIT_IRQ
    guest_exit_entry 10, ARM_EXIT_FIQ
    guest_exit_entry 11, ARM_EXIT_SERROR
    /* Lower EL, AArch32: the same codes; the decoder tells AArch32 apart by SPSR_EL2.M[4]. */
    guest_exit_entry 12, ARM_EXIT_SYNCHRONOUS
    guest_exit_entry 13, ARM_EXIT_IRQ
    guest_exit_entry 14, ARM_EXIT_FIQ
    guest_exit_entry 15, ARM_EXIT_SERROR
    .org    arm_el2_vectors + 0x800

/* x0 = entry index (0..7); the faulting code's x0/x1 already in the frame at sp. */
el2_fault_common:
    stp     x2, x3, [sp, #ARM_FRAME_X(2)]
    stp     x4, x5, [sp, #ARM_FRAME_X(4)]
    stp     x6, x7, [sp, #ARM_FRAME_X(6)]
    stp     x8, x9, [sp, #ARM_FRAME_X(8)]
    stp     x10, x11, [sp, #ARM_FRAME_X(10)]
    stp     x12, x13, [sp, #ARM_FRAME_X(12)]
    stp     x14, x15, [sp, #ARM_FRAME_X(14)]
    stp     x16, x17, [sp, #ARM_FRAME_X(16)]
    stp     x18, x19, [sp, #ARM_FRAME_X(18)]
    stp     x20, x21, [sp, #ARM_FRAME_X(20)]
    stp     x22, x23, [sp, #ARM_FRAME_X(22)]
    stp     x24, x25, [sp, #ARM_FRAME_X(24)]
    stp     x26, x27, [sp, #ARM_FRAME_X(26)]
    stp     x28, x29, [sp, #ARM_FRAME_X(28)]
    add     x1, sp, #ARM_FRAME_SIZE
    stp     x30, x1, [sp, #ARM_FRAME_X(30)]   /* x30 and the SP before the fault */
    mrs     x2, elr_el2
    mrs     x3, spsr_el2
    stp     x2, x3, [sp, #ARM_FRAME_ELR]
    mrs     x2, esr_el2
    mrs     x3, far_el2
    stp     x2, x3, [sp, #ARM_FRAME_ESR]
    mov     x1, x0                            /* kind */
    mov     x0, sp                            /* frame */
    bl      arm_el2_unexpected_exception
    b       .                                 /* not reached: the handler does not return */
