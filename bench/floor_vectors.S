/*
 * The floor of an HVC round trip: an EL2 vector table whose lower-EL synchronous entry
 * saves the guest's x0-x30 into its GuestRegisters (named by arm_enter_guest()'s host
 * frame), restores them and returns to the guest: what any hypervisor must at least do,
 * with no decoding and no C++.
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
    ldr     x0, [sp, #16 + ARM_HOST_FRAME_GUEST]
    arm_store_guest_x2_x30 x0
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
    arm_load_guest_x2_x30 x0
    b.eq    floor_report
    ldp     x0, x1, [sp], #16
    eret
floor_report:
    arm_guest_exit ARM_EXIT_SYNCHRONOUS
