// A raw-binary guest for the example hypervisor's isolation scenario
// (qemu_hypervisor_vms_are_isolated): two VMs run it at once, each in its own RAM
// (VM0_BASE and VM0_BASE + VM_MEMORY, set by the build). Each marks its own state, attacks
// the other VM every way a guest can name it, waits while the other does the same, and
// checks that nothing of its own changed:
//  - memory: a canary in its own RAM; it reads and writes the other VM's canary address
//    and reads the hypervisor's memory (each must be a data abort, stage 2 maps only the
//    VM's own RAM);
//  - PSCI: CPU_ON and AFFINITY_INFO for MPIDR 1 (the VM has one vCPU: INVALID_PARAMETERS,
//    whatever the other VM has), CPU_ON for itself (ALREADY_ON);
//  - SGIs: ICC_SGI1R_EL1 to Aff0 1..15 and with IRM = 1 (every vCPU but itself) must reach
//    nobody; the one SGI it sends itself must arrive exactly once, and nothing else;
//  - the GIC: a priority and a pending bit in its distributor, different in each VM, must
//    read back as it set them; a write to the redistributor of a vCPU it does not have
//    (where a second vCPU's would be) must be a data abort.
// It prints "isolation: vmN passed every check" or "isolation: vmN failed check C" on its
// emulated PL011 and powers off (PSCI SYSTEM_OFF).
#include "vgic_guest.h"

#define PL011 0x09000000
#define PL011_DR 0x00
#define PL011_FR 0x18
#define PL011_FR_TXFF 5
#define PSCI_CPU_ON 0xc4000003
#define PSCI_AFFINITY_INFO 0xc4000004
#define PSCI_SYSTEM_OFF 0x84000008
#define PSCI_INVALID_PARAMETERS -2
#define PSCI_ALREADY_ON -4
#define HYPERVISOR_MEMORY 0x40000000
#define CANARY_PAGE 0x100          /* the canary's offset in the VM's RAM, in 4 KiB pages */
#define CANARY 0x15013700          /* + the VM's number */
#define OWN_SGI 6                  /* + the VM's number: sent to itself */
#define STRAY_SGI 10               /* + the VM's number: sent to vCPUs the VM does not have */
#define MARK_SPI 40                /* its priority: MARK_PRIORITY + 0x10 * the VM's number */
#define MARK_PRIORITY 0x40
#define PENDING_SPI 41             /* + the VM's number: made pending (and left disabled) */
#define SGI1R_IRM (1 << 40)        /* ICC_SGI1R_EL1.IRM: every PE but the sender (12.2.23) */
#define ESR_EC_SHIFT 26
#define EC_DATA_ABORT_SAME_EL 0x25

/* PSCI function \id for MPIDR \mpidr, entry point: this VM's start (in its own RAM, so
   the target alone decides), context 0; unless x0 == \expected, check \code fails. */
.macro psci_call code, expected, id, mpidr
    ldr     x0, =\id
    mov     x1, #\mpidr
    mov     x2, x24
    mov     x3, #0
    smc     #0
    mov     x10, #\code
    cmp     x0, #(\expected)
    b.ne    fail
.endm

    .text
    .global _start
