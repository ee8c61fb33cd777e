/*
 * The world switch: enter a guest at EL1 and come back when it exits to EL2.
 *
 * Only the general registers, ELR_EL2 and SPSR_EL2 move here. The guest's EL1 system
 * registers, FP/SIMD registers and timer stay live on the CPU while the host runs,
 * because EL2 code without VHE never uses them (it is compiled -mgeneral-regs-only);
 * they move in VCpu::load()/put() only when another vCPU takes the CPU.
 */
#include <arm/asm/context.h>

    .text

/*
 * uint64_t arm_enter_guest(arm::GuestRegisters* guest)
 *
 * In:  x0 = the guest's saved registers. TPIDR_EL2 is set to x0 for the exit path.
 * Out: x0 = ARM_EXIT_* (which vector ended the run); guest registers saved into *guest.
 * Host callee-saved x19-x30 are kept on SP_EL2, which the guest cannot change, so the
 * exit path finds them where it left them.
 */
    .global arm_enter_guest
    .type arm_enter_guest, %function
    .balign 16
arm_enter_guest:
    stp     x29, x30, [sp, #-ARM_HOST_SAVE_SIZE]!
    stp     x19, x20, [sp, #16]
    stp     x21, x22, [sp, #32]
    stp     x23, x24, [sp, #48]
    stp     x25, x26, [sp, #64]
    stp     x27, x28, [sp, #80]

    msr     tpidr_el2, x0
    ldp     x1, x2, [x0, #ARM_GUEST_PC]
    msr     elr_el2, x1
    msr     spsr_el2, x2

    ldp     x2, x3, [x0, #ARM_GUEST_X(2)]
    ldp     x4, x5, [x0, #ARM_GUEST_X(4)]
    ldp     x6, x7, [x0, #ARM_GUEST_X(6)]
    ldp     x8, x9, [x0, #ARM_GUEST_X(8)]
    ldp     x10, x11, [x0, #ARM_GUEST_X(10)]
    ldp     x12, x13, [x0, #ARM_GUEST_X(12)]
    ldp     x14, x15, [x0, #ARM_GUEST_X(14)]
    ldp     x16, x17, [x0, #ARM_GUEST_X(16)]
    ldp     x18, x19, [x0, #ARM_GUEST_X(18)]
    ldp     x20, x21, [x0, #ARM_GUEST_X(20)]
    ldp     x22, x23, [x0, #ARM_GUEST_X(22)]
    ldp     x24, x25, [x0, #ARM_GUEST_X(24)]
    ldp     x26, x27, [x0, #ARM_GUEST_X(26)]
    ldp     x28, x29, [x0, #ARM_GUEST_X(28)]
    ldr     x30, [x0, #ARM_GUEST_X(30)]
    ldp     x0, x1, [x0, #ARM_GUEST_X(0)]
    eret
    dsb     nsh                 /* no straight-line speculation past eret */
    isb
    .size arm_enter_guest, . - arm_enter_guest

/*
 * The exit path, reached from a lower-EL vector entry (vectors.S) with:
 *   guest x0, x1 pushed on SP_EL2; x0 = ARM_EXIT_* code; x1 = scratch.
 * Saves the guest's registers into the context TPIDR_EL2 points at, restores the host's
 * callee-saved registers and returns from arm_enter_guest with the exit code.
 */
    .global arm_guest_exit
    .type arm_guest_exit, %function
    .balign 16
arm_guest_exit:
    mrs     x1, tpidr_el2
    stp     x2, x3, [x1, #ARM_GUEST_X(2)]
    stp     x4, x5, [x1, #ARM_GUEST_X(4)]
    stp     x6, x7, [x1, #ARM_GUEST_X(6)]
    stp     x8, x9, [x1, #ARM_GUEST_X(8)]
    stp     x10, x11, [x1, #ARM_GUEST_X(10)]
    stp     x12, x13, [x1, #ARM_GUEST_X(12)]
    stp     x14, x15, [x1, #ARM_GUEST_X(14)]
    stp     x16, x17, [x1, #ARM_GUEST_X(16)]
    stp     x18, x19, [x1, #ARM_GUEST_X(18)]
    stp     x20, x21, [x1, #ARM_GUEST_X(20)]
    stp     x22, x23, [x1, #ARM_GUEST_X(22)]
    stp     x24, x25, [x1, #ARM_GUEST_X(24)]
    stp     x26, x27, [x1, #ARM_GUEST_X(26)]
    stp     x28, x29, [x1, #ARM_GUEST_X(28)]
    str     x30, [x1, #ARM_GUEST_X(30)]
    ldp     x2, x3, [sp], #16               /* the guest's x0, x1 */
    stp     x2, x3, [x1, #ARM_GUEST_X(0)]
    mrs     x2, elr_el2
    mrs     x3, spsr_el2
    stp     x2, x3, [x1, #ARM_GUEST_PC]

    ldp     x19, x20, [sp, #16]
    ldp     x21, x22, [sp, #32]
    ldp     x23, x24, [sp, #48]
    ldp     x25, x26, [sp, #64]
    ldp     x27, x28, [sp, #80]
    ldp     x29, x30, [sp], #ARM_HOST_SAVE_SIZE
    ret
    .size arm_guest_exit, . - arm_guest_exit
