// arm.vcpu: an AArch64 virtual CPU that runs guest code at EL1.
//
//   arm::VCpu vcpu{config};
//   vcpu.load();
//   for (arm::Exit& exit : vcpu.run()) {
//     if (auto* call = exit.get_if<arm::Hypercall>()) call->complete(42);
//   }
//
// run() is a coroutine: each iteration enters the guest through the world switch
// (asm/world_switch.S), decodes the exit with arm.trap and yields it as a typed event.
// Advancing the loop applies the hypervisor's answer and re-enters the guest. Inside a
// hypervisor's own coroutine, `arm::Exit& exit = co_await vcpu.next_exit();` does the same.
//
// The life of one exit, in the order the code runs:
//   1. asm/vectors.S        the lower-EL vector saves x0/x1 and jumps with an ARM_EXIT_* code
//   2. asm/world_switch.S   arm_guest_exit saves the guest's x0-x30, ELR, SPSR into
//                           GuestRegisters, restores the host's, returns the code
//   3. vcpu.cppm            run_until_exit() -> classify(): ESR_EL2 (FAR/HPFAR if needed)
//   4. trap/decode.cppm     decode_into() builds the event in place in current_ (the Exit)
//   5. vcpu.cppm            answered_internally(): arm.smc calls and the registers the vCPU
//                           answers itself re-enter at once, with no event
//   6. runtime/generator.cppm  run() yields the Exit& to the hypervisor's loop
//   7. the hypervisor       event.complete(...), reject() or retry(): its Reply
//   8. trap/rules.cppm      finish_exit() (the frequent completions inline) or
//                           complete_exit() -> finish(): the reply, or the event's row of
//                           kExitRule; trap/completion.cppm writes registers and steps the
//                           PC, trap/inject.cppm builds an exception for the guest's EL1
//   9. back to 2 through arm_enter_guest
module;
#include <arm/runtime/std_support.h>
export module arm.vcpu;
export import arm.runtime;
export import arm.trap;
export import arm.smc;
export import arm.percpu;
export import arm.stage2;
export import arm.gic;
export import arm.timer;
export import :context;
export import :exits;
export import :features;

// asm/world_switch.S: runs the guest until it exits; returns an ARM_EXIT_* code. The host
// build has no guest: unit tests link a scripted definition.
extern "C" std::uint64_t arm_enter_guest(arm::GuestRegisters* guest);

namespace arm {
// Runs the guest until it exits (arm_enter_guest). On AArch64 the assembly preserves only
// x19, x20, x29, x30 and SP (ARM_HOST_FRAME_* says why those two), and this call names
// every other general register clobbered: the guest's values are in them when it returns.
// So the compiler saves the host's callee-saved registers in the prologue of the function
// that enters the guest, only those it uses, and nothing is saved twice (measured,
// exit_bench -icount shift=0: an HVC round trip 177 -> 173). FP/SIMD registers need no
// mention: EL2 code is compiled -mgeneral-regs-only.
inline std::uint64_t enter_guest(GuestRegisters* guest) noexcept {
#if defined(__aarch64__)
  register std::uint64_t x0 asm("x0") = reinterpret_cast<std::uint64_t>(guest);
  asm volatile("bl arm_enter_guest"
               : "+r"(x0)
               :
               : "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
                 "x15", "x16", "x17", "x18", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x30",
                 "cc", "memory");
  return x0;
#else
  return arm_enter_guest(guest);
#endif
}
}  // namespace arm

