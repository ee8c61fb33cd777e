// The decoder: syndrome + guest registers in, one typed event out, built in place. Pure: no
// system register is read here (the caller supplies them), so every class is testable on
// the host. One case per exception class a lower Exception level can raise at EL2, and an
// explicit default: whatever is not decoded becomes Unhandled with the raw syndrome.
// Nothing here panics.
module;
#include <arm/runtime/std_support.h>
export module arm.trap:decode;
import arm.runtime;
import :registers;
import :esr;
import :events;
import :fault;
import :mmio;
import :abort;
import :sysreg;
import :debug;

export namespace arm {

using TrapEvent =
    OneOf<Hypercall, SecureMonitorCall, Wfx, FpAccessTrap, PointerAuthTrap, IllegalExecutionState,
          UnknownReason, UnsupportedAArch32, SysRegRead, SysRegWrite, InstructionAbort, PcAlignmentFault,
          SpAlignmentFault, MmioRead, MmioWrite, UndecodedDataAbort, GuestMemoryFault, SystemError,
          Breakpoint, SoftwareStep, Watchpoint, BrkInstruction, Unhandled>;

// SPSR_EL2.M[4] (PSTATE.nRW): the trap came from AArch32 state (Arm ARM, SPSR_EL2: M[4]
// is 1 for an exception taken from AArch32 state).
constexpr bool from_aarch32(const GuestRegisters& regs) noexcept { return bit(regs.pstate, 4); }

namespace detail {

// Each builder makes its class's event in `out`, in place: an event union is too large to
// build elsewhere and copy on every exit.

// ISS for HVC/SMC from AArch64: imm16 in ISS[15:0] (Arm ARM D19.2, "ISS encoding for an
// exception from HVC or SVC instruction execution" / "... SMC instruction execution").
// The result is left as it is: it is read only once complete() has written it (Reply).
template <class Call, class Out>
std::size_t emplace_call(Out& out, const Esr& esr, const GuestRegisters& regs) noexcept {
  Call& call = out.template emplace_for_overwrite<Call>();
  // One block copy: the event and the registers never overlap, and a copy that may not
  // assume so moves one register at a time (measured: 6 instructions per HVC round trip).
  __builtin_memcpy(call.x, regs.x, sizeof call.x);
  call.immediate = static_cast<std::uint16_t>(bits(esr.iss(), 15, 0));
  call.reply = Reply::None;
  return Out::template index_for<Call>;
}

template <class Out>
void emplace_wfx(Out& out, const Esr& esr, const GuestRegisters& regs) noexcept {
  const WfxIss iss{esr.iss()};
  Wfx& wfx = out.template emplace<Wfx>();
  wfx.kind = iss.ti();
  // RV is RES0 for WFI/WFE (TI[1] == 0): only WFIT/WFET name a timeout register.
  if (bit(static_cast<unsigned>(wfx.kind), 1) && iss.rv()) {
    wfx.has_timeout = true;
    wfx.timeout_register = static_cast<std::uint8_t>(iss.rn());
    wfx.timeout = regs.read(iss.rn());
  }
}

// A system register access is small: built as a value and copied in, which keeps the exit
// loop's register allocation as tight as a constant-index emplace would not (measured: 4
// instructions per HVC round trip).
template <class Out>
std::size_t emplace_sysreg(Out& out, const Esr& esr, const GuestRegisters& regs) noexcept {
  const SysRegIss iss{esr.iss()};
  if (iss.is_read()) {
    SysRegRead read;
    read.encoding = iss.encoding();
    read.rt = static_cast<std::uint8_t>(iss.rt());
    new (&out) Out(read);
    return Out::template index_for<SysRegRead>;
  }
  SysRegWrite write;
  write.encoding = iss.encoding();
  write.rt = static_cast<std::uint8_t>(iss.rt());
  write.value = regs.read(iss.rt());
  new (&out) Out(write);
  return Out::template index_for<SysRegWrite>;
}

template <class Out>
void emplace_unhandled(Out& out, const Syndrome& syndrome, const GuestRegisters& regs) noexcept {
  out.template emplace<Unhandled>(syndrome.esr, syndrome.far, syndrome.hpfar, regs.pc);
}

template <class Out>
void emplace_sme(Out& out, const Syndrome& syndrome, const Esr& esr, const GuestRegisters& regs) noexcept {
  const auto code = static_cast<unsigned>(bits(esr.iss(), 2, 0));
  if (code > static_cast<unsigned>(SmeTrapCode::Zt0Disabled)) return emplace_unhandled(out, syndrome, regs);
  out.template emplace<FpAccessTrap>(FpUnit::Sme, static_cast<SmeTrapCode>(code));
}

template <class Out>
void emplace_instruction_abort(Out& out, const Syndrome& syndrome, const Esr& esr,
                               const GuestRegisters& regs) noexcept {
  const InstructionAbortIss iss{esr.iss()};
  const FaultStatus fault = iss.ifsc();
  if (fault.kind() == FaultKind::Reserved || fault.kind() == FaultKind::Debug)
    return emplace_unhandled(out, syndrome, regs);
  InstructionAbort& abort = out.template emplace<InstructionAbort>();
  abort.fault = fault;
  abort.s1ptw = iss.s1ptw();
  abort.external = iss.ea();
  abort.address = fault_address(fault, iss.s1ptw(), iss.fnv(), syndrome.hpfar, syndrome.far);
}

// A stage 2 translation, access flag or permission fault on the access itself (not on a
// stage 1 walk) whose syndrome describes the access (ISV), that is not a cache
// maintenance instruction or a VNCR_EL2 access, and whose IPA is known to the byte: an
// MMIO access the hypervisor can emulate without decoding the instruction.
constexpr bool emulatable_mmio(DataAbortIss iss, const FaultAddress& address) noexcept {
  return iss.isv() && !iss.cm() && !iss.vncr() && address.page_offset_known;
}

// Data Abort from a lower Exception level (EC 0x24) that is not an emulatable MMIO access
// (emplace_data_abort_from_aarch64 tests that first):
//  - another stage 2 translation, access flag or permission fault on the access itself (no
//    syndrome, cache maintenance, VNCR, IPA unknown): UndecodedDataAbort;
//  - a fault of the guest's memory system (on its stage 1 walk, or any other fault code):
//    GuestMemoryFault.
template <class Out>
[[gnu::noinline]] void emplace_other_data_abort(Out& out, const Syndrome& syndrome, const Esr& esr,
                                                const GuestRegisters& regs) noexcept {
  const DataAbortIss iss{esr.iss()};
  const FaultStatus fault = iss.dfsc();
  const FaultAddress address = fault_address(fault, iss.s1ptw(), iss.fnv(), syndrome.hpfar, syndrome.far);
  if (!iss.s1ptw() && fault.is_translation_access_or_permission()) {
    UndecodedDataAbort& undecoded = out.template emplace<UndecodedDataAbort>();
    undecoded.address = address;
    undecoded.fault = fault;
    undecoded.syndrome = iss;
    undecoded.syndrome_valid = iss.isv();
    undecoded.write = iss.wnr();
    undecoded.cache_maintenance = iss.cm();
    undecoded.vncr = iss.vncr();
    return;
  }
  if (fault.kind() == FaultKind::Reserved || fault.kind() == FaultKind::Debug)
    return emplace_unhandled(out, syndrome, regs);
  GuestMemoryFault& memory = out.template emplace<GuestMemoryFault>();
  memory.address = address;
  memory.fault = fault;
  memory.write = iss.wnr();
  memory.s1ptw = iss.s1ptw();
  memory.external = iss.ea();
  memory.cache_maintenance = iss.cm();
}

template <class Out>
void emplace_serror(Out& out, const Esr& esr) noexcept {
  const std::uint32_t iss = esr.iss();
  SystemError& error = out.template emplace<SystemError>();
  error.iss = iss;
  error.implementation_defined = bit(iss, 24);
  if (error.implementation_defined) return;
  const auto dfsc = bits(iss, 5, 0);
  error.uncategorized = dfsc == 0;
  const auto aet = static_cast<unsigned>(bits(iss, 12, 10));
  // AET is valid for an asynchronous SError (DFSC 0b010001); 0b100, 0b101, 0b111 are reserved.
  if (dfsc == 0b010001 && aet != 0b100 && aet != 0b101 && aet != 0b111) {
    error.has_error_state = true;
    error.error_state = static_cast<ErrorState>(aet);
  }
}

// A Data Abort from a lower Exception level (EC 0x24) from AArch64: a stage 2 translation,
// access flag or permission fault on the access itself (not on its stage 1 walk) that
// emulatable_mmio() accepts is an MmioRead or MmioWrite; every other data abort is
// emplace_other_data_abort()'s. The MMIO case, the frequent one, is tested first and
// pays for nothing else.
template <class Out>
void emplace_data_abort_from_aarch64(Out& out, const Syndrome& syndrome,
                                     const GuestRegisters& regs) noexcept {
  const Esr esr{syndrome.esr};
  const DataAbortIss iss{esr.iss()};
  const FaultStatus fault = iss.dfsc();
  if (iss.isv() && !iss.s1ptw() && fault.is_translation_access_or_permission()) {
    const FaultAddress address = fault_address(fault, false, iss.fnv(), syndrome.hpfar, syndrome.far);
    if (emulatable_mmio(iss, address)) {
      emplace_mmio_access(out, iss, address.ipa, address.va, regs);
      return;
    }
  }
  emplace_other_data_abort(out, syndrome, esr, regs);
}

// The common MMIO access, told from the syndrome alone: ISV set, not a cache maintenance
// or VNCR_EL2 access, FAR_EL2 valid (FnV clear), the access itself (S1PTW clear) faulting
// with a stage 2 Translation or Access flag fault at level 0 to 3 (DFSC 0b0001nn, 0b0010nn;
// Arm ARM, ESR_EL2, "ISS encoding for an exception from a Data Abort"), for which HPFAR_EL2
// holds the IPA's page (hpfar_holds_ipa). One mask and one range test instead of
// FaultStatus's decoding: what emulatable_mmio() accepts, less the rare codes (level -1
// with FEAT_LPA2) that the full path still decodes to the same event.
constexpr bool is_common_mmio_syndrome(std::uint32_t iss) noexcept {
  constexpr std::uint32_t kIsv = 1u << 24, kVncr = 1u << 13, kFnv = 1u << 10, kCm = 1u << 8, kS1ptw = 1u << 7;
  constexpr std::uint32_t kDfsc = 0x3f, kFirstTranslation = 0b000100, kLastAccessFlag = 0b001011;
  return (iss & (kIsv | kVncr | kFnv | kCm | kS1ptw)) == kIsv &&
         (iss & kDfsc) - kFirstTranslation <= kLastAccessFlag - kFirstTranslation;
}

// The classes other than the frequent ones, out of line (emplace_out_of_line), so that
// the MMIO path pays for none of this switch.
template <class Out>
[[gnu::noinline]] void emplace_rare(Out& out, const Syndrome& syndrome, const GuestRegisters& regs) noexcept {
  const std::uint64_t esr_value = syndrome.esr;
  const Esr esr{esr_value};
  const ExceptionClass ec = esr.ec();
  if (is_aarch32_class(ec) || from_aarch32(regs)) {
    out.template emplace<UnsupportedAArch32>(ec, esr_value, regs.pc);
    return;
  }
  switch (ec) {
    case ExceptionClass::Unknown:
      out.template emplace<UnknownReason>(regs.pc);
      return;
    case ExceptionClass::FpSimdAccess:
      out.template emplace<FpAccessTrap>(FpUnit::FpSimd);
      return;
    case ExceptionClass::SveAccess:
      out.template emplace<FpAccessTrap>(FpUnit::Sve);
      return;
    case ExceptionClass::SmeAccess:
      return emplace_sme(out, syndrome, esr, regs);
    case ExceptionClass::PointerAuthInstruction:
      out.template emplace<PointerAuthTrap>(regs.pc);
      return;
    case ExceptionClass::IllegalState:
      out.template emplace<IllegalExecutionState>(regs.pc, regs.pstate);
      return;
    case ExceptionClass::InstructionAbortLower:
      return emplace_instruction_abort(out, syndrome, esr, regs);
    case ExceptionClass::PcAlignment:
      out.template emplace<PcAlignmentFault>(syndrome.far);
      return;
    case ExceptionClass::SpAlignment:
      out.template emplace<SpAlignmentFault>(regs.pc);
      return;
    case ExceptionClass::SError:
      return emplace_serror(out, esr);
    case ExceptionClass::BreakpointLower:
      out.template emplace<Breakpoint>(regs.pc);
      return;
    case ExceptionClass::SoftwareStepLower:
      out.template emplace<SoftwareStep>(regs.pc, bit(esr.iss(), 24),
                                         bit(esr.iss(), 24) && bit(esr.iss(), 6));
      return;
    case ExceptionClass::WatchpointLower:
      out.template emplace<Watchpoint>(syndrome.far, regs.pc, bit(esr.iss(), 6), bit(esr.iss(), 8));
      return;
    case ExceptionClass::Brk64:
      out.template emplace<BrkInstruction>(static_cast<std::uint16_t>(bits(esr.iss(), 15, 0)), regs.pc);
      return;
    default:
      // Same-EL classes (an exception from EL2 itself never reaches the decoder), SVC
      // (taken at EL1), ERET/TSTART/GCS/MOPS/128-bit sysreg traps the library does not
      // enable, unallocated values.
      return emplace_unhandled(out, syndrome, regs);
  }
}

// What decode_into() does not build inline: WF* first (no fault addresses), then the fault
// address registers are read, and the MMIO exits, the frequent ones, are told apart first.
template <class Out, class ReadAddresses>
[[gnu::noinline]] void emplace_out_of_line(Out& out, std::uint64_t esr_value, const GuestRegisters& regs,
                                           ReadAddresses& read_addresses) noexcept {
  const Esr esr{esr_value};
  if (esr.ec() == ExceptionClass::WfiWfe && !from_aarch32(regs)) return emplace_wfx(out, esr, regs);
  const Syndrome syndrome = read_addresses(esr_value);
  if (esr.ec() == ExceptionClass::DataAbortLower && !from_aarch32(regs))
    return emplace_data_abort_from_aarch64(out, syndrome, regs);
  emplace_rare(out, syndrome, regs);
}

}  // namespace detail

// The decoder: ESR_EL2 and the guest's registers in, the event built in `out`. `Out` is
// TrapEvent or any OneOf that extends it (the vCPU's Exit). The calls and system register
// accesses are built here, inline in the caller's exit loop; WF*, data aborts (MMIO) and
// the rest out of line, which alone calls `read_addresses(esr)` for the Syndrome with
// FAR_EL2 and HPFAR_EL2. Each layer was measured (exit_bench, -icount shift=0): every case
// in this switch holds its constants in registers across the whole exit loop, so a data
// abort case costs an HVC round trip 14 instructions and the WF* case 7 (a WFI pays 20 for
// being out of line); a big switch in front of the MMIO path costs it 13.
// Returns the index of the event built (out.index()): a constant on the inline paths, so a
// caller that switches on it next (the vCPU's internal answers) needs no reload of the
// index its field stores may have overwritten, as far as the compiler knows (they are
// char-typed), and no second dispatch.
template <class Out, class ReadAddresses>
[[gnu::always_inline]] inline std::size_t decode_into(Out& out, std::uint64_t esr_value,
                                                      const GuestRegisters& regs,
                                                      ReadAddresses&& read_addresses) noexcept {
  const Esr esr{esr_value};
  // These three classes are taken from AArch64 state only (Arm ARM, ESR_EL2, field EC:
  // "... instruction execution in AArch64 state"; AArch32's HVC, SMC and MRC/MCR have
  // classes of their own), so they need no test of SPSR_EL2.M[4].
  switch (esr.ec()) {
    case ExceptionClass::Hvc64:
      return detail::emplace_call<Hypercall>(out, esr, regs);
    case ExceptionClass::Smc64:
      return detail::emplace_call<SecureMonitorCall>(out, esr, regs);
    case ExceptionClass::SysReg64:
      return detail::emplace_sysreg(out, esr, regs);
    case ExceptionClass::DataAbortLower:
      if (!from_aarch32(regs) && detail::is_common_mmio_syndrome(esr.iss())) {
        const Syndrome syndrome = read_addresses(esr_value);
        const std::uint64_t ipa = hpfar_page(syndrome.hpfar) | bits(syndrome.far, 11, 0);
        return emplace_mmio_access(out, DataAbortIss{esr.iss()}, ipa, syndrome.far, regs);
      }
      break;
    default:
      break;
  }
  detail::emplace_out_of_line(out, esr_value, regs, read_addresses);
  return out.index();
}

// decode_into() for a caller that has the whole Syndrome and wants the event as a value.
template <class Out = TrapEvent>
Out decode(const Syndrome& syndrome, const GuestRegisters& regs) noexcept {
  Out out{in_place<Unhandled>};
  decode_into(out, syndrome.esr, regs, [&](std::uint64_t) { return syndrome; });
  return out;
}

}  // namespace arm
