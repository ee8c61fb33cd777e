// Guest for the PSCI SMP scenario (QEMU -smp 2). The boot vCPU (MPIDR 0):
//  1. SMC PSCI_VERSION -> 1.1                                  (failure code 1)
//  2. HVC CPU_ON(MPIDR 1, secondary_entry, 0x5eed) -> SUCCESS   (2)
//  3. waits until the second vCPU wrote 0x5eed + 1 to `report`  (3: never reported)
//  4. SMC AFFINITY_INFO(MPIDR 1) until OFF: the second vCPU     (4: never OFF)
//     turns itself off after reporting (it may do all that before step 3 even starts,
//     so ON is never waited for)
//  5. HVC CPU_ON(MPIDR 0, ...), the running boot vCPU -> ALREADY_ON (-4)   (5)
// The second vCPU starts at secondary_entry with x0 = the context id, checks that it is
// MPIDR 1, writes context id + 1 to `report` and turns itself off with CPU_OFF.
#include "guest.h"

#define PSCI_VERSION 0x84000000
#define PSCI_CPU_OFF 0x84000002
#define PSCI_CPU_ON 0xc4000003
#define PSCI_AFFINITY_INFO 0xc4000004
#define CONTEXT_ID 0x5eed
#define WAIT_SECONDS 10                   /* of counter time: generous for a loaded host */

// x11 = the virtual counter value WAIT_SECONDS from now (Arm ARM D11.1.2). A deadline in
// counter time, not a number of loop iterations: under load the second CPU's QEMU thread
// may not run for a long while.
.macro set_deadline
    mrs     x11, cntfrq_el0
    mov     x14, #WAIT_SECONDS
    mul     x11, x11, x14
    mrs     x14, cntvct_el0
    add     x11, x11, x14
.endm

// Branch to `fail` once the deadline in x11 has passed.
.macro fail_after_deadline
    mrs     x14, cntvct_el0
    cmp     x14, x11
    b.hs    fail
.endm

    .section .guest_text, "ax"
    .global psci_smp_guest
psci_smp_guest:
    mov     x10, #1
    ldr     x0, =PSCI_VERSION
    smc     #0
    ldr     x1, =0x10001
    cmp     x0, x1
    b.ne    fail

    mov     x10, #2
    ldr     x0, =PSCI_CPU_ON
    mov     x1, #1
    adr     x2, secondary_entry
    ldr     x3, =CONTEXT_ID
    hvc     #0
    cbnz    x0, fail

    mov     x10, #3
    set_deadline
    adr     x12, report
    ldr     x13, =(CONTEXT_ID + 1)
1:  fail_after_deadline
    ldr     x1, [x12]
    cmp     x1, x13
    b.ne    1b

    mov     x10, #4
    set_deadline
2:  fail_after_deadline
    ldr     x0, =PSCI_AFFINITY_INFO
    mov     x1, #1
    mov     x2, #0
    smc     #0
    cmp     x0, #1                       // 1 = OFF (0 = ON, 2 = ON_PENDING)
    b.ne    2b

    mov     x10, #5
    ldr     x0, =PSCI_CPU_ON
    mov     x1, #0
    adr     x2, secondary_entry
    mov     x3, #0
    hvc     #0
    cmn     x0, #4                       // ALREADY_ON
    b.ne    fail
    guest_report_pass_or_x10

secondary_entry:
    mrs     x1, mpidr_el1
    and     x1, x1, #0xff
    cmp     x1, #1
    b.ne    secondary_wrong
    add     x1, x0, #1
    adr     x2, report
    str     x1, [x2]
    dsb     sy
secondary_wrong:
    ldr     x0, =PSCI_CPU_OFF
    smc     #0
    b       .                            // CPU_OFF does not return

    .balign 8
report:
    .quad   0
