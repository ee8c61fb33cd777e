// Guest for the vCPU-tasks scenario. x0 = a letter naming the vCPU. Three times: a
// hypercall that logs the letter (x1), then WFI, at which the host switches to the other
// vCPU. x19 holds a per-vCPU pattern that must survive the switches; the guest reports
// GUEST_PASS, or 1 if it did not.
#include "guest.h"
    .section .guest_text, "ax"
    .global vcpu_tasks_guest
vcpu_tasks_guest:
    mov     x20, x0
    lsl     x19, x0, #32
    orr     x19, x19, x0
    mov     x21, #3
1:  mov     x1, x20
    hvc     #1
    wfi
    subs    x21, x21, #1
    b.ne    1b
    lsl     x2, x20, #32
    orr     x2, x2, x20
    mov     x0, #GUEST_PASS
    cmp     x19, x2
    b.eq    2f
    mov     x0, #1
2:  hvc     #GUEST_REPORT
    b       .
