// Scenario: what the ID registers promise, the guest gets. The guest (id_registers_guest.S)
// reads ID_AA64PFR0/1, ZFR0, SMFR0, DFR0/1, ISAR0/1/2 and MMFR0/1/2/3 through the vCPU's
// TID3 answers; each must be exactly the hardware's value with the vCPU's filter applied
// (guest_id_register), field by field. Then, for each feature in kProbes that has a
// register or instruction to try, the guest's probe must have executed if the field it read
// advertises the feature and must have been UNDEFINED if not; the SVE and SME ones with the
// guest's CPACR_EL1 trapping them and not, CPACR_EL1 reading back without ZEN/SMEN (RES0 where
// they are hidden); IMPLEMENTATION DEFINED registers (HCR_EL2.TIDCP) are UNDEFINED for reads
// and writes. Run on cortex-a72 and max (SVE, SME and LORegions present on the hardware,
// hidden from the guest).
#include "id_registers.h"

#include "scenario.h"

import arm.vcpu;

extern "C" char id_registers_guest[];
SCENARIO_GUEST_STACK(guest_stack);

namespace {

// The registers in the guest's order, by CRm << 3 | op2 of S3_0_C0_C<CRm>_<op2>.
struct IdRegister {
  const char* name;
  unsigned crm, op2;
};
constexpr IdRegister kRegisters[] = {
    {"ID_AA64PFR0_EL1", 4, 0},  {"ID_AA64PFR1_EL1", 4, 1},  {"ID_AA64ZFR0_EL1", 4, 4},
    {"ID_AA64SMFR0_EL1", 4, 5}, {"ID_AA64DFR0_EL1", 5, 0},  {"ID_AA64DFR1_EL1", 5, 1},
    {"ID_AA64ISAR0_EL1", 6, 0}, {"ID_AA64ISAR1_EL1", 6, 1}, {"ID_AA64ISAR2_EL1", 6, 2},
    {"ID_AA64MMFR0_EL1", 7, 0}, {"ID_AA64MMFR1_EL1", 7, 1}, {"ID_AA64MMFR2_EL1", 7, 2},
    {"ID_AA64MMFR3_EL1", 7, 3},
};
constexpr unsigned kRegisterCount = sizeof kRegisters / sizeof kRegisters[0];
uint64_t guest_view[kRegisterCount] = {};

uint64_t field(unsigned index, unsigned low) { return (guest_view[index] >> low) & 0xf; }
enum : unsigned { kPfr0, kPfr1, kZfr0, kSmfr0, kDfr0, kDfr1, kIsar0, kIsar1, kIsar2, kMmfr0, kMmfr1 };

// One probe per bit of the guest's mask (Arm ARM D19.2, each ID register's fields).
// `works` says whether the probe must execute: the feature is advertised (or, for the known
// limitations at the end, reachable anyway).
struct Probe {
  const char* feature;
  bool (*works)();
};
// The SVE and SME probes run twice: with the guest's CPACR_EL1.ZEN and SMEN trapping them
// (0b00, their reset value) and not (0b11). Where SVE/SME are hidden, both times they must be
// the undefined instruction a CPU without them gives, never an SVE/SME access trap.
bool sve() { return field(kPfr0, 32) != 0; }
bool sme() { return field(kPfr1, 24) != 0; }
bool sme_without_fgt() {
  const uint64_t pfr1 = arm::read_id_register(arm::SysReg::ID_AA64PFR1_EL1);
  const uint64_t mmfr0 = arm::read_id_register(arm::SysReg::ID_AA64MMFR0_EL1);
  return ((pfr1 >> 24) & 0xf) != 0 && ((mmfr0 >> 56) & 0xf) == 0;  // SME [27:24], FGT [59:56]
}
// What CPACR_EL1 must read back after the guest wrote `written`: FPEN as written; ZEN and
// SMEN, RES0 where the guest is told there is no SVE or SME, as 0 where the vCPU traps
// CPACR_EL1 (the CPU has them: the vCPU makes them RAZ/WI) and, elsewhere, as the CPU keeps
// a RES0 field: 0 or the value written (Arm ARM Glossary, RES0).
bool cpacr_reads_back(uint64_t written, uint64_t read) {
  constexpr uint64_t kFpen = 3ull << 20, kZen = 3ull << 16, kSmen = 3ull << 24;
  const uint64_t pfr0 = arm::read_id_register(arm::SysReg::ID_AA64PFR0_EL1);
  const uint64_t pfr1 = arm::read_id_register(arm::SysReg::ID_AA64PFR1_EL1);
  const auto res0_field = [&](uint64_t mask, bool trapped) {
    return (read & mask) == 0 || (!trapped && (read & mask) == (written & mask));
  };
  return (read & kFpen) == (written & kFpen) && res0_field(kZen, ((pfr0 >> 32) & 0xf) != 0) &&
         res0_field(kSmen, ((pfr1 >> 24) & 0xf) != 0);
}
constexpr Probe kProbes[] = {
    {"SVE (RDVL), ZEN 00", sve},
    {"SVE (ZCR_EL1), ZEN 00", sve},
    {"SVE (MSR ZCR_EL1), ZEN 00", sve},
    {"SME (RDSVL), SMEN 00", sme},
    {"SME (SMSTART), SMEN 00", sme},
    {"SME (SVCR), SMEN 00", sme},
    {"SME (MSR SVCR), SMEN 00", sme},
    {"SME (SMCR_EL1), SMEN 00", sme},
    {"SME (SMIDR_EL1), SMEN 00", sme},
    {"SVE (RDVL), ZEN 11", sve},
    {"SVE (ZCR_EL1), ZEN 11", sve},
    {"SVE (MSR ZCR_EL1), ZEN 11", sve},
    {"SME (RDSVL), SMEN 11", sme},
    {"SME (SMSTART), SMEN 11", sme},
    {"SME (SVCR), SMEN 11", sme},
    {"SME (MSR SVCR), SMEN 11", sme},
    {"SME (SMCR_EL1), SMEN 11", sme},
    {"SME (SMIDR_EL1), SMEN 11", sme},
    {"MTE2 (GCR_EL1)", [] { return field(kPfr1, 8) >= 2; }},
    {"AMU (AMCR_EL0)", [] { return field(kPfr0, 44) != 0; }},
    {"RNG (RNDR)", [] { return field(kIsar0, 60) != 0; }},
    {"PAuth (PACIA)",
     [] { return field(kIsar1, 4) != 0 || field(kIsar1, 8) != 0 || field(kIsar2, 12) != 0; }},
    {"PMU (PMCR_EL0)", [] { return field(kDfr0, 8) != 0 && field(kDfr0, 8) != 0xf; }},
    {"SPE (PMSCR_EL1)", [] { return field(kDfr0, 32) != 0; }},
    {"TRBE (TRBLIMITR_EL1)", [] { return field(kDfr0, 44) != 0; }},
    {"MPAM (MPAM0_EL1)", [] { return field(kPfr0, 40) != 0 || field(kPfr1, 16) != 0; }},
    {"CRC32 (CRC32B)", [] { return field(kIsar0, 16) != 0; }},
    // Known limitation (README): SMPRI_EL1 and TPIDR2_EL0 are not trapped by CPACR_EL1.SMEN
    // or CPTR_EL2.TSM but only by FEAT_FGT's HFGRTR_EL2.nSMPRI_EL1 and nTPIDR2_EL0 (Arm ARM
    // D19.2), so on a CPU with SME and without FGT (QEMU 7.2's max) the guest reaches them.
    {"SME (SMPRI_EL1), no FGT", sme_without_fgt},
    {"SME (TPIDR2_EL0), no FGT", sme_without_fgt},
    {"LOR (LORID_EL1)", [] { return field(kMmfr1, 16) != 0; }},
    {"LOR (LORC_EL1 write)", [] { return field(kMmfr1, 16) != 0; }},
    // IMPLEMENTATION DEFINED registers (HCR_EL2.TIDCP): no field advertises them to a guest.
    {"IMPDEF (S3_0_C15_C0_0)", [] { return false; }},
    {"IMPDEF (S3_0_C11_C0_0 write)", [] { return false; }},
};
}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(id_registers_guest),
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack)}};
  vcpu.load();
  unsigned next = 0;
  for (arm::Exit& exit : vcpu.run()) {
    // IMPLEMENTATION DEFINED and LORegion reads reach the loop; left alone they are UNDEFINED
    // (the writes are answered UNDEFINED inside run()).
    if (auto* read = exit.get_if<arm::SysRegRead>()) {
      SCENARIO_CHECK(arm::is_implementation_defined_register(read->encoding) ||
                     arm::is_lor_register(read->encoding));
      continue;
    }
    auto* call = exit.get_if<arm::Hypercall>();
    SCENARIO_CHECK(call != nullptr);
    if (call->immediate == CPACR_VALUE) {
      printf("CPACR_EL1 written %#llx, reads %#llx\n", (unsigned long long)call->x[0],
             (unsigned long long)call->x[1]);
      SCENARIO_CHECK(!sve() && !sme());  // what makes ZEN and SMEN RES0 to the guest
      SCENARIO_CHECK(cpacr_reads_back(call->x[0], call->x[1]));
      call->complete(0);
      continue;
    }
    if (call->immediate == ID_VALUE) {
      SCENARIO_CHECK(next < kRegisterCount);
      const IdRegister& reg = kRegisters[next];
      SCENARIO_CHECK(call->x[0] == ((reg.crm << 3) | reg.op2));
      const arm::SysRegEncoding encoding{3, 0, 0, reg.crm, reg.op2};
      const uint64_t hardware = arm::read_id_register(encoding);
      const uint64_t expected = arm::guest_id_register(encoding, hardware, vcpu.pmu_counters() != 0);
      for (unsigned low = 0; low < 64; low += 4) {
        const uint64_t seen = (call->x[1] >> low) & 0xf;
        const uint64_t wanted = (expected >> low) & 0xf;
        if (seen != wanted) {
          printf("%s[%u:%u] reads %llu, expected %llu (hardware %llu)\n", reg.name, low + 3, low,
                 (unsigned long long)seen, (unsigned long long)wanted,
                 (unsigned long long)((hardware >> low) & 0xf));
          return 1;
        }
      }
      printf("%-17s guest %016llx hardware %016llx\n", reg.name, (unsigned long long)call->x[1],
             (unsigned long long)hardware);
      guest_view[next++] = call->x[1];
      call->complete(0);
      continue;
    }
    SCENARIO_CHECK(call->immediate == GUEST_REPORT);
    if (call->x[0] != GUEST_PASS) {
      printf("guest reported %llu (x1 = %#llx)\n", (unsigned long long)call->x[0],
             (unsigned long long)call->x[1]);
      return 1;
    }
    SCENARIO_CHECK(next == kRegisterCount);
    bool ok = true;
    for (unsigned bit = 0; bit < sizeof kProbes / sizeof kProbes[0]; ++bit) {
      const bool works = (call->x[1] >> bit) & 1;
      const bool expected = kProbes[bit].works();
      printf("%-26s %s, %s\n", kProbes[bit].feature, expected ? "must work" : "must be UNDEFINED",
             works ? "works" : "UNDEFINED");
      if (works != expected) ok = false;
    }
    return ok ? 0 : 1;
  }
  return 1;
}
