// Guest (EL1) for the isolation scenario. x0 = seed, different for each vCPU.
//  1. At its first entry every register but x0 must be zero, V0-V31 and FPCR too, and
//     breakpoint 0 and watchpoint 0; its OS lock must be locked (OSLSR_EL1.OSLK, as after a
//     Cold reset): a fresh vCPU sees no host value and no other vCPU's value. (failure
//     codes 1x)
//  2. It fills x19-x28, V0-V31, FPCR, a set of EL1/EL0 system registers and breakpoint 0
//     and watchpoint 0 (enabled, but MDSCR_EL1.MDE and KDE stay 0, so they never fire)
//     with seed-derived values, locks (seed 0xa1) or unlocks (seed 0xb2) its OS lock, then
//     makes `hvc #1` twice (the host switches vCPUs in between).
//  3. After each hvc everything must still hold its value. (failure codes 2x)
#include "guest.h"

#define YIELD 1

// x<reg> = seed * 0x100 + n
.macro pattern reg, n
    lsl     \reg, x0, #8
    add     \reg, \reg, #\n
.endm

// x1 = this seed's value for register \n of breakpoint 0 and watchpoint 0 (0 DBGBVR0_EL1,
// 1 DBGBCR0_EL1, 2 DBGWVR0_EL1, 3 DBGWCR0_EL1). The addresses keep their RES0 low bits
// clear; the controls have E set, PMC/PAC = seed[1:0] and BAS = 0b1111 (QEMU copies BAS[2]
// to BAS[3] and BAS[0] to BAS[1] on a DBGBCR write), the watchpoint's LSC load and store.
.macro debug_value n
    .if \n == 0
    pattern x1, 0x88                  // DBGBVR0_EL1
    .elseif \n == 2
    pattern x1, 0x90                  // DBGWVR0_EL1
    .else
    and     x1, x0, #3
    lsl     x1, x1, #1
    .if \n == 1
    add     x1, x1, #0x1e1            // DBGBCR0_EL1
    .else
    add     x1, x1, #0x1f9            // DBGWCR0_EL1
    .endif
    .endif
.endm

// fail with \code unless \a == \b
.macro expect_equal a, b, code
    cmp     \a, \b
    mov     x9, #\code
    b.ne    report
.endm

    .section .guest_text, "ax"
    .global isolation_guest
isolation_guest:
    // 1. fresh state: x1-x30 zero
    .irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    cbnz    x\n, fresh_gpr_not_zero
    .endr
    mov     x1, #(3 << 20)            // CPACR_EL1.FPEN = 0b11: FP/SIMD at EL1 and EL0
    msr     cpacr_el1, x1
    isb
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fmov    x1, d\n
    cbnz    x1, fresh_v_not_zero
    mov     x1, v\n\().d[1]
    cbnz    x1, fresh_v_not_zero
    .endr
    mrs     x1, fpcr
    cbnz    x1, fresh_v_not_zero
    mrs     x1, dbgbvr0_el1
    cbnz    x1, fresh_debug_not_zero
    mrs     x1, dbgbcr0_el1
    cbnz    x1, fresh_debug_not_zero
    mrs     x1, dbgwvr0_el1
    cbnz    x1, fresh_debug_not_zero
    mrs     x1, dbgwcr0_el1
    cbnz    x1, fresh_debug_not_zero
    mrs     x1, oslsr_el1
    tbz     x1, #1, fresh_os_lock_unlocked  // OSLSR_EL1.OSLK

    // 2. fill
    .irp n, 19,20,21,22,23,24,25,26,27,28
    pattern x\n, \n
    .endr
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    pattern x1, (0x40 + \n)
    fmov    d\n, x1
    mvn     x1, x1
    mov     v\n\().d[1], x1
    .endr
    and     x1, x0, #3
    lsl     x1, x1, #22               // FPCR.RMode [23:22]
    orr     x1, x1, #(1 << 25)        // FPCR.DN
    msr     fpcr, x1
    pattern x1, 0x81
    msr     tpidr_el1, x1
    pattern x1, 0x82
    msr     tpidr_el0, x1
    pattern x1, 0x83
    msr     tpidrro_el0, x1
    pattern x1, 0x84
    msr     mair_el1, x1
    pattern x1, 0x85
    msr     sp_el0, x1
    pattern x1, 0x86
    msr     elr_el1, x1
    pattern x1, 0x87
    msr     far_el1, x1
    and     x1, x0, #0xff
    msr     contextidr_el1, x1
    lsl     x1, x0, #11               // VBAR_EL1: 2 KiB aligned
    msr     vbar_el1, x1
    debug_value 0
    msr     dbgbvr0_el1, x1
    debug_value 1
    msr     dbgbcr0_el1, x1
    debug_value 2
    msr     dbgwvr0_el1, x1
    debug_value 3
    msr     dbgwcr0_el1, x1
    and     x1, x0, #1
    msr     oslar_el1, x1             // OSLAR_EL1.OSLK = seed[0]
    isb

    mov     x20, #2                   // two yields, checking after each
