// PSCI 1.1 for guests (DEN0022): immediate answers, typed events, argument checks.
#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>

import arm.trap;
import arm.smc;

#include "smc_calls.h"

using namespace arm::psci;
using arm::smccc::Answer;
using arm::smccc::dispatch;
using arm::smccc::GuestCallPolicy;
using smc_test::code;
using smc_test::hvc;
using smc_test::smc;
using smc_test::x0_of;

namespace {

constexpr std::uint64_t kRamBase = 0x4000'0000;
constexpr std::uint64_t kEntry = 0x4008'0000;

// A VM of four vCPUs in two clusters: 0.0 (on, the caller), 0.1 (off), 1.0 (starting),
// 1.1 (off). MPIDR bit 31 (RES1) is set as the hardware reports it.
struct Vm {
  AffinityEntry vcpus[4] = {
      {0x8000'0000, AffinityState::On},
      {0x8000'0001, AffinityState::Off},
      {0x8000'0100, AffinityState::OnPending},
      {0x8000'0101, AffinityState::Off},
  };
  GuestCallPolicy policy;
  Vm() { policy.psci.vcpus = vcpus; }
};

}  // namespace

TEST_CASE("PSCI return codes have the values DEN0022 gives them") {
  CHECK(code(Status::Success) == 0);
  CHECK(code(Status::NotSupported) == -1);
  CHECK(code(Status::InvalidParameters) == -2);
  CHECK(code(Status::Denied) == -3);
  CHECK(code(Status::AlreadyOn) == -4);
  CHECK(code(Status::OnPending) == -5);
  CHECK(code(Status::InternalFailure) == -6);
  CHECK(code(Status::NotPresent) == -7);
  CHECK(code(Status::Disabled) == -8);
  CHECK(code(Status::InvalidAddress) == -9);
}

TEST_CASE("PSCI_VERSION reports 1.1 through both conduits") {
  const GuestCallPolicy policy;
  auto through_hvc = dispatch(hvc(kPsciVersion), policy);
  auto through_smc = dispatch(smc(kPsciVersion), policy);
  CHECK(x0_of(through_hvc) == 0x10001);
  CHECK(x0_of(through_smc) == 0x10001);
}

TEST_CASE("PSCI_FEATURES reports every implemented function, in both conventions where both exist") {
  const GuestCallPolicy policy;
  for (std::uint32_t id :
       {kPsciVersion, kCpuOff, kCpuOn, kCpuOn64, kAffinityInfo, kAffinityInfo64, kMigrateInfoType, kSystemOff,
        kSystemReset, kPsciFeatures, kSystemReset2, kSystemReset264, kCpuSuspend, kCpuSuspend64}) {
    CAPTURE(id);
    auto outcome = dispatch(smc(kPsciFeatures, id), policy);
    CHECK(x0_of(outcome) == 0);
  }
}

TEST_CASE("PSCI_FEATURES says NOT_SUPPORTED for what is not implemented") {
  const GuestCallPolicy policy;
  for (std::uint32_t id :
       {kMigrate, kMigrate64, kMigrateInfoUpCpu, kMigrateInfoUpCpu64, kCpuFreeze, kCpuDefaultSuspend,
        kNodeHwState, kSystemSuspend, kSystemSuspend64, kPsciSetSuspendMode, kPsciStatResidency,
        kPsciStatCount, kMemProtect, kMemProtectCheckRange, 0xc400'0000u /* PSCI_VERSION has no SMC64 form */,
        0x8400'001fu}) {
    CAPTURE(id);
    auto outcome = dispatch(hvc(kPsciFeatures, id), policy);
    CHECK(x0_of(outcome) == code(Status::NotSupported));
  }
}

TEST_CASE("PSCI_FEATURES reports SMCCC_VERSION, the discovery path PSCI 1.0 defines for SMCCC 1.1") {
  const GuestCallPolicy policy;
  auto outcome = dispatch(hvc(kPsciFeatures, arm::smccc::kSmcccVersion), policy);
  CHECK(x0_of(outcome) == 0);
}

TEST_CASE("PSCI_FEATURES(CPU_SUSPEND) sets bit 1 only when power_state uses the extended format") {
  GuestCallPolicy policy;
  auto original = dispatch(hvc(kPsciFeatures, kCpuSuspend64), policy);
  policy.psci.extended_power_state = true;
  auto extended = dispatch(hvc(kPsciFeatures, kCpuSuspend64), policy);
  CHECK(x0_of(original) == 0);
  CHECK(x0_of(extended) == kCpuSuspendExtendedStateId);
}

TEST_CASE("SMC64 ids of SMC32-only PSCI functions are NOT_SUPPORTED") {
  const GuestCallPolicy policy;
  for (std::uint32_t id :
       {kPsciVersion, kCpuOff, kSystemOff, kSystemReset, kPsciFeatures, kMigrateInfoType}) {
    CAPTURE(id);
    auto outcome = dispatch(smc(id | arm::smccc::FunctionId::kSmc64Bit), policy);
    CHECK(x0_of(outcome) == code(Status::NotSupported));
  }
}

TEST_CASE(
    "MIGRATE_INFO_TYPE says no Trusted OS needs migrating; MIGRATE and MIGRATE_INFO_UP_CPU are not "
    "supported") {
  const GuestCallPolicy policy;
  auto type = dispatch(hvc(kMigrateInfoType), policy);
  auto migrate = dispatch(hvc(kMigrate64, 1), policy);
  auto up_cpu = dispatch(hvc(kMigrateInfoUpCpu), policy);
  CHECK(x0_of(type) == 2);
  CHECK(x0_of(migrate) == code(Status::NotSupported));
  CHECK(x0_of(up_cpu) == code(Status::NotSupported));
}

TEST_CASE("CPU_ON for an off vCPU becomes a PsciCpuOn event with target, entry and context id") {
  Vm vm;
  auto outcome = dispatch(smc(kCpuOn64, 0x101, kEntry, 0xfeed'0000'0000'c0deull), vm.policy);
  auto* on = outcome.get_if<arm::PsciCpuOn>();
  REQUIRE(on != nullptr);
  CHECK(on->target_mpidr == 0x101);
  CHECK(on->target == 3);
  CHECK(on->entry == kEntry);
  CHECK(on->context_id == 0xfeed'0000'0000'c0deull);
  CHECK(on->reply == arm::Reply::None);
}

TEST_CASE("SMC32 CPU_ON ignores the upper halves of its arguments") {
  Vm vm;
  auto outcome = dispatch(
      hvc(kCpuOn, 0xdead'0000'0000'0001ull, 0xdead'0000'0000'0000ull | kEntry, 0xdead'0000'1234'5678ull),
      vm.policy);
  auto* on = outcome.get_if<arm::PsciCpuOn>();
  REQUIRE(on != nullptr);
  CHECK(on->target == 1);
  CHECK(on->entry == kEntry);
  CHECK(on->context_id == 0x1234'5678);
}

TEST_CASE("CPU_ON for an MPIDR that is not one of the VM's vCPUs is INVALID_PARAMETERS") {
  Vm vm;
  for (std::uint64_t target :
       {std::uint64_t{0x2}, std::uint64_t{0x200}, std::uint64_t{0x1'0000}, std::uint64_t{0x1'0000'0001}}) {
    CAPTURE(target);
    auto outcome = dispatch(smc(kCpuOn64, target, kEntry), vm.policy);
    CHECK(x0_of(outcome) == code(Status::InvalidParameters));
  }
}

TEST_CASE("CPU_ON with bits outside the affinity fields is INVALID_PARAMETERS, even for a known vCPU") {
  Vm vm;
  // Bit 31 is RES1 in MPIDR_EL1 but must be zero in target_cpu; bits [63:40] too.
  for (std::uint64_t target : {std::uint64_t{0x8000'0001}, std::uint64_t{0x100'0000'0001}}) {
    CAPTURE(target);
    auto outcome = dispatch(smc(kCpuOn64, target, kEntry), vm.policy);
    CHECK(x0_of(outcome) == code(Status::InvalidParameters));
  }
}

TEST_CASE("CPU_ON reaches an Aff3 target only through the SMC64 id") {
  AffinityEntry vcpus[] = {{0x0, AffinityState::On}, {0x1'0000'0000, AffinityState::Off}};
  GuestCallPolicy policy;
  policy.psci.vcpus = vcpus;
  auto wide = dispatch(hvc(kCpuOn64, 0x1'0000'0000, kEntry), policy);
  auto narrow = dispatch(hvc(kCpuOn, 0x1'0000'0000, kEntry), policy);  // w1 = 0: the caller itself
  CHECK(wide.is<arm::PsciCpuOn>());
  CHECK(x0_of(narrow) == code(Status::AlreadyOn));
}

TEST_CASE(
    "CPU_ON with an entry point that is unaligned or outside the guest's addresses is INVALID_ADDRESS") {
  Vm vm;
  vm.policy.psci.address_bits = 39;
  for (std::uint64_t entry :
       {kEntry + 2, kEntry + 1, std::uint64_t{1} << 39, std::uint64_t{0xffff'0000'4000'0000}}) {
    CAPTURE(entry);
    auto outcome = dispatch(smc(kCpuOn64, 1, entry), vm.policy);
    CHECK(x0_of(outcome) == code(Status::InvalidAddress));
  }
}

TEST_CASE("with a memory table, CPU_ON's entry point must lie in the guest's RAM") {
  Vm vm;
  const AddressRange ram[] = {{kRamBase, 0x1000'0000}};
  vm.policy.psci.memory = ram;
  auto inside = dispatch(smc(kCpuOn64, 1, kEntry), vm.policy);
  auto below = dispatch(smc(kCpuOn64, 1, kRamBase - 4), vm.policy);
  auto past_end = dispatch(smc(kCpuOn64, 1, kRamBase + 0x1000'0000), vm.policy);
  CHECK(inside.is<arm::PsciCpuOn>());
  CHECK(x0_of(below) == code(Status::InvalidAddress));
  CHECK(x0_of(past_end) == code(Status::InvalidAddress));
}

TEST_CASE("CPU_ON for a vCPU that is on or starting answers ALREADY_ON or ON_PENDING without an event") {
  Vm vm;
  auto on = dispatch(smc(kCpuOn64, 0x0, kEntry), vm.policy);
  auto pending = dispatch(smc(kCpuOn64, 0x100, kEntry), vm.policy);
  CHECK(x0_of(on) == code(Status::AlreadyOn));
  CHECK(x0_of(pending) == code(Status::OnPending));
}

TEST_CASE("CPU_ON follows the hypervisor's table as it changes") {
  Vm vm;
  auto first = dispatch(smc(kCpuOn64, 1, kEntry), vm.policy);
  REQUIRE(first.is<arm::PsciCpuOn>());
  vm.vcpus[first.get_if<arm::PsciCpuOn>()->target].state = AffinityState::OnPending;
  auto second = dispatch(smc(kCpuOn64, 1, kEntry), vm.policy);
  CHECK(x0_of(second) == code(Status::OnPending));
}

TEST_CASE("without a vCPU table CPU_ON and AFFINITY_INFO are INVALID_PARAMETERS") {
  const GuestCallPolicy policy;
  auto on = dispatch(smc(kCpuOn64, 0, kEntry), policy);
  auto info = dispatch(smc(kAffinityInfo64, 0, 0), policy);
  CHECK(x0_of(on) == code(Status::InvalidParameters));
  CHECK(x0_of(info) == code(Status::InvalidParameters));
}

TEST_CASE("AFFINITY_INFO at level 0 answers each vCPU's state from the table") {
  Vm vm;
  auto on = dispatch(hvc(kAffinityInfo64, 0x0, 0), vm.policy);
  auto off = dispatch(hvc(kAffinityInfo, 0x1, 0), vm.policy);
  auto pending = dispatch(smc(kAffinityInfo64, 0x100, 0), vm.policy);
  CHECK(x0_of(on) == 0);
  CHECK(x0_of(off) == 1);
  CHECK(x0_of(pending) == 2);
}

TEST_CASE("AFFINITY_INFO above level 0 summarises the affinity instance: ON, else ON_PENDING, else OFF") {
  Vm vm;
  auto cluster0 = dispatch(hvc(kAffinityInfo64, 0x0ff, 1), vm.policy);  // Aff0 is ignored at level 1
  auto cluster1 = dispatch(hvc(kAffinityInfo64, 0x100, 1), vm.policy);
  vm.vcpus[2].state = AffinityState::Off;
  auto cluster1_off = dispatch(hvc(kAffinityInfo64, 0x100, 1), vm.policy);
  auto everything = dispatch(hvc(kAffinityInfo64, 0, 3), vm.policy);
  CHECK(x0_of(cluster0) == 0);
  CHECK(x0_of(cluster1) == 2);
  CHECK(x0_of(cluster1_off) == 1);
  CHECK(x0_of(everything) == 0);
}

TEST_CASE("AFFINITY_INFO rejects unknown affinities, reserved bits and levels above 3") {
  Vm vm;
  auto unknown = dispatch(hvc(kAffinityInfo64, 0x200, 0), vm.policy);
  auto reserved = dispatch(hvc(kAffinityInfo64, 0x8000'0000, 0), vm.policy);
  auto level4 = dispatch(hvc(kAffinityInfo64, 0x0, 4), vm.policy);
  CHECK(x0_of(unknown) == code(Status::InvalidParameters));
  CHECK(x0_of(reserved) == code(Status::InvalidParameters));
  CHECK(x0_of(level4) == code(Status::InvalidParameters));
}

// DEN0022 gives AFFINITY_INFO64 a uint64 target_affinity but a uint32 lowest_affinity_level:
// the upper half of x2 is not part of the call (found by the fuzz target).
TEST_CASE("AFFINITY_INFO64 reads lowest_affinity_level from w2, as a 32-bit parameter") {
  Vm vm;
  auto level0 = dispatch(hvc(kAffinityInfo64, 0x1, 0xffff'ffff'0000'0000), vm.policy);
  auto level4 = dispatch(smc(kAffinityInfo64, 0x1, 0x1'0000'0004), vm.policy);
  CHECK(x0_of(level0) == 1);  // vCPU 0.1 is off
  CHECK(x0_of(level4) == code(Status::InvalidParameters));
}

TEST_CASE("CPU_SUSPEND to a standby state is an event without entry point") {
  Vm vm;
  auto outcome = dispatch(hvc(kCpuSuspend, 0x0000'0001, 0x123, 0x456), vm.policy);
  auto* suspend = outcome.get_if<arm::PsciCpuSuspend>();
  REQUIRE(suspend != nullptr);
  CHECK(suspend->power_state == 1);
  CHECK_FALSE(suspend->powerdown);
  CHECK(suspend->entry == 0);
  CHECK(suspend->context_id == 0);
}

TEST_CASE("CPU_SUSPEND to a powerdown state carries entry and context id, and checks the entry point") {
  Vm vm;
  const std::uint32_t powerdown = (1u << 24) | (1u << 16) | 0x2;  // PowerLevel 1, StateType 1, StateID 2
  auto outcome = dispatch(smc(kCpuSuspend64, powerdown, kEntry, 0xabcd'0000'0000ull), vm.policy);
  auto* suspend = outcome.get_if<arm::PsciCpuSuspend>();
  REQUIRE(suspend != nullptr);
  CHECK(suspend->powerdown);
  CHECK(suspend->entry == kEntry);
  CHECK(suspend->context_id == 0xabcd'0000'0000ull);
  auto unaligned = dispatch(smc(kCpuSuspend64, powerdown, kEntry + 1), vm.policy);
  CHECK(x0_of(unaligned) == code(Status::InvalidAddress));
}

TEST_CASE("CPU_SUSPEND with reserved power_state bits is INVALID_PARAMETERS, per the format in use") {
  Vm vm;
  auto original = dispatch(hvc(kCpuSuspend, 1u << 30), vm.policy);  // StateType of the extended format
  CHECK(x0_of(original) == code(Status::InvalidParameters));
  vm.policy.psci.extended_power_state = true;
  auto extended = dispatch(hvc(kCpuSuspend64, (1u << 30) | 0x0fff'ffff, kEntry), vm.policy);
  auto* suspend = extended.get_if<arm::PsciCpuSuspend>();
  REQUIRE(suspend != nullptr);
  CHECK(suspend->powerdown);
  auto reserved = dispatch(hvc(kCpuSuspend64, 1u << 28), vm.policy);
  CHECK(x0_of(reserved) == code(Status::InvalidParameters));
}

TEST_CASE("CPU_OFF, SYSTEM_OFF and SYSTEM_RESET become events") {
  const GuestCallPolicy policy;
  auto off = dispatch(hvc(kCpuOff), policy);
  auto system_off = dispatch(smc(kSystemOff), policy);
  auto reset = dispatch(smc(kSystemReset), policy);
  CHECK(off.is<arm::PsciCpuOff>());
  CHECK(system_off.is<arm::PsciSystemOff>());
  REQUIRE(reset.is<arm::PsciSystemReset>());
  CHECK(reset.get_if<arm::PsciSystemReset>()->kind == ResetKind::Cold);
}

TEST_CASE("SYSTEM_RESET2 distinguishes a warm reset from a vendor reset and keeps the cookie") {
  const GuestCallPolicy policy;
  auto warm = dispatch(smc(kSystemReset264, kSystemWarmReset, 0x1234'5678'9abc'def0ull), policy);
  auto vendor = dispatch(smc(kSystemReset2, 0x8000'0007, 0xffff'ffff'0000'0042ull), policy);
  auto* warm_reset = warm.get_if<arm::PsciSystemReset>();
  auto* vendor_reset = vendor.get_if<arm::PsciSystemReset>();
  REQUIRE(warm_reset != nullptr);
  REQUIRE(vendor_reset != nullptr);
  CHECK(warm_reset->kind == ResetKind::Warm);
  CHECK(warm_reset->cookie == 0x1234'5678'9abc'def0ull);
  CHECK(vendor_reset->kind == ResetKind::Vendor);
  CHECK(vendor_reset->reset_type == 0x8000'0007);
  CHECK(vendor_reset->cookie == 0x42);  // SMC32: the cookie is w2
}

TEST_CASE("SYSTEM_RESET2 with a reserved architectural reset type is INVALID_PARAMETERS") {
  const GuestCallPolicy policy;
  auto outcome = dispatch(smc(kSystemReset2, 1), policy);
  CHECK(x0_of(outcome) == code(Status::InvalidParameters));
}

TEST_CASE("a completed PSCI event answers its status sign-extended; an incomplete one NOT_SUPPORTED") {
  arm::PsciCpuOn on;
  CHECK(answer_for(on).x[0] == 0xffff'ffff'ffff'ffffull);
  on.complete(Status::InternalFailure);
  CHECK(static_cast<std::int64_t>(answer_for(on).x[0]) == -6);
  on.complete(Status::Success);
  CHECK(answer_for(on).x[0] == 0);
}

TEST_CASE("unknown PSCI function numbers are NOT_SUPPORTED; other Standard Secure numbers are not PSCI") {
  const GuestCallPolicy policy;
  auto unknown = dispatch(hvc(0x8400'001f), policy);
  CHECK(x0_of(unknown) == code(Status::NotSupported));
  CHECK(is_psci_call(arm::smccc::FunctionId{0xc400'001f}));
  CHECK_FALSE(is_psci_call(arm::smccc::FunctionId{0x8400'0050}));  // TRNG_VERSION
}
