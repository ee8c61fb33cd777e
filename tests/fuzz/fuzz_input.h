// What the trap fuzzer's translation units share (trap_fuzzer.cpp: the entry point and the
// arm.trap checks; smc_checks.cpp: the arm.smc checks): the layout of an input, and
// FUZZ_CHECK. Standard headers only, so it can be included before the modules are
// imported.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>

// A violated invariant aborts, which libFuzzer reports as a crash.
#define FUZZ_CHECK(condition)                                                                      \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #condition, __FILE_NAME__, __LINE__); \
      std::abort();                                                                                \
    }                                                                                              \
  } while (0)

namespace trap_fuzz {

// The arm.smc part of the input: the hypervisor's policy, and how the calls made directly
// from the registers are shaped.
struct SmcInput {
  std::uint8_t flags;          // see kPsciOff ... kUseImmediate
  std::uint8_t address_bits;   // the VM's IPA size, as any unsigned the policy may be given
  std::uint8_t counts;         // bits 0-2: vCPUs (mod 5), 3-4: RAM ranges (mod 3),
                               // 5-6: allow-list ranges (0-3), 7: one hypervisor range
  std::uint8_t vcpu_states;    // two bits per vCPU, mod 3
  std::uint8_t function;       // how w0 of the direct calls is chosen
  std::uint8_t arguments;      // how x1 and x2 of the direct calls are shaped
  std::uint8_t completion;     // bit 0: the hypervisor completes a PSCI event; bits 1-7: status
  std::uint8_t range_kinds;    // bit n: range n is absolute, else around the direct calls' id
  std::uint16_t immediate;     // the direct calls' imm16 (with kUseImmediate)
  std::uint32_t ranges[4][2];  // allow-list ranges 0-2, hypervisor range 3: first, last
  std::uint64_t vcpu_mpidr[4];
  std::uint64_t memory[2][2];  // RAM ranges: base, size
};
inline constexpr std::uint8_t kPsciOff = 1 << 0;
inline constexpr std::uint8_t kExtendedPowerState = 1 << 1;
inline constexpr std::uint8_t kSpectreV2Unaffected = 1 << 2;
inline constexpr std::uint8_t kSpectreV4Unaffected = 1 << 3;
inline constexpr std::uint8_t kSpectreBhbUnaffected = 1 << 4;
inline constexpr std::uint8_t kUseImmediate = 1 << 5;

// The input, zero-padded when shorter.
struct Input {
  std::uint64_t esr;
  std::uint64_t far;
  std::uint64_t hpfar;
  std::uint64_t pc;
  std::uint64_t pstate;
  std::uint64_t answer;  // the hypervisor's answer to reads; also an SGI register value
  std::uint64_t vbar;
  std::uint64_t sctlr;
  std::uint64_t mpidr;   // a PE to test as SGI target
  std::uint8_t choices;  // bit 0: answer/accept, bit 1: retry vs emulate
  std::uint64_t x[31];
  SmcInput smc;  // last, so inputs written before arm.smc was fuzzed keep their meaning
};

}  // namespace trap_fuzz
