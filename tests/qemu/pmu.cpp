// Scenario: two vCPUs with a guest PMU (GuestPmu::Partitioned) share one CPU. Each counts
// its own loop with the cycle counter, a software increment counter and an instructions
// retired counter, yields halfway so that the other runs its own loop, and finds exactly its
// own counts (pmu_guest.S); each then overflows a counter and takes the overflow interrupt
// (PPI 23) through inject_pmu_overflow_interrupt(). Meanwhile the host's own cycle counter
// (PMCCFILTR_EL0.NSH, as the benchmarks use it) survives both guests resetting theirs. Runs
// under -icount shift=0, where QEMU implements INST_RETIRED and counts one cycle per
// instruction.
#include "scenario.h"

import arm.vcpu;

extern "C" char pmu_guest[];
SCENARIO_GUEST_STACK(stack_a);
SCENARIO_GUEST_STACK(stack_b);

namespace {
constexpr uint16_t kYield = 1;
// PMCR_EL0.E and LC; PMCCFILTR_EL0.NSH (Arm ARM D19, "PMCCFILTR_EL0": count at EL2).
constexpr uint64_t kPmcrEnableLongCycles = (1ull << 0) | (1ull << 6);
constexpr uint64_t kFilterCountEl2 = 1ull << 27;

unsigned overflow_interrupts[2] = {};

// Serves a loaded vCPU from its current exit to its next hypercall, which must be
// `immediate`, passing it the PMU overflow interrupts that arrive on the way; then puts it.
int serve(arm::VCpu& vcpu, unsigned index, arm::PhysicalGic& gic, arm::EventStream<arm::Exit>::Iterator& it,
          uint16_t immediate) {
  for (;;) {
    arm::Exit& exit = *it;
    if (exit.is<arm::ExternalInterrupt>()) {
      const uint32_t intid = gic.acknowledge();
      SCENARIO_CHECK(intid == arm::kPmuOverflowIntid);
      gic.end_of_interrupt(intid);  // priority drop only: the guest's EOI deactivates it
      SCENARIO_CHECK(vcpu.inject_pmu_overflow_interrupt());
      ++overflow_interrupts[index];
      ++it;
      continue;
    }
    auto* call = exit.get_if<arm::Hypercall>();
    SCENARIO_CHECK(call != nullptr);
    if (call->immediate != immediate || (immediate == GUEST_REPORT && call->x[0] != GUEST_PASS)) {
      printf("vCPU %u: hvc #%u with x0 = %llu, x1 = %#llx\n", index, call->immediate,
             (unsigned long long)call->x[0], (unsigned long long)call->x[1]);
      return 1;
    }
    call->complete(call->x[0]);
    break;
  }
  vcpu.put();
  return 0;
}
}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  arm::PhysicalGic gic{kGicDistributor, kGicRedistributor};
  gic.init_this_cpu();
  gic.set_split_eoi(true);
  gic.enable_private_interrupt(arm::kPmuOverflowIntid);

  // The host's cycle counter, counting at EL2.
  arm::write_sysreg<arm::SysReg::PMCCFILTR_EL0>(kFilterCountEl2);
  arm::write_sysreg<arm::SysReg::PMCNTENSET_EL0>(arm::kPmuCycleCounterBit);
  arm::write_sysreg<arm::SysReg::PMCR_EL0>(kPmcrEnableLongCycles);
  arm::instruction_barrier();
  const uint64_t host_before = arm::read_sysreg<arm::SysReg::PMCCNTR_EL0>();

  const auto guest = reinterpret_cast<uint64_t>(pmu_guest);
  arm::VCpu a{{.mpidr = 0,
               .entry = guest,
               .argument = 0xa000,
               .stack = reinterpret_cast<uint64_t>(stack_a + sizeof stack_a),
               .pmu = arm::GuestPmu::Partitioned}};
  arm::VCpu b{{.mpidr = 1,
               .entry = guest,
               .argument = 0x3000,
               .stack = reinterpret_cast<uint64_t>(stack_b + sizeof stack_b),
               .pmu = arm::GuestPmu::Partitioned}};
  SCENARIO_CHECK(a.pmu_counters() >= 2);
  auto run_a = a.run();
  auto run_b = b.run();
  a.load();
  auto it_a = run_a.begin();
  SCENARIO_CHECK(serve(a, 0, gic, it_a, kYield) == 0);
  b.load();
  auto it_b = run_b.begin();
  SCENARIO_CHECK(serve(b, 1, gic, it_b, kYield) == 0);
  a.load();
  ++it_a;
  SCENARIO_CHECK(serve(a, 0, gic, it_a, GUEST_REPORT) == 0);
  b.load();
  ++it_b;
  SCENARIO_CHECK(serve(b, 1, gic, it_b, GUEST_REPORT) == 0);

  const uint64_t host_after = arm::read_sysreg<arm::SysReg::PMCCNTR_EL0>();
  printf("pmu: guest cycles %llu and %llu, software increments %llu and %llu; host cycles %llu -> %llu\n",
         (unsigned long long)a.pmu_state().pmccntr, (unsigned long long)b.pmu_state().pmccntr,
         (unsigned long long)a.pmu_state().evcntr[0], (unsigned long long)b.pmu_state().evcntr[0],
         (unsigned long long)host_before, (unsigned long long)host_after);
  SCENARIO_CHECK(overflow_interrupts[0] == 1 && overflow_interrupts[1] == 1);

  // What the guest PMU adds to a vCPU switch: load()/put() pairs with and without it, timed
  // by the physical counter (the cycle counter is itself switched). Under -icount shift=0
  // one instruction is one nanosecond, so ticks * 1e9 / CNTFRQ_EL0 are instructions.
  arm::VCpu plain{{.entry = guest}};
  auto instructions_per_switch = [](arm::VCpu& vcpu) {
    constexpr unsigned kRounds = 256;
    const uint64_t start = arm::read_sysreg<arm::SysReg::CNTPCT_EL0>();
    for (unsigned n = 0; n < kRounds; ++n) {
      vcpu.load();
      vcpu.put();
    }
    const uint64_t ticks = arm::read_sysreg<arm::SysReg::CNTPCT_EL0>() - start;
    return ticks * 1'000'000'000 / arm::read_sysreg<arm::SysReg::CNTFRQ_EL0>() / kRounds;
  };
  printf("pmu: load()+put() %llu instructions with a guest PMU of %u counters, %llu without\n",
         (unsigned long long)instructions_per_switch(a), a.pmu_counters(),
         (unsigned long long)instructions_per_switch(plain));
  // The host's cycle counter was put back each time, never reset by a guest's PMCR_EL0.C.
  SCENARIO_CHECK(host_after > host_before);
  SCENARIO_CHECK((arm::read_sysreg<arm::SysReg::PMCCFILTR_EL0>() & kFilterCountEl2) != 0);
  SCENARIO_CHECK((arm::read_sysreg<arm::SysReg::MDCR_EL2>() & arm::mdcr::kTpm) != 0);
  return 0;
}
