// Guest (EL1) for the SME registers scenario. x0 = seed, different for each vCPU.
//  1. Reports (hvc #1) TPIDR2_EL0 and SMPRI_EL1 as it finds them at its first entry (x1,
//     x2): the host checks that they are 0, neither its markers nor the other vCPU's.
//  2. Writes seed-derived values to both and yields (hvc #1), while the other vCPU runs.
//  3. Reports (hvc #2) both again: the host checks that they are its own.
// Generic encodings: the registers are FEAT_SME's, which the assembler need not enable.
#define TPIDR2_EL0 s3_3_c13_c0_5
#define SMPRI_EL1 s3_0_c1_c2_4

    .section .guest_text, "ax"
    .global sme_registers_guest
sme_registers_guest:
    mrs     x1, TPIDR2_EL0
    mrs     x2, SMPRI_EL1
    hvc     #1
    lsl     x3, x0, #8
    add     x3, x3, #0x22
    msr     TPIDR2_EL0, x3
    and     x4, x0, #0xf
    msr     SMPRI_EL1, x4
    isb
    hvc     #1
    mrs     x1, TPIDR2_EL0
    mrs     x2, SMPRI_EL1
    hvc     #2
    b       .
