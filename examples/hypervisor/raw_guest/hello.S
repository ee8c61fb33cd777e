// A raw-binary guest for the example hypervisor: no headers, position independent (PC-
// relative addressing and literal pools only), entered at its first byte. It writes a
// line to the PL011 (emulated by the hypervisor: each access is an MMIO exit), waiting
// while the transmit FIFO is full as a real driver would, then powers off with PSCI
// SYSTEM_OFF through SMC.
#define PL011 0x09000000
#define PL011_DR 0x00
#define PL011_FR 0x18
#define PL011_FR_TXFF 5
#define PSCI_SYSTEM_OFF 0x84000008

    .text
    .global _start
_start:
    adr     x19, message
    ldr     x20, =PL011
next:
    ldrb    w0, [x19], #1
    cbz     w0, done
wait:
    ldr     w1, [x20, #PL011_FR]
    tbnz    w1, #PL011_FR_TXFF, wait
    str     w0, [x20, #PL011_DR]
    b       next
done:
    ldr     x0, =PSCI_SYSTEM_OFF
    smc     #0
    b       .

message:
    .asciz  "Hello from a raw binary guest, through the emulated PL011.\n"
    .balign 8
