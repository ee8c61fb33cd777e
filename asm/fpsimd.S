/*
 * The guest's FP/SIMD registers on and off the CPU. Only VCpu::load()/put() call these:
 * EL2 code never uses FP/SIMD otherwise (tools/check-no-fp enforces it), so between a
 * load() and a put() the guest's V0-V31, FPSR and FPCR stay live in the hardware.
 * Arm ARM A1.4 (registers V0-V31), C5.2 (FPCR, FPSR).
 */
#include <arm/asm/context.h>

    .if ARM_FPSIMD_FPCR != ARM_FPSIMD_FPSR + 8
    .error "FPSR and FPCR must be adjacent: they move with one ldp/stp"
    .endif

    .arch_extension fp
    .arch_extension simd
    .text

/* void arm_fpsimd_save(arm::FpSimdState* state)  x0: state; clobbers x1, x2 */
    .global arm_fpsimd_save
    .type arm_fpsimd_save, %function
    .balign 16
arm_fpsimd_save:
    stp     q0, q1, [x0, #ARM_FPSIMD_V(0)]
    stp     q2, q3, [x0, #ARM_FPSIMD_V(2)]
    stp     q4, q5, [x0, #ARM_FPSIMD_V(4)]
    stp     q6, q7, [x0, #ARM_FPSIMD_V(6)]
    stp     q8, q9, [x0, #ARM_FPSIMD_V(8)]
    stp     q10, q11, [x0, #ARM_FPSIMD_V(10)]
    stp     q12, q13, [x0, #ARM_FPSIMD_V(12)]
    stp     q14, q15, [x0, #ARM_FPSIMD_V(14)]
    stp     q16, q17, [x0, #ARM_FPSIMD_V(16)]
    stp     q18, q19, [x0, #ARM_FPSIMD_V(18)]
    stp     q20, q21, [x0, #ARM_FPSIMD_V(20)]
    stp     q22, q23, [x0, #ARM_FPSIMD_V(22)]
    stp     q24, q25, [x0, #ARM_FPSIMD_V(24)]
    stp     q26, q27, [x0, #ARM_FPSIMD_V(26)]
    stp     q28, q29, [x0, #ARM_FPSIMD_V(28)]
    stp     q30, q31, [x0, #ARM_FPSIMD_V(30)]
    mrs     x1, fpsr
    mrs     x2, fpcr
    add     x0, x0, #ARM_FPSIMD_FPSR        /* beyond ldp/stp's immediate range */
    stp     x1, x2, [x0]
    ret
    .size arm_fpsimd_save, . - arm_fpsimd_save

/* void arm_fpsimd_restore(const arm::FpSimdState* state)  x0: state; clobbers x1, x2 */
    .global arm_fpsimd_restore
    .type arm_fpsimd_restore, %function
    .balign 16
arm_fpsimd_restore:
    ldp     q0, q1, [x0, #ARM_FPSIMD_V(0)]
    ldp     q2, q3, [x0, #ARM_FPSIMD_V(2)]
    ldp     q4, q5, [x0, #ARM_FPSIMD_V(4)]
    ldp     q6, q7, [x0, #ARM_FPSIMD_V(6)]
    ldp     q8, q9, [x0, #ARM_FPSIMD_V(8)]
    ldp     q10, q11, [x0, #ARM_FPSIMD_V(10)]
    ldp     q12, q13, [x0, #ARM_FPSIMD_V(12)]
    ldp     q14, q15, [x0, #ARM_FPSIMD_V(14)]
    ldp     q16, q17, [x0, #ARM_FPSIMD_V(16)]
    ldp     q18, q19, [x0, #ARM_FPSIMD_V(18)]
    ldp     q20, q21, [x0, #ARM_FPSIMD_V(20)]
    ldp     q22, q23, [x0, #ARM_FPSIMD_V(22)]
    ldp     q24, q25, [x0, #ARM_FPSIMD_V(24)]
    ldp     q26, q27, [x0, #ARM_FPSIMD_V(26)]
    ldp     q28, q29, [x0, #ARM_FPSIMD_V(28)]
    ldp     q30, q31, [x0, #ARM_FPSIMD_V(30)]
    add     x0, x0, #ARM_FPSIMD_FPSR
    ldp     x1, x2, [x0]
    msr     fpsr, x1
    msr     fpcr, x2
    ret
    .size arm_fpsimd_restore, . - arm_fpsimd_restore