export namespace arm {

// PSTATE for entry at EL1 using SP_EL1 with D, A, I and F masked (Arm ARM C5.2.18 SPSR_EL2:
// M[3:0] = 0b0101 is EL1h), as the arm64 boot protocol requires.
inline constexpr std::uint64_t kPstateEl1h = 0b0101;
inline constexpr std::uint64_t kPstateDaifMasked = 0xfull << 6;

// SCTLR_EL1 at guest reset: its RES1 bits, MMU and caches off (Arm ARM D19.2 SCTLR_EL1).
inline constexpr std::uint64_t kSctlrEl1Res1 =
    (1ull << 29) | (1ull << 28) | (1ull << 23) | (1ull << 22) | (1ull << 20) | (1ull << 11);

// SCTLR_EL1.M [0] (stage 1 translation on) and C [2] (data accesses cacheable) (Arm ARM,
// SCTLR_EL1): the guest's data caches are on when both are set.
namespace sctlr {
inline constexpr std::uint64_t kM = 1ull << 0;
inline constexpr std::uint64_t kC = 1ull << 2;
}  // namespace sctlr

// The VM's memory as EL2 addresses it: [el2_address, el2_address + size), mapped at EL2 as
// Normal memory (the EL2 runtime's identity map covers RAM, runtime/el2/mmu.c). The vCPU
// cleans and invalidates it by VA for the guest's set/way cache maintenance.
struct GuestMemoryRange {
  std::uint64_t el2_address = 0;
  std::uint64_t size = 0;
};

// Whether a guest has Performance Monitors (VCpuConfig::pmu).
enum class GuestPmu : std::uint8_t {
  // No PMU: ID_AA64DFR0_EL1.PMUVer reads 0 and every PMU register access traps
  // (MDCR_EL2.TPM, TPMCR) to the hypervisor, whose default is an undefined instruction.
  None,
  // The PMU partitioned with MDCR_EL2.HPMN: the guest owns the cycle counter and event
  // counters [0, pmu_counters()), lent directly while it is loaded (see VCpu::load()).
  Partitioned,
};

// PPI 7, INTID 23: the PMU overflow interrupt of the QEMU virt machine and of the Arm Base
// System Architecture's recommended PPI map; the same INTID for the guest (Linux's
// "arm,armv8-pmuv3" node names it).
inline constexpr std::uint32_t kPmuOverflowIntid = 23;

struct VCpuConfig {
  std::uint64_t mpidr = 0;     // what the guest reads from MPIDR_EL1 (VMPIDR_EL2)
  std::uint64_t entry = 0;     // guest PC at the first entry
  std::uint64_t argument = 0;  // guest x0 at the first entry (e.g. a DTB address)
  std::uint64_t stack = 0;     // guest SP_EL1 at the first entry (0: the guest sets it)
  // Stage 2: VTTBR_EL2 of the VM (Stage2Table::vttbr()). 0 runs the guest without stage-2
  // translation, on physical addresses (tests of EL1 code only).
  std::uint64_t stage2_vttbr = 0;
  bool trap_wfi = true;   // WFI exits (the hypervisor can run something else)
  bool trap_wfe = false;  // WFE exits (spinlocks: usually left to the hardware)
  bool trap_smc = true;   // SMC exits instead of reaching the firmware
  // Physical IRQs, FIQs and SErrors arriving while the guest runs exit to the hypervisor
  // (HCR_EL2.IMO/FMO/AMO), which also enables the virtual ones. Off: they are taken by
  // the guest's own EL1 vectors and the hypervisor cannot inject interrupts.
  bool route_interrupts_to_el2 = true;
  // Give the guest the EL1 physical timer (CNTP_*) as well as the virtual one
  // (CNTHCTL_EL2.EL1PCEN). Its registers are then neither trapped nor switched by
  // load()/put(): for a single guest on a CPU only. Overrides emulate_physical_timer.
  bool physical_timer_passthrough = false;
  // Emulate the EL1 physical timer per vCPU (see VCpu::answer_physical_timer_write()): its
  // registers trap (CNTHCTL_EL2.EL1PCEN = 0) and are answered inside run(); a change of its
  // output level comes out of run() as a TimerLevel event for INTID kPhysicalTimerIntid, and
  // its expiry while loaded as the physical PPI kPhysicalTimerIntid (an ExternalInterrupt),
  // which the hypervisor hands to sample_timer_lines(). Off (and no passthrough): CNTP_*
  // accesses arrive as SysRegRead/SysRegWrite exits.
  bool emulate_physical_timer = true;
  // Trap the guest's ID register reads (HCR_EL2.TID3) and answer them inside run() with
  // the features whose state the vCPU does not switch removed (SVE, SME, MTE, AMU, MPAM,
  // SPE, TRBE; see features.cppm). Off: the guest sees the hardware's ID registers.
  bool hide_unswitched_features = true;
  // Trap the OS lock, the OS double lock and DBGPRCR_EL1 (MDCR_EL2.TDOSA, set at load()) and
  // answer them inside run() from this vCPU's DebugState: a guest that locks its OS lock
  // changes only its own OSLSR_EL1.OSLK, and never sees another's. The lock's effect on the
  // guest's own debug exceptions is not emulated: they follow the hardware's OS lock, which
  // stays as the host left it. Off: the guest uses the hardware's registers, shared with every
  // vCPU and the host on that CPU.
  bool emulate_os_lock = true;
  // Move the breakpoints and watchpoints (DebugState) onto the CPU at the guest's first
  // debug register write after load() (or at load() when its MDSCR_EL1.MDE is set) instead
  // of at every load(), as KVM does (the rule, and why it is safe:
  // VCpu::switch_in_debug_registers()). Off: load() and put() move them every time.
  bool switch_debug_registers_on_first_use = true;
  // Use the GICv3 list registers for virtual interrupts (needs GIC system registers).
  bool virtual_gic = true;
  // How the vCPU treats SMCCC calls (HVC #0, SMC #0): arm.smc answers architecture and
  // PSCI queries inside run() without an exit reaching the hypervisor, yields PSCI
  // decisions (CPU_ON, SYSTEM_OFF, ...) as typed events, forwards allow-listed SMCs to the
  // firmware and answers the rest NOT_SUPPORTED. Null: every HVC and SMC reaches the
  // hypervisor as a Hypercall or SecureMonitorCall. The policy must outlive the vCPU.
  const smccc::GuestCallPolicy* calls = nullptr;
  // The VM's memory (all of it, every vCPU's), for the guest's data cache maintenance by
  // set/way (DC ISW, CSW, CISW), which HCR_EL2.TSW always traps: by set/way it would act on
  // this CPU's physical caches, shared with the hypervisor and other VMs, and miss the
  // guest's lines in other CPUs' and system caches. With this table the vCPU answers them
  // inside run() as KVM does (answer_set_way_maintenance()): a clean and invalidate by VA of
  // all of it, never a discard. Empty: they reach the hypervisor as SysRegWrite exits
  // (encoding SysReg::DC_ISW, DC_CSW, DC_CISW; set_way_maintenance() decodes them), whose
  // default completes them as no-ops. The table must outlive the vCPU.
  smccc::Table<GuestMemoryRange> guest_memory;
  // Performance Monitors for the guest (GuestPmu). A guest PMU needs FEAT_PMUv3
  // (ID_AA64DFR0_EL1.PMUVer 1..8) and at least one event counter; without them it is None.
  // Without hide_unswitched_features the guest reads the hardware's PMUVer either way.
  GuestPmu pmu = GuestPmu::None;
  // How many event counters a guest PMU gets (MDCR_EL2.HPMN), at most PMCR_EL0.N and at
  // least 1 (HPMN 0 is CONSTRAINED UNPREDICTABLE without FEAT_HPMN0). 0: all but one, so the
  // hypervisor keeps one for itself (all of them on a CPU with only one).
  unsigned pmu_event_counters = 0;
  // What the CPU has (PerCpu::features(), probed once per CPU), which decides what load()
  // and put() may touch. Null: the vCPU probes the CPU it is constructed on (arm::probe()).
  // Must outlive the constructor only.
  const HardwareFeatures* cpu = nullptr;
};

// The groups of system registers (RegisterGroups) in which a vCPU answers trapped accesses
// itself (VCpu::answer_system_register_internally()), by what it emulates: a superset, so
// that every access outside them goes to the hypervisor after one bit test, and every one
// inside is sorted out exactly. tests/unit/vcpu_test.cpp walks the whole encoding space to
// check that no register answered here falls outside.
struct AnsweredRegisterGroups {
  RegisterGroups reads;
  RegisterGroups writes;
};
struct AnsweredRegisterChoices {
  bool physical_timer = false;  // the emulated EL1 physical timer (CNTP_*)
  bool identification = false;  // ID registers filtered (TID3), ID group 1 (TID1)
  bool absent_pmu = false;      // PMU registers UNDEFINED (no guest PMU)
  bool lor = false;             // LORegion registers UNDEFINED (FEAT_LOR, TLOR)
  bool sme_untrapped = false;   // TPIDR2_EL0, SMPRI_EL1 UNDEFINED (SME hidden, FEAT_FGT)
};
constexpr AnsweredRegisterGroups answered_register_groups(const AnsweredRegisterChoices& choices) noexcept {
  constexpr unsigned kAny = RegisterGroups::kAnyOp1;
  AnsweredRegisterGroups groups;
  RegisterGroups* const both[] = {&groups.reads, &groups.writes};
  for (RegisterGroups* set : both) {
    for (unsigned crn = 0; crn < 16; ++crn) set->add(2, kAny, crn);                // the debug registers
    set->add(3, 0, 1);                                                             // ACTLR_EL1, CPACR_EL1
    if (choices.physical_timer) set->add(3, 3, 14, RegisterGroups::CrmHalf::Low);  // CNTP_*_EL0
    if (choices.sme_untrapped) set->add(3, 3, 13, RegisterGroups::CrmHalf::Low);   // TPIDR2_EL0
    // SMPRI_EL1 is in the (3, 0, 1) group below.
    if (choices.absent_pmu) {
      set->add(3, 0, 9, RegisterGroups::CrmHalf::High);   // PMINTENSET_EL1, ...
      set->add(3, 3, 9, RegisterGroups::CrmHalf::High);   // PMCR_EL0, ...
      set->add(3, 3, 14, RegisterGroups::CrmHalf::High);  // PMEVCNTR<n>_EL0, PMEVTYPER<n>_EL0
    }
  }
  if (choices.identification) {
    groups.reads.add(3, 0, 0);  // the feature ID registers, REVIDR_EL1, SMIDR_EL1
    groups.reads.add(3, 1, 0);  // AIDR_EL1 (ID group 1)
  }
  groups.writes.add(1, 0, 7);      // DC ISW, CSW, CISW (HCR_EL2.TSW)
  groups.writes.add(3, kAny, 11);  // IMPLEMENTATION DEFINED (HCR_EL2.TIDCP)
  groups.writes.add(3, kAny, 15);
  constexpr unsigned kTvmCrns[] = {1, 2, 5, 6, 10, 13};
  for (unsigned crn : kTvmCrns) groups.writes.add(3, 0, crn);  // HCR_EL2.TVM
  if (choices.lor) groups.writes.add(3, 0, 10);                // LORegions
  return groups;
}

class VCpu {
 public:
  explicit VCpu(const VCpuConfig& config) noexcept : config_(config) {
    regs_.pc = config.entry;
    regs_.pstate = kPstateEl1h | kPstateDaifMasked;
    regs_.x[0] = config.argument;
    el1_.at<SysReg::SCTLR_EL1>() = kSctlrEl1Res1;
    el1_.at<SysReg::ACTLR_EL1>() = read_sysreg<SysReg::ACTLR_EL1>();  // the host's: see TACR
    el1_.at<SysReg::SP_EL1>() = config.stack;
    el1_.at<SysReg::VMPIDR_EL2>() = config.mpidr;
    // What this CPU has decides what load()/put() may touch: ICH_* registers exist only
    // with the GIC system register interface, FP/SIMD, PAuth, breakpoint and PMU registers
    // only with those features (accessing them otherwise is UNDEFINED at EL2).
    const HardwareFeatures cpu = config.cpu != nullptr ? *config.cpu : probe();
    el1_.at<SysReg::VPIDR_EL2>() = cpu.midr;
    pointer_auth_ = cpu.pointer_auth;
    lor_ = cpu.lor;
    hcr_ = guest_hcr(cpu, {.route_interrupts_to_el2 = config.route_interrupts_to_el2,
                           .trap_wfi = config.trap_wfi,
                           .trap_wfe = config.trap_wfe,
                           .trap_smc = config.trap_smc,
                           .stage2 = config.stage2_vttbr != 0,
                           .trap_id_registers = config.hide_unswitched_features});
    // SVE and SME hidden on a CPU that has them (features.cppm, "Hiding SVE and SME"): the
    // hardware's CPACR_EL1 keeps ZEN/SMEN at "no EL1 trap", the guest's reset value 0 is
    // what it reads, and SMIDR_EL1 traps with the rest of ID group 1.
    if (config.hide_unswitched_features) hidden_cpacr_ = hidden_cpacr_controls(cpu.sve, cpu.sme);
    if (config.hide_unswitched_features && cpu.sme) hcr_ |= hcr::kTid1;
    cpu_has_sve_or_sme_ = cpu.sve || cpu.sme;
    // TPIDR2_EL0 and SMPRI_EL1 (context.cppm, SmeUntrappedRegisters): trapped where FGT can,
    // else switched.
    sme_trapped_ = cpu.sme && cpu.fine_grained_traps && config.hide_unswitched_features;
    sme_ = cpu.sme && !sme_trapped_;
    el1_.at<SysReg::CPACR_EL1>() = hardware_cpacr(0, hidden_cpacr_);
    virtual_gic_ = config.virtual_gic && config.route_interrupts_to_el2 && cpu.gic_system_registers;
    if (virtual_gic_) list_registers_ = list_register_count();
    fpsimd_present_ = cpu.fp && cpu.advanced_simd;
    // Every breakpoint and watchpoint the CPU has starts disabled (all zero); only those
    // exist for load()/put() (Arm ARM D19.2, ID_AA64DFR0_EL1.BRPs and WRPs).
    debug_counts_ = arm::debug_register_counts(cpu.id_aa64dfr0);
    if (config.pmu == GuestPmu::Partitioned) configure_pmu(cpu);
    emulate_physical_timer_ = config.emulate_physical_timer && !config.physical_timer_passthrough;
    answered_ = answered_register_groups({.physical_timer = emulate_physical_timer_,
                                          .identification = config.hide_unswitched_features,
                                          .absent_pmu = pmu_counters_ == 0,
                                          .lor = lor_,
                                          .sme_untrapped = sme_trapped_});
  }
  VCpu(const VCpu&) = delete;
  VCpu& operator=(const VCpu&) = delete;

  // Puts this vCPU's state on the physical CPU: EL1 system registers, FP/SIMD, virtual timer,
  // virtual GIC interface, stage 2 and the trap configuration, and the hardware breakpoints
  // and watchpoints unless they can wait for the guest's first debug register access
  // (VCpuConfig::switch_debug_registers_on_first_use). Call before run() and whenever
  // another vCPU ran on this CPU since put().
  // Why the breakpoints may wait: switch_in_debug_registers(); the guest PMU: load_pmu().
  void load() noexcept {
    if (pmu_counters_ != 0) load_pmu();
    if (cpu_has_sve_or_sme_) load_cpacr_controls();
    restore_el1_context(el1_);
    debug_registers_on_cpu_ =
        !config_.switch_debug_registers_on_first_use || (el1_.at<SysReg::MDSCR_EL1>() & mdscr::kMde) != 0;
    if (debug_registers_on_cpu_) restore_debug_state(debug_, debug_counts_);
    if (pointer_auth_) restore_pointer_auth_keys(keys_);
    if (sme_) restore_sme_untrapped_registers(sme_untrapped_);
    if (sme_trapped_) trap_sme_untrapped_registers();
    if (fpsimd_present_) restore_fpsimd(fpsimd_);
    if (virtual_gic_) restore_vgic(vgic_, list_registers_);
    write_sysreg<SysReg::VTTBR_EL2>(config_.stage2_vttbr);
    write_sysreg<SysReg::HCR_EL2>(hcr_);
    const std::uint64_t cnthctl = read_sysreg<SysReg::CNTHCTL_EL2>();
    write_sysreg<SysReg::CNTHCTL_EL2>(config_.physical_timer_passthrough ? cnthctl | cnthctl::kEl1pcen
                                                                         : cnthctl & ~cnthctl::kEl1pcen);
    if (emulate_physical_timer_) program_physical_timer();
    std::uint64_t mdcr = read_sysreg<SysReg::MDCR_EL2>() & ~(mdcr::kTdosa | mdcr::kTda);
    // No guest PMU: every PMU register traps, whatever the previous owner of the CPU left.
    if (pmu_counters_ == 0) mdcr |= mdcr::kTpm | mdcr::kTpmcr;
    if (config_.emulate_os_lock) mdcr |= mdcr::kTdosa;
    mdcr |= mdcr::kTda;  // always: switch_in_debug_registers()
    write_sysreg<SysReg::MDCR_EL2>(mdcr);
    instruction_barrier();
    loaded_ = true;
  }
  // Takes this vCPU's state off the physical CPU, so another vCPU can load(). Both of its
  // timers stop driving the CPU's timer PPIs (CNTV_CTL_EL0 and, when emulated, CNTP_CTL_EL0
  // disabled once saved): while it is off the CPU its deadline is next_deadline(), and a
  // physical PPI 27 the hypervisor left active for it (hardware-linked in its vGIC) is the
  // hypervisor's to deactivate, or the next vCPU's timer interrupt stays blocked behind it.
  void put() noexcept {
    save_el1_context(el1_);
    el1_.at<SysReg::CNTV_CTL_EL0>() &= cnt_ctl::kWritable;
    write_sysreg<SysReg::CNTV_CTL_EL0>(0);
    if (emulate_physical_timer_) write_sysreg<SysReg::CNTP_CTL_EL0>(0);
    // Breakpoints and watchpoints the guest never reached since load() are still only in
    // debug_. MDCR_EL2.TDA stays set (EL2 code is not affected by it: it traps EL1 and EL0
    // accesses only).
    if (debug_registers_on_cpu_) save_debug_state(debug_, debug_counts_);
    debug_registers_on_cpu_ = false;
    if (pointer_auth_) save_pointer_auth_keys(keys_);
    if (sme_) save_sme_untrapped_registers(sme_untrapped_);
    if (sme_trapped_) {
      write_sysreg<SysReg::HFGRTR_EL2>(host_hfgrtr_);
      write_sysreg<SysReg::HFGWTR_EL2>(host_hfgwtr_);
    }
    if (fpsimd_present_) save_fpsimd(fpsimd_);
    if (virtual_gic_) save_vgic(vgic_, list_registers_);
    if (pmu_counters_ != 0) put_pmu();
    instruction_barrier();
    loaded_ = false;
  }
  bool loaded() const noexcept { return loaded_; }

