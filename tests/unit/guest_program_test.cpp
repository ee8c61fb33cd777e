// The guest fuzzer's program generator (tests/fuzz/guest/program.h), on the host: the
// encodings it relies on, and the properties the fuzzer needs from every program.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "../fuzz/guest/program.h"

namespace {
namespace a64 = guest_fuzz::a64;

guest_fuzz::Layout test_layout() {
  return {.code = 0x8000'1000,
          .data = 0x8000'8000,
          .data_size = 0x3000,
          .read_only = 0x8000'b000,
          .read_only_size = 0x1000,
          .no_execute = 0x8000'c000,
          .unmapped = 0x8001'0000,
          .hypervisor = 0x4020'0000,
          .hypervisor_size = 0x10'0000,
          .secret = 0x4028'0000,
          .stage2_tables = 0x4029'0000};
}

struct Program {
  std::vector<std::uint32_t> code = std::vector<std::uint32_t>(7168);
  std::size_t size = 0;
  std::size_t done = 0;
};

Program generate(std::uint64_t seed, std::uint32_t gic_percent = 0) {
  Program program;
  guest_fuzz::Rng rng(seed);
  guest_fuzz::Layout layout = test_layout();
  layout.gic_percent = gic_percent;
  guest_fuzz::ProgramGenerator generator(rng, layout);
  guest_fuzz::ProgramWriter writer(program.code.data(), program.code.size(), layout.code);
  program.done = generator.generate(writer, 8 + rng.below(57));
  program.size = writer.size();
  program.code.resize(program.size);
  return program;
}
}  // namespace

TEST_CASE("guest fuzzer encodings match the assembler") {
  // Values from llvm-mc -triple=aarch64 -show-encoding.
  CHECK(a64::movz(3, 0x1234, 16) == 0xd2a2'4683);                // movz x3, #0x1234, lsl #16
  CHECK(a64::movk(3, 0xbeef, 48) == 0xf2f7'dde3);                // movk x3, #0xbeef, lsl #48
  CHECK(a64::load_store(3, 1, 1, 0) == 0xf940'0020);             // ldr x0, [x1]
  CHECK(a64::load_store(0, 2, 2, 5) == 0x3980'0045);             // ldrsb x5, [x2]
  CHECK(a64::load_store(1, 0, 31, 4) == 0x7900'03e4);            // strh w4, [sp]
  CHECK(a64::ldp(0, 1, 2) == 0xa940'0440);                       // ldp x0, x1, [x2]
  CHECK(a64::str_pre_index(1, 0) == 0xf800'8c20);                // str x0, [x1, #8]!
  CHECK(a64::system(true, 3, 0, 0, 0, 0, 0) == 0xd538'0000);     // mrs x0, midr_el1
  CHECK(a64::system(false, 3, 0, 13, 0, 4, 16) == 0xd518'd090);  // msr tpidr_el1, x16
  CHECK(a64::system(false, 2, 0, 0, 2, 2, 1) == 0xd510'0241);    // msr mdscr_el1, x1
  CHECK(a64::sys(3, 7, 14, 1, 4) == 0xd50b'7e24);                // dc civac, x4
  CHECK(a64::hvc(0xd0e) == 0xd401'a1c2);                         // hvc #0xd0e
  CHECK(a64::msr_daifset(0xf) == 0xd503'4fdf);                   // msr daifset, #0xf
  CHECK(a64::msr_spsel(1) == 0xd500'41bf);                       // msr spsel, #1
  CHECK(a64::b(-1) == 0x17ff'ffff);                              // b .-4
}

TEST_CASE("a guest program is reproducible from its seed and ends with the done call") {
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const Program first = generate(seed);
    const Program again = generate(seed);
    REQUIRE(first.code == again.code);
    REQUIRE(first.done + 2 == first.size);
    CHECK(first.code[first.done] == a64::hvc(guest_fuzz::kProgramDone));
    CHECK(first.code[first.done + 1] == a64::b(-1));
    // Nothing before the end calls the done hypercall, and nothing is QEMU's semihosting
    // trap, which would let a guest end the test run.
    std::size_t forbidden = 0;
    for (std::size_t n = 0; n < first.done; ++n)
      if (first.code[n] == a64::hvc(guest_fuzz::kProgramDone) || first.code[n] == a64::kSemihostingTrap)
        ++forbidden;
    CHECK(forbidden == 0);
  }
  CHECK(generate(1).code != generate(2).code);
}

TEST_CASE("the programs of a seed stay what they were (issue 19), the vGIC addresses only when asked for") {
  // FNV-1a over the programs of seeds 0-199 as the generator made them before the
  // vGIC-aimed addresses (Layout::gic_percent) existed.
  std::uint64_t hash = 0xcbf2'9ce4'8422'2325ull;
  for (std::uint64_t seed = 0; seed < 200; ++seed)
    for (std::uint32_t word : generate(seed).code) hash = (hash ^ word) * 0x100'0000'01b3ull;
  CHECK(hash == 14071267447908314103ull);
  // With gic_percent, a good share of the accesses lands in the distributor or in a
  // redistributor (either frame of vCPU 0 or 1).
  unsigned gic = 0;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    const Program program = generate(seed, 50);
    for (std::size_t n = 0; n + 3 < program.size; ++n) {
      // MOVZ + 3 MOVK: the 64-bit immediate of one mov64.
      if ((program.code[n] & 0xffe0'0000u) != 0xd280'0000u) continue;
      std::uint64_t value = 0;
      for (unsigned k = 0; k < 4; ++k)
        value |= std::uint64_t{(program.code[n + k] >> 5) & 0xffff} << (16 * k);
      if (value - 0x0800'0000 < 0x1'0000 || value - 0x080a'0000 < 0x4'0000) ++gic;
    }
  }
  CHECK(gic > 300);  // 468 at the time of writing
}
