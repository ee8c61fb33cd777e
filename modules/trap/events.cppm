// The typed events a trap decodes into. Each is a plain value; the ones that wait for an
// answer carry it (complete(...)), and arm.trap's completions apply the answer to the
// guest's registers when the vCPU resumes.
module;
#include <arm/runtime/std_support.h>
export module arm.trap:events;

export namespace arm {

// Up to four result registers of a call through HVC or SMC (SMC Calling Convention,
// DEN0028, section 2: results in x0-x3).
struct CallResult {
  std::uint64_t x[4] = {};
  bool answered = false;
};

// A hypercall: the guest executed HVC. Arguments are x0..x6 at the time of the call.
// SMCCC calls (immediate 0) are first offered to arm.smc; what it does not answer
// reaches the hypervisor as this event. Unanswered, x0 = NOT_SUPPORTED (-1).
struct Hypercall {
  std::uint16_t immediate = 0;
  std::uint64_t x[7] = {};
  CallResult result;

  void complete(std::uint64_t x0) noexcept { complete(x0, x[1], x[2], x[3]); }
  void complete(std::uint64_t x0, std::uint64_t x1, std::uint64_t x2, std::uint64_t x3) noexcept {
    result = CallResult{{x0, x1, x2, x3}, true};
  }
};

// A secure monitor call trapped by HCR_EL2.TSC. Same contract as Hypercall; the PC
// advances past the SMC once answered (an SMC traps before it executes).
struct SecureMonitorCall {
  std::uint16_t immediate = 0;
  std::uint64_t x[7] = {};
  CallResult result;

  void complete(std::uint64_t x0) noexcept { complete(x0, x[1], x[2], x[3]); }
  void complete(std::uint64_t x0, std::uint64_t x1, std::uint64_t x2, std::uint64_t x3) noexcept {
    result = CallResult{{x0, x1, x2, x3}, true};
  }
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
