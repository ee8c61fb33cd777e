/*
 * What the set_way scenario's guest (set_way_guest.S) and host (set_way.cpp) agree on:
 * the operands of its set/way instructions and the values it writes, and the `hvc`
 * immediates that mark its steps.
 */
#ifndef TESTS_QEMU_SET_WAY_H
#define TESTS_QEMU_SET_WAY_H
/* Xt of every DC ISW/CSW/CISW: Level [3:1] = 1 (L2), SetWay [31:4] = 0x123 << 4. */
#define SET_WAY_LEVEL 1
#define SET_WAY_SETWAY 0x1230
#define SET_WAY_OPERAND (SET_WAY_SETWAY | (SET_WAY_LEVEL << 1))
#define SET_WAY_PATTERN 0x5357434c45414e21 /* "!NAELCWS", written before a DC CSW */
#define SET_WAY_TTBR0 0x12340000           /* a TTBR0_EL1 written while TVM traps it */
/* hvc immediates */
#define SET_WAY_EXITS_DONE 1   /* x0: 1 if DC IGSW was UNDEFINED */
#define SET_WAY_CLEANED 2      /* after the pattern and a DC CSW */
#define SET_WAY_TTBR_WRITTEN 3 /* x0: TTBR0_EL1 read back */
#define SET_WAY_AGAIN 4        /* after DC ISW and an SCTLR_EL1 write that leaves caches off */
#endif
