// Guest (EL1, MMU off: addresses are IPAs) for the stage2_remap scenario. In: x0 = the
// IPA of a page whose first word the host changes under it by remapping the page. The
// guest checks it sees OLD, says so with `hvc #1`, then reads the word in a loop until it
// changes: the value must then be NEW, never anything else (a torn or a zero word). It
// says so with `hvc #2` and reads on while the host unmaps the page (its loads then
// fault at stage 2 and are retried) and maps a third one: the next value must be THIRD.
// Reports GUEST_PASS, or the unexpected value (1 if it was 0).
#include "guest.h"

#define OLD 0x4f4c444f4c444f4c   /* "LODLODLO"; stage2_remap.cpp */
#define NEW 0x4e45574e45574e45   /* "EWNEWNEN" */
#define THIRD 0x4452494844524948 /* "HIRDHIRD" */

    .section .guest_text, "ax"
    .global stage2_remap_guest
stage2_remap_guest:
    mov     x2, x0
    ldr     x3, =OLD
    ldr     x4, =NEW
    ldr     x1, [x2]
    cmp     x1, x3
    b.ne    unexpected
    hvc     #1                           /* running, and the old page is seen */
1:  ldr     x1, [x2]
    cmp     x1, x3
    b.eq    1b
    cmp     x1, x4
    b.ne    unexpected
    hvc     #2                           /* the remapped page is seen */
    ldr     x5, =THIRD
3:  ldr     x1, [x2]
    cmp     x1, x4
    b.eq    3b
    cmp     x1, x5
    b.ne    unexpected
    mov     x0, #GUEST_PASS
    hvc     #GUEST_REPORT
    b       .
unexpected:
    mov     x0, x1
    cbnz    x0, 2f
    mov     x0, #1
2:  hvc     #GUEST_REPORT
    b       .
    .ltorg
