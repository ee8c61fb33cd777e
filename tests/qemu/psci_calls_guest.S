// Guest (EL1): SMCCC and PSCI calls through both conduits, HVC #0 and SMC #0 (the SMC
// traps to EL2 through HCR_EL2.TSC). Each check names a failure code; the guest reports
// the first failure, or GUEST_PASS, with `hvc #GUEST_REPORT`, then powers off through
// PSCI SYSTEM_OFF. Function ids and return codes: Arm DEN0028 (SMCCC), DEN0022 (PSCI).
#include "guest.h"

#define SMCCC_VERSION 0x80000000
#define SMCCC_ARCH_FEATURES 0x80000001
#define SMCCC_ARCH_WORKAROUND_1 0x80008000
#define PSCI_VERSION 0x84000000
#define PSCI_CPU_SUSPEND 0x84000001
#define PSCI_CPU_ON 0x84000003
#define PSCI_CPU_ON64 0xc4000003
#define PSCI_AFFINITY_INFO64 0xc4000004
#define PSCI_MIGRATE_INFO_TYPE 0x84000006
#define PSCI_SYSTEM_OFF 0x84000008
#define PSCI_FEATURES 0x8400000a
#define SIP_CALL 0x82001234        // a Silicon Provider call nobody implements

#define VERSION_1_1 0x10001
#define NOT_SUPPORTED -1
#define INVALID_PARAMETERS -2
#define ON_PENDING -5
#define INVALID_ADDRESS -9

    .text
    .global psci_calls_guest
psci_calls_guest:
    guest_check_call   hvc, 1, VERSION_1_1, SMCCC_VERSION
    guest_check_call   smc, 2, VERSION_1_1, SMCCC_VERSION
    guest_check_call   smc, 3, VERSION_1_1, PSCI_VERSION
    guest_check_call   hvc, 4, VERSION_1_1, PSCI_VERSION
    guest_check_call   smc, 5, 0, PSCI_FEATURES, PSCI_CPU_ON64
    guest_check_call   hvc, 6, 0, PSCI_FEATURES, SMCCC_VERSION
    guest_check_call   smc, 7, NOT_SUPPORTED, SMCCC_ARCH_FEATURES, SMCCC_ARCH_WORKAROUND_1
    guest_check_call   hvc, 8, NOT_SUPPORTED, SIP_CALL
    guest_check_call   smc, 9, NOT_SUPPORTED, SIP_CALL
    // CPU_ON for an MPIDR that is not one of the VM's vCPUs (the VM has 0 and 1).
    guest_check_call   smc, 10, INVALID_PARAMETERS, PSCI_CPU_ON64, 7, psci_secondary_entry
    // CPU_ON with an unaligned entry point.
    guest_check_call   smc, 11, INVALID_ADDRESS, PSCI_CPU_ON64, 1, psci_secondary_entry+2
    // CPU_ON through the SMC32 id with garbage in the upper halves: the host loop gets a
    // PsciCpuOn event for vCPU 1 with entry psci_secondary_entry and context id 0xc0ffee.
    guest_check_call   hvc, 12, 0, PSCI_CPU_ON, 0xffffffff00000001, psci_secondary_entry, 0xabcd000000c0ffee
    // The host marked vCPU 1 ON_PENDING in its table: AFFINITY_INFO and CPU_ON see it.
    guest_check_call   smc, 13, 2, PSCI_AFFINITY_INFO64, 1, 0
    guest_check_call   smc, 14, ON_PENDING, PSCI_CPU_ON64, 1, psci_secondary_entry
    guest_check_call   smc, 15, 0, PSCI_AFFINITY_INFO64, 0, 0
    // x4..x17 survive a call that the library answers.
    ldr     x4, =0x4444444444444444
    guest_check_call   smc, 16, 2, PSCI_MIGRATE_INFO_TYPE
    mov     x9, #17
    ldr     x10, =0x4444444444444444
    cmp     x4, x10
    b.ne    report
    // CPU_SUSPEND to a standby state: an event the host completes with SUCCESS.
    guest_check_call   smc, 18, 0, PSCI_CPU_SUSPEND, 0
    mov     x9, #GUEST_PASS
report:
    mov     x0, x9
    hvc     #GUEST_REPORT
    ldr     x0, =PSCI_SYSTEM_OFF
    smc     #0
    b       .

    .balign 4
    .global psci_secondary_entry
psci_secondary_entry:
    b       .
