/*
 * Shared by host_registers.S and guest_fuzzer.cpp: the values the host keeps in its
 * callee-saved registers x19-x28 while a fuzzed guest runs, and the result bits that say
 * which of them did not survive.
 */
#ifndef TESTS_FUZZ_GUEST_SENTINELS_H
#define TESTS_FUZZ_GUEST_SENTINELS_H
/* Sentinel for x<n>: GUEST_FUZZ_SENTINEL_TAG in bits [63:48], n in bits [7:0]. */
#define GUEST_FUZZ_SENTINEL_TAG 0x5e47
/* Result: bit (n - 19) for x<n>, and this bit for SP. */
#define GUEST_FUZZ_SP_CHANGED_BIT 10
#endif
