// The example hypervisor's list register sync (examples/hypervisor/main.cpp,
// sync_list_registers), for the EL2 images that run guests on arm.vgic: the QEMU vGIC
// scenarios (tests/qemu/vgic_host.h), the guest fuzzer and the exit benchmark.
#pragma once
import arm.vcpu;
import arm.vgic;

// How many list registers this CPU has, as many as arm.gic switches at most.
inline unsigned vgic_list_registers() {
  const unsigned count = arm::list_register_count();
  return count < arm::kMaxListRegisters ? count : arm::kMaxListRegisters;
}

// Before vCPU `vcpu` (loaded on this CPU) enters its guest: its list registers back into
// `vgic` (fold) and filled again (flush), only when either holds something. `used` says
// whether its list registers hold anything, in and out. Never inlined: the exit benchmark's
// rows then cost the same whatever else the image holds (inlined into some callers and not
// others, as clang decides by the number of call sites, the SGI rows moved by 7%).
[[gnu::noinline]] inline void sync_list_registers(arm::Vgic& vgic, unsigned vcpu, unsigned list_registers,
                                                  bool& used) {
  if (!used && !vgic.has_work(vcpu)) return;
  arm::VgicState cpu;
  for (unsigned n = 0; n < list_registers; ++n) cpu.lr[n] = arm::read_list_register(n);
  cpu.hcr = arm::read_sysreg<arm::SysReg::ICH_HCR_EL2>();
  vgic.fold(vcpu, cpu, list_registers);
  vgic.flush(vcpu, cpu, list_registers);
  used = false;
  for (unsigned n = 0; n < list_registers; ++n) {
    arm::write_list_register(n, cpu.lr[n]);
    used |= cpu.lr[n] != 0;
  }
  arm::write_sysreg<arm::SysReg::ICH_HCR_EL2>(cpu.hcr);
}
