// Scenario: two vCPUs on one physical CPU; a parked vCPU's timer wakes it. The sleeper
// waits in WFI for its virtual timer (a deadline 2 ms ahead) and is put; the hypervisor
// runs the runner meanwhile with its own timer (HypervisorTimer) armed at the sleeper's
// next_deadline(), which stops the runner there: the sleeper is then runnable (its timer
// line high) within 1/16 s of its deadline (counter ticks), and the runner's own virtual
// timer is as it left it. In a second round nothing else runs and the CPU sleeps in
// sleep_until_timer_deadline(), which reports the sleeper runnable after its deadline.
// Each round the sleeper takes its timer interrupt (hardware-linked list register).
#include "scenario.h"
#include "timer_guest.h"

import arm.vcpu;

#include "timer_host.h"

extern "C" char timer_sleeper[];
extern "C" char timer_runner[];
SCENARIO_GUEST_STACK(sleeper_stack);
SCENARIO_GUEST_STACK(runner_stack);

namespace {
// next_exit() outside a coroutine: completes the previous exit, runs to the next one.
arm::Exit& next(arm::VCpu& vcpu) { return vcpu.next_exit().await_resume(); }

struct SleeperRun {
  uint64_t deadline = arm::kNoDeadline;  // of the WFI that parked it
  bool reported = false;
  uint64_t report = 0;
};

// Loads the sleeper and runs it until it waits (put() then) or reports.
int run_sleeper(arm::VCpu& vcpu, arm::PhysicalGic& gic, SleeperRun& run) {
  vcpu.load();
  for (;;) {
    arm::Exit& exit = next(vcpu);
    if (auto* call = exit.get_if<arm::Hypercall>()) {
      SCENARIO_CHECK(call->immediate == GUEST_REPORT);
      run.reported = true;
      run.report = call->x[0];
      break;
    }
    if (auto* wait = exit.get_if<arm::Wfx>()) {
      run.deadline = wait->deadline;
      SCENARIO_CHECK(run.deadline != arm::kNoDeadline);
      break;
    }
    SCENARIO_CHECK(exit.is<arm::ExternalInterrupt>());
    const uint32_t intid = gic.acknowledge();
    gic.end_of_interrupt(intid);
    if (intid == arm::kVirtualTimerIntid) {
      SCENARIO_CHECK(vcpu.inject_interrupt({.intid = intid, .hardware = true, .physical_intid = intid}));
    } else {
      gic.deactivate(intid);
    }
  }
  vcpu.put();
  return 0;
}
}  // namespace

int main() {
  arm::PerCpu cpu;
  arm::PhysicalGic gic{kGicDistributor, kGicRedistributor};
  SCENARIO_CHECK(start_timer_host(cpu, gic));
  gic.enable_private_interrupt(arm::HypervisorTimer::kIntid);
  const uint64_t bound = arm::HypervisorTimer::frequency() / 16;

  arm::VCpu sleeper{{.mpidr = 0,
                     .entry = reinterpret_cast<uint64_t>(timer_sleeper),
                     .stack = reinterpret_cast<uint64_t>(sleeper_stack + sizeof sleeper_stack),
                     .trap_wfi = true}};
  arm::VCpu runner{{.mpidr = 1,
                    .entry = reinterpret_cast<uint64_t>(timer_runner),
                    .stack = reinterpret_cast<uint64_t>(runner_stack + sizeof runner_stack)}};

  // Round 1: the sleeper parks; the runner runs until the sleeper's deadline.
  SleeperRun first;
  SCENARIO_CHECK(run_sleeper(sleeper, gic, first) == 0 && !first.reported);
  runner.load();
  arm::Exit& armed = next(runner);  // the runner's own timer set up
  SCENARIO_CHECK(armed.is<arm::Hypercall>() && armed.as<arm::Hypercall>().immediate == TIMER_HVC_SYNC);
  arm::HypervisorTimer::start_at(sleeper.next_deadline());
  for (;;) {
    arm::Exit& exit = next(runner);
    SCENARIO_CHECK(exit.is<arm::ExternalInterrupt>());
    const uint32_t intid = gic.acknowledge();
    gic.end_of_interrupt(intid);
    gic.deactivate(intid);
    SCENARIO_CHECK(intid == arm::HypervisorTimer::kIntid);  // not the runner's own timer
    break;
  }
  arm::HypervisorTimer::stop();
  const uint64_t switched = arm::read_sysreg<arm::SysReg::CNTPCT_EL0>();
  runner.put();
  const bool runnable = sleeper.sample_timer_lines().virtual_timer;
  printf("round 1: deadline %llu, runner stopped %llu ticks after it (bound %llu)\n",
         (unsigned long long)first.deadline, (unsigned long long)(switched - first.deadline),
         (unsigned long long)bound);
  SCENARIO_CHECK(runnable);
  SCENARIO_CHECK(switched >= first.deadline && switched - first.deadline < bound);
  SCENARIO_CHECK(runner.el1().at<arm::SysReg::CNTV_CVAL_EL0>() == TIMER_RUNNER_CVAL);
  SCENARIO_CHECK((runner.el1().at<arm::SysReg::CNTV_CTL_EL0>() & arm::cnt_ctl::kWritable) ==
                 arm::cnt_ctl::kEnable);

  // Round 2: the sleeper takes its interrupt and parks again; the CPU sleeps until its deadline.
  SleeperRun second;
  SCENARIO_CHECK(run_sleeper(sleeper, gic, second) == 0 && !second.reported);
  arm::VCpu* parked[] = {&sleeper};
  uint32_t ready = 0;
  for (unsigned tries = 0; ready == 0 && tries < 1000; ++tries)
    ready = arm::sleep_until_timer_deadline(parked, 1);
  const uint64_t woke = arm::read_sysreg<arm::SysReg::CNTPCT_EL0>();
  printf("round 2: deadline %llu, woke %llu ticks after it\n", (unsigned long long)second.deadline,
         (unsigned long long)(woke - second.deadline));
  SCENARIO_CHECK(ready == 1);
  SCENARIO_CHECK(woke >= second.deadline && woke - second.deadline < bound);

  SleeperRun last;
  SCENARIO_CHECK(run_sleeper(sleeper, gic, last) == 0 && last.reported);
  printf("sleeper reported %llu\n", (unsigned long long)last.report);
  return last.report == GUEST_PASS ? 0 : 1;
}
