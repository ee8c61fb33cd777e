#include <doctest/doctest.h>

#include <cstdint>

import arm.percpu;

namespace {
void reset_registers() {
  for (auto& value : arm::host_sysreg_file) value = 0;
}
void set(arm::SysReg reg, std::uint64_t value) {
  arm::host_sysreg_file[static_cast<std::size_t>(reg)] = value;
}
std::uint64_t get(arm::SysReg reg) { return arm::host_sysreg_file[static_cast<std::size_t>(reg)]; }

// ID_AA64PFR0_EL1 of a Cortex-A72-like CPU: EL0-EL3 AArch64 (0x1 each), FP and AdvSIMD
// present (0), GIC system registers (0x1), no SVE.
constexpr std::uint64_t kPfr0 = 0x1111 | (1ull << 24);
// ID_AA64MMFR0_EL1.PARange = 0b0101: 48 bits.
constexpr std::uint64_t kMmfr0 = 0x5;
// ID_AA64MMFR1_EL1: VMIDBits = 0b0010 (16 bits), VH = 1.
constexpr std::uint64_t kMmfr1 = (0x2 << 4) | (0x1 << 8);
}  // namespace

TEST_CASE("probe reads the features from the ID registers") {
  const auto features = arm::features_from(kPfr0, kMmfr0, kMmfr1, 6ull << 11);
  CHECK(features.el2_implemented);
  CHECK(features.el1_aarch64);
  CHECK(features.fp);
  CHECK(features.advanced_simd);
  CHECK_FALSE(features.sve);
  CHECK(features.gic_system_registers);
  CHECK(features.physical_address_bits == 48);
  CHECK(features.vmid_bits == 16);
  CHECK(features.vhe);
  CHECK(features.pmu_counters == 6);

  const auto no_fp = arm::features_from(0x11 | (0xfull << 16) | (0xfull << 20) | (1ull << 32), 0x2, 0, 0);
  CHECK_FALSE(no_fp.el2_implemented);
  CHECK_FALSE(no_fp.fp);
  CHECK_FALSE(no_fp.advanced_simd);
  CHECK(no_fp.sve);
  CHECK(no_fp.physical_address_bits == 40);
  CHECK(no_fp.vmid_bits == 8);
}

TEST_CASE("enable installs the EL2 configuration and disable restores what was there") {
  reset_registers();
  set(arm::SysReg::ID_AA64PFR0_EL1, kPfr0);
  set(arm::SysReg::ID_AA64MMFR0_EL1, kMmfr0);
  set(arm::SysReg::HCR_EL2, 0x1234);
  set(arm::SysReg::CPTR_EL2, 0x5678);
  arm::PerCpu cpu;
  REQUIRE(cpu.enable() == arm::EnableError::None);
  const std::uint64_t hcr = get(arm::SysReg::HCR_EL2);
  CHECK((hcr & arm::hcr::kRw) != 0);
  CHECK((hcr & arm::hcr::kImo) != 0);
  CHECK((hcr & arm::hcr::kTge) == 0);
  CHECK((get(arm::SysReg::CPTR_EL2) & arm::cptr::kTfp) == 0);
  CHECK((get(arm::SysReg::CPTR_EL2) & arm::cptr::kTz) != 0);
  // VTCR_EL2: T0SZ = 25 (39-bit IPA), SL0 = 1, PS = PARange (48 bits).
  const std::uint64_t vtcr = get(arm::SysReg::VTCR_EL2);
  CHECK((vtcr & 0x3f) == 25);
  CHECK(((vtcr >> 6) & 3) == 1);
  CHECK(((vtcr >> 16) & 7) == 5);
  CHECK(cpu.enable() == arm::EnableError::AlreadyEnabled);
  cpu.disable();
  CHECK(get(arm::SysReg::HCR_EL2) == 0x1234);
  CHECK(get(arm::SysReg::CPTR_EL2) == 0x5678);
}

TEST_CASE("enable refuses a CPU without EL2") {
  reset_registers();
  set(arm::SysReg::ID_AA64PFR0_EL1, 0x11);
  arm::PerCpu cpu;
  CHECK(cpu.enable() == arm::EnableError::NoEl2);
  CHECK_FALSE(cpu.enabled());
}

TEST_CASE("pointer authentication is probed from ID_AA64ISAR1_EL1 and ID_AA64ISAR2_EL1") {
  CHECK_FALSE(arm::has_pointer_auth(0, 0));
  CHECK(arm::has_pointer_auth(0x1ull << 4, 0));          // APA: QARMA5
  CHECK(arm::has_pointer_auth(0x1ull << 8, 0));          // API: IMPLEMENTATION DEFINED algorithm
  CHECK(arm::has_pointer_auth(0x1ull << 24, 0));         // GPA
  CHECK(arm::has_pointer_auth(0, 0x1ull << 12));         // APA3: QARMA3
  CHECK_FALSE(arm::has_pointer_auth(0xf0ull << 12, 0));  // other ISAR1 fields only
}

TEST_CASE("the hypervisor timer sets a deadline relative to the counter and disarms") {
  reset_registers();
  set(arm::SysReg::CNTFRQ_EL0, 62'500'000);
  set(arm::SysReg::CNTPCT_EL0, 1'000'000);
  arm::HypervisorTimer::start_us(2000);  // 2 ms at 62.5 MHz: 125000 ticks
  CHECK(get(arm::SysReg::CNTHP_CVAL_EL2) == 1'125'000);
  CHECK(get(arm::SysReg::CNTHP_CTL_EL2) == arm::HypervisorTimer::kEnable);
  CHECK_FALSE(arm::HypervisorTimer::expired());
  set(arm::SysReg::CNTHP_CTL_EL2, arm::HypervisorTimer::kEnable | arm::HypervisorTimer::kInterruptStatus);
  CHECK(arm::HypervisorTimer::expired());
  arm::HypervisorTimer::stop();
  CHECK(get(arm::SysReg::CNTHP_CTL_EL2) == 0);
  CHECK_FALSE(arm::HypervisorTimer::expired());
}