yield_again:
    mov     x21, x0
    hvc     #YIELD
    mov     x0, x21                   // x20 (loop counter) and x21 (seed) are not checked
    // 3. check
    .irp n, 19,22,23,24,25,26,27,28
    pattern x1, \n
    expect_equal x\n, x1, 21
    .endr
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    pattern x1, (0x40 + \n)
    fmov    x2, d\n
    expect_equal x2, x1, 22
    mvn     x1, x1
    mov     x2, v\n\().d[1]
    expect_equal x2, x1, 22
    .endr
    and     x1, x0, #3
    lsl     x1, x1, #22
    orr     x1, x1, #(1 << 25)
    mrs     x2, fpcr
    expect_equal x2, x1, 23
    pattern x1, 0x81
    mrs     x2, tpidr_el1
    expect_equal x2, x1, 24
    pattern x1, 0x82
    mrs     x2, tpidr_el0
    expect_equal x2, x1, 24
    pattern x1, 0x83
    mrs     x2, tpidrro_el0
    expect_equal x2, x1, 24
    pattern x1, 0x84
    mrs     x2, mair_el1
    expect_equal x2, x1, 24
    pattern x1, 0x85
    mrs     x2, sp_el0
    expect_equal x2, x1, 24
    pattern x1, 0x86
    mrs     x2, elr_el1
    expect_equal x2, x1, 24
    pattern x1, 0x87
    mrs     x2, far_el1
    expect_equal x2, x1, 24
    and     x1, x0, #0xff
    mrs     x2, contextidr_el1
    expect_equal x2, x1, 24
    lsl     x1, x0, #11
    mrs     x2, vbar_el1
    expect_equal x2, x1, 24
    debug_value 0
    mrs     x2, dbgbvr0_el1
    expect_equal x2, x1, 25
    debug_value 1
    mrs     x2, dbgbcr0_el1
    expect_equal x2, x1, 25
    debug_value 2
    mrs     x2, dbgwvr0_el1
    expect_equal x2, x1, 25
    debug_value 3
    mrs     x2, dbgwcr0_el1
    expect_equal x2, x1, 25
    mrs     x2, oslsr_el1
    ubfx    x2, x2, #1, #1            // OSLK
    and     x1, x0, #1
    expect_equal x2, x1, 26
    subs    x20, x20, #1
    b.ne    yield_again
    mov     x9, #GUEST_PASS
    b       report

fresh_gpr_not_zero:
    mov     x9, #11
    b       report
fresh_v_not_zero:
    mov     x9, #12
    b       report
fresh_debug_not_zero:
    mov     x9, #13
    b       report
fresh_os_lock_unlocked:
    mov     x9, #14
report:
    mov     x0, x9
    hvc     #GUEST_REPORT
    b       .
