/*
 * Conventions shared by the scenario guests (.S, at EL1) and their host loops (.cpp, at
 * EL2). A guest ends its scenario with `hvc #GUEST_REPORT` and x0 = GUEST_PASS or a
 * failure code naming the check that failed.
 */
#ifndef TESTS_QEMU_GUEST_H
#define TESTS_QEMU_GUEST_H
#define GUEST_REPORT 0xffff
#define GUEST_PASS 0

#ifdef __ASSEMBLER__
/* One SMCCC call and its check: x0..x3 = \id, \a1..\a3; `\insn #0` (hvc or smc);
   unless x0 == \expected afterwards, branch to `report` with x9 = \code. */
.macro guest_check_call insn, code, expected, id, a1=0, a2=0, a3=0
    ldr     x0, =\id
    ldr     x1, =\a1
    ldr     x2, =\a2
    ldr     x3, =\a3
    \insn   #0
    mov     x9, #\code
    ldr     x10, =\expected
    cmp     x0, x10
    b.ne    report
.endm

/* The end of a guest whose checks branch to `fail` with the number of the failed check
   in x10: reports GUEST_PASS when reached in sequence, or that number from `fail`. */
.macro guest_report_pass_or_x10
    mov     x0, #GUEST_PASS
    hvc     #GUEST_REPORT
fail:
    mov     x0, x10
    hvc     #GUEST_REPORT
    b       .
.endm

/* A VBAR_EL1 vector table (Arm ARM D1.10.2: 16 entries of 0x80 bytes) for a guest that
   runs at EL1h: "current EL with SP_ELx" synchronous exceptions (offset 0x200) go to
   \sync, IRQs (0x280) to \irq, and every other entry to \other. */
.macro guest_vector_table name, sync, irq, other
    .balign 0x800
\name:
    .rept 4
    b       \other
    .balign 0x80
    .endr
    b       \sync
    .balign 0x80
    b       \irq
    .balign 0x80
    .rept 10
    b       \other
    .balign 0x80
    .endr
.endm

/* \name: reports an exception the scenario did not expect (status 99, ESR_EL1 in x1) and
   stops; the hypervisor side fails the test on it. */
.macro guest_unexpected_exception name
\name:
    mov     x0, #99
    mrs     x1, esr_el1
    hvc     #GUEST_REPORT
    b       .
.endm

/* \name: the synchronous exception handler of a guest that expects undefined instructions
   (ESR_EL1.EC 0, "Unknown reason"): counts each in \count and resumes after it. Any other
   exception goes to \unexpected. Clobbers x21, x22. */
.macro guest_undefined_step_over name, count, unexpected
\name:
    mrs     x21, esr_el1
    lsr     x22, x21, #26             /* EC [31:26] */
    cbnz    x22, \unexpected
    add     \count, \count, #1
    mrs     x22, elr_el1
    add     x22, x22, #4
    msr     elr_el1, x22
    eret
.endm
#endif
#endif
