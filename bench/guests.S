// Benchmark guests (EL1). Each takes x0 = iterations and, where it accesses memory,
// x1 = the address; it performs the trapping instruction that many times, then reports
// with `hvc #0xffff`. Three instructions per iteration run in the guest: the trapping
// one, the counter decrement and the branch.
#include "timer_guest.h"
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

// A VBAR_EL1 table (Arm ARM D1.10.2) in which only "current EL with SP_ELx, IRQ" (0x280)
// is expected: it branches to \irq, every other vector spins.
.macro irq_only_vectors name, irq
    .balign 0x800
\name:
    .rept 5
    b       .
    .balign 0x80
    .endr
    b       \irq
    .balign 0x80
    .rept 10
    b       .
    .balign 0x80
    .endr
.endm

bench_guest bench_hvc_guest, hvc #1
bench_guest bench_mmio_read_guest, ldr w2, [x1]
bench_guest bench_mmio_write_guest, str w2, [x1]
bench_guest bench_sysreg_read_guest, mrs x2, cntp_ctl_el0
bench_guest bench_wfi_guest, wfi
// kvm-unit-tests' eoi: an EOI to the virtual CPU interface (x1 = the INTID), no exit.
bench_guest bench_eoi_guest, msr icc_eoir1_el1, x1

// SMCCC_VERSION through HVC #0 (DEN0028: function id 0x80000000 in w0), answered by arm.smc
// inside run(): kvm-unit-tests' hyp_call, a call no event reaches the hypervisor for. The
// answer overwrites x0, so each iteration sets it again.
    .section .guest_text, "ax"
    .global bench_smccc_version_guest
    .balign 16
bench_smccc_version_guest:
    mov     x19, x0
1:  mov     w0, #0x80000000
    hvc     #0
    subs    x19, x19, #1
    b.ne    1b
    hvc     #REPORT
    b       .

// SGIs between two vCPUs sharing a CPU. The sender writes ICC_SGI1R_EL1 (x1 = its value)
// that many times, each write a trap; the receiver opens its virtual CPU interface and
// IRQs, says it is ready (`hvc #1`) and waits; its IRQ handler acknowledges the SGI, ends
// it (ICC_EOIR1_EL1, EOImode 0: drop and deactivate) and yields (`hvc #1`) until the next.
bench_guest bench_sgi_send_guest, msr icc_sgi1r_el1, x1

    .section .guest_text, "ax"
    .global bench_sgi_receive_guest
bench_sgi_receive_guest:
    adr     x2, bench_sgi_receive_vectors
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
irq_only_vectors bench_sgi_receive_vectors, receive_irq

bench_guest bench_cntp_cval_write_guest, msr cntp_cval_el0, xzr

// Wake latency of a vCPU parked in WFI, from an SGI of another vCPU of its CPU. The sender
// (x0 = rounds, x1 = its ICC_SGI1R_EL1 value, x2 = a shared doubleword) stores the physical
// count just before each SGI write; the receiver (x2 = the same doubleword) waits in WFI
// with PSTATE.I set (a pending interrupt ends a WFI whatever PSTATE.I, Arm ARM D1 "Wait for
// Interrupt"), then opens a window for the interrupt; its handler adds the ticks from the
// sender's count to its own first instruction to x20, then acknowledges and ends the SGI.
    .section .guest_text, "ax"
    .global bench_sgi_wake_sender_guest
    .balign 16
bench_sgi_wake_sender_guest:
    mov     x19, x0
1:  mrs     x5, cntpct_el0
    str     x5, [x2]
    msr     icc_sgi1r_el1, x1
    subs    x19, x19, #1
    b.ne    1b
    hvc     #REPORT
    b       .

    .global bench_sgi_wake_receiver_guest
    .balign 16
bench_sgi_wake_receiver_guest:
    timer_guest_start bench_sgi_wake_vectors
1:  wfi
    msr     daifclr, #2
    isb
    msr     daifset, #2
    b       1b
bench_sgi_wake_irq:
    mrs     x22, cntpct_el0
    ldr     x5, [x2]
    mrs     x23, icc_iar1_el1
    sub     x22, x22, x5
    add     x20, x20, x22
    msr     icc_eoir1_el1, x23
    eret
irq_only_vectors bench_sgi_wake_vectors, bench_sgi_wake_irq

// Wake latency of a vCPU parked in WFI, from its virtual timer's deadline. x0 = rounds.
// Each round arms CNTV 256 ticks ahead and waits in WFI with PSTATE.I set (the WFI traps and
// the host parks the vCPU until the deadline), then opens a window for the interrupt; the
// handler adds the ticks from the deadline (x5) to its first instruction to x20, disables
// the timer and ends the interrupt. Reports x0 = x20.
    .global bench_timer_wake_guest
    .balign 16
