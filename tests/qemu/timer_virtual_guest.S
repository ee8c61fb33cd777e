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
    timer_guest_start timer_vectors

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
    timer_unmasked_exit
    cbnz    x20, fail

    timer_deadline_wakes_wfi 3, #1, VIRTUAL_TIMER_INTID, cntvct_el0, cntv_cval_el0, cntv_ctl_el0
    timer_guest_end cntvct_el0, cntv_ctl_el0
