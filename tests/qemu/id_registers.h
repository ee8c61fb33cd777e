/*
 * The hypercalls of the id_registers scenario, shared by its guest (id_registers_guest.S)
 * and its host loop (id_registers.cpp).
 */
#ifndef TESTS_QEMU_ID_REGISTERS_H
#define TESTS_QEMU_ID_REGISTERS_H
/* x0 = CRm << 3 | op2 of an ID register, x1 = its value as the guest read it. */
#define ID_VALUE 1
/* x0 = a value the guest wrote to CPACR_EL1, x1 = what it then read back. */
#define CPACR_VALUE 2
#endif