  // Runs the guest, yielding one event per exit the hypervisor must see. Requires load().
  // The frame lives in this VCpu's own storage: if it does not fit, run() yields nothing.
  // The exit path is inlined into the coroutine's body (run_until_exit()), so that the one
  // function the host's loop resumes is the one that enters the guest: its prologue saves
  // the host's registers once per exit, and no call in between saves them again. The first
  // co_yield is the stream's lazy start (EventStream's contract); every resumption then
  // completes the exit the hypervisor saw, as next_exit() does, so a new run() also
  // completes one a previous run() left pending.
  EventStream<Exit> run() {
    for (;;) {
      co_yield current_;
      VCpu* self = resumed_this();
      self->finish_exit();
      self->run_until_exit();
    }
  }
  // The slot run()'s stream yields: the current exit.
  Exit& event_slot() noexcept { return current_; }

  // The same, for a hypervisor's own coroutines: `Exit& exit = co_await vcpu.next_exit();`.
  // Completes the previous exit (if any), runs the guest, returns the next exit.
  struct NextExit {
    VCpu& vcpu;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    Exit& await_resume() const noexcept { return vcpu.finish_and_enter(); }
  };
  NextExit next_exit() noexcept { return NextExit{*this}; }

  // The same loop without a coroutine: calls on_exit(Exit&) for every exit until it
  // returns false. A reference point for the cost of run(), and for hosts that prefer
  // callbacks.
  template <class OnExit>
  void run_with(OnExit&& on_exit) noexcept {
    for (;;) {
      if (!on_exit(finish_and_enter())) return;
    }
  }

  // Makes a virtual interrupt pending in the guest through a free list register. Returns
  // false when every list register is in use (the hypervisor retries after an exit).
  bool inject_interrupt(const VirtualInterrupt& interrupt) noexcept {
    if (!virtual_gic_) return false;
    const std::uint64_t value = list_register_value(interrupt);
    for (unsigned n = 0; n < list_registers_; ++n) {
      if (!list_register_free(list_register(n))) continue;
      set_list_register(n, value);
      return true;
    }
    return false;
  }

  // SEAM (vGIC): the guest PMU's overflow interrupt. The hypervisor calls this for a physical
  // PPI 23 (kPmuOverflowIntid) that it acknowledged and dropped the priority of but did not
  // deactivate (split EOI), taken while this vCPU was loaded: the guest's counters raised it.
  // It becomes the guest's virtual INTID 23, linked to the physical one (ICH_LR<n>_EL2.HW), so
  // the guest's own deactivation deactivates it after its handler has cleared PMOVS, which
  // lowers the level-sensitive line. This goes straight into the list registers, for a
  // hypervisor without a virtual distributor; one with arm.vgic maps PPI 23 to the physical
  // one there (Vgic::map_hardware) and raises it in the vGIC instead, as it does the timer's.
  bool inject_pmu_overflow_interrupt() noexcept {
    if (pmu_counters_ == 0) return false;
    return inject_interrupt(
        {.intid = kPmuOverflowIntid, .hardware = true, .physical_intid = kPmuOverflowIntid});
  }

  // Exception injection into the guest (arm.trap builds the EL1 state). Called while an
  // exit is being handled, it replaces that exit's default action; the guest resumes in
  // its exception vector.
  void inject_undefined() noexcept {
    inject_undefined_here();
    exit_pending_ = false;
  }
  void inject_data_abort(std::uint64_t va, bool write) noexcept {
    inject([&](auto& regs, auto& el1) { arm::inject_data_abort(regs, el1, va, write); });
    exit_pending_ = false;
  }
  void inject_instruction_abort(std::uint64_t va) noexcept {
    inject([&](auto& regs, auto& el1) { arm::inject_instruction_abort(regs, el1, va); });
    exit_pending_ = false;
  }
  // The hypervisor dealt with the current exit itself (changed the guest's registers,
  // mapped memory, ...): the guest resumes as the registers now say, with no completion
  // and no default action.
  void resume_as_is() noexcept { exit_pending_ = false; }

  // Whether `intid` is pending or active in one of this vCPU's list registers.
  bool has_virtual_interrupt(std::uint32_t intid) const noexcept {
    for (unsigned n = 0; n < list_registers_; ++n) {
      const std::uint64_t value = list_register(n);
      if (!list_register_free(value) && list_register_intid(value) == intid) return true;
    }
    return false;
  }

  // One of this vCPU's EL1 registers (those El1Context holds), wherever it is: on the CPU
  // while the vCPU is loaded, in el1() otherwise.
  template <SysReg R>
  std::uint64_t read_guest_sysreg() const noexcept {
    return loaded_ ? read_sysreg<R>() : el1_.at<R>();
  }
  template <SysReg R>
  void write_guest_sysreg(std::uint64_t value) noexcept {
    if (loaded_) {
      write_sysreg<R>(value);
    } else {
      el1_.at<R>() = value;
    }
  }
  // List register <n> of this vCPU's virtual CPU interface, wherever it is.
  std::uint64_t list_register(unsigned n) const noexcept {
    return loaded_ ? read_list_register(n) : vgic_.lr[n];
  }
  void set_list_register(unsigned n, std::uint64_t value) noexcept {
    if (loaded_) {
      write_list_register(n, value);
    } else {
      vgic_.lr[n] = value;
    }
  }

  // ---- Timers (arm.timer) ----------------------------------------------------------------

  // The guest's virtual timer: on the CPU while loaded (CNTV_CTL_EL0, CNTV_CVAL_EL0,
  // CNTVOFF_EL2, used by the guest directly), in el1() otherwise.
  GenericTimer virtual_timer() const noexcept {
    if (loaded_)
      return {read_sysreg<SysReg::CNTV_CTL_EL0>() & cnt_ctl::kWritable, read_sysreg<SysReg::CNTV_CVAL_EL0>(),
              read_sysreg<SysReg::CNTVOFF_EL2>()};
    return {el1_.at<SysReg::CNTV_CTL_EL0>() & cnt_ctl::kWritable, el1_.at<SysReg::CNTV_CVAL_EL0>(),
            el1_.at<SysReg::CNTVOFF_EL2>()};
  }
  // The guest's emulated EL1 physical timer (VCpuConfig::emulate_physical_timer), kept here
  // whether loaded or not. Change it only through the guest or between put() and load().
  const GenericTimer& physical_timer() const noexcept { return physical_timer_; }
  GenericTimer& physical_timer() noexcept { return physical_timer_; }
  bool emulates_physical_timer() const noexcept { return emulate_physical_timer_; }

  // Both timers' interrupt outputs now (Arm ARM D12: ENABLE && !IMASK && ISTATUS), for the
  // hypervisor's vGIC level inputs kVirtualTimerIntid and kPhysicalTimerIntid. Call it where
  // a level may have changed without a TimerLevel event: at the physical timer PPIs (27, 30)
  // taken as ExternalInterrupt exits, at exits while a level was last seen high (the guest
  // writes CNTV_* untrapped), before put(), and for a parked vCPU once next_deadline() has
  // passed. It also re-arms the emulated physical timer's hardware copy (see
  // program_physical_timer()), so a physical PPI 30 it raised drops before the hypervisor
  // deactivates it.
  TimerLines sample_timer_lines() noexcept {
    const std::uint64_t now = read_sysreg<SysReg::CNTPCT_EL0>();
    TimerLines lines{.virtual_timer = virtual_timer_output()};
    if (emulate_physical_timer_) {
      physical_line_ = physical_timer_.output(now);
      if (loaded_) program_physical_timer();
      lines.physical_timer = physical_line_;
    }
    return lines;
  }

  // The virtual timer's output alone: one MRS while loaded (the hardware's own ISTATUS, the
  // comparison the guest's CNTV_CTL_EL0 reads show it), for a hypervisor that checks at every
  // exit whether a level it saw high has dropped.
  bool virtual_timer_output() const noexcept {
    if (!loaded_) return virtual_timer().output(read_sysreg<SysReg::CNTPCT_EL0>());
    const std::uint64_t ctl = read_sysreg<SysReg::CNTV_CTL_EL0>();
    return (ctl & (cnt_ctl::kEnable | cnt_ctl::kImask | cnt_ctl::kIstatus)) ==
           (cnt_ctl::kEnable | cnt_ctl::kIstatus);
  }

  // The earliest physical count (CNTPCT_EL0) at which one of this vCPU's timers asserts its
  // interrupt without another register write: now if one already does, kNoDeadline if none
  // is enabled and unmasked. The WFI event carries it (Wfx::deadline).
  std::uint64_t next_deadline() const noexcept {
    const std::uint64_t now = read_sysreg<SysReg::CNTPCT_EL0>();
    std::uint64_t deadline = virtual_timer().deadline(now);
    if (emulate_physical_timer_) deadline = earliest(deadline, physical_timer_.deadline(now));
    return deadline;
  }

