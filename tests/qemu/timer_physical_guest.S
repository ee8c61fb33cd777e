// Guest (EL1) of the emulated EL1 physical timer scenario (host: timers.cpp). Each step is
// one behaviour; x10 names the step that failed. x20 counts IRQs taken, x21 holds the last
// INTID acknowledged, x22 the physical count at the handler's entry; the handler disables
// the timer (a trapped write that lowers its level) and ends the interrupt.
//  1. A TVAL write then reads count down: TVAL <= the written value, and smaller later.
//  2. CVAL in the past with IMASK set: CTL reads ENABLE | IMASK | ISTATUS; unmasking (and
//     an exit) takes no interrupt.
//  3. IMASK cleared: the interrupt is taken at once, INTID 30.
//  4. Disabled: CTL reads 0, no list register holds INTID 30.
//  5. Masked expiry (PSTATE.I set, timer fires, INTID 30 in a list register), then the timer
//     is disabled, then PSTATE.I cleared: no interrupt.
//  6. A deadline 1 ms ahead, then WFI (in a loop: a WFI may complete before the interrupt
//     is taken): the interrupt wakes it (7: INTID 30), exactly once (9), not before the
//     deadline and not later than 1/16 s after it (8; counter ticks from CNTFRQ_EL0,
//     generous under TCG).
#include "timer_guest.h"

    .text
    .global timer_guest
timer_guest:
    timer_guest_start timer_vectors

    mov     x10, #1
    ldr     x1, =1000000
    msr     cntp_tval_el0, x1
    mrs     x2, cntp_tval_el0
    mov     x3, #10000
1:  subs    x3, x3, #1
    b.ne    1b
    mrs     x3, cntp_tval_el0
    cmp     x2, x1
    b.hi    fail
    cmp     x3, x2
    b.hs    fail

    mov     x10, #2
    msr     cntp_cval_el0, xzr
    mov     x1, #(TIMER_CTL_ENABLE | TIMER_CTL_IMASK)
    msr     cntp_ctl_el0, x1
    mrs     x2, cntp_ctl_el0
    cmp     x2, #(TIMER_CTL_ENABLE | TIMER_CTL_IMASK | TIMER_CTL_ISTATUS)
    b.ne    fail
    timer_unmasked_exit
    cbnz    x20, fail

    mov     x10, #3
    mov     x1, #TIMER_CTL_ENABLE
    msr     cntp_ctl_el0, x1
    msr     daifclr, #2
    isb
    nop
    msr     daifset, #2
    cmp     x20, #1
    b.ne    fail
    cmp     x21, #PHYSICAL_TIMER_INTID
    b.ne    fail

    mov     x10, #4
    mrs     x2, cntp_ctl_el0
    cbnz    x2, fail
    mov     x1, #PHYSICAL_TIMER_INTID
    hvc     #TIMER_HVC_QUERY
    cbnz    x0, fail

    mov     x10, #5
    msr     cntp_cval_el0, xzr
    mov     x1, #TIMER_CTL_ENABLE
    msr     cntp_ctl_el0, x1          // fires with PSTATE.I set
    mov     x1, #PHYSICAL_TIMER_INTID
    hvc     #TIMER_HVC_QUERY
    cbz     x0, fail                  // delivered to a list register
    msr     cntp_ctl_el0, xzr         // the source goes away before the guest looks
    timer_unmasked_exit
    cmp     x20, #1
    b.ne    fail

    timer_deadline_wakes_wfi 6, #2, PHYSICAL_TIMER_INTID, cntpct_el0, cntp_cval_el0, cntp_ctl_el0
    timer_guest_end cntpct_el0, cntp_ctl_el0
