// arm.vgic: a virtual GICv3 per VM, so that no guest owns the physical interrupt controller.
//
// A model of the distributor (GICD_*) and of one redistributor per vCPU (GICR_* RD and SGI
// frames), without LPIs or ITS, after the Arm GIC architecture specification IHI 0069
// ("GICv3 and GICv4"), chapter 12 ("Programmers' model"). The guest sees a GIC with a single
// Security state (GICD_CTLR.DS == 1) and affinity routing always enabled (ARE RAO/WI), which
// is what KVM presents too.
//
// Pure: the module never touches hardware. The guest's MMIO accesses come in as values
// (read()/write()), SGIs as the value the guest wrote to ICC_SGI1R_EL1, and interrupt
// delivery works on an arm::VgicState (the list registers and ICH_HCR_EL2 the vCPU switches
// in and out of the CPU with arm.gic's save_vgic()/restore_vgic()). That keeps every rule
// host-testable; only the caller moves list registers to and from ICH_LR<n>_EL2.
//
// Concurrency: one spinlock per VM (an atomic exchange, as the example hypervisor's console
// lock) guards all state; every public member takes it. The only lock-free read is
// has_work(), which the exit path uses to skip the vGIC entirely when it has nothing to do.
module;
#include <arm/runtime/std_support.h>
export module arm.vgic;
import arm.gic;
import arm.trap;

export namespace arm {

// Capacity, fixed so that a VM's vGIC is one object without a heap.
inline constexpr unsigned kVgicMaxVcpus = 8;
inline constexpr unsigned kVgicMaxSpis = 256;           // INTIDs 32..287
inline constexpr unsigned kVgicPrivateInterrupts = 32;  // SGIs 0-15, PPIs 16-31
inline constexpr unsigned kVgicNoVcpu = ~0u;

// Frame sizes (IHI 0069 12.8 "The GIC Distributor register map", 12.10 "The GIC
// Redistributor register map"): a 64 KiB distributor, and per PE a 64 KiB RD_base frame
// followed by a 64 KiB SGI_base frame (no VLPI frames in GICv3 without GICv4).
inline constexpr std::uint64_t kGicdSize = 0x10000;
inline constexpr std::uint64_t kGicrFrameSize = 0x10000;
inline constexpr std::uint64_t kGicrStride = 2 * kGicrFrameSize;

namespace gicd {  // distributor register offsets, IHI 0069 Table 12-25
inline constexpr std::uint64_t CTLR = 0x0000, TYPER = 0x0004, IIDR = 0x0008, TYPER2 = 0x000c;
inline constexpr std::uint64_t IGROUPR = 0x0080, ISENABLER = 0x0100, ICENABLER = 0x0180;
inline constexpr std::uint64_t ISPENDR = 0x0200, ICPENDR = 0x0280, ISACTIVER = 0x0300, ICACTIVER = 0x0380;
inline constexpr std::uint64_t IPRIORITYR = 0x0400, ICFGR = 0x0c00, IGRPMODR = 0x0d00;
inline constexpr std::uint64_t IROUTER = 0x6000;  // IROUTER<n> at 0x6000 + 8n, n >= 32
inline constexpr std::uint64_t PIDR2 = 0xffe8;
// GICD_CTLR with DS == 1 (12.9.4): EnableGrp0 [0], EnableGrp1 [1], ARE [4], DS [6], RWP [31].
inline constexpr std::uint32_t kCtlrEnableGrp0 = 1u << 0;
inline constexpr std::uint32_t kCtlrEnableGrp1 = 1u << 1;
inline constexpr std::uint32_t kCtlrAre = 1u << 4;
inline constexpr std::uint32_t kCtlrDs = 1u << 6;
// GICD_IROUTER<n> (12.9.22): Interrupt_Routing_Mode [31], Aff3 [39:32], Aff2 [23:16],
// Aff1 [15:8], Aff0 [7:0]; everything else RES0.
inline constexpr std::uint64_t kIrouterIrm = 1ull << 31;
inline constexpr std::uint64_t kIrouterMask = 0xff'8000'0000ull | 0xff'ffffull;
}  // namespace gicd

namespace gicr {  // redistributor register offsets, IHI 0069 Tables 12-27 and 12-29
inline constexpr std::uint64_t CTLR = 0x0000, IIDR = 0x0004, TYPER = 0x0008, WAKER = 0x0014;
inline constexpr std::uint64_t PIDR2 = 0xffe8;
// In the SGI_base frame (offset kGicrFrameSize from RD_base):
inline constexpr std::uint64_t IGROUPR0 = 0x0080, ISENABLER0 = 0x0100, ICENABLER0 = 0x0180;
inline constexpr std::uint64_t ISPENDR0 = 0x0200, ICPENDR0 = 0x0280, ISACTIVER0 = 0x0300;
inline constexpr std::uint64_t ICACTIVER0 = 0x0380, IPRIORITYR0 = 0x0400, ICFGR0 = 0x0c00, ICFGR1 = 0x0c04;
// GICR_WAKER (12.11.36): ProcessorSleep [1], ChildrenAsleep [2].
inline constexpr std::uint32_t kWakerProcessorSleep = 1u << 1;
inline constexpr std::uint32_t kWakerChildrenAsleep = 1u << 2;
// GICR_TYPER (12.11.35): Last [4], Processor_Number [23:8], Affinity_Value [63:32].
inline constexpr std::uint64_t kTyperLast = 1ull << 4;
inline constexpr unsigned kTyperProcessorNumberShift = 8;
inline constexpr unsigned kTyperAffinityShift = 32;
}  // namespace gicr

// GICD_IIDR/GICR_IIDR (12.9.16): Implementer [11:0] = 0x43b (Arm's JEP106 code), the rest
// zero: a generic Arm GICv3. GICD_PIDR2/GICR_PIDR2.ArchRev [7:4] = 0x3: GICv3.
inline constexpr std::uint32_t kVgicIidr = 0x43b;
inline constexpr std::uint32_t kVgicPidr2 = 0x3u << 4;

// ICH_HCR_EL2 (12.5.7): UIE [1] (underflow: at most one list register valid), LRENPIE [2]
// (a maintenance interrupt while EOIcount is not zero), NPIE [3] (no list register
// pending), EOIcount [31:27] (deactivations of interrupts in no list register, see fold());
// ICH_LR<n>_EL2.EOI [41] (12.5.10): with HW == 0, a maintenance interrupt when the guest
// deactivates the interrupt.
inline constexpr std::uint64_t kIchHcrUie = 1ull << 1;
inline constexpr std::uint64_t kIchHcrLrenpie = 1ull << 2;
inline constexpr std::uint64_t kIchHcrNpie = 1ull << 3;
inline constexpr unsigned kIchHcrEoiCountShift = 27;
inline constexpr std::uint64_t kIchHcrEoiCountMask = 0x1full << kIchHcrEoiCountShift;
inline constexpr std::uint64_t kIchLrEoi = 1ull << 41;

struct VgicConfig {
  unsigned vcpus = 1;  // 1..kVgicMaxVcpus
  unsigned spis = 32;  // rounded up to a multiple of 32, at most kVgicMaxSpis
  std::uint64_t gicd_base = 0x0800'0000;
  std::uint64_t gicr_base = 0x080a'0000;
};

// The affinity of vCPU `n` (MPIDR_EL1 Aff1.Aff0), with at most 16 PEs per Aff1 cluster because
// GICD_TYPER.RSS == 0 (SGI target lists then only name Aff0 0..15).
constexpr std::uint64_t vgic_vcpu_affinity(unsigned n) noexcept {
  return (std::uint64_t{n / 16} << 8) | (n % 16);
}

class Vgic {
 public:
  explicit Vgic(const VgicConfig& config) noexcept { reset(config); }

