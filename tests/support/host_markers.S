/*
 * uint64_t call_with_host_markers(void (*function)(void*), void* context)
 * See host_markers.h. x16 holds the function, x29 is the frame pointer and x30 the return
 * address while it runs.
 */
#include "host_markers.h"

.macro host_marker reg, n
    movz    \reg, #\n
    movk    \reg, #HOST_MARKER_TAG, lsl #32
    movk    \reg, #HOST_MARKER_TAG, lsl #48
.endm

    .text
    .global call_with_host_markers
    .type call_with_host_markers, %function
    .balign 16
call_with_host_markers:
    stp     x29, x30, [sp, #-96]!
    mov     x29, sp
    stp     x19, x20, [sp, #16]
    stp     x21, x22, [sp, #32]
    stp     x23, x24, [sp, #48]
    stp     x25, x26, [sp, #64]
    stp     x27, x28, [sp, #80]
    mov     x16, x0
    mov     x0, x1
    .irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,17,18,19,20,21,22,23,24,25,26,27,28
    host_marker x\n, \n
    .endr
    blr     x16

    /* x0 = the callee-saved registers that changed, and SP */
    mov     x0, #0
    .irp n, 19,20,21,22,23,24,25,26,27,28
    host_marker x10, \n
    cmp     x\n, x10
    cset    x11, ne
    orr     x0, x0, x11, lsl #(\n - 19)
    .endr
    mov     x10, sp
    cmp     x10, x29
    cset    x11, ne
    orr     x0, x0, x11, lsl #HOST_MARKERS_SP_CHANGED_BIT

    mov     sp, x29
    ldp     x19, x20, [sp, #16]
    ldp     x21, x22, [sp, #32]
    ldp     x23, x24, [sp, #48]
    ldp     x25, x26, [sp, #64]
    ldp     x27, x28, [sp, #80]
    ldp     x29, x30, [sp], #96
    ret
    .size call_with_host_markers, . - call_with_host_markers