  GuestRegisters& registers() noexcept { return regs_; }
  const GuestRegisters& registers() const noexcept { return regs_; }
  El1Context& el1() noexcept { return el1_; }
  FpSimdState& fpsimd() noexcept { return fpsimd_; }
  // The guest's breakpoints and watchpoints, kept here by put() (on the CPU while loaded and
  // debug_registers_on_cpu()), and its emulated OS lock and DBGPRCR_EL1 (always here).
  DebugState& debug_registers() noexcept { return debug_; }
  // Whether this vCPU's breakpoints and watchpoints are on the CPU (MDCR_EL2.TDA clear): from
  // load() or the guest's first debug register access since, until put().
  bool debug_registers_on_cpu() const noexcept { return debug_registers_on_cpu_; }
  const DebugRegisterCounts& debug_register_counts() const noexcept { return debug_counts_; }
  PointerAuthKeys& pointer_auth_keys() noexcept { return keys_; }
  // TPIDR2_EL0 and SMPRI_EL1, switched on a CPU with SME (context.cppm, SmeUntrappedRegisters);
  // kept here by put().
  SmeUntrappedRegisters& sme_untrapped_registers() noexcept { return sme_untrapped_; }
  // The guest PMU's counters (MDCR_EL2.HPMN while loaded); 0 for no guest PMU.
  unsigned pmu_counters() const noexcept { return pmu_counters_; }
  // The guest PMU's state, kept here by put() (on the CPU while loaded).
  PmuState& pmu_state() noexcept { return pmu_; }
  const VCpuConfig& config() const noexcept { return config_; }
  std::uint64_t hcr() const noexcept { return hcr_; }
  // The guest's set/way cache maintenance answered by the vCPU (VCpuConfig::guest_memory),
  // and how many times it cleaned and invalidated the VM's memory for them.
  std::uint64_t set_way_operations() const noexcept { return set_way_operations_; }
  std::uint64_t guest_memory_flushes() const noexcept { return guest_memory_flushes_; }
  // The CPACR_EL1 controls held at "no EL1 trap" for this vCPU, which hides SVE or SME on a
  // CPU that has them (features.cppm, hidden_cpacr_controls()); nonzero: load() sets
  // CPTR_EL2.TCPAC.
  std::uint64_t hidden_cpacr() const noexcept { return hidden_cpacr_; }
  std::uint64_t exit_count() const noexcept { return exit_count_; }
  FrameArena& frame_arena() noexcept { return frames_; }

 private:
  // Runs the guest until an exit the hypervisor must see. Calls arm.smc answers alone
  // re-enter the guest at once (the inner loop: no event, no coroutine switch).
  [[gnu::always_inline]] Exit& run_until_exit() noexcept {
    VCpu* self = this;
    for (;;) {
      const std::uint64_t code = enter_guest(&self->regs_);
      // Every address below is computed from this copy, after the world switch: none is
      // hoisted out of the loop and kept across it (enter_guest() keeps only x19 and x20 of
      // the registers the compiler allocates). The loop goes on with the copy, so one value
      // is live across the switch, in one of those two.
      self = self->opaque_this();
      ++self->exit_count_;
      if (self->answered_internally(self->classify(code))) continue;
      self->exit_pending_ = true;
      return self->current_;
    }
  }
  // `this` inside run(), as a value of the current resumption. The coroutine frame lives in
  // this VCpu (frames_), so the compiler must assume every store through `this` may change
  // the frame's copy of `this` and reloads it from the frame before every block that uses
  // it, and then every field it read before (the exit type run_until_exit() just stored,
  // answered_internally() switches on). A copy the compiler cannot see through is read once
  // per resumption; it is the same pointer.
  [[gnu::always_inline]] VCpu* resumed_this() noexcept { return opaque_this(); }
  // `this`, as a value the compiler cannot derive from anything before it (volatile: neither
  // merged with another copy nor moved out of a loop).
  [[gnu::always_inline]] VCpu* opaque_this() noexcept {
    VCpu* self = this;
    asm volatile("" : "+r"(self));
    return self;
  }
  // The same out of line, after completing the previous exit (if one is pending), for
  // next_exit() and run_with(): their callers' own loops stay small, and the registers the
  // guest clobbers are saved here, not around every call site.
  [[gnu::noinline]] Exit& finish_and_enter() noexcept {
    finish_exit();
    return run_until_exit();
  }

  // The exits the vCPU answers itself. One test of the exit type on the hot path (`kind`,
  // the index of the event classify() built: a constant the compiler folds this switch into
  // on each of the decoder's inline paths); the answers themselves stay out of line so the
  // loop stays small.
  // The events it answers come first in the Exit (arm.trap's TrapEvent order), so one range
  // test lets every other exit through; an MMIO access, whose read and write paths the
  // decoder merges, would otherwise walk the switch's compare tree (measured: 8 instructions
  // per MMIO round trip).
  static constexpr std::size_t kLastInternallyAnswered = [] {
    const std::size_t answered[] = {Exit::index_for<Hypercall>,  Exit::index_for<SecureMonitorCall>,
                                    Exit::index_for<SysRegRead>, Exit::index_for<SysRegWrite>,
                                    Exit::index_for<Wfx>,        Exit::index_for<FpAccessTrap>};
    std::size_t last = 0;
    for (const std::size_t index : answered) last = index > last ? index : last;
    return last;
  }();
  [[gnu::always_inline]] bool answered_internally(std::size_t kind) noexcept {
    if (kind > kLastInternallyAnswered) [[likely]]
      return false;
    switch (kind) {
      case Exit::index_for<Hypercall>:
      case Exit::index_for<SecureMonitorCall>:
        return config_.calls != nullptr && answer_call_internally();
      case Exit::index_for<SysRegRead>:
        return answered_.reads.contains(current_.as<SysRegRead>().encoding) &&
               answer_system_register_internally();
      case Exit::index_for<SysRegWrite>:
        return answered_.writes.contains(current_.as<SysRegWrite>().encoding) &&
               answer_system_register_internally();
      case Exit::index_for<Wfx>:
        return answer_wait_internally();
      case Exit::index_for<FpAccessTrap>:
        return answer_hidden_unit_trap();
      default:
        return false;
    }
  }

  // Trapped system register accesses the vCPU answers itself: PMU registers without a guest
  // PMU (undefined), ID registers (filtered), the
  // OS lock, double lock and DBGPRCR_EL1 (emulated), and the first debug register access
  // while the breakpoints and watchpoints are off the CPU. Out of line, like the calls: the
  // loop keeps one test per exit type, so no other exit pays for these.
  [[gnu::noinline]] bool answer_system_register_internally() noexcept {
    if (auto* read = current_.get_if<SysRegRead>()) {
      if (emulate_physical_timer_ && is_physical_timer_register(read->encoding))
        return answer_physical_timer_read();
      if (config_.hide_unswitched_features && is_identification_register(read->encoding))
        return answer_identification_read();
      if (is_debug_register(read->encoding)) return answer_debug_register_read();
      if (pmu_counters_ == 0 && is_pmu_register(read->encoding)) return answer_absent_pmu_access();
      // Trapped only where SME is hidden with FGT, and answered then: as a write (absent).
      if (sme_trapped_ && is_sme_untrapped_register(read->encoding)) return answer_absent_register_access();
      // An IMPLEMENTATION DEFINED or LORegion read goes on to the hypervisor: the default of a
      // read nobody answers is UNDEFINED already (kExitRule<SysRegRead>), and testing for them
      // here would cost every other read that reaches the hypervisor (sysreg_read_round_trip).
      return is_el1_control_register(read->encoding) && answer_el1_control_read();
    }
    const SysRegEncoding encoding = current_.as<SysRegWrite>().encoding;
    if (emulate_physical_timer_ && is_physical_timer_register(encoding)) return answer_physical_timer_write();
    if (is_debug_register(encoding)) return answer_debug_register_write();
    if (pmu_counters_ == 0 && is_pmu_register(encoding)) return answer_absent_pmu_access();
    // One test lets every other write (the SGI registers, ...) through to the hypervisor: the
    // CRn of ACTLR_EL1, CPACR_EL1 and the TVM-trapped registers (1, 2, 5, 6, 10, 13), the set/way
    // instructions (7), the LORegion registers (10) and the IMPLEMENTATION DEFINED ones (11, 15).
    constexpr unsigned kCrnsAnsweredBelow = (1u << 1) | (1u << 2) | (1u << 5) | (1u << 6) | (1u << 7) |
                                            (1u << 10) | (1u << 11) | (1u << 13) | (1u << 15);
    if (((kCrnsAnsweredBelow >> encoding.crn()) & 1) == 0) return false;
    if (encoding.is_instruction()) return is_set_way_maintenance(encoding) && answer_set_way_maintenance();
    if (is_absent_register(encoding)) return answer_absent_register_access();
    if (is_el1_control_register(encoding) && answer_el1_control_write()) return true;
    return (hcr_ & hcr::kTvm) != 0 && may_be_trapped_by_tvm(encoding) &&
           answer_virtual_memory_control_write();
  }

  // Registers a guest finds absent: IMPLEMENTATION DEFINED ones (HCR_EL2.TIDCP) and, on a CPU
  // with FEAT_LOR, the LORegion registers (HCR_EL2.TLOR; ID_AA64MMFR1_EL1.LO reads 0). Reads
  // and writes are UNDEFINED, as on a CPU without them (KVM answers both the same way): the
  // writes here, so that the default of a write nobody answers (done) does not make them
  // half present; the reads by their exit rule's default (a hypervisor may still answer one).
  // Without FEAT_LOR the LORegion registers are UNDEFINED at EL1 and never trap.
  bool is_absent_register(SysRegEncoding encoding) const noexcept {
    return is_implementation_defined_register(encoding) || (lor_ && is_lor_register(encoding)) ||
           (sme_trapped_ && is_sme_untrapped_register(encoding));
  }
  [[gnu::noinline]] bool answer_absent_register_access() noexcept {
    inject_undefined_here();
    return true;
  }
  // SME hidden on a CPU with FEAT_FGT: TPIDR2_EL0 and SMPRI_EL1 trapped (context.cppm,
  // SmeUntrappedRegisters), the host's other fine-grained traps kept as they are.
  void trap_sme_untrapped_registers() noexcept {
    constexpr std::uint64_t kSme = hfgxtr::kNTpidr2El0 | hfgxtr::kNSmpriEl1;
    host_hfgrtr_ = read_sysreg<SysReg::HFGRTR_EL2>();
    host_hfgwtr_ = read_sysreg<SysReg::HFGWTR_EL2>();
    write_sysreg<SysReg::HFGRTR_EL2>(host_hfgrtr_ & ~kSme);
    write_sysreg<SysReg::HFGWTR_EL2>(host_hfgwtr_ & ~kSme);
  }

