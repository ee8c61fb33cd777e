// Guest (EL1) for the isolation_breakpoints scenario. x0 = seed: 0xa1 for vCPU A (the owner
// of an enabled breakpoint), 0xb2 for vCPU B (whose own breakpoints are all disabled).
//  1. Both enable debug exceptions for themselves: MDSCR_EL1.MDE and KDE set, PSTATE.D clear.
//     A puts breakpoint 0 on `target`, enabled at EL1 and EL0. Then `hvc #1` (yield).
//  2. A reads its breakpoint's control back (a debug register access, which a lazy switch
//     answers by switching A's registers in) and calls `target`: its own breakpoint must
//     fire (the scenario's positive control), and its vector reports `hvc #2` with x0 =
//     ESR_EL1.EC. A reports 4 if the control changed, 1 if the breakpoint did not fire.
//     B calls `target` after the host ran A, so A's breakpoint is what the CPU last held:
//     it must not fire in B, which touches no debug register before. B reports GUEST_PASS;
//     a breakpoint in B reports `hvc #2`.
#include "guest.h"

#define YIELD 1
#define DEBUG_EXCEPTION 2
#define MDSCR_MDE (1 << 15)           // Arm ARM D19.3 MDSCR_EL1: Breakpoint, Watchpoint exceptions
#define MDSCR_KDE (1 << 13)           // debug exceptions at EL1
#define DAIF_D 8                      // daifclr #8: PSTATE.D = 0
// DBGBCR<n>_EL1: E (bit 0), PMC [2:1] = 0b11 (EL1 and EL0), BAS [8:5] = 0b1111 (A64 instruction)
#define BREAKPOINT_ENABLED_EL1_EL0 0x1e7
#define SEED_A 0xa1

    .section .guest_text, "ax"
    .global isolation_breakpoints_guest
isolation_breakpoints_guest:
    mov     x21, x0
    adr     x1, breakpoint_vectors
    msr     vbar_el1, x1
    mov     x1, #(MDSCR_MDE | MDSCR_KDE)
    msr     mdscr_el1, x1
    cmp     x21, #SEED_A
    b.ne    1f
    adr     x1, target
    msr     dbgbvr0_el1, x1
    mov     x1, #BREAKPOINT_ENABLED_EL1_EL0
    msr     dbgbcr0_el1, x1
1:  isb
    msr     daifclr, #DAIF_D
    hvc     #YIELD
    cmp     x21, #SEED_A
    b.ne    3f
    mrs     x1, dbgbcr0_el1
    cmp     x1, #BREAKPOINT_ENABLED_EL1_EL0
    mov     x0, #4
    b.ne    2f
3:  bl      target
    cmp     x21, #SEED_A
    mov     x0, #GUEST_PASS
    b.ne    2f
    mov     x0, #1                    // A: its own breakpoint did not fire
2:  hvc     #GUEST_REPORT
    b       .

    .balign 64
target:
    nop
    ret

debug_exception:
    mrs     x0, esr_el1
    lsr     x0, x0, #26               // ESR_EL1.EC: 0x31 = Breakpoint from the current EL
    hvc     #DEBUG_EXCEPTION
    b       .

unexpected:
    mov     x0, #3
    hvc     #GUEST_REPORT
    b       .

guest_vector_table breakpoint_vectors, debug_exception, unexpected, unexpected
