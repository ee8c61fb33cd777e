// Guest (EL1) for the vgic_level_interrupt_follows_its_line scenario. SPI 40 is configured
// level-sensitive, group 1, routed to this vCPU (IROUTER, 64-bit) and enabled; the host
// raises and lowers its line on hvc #2 and #3 (hvc #4: just an exit). Three rounds:
//  1. raised and lowered with IRQs masked: pending, then not; never taken once unmasked;
//  2. raised with IRQs unmasked: taken; the handler sees it active and (line high) pending,
//     lowers the line (no longer pending), ends it; not taken again;
//  3. the same, but the first handler ends it with the line still high: it is taken a
//     second time, and that handler lowers it.
// Failure code = the number of the check (1..).
#include "vgic_guest.h"

#define SPI VGIC_LEVEL_SPI
#define SPI_BIT (1 << (SPI - 32))

    .text
    .global vgic_level_guest
vgic_level_guest:
    vgic_guest_start vectors
    vgic_distributor_on
    // SPI 40: group 1, priority 0xa0, level (ICFGR2 Int_config 0), to affinity 0.0.0.0.
    mov     w1, #SPI_BIT
    str     w1, [x20, #GICD_IGROUPR + 4]
    mov     w1, #0xa0
    strb    w1, [x20, #GICD_IPRIORITYR + SPI]
    str     wzr, [x20, #GICD_ICFGR + 8]
    ldr     w1, [x20, #GICD_ICFGR + 8]
    expect_w w1, 0, 1
    ldr     x1, =GICD_IROUTER + 8 * SPI
    add     x23, x20, x1
    str     xzr, [x23]
    ldr     x1, [x23]
    mov     x10, #2
    cbnz    x1, fail
    mov     w1, #SPI_BIT
    str     w1, [x20, #GICD_ISENABLER + 4]
    vgic_cpu_interface_on
    mov     x19, #0

    // 1. Raised and lowered before the guest acknowledged it: retired, never taken.
    hvc     #VGIC_RAISE
    ldr     w1, [x20, #GICD_ISPENDR + 4]
    expect_w w1, SPI_BIT, 3
    hvc     #VGIC_LOWER
    ldr     w1, [x20, #GICD_ISPENDR + 4]
    expect_w w1, 0, 4
    vgic_wait_unmasked VGIC_EXIT
    mov     x10, #5
    cbnz    x19, fail

    // 2. Taken; lowered by the first handler before its EOI.
    mov     x25, #0
    bl      raise_and_wait
    mov     x10, #6
    cmp     x19, #1
    b.ne    fail

    // 3. Ended with the line high: taken again, lowered by the second handler.
    mov     x19, #0
    mov     x25, #1
    bl      raise_and_wait
    mov     x10, #7
    cmp     x19, #2
    b.ne    fail
    vgic_expect_spis_retired 8
    guest_report_pass_or_x10

raise_and_wait:
    msr     daifclr, #2
    isb
    hvc     #VGIC_RAISE                      // taken on the way back
    vgic_wait_unmasked VGIC_EXIT
    ret

irq_handler:
    mrs     x1, icc_iar1_el1
    expect_w w1, SPI, 20
    // Acknowledged with its line high: active and pending (IHI 0069 4.1.2).
    ldr     w2, [x20, #GICD_ISACTIVER + 4]
    expect_w w2, SPI_BIT, 21
    ldr     w2, [x20, #GICD_ISPENDR + 4]
    expect_w w2, SPI_BIT, 22
    cmp     x19, x25
    b.lo    1f
    hvc     #VGIC_LOWER                      // the line drops: no longer pending
    ldr     w2, [x20, #GICD_ISPENDR + 4]
    expect_w w2, 0, 23
1:  msr     icc_eoir1_el1, x1
    msr     icc_dir_el1, x1
    isb
    ldr     w2, [x20, #GICD_ISACTIVER + 4]
    expect_w w2, 0, 24
    add     x19, x19, #1
    eret

    guest_unexpected_exception unexpected_exception
    guest_vector_table vectors, unexpected_exception, irq_handler, unexpected_exception
