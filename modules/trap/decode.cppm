// decode(): syndrome + guest registers in, one typed event out. Pure: no system register
// is read here, so every class is testable on the host. One switch, one case per
// exception class a lower Exception level can raise at EL2, and an explicit default:
// whatever is not decoded becomes Unhandled with the raw syndrome. Nothing here panics.
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

constexpr Unhandled unhandled(const Syndrome& syndrome, const GuestRegisters& regs) noexcept {
  return Unhandled{syndrome.esr, syndrome.far, syndrome.hpfar, regs.pc};
}

// SPSR_EL2.M[4] (PSTATE.nRW): the trap came from AArch32 state (Arm ARM, SPSR_EL2: M[4]
// is 1 for an exception taken from AArch32 state).
constexpr bool from_aarch32(const GuestRegisters& regs) noexcept { return bit(regs.pstate, 4); }

namespace detail {

inline std::uint8_t length_of(const Esr& esr) noexcept {
  return static_cast<std::uint8_t>(esr.instruction_length());
}

// ISS for HVC/SMC from AArch64: imm16 in ISS[15:0] (Arm ARM D19.2, "ISS encoding for an
// exception from HVC or SVC instruction execution" / "... SMC instruction execution").
template <class Call, class Out>
Call& emplace_call(Out& out, const Esr& esr, const GuestRegisters& regs) noexcept {
  const auto& x = regs.x;
  return out.template emplace<Call>(static_cast<std::uint16_t>(bits(esr.iss(), 15, 0)), std::uint64_t{x[0]},
                                    std::uint64_t{x[1]}, std::uint64_t{x[2]}, std::uint64_t{x[3]},
                                    std::uint64_t{x[4]}, std::uint64_t{x[5]}, std::uint64_t{x[6]});
}

template <class Call, class Out>
Out decode_call(const Esr& esr, const GuestRegisters& regs) noexcept {
  Out out{in_place<Call>};
  emplace_call<Call>(out, esr, regs);
  return out;
}

template <class Out>
Out decode_wfx(const Esr& esr, const GuestRegisters& regs) noexcept {
  const WfxIss iss{esr.iss()};
  Wfx wfx;
  wfx.kind = iss.ti();
  wfx.instruction_length = length_of(esr);
  // RV is RES0 for WFI/WFE (TI[1] == 0): only WFIT/WFET name a timeout register.
  if (bit(static_cast<unsigned>(wfx.kind), 1) && iss.rv()) {
    wfx.has_timeout = true;
    wfx.timeout_register = static_cast<std::uint8_t>(iss.rn());
    wfx.timeout = regs.read(iss.rn());
  }
  return wfx;
}

template <class Out>
Out decode_sme(const Syndrome& syndrome, const Esr& esr, const GuestRegisters& regs) noexcept {
  const auto code = static_cast<unsigned>(bits(esr.iss(), 2, 0));
  if (code > static_cast<unsigned>(SmeTrapCode::Zt0Disabled)) return unhandled(syndrome, regs);
  return FpAccessTrap{FpUnit::Sme, static_cast<SmeTrapCode>(code)};
}

template <class Out>
Out decode_sysreg(const Esr& esr, const GuestRegisters& regs) noexcept {
  const SysRegIss iss{esr.iss()};
  if (iss.is_read()) {
    SysRegRead read;
    read.encoding = iss.encoding();
    read.rt = static_cast<std::uint8_t>(iss.rt());
    read.instruction_length = length_of(esr);
    return read;
  }
  SysRegWrite write;
  write.encoding = iss.encoding();
  write.rt = static_cast<std::uint8_t>(iss.rt());
  write.instruction_length = length_of(esr);
  write.value = regs.read(iss.rt());
  return write;
}

template <class Out>
Out decode_instruction_abort(const Syndrome& syndrome, const Esr& esr, const GuestRegisters& regs) noexcept {
  const InstructionAbortIss iss{esr.iss()};
  const FaultStatus fault = iss.ifsc();
  if (fault.kind() == FaultKind::Reserved || fault.kind() == FaultKind::Debug)
    return unhandled(syndrome, regs);
  InstructionAbort abort;
  abort.fault = fault;
  abort.s1ptw = iss.s1ptw();
  abort.external = iss.ea();
  abort.address = fault_address(fault, iss.s1ptw(), iss.fnv(), syndrome.hpfar, syndrome.far);
  return abort;
}

// Data Abort from a lower Exception level (EC 0x24): MMIO when the access is fully
// described (stage 2 translation or access flag fault on the access itself, valid
// instruction syndrome, known IPA and FAR), UndecodedDataAbort for the other stage 2
// faults on the access, GuestMemoryFault for everything else.
// A stage 2 translation, access flag or permission fault on the access itself (not on a
// stage 1 walk) whose syndrome describes the access (ISV), that is not a cache
// maintenance instruction or a VNCR_EL2 access, and whose IPA is known to the byte: an
// MMIO access the hypervisor can emulate without decoding the instruction.
constexpr bool emulatable_mmio(DataAbortIss iss, const FaultAddress& address) noexcept {
  return iss.isv() && !iss.cm() && !iss.vncr() && address.page_offset_known;
}

// decode_data_abort()'s MMIO case, in place; false for every other data abort.
template <class Out>
bool emplace_mmio_abort(Out& out, const Syndrome& syndrome, const Esr& esr,
                        const GuestRegisters& regs) noexcept {
  const DataAbortIss iss{esr.iss()};
  if (!iss.isv() || iss.s1ptw()) return false;
  const FaultStatus fault = iss.dfsc();
  if (!fault.is_translation_access_or_permission()) return false;
  const FaultAddress address = fault_address(fault, false, iss.fnv(), syndrome.hpfar, syndrome.far);
  if (!emulatable_mmio(iss, address)) return false;
  emplace_mmio_access(out, iss, address.ipa, address.va, esr.instruction_length(), regs);
  return true;
}

template <class Out>
Out decode_data_abort(const Syndrome& syndrome, const Esr& esr, const GuestRegisters& regs) noexcept {
  const DataAbortIss iss{esr.iss()};
  const FaultStatus fault = iss.dfsc();
  if (fault.kind() == FaultKind::Reserved || fault.kind() == FaultKind::Debug)
    return unhandled(syndrome, regs);
  const FaultAddress address = fault_address(fault, iss.s1ptw(), iss.fnv(), syndrome.hpfar, syndrome.far);

  if (iss.s1ptw() || !fault.is_translation_access_or_permission()) {
    GuestMemoryFault memory;
    memory.address = address;
    memory.fault = fault;
    memory.write = iss.wnr();
    memory.s1ptw = iss.s1ptw();
    memory.external = iss.ea();
    memory.cache_maintenance = iss.cm();
    return memory;
  }

  if (emulatable_mmio(iss, address)) {
    Out out{in_place<MmioRead>};
    emplace_mmio_access(out, iss, address.ipa, address.va, esr.instruction_length(), regs);
    return out;
  }

  UndecodedDataAbort undecoded;
  undecoded.address = address;
  undecoded.fault = fault;
  undecoded.syndrome = iss;
  undecoded.syndrome_valid = iss.isv();
  undecoded.write = iss.wnr();
  undecoded.cache_maintenance = iss.cm();
  undecoded.vncr = iss.vncr();
  undecoded.instruction_length = length_of(esr);
  return undecoded;
}

template <class Out>
Out decode_serror(const Esr& esr) noexcept {
  const std::uint32_t iss = esr.iss();
  SystemError error;
  error.iss = iss;
  error.implementation_defined = bit(iss, 24);
  if (error.implementation_defined) return error;
  const auto dfsc = bits(iss, 5, 0);
  error.uncategorized = dfsc == 0;
  const auto aet = static_cast<unsigned>(bits(iss, 12, 10));
  // AET is valid for an asynchronous SError (DFSC 0b010001); 0b100, 0b101, 0b111 are reserved.
  if (dfsc == 0b010001 && aet != 0b100 && aet != 0b101 && aet != 0b111) {
    error.has_error_state = true;
    error.error_state = static_cast<ErrorState>(aet);
  }
  return error;
}

}  // namespace detail

