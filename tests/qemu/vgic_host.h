// Host side of the vGIC scenarios: a vCPU's GIC as the example hypervisor serves it
// (examples/hypervisor/main.cpp). GICD and GICR are not in the guest's stage 2, so every
// access is an MMIO exit answered by arm::Vgic::read()/write(); the guest's SGI register
// writes (ICC_SGI1R_EL1 and the other two, trapped by HCR_EL2.IMO, IHI 0069 12.2.23) go to
// send_sgi(); the list registers are folded back and filled before every entry; the GIC
// maintenance interrupt (PPI 9, INTID 25) is a physical interrupt whose only work is the
// exit itself.
#pragma once
#include "../support/vgic_list_registers.h"
#include "scenario.h"
#include "start_cpu.h"
#include "vgic_guest.h"

// A VM's vGIC at QEMU virt's GIC addresses (the guests' vgic_guest.h).
constexpr arm::VgicConfig scenario_vgic(unsigned vcpus, unsigned spis) {
  return {.vcpus = vcpus, .spis = spis, .gicd_base = kGicDistributor, .gicr_base = kGicRedistributor};
}

// The linker's symbol for the image start (a declaration: nothing is initialized here).
// NOLINTNEXTLINE(bugprone-dynamic-static-initializers)
extern "C" char __image_start[];

class VgicHost {
 public:
  static constexpr uint32_t kMaintenanceIntid = 25;
  static constexpr uint32_t kKickSgi = 8;  // makes another CPU exit its guest (the example's)

  // The host side on physical CPU `cpu` (its redistributor). With `kick_cpus`, vCPU n runs
  // on CPU n and a vCPU that gets work from another one's exit is kicked with a physical
  // SGI, as in the example hypervisor; without, the scenario schedules the vCPUs itself.
  explicit VgicHost(arm::Vgic& vgic, unsigned cpu = 0, bool kick_cpus = false)
      : vgic_(vgic),
        gic_{kGicDistributor, kGicRedistributor + cpu * uintptr_t{arm::kGicrStride}},
        kick_cpus_(kick_cpus) {
    gic_.init_this_cpu();
    gic_.enable_private_interrupt(kMaintenanceIntid);
    gic_.enable_private_interrupt(kKickSgi);
    list_registers_ = vgic_list_registers();
  }

  // Before vCPU `index` (loaded on this CPU) enters the guest.
  void sync(unsigned index) { sync_list_registers(vgic_, index, list_registers_, used_[index]); }

  // Answers `exit` of vCPU `index` if it is the vGIC's; false if it is not.
  bool handle(arm::Exit& exit, unsigned index) {
    if (auto* read = exit.get_if<arm::MmioRead>(); read != nullptr && vgic_.contains(read->address)) {
      sync(index);  // so that the guest reads what it acknowledged since entry
      read->complete(vgic_.read(index, read->address, read->size));
      ++gic_accesses;
      return true;
    }
    if (auto* write = exit.get_if<arm::MmioWrite>(); write != nullptr && vgic_.contains(write->address)) {
      kick(vgic_.write(index, write->address, write->size, write->value) & ~(1u << index));
      ++gic_accesses;
      return true;
    }
    if (auto* write = exit.get_if<arm::SysRegWrite>();
        write != nullptr && arm::is_sgi_register(write->encoding)) {
      kick(vgic_.send_sgi(index, write->value) & ~(1u << index));
      ++sgi_writes;
      return true;
    }
    if (exit.is<arm::ExternalInterrupt>()) {
      const uint32_t intid = gic_.acknowledge();
      if (intid >= 1020) return true;  // spurious
      gic_.end_of_interrupt(intid);
      if (intid == kMaintenanceIntid) ++maintenance_interrupts;
      if (intid == kKickSgi) ++kicked;  // its work is the exit itself: sync() follows
      return true;
    }
    return false;
  }

  // What the scenario checks afterwards.
  uint32_t kicks = 0;   // vCPUs other than the one that caused it that got work (bit n)
  unsigned kicked = 0;  // kick SGIs this CPU took
  unsigned gic_accesses = 0;
  unsigned sgi_writes = 0;
  unsigned maintenance_interrupts = 0;

 private:
  // ICC_SGI1R_EL1 (IHI 0069 12.2.23): INTID [27:24], Aff1 [23:16], TargetList [15:0].
  void kick(uint32_t vcpus) {
    kicks |= vcpus;
    if (!kick_cpus_) return;
    for (unsigned n = 0; n < arm::kVgicMaxVcpus; ++n) {
      if ((vcpus & (1u << n)) == 0) continue;
      const uint64_t affinity = arm::vgic_vcpu_affinity(n);
      arm::write_sysreg<arm::SysReg::ICC_SGI1R_EL1>(
          (uint64_t{kKickSgi} << 24) | (((affinity >> 8) & 0xff) << 16) | (1u << (affinity & 0xf)));
    }
    arm::instruction_barrier();
  }

  arm::Vgic& vgic_;
  arm::PhysicalGic gic_;
  bool kick_cpus_ = false;
  unsigned list_registers_ = 0;
  bool used_[arm::kVgicMaxVcpus] = {};
};

