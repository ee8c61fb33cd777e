// Guest (EL1): `hvc #0x42` with x0..x6 = 1..7, expects x0 = 28 (their sum) back and
// x1..x6 untouched, then reports.
#include "guest.h"
    .text
    .global hvc_guest
hvc_guest:
    mov     x0, #1
    mov     x1, #2
    mov     x2, #3
    mov     x3, #4
    mov     x4, #5
    mov     x5, #6
    mov     x6, #7
    hvc     #0x42
    mov     x9, #1                   // failure code 1: wrong answer in x0
    cmp     x0, #28
    b.ne    report
    mov     x9, #2                   // failure code 2: x1..x6 changed
    cmp     x1, #2
    b.ne    report
    cmp     x6, #7
    b.ne    report
    mov     x9, #GUEST_PASS
report:
    mov     x0, x9
    hvc     #GUEST_REPORT
    b       .
