// Guest (EL1) of the virtual timer level scenario (host: timers.cpp): the case of issue 15.
// x10 names the step that failed; x20 counts IRQs, x21 holds the last INTID, x22 the
// virtual count at the handler's entry; the handler disables the timer and ends the
// interrupt (EOImode 0: its deactivation deactivates the hardware-linked physical PPI).
//  1. The timer fires while PSTATE.I is set: its physical PPI exits to the host anyway
//     (HCR_EL2.IMO) and INTID 27 lands in a list register.
//  2. The guest disables the timer; after the next exit no list register holds INTID 27,
//     and clearing PSTATE.I takes no interrupt: the level dropped before it was acknowledged.
//  3. A new deadline 1 ms ahead, then WFI (in a loop, as WFI may complete early): the
//     interrupt wakes it (4: INTID 27), exactly once (6), not before the deadline and within
//     1/16 s of it (5). Were the physical PPI left active by step 2, it would never come.
#include "timer_guest.h"

    .text
    .global timer_guest
timer_guest:
    adr     x1, timer_vectors
    msr     vbar_el1, x1
    mov     x1, #0xff
    msr     icc_pmr_el1, x1
    mov     x1, #1
    msr     icc_igrpen1_el1, x1
    isb
    mov     x20, #0
    mrs     x19, cntfrq_el0

    mov     x10, #1
    msr     cntv_cval_el0, xzr
    mov     x1, #TIMER_CTL_ENABLE
    msr     cntv_ctl_el0, x1
    isb
    mov     x11, #1000
2:  mov     x1, #VIRTUAL_TIMER_INTID
    hvc     #TIMER_HVC_QUERY
    cbnz    x0, 3f
    subs    x11, x11, #1
    b.ne    2b
    b       fail

3:  mov     x10, #2
    msr     cntv_ctl_el0, xzr
    isb
    mov     x1, #VIRTUAL_TIMER_INTID
    hvc     #TIMER_HVC_QUERY
    cbnz    x0, fail
    msr     daifclr, #2
    isb
    hvc     #TIMER_HVC_SYNC
    isb
    msr     daifset, #2
    cbnz    x20, fail

    mov     x10, #3
    mov     x2, #1000
    udiv    x4, x19, x2               // 1 ms in counter ticks
    mrs     x5, cntvct_el0
    add     x5, x5, x4
    msr     cntv_cval_el0, x5
    mov     x1, #TIMER_CTL_ENABLE
    msr     cntv_ctl_el0, x1
    isb
    msr     daifclr, #2
    mov     x11, #1000                // a WFI may complete before the interrupt is taken
4:  wfi
    isb
    cmp     x20, #1
    b.hs    5f
    subs    x11, x11, #1
    b.ne    4b
5:  msr     daifset, #2
    cmp     x20, #1
    b.ne    fail
    mov     x10, #4
    cmp     x21, #VIRTUAL_TIMER_INTID
    b.ne    fail
    mov     x10, #5
    cmp     x22, x5
    b.lo    fail
    sub     x6, x22, x5
    lsr     x7, x19, #4
    cmp     x6, x7
    b.hs    fail
    mov     x10, #6
    msr     daifclr, #2
    isb
    hvc     #TIMER_HVC_SYNC
    isb
    msr     daifset, #2
    cmp     x20, #1
    b.ne    fail
    guest_report_pass_or_x10

irq_handler:
    mrs     x21, icc_iar1_el1
    mrs     x22, cntvct_el0
    add     x20, x20, #1
    msr     cntv_ctl_el0, xzr
    isb
    msr     icc_eoir1_el1, x21
    eret

    guest_unexpected_exception unexpected_exception
    guest_vector_table timer_vectors, unexpected_exception, irq_handler, unexpected_exception
