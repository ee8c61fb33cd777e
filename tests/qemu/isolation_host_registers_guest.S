// Guest (EL1) for the isolation_host_registers scenario. The host passes nothing (x0 = 0,
// no stack) and whenever it enters the guest its own general registers hold marker values
// (host_markers.S); before the first entry and between exits it also writes markers into
// the EL1 system registers, breakpoint 0, watchpoint 0 and the FP/SIMD registers. None may
// reach the guest:
//  1. First entry: x0-x30, SP and SP_EL0 are zero; the EL1 system registers hold the
//     vCPU's reset values (0, SCTLR_EL1 its RES1 bits, VBAR_EL1 this guest's vector table
//     as the host configured it); breakpoint 0 and watchpoint 0 are zero (disabled); with
//     FP/SIMD enabled, V0-V31, FPSR and FPCR are zero.
//  2. Rounds r = 1..3: x1-x30 = r * 0x100 + n, V<n> = {r * 0x100 + 0x40 + n,
//     r * 0x100 + 0x60 + n}, and SP, SP_EL0, FPSR, FPCR, seven EL1 registers and the four
//     registers of breakpoint 0 and watchpoint 0 get values of round r; then `hvc #1` with
//     x0 = r. The host answers x0-x3 = r * 0x100 + 0x80 + n.
//     Afterwards x0-x3 must hold exactly that answer and everything else the guest's own
//     values: only the registers the call returns in changed.
// The values are small so each check is a CMP with an immediate, which needs no scratch
// register while every general register holds a value under test.
// A failed check reports x0 = 1 (first entry) or 10 + r (round r), x1 = the value found,
// x2 = the register: 0-30 Xn, 31 SP, 32 SP_EL0, 33 FPSR, 34 FPCR, 64 + n V<n>[63:0],
// 96 + n V<n>[127:64], 128 and up the system registers (numbered where checked below).
#include "guest.h"

#define HYPERCALL 1
#define SCTLR_EL1_RESET 0x30d00800       /* arm::kSctlrEl1Res1 */

// Fails with \code, reporting \found as register \number, unless the flags say equal.
.macro fail_unless_equal found, code, number
    b.eq    .Lequal\@
    mov     x1, \found
    mov     x2, #\number
    mov     x10, #\code
    b       fail
.Lequal\@:
.endm

// \found (a general register or SP) must hold \value, a 12-bit immediate (optionally
// shifted left by 12).
.macro expect_value found, value, code, number
    cmp     \found, #\value
    fail_unless_equal \found, \code, \number
.endm

.macro expect_sysreg name, value, code, number
    mrs     x1, \name
    expect_value x1, \value, \code, \number
.endm

// The EL1 registers each round sets and checks (x1 is scratch).
.macro round_sysregs macro, r
    \macro  tpidr_el1, ((\r << 8) | 0xa0), \r, 137
    \macro  tpidr_el0, ((\r << 8) | 0xa1), \r, 138
    \macro  tpidrro_el0, ((\r << 8) | 0xa2), \r, 139
    \macro  contextidr_el1, ((\r << 8) | 0xa3), \r, 136
    \macro  elr_el1, ((\r << 8) | 0xa4), \r, 143
    \macro  far_el1, ((\r << 8) | 0xa5), \r, 141
    \macro  mair_el1, ((\r << 8) | 0xa6), \r, 134
    // Breakpoint 0 and watchpoint 0, disabled (E = 0): addresses with their RES0 low bits
    // clear; controls with PMC/PAC = r, BAS = 0b1111 (QEMU copies BAS[2] to BAS[3] and
    // BAS[0] to BAS[1] on a DBGBCR write), the watchpoint's LSC load and store.
    \macro  dbgbvr0_el1, ((\r << 8) | 0xa8), \r, 151
    \macro  dbgbcr0_el1, (0x1e0 | (\r << 1)), \r, 152
    \macro  dbgwvr0_el1, ((\r << 8) | 0xb0), \r, 153
    \macro  dbgwcr0_el1, (0x1f8 | (\r << 1)), \r, 154
.endm
.macro set_sysreg name, value, r, number
    mov     x1, #\value
    msr     \name, x1
.endm
.macro check_sysreg name, value, r, number
    expect_sysreg \name, \value, (10 + \r), \number
.endm

// V<n> = {\low, \high}; V<n> must hold {\low, \high} (x1 is scratch).
.macro set_v n, low, high
    mov     x1, #\low
    fmov    d\n, x1
    mov     x1, #\high
    mov     v\n\().d[1], x1
.endm
.macro check_v n, low, high, code
    fmov    x1, d\n
    expect_value x1, \low, \code, (64 + \n)
    mov     x1, v\n\().d[1]
    expect_value x1, \high, \code, (96 + \n)
