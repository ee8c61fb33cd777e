/*
 * Entry of an EL2 image. QEMU (-kernel image.elf with virtualization=on) and firmware
 * enter here at EL2 with the MMU off. The primary CPU clears .bss, installs the EL2
 * vectors, runs the static constructors and calls main(); main's return value becomes the
 * exit status through semihosting (picolibc's exit()). Secondary CPUs enter at
 * arm_el2_secondary_entry through PSCI CPU_ON with their CPU index as context id.
 */
#include <arm/asm/context.h>

    .section .text.boot, "ax"
    .global _start
    .type _start, %function
_start:
    mrs     x19, CurrentEL
    cmp     x19, #(2 << 2)                  /* CurrentEL.EL, Arm ARM C5.2.1 */
    b.ne    not_at_el2
    mov     x19, x0                         /* keep the boot argument (DTB) */

    mov     x0, #0
    bl      set_stack_for_cpu
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
1:  cmp     x0, x1
    b.hs    2f
    str     xzr, [x0], #8
    b       1b
2:  adrp    x0, arm_boot_argument
    str     x19, [x0, :lo12:arm_boot_argument]
    bl      install_vectors
    bl      arm_el2_run_constructors
    bl      main
    bl      exit                            /* picolibc: semihosting SYS_EXIT with w0 */
    b       .

/* x0 = context id = the CPU index given to PSCI CPU_ON by arm_el2_start_cpu(). */
    .global arm_el2_secondary_entry
    .type arm_el2_secondary_entry, %function
arm_el2_secondary_entry:
    mov     x19, x0
    cmp     x0, #ARM_EL2_MAX_CPUS           /* no stack for it: park instead of */
    b.hs    park                            /* overwriting another CPU's stack  */
    bl      set_stack_for_cpu
    bl      install_vectors
    mov     x0, x19
    bl      arm_el2_secondary_main
    b       .

park:
    wfe
    b       park

/* x0 = CPU index. SP_EL2 = top of that CPU's stack. Clobbers x1, x2. */
set_stack_for_cpu:
    msr     spsel, #1
    adrp    x1, __stack_top
    add     x1, x1, :lo12:__stack_top
    lsl     x2, x0, #ARM_EL2_STACK_SHIFT
    sub     x1, x1, x2
    mov     sp, x1
    ret

install_vectors:
    adrp    x0, arm_el2_vectors
    add     x0, x0, :lo12:arm_el2_vectors
    msr     vbar_el2, x0
    isb
    ret

/* Not at EL2: nothing here can work. Report through semihosting and stop. */
not_at_el2:
    ldr     x1, =not_at_el2_exit_block
    mov     w0, #0x18                       /* SYS_EXIT */
    hlt     #0xf000
    b       .

    .section .rodata
    .balign 8
not_at_el2_exit_block:
    .quad   0x20026                         /* ADP_Stopped_ApplicationExit */
    .quad   125

    .bss
    .balign 8
    .global arm_boot_argument
arm_boot_argument:
    .quad   0
