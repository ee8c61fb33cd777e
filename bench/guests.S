// Benchmark guests (EL1). Each takes x0 = iterations and, where it accesses memory,
// x1 = the address; it performs the trapping instruction that many times, then reports
// with `hvc #0xffff`. Three instructions per iteration run in the guest: the trapping
// one, the counter decrement and the branch.
#define REPORT 0xffff

.macro bench_guest name, body:vararg
    .section .guest_text, "ax"
    .global \name
    .balign 16
\name:
    mov     x19, x0
1:  \body
    subs    x19, x19, #1
    b.ne    1b
    hvc     #REPORT
    b       .
.endm

bench_guest bench_hvc_guest, hvc #1
bench_guest bench_mmio_read_guest, ldr w2, [x1]
bench_guest bench_mmio_write_guest, str w2, [x1]
bench_guest bench_sysreg_read_guest, mrs x2, cntp_ctl_el0
bench_guest bench_wfi_guest, wfi

// SGIs between two vCPUs sharing a CPU. The sender writes ICC_SGI1R_EL1 (x1 = its value)
// that many times, each write a trap; the receiver opens its virtual CPU interface and
// IRQs, says it is ready (`hvc #1`) and waits; its IRQ handler acknowledges the SGI, ends
// it (ICC_EOIR1_EL1, EOImode 0: drop and deactivate) and yields (`hvc #1`) until the next.
bench_guest bench_sgi_send_guest, msr icc_sgi1r_el1, x1

    .section .guest_text, "ax"
    .global bench_sgi_receive_guest
bench_sgi_receive_guest:
    adr     x2, 2f
    msr     vbar_el1, x2
    mov     x2, #0xff
    msr     icc_pmr_el1, x2
    mov     x2, #1
    msr     icc_igrpen1_el1, x2
    isb
    hvc     #1
    msr     daifclr, #2
1:  b       1b
receive_irq:
    mrs     x2, icc_iar1_el1
    msr     icc_eoir1_el1, x2
    hvc     #1
    eret
    // VBAR_EL1 (Arm ARM D1.10.2): only "current EL with SP_ELx, IRQ" (0x280) is expected.
    .balign 0x800
2:  .rept 5
    b       .
    .balign 0x80
    .endr
    b       receive_irq
    .balign 0x80
    .rept 10
    b       .
    .balign 0x80
    .endr