  void reset(const VgicConfig& config) noexcept {
    config_ = config;
    if (config_.vcpus < 1) config_.vcpus = 1;
    if (config_.vcpus > kVgicMaxVcpus) config_.vcpus = kVgicMaxVcpus;
    config_.spis = (config_.spis + 31) / 32 * 32;
    if (config_.spis > kVgicMaxSpis) config_.spis = kVgicMaxSpis;
    ctlr_ = 0;
    for (auto& vcpu : private_)
      for (unsigned i = 0; i < kVgicPrivateInterrupts; ++i) vcpu[i] = Irq{.edge = i < 16};
    for (auto& irq : spi_) irq = Irq{};
    for (auto& waker : waker_) waker = gicr::kWakerProcessorSleep | gicr::kWakerChildrenAsleep;
    for (auto& count : deliverable_) count = 0;
    work_ = 0;
  }

  const VgicConfig& config() const noexcept { return config_; }

  // ---- MMIO: the guest's accesses to GICD and GICR ------------------------------------

  // Whether `address` lies in this VM's distributor or redistributor range.
  bool contains(std::uint64_t address) const noexcept {
    return (address - config_.gicd_base) < kGicdSize ||
           (address - config_.gicr_base) < kGicrStride * config_.vcpus;
  }

  // A read by `vcpu` of `size` bytes (1, 2, 4 or 8). Accesses the specification does not
  // allow (a width a register does not support, a misaligned access) are RAZ/WI: IHI 0069
  // 12.1.3 leaves them CONSTRAINED UNPREDICTABLE between RAZ/WI and an abort, and RAZ/WI
  // keeps a confused guest running.
  std::uint64_t read(unsigned vcpu, std::uint64_t address, unsigned size) noexcept {
    Guard guard(lock_);
    if (vcpu >= config_.vcpus || !aligned(address, size)) return 0;
    if (const std::uint64_t offset = address - config_.gicd_base; offset < kGicdSize)
      return distributor_read(vcpu, offset, size);
    if (const std::uint64_t offset = address - config_.gicr_base; offset < kGicrStride * config_.vcpus)
      return redistributor_read(static_cast<unsigned>(offset / kGicrStride), offset % kGicrStride, size);
    return 0;
  }

  // A write; returns the vCPUs that got a new interrupt to deliver (see raise()).
  std::uint32_t write(unsigned vcpu, std::uint64_t address, unsigned size, std::uint64_t value) noexcept {
    Guard guard(lock_);
    if (vcpu >= config_.vcpus || !aligned(address, size)) return 0;
    const std::uint32_t before = work_;
    if (const std::uint64_t offset = address - config_.gicd_base; offset < kGicdSize)
      distributor_write(offset, size, value);
    else if (const std::uint64_t offset = address - config_.gicr_base; offset < kGicrStride * config_.vcpus)
      redistributor_write(static_cast<unsigned>(offset / kGicrStride), offset % kGicrStride, size, value);
    return kicks(before);
  }

  // ---- Interrupt sources ------------------------------------------------------------

  // An edge on `intid` (SPI, or a PPI/SGI of `vcpu`): it becomes pending. Returns the set of
  // vCPUs (bit n = vCPU n) that now have an interrupt to deliver: the caller kicks the
  // physical CPU running each of them (other than itself) out of the guest, or marks the
  // vCPU runnable when it is not running.
  std::uint32_t raise(std::uint32_t intid, unsigned vcpu = 0) noexcept {
    Guard guard(lock_);
    const std::uint32_t before = work_;
    if (Irq* irq = lookup(vcpu, intid)) {
      irq->latch = true;
      refresh(*irq, vcpu, intid);
    }
    return kicks(before);
  }

