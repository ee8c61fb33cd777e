/*
 * Host marker values in the general registers while a vCPU is entered, for the
 * isolation_host_registers scenario: a guest must never see any of them.
 *
 * void with_host_markers(void (*function)(void*), void* context)
 *
 * Calls function(context) with xn = 0x48484848_000000nn ("HHHH") in the callee-saved
 * x19-x28, which reach the world switch unless compiled code on the way reuses them, and
 * in the caller-saved x1-x15, x17 and x18. x16 holds the function, x29 stays the frame
 * pointer and x30 the return address. The caller's x19-x28 are restored on return.
 */
    .text

.macro host_marker n
    movz    x\n, #\n
    movk    x\n, #0x4848, lsl #32
    movk    x\n, #0x4848, lsl #48
.endm

    .global with_host_markers
    .type with_host_markers, %function
    .balign 16
with_host_markers:
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
    host_marker \n
    .endr
    blr     x16
    ldp     x19, x20, [sp, #16]
    ldp     x21, x22, [sp, #32]
    ldp     x23, x24, [sp, #48]
    ldp     x25, x26, [sp, #64]
    ldp     x27, x28, [sp, #80]
    ldp     x29, x30, [sp], #96
    ret
    .size with_host_markers, . - with_host_markers