_start:
    // x23: this VM's number, x24: its RAM, x26: the other VM's RAM.
    adr     x24, _start
    ldr     x25, =VM0_BASE
    ldr     x9, =VM_MEMORY
    sub     x23, x24, x25
    udiv    x23, x23, x9
    mov     x10, #1
    sub     x10, x10, x23
    madd    x26, x10, x9, x25
    vgic_guest_start vectors
    vgic_distributor_on
    mov     w1, #-1
    str     w1, [x22, #GICR_IGROUPR0]
    str     w1, [x22, #GICR_ISENABLER0]      // every SGI and PPI enabled
    vgic_cpu_interface_on
    mov     x19, #0                          // its own SGI, taken
    mov     x27, #0                          // any other interrupt taken
    mov     x28, #0                          // data aborts taken

    // Memory.
    ldr     w1, =CANARY
    add     w1, w1, w23
    add     x2, x24, #CANARY_PAGE, lsl #12
    str     w1, [x2]
    add     x2, x26, #CANARY_PAGE, lsl #12
    ldr     w1, [x2]                         // the other VM's canary: abort
    str     w2, [x2]                         // overwriting it: abort
    mov     x10, #1
    cmp     x28, #2
    b.ne    fail
    ldr     x2, =HYPERVISOR_MEMORY
    ldr     w1, [x2]                         // the hypervisor's memory: abort
    mov     x10, #2
    cmp     x28, #3
    b.ne    fail

    // PSCI.
    psci_call 3, PSCI_INVALID_PARAMETERS, PSCI_CPU_ON, 1
    psci_call 4, PSCI_INVALID_PARAMETERS, PSCI_AFFINITY_INFO, 1
    psci_call 5, PSCI_ALREADY_ON, PSCI_CPU_ON, 0

    // The GIC: this VM's marks, and a redistributor it does not have.
    mov     w1, #0x10
    mov     w2, #MARK_PRIORITY
    madd    w1, w1, w23, w2
    strb    w1, [x20, #GICD_IPRIORITYR + MARK_SPI]
    mov     w1, #1
    add     w2, w23, #(PENDING_SPI - 32)
    lsl     w1, w1, w2
    str     w1, [x20, #GICD_ISPENDR + 4]
    ldr     x2, =GICR_STRIDE
    add     x2, x22, x2
    mov     w1, #-1
    str     w1, [x2, #GICR_ISENABLER0]       // vCPU 1's SGI frame: abort
    mov     x10, #6
    cmp     x28, #4
    b.ne    fail

    // SGIs: to vCPUs this VM does not have (Aff0 1..15; every PE but itself), then its own.
    add     x1, x23, #STRAY_SGI
    lsl     x1, x1, #24
    orr     x2, x1, #0xfffe
    msr     icc_sgi1r_el1, x2
    orr     x2, x1, #SGI1R_IRM
    msr     icc_sgi1r_el1, x2
    add     x1, x23, #OWN_SGI
    lsl     x1, x1, #24
    orr     x1, x1, #1
    msr     icc_sgi1r_el1, x1
    isb

    // IRQs open for 300 ms of the virtual counter, while the other VM makes its attempts.
    msr     daifclr, #2
    mrs     x1, cntfrq_el0
    mov     x2, #10
    udiv    x1, x1, x2
    mov     x2, #3
    mul     x1, x1, x2
    mrs     x2, cntvct_el0
    add     x1, x1, x2
wait:
    mrs     x2, cntvct_el0
    cmp     x2, x1
    b.lo    wait
    msr     daifset, #2

    // Nothing of this VM changed.
    mov     x10, #7
    cmp     x19, #1
    b.ne    fail
    mov     x10, #8
    cbnz    x27, fail
    ldr     w1, =CANARY
    add     w1, w1, w23
    add     x2, x24, #CANARY_PAGE, lsl #12
    ldr     w2, [x2]
    mov     x10, #9
    cmp     w1, w2
    b.ne    fail
    mov     w1, #0x10
    mov     w2, #MARK_PRIORITY
    madd    w1, w1, w23, w2
    ldrb    w2, [x20, #GICD_IPRIORITYR + MARK_SPI]
    mov     x10, #10
    cmp     w1, w2
    b.ne    fail
    mov     w1, #1
    add     w2, w23, #(PENDING_SPI - 32)
    lsl     w1, w1, w2
    ldr     w2, [x20, #GICD_ISPENDR + 4]
    mov     x10, #11
    cmp     w1, w2
    b.ne    fail
    mov     x10, #12
    cmp     x28, #4
    b.ne    fail

    adr     x0, passed
    bl      print_result
    b       power_off
fail:
    adr     x0, failed
    bl      print_result
    // The check's number, in decimal.
    mov     x1, #10
    udiv    x2, x10, x1
    msub    x0, x2, x1, x10
    cbz     x2, 1f
    add     x0, x2, #'0'
    bl      putc
    mov     x1, #10
    udiv    x2, x10, x1
    msub    x0, x2, x1, x10
1:  add     x0, x0, #'0'
    bl      putc
power_off:
    mov     x0, #'\n'
    bl      putc
    ldr     x0, =PSCI_SYSTEM_OFF
    smc     #0
    b       .

// Prints "isolation: vm<x23> " then the string at x0. Clobbers x0-x3, x21 is kept.
print_result:
    mov     x3, x30
    mov     x2, x0
    adr     x0, prefix
    bl      puts
    add     x0, x23, #'0'
    bl      putc
    mov     x0, x2
    bl      puts
    ret     x3

// Prints the string at x0 (x2 is kept). Clobbers x0, x1, x4, x5.
puts:
    mov     x5, x30
    mov     x4, x0
2:  ldrb    w0, [x4], #1
    cbz     w0, 3f
    bl      putc
    b       2b
3:  ret     x5

// Prints w0, waiting while the transmit FIFO is full. Clobbers x1, x6.
putc:
    ldr     x6, =PL011
4:  ldr     w1, [x6, #PL011_FR]
    tbnz    w1, #PL011_FR_TXFF, 4b
    str     w0, [x6, #PL011_DR]
    ret

// A data abort (the attempts above): counted and stepped over. Anything else fails.
sync_handler:
    mrs     x9, esr_el1
    lsr     x9, x9, #ESR_EC_SHIFT
    mov     x10, #20
    cmp     x9, #EC_DATA_ABORT_SAME_EL
    b.ne    fail
    add     x28, x28, #1
    mrs     x9, elr_el1
    add     x9, x9, #4
    msr     elr_el1, x9
    eret

// Counts its own SGI in x19 and anything else in x27 (EOImode 1: EOIR, then DIR).
irq_handler:
    mrs     x9, icc_iar1_el1
    cmp     x9, #1020
    b.hs    5f                               // spurious: nothing to end
    add     x11, x23, #OWN_SGI
    cmp     x9, x11
    cinc    x19, x19, eq
    cinc    x27, x27, ne
    msr     icc_eoir1_el1, x9
    msr     icc_dir_el1, x9
    isb
5:  eret

other_exception:
    mov     x10, #21
    b       fail

    guest_vector_table vectors, sync_handler, irq_handler, other_exception
    .ltorg
prefix:
    .asciz  "isolation: vm"
passed:
    .asciz  " passed every check"
failed:
    .asciz  " failed check "
    .balign 8
