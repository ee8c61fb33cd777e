/*
 * The virtual GIC as the vGIC scenario guests (.S, at EL1) see it: QEMU virt's GICv3
 * addresses, register offsets (IHI 0069 Tables 12-25, 12-27, 12-29) and the bring-up steps
 * every such guest makes.
 */
#ifndef TESTS_QEMU_VGIC_GUEST_H
#define TESTS_QEMU_VGIC_GUEST_H
#include "guest.h"

#define GICD_BASE 0x08000000
#define GICR_BASE 0x080a0000 /* vCPU n's RD_base: GICR_BASE + n * GICR_STRIDE */
#define GICR_STRIDE 0x20000
#define GICR_SGI 0x10000 /* SGI_base, from RD_base */

#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ICENABLER 0x0180
#define GICD_ISPENDR 0x0200
#define GICD_ICPENDR 0x0280
#define GICD_ISACTIVER 0x0300
#define GICD_ICACTIVER 0x0380
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR 0x0c00
#define GICD_IROUTER 0x6000
#define GICD_CTLR_ENABLE_GRP1 (1 << 1)
#define GICD_CTLR_ARE (1 << 4)
#define GICD_CTLR_DS (1 << 6)

#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_WAKER_PROCESSOR_SLEEP (1 << 1)
#define GICR_WAKER_CHILDREN_ASLEEP (1 << 2)
/* In SGI_base: */
#define GICR_IGROUPR0 0x0080
#define GICR_ISENABLER0 0x0100
#define GICR_ICENABLER0 0x0180
#define GICR_ISPENDR0 0x0200
#define GICR_ICPENDR0 0x0280
#define GICR_ISACTIVER0 0x0300
#define GICR_ICACTIVER0 0x0380
#define GICR_IPRIORITYR0 0x0400

/* The scenarios' hypercalls: the vCPU yields (run_until()'s `until`); the host raises
   (the level scenario: its SPI's line; the nesting scenario: the edge SPI in x0) or
   lowers; just an exit (answered by run_until() itself). */
#define VGIC_YIELD 1
#define VGIC_RAISE 2
#define VGIC_LOWER 3
#define VGIC_EXIT 4
#define VGIC_LEVEL_SPI 40
#define VGIC_NESTING_FIRST_SPI 40

/* ICC_SGI1R_EL1 (12.2.23): INTID [27:24], Aff1 [23:16], TargetList [15:0]. */
#define SGI1R(intid, target_list) (((intid) << 24) | (target_list))

#ifdef __ASSEMBLER__
/* Wakes the redistributor at RD_base \rd (12.11.36: clear ProcessorSleep, wait until
   ChildrenAsleep reads 0). Clobbers w9. */
.macro vgic_wake_redistributor rd
    str     wzr, [\rd, #GICR_WAKER]
.Lwake\@:
    ldr     w9, [\rd, #GICR_WAKER]
    tbnz    w9, #2, .Lwake\@
.endm

/* Opens the virtual CPU interface: every priority let through, split priority drop and
   deactivation (ICC_CTLR_EL1.EOImode = 1: EOIR drops, DIR deactivates), group 1 on.
   Clobbers x9. */
.macro vgic_cpu_interface_on
    mov     x9, #0xff
    msr     icc_pmr_el1, x9
    mov     x9, #2
    msr     icc_ctlr_el1, x9
    mov     x9, #1
    msr     icc_igrpen1_el1, x9
    isb
.endm

/* The usual start: VBAR_EL1 = \vectors; x20 = GICD_BASE, x21 = vCPU 0's RD_base, x22 its
   SGI_base. Clobbers x9. */
.macro vgic_guest_start vectors
    adr     x9, \vectors
    msr     vbar_el1, x9
    isb
    ldr     x20, =GICD_BASE
    ldr     x21, =GICR_BASE
    add     x22, x21, #GICR_SGI
.endm

/* The distributor on for group 1 (ARE is RAO) and this vCPU's redistributor awake, for a
   guest started with vgic_guest_start. Clobbers w1, w9. */
.macro vgic_distributor_on
    mov     w1, #(GICD_CTLR_ARE | GICD_CTLR_ENABLE_GRP1)
    str     w1, [x20, #GICD_CTLR]
    vgic_wake_redistributor x21
.endm

/* IRQs open for a while and across an exit (`hvc #\exit`), then masked again. Clobbers
   x3. */
.macro vgic_wait_unmasked exit
    msr     daifclr, #2
    isb
    mov     x3, #1000
.Lbefore\@:
    subs    x3, x3, #1
    b.ne    .Lbefore\@
    hvc     #\exit
    mov     x3, #1000
.Lafter\@:
    subs    x3, x3, #1
    b.ne    .Lafter\@
    msr     daifset, #2
    isb
.endm

/* IRQs open until the IRQ handler has counted one in x19 (at most 1000 turns), then
   masked; unless x19 == 1, branch to `fail` with x10 = \code. Clobbers x3. */
.macro vgic_take_one code
    msr     daifclr, #2
    isb
    mov     x3, #1000
.Lwait\@:
    cbnz    x19, .Ltaken\@
    subs    x3, x3, #1
    b.ne    .Lwait\@
.Ltaken\@:
    msr     daifset, #2
    mov     x10, #\code
    cmp     x19, #1
    b.ne    fail
.endm

/* The end of a guest that both vCPUs run, with x23 = its vCPU number: `pass` reports
   GUEST_PASS; `fail` reports 100 * vCPU + x10 (the number of the failed check). */
.macro vgic_report_per_vcpu
pass:
    mov     x0, #GUEST_PASS
    hvc     #GUEST_REPORT
fail:
    mov     x0, #100
    madd    x0, x23, x0, x10
    hvc     #GUEST_REPORT
    b       .
.endm

/* An IRQ handler that takes one interrupt, which must be INTID x2 (else `fail` with
   x10 = \code), ends it (EOIR, DIR: EOImode 1), counts it in x19 and returns. */
.macro vgic_counting_irq_handler name, code
\name:
    mrs     x1, icc_iar1_el1
    mov     x10, #\code
    cmp     x1, x2
    b.ne    fail
    msr     icc_eoir1_el1, x1
    msr     icc_dir_el1, x1
    isb
    add     x19, x19, #1
    eret
.endm

/* Unless w\reg == \expected (a 32-bit immediate), branch to `fail` with x10 = \code. */
.macro expect_w reg, expected, code
    ldr     w11, =\expected
    mov     x10, #\code
    cmp     \reg, w11
    b.ne    fail
.endm

/* Unless SPIs 32-63 are neither pending nor active in the distributor, branch to `fail`
   with x10 = \code (pending) or \code + 1 (active). Clobbers w1, w11. */
.macro vgic_expect_spis_retired code
    ldr     w1, [x20, #GICD_ISPENDR + 4]
    expect_w w1, 0, \code
    ldr     w1, [x20, #GICD_ISACTIVER + 4]
    expect_w w1, 0, \code + 1
.endm
#endif
#endif
