// Guests (EL1) of the parked-timer scenario (host: timer_parked.cpp), two vCPUs on one CPU.
//
// timer_sleeper: twice, arms its virtual timer 2 ms ahead and waits in a WFI loop until its
// handler ran (the handler disables the timer and ends the interrupt); then reports
// GUEST_PASS, or x10 = the round (1, 2) whose interrupt never came, or 3 if an interrupt
// came before its deadline.
// timer_runner: arms its own virtual timer far in the future (TIMER_RUNNER_CVAL), says so
// with `hvc #TIMER_HVC_SYNC`, then spins until the host stops it; the host then finds that
// timer as the runner left it.
#include "timer_guest.h"

    .text
    .global timer_sleeper
timer_sleeper:
    timer_guest_start sleeper_vectors
    mov     x2, #500
    udiv    x4, x19, x2               // 2 ms in counter ticks
    mov     x12, #0                   // rounds done
round:
    add     x12, x12, #1
    mov     x10, x12
    timer_arm x4, cntvct_el0, cntv_cval_el0, cntv_ctl_el0
    timer_wfi_until x12, 100000
    cmp     x20, x12
    b.ne    fail
    mov     x10, #3
    cmp     x22, x5
    b.lo    fail
    cmp     x12, #2
    b.lo    round
    guest_report_pass_or_x10

    timer_irq_handler sleeper_irq, cntvct_el0, cntv_ctl_el0

    .global timer_runner
timer_runner:
    adr     x1, sleeper_vectors       // never takes an exception
    msr     vbar_el1, x1
    ldr     x1, =TIMER_RUNNER_CVAL
    msr     cntv_cval_el0, x1
    mov     x1, #TIMER_CTL_ENABLE
    msr     cntv_ctl_el0, x1
    isb
    hvc     #TIMER_HVC_SYNC           // armed: from here on it only spins
    mov     x20, #0
3:  add     x20, x20, #1
    b       3b

    guest_unexpected_exception unexpected_exception
    guest_vector_table sleeper_vectors, unexpected_exception, sleeper_irq, unexpected_exception
