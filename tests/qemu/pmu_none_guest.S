// Guest (EL1) for the pmu_none scenario: a vCPU without a guest PMU (GuestPmu::None) reads
// ID_AA64DFR0_EL1.PMUVer 0, and every PMU register it touches, at EL1 as a reader or a
// writer, is an undefined instruction (ESR_EL1.EC 0, "Unknown reason"), as on a CPU without
// FEAT_PMUv3. The handler skips each and counts it; the guest reports GUEST_PASS when all
// ACCESSES did, or the failed check's number (x10) with the value in x1.
#include "guest.h"

#define ACCESSES 22

    .text
    .global pmu_none_guest
pmu_none_guest:
    adr     x1, pmu_none_vectors
    msr     vbar_el1, x1
    mov     x20, #0                   // undefined instructions taken
    mov     x10, #1                   // PMUVer reads 0: no PMU
    mrs     x1, id_aa64dfr0_el1
    ubfx    x1, x1, #8, #4
    cbnz    x1, fail
    mov     x2, #1
    mrs     x1, pmcr_el0
    msr     pmcr_el0, x2
    mrs     x1, pmcntenset_el0
    msr     pmcntenset_el0, x2
    msr     pmcntenclr_el0, x2
    mrs     x1, pmintenset_el1
    msr     pmintenclr_el1, x2
    mrs     x1, pmovsset_el0
    msr     pmovsclr_el0, x2
    msr     pmswinc_el0, x2
    mrs     x1, pmselr_el0
    msr     pmselr_el0, xzr
    mrs     x1, pmceid0_el0
    mrs     x1, pmccntr_el0
    msr     pmccntr_el0, xzr
    mrs     x1, pmxevtyper_el0
    mrs     x1, pmxevcntr_el0
    mrs     x1, pmuserenr_el0
    mrs     x1, pmccfiltr_el0
    msr     pmevtyper0_el0, x2
    mrs     x1, pmevcntr0_el0
    mrs     x1, pmevcntr5_el0
    mov     x10, #2                   // every one of them was undefined
    mov     x1, x20
    cmp     x20, #ACCESSES
    b.ne    fail
    guest_report_pass_or_x10

    guest_undefined_step_over sync_handler, x20, unexpected_exception
    guest_unexpected_exception unexpected_exception

    guest_vector_table pmu_none_vectors, sync_handler, unexpected_exception, unexpected_exception
