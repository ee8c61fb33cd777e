// Scenario: what the ID registers promise, the guest gets. The guest (id_registers_guest.S)
// reads ID_AA64PFR0/1, ZFR0, SMFR0, DFR0/1, ISAR0/1/2 and MMFR0/1/2/3 through the vCPU's
// TID3 answers; each must be exactly the hardware's value with the vCPU's filter applied
// (guest_id_register), field by field. Then, for each feature in kProbes that has a
// register or instruction to try, the guest's probe must have executed if the field it read
// advertises the feature and must have been UNDEFINED if not; IMPLEMENTATION DEFINED registers
// (HCR_EL2.TIDCP) are UNDEFINED for reads and writes. Run on cortex-a72 and max (SVE, SME and
// LORegions present on the hardware, hidden from the guest).
#include "scenario.h"

import arm.vcpu;

extern "C" char id_registers_guest[];
SCENARIO_GUEST_STACK(guest_stack);

namespace {
constexpr uint16_t kIdValue = 1;

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
struct Probe {
  const char* feature;
  bool (*advertised)();
};
constexpr Probe kProbes[] = {
    {"SVE (RDVL)", [] { return field(kPfr0, 32) != 0; }},
    {"SVE (ZCR_EL1)", [] { return field(kPfr0, 32) != 0; }},
    {"SME (SVCR)", [] { return field(kPfr1, 24) != 0; }},
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
    if (call->immediate == kIdValue) {
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
      const bool advertised = kProbes[bit].advertised();
      printf("%-22s %s, %s\n", kProbes[bit].feature, advertised ? "advertised" : "hidden",
             works ? "works" : "UNDEFINED");
      if (works != advertised) ok = false;
    }
    return ok ? 0 : 1;
  }
  return 1;
}
