/*
 * The one definition of every layout and constant that the EL2 assembly and the C++
 * modules share. The .S files include this header; the modules include it in their
 * global module fragment and static_assert their struct layouts against it
 * (modules/trap/registers.cppm, modules/vcpu/vcpu.cppm), so a layout change that is not
 * made here fails to compile instead of corrupting a guest.
 */
#ifndef ARM_ASM_CONTEXT_H
#define ARM_ASM_CONTEXT_H

/* arm::GuestRegisters: what the world switch saves and restores on every exit. */
#define ARM_GUEST_X(n) ((n) * 8)          /* x0..x30 */
#define ARM_GUEST_PC (31 * 8)             /* ELR_EL2: where the guest resumes */
#define ARM_GUEST_PSTATE (32 * 8)         /* SPSR_EL2: the guest's PSTATE */
#define ARM_GUEST_REGISTERS_SIZE (33 * 8)

/* arm::FpSimdState: V0-V31, FPSR, FPCR, moved by VCpu::load()/put() (asm/fpsimd.S). */
#define ARM_FPSIMD_V(n) ((n) * 16)
#define ARM_FPSIMD_FPSR (32 * 16)
#define ARM_FPSIMD_FPCR (32 * 16 + 8)
#define ARM_FPSIMD_SIZE (32 * 16 + 16)

/*
 * arm::ExceptionFrame: the full register dump saved when EL2 takes an exception from EL2
 * itself (a hypervisor bug), handed to arm_el2_unexpected_exception().
 */
#define ARM_FRAME_X(n) ((n) * 8)          /* x0..x30 */
#define ARM_FRAME_SP (31 * 8)             /* SP_EL2 before the exception */
#define ARM_FRAME_ELR (32 * 8)
#define ARM_FRAME_SPSR (33 * 8)
#define ARM_FRAME_ESR (34 * 8)
#define ARM_FRAME_FAR (35 * 8)
#define ARM_FRAME_SIZE (36 * 8)

/*
 * Which vector entry ended a guest run: the value arm_enter_guest() returns.
 * Arm ARM D1.10.2 "Exception vectors": four entries per source (sync, IRQ, FIQ, SError).
 */
#define ARM_EXIT_SYNCHRONOUS 0
#define ARM_EXIT_IRQ 1
#define ARM_EXIT_FIQ 2
#define ARM_EXIT_SERROR 3
/* An exception from an AArch32 lower EL (the library runs AArch64 guests only). */
#define ARM_EXIT_AARCH32_FLAG 4

/* Host callee-saved registers pushed on the EL2 stack by arm_enter_guest(): x19..x30. */
#define ARM_HOST_SAVE_SIZE (12 * 8)

/* Per-CPU stack size of EL2 images (runtime/el2/start.S). */
#define ARM_EL2_STACK_SHIFT 14            /* 16 KiB per CPU */
#define ARM_EL2_MAX_CPUS 8

/* Load address of EL2 images on QEMU virt: 2 MiB into RAM, above the DTB QEMU places at
   the start of RAM. */
#define ARM_EL2_IMAGE_BASE 0x40200000

#endif
