// Scenario: two vCPUs as coroutine tasks on one physical CPU. Each task loops on
// `co_await vcpu.next_exit()`; at a WFI exit it puts its vCPU and yields to the
// scheduler, which resumes the other task, which loads its own vCPU. The hypercall log
// must alternate, and each guest must find its registers intact.
#include "scenario.h"

import arm.vcpu;

extern "C" char vcpu_tasks_guest[];
SCENARIO_GUEST_STACK(stack_a);
SCENARIO_GUEST_STACK(stack_b);

namespace {
char hypercall_log[16];
unsigned logged = 0;

arm::Task<uint64_t> run_vcpu(arm::FrameArena&, arm::VCpu& vcpu, arm::Scheduler<4>& scheduler) {
  vcpu.load();
  for (;;) {
    arm::Exit& exit = co_await vcpu.next_exit();
    if (auto* call = exit.get_if<arm::Hypercall>()) {
      if (call->immediate == GUEST_REPORT) {
        vcpu.put();
        co_return call->x[0];
      }
      if (logged < sizeof hypercall_log - 1) hypercall_log[logged++] = static_cast<char>(call->x[1]);
      call->complete(0);
    } else if (exit.is<arm::Wfx>()) {
      // The guest waits: give the CPU to the other vCPU. The WFI completes (PC + 4) at
      // this task's next next_exit().
      vcpu.put();
      co_await scheduler.yield();
      vcpu.load();
    } else {
      vcpu.put();
      co_return 100;
    }
  }
}
}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  const auto guest = reinterpret_cast<uint64_t>(vcpu_tasks_guest);
  arm::VCpu a{{.mpidr = 0,
               .entry = guest,
               .argument = 'a',
               .stack = reinterpret_cast<uint64_t>(stack_a + sizeof stack_a)}};
  arm::VCpu b{{.mpidr = 1,
               .entry = guest,
               .argument = 'b',
               .stack = reinterpret_cast<uint64_t>(stack_b + sizeof stack_b)}};
  static arm::FrameStorage<4096> arena;
  arm::Scheduler<4> scheduler;
  auto task_a = run_vcpu(arena, a, scheduler);
  auto task_b = run_vcpu(arena, b, scheduler);
  SCENARIO_CHECK(scheduler.spawn(task_a) && scheduler.spawn(task_b));
  scheduler.run();
  SCENARIO_CHECK(task_a.done() && task_b.done());
  const uint64_t report_a = task_a.result(), report_b = task_b.result();
  printf("hypercall log: %s; guests reported %llu and %llu\n", hypercall_log, (unsigned long long)report_a,
         (unsigned long long)report_b);
  SCENARIO_CHECK(report_a == GUEST_PASS && report_b == GUEST_PASS);
  SCENARIO_CHECK(hypercall_log[0] == 'a' && hypercall_log[1] == 'b' && hypercall_log[2] == 'a' &&
                 hypercall_log[3] == 'b' && hypercall_log[4] == 'a' && hypercall_log[5] == 'b' &&
                 logged == 6);
  return 0;
}
