// Guest (EL1) for the vgic_sgi_reaches_the_other_vcpu scenario; both vCPUs run it, x0 =
// the vCPU's number. vCPU 1 runs first: brings up its redistributor, enables SGI 5 and
// yields (hvc #1). vCPU 0 brings up the distributor, sends SGI 5 to vCPU 1 (TargetList
// bit 1), sees it pending in vCPU 1's redistributor and not in its own, and yields. vCPU 1
// takes SGI 5 and answers with SGI 6 to every other vCPU (IRM = 1), then reports. vCPU 0,
// resumed, finds SGI 5 retired in vCPU 1's redistributor and takes SGI 6. Failure code = 100 * vCPU + the number of the check.
#include "vgic_guest.h"


    .text
    .global vgic_sgi_other_guest
vgic_sgi_other_guest:
    mov     x23, x0
    adr     x1, vectors
    msr     vbar_el1, x1
    isb
    ldr     x20, =GICD_BASE
    ldr     x21, =GICR_BASE
    mov     x1, #GICR_STRIDE
    madd    x21, x23, x1, x21           // this vCPU's RD_base
    add     x22, x21, #GICR_SGI
    ldr     x24, =GICR_BASE + GICR_STRIDE + GICR_SGI  // vCPU 1's SGI_base
    mov     x19, #0
    vgic_wake_redistributor x21
    mov     w1, #-1
    str     w1, [x22, #GICR_IGROUPR0]
    vgic_cpu_interface_on
    cbnz    x23, vcpu1

vcpu0:
    mov     w1, #(GICD_CTLR_ARE | GICD_CTLR_ENABLE_GRP1)
    str     w1, [x20, #GICD_CTLR]
    mov     w1, #(1 << 6)
    str     w1, [x22, #GICR_ISENABLER0]  // SGI 6 (vCPU 1's answer) enabled here
    ldr     x1, =SGI1R(5, 1 << 1)
    msr     icc_sgi1r_el1, x1
    isb
    ldr     w1, [x24, #GICR_ISPENDR0]
    expect_w w1, 1 << 5, 1
    ldr     w1, [x22, #GICR_ISPENDR0]
    expect_w w1, 0, 2
    hvc     #VGIC_YIELD
    // vCPU 1 took SGI 5 and deactivated it.
    ldr     w1, [x24, #GICR_ISPENDR0]
    expect_w w1, 0, 3
    ldr     w1, [x24, #GICR_ISACTIVER0]
    expect_w w1, 0, 4
    mov     x2, #6
    b       take

vcpu1:
    // Its redistributor's GICR_TYPER: affinity 0.0.0.1, processor number 1, Last.
    ldr     x1, [x21, #GICR_TYPER]
    ldr     x2, =(1 << 32) | (1 << 8) | 0x10
    mov     x10, #101
    cmp     x1, x2
    b.ne    fail
    mov     w1, #(1 << 5)
    str     w1, [x22, #GICR_ISENABLER0]
    hvc     #VGIC_YIELD
    mov     x2, #5
    bl      take_one
    // SGI 6 to every vCPU but this one (IRM, bit 40): vCPU 0.
    ldr     x1, =SGI1R(6, 0) | (1 << 40)
    msr     icc_sgi1r_el1, x1
    isb
    ldr     w1, [x22, #GICR_ISPENDR0]
    expect_w w1, 0, 102
    b       pass

take:
    bl      take_one
    vgic_report_per_vcpu

// Takes one interrupt, which must be INTID x2: unmasks IRQs and waits (bounded) for the
// handler. Clobbers x3.
take_one:
    vgic_take_one 10
    mov     x19, #0
    ret

    vgic_counting_irq_handler irq_handler, 11

    guest_unexpected_exception unexpected_exception
    guest_vector_table vectors, unexpected_exception, irq_handler, unexpected_exception
