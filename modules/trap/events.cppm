// The typed events a trap decodes into. Each is a plain value; the ones that wait for an
// answer carry it (complete(...)), and arm.trap's completions apply the answer to the
// guest's registers when the vCPU resumes.
module;
#include <arm/runtime/std_support.h>
export module arm.trap:events;
import :esr;

export namespace arm {

// The hypervisor's reply to an event: every event that takes an answer records it the one
// way, in its `reply`, set by the event's complete(), reject() or retry(). What an event
// does with each reply, and what no reply means for it, is its row of the exit rules
// (arm.vcpu:rules, kExitRule).
enum class Reply : std::uint8_t {
  None,      // left alone: the event's rule says what happens (its default)
  Answered,  // complete(...): emulated; the guest resumes past the instruction with the answer
  Rejected,  // reject(): refused; the guest takes the fault the event's rule names
  Retry,     // retry(): the cause is gone (a page mapped); the guest re-executes the instruction
};

// The instruction that made a call, SMCCC's "conduit" (DEN0028, 2.5). It decides where the
// guest resumes: see complete_call() (arm.trap:completion).
enum class Conduit : std::uint8_t { Hvc, Smc };

// Up to four result registers of a call through HVC or SMC (SMC Calling Convention,
// DEN0028, section 2: results in x0-x3): the first `count` of x0-x3 are written, the others
// keep the guest's values. A one-register answer, the common one, writes one register.
struct CallResult {
  std::uint64_t x[4] = {};
  std::uint8_t count = 0;
};

// How far the PC moves past a trapped instruction that an event emulates. Every event with an
// instruction_length comes from AArch64 state (AArch32 traps become UnsupportedAArch32),
// where every instruction is 32 bits (Arm ARM C1.1, "The A64 instruction set") and
// ESR_EL2.IL is 1 (Arm ARM, ESR_EL2, field IL: 0 only for a 16-bit T32 instruction). So it
// is a constant of the event's type, not a field the decoder fills in and the completion
// reads back (measured, exit_bench -icount shift=0: MMIO read 180 -> 177, MRS 155 -> 151).
inline constexpr std::uint8_t kA64InstructionLength = 4;

// How many argument registers (x0..x6) a call event carries (SMCCC 1.1: x0-x6 in).
inline constexpr unsigned kCallArguments = 7;

// A hypercall: the guest executed HVC. Arguments are x0..x6 at the time of the call.
// SMCCC calls (immediate 0) are first offered to arm.smc; what it does not answer
// reaches the hypervisor as this event. Unanswered, x0 = NOT_SUPPORTED (-1).
struct Hypercall {
  // x first: at the same offset modulo 16 as GuestRegisters::x, so the decoder copies the
  // arguments in pairs (LDP/STP).
  std::uint64_t x[kCallArguments] = {};
  std::uint16_t immediate = 0;
  Reply reply = Reply::None;
  CallResult result;

  void complete(std::uint64_t x0) noexcept {
    result.x[0] = x0;
    result.count = 1;
    reply = Reply::Answered;
  }
  void complete(std::uint64_t x0, std::uint64_t x1, std::uint64_t x2, std::uint64_t x3) noexcept {
    result = CallResult{{x0, x1, x2, x3}, 4};
    reply = Reply::Answered;
  }
};

// A secure monitor call trapped by HCR_EL2.TSC. Same contract as Hypercall; the PC
// advances past the SMC once answered (an SMC traps before it executes).
struct SecureMonitorCall {
  // x first: at the same offset modulo 16 as GuestRegisters::x, so the decoder copies the
  // arguments in pairs (LDP/STP).
  std::uint64_t x[kCallArguments] = {};
  std::uint16_t immediate = 0;
  Reply reply = Reply::None;
  CallResult result;

  void complete(std::uint64_t x0) noexcept {
    result.x[0] = x0;
    result.count = 1;
    reply = Reply::Answered;
  }
  void complete(std::uint64_t x0, std::uint64_t x1, std::uint64_t x2, std::uint64_t x3) noexcept {
    result = CallResult{{x0, x1, x2, x3}, 4};
    reply = Reply::Answered;
  }
};

// WFI, WFE, WFIT or WFET trapped by HCR_EL2.TWI/TWE (EC 0x01). The trap is taken before
// the instruction completes; the completion moves the PC past it once the hypervisor has
// waited (or decided not to).
enum class WfxKind : std::uint8_t { Wfi = 0b00, Wfe = 0b01, Wfit = 0b10, Wfet = 0b11 };

// ISS of a trapped WF* instruction (Arm ARM, ESR_EL2, "ISS encoding for an exception from
// a WF* instruction"): TI [1:0], RV [2] (RN valid, FEAT_WFxT), RN [9:5].
class WfxIss {
 public:
  constexpr explicit WfxIss(std::uint32_t iss) noexcept : iss_(iss & 0x1ffffff) {}
  constexpr WfxKind ti() const noexcept { return static_cast<WfxKind>(bits(iss_, 1, 0)); }
  constexpr bool rv() const noexcept { return bit(iss_, 2); }
  constexpr unsigned rn() const noexcept { return static_cast<unsigned>(bits(iss_, 9, 5)); }