  // Data cache maintenance by set/way (HCR_EL2.TSW, always set: guest_hcr()). A set/way
  // operation cannot be done for a guest as asked: it names lines of this CPU's caches, not
  // the guest's memory, so it would miss the guest's lines in other CPUs' caches (set/way
  // instructions are not broadcast) and in system caches, and would act on the hypervisor's
  // and other VMs' lines (Arm ARM DDI 0487 M.c D7.5.9.12 "Effects of All and set/way
  // maintenance instructions"). Software uses it only to empty a whole cache, around turning
  // caches off or on (D7.5.8.2.2). So, as KVM does (kvm_set_way_flush, kvm_toggle_cache):
  //  - the first one cleans and invalidates all of the VM's memory by VA to the point of
  //    coherency (VCpuConfig::guest_memory): an invalidate becomes a clean and invalidate,
  //    which D7.5.9.2 requires of DC ISW at EL1 with HCR_EL2.VM = 1 anyway, so no dirty line,
  //    the guest's or the hypervisor's, is ever discarded;
  //  - it sets HCR_EL2.TVM, so the guest's next SCTLR_EL1 write is seen: when it turns its
  //    caches off or on (SCTLR_EL1.{M, C}), the VM's memory is cleaned and invalidated again
  //    (lines dirtied since are written back before the guest works uncached; stale lines are
  //    gone before it works cached); once its caches are on, TVM is cleared;
  //  - the operations that follow while TVM is set complete with nothing more to do.
  // The FEAT_MTE2 forms (on Allocation Tags) are UNDEFINED: a guest has no MTE (HCR_EL2.ATA
  // is 0 and MTE is hidden, features.cppm). Each flush is the whole VM, at the guest's
  // request: on a big VM it is long, and it delays this CPU's other vCPUs as KVM's does.
  [[gnu::noinline]] bool answer_set_way_maintenance() noexcept {
    SysRegWrite& write = current_.as<SysRegWrite>();
    if (set_way_maintenance(write).tags) return answer_absent_register_access();
    if (config_.guest_memory.empty()) return false;
    ++set_way_operations_;
    if ((hcr_ & hcr::kTvm) == 0) {
      clean_invalidate_guest_memory();
      set_hcr(hcr_ | hcr::kTvm);
    }
    complete(regs_, write);
    return true;
  }

  // The two groups of registers the vCPU answers that share one test on the way (so that a
  // read nobody here answers pays no more for them), each sorted out of line:
  //  - identification, op0 = 3, op1 = 0 or 1, CRn = 0, CRm = 0..7: the feature ID registers
  //    (HCR_EL2.TID3) and ID group 1 (HCR_EL2.TID1, only where SME is hidden);
  //  - the EL1 controls, op0 = 3, op1 = 0, CRn = 1, CRm = 0: ACTLR_EL1 (HCR_EL2.TACR) and
  //    CPACR_EL1 (CPTR_EL2.TCPAC, only where SVE or SME is hidden).
  static constexpr bool is_identification_register(SysRegEncoding encoding) noexcept {
    return encoding.op0() == 3 && encoding.op1() <= 1 && encoding.crn() == 0 && encoding.crm() <= 7;
  }
  [[gnu::noinline]] bool answer_identification_read() noexcept {
    const SysRegEncoding encoding = current_.as<SysRegRead>().encoding;
    if (is_feature_id_register(encoding)) return answer_id_register_read();
    return (hcr_ & hcr::kTid1) != 0 && is_id_group1_register(encoding) && answer_id_group1_read();
  }
  static constexpr bool is_el1_control_register(SysRegEncoding encoding) noexcept {
    constexpr unsigned kOp2Bits = 3;
    return (encoding.value() >> kOp2Bits) == (SysRegEncoding{SysReg::SCTLR_EL1}.value() >> kOp2Bits);
  }
  [[gnu::noinline]] bool answer_el1_control_read() noexcept {
    const SysRegEncoding encoding = current_.as<SysRegRead>().encoding;
    if (encoding == SysReg::ACTLR_EL1) return answer_auxiliary_control_read();
    return hidden_cpacr_ != 0 && encoding == SysReg::CPACR_EL1 && answer_cpacr_read();
  }
  [[gnu::noinline]] bool answer_el1_control_write() noexcept {
    const SysRegEncoding encoding = current_.as<SysRegWrite>().encoding;
    if (encoding == SysReg::ACTLR_EL1) return answer_auxiliary_control_write();
    return hidden_cpacr_ != 0 && encoding == SysReg::CPACR_EL1 && answer_cpacr_write();
  }

  // Where CPACR_EL1 has SVE or SME controls, at load(): CPTR_EL2.TCPAC as this vCPU needs it
  // (set where it hides them), and the hidden controls back in el1()'s CPACR_EL1, which holds
  // the hardware's value (a hypervisor may have stored one without them). Elsewhere load()
  // touches neither. Out of line: other CPUs pay one test.
  [[gnu::noinline]] void load_cpacr_controls() noexcept {
    const std::uint64_t cptr = read_sysreg<SysReg::CPTR_EL2>() & ~cptr::kTcpac;
    write_sysreg<SysReg::CPTR_EL2>(hidden_cpacr_ != 0 ? cptr | cptr::kTcpac : cptr);
    el1_.at<SysReg::CPACR_EL1>() |= hidden_cpacr_;
  }

  // CPACR_EL1, trapped by CPTR_EL2.TCPAC where the vCPU hides SVE or SME (features.cppm,
  // "Hiding SVE and SME"): the guest reads its own value with ZEN/SMEN as 0 (RES0 without
  // the features) and writes everything else to the hardware, which keeps ZEN/SMEN at "no
  // EL1 trap". The write needs no barrier: the ERET back to the guest synchronizes it.
  bool answer_cpacr_read() noexcept {
    SysRegRead& read = current_.as<SysRegRead>();
    read.complete(guest_cpacr(read_guest_sysreg<SysReg::CPACR_EL1>(), hidden_cpacr_));
    complete(regs_, read);
    return true;
  }
  bool answer_cpacr_write() noexcept {
    SysRegWrite& write = current_.as<SysRegWrite>();
    write_guest_sysreg<SysReg::CPACR_EL1>(hardware_cpacr(write.value, hidden_cpacr_));
    complete(regs_, write);
    return true;
  }

  // A write HCR_EL2.TVM trapped, while set/way maintenance watches for a cache toggle: the vCPU
  // writes the register for the guest; for SCTLR_EL1 it compares the caches' state before and
  // after. A TVM-trapped register the vCPU does not know (a later feature's) ends the watch:
  // TVM is cleared and the guest re-executes its write untrapped.
  [[gnu::noinline]] bool answer_virtual_memory_control_write() noexcept {
    SysRegWrite& write = current_.as<SysRegWrite>();
    const bool caches_were_on = guest_caches_on(read_guest_sysreg<SysReg::SCTLR_EL1>());
    if (!write_guest_register_of<SysReg::SCTLR_EL1, SysReg::TTBR0_EL1, SysReg::TTBR1_EL1, SysReg::TCR_EL1,
                                 SysReg::ESR_EL1, SysReg::FAR_EL1, SysReg::AFSR0_EL1, SysReg::AFSR1_EL1,
                                 SysReg::MAIR_EL1, SysReg::AMAIR_EL1, SysReg::CONTEXTIDR_EL1>(write.encoding,
                                                                                              write.value)) {
      set_hcr(hcr_ & ~hcr::kTvm);
      return true;  // no completion: the PC stays on the write
    }
    if (write.encoding == SysReg::SCTLR_EL1) {
      const bool caches_on = guest_caches_on(write.value);
      if (caches_on != caches_were_on) clean_invalidate_guest_memory();
      if (caches_on) set_hcr(hcr_ & ~hcr::kTvm);
    }
    complete(regs_, write);
    return true;
  }
  static constexpr bool guest_caches_on(std::uint64_t sctlr_el1) noexcept {
    return (sctlr_el1 & (sctlr::kM | sctlr::kC)) == (sctlr::kM | sctlr::kC);
  }
  // Writes `value` to whichever of the registers R... `encoding` names; false if none.
  template <SysReg R, SysReg... Rest>
  bool write_guest_register_of(SysRegEncoding encoding, std::uint64_t value) noexcept {
    if (encoding == R) {
      write_guest_sysreg<R>(value);
      return true;
    }
    if constexpr (sizeof...(Rest) != 0) {
      return write_guest_register_of<Rest...>(encoding, value);
    } else {
      return false;
    }
  }
  void clean_invalidate_guest_memory() noexcept {
    ++guest_memory_flushes_;
    for (const GuestMemoryRange& range : config_.guest_memory)
      clean_invalidate_to_poc(range.el2_address, range.size);
  }
  // HCR_EL2 changes while the vCPU runs (TVM): the next entry's ERET, a context synchronization
  // event, puts it in effect.
  void set_hcr(std::uint64_t value) noexcept {
    hcr_ = value;
    if (loaded_) write_sysreg<SysReg::HCR_EL2>(value);
  }

  // ID group 1 (HCR_EL2.TID1), trapped only where SME is hidden: SMIDR_EL1 is UNDEFINED, as on
  // a CPU without FEAT_SME (Arm ARM D19.2 SMIDR_EL1); REVIDR_EL1 and AIDR_EL1 read as the
  // hardware's.
  static constexpr bool is_id_group1_register(SysRegEncoding encoding) noexcept {
    return encoding == SysReg::REVIDR_EL1 || encoding == SysReg::AIDR_EL1 || encoding == SysReg::SMIDR_EL1;
  }
  bool answer_id_group1_read() noexcept {
    SysRegRead& read = current_.as<SysRegRead>();
    if (read.encoding == SysReg::SMIDR_EL1) {
      inject_undefined_here();
      return true;
    }
    read.complete(read.encoding == SysReg::REVIDR_EL1 ? read_sysreg<SysReg::REVIDR_EL1>()
                                                      : read_sysreg<SysReg::AIDR_EL1>());
    complete(regs_, read);
    return true;
  }

