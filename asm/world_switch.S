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

    arm_load_guest_x2_x30 x0
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
    arm_store_guest_x2_x30 x1
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
