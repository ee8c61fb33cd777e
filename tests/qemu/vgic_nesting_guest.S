// Guest (EL1) for the vgic_nesting_goes_deeper_than_the_list_registers scenario. SPIs 40-45
// (edge, group 1, priorities 0xe0 down to 0x90: each higher than the one before), EOImode 0.
// The guest asks the host for SPI 40 (hvc #VGIC_RAISE, x0 = the INTID); each handler, with
// IRQs open again, asks for the next one, which preempts it: six interrupts active at once,
// two more than QEMU's four list registers. The deepest handler checks that GICD reports
// all six active; then each ends its own (ICC_EOIR1_EL1: priority drop and deactivation)
// and returns to the one it preempted. At the end nothing is active or pending, and each
// was taken once, in order. Failure code = the number of the check (1..).
#include "vgic_guest.h"

#define FIRST VGIC_NESTING_FIRST_SPI
#define DEPTH 6
#define BITS (((1 << DEPTH) - 1) << (FIRST - 32))

    .text
    .global vgic_nesting_guest
vgic_nesting_guest:
    vgic_guest_start vectors
    vgic_distributor_on
    ldr     w1, =BITS
    str     w1, [x20, #GICD_IGROUPR + 4]
    ldr     w1, =0xaaaaaaaa               // INTIDs 32-47 edge-triggered
    str     w1, [x20, #GICD_ICFGR + 8]
    mov     x2, #0
    mov     w3, #0xe0
1:  add     x4, x20, x2
    strb    w3, [x4, #GICD_IPRIORITYR + FIRST]
    sub     w3, w3, #0x10
    add     x2, x2, #1
    cmp     x2, #DEPTH
    b.lo    1b
    ldr     w1, =BITS
    str     w1, [x20, #GICD_ISENABLER + 4]
    vgic_cpu_interface_on
    msr     icc_ctlr_el1, xzr             // EOImode 0: EOIR drops and deactivates
    msr     icc_bpr1_el1, xzr             // preemption by every priority step the CPU has
    isb
    mov     x19, #0                       // interrupts taken
    mov     x0, #FIRST
    msr     daifclr, #2
    hvc     #VGIC_RAISE                   // the whole nest runs on the way back
    msr     daifset, #2
    mov     x10, #1
    cmp     x19, #DEPTH
    b.ne    fail
    vgic_expect_spis_retired 2
    guest_report_pass_or_x10

irq_handler:
    sub     sp, sp, #32
    mrs     x2, elr_el1
    mrs     x3, spsr_el1
    stp     x2, x3, [sp]
    mrs     x1, icc_iar1_el1
    stp     x1, x30, [sp, #16]
    add     x2, x19, #FIRST               // the next in order
    mov     x10, #20
    cmp     x1, x2
    b.ne    fail
    add     x19, x19, #1
    cmp     x19, #DEPTH
    b.eq    deepest
    // Ask for the next one and let it preempt this handler; it and all it preempts in
    // turn end before it returns here.
    add     x0, x19, #FIRST
    msr     daifclr, #2
    isb
    hvc     #VGIC_RAISE
    mov     x3, #1000
2:  cmp     x19, #DEPTH
    b.eq    3f
    subs    x3, x3, #1
    b.ne    2b
3:  msr     daifset, #2
    mov     x10, #21
    cmp     x19, #DEPTH
    b.ne    fail
    b       end
deepest:
    ldr     w2, [x20, #GICD_ISACTIVER + 4]
    expect_w w2, BITS, 22
    ldr     w2, [x20, #GICD_ISPENDR + 4]
    expect_w w2, 0, 23
end:
    ldp     x1, x30, [sp, #16]
    msr     icc_eoir1_el1, x1
    isb
    ldp     x2, x3, [sp]
    msr     elr_el1, x2
    msr     spsr_el1, x3
    add     sp, sp, #32
    eret

    guest_unexpected_exception unexpected_exception
    guest_vector_table vectors, unexpected_exception, irq_handler, unexpected_exception
