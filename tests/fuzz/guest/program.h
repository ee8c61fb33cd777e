// Random guest programs for the guest fuzzer: A64 machine code, generated from a seed,
// that a hostile or broken EL1 guest could run. Header-only and free of the library so
// the EL2 fuzzer and a host unit test (tests/unit/guest_program_test.cpp) share it.
//
// A program is a list of items, each a few instructions: loads and stores of every width
// to addresses chosen to hurt (unmapped IPAs, the hypervisor's own image, its stage-2
// tables, devices, addresses beyond the IPA size), HVC/SMC with SMCCC and random function
// IDs, MSR/MRS to trapped, untrapped and nonexistent system registers, WFI/WFE, BRK, SVC,
// UDF, ERET to random exception levels and addresses, branches to anywhere, and random
// 32-bit words. It ends with `hvc #kProgramDone`.
//
// Encodings: Arm ARM C4 "A64 Instruction Set Encoding" (C4.1.66 loads and stores, C4.1.65
// branches, exception generation and system instructions).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "program_done.h"

namespace guest_fuzz {

// SplitMix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number generators",
// OOPSLA 2014): small, fast and good enough to pick instructions.
class Rng {
 public:
  explicit constexpr Rng(uint64_t seed) : state_(seed) {}
  constexpr uint64_t next() {
    uint64_t z = (state_ += 0x9e37'79b9'7f4a'7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11ebull;
    return z ^ (z >> 31);
  }
  constexpr uint32_t below(uint32_t bound) { return static_cast<uint32_t>(next() % bound); }
  constexpr bool percent(uint32_t chance) { return below(100) < chance; }

 private:
  uint64_t state_;
};

// `hvc #kProgramDone` ends a program; the host never sees it otherwise.
inline constexpr uint16_t kProgramDone = GUEST_FUZZ_PROGRAM_DONE;

// Where things are, as the guest sees them (IPAs) and as the hypervisor is laid out (the
// guest uses those physical addresses as IPAs: none of them is mapped for it).
struct Layout {
  uint64_t code = 0;                             // IPA of the program's first instruction
  uint64_t data = 0, data_size = 0;              // guest RAM, read-write
  uint64_t read_only = 0, read_only_size = 0;    // mapped without write permission
  uint64_t no_execute = 0;                       // mapped without execute permission
  uint64_t unmapped = 0;                         // an unmapped IPA inside the guest's window
  uint64_t hypervisor = 0, hypervisor_size = 0;  // the EL2 image (code, data, stacks)
  uint64_t secret = 0;                           // hypervisor data the guest must never read
  uint64_t stage2_tables = 0;                    // the VM's own stage-2 tables
  uint32_t gic_percent = 0;                      // see ProgramGenerator::address()
};

// QEMU virt devices (hw/arm/virt.c memory map): none is mapped for the guest.
inline constexpr uint64_t kDevices[] = {0x0800'0000, 0x080a'0000, 0x0900'0000, 0x0a00'0000, 0x0c00'0000};

// The A64 encodings the generator uses.
namespace a64 {
constexpr uint32_t movz(unsigned rd, uint16_t imm, unsigned shift) {
  return 0xd280'0000u | (shift / 16) << 21 | uint32_t{imm} << 5 | rd;
}
constexpr uint32_t movk(unsigned rd, uint16_t imm, unsigned shift) {
  return 0xf280'0000u | (shift / 16) << 21 | uint32_t{imm} << 5 | rd;
}
// LDR/STR (unsigned immediate, offset 0): size [31:30], opc [23:22] (C4.1.66).
constexpr uint32_t load_store(unsigned size, unsigned opc, unsigned rn, unsigned rt) {
  return 0x3900'0000u | size << 30 | opc << 22 | rn << 5 | rt;
}
constexpr uint32_t ldp(unsigned rt, unsigned rt2, unsigned rn) {
  return 0xa940'0000u | rt2 << 10 | rn << 5 | rt;
}
constexpr uint32_t stp(unsigned rt, unsigned rt2, unsigned rn) {
  return 0xa900'0000u | rt2 << 10 | rn << 5 | rt;
}
constexpr uint32_t ldr_post_index(unsigned rn, unsigned rt) {
  return 0xf840'0000u | 8u << 12 | 1u << 10 | rn << 5 | rt;
}
constexpr uint32_t str_pre_index(unsigned rn, unsigned rt) {
  return 0xf800'0000u | 8u << 12 | 3u << 10 | rn << 5 | rt;
}
constexpr uint32_t ldxr(unsigned rn, unsigned rt) { return 0xc85f'7c00u | rn << 5 | rt; }
constexpr uint32_t stxr(unsigned rs, unsigned rn, unsigned rt) {
  return 0xc800'7c00u | rs << 16 | rn << 5 | rt;
}
constexpr uint32_t ldar(unsigned rn, unsigned rt) { return 0xc8df'fc00u | rn << 5 | rt; }
constexpr uint32_t stlr(unsigned rn, unsigned rt) { return 0xc89f'fc00u | rn << 5 | rt; }
constexpr uint32_t ldadd(unsigned rs, unsigned rn, unsigned rt) {
  return 0xf820'0000u | rs << 16 | rn << 5 | rt;
}
constexpr uint32_t ldr_d(unsigned rn, unsigned rt) { return 0xfd40'0000u | rn << 5 | rt; }
constexpr uint32_t str_q(unsigned rn, unsigned rt) { return 0x3d80'0000u | rn << 5 | rt; }
constexpr uint32_t prfm(unsigned rn) { return 0xf980'0000u | rn << 5; }
// SYS/SYSL, MSR/MRS (register): op0 is 2 or 3, encoded as o0 = op0 - 2 at bit 19.
constexpr uint32_t system(bool read, unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2,
                          unsigned rt) {
  return 0xd510'0000u | uint32_t{read} << 21 | (op0 - 2) << 19 | op1 << 16 | crn << 12 | crm << 8 | op2 << 5 |
         rt;
}
// SYS (op0 = 1): cache and address translation maintenance with a register.
constexpr uint32_t sys(unsigned op1, unsigned crn, unsigned crm, unsigned op2, unsigned rt) {
  return 0xd508'0000u | op1 << 16 | crn << 12 | crm << 8 | op2 << 5 | rt;
}
constexpr uint32_t svc(uint16_t imm) { return 0xd400'0001u | uint32_t{imm} << 5; }
constexpr uint32_t hvc(uint16_t imm) { return 0xd400'0002u | uint32_t{imm} << 5; }
constexpr uint32_t smc(uint16_t imm) { return 0xd400'0003u | uint32_t{imm} << 5; }
constexpr uint32_t brk(uint16_t imm) { return 0xd420'0000u | uint32_t{imm} << 5; }
constexpr uint32_t hlt(uint16_t imm) { return 0xd440'0000u | uint32_t{imm} << 5; }
constexpr uint32_t udf(uint16_t imm) { return imm; }
constexpr uint32_t b(int32_t words) { return 0x1400'0000u | (static_cast<uint32_t>(words) & 0x3ff'ffff); }
constexpr uint32_t br(unsigned rn) { return 0xd61f'0000u | rn << 5; }
constexpr uint32_t blr(unsigned rn) { return 0xd63f'0000u | rn << 5; }
constexpr uint32_t mov_to_sp(unsigned rn) { return 0x9100'001fu | rn << 5; }  // ADD SP, Xn, #0
constexpr uint32_t msr_daifset(unsigned imm) { return 0xd503'40dfu | imm << 8; }
constexpr uint32_t msr_daifclr(unsigned imm) { return 0xd503'40ffu | imm << 8; }
constexpr uint32_t msr_spsel(unsigned imm) { return 0xd500'40bfu | (imm & 1) << 8; }
inline constexpr uint32_t kEret = 0xd69f'03e0;
inline constexpr uint32_t kWfi = 0xd503'207f;
inline constexpr uint32_t kWfe = 0xd503'205f;
inline constexpr uint32_t kYield = 0xd503'203f;
inline constexpr uint32_t kSev = 0xd503'209f;
inline constexpr uint32_t kNop = 0xd503'201f;
inline constexpr uint32_t kIsb = 0xd503'3fdf;
inline constexpr uint32_t kDsbSy = 0xd503'3f9f;
inline constexpr uint32_t kTlbiVmalle1 = 0xd508'871f;
inline constexpr uint32_t kIcIallu = 0xd508'751f;
// QEMU's semihosting trap (`hlt #0xf000` at EL1 with -semihosting): a QEMU debugging
// feature, not architecture: on hardware HLT is UNDEFINED without halting debug. A guest
// could end the test run with it, so the generator never emits it.
inline constexpr uint32_t kSemihostingTrap = hlt(0xf000);
}  // namespace a64

// A system register by its encoding.
struct SysRegEncoding {
  uint8_t op0, op1, crn, crm, op2;
};
// A mix of what EL1 may own (untrapped), what the vCPU traps (ID registers with TID3, PMU,
// the EL1 physical timer), what belongs to EL2 or EL3 (UNDEFINED at EL1), debug, GIC CPU
// interface, SVE and implementation defined registers (Arm ARM D19 register index).
inline constexpr SysRegEncoding kSystemRegisters[] = {
    {3, 0, 1, 0, 0},   {3, 0, 1, 0, 1},   {3, 0, 1, 0, 2},   {3, 0, 2, 0, 0},   {3, 0, 2, 0, 1},
    {3, 0, 2, 0, 2},   {3, 0, 5, 2, 0},   {3, 0, 6, 0, 0},   {3, 0, 10, 2, 0},  {3, 0, 12, 0, 0},
    {3, 0, 13, 0, 4},  {3, 0, 4, 1, 0},   {3, 0, 4, 0, 1},   {3, 0, 4, 0, 0},   {3, 0, 14, 1, 0},
    {3, 0, 13, 0, 1},  {3, 0, 7, 4, 0},   {2, 0, 0, 2, 2},   {3, 0, 0, 4, 0},   {3, 0, 0, 4, 1},
    {3, 0, 0, 4, 4},   {3, 0, 0, 4, 5},   {3, 0, 0, 5, 0},   {3, 0, 0, 6, 0},   {3, 0, 0, 6, 1},
    {3, 0, 0, 7, 0},   {3, 0, 0, 7, 1},   {3, 0, 0, 7, 2},   {3, 0, 0, 1, 0},   {3, 0, 0, 3, 7},
    {3, 0, 0, 0, 0},   {3, 0, 0, 0, 5},   {3, 3, 14, 3, 1},  {3, 3, 14, 3, 2},  {3, 3, 14, 3, 0},
    {3, 3, 14, 2, 1},  {3, 3, 14, 2, 2},  {3, 3, 14, 2, 0},  {3, 3, 14, 0, 1},  {3, 3, 14, 0, 2},
    {3, 3, 14, 0, 0},  {3, 0, 12, 12, 0}, {3, 0, 12, 12, 1}, {3, 0, 4, 6, 0},   {3, 0, 12, 11, 5},
    {3, 0, 12, 12, 5}, {3, 0, 12, 12, 4}, {3, 0, 12, 12, 7}, {3, 0, 12, 11, 1}, {3, 3, 9, 12, 0},
    {3, 3, 9, 13, 0},  {3, 3, 9, 12, 1},  {3, 3, 9, 14, 0},  {2, 0, 1, 0, 4},   {2, 0, 1, 1, 4},
    {2, 0, 0, 0, 5},   {2, 0, 0, 0, 4},   {2, 3, 0, 1, 0},   {2, 3, 0, 4, 0},   {3, 4, 1, 1, 0},
    {3, 4, 12, 0, 0},  {3, 4, 2, 1, 0},   {3, 4, 1, 0, 0},   {3, 4, 14, 2, 1},  {3, 4, 12, 11, 0},
    {3, 4, 5, 2, 0},   {3, 6, 1, 1, 0},   {3, 0, 15, 0, 0},  {3, 1, 15, 2, 0},  {3, 1, 11, 0, 2},
    {3, 0, 1, 2, 0},   {3, 0, 2, 1, 0},   {3, 0, 2, 1, 2},   {3, 0, 5, 6, 0},   {3, 0, 9, 14, 1},
};

// SMCCC function IDs worth calling: PSCI (32- and 64-bit), SMCCC_VERSION,
// SMCCC_ARCH_FEATURES and the workaround calls, and services nobody implements.
inline constexpr uint32_t kFunctionIds[] = {
    0x8400'0000, 0x8400'0001, 0xc400'0001, 0x8400'0002, 0x8400'0003, 0xc400'0003, 0x8400'0004,
    0xc400'0004, 0x8400'0006, 0x8400'0008, 0x8400'0009, 0x8400'000a, 0x8400'000c, 0x8400'000e,
    0x8400'0012, 0x8000'0000, 0x8000'0001, 0x8000'8000, 0x8000'7fff, 0x8000'3fff, 0x8200'0000,
    0xc300'0001, 0x8600'0000, 0xbf00'ff01, 0xf000'0000, 0x0000'0000, 0x8400'00ff, 0xc400'0012,
};

// Appends instructions at consecutive guest addresses.
class ProgramWriter {
 public:
  ProgramWriter(uint32_t* code, size_t capacity, uint64_t base)
      : code_(code), capacity_(capacity), base_(base) {}
  void emit(uint32_t instruction) {
    if (count_ < capacity_) code_[count_++] = instruction;
  }
  // Xd = value, in four instructions (MOVZ + 3 MOVK) whatever the value.
  void mov64(unsigned rd, uint64_t value) {
    emit(a64::movz(rd, static_cast<uint16_t>(value), 0));
    for (unsigned shift = 16; shift < 64; shift += 16)
      emit(a64::movk(rd, static_cast<uint16_t>(value >> shift), shift));
  }
  // The guest address of the instruction `ahead` instructions after the next one.
  uint64_t address_after(size_t ahead) const { return base_ + 4 * (count_ + ahead); }
  size_t size() const { return count_; }
  size_t room() const { return capacity_ - count_; }

 private:
  uint32_t* code_;
  size_t capacity_;
  uint64_t base_;
  size_t count_ = 0;
};

class ProgramGenerator {
 public:
  ProgramGenerator(Rng& rng, const Layout& layout) : rng_(rng), layout_(layout) {}

  // An address a hostile guest would try, as an IPA. With Layout::gic_percent, that share
  // of them goes to the virtual GIC's registers (gic_address()); at 0 (the default) no
  // random number is drawn for it, so a seed's program is what it was before the choice
  // existed (issue 19).
  uint64_t address() {
    if (layout_.gic_percent != 0 && rng_.percent(layout_.gic_percent)) return gic_address();
    const uint64_t offset = rng_.percent(80) ? rng_.below(512) * 8 : rng_.below(4096);  // sometimes unaligned
    switch (rng_.below(13)) {
      case 0:
      case 1:
        return layout_.data + offset % layout_.data_size;
      case 2:
        return layout_.read_only + offset % layout_.read_only_size;
      case 3:
        return layout_.no_execute + offset % 4096;
      case 4:
        return layout_.code + offset;
      case 5:
        return layout_.unmapped + rng_.below(1u << 20);
      case 6:
        return layout_.hypervisor + rng_.next() % layout_.hypervisor_size;
      case 7:
        return layout_.secret + offset % 4096;
      case 8:
        return layout_.stage2_tables + offset % 4096;
      case 9:
        return kDevices[rng_.below(sizeof kDevices / sizeof kDevices[0])] + offset;
      case 10:
        return rng_.next() & ((1ull << 39) - 1);  // anywhere in the 39-bit IPA space
      case 11:
        return rng_.next() & ((1ull << 48) - 1);  // mostly beyond it
      default:
        return rng_.next();
    }
  }
  // QEMU virt's GICD (64 KiB) and the redistributors of vCPUs 0 and 1 (RD and SGI frames,
  // 128 KiB each), as arm.vgic emulates them (IHI 0069 12.8, 12.10): mostly the offsets
  // where registers are (the first 4 KiB of each frame, GICD_IROUTER<n>, the ID registers
  // at the top), word aligned more often than not, sometimes anywhere in the range.
  uint64_t gic_address() {
    constexpr uint64_t kGicd = 0x0800'0000, kGicr = 0x080a'0000, kFrame = 0x1'0000;
    const uint64_t frame = rng_.percent(40) ? kGicd : kGicr + kFrame * rng_.below(4);
    uint64_t offset;
    switch (rng_.below(6)) {
      case 0:
      case 1:
      case 2:
        offset = rng_.below(0x1000);  // the bit, byte and configuration arrays
        break;
      case 3:
        offset = 0x6000 + rng_.below(0x2000);  // GICD_IROUTER<n> (RAZ/WI in a redistributor)
        break;
      case 4:
        offset = 0xffc0 + rng_.below(0x40);  // the ID registers
        break;
      default:
        offset = rng_.below(kFrame);
        break;
    }
    if (rng_.percent(70)) offset &= ~uint64_t{3};
    return frame + offset;
  }
  // A register value: an address, an SMCCC ID, a small number, or anything.
  uint64_t value() {
    switch (rng_.below(6)) {
      case 0:
      case 1:
        return address();
      case 2:
        return kFunctionIds[rng_.below(sizeof kFunctionIds / sizeof kFunctionIds[0])];
      case 3:
        return rng_.below(64);
      case 4:
        return ~uint64_t{0} << rng_.below(64);
      default:
        return rng_.next();
    }
  }
  unsigned gpr() { return rng_.below(31); }   // x0-x30
  unsigned base() { return rng_.below(32); }  // x0-x30 or SP
  uint16_t immediate() { return rng_.percent(60) ? 0 : static_cast<uint16_t>(rng_.next()); }

  // Writes a program of `items` items and the final `hvc #kProgramDone`; returns the
  // index of that final instruction. Needs room for 32 instructions per item.
  size_t generate(ProgramWriter& out, unsigned items) {
    for (unsigned n = 0; n < items && out.room() > 40; ++n) item(out);
    const size_t done = out.size();
    out.emit(a64::hvc(kProgramDone));
    out.emit(a64::b(-1));  // if the host resumes it anyway, call again
    return done;
  }

 private:
  void item(ProgramWriter& out) {
    const unsigned kind = rng_.below(100);
    if (kind < 16) return load(out);
    if (kind < 30) return store(out);
    if (kind < 36) return other_memory_access(out);
    if (kind < 39) return maintenance(out);
    if (kind < 47) return call(out, true);
    if (kind < 52) return call(out, false);
    if (kind < 61) return system_register(out, true);
    if (kind < 70) return system_register(out, false);
    if (kind < 74) return hint(out);
    if (kind < 78) return exception_generating(out);
    if (kind < 82) return exception_return(out);
    if (kind < 85) return jump(out);
    if (kind < 88) return pstate(out);
    if (kind < 95) return random_word(out);
    if (kind < 96)
      return rng_.percent(30) ? stage1_translation(out) : random_word(out);  // rare: ends the program
    if (kind < 99 || !rng_.percent(30)) return forward_branch(out);
    return runaway(out);  // rare: the timer cuts the rest of the program short
  }

  void load(ProgramWriter& out) {
    const unsigned rn = base();
    if (rn != 31) out.mov64(rn, address());
    static constexpr uint8_t kLoads[][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 1}, {1, 2},
                                            {1, 3}, {2, 1}, {2, 2}, {3, 1}};
    const auto& [size, opc] = kLoads[rng_.below(sizeof kLoads / sizeof kLoads[0])];
    out.emit(a64::load_store(size, opc, rn, rng_.below(32)));  // Rt 31: XZR
  }
  void store(ProgramWriter& out) {
    const unsigned rn = base();
    if (rn != 31) out.mov64(rn, address());
    out.emit(a64::load_store(rng_.below(4), 0, rn, rng_.below(32)));
  }
  // Accesses without an instruction syndrome (pairs, writeback, exclusives, atomics,
  // FP/SIMD registers) and prefetches.
  void other_memory_access(ProgramWriter& out) {
    const unsigned rn = gpr();
    out.mov64(rn, address());
    switch (rng_.below(11)) {
      case 0:
        return out.emit(a64::ldp(gpr(), gpr(), rn));
      case 1:
        return out.emit(a64::stp(gpr(), gpr(), rn));
      case 2:
        return out.emit(a64::ldr_post_index(rn, gpr()));
      case 3:
        return out.emit(a64::str_pre_index(rn, gpr()));
      case 4:
        return out.emit(a64::ldxr(rn, gpr()));
      case 5:
        return out.emit(a64::stxr(gpr(), rn, gpr()));
      case 6:
        return out.emit(a64::ldar(rn, gpr()));
      case 7:
        return out.emit(a64::stlr(rn, gpr()));
      case 8:
        return out.emit(a64::ldadd(gpr(), rn, gpr()));  // FEAT_LSE, else UNDEFINED
      case 9:
        return out.emit(a64::ldr_d(rn, rng_.below(32)));
      default:
        return out.emit(rng_.percent(50) ? a64::str_q(rn, rng_.below(32)) : a64::prfm(rn));
    }
  }
  // DC CIVAC, DC ZVA, DC IVAC, AT S1E1R/W, TLBI, IC on an address (Arm ARM D7.5.9, A64 cache maintenance).
  void maintenance(ProgramWriter& out) {
    const unsigned rt = gpr();
    out.mov64(rt, address());
    static constexpr uint32_t kOps[] = {
        a64::sys(3, 7, 14, 1, 0), a64::sys(3, 7, 4, 1, 0),  a64::sys(0, 7, 6, 1, 0), a64::sys(0, 7, 8, 0, 0),
        a64::sys(0, 7, 8, 1, 0),  a64::sys(3, 7, 11, 1, 0), a64::kTlbiVmalle1,       a64::kIcIallu};
    const uint32_t op = kOps[rng_.below(sizeof kOps / sizeof kOps[0])];
    out.emit((op & 0x1f) == 0x1f ? op : op | rt);
  }
  // An SMCCC call through HVC or SMC: x0 an interesting function ID, x1-x3 anything.
  void call(ProgramWriter& out, bool hvc) {
    out.mov64(0, rng_.percent(75) ? kFunctionIds[rng_.below(sizeof kFunctionIds / sizeof kFunctionIds[0])]
                                  : value());
    for (unsigned n = 1; n < 4; ++n)
      if (rng_.percent(50)) out.mov64(n, value());
    uint16_t imm = immediate();
    if (imm == kProgramDone) imm = 0;
    out.emit(hvc ? a64::hvc(imm) : a64::smc(imm));
  }
  void system_register(ProgramWriter& out, bool read) {
    SysRegEncoding reg;
    if (rng_.percent(80)) {
      reg = kSystemRegisters[rng_.below(sizeof kSystemRegisters / sizeof kSystemRegisters[0])];
    } else {
      reg = {static_cast<uint8_t>(2 + rng_.below(2)), static_cast<uint8_t>(rng_.below(8)),
             static_cast<uint8_t>(rng_.below(16)), static_cast<uint8_t>(rng_.below(16)),
             static_cast<uint8_t>(rng_.below(8))};
    }
    const unsigned rt = rng_.below(32);  // 31: XZR
    if (!read && rt != 31) out.mov64(rt, value());
    out.emit(a64::system(read, reg.op0, reg.op1, reg.crn, reg.crm, reg.op2, rt));
  }
  void hint(ProgramWriter& out) {
    static constexpr uint32_t kHints[] = {a64::kWfi, a64::kWfi, a64::kWfe, a64::kYield,
                                          a64::kSev, a64::kNop, a64::kIsb, a64::kDsbSy};
    out.emit(kHints[rng_.below(sizeof kHints / sizeof kHints[0])]);
  }
  void exception_generating(ProgramWriter& out) {
    const uint16_t imm = static_cast<uint16_t>(rng_.next());
    switch (rng_.below(4)) {
      case 0:
        return out.emit(a64::brk(imm));
      case 1:
        return out.emit(a64::svc(imm));
      case 2:
        return out.emit(a64::udf(imm));
      default:
        return out.emit(imm == 0xf000 ? a64::udf(imm) : a64::hlt(imm));
    }
  }
  // The recovery point: where the guest's vectors send an instruction abort (TPIDR_EL1,
  // see guest_vectors.S), set to just after a jump that may go nowhere.
  void set_recovery_point(ProgramWriter& out, size_t instructions_until_after) {
    out.mov64(16, out.address_after(4 + 1 + instructions_until_after));
    out.emit(a64::system(false, 3, 0, 13, 0, 4, 16));  // MSR TPIDR_EL1, X16
  }
  // ERET with a random SPSR_EL1 (EL0t, EL1t, EL1h, AArch32 User, or anything) to the next
  // instruction or anywhere (D1.11 exception return; an illegal return sets PSTATE.IL).
  void exception_return(ProgramWriter& out) {
    // AArch32 User is rare: arm.vcpu has no AArch32 support, every exit from there is an
    // UnsupportedAArch32 event and the program rarely finds its way back.
    static constexpr uint64_t kModes[] = {0b0000, 0b0100, 0b0101, 0b0000, 0b0100, 0b0101, 0b1'0000};
    const uint64_t daif = uint64_t{rng_.below(16)} << 6;
    const uint64_t spsr = rng_.percent(90) ? kModes[rng_.below(7)] | daif : rng_.next();
    set_recovery_point(out, 4 + 1 + 4 + 1 + 1);
    out.mov64(17, spsr);
    out.emit(a64::system(false, 3, 0, 4, 0, 0, 17));  // MSR SPSR_EL1, X17
    out.mov64(17, rng_.percent(70) ? out.address_after(4 + 1 + 1) : address());
    out.emit(a64::system(false, 3, 0, 4, 0, 1, 17));  // MSR ELR_EL1, X17
    out.emit(a64::kEret);
  }
  void jump(ProgramWriter& out) {
    const unsigned rn = rng_.below(16);  // x16 holds the recovery point
    set_recovery_point(out, 4 + 1);
    out.mov64(rn, address());
    out.emit(rng_.percent(50) ? a64::br(rn) : a64::blr(rn));
  }
  void pstate(ProgramWriter& out) {
    switch (rng_.below(4)) {
      case 0:
        return out.emit(a64::msr_daifset(rng_.below(16)));
      case 1:
        return out.emit(a64::msr_daifclr(rng_.below(16)));
      case 2:
        return out.emit(a64::msr_spsel(rng_.below(2)));
      default: {
        const unsigned rn = gpr();
        out.mov64(rn, address());
        return out.emit(a64::mov_to_sp(rn));
      }
    }
  }
  // Turns on the guest's own MMU (stage 1) with its tables somewhere a guest should not
  // be able to read, or in its RAM full of random descriptors: every walk is a stage-2
  // fault on a translation table access (S1PTW) or a stage-1 fault the guest takes.
  // TCR_EL1 (D19.2): T0SZ 25 (39-bit VA, walk from level 1), 4 KiB granule, write-back
  // inner shareable walks, TTBR1 walks off (EPD1), 40-bit IPS. SCTLR_EL1: M, C, I.
  void stage1_translation(ProgramWriter& out) {
    constexpr uint64_t kTcr = 25 | 1u << 8 | 1u << 10 | 3u << 12 | 1u << 23 | 2ull << 32;
    constexpr uint64_t kSctlr = 0x30d0'0800 | 1u << 0 | 1u << 2 | 1u << 12;
    const uint64_t tables = rng_.percent(50) ? layout_.data : address() & ~uint64_t{0xfff};
    const struct {
      uint64_t value;
      SysRegEncoding reg;
    } kWrites[] = {{kTcr, {3, 0, 2, 0, 2}},
                   {0xff, {3, 0, 10, 2, 0}},
                   {tables, {3, 0, 2, 0, 0}},
                   {kSctlr, {3, 0, 1, 0, 0}}};
    for (const auto& write : kWrites) {
      out.mov64(17, write.value);
      out.emit(
          a64::system(false, write.reg.op0, write.reg.op1, write.reg.crn, write.reg.crm, write.reg.op2, 17));
    }
    out.emit(a64::kIsb);
  }
  void random_word(ProgramWriter& out) {
    const auto word = static_cast<uint32_t>(rng_.next());
    out.emit(word == a64::kSemihostingTrap ? a64::kNop : word);
  }
  void forward_branch(ProgramWriter& out) { out.emit(a64::b(1 + static_cast<int32_t>(rng_.below(3)))); }
  // A loop that never traps (with interrupts masked, or waiting for an event): only the
  // hypervisor's timer ends it.
  void runaway(ProgramWriter& out) {
    out.emit(a64::msr_daifset(0xf));
    out.emit(rng_.percent(50) ? a64::b(0) : a64::kWfe);
    out.emit(a64::b(-1));
  }

  Rng& rng_;
  const Layout& layout_;
};

}  // namespace guest_fuzz