  // A level-sensitive line: while it is high the interrupt is pending; when it drops before
  // the guest acknowledged it, it is no longer pending (IHI 0069 4.1.2 "Interrupt types",
  // level-sensitive behaviour), also when it already sits in a list register: fold() then
  // discards the list register's pending state.
  std::uint32_t set_level(std::uint32_t intid, bool high, unsigned vcpu = 0) noexcept {
    Guard guard(lock_);
    const std::uint32_t before = work_;
    if (Irq* irq = lookup(vcpu, intid)) {
      irq->line = high;
      if (!high && irq->in_lr) irq->drop_lr_pending = !irq->lr_latch;
      refresh(*irq, vcpu, intid);
    }
    return kicks(before);
  }

  // Links a virtual interrupt to a physical one the hypervisor acknowledged but did not
  // deactivate: the list register's HW bit makes the guest's deactivation deactivate
  // `physical_intid` too (IHI 0069 4.4.1, ICH_LR<n>_EL2.HW).
  void map_hardware(std::uint32_t intid, std::uint32_t physical_intid, unsigned vcpu = 0) noexcept {
    Guard guard(lock_);
    if (Irq* irq = lookup(vcpu, intid)) {
      irq->hw = true;
      irq->physical_intid = static_cast<std::uint16_t>(physical_intid & 0x1fff);
    }
  }

  // A write by `sender` to ICC_SGI1R_EL1 (or ICC_ASGI1R_EL1/ICC_SGI0R_EL1: with a single
  // Security state they only differ in the group they name, IHI 0069 12.2.23, and the
  // interrupt's group comes from GICR_IGROUPR0 here). Makes SGI INTID pending on every vCPU
  // of this VM that the target list (or IRM == 1: all but the sender) names; affinities that
  // name no vCPU are ignored, as on hardware (12.11.x: "no SGI is generated" for them).
  std::uint32_t send_sgi(unsigned sender, std::uint64_t value) noexcept {
    Guard guard(lock_);
    if (sender >= config_.vcpus) return 0;
    const std::uint32_t before = work_;
    const SgiTarget target = decode_sgi(value);
    for (unsigned n = 0; n < config_.vcpus; ++n)
      if (target.targets(vgic_vcpu_affinity(n), vgic_vcpu_affinity(sender))) {
        private_[n][target.intid].latch = true;
        refresh(private_[n][target.intid], n, target.intid);
      }
    return kicks(before);
  }

  // ---- Delivery through the list registers ------------------------------------------

  // Whether `vcpu` has anything for the list registers: the exit path's one load and branch
  // when the vGIC is idle. Racy by design (written under the lock, read without it): a
  // raise() on another CPU that this read misses comes with a kick.
  bool has_work(unsigned vcpu) const noexcept {
    return ((__atomic_load_n(&work_, __ATOMIC_RELAXED) >> vcpu) & 1) != 0;
  }

  // For tests and fuzzers: whether the incrementally kept work mask (see refresh()) is what
  // a rescan of every interrupt gives.
  bool work_is_consistent() noexcept {
    Guard guard(lock_);
    std::uint16_t counts[kVgicMaxVcpus] = {};
    std::uint32_t work = 0;
    const auto count = [&](const Irq& irq, unsigned target) {
      if (target != irq.counted_for) return false;
      if (target != kVgicNoVcpu) {
        ++counts[target];
        work |= 1u << target;
      }
      return true;
    };
    for (unsigned n = 0; n < config_.vcpus; ++n)
      for (const Irq& irq : private_[n])
        if (!count(irq, deliverable(irq) ? n : kVgicNoVcpu)) return false;
    for (unsigned i = 0; i < config_.spis; ++i)
      if (!count(spi_[i], deliverable(spi_[i]) ? spi_target(spi_[i]) : kVgicNoVcpu)) return false;
    for (unsigned n = 0; n < kVgicMaxVcpus; ++n)
      if (counts[n] != deliverable_[n]) return false;
    return work == work_;
  }

  // After the guest exits: takes the list registers' state back into the model (IHI 0069
  // 4.4 "Virtual interrupt handling"): still pending, active (acknowledged), pending and
  // active, or invalid (the guest deactivated it). Empties every list register.
  void fold(unsigned vcpu, VgicState& cpu, unsigned list_registers = kMaxListRegisters) noexcept {
    Guard guard(lock_);
    if (vcpu >= config_.vcpus) return;
    // First the guest's deactivations of active interrupts that were in no list register
    // (flush() left them out for higher-priority ones, with LRENPIE): the virtual CPU
    // interface counts them in ICH_HCR_EL2.EOIcount (IHI 0069, ICH_HCR_EL2: a write to
    // ICV_EOIR1/0_EL1 with EOImode 0, or to ICV_DIR_EL1, whose INTID no list register holds).
    // Priority drops are LIFO (IHI 0069, ICC_EOIR1_EL1: an EOI drops the highest active
    // priority, that of the interrupt acknowledged last), so with EOImode 0 each one ended
    // the highest-priority active interrupt outside the list registers: deactivate those,
    // highest first. (With EOImode 1, ICV_DIR may come in any order; without trapping it,
    // ICH_HCR_EL2.TDIR, this is a guess, the same one.) This comes before the list
    // registers are read back: until then, in_lr still tells which were outside them.
    for (unsigned count = static_cast<unsigned>((cpu.hcr & kIchHcrEoiCountMask) >> kIchHcrEoiCountShift);
         count > 0; --count)
      if (!deactivate_outside_list_registers(vcpu)) break;
    for (unsigned n = 0; n < list_registers && n < kMaxListRegisters; ++n) {
      const std::uint64_t lr = cpu.lr[n];
      cpu.lr[n] = 0;
      Irq* irq = lookup(vcpu, list_register_intid(lr));
      if (irq == nullptr || !irq->in_lr) continue;
      const std::uint64_t state = (lr & ich_lr::kStateMask) >> ich_lr::kStateShift;
      // A level interrupt's pending state follows its line, not the list register; an
      // edge (or a level interrupt's software latch) still pending in the list register
      // stays pending.
      if ((state & ich_lr::kStatePending) && !irq->drop_lr_pending && (irq->edge || irq->lr_latch))
        irq->latch = true;
      if ((state & ich_lr::kStateActive) && !irq->drop_lr_active) irq->active = true;
      irq->in_lr = false;
      refresh(*irq, vcpu, list_register_intid(lr));
    }
    cpu.hcr &= ~(kIchHcrUie | kIchHcrNpie | kIchHcrLrenpie | kIchHcrEoiCountMask);
  }

