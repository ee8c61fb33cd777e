// Guest (EL1) for the id_registers scenario. Reads every ID register the scenario walks
// and hands each to the host (`hvc #1`, x0 = CRm << 3 | op2, x1 = the value as read), then
// runs one probe per feature that has a register or instruction to try (the host's table,
// tests/qemu/id_registers.cpp, in the same bit order) and reports the probes that executed
// (`hvc #GUEST_REPORT`, x0 = GUEST_PASS, x1 = bit mask); a probe that was an undefined
// instruction (ESR_EL1.EC 0) leaves its bit clear. Any other exception reports 99.
#include "guest.h"

#define ID_VALUE 1

.macro id_register crm, op2
    mov     x0, #((\crm << 3) | \op2)
    mrs     x1, S3_0_C0_C\crm\()_\op2
    hvc     #ID_VALUE
.endm

// Runs \insn; sets bit \bit of x19 unless it was undefined (the handler sets x20).
.macro probe bit, insn:vararg
    mov     x20, #0
    \insn
    cbnz    x20, 1f
    orr     x19, x19, #(1 << \bit)
1:
.endm

    .text
    .global id_registers_guest
id_registers_guest:
    adr     x1, id_vectors
    msr     vbar_el1, x1
    id_register 4, 0                  // ID_AA64PFR0_EL1
    id_register 4, 1                  // ID_AA64PFR1_EL1
    id_register 4, 4                  // ID_AA64ZFR0_EL1
    id_register 4, 5                  // ID_AA64SMFR0_EL1
    id_register 5, 0                  // ID_AA64DFR0_EL1
    id_register 5, 1                  // ID_AA64DFR1_EL1
    id_register 6, 0                  // ID_AA64ISAR0_EL1
    id_register 6, 1                  // ID_AA64ISAR1_EL1
    id_register 6, 2                  // ID_AA64ISAR2_EL1
    id_register 7, 0                  // ID_AA64MMFR0_EL1
    id_register 7, 1                  // ID_AA64MMFR1_EL1
    id_register 7, 2                  // ID_AA64MMFR2_EL1
    id_register 7, 3                  // ID_AA64MMFR3_EL1

    mov     x19, #0
    mov     x2, #1
    probe   0, .inst 0x04bf5021       // SVE: rdvl x1, #1
    probe   1, mrs x1, S3_0_C1_C2_0   // SVE: ZCR_EL1
    probe   2, mrs x1, S3_3_C4_C2_2   // SME: SVCR
    probe   3, mrs x1, S3_0_C1_C0_6   // MTE2: GCR_EL1
    probe   4, mrs x1, S3_3_C13_C2_0  // AMU: AMCR_EL0
    probe   5, mrs x1, S3_3_C2_C4_0   // RNG: RNDR
    probe   6, .inst 0xdac10041       // PAuth: pacia x1, x2
    probe   7, mrs x1, pmcr_el0       // PMU: PMCR_EL0
    probe   8, mrs x1, S3_0_C9_C9_0   // SPE: PMSCR_EL1
    probe   9, mrs x1, S3_0_C9_C11_0  // TRBE: TRBLIMITR_EL1
    probe   10, mrs x1, S3_0_C10_C5_1 // MPAM: MPAM0_EL1
    probe   11, .inst 0x1ac14021      // CRC32: crc32b w1, w1, w1
    probe   12, mrs x1, S3_0_C10_C4_7 // LOR: LORID_EL1
    mov     x1, #0
    probe   13, msr S3_0_C10_C4_3, x1 // LOR: LORC_EL1 = 0 (disabled)
    probe   14, mrs x1, S3_0_C15_C0_0 // IMPLEMENTATION DEFINED (TIDCP)
    probe   15, msr S3_0_C11_C0_0, x1 // IMPLEMENTATION DEFINED (TIDCP)
    mov     x0, #GUEST_PASS
    mov     x1, x19
    hvc     #GUEST_REPORT
    b       .

sync_handler:
    mrs     x21, esr_el1
    lsr     x22, x21, #26             // EC [31:26]: 0 is an undefined instruction
    cbnz    x22, unexpected_exception
    mov     x20, #1
    mrs     x22, elr_el1
    add     x22, x22, #4
    msr     elr_el1, x22
    eret

    guest_unexpected_exception unexpected_exception

    guest_vector_table id_vectors, sync_handler, unexpected_exception, unexpected_exception
