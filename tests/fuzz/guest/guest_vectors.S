// The EL1 vector table of a fuzzed guest (Arm ARM D1.10.2: 16 entries of 0x80 bytes). The
// host copies it to the start of the guest's RAM and points VBAR_EL1 at it; a program may
// move VBAR_EL1 anywhere afterwards.
//
// Synchronous exceptions taken by the guest itself (undefined instructions, BRK, SVC, its
// own translation faults, aborts the hypervisor injects) skip the instruction and return
// to where they came from. An instruction abort or a PC alignment fault has no next
// instruction to skip to: those return to the recovery point the program keeps in
// TPIDR_EL1 (see ProgramGenerator::set_recovery_point). IRQs, FIQs and SErrors return
// at once. x16 and x17 are scratch; programs treat every register as random anyway.
#define ESR_EC_SHIFT 26
#define EC_INSTRUCTION_ABORT_LOWER 0x20
#define EC_INSTRUCTION_ABORT_SAME 0x21
#define EC_PC_ALIGNMENT 0x22

.macro synchronous_entry
    mrs     x16, esr_el1
    lsr     x16, x16, #ESR_EC_SHIFT
    cmp     x16, #EC_INSTRUCTION_ABORT_LOWER
    b.eq    1f
    cmp     x16, #EC_INSTRUCTION_ABORT_SAME
    b.eq    1f
    cmp     x16, #EC_PC_ALIGNMENT
    b.eq    1f
    mrs     x17, elr_el1
    add     x17, x17, #4
    msr     elr_el1, x17
    eret
1:  mrs     x17, tpidr_el1
    msr     elr_el1, x17
    eret
    .balign 0x80
.endm

.macro return_entry
    eret
    .balign 0x80
.endm

    .section .guest_text, "ax"
    .balign 0x800
    .global guest_fuzz_vectors
guest_fuzz_vectors:
    .rept 4                 // current EL, SP_EL0; current EL, SP_ELx; lower EL AArch64; AArch32
    synchronous_entry
    return_entry            // IRQ
    return_entry            // FIQ
    return_entry            // SError
    .endr
    .global guest_fuzz_vectors_end
guest_fuzz_vectors_end:
