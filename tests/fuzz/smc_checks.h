// The trap fuzzer's arm.smc checks (smc_checks.cpp), as LLVMFuzzerTestOneInput calls them.
// Include after `import arm.trap;`: the declarations name its types. Both functions check
// their calls under the same policy, which they build from the input (Input::smc).
#pragma once

#include "fuzz_input.h"

namespace trap_fuzz {

// An HVC or SMC the decoder produced from the input; `regs` are the guest's registers at
// the call. Pass the event as decoded, before the arm.trap checks answer it: this answers
// and completes a copy of it.
void check_guest_call(const arm::Hypercall& call, const arm::GuestRegisters& regs, const Input& in);
void check_guest_call(const arm::SecureMonitorCall& call, const arm::GuestRegisters& regs, const Input& in);

// Calls built directly from the input's registers `regs` (x0 steered into the SMCCC
// function-id ranges, x1 and x2 shaped for PSCI), each as an HVC and as an SMC.
void check_direct_calls(const Input& in, const arm::GuestRegisters& regs);

}  // namespace trap_fuzz