// `Out` is TrapEvent or any OneOf that extends it (the vCPU's Exit): decoding straight
// into the caller's type builds the event once, with no copy of a whole event union.
template <class Out = TrapEvent>
Out decode(const Syndrome& syndrome, const GuestRegisters& regs) noexcept {
  const Esr esr{syndrome.esr};
  const ExceptionClass ec = esr.ec();
  if (is_aarch32_class(ec) || from_aarch32(regs)) return UnsupportedAArch32{ec, syndrome.esr, regs.pc};
  switch (ec) {
    case ExceptionClass::Unknown:
      return UnknownReason{regs.pc, detail::length_of(esr)};
    case ExceptionClass::WfiWfe:
      return detail::decode_wfx<Out>(esr, regs);
    case ExceptionClass::FpSimdAccess:
      return FpAccessTrap{FpUnit::FpSimd};
    case ExceptionClass::SveAccess:
      return FpAccessTrap{FpUnit::Sve};
    case ExceptionClass::SmeAccess:
      return detail::decode_sme<Out>(syndrome, esr, regs);
    case ExceptionClass::PointerAuthInstruction:
      return PointerAuthTrap{regs.pc};
    case ExceptionClass::IllegalState:
      return IllegalExecutionState{regs.pc, regs.pstate};
    case ExceptionClass::Hvc64:
      return detail::decode_call<Hypercall, Out>(esr, regs);
    case ExceptionClass::Smc64:
      return detail::decode_call<SecureMonitorCall, Out>(esr, regs);
    case ExceptionClass::SysReg64:
      return detail::decode_sysreg<Out>(esr, regs);
    case ExceptionClass::InstructionAbortLower:
      return detail::decode_instruction_abort<Out>(syndrome, esr, regs);
    case ExceptionClass::PcAlignment:
      return PcAlignmentFault{syndrome.far};
    case ExceptionClass::SpAlignment:
      return SpAlignmentFault{regs.pc};
    case ExceptionClass::DataAbortLower:
      return detail::decode_data_abort<Out>(syndrome, esr, regs);
    case ExceptionClass::SError:
      return detail::decode_serror<Out>(esr);
    case ExceptionClass::BreakpointLower:
      return Breakpoint{regs.pc};
    case ExceptionClass::SoftwareStepLower:
      return SoftwareStep{regs.pc, bit(esr.iss(), 24), bit(esr.iss(), 24) && bit(esr.iss(), 6)};
    case ExceptionClass::WatchpointLower:
      return Watchpoint{syndrome.far, regs.pc, bit(esr.iss(), 6), bit(esr.iss(), 8)};
    case ExceptionClass::Brk64:
      return BrkInstruction{static_cast<std::uint16_t>(bits(esr.iss(), 15, 0)), regs.pc};
    default:
      // Same-EL classes (an exception from EL2 itself never reaches decode()), SVC (taken
      // at EL1), ERET/TSTART/GCS/MOPS/128-bit sysreg traps the library does not enable,
      // unallocated values.
      return unhandled(syndrome, regs);
  }
}

