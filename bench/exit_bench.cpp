// Exit round trips, counted with the PMU cycle counter (PMCCNTR_EL0). Under QEMU with
// `-icount shift=0` a cycle is one instruction, so the counts are exact instruction
// counts; on hardware they are cycles. Nothing here depends on QEMU.
//
// Method: each scenario runs a guest that traps N times and then reports, from vCPU
// creation to the report, once with N and once with 2N iterations; the difference
// divided by N is the cost of one round trip, with every fixed cost cancelled. Each run
// is done twice: counting EL1 and EL2, and counting EL2 only; the guest's share is the
// difference. Prints one `BENCH name total el2 guest` line per scenario. The last one needs
// a second CPU (`-smp 2`); every scenario before it runs on CPU 0 with CPU 1 still off.
#include <stdio.h>

#include "vgic_host.h"
#include "vgic_list_registers.h"

extern "C" char bench_hvc_guest[], bench_mmio_read_guest[], bench_mmio_write_guest[],
    bench_sysreg_read_guest[], bench_wfi_guest[], bench_sgi_send_guest[], bench_sgi_receive_guest[],
    bench_cntp_cval_write_guest[], bench_timer_guest[], bench_smccc_version_guest[], bench_eoi_guest[],
    bench_sgi_wake_sender_guest[], bench_sgi_wake_receiver_guest[], bench_timer_wake_guest[],
    bench_ipi_send_guest[], bench_ipi_receive_guest[];
extern "C" char bench_floor_vectors[], arm_el2_vectors[];
extern "C" char __image_start[], __image_end[];