  // Before the guest runs: fills the list registers with the highest-priority interrupts of
  // `vcpu` that are pending, enabled and in an enabled group, or active: by priority (lower
  // value first), active before pending at the same priority, then by INTID; an active
  // hardware-linked interrupt always (its deactivation must reach the physical one through
  // the list register's HW bit). So a pending interrupt that would preempt the guest's
  // running priority gets in even when more interrupts are active than there are list
  // registers (nesting deeper than them): the active ones left out keep their priority in
  // the guest's ICH_AP1R0_EL2, their deactivation is counted in EOIcount, and LRENPIE asks
  // for the maintenance interrupt that brings it to fold(). When more wait than fit,
  // ICH_HCR_EL2.NPIE asks for a maintenance interrupt once no list register is pending, so
  // the rest follow without waiting for an unrelated exit. Call fold() first: flush()
  // assumes empty LRs.
  void flush(unsigned vcpu, VgicState& cpu, unsigned list_registers = kMaxListRegisters) noexcept {
    Guard guard(lock_);
    if (vcpu >= config_.vcpus) return;
    if (list_registers > kMaxListRegisters) list_registers = kMaxListRegisters;
    Candidate chosen[kMaxListRegisters] = {};
    unsigned count = 0;
    bool more = false;
    bool active_left_out = false;
    // The candidates are the interrupts counted for this vCPU (refresh()) and not in a list
    // register already: pending, enabled, in an enabled group and routed here, or active.
    const auto consider = [&](Irq& irq, std::uint32_t intid) {
      if (irq.counted_for != vcpu || irq.in_lr) return;
      const Candidate candidate{&irq, intid, key(irq, intid)};
      unsigned at = count;
      while (at > 0 && chosen[at - 1].key > candidate.key) --at;
      if (at >= list_registers) {
        more = true;
        active_left_out |= irq.active;
        return;
      }
      if (count == list_registers) {
        more = true;
        active_left_out |= chosen[count - 1].irq->active;
        --count;
      }
      for (unsigned i = count; i > at; --i) chosen[i] = chosen[i - 1];
      chosen[at] = candidate;
      ++count;
    };
    if (deliverable_[vcpu] != 0) {
      for (unsigned i = 0; i < kVgicPrivateInterrupts; ++i) consider(private_[vcpu][i], i);
      for (unsigned i = 0; i < config_.spis; ++i) consider(spi_[i], 32 + i);
    }
    bool any_pending = false;  // a list register in the pending state (not pending and active)
    for (unsigned n = 0; n < count; ++n) {
      Irq& irq = *chosen[n].irq;
      const bool deliver_pending = pending(irq) && irq.enabled && group_enabled(irq);
      any_pending |= deliver_pending && !irq.active;
      std::uint64_t state = irq.active ? ich_lr::kStateActive : 0;
      if (deliver_pending) state |= ich_lr::kStatePending;
      std::uint64_t lr = (std::uint64_t{chosen[n].intid} << ich_lr::kVirtualIntidShift) |
                         (std::uint64_t{irq.priority} << ich_lr::kPriorityShift) |
                         (state << ich_lr::kStateShift);
      if (irq.group1) lr |= ich_lr::kGroup1;
      if (irq.hw)
        lr |= ich_lr::kHardware | (std::uint64_t{irq.physical_intid} << ich_lr::kPhysicalIntidShift);
      else if (!irq.edge)
        lr |= kIchLrEoi;  // resample the line when the guest deactivates it
      cpu.lr[n] = lr;
      // The list register now holds the interrupt's pending and active state.
      irq.in_lr = true;
      irq.lr_pending = deliver_pending;
      irq.lr_active = irq.active;
      irq.lr_latch = deliver_pending && irq.latch;
      irq.drop_lr_pending = irq.drop_lr_active = false;
      if (deliver_pending) irq.latch = false;
      irq.active = false;
      refresh(irq, vcpu, chosen[n].intid);
    }
    for (unsigned n = count; n < list_registers; ++n) cpu.lr[n] = 0;
    // NPIE when a list register is pending (the maintenance interrupt comes once the guest
    // took them all); when every list register is active or pending and active, NPIE would
    // hold at once (ICH_MISR_EL2.NP in IHI 0069 counts only the pending state) and the
    // guest would never run: UIE then waits for the guest to deactivate all but one. With a
    // single list register in use UIE would hold at once too (zero or one valid): its
    // interrupt gets ICH_LR.EOI instead, a maintenance interrupt when the guest deactivates
    // it (not possible with HW = 1: then the next exit refills).
    std::uint64_t refill = 0;
    if (more && any_pending) {
      refill = kIchHcrNpie;
    } else if (more && count >= 2) {
      refill = kIchHcrUie;
    } else if (more && count == 1 && (cpu.lr[0] & ich_lr::kHardware) == 0) {
      cpu.lr[0] |= kIchLrEoi;
    }
    if (active_left_out) refill |= kIchHcrLrenpie;
    cpu.hcr = (cpu.hcr & ~(kIchHcrUie | kIchHcrNpie | kIchHcrLrenpie)) | kIchHcrEnable | refill;
  }