namespace detail {
// decode_into()'s part for the exits that need the fault address registers: kept out of
// line so that the common part inlines into the caller's exit loop.
template <class Out, class ReadAddresses>
[[gnu::noinline]] void decode_with_addresses(Out& out, std::uint64_t esr_value, const GuestRegisters& regs,
                                             ReadAddresses& read_addresses) noexcept {
  const Esr esr{esr_value};
  const Syndrome syndrome = read_addresses(esr_value);
  if (esr.ec() == ExceptionClass::DataAbortLower && !from_aarch32(regs) &&
      emplace_mmio_abort(out, syndrome, esr, regs))
    return;
  new (&out) Out(decode<Out>(syndrome, regs));
}
}  // namespace detail

// decode() into an existing event union (the vCPU's exit path), building the frequent
// events (calls, system register accesses, WFI/WFE, MMIO) where they will be read.
// `read_addresses(esr)` returns the Syndrome with FAR_EL2 and HPFAR_EL2; it runs only for
// the classes that need the fault address registers.
template <class Out, class ReadAddresses>
void decode_into(Out& out, std::uint64_t esr_value, const GuestRegisters& regs,
                 ReadAddresses&& read_addresses) noexcept {
  const Esr esr{esr_value};
  if (!from_aarch32(regs)) {
    switch (esr.ec()) {
      case ExceptionClass::Hvc64:
        detail::emplace_call<Hypercall>(out, esr, regs);
        return;
      case ExceptionClass::Smc64:
        detail::emplace_call<SecureMonitorCall>(out, esr, regs);
        return;
      case ExceptionClass::SysReg64:
        new (&out) Out(detail::decode_sysreg<Out>(esr, regs));
        return;
      case ExceptionClass::WfiWfe:
        new (&out) Out(detail::decode_wfx<Out>(esr, regs));
        return;
      default:
        break;
    }
  }
  detail::decode_with_addresses(out, esr_value, regs, read_addresses);
}

}  // namespace arm
