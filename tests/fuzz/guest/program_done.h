/*
 * The immediate of the hypercall that ends a fuzzed guest program (`hvc #imm`), shared by
 * the program generator (program.h) and the guest's vectors (guest_vectors.S).
 */
#ifndef TESTS_FUZZ_GUEST_PROGRAM_DONE_H
#define TESTS_FUZZ_GUEST_PROGRAM_DONE_H
#define GUEST_FUZZ_PROGRAM_DONE 0xd0e
#endif
