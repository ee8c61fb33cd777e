// Scenario: an EL1 guest makes SMCCC and PSCI calls through HVC #0 and SMC #0. The host
// loop passes every call through arm::smccc::dispatch() with a two-vCPU VM policy: the
// library answers what it can decide, and the loop completes the PSCI events (CPU_ON,
// CPU_SUSPEND) after checking their fields. The guest checks every answer and reports;
// SYSTEM_OFF ends the run.
#include "scenario.h"

import arm.vcpu;

extern "C" char psci_calls_guest[];
extern "C" char psci_secondary_entry[];
SCENARIO_GUEST_STACK(guest_stack);

namespace {

enum class Step { Resume, Pass, Fail };

#define STEP_CHECK(condition)                                                        \
  do {                                                                               \
    if (!(condition)) {                                                              \
      printf("scenario check failed: %s (%s:%d)\n", #condition, __FILE__, __LINE__); \
      return Step::Fail;                                                             \
    }                                                                                \
  } while (0)

struct Host {
  arm::psci::AffinityEntry vcpus[2] = {{0, arm::psci::AffinityState::On}, {1, arm::psci::AffinityState::Off}};
  arm::psci::AddressRange ram[1] = {{0x4000'0000, 256ull << 20}};
  arm::smccc::GuestCallPolicy policy;
  bool reported_pass = false;
  unsigned cpu_on_events = 0;
  unsigned suspend_events = 0;

  Host() {
    policy.psci.vcpus = vcpus;
    policy.psci.memory = ram;
  }

  template <class Call>
  Step serve(Call& call) {
    if (call.immediate == GUEST_REPORT) {
      printf("guest reported %llu\n", static_cast<unsigned long long>(call.x[0]));
      STEP_CHECK(call.x[0] == GUEST_PASS);
      reported_pass = true;
      return Step::Resume;
    }
    arm::smccc::CallOutcome outcome = arm::smccc::dispatch(arm::smccc::guest_call(call), policy);
    if (auto* on = outcome.get_if<arm::PsciCpuOn>()) {
      STEP_CHECK(on->target == 1);
      STEP_CHECK(on->target_mpidr == 1);
      STEP_CHECK(on->entry == reinterpret_cast<uint64_t>(psci_secondary_entry));
      STEP_CHECK(on->context_id == 0xc0ffee);  // SMC32: the upper half is not the guest's argument
      // Starting the vCPU belongs to the hypervisor; here it only records the decision.
      vcpus[on->target].state = arm::psci::AffinityState::OnPending;
      on->complete(arm::psci::Status::Success);
      ++cpu_on_events;
    } else if (auto* suspend = outcome.get_if<arm::PsciCpuSuspend>()) {
      STEP_CHECK(!suspend->powerdown);
      suspend->complete(arm::psci::Status::Success);
      ++suspend_events;
    } else if (outcome.is<arm::PsciSystemOff>()) {
      STEP_CHECK(reported_pass);
      STEP_CHECK(cpu_on_events == 1);
      STEP_CHECK(suspend_events == 1);
      return Step::Pass;
    }
    STEP_CHECK(arm::smccc::answer(call, outcome));  // nothing here is the hypervisor's own
    return Step::Resume;
  }
};

}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(psci_calls_guest),
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack)}};
  vcpu.load();
  Host host;
  for (arm::Exit& exit : vcpu.run()) {
    Step step = Step::Fail;
    if (auto* hvc = exit.get_if<arm::Hypercall>()) step = host.serve(*hvc);
    if (auto* smc = exit.get_if<arm::SecureMonitorCall>()) step = host.serve(*smc);
    if (step == Step::Resume) continue;
    printf("%s after %llu exits\n", step == Step::Pass ? "SYSTEM_OFF" : "stopped",
           static_cast<unsigned long long>(vcpu.exit_count()));
    return step == Step::Pass ? 0 : 1;
  }
  return 1;
}
