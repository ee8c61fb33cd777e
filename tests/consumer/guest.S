// The consumer's guest: one hypercall, then nothing.
    .text
    .global consumer_guest
consumer_guest:
    ldr     x0, =0xc0ffee
    hvc     #1
    b       .

    .bss
    .balign 16
    .space  4096
    .global consumer_guest_stack_top
consumer_guest_stack_top:
