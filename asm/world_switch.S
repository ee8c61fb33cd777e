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
 * In:  x0 = the guest's saved registers.
 * Out: x0 = ARM_EXIT_* (which vector ended the run); guest registers saved into *guest.
 * Not an AAPCS64 function: it preserves only x19, x20, x29, x30 and SP, and is called
 * through arm::enter_guest() (modules/vcpu/vcpu.cppm), whose inline assembly names every
 * other general register as clobbered. The host frame (ARM_HOST_FRAME_*) stays on SP_EL2,
 * which the guest cannot change, so the exit path finds it where it was left.
 */
    .global arm_enter_guest
    .type arm_enter_guest, %function
    .balign 16
arm_enter_guest:
    stp     x29, x30, [sp, #-ARM_HOST_FRAME_SIZE]!
    stp     x19, x20, [sp, #ARM_HOST_FRAME_X19]
    str     x0, [sp, #ARM_HOST_FRAME_GUEST]
    ldp     x1, x2, [x0, #ARM_GUEST_PC]
    msr     elr_el2, x1
    msr     spsr_el2, x2

    arm_load_guest_x2_x30 x0
    ldp     x0, x1, [x0, #ARM_GUEST_X(0)]
    eret
    dsb     nsh                 /* no straight-line speculation past eret */
    isb
    .size arm_enter_guest, . - arm_enter_guest