  // An SVE or SME access trap (CPTR_EL2.TZ, TSM) while the vCPU hides them: the undefined
  // instruction a CPU without them gives (features.cppm, "Hiding SVE and SME"), answered here
  // like an absent PMU's registers, so that no hypervisor can make a hidden unit half present.
  // FP/SIMD traps (never asked for: CPTR_EL2.TFP stays clear) and those of a vCPU that does not
  // hide the units go to the hypervisor, whose default is the same undefined instruction.
  [[gnu::noinline]] bool answer_hidden_unit_trap() noexcept {
    if (!config_.hide_unswitched_features || current_.as<FpAccessTrap>().unit == FpUnit::FpSimd) return false;
    inject_undefined_here();
    return true;
  }

  // ACTLR_EL1, trapped by HCR_EL2.TACR (kGuestHcrBase): reads give this vCPU's value (the
  // host's at construction, moved by load()/put()); writes are ignored, since every bit is
  // an IMPLEMENTATION DEFINED control of the physical CPU (Arm ARM D19.2, ACTLR_EL1) that a
  // guest must not change (KVM answers it the same way).
  bool answer_auxiliary_control_read() noexcept {
    SysRegRead& read = current_.as<SysRegRead>();
    read.complete(read_guest_sysreg<SysReg::ACTLR_EL1>());
    complete(regs_, read);
    return true;
  }
  bool answer_auxiliary_control_write() noexcept {
    complete(regs_, current_.as<SysRegWrite>());
    return true;
  }

  static constexpr bool is_physical_timer_register(SysRegEncoding encoding) noexcept {
    return encoding == SysReg::CNTP_CTL_EL0 || encoding == SysReg::CNTP_CVAL_EL0 ||
           encoding == SysReg::CNTP_TVAL_EL0;
  }

  // The EL1 physical timer, emulated (VCpuConfig::emulate_physical_timer). Its registers
  // trap (CNTHCTL_EL2.EL1PCEN = 0, Arm ARM D19 "CNTHCTL_EL2") and are answered here from
  // physical_timer_, against the physical count the guest reads untrapped (EL1PCTEN = 1:
  // no offset, so the guest's view and the hardware's agree exactly).
  //
  // How its expiry is seen while the vCPU is loaded: the CPU's own EL1 physical timer holds
  // a copy (program_physical_timer()). An EL2 host without VHE never uses that timer (its own
  // are CNTHP_*, HypervisorTimer), so lending it costs nothing, needs no offset, and fires
  // its PPI 30 at exactly the guest's deadline, as an ExternalInterrupt exit (HCR_EL2.IMO)
  // even while the guest masks its interrupts. The alternatives were worse: the EL2 physical
  // timer is the hypervisor's watchdog (HypervisorTimer, never armed by the library) and
  // sharing it would mean merging two deadlines behind the hypervisor's back; the EL2
  // virtual timer (CNTHV_*) exists only with FEAT_VHE. Off the CPU the copy is disabled
  // (put()) and next_deadline() says when the timer asserts.
  //
  // The hardware copy is masked while the output is already known to be high (physical_line_)
  // so that the level-sensitive PPI 30 does not fire again and again: its level lives in the
  // vGIC from then on, and only a trapped write can lower it, which this code sees.
  bool answer_physical_timer_read() noexcept {
    SysRegRead& read = current_.as<SysRegRead>();
    const std::uint64_t now = read_sysreg<SysReg::CNTPCT_EL0>();
    if (read.encoding == SysReg::CNTP_CTL_EL0)
      read.complete(physical_timer_.read_ctl(now));
    else if (read.encoding == SysReg::CNTP_CVAL_EL0)
      read.complete(physical_timer_.cval);
    else
      read.complete(physical_timer_.read_tval(now));
    complete(regs_, read);
    return true;
  }
  // A write: answered here; a change of the output level becomes a TimerLevel event (the
  // write already completed), so the hypervisor's vGIC follows the line before the guest
  // runs again: a guest that disables a timer that fired while it masked its interrupts
  // never takes that interrupt, and one that sets a CVAL in the past takes it at once.
  [[gnu::noinline]] bool answer_physical_timer_write() noexcept {
    SysRegWrite& write = current_.as<SysRegWrite>();
    const std::uint64_t now = read_sysreg<SysReg::CNTPCT_EL0>();
    if (write.encoding == SysReg::CNTP_CTL_EL0)
      physical_timer_.write_ctl(write.value);
    else if (write.encoding == SysReg::CNTP_CVAL_EL0)
      physical_timer_.cval = write.value;
    else
      physical_timer_.write_tval(write.value, now);
    complete(regs_, write);
    const bool line = physical_timer_.output(now);
    const bool changed = line != physical_line_;
    physical_line_ = line;
    program_physical_timer();
    if (!changed) return true;
    current_.emplace<TimerLevel>() = TimerLevel{.intid = kPhysicalTimerIntid, .high = line};
    return false;
  }
  // The CPU's EL1 physical timer as the copy of the guest's: the same CVAL and ENABLE, IMASK
  // also set while physical_line_ is (see above). Only while loaded.
  void program_physical_timer() noexcept {
    std::uint64_t ctl = physical_timer_.ctl;
    if (physical_line_) ctl |= cnt_ctl::kImask;
    write_sysreg<SysReg::CNTP_CVAL_EL0>(physical_timer_.cval);
    write_sysreg<SysReg::CNTP_CTL_EL0>(ctl);
    instruction_barrier();
  }

  // A trapped WFI (HCR_EL2.TWI) with a virtual interrupt already pending in a list register
  // completes at once: a pending interrupt is a WFI wake-up event whatever PSTATE.I, A and F
  // say (Arm ARM D1 "Wait for Interrupt", "Wait for Interrupt wake-up events"). Otherwise the
  // event goes to the hypervisor with the vCPU's next timer deadline (Wfx::deadline); an
  // interrupt its vGIC holds but has not put into a list register yet is its to check
  // (Vgic::has_work()). WFE is left to the hypervisor as before.
  [[gnu::noinline]] bool answer_wait_internally() noexcept {
    Wfx& wfx = current_.as<Wfx>();
    if (!wfx.waits_for_interrupt()) {
      wfx.deadline = kNoDeadline;  // a WFE waits for an event, not a timer
      return false;
    }
    if (virtual_interrupt_pending()) {
      complete(regs_, wfx);
      return true;
    }
    wfx.deadline = next_deadline();
    // WFIT: the wait also ends once CNTVCT_EL0 reaches the timeout (Arm ARM C6 "WFIT"),
    // the same comparison as a virtual timer's with that compare value.
    if (wfx.has_timeout) {
      const GenericTimer timeout{
          .ctl = cnt_ctl::kEnable, .cval = wfx.timeout, .offset = virtual_timer().offset};
      wfx.deadline = earliest(wfx.deadline, timeout.deadline(read_sysreg<SysReg::CNTPCT_EL0>()));
    }
    return false;
  }
  bool virtual_interrupt_pending() const noexcept {
    if (!virtual_gic_) return false;
    for (unsigned n = 0; n < list_registers_; ++n)
      if ((read_list_register(n) >> ich_lr::kStateShift) & ich_lr::kStatePending) return true;
    return false;
  }

  // The op0 == 0b10 accesses, out of line again: the call is the check's last step (a tail
  // call), so the check itself needs no stack frame and a trapped MRS that goes on to the
  // hypervisor pays nothing for the debug registers. Every debug register MDCR_EL2.TDA or
  // TDOSA traps is answered here (why TDA always traps: switch_in_debug_registers()); what is
  // left (a breakpoint beyond the CPU's count, an MRS of a write-only register, ...) goes on
  // to the hypervisor, whose default is UNDEF.
  [[gnu::noinline]] bool answer_debug_register_read() noexcept {
    SysRegRead& read = current_.as<SysRegRead>();
    std::uint64_t value = 0;
    const bool answered =
        read_debug_channel_register(read.encoding, debug_, value) ||
        read_self_hosted_debug_register(read.encoding, value) ||
        (config_.emulate_os_lock && read_powerdown_debug_register(read.encoding, debug_, value));
    if (!answered) return false;
    read.complete(value);
    complete(regs_, read);
    return true;
  }
  [[gnu::noinline]] bool answer_debug_register_write() noexcept {
    SysRegWrite& write = current_.as<SysRegWrite>();
    const bool answered =
        write_debug_channel_register(write.encoding, write.value, debug_) ||
        write_self_hosted_debug_register(write.encoding, write.value) ||
        (config_.emulate_os_lock && write_powerdown_debug_register(write.encoding, write.value, debug_));
    if (!answered) return false;
    complete(regs_, write);
    return true;
  }

  // The self-hosted debug registers MDCR_EL2.TDA traps besides the claim tags and the DCC:
  //  - MDSCR_EL1 and MDCCINT_EL1, in el1_ and on the hardware while loaded: read and written
  //    there. MDSCR_EL1.TXfull and RXfull are the DCC's status (Arm ARM D19.3 MDSCR_EL1, the
  //    same bits as MDCCSR_EL0), so a read shows the emulated channel's; a write to them is
  //    ignored, as at EL1 with the OS lock unlocked.
  //  - DBGAUTHSTATUS_EL1, read-only: kVcpuDebugAuthentication (context.cppm), a vCPU's
  //    external debug is implemented but never enabled: no debugger can attach to it.
  //  - The breakpoints and watchpoints, up to the CPU's count: read from debug_, which holds
  //    what the hardware keeps; a write switches them in first, then goes to the hardware and
  //    debug_ takes back what the hardware kept (its RES0 and IMPLEMENTATION DEFINED bits).
  bool read_self_hosted_debug_register(SysRegEncoding encoding, std::uint64_t& value) noexcept {
    if (encoding == SysReg::MDSCR_EL1) {
      value = (read_sysreg<SysReg::MDSCR_EL1>() & ~(mdccsr::kTxFull | mdccsr::kRxFull)) |
              (debug_.channel.tx_full ? mdccsr::kTxFull : 0);
    } else if (encoding == SysReg::MDCCINT_EL1) {
      value = read_sysreg<SysReg::MDCCINT_EL1>();
    } else if (encoding == SysReg::DBGAUTHSTATUS_EL1) {
      value = kVcpuDebugAuthentication;
    } else if (const std::uint64_t* slot = debug_register_slot(encoding, debug_, debug_counts_)) {
      value = *slot;
    } else {
      return false;
    }
    return true;
  }
  bool write_self_hosted_debug_register(SysRegEncoding encoding, std::uint64_t value) noexcept {
    if (encoding == SysReg::MDSCR_EL1) {
      switch_in_debug_registers();
      write_sysreg<SysReg::MDSCR_EL1>(value & ~(mdccsr::kTxFull | mdccsr::kRxFull));
    } else if (encoding == SysReg::MDCCINT_EL1) {
      write_sysreg<SysReg::MDCCINT_EL1>(value);
    } else if (std::uint64_t* slot = debug_register_slot(encoding, debug_, debug_counts_)) {
      switch_in_debug_registers();
      *slot = value;
      restore_debug_state(debug_, debug_counts_);
      save_debug_state(debug_, debug_counts_);
    } else {
      return false;
    }
    return true;
  }

