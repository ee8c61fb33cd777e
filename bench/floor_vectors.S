/*
 * The floor of an HVC round trip: an EL2 vector table whose lower-EL synchronous entry
 * saves the guest's x0-x30 into its GuestRegisters (TPIDR_EL2), restores them and returns
 * to the guest: what any hypervisor must at least do, with no decoding and no C++.
 * `hvc #0xffff` (GUEST_REPORT) leaves through the library's normal exit path instead, so
 * the benchmark's host loop regains control. Every other entry is the library's.
 */
#include <arm/asm/context.h>

    .section .text.vectors, "ax"
    .balign 0x800
    .global bench_floor_vectors
bench_floor_vectors:
    .org    bench_floor_vectors + 0 * 0x80
    b       arm_el2_vectors + 0 * 0x80
    .org    bench_floor_vectors + 1 * 0x80
    b       arm_el2_vectors + 1 * 0x80
    .org    bench_floor_vectors + 2 * 0x80
    b       arm_el2_vectors + 2 * 0x80
    .org    bench_floor_vectors + 3 * 0x80
    b       arm_el2_vectors + 3 * 0x80
    .org    bench_floor_vectors + 4 * 0x80
    b       arm_el2_vectors + 4 * 0x80
    .org    bench_floor_vectors + 5 * 0x80
    b       arm_el2_vectors + 5 * 0x80
    .org    bench_floor_vectors + 6 * 0x80
    b       arm_el2_vectors + 6 * 0x80
    .org    bench_floor_vectors + 7 * 0x80
    b       arm_el2_vectors + 7 * 0x80
    .org    bench_floor_vectors + 8 * 0x80    /* lower EL, AArch64, synchronous */
    stp     x0, x1, [sp, #-16]!
    mrs     x0, tpidr_el2
    stp     x2, x3, [x0, #ARM_GUEST_X(2)]
    stp     x4, x5, [x0, #ARM_GUEST_X(4)]
    stp     x6, x7, [x0, #ARM_GUEST_X(6)]
    stp     x8, x9, [x0, #ARM_GUEST_X(8)]
    stp     x10, x11, [x0, #ARM_GUEST_X(10)]
    stp     x12, x13, [x0, #ARM_GUEST_X(12)]
    stp     x14, x15, [x0, #ARM_GUEST_X(14)]
    stp     x16, x17, [x0, #ARM_GUEST_X(16)]
    stp     x18, x19, [x0, #ARM_GUEST_X(18)]
    stp     x20, x21, [x0, #ARM_GUEST_X(20)]
    stp     x22, x23, [x0, #ARM_GUEST_X(22)]
    stp     x24, x25, [x0, #ARM_GUEST_X(24)]
    stp     x26, x27, [x0, #ARM_GUEST_X(26)]
    stp     x28, x29, [x0, #ARM_GUEST_X(28)]
    str     x30, [x0, #ARM_GUEST_X(30)]
    b       floor_restore
    .org    bench_floor_vectors + 9 * 0x80
    b       arm_el2_vectors + 9 * 0x80
    .org    bench_floor_vectors + 10 * 0x80
    b       arm_el2_vectors + 10 * 0x80
    .org    bench_floor_vectors + 11 * 0x80
    b       arm_el2_vectors + 11 * 0x80
    .org    bench_floor_vectors + 12 * 0x80
    b       arm_el2_vectors + 12 * 0x80
    .org    bench_floor_vectors + 13 * 0x80
    b       arm_el2_vectors + 13 * 0x80
    .org    bench_floor_vectors + 14 * 0x80
    b       arm_el2_vectors + 14 * 0x80
    .org    bench_floor_vectors + 15 * 0x80
    b       arm_el2_vectors + 15 * 0x80
    .org    bench_floor_vectors + 0x800

floor_restore:
    mrs     x1, esr_el2
    and     x1, x1, #0xffff                    /* ISS.imm16 of the HVC */
    mov     x2, #0xffff
    cmp     x1, x2
    ldp     x2, x3, [x0, #ARM_GUEST_X(2)]
    ldp     x4, x5, [x0, #ARM_GUEST_X(4)]
    ldp     x6, x7, [x0, #ARM_GUEST_X(6)]
    ldp     x8, x9, [x0, #ARM_GUEST_X(8)]
    ldp     x10, x11, [x0, #ARM_GUEST_X(10)]
    ldp     x12, x13, [x0, #ARM_GUEST_X(12)]
    ldp     x14, x15, [x0, #ARM_GUEST_X(14)]
    ldp     x16, x17, [x0, #ARM_GUEST_X(16)]
    ldp     x18, x19, [x0, #ARM_GUEST_X(18)]
    ldp     x20, x21, [x0, #ARM_GUEST_X(20)]
    ldp     x22, x23, [x0, #ARM_GUEST_X(22)]
    ldp     x24, x25, [x0, #ARM_GUEST_X(24)]
    ldp     x26, x27, [x0, #ARM_GUEST_X(26)]
    ldp     x28, x29, [x0, #ARM_GUEST_X(28)]
    ldr     x30, [x0, #ARM_GUEST_X(30)]
    b.eq    floor_report
    ldp     x0, x1, [sp], #16
    eret
floor_report:
    mov     x0, #ARM_EXIT_SYNCHRONOUS
    b       arm_guest_exit
