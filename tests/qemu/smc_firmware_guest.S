// Guest (EL1): SMCs that the hypervisor's allow-list forwards to the firmware (QEMU's
// built-in PSCI, reached with `smc #0` from EL2) and SMCs it denies. PSCI emulation is off
// in this VM, so a PSCI answer other than NOT_SUPPORTED can only come from the firmware.
// Function ids and return codes: Arm DEN0028 (SMCCC), DEN0022 (PSCI).
#include "guest.h"

#define SMCCC_VERSION 0x80000000
#define PSCI_VERSION 0x84000000
#define PSCI_CPU_OFF 0x84000002
#define PSCI_CPU_ON64 0xc4000003
#define PSCI_AFFINITY_INFO64 0xc4000004
#define PSCI_MIGRATE_INFO_TYPE 0x84000006
#define PSCI_FEATURES 0x8400000a

#define VERSION_1_1 0x10001
#define NOT_SUPPORTED -1

    .text
    .global smc_firmware_guest
smc_firmware_guest:
    // Allowed: QEMU's PSCI answers (version 1.1, no Trusted OS, CPU_ON implemented).
    guest_check_call   smc, 1, VERSION_1_1, PSCI_VERSION
    guest_check_call   smc, 2, 2, PSCI_MIGRATE_INFO_TYPE
    guest_check_call   smc, 3, 0, PSCI_FEATURES, PSCI_CPU_ON64
    // Denied: had they reached QEMU, AFFINITY_INFO(0) would answer ON (0) and CPU_OFF would
    // stop this CPU for good (the run would time out).
    guest_check_call   smc, 4, NOT_SUPPORTED, PSCI_AFFINITY_INFO64, 0, 0
    guest_check_call   smc, 5, NOT_SUPPORTED, PSCI_CPU_OFF
    // An HVC never goes to the firmware, allowed id or not.
    guest_check_call   hvc, 6, NOT_SUPPORTED, PSCI_VERSION
    // SMCCC_VERSION is the hypervisor's own answer, never the firmware's.
    guest_check_call   smc, 7, VERSION_1_1, SMCCC_VERSION
    mov     x9, #GUEST_PASS
report:
    mov     x0, x9
    hvc     #GUEST_REPORT
    b       .
