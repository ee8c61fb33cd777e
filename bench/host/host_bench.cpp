// Host microbenchmarks. The guest is a stand-in for the world switch that makes every
// entry end in an HVC (as the EL2 benchmark's guest does), so both loops run the same
// vCPU code (decode, completion) and differ only in how the exit reaches the handler:
// a coroutine (run()) or a callback (run_with()).
#include <benchmark/benchmark.h>

#include <cstdint>

import arm.vcpu;

namespace {
constexpr std::uint64_t kHvcEsr = (0x16ull << 26) | (1ull << 25) | 1;  // HVC #1, IL = 1
}  // namespace

extern "C" std::uint64_t arm_enter_guest(arm::GuestRegisters* guest) {
  guest->pc += 4;
  guest->x[0] += 1;
  arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::ESR_EL2)] = kHvcEsr;
  return 0;  // ARM_EXIT_SYNCHRONOUS
}

namespace {

void run_loop_coroutine(benchmark::State& state) {
  arm::VCpu vcpu{{.entry = 0x4000'0000, .virtual_gic = false}};
  vcpu.load();
  auto run = vcpu.run();
  auto exit = run.begin();
  for (auto _ : state) {
    auto* call = exit->get_if<arm::Hypercall>();
    call->complete(call->x[0]);
    ++exit;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(run_loop_coroutine);

void run_loop_callback(benchmark::State& state) {
  arm::VCpu vcpu{{.entry = 0x4000'0000, .virtual_gic = false}};
  vcpu.load();
  // run_with() owns the loop; the benchmark's iterator (what `for (auto _ : state)`
  // expands to) only counts and stops it.
  auto it = state.begin();
  const auto end = state.end();
  vcpu.run_with([&](arm::Exit& exit) {
    if (!(it != end)) return false;
    ++it;
    auto* call = exit.get_if<arm::Hypercall>();
    call->complete(call->x[0]);
    return true;
  });
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(run_loop_callback);

// A mix of the syndromes a guest OS causes most: HVC, MMIO read and write, MSR/MRS, WFI.
void decode_syndrome(benchmark::State& state) {
  constexpr std::uint64_t kDataAbort = 0x24ull << 26;
  constexpr std::uint64_t kIsv = 1ull << 24, kSas32 = 2ull << 22, kWnR = 1ull << 6;
  constexpr std::uint64_t kTranslationL3 = 0b000111;
  const arm::Syndrome syndromes[] = {
      {kHvcEsr, 0, 0},
      {kDataAbort | (1ull << 25) | kIsv | kSas32 | (2ull << 16) | kTranslationL3, 0x0a00'0010, 0x00a0'0000},
      {kDataAbort | (1ull << 25) | kIsv | kSas32 | kWnR | (3ull << 16) | kTranslationL3, 0x0a00'0014,
       0x00a0'0000},
      {(0x18ull << 26) | (1ull << 25) | (3ull << 20) | (3ull << 14) | (14ull << 10) | (2ull << 1) | 1, 0, 0},
      {(0x01ull << 26) | (1ull << 25), 0, 0},
  };
  arm::GuestRegisters regs;
  std::size_t next = 0;
  for (auto _ : state) {
    auto event = arm::decode(syndromes[next], regs);
    benchmark::DoNotOptimize(event);
    next = next + 1 == 5 ? 0 : next + 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(decode_syndrome);

}  // namespace

BENCHMARK_MAIN();