// Waits until `flag` is set, at most `seconds` of counter time (another CPU's QEMU thread
// may be slow on a loaded host); returns the flag.
inline bool wait_for(const bool& flag, unsigned seconds) {
  const uint64_t deadline =
      arm::read_sysreg<arm::SysReg::CNTPCT_EL0>() + seconds * arm::read_sysreg<arm::SysReg::CNTFRQ_EL0>();
  while (!__atomic_load_n(&flag, __ATOMIC_ACQUIRE) &&
         arm::read_sysreg<arm::SysReg::CNTPCT_EL0>() < deadline) {
  }
  return __atomic_load_n(&flag, __ATOMIC_ACQUIRE);
}

// The first entry of a loaded vCPU into its guest, list registers filled first; resume()
// enters it again after run_until() returned at a hypercall.
inline arm::EventStream<arm::Exit>::Iterator first_exit(arm::EventStream<arm::Exit>& run, VgicHost& host,
                                                        unsigned index) {
  host.sync(index);
  return run.begin();
}
inline void resume(arm::EventStream<arm::Exit>::Iterator& it, VgicHost& host, unsigned index) {
  host.sync(index);
  ++it;
}

// Serves a loaded vCPU from its current exit until it reports (hvc #GUEST_REPORT): returns
// what it reported (GUEST_PASS or its failure code); or until its hypercall `until`, which
// is completed with 0 and left for resume() (the result is then GUEST_PASS). VGIC_EXIT is
// answered here; other hypercalls go to `hypercall` (false: not expected); any other exit the vGIC does not
// answer fails the scenario (-1).
template <class Hypercall>
int64_t run_until(arm::EventStream<arm::Exit>::Iterator& it, VgicHost& host, unsigned index, uint16_t until,
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
    if (call->immediate == VGIC_EXIT) {
      call->complete(0);
      continue;
    }
    if (!hypercall(*call)) {
      printf("vCPU %u: unexpected hvc #%u\n", index, call->immediate);
      return -1;
    }
  }
}
inline int64_t run_until(arm::EventStream<arm::Exit>::Iterator& it, VgicHost& host, unsigned index,
                         uint16_t until) {
  return run_until(it, host, index, until, [](arm::Hypercall&) { return false; });
}

// What every vGIC scenario starts from: EL2 on, a GICv3 system register interface, a
// stage 2 that maps the scenario image 1:1 (code, data, the guests' stacks) and nothing
// else, so that the guests' GICD/GICR accesses exit, the VM's vGIC and a VgicHost serving
// it. Check ready() before using it. Large (the vGIC's state, the stage-2 pages): make it
// a static of main().
class VgicScenario {
 public:
  explicit VgicScenario(const arm::VgicConfig& config, bool kick_cpus = false)
      : vgic(config), host(vgic, 0, kick_cpus) {}
  bool ready() const { return enabled_ == arm::EnableError::None && gic_ && vttbr_ != 0; }

  // A vCPU of the scenario at `entry` with its stack at the end of `stack`.
  template <size_t N>
  arm::VCpuConfig vcpu(const char* entry, unsigned char (&stack)[N], uint64_t mpidr = 0,
                       uint64_t argument = 0) const {
    return {.mpidr = mpidr,
            .entry = reinterpret_cast<uint64_t>(entry),
            .argument = argument,
            .stack = reinterpret_cast<uint64_t>(stack + N),
            .stage2_vttbr = vttbr_};
  }

  // Runs a one-vCPU guest from its start to its report (see run_until for `hypercall`).
  template <size_t N, class Hypercall>
  int64_t run_alone(const char* entry, unsigned char (&stack)[N], Hypercall&& hypercall) {
    arm::VCpu vcpu{this->vcpu(entry, stack)};
    vcpu.load();
    auto run = vcpu.run();
    auto it = first_exit(run, host, 0);
    return run_until(it, host, 0, GUEST_REPORT, hypercall);
  }
  template <size_t N>
  int64_t run_alone(const char* entry, unsigned char (&stack)[N]) {
    return run_alone(entry, stack, [](arm::Hypercall&) { return false; });
  }

 private:
  arm::PerCpu cpu_;
  arm::EnableError enabled_ = cpu_.enable();
  bool gic_ = enabled_ == arm::EnableError::None && cpu_.features().gic_system_registers;
  alignas(4096) unsigned char stage2_pages_[8 * 4096] = {};
  arm::PagePool pool_{stage2_pages_, 8};
  arm::Stage2Table stage2_{pool_, 1};
  uint64_t vttbr_ = gic_ ? map_image() : 0;

  uint64_t map_image() {
    const uint64_t image = reinterpret_cast<uint64_t>(__image_start) & ~uint64_t{0x1f'ffff};
    if (stage2_.map(image, image, 0x40'0000, arm::kGuestRam) != arm::MapError::None) return 0;
    return stage2_.vttbr();
  }

 public:
  arm::Vgic vgic;
  VgicHost host;  // constructed after the members above: it programs the physical GIC
};
