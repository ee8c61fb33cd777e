// Exception injection: the EL1 state a synchronous exception taken to the guest's EL1
// produces, computed from the guest's registers as an exception entry would (Arm ARM
// D1.10, "Exception entry"; "Exception vectors"). The vCPU calls it for an unanswered
// MMIO or system register read, a rejected write, an unresolved fault, an UNDEFINED
// instruction; it writes the EL1 registers out itself. Pure: values in, values out.
module;
#include <arm/runtime/std_support.h>
export module arm.trap:inject;
import :registers;
import :esr;
import :fault;
import :mmio;
import :abort;

export namespace arm {

// SPSR_ELx/PSTATE fields of AArch64 state (Arm ARM, SPSR_EL1, "When AArch64 is the
// Exception level the exception was taken from" / "... AArch32 ...").
namespace spsr {
inline constexpr std::uint64_t kModeMask = 0b1111;  // M[3:0]
inline constexpr std::uint64_t kEl0t = 0b0000;
inline constexpr std::uint64_t kEl1t = 0b0100;        // EL1 using SP_EL0
inline constexpr std::uint64_t kEl1h = 0b0101;        // EL1 using SP_EL1
inline constexpr std::uint64_t kAArch32 = 1ull << 4;  // M[4], nRW
inline constexpr std::uint64_t kF = 1ull << 6;
inline constexpr std::uint64_t kI = 1ull << 7;
inline constexpr std::uint64_t kA = 1ull << 8;
inline constexpr std::uint64_t kD = 1ull << 9;
inline constexpr std::uint64_t kDaif = kD | kA | kI | kF;
inline constexpr std::uint64_t kBtype = 0b11ull << 10;
inline constexpr std::uint64_t kSsbs = 1ull << 12;
inline constexpr std::uint64_t kIl = 1ull << 20;
inline constexpr std::uint64_t kSs = 1ull << 21;
inline constexpr std::uint64_t kPan = 1ull << 22;
inline constexpr std::uint64_t kUao = 1ull << 23;
inline constexpr std::uint64_t kDit = 1ull << 24;
inline constexpr std::uint64_t kNzcv = 0xfull << 28;
inline constexpr std::uint64_t kAArch32Dit = 1ull << 21;  // DIT's place in an AArch32 SPSR
}  // namespace spsr

// SCTLR_EL1 fields exception entry reads (Arm ARM, SCTLR_EL1).
namespace sctlr {
inline constexpr std::uint64_t kSpan = 1ull
                                       << 23;  // 0: PSTATE.PAN is set on entry to EL1 (RES1 without FEAT_PAN)
inline constexpr std::uint64_t kDssbs = 1ull << 44;  // PSTATE.SSBS on entry to EL1 (RES0 without FEAT_SSBS)
}  // namespace sctlr

// The guest's EL1 exception registers: vbar and sctlr are read, esr, far, elr and spsr are
// written (far only for aborts).
struct El1ExceptionState {
  std::uint64_t vbar = 0;   // VBAR_EL1
  std::uint64_t sctlr = 0;  // SCTLR_EL1
  std::uint64_t esr = 0;    // ESR_EL1
  std::uint64_t far = 0;    // FAR_EL1
  std::uint64_t elr = 0;    // ELR_EL1
  std::uint64_t spsr = 0;   // SPSR_EL1
};

// Offsets of the synchronous vectors from VBAR_EL1 (Arm ARM D1.10, "Exception vectors";
// IRQ, FIQ and SError add 0x80, 0x100, 0x180).
enum class VectorOffset : std::uint64_t {
  CurrentElSp0 = 0x000,    // from EL1 using SP_EL0 (EL1t)
  CurrentElSpx = 0x200,    // from EL1 using SP_EL1 (EL1h)
  LowerElAArch64 = 0x400,  // from EL0 in AArch64
  LowerElAArch32 = 0x600,  // from EL0 in AArch32
};

// Whether an exception from this PSTATE is taken from EL0 (a "lower Exception level" for
// EL1). A guest's SPSR_EL2 names EL0 or EL1; one that claims EL2 or EL3 cannot come from
// the guest and is treated as EL1 with SP_EL1.
constexpr bool taken_from_el0(std::uint64_t pstate) noexcept {
  return (pstate & spsr::kAArch32) != 0 || bits(pstate, 3, 2) == 0;
}

constexpr VectorOffset synchronous_vector(std::uint64_t pstate) noexcept {
  if ((pstate & spsr::kAArch32) != 0) return VectorOffset::LowerElAArch32;
  if (bits(pstate, 3, 2) == 0) return VectorOffset::LowerElAArch64;
  if ((pstate & spsr::kModeMask) == spsr::kEl1t) return VectorOffset::CurrentElSp0;
  return VectorOffset::CurrentElSpx;
}

// PSTATE after taking an exception to EL1 (Arm ARM D1.10, "Exception entry", and the
// pseudocode AArch64.TakeException): EL1 using SP_EL1, D, A, I and F masked, IL, SS, BTYPE
// and UAO cleared, PAN set when SCTLR_EL1.SPAN is 0, SSBS from SCTLR_EL1.DSSBS; N, Z, C, V,
// DIT and (otherwise) PAN keep their values. Not modelled: PSTATE.TCO (FEAT_MTE, set on
// entry), ALLINT (FEAT_NMI), PM (FEAT_EBEP), EXLOCK (FEAT_GCS): left 0, guests that use
// those features need the vCPU to set them.
constexpr std::uint64_t el1_entry_pstate(std::uint64_t pstate, std::uint64_t sctlr_el1) noexcept {
  std::uint64_t kept;
  if ((pstate & spsr::kAArch32) != 0)
    kept = (pstate & (spsr::kNzcv | spsr::kPan)) | ((pstate & spsr::kAArch32Dit) != 0 ? spsr::kDit : 0);
  else
    kept = pstate & (spsr::kNzcv | spsr::kPan | spsr::kDit);
  std::uint64_t entered = kept | spsr::kEl1h | spsr::kDaif;
  if ((sctlr_el1 & sctlr::kSpan) == 0) entered |= spsr::kPan;
  if ((sctlr_el1 & sctlr::kDssbs) != 0) entered |= spsr::kSsbs;
  return entered;
}

// Takes a synchronous exception with syndrome `esr` to the guest's EL1: ELR_EL1 is the
// instruction that caused it (the PC at the trap), SPSR_EL1 the guest's PSTATE, and the
// guest resumes at its vector (VBAR_EL1[10:0] are RES0).
constexpr void take_exception_to_el1(GuestRegisters& regs, El1ExceptionState& el1, Esr esr) noexcept {
  const std::uint64_t pstate = regs.pstate;
  el1.esr = esr.value();
  el1.elr = regs.pc;
  el1.spsr = pstate;
  regs.pc = (el1.vbar & ~std::uint64_t{0x7ff}) + static_cast<std::uint64_t>(synchronous_vector(pstate));
  regs.pstate = el1_entry_pstate(pstate, el1.sctlr);
}

// Fault status code of a synchronous External abort not on a translation table walk.
inline constexpr std::uint32_t kSyncExternalAbortFsc = 0b010000;

// An undefined-instruction exception: EC 0x00 "Unknown reason" with IL 1, which the Arm
// ARM requires for that class (ESR_EL1, IL: "An exception reported using EC value
// 0b000000"), whatever the length of the instruction. FAR_EL1 is UNKNOWN for it and keeps
// its value.
constexpr void inject_undefined_instruction(GuestRegisters& regs, El1ExceptionState& el1) noexcept {
  take_exception_to_el1(regs, el1, Esr::make(ExceptionClass::Unknown, true, 0));
}

// A synchronous external Data Abort on `va` (EC 0x25 from EL1, 0x24 from EL0; ISV 0 so
// IL is 1; DFSC 0b010000; WnR). Without a known address FnV is set and FAR_EL1 is 0.
constexpr void inject_data_abort(GuestRegisters& regs, El1ExceptionState& el1, std::uint64_t va, bool write,
                                 bool va_known = true) noexcept {
  const ExceptionClass ec =
      taken_from_el0(regs.pstate) ? ExceptionClass::DataAbortLower : ExceptionClass::DataAbortSame;
  const std::uint32_t iss = kSyncExternalAbortFsc | (write ? 1u << 6 : 0) | (va_known ? 0 : 1u << 10);
  el1.far = va_known ? va : 0;
  take_exception_to_el1(regs, el1, Esr::make(ec, true, iss));
}

// A synchronous external Instruction Abort on `va` (EC 0x21 from EL1, 0x20 from EL0;
// IFSC 0b010000; IL 1).
constexpr void inject_instruction_abort(GuestRegisters& regs, El1ExceptionState& el1, std::uint64_t va,
                                        bool va_known = true) noexcept {
  const ExceptionClass ec = taken_from_el0(regs.pstate) ? ExceptionClass::InstructionAbortLower
                                                        : ExceptionClass::InstructionAbortSame;
  const std::uint32_t iss = kSyncExternalAbortFsc | (va_known ? 0 : 1u << 10);
  el1.far = va_known ? va : 0;
  take_exception_to_el1(regs, el1, Esr::make(ec, true, iss));
}

// The abort the guest sees when the hypervisor left an access unanswered, rejected it or
// did not resolve its fault.
constexpr void inject_abort(GuestRegisters& regs, El1ExceptionState& el1, const MmioRead& read) noexcept {
  inject_data_abort(regs, el1, read.far, false);
}
constexpr void inject_abort(GuestRegisters& regs, El1ExceptionState& el1, const MmioWrite& write) noexcept {
  inject_data_abort(regs, el1, write.far, true);
}
constexpr void inject_abort(GuestRegisters& regs, El1ExceptionState& el1,
                            const UndecodedDataAbort& abort) noexcept {
  inject_data_abort(regs, el1, abort.address.va, abort.write, abort.address.va_known);
}
constexpr void inject_abort(GuestRegisters& regs, El1ExceptionState& el1,
                            const GuestMemoryFault& fault) noexcept {
  inject_data_abort(regs, el1, fault.address.va, fault.write, fault.address.va_known);
}
constexpr void inject_abort(GuestRegisters& regs, El1ExceptionState& el1,
                            const InstructionAbort& abort) noexcept {
  inject_instruction_abort(regs, el1, abort.address.va, abort.address.va_known);
}

}  // namespace arm
