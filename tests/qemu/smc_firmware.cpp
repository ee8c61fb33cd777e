// Scenario: firmware calls through the allow-list. The VM's policy turns PSCI emulation off
// and admits PSCI_VERSION, MIGRATE_INFO_TYPE and PSCI_FEATURES to the firmware; everything
// else is denied. The real conduit (`smc #0` at EL2, answered by QEMU's PSCI) is wrapped in
// a counter: the guest must see the firmware's answers for the three allowed calls, and
// the conduit must have run exactly three times, so no denied call reached it.
#include "scenario.h"

import arm.vcpu;

extern "C" char smc_firmware_guest[];
SCENARIO_GUEST_STACK(guest_stack);

namespace {

struct CountingConduit {
  arm::smccc::SmcConduit smc;
  unsigned calls = 0;
  void call(arm::smccc::CallRegisters& registers) noexcept {
    ++calls;
    smc.call(registers);
  }
};

constexpr arm::smccc::FunctionIdRange kAllowed[] = {
    {arm::psci::kPsciVersion, arm::psci::kPsciVersion},
    {arm::psci::kMigrateInfoType, arm::psci::kMigrateInfoType},
    {arm::psci::kPsciFeatures, arm::psci::kPsciFeatures},
};
constexpr unsigned kAllowedCallsMade = 3;  // one each, see smc_firmware_guest.S

}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(smc_firmware_guest),
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack)}};
  vcpu.load();

  arm::smccc::GuestCallPolicy policy;
  policy.psci.emulate = false;
  policy.firmware.allowed = kAllowed;
  CountingConduit firmware;

  for (arm::Exit& exit : vcpu.run()) {
    auto* hvc = exit.get_if<arm::Hypercall>();
    if (hvc != nullptr && hvc->immediate == GUEST_REPORT) {
      printf("guest reported %llu; the firmware conduit ran %u times\n",
             static_cast<unsigned long long>(hvc->x[0]), firmware.calls);
      SCENARIO_CHECK(hvc->x[0] == GUEST_PASS);
      SCENARIO_CHECK(firmware.calls == kAllowedCallsMade);
      return 0;
    }
    bool answered = false;
    if (hvc != nullptr) {
      auto outcome = arm::smccc::dispatch(arm::smccc::guest_call(*hvc), policy);
      answered = arm::smccc::answer(*hvc, outcome, firmware);
    } else if (auto* smc = exit.get_if<arm::SecureMonitorCall>()) {
      auto outcome = arm::smccc::dispatch(arm::smccc::guest_call(*smc), policy);
      answered = arm::smccc::answer(*smc, outcome, firmware);
    }
    SCENARIO_CHECK(answered);
  }
  return 1;
}