namespace {
#ifndef BENCH_ITERATIONS
#define BENCH_ITERATIONS 2000
#endif
constexpr uint64_t kIterations = BENCH_ITERATIONS;
constexpr uint16_t kReport = 0xffff;
constexpr uint64_t kMmioAddress = 0x0a00'0000;  // IPA left out of the stage-2 map
// A virtual distributor (arm.vgic) at QEMU virt's GICD address, also left out of stage 2.
constexpr uint64_t kVgicDistributor = 0x0800'0000;
arm::Vgic vgic{
    arm::VgicConfig{.vcpus = 1, .spis = 64, .gicd_base = kVgicDistributor, .gicr_base = 0x080a'0000}};
bool list_registers_used = false;

alignas(16) unsigned char guest_stack[4096];
alignas(16) unsigned char receiver_stack[4096];
alignas(4096) unsigned char stage2_pages[16 * 4096];

// PMCR_EL0 (Arm ARM D13.2): E enables the counters, C resets the cycle counter, LC makes
// it 64-bit. PMCCFILTR_EL0: P excludes EL1, U excludes EL0, NSH includes EL2.
constexpr uint64_t kPmcrEnable = 1u << 0, kPmcrResetCycles = 1u << 2, kPmcrLongCycles = 1u << 6;
constexpr uint64_t kFilterExcludeEl1 = 1ull << 31, kFilterExcludeEl0 = 1ull << 30,
                   kFilterIncludeEl2 = 1ull << 27;
constexpr uint64_t kCycleCounterEnable = 1ull << 31;

void start_counting(bool el2_only) {
  arm::write_sysreg<arm::SysReg::PMCCFILTR_EL0>(kFilterExcludeEl0 | kFilterIncludeEl2 |
                                                (el2_only ? kFilterExcludeEl1 : 0));
  arm::write_sysreg<arm::SysReg::PMCNTENSET_EL0>(kCycleCounterEnable);
  arm::write_sysreg<arm::SysReg::PMCR_EL0>(kPmcrEnable | kPmcrResetCycles | kPmcrLongCycles);
  arm::instruction_barrier();
}
uint64_t counted() {
  arm::instruction_barrier();
  return arm::read_sysreg<arm::SysReg::PMCCNTR_EL0>();
}

bool is_report(arm::Exit& exit) {
  auto* call = exit.get_if<arm::Hypercall>();
  return call != nullptr && call->immediate == kReport;
}

// Answers every exit a benchmark guest makes the way a hypervisor would.
bool answer(arm::Exit& exit) {
  if (is_report(exit)) return false;
  if (auto* call = exit.get_if<arm::Hypercall>()) call->complete(0);
  if (auto* read = exit.get_if<arm::MmioRead>()) read->complete(0x1234);
  if (auto* read = exit.get_if<arm::SysRegRead>()) read->complete(0);
  return true;
}

// The example hypervisor's exit loop with a vGIC: the distributor's MMIO answered by arm.vgic,
// and the idle check made before every entry (list registers empty, no vGIC work).
bool answer_with_vgic(arm::Exit& exit) {
  if (is_report(exit)) return false;
  if (auto* call = exit.get_if<arm::Hypercall>()) call->complete(0);
  if (auto* read = exit.get_if<arm::MmioRead>(); read != nullptr && vgic.contains(read->address))
    read->complete(vgic.read(0, read->address, read->size));
  else if (auto* write = exit.get_if<arm::MmioWrite>(); write != nullptr && vgic.contains(write->address))
    vgic.write(0, write->address, write->size, write->value);
  if (list_registers_used || vgic.has_work(0)) {
    arm::VgicState cpu;
    vgic.fold(0, cpu);
    vgic.flush(0, cpu);
  }
  return true;
}

// The EL1 physical timer is not emulated unless asked: the sysreg_read row's guest reads
// CNTP_CTL_EL0 as a trapped register that reaches the hypervisor.
// The default call policy: arm.smc answers the SMCCC architecture calls inside run().
const arm::smccc::GuestCallPolicy kSmcccCalls{};

arm::VCpuConfig guest_config(const char* guest, uint64_t iterations, uint64_t stage2_vttbr,
                             bool emulate_physical_timer = false,
                             const arm::smccc::GuestCallPolicy* calls = nullptr) {
  return {.entry = reinterpret_cast<uint64_t>(guest),
          .argument = iterations,
          .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack),
          .stage2_vttbr = stage2_vttbr,
          .trap_wfi = true,
          .emulate_physical_timer = emulate_physical_timer,
          .virtual_gic = false,
          .calls = calls};
}

enum class Loop { Coroutine, Callback, CoroutineWithVgic };

// One run from vCPU creation to the report; returns the counter delta.
uint64_t run_once(const char* guest, uint64_t iterations, uint64_t vttbr, uint64_t x1, Loop loop,
                  bool el2_only, bool emulate_physical_timer = false,
                  const arm::smccc::GuestCallPolicy* calls = nullptr) {
  arm::VCpu vcpu{guest_config(guest, iterations, vttbr, emulate_physical_timer, calls)};
  vcpu.registers().x[1] = x1;
  start_counting(el2_only);
  const uint64_t start = counted();
  vcpu.load();
  if (loop == Loop::Coroutine) {
    for (arm::Exit& exit : vcpu.run())
      if (!answer(exit)) break;
  } else if (loop == Loop::CoroutineWithVgic) {
    for (arm::Exit& exit : vcpu.run())
      if (!answer_with_vgic(exit)) break;
  } else {
    vcpu.run_with([](arm::Exit& exit) { return answer(exit); });
  }
  return counted() - start;
}

struct Cost {
  uint64_t total = 0;
  uint64_t el2 = 0;
};

template <class RunOnce>
Cost per_round_trip(RunOnce&& run) {
  const uint64_t total = run(2 * kIterations, false) - run(kIterations, false);
  const uint64_t el2 = run(2 * kIterations, true) - run(kIterations, true);
  return {total / kIterations, el2 / kIterations};
}

void print(const char* name, Cost cost) {
  printf("BENCH %s %llu %llu %llu\n", name, static_cast<unsigned long long>(cost.total),
         static_cast<unsigned long long>(cost.el2), static_cast<unsigned long long>(cost.total - cost.el2));
}

// Two vCPUs on one CPU, each making hypercalls; after every exit the host puts the one
// that exited, loads the other and runs it to its next exit.
uint64_t run_switching(uint64_t iterations, bool el2_only) {
  arm::VCpu a{guest_config(bench_hvc_guest, iterations, 0)};
  arm::VCpu b{guest_config(bench_hvc_guest, iterations, 0)};
  auto run_a = a.run();
  auto run_b = b.run();
  start_counting(el2_only);
  const uint64_t start = counted();
  a.load();
  auto it_a = run_a.begin();
  a.put();
  b.load();
  auto it_b = run_b.begin();
  for (;;) {
    if (!answer(*it_b)) break;
    b.put();
    a.load();
    ++it_a;
    answer(*it_a);
    a.put();
    b.load();
    ++it_b;
  }
  return counted() - start;
}

// The guest's EOI, as kvm-unit-tests' eoi measures it: ICC_EOIR1_EL1 of INTID 1023, a
// special INTID whose EOI the GIC ignores (IHI 0069 12.2.10, ICC_EOIR1_EL1), so nothing
// changes between iterations. With the virtual CPU interface on, it is the guest's own
// (ICV_EOIR1_EL1): no exit.
uint64_t run_eoi(uint64_t iterations, bool el2_only) {
  arm::VCpuConfig config = guest_config(bench_eoi_guest, iterations, 0);
  config.virtual_gic = true;
  arm::VCpu vcpu{config};
  vcpu.registers().x[1] = 1023;
  start_counting(el2_only);
  const uint64_t start = counted();
  vcpu.load();
  for (arm::Exit& exit : vcpu.run())
    if (!answer(exit)) break;
  const uint64_t cost = counted() - start;
  vcpu.put();
  return cost;
}

// Two vCPUs on one CPU as the example hypervisor runs them: each is a task of an
// arm::Scheduler looping on `co_await vcpu.next_exit()`; at a WFI its task puts the vCPU
// and yields, and the scheduler resumes the other task, which loads its vCPU and enters it
// (its own WFI completes then). One iteration: a WFI of each vCPU, so two switches.
arm::Task<> wfi_switch_task(arm::FrameArena&, arm::VCpu& vcpu, arm::Scheduler<2>& scheduler) {
  vcpu.load();
  for (;;) {
    arm::Exit& exit = co_await vcpu.next_exit();
    if (!exit.is<arm::Wfx>()) break;  // the report
    vcpu.put();
    co_await scheduler.yield();
    vcpu.load();
  }
  vcpu.put();
}

uint64_t run_wfi_switching(uint64_t iterations, bool el2_only) {
  arm::VCpu a{guest_config(bench_wfi_guest, iterations, 0)};
  arm::VCpu b{guest_config(bench_wfi_guest, iterations, 0)};
  arm::FrameStorage<2048> frames;
  arm::Scheduler<2> scheduler;
  auto task_a = wfi_switch_task(frames, a, scheduler);
  auto task_b = wfi_switch_task(frames, b, scheduler);
  if (!scheduler.spawn(task_a) || !scheduler.spawn(task_b)) return 0;
  start_counting(el2_only);
  const uint64_t start = counted();
  scheduler.run();
  return counted() - start;
}

// An SGI from vCPU 0 to vCPU 1 of one VM, both on this CPU, the example hypervisor's way:
// vCPU 0's ICC_SGI1R_EL1 write traps and goes to Vgic::send_sgi(); the host puts vCPU 0,
// loads vCPU 1, folds and fills its list registers and resumes it; vCPU 1 takes the SGI
// (acknowledge, end) and yields with a hypercall; its list registers are folded back, it
// is put, vCPU 0 loaded and resumed. One iteration is one SGI delivered and handled.
arm::Vgic sgi_vgic{
    arm::VgicConfig{.vcpus = 2, .spis = 32, .gicd_base = kVgicDistributor, .gicr_base = 0x080a'0000}};
bool sgi_list_registers_used = false;

// vCPU 1's redistributor as a guest would set it up for the SGI scenarios: awake, SGI 1 in
// group 1 and enabled, the distributor's group 1 on.
void prepare_sgi_receiver(arm::Vgic& vgic) {
  vgic.reset(vgic.config());
  const uint64_t rd1 = 0x080a'0000 + arm::kGicrStride, sgi1 = rd1 + arm::kGicrFrameSize;
  vgic.write(1, rd1 + arm::gicr::WAKER, 4, 0);
  vgic.write(1, sgi1 + arm::gicr::IGROUPR0, 4, ~0u);
  vgic.write(1, sgi1 + arm::gicr::ISENABLER0, 4, 1u << 1);
  vgic.write(0, kVgicDistributor + arm::gicd::CTLR, 4, arm::gicd::kCtlrEnableGrp1);
}
// The SGI scenarios' two vCPUs: the sender (vCPU 0, `iterations`) and the receiver (vCPU 1,
// its own stack), both on the virtual CPU interface.
void sgi_vcpu_configs(const char* sender_guest, const char* receiver_guest, uint64_t iterations,
                      arm::VCpuConfig& sender, arm::VCpuConfig& receiver) {
  sender = guest_config(sender_guest, iterations, 0);
  sender.virtual_gic = true;
  receiver = guest_config(receiver_guest, 0, 0);
  receiver.mpidr = 1;
  receiver.stack = reinterpret_cast<uint64_t>(receiver_stack + sizeof receiver_stack);
  receiver.virtual_gic = true;
}

void sync_receiver() { sync_list_registers(sgi_vgic, 1, vgic_list_registers(), sgi_list_registers_used); }

uint64_t run_sgi(uint64_t iterations, bool el2_only) {
  prepare_sgi_receiver(sgi_vgic);
  sgi_list_registers_used = false;
  arm::VCpuConfig sender, receiver;
  sgi_vcpu_configs(bench_sgi_send_guest, bench_sgi_receive_guest, iterations, sender, receiver);
  arm::VCpu a{sender};
  arm::VCpu b{receiver};
  // ICC_SGI1R_EL1: INTID 1, TargetList bit 1 (vCPU 1, Aff0 1).
  a.registers().x[1] = (uint64_t{1} << 24) | (1u << 1);
  auto run_a = a.run();
  auto run_b = b.run();
  start_counting(el2_only);
  const uint64_t start = counted();
  b.load();
  sync_receiver();
  auto it_b = run_b.begin();  // to its "ready" hypercall
  b.put();
  a.load();
  auto it_a = run_a.begin();
  for (;;) {
    if (is_report(*it_a)) break;
    auto* write = it_a->get_if<arm::SysRegWrite>();
    if (write == nullptr) return 0;
    sgi_vgic.send_sgi(0, write->value);  // names vCPU 1, which runs here: no kick
    a.put();
    b.load();
    auto* call = it_b->get_if<arm::Hypercall>();
    if (call == nullptr) return 0;
    call->complete(0);
    sync_receiver();
    ++it_b;  // takes the SGI and yields
    sync_receiver();
    b.put();
    a.load();
    ++it_a;
  }
  const uint64_t cost = counted() - start;
  a.put();
  return cost;
}

// Counter ticks (CNTPCT_EL0, at CNTFRQ_EL0) to nanoseconds: under -icount shift=0 one
// instruction each, with a resolution of 16 at QEMU's 62.5 MHz.
uint64_t ticks_to_ns(uint64_t ticks) { return ticks * 1'000'000'000 / arm::HypervisorTimer::frequency(); }

// Instructions from the emulated physical timer's deadline to the first instruction of the
// guest's IRQ handler: the hardware copy's PPI 30, the ExternalInterrupt exit,
// sample_timer_lines(), the vGIC's set_level() and fold/flush, the entry and the guest's
// exception entry. Measured with the counter the deadline is in: under -icount shift=0 one
// instruction is one nanosecond, so ticks x 1e9 / CNTFRQ_EL0 (a resolution of 16
// instructions at QEMU's 62.5 MHz). On hardware the figure is nanoseconds.
uint64_t timer_deadline_to_handler(uint64_t rounds) {
  arm::PhysicalGic gic{kVgicDistributor, 0x080a'0000};
  gic.init_this_cpu();
  gic.set_split_eoi(true);
  gic.enable_private_interrupt(arm::kPhysicalTimerIntid);
  const uint64_t sgi_frame = vgic.config().gicr_base + arm::kGicrFrameSize;
  vgic.write(0, kVgicDistributor + arm::gicd::CTLR, 4, arm::gicd::kCtlrEnableGrp1);
  vgic.write(0, sgi_frame + arm::gicr::IGROUPR0, 4, 1u << arm::kPhysicalTimerIntid);
  vgic.write(0, sgi_frame + arm::gicr::ISENABLER0, 4, 1u << arm::kPhysicalTimerIntid);
  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(bench_timer_guest),
                  .argument = rounds,
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack)}};
  const unsigned list_registers = arm::list_register_count() < arm::kMaxListRegisters
                                      ? arm::list_register_count()
                                      : arm::kMaxListRegisters;
  uint64_t ticks = 0;
  vcpu.load();
  for (arm::Exit& exit : vcpu.run()) {
    if (is_report(exit)) {
      ticks = exit.as<arm::Hypercall>().x[0];
      break;
    }
    if (exit.is<arm::ExternalInterrupt>()) {
      const uint32_t intid = gic.acknowledge();
      if (intid >= arm::kSpuriousIntid) continue;
      gic.end_of_interrupt(intid);
      if (intid == arm::kPhysicalTimerIntid) vgic.set_level(intid, vcpu.sample_timer_lines().physical_timer);
      gic.deactivate(intid);
    } else if (auto* level = exit.get_if<arm::TimerLevel>()) {
      vgic.set_level(level->intid, level->high);
    }
    arm::VgicState cpu;
    for (unsigned n = 0; n < list_registers; ++n) cpu.lr[n] = arm::read_list_register(n);
    vgic.fold(0, cpu, list_registers);
    vgic.flush(0, cpu, list_registers);
    for (unsigned n = 0; n < list_registers; ++n) arm::write_list_register(n, cpu.lr[n]);
    arm::write_sysreg<arm::SysReg::ICH_HCR_EL2>(cpu.hcr);
  }
  vcpu.put();
  return ticks_to_ns(ticks) / rounds;
}

// Rounds of the wake benchmarks: as many as the trace image's iterations, 200 at most.
constexpr uint64_t kWakeRounds = kIterations < 200 ? kIterations : 200;

// The wake of a parked vCPU by an SGI from the other vCPU of its CPU, the example
// hypervisor's way (examples/hypervisor/main.cpp, vcpu_task): each vCPU is a task of an
// arm::Scheduler looping on `co_await vcpu.next_exit()`. The receiver's WFI parks it (put,
// yield) until its vGIC has work; the sender's ICC_SGI1R_EL1 write goes to
// Vgic::send_sgi(), and since the vCPU it woke shares the CPU, the sender gives way (put,
// yield); the receiver's task loads it, fills its list registers and resumes its WFI, and
// its handler takes the SGI. The guests measure from the sender's count just before the
// write to the handler's first instruction (bench/guests.S).
struct SgiWake {
  arm::Vgic vgic{
      arm::VgicConfig{.vcpus = 2, .spis = 32, .gicd_base = kVgicDistributor, .gicr_base = 0x080a'0000}};
  arm::Scheduler<2> scheduler;
  arm::VCpu* vcpus[2] = {};
  bool parked[2] = {};
  bool list_registers_used[2] = {};
  bool done = false;
};
alignas(8) volatile uint64_t sgi_sent_at = 0;
SgiWake sgi_wake;

arm::Task<> sgi_wake_task(arm::FrameArena&, SgiWake& bench, unsigned index) {
  arm::VCpu& vcpu = *bench.vcpus[index];
  for (;;) {
    while (!bench.done && bench.parked[index] && !bench.vgic.has_work(index))
      co_await bench.scheduler.yield();
    if (bench.done) co_return;
    bench.parked[index] = false;
    vcpu.load();
    sync_list_registers(bench.vgic, index, vgic_list_registers(), bench.list_registers_used[index]);
    bool running = true;
    while (running) {
      arm::Exit& exit = co_await vcpu.next_exit();
      if (is_report(exit)) {
        bench.done = true;
        running = false;
      } else if (auto* write = exit.get_if<arm::SysRegWrite>()) {
        // A vCPU of this CPU woken: the sender gives way once its exit is handled.
        bench.vgic.send_sgi(index, write->value);
        running = !bench.vgic.has_work(1 - index);
      } else if (exit.is<arm::Wfx>()) {
        bench.parked[index] = true;
        running = false;
      }
      sync_list_registers(bench.vgic, index, vgic_list_registers(), bench.list_registers_used[index]);
    }
    vcpu.put();
    co_await bench.scheduler.yield();
  }
}

uint64_t sgi_wake_parked_vcpu(uint64_t rounds) {
  SgiWake& bench = sgi_wake;
  prepare_sgi_receiver(bench.vgic);
  arm::VCpuConfig sender, receiver;
  sgi_vcpu_configs(bench_sgi_wake_sender_guest, bench_sgi_wake_receiver_guest, rounds, sender, receiver);
  arm::VCpu a{sender};
  arm::VCpu b{receiver};
  a.registers().x[1] = (uint64_t{1} << 24) | (1u << 1);  // ICC_SGI1R_EL1: INTID 1 to Aff0 1
  a.registers().x[2] = b.registers().x[2] = reinterpret_cast<uint64_t>(&sgi_sent_at);
  bench.vcpus[0] = &a;
  bench.vcpus[1] = &b;
  bench.done = false;
  bench.parked[0] = bench.parked[1] = false;
  bench.list_registers_used[0] = bench.list_registers_used[1] = false;
  arm::FrameStorage<2048> frames;
  auto receiving = sgi_wake_task(frames, bench, 1);  // first, to its WFI
  auto sending = sgi_wake_task(frames, bench, 0);
  if (!bench.scheduler.spawn(receiving) || !bench.scheduler.spawn(sending)) return 0;
  bench.scheduler.run();
  return ticks_to_ns(b.registers().x[20]) / rounds;
}

// The wake of a parked vCPU by its virtual timer, the example hypervisor's way: its WFI
// (Wfx::deadline) parks it (put), the CPU sleeps at EL2 until that deadline
// (arm::sleep_until_timer_deadline, the EL2 timer's PPI 26), loads it again and enters;
// the virtual timer's PPI 27, asserted again by load(), exits at once (ExternalInterrupt),
// goes into the vGIC hardware-linked and the guest takes it. Measured by the guest from
// the deadline to its handler's first instruction. Run under -icount with sleep=off, the
// sleep itself takes no instructions.
uint64_t timer_wake_parked_vcpu(uint64_t rounds) {
  arm::PhysicalGic gic{kVgicDistributor, 0x080a'0000};
  gic.init_this_cpu();
  gic.set_split_eoi(true);
  gic.enable_private_interrupt(arm::kVirtualTimerIntid);
  gic.enable_private_interrupt(arm::HypervisorTimer::kIntid);
  vgic.reset(vgic.config());
  const uint64_t sgi_frame = vgic.config().gicr_base + arm::kGicrFrameSize;
  vgic.write(0, kVgicDistributor + arm::gicd::CTLR, 4, arm::gicd::kCtlrEnableGrp1);
  vgic.write(0, sgi_frame + arm::gicr::IGROUPR0, 4, 1u << arm::kVirtualTimerIntid);
  vgic.write(0, sgi_frame + arm::gicr::ISENABLER0, 4, 1u << arm::kVirtualTimerIntid);
  vgic.map_hardware(arm::kVirtualTimerIntid, arm::kVirtualTimerIntid);
  arm::VCpu vcpu{guest_config(bench_timer_wake_guest, rounds, 0)};
  bool used = false, timer_high = false;
  uint64_t ticks = 0;
  vcpu.load();
  for (arm::Exit& exit : vcpu.run()) {
    if (is_report(exit)) {
      ticks = exit.as<arm::Hypercall>().x[0];
      break;
    }
    if (auto* wfx = exit.get_if<arm::Wfx>(); wfx != nullptr && wfx->waits_for_interrupt()) {
      vcpu.put();
      arm::VCpu* parked[] = {&vcpu};
      while (arm::sleep_until_timer_deadline(parked, 1) == 0) {
      }
      for (uint32_t intid = gic.acknowledge(); intid < arm::kSpuriousIntid; intid = gic.acknowledge()) {
        gic.end_of_interrupt(intid);
        gic.deactivate(intid);  // the EL2 timer's, stopped already
      }
      vcpu.load();
    } else if (exit.is<arm::ExternalInterrupt>()) {
      const uint32_t intid = gic.acknowledge();
      if (intid >= arm::kSpuriousIntid) continue;
      gic.end_of_interrupt(intid);
      if (intid == arm::kVirtualTimerIntid) {
        // Hardware-linked: the guest's end of the virtual one deactivates the physical one.
        timer_high = true;
        vgic.set_level(intid, true);
      } else {
        gic.deactivate(intid);
      }
    }
    if (timer_high && !vcpu.virtual_timer_output()) {
      timer_high = false;
      vgic.set_level(arm::kVirtualTimerIntid, false);
    }
    sync_list_registers(vgic, 0, vgic_list_registers(), used);
  }
  vcpu.put();
  return ticks_to_ns(ticks) / rounds;
}

// kvm-unit-tests' micro-bench "ipi" the same way: vCPU 0 on this CPU sends an SGI to vCPU 1
// of its VM, which runs on physical CPU 1, and spins until vCPU 1's handler has set a word
// in memory; one iteration is one SGI there and that word back. vCPU n runs on CPU n, as in
// the example hypervisor's pinned mode: vCPU 0's ICC_SGI1R_EL1 write traps and goes to
// Vgic::send_sgi(), which names vCPU 1, so the host kicks CPU 1 with a physical SGI
// (VgicHost, tests/qemu/vgic_host.h). CPU 1's host had parked at vCPU 1's trapped WFI (an
// EL2 WFI until its vGIC has work); it resumes the vCPU, takes the kick as an
// ExternalInterrupt exit, fills the list registers, and the guest takes the SGI. Counted on
// CPU 0 as every other row; under -icount the cycle counter follows QEMU's virtual clock, one
// tick per instruction of either CPU, so the count is both CPUs' instructions (as the KVM
// figures, measured the same way). The split between guest and EL2 is not measured.
struct IpiBench {
  arm::Vgic vgic{
      arm::VgicConfig{.vcpus = 2, .spis = 32, .gicd_base = kVgicDistributor, .gicr_base = 0x080a'0000}};
  uint32_t received = 0;  // the guests' shared word
  bool receiver_ready = false;
  bool receiver_failed = false;
};
IpiBench ipi;

// ICC_SGI1R_EL1 (IHI 0069 12.2.23): INTID 1, TargetList bit 1 (vCPU 1, Aff0 1).
constexpr uint64_t kIpiSgi1r = (uint64_t{1} << 24) | (1u << 1);

arm::VCpuConfig ipi_vcpu_config(const char* guest, uint64_t iterations, uint64_t mpidr,
                                unsigned char* stack_end) {
  arm::VCpuConfig config = guest_config(guest, iterations, 0);
  config.mpidr = mpidr;
  config.stack = reinterpret_cast<uint64_t>(stack_end);
  config.virtual_gic = true;
  return config;
}

// CPU 1's host: vCPU 1 for as long as the image runs.
void serve_ipi_receiver(unsigned cpu) {
  VgicHost host(ipi.vgic, cpu, /*kick_cpus=*/true);
  arm::VCpu vcpu{ipi_vcpu_config(bench_ipi_receive_guest, 0, 1, receiver_stack + sizeof receiver_stack)};
  vcpu.registers().x[2] = reinterpret_cast<uint64_t>(&ipi.received);
  vcpu.load();
  auto run = vcpu.run();
  for (auto it = first_exit(run, host, 1);; resume(it, host, 1)) {
    arm::Exit& exit = *it;
    if (host.handle(exit, 1)) continue;
    if (exit.is<arm::Wfx>()) {
      // Parked: a pending interrupt ends an EL2 WFI with IRQs masked too (Arm ARM D1, "Wait
      // for Interrupt"); the kick is taken once the guest runs again.
      while (!ipi.vgic.has_work(1)) asm volatile("wfi");
      continue;
    }
    if (auto* call = exit.get_if<arm::Hypercall>(); call != nullptr && call->immediate == 1) {
      call->complete(0);
      __atomic_store_n(&ipi.receiver_ready, true, __ATOMIC_RELEASE);
      continue;
    }
    __atomic_store_n(&ipi.receiver_failed, true, __ATOMIC_RELEASE);
    return;
  }
}

uint64_t run_ipi(VgicHost& host, uint64_t iterations) {
  arm::VCpu vcpu{ipi_vcpu_config(bench_ipi_send_guest, iterations, 0, guest_stack + sizeof guest_stack)};
  vcpu.registers().x[1] = kIpiSgi1r;
  vcpu.registers().x[2] = reinterpret_cast<uint64_t>(&ipi.received);
  start_counting(/*el2_only=*/false);
  const uint64_t start = counted();
  vcpu.load();
  auto run = vcpu.run();
  for (auto it = first_exit(run, host, 0);; resume(it, host, 0)) {
    if (is_report(*it)) break;
    if (!host.handle(*it, 0)) return 0;
  }
  const uint64_t cost = counted() - start;
  vcpu.put();
  return cost;
}

// Starts CPU 1 with vCPU 1 ready to receive; false if it does not come up.
bool start_ipi_receiver() {
  prepare_sgi_receiver(ipi.vgic);
  if (!start_cpu(1)) return false;
  return wait_for(ipi.receiver_ready, 10);
}

}  // namespace

// Physical CPU 1 (started by start_ipi_receiver() through PSCI CPU_ON).
extern "C" void arm_el2_secondary_main(uint64_t cpu) {
  arm::PerCpu percpu;
  if (percpu.enable() == arm::EnableError::None) serve_ipi_receiver(static_cast<unsigned>(cpu));
  for (;;) asm volatile("wfi");
}

int main() {
  arm::PerCpu cpu;
  if (cpu.enable() != arm::EnableError::None) return 1;
  // The host owns the PMU: MDCR_EL2 keeps the guests out of it (TPM, TPMCR).

  arm::PagePool pool(stage2_pages, sizeof stage2_pages / arm::kPageSize);
  arm::Stage2Table stage2(pool, 1);
  const uint64_t image = reinterpret_cast<uint64_t>(__image_start) & ~uint64_t{0x1f'ffff};
  if (stage2.map(image, image, 0x100'0000, arm::kGuestRam) != arm::MapError::None) return 2;
  const uint64_t vttbr = stage2.vttbr();

  print("hvc_round_trip", per_round_trip([](uint64_t n, bool el2) {
          return run_once(bench_hvc_guest, n, 0, 0, Loop::Coroutine, el2);
        }));
  // An SMCCC call answered inside run() (no event): kvm-unit-tests' hyp_call.
  print("smccc_call_in_run_round_trip", per_round_trip([](uint64_t n, bool el2) {
          return run_once(bench_smccc_version_guest, n, 0, 0, Loop::Coroutine, el2, false, &kSmcccCalls);
        }));
  print("hvc_round_trip_callback", per_round_trip([](uint64_t n, bool el2) {
          return run_once(bench_hvc_guest, n, 0, 0, Loop::Callback, el2);
        }));
  arm::write_sysreg<arm::SysReg::VBAR_EL2>(reinterpret_cast<uint64_t>(bench_floor_vectors));
  arm::instruction_barrier();
  print("hvc_round_trip_floor", per_round_trip([](uint64_t n, bool el2) {
          return run_once(bench_hvc_guest, n, 0, 0, Loop::Coroutine, el2);
        }));
  arm::write_sysreg<arm::SysReg::VBAR_EL2>(reinterpret_cast<uint64_t>(arm_el2_vectors));
  arm::instruction_barrier();
  print("mmio_read_round_trip", per_round_trip([vttbr](uint64_t n, bool el2) {
          return run_once(bench_mmio_read_guest, n, vttbr, kMmioAddress, Loop::Coroutine, el2);
        }));
  print("mmio_write_round_trip", per_round_trip([vttbr](uint64_t n, bool el2) {
          return run_once(bench_mmio_write_guest, n, vttbr, kMmioAddress, Loop::Coroutine, el2);
        }));
  // arm.vgic attached and idle; then a 32-bit read of GICD_IIDR (IHI 0069 12.9.16), the
  // register kvm-unit-tests' micro-bench reads in its mmio_read_vgic test, and a read and a
  // write of GICD_ISENABLER1 (12.9.15), a block of 32 interrupts' state, answered by it.
  print("hvc_round_trip_vgic_idle", per_round_trip([](uint64_t n, bool el2) {
          return run_once(bench_hvc_guest, n, 0, 0, Loop::CoroutineWithVgic, el2);
        }));
  print("gicd_iidr_read_round_trip", per_round_trip([vttbr](uint64_t n, bool el2) {
          return run_once(bench_mmio_read_guest, n, vttbr, kVgicDistributor + arm::gicd::IIDR,
                          Loop::CoroutineWithVgic, el2);
        }));
  print("gicd_read_round_trip", per_round_trip([vttbr](uint64_t n, bool el2) {
          return run_once(bench_mmio_read_guest, n, vttbr, kVgicDistributor + arm::gicd::ISENABLER + 4,
                          Loop::CoroutineWithVgic, el2);
        }));
  print("gicd_write_round_trip", per_round_trip([vttbr](uint64_t n, bool el2) {
          return run_once(bench_mmio_write_guest, n, vttbr, kVgicDistributor + arm::gicd::ICENABLER + 4,
                          Loop::CoroutineWithVgic, el2);
        }));
  print("sysreg_read_round_trip", per_round_trip([](uint64_t n, bool el2) {
          return run_once(bench_sysreg_read_guest, n, 0, 0, Loop::Coroutine, el2);
        }));
  print("wfi_round_trip", per_round_trip([](uint64_t n, bool el2) {
          return run_once(bench_wfi_guest, n, 0, 0, Loop::Coroutine, el2);
        }));
  print("guest_eoi", per_round_trip([](uint64_t n, bool el2) { return run_eoi(n, el2); }));
  print("sgi_between_vcpus_round_trip", per_round_trip([](uint64_t n, bool el2) { return run_sgi(n, el2); }));
  // A trapped CNTP_CVAL_EL0 write answered inside run() by the emulated physical timer.
  print("cntp_cval_write_round_trip", per_round_trip([](uint64_t n, bool el2) {
          return run_once(bench_cntp_cval_write_guest, n, 0, 0, Loop::Coroutine, el2, true);
        }));
  // Each iteration of run_switching is two exits, each followed by a put and a load.
  Cost switching = per_round_trip([](uint64_t n, bool el2) { return run_switching(n, el2); });
  print("vcpu_switch_round_trip", {switching.total / 2, switching.el2 / 2});
  // From one vCPU's WFI to the other vCPU running, through the coroutine scheduler.
  Cost wfi_switching = per_round_trip([](uint64_t n, bool el2) { return run_wfi_switching(n, el2); });
  print("wfi_switch_to_other_vcpu", {wfi_switching.total / 2, wfi_switching.el2 / 2});
  // Not a round trip: the split between guest and EL2 is not measured (reported as EL2).
  const uint64_t latency = timer_deadline_to_handler(200);
  print("timer_deadline_to_handler", {latency, latency});
  // Wake latencies of a parked vCPU, reported the same way.
  const uint64_t sgi_wake = sgi_wake_parked_vcpu(kWakeRounds);
  print("sgi_wake_parked_vcpu", {sgi_wake, sgi_wake});
  const uint64_t timer_wake = timer_wake_parked_vcpu(kWakeRounds);
  print("timer_wake_parked_vcpu", {timer_wake, timer_wake});
  // Last: from here on CPU 1 serves vCPU 1. Needs a second CPU (run with -smp 2).
  if (start_ipi_receiver()) {
    VgicHost host(ipi.vgic, 0, /*kick_cpus=*/true);
    const uint64_t once = run_ipi(host, kIterations), twice = run_ipi(host, 2 * kIterations);
    const uint64_t per_round_trip = once != 0 && twice > once ? (twice - once) / kIterations : 0;
    print("sgi_between_cpus_round_trip", {per_round_trip, per_round_trip});
  } else {
    printf("sgi_between_cpus_round_trip: no second CPU\n");
  }
  cpu.disable();
  return 0;
}