bench_timer_wake_guest:
    timer_guest_start bench_timer_wake_vectors
    mov     x19, x0
1:  timer_arm #256, cntvct_el0, cntv_cval_el0, cntv_ctl_el0
    mov     x21, #0
2:  wfi
    msr     daifclr, #2
    isb
    msr     daifset, #2
    cbz     x21, 2b
    subs    x19, x19, #1
    b.ne    1b
    mov     x0, x20
    hvc     #REPORT
    b       .
bench_timer_wake_irq:
    mrs     x22, cntvct_el0
    mrs     x23, icc_iar1_el1
    sub     x22, x22, x5
    add     x20, x20, x22
    msr     cntv_ctl_el0, xzr
    isb
    msr     icc_eoir1_el1, x23
    mov     x21, #1
    eret
irq_only_vectors bench_timer_wake_vectors, bench_timer_wake_irq

// x0 = rounds. Each round arms the (emulated) EL1 physical timer 256 ticks ahead, unmasks
// IRQs and spins until its handler ran; the handler adds the ticks from the deadline to its
// first instruction to x20, disables the timer and ends the interrupt. Reports x0 = x20.
    .section .guest_text, "ax"
    .global bench_timer_guest
    .balign 16
bench_timer_guest:
    timer_guest_start bench_timer_vectors
    mov     x19, x0
    mov     x20, #0
1:  mrs     x5, cntpct_el0
    add     x5, x5, #256
    msr     cntp_cval_el0, x5
    mov     x1, #1                    // CNTP_CTL_EL0.ENABLE
    msr     cntp_ctl_el0, x1
    mov     x21, #0
    msr     daifclr, #2
2:  cbz     x21, 2b
    msr     daifset, #2
    subs    x19, x19, #1
    b.ne    1b
    mov     x0, x20
    hvc     #REPORT
    b       .
bench_timer_irq:
    mrs     x22, cntpct_el0
    mrs     x23, icc_iar1_el1
    sub     x22, x22, x5
    add     x20, x20, x22
    msr     cntp_ctl_el0, xzr
    msr     icc_eoir1_el1, x23
    mov     x21, #1
    eret

irq_only_vectors bench_timer_vectors, bench_timer_irq

// kvm-unit-tests' micro-bench "ipi", between two vCPUs of one VM on two physical CPUs. The
// sender (x0 = iterations, x1 = its ICC_SGI1R_EL1 value, x2 = a shared word) clears the word,
// sends the SGI (a trap) and waits until the receiver's handler has set the word, the way
// arm64 waits for a store of another CPU (Linux's __cmpwait): a load-exclusive arms the
// exclusive monitor, whose clearing by the other CPU's store is an event that ends the WFE
// (Arm ARM D1.6.1 "Wait for Event"). micro-bench spins on a plain load instead; under QEMU's
// round-robin TCG an interrupt for another CPU is only taken once the running CPU gives up
// its time slice, and a WFE does (QEMU does not trap it), a plain spin does not. The
// receiver (x2 = the same word) opens its virtual CPU interface and IRQs, says it is ready
// (`hvc #1`) and waits in WFI (a trap: its host parks the CPU until its vGIC has work); its
// handler acknowledges the SGI, sets the word and ends the SGI (EOImode 0).
    .section .guest_text, "ax"
    .global bench_ipi_send_guest
    .balign 16
bench_ipi_send_guest:
    mov     x19, x0
1:  str     wzr, [x2]
    msr     icc_sgi1r_el1, x1
2:  ldaxr   w3, [x2]
    cbnz    w3, 3f
    wfe
    b       2b
3:  clrex
    subs    x19, x19, #1
    b.ne    1b
    hvc     #REPORT
    b       .

    .global bench_ipi_receive_guest
bench_ipi_receive_guest:
    adr     x3, bench_ipi_receive_vectors
    msr     vbar_el1, x3
    mov     x3, #0xff
    msr     icc_pmr_el1, x3
    mov     x3, #1
    msr     icc_igrpen1_el1, x3
    isb
    hvc     #1
    msr     daifclr, #2
1:  wfi
    b       1b
ipi_receive_irq:
    mrs     x3, icc_iar1_el1
    mov     w4, #1
    str     w4, [x2]
    msr     icc_eoir1_el1, x3
    eret
irq_only_vectors bench_ipi_receive_vectors, ipi_receive_irq
