#include <doctest/doctest.h>

#include <cstdint>

#include "scripted_guest.h"

import arm.vcpu;

namespace {
constexpr std::uint64_t kSync = 0;
constexpr std::uint64_t kIrq = 1;

void set(arm::SysReg reg, std::uint64_t value) { arm::host_sysreg_file[static_cast<std::size_t>(reg)] = value; }

// A guest step that executes `hvc #imm` with the given x0: ELR points past the HVC.
scripted::Step hvc(std::uint16_t imm, std::uint64_t x0) {
  return [=](arm::GuestRegisters& regs) {
    regs.x[0] = x0;
    regs.pc += 4;
    set(arm::SysReg::ESR_EL2, arm::Esr::make(arm::ExceptionClass::Hvc64, true, imm).value());
    return kSync;
  };
}
}  // namespace

TEST_CASE("run() yields a Hypercall per HVC and the answer reaches the guest's x0") {
  arm::VCpu vcpu{{.entry = 0x40080000, .argument = 0x48000000}};
  CHECK(vcpu.registers().pc == 0x40080000);
  CHECK(vcpu.registers().x[0] == 0x48000000);
  std::uint64_t seen_x0 = 0;
  scripted::set_script({hvc(0x42, 5),
                        [&](arm::GuestRegisters& regs) {
                          seen_x0 = regs.x[0];
                          return hvc(0x43, 0)(regs);
                        }});
  vcpu.load();
  int exits = 0;
  for (arm::Exit& exit : vcpu.run()) {
    auto* call = exit.get_if<arm::Hypercall>();
    REQUIRE(call != nullptr);
    if (call->immediate == 0x42) {
      CHECK(call->x[0] == 5);
      call->complete(call->x[0] * 2);
    } else {
      CHECK(call->immediate == 0x43);
      break;
    }
    ++exits;
  }
  CHECK(exits == 1);
  CHECK(seen_x0 == 10);
  CHECK(vcpu.exit_count() == 2);
  CHECK(scripted::steps_left() == 0);
}

TEST_CASE("a physical IRQ during the guest run becomes an ExternalInterrupt exit") {
  arm::VCpu vcpu{{.entry = 0x1000}};
  scripted::set_script({[](arm::GuestRegisters&) { return kIrq; }});
  vcpu.load();
  for (arm::Exit& exit : vcpu.run()) {
    CHECK(exit.is<arm::ExternalInterrupt>());
    break;
  }
}

TEST_CASE("load() and put() move the EL1 context and the virtual CPU identity") {
  arm::VCpu vcpu{{.mpidr = 0x80000001, .stack = 0x4000}};
  vcpu.load();
  CHECK(arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::VMPIDR_EL2)] == 0x80000001);
  CHECK(arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::SP_EL1)] == 0x4000);
  set(arm::SysReg::TPIDR_EL1, 0xabc);
  vcpu.put();
  CHECK(vcpu.el1().at<arm::SysReg::TPIDR_EL1>() == 0xabc);
}
