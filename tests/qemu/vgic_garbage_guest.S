// Guest (EL1) for the vgic_garbage_enables_nothing scenario. With IRQs masked it writes
// garbage to every offset of its distributor and redistributor (RD and SGI frames):
// all-ones words and doublewords everywhere, bytes and halfwords (all-ones, then
// pseudo-random) over the first 4 KiB of each frame, where the registers are, then
// pseudo-random words everywhere; it reads every word, doubleword, byte and halfword back,
// and leaves every interrupt enabled, pending and active. Then it turns all of that off
// (ICENABLER, ICPENDR, ICACTIVER of every interrupt), opens its CPU interface and IRQs
// across exits, and checks that no interrupt is taken; finally that SGI 7, enabled and
// sent, is the one taken. Failure code = the number of the check (1..).
#include "vgic_guest.h"

#define SGI 7

// A sweep of [\base, \base + \size) in steps of \step: \access with x7 = the address and
// x5 = the next value of a xorshift64 generator. Clobbers x6, x7, x8.
.macro sweep base, size, step, access
    mov     x6, #0
    ldr     x8, =\size
.Lsweep\@:
    add     x7, \base, x6
    eor     x5, x5, x5, lsl #13
    eor     x5, x5, x5, lsr #7
    eor     x5, x5, x5, lsl #17
    \access
    add     x6, x6, #\step
    cmp     x6, x8
    b.lo    .Lsweep\@
.endm

// Every sweep over the distributor (\base = x20, 64 KiB) and the redistributor (x21,
// 128 KiB), and the narrow ones over the first 4 KiB of each of the three frames.
.macro sweep_all step, access
    sweep   x20, 0x10000, \step, "\access"
    sweep   x21, 0x20000, \step, "\access"
.endm
.macro sweep_registers step, access
    sweep   x20, 0x1000, \step, "\access"
    sweep   x21, 0x1000, \step, "\access"
    sweep   x22, 0x1000, \step, "\access"
.endm

// w4 (all ones) to the distributor's registers \offsets of every block of 32 interrupts
// (block 0, the private interrupts, is RAZ/WI there with ARE); to the redistributor's.
// Clobbers x6, x7.
.macro all_ones offsets:vararg
    mov     x6, #0
.Lblock\@:
    add     x7, x20, x6
    .irp offset, \offsets
    str     w4, [x7, #\offset]
    .endr
    add     x6, x6, #4
    cmp     x6, #0x80
    b.lo    .Lblock\@
.endm
.macro all_ones_private offsets:vararg
    .irp offset, \offsets
    str     w4, [x22, #\offset]
    .endr
.endm

    .text
    .global vgic_garbage_guest
vgic_garbage_guest:
    vgic_guest_start vectors
    mov     x19, #0                     // interrupts taken
    mov     x18, #1023                  // the last INTID taken
    ldr     x5, =0x9e3779b97f4a7c15
    mov     w4, #-1
    mov     x3, #-1

    sweep_all 4, "str w4, [x7]"
    sweep_all 8, "str x3, [x7]"
    sweep_registers 1, "strb w4, [x7]"
    sweep_registers 2, "strh w4, [x7]"
    sweep_registers 1, "strb w5, [x7]"
    sweep_registers 2, "strh w5, [x7]"
    sweep_all 4, "str w5, [x7]"
    // The worst end state: every interrupt enabled, pending and active.
    all_ones GICD_ISENABLER, GICD_ISPENDR, GICD_ISACTIVER
    all_ones_private GICR_ISENABLER0, GICR_ISPENDR0, GICR_ISACTIVER0
    ldr     w1, [x22, #GICR_ISACTIVER0]
    expect_w w1, 0xffffffff, 8
    sweep_all 4, "ldr w1, [x7]"
    sweep_all 8, "ldr x1, [x7]"
    sweep_registers 1, "ldrb w1, [x7]"
    sweep_registers 2, "ldrh w1, [x7]"

    // Back to a known state: distributor on for group 1, the redistributor awake, every
    // interrupt disabled, not pending, not active.
    vgic_distributor_on
    all_ones GICD_ICENABLER, GICD_ICPENDR, GICD_ICACTIVER, GICD_IGROUPR
    all_ones_private GICR_ICENABLER0, GICR_ICPENDR0, GICR_ICACTIVER0, GICR_IGROUPR0
    ldr     w1, [x20, #GICD_ISENABLER + 4]
    expect_w w1, 0, 1
    ldr     w1, [x22, #GICR_ISENABLER0]
    expect_w w1, 0, 2
    ldr     w1, [x22, #GICR_ISACTIVER0]
    expect_w w1, 0, 3
    ldr     w1, [x20, #GICD_ISPENDR + 4]
    expect_w w1, 0, 4

    // Nothing enabled: nothing taken, with IRQs open across exits.
    vgic_cpu_interface_on
    vgic_wait_unmasked VGIC_EXIT
    mov     x10, #5
    cbnz    x19, fail

    // SGI 7 enabled and sent to this vCPU: that one is taken, once.
    mov     w1, #0x80
    strb    w1, [x22, #GICR_IPRIORITYR0 + SGI]
    mov     w1, #(1 << SGI)
    str     w1, [x22, #GICR_ISENABLER0]
    ldr     x1, =SGI1R(SGI, 1)
    msr     icc_sgi1r_el1, x1
    vgic_wait_unmasked VGIC_EXIT
    mov     x10, #6
    cmp     x19, #1
    b.ne    fail
    mov     x10, #7
    cmp     x18, #SGI
    b.ne    fail
    guest_report_pass_or_x10

// Counts what is taken (x19) and remembers its INTID (x18).
irq_handler:
    mrs     x18, icc_iar1_el1
    msr     icc_eoir1_el1, x18
    msr     icc_dir_el1, x18
    isb
    add     x19, x19, #1
    eret

    guest_unexpected_exception unexpected_exception
    guest_vector_table vectors, unexpected_exception, irq_handler, unexpected_exception
