// The default demo guest (EL1, MMU off): prints a greeting through the console
// hypercall (hvc #1, x0 = character), then powers off through PSCI SYSTEM_OFF.
    .text
    .global demo_guest
demo_guest:
    adr     x19, greeting
1:  ldrb    w0, [x19], #1
    cbz     w0, 2f
    hvc     #1
    b       1b
2:  ldr     x0, =0x84000008          // PSCI SYSTEM_OFF (PSCI 1.1, DEN0022)
    hvc     #0
    b       .

    .section .rodata
greeting:
    .asciz  "Hello from a guest at EL1, through the console hypercall.\n"
