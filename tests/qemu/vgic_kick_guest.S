// Guest (EL1) for the vgic_sgi_kicks_the_cpu_running_its_target scenario; vCPU n runs it on
// CPU n, x0 = n. vCPU 1 brings up its redistributor, enables SGI 5, says it is ready
// (hvc #VGIC_YIELD) and waits with IRQs open, never exiting by itself; it takes SGI 5 and
// reports. vCPU 0 sends SGI 5 to vCPU 1 (TargetList bit 1) and reports. Failure code =
// 100 * vCPU + the number of the check.
#include "vgic_guest.h"

#define SGI 5

    .text
    .global vgic_kick_guest
vgic_kick_guest:
    mov     x23, x0
    vgic_guest_start vectors
    mov     x1, #GICR_STRIDE
    madd    x21, x23, x1, x21           // this vCPU's RD_base
    add     x22, x21, #GICR_SGI
    vgic_distributor_on
    mov     w1, #-1
    str     w1, [x22, #GICR_IGROUPR0]
    vgic_cpu_interface_on
    cbnz    x23, vcpu1
    ldr     x1, =SGI1R(SGI, 1 << 1)
    msr     icc_sgi1r_el1, x1
    b       pass

vcpu1:
    mov     w1, #(1 << SGI)
    str     w1, [x22, #GICR_ISENABLER0]
    mov     x19, #0
    mov     x2, #SGI                    // what the handler expects
    hvc     #VGIC_YIELD
    msr     daifclr, #2
1:  cbz     x19, 1b                     // only the other CPU's kick brings the SGI
    vgic_report_per_vcpu

    vgic_counting_irq_handler irq_handler, 1

    guest_unexpected_exception unexpected_exception
    guest_vector_table vectors, unexpected_exception, irq_handler, unexpected_exception