.endm

// One round: fill, hypercall, check.
.macro round r
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    set_v   \n, ((\r << 8) | 0x40 | \n), ((\r << 8) | 0x60 | \n)
    .endr
    mov     x1, #\r                      // FPSR: cumulative exception flags IOC, DZC
    msr     fpsr, x1
    mov     x1, #(\r << 22)              // FPCR.RMode
    msr     fpcr, x1
    round_sysregs set_sysreg, \r
    mov     x1, #((\r << 8) | 0xf0)
    mov     sp, x1
    mov     x1, #((\r << 8) | 0xe0)
    msr     sp_el0, x1
    .irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    mov     x\n, #((\r << 8) | \n)
    .endr
    mov     x0, #\r
    hvc     #HYPERCALL

    .irp n, 0,1,2,3
    expect_value x\n, ((\r << 8) | 0x80 | \n), (10 + \r), \n
    .endr
    .irp n, 4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    expect_value x\n, ((\r << 8) | \n), (10 + \r), \n
    .endr
    // Every general register is checked: x1 and x2 are scratch from here on.
    expect_value sp, ((\r << 8) | 0xf0), (10 + \r), 31
    expect_sysreg sp_el0, ((\r << 8) | 0xe0), (10 + \r), 32
    expect_sysreg fpsr, \r, (10 + \r), 33
    expect_sysreg fpcr, (\r << 22), (10 + \r), 34
    round_sysregs check_sysreg, \r
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    check_v \n, ((\r << 8) | 0x40 | \n), ((\r << 8) | 0x60 | \n), (10 + \r)
    .endr
.endm

    .section .guest_text, "ax"
    .global isolation_host_registers_guest
isolation_host_registers_guest:
    // 1. First entry. General registers (x0 is VCpuConfig::argument: 0) and SP (SP_EL1 is
    //    VCpuConfig::stack: 0).
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    expect_value x\n, 0, 1, \n
    .endr
    expect_value sp, 0, 1, 31
    expect_sysreg sp_el0, 0, 1, 32
    // EL1 system registers: the vCPU's reset values, not the host's markers.
    ldr     x3, =SCTLR_EL1_RESET
    mrs     x1, sctlr_el1
    cmp     x1, x3
    fail_unless_equal x1, 1, 128
    adr     x3, isolation_host_registers_vectors
    mrs     x1, vbar_el1
    cmp     x1, x3
    fail_unless_equal x1, 1, 129
    expect_sysreg cpacr_el1, 0, 1, 130
    expect_sysreg ttbr0_el1, 0, 1, 131
    expect_sysreg ttbr1_el1, 0, 1, 132
    expect_sysreg tcr_el1, 0, 1, 133
    expect_sysreg mair_el1, 0, 1, 134
    expect_sysreg amair_el1, 0, 1, 135
    expect_sysreg contextidr_el1, 0, 1, 136
    expect_sysreg tpidr_el1, 0, 1, 137
    expect_sysreg tpidr_el0, 0, 1, 138
    expect_sysreg tpidrro_el0, 0, 1, 139
    expect_sysreg esr_el1, 0, 1, 140
    expect_sysreg far_el1, 0, 1, 141
    expect_sysreg par_el1, 0, 1, 142
    expect_sysreg elr_el1, 0, 1, 143
    expect_sysreg spsr_el1, 0, 1, 144
    expect_sysreg afsr0_el1, 0, 1, 145
    expect_sysreg afsr1_el1, 0, 1, 146
    expect_sysreg cntkctl_el1, 0, 1, 147
    expect_sysreg cntv_ctl_el0, 0, 1, 148
    expect_sysreg cntv_cval_el0, 0, 1, 149
    expect_sysreg csselr_el1, 0, 1, 150
    expect_sysreg dbgbvr0_el1, 0, 1, 151
    expect_sysreg dbgbcr0_el1, 0, 1, 152
    expect_sysreg dbgwvr0_el1, 0, 1, 153
    expect_sysreg dbgwcr0_el1, 0, 1, 154
    // FP/SIMD (CPACR_EL1.FPEN = 0b11: no trap at EL1 and EL0).
    mov     x1, #(3 << 20)
    msr     cpacr_el1, x1
    isb
    expect_sysreg fpsr, 0, 1, 33
    expect_sysreg fpcr, 0, 1, 34
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    check_v \n, 0, 0, 1
    .endr

    // 2. Three hypercalls.
    round 1
    round 2
    round 3
    guest_report_pass_or_x10

unexpected:
    mov     x0, #99
    hvc     #GUEST_REPORT
    b       .

    .ltorg
    .global isolation_host_registers_vectors
    guest_vector_table isolation_host_registers_vectors, unexpected, unexpected, unexpected
