// uint64_t guest_fuzz_call_with_sentinels(void (*step)(void*), void* context)
//
// Calls step(context) with sentinel values in the host's callee-saved registers x19-x28
// and returns which of them, and the stack pointer, did not survive (bits: sentinels.h).
// step runs a guest until its next exit; the world switch must give the
// host back every callee-saved register (AAPCS64 6.1.1) and its stack, whatever the guest
// did with the same registers.
#include "sentinels.h"

    .text
    .global guest_fuzz_call_with_sentinels
    .type guest_fuzz_call_with_sentinels, %function
guest_fuzz_call_with_sentinels:
    stp     x29, x30, [sp, #-96]!
    mov     x29, sp
    stp     x19, x20, [sp, #16]
    stp     x21, x22, [sp, #32]
    stp     x23, x24, [sp, #48]
    stp     x25, x26, [sp, #64]
    stp     x27, x28, [sp, #80]
    mov     x9, x0
    mov     x0, x1
    .irp n, 19,20,21,22,23,24,25,26,27,28
    movz    x\n, #GUEST_FUZZ_SENTINEL_TAG, lsl #48
    movk    x\n, #\n
    .endr
    blr     x9

    mov     x0, #0
    .irp n, 19,20,21,22,23,24,25,26,27,28
    movz    x10, #GUEST_FUZZ_SENTINEL_TAG, lsl #48
    movk    x10, #\n
    cmp     x\n, x10
    cset    x11, ne
    orr     x0, x0, x11, lsl #(\n - 19)
    .endr
    mov     x10, sp
    cmp     x10, x29
    cset    x11, ne
    orr     x0, x0, x11, lsl #GUEST_FUZZ_SP_CHANGED_BIT

    mov     sp, x29
    ldp     x19, x20, [sp, #16]
    ldp     x21, x22, [sp, #32]
    ldp     x23, x24, [sp, #48]
    ldp     x25, x26, [sp, #64]
    ldp     x27, x28, [sp, #80]
    ldp     x29, x30, [sp], #96
    ret
    .size guest_fuzz_call_with_sentinels, . - guest_fuzz_call_with_sentinels