 private:
  struct Irq {
    std::uint8_t priority = 0;
    bool edge = false;  // GICD_ICFGR Int_config: 1 = edge-triggered
    bool enabled = false;
    bool group1 = false;  // GICD_IGROUPR reset value 0 (12.9.9)
    bool latch = false;   // pending by an edge, ISPENDR or an SGI
    bool line = false;    // a level-sensitive input's current level
    bool active = false;
    bool hw = false;
    std::uint16_t physical_intid = 0;
    std::uint64_t route = 0;             // GICD_IROUTER, SPIs only
    unsigned counted_for = kVgicNoVcpu;  // the vCPU whose work count includes it (refresh())
    // While the interrupt sits in a list register, that register holds its state; the
    // model keeps what it put there so that GICD/GICR reads still see it, and what the
    // distributor cleared meanwhile so that fold() does not bring it back.
    bool in_lr = false;
    bool lr_pending = false, lr_active = false, lr_latch = false;
    bool drop_lr_pending = false, drop_lr_active = false;
  };
  struct Candidate {
    Irq* irq = nullptr;
    std::uint32_t intid = 0;
    std::uint32_t key = 0;
  };

  class Guard {
   public:
    explicit Guard(std::uint32_t& lock) noexcept : lock_(lock) {
      while (__atomic_exchange_n(&lock_, 1u, __ATOMIC_ACQUIRE) != 0) {
      }
    }
    ~Guard() { __atomic_store_n(&lock_, 0u, __ATOMIC_RELEASE); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    std::uint32_t& lock_;
  };

  static constexpr bool aligned(std::uint64_t address, unsigned size) noexcept {
    return (size == 1 || size == 2 || size == 4 || size == 8) && (address & (size - 1)) == 0;
  }
  static constexpr bool pending(const Irq& irq) noexcept { return irq.latch || (!irq.edge && irq.line); }
  // Pending or active as a GICD/GICR read reports it, list register copy included.
  static constexpr bool visible_pending(const Irq& irq) noexcept {
    return pending(irq) || (irq.in_lr && irq.lr_pending && !irq.drop_lr_pending);
  }
  static constexpr bool visible_active(const Irq& irq) noexcept {
    return irq.active || (irq.in_lr && irq.lr_active && !irq.drop_lr_active);
  }
  static constexpr std::uint32_t key(const Irq& irq, std::uint32_t intid) noexcept {
    return (irq.active && irq.hw ? 0u : 1u << 24) | (std::uint32_t{irq.priority} << 16) |
           (irq.active ? 0u : 1u << 12) | intid;
  }

  // Ends the highest-priority active interrupt of `vcpu` that is in no list register (see
  // fold()); false if there is none.
  bool deactivate_outside_list_registers(unsigned vcpu) noexcept {
    Irq* best = nullptr;
    std::uint32_t best_intid = 0;
    const auto consider = [&](Irq& irq, std::uint32_t intid) {
      if (!irq.active || irq.in_lr || irq.counted_for != vcpu) return;
      if (best == nullptr || irq.priority < best->priority) {
        best = &irq;
        best_intid = intid;
      }
    };
    for (unsigned i = 0; i < kVgicPrivateInterrupts; ++i) consider(private_[vcpu][i], i);
    for (unsigned i = 0; i < config_.spis; ++i) consider(spi_[i], kVgicPrivateInterrupts + i);
    if (best == nullptr) return false;
    best->active = false;
    refresh(*best, vcpu, best_intid);
    return true;
  }
  bool group_enabled(const Irq& irq) const noexcept {
    return (ctlr_ & (irq.group1 ? gicd::kCtlrEnableGrp1 : gicd::kCtlrEnableGrp0)) != 0;
  }

  Irq* lookup(unsigned vcpu, std::uint32_t intid) noexcept {
    if (intid < kVgicPrivateInterrupts) return vcpu < config_.vcpus ? &private_[vcpu][intid] : nullptr;
    if (intid - kVgicPrivateInterrupts < config_.spis) return &spi_[intid - kVgicPrivateInterrupts];
    return nullptr;
  }

