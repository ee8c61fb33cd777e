// Guest (EL1, MMU and caches off, no stage 2) for the set_way scenario: data cache
// maintenance by set/way, which HCR_EL2.TSW traps.
//
// set_way_guest_exits (a vCPU without VCpuConfig::guest_memory): DC ISW, DC CSW and DC CISW
// with the operand SET_WAY_OPERAND, each a SysRegWrite exit; then the FEAT_MTE2 form DC IGSW,
// which must be UNDEFINED (the vCPU hides MTE); `hvc #SET_WAY_EXITS_DONE`, x0 = 1 if it was.
//
// set_way_guest_flush (a vCPU with guest_memory; x0 = the address of a host buffer): writes
// SET_WAY_PATTERN to the buffer and cleans by set/way (DC CSW): `hvc #SET_WAY_CLEANED`. Then
// writes TTBR0_EL1 (trapped by the TVM the first set/way operation set) and reads it back:
// `hvc #SET_WAY_TTBR_WRITTEN`, x0 = the value read. Then DC ISW and an SCTLR_EL1 write of its
// own value (caches stay off): `hvc #SET_WAY_AGAIN`. Reports GUEST_PASS.
// Any unexpected exception reports 99.
#include "guest.h"
#include "set_way.h"

    .text
    .global set_way_guest_exits
set_way_guest_exits:
    adr     x1, set_way_vectors
    msr     vbar_el1, x1
    isb
    ldr     x1, =SET_WAY_OPERAND
    dc      isw, x1
    dc      csw, x1
    dc      cisw, x1
    mov     x20, #0
    sys     #0, c7, c6, #4, x1        // DC IGSW (FEAT_MTE2), spelled without +mte
    mov     x0, x20
    hvc     #SET_WAY_EXITS_DONE
    mov     x0, #GUEST_PASS
    hvc     #GUEST_REPORT
    b       .

    .global set_way_guest_flush
set_way_guest_flush:
    adr     x1, set_way_vectors
    msr     vbar_el1, x1
    isb
    ldr     x2, =SET_WAY_PATTERN
    str     x2, [x0]
    ldr     x1, =SET_WAY_OPERAND
    dc      csw, x1
    hvc     #SET_WAY_CLEANED
    ldr     x2, =SET_WAY_TTBR0
    msr     ttbr0_el1, x2
    isb
    mrs     x0, ttbr0_el1
    hvc     #SET_WAY_TTBR_WRITTEN
    dc      isw, x1
    mrs     x2, sctlr_el1
    msr     sctlr_el1, x2
    isb
    hvc     #SET_WAY_AGAIN
    mov     x0, #GUEST_PASS
    hvc     #GUEST_REPORT
    b       .

// An undefined instruction (ESR_EL1.EC 0) sets x20 and steps over it; anything else is 99.
sync_handler:
    mrs     x21, esr_el1
    lsr     x22, x21, #26
    cbnz    x22, unexpected_exception
    mov     x20, #1
    mrs     x22, elr_el1
    add     x22, x22, #4
    msr     elr_el1, x22
    eret

    guest_unexpected_exception unexpected_exception

    guest_vector_table set_way_vectors, sync_handler, unexpected_exception, unexpected_exception
