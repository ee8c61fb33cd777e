// Host side of the vGIC scenarios: a vCPU's GIC as the example hypervisor serves it
// (examples/hypervisor/main.cpp). GICD and GICR are not in the guest's stage 2, so every
// access is an MMIO exit answered by arm::Vgic::read()/write(); the guest's SGI register
// writes (ICC_SGI1R_EL1 and the other two, trapped by HCR_EL2.IMO, IHI 0069 12.2.23) go to
// send_sgi(); the list registers are folded back and filled before every entry; the GIC
// maintenance interrupt (PPI 9, INTID 25) is a physical interrupt whose only work is the
// exit itself.
#pragma once
#include "scenario.h"

import arm.vcpu;
import arm.vgic;

// A stage 2 that maps the scenario image 1:1 (code, data, the guests' stacks) and nothing
// else, so that the guest's GICD/GICR accesses exit. One per image.
inline uint64_t image_only_stage2() {
  extern char __image_start[];
  alignas(4096) static unsigned char pages[8 * 4096];
  static arm::PagePool pool(pages, 8);
  static arm::Stage2Table stage2(pool, 1);
  const uint64_t image = reinterpret_cast<uint64_t>(__image_start) & ~uint64_t{0x1f'ffff};
  if (stage2.map(image, image, 0x40'0000, arm::kGuestRam) != arm::MapError::None) return 0;
  return stage2.vttbr();
}

class VgicHost {
 public:
  static constexpr uint32_t kMaintenanceIntid = 25;

  explicit VgicHost(arm::Vgic& vgic) : vgic_(vgic), gic_{kGicDistributor, kGicRedistributor} {
    gic_.init_this_cpu();
    gic_.enable_private_interrupt(kMaintenanceIntid);
    const unsigned count = arm::list_register_count();
    list_registers_ = count < arm::kMaxListRegisters ? count : arm::kMaxListRegisters;
  }

  // Before vCPU `index` (loaded on this CPU) enters the guest: the list registers back into
  // the vGIC and filled again, only when either holds something (the example's idle check).
  void sync(unsigned index) {
    if (!used_[index] && !vgic_.has_work(index)) return;
    arm::VgicState cpu;
    for (unsigned n = 0; n < list_registers_; ++n) cpu.lr[n] = arm::read_list_register(n);
    cpu.hcr = arm::read_sysreg<arm::SysReg::ICH_HCR_EL2>();
    vgic_.fold(index, cpu, list_registers_);
    vgic_.flush(index, cpu, list_registers_);
    bool used = false;
    for (unsigned n = 0; n < list_registers_; ++n) {
      arm::write_list_register(n, cpu.lr[n]);
      used |= cpu.lr[n] != 0;
    }
    arm::write_sysreg<arm::SysReg::ICH_HCR_EL2>(cpu.hcr);
    used_[index] = used;
  }

  // Answers `exit` of vCPU `index` if it is the vGIC's; false if it is not.
  bool handle(arm::Exit& exit, unsigned index) {
    if (auto* read = exit.get_if<arm::MmioRead>(); read != nullptr && vgic_.contains(read->address)) {
      sync(index);  // so that the guest reads what it acknowledged since entry
      read->complete(vgic_.read(index, read->address, read->size));
      ++gic_accesses;
      return true;
    }
    if (auto* write = exit.get_if<arm::MmioWrite>(); write != nullptr && vgic_.contains(write->address)) {
      kicks |= vgic_.write(index, write->address, write->size, write->value) & ~(1u << index);
      ++gic_accesses;
      return true;
    }
    if (auto* write = exit.get_if<arm::SysRegWrite>();
        write != nullptr && arm::is_sgi_register(write->encoding)) {
      kicks |= vgic_.send_sgi(index, write->value) & ~(1u << index);
      ++sgi_writes;
      return true;
    }
    if (exit.is<arm::ExternalInterrupt>()) {
      const uint32_t intid = gic_.acknowledge();
      if (intid >= 1020) return true;  // spurious
      gic_.end_of_interrupt(intid);
      if (intid == kMaintenanceIntid) ++maintenance_interrupts;
      return true;
    }
    return false;
  }

  // What the scenario checks afterwards.
  uint32_t kicks = 0;  // vCPUs other than the one that caused it that got work (bit n)
  unsigned gic_accesses = 0;
  unsigned sgi_writes = 0;
  unsigned maintenance_interrupts = 0;

 private:
  arm::Vgic& vgic_;
  arm::PhysicalGic gic_;
  unsigned list_registers_ = 0;
  bool used_[arm::kVgicMaxVcpus] = {};
};

// The first entry of a loaded vCPU into its guest, list registers filled first; resume()
// enters it again after run_until() returned at a hypercall.
inline arm::Generator<arm::Exit>::Iterator first_exit(arm::Generator<arm::Exit>& run, VgicHost& host,
                                                      unsigned index) {
  host.sync(index);
  return run.begin();
}
inline void resume(arm::Generator<arm::Exit>::Iterator& it, VgicHost& host, unsigned index) {
  host.sync(index);
  ++it;
}

// Serves a loaded vCPU from its current exit until it reports (hvc #GUEST_REPORT): returns
// what it reported (GUEST_PASS or its failure code); or until its hypercall `until`, which
// is completed with 0 and left for resume() (the result is then GUEST_PASS). Other
// hypercalls go to `hypercall` (false: not expected); any other exit the vGIC does not
// answer fails the scenario (-1).
template <class Hypercall>
int64_t run_until(arm::Generator<arm::Exit>::Iterator& it, VgicHost& host, unsigned index, uint16_t until,
                  Hypercall&& hypercall) {
  for (;; resume(it, host, index)) {
    arm::Exit& exit = *it;
    if (host.handle(exit, index)) continue;
    auto* call = exit.get_if<arm::Hypercall>();
    if (call == nullptr) {
      printf("vCPU %u: unexpected exit\n", index);
      return -1;
    }
    if (call->immediate == GUEST_REPORT) {
      printf("vCPU %u reported %lld after %u GIC accesses, %u SGI writes, %u maintenance interrupts\n", index,
             (long long)call->x[0], host.gic_accesses, host.sgi_writes, host.maintenance_interrupts);
      return static_cast<int64_t>(call->x[0]);
    }
    if (call->immediate == until) {
      call->complete(0);
      return GUEST_PASS;
    }
    if (!hypercall(*call)) {
      printf("vCPU %u: unexpected hvc #%u\n", index, call->immediate);
      return -1;
    }
  }
}
inline int64_t run_until(arm::Generator<arm::Exit>::Iterator& it, VgicHost& host, unsigned index,
                         uint16_t until) {
  return run_until(it, host, index, until, [](arm::Hypercall&) { return false; });
}