  // Why a guest may run with another vCPU's (or the host's) breakpoints and watchpoints
  // still on the CPU: they can only reach it as exceptions or as register values.
  //  - Exceptions. A Breakpoint or Watchpoint exception needs MDSCR_EL1.MDE == 1, at EL0 as at
  //    EL1 (Arm ARM D2 "Breakpoint exceptions", "Watchpoint exceptions"; "Enabling debug
  //    exceptions from the current Exception level" adds KDE and PSTATE.D only for the EL
  //    the exceptions are taken to, EL1 here, and the guest's EL0 is enabled below it).
  //    MDSCR_EL1 is in el1_, restored before the guest runs: MDE is the guest's own. So the
  //    debug registers wait only while it is 0. Once the guest sets it (its MSR MDSCR_EL1
  //    traps and switches them in first), it stays set across put() and load(), and load()
  //    then restores them at once, as KVM does for MDE or KDE: a guest that enabled
  //    breakpoints and touches no debug register after the switch would otherwise take
  //    another owner's and miss its own (qemu_isolation_breakpoints). Software step
  //    (MDSCR_EL1.SS with PSTATE.SS, D2 "Software Step exceptions") uses no breakpoint or
  //    watchpoint register: both are the guest's own. Vector Catch exceptions exist only when
  //    EL1 uses AArch32 (D2 "Vector Catch exceptions"), which a vCPU never does.
  //  - Values. Every MRS and MSR of a breakpoint or watchpoint register traps under
  //    MDCR_EL2.TDA (D19.2) and is answered from debug_ (read_self_hosted_debug_register()).
  // TDA stays set after the switch, unlike KVM's: without FEAT_FGT it is also the only trap
  // of the claim tags and the DCC (context.cppm, read_debug_channel_register), which must stay
  // the guest's own. The cost is an exit per debug register access of a guest that debugs,
  // none for the others. The OS lock, OS double lock and DBGPRCR_EL1 are not TDA's (they are
  // TDOSA's, emulated from debug_ either way), nor is MDRAR_EL1 (TDRA).
  void switch_in_debug_registers() noexcept {
    if (debug_registers_on_cpu_) return;
    restore_debug_state(debug_, debug_counts_);
    debug_registers_on_cpu_ = true;
  }

  // Without a guest PMU the guest reads PMUVer 0, so each PMU register access (trapped by
  // MDCR_EL2.TPM and TPMCR, which load() keeps set) is what it is on a CPU without
  // FEAT_PMUv3: an undefined instruction (Arm ARM D19, each PMU register's "Accessibility",
  // and ID_AA64DFR0_EL1.PMUVer 0b0000), for writes as for reads. Answered here, so no
  // hypervisor can answer some of them by mistake and make the absent PMU half present.
  bool answer_absent_pmu_access() noexcept {
    inject_undefined_here();
    return true;
  }

  // A trapped read of an ID register (HCR_EL2.TID3): answered here, filtered.
  bool answer_id_register_read() noexcept {
    SysRegRead& read = current_.as<SysRegRead>();
    read.complete(guest_id_register(read.encoding, read_id_register(read.encoding), pmu_counters_ != 0));
    complete(regs_, read);
    return true;
  }

  // A trapped access to the OS lock, double lock or DBGPRCR_EL1 (MDCR_EL2.TDOSA): answered
  // here from this vCPU's DebugState. Any other register, and an access the register does
  // not allow (MRS OSLAR_EL1, MSR OSLSR_EL1), goes to the hypervisor, whose default is UNDEF.
  bool answer_powerdown_debug_read() noexcept {
    SysRegRead& read = current_.as<SysRegRead>();
    std::uint64_t value = 0;
    if (!read_powerdown_debug_register(read.encoding, debug_, value)) return false;
    read.complete(value);
    complete(regs_, read);
    return true;
  }
  bool answer_powerdown_debug_write() noexcept {
    SysRegWrite& write = current_.as<SysRegWrite>();
    if (!write_powerdown_debug_register(write.encoding, write.value, debug_)) return false;
    complete(regs_, write);
    return true;
  }

  // Offers an HVC/SMC exit to arm.smc. Returns true when the call was answered and the
  // guest can resume; otherwise current_ holds the event for the hypervisor.
  [[gnu::noinline]] bool answer_call_internally() noexcept {
    if (auto* call = current_.get_if<Hypercall>()) return dispatch_call(*call);
    if (auto* call = current_.get_if<SecureMonitorCall>()) return dispatch_call(*call);
    return false;
  }
  template <class Call>
  bool dispatch_call(Call& call) noexcept {
    smccc::CallOutcome outcome = smccc::dispatch(call, *config_.calls);
    if (outcome.is<smccc::NotHandled>()) return false;
    // An answer goes straight to x0-x3: nobody sees this event, so it records no reply.
    if (auto* answer = outcome.get_if<smccc::Answer>()) {
      complete_call(regs_, answer->x, conduit_of(call));
      return true;
    }
    if (outcome.is<smccc::Forward>()) {
      smccc::answer(call, outcome, firmware_);
      complete(regs_, call);
      return true;
    }
    // A PSCI decision: the hypervisor completes it, complete_exit() answers the call (the
    // event knows its conduit, so where the guest resumes).
    outcome.visit([this](auto& decision) {
      if constexpr (Exit::holds_type<std::remove_cvref_t<decltype(decision)>>) current_ = decision;
    });
    return false;
  }

  // Applies the hypervisor's reply to the guest, or the default its event's row of the exit
  // rules names (arm.trap:rules, kExitRule).
  // complete_exit() with the frequent cases inline: the events whose completion is a
  // register write and a PC step, when the hypervisor answered them (a hypercall's result
  // registers, HVC being taken after the instruction so the PC stays; an MRS's or an MMIO
  // load's destination register and the PC), and the MMIO store and MSR nobody rejected
  // (the PC only: their rows, arm.trap:rules, complete a store or an MSR without a reply),
  // and a WFI/WFE, which has no reply and always completes.
  // The same completions as finish() in arm.trap:rules; every other case is
  // complete_exit()'s: no reply, a rejection, a retry or a default that injects.
  // Nothing to do once the hypervisor replaced the completion (inject_*(), resume_as_is()
  // clear exit_pending_), or before the first exit. The completions leave exit_pending_ set:
  // nothing reads it before the guest's next exit sets it again (a store saved per exit).
  [[gnu::always_inline]] void finish_exit() noexcept {
    if (exit_pending_) [[likely]] {
      switch (current_.index()) {
        case Exit::index_for<Hypercall>:
          if (finish_answered(current_.as<Hypercall>())) return;
          break;
        case Exit::index_for<SysRegRead>:
          if (finish_answered(current_.as<SysRegRead>())) return;
          break;
        case Exit::index_for<MmioRead>:
          if (finish_answered(current_.as<MmioRead>())) return;
          break;
        case Exit::index_for<MmioWrite>:
          if (finish_unrejected(current_.as<MmioWrite>())) return;
          break;
        case Exit::index_for<SysRegWrite>:
          if (finish_unrejected(current_.as<SysRegWrite>())) return;
          break;
        case Exit::index_for<Wfx>:  // no reply: the hypervisor's wait emulated it
          static_assert(kExitRule<Wfx>.no_reply == Default::Complete);
          complete(regs_, current_.as<Wfx>());
          return;
        default:
          break;
      }
      complete_exit();
    }
  }
  template <class Event>
  [[gnu::always_inline]] bool finish_answered(const Event& event) noexcept {
    if (event.reply != Reply::Answered) return false;
    complete(regs_, event);
    return true;
  }
  template <class Event>
  [[gnu::always_inline]] bool finish_unrejected(const Event& event) noexcept {
    static_assert(kExitRule<Event>.no_reply == Default::Complete, "a reply-less store or MSR completes");
    if (event.reply > Reply::Answered) return false;  // None or Answered (one compare)
    complete(regs_, event);
    return true;
  }
  [[gnu::noinline]] void complete_exit() noexcept {
    current_.visit(
        [this](auto& event) { finish(regs_, event, [this](auto&& injection) { inject(injection); }); });
  }

  void inject_undefined_here() noexcept {
    inject([](auto& regs, auto& el1) { inject_undefined_instruction(regs, el1); });
  }

  // Runs an arm.trap injection against the guest's EL1 exception registers, which are on
  // the CPU while the vCPU is loaded and in el1_ otherwise.
  template <class Injection>
  void inject(Injection&& injection) noexcept {
    El1ExceptionState el1;
    if (loaded_) {
      el1 = {read_sysreg<SysReg::VBAR_EL1>(), read_sysreg<SysReg::SCTLR_EL1>(),
             read_sysreg<SysReg::ESR_EL1>(),  read_sysreg<SysReg::FAR_EL1>(),
             read_sysreg<SysReg::ELR_EL1>(),  read_sysreg<SysReg::SPSR_EL1>()};
    } else {
      el1 = {el1_.at<SysReg::VBAR_EL1>(), el1_.at<SysReg::SCTLR_EL1>(), el1_.at<SysReg::ESR_EL1>(),
             el1_.at<SysReg::FAR_EL1>(),  el1_.at<SysReg::ELR_EL1>(),   el1_.at<SysReg::SPSR_EL1>()};
    }
    injection(regs_, el1);
    if (loaded_) {
      write_sysreg<SysReg::ESR_EL1>(el1.esr);
      write_sysreg<SysReg::FAR_EL1>(el1.far);
      write_sysreg<SysReg::ELR_EL1>(el1.elr);
      write_sysreg<SysReg::SPSR_EL1>(el1.spsr);
    } else {
      el1_.at<SysReg::ESR_EL1>() = el1.esr;
      el1_.at<SysReg::FAR_EL1>() = el1.far;
      el1_.at<SysReg::ELR_EL1>() = el1.elr;
      el1_.at<SysReg::SPSR_EL1>() = el1.spsr;
    }
  }

  // A guest PMU needs an architected one (FEAT_PMUv3) with an event counter to lend.
  void configure_pmu(const HardwareFeatures& cpu) noexcept {
    const std::uint64_t version = pmu_version(cpu.id_aa64dfr0);
    const unsigned implemented = cpu.pmu_counters;
    if (version == 0 || implemented == 0) return;
    unsigned counters = config_.pmu_event_counters;
    if (counters == 0) counters = implemented > 1 ? implemented - 1 : 1;
    pmu_counters_ = counters > implemented ? implemented : counters;
    pmu_mdcr_ = std::uint64_t{pmu_counters_} << mdcr::kHpmnShift;
    if (version >= kPmuVersionV3p1) pmu_mdcr_ |= mdcr::kHpmd;
    if (version >= kPmuVersionV3p5) pmu_mdcr_ |= mdcr::kHccd;
  }
  static constexpr std::uint64_t kPmuMdcrFields =
      mdcr::kHpmnMask | mdcr::kTpm | mdcr::kTpmcr | mdcr::kHpme | mdcr::kHpmd | mdcr::kHccd;
  // The guest PMU (GuestPmu::Partitioned) is lent, not emulated: load() sets MDCR_EL2.HPMN to
  // the guest's counter count and clears TPM and TPMCR, so every PMU register access of the
  // guest runs on the hardware (Arm ARM D12.1, "Controlling the PMU counters from EL2"):
  //  - Why no access needs a trap: HPMN alone confines EL1 and EL0 to their partition. They
  //    read PMCR_EL0.N as HPMN; PMEVCNTR<n>/PMEVTYPER<n> with n >= HPMN are UNDEFINED to them
  //    (or reach no counter through PMSELR_EL0/PMXEV*); the bits of counters >= HPMN in
  //    PMCNTEN*, PMINTEN*, PMOVS* and PMSWINC are RAZ/WI; PMCR_EL0.E and P act on [0, HPMN)
  //    and the cycle counter only, HPME and HPMP on the rest. The cycle counter is not
  //    partitioned: it is the EL1 partition's, so the guest's while it is loaded (the host's
  //    cycle counts, e.g. the benchmarks' PMCCFILTR_EL0.NSH count at EL2, come back at put()).
  //  - EL2 cycles and events in the guest's counters: MDCR_EL2.HPMD (FEAT_PMUv3p1) stops
  //    counters [0, HPMN) at EL2 whatever the guest's PMEVTYPER<n>.NSH, and MDCR_EL2.HCCD
  //    (FEAT_PMUv3p5) the cycle counter. Without v3p5 the cycle counter at EL2 follows the
  //    guest's PMCCFILTR_EL0.NSH, which a guest leaves clear (its reset value and every
  //    kernel's) and which only its own exits could show.
  //  - Cost: nothing per exit (no PMU trap; the exit path touches no PMU register). Per
  //    switch, load() and put() each move the guest's and the host's partition: PMCR,
  //    PMCNTEN, PMINTEN, PMOVS, PMSELR, PMUSERENR, PMCCFILTR, PMCCNTR and two registers per
  //    counter, 2 x (8 + 2 x pmu_counters()) reads and as many writes, plus MDCR_EL2.
  //  - The overflow interrupt: the guest's counters raise the physical PMU interrupt (PPI
  //    23) while it runs; the hypervisor takes it as an ExternalInterrupt exit and hands it
  //    to inject_pmu_overflow_interrupt() or to its virtual GIC.
  //
  // The host's partition off the CPU, the guest's on it. The host's counters at
  // and above HPMN keep counting under MDCR_EL2.HPME if its PMCR_EL0.E had them counting.
  void load_pmu() noexcept {
    const std::uint64_t mdcr = read_sysreg<SysReg::MDCR_EL2>();
    host_pmu_mdcr_ = mdcr & kPmuMdcrFields;
    save_pmu_state(host_pmu_, pmu_counters_);
    std::uint64_t guest_mdcr = (mdcr & ~kPmuMdcrFields) | pmu_mdcr_;
    if ((host_pmu_.pmcr & pmcr::kEnable) != 0) guest_mdcr |= mdcr::kHpme;
    write_sysreg<SysReg::MDCR_EL2>(guest_mdcr);
    restore_pmu_state(pmu_, pmu_counters_);
  }
  void put_pmu() noexcept {
    save_pmu_state(pmu_, pmu_counters_);
    write_sysreg<SysReg::MDCR_EL2>((read_sysreg<SysReg::MDCR_EL2>() & ~kPmuMdcrFields) | host_pmu_mdcr_);
    restore_pmu_state(host_pmu_, pmu_counters_);
    instruction_barrier();
  }

  // Decodes the exit into current_, in place: an Exit is a union of every event, too
  // large to build elsewhere and copy on every exit. Returns current_.index().
  [[gnu::always_inline]] std::size_t classify(std::uint64_t code) noexcept {
    const auto vector = static_cast<ExitVector>(code);
    if (vector != ExitVector::Synchronous) [[unlikely]] {
      classify_asynchronous(vector);
      return current_.index();
    }
    return decode_syndrome();
  }
  [[gnu::noinline]] void classify_asynchronous(ExitVector vector) noexcept {
    if (vector == ExitVector::Irq || vector == ExitVector::Fiq) {
      current_.emplace<ExternalInterrupt>().fiq = vector == ExitVector::Fiq;
      return;
    }
    decode_syndrome();
  }
  [[gnu::always_inline]] std::size_t decode_syndrome() noexcept {
    // Synchronous exceptions and SErrors (HCR_EL2.AMO) both leave a syndrome in ESR_EL2;
    // the decoder tells them apart, and AArch32 sources, by the exception class. The fault
    // address registers are read only for the exits that need them.
    return decode_into(current_, read_sysreg<SysReg::ESR_EL2>(), regs_, [](std::uint64_t esr) {
      return Syndrome{esr, read_sysreg<SysReg::FAR_EL2>(), read_sysreg<SysReg::HPFAR_EL2>()};
    });
  }

  VCpuConfig config_;
  GuestRegisters regs_;
  El1Context el1_;
  FpSimdState fpsimd_;
  DebugState debug_;
  DebugRegisterCounts debug_counts_;
  bool debug_registers_on_cpu_ = false;
  PointerAuthKeys keys_;
  bool pointer_auth_ = false;
  bool lor_ = false;   // FEAT_LOR: HCR_EL2.TLOR traps the LORegion registers
  PmuState pmu_;       // the guest's partition, while off the CPU
  PmuState host_pmu_;  // the host's values of the same registers, while the guest's are on
  unsigned pmu_counters_ = 0;
  std::uint64_t pmu_mdcr_ = 0;       // HPMN, HPMD, HCCD for this guest
  std::uint64_t host_pmu_mdcr_ = 0;  // the PMU fields of MDCR_EL2 before load()
  bool fpsimd_present_ = false;
  std::uint64_t hidden_cpacr_ = 0;  // CPACR_EL1.ZEN/SMEN held at "no EL1 trap" (hidden_cpacr_controls)
  bool cpu_has_sve_or_sme_ = false;
  bool sme_ = false;          // TPIDR2_EL0 and SMPRI_EL1 exist and are switched
  bool sme_trapped_ = false;  // TPIDR2_EL0 and SMPRI_EL1 trapped (FEAT_FGT) and UNDEFINED
  SmeUntrappedRegisters sme_untrapped_;
  std::uint64_t host_hfgrtr_ = 0, host_hfgwtr_ = 0;  // while loaded with sme_trapped_
  bool virtual_gic_ = false;
  VgicState vgic_;
  unsigned list_registers_ = 0;
  std::uint64_t hcr_ = 0;
  std::uint64_t exit_count_ = 0;
  std::uint64_t set_way_operations_ = 0;
  std::uint64_t guest_memory_flushes_ = 0;
  Exit current_ = Unhandled{};
  // An exit was yielded and its completion (or default) is still to run: set by
  // run_until_exit(), cleared by the hypervisor's inject_*() and resume_as_is().
  bool exit_pending_ = false;
#if defined(__aarch64__)
  smccc::SmcConduit firmware_;  // allow-listed SMCs go to the real firmware
#else
  smccc::NoFirmware firmware_;
#endif
  bool loaded_ = false;
  GenericTimer physical_timer_;  // the guest's EL1 physical timer, when emulated
  bool physical_line_ = false;   // its output as last reported (TimerLevel, sample_timer_lines())
  bool emulate_physical_timer_ = false;
  AnsweredRegisterGroups answered_;  // where answer_system_register_internally() may answer
  FrameStorage<512> frames_;
};

// For a hypervisor that parks vCPUs waiting in WFI (put() them, run others or nothing):
// sleeps this physical CPU until the earliest timer deadline among `parked[0..count)` or
// until another interrupt arrives, whichever comes first, and returns the parked vCPUs whose
// timer output is high now (bit n = parked[n]): those became runnable by their timers. It
// returns at once when one already is. The sleep is a WFI at EL2, which a pending interrupt
// ends whatever PSTATE.I (Arm ARM D1 "Wait for Interrupt"); an interrupt other than the
// timer's stays pending for the caller to acknowledge. The deadline is armed on the EL2
// physical timer (HypervisorTimer::start_at), whose PPI 26 the caller has enabled at its GIC,
// and disarmed before returning: a watchdog the caller keeps on it must be re-armed after.
// It may return 0: a spurious wake, or another interrupt. Only the timers are considered;
// interrupts waiting in a parked vCPU's vGIC are the caller's to check.
inline std::uint32_t sleep_until_timer_deadline(VCpu* const* parked, unsigned count) noexcept {
  const auto runnable = [&] {
    std::uint32_t ready = 0;
    for (unsigned n = 0; n < count && n < 32; ++n) {
      const TimerLines lines = parked[n]->sample_timer_lines();
      if (lines.virtual_timer || lines.physical_timer) ready |= 1u << n;
    }
    return ready;
  };
  if (const std::uint32_t ready = runnable(); ready != 0) return ready;
  std::uint64_t deadline = kNoDeadline;
  for (unsigned n = 0; n < count; ++n) deadline = earliest(deadline, parked[n]->next_deadline());
  if (deadline != kNoDeadline) HypervisorTimer::start_at(deadline);
  wait_for_interrupt();
  if (deadline != kNoDeadline) HypervisorTimer::stop();
  return runnable();
}

}  // namespace arm
