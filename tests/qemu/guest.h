/*
 * Conventions shared by the scenario guests (.S, at EL1) and their host loops (.cpp, at
 * EL2). A guest ends its scenario with `hvc #GUEST_REPORT` and x0 = GUEST_PASS or a
 * failure code naming the check that failed.
 */
#ifndef TESTS_QEMU_GUEST_H
#define TESTS_QEMU_GUEST_H
#define GUEST_REPORT 0xffff
#define GUEST_PASS 0
#endif
