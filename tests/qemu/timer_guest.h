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
#endif
