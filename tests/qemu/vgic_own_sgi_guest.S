// Guest (EL1) for the vgic_guest_takes_its_own_sgi scenario: brings up the virtual
// distributor and its redistributor (GICD_CTLR, TYPER, GICR_TYPER, WAKER, IGROUPR0,
// IPRIORITYR0, ISENABLER0), opens its CPU interface, sends itself SGI 3 through
// ICC_SGI1R_EL1 and takes it: acknowledge (IAR1), priority drop (EOIR1), deactivation
// (DIR), checking ISPENDR0/ISACTIVER0 at each step from inside the handler, including the
// same SGI sent again while active (pending and active) and cleared (ICPENDR0). Failure
// code = the number of the check (1..).
#include "vgic_guest.h"

#define SGI 3
#define SGI_BIT (1 << SGI)

    .text
    .global vgic_own_sgi_guest
vgic_own_sgi_guest:
    vgic_guest_start vectors
    // GICD_CTLR: affinity routing and a single Security state, both RAO (12.9.4).
    ldr     w1, [x20, #GICD_CTLR]
    expect_w w1, GICD_CTLR_ARE | GICD_CTLR_DS, 1
    // GICD_TYPER: ITLinesNumber 1 (32 SPIs), IDbits 9, No1N, CPUNumber 0, no LPIs (12.9.38).
    ldr     w1, [x20, #GICD_TYPER]
    expect_w w1, 1 | (9 << 19) | (1 << 25), 2
    mov     w1, #(GICD_CTLR_ARE | GICD_CTLR_ENABLE_GRP1)
    str     w1, [x20, #GICD_CTLR]
    ldr     w1, [x20, #GICD_CTLR]
    expect_w w1, GICD_CTLR_ARE | GICD_CTLR_DS | GICD_CTLR_ENABLE_GRP1, 3
    // GICR_TYPER (64-bit): affinity 0, processor number 0, Last (the only redistributor).
    ldr     x1, [x21, #GICR_TYPER]
    mov     x10, #4
    cmp     x1, #0x10
    b.ne    fail
    // GICR_WAKER: asleep at reset; awake once ProcessorSleep is cleared.
    ldr     w1, [x21, #GICR_WAKER]
    expect_w w1, GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP, 5
    vgic_wake_redistributor x21
    // Every private interrupt in group 1; SGI 3 at priority 0x80 (a byte access) and enabled.
    mov     w1, #-1
    str     w1, [x22, #GICR_IGROUPR0]
    ldr     w1, [x22, #GICR_IGROUPR0]
    expect_w w1, 0xffffffff, 6
    mov     w1, #0x80
    strb    w1, [x22, #GICR_IPRIORITYR0 + SGI]
    ldr     w1, [x22, #GICR_IPRIORITYR0]
    expect_w w1, 0x80000000, 7
    mov     w1, #SGI_BIT
    str     w1, [x22, #GICR_ISENABLER0]
    ldr     w1, [x22, #GICR_ICENABLER0]
    expect_w w1, SGI_BIT, 8
    vgic_cpu_interface_on
    // SGI 3 to this vCPU (Aff1 0, TargetList bit 0), IRQs masked: pending, not taken yet.
    mov     x19, #0
    ldr     x1, =SGI1R(SGI, 1)
    msr     icc_sgi1r_el1, x1
    isb
    ldr     w1, [x22, #GICR_ISPENDR0]
    expect_w w1, SGI_BIT, 9
    // Unmasked: taken at once (the handler counts in x19).
    vgic_take_one 10
    // Deactivated: neither pending nor active.
    ldr     w1, [x22, #GICR_ISPENDR0]
    expect_w w1, 0, 11
    ldr     w1, [x22, #GICR_ISACTIVER0]
    expect_w w1, 0, 12
    // A target list naming only vCPUs this VM does not have (Aff0 5, and Aff1 1) generates
    // nothing.
    ldr     x1, =SGI1R(SGI, 1 << 5)
    msr     icc_sgi1r_el1, x1
    ldr     x1, =SGI1R(SGI, 1) | (1 << 16)
    msr     icc_sgi1r_el1, x1
    isb
    ldr     w1, [x22, #GICR_ISPENDR0]
    expect_w w1, 0, 13
    guest_report_pass_or_x10

irq_handler:
    mrs     x1, icc_iar1_el1
    expect_w w1, SGI, 20
    // Acknowledged: active, no longer pending.
    ldr     w2, [x22, #GICR_ISACTIVER0]
    expect_w w2, SGI_BIT, 21
    ldr     w2, [x22, #GICR_ISPENDR0]
    expect_w w2, 0, 22
    // The same SGI again while it is active: pending and active.
    ldr     x2, =SGI1R(SGI, 1)
    msr     icc_sgi1r_el1, x2
    isb
    ldr     w2, [x22, #GICR_ISPENDR0]
    expect_w w2, SGI_BIT, 23
    ldr     w2, [x22, #GICR_ISACTIVER0]
    expect_w w2, SGI_BIT, 24
    // Priority drop (EOImode 1): still active.
    msr     icc_eoir1_el1, x1
    isb
    ldr     w2, [x22, #GICR_ISACTIVER0]
    expect_w w2, SGI_BIT, 25
    // Clearing the second one: not pending, so it is not taken again.
    mov     w2, #SGI_BIT
    str     w2, [x22, #GICR_ICPENDR0]
    ldr     w2, [x22, #GICR_ISPENDR0]
    expect_w w2, 0, 26
    // Deactivation.
    msr     icc_dir_el1, x1
    isb
    ldr     w2, [x22, #GICR_ISACTIVER0]
    expect_w w2, 0, 27
    add     x19, x19, #1
    eret

    guest_unexpected_exception unexpected_exception
    guest_vector_table vectors, unexpected_exception, irq_handler, unexpected_exception
