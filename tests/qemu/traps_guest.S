// Guest (EL1) for the trapped-instruction scenario:
//  1. MRS of a trapped register (CNTP_CTL_EL0: CNTHCTL_EL2.EL1PCEN = 0): the host answers 5.
//  2. MSR of a trapped register (CNTP_CVAL_EL0): the host checks the value.
//  3. MSR from XZR: the host sees 0.
//  4. WFI (HCR_EL2.TWI): an exit; the guest continues after it.
//  5. MRS of a register the host does not handle (CNTP_TVAL_EL0, trapped like CNTP_CTL_EL0):
//     the vCPU injects an undefined-instruction exception, which the guest's handler sees
//     with ESR_EL1.EC = 0 and ELR_EL1 at the MRS.
#include "guest.h"
    .section .guest_text, "ax"
    .global traps_guest
traps_guest:
    adr     x1, traps_vectors
    msr     vbar_el1, x1
    isb
    mov     x10, #1
    mov     x1, #0
    mrs     x1, cntp_ctl_el0
    cmp     x1, #5
    b.ne    fail
    ldr     x2, =0x123456789
    msr     cntp_cval_el0, x2
    msr     cntp_cval_el0, xzr
    wfi
    mov     x10, #5
undef_here:
    mrs     x1, cntp_tval_el0
    b       fail                             // not reached
undef_seen:
    mov     x10, #6
    mrs     x1, esr_el1
    lsr     x1, x1, #26
    cbnz    x1, fail                         // EC 0x00: unknown reason (undefined)
    mov     x10, #7
    mrs     x1, elr_el1
    adr     x2, undef_here
    cmp     x1, x2
    b.ne    fail
    guest_report_pass_or_x10

    guest_vector_table traps_vectors, undef_seen, unexpected, unexpected
unexpected:
    mov     x0, #99
    hvc     #GUEST_REPORT
    b       .
