// Guest (EL1) for the pmu scenario, run by two vCPUs on one CPU with loop lengths L (x0 at
// entry): 0xa000 and 0x3000. Enables the cycle counter and event counters 0 (SW_INCR, event
// 0x00) and 1 (INST_RETIRED, event 0x08) with EL2 filtered out (NSH clear), runs a loop of L
// iterations of three instructions with one software increment each, yields (`hvc #1`: the
// other vCPU runs meanwhile), runs the loop again and reads its counters: software increments
// exactly 2L; instructions retired and cycles (one per instruction under -icount shift=0)
// from 6L to 6L + kSlack, so neither the other vCPU's loop nor the hypervisor's instructions
// were counted. Then overflows counter 0 with PMINTENSET_EL1 set and waits for the overflow
// interrupt (INTID 23), whose handler checks PMOVSSET_EL0, clears it and ends the interrupt.
// Reports GUEST_PASS, or the number of the failed check (x10) with the value in x1.
#include "guest.h"

#define YIELD 1
#define SLACK 64
#define PMU_INTID 23
// PMCR_EL0 (Arm ARM D19, "PMCR_EL0"): E, P (reset event counters), C (reset cycle counter),
// LC (64-bit cycle counter overflow).
#define PMCR_E_P_C_LC 0x47
#define EVENT_SW_INCR 0x00
#define EVENT_INST_RETIRED 0x08
#define COUNTERS_0_1_AND_CYCLES 0x80000003

    .text
    .global pmu_guest
pmu_guest:
    mov     x19, x0                   // L
    adr     x1, pmu_vectors
    msr     vbar_el1, x1
    mov     x10, #1                   // a PMU is advertised (ID_AA64DFR0_EL1.PMUVer)
    mrs     x1, id_aa64dfr0_el1
    ubfx    x1, x1, #8, #4
    cbz     x1, fail
    cmp     x1, #0xf
    b.eq    fail
    mov     x10, #2                   // at least the two event counters used here
    mrs     x1, pmcr_el0
    ubfx    x1, x1, #11, #5
    cmp     x1, #2
    b.lo    fail
    mov     x10, #3                   // INST_RETIRED implemented (PMCEID0_EL0 bit 8)
    mrs     x1, pmceid0_el0
    tbz     x1, #EVENT_INST_RETIRED, fail

    mov     x1, #EVENT_SW_INCR
    msr     pmevtyper0_el0, x1
    mov     x1, #EVENT_INST_RETIRED
    msr     pmevtyper1_el0, x1
    msr     pmccfiltr_el0, xzr        // EL0 and EL1, not EL2 (NSH clear)
    ldr     x1, =COUNTERS_0_1_AND_CYCLES
    msr     pmcntenset_el0, x1
    mov     x2, #1
    mov     x1, #PMCR_E_P_C_LC
    msr     pmcr_el0, x1
    isb

    mov     x1, x19
1:  msr     pmswinc_el0, x2
    subs    x1, x1, #1
    b.ne    1b
    hvc     #YIELD
    mov     x1, x19
2:  msr     pmswinc_el0, x2
    subs    x1, x1, #1
    b.ne    2b
    mrs     x3, pmevcntr0_el0
    mrs     x4, pmevcntr1_el0
    mrs     x5, pmccntr_el0

    mov     x10, #4                   // software increments: exactly 2L
    mov     x1, x3
    add     x6, x19, x19
    cmp     x3, x6
    b.ne    fail
    mov     x10, #5                   // instructions retired: 6L .. 6L + SLACK
    mov     x1, x4
    add     x6, x6, x6, lsl #1        // 6L
    cmp     x4, x6
    b.lo    fail
    add     x7, x6, #SLACK
    cmp     x4, x7
    b.hi    fail
    mov     x10, #6                   // cycles (one per instruction): 6L .. 6L + SLACK
    mov     x1, x5
    cmp     x5, x6
    b.lo    fail
    cmp     x5, x7
    b.hi    fail

    // The overflow interrupt: counter 0 two increments before it wraps (32 bits).
    mov     x10, #7
    mov     x1, #0xff
    msr     icc_pmr_el1, x1
    mov     x1, #1
    msr     icc_igrpen1_el1, x1
    mov     w1, #0xfffffffe
    msr     pmevcntr0_el0, x1
    mov     x1, #1
    msr     pmintenset_el1, x1
    mov     x20, #0                   // set by the IRQ handler
    isb
    msr     pmswinc_el0, x2
    msr     pmswinc_el0, x2
    msr     daifclr, #2
    ldr     x1, =0x100000
3:  cbnz    x20, 4f
    subs    x1, x1, #1
    b.ne    3b
    b       fail                      // x10 = 7: no overflow interrupt
4:  msr     daifset, #2
    mov     x10, #8                   // the handler saw INTID 23 with PMOVSSET bit 0
    mov     x1, x21
    cmp     x20, #1
    b.ne    fail
    mov     x10, #9                   // the counter wrapped: 0 after 0xfffffffe + 2 (in its
    mrs     x1, pmevcntr0_el0         // low 32 bits: FEAT_PMUv3p5's 64-bit event counters
    cbnz    w1, fail                  // still overflow there while PMCR_EL0.LP is clear)
    guest_report_pass_or_x10

irq_handler:
    mrs     x21, icc_iar1_el1
    mov     x20, #2                   // wrong INTID or overflow flag
    cmp     x21, #PMU_INTID
    b.ne    5f
    mrs     x22, pmovsset_el0
    tbz     x22, #0, 5f
    mov     x22, #1
    msr     pmovsclr_el0, x22         // lowers the interrupt before it is ended
    msr     pmintenclr_el1, x22
    isb
    mov     x20, #1
5:  msr     icc_eoir1_el1, x21
    eret

    guest_unexpected_exception unexpected_exception

    guest_vector_table pmu_vectors, unexpected_exception, irq_handler, unexpected_exception
