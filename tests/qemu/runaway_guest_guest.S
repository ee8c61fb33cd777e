// Guest (EL1) for the runaway_guest scenario: four ways to run forever without a single
// trap to EL2. The host enters each phase at its label (EL1h, DAIF masked) with the
// hypervisor's timer armed, and only that timer's interrupt ends it.
//  a. runaway_el1_spin: `b .` at EL1 with D, A, I and F masked.
//  b. runaway_exception_storm: a UDF whose UNDEFINED exception is taken to EL1 (HCR_EL2.TGE
//     is 0), at a vector that counts it in x20 and returns to the UDF, forever.
//  c. runaway_el0_entry: an ERET to `b .` at EL0 (runaway_el0_spin).
//  d. runaway_wfe_loop: WFE in a loop (WFE is not trapped: VCpuConfig::trap_wfe is off),
//     counting iterations in x21.
// runaway_guest_done reports GUEST_PASS: the vCPU still runs normally afterwards.
#include "guest.h"

    .section .guest_text, "ax"

    .global runaway_el1_spin
runaway_el1_spin:
    b       .

    .global runaway_exception_storm
runaway_exception_storm:
    adr     x1, storm_vectors
    msr     vbar_el1, x1
    isb
    mov     x20, #0
    .global runaway_storm_udf
runaway_storm_udf:
    udf     #0
    b       storm_escaped                // not reached: the storm never ends by itself

// ELR_EL1 is the UDF (Arm ARM, "Preferred exception return address": for an UNDEFINED
// instruction, the instruction itself): ERET executes it again.
storm_sync:
    add     x20, x20, #1
    eret
storm_escaped:
    mov     x0, #1
    hvc     #GUEST_REPORT
    b       .
storm_other:
    mov     x0, #2
    hvc     #GUEST_REPORT
    b       .
// Arm ARM D1.10.2: the storm runs at EL1h, so its exceptions use offset 0x200 (sync).
    guest_vector_table storm_vectors, storm_sync, storm_other, storm_other
    .global runaway_storm_end
runaway_storm_end:

    .global runaway_el0_entry
runaway_el0_entry:
    adr     x1, runaway_el0_spin
    msr     elr_el1, x1
    mov     x1, #0x3c0                   // SPSR_EL1: M[3:0] = 0b0000 (EL0t), D, A, I, F set
    msr     spsr_el1, x1
    eret
    .global runaway_el0_spin
runaway_el0_spin:
    b       .

    .global runaway_wfe_loop
runaway_wfe_loop:
    mov     x21, #0
1:  add     x21, x21, #1
    wfe
    b       1b
    .global runaway_wfe_end
runaway_wfe_end:

    .global runaway_guest_done
runaway_guest_done:
    mov     x0, #GUEST_PASS
    hvc     #GUEST_REPORT
    b       .
