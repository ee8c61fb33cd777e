// Guest (EL1) for the isolation_memory scenario: a hostile guest that knows where the
// hypervisor keeps things and tries to reach them. Position-independent: the host copies
// it into the guest's own RAM, mapped at IPA 0x80000000 and nothing else. The MMU is off
// at EL1, so each address below is used as an IPA, and none of them is mapped at stage 2.
//
// In: x0 = the physical address of the hypervisor's secret, x1 = hypervisor code (its
// EL2 vector table), x2 = a word on the hypervisor's EL2 stack, x3 = the first stage-2
// table page, x4 = how many table pages follow it, x5 = the physical address of this
// guest's own RAM. SP = the top of the guest's RAM.
//
// Every access must end in the exception the vCPU injects when the hypervisor leaves the
// access unanswered or rejects it (modules/trap/inject.cppm): a synchronous External
// abort. Its handler (abort_handler) records ESR_EL1 and FAR_EL1 and moves on. After each
// access the guest checks that exactly one abort came, its ESR_EL1 and FAR_EL1, and for
// loads that the destination registers still hold the junk put there before: they never
// received anything from hypervisor memory (so never the secret).
// Failure code: access number * 10 + 1 (no abort, or more than one), 2 (ESR_EL1),
// 3 (FAR_EL1), 4 (a destination register changed; x1, x2 hold what arrived).
#include "guest.h"

#define JUNK 0x4a554e4b4a554e4b          /* "JUNKJUNK" */
#define STORE_VALUE 0x6861636b6861636b   /* "hackhack"; isolation_memory.cpp checks it */
#define STACK_MARK 0x6f776e52414d2121    /* "ownRAM!!"; isolation_memory.cpp finds it */

// ESR_EL1 of the injected aborts (Arm ARM D19.2 ESR_EL1, "ISS encoding for an exception
// from a Data Abort" / "... Instruction Abort"): EC [31:26], IL [25] = 1, ISV [24] = 0,
// WnR [6], xFSC [5:0] = 0b010000, "Synchronous External abort, not on translation table
// walk or hardware update of translation table".
#define ESR_DATA_ABORT_READ 0x96000010    /* EC 0x25: Data Abort without a change in EL */
#define ESR_DATA_ABORT_WRITE 0x96000050   /* the same with WnR = 1 */
#define ESR_INSTRUCTION_ABORT 0x86000010  /* EC 0x21: Instruction Abort without a change in EL */

// The abort that \number's access must have caused: one, with syndrome \esr, at \address.
.macro expect_abort number, esr, address
    mov     x10, #(\number * 10 + 1)
    cmp     x26, #1
    b.ne    fail
    mov     x10, #(\number * 10 + 2)
    ldr     x9, =\esr
    cmp     x27, x9
    b.ne    fail
    mov     x10, #(\number * 10 + 3)
    cmp     x28, \address
    b.ne    fail
.endm

// A load (into x1, or x1 and x2) that must abort and leave its destination untouched.
.macro load_must_abort number, instruction, address
    ldr     x1, =JUNK
    mov     x2, x1
    mov     x26, #0
    \instruction
    expect_abort \number, ESR_DATA_ABORT_READ, \address
    mov     x10, #(\number * 10 + 4)
    ldr     x9, =JUNK
    cmp     x1, x9
    ccmp    x2, x9, #0, eq
    b.ne    fail
.endm

// A store (of x1, or x1 and x2) that must abort.
.macro store_must_abort number, instruction, address
    ldr     x1, =STORE_VALUE
    mov     x2, x1
    mov     x26, #0
    \instruction
    expect_abort \number, ESR_DATA_ABORT_WRITE, \address
.endm

    .section .guest_text, "ax"
    .balign 4096                         // the host copies whole pages; keeps VBAR alignment
    .global isolation_memory_guest
isolation_memory_guest:
    mov     x19, x0                      // secret
    mov     x20, x1                      // hypervisor code
    mov     x21, x2                      // EL2 stack
    mov     x22, x3                      // stage-2 tables
    mov     x23, x4
    mov     x24, x5                      // this RAM's physical address
    adr     x9, memory_vectors
    msr     vbar_el1, x9
    isb
    // The guest's own RAM works: its stack is there (the host checks the mark too).
    ldr     x9, =STACK_MARK
    str     x9, [sp, #-16]!

    // 1-4. Loads of each width from the secret: MmioRead exits, left unanswered.
    load_must_abort 1, "ldrb w1, [x19]", x19
    load_must_abort 2, "ldrh w1, [x19]", x19
    load_must_abort 3, "ldr w1, [x19]", x19
    load_must_abort 4, "ldr x1, [x19]", x19
    // 5. A load pair carries no instruction syndrome: an UndecodedDataAbort exit.
    load_must_abort 5, "ldp x1, x2, [x19]", x19
    // 6-7. Stores to the secret: an MmioWrite the host rejects, an UndecodedDataAbort.
    store_must_abort 6, "str x1, [x19]", x19
    store_must_abort 7, "stp x1, x2, [x19]", x19
    // 8. A branch into hypervisor code: an InstructionAbort exit; the abort comes back
    //    with ELR_EL1 = FAR_EL1 = the target, and abort_handler returns to x30.
    mov     x26, #0
    blr     x20
    expect_abort 8, ESR_INSTRUCTION_ABORT, x20
    // 9. Every stage-2 table page, 10. a store into the root table (a descriptor that
    //    would map the secret).
    cbz     x23, no_tables
    mov     x3, x22
    mov     x4, x23
read_table_page:
    load_must_abort 9, "ldr x1, [x3]", x3
    add     x3, x3, #4096
    subs    x4, x4, #1
    b.ne    read_table_page
    store_must_abort 10, "str x1, [x22]", x22
    // 11-12. The hypervisor's EL2 stack: read it, overwrite it.
    load_must_abort 11, "ldr x1, [x21]", x21
    store_must_abort 12, "str x1, [x21]", x21
    // 13. Its own RAM at the physical address: the guest has no 1:1 alias of it.
    load_must_abort 13, "ldr x1, [x24]", x24
    // 14. Its stack kept the mark through all of it.
    mov     x10, #140
    ldr     x1, [sp], #16
    ldr     x9, =STACK_MARK
    cmp     x1, x9
    b.ne    fail
    guest_report_pass_or_x10
no_tables:
    mov     x10, #90
    b       fail

// Every abort comes here (EL1h, synchronous: offset 0x200 of the vector table).
abort_handler:
    mrs     x27, esr_el1
    mrs     x28, far_el1
    add     x26, x26, #1
    lsr     x9, x27, #26                 // ESR_EL1.EC
    cmp     x9, #0x21                    // Instruction Abort: there is no instruction
    b.eq    return_to_caller             // to skip, the fetch itself failed
    mrs     x9, elr_el1                  // Data Abort: ELR_EL1 is the load or store
    add     x9, x9, #4
    msr     elr_el1, x9
    eret
return_to_caller:
    msr     elr_el1, x30
    eret

unexpected:
    mov     x0, #99
    hvc     #GUEST_REPORT
    b       .

    .ltorg                               // literals stay inside the copied code
    guest_vector_table memory_vectors, abort_handler, unexpected, unexpected
    .global isolation_memory_guest_end
isolation_memory_guest_end:
