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
// Advancing the loop applies the hypervisor's answer and re-enters the guest.
module;
#include <arm/asm/context.h>
#include <arm/runtime/std_support.h>
export module arm.vcpu;
export import arm.runtime;
export import arm.trap;
export import arm.smc;
export import arm.percpu;

// asm/world_switch.S: runs the guest until it exits; returns an ARM_EXIT_* code. The host
// build has no guest: unit tests link a scripted definition.
extern "C" std::uint64_t arm_enter_guest(arm::GuestRegisters* guest);

export namespace arm {

// Which vector entry ended a guest run (asm/vectors.S).
enum class ExitVector : std::uint64_t {
  Synchronous = ARM_EXIT_SYNCHRONOUS,
  Irq = ARM_EXIT_IRQ,
  Fiq = ARM_EXIT_FIQ,
  SError = ARM_EXIT_SERROR,
};
inline constexpr std::uint64_t kExitFromAArch32 = ARM_EXIT_AARCH32_FLAG;

// A physical interrupt arrived while the guest ran (HCR_EL2.IMO/FMO route it to EL2).
// The hypervisor acknowledges it at its interrupt controller.
struct ExternalInterrupt {
  bool fiq = false;
};

// What run() yields: one typed event per exit that needs the hypervisor.
// The arm.trap events follow the first four (issue 3: every TrapEvent alternative).
using Exit =
    OneOf<Hypercall, SecureMonitorCall, ExternalInterrupt, Unhandled, Wfx, FpAccessTrap, PointerAuthTrap,
          IllegalExecutionState, UnknownReason, UnsupportedAArch32, SysRegRead, SysRegWrite, InstructionAbort,
          PcAlignmentFault, SpAlignmentFault, MmioRead, MmioWrite, UndecodedDataAbort, GuestMemoryFault,
          SystemError, Breakpoint, SoftwareStep, Watchpoint, BrkInstruction>;

// PSTATE for entry at EL1 using SP_EL1 with D, A, I and F masked (Arm ARM C5.2.18 SPSR_EL2:
// M[3:0] = 0b0101 is EL1h), as the arm64 boot protocol requires.
inline constexpr std::uint64_t kPstateEl1h = 0b0101;
inline constexpr std::uint64_t kPstateDaifMasked = 0xfull << 6;

// SCTLR_EL1 at guest reset: its RES1 bits, MMU and caches off (Arm ARM D19.2 SCTLR_EL1).
inline constexpr std::uint64_t kSctlrEl1Res1 = (1ull << 29) | (1ull << 28) | (1ull << 23) | (1ull << 22) |
                                               (1ull << 20) | (1ull << 11);

struct VCpuConfig {
  std::uint64_t mpidr = 0;        // what the guest reads from MPIDR_EL1 (VMPIDR_EL2)
  std::uint64_t entry = 0;        // guest PC at the first entry
  std::uint64_t argument = 0;     // guest x0 at the first entry (e.g. a DTB address)
  std::uint64_t stack = 0;        // guest SP_EL1 at the first entry (0: the guest sets it)
  bool trap_wfi = false;
  bool trap_wfe = false;
};

// The guest's EL1 and EL0 system registers, moved by load()/put().
inline constexpr SysReg kEl1ContextRegisters[] = {
    SysReg::SCTLR_EL1,   SysReg::ACTLR_EL1,   SysReg::CPACR_EL1, SysReg::TTBR0_EL1,      SysReg::TTBR1_EL1,
    SysReg::TCR_EL1,     SysReg::MAIR_EL1,    SysReg::AMAIR_EL1, SysReg::VBAR_EL1,       SysReg::CONTEXTIDR_EL1,
    SysReg::TPIDR_EL0,   SysReg::TPIDRRO_EL0, SysReg::TPIDR_EL1, SysReg::ESR_EL1,        SysReg::FAR_EL1,
    SysReg::AFSR0_EL1,   SysReg::AFSR1_EL1,   SysReg::PAR_EL1,   SysReg::CNTKCTL_EL1,    SysReg::CSSELR_EL1,
    SysReg::MDSCR_EL1,   SysReg::SP_EL0,      SysReg::SP_EL1,    SysReg::ELR_EL1,        SysReg::SPSR_EL1,
    SysReg::CNTV_CTL_EL0, SysReg::CNTV_CVAL_EL0, SysReg::CNTVOFF_EL2, SysReg::VMPIDR_EL2, SysReg::VPIDR_EL2,
};
inline constexpr std::size_t kEl1ContextSize = sizeof(kEl1ContextRegisters) / sizeof(kEl1ContextRegisters[0]);

constexpr std::size_t el1_index(SysReg reg) noexcept {
  for (std::size_t i = 0; i < kEl1ContextSize; ++i)
    if (kEl1ContextRegisters[i] == reg) return i;
  return kEl1ContextSize;
}

// Values of kEl1ContextRegisters, in that order.
struct El1Context {
  std::uint64_t values[kEl1ContextSize] = {};
  template <SysReg R> constexpr std::uint64_t& at() noexcept {
    static_assert(el1_index(R) < kEl1ContextSize, "not part of the EL1 context");
    return values[el1_index(R)];
  }
  template <SysReg R> constexpr std::uint64_t at() const noexcept {
    static_assert(el1_index(R) < kEl1ContextSize, "not part of the EL1 context");
    return values[el1_index(R)];
  }
};

namespace detail {
template <std::size_t I = 0> inline void save_el1(El1Context& context) noexcept {
  if constexpr (I < kEl1ContextSize) {
    context.values[I] = read_sysreg<kEl1ContextRegisters[I]>();
    save_el1<I + 1>(context);
  }
}
template <std::size_t I = 0> inline void restore_el1(const El1Context& context) noexcept {
  if constexpr (I < kEl1ContextSize) {
    write_sysreg<kEl1ContextRegisters[I]>(context.values[I]);
    restore_el1<I + 1>(context);
  }
}
}  // namespace detail

class VCpu {
 public:
  explicit VCpu(const VCpuConfig& config) noexcept : config_(config) {
    regs_.pc = config.entry;
    regs_.pstate = kPstateEl1h | kPstateDaifMasked;
    regs_.x[0] = config.argument;
    el1_.at<SysReg::SCTLR_EL1>() = kSctlrEl1Res1;
    el1_.at<SysReg::SP_EL1>() = config.stack;
    el1_.at<SysReg::VMPIDR_EL2>() = config.mpidr;
    el1_.at<SysReg::VPIDR_EL2>() = read_sysreg<SysReg::MIDR_EL1>();
    hcr_ = read_sysreg<SysReg::HCR_EL2>();
    if (config.trap_wfi) hcr_ |= hcr::kTwi;
    if (config.trap_wfe) hcr_ |= hcr::kTwe;
  }
  VCpu(const VCpu&) = delete;
  VCpu& operator=(const VCpu&) = delete;

  // Puts this vCPU's EL1 state on the physical CPU. Call before run() and after another
  // vCPU ran on this CPU.
  void load() noexcept {
    detail::restore_el1(el1_);
    write_sysreg<SysReg::HCR_EL2>(hcr_);
    instruction_barrier();
    loaded_ = true;
  }
  // Takes this vCPU's EL1 state off the physical CPU.
  void put() noexcept {
    detail::save_el1(el1_);
    loaded_ = false;
  }
  bool loaded() const noexcept { return loaded_; }

  // Runs the guest, yielding one event per exit the hypervisor must see. Requires load().
  // The frame lives in this VCpu's own storage: if it does not fit, run() yields nothing.
  Generator<Exit> run() {
    for (;;) {
      const std::uint64_t code = arm_enter_guest(&regs_);
      ++exit_count_;
      Exit exit = classify(code);
      co_yield exit;
      finish(exit);
    }
  }

  GuestRegisters& registers() noexcept { return regs_; }
  const GuestRegisters& registers() const noexcept { return regs_; }
  El1Context& el1() noexcept { return el1_; }
  const VCpuConfig& config() const noexcept { return config_; }
  std::uint64_t exit_count() const noexcept { return exit_count_; }
  FrameArena& frame_arena() noexcept { return frames_; }

 private:
  Exit classify(std::uint64_t code) noexcept {
    const auto vector = static_cast<ExitVector>(code & ~kExitFromAArch32);
    if (vector == ExitVector::Irq || vector == ExitVector::Fiq)
      return ExternalInterrupt{vector == ExitVector::Fiq};
    const Syndrome syndrome{read_sysreg<SysReg::ESR_EL2>(), read_sysreg<SysReg::FAR_EL2>(),
                            read_sysreg<SysReg::HPFAR_EL2>()};
    if (vector != ExitVector::Synchronous || (code & kExitFromAArch32) != 0) return unhandled(syndrome, regs_);
    return decode(syndrome, regs_).visit([](auto& event) -> Exit { return event; });
  }

  void finish(Exit& exit) noexcept {
    exit.visit([this](auto& event) { apply(event); });
  }
  void apply(const Hypercall& call) noexcept { complete(regs_, call); }
  void apply(const SecureMonitorCall& call) noexcept { complete(regs_, call); }
  void apply(const ExternalInterrupt&) noexcept {}
  void apply(const Unhandled&) noexcept {}
  // arm.trap events (issue 3), minimal: the completions whose meaning is obvious. Still to
  // do by the arm.vcpu owner: inject an UNDEF/abort (arm::inject_*) for an unanswered
  // read, a rejected write or an unresolved fault, the lazy FP/SIMD and PAuth switch.
  void apply(const Wfx& wfx) noexcept { complete(regs_, wfx); }
  void apply(const MmioRead& read) noexcept { complete(regs_, read); }
  void apply(const MmioWrite& write) noexcept { complete(regs_, write); }
  void apply(const SysRegRead& read) noexcept { complete(regs_, read); }
  void apply(const SysRegWrite& write) noexcept { complete(regs_, write); }
  void apply(const UndecodedDataAbort& abort) noexcept { complete(regs_, abort); }
  void apply(const FpAccessTrap&) noexcept {}
  void apply(const PointerAuthTrap&) noexcept {}
  void apply(const IllegalExecutionState&) noexcept {}
  void apply(const UnknownReason&) noexcept {}
  void apply(const UnsupportedAArch32&) noexcept {}
  void apply(const InstructionAbort&) noexcept {}
  void apply(const PcAlignmentFault&) noexcept {}
  void apply(const SpAlignmentFault&) noexcept {}
  void apply(const GuestMemoryFault&) noexcept {}
  void apply(const SystemError&) noexcept {}
  void apply(const Breakpoint&) noexcept {}
  void apply(const SoftwareStep&) noexcept {}
  void apply(const Watchpoint&) noexcept {}
  void apply(const BrkInstruction&) noexcept {}

  VCpuConfig config_;
  GuestRegisters regs_;
  El1Context el1_;
  std::uint64_t hcr_ = 0;
  std::uint64_t exit_count_ = 0;
  bool loaded_ = false;
  FrameStorage<1024> frames_;
};

}  // namespace arm
