// Guest (EL1) for the id_registers scenario. Reads every ID register the scenario walks
// and hands each to the host (`hvc #1`, x0 = CRm << 3 | op2, x1 = the value as read), then
// runs one probe per feature that has a register or instruction to try (the host's table,
// tests/qemu/id_registers.cpp, in the same bit order) and reports the probes that executed
// (`hvc #GUEST_REPORT`, x0 = GUEST_PASS, x1 = bit mask); a probe that was an undefined
// instruction (ESR_EL1.EC 0) leaves its bit clear. Any other exception reports 99. Between
// the probes it writes CPACR_EL1 and hands the host what reads back (`hvc #CPACR_VALUE`).
#include "guest.h"
#include "id_registers.h"

.macro id_register crm, op2
    mov     x0, #((\crm << 3) | \op2)
    mrs     x1, S3_0_C0_C\crm\()_\op2
    hvc     #ID_VALUE
.endm

// Runs \insn; sets bit \bit of x19 unless it was undefined (the handler counts in x20).
.macro probe bit, insn:vararg
    mov     x20, #0
    \insn
    cbnz    x20, 1f
    orr     x19, x19, #(1 << (\bit))
1:
.endm

// CPACR_EL1 fields (Arm ARM D19.2 CPACR_EL1): 0b11 is "no trap at EL1 or EL0".
#define CPACR_ZEN (3 << 16)
#define CPACR_FPEN (3 << 20)
#define CPACR_SMEN (3 << 24)

// Writes x0 to CPACR_EL1 and hands it to the host with what reads back (x1).
.macro cpacr_write_and_read_back
    msr     cpacr_el1, x0
    isb
    mrs     x1, cpacr_el1
    hvc     #CPACR_VALUE
.endm

// The SVE and SME instructions and registers, bits \base .. \base + SVE_SME_PROBES - 1.
#define SVE_SME_PROBES 9
.macro sve_sme_probes base
    probe   (\base + 0), .inst 0x04bf5021       // SVE: rdvl x1, #1
    probe   (\base + 1), mrs x1, S3_0_C1_C2_0   // SVE: ZCR_EL1
    probe   (\base + 2), msr S3_0_C1_C2_0, xzr  // SVE: ZCR_EL1 (write)
    probe   (\base + 3), .inst 0x04bf5821       // SME: rdsvl x1, #1
    probe   (\base + 4), .inst 0xd503477f       // SME: smstart
    probe   (\base + 5), mrs x1, S3_3_C4_C2_2   // SME: SVCR
    probe   (\base + 6), msr S3_3_C4_C2_2, xzr  // SME: SVCR (write)
    probe   (\base + 7), mrs x1, S3_0_C1_C2_6   // SME: SMCR_EL1
    probe   (\base + 8), mrs x1, S3_1_C0_C0_6   // SME: SMIDR_EL1
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
    // SVE and SME with the guest's CPACR_EL1.ZEN/SMEN trapping them at EL1 (0b00, their
    // reset value), then not trapping them (0b11); FPEN 0b11 both times (with FP/SIMD
    // trapped, an SVE or SME instruction is an FP/SIMD access trap first: Arm ARM
    // CheckSVEEnabled()). The host checks what CPACR_EL1 reads back each time.
    mov     x0, #CPACR_FPEN
    cpacr_write_and_read_back
    sve_sme_probes 0
    ldr     x0, =(CPACR_FPEN | CPACR_ZEN | CPACR_SMEN)
    cpacr_write_and_read_back
    sve_sme_probes SVE_SME_PROBES
    // SME registers only FEAT_FGT can trap at EL1 (the host's table says why).
    probe   (2 * SVE_SME_PROBES + 9), mrs x1, S3_0_C1_C2_4   // SME: SMPRI_EL1
    probe   (2 * SVE_SME_PROBES + 10), mrs x1, S3_3_C13_C0_5 // SME: TPIDR2_EL0
    probe   (2 * SVE_SME_PROBES + 0), mrs x1, S3_0_C1_C0_6   // MTE2: GCR_EL1
    probe   (2 * SVE_SME_PROBES + 1), mrs x1, S3_3_C13_C2_0  // AMU: AMCR_EL0
    probe   (2 * SVE_SME_PROBES + 2), mrs x1, S3_3_C2_C4_0   // RNG: RNDR
    probe   (2 * SVE_SME_PROBES + 3), .inst 0xdac10041       // PAuth: pacia x1, x2
    probe   (2 * SVE_SME_PROBES + 4), mrs x1, pmcr_el0       // PMU: PMCR_EL0
    probe   (2 * SVE_SME_PROBES + 5), mrs x1, S3_0_C9_C9_0   // SPE: PMSCR_EL1
    probe   (2 * SVE_SME_PROBES + 6), mrs x1, S3_0_C9_C11_0  // TRBE: TRBLIMITR_EL1
    probe   (2 * SVE_SME_PROBES + 7), mrs x1, S3_0_C10_C5_1  // MPAM: MPAM0_EL1
    probe   (2 * SVE_SME_PROBES + 8), .inst 0x1ac14021       // CRC32: crc32b w1, w1, w1
    probe   (2 * SVE_SME_PROBES + 11), mrs x1, S3_0_C10_C4_7 // LOR: LORID_EL1
    mov     x1, #0
    probe   (2 * SVE_SME_PROBES + 12), msr S3_0_C10_C4_3, x1 // LOR: LORC_EL1 = 0 (disabled)
    probe   (2 * SVE_SME_PROBES + 13), mrs x1, S3_0_C15_C0_0 // IMPLEMENTATION DEFINED (TIDCP)
    probe   (2 * SVE_SME_PROBES + 14), msr S3_0_C11_C0_0, x1 // IMPLEMENTATION DEFINED (TIDCP)
    mov     x0, #GUEST_PASS
    mov     x1, x19
    hvc     #GUEST_REPORT
    b       .

    guest_undefined_step_over sync_handler, x20, unexpected_exception
    guest_unexpected_exception unexpected_exception

    guest_vector_table id_vectors, sync_handler, unexpected_exception, unexpected_exception
