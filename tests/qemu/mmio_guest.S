// Guest (EL1) for the MMIO scenario. x0 = the emulated device's IPA (outside the stage-2
// map). The host answers every read with 0x8899aabbccddeeff cut to the access size and
// records every write. Each load checks the destination register: width, sign extension
// into W and X registers, and XZR. Failure code = the number of the check (1..).
#include "guest.h"

.macro load_check number, instruction, register, expected
    ldr     \register, =0x5a5a5a5a5a5a5a5a   // junk: the load must overwrite it all
    \instruction
    ldr     x9, =\expected
    cmp     \register, x9
    mov     x10, #\number
    b.ne    fail
.endm

    .section .guest_text, "ax"
    .global mmio_guest
mmio_guest:
    mov     x20, x0
    adr     x1, mmio_vectors
    msr     vbar_el1, x1
    isb
    load_check 1, "ldrb w1, [x20]", x1, 0xff
    load_check 2, "ldrh w1, [x20]", x1, 0xeeff
    load_check 3, "ldr w1, [x20]", x1, 0xccddeeff
    load_check 4, "ldr x1, [x20]", x1, 0x8899aabbccddeeff
    load_check 5, "ldrsb w1, [x20]", x1, 0x00000000ffffffff
    load_check 6, "ldrsb x1, [x20]", x1, 0xffffffffffffffff
    load_check 7, "ldrsh w1, [x20]", x1, 0x00000000ffffeeff
    load_check 8, "ldrsh x1, [x20]", x1, 0xffffffffffffeeff
    load_check 9, "ldrsw x1, [x20]", x1, 0xffffffffccddeeff
    load_check 10, "ldr x30, [x20, #8]", x30, 0x8899aabbccddeeff
    ldr     xzr, [x20]                       // XZR destination: the value is discarded
    mov     x10, #11
    cbnz    xzr, fail
    ldr     x2, =0x1122334455667788
    strb    w2, [x20]
    strh    w2, [x20, #2]
    str     w2, [x20, #4]
    str     x2, [x20, #8]
    str     xzr, [x20, #16]                  // XZR source: stores zero
    stlr    w2, [x20]                        // store-release: still a plain 4-byte write
    // A load outside the stage-2 map but inside what would be RAM: also an MMIO exit.
    ldr     x3, =0x80000000
    load_check 12, "ldr w1, [x3]", x1, 0xccddeeff
    // A load pair has no instruction syndrome (ISV = 0): the host does not emulate it,
    // so the vCPU injects a synchronous external abort, which lands in mmio_vectors.
    mov     x10, #13
    ldp     x1, x2, [x20]
    b       fail                             // not reached: the abort handler reports
abort_seen:
    mrs     x1, esr_el1
    lsr     x1, x1, #26                      // ESR_EL1.EC
    mov     x10, #14
    cmp     x1, #0x25                        // Data Abort taken without a change in EL
    b.ne    fail
    mrs     x1, esr_el1
    and     x1, x1, #0x3f                    // DFSC
    mov     x10, #15
    cmp     x1, #0x10                        // synchronous external abort
    b.ne    fail
    mrs     x1, far_el1
    mov     x10, #16
    cmp     x1, x20                          // FAR_EL1: the faulting address
    b.ne    fail
    guest_report_pass_or_x10

    guest_vector_table mmio_vectors, abort_seen, unexpected, unexpected
unexpected:
    mov     x0, #99
    hvc     #GUEST_REPORT
    b       .