  // The vCPU an SPI goes to (IHI 0069 4.6 "Affinity routing"): IRM == 0, the vCPU whose
  // affinity IROUTER names (none: not forwarded); IRM == 1, any participating PE, here the
  // first whose redistributor is awake (GICR_WAKER.ProcessorSleep == 0).
  unsigned spi_target(const Irq& irq) const noexcept {
    if (irq.route & gicd::kIrouterIrm) {
      for (unsigned n = 0; n < config_.vcpus; ++n)
        if ((waker_[n] & gicr::kWakerProcessorSleep) == 0) return n;
      return kVgicNoVcpu;
    }
    const std::uint64_t affinity = (irq.route & 0xff'ffff) | ((irq.route >> 32 & 0xff) << 32);
    for (unsigned n = 0; n < config_.vcpus; ++n)
      if (vgic_vcpu_affinity(n) == affinity) return n;
    return kVgicNoVcpu;
  }

  bool deliverable(const Irq& irq) const noexcept {
    // An interrupt in a list register counts again once it has new state (an edge raised
    // meanwhile), so that the exit path folds it back and delivers that edge too.
    return (!irq.in_lr || irq.latch) && ((pending(irq) && irq.enabled && group_enabled(irq)) || irq.active);
  }
  // The work mask, kept incrementally: each interrupt that flush() would take counts for
  // the vCPU it goes to (Irq::counted_for), work_ bit n is "vCPU n's count is not zero".
  // Every change to one interrupt's state ends in refresh() of that interrupt, a few loads
  // and compares; only a change that moves many at once (GICD_CTLR's group enables, a
  // GICR_WAKER write that reroutes IRM = 1 SPIs) rescans them all (recount()).
  void refresh(Irq& irq, unsigned vcpu, std::uint32_t intid) noexcept {
    unsigned target = kVgicNoVcpu;
    if (deliverable(irq)) target = intid < kVgicPrivateInterrupts ? vcpu : spi_target(irq);
    if (target == irq.counted_for) return;
    std::uint32_t work = work_;
    if (irq.counted_for != kVgicNoVcpu && --deliverable_[irq.counted_for] == 0)
      work &= ~(1u << irq.counted_for);
    if (target != kVgicNoVcpu && deliverable_[target]++ == 0) work |= 1u << target;
    irq.counted_for = target;
    __atomic_store_n(&work_, work, __ATOMIC_RELAXED);
  }
  void recount() noexcept {
    for (unsigned n = 0; n < config_.vcpus; ++n)
      for (unsigned i = 0; i < kVgicPrivateInterrupts; ++i) refresh(private_[n][i], n, i);
    for (unsigned i = 0; i < config_.spis; ++i) refresh(spi_[i], kVgicNoVcpu, kVgicPrivateInterrupts + i);
  }
  std::uint32_t kicks(std::uint32_t before) const noexcept { return work_ & ~before; }

  // One bit per interrupt registers (IGROUPR, IS/ICENABLER, IS/ICPENDR, IS/ICACTIVER):
  // register n covers INTIDs 32n..32n+31. They sit in seven consecutive blocks of 0x80
  // bytes, IGROUPR at 0x080 to ICACTIVER at 0x380, in the order of these enumerators, in the
  // distributor (IHI 0069 Table 12-25) and in the redistributor's SGI frame (Table 12-29)
  // alike, where each block holds register 0 only: so one subtraction finds the block and a
  // shift its field, without a test per register (measured, exit_bench -icount shift=0:
  // a GICD_IIDR read, behind these tests before, 258 -> 238; a GICD_ICENABLER1 write 287 -> 259).
  enum class BitField {
    group,
    set_enable,
    clear_enable,
    set_pending,
    clear_pending,
    set_active,
    clear_active
  };
  static constexpr std::uint64_t kBitBlockSize = 0x80;
  static constexpr unsigned kBitBlocks = static_cast<unsigned>(BitField::clear_active) + 1;
  static_assert(
      [] {
        const std::uint64_t distributor[] = {gicd::IGROUPR, gicd::ISENABLER, gicd::ICENABLER, gicd::ISPENDR,
                                             gicd::ICPENDR, gicd::ISACTIVER, gicd::ICACTIVER};
        const std::uint64_t sgi_frame[] = {gicr::IGROUPR0, gicr::ISENABLER0, gicr::ICENABLER0, gicr::ISPENDR0,
                                           gicr::ICPENDR0, gicr::ISACTIVER0, gicr::ICACTIVER0};
        for (unsigned n = 0; n < kBitBlocks; ++n)
          if (distributor[n] != gicd::IGROUPR + n * kBitBlockSize || sgi_frame[n] != distributor[n])
            return false;
        return true;
      }(),
      "the bit-register blocks are consecutive and in BitField's order");
  static constexpr bool in_bit_registers(std::uint64_t offset) noexcept {
    return offset - gicd::IGROUPR < kBitBlocks * kBitBlockSize;
  }
  // The field of the block `offset` is in, and the register's number in its block.
  static constexpr BitField bit_field_at(std::uint64_t offset) noexcept {
    return static_cast<BitField>((offset - gicd::IGROUPR) / kBitBlockSize);
  }
  static constexpr std::uint32_t bit_register_at(std::uint64_t offset) noexcept {
    return static_cast<std::uint32_t>(offset % kBitBlockSize / 4);
  }

  // The interrupts INTID first.. that exist, at most `want` (first is a multiple of 32 or
  // of the register's span, so a block never straddles the private/SPI boundary).
  unsigned span(unsigned vcpu, std::uint32_t first, unsigned want, Irq*& irqs) noexcept {
    unsigned count = 0;
    if (first < kVgicPrivateInterrupts) {
      if (vcpu >= config_.vcpus) return 0;
      irqs = &private_[vcpu][first];
      count = kVgicPrivateInterrupts - first;
    } else {
      const std::uint32_t spi = first - kVgicPrivateInterrupts;
      if (spi >= config_.spis) return 0;
      irqs = &spi_[spi];
      count = config_.spis - spi;
    }
    return count < want ? count : want;
  }

  std::uint32_t bit_read(unsigned vcpu, std::uint32_t first, BitField field) noexcept {
    Irq* irqs = nullptr;
    const unsigned count = span(vcpu, first, 32, irqs);
    std::uint32_t value = 0;
    const auto collect = [&](auto bit) {
      for (unsigned i = 0; i < count; ++i) value |= std::uint32_t{bit(irqs[i])} << i;
    };
    // The group and enable bits, each one byte of an Irq: a whole register of 32, the usual
    // case, unrolls to a load and an OR per interrupt (measured, exit_bench -icount shift=0:
    // a GICD_ISENABLER1 read 431 -> 325, for about 700 bytes of code). Pending and active,
    // which look at the list register copy too, stay a loop.
    const auto collect_byte = [&](auto bit) {
      if (count != 32) return collect(bit);
#pragma clang loop unroll(full)
      for (unsigned i = 0; i < 32; ++i) value |= std::uint32_t{bit(irqs[i])} << i;
    };
    switch (field) {
      case BitField::group:
        collect_byte([](const Irq& irq) { return irq.group1; });
        break;
      case BitField::set_enable:
      case BitField::clear_enable:
        collect_byte([](const Irq& irq) { return irq.enabled; });
        break;
      case BitField::set_pending:
      case BitField::clear_pending:
        collect([](const Irq& irq) { return visible_pending(irq); });
        break;
      case BitField::set_active:
      case BitField::clear_active:
        collect([](const Irq& irq) { return visible_active(irq); });
        break;
    }
    return value;
  }
  void bit_write(unsigned vcpu, std::uint32_t first, BitField field, std::uint32_t value) noexcept {
    Irq* irqs = nullptr;
    const unsigned count = span(vcpu, first, 32, irqs);
    if (field == BitField::group) {
      for (unsigned i = 0; i < count; ++i) {
        const bool one = ((value >> i) & 1) != 0;
        if (irqs[i].group1 == one) continue;
        irqs[i].group1 = one;
        refresh(irqs[i], vcpu, first + i);
      }
      return;
    }
    if (count < 32) value &= (1u << count) - 1;
    // The set/clear registers ignore zeros (12.9.x): only the ones are visited.
    for (; value != 0; value &= value - 1) {
      const unsigned i = static_cast<unsigned>(__builtin_ctz(value));
      Irq& irq = irqs[i];
      switch (field) {
        case BitField::group:
          break;
        case BitField::set_enable:
          irq.enabled = true;
          break;
        case BitField::clear_enable:
          irq.enabled = false;
          break;
        case BitField::set_pending:
          irq.latch = true;
          break;
        case BitField::clear_pending:
          // A level interrupt whose line is high stays pending (IHI 0069 12.9.5).
          irq.latch = false;
          if (irq.in_lr) irq.drop_lr_pending = true;
          break;
        case BitField::set_active:
          irq.active = true;
          break;
        case BitField::clear_active:
          irq.active = false;
          if (irq.in_lr) irq.drop_lr_active = true;
          break;
      }
      refresh(irq, vcpu, first + i);
    }
  }

  // IPRIORITYR: one byte per interrupt, byte or word accessible (12.9.18).
  std::uint64_t priority_read(unsigned vcpu, std::uint32_t first, unsigned size) noexcept {
    std::uint64_t value = 0;
    for (unsigned i = 0; i < size; ++i)
      if (const Irq* irq = lookup(vcpu, first + i)) value |= std::uint64_t{irq->priority} << (8 * i);
    return value;
  }
  void priority_write(unsigned vcpu, std::uint32_t first, unsigned size, std::uint64_t value) noexcept {
    for (unsigned i = 0; i < size; ++i)
      if (Irq* irq = lookup(vcpu, first + i)) irq->priority = static_cast<std::uint8_t>(value >> (8 * i));
  }

  // ICFGR: two bits per interrupt, Int_config in the upper one (1 = edge) (12.9.8).
  std::uint32_t config_read(unsigned vcpu, std::uint32_t first) noexcept {
    std::uint32_t value = 0;
    for (unsigned i = 0; i < 16; ++i)
      if (const Irq* irq = lookup(vcpu, first + i); irq && irq->edge) value |= 2u << (2 * i);
    return value;
  }
  void config_write(unsigned vcpu, std::uint32_t first, std::uint32_t value) noexcept {
    for (unsigned i = 0; i < 16; ++i)
      if (Irq* irq = lookup(vcpu, first + i)) {
        irq->edge = ((value >> (2 * i + 1)) & 1) != 0;  // a level line's pending state may change
        refresh(*irq, vcpu, first + i);
      }
  }

  static constexpr bool in_block(std::uint64_t offset, std::uint64_t base, std::uint64_t size) noexcept {
    return offset - base < size;
  }

  std::uint64_t distributor_read(unsigned vcpu, std::uint64_t offset, unsigned size) noexcept {
    using namespace gicd;
    // IPRIORITYR: byte and word; SPIs only, the private ones live in the redistributor
    // (with ARE == 1, GICD_IPRIORITYR<0-7> are RAZ/WI, 12.9.18).
    if (in_block(offset, IPRIORITYR, 0x400)) {
      const std::uint32_t first = static_cast<std::uint32_t>(offset - IPRIORITYR);
      if ((size != 1 && size != 4) || first < 32) return 0;
      return priority_read(vcpu, first, size);
    }
    // IROUTER<n>: 64-bit, or 32-bit halves (12.9.22); n < 32 reserved.
    if (in_block(offset, IROUTER + 8ull * 32, 8ull * config_.spis)) {
      if (size != 8 && size != 4) return 0;
      const Irq& irq = spi_[(offset - IROUTER) / 8 - 32];
      return size == 8 ? irq.route : (irq.route >> (8 * (offset & 4))) & 0xffff'ffff;
    }
    if (size != 4) return 0;  // everything else is a 32-bit register
    if (in_bit_registers(offset)) {
      const std::uint32_t n = bit_register_at(offset);
      return n == 0 ? 0 : bit_read(vcpu, 32 * n, bit_field_at(offset));  // 0: private, RAZ/WI with ARE
    }
    if (in_block(offset, ICFGR, 0x100)) {
      const std::uint32_t n = static_cast<std::uint32_t>((offset - ICFGR) / 4);
      return n < 2 ? 0 : config_read(vcpu, 16 * n);
    }
    switch (offset) {
      case CTLR:
        return ctlr_ | kCtlrAre | kCtlrDs;  // RWP [31] 0: writes take effect at once
      case TYPER:
        // ITLinesNumber [4:0] = SPIs/32 (INTIDs up to 32(N+1)-1), CPUNumber [7:5] (ignored
        // with ARE, reported as KVM does), IDbits [23:19] = 9 (10 INTID bits), No1N [25] =
        // 1 (IRM == 1 goes to one chosen vCPU), LPIS [17] = 0, MBIS [16] = 0, RSS [26] = 0.
        return (config_.spis / 32) | ((config_.vcpus - 1) << 5) | (9u << 19) | (1u << 25);
      case IIDR:
        return kVgicIidr;
      case PIDR2:
        return kVgicPidr2;
      default:
        return 0;  // TYPER2, STATUSR, IGRPMODR, NSACR, SGIR, ITARGETSR, ...: RAZ/WI
    }
  }

  void distributor_write(std::uint64_t offset, unsigned size, std::uint64_t value) noexcept {
    using namespace gicd;
    constexpr unsigned kAny = 0;  // the distributor's SPIs belong to no particular vCPU
    if (in_block(offset, IPRIORITYR, 0x400)) {
      const std::uint32_t first = static_cast<std::uint32_t>(offset - IPRIORITYR);
      if ((size == 1 || size == 4) && first >= 32) priority_write(kAny, first, size, value);
      return;
    }
    if (in_block(offset, IROUTER + 8ull * 32, 8ull * config_.spis)) {
      Irq& irq = spi_[(offset - IROUTER) / 8 - 32];
      if (size == 8)
        irq.route = value & kIrouterMask;
      else if (size == 4) {
        const unsigned shift = 8 * static_cast<unsigned>(offset & 4);
        irq.route =
            ((irq.route & ~(0xffff'ffffull << shift)) | ((value & 0xffff'ffff) << shift)) & kIrouterMask;
      }
      refresh(irq, kAny, static_cast<std::uint32_t>((offset - IROUTER) / 8));
      return;
    }
    if (size != 4) return;
    const std::uint32_t word = static_cast<std::uint32_t>(value);
    if (in_bit_registers(offset)) {
      const std::uint32_t n = bit_register_at(offset);
      if (n != 0) bit_write(kAny, 32 * n, bit_field_at(offset), word);  // 0: private, RAZ/WI
    } else if (in_block(offset, ICFGR, 0x100)) {
      const std::uint32_t n = static_cast<std::uint32_t>((offset - ICFGR) / 4);
      if (n >= 2) config_write(kAny, 16 * n, word);
    } else if (offset == CTLR) {
      ctlr_ = word & (kCtlrEnableGrp0 | kCtlrEnableGrp1);
      recount();  // the group enables decide for every interrupt
    }
  }

  std::uint64_t redistributor_read(unsigned vcpu, std::uint64_t offset, unsigned size) noexcept {
    if (offset >= kGicrFrameSize) return sgi_frame_read(vcpu, offset - kGicrFrameSize, size);
    if (offset == gicr::TYPER && size == 8) return redistributor_typer(vcpu);
    if (size != 4) {
      if (offset == gicr::TYPER + 4 && size == 4) return redistributor_typer(vcpu) >> 32;
      return 0;
    }
    switch (offset) {
      case gicr::TYPER:
        return redistributor_typer(vcpu) & 0xffff'ffff;
      case gicr::TYPER + 4:
        return redistributor_typer(vcpu) >> 32;
      case gicr::IIDR:
        return kVgicIidr;
      case gicr::WAKER:
        return waker_[vcpu];
      case gicr::PIDR2:
        return kVgicPidr2;
      default:
        return 0;  // CTLR (no LPIs: EnableLPIs RAZ/WI, RWP 0), STATUSR, PROPBASER, ...
    }
  }
  std::uint64_t redistributor_typer(unsigned vcpu) const noexcept {
    std::uint64_t value = (std::uint64_t{vcpu} << gicr::kTyperProcessorNumberShift) |
                          (vgic_vcpu_affinity(vcpu) << gicr::kTyperAffinityShift);
    if (vcpu + 1 == config_.vcpus) value |= gicr::kTyperLast;
    return value;
  }
  void redistributor_write(unsigned vcpu, std::uint64_t offset, unsigned size, std::uint64_t value) noexcept {
    if (offset >= kGicrFrameSize) {
      sgi_frame_write(vcpu, offset - kGicrFrameSize, size, value);
      return;
    }
    // GICR_WAKER: ChildrenAsleep follows ProcessorSleep at once (the virtual redistributor
    // has nothing to quiesce); the other bits are RES0 or IMPLEMENTATION DEFINED, WI here.
    if (offset == gicr::WAKER && size == 4) {
      const std::uint32_t waker = (value & gicr::kWakerProcessorSleep) != 0
                                      ? gicr::kWakerProcessorSleep | gicr::kWakerChildrenAsleep
                                      : 0;
      if (waker == waker_[vcpu]) return;
      waker_[vcpu] = waker;
      recount();  // IRM == 1 SPIs may now route here, or no longer
    }
  }

  std::uint64_t sgi_frame_read(unsigned vcpu, std::uint64_t offset, unsigned size) noexcept {
    using namespace gicr;
    if (in_block(offset, IPRIORITYR0, 32))
      return (size == 1 || size == 4) ? priority_read(vcpu, offset - IPRIORITYR0, size) : 0;
    if (size != 4) return 0;
    if (in_bit_registers(offset))  // register 0 of each block only; the rest is reserved, RAZ/WI
      return bit_register_at(offset) == 0 ? bit_read(vcpu, 0, bit_field_at(offset)) : 0;
    switch (offset) {
      case ICFGR0:
        return 0xaaaa'aaaa;  // SGIs are always edge-triggered (12.11.9)
      case ICFGR1:
        return config_read(vcpu, 16);
      default:
        return 0;  // IGRPMODR0, NSACR, ...: RAZ/WI
    }
  }
  void sgi_frame_write(unsigned vcpu, std::uint64_t offset, unsigned size, std::uint64_t value) noexcept {
    using namespace gicr;
    if (in_block(offset, IPRIORITYR0, 32)) {
      if (size == 1 || size == 4) priority_write(vcpu, offset - IPRIORITYR0, size, value);
      return;
    }
    if (size != 4) return;
    const std::uint32_t word = static_cast<std::uint32_t>(value);
    if (in_bit_registers(offset)) {
      if (bit_register_at(offset) == 0) bit_write(vcpu, 0, bit_field_at(offset), word);
      return;
    }
    switch (offset) {
      case ICFGR1:
        config_write(vcpu, 16, word);
        break;  // PPIs: configurable here
      default:
        break;  // ICFGR0 RO, the rest RAZ/WI
    }
  }

  VgicConfig config_;
  std::uint32_t lock_ = 0;
  std::uint32_t work_ = 0;  // bit n: vCPU n has something flush() would put in a list register
  std::uint16_t deliverable_[kVgicMaxVcpus] = {};  // per vCPU: interrupts counted for it
  std::uint32_t ctlr_ = 0;
  std::uint32_t waker_[kVgicMaxVcpus] = {};
  Irq private_[kVgicMaxVcpus][kVgicPrivateInterrupts] = {};
  Irq spi_[kVgicMaxSpis] = {};
};

}  // namespace arm