 private:
  std::uint32_t iss_;
};

struct Wfx {
  WfxKind kind = WfxKind::Wfi;
  // WFIT/WFET with RV = 1: the timeout is the value of register Rv, an absolute count of
  // the guest's virtual counter (CNTVCT_EL0) at which the wait ends.
  bool has_timeout = false;
  std::uint8_t timeout_register = 0;
  std::uint64_t timeout = 0;
  static constexpr std::uint8_t instruction_length = kA64InstructionLength;
  // Filled in by arm.vcpu before the event reaches the hypervisor (VCpu::next_deadline()):
  // for WFI and WFIT the physical count (CNTPCT_EL0) at which one of the vCPU's timers
  // asserts its interrupt or, for a WFIT, its timeout passes, whichever is first; ~0 for
  // none (and for WFE). A hypervisor that parks the vCPU wakes it then at the latest. The
  // decoder leaves it 0: a constant it would otherwise store costs every exit a register
  // (measured, HVC round trip).
  std::uint64_t deadline = 0;

  constexpr bool waits_for_interrupt() const noexcept {
    return kind == WfxKind::Wfi || kind == WfxKind::Wfit;
  }
};

// Which unit an access trap (CPTR_EL2/CPACR_EL1 controls) was about: FP/SIMD (EC 0x07),
// SVE (EC 0x19) or SME (EC 0x1D). The trap is taken before the instruction executes:
// after enabling the unit for the guest (a lazy switch) the vCPU re-enters at the same PC.
enum class FpUnit : std::uint8_t { FpSimd, Sve, Sme };

// SMTC, ISS[2:0] of an SME trap (Arm ARM, ESR_EL2, "ISS encoding for an exception due to
// SME functionality").
enum class SmeTrapCode : std::uint8_t {
  SmeDisabled = 0,             // CPACR_EL1.SMEN / CPTR_EL2.TSM or SMEN disabled the instruction
  IllegalInStreamingMode = 1,  // an instruction illegal while PSTATE.SM is 1
  StreamingModeDisabled = 2,   // a streaming instruction with PSTATE.SM 0
  ZaDisabled = 3,              // an access to ZA with PSTATE.ZA 0
  Zt0Disabled = 4,             // an access to ZT0 (SME2) disabled by SMCR_ELx.EZT0
};

struct FpAccessTrap {
  FpUnit unit = FpUnit::FpSimd;
  SmeTrapCode sme = SmeTrapCode::SmeDisabled;  // meaningful when unit == FpUnit::Sme
};

// A pointer authentication instruction trapped by HCR_EL2.API = 0 (EC 0x09): the vCPU
// enables PAuth for the guest (loading its keys) and re-executes it.
struct PointerAuthTrap {
  std::uint64_t pc = 0;
};

// The guest executed with PSTATE.IL set after an illegal exception return (EC 0x0E).
struct IllegalExecutionState {
  std::uint64_t pc = 0;
  std::uint64_t pstate = 0;
};

// EC 0x00, "Unknown reason": an instruction UNDEFINED because of an EL2 control, or one
// the architecture reports without a specific class. The hypervisor usually injects an
// undefined-instruction exception.
struct UnknownReason {
  std::uint64_t pc = 0;
  static constexpr std::uint8_t instruction_length = kA64InstructionLength;
};

// A trap from AArch32 state (an AArch32 exception class, or the guest's PSTATE.nRW set).
// The library runs AArch64 guests only.
struct UnsupportedAArch32 {
  ExceptionClass ec = ExceptionClass::Unknown;
  std::uint64_t esr = 0;
  std::uint64_t pc = 0;
};

// Error state of an SError (AET, with FEAT_RAS; Arm ARM, ESR_EL2, "ISS encoding for an
// SError exception").
enum class ErrorState : std::uint8_t {
  Uncontainable = 0b000,
  Unrecoverable = 0b001,
  Restartable = 0b010,
  Recoverable = 0b011,
  Corrected = 0b110,
};

// An SError routed to EL2 (HCR_EL2.AMO; EC 0x2F): IDS [24] (the rest is IMPLEMENTATION
// DEFINED), IESB [13], AET [12:10], EA [9], DFSC [5:0] (0b000000 uncategorized, 0b010001
// asynchronous SError).
struct SystemError {
  std::uint32_t iss = 0;
  bool implementation_defined = false;  // IDS
  bool uncategorized = true;            // DFSC == 0: nothing more is known
  bool has_error_state = false;         // the AET field is valid
  ErrorState error_state = ErrorState::Uncontainable;
};

// A trap the library does not decode. The raw syndrome goes to the hypervisor, which
// decides; left alone, the vCPU injects an undefined-instruction exception into the
// guest. The host never panics on it.
struct Unhandled {
  std::uint64_t esr = 0;
  std::uint64_t far = 0;
  std::uint64_t hpfar = 0;
  std::uint64_t pc = 0;
};

}  // namespace arm
