// The EL1 vector table of a fuzzed guest (Arm ARM D1.10.2: 16 entries of 0x80 bytes). The
// host copies it to the start of the guest's RAM and points VBAR_EL1 at it; a program may
// move VBAR_EL1 anywhere afterwards.
//
// Synchronous exceptions taken by the guest itself (undefined instructions, BRK, SVC, its
// own translation faults, aborts the hypervisor injects) skip the instruction and return
// to where they came from. An instruction abort or a PC alignment fault has no next
// instruction to skip to: those return to the recovery point the program keeps in
// TPIDR_EL1 (see ProgramGenerator::set_recovery_point). An illegal execution state
// exception (an ERET to an illegal mode set PSTATE.IL, D1.4.3) clears IL in the saved
// state and retries the instruction, rather than crawl on with IL set, one exception per
// instruction, until the timer stops the program. An IRQ (a virtual interrupt arm.vgic put
// in a list register) is acknowledged and ended (ICC_IAR1_EL1, ICC_EOIR1_EL1), so that it is
// not taken again at once, for ever; FIQs and SErrors return at once.
// x16 and x17 are scratch; programs treat every register as random anyway.
//
// From EL0, HVC is UNDEFINED (D1.13.1), so a program that drops to EL0 could never make
// its done call: the lower-EL entries turn an undefined `hvc #GUEST_FUZZ_PROGRAM_DONE`
// at EL0 into the same call at EL1 (an exception return to it with SPSR = EL1h).
#include "program_done.h"

#define ESR_EC_SHIFT 26
#define EC_INSTRUCTION_ABORT_LOWER 0x20
#define EC_INSTRUCTION_ABORT_SAME 0x21
#define EC_PC_ALIGNMENT 0x22
#define EC_ILLEGAL_STATE 0x0e
#define EC_UNKNOWN 0x00
#define SPSR_EL1H_DAIF_MASKED 0x3c5     /* EL1 with SP_EL1, D, A, I, F masked */
#define SPSR_IL (1 << 20)

    .section .guest_text, "ax"
    .balign 0x800
    .global guest_fuzz_vectors
guest_fuzz_vectors:
    /* Current EL with SP_EL0, current EL with SP_ELx, lower EL AArch64, lower EL AArch32:
       each synchronous, IRQ, FIQ, SError (D1.10.2). */
    .irp entry, synchronous, interrupt, returning, returning, synchronous, interrupt, returning, returning, from_el0, interrupt, returning, returning, synchronous, interrupt, returning, returning
    b       \entry
    .balign 0x80
    .endr
    .org guest_fuzz_vectors + 0x800     /* 16 entries of 0x80 bytes, no more */

// At EL0: the done call (UNDEFINED there) continues at EL1; anything else as below.
from_el0:
    mrs     x16, esr_el1
    lsr     x16, x16, #ESR_EC_SHIFT
    cmp     x16, #EC_UNKNOWN
    b.ne    synchronous
    mrs     x17, elr_el1
    ldr     w16, [x17]
    ldr     w17, done_call
    cmp     w16, w17
    b.ne    synchronous
    mov     x16, #SPSR_EL1H_DAIF_MASKED
    msr     spsr_el1, x16
    eret

synchronous:
    mrs     x16, esr_el1
    lsr     x16, x16, #ESR_EC_SHIFT
    cmp     x16, #EC_INSTRUCTION_ABORT_LOWER
    b.eq    recover
    cmp     x16, #EC_INSTRUCTION_ABORT_SAME
    b.eq    recover
    cmp     x16, #EC_PC_ALIGNMENT
    b.eq    recover
    cmp     x16, #EC_ILLEGAL_STATE
    b.eq    legal_again
    mrs     x17, elr_el1            // skip the instruction
    add     x17, x17, #4
    msr     elr_el1, x17
    eret
recover:                            // no instruction to skip to: the recovery point
    mrs     x17, tpidr_el1
    msr     elr_el1, x17
    eret
legal_again:                        // clear PSTATE.IL and retry
    mrs     x17, spsr_el1
    bic     x17, x17, #SPSR_IL
    msr     spsr_el1, x17
    eret

interrupt:
    mrs     x16, icc_iar1_el1
    msr     icc_eoir1_el1, x16
returning:
    eret

done_call:                          // compared with, never executed
    hvc     #GUEST_FUZZ_PROGRAM_DONE
    .global guest_fuzz_vectors_end
guest_fuzz_vectors_end:
