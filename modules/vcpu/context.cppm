// The parts of a guest's state that stay on the CPU between exits and move only in
// VCpu::load()/put(): EL1/EL0 system registers, FP/SIMD registers, the virtual timer,
// the virtual CPU identity, and the hardware breakpoints and watchpoints.
module;
#include <arm/asm/context.h>
#include <arm/runtime/std_support.h>
export module arm.vcpu:context;
import arm.sysreg;
import arm.trap;

// asm/fpsimd.S. The host build has no FP context to move.
extern "C" void arm_fpsimd_save(void* state);
extern "C" void arm_fpsimd_restore(const void* state);

export namespace arm {

// The guest's EL1 and EL0 system registers a guest OS uses, the virtual timer, and the
// identity it reads (VMPIDR_EL2/VPIDR_EL2 stand in for MPIDR_EL1/MIDR_EL1). MDSCR_EL1 and
// MDCCINT_EL1 are the EL1 debug controls every AArch64 CPU has (Arm ARM D19.3): debug
// exceptions enabled (MDE, KDE), software step, debug communications channel interrupts.
inline constexpr SysReg kEl1ContextRegisters[] = {
    SysReg::SCTLR_EL1,   SysReg::ACTLR_EL1,      SysReg::CPACR_EL1,    SysReg::TTBR0_EL1,
    SysReg::TTBR1_EL1,   SysReg::TCR_EL1,        SysReg::MAIR_EL1,     SysReg::AMAIR_EL1,
    SysReg::VBAR_EL1,    SysReg::CONTEXTIDR_EL1, SysReg::TPIDR_EL0,    SysReg::TPIDRRO_EL0,
    SysReg::TPIDR_EL1,   SysReg::ESR_EL1,        SysReg::FAR_EL1,      SysReg::AFSR0_EL1,
    SysReg::AFSR1_EL1,   SysReg::PAR_EL1,        SysReg::CNTKCTL_EL1,  SysReg::CSSELR_EL1,
    SysReg::MDSCR_EL1,   SysReg::MDCCINT_EL1,    SysReg::SP_EL0,       SysReg::SP_EL1,
    SysReg::ELR_EL1,     SysReg::SPSR_EL1,       SysReg::CNTV_CTL_EL0, SysReg::CNTV_CVAL_EL0,
    SysReg::CNTVOFF_EL2, SysReg::VMPIDR_EL2,     SysReg::VPIDR_EL2,
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
  template <SysReg R>
  constexpr std::uint64_t& at() noexcept {
    static_assert(el1_index(R) < kEl1ContextSize, "not part of the EL1 context");
    return values[el1_index(R)];
  }
  template <SysReg R>
  constexpr std::uint64_t at() const noexcept {
    static_assert(el1_index(R) < kEl1ContextSize, "not part of the EL1 context");
    return values[el1_index(R)];
  }
};

namespace detail {
template <std::size_t I = 0>
inline void save_el1(El1Context& context) noexcept {
  if constexpr (I < kEl1ContextSize) {
    context.values[I] = read_sysreg<kEl1ContextRegisters[I]>();
    save_el1<I + 1>(context);
  }
}
template <std::size_t I = 0>
inline void restore_el1(const El1Context& context) noexcept {
  if constexpr (I < kEl1ContextSize) {
    write_sysreg<kEl1ContextRegisters[I]>(context.values[I]);
    restore_el1<I + 1>(context);
  }
}
}  // namespace detail

inline void save_el1_context(El1Context& context) noexcept { detail::save_el1(context); }
inline void restore_el1_context(const El1Context& context) noexcept { detail::restore_el1(context); }

// The pointer authentication keys (FEAT_PAuth): EL1 state the guest owns (HCR_EL2.APK
// and API leave keys and instructions untrapped), switched only on CPUs that have them.
inline constexpr SysReg kPointerAuthKeys[] = {
    SysReg::APIAKEYLO_EL1, SysReg::APIAKEYHI_EL1, SysReg::APIBKEYLO_EL1, SysReg::APIBKEYHI_EL1,
    SysReg::APDAKEYLO_EL1, SysReg::APDAKEYHI_EL1, SysReg::APDBKEYLO_EL1, SysReg::APDBKEYHI_EL1,
    SysReg::APGAKEYLO_EL1, SysReg::APGAKEYHI_EL1,
};
inline constexpr std::size_t kPointerAuthKeyCount = sizeof(kPointerAuthKeys) / sizeof(kPointerAuthKeys[0]);

struct PointerAuthKeys {
  std::uint64_t values[kPointerAuthKeyCount] = {};
};

namespace detail {
template <std::size_t I = 0>
inline void save_keys(PointerAuthKeys& keys) noexcept {
  if constexpr (I < kPointerAuthKeyCount) {
    keys.values[I] = read_sysreg<kPointerAuthKeys[I]>();
    save_keys<I + 1>(keys);
  }
}
template <std::size_t I = 0>
inline void restore_keys(const PointerAuthKeys& keys) noexcept {
  if constexpr (I < kPointerAuthKeyCount) {
    write_sysreg<kPointerAuthKeys[I]>(keys.values[I]);
    restore_keys<I + 1>(keys);
  }
}
}  // namespace detail

inline void save_pointer_auth_keys(PointerAuthKeys& keys) noexcept { detail::save_keys(keys); }
inline void restore_pointer_auth_keys(const PointerAuthKeys& keys) noexcept { detail::restore_keys(keys); }

// The two FEAT_SME registers that no SME trap covers: TPIDR2_EL0 and SMPRI_EL1. Their
// accessibility (Arm ARM D24.2, MRS/MSR pseudocode of each) tests neither CPACR_EL1.SMEN nor
// CPTR_EL2.TSM, only FEAT_FGT's HFGRTR_EL2/HFGWTR_EL2.nTPIDR2_EL0 and nSMPRI_EL1 (and
// CPTR_EL3.ESM), so on a CPU with SME a guest reaches them even where the vCPU hides SME
// (features.cppm). So where VCpu hides SME:
//  - on a CPU with FEAT_FGT (every CPU with SME is Armv9.2 or later, and FGT is mandatory
//    from Armv8.6), load() clears both n-bits (hfgxtr, arm.percpu) and the vCPU answers the
//    trapped accesses as UNDEFINED inside run(), as on a CPU without SME;
//  - without FGT (QEMU 7.2's max has SME but no FGT) they cannot be trapped: VCpu switches
//    both per vCPU, so no host or other-vCPU value reaches a guest (qemu_sme_registers), and
//    the guest can use them although its ID registers say SME is absent (README, Known
//    limitations). Both reset to UNKNOWN values (D24.2): a new vCPU's are 0.
constexpr bool is_sme_untrapped_register(SysRegEncoding encoding) noexcept {
  return encoding == SysReg::TPIDR2_EL0 || encoding == SysReg::SMPRI_EL1;
}
struct SmeUntrappedRegisters {
  std::uint64_t tpidr2_el0 = 0;
  std::uint64_t smpri_el1 = 0;
};
inline void save_sme_untrapped_registers(SmeUntrappedRegisters& registers) noexcept {
  registers.tpidr2_el0 = read_sysreg<SysReg::TPIDR2_EL0>();
  registers.smpri_el1 = read_sysreg<SysReg::SMPRI_EL1>();
}
inline void restore_sme_untrapped_registers(const SmeUntrappedRegisters& registers) noexcept {
  write_sysreg<SysReg::TPIDR2_EL0>(registers.tpidr2_el0);
  write_sysreg<SysReg::SMPRI_EL1>(registers.smpri_el1);
}

// The hardware breakpoints and watchpoints (Arm ARM D2.8 "Breakpoint exceptions", D2.9
// "Watchpoint exceptions"): EL1 state a guest programs directly once VCpu has switched them
// in (MDCR_EL2.TDA clear). Without switching, vCPUs sharing a CPU would read each other's
// values, and a breakpoint one guest enabled would fire in another that sets
// MDSCR_EL1.MDE. VCpu switches them lazily (VCpuConfig::switch_debug_registers_on_first_use).
// A CPU has 2-16 of each (ID_AA64DFR0_EL1.BRPs and WRPs, count minus one,
// Arm ARM D19.2); DBGBVR<n>_EL1 and the others beyond that count are UNDEFINED (D19.3), so
// save and restore stop at the count. The fields count 16 at most; the further banks of
// FEAT_Debugv8p9 (selected by MDSELR_EL1) need MDCR_EL2.EBWE, which the library leaves 0,
// and are not switched.
inline constexpr unsigned kMaxBreakpoints = 16;
inline constexpr unsigned kMaxWatchpoints = 16;

// MDSCR_EL1 fields (Arm ARM D19.3, MDSCR_EL1).
namespace mdscr {
// Monitor debug events: enables Breakpoint, Watchpoint and Vector Catch exceptions, at EL0 as
// at EL1. With it clear no breakpoint or watchpoint generates an exception, whatever
// DBGBCR<n>_EL1.E and DBGWCR<n>_EL1.E say (Arm ARM D2 "Breakpoint exceptions", "Watchpoint exceptions"; the
// pseudocode AArch64.CheckBreakpoint and AArch64.CheckWatchpoint require MDSCR_EL1.MDE == '1').
inline constexpr std::uint64_t kMde = 1ull << 15;
}  // namespace mdscr

// One breakpoint (DBGBVR<n>_EL1, DBGBCR<n>_EL1) or watchpoint (DBGWVR<n>_EL1,
// DBGWCR<n>_EL1): the address to match and its control register (bit 0, E, enables it).
struct DebugRegisterPair {
  std::uint64_t value = 0;
  std::uint64_t control = 0;
};

// Fields of the powerdown debug registers (Arm ARM D19.3).
namespace oslar {
inline constexpr std::uint64_t kOslk = 1ull << 0;  // OSLAR_EL1.OSLK: 1 locks the OS lock, 0 unlocks it
}  // namespace oslar
namespace oslsr {
// OSLM, bits {[3], [0]}: 0b10 is "OS lock implemented, DBGOSSRR not implemented", the only
// value an Armv8 PE reports.
inline constexpr std::uint64_t kOslmImplemented = 1ull << 3;
inline constexpr std::uint64_t kOslk = 1ull << 1;  // the OS lock is locked
}  // namespace oslsr
namespace dbgprcr {
inline constexpr std::uint64_t kCorenpdrq = 1ull << 0;  // core no powerdown request, its only field
}  // namespace dbgprcr

// The debug communications channel (Arm ARM D2 "The Debug Communication Channel"; H4.3 "DCC
// and ITR registers") as a guest sees it with no external debugger connected, which for a
// vCPU is always: DTRTX carries data from the PE to the debugger, DTRRX from the debugger to
// the PE. A PE write to DTRTX sets TXfull and only a debugger reading it clears it; only a
// debugger writing DTRRX sets RXfull. So TXfull stays set once the guest has written, and
// RXfull stays clear.
struct DebugChannel {
  std::uint32_t dtrtx = 0;
  std::uint32_t dtrrx = 0;
  bool tx_full = false;
};

// MDCCSR_EL0 (Arm ARM D19.3): the channel's status, read-only.
namespace mdccsr {
inline constexpr std::uint64_t kTxFull = 1ull << 29;
inline constexpr std::uint64_t kRxFull = 1ull << 30;
}  // namespace mdccsr
// DBGAUTHSTATUS_EL1 as a vCPU's guest reads it (Arm ARM D19.3 DBGAUTHSTATUS_EL1): Non-secure
// invasive and non-invasive debug implemented but disabled (NSID [1:0] and NSNID [3:2]
// 0b10), Secure debug not implemented (SID, SNID 0b00: a vCPU has no Secure state). The
// authentication interface is external debug's, and no external debugger reaches a vCPU;
// self-hosted debug (the guest's own breakpoints) does not depend on it.
inline constexpr std::uint64_t kVcpuDebugAuthentication = (0b10u << 0) | (0b10u << 2);
// DBGCLAIMSET_EL1/DBGCLAIMCLR_EL1.CLAIM [7:0] (Arm ARM D19.3): eight claim tags, the number
// an Armv8-A PE implements; DBGCLAIMSET_EL1 reads as one for each implemented tag.
inline constexpr std::uint64_t kClaimTags = 0xff;

// A guest's self-hosted debug state beyond MDSCR_EL1 and MDCCINT_EL1 (kEl1ContextRegisters).
// A new vCPU's: every breakpoint and watchpoint zero (disabled), whatever the host or another
// vCPU left there; the OS lock locked, as after a Cold reset.
struct DebugState {
  DebugRegisterPair breakpoints[kMaxBreakpoints];
  DebugRegisterPair watchpoints[kMaxWatchpoints];
  // The powerdown debug registers, emulated and never on the CPU (VCpuConfig::emulate_os_lock):
  // the guest's OS lock, OSLSR_EL1.OSLK, which a Cold reset sets (Arm ARM D19.3, OSLSR_EL1;
  // Linux unlocks it while bringing each CPU up), and DBGPRCR_EL1, whose CORENPDRQ a Cold
  // reset sets from EDPRCR.COREPURQ: 0, since no external debugger asks a vCPU to stay
  // powered.
  bool os_lock_locked = true;
  std::uint64_t power_control = 0;
  // The claim tags and the debug communications channel, always emulated (MDCR_EL2.TDA traps
  // them whenever the guest runs: read_debug_channel_register). A Cold reset clears the claim tags (Arm ARM
  // D19.3, DBGCLAIMCLR_EL1) and empties the channel (EDSCR.TXfull, RXfull 0).
  std::uint8_t claim_tags = 0;
  DebugChannel channel;
  // OSECCR_EL1, the OS lock exception catch control (EDECCR's view for the OS, Arm ARM
  // D19.3): storage only, since no external debugger ever catches a vCPU's exceptions.
  std::uint32_t exception_catch = 0;
};

// The guest's MRS of a powerdown debug register (is_powerdown_debug_register), answered from
// its own DebugState. False for OSLAR_EL1, which is write-only (that MRS is UNDEFINED).
//  - OSLSR_EL1: OSLM says the OS lock is implemented; OSLK is this vCPU's lock.
//  - OSDLR_EL1: reads as zero. The vCPU implements no OS double lock, and without
//    FEAT_DoubleLock OSDLR_EL1 is RAZ/WI (Arm ARM D19.3, OSDLR_EL1.DLK is RES0;
//    ID_AA64DFR0_EL1.DoubleLock 0b1111, which the guest reads: see features.cppm). A double
//    lock would only keep the debug logic's registers accessible over a powerdown the guest
//    never sees.
//  - DBGPRCR_EL1: what the guest last wrote.
constexpr bool read_powerdown_debug_register(SysRegEncoding encoding, const DebugState& state,
                                             std::uint64_t& value) noexcept {
  if (encoding == SysReg::OSLSR_EL1) {
    value = oslsr::kOslmImplemented | (state.os_lock_locked ? oslsr::kOslk : 0);
    return true;
  }
  if (encoding == SysReg::OSDLR_EL1) {
    value = 0;
    return true;
  }
  if (encoding == SysReg::DBGPRCR_EL1) {
    value = state.power_control;
    return true;
  }
  return false;
}

// The guest's MSR to a powerdown debug register, applied to its own DebugState. False for
// OSLSR_EL1, which is read-only (that MSR is UNDEFINED).
constexpr bool write_powerdown_debug_register(SysRegEncoding encoding, std::uint64_t value,
                                              DebugState& state) noexcept {
  if (encoding == SysReg::OSLAR_EL1) {
    state.os_lock_locked = (value & oslar::kOslk) != 0;
    return true;
  }
  if (encoding == SysReg::OSDLR_EL1) return true;  // WI: see read_powerdown_debug_register
  if (encoding == SysReg::DBGPRCR_EL1) {
    state.power_control = value & dbgprcr::kCorenpdrq;
    return true;
  }
  return false;
}

// The claim tags, the DCC and OSECCR_EL1, per vCPU. MDCR_EL2.TDA traps them at EL1 and EL0
// (D19.2 MDCR_EL2.TDA; so do the DCC's EL0 accesses: MDSCR_EL1.TDCC only adds a trap to EL1),
// and VCpu keeps TDA set whenever a guest runs, so it answers every access here from the
// guest's DebugState and vCPUs sharing a CPU never see each other's tags or channel, nor the
// host's. Why not on the hardware: an EL2 without FEAT_FGT cannot trap them apart from the
// breakpoints (MDCR_EL2.TDCC and HDFGRTR_EL2.DBGCLAIM are FEAT_FGT's), and switching them
// needs the hardware to implement them, which QEMU 7.2 does not (its claim tags and
// DBGDTR*_EL0 are UNDEFINED even at EL2, so there its guests get UNDEF for them before any
// trap: only the unit tests reach this emulation).

// The guest's MRS of one of them, answered from its DebugState (false for any other
// register): every one of them is readable at EL1.
//  - DBGCLAIMSET_EL1: one for every implemented tag; DBGCLAIMCLR_EL1: the tags' values.
//  - MDCCSR_EL0: TXfull and RXfull (RXfull always 0, see DebugChannel).
//  - DBGDTRRX_EL0: DTRRX. With RXfull 0 the value is UNKNOWN (D19.3 DBGDTRRX_EL0): 0, the
//    reset value, which tells the guest nothing.
//  - DBGDTR_EL0: DTRTX in [63:32], DTRRX in [31:0] (D19.3 DBGDTR_EL0, HighWord and LowWord).
constexpr bool read_debug_channel_register(SysRegEncoding encoding, const DebugState& state,
                                           std::uint64_t& value) noexcept {
  if (encoding == SysReg::DBGCLAIMSET_EL1) {
    value = kClaimTags;
  } else if (encoding == SysReg::DBGCLAIMCLR_EL1) {
    value = state.claim_tags;
  } else if (encoding == SysReg::MDCCSR_EL0) {
    value = state.channel.tx_full ? mdccsr::kTxFull : 0;
  } else if (encoding == SysReg::DBGDTRRX_EL0 || encoding == SysReg::OSDTRRX_EL1) {
    value = state.channel.dtrrx;  // the same DTRRX: OSDTRRX_EL1 is its save/restore view
  } else if (encoding == SysReg::DBGDTR_EL0) {
    value = (std::uint64_t{state.channel.dtrtx} << 32) | state.channel.dtrrx;
  } else if (encoding == SysReg::OSDTRTX_EL1) {
    value = state.channel.dtrtx;
  } else if (encoding == SysReg::OSECCR_EL1) {
    value = state.exception_catch;
  } else {
    return false;
  }
  return true;
}

// The guest's MSR to one of them, applied to its DebugState. False for MDCCSR_EL0, which is
// read-only (that MSR is UNDEFINED). An MSR of the DBGDTRRX_EL0 encoding is DBGDTRTX_EL0.
//  - DBGCLAIMSET_EL1 sets, DBGCLAIMCLR_EL1 clears the tags written as one.
//  - DBGDTRTX_EL0 writes DTRTX and sets TXfull; DBGDTR_EL0 writes DTRTX from [31:0] and DTRRX
//    from [63:32] and sets TXfull. A write while TXfull is already set is an overrun: the
//    architecture makes DTRTX UNKNOWN then (D19.3 DBGDTRTX_EL0); the vCPU keeps the first
//    value, which no debugger will ever collect.
constexpr bool write_debug_channel_register(SysRegEncoding encoding, std::uint64_t value,
                                            DebugState& state) noexcept {
  DebugChannel& channel = state.channel;
  if (encoding == SysReg::DBGCLAIMSET_EL1) {
    state.claim_tags = static_cast<std::uint8_t>(state.claim_tags | (value & kClaimTags));
  } else if (encoding == SysReg::DBGCLAIMCLR_EL1) {
    state.claim_tags = static_cast<std::uint8_t>(state.claim_tags & ~value & kClaimTags);
  } else if (encoding == SysReg::DBGDTRTX_EL0 || encoding == SysReg::DBGDTR_EL0) {
    if (!channel.tx_full) {
      channel.dtrtx = static_cast<std::uint32_t>(value);
      if (encoding == SysReg::DBGDTR_EL0) channel.dtrrx = static_cast<std::uint32_t>(value >> 32);
    }
    channel.tx_full = true;
  } else if (encoding == SysReg::OSDTRRX_EL1) {
    channel.dtrrx = static_cast<std::uint32_t>(value);
  } else if (encoding == SysReg::OSDTRTX_EL1) {
    channel.dtrtx = static_cast<std::uint32_t>(value);
  } else if (encoding == SysReg::OSECCR_EL1) {
    state.exception_catch = static_cast<std::uint32_t>(value);
  } else {
    return false;
  }
  return true;
}

// How many breakpoints and watchpoints this CPU has: how many pairs load()/put() move. A
// property of the hardware, kept apart from the guest's DebugState so that nobody can raise
// it (moving a register beyond it is UNDEFINED at EL2).
struct DebugRegisterCounts {
  unsigned breakpoints = 0;
  unsigned watchpoints = 0;
};

// The counts of a CPU whose ID_AA64DFR0_EL1 reads `id_aa64dfr0`: BRPs [15:12] and WRPs
// [23:20] hold the number of breakpoints and watchpoints minus one.
constexpr DebugRegisterCounts debug_register_counts(std::uint64_t id_aa64dfr0) noexcept {
  return {static_cast<unsigned>((id_aa64dfr0 >> 12) & 0xf) + 1,
          static_cast<unsigned>((id_aa64dfr0 >> 20) & 0xf) + 1};
}

// Where a breakpoint or watchpoint register lives in `state`: DBGBVR<n>_EL1, DBGBCR<n>_EL1,
// DBGWVR<n>_EL1 and DBGWCR<n>_EL1 are op0 = 2, op1 = 0, CRn = 0, CRm = n, op2 = 4, 5, 6 and 7
// (Arm ARM D19.3). Null for any other register and for n at or beyond what the CPU has
// (`counts`): those are UNDEFINED (D19.3), and the access goes on as unanswered.
constexpr std::uint64_t* debug_register_slot(SysRegEncoding encoding, DebugState& state,
                                             const DebugRegisterCounts& counts) noexcept {
  if (encoding.op0() != 2 || encoding.op1() != 0 || encoding.crn() != 0 || encoding.op2() < 4) return nullptr;
  const unsigned n = encoding.crm();
  const bool watchpoint = encoding.op2() >= 6;
  if (n >= (watchpoint ? counts.watchpoints : counts.breakpoints)) return nullptr;
  DebugRegisterPair& pair = watchpoint ? state.watchpoints[n] : state.breakpoints[n];
  return (encoding.op2() & 1) != 0 ? &pair.control : &pair.value;
}

namespace detail {
static_assert(bank_register(SysReg::DBGBVR0_EL1, kMaxBreakpoints - 1) == SysReg::DBGBVR15_EL1);
static_assert(bank_register(SysReg::DBGBCR0_EL1, kMaxBreakpoints - 1) == SysReg::DBGBCR15_EL1);
static_assert(bank_register(SysReg::DBGWVR0_EL1, kMaxWatchpoints - 1) == SysReg::DBGWVR15_EL1);
static_assert(bank_register(SysReg::DBGWCR0_EL1, kMaxWatchpoints - 1) == SysReg::DBGWCR15_EL1);

// Pairs 0..count-1 of the value and control banks, unrolled at compile time: register <N>
// is one mrs/msr behind a test of N against the count, and nothing at or beyond the count
// is touched.
template <SysReg Values, SysReg Controls, unsigned N = 0, unsigned Size>
inline void save_pairs(DebugRegisterPair (&pairs)[Size], unsigned count) noexcept {
  if constexpr (N < Size) {
    if (N >= count) return;
    pairs[N].value = read_sysreg<bank_register(Values, N)>();
    pairs[N].control = read_sysreg<bank_register(Controls, N)>();
    save_pairs<Values, Controls, N + 1>(pairs, count);
  }
}
template <SysReg Values, SysReg Controls, unsigned N = 0, unsigned Size>
inline void restore_pairs(const DebugRegisterPair (&pairs)[Size], unsigned count) noexcept {
  if constexpr (N < Size) {
    if (N >= count) return;
    write_sysreg<bank_register(Values, N)>(pairs[N].value);
    write_sysreg<bank_register(Controls, N)>(pairs[N].control);
    restore_pairs<Values, Controls, N + 1>(pairs, count);
  }
}
}  // namespace detail

inline void save_debug_state(DebugState& state, const DebugRegisterCounts& counts) noexcept {
  detail::save_pairs<SysReg::DBGBVR0_EL1, SysReg::DBGBCR0_EL1>(state.breakpoints, counts.breakpoints);
  detail::save_pairs<SysReg::DBGWVR0_EL1, SysReg::DBGWCR0_EL1>(state.watchpoints, counts.watchpoints);
}
inline void restore_debug_state(const DebugState& state, const DebugRegisterCounts& counts) noexcept {
  detail::restore_pairs<SysReg::DBGBVR0_EL1, SysReg::DBGBCR0_EL1>(state.breakpoints, counts.breakpoints);
  detail::restore_pairs<SysReg::DBGWVR0_EL1, SysReg::DBGWCR0_EL1>(state.watchpoints, counts.watchpoints);
}

// V0-V31 (128 bits each), FPSR and FPCR; laid out as asm/fpsimd.S expects.
struct alignas(16) FpSimdState {
  std::uint64_t v[32][2] = {};  // V<n> as {low 64 bits, high 64 bits}
  std::uint64_t fpsr = 0;
  std::uint64_t fpcr = 0;
};
static_assert(__builtin_offsetof(FpSimdState, v) == static_cast<std::size_t>(ARM_FPSIMD_V(0)));
static_assert(__builtin_offsetof(FpSimdState, v[31]) == static_cast<std::size_t>(ARM_FPSIMD_V(31)));
static_assert(__builtin_offsetof(FpSimdState, fpsr) == static_cast<std::size_t>(ARM_FPSIMD_FPSR));
static_assert(__builtin_offsetof(FpSimdState, fpcr) == static_cast<std::size_t>(ARM_FPSIMD_FPCR));
static_assert(sizeof(FpSimdState) == static_cast<std::size_t>(ARM_FPSIMD_SIZE));

inline void save_fpsimd(FpSimdState& state) noexcept {
#if defined(__aarch64__)
  arm_fpsimd_save(&state);
#else
  (void)state;
#endif
}
inline void restore_fpsimd(const FpSimdState& state) noexcept {
#if defined(__aarch64__)
  arm_fpsimd_restore(&state);
#else
  (void)state;
#endif
}

// A guest's Performance Monitors (Arm ARM D12 "The Performance Monitors Extension"), for a
// vCPU with VCpuConfig::pmu == GuestPmu::Partitioned. MDCR_EL2.HPMN splits the event
// counters (D12.1 "Controlling the PMU counters from EL2"): [0, HPMN) and the cycle counter
// PMCCNTR_EL0 belong to EL1 and EL0, under PMCR_EL0.E; [HPMN, PMCR_EL0.N) to EL2, under
// MDCR_EL2.HPME, and EL1/EL0 accesses to them are UNDEFINED (PMEVCNTR<n>_EL0, PMEVTYPER<n>_EL0)
// or RAZ/WI (their bits in PMCNTEN*, PMINTEN*, PMOVS*). The guest reads PMCR_EL0.N as HPMN.
// So a vCPU owns `counters` event counters and the cycle counter; this is their state while
// the vCPU is off the CPU (and the host's while it is on: VCpu keeps both).
inline constexpr unsigned kMaxPmuCounters = 31;
struct PmuState {
  std::uint64_t pmcr = 0;       // E, D, X, DP, LC, LP (P and C are write-only actions)
  std::uint64_t pmcnten = 0;    // PMCNTENSET_EL0 (bits [counters-1:0] and C, bit 31)
  std::uint64_t pminten = 0;    // PMINTENSET_EL1
  std::uint64_t pmovs = 0;      // PMOVSSET_EL0
  std::uint64_t pmselr = 0;     // PMSELR_EL0
  std::uint64_t pmuserenr = 0;  // PMUSERENR_EL0
  std::uint64_t pmccfiltr = 0;  // PMCCFILTR_EL0
  std::uint64_t pmccntr = 0;    // PMCCNTR_EL0
  std::uint64_t evtyper[kMaxPmuCounters] = {};
  std::uint64_t evcntr[kMaxPmuCounters] = {};
};

// PMCR_EL0 (Arm ARM D19, "PMCR_EL0"): the bits a restore writes back. P (bit 1) and C (bit 2)
// reset counters when written with 1, N [15:11] is read-only (HPMN from EL1).
namespace pmcr {
inline constexpr std::uint64_t kEnable = 1ull << 0;      // E
inline constexpr std::uint64_t kEventReset = 1ull << 1;  // P
inline constexpr std::uint64_t kCycleReset = 1ull << 2;  // C
inline constexpr unsigned kCountersShift = 11;           // N [15:11]
inline constexpr std::uint64_t kCountersMask = 0x1full << kCountersShift;
inline constexpr std::uint64_t kRestorable = ~(kEventReset | kCycleReset | kCountersMask);
}  // namespace pmcr
inline constexpr std::uint64_t kPmuCycleCounterBit = 1ull << 31;  // C in PMCNTEN*, PMINTEN*, PMOVS*

// The PMCNTEN/PMINTEN/PMOVS bits of event counters [0, counters) and the cycle counter.
constexpr std::uint64_t pmu_counter_bits(unsigned counters) noexcept {
  return ((std::uint64_t{1} << counters) - 1) | kPmuCycleCounterBit;
}

namespace detail {
template <SysReg Bank, unsigned N>
inline constexpr SysReg kPmuBankRegister = static_cast<SysReg>(static_cast<std::uint16_t>(Bank) + N);
static_assert(kPmuBankRegister<SysReg::PMEVCNTR0_EL0, kMaxPmuCounters - 1> == SysReg::PMEVCNTR30_EL0);
static_assert(kPmuBankRegister<SysReg::PMEVTYPER0_EL0, kMaxPmuCounters - 1> == SysReg::PMEVTYPER30_EL0);
// Event counters 0..count-1 by their direct registers (no PMSELR_EL0 indirection, which would
// need an ISB per counter), unrolled like the debug pairs.
template <unsigned N = 0>
inline void save_event_counters(PmuState& state, unsigned count) noexcept {
  if constexpr (N < kMaxPmuCounters) {
    if (N >= count) return;
    state.evtyper[N] = read_sysreg<kPmuBankRegister<SysReg::PMEVTYPER0_EL0, N>>();
    state.evcntr[N] = read_sysreg<kPmuBankRegister<SysReg::PMEVCNTR0_EL0, N>>();
    save_event_counters<N + 1>(state, count);
  }
}
template <unsigned N = 0>
inline void restore_event_counters(const PmuState& state, unsigned count) noexcept {
  if constexpr (N < kMaxPmuCounters) {
    if (N >= count) return;
    write_sysreg<kPmuBankRegister<SysReg::PMEVTYPER0_EL0, N>>(state.evtyper[N]);
    write_sysreg<kPmuBankRegister<SysReg::PMEVCNTR0_EL0, N>>(state.evcntr[N]);
    restore_event_counters<N + 1>(state, count);
  }
}
}  // namespace detail

// The EL1/EL0 partition's state: event counters [0, counters) and the cycle counter. Saving
// stops them first (PMCR_EL0.E clear, their PMCNTEN bits clear) so that nothing the next owner
// does is counted into the saved values, and the next owner's restore re-enables its own.
inline void save_pmu_state(PmuState& state, unsigned counters) noexcept {
  const std::uint64_t bits = pmu_counter_bits(counters);
  state.pmcr = read_sysreg<SysReg::PMCR_EL0>() & pmcr::kRestorable;
  write_sysreg<SysReg::PMCR_EL0>(state.pmcr & ~pmcr::kEnable);
  state.pmcnten = read_sysreg<SysReg::PMCNTENSET_EL0>() & bits;
  write_sysreg<SysReg::PMCNTENCLR_EL0>(bits);
  state.pminten = read_sysreg<SysReg::PMINTENSET_EL1>() & bits;
  state.pmovs = read_sysreg<SysReg::PMOVSSET_EL0>() & bits;
  state.pmselr = read_sysreg<SysReg::PMSELR_EL0>();
  state.pmuserenr = read_sysreg<SysReg::PMUSERENR_EL0>();
  state.pmccfiltr = read_sysreg<SysReg::PMCCFILTR_EL0>();
  state.pmccntr = read_sysreg<SysReg::PMCCNTR_EL0>();
  detail::save_event_counters(state, counters);
}
inline void restore_pmu_state(const PmuState& state, unsigned counters) noexcept {
  const std::uint64_t bits = pmu_counter_bits(counters);
  detail::restore_event_counters(state, counters);
  write_sysreg<SysReg::PMCCNTR_EL0>(state.pmccntr);
  write_sysreg<SysReg::PMCCFILTR_EL0>(state.pmccfiltr);
  write_sysreg<SysReg::PMUSERENR_EL0>(state.pmuserenr);
  write_sysreg<SysReg::PMSELR_EL0>(state.pmselr);
  write_sysreg<SysReg::PMOVSCLR_EL0>(bits & ~state.pmovs);
  write_sysreg<SysReg::PMOVSSET_EL0>(state.pmovs);
  write_sysreg<SysReg::PMINTENCLR_EL1>(bits & ~state.pminten);
  write_sysreg<SysReg::PMINTENSET_EL1>(state.pminten);
  write_sysreg<SysReg::PMCNTENCLR_EL0>(bits & ~state.pmcnten);
  write_sysreg<SysReg::PMCNTENSET_EL0>(state.pmcnten);
  write_sysreg<SysReg::PMCR_EL0>(state.pmcr);
}

}  // namespace arm
