// Guest (EL1) for the interrupts scenario: installs an IRQ vector, opens its (virtual)
// GIC CPU interface, reports ready with `hvc #2`, then spins with IRQs unmasked. The
// host's own timer interrupt arrives meanwhile (an exit the guest never sees); the host
// then injects virtual INTID 27, which the guest's IRQ handler acknowledges, ends, and
// reports: x0 = GUEST_PASS if the INTID was 27, else 30 + the INTID it saw.
#include "guest.h"

#define READY 2
#define EXPECTED_INTID 27

    .text
    .global interrupts_guest
interrupts_guest:
    adr     x1, guest_vectors
    msr     vbar_el1, x1
    mov     x1, #0xff
    msr     icc_pmr_el1, x1           // priority mask: let everything through
    mov     x1, #1
    msr     icc_igrpen1_el1, x1       // group 1 interrupts on
    isb
    hvc     #READY
    msr     daifclr, #2               // unmask IRQs
1:  b       1b

irq_handler:
    mrs     x1, icc_iar1_el1          // acknowledge (the virtual CPU interface)
    msr     icc_eoir1_el1, x1         // priority drop and deactivate (EOImode 0)
    isb
    mov     x0, #GUEST_PASS
    cmp     x1, #EXPECTED_INTID
    b.eq    2f
    add     x0, x1, #30
2:  hvc     #GUEST_REPORT
    b       .

unexpected_exception:
    mov     x0, #29
    hvc     #GUEST_REPORT
    b       .

// VBAR_EL1: 16 entries of 0x80 bytes (Arm ARM D1.10.2); this guest runs at EL1h, so
// its IRQs arrive at "current EL with SP_ELx, IRQ" (offset 0x280).
    guest_vector_table guest_vectors, unexpected_exception, irq_handler, unexpected_exception
