// Guests (EL1) of the parked-timer scenario (host: timer_parked.cpp), two vCPUs on one CPU.
//
// timer_sleeper: twice, arms its virtual timer 2 ms ahead and waits in a WFI loop until its
// handler ran (the handler disables the timer and ends the interrupt); then reports
// GUEST_PASS, or x10 = the round (1, 2) whose interrupt never came, or 3 if an interrupt
// came before its deadline.
// timer_runner: arms its own virtual timer far in the future (TIMER_RUNNER_CVAL), then
// spins until the host stops it; the host then finds that timer as the runner left it.
#include "timer_guest.h"

    .text
    .global timer_sleeper
timer_sleeper:
    adr     x1, sleeper_vectors
    msr     vbar_el1, x1
    mov     x1, #0xff
    msr     icc_pmr_el1, x1
    mov     x1, #1
    msr     icc_igrpen1_el1, x1
    isb
    mrs     x19, cntfrq_el0
    mov     x2, #500
    udiv    x4, x19, x2               // 2 ms in counter ticks
    mov     x20, #0
    mov     x12, #0                   // rounds done
round:
    add     x12, x12, #1
    mov     x10, x12
    mrs     x5, cntvct_el0
    add     x5, x5, x4
    msr     cntv_cval_el0, x5
    mov     x1, #TIMER_CTL_ENABLE
    msr     cntv_ctl_el0, x1
    isb
    msr     daifclr, #2
    ldr     x11, =100000
1:  wfi
    isb
    cmp     x20, x12
    b.hs    2f
    subs    x11, x11, #1
    b.ne    1b
2:  msr     daifset, #2
    cmp     x20, x12
    b.ne    fail
    mov     x10, #3
    cmp     x22, x5
    b.lo    fail
    cmp     x12, #2
    b.lo    round
    guest_report_pass_or_x10

sleeper_irq:
    mrs     x21, icc_iar1_el1
    mrs     x22, cntvct_el0
    add     x20, x20, #1
    msr     cntv_ctl_el0, xzr
    isb
    msr     icc_eoir1_el1, x21
    eret

    .global timer_runner
timer_runner:
    adr     x1, sleeper_vectors       // never takes an exception
    msr     vbar_el1, x1
    ldr     x1, =TIMER_RUNNER_CVAL
    msr     cntv_cval_el0, x1
    mov     x1, #TIMER_CTL_ENABLE
    msr     cntv_ctl_el0, x1
    isb
    mov     x20, #0
3:  add     x20, x20, #1
    b       3b

    guest_unexpected_exception unexpected_exception
    guest_vector_table sleeper_vectors, unexpected_exception, sleeper_irq, unexpected_exception
