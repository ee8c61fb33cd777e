/*
 * Shared by the timer scenarios' host (timers.cpp) and guests (timer_*_guest.S): the
 * hypercalls the host answers and the guests' view of the timer registers' fields.
 */
#ifndef TESTS_QEMU_TIMER_GUEST_H
#define TESTS_QEMU_TIMER_GUEST_H
#include "guest.h"

#define TIMER_HVC_SYNC 1  /* only an exit: levels followed, list registers refilled */
#define TIMER_HVC_QUERY 2 /* x0 = 1 if a list register holds INTID x1, else 0 */

/* CNTP_CTL_EL0/CNTV_CTL_EL0 (Arm ARM D19): the same bits as arm::cnt_ctl. */
#define TIMER_CTL_ENABLE 1
#define TIMER_CTL_IMASK 2
#define TIMER_CTL_ISTATUS 4

/* timer_parked: the running vCPU's own compare value, far in the future. */
#define TIMER_RUNNER_CVAL 0x7fffffffffff0000

#define VIRTUAL_TIMER_INTID 27
#define PHYSICAL_TIMER_INTID 30

#ifdef __ASSEMBLER__
/* The guests' registers: x19 = CNTFRQ_EL0 (ticks per second), x20 = IRQs taken (0), x21 =
   the last INTID acknowledged, x22 = the count at the handler's entry. This sets VBAR_EL1 =
   \vectors and opens the virtual CPU interface: priority mask 0xff (everything through),
   group 1 interrupts on. Clobbers x1. */
.macro timer_guest_start vectors
    adr     x1, \vectors
    msr     vbar_el1, x1
    mov     x1, #0xff
    msr     icc_pmr_el1, x1
    mov     x1, #1
    msr     icc_igrpen1_el1, x1
    isb
    mov     x20, #0
    mrs     x19, cntfrq_el0
.endm

/* \name: an IRQ handler that acknowledges (x21), reads \counter (x22), counts (x20),
   disables the timer whose control register is \ctl (the source goes away) and ends the
   interrupt (EOImode 0: priority drop and deactivation). */
.macro timer_irq_handler name, counter, ctl
\name:
    mrs     x21, icc_iar1_el1
    mrs     x22, \counter
    add     x20, x20, #1
    msr     \ctl, xzr
    isb
    msr     icc_eoir1_el1, x21
    eret
.endm

/* Arms a timer \ticks (a register) ahead of \counter: x5 = the deadline (its CVAL), then
   CTL = ENABLE. Clobbers x1. */
.macro timer_arm ticks, counter, cval, ctl
    mrs     x5, \counter
    add     x5, x5, \ticks
    msr     \cval, x5
    mov     x1, #TIMER_CTL_ENABLE
    msr     \ctl, x1
    isb
.endm

/* One behaviour of both timers: a deadline 1 ms ahead wakes a WFI loop with interrupt
   \intid, exactly once (the IRQ count reaches \count and stays there after another exit),
   not before the deadline and within 1/16 s of it (counter ticks from x19 = CNTFRQ_EL0,
   generous under TCG). Fails with x10 = \code (never woken), \code + 1 (another INTID),
   \code + 2 (early or late), \code + 3 (taken again). */
.macro timer_deadline_wakes_wfi code, count, intid, counter, cval, ctl
    mov     x10, #\code
    mov     x2, #1000
    udiv    x4, x19, x2
    timer_arm x4, \counter, \cval, \ctl
    timer_wfi_until \count, 1000
    cmp     x20, \count
    b.ne    fail
    mov     x10, #(\code + 1)
    cmp     x21, #\intid
    b.ne    fail
    mov     x10, #(\code + 2)
    cmp     x22, x5
    b.lo    fail
    sub     x6, x22, x5
    lsr     x7, x19, #4
    cmp     x6, x7
    b.hs    fail
    mov     x10, #(\code + 3)
    timer_unmasked_exit
    cmp     x20, \count
    b.ne    fail
.endm

/* The end of a timer scenario guest: reports GUEST_PASS with x1 = the last deadline's
   ticks to the handler (x6, from timer_deadline_wakes_wfi), or x10 from `fail`; then its
   IRQ handler for the timer (\counter, \ctl) and its vector table `timer_vectors`. */
.macro timer_guest_end counter, ctl
    mov     x1, x6
    guest_report_pass_or_x10
    timer_irq_handler irq_handler, \counter, \ctl
    guest_unexpected_exception unexpected_exception
    guest_vector_table timer_vectors, unexpected_exception, irq_handler, unexpected_exception
.endm

/* PSTATE.I cleared across one exit (hvc #TIMER_HVC_SYNC) and set again: an interrupt the
   host has for the guest is taken in that window. */
.macro timer_unmasked_exit
    msr     daifclr, #2
    isb
    hvc     #TIMER_HVC_SYNC
    isb
    msr     daifset, #2
.endm

/* Waits until x20 (the guests' IRQ count) reaches \count, at most \tries WFIs, the way a
   guest must: the count checked with PSTATE.I set, then WFI, which a pending interrupt
   ends even with PSTATE.I set (Arm ARM D1 "Wait for Interrupt"), then a window with it
   clear to take the interrupt. (Checking with it clear loses a wake-up: an interrupt taken
   between the check and the WFI leaves the WFI waiting for the next one.) Clobbers x11. */
.macro timer_wfi_until count, tries
    ldr     x11, =\tries
.Lwfi\@:
    cmp     x20, \count
    b.hs    .Lwoken\@
    wfi
    msr     daifclr, #2
    isb
    msr     daifset, #2
    subs    x11, x11, #1
    b.ne    .Lwfi\@
.Lwoken\@:
.endm
#endif
#endif
