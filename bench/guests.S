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
