#include <doctest/doctest.h>

#include <cstdint>

#include "scripted_guest.h"

import arm.vcpu;

namespace {
constexpr std::uint64_t kSync = 0;
constexpr std::uint64_t kIrq = 1;

void set(arm::SysReg reg, std::uint64_t value) {
  arm::host_sysreg_file[static_cast<std::size_t>(reg)] = value;
}

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
  scripted::set_script({hvc(0x42, 5), [&](arm::GuestRegisters& regs) {
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

namespace {
// A guest step that executes `smc #0` with the given x0..x3: a trapped SMC leaves ELR on
// the instruction itself.
scripted::Step smc(std::uint64_t x0, std::uint64_t x1 = 0, std::uint64_t x2 = 0, std::uint64_t x3 = 0) {
  return [=](arm::GuestRegisters& regs) {
    regs.x[0] = x0;
    regs.x[1] = x1;
    regs.x[2] = x2;
    regs.x[3] = x3;
    set(arm::SysReg::ESR_EL2, arm::Esr::make(arm::ExceptionClass::Smc64, true, 0).value());
    return kSync;
  };
}
constexpr std::uint64_t kPsciVersion = 0x8400'0000;
constexpr std::uint64_t kPsciCpuOn64 = 0xc400'0003;
constexpr std::uint64_t kPsciSystemOff = 0x8400'0008;
}  // namespace

TEST_CASE("with a call policy, PSCI queries are answered inside run() and decisions arrive as typed events") {
  arm::psci::AffinityEntry vcpus[2] = {{.mpidr = 0}, {.mpidr = 1}};
  arm::smccc::GuestCallPolicy policy;
  policy.psci.vcpus = {vcpus, 2};
  arm::VCpu vcpu{{.entry = 0x4000'0000, .calls = &policy}};
  std::uint64_t version_seen = 0, cpu_on_result = 0, pc_after_cpu_on = 0;
  scripted::set_script({
      smc(kPsciVersion),
      [&](arm::GuestRegisters& regs) {
        version_seen = regs.x[0];
        CHECK(regs.pc == 0x4000'0004);  // past the first SMC
        return smc(kPsciCpuOn64, 1, 0x4008'0000, 0x77)(regs);
      },
      [&](arm::GuestRegisters& regs) {
        cpu_on_result = regs.x[0];
        pc_after_cpu_on = regs.pc;
        return smc(kPsciSystemOff)(regs);
      },
  });
  vcpu.load();
  int events = 0;
  for (arm::Exit& exit : vcpu.run()) {
    ++events;
    if (auto* on = exit.get_if<arm::PsciCpuOn>()) {
      CHECK(on->target_mpidr == 1);
      CHECK(on->entry == 0x4008'0000);
      CHECK(on->context_id == 0x77);
      on->complete(arm::psci::Status::Success);
      continue;
    }
    CHECK(exit.is<arm::PsciSystemOff>());
    break;
  }
  CHECK(events == 2);  // PSCI_VERSION never reached the loop
  CHECK(version_seen == 0x1'0001);
  CHECK(cpu_on_result == 0);
  CHECK(pc_after_cpu_on == 0x4000'0008);
  CHECK(vcpu.exit_count() == 3);
}

TEST_CASE("a PSCI decision the hypervisor leaves unanswered returns NOT_SUPPORTED") {
  arm::psci::AffinityEntry vcpus[2] = {{.mpidr = 0}, {.mpidr = 1}};
  arm::smccc::GuestCallPolicy policy;
  policy.psci.vcpus = {vcpus, 2};
  arm::VCpu vcpu{{.entry = 0x1000, .calls = &policy}};
  std::uint64_t result = 0;
  scripted::set_script({smc(kPsciCpuOn64, 1, 0x2000, 0), [&](arm::GuestRegisters& regs) {
                          result = regs.x[0];
                          return smc(kPsciSystemOff)(regs);
                        }});
  vcpu.load();
  for (arm::Exit& exit : vcpu.run()) {
    if (exit.is<arm::PsciSystemOff>()) break;
  }
  CHECK(result == static_cast<std::uint64_t>(-1));
}

TEST_CASE("next_exit() drives the same loop from a task") {
  arm::VCpu vcpu{{.entry = 0x1000}};
  scripted::set_script({hvc(1, 10), hvc(2, 20), hvc(3, 30)});
  vcpu.load();
  arm::FrameStorage<1024> arena;
  auto hypervisor = [](arm::FrameArena&, arm::VCpu& cpu) -> arm::Task<std::uint64_t> {
    std::uint64_t sum = 0;
    for (;;) {
      arm::Exit& exit = co_await cpu.next_exit();
      auto* call = exit.get_if<arm::Hypercall>();
      if (call == nullptr || call->immediate == 3) co_return sum;
      sum += call->x[0];
      call->complete(0);
    }
  };
  auto task = hypervisor(arena, vcpu);
  REQUIRE(arm::run_to_completion(task));
  CHECK(task.result() == 30);
}

TEST_CASE("trap options become HCR_EL2 and CNTHCTL_EL2 bits at load()") {
  arm::VCpu defaults{{.entry = 0x1000}};
  CHECK((defaults.hcr() & arm::hcr::kTwi) != 0);
  CHECK((defaults.hcr() & arm::hcr::kTwe) == 0);
  CHECK((defaults.hcr() & arm::hcr::kTsc) != 0);
  CHECK((defaults.hcr() & arm::hcr::kImo) != 0);
  CHECK((defaults.hcr() & arm::hcr::kVm) == 0);
  CHECK((defaults.hcr() & arm::hcr::kRw) != 0);
  CHECK((defaults.hcr() & arm::hcr::kTidcp) != 0);  // IMPLEMENTATION DEFINED registers trap

  arm::VCpu custom{{.entry = 0x1000,
                    .stage2_vttbr = 0x4000'0000 | (5ull << 48),
                    .trap_wfi = false,
                    .trap_wfe = true,
                    .trap_smc = false,
                    .route_interrupts_to_el2 = false,
                    .physical_timer_passthrough = true}};
  CHECK((custom.hcr() & arm::hcr::kTwi) == 0);
  CHECK((custom.hcr() & arm::hcr::kTwe) != 0);
  CHECK((custom.hcr() & arm::hcr::kTsc) == 0);
  CHECK((custom.hcr() & (arm::hcr::kImo | arm::hcr::kFmo | arm::hcr::kAmo)) == 0);
  CHECK((custom.hcr() & arm::hcr::kVm) != 0);
  custom.load();
  CHECK(arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::VTTBR_EL2)] ==
        (0x4000'0000 | (5ull << 48)));
  CHECK((arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::CNTHCTL_EL2)] &
         arm::cnthctl::kEl1pcen) != 0);
  defaults.load();
  CHECK((arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::CNTHCTL_EL2)] &
         arm::cnthctl::kEl1pcen) == 0);
  CHECK(arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::HCR_EL2)] == defaults.hcr());
}

TEST_CASE("an unhandled trap left alone injects an undefined instruction at VBAR_EL1 + 0x200") {
  arm::VCpu vcpu{{.entry = 0x4000'1000}};
  std::uint64_t pc_after = 0;
  scripted::set_script({[](arm::GuestRegisters&) {
                          // An SVE access trap (EC 0x19) from EL1h.
                          set(arm::SysReg::ESR_EL2,
                              arm::Esr::make(arm::ExceptionClass::SveAccess, true, 0).value());
                          return kSync;
                        },
                        [&](arm::GuestRegisters& regs) {
                          pc_after = regs.pc;
                          return hvc(9, 0)(regs);
                        }});
  set(arm::SysReg::VBAR_EL1, 0x4008'0000);
  vcpu.el1().at<arm::SysReg::VBAR_EL1>() = 0x4008'0000;
  vcpu.load();
  for (arm::Exit& exit : vcpu.run()) {
    if (exit.is<arm::FpAccessTrap>()) continue;  // not handled
    break;
  }
  CHECK(pc_after == 0x4008'0200);
  CHECK(arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::ELR_EL1)] == 0x4000'1000);
  CHECK((arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::ESR_EL1)] >> 26) == 0);
}

TEST_CASE("pointer authentication keys move with the vCPU on CPUs that have them") {
  set(arm::SysReg::ID_AA64ISAR1_EL1, 0x1ull << 8);  // API
  arm::VCpu a{{.entry = 0x1000}};
  arm::VCpu b{{.entry = 0x2000}};
  a.pointer_auth_keys().values[0] = 0xaaaa;
  b.pointer_auth_keys().values[0] = 0xbbbb;
  a.load();
  CHECK(arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::APIAKEYLO_EL1)] == 0xaaaa);
  set(arm::SysReg::APIAKEYLO_EL1, 0xa2a2);  // the guest changed its key
  a.put();
  b.load();
  CHECK(arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::APIAKEYLO_EL1)] == 0xbbbb);
  b.put();
  CHECK(a.pointer_auth_keys().values[0] == 0xa2a2);
  CHECK((a.hcr() & (arm::hcr::kApk | arm::hcr::kApi)) == (arm::hcr::kApk | arm::hcr::kApi));
  set(arm::SysReg::ID_AA64ISAR1_EL1, 0);
}

TEST_CASE("without pointer authentication, HCR_EL2.APK and API (RES0 there) stay clear") {
  set(arm::SysReg::ID_AA64ISAR1_EL1, 0);
  set(arm::SysReg::ID_AA64ISAR2_EL1, 0);
  arm::VCpu vcpu{{.entry = 0x1000}};
  CHECK((vcpu.hcr() & (arm::hcr::kApk | arm::hcr::kApi)) == 0);
  CHECK((arm::default_el2_config(arm::HardwareFeatures{}, 0).hcr & (arm::hcr::kApk | arm::hcr::kApi)) == 0);
}

TEST_CASE("the virtual GIC is used only where the CPU has the GIC system registers") {
  constexpr std::uint64_t kPfr0WithGic = 0x1111 | (1ull << 24);
  constexpr std::uint64_t kPfr0WithoutGic = 0x1111;
  set(arm::SysReg::ICH_VTR_EL2, 3);  // four list registers
  set(arm::SysReg::ICH_HCR_EL2, 0);

  set(arm::SysReg::ID_AA64PFR0_EL1, kPfr0WithoutGic);
  arm::VCpu without{{.entry = 0x1000}};
  without.load();
  CHECK(arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::ICH_HCR_EL2)] == 0);
  CHECK_FALSE(without.inject_interrupt({.intid = 27}));
  without.put();

  set(arm::SysReg::ID_AA64PFR0_EL1, kPfr0WithGic);
  arm::VCpu with{{.entry = 0x1000}};
  with.load();
  CHECK(arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::ICH_HCR_EL2)] == arm::kIchHcrEnable);
  CHECK(with.inject_interrupt({.intid = 27}));
  CHECK(with.has_virtual_interrupt(27));
  CHECK(arm::list_register_intid(arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::ICH_LR0_EL2)]) ==
        27);
  CHECK(with.inject_interrupt({.intid = 28}));
  CHECK(arm::list_register_intid(arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::ICH_LR1_EL2)]) ==
        28);
  with.put();
  CHECK(arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::ICH_HCR_EL2)] ==
        0);                               // off for the next vCPU
  CHECK(with.has_virtual_interrupt(28));  // kept in the saved state
  for (auto reg : {arm::SysReg::ICH_LR0_EL2, arm::SysReg::ICH_LR1_EL2}) set(reg, 0);
  set(arm::SysReg::ID_AA64PFR0_EL1, 0);
}

TEST_CASE("the guest's ID registers hide the features whose state the vCPU does not switch") {
  // ID_AA64PFR0_EL1 with SVE (1 at [35:32]), AMU (1 at [47:44]), FP/AdvSIMD 0, EL0-EL3 AArch64.
  constexpr std::uint64_t kPfr0 = (1ull << 32) | (1ull << 44) | 0x1111;
  CHECK(arm::guest_id_register(arm::SysReg::ID_AA64PFR0_EL1, kPfr0, false) == 0x1111);
  // ID_AA64PFR1_EL1 with SME (1 at [27:24]), MTE (2 at [11:8]) and BT (1 at [3:0]).
  CHECK(arm::guest_id_register(arm::SysReg::ID_AA64PFR1_EL1, (1ull << 24) | (2ull << 8) | 1, false) == 1);
  CHECK(arm::guest_id_register(arm::SysReg::ID_AA64ZFR0_EL1, 0x1234, false) == 0);
  CHECK(arm::guest_id_register(arm::SysReg::ID_AA64ISAR0_EL1, 0x1234, false) == 0x1234);
}

TEST_CASE("ID register reads trapped by TID3 are answered inside run(), filtered") {
  constexpr unsigned kPfr0Index = (4 - 1) * 8 + 0;  // CRm 4, op2 0
  arm::host_id_space[kPfr0Index] = (1ull << 32) | 0x1111;
  arm::VCpu vcpu{{.entry = 0x1000}};
  CHECK((vcpu.hcr() & arm::hcr::kTid3) != 0);
  std::uint64_t x3_seen = 0, pc_seen = 0;
  scripted::set_script({[](arm::GuestRegisters&) {
                          // MRS x3, ID_AA64PFR0_EL1
                          const auto iss = arm::SysRegIss::make(arm::SysReg::ID_AA64PFR0_EL1, 3, true);
                          set(arm::SysReg::ESR_EL2,
                              arm::Esr::make(arm::ExceptionClass::SysReg64, true, iss).value());
                          return kSync;
                        },
                        [&](arm::GuestRegisters& regs) {
                          x3_seen = regs.x[3];
                          pc_seen = regs.pc;
                          return hvc(7, 0)(regs);
                        }});
  vcpu.load();
  for (arm::Exit& exit : vcpu.run()) {
    auto* call = exit.get_if<arm::Hypercall>();
    REQUIRE(call != nullptr);  // the ID read never reached the loop
    CHECK(call->immediate == 7);
    break;
  }
  CHECK(x3_seen == 0x1111);
  CHECK(pc_seen == 0x1004);  // past the MRS
  arm::host_id_space[kPfr0Index] = 0;
}

namespace {
std::uint64_t hw(arm::SysReg reg) { return arm::host_sysreg_file[static_cast<std::size_t>(reg)]; }
// ID_AA64DFR0_EL1 with `breakpoints` and `watchpoints` (BRPs [15:12], WRPs [23:20]: count - 1).
constexpr std::uint64_t dfr0(unsigned breakpoints, unsigned watchpoints) {
  return (std::uint64_t{breakpoints - 1} << 12) | (std::uint64_t{watchpoints - 1} << 20);
}
}  // namespace

TEST_CASE("the breakpoint and watchpoint counts come from ID_AA64DFR0_EL1") {
  // QEMU's Cortex-A72: BRPs 5, WRPs 3 (six breakpoints, four watchpoints), CTX_CMPs 1.
  constexpr arm::DebugRegisterCounts a72 = arm::debug_register_counts(0x1030'5106);
  CHECK(a72.breakpoints == 6);
  CHECK(a72.watchpoints == 4);
  constexpr arm::DebugRegisterCounts most = arm::debug_register_counts(0xf0'f000);
  CHECK(most.breakpoints == arm::kMaxBreakpoints);
  CHECK(most.watchpoints == arm::kMaxWatchpoints);
  constexpr arm::DebugState fresh;  // a new vCPU's: every pair zero, disabled
  CHECK(fresh.breakpoints[0].value == 0);
  CHECK(fresh.watchpoints[3].control == 0);
}

TEST_CASE("switched eagerly, breakpoints and watchpoints move with load()/put(), a new vCPU's all disabled") {
  set(arm::SysReg::ID_AA64DFR0_EL1, dfr0(2, 3));
  // The host's (or a previous vCPU's) values: a new vCPU must not see them.
  set(arm::SysReg::DBGBVR0_EL1, 0x4848'0000);
  set(arm::SysReg::DBGBCR1_EL1, 0x1e7);  // enabled
  set(arm::SysReg::DBGWCR2_EL1, 0x1ff);  // enabled
  set(arm::SysReg::MDCCINT_EL1, 1u << 30);
  arm::VCpu a{{.entry = 0x1000, .switch_debug_registers_on_first_use = false}};
  arm::VCpu b{{.entry = 0x2000, .switch_debug_registers_on_first_use = false}};
  CHECK(a.debug_register_counts().breakpoints == 2);
  CHECK(a.debug_register_counts().watchpoints == 3);
  b.debug_registers().breakpoints[1] = {.value = 0xb000, .control = 0x1e5};
  b.debug_registers().watchpoints[2] = {.value = 0xb008, .control = 0x1fb};

  a.load();
  CHECK(a.debug_registers_on_cpu());
  CHECK((hw(arm::SysReg::MDCR_EL2) & arm::mdcr::kTda) != 0);  // still trapped: answered inside run()
  CHECK(hw(arm::SysReg::DBGBVR0_EL1) == 0);
  CHECK(hw(arm::SysReg::DBGBCR1_EL1) == 0);
  CHECK(hw(arm::SysReg::DBGWCR2_EL1) == 0);
  CHECK(hw(arm::SysReg::MDCCINT_EL1) == 0);
  // The values on the CPU at put(), as the guest's (trapped, answered) writes leave them.
  set(arm::SysReg::DBGBVR1_EL1, 0xa000);
  set(arm::SysReg::DBGBCR1_EL1, 0x1e7);
  set(arm::SysReg::DBGWVR2_EL1, 0xa008);
  set(arm::SysReg::DBGWCR2_EL1, 0x1ff);
  set(arm::SysReg::MDCCINT_EL1, 1u << 29);
  a.put();

  b.load();
  CHECK(hw(arm::SysReg::DBGBVR1_EL1) == 0xb000);
  CHECK(hw(arm::SysReg::DBGBCR1_EL1) == 0x1e5);
  CHECK(hw(arm::SysReg::DBGWVR2_EL1) == 0xb008);
  CHECK(hw(arm::SysReg::DBGWCR2_EL1) == 0x1fb);
  CHECK(hw(arm::SysReg::MDCCINT_EL1) == 0);
  b.put();

  a.load();
  CHECK(hw(arm::SysReg::DBGBVR1_EL1) == 0xa000);
  CHECK(hw(arm::SysReg::DBGWCR2_EL1) == 0x1ff);
  a.put();
  CHECK(a.debug_registers().breakpoints[1].value == 0xa000);
  CHECK(a.debug_registers().breakpoints[1].control == 0x1e7);
  CHECK(a.debug_registers().watchpoints[2].value == 0xa008);
  CHECK(a.debug_registers().watchpoints[2].control == 0x1ff);
  CHECK(a.el1().at<arm::SysReg::MDCCINT_EL1>() == 1u << 29);
  CHECK(b.debug_registers().breakpoints[1].value == 0xb000);
  CHECK(b.el1().at<arm::SysReg::MDCCINT_EL1>() == 0);
  set(arm::SysReg::ID_AA64DFR0_EL1, 0);
}

TEST_CASE("breakpoints and watchpoints beyond the CPU's count are never touched") {
  // Two breakpoints and two watchpoints: DBGBVR2_EL1 and up would be UNDEFINED.
  set(arm::SysReg::ID_AA64DFR0_EL1, dfr0(2, 2));
  constexpr arm::SysReg kBanks[] = {arm::SysReg::DBGBVR0_EL1, arm::SysReg::DBGBCR0_EL1,
                                    arm::SysReg::DBGWVR0_EL1, arm::SysReg::DBGWCR0_EL1};
  auto nth = [](arm::SysReg bank, unsigned n) {
    return static_cast<arm::SysReg>(static_cast<unsigned>(bank) + n);
  };
  constexpr std::uint64_t kUntouched = 0x5a5a'5a5a;
  for (arm::SysReg bank : kBanks)
    for (unsigned n = 0; n < 16; ++n) set(nth(bank, n), kUntouched);

  arm::VCpu vcpu{{.entry = 0x1000, .switch_debug_registers_on_first_use = false}};
  // What the hypervisor sets where the CPU has no register stays in the vCPU.
  vcpu.debug_registers().breakpoints[2] = {.value = 0x2000, .control = 1};
  vcpu.debug_registers().watchpoints[15] = {.value = 0x3000, .control = 1};
  vcpu.load();
  for (arm::SysReg bank : kBanks) {
    CHECK(hw(nth(bank, 0)) == 0);
    CHECK(hw(nth(bank, 1)) == 0);
    for (unsigned n = 2; n < 16; ++n) CHECK(hw(nth(bank, n)) == kUntouched);
  }
  vcpu.put();
  CHECK(vcpu.debug_registers().breakpoints[1].value == 0);
  CHECK(vcpu.debug_registers().breakpoints[2].value == 0x2000);  // not read from the CPU
  CHECK(vcpu.debug_registers().breakpoints[3].value == 0);
  CHECK(vcpu.debug_registers().watchpoints[15].value == 0x3000);
  for (arm::SysReg bank : kBanks)
    for (unsigned n = 0; n < 16; ++n) set(nth(bank, n), 0);
  set(arm::SysReg::ID_AA64DFR0_EL1, 0);
}

namespace {
// A guest step that executes `mrs x<rt>, <encoding>`, trapped.
scripted::Step mrs(arm::SysRegEncoding encoding, unsigned rt) {
  return [=](arm::GuestRegisters&) {
    const auto iss = arm::SysRegIss::make(encoding, rt, true);
    set(arm::SysReg::ESR_EL2, arm::Esr::make(arm::ExceptionClass::SysReg64, true, iss).value());
    return kSync;
  };
}
// A guest step that executes `msr <encoding>, x<rt>` with x<rt> = value, trapped.
scripted::Step msr(arm::SysRegEncoding encoding, unsigned rt, std::uint64_t value) {
  return [=](arm::GuestRegisters& regs) {
    regs.x[rt] = value;
    const auto iss = arm::SysRegIss::make(encoding, rt, false);
    set(arm::SysReg::ESR_EL2, arm::Esr::make(arm::ExceptionClass::SysReg64, true, iss).value());
    return kSync;
  };
}
// Runs the guest until its first exit that reaches the hypervisor, which must be `hvc #imm`.
void run_until_hvc(arm::VCpu& vcpu, std::uint16_t imm) {
  for (arm::Exit& exit : vcpu.run()) {
    auto* call = exit.get_if<arm::Hypercall>();
    REQUIRE(call != nullptr);  // every system register access was answered inside run()
    CHECK(call->immediate == imm);
    break;
  }
}
constexpr std::uint64_t kOslsrLocked = arm::oslsr::kOslmImplemented | arm::oslsr::kOslk;
constexpr std::uint64_t kOslsrUnlocked = arm::oslsr::kOslmImplemented;
}  // namespace

TEST_CASE("the OS lock, OS double lock and DBGPRCR_EL1 trap (MDCR_EL2.TDOSA) and are answered inside run()") {
  set(arm::SysReg::MDCR_EL2, arm::mdcr::kTpm);
  arm::VCpu vcpu{{.entry = 0x1000}};
  vcpu.load();
  CHECK(hw(arm::SysReg::MDCR_EL2) ==
        (arm::mdcr::kTpm | arm::mdcr::kTpmcr | arm::mdcr::kTdosa | arm::mdcr::kTda));
  std::uint64_t fresh = 0, unlocked = 0, relocked = 0, power = 0, double_lock = 0, pc = 0;
  scripted::set_script({
      mrs(arm::SysReg::OSLSR_EL1, 2),
      [&](arm::GuestRegisters& regs) {
        fresh = regs.x[2];
        return msr(arm::SysReg::OSLAR_EL1, 1, 0)(regs);  // unlock
      },
      mrs(arm::SysReg::OSLSR_EL1, 3),
      [&](arm::GuestRegisters& regs) {
        unlocked = regs.x[3];
        return msr(arm::SysReg::DBGPRCR_EL1, 4, ~std::uint64_t{0})(regs);  // only CORENPDRQ is kept
      },
      mrs(arm::SysReg::DBGPRCR_EL1, 5),
      [&](arm::GuestRegisters& regs) {
        power = regs.x[5];
        return msr(arm::SysReg::OSDLR_EL1, 6, 1)(regs);  // DLK: ignored
      },
      [&](arm::GuestRegisters& regs) {
        regs.x[7] = 0x77;
        return mrs(arm::SysReg::OSDLR_EL1, 7)(regs);
      },
      [&](arm::GuestRegisters& regs) {
        double_lock = regs.x[7];
        return msr(arm::SysReg::OSLAR_EL1, 8, arm::oslar::kOslk)(regs);  // lock again
      },
      mrs(arm::SysReg::OSLSR_EL1, 9),
      [&](arm::GuestRegisters& regs) {
        relocked = regs.x[9];
        pc = regs.pc;
        return hvc(1, 0)(regs);
      },
  });
  run_until_hvc(vcpu, 1);
  CHECK(fresh == kOslsrLocked);  // locked, as after a Cold reset
  CHECK(unlocked == kOslsrUnlocked);
  CHECK(power == arm::dbgprcr::kCorenpdrq);
  CHECK(double_lock == 0);
  CHECK(relocked == kOslsrLocked);
  CHECK(pc == 0x1000 + 9 * 4);  // past every emulated access
  CHECK(vcpu.exit_count() == 10);
  CHECK(vcpu.debug_registers().os_lock_locked);
  CHECK(vcpu.debug_registers().power_control == arm::dbgprcr::kCorenpdrq);
  set(arm::SysReg::MDCR_EL2, 0);
}

TEST_CASE("each vCPU has its own OS lock and DBGPRCR_EL1") {
  arm::VCpu a{{.entry = 0x1000}};
  arm::VCpu b{{.entry = 0x2000}};
  a.load();
  scripted::set_script({msr(arm::SysReg::OSLAR_EL1, 0, 0), msr(arm::SysReg::DBGPRCR_EL1, 1, 1), hvc(1, 0)});
  run_until_hvc(a, 1);
  a.put();
  std::uint64_t b_oslsr = 0, b_power = 0;
  b.load();
  scripted::set_script(
      {mrs(arm::SysReg::OSLSR_EL1, 2), mrs(arm::SysReg::DBGPRCR_EL1, 3), [&](arm::GuestRegisters& regs) {
         b_oslsr = regs.x[2];
         b_power = regs.x[3];
         return hvc(2, 0)(regs);
       }});
  run_until_hvc(b, 2);
  b.put();
  CHECK(b_oslsr == kOslsrLocked);  // A's unlock is A's
  CHECK(b_power == 0);
  CHECK_FALSE(a.debug_registers().os_lock_locked);
  CHECK(a.debug_registers().power_control == arm::dbgprcr::kCorenpdrq);
  CHECK(b.debug_registers().os_lock_locked);
}

TEST_CASE(
    "accesses the powerdown debug registers do not allow, and all of them without emulation, reach the "
    "hypervisor") {
  arm::VCpu vcpu{{.entry = 0x1000}};
  vcpu.load();
  scripted::set_script({mrs(arm::SysReg::OSLAR_EL1, 1)});  // write-only
  for (arm::Exit& exit : vcpu.run()) {
    auto* read = exit.get_if<arm::SysRegRead>();
    REQUIRE(read != nullptr);
    CHECK(read->encoding == arm::SysReg::OSLAR_EL1);
    break;
  }

  set(arm::SysReg::MDCR_EL2, arm::mdcr::kTdosa);
  arm::VCpu hardware{{.entry = 0x1000, .emulate_os_lock = false}};
  hardware.load();
  CHECK((hw(arm::SysReg::MDCR_EL2) & arm::mdcr::kTdosa) == 0);
  scripted::set_script({msr(arm::SysReg::OSLAR_EL1, 1, 0)});
  for (arm::Exit& exit : hardware.run()) {
    auto* write = exit.get_if<arm::SysRegWrite>();
    REQUIRE(write != nullptr);
    CHECK(write->encoding == arm::SysReg::OSLAR_EL1);
    break;
  }
  CHECK(hardware.debug_registers().os_lock_locked);  // untouched
}

TEST_CASE("the guest's ID_AA64DFR0_EL1 reports no OS double lock") {
  constexpr unsigned kDoubleLockShift = 36;
  constexpr std::uint64_t kDoubleLockField = std::uint64_t{0xf} << kDoubleLockShift;
  // QEMU's Cortex-A72: DoubleLock 0b0000, implemented.
  CHECK((arm::guest_id_register(arm::SysReg::ID_AA64DFR0_EL1, 0x1030'5106, true) & kDoubleLockField) ==
        kDoubleLockField);
  CHECK((arm::guest_id_register(arm::SysReg::ID_AA64DFR0_EL1, 0x1030'5106, true) & ~kDoubleLockField) ==
        0x1030'5106);
}

TEST_CASE("the guest's ID_AA64DFR0_EL1 reports a PMU only to a vCPU that has one") {
  constexpr std::uint64_t kPmuVersionField = std::uint64_t{0xf} << 8;
  // QEMU's Cortex-A72: PMUVer 0b0001 (FEAT_PMUv3).
  CHECK((arm::guest_id_register(arm::SysReg::ID_AA64DFR0_EL1, 0x1030'5106, true) & kPmuVersionField) ==
        0x100);
  CHECK((arm::guest_id_register(arm::SysReg::ID_AA64DFR0_EL1, 0x1030'5106, false) & kPmuVersionField) == 0);
  // An IMPLEMENTATION DEFINED PMU (0b1111) is not one the vCPU can lend.
  CHECK((arm::guest_id_register(arm::SysReg::ID_AA64DFR0_EL1, 0xf00, true) & kPmuVersionField) == 0);
}

TEST_CASE("a guest PMU partitions the counters with MDCR_EL2.HPMN and moves the guest's share") {
  auto set = [](arm::SysReg reg, std::uint64_t value) {
    arm::host_sysreg_file[static_cast<std::size_t>(reg)] = value;
  };
  auto get = [](arm::SysReg reg) { return arm::host_sysreg_file[static_cast<std::size_t>(reg)]; };
  set(arm::SysReg::ID_AA64DFR0_EL1, 4ull << 8);                         // FEAT_PMUv3p1
  set(arm::SysReg::PMCR_EL0, 6ull << 11);                               // N = 6
  set(arm::SysReg::MDCR_EL2, 6 | arm::mdcr::kTpm | arm::mdcr::kTpmcr);  // the host's: all trapped
  arm::VCpu guest{{.pmu = arm::GuestPmu::Partitioned}};
  CHECK(guest.pmu_counters() == 5);  // all but one, which the hypervisor keeps
  guest.pmu_state().pmccntr = 1234;
  guest.pmu_state().evcntr[4] = 99;
  set(arm::SysReg::PMCCNTR_EL0, 777);  // the host's
  guest.load();
  const std::uint64_t mdcr = get(arm::SysReg::MDCR_EL2);
  CHECK((mdcr & arm::mdcr::kHpmnMask) == 5);
  CHECK((mdcr & (arm::mdcr::kTpm | arm::mdcr::kTpmcr)) == 0);  // lent: no exit per access
  CHECK((mdcr & arm::mdcr::kHpmd) != 0);                       // no guest event counted at EL2
  CHECK(get(arm::SysReg::PMCCNTR_EL0) == 1234);
  CHECK(get(arm::SysReg::PMEVCNTR4_EL0) == 99);
  set(arm::SysReg::PMCCNTR_EL0, 2000);  // the guest counted
  guest.put();
  CHECK(guest.pmu_state().pmccntr == 2000);
  CHECK(get(arm::SysReg::PMCCNTR_EL0) == 777);  // the host's again
  CHECK((get(arm::SysReg::MDCR_EL2) & ~(arm::mdcr::kTdosa | arm::mdcr::kTda)) ==
        (6 | arm::mdcr::kTpm | arm::mdcr::kTpmcr));
  set(arm::SysReg::ID_AA64DFR0_EL1, 0);
  set(arm::SysReg::PMCR_EL0, 0);
  set(arm::SysReg::MDCR_EL2, 0);
}

TEST_CASE("a vCPU without a guest PMU keeps every PMU register trapped") {
  arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::ID_AA64DFR0_EL1)] = 4ull << 8;
  arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::PMCR_EL0)] = 6ull << 11;
  arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::MDCR_EL2)] = 6;
  arm::VCpu none{{}};
  CHECK(none.pmu_counters() == 0);
  none.load();
  const std::uint64_t mdcr = arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::MDCR_EL2)];
  CHECK((mdcr & arm::mdcr::kTpm) != 0);
  CHECK((mdcr & arm::mdcr::kTpmcr) != 0);
  none.put();
  arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::ID_AA64DFR0_EL1)] = 0;
  arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::PMCR_EL0)] = 0;
  arm::host_sysreg_file[static_cast<std::size_t>(arm::SysReg::MDCR_EL2)] = 0;
}

namespace {
constexpr arm::SysReg kDebugRegisterBanks[] = {arm::SysReg::DBGBVR0_EL1, arm::SysReg::DBGBCR0_EL1,
                                               arm::SysReg::DBGWVR0_EL1, arm::SysReg::DBGWCR0_EL1};
// What another vCPU or the host left in every breakpoint and watchpoint register.
constexpr std::uint64_t kOtherOwner = 0x4848'0000;
void fill_debug_registers(std::uint64_t value) {
  for (arm::SysReg bank : kDebugRegisterBanks)
    for (unsigned n = 0; n < arm::kMaxBreakpoints; ++n) set(arm::bank_register(bank, n), value);
}
bool debug_registers_hold(std::uint64_t value) {
  for (arm::SysReg bank : kDebugRegisterBanks)
    for (unsigned n = 0; n < arm::kMaxBreakpoints; ++n)
      if (hw(arm::bank_register(bank, n)) != value) return false;
  return true;
}
}  // namespace

TEST_CASE("MDCR_EL2.TDA traps exactly the debug registers it covers") {
  CHECK(arm::is_trapped_by_debug_access_trap(arm::SysReg::MDSCR_EL1));
  CHECK(arm::is_trapped_by_debug_access_trap(arm::SysReg::MDCCINT_EL1));
  CHECK(arm::is_trapped_by_debug_access_trap(arm::bank_register(arm::SysReg::DBGBVR0_EL1, 15)));
  CHECK(arm::is_trapped_by_debug_access_trap(arm::bank_register(arm::SysReg::DBGWCR0_EL1, 0)));
  CHECK(arm::is_trapped_by_debug_access_trap(arm::SysReg::DBGCLAIMSET_EL1));
  CHECK(arm::is_trapped_by_debug_access_trap(arm::SysReg::DBGAUTHSTATUS_EL1));
  CHECK(arm::is_trapped_by_debug_access_trap(arm::SysReg::OSECCR_EL1));
  CHECK(arm::is_trapped_by_debug_access_trap(arm::SysReg::MDCCSR_EL0));
  CHECK(arm::is_trapped_by_debug_access_trap(arm::SysReg::DBGDTR_EL0));
  // TDOSA's, TDRA's, trace (CPTR_EL2.TTA: TRCPRGCTLR_EL1), EL2's own (DBGVCR32_EL2), not debug.
  CHECK_FALSE(arm::is_trapped_by_debug_access_trap(arm::SysReg::OSLAR_EL1));
  CHECK_FALSE(arm::is_trapped_by_debug_access_trap(arm::SysReg::OSLSR_EL1));
  CHECK_FALSE(arm::is_trapped_by_debug_access_trap(arm::SysReg::OSDLR_EL1));
  CHECK_FALSE(arm::is_trapped_by_debug_access_trap(arm::SysReg::DBGPRCR_EL1));
  CHECK_FALSE(arm::is_trapped_by_debug_access_trap(arm::SysReg::MDRAR_EL1));
  CHECK_FALSE(arm::is_trapped_by_debug_access_trap(arm::SysRegEncoding{2, 1, 0, 1, 0}));
  CHECK_FALSE(arm::is_trapped_by_debug_access_trap(arm::SysRegEncoding{2, 4, 0, 7, 0}));
  CHECK_FALSE(arm::is_trapped_by_debug_access_trap(arm::SysReg::PMCR_EL0));
}

TEST_CASE("a vCPU whose guest leaves the debug registers alone: load() and put() never touch them") {
  set(arm::SysReg::ID_AA64DFR0_EL1, dfr0(arm::kMaxBreakpoints, arm::kMaxWatchpoints));
  set(arm::SysReg::MDCR_EL2, arm::mdcr::kTpm);
  fill_debug_registers(kOtherOwner);
  arm::VCpu vcpu{{.entry = 0x1000}};
  vcpu.debug_registers().breakpoints[1] = {.value = 0xa000, .control = 0x1e7};
  vcpu.load();
  CHECK_FALSE(vcpu.debug_registers_on_cpu());
  CHECK(hw(arm::SysReg::MDCR_EL2) ==
        (arm::mdcr::kTpm | arm::mdcr::kTpmcr | arm::mdcr::kTdosa | arm::mdcr::kTda));
  CHECK(debug_registers_hold(kOtherOwner));
  scripted::set_script({hvc(1, 0)});
  run_until_hvc(vcpu, 1);
  vcpu.put();
  CHECK(debug_registers_hold(kOtherOwner));
  CHECK(vcpu.debug_registers().breakpoints[1].value == 0xa000);  // not read from the CPU
  CHECK(vcpu.debug_registers().breakpoints[1].control == 0x1e7);
  CHECK(vcpu.debug_registers().breakpoints[0].value == 0);
  fill_debug_registers(0);
  set(arm::SysReg::MDCR_EL2, 0);
  set(arm::SysReg::ID_AA64DFR0_EL1, 0);
}

TEST_CASE(
    "trapped debug register accesses are answered inside run(): a read from the vCPU's own values, a write "
    "switches them in; MDCR_EL2.TDA stays set") {
  set(arm::SysReg::ID_AA64DFR0_EL1, dfr0(2, 3));
  set(arm::SysReg::MDCR_EL2, arm::mdcr::kTpm);
  fill_debug_registers(kOtherOwner);
  arm::VCpu vcpu{{.entry = 0x1000}};
  vcpu.debug_registers().breakpoints[1] = {.value = 0xa000, .control = 0x1e7};
  vcpu.debug_registers().watchpoints[2] = {.value = 0xa008, .control = 0x1ff};
  vcpu.load();
  std::uint64_t read_value = 0;
  bool on_cpu_after_read = true;
  scripted::set_script({
      mrs(arm::bank_register(arm::SysReg::DBGBVR0_EL1, 1), 2),
      [&](arm::GuestRegisters& regs) {
        read_value = regs.x[2];
        on_cpu_after_read = vcpu.debug_registers_on_cpu();
        return msr(arm::SysReg::DBGWCR2_EL1, 3, 0x1fb)(regs);  // the guest programs its watchpoint
      },
      hvc(1, 0),
  });
  run_until_hvc(vcpu, 1);
  CHECK(read_value == 0xa000);     // its own value, not the other owner's on the CPU
  CHECK_FALSE(on_cpu_after_read);  // a read switches nothing in
  CHECK(vcpu.debug_registers_on_cpu());
  CHECK(vcpu.exit_count() == 3);  // both accesses answered inside run()
  CHECK(hw(arm::SysReg::MDCR_EL2) ==
        (arm::mdcr::kTpm | arm::mdcr::kTpmcr | arm::mdcr::kTdosa | arm::mdcr::kTda));
  CHECK(hw(arm::SysReg::DBGWCR2_EL1) == 0x1fb);
  CHECK(vcpu.debug_registers().watchpoints[2].control == 0x1fb);
  // Only the CPU's two breakpoints and three watchpoints were restored.
  CHECK(hw(arm::SysReg::DBGBCR1_EL1) == 0x1e7);
  CHECK(hw(arm::SysReg::DBGWVR2_EL1) == 0xa008);
  CHECK(hw(arm::SysReg::DBGBVR0_EL1) == 0);
  CHECK(hw(arm::SysReg::DBGBVR2_EL1) == kOtherOwner);
  CHECK(hw(arm::SysReg::DBGWVR3_EL1) == kOtherOwner);

  // put() of a vCPU whose registers are on the CPU saves them; the next load() leaves them off.
  vcpu.put();
  CHECK_FALSE(vcpu.debug_registers_on_cpu());
  CHECK(vcpu.debug_registers().watchpoints[2].control == 0x1fb);
  CHECK(vcpu.debug_registers().breakpoints[1].value == 0xa000);
  fill_debug_registers(kOtherOwner);
  vcpu.load();
  CHECK_FALSE(vcpu.debug_registers_on_cpu());
  CHECK((hw(arm::SysReg::MDCR_EL2) & arm::mdcr::kTda) != 0);
  CHECK(debug_registers_hold(kOtherOwner));

  // MDSCR_EL1: a read shows the emulated channel's TXfull; a write (MDE set, RXfull ignored:
  // read-only) switches the breakpoints in and goes to the CPU.
  std::uint64_t mdscr_read = 0;
  scripted::set_script({
      msr(arm::SysReg::DBGDTRTX_EL0, 2, 0x55),
      mrs(arm::SysReg::MDSCR_EL1, 3),
      [&](arm::GuestRegisters& regs) {
        mdscr_read = regs.x[3];
        return msr(arm::SysReg::MDSCR_EL1, 4, arm::mdscr::kMde | arm::mdccsr::kRxFull)(regs);
      },
      hvc(2, 0),
  });
  run_until_hvc(vcpu, 2);
  CHECK(mdscr_read == arm::mdccsr::kTxFull);
  CHECK(hw(arm::SysReg::MDSCR_EL1) == arm::mdscr::kMde);
  CHECK(vcpu.debug_registers_on_cpu());
  CHECK(hw(arm::SysReg::DBGWCR2_EL1) == 0x1fb);
  CHECK((hw(arm::SysReg::MDCR_EL2) & arm::mdcr::kTda) != 0);
  vcpu.put();
  fill_debug_registers(0);
  set(arm::SysReg::MDSCR_EL1, 0);
  set(arm::SysReg::MDCR_EL2, 0);
  set(arm::SysReg::ID_AA64DFR0_EL1, 0);
}

TEST_CASE(
    "DBGAUTHSTATUS_EL1 reads a vCPU's fixed authentication status; a breakpoint beyond the CPU's count "
    "is not answered") {
  set(arm::SysReg::ID_AA64DFR0_EL1, dfr0(2, 2));
  set(arm::SysReg::DBGAUTHSTATUS_EL1, 0xff);  // the hardware's: not what a guest reads
  arm::VCpu vcpu{{.entry = 0x1000}};
  vcpu.load();
  std::uint64_t status = 0;
  scripted::set_script({mrs(arm::SysReg::DBGAUTHSTATUS_EL1, 2), [&](arm::GuestRegisters& regs) {
                          status = regs.x[2];
                          return mrs(arm::bank_register(arm::SysReg::DBGBVR0_EL1, 2), 3)(regs);
                        }});
  auto run = vcpu.run();
  arm::Exit& exit = *run.begin();
  CHECK(status == arm::kVcpuDebugAuthentication);
  REQUIRE(exit.is<arm::SysRegRead>());  // DBGBVR2_EL1 on a CPU with two: UNDEFINED by default
  CHECK(exit.as<arm::SysRegRead>().encoding == arm::bank_register(arm::SysReg::DBGBVR0_EL1, 2));
  vcpu.put();
  set(arm::SysReg::DBGAUTHSTATUS_EL1, 0);
  set(arm::SysReg::MDCR_EL2, 0);
  set(arm::SysReg::ID_AA64DFR0_EL1, 0);
}

TEST_CASE("the OS lock registers are emulated without switching the breakpoints and watchpoints in") {
  set(arm::SysReg::ID_AA64DFR0_EL1, dfr0(2, 2));
  fill_debug_registers(kOtherOwner);
  arm::VCpu vcpu{{.entry = 0x1000}};
  vcpu.load();
  scripted::set_script({mrs(arm::SysReg::OSLSR_EL1, 2), msr(arm::SysReg::OSLAR_EL1, 1, 0), hvc(1, 0)});
  run_until_hvc(vcpu, 1);
  CHECK_FALSE(vcpu.debug_registers_on_cpu());
  CHECK((hw(arm::SysReg::MDCR_EL2) & arm::mdcr::kTda) != 0);
  CHECK(debug_registers_hold(kOtherOwner));
  CHECK_FALSE(vcpu.debug_registers().os_lock_locked);
  vcpu.put();
  fill_debug_registers(0);
  set(arm::SysReg::MDCR_EL2, 0);
  set(arm::SysReg::ID_AA64DFR0_EL1, 0);
}

TEST_CASE("a vCPU whose MDSCR_EL1.MDE is set gets its breakpoints and watchpoints at load()") {
  // With MDE set another owner's enabled breakpoint could fire in this guest without any
  // access of its own trapping first: load() cannot wait.
  set(arm::SysReg::ID_AA64DFR0_EL1, dfr0(2, 2));
  fill_debug_registers(kOtherOwner);
  arm::VCpu vcpu{{.entry = 0x1000}};
  vcpu.el1().at<arm::SysReg::MDSCR_EL1>() = arm::mdscr::kMde;
  vcpu.debug_registers().breakpoints[0] = {.value = 0xb000, .control = 0x1e7};
  vcpu.load();
  CHECK(vcpu.debug_registers_on_cpu());
  CHECK((hw(arm::SysReg::MDCR_EL2) & arm::mdcr::kTda) != 0);
  CHECK(hw(arm::SysReg::DBGBVR0_EL1) == 0xb000);
  CHECK(hw(arm::SysReg::DBGBCR0_EL1) == 0x1e7);
  CHECK(hw(arm::SysReg::DBGWCR1_EL1) == 0);
  set(arm::SysReg::DBGBVR1_EL1, 0xb004);  // on the CPU at put(): saved from there
  vcpu.put();
  CHECK(vcpu.debug_registers().breakpoints[1].value == 0xb004);
  fill_debug_registers(0);
  set(arm::SysReg::MDSCR_EL1, 0);
  set(arm::SysReg::MDCR_EL2, 0);
  set(arm::SysReg::ID_AA64DFR0_EL1, 0);
}

namespace {
constexpr std::uint64_t kEnable = arm::cnt_ctl::kEnable;
constexpr std::uint64_t kImask = arm::cnt_ctl::kImask;
constexpr std::uint64_t kIstatus = arm::cnt_ctl::kIstatus;
}  // namespace

TEST_CASE("the EL1 physical timer is emulated inside run(): TVAL counts down, ISTATUS is computed") {
  set(arm::SysReg::CNTPCT_EL0, 1000);
  arm::VCpu vcpu{{.entry = 0x1000}};
  vcpu.load();
  CHECK(hw(arm::SysReg::CNTP_CTL_EL0) == 0);  // the hardware copy: disabled, as the guest's
  std::uint64_t tval = 0, ctl_before = 0, ctl_after = 0, tval_after = 0;
  scripted::set_script({
      msr(arm::SysReg::CNTP_TVAL_EL0, 1, 500),   // CVAL = 1500
      msr(arm::SysReg::CNTP_CTL_EL0, 2, ~0ull),  // ENABLE, IMASK; ISTATUS and RES0 ignored
      msr(arm::SysReg::CNTP_CTL_EL0, 2, kEnable),
      mrs(arm::SysReg::CNTP_TVAL_EL0, 3),
      [&](arm::GuestRegisters& regs) {
        tval = regs.x[3];
        return mrs(arm::SysReg::CNTP_CTL_EL0, 4)(regs);
      },
      [&](arm::GuestRegisters& regs) {
        ctl_before = regs.x[4];
        CHECK(hw(arm::SysReg::CNTP_CVAL_EL0) == 1500);  // the copy fires at the guest's deadline
        CHECK(hw(arm::SysReg::CNTP_CTL_EL0) == kEnable);
        set(arm::SysReg::CNTPCT_EL0, 1600);  // the deadline passes unseen
        return mrs(arm::SysReg::CNTP_CTL_EL0, 5)(regs);
      },
      [&](arm::GuestRegisters& regs) {
        ctl_after = regs.x[5];
        return mrs(arm::SysReg::CNTP_TVAL_EL0, 6)(regs);
      },
      [&](arm::GuestRegisters& regs) {
        tval_after = regs.x[6];
        return hvc(1, 0)(regs);
      },
  });
  run_until_hvc(vcpu, 1);
  CHECK(tval == 500);
  CHECK(ctl_before == kEnable);
  CHECK(ctl_after == (kEnable | kIstatus));
  CHECK(tval_after == 0xffff'ff9cull);  // -100 as 32 bits
  CHECK(vcpu.physical_timer().cval == 1500);
  CHECK(vcpu.next_deadline() == 1600);  // asserted now
  vcpu.put();
  CHECK(hw(arm::SysReg::CNTP_CTL_EL0) == 0);  // off the CPU: the copy cannot fire for another
  set(arm::SysReg::CNTPCT_EL0, 0);
}

TEST_CASE(
    "the physical timer's level: its expiry is sampled, a trapped write that lowers it is a TimerLevel "
    "event") {
  set(arm::SysReg::CNTPCT_EL0, 1000);
  arm::VCpu vcpu{{.entry = 0x1000}};
  vcpu.load();
  scripted::set_script({
      msr(arm::SysReg::CNTP_CVAL_EL0, 1, 1200),
      msr(arm::SysReg::CNTP_CTL_EL0, 2, kEnable),
      [&](arm::GuestRegisters&) {
        CHECK(vcpu.next_deadline() == 1200);
        set(arm::SysReg::CNTPCT_EL0, 1300);  // the hardware copy's PPI 30 would fire now
        return kIrq;
      },
      msr(arm::SysReg::CNTP_CTL_EL0, 3, 0),  // the guest disables its timer: the line drops
      msr(arm::SysReg::CNTP_CVAL_EL0, 4, 100),
      msr(arm::SysReg::CNTP_CTL_EL0, 5, kEnable),  // a CVAL in the past: it rises at once
      hvc(1, 0),
  });
  int step = 0;
  for (arm::Exit& exit : vcpu.run()) {
    ++step;
    if (step == 1) {
      REQUIRE(exit.is<arm::ExternalInterrupt>());
      const arm::TimerLines lines = vcpu.sample_timer_lines();
      CHECK(lines.physical_timer);
      CHECK_FALSE(lines.virtual_timer);
      // The copy is masked while the level is known high: the PPI does not fire again.
      CHECK(hw(arm::SysReg::CNTP_CTL_EL0) == (kEnable | kImask));
    } else if (step == 2) {
      auto* level = exit.get_if<arm::TimerLevel>();
      REQUIRE(level != nullptr);
      CHECK(level->intid == arm::kPhysicalTimerIntid);
      CHECK_FALSE(level->high);
      CHECK(hw(arm::SysReg::CNTP_CTL_EL0) == 0);
    } else if (step == 3) {
      auto* level = exit.get_if<arm::TimerLevel>();
      REQUIRE(level != nullptr);
      CHECK(level->high);
      CHECK(vcpu.registers().pc == 0x1000 + 5 * 4);  // every write completed (the IRQ moves nothing)
    } else {
      CHECK(exit.is<arm::Hypercall>());
      break;
    }
  }
  CHECK(step == 4);
  vcpu.put();
  set(arm::SysReg::CNTPCT_EL0, 0);
}

TEST_CASE("the virtual timer's output and deadline come from CNTV_* on the CPU and from el1() off it") {
  set(arm::SysReg::CNTPCT_EL0, 5000);
  arm::VCpu vcpu{{.entry = 0x1000}};
  vcpu.el1().at<arm::SysReg::CNTVOFF_EL2>() = 4000;
  vcpu.el1().at<arm::SysReg::CNTV_CVAL_EL0>() = 1500;
  vcpu.el1().at<arm::SysReg::CNTV_CTL_EL0>() = kEnable;
  CHECK(vcpu.next_deadline() == 5500);  // virtual count 1000
  CHECK_FALSE(vcpu.virtual_timer_output());
  vcpu.load();
  set(arm::SysReg::CNTV_CTL_EL0, kEnable | kIstatus);  // the hardware's comparison met
  CHECK(vcpu.virtual_timer_output());
  CHECK(vcpu.sample_timer_lines().virtual_timer);
  vcpu.put();
  CHECK(hw(arm::SysReg::CNTV_CTL_EL0) == 0);  // cannot interrupt the next vCPU
  CHECK(vcpu.el1().at<arm::SysReg::CNTV_CTL_EL0>() == kEnable);
  set(arm::SysReg::CNTPCT_EL0, 0);
}

TEST_CASE(
    "a trapped WFI with a virtual interrupt pending completes inside run(); without, it carries the "
    "deadline") {
  set(arm::SysReg::ICH_VTR_EL2, 3);                          // four list registers
  set(arm::SysReg::ID_AA64PFR0_EL1, 0x1111 | (1ull << 24));  // GIC system registers
  set(arm::SysReg::CNTPCT_EL0, 1000);
  arm::VCpu vcpu{{.entry = 0x1000, .trap_wfi = true}};
  vcpu.load();
  const auto wfi = [](arm::GuestRegisters&) {
    set(arm::SysReg::ESR_EL2, arm::Esr::make(arm::ExceptionClass::WfiWfe, true, 0).value());
    return kSync;
  };
  scripted::set_script({
      msr(arm::SysReg::CNTP_CVAL_EL0, 1, 1700),
      msr(arm::SysReg::CNTP_CTL_EL0, 2, kEnable),
      wfi,
      wfi,
      hvc(1, 0),
  });
  int step = 0;
  for (arm::Exit& exit : vcpu.run()) {
    ++step;
    if (step == 1) {
      auto* wait = exit.get_if<arm::Wfx>();
      REQUIRE(wait != nullptr);
      CHECK(wait->deadline == 1700);
      if (vcpu.inject_interrupt({.intid = 40})) continue;  // pending: the next WFI does not block
      break;
    }
    CHECK(exit.is<arm::Hypercall>());
    break;
  }
  CHECK(step == 2);
  vcpu.put();
  for (auto reg : {arm::SysReg::ICH_LR0_EL2, arm::SysReg::CNTPCT_EL0, arm::SysReg::ID_AA64PFR0_EL1})
    set(reg, 0);
}

TEST_CASE("sleep_until_timer_deadline() arms the hypervisor timer at the earliest parked deadline") {
  set(arm::SysReg::CNTPCT_EL0, 1000);
  arm::VCpu early{{.entry = 0x1000}};
  arm::VCpu late{{.entry = 0x2000}};
  early.physical_timer() = {.ctl = kEnable, .cval = 1500};
  late.el1().at<arm::SysReg::CNTV_CVAL_EL0>() = 3000;
  late.el1().at<arm::SysReg::CNTV_CTL_EL0>() = kEnable;
  arm::VCpu* parked[] = {&early, &late};
  CHECK(arm::sleep_until_timer_deadline(parked, 2) == 0);  // the host's WFI returns at once
  CHECK(hw(arm::SysReg::CNTHP_CVAL_EL2) == 1500);
  CHECK(hw(arm::SysReg::CNTHP_CTL_EL2) == 0);  // disarmed again
  set(arm::SysReg::CNTPCT_EL0, 3000);          // both deadlines passed: both runnable, no sleep
  set(arm::SysReg::CNTHP_CVAL_EL2, 0);
  CHECK(arm::sleep_until_timer_deadline(parked, 2) == 0b11);
  CHECK(hw(arm::SysReg::CNTHP_CVAL_EL2) == 0);
  set(arm::SysReg::CNTPCT_EL0, 0);
}

TEST_CASE("a trapped WFIT's deadline is the earlier of its timeout and the vCPU's timers") {
  set(arm::SysReg::CNTPCT_EL0, 10'000);
  arm::VCpu vcpu{{.entry = 0x1000, .trap_wfi = true}};
  vcpu.el1().at<arm::SysReg::CNTVOFF_EL2>() = 4000;  // virtual count 6000
  vcpu.load();
  set(arm::SysReg::CNTVOFF_EL2, 4000);
  const auto wfit = [](std::uint64_t timeout) {
    return [=](arm::GuestRegisters& regs) {
      regs.x[3] = timeout;
      // ISS: TI = 0b10 (WFIT), RV = 1, RN = 3 (Arm ARM, ESR_EL2 ISS for WF* instructions).
      set(arm::SysReg::ESR_EL2,
          arm::Esr::make(arm::ExceptionClass::WfiWfe, true, 0b10 | 1u << 2 | 3u << 5).value());
      return kSync;
    };
  };
  scripted::set_script({wfit(6500), msr(arm::SysReg::CNTP_CVAL_EL0, 1, 10'200),
                        msr(arm::SysReg::CNTP_CTL_EL0, 2, kEnable), wfit(6500), hvc(1, 0)});
  std::uint64_t deadlines[2] = {};
  unsigned waits = 0;
  for (arm::Exit& exit : vcpu.run()) {
    if (auto* wait = exit.get_if<arm::Wfx>()) {
      deadlines[waits++] = wait->deadline;
      continue;
    }
    CHECK(exit.is<arm::Hypercall>());
    break;
  }
  REQUIRE(waits == 2);
  CHECK(deadlines[0] == 10'500);  // virtual 6500 = physical 10500; no timer armed
  CHECK(deadlines[1] == 10'200);  // the physical timer comes first
  vcpu.put();
  for (auto reg : {arm::SysReg::CNTPCT_EL0, arm::SysReg::CNTVOFF_EL2}) set(reg, 0);
}

TEST_CASE("ACTLR_EL1 traps (HCR_EL2.TACR): the guest reads the host's value and cannot change it") {
  set(arm::SysReg::ACTLR_EL1, 0x1234);  // the host's, before the vCPU exists
  arm::VCpu vcpu{{.entry = 0x1000}};
  CHECK((vcpu.hcr() & arm::hcr::kTacr) != 0);
  vcpu.load();
  std::uint64_t before = 0, after = 0;
  scripted::set_script({
      mrs(arm::SysReg::ACTLR_EL1, 2),
      [&](arm::GuestRegisters& regs) {
        before = regs.x[2];
        return msr(arm::SysReg::ACTLR_EL1, 3, ~std::uint64_t{0})(regs);
      },
      mrs(arm::SysReg::ACTLR_EL1, 4),
      [&](arm::GuestRegisters& regs) {
        after = regs.x[4];
        return hvc(1, 0)(regs);
      },
  });
  run_until_hvc(vcpu, 1);  // both accesses answered inside run(): no exit before the HVC
  CHECK(before == 0x1234);
  CHECK(after == 0x1234);
  CHECK(hw(arm::SysReg::ACTLR_EL1) == 0x1234);
  vcpu.put();
}

namespace {
// A guest step that executes `dc <op>, x<rt>` (a set/way instruction), trapped by HCR_EL2.TSW.
scripted::Step dc(arm::SysRegEncoding encoding, unsigned rt, std::uint64_t value) {
  return msr(encoding, rt, value);
}
constexpr std::uint64_t kCachesOn = arm::sctlr::kM | arm::sctlr::kC;
}  // namespace

TEST_CASE("set/way maintenance traps (HCR_EL2.TSW) and, without guest_memory, reaches the hypervisor") {
  arm::VCpu vcpu{{.entry = 0x1000}};
  CHECK((vcpu.hcr() & arm::hcr::kTsw) != 0);
  CHECK((vcpu.hcr() & arm::hcr::kTvm) == 0);
  vcpu.load();
  scripted::set_script({dc(arm::SysReg::DC_CISW, 5, 0x42)});
  for (arm::Exit& exit : vcpu.run()) {
    auto* write = exit.get_if<arm::SysRegWrite>();
    REQUIRE(write != nullptr);
    CHECK(write->encoding == arm::SysReg::DC_CISW);
    CHECK(write->value == 0x42);
    break;
  }
  CHECK(vcpu.set_way_operations() == 0);
  CHECK((vcpu.hcr() & arm::hcr::kTvm) == 0);
  vcpu.put();
}

TEST_CASE(
    "the first set/way operation cleans the VM's memory once and traps SCTLR_EL1 until the caches are on") {
  const arm::GuestMemoryRange memory[] = {{.el2_address = 0x4000'0000, .size = 0x1000}};
  set(arm::SysReg::SCTLR_EL1, arm::kSctlrEl1Res1);
  arm::VCpu vcpu{{.entry = 0x1000, .guest_memory = memory}};
  vcpu.load();
  scripted::set_script({dc(arm::SysReg::DC_ISW, 1, 0x2), dc(arm::SysReg::DC_ISW, 1, 0x4), hvc(1, 0)});
  run_until_hvc(vcpu, 1);  // answered inside run(): no exit
  CHECK(vcpu.set_way_operations() == 2);
  CHECK(vcpu.guest_memory_flushes() == 1);  // the second found TVM set: nothing more to do
  CHECK((vcpu.hcr() & arm::hcr::kTvm) != 0);
  CHECK((hw(arm::SysReg::HCR_EL2) & arm::hcr::kTvm) != 0);  // on the CPU at once

  // While TVM traps: TTBR0_EL1 is written for the guest; SCTLR_EL1 turning the caches on
  // (M and C) cleans again and ends the watch.
  scripted::set_script({msr(arm::SysReg::TTBR0_EL1, 2, 0x8000), hvc(2, 0)});
  run_until_hvc(vcpu, 2);
  CHECK(hw(arm::SysReg::TTBR0_EL1) == 0x8000);
  CHECK(vcpu.guest_memory_flushes() == 1);
  scripted::set_script({msr(arm::SysReg::SCTLR_EL1, 3, arm::kSctlrEl1Res1 | kCachesOn), hvc(3, 0)});
  run_until_hvc(vcpu, 3);
  CHECK(hw(arm::SysReg::SCTLR_EL1) == (arm::kSctlrEl1Res1 | kCachesOn));
  CHECK(vcpu.guest_memory_flushes() == 2);
  CHECK((vcpu.hcr() & arm::hcr::kTvm) == 0);

  // Caches on: the next set/way operation cleans and watches again; turning the caches off
  // cleans once more and keeps watching.
  scripted::set_script(
      {dc(arm::SysReg::DC_CSW, 1, 0), msr(arm::SysReg::SCTLR_EL1, 3, arm::kSctlrEl1Res1), hvc(4, 0)});
  run_until_hvc(vcpu, 4);
  CHECK(vcpu.guest_memory_flushes() == 4);
  CHECK((vcpu.hcr() & arm::hcr::kTvm) != 0);
  vcpu.put();
  set(arm::SysReg::SCTLR_EL1, 0);
  set(arm::SysReg::TTBR0_EL1, 0);
}

TEST_CASE("a TVM-trapped write of a register the vCPU does not write ends the watch and re-executes") {
  const arm::GuestMemoryRange memory[] = {{.el2_address = 0x4000'0000, .size = 0x1000}};
  arm::VCpu vcpu{{.entry = 0x1000, .guest_memory = memory}};
  vcpu.load();
  const arm::SysRegEncoding tcr2_el1{3, 0, 2, 0, 3};  // FEAT_TCR2's TCR2_EL1, trapped by TVM
  std::uint64_t pc_at_write = 0, pc_after = 0;
  scripted::set_script({dc(arm::SysReg::DC_ISW, 1, 0),
                        [&](arm::GuestRegisters& regs) {
                          pc_at_write = regs.pc;
                          return msr(tcr2_el1, 2, 1)(regs);
                        },
                        [&](arm::GuestRegisters& regs) {
                          pc_after = regs.pc;
                          return hvc(5, 0)(regs);
                        }});
  run_until_hvc(vcpu, 5);
  CHECK(pc_after == pc_at_write);  // retried, now untrapped
  CHECK((vcpu.hcr() & arm::hcr::kTvm) == 0);
  vcpu.put();
}

TEST_CASE(
    "the FEAT_MTE2 set/way forms, IMPLEMENTATION DEFINED and LORegion writes are UNDEFINED inside run()") {
  const arm::GuestMemoryRange memory[] = {{.el2_address = 0x4000'0000, .size = 0x1000}};
  arm::HardwareFeatures cpu = arm::probe();
  cpu.lor = true;
  arm::VCpu vcpu{{.entry = 0x1000, .guest_memory = memory, .cpu = &cpu}};
  CHECK((vcpu.hcr() & arm::hcr::kTlor) != 0);
  vcpu.load();
  const arm::SysRegEncoding implementation_defined{3, 1, 15, 2, 0};
  for (const scripted::Step& step : {dc(arm::SysReg::DC_IGSW, 1, 0), dc(arm::SysReg::DC_CIGDSW, 1, 0),
                                     msr(implementation_defined, 1, 7), msr(arm::SysReg::LORC_EL1, 1, 1)}) {
    set(arm::SysReg::ESR_EL1, 0);
    scripted::set_script({step, hvc(6, 0)});
    run_until_hvc(vcpu, 6);                        // no exit: injected inside run()
    CHECK((hw(arm::SysReg::ESR_EL1) >> 26) == 0);  // ESR_EL1.EC 0: unknown reason
    CHECK(hw(arm::SysReg::ESR_EL1) != 0);          // an exception was injected
  }
  CHECK(vcpu.set_way_operations() == 0);
  // Reads reach the hypervisor; left alone, their exit rule's default is UNDEFINED too.
  for (const arm::SysRegEncoding encoding :
       {implementation_defined, arm::SysRegEncoding{arm::SysReg::LORID_EL1}}) {
    set(arm::SysReg::ESR_EL1, 0);
    scripted::set_script({mrs(encoding, 1), hvc(7, 0)});
    bool read_seen = false;
    for (arm::Exit& exit : vcpu.run()) {
      if (exit.is<arm::SysRegRead>()) {
        read_seen = true;
        continue;
      }
      CHECK(exit.is<arm::Hypercall>());
      break;
    }
    CHECK(read_seen);
    CHECK((hw(arm::SysReg::ESR_EL1) >> 26) == 0);
    CHECK(hw(arm::SysReg::ESR_EL1) != 0);
  }
  vcpu.put();
  set(arm::SysReg::ESR_EL1, 0);
}

namespace {
// A CPU with SVE (ID_AA64PFR0_EL1.SVE [35:32]) and SME (ID_AA64PFR1_EL1.SME [27:24]).
void cpu_with_sve_and_sme(bool present) {
  set(arm::SysReg::ID_AA64PFR0_EL1, present ? 1ull << 32 : 0);
  set(arm::SysReg::ID_AA64PFR1_EL1, present ? 1ull << 24 : 0);
}
constexpr std::uint64_t kZenSmen = arm::cpacr::kZen | arm::cpacr::kSmen;
}  // namespace

TEST_CASE(
    "SVE and SME hidden on a CPU with them: CPACR_EL1 traps, ZEN/SMEN read 0 and stay untrapped on the "
    "CPU") {
  cpu_with_sve_and_sme(true);
  arm::VCpu vcpu{{.entry = 0x1000}};
  vcpu.load();
  CHECK((hw(arm::SysReg::CPTR_EL2) & arm::cptr::kTcpac) != 0);
  CHECK(hw(arm::SysReg::CPACR_EL1) == kZenSmen);  // the guest's reset value 0, seen as 0
  std::uint64_t at_reset = 1, after_write = 0;
  scripted::set_script({
      mrs(arm::SysReg::CPACR_EL1, 2),
      [&](arm::GuestRegisters& regs) {
        at_reset = regs.x[2];
        return msr(arm::SysReg::CPACR_EL1, 3, arm::cpacr::kFpen)(regs);  // ZEN/SMEN 0b00: "trap"
      },
      mrs(arm::SysReg::CPACR_EL1, 4),
      [&](arm::GuestRegisters& regs) {
        after_write = regs.x[4];
        return hvc(1, 0)(regs);
      },
  });
  run_until_hvc(vcpu, 1);  // answered inside run()
  CHECK(at_reset == 0);
  CHECK(after_write == arm::cpacr::kFpen);
  CHECK(hw(arm::SysReg::CPACR_EL1) == (arm::cpacr::kFpen | kZenSmen));
  vcpu.put();
  CHECK(vcpu.el1().at<arm::SysReg::CPACR_EL1>() == (arm::cpacr::kFpen | kZenSmen));
  // A value the hypervisor stores in el1() gets the hidden controls back at load().
  vcpu.el1().at<arm::SysReg::CPACR_EL1>() = arm::cpacr::kFpen;
  vcpu.load();
  CHECK(hw(arm::SysReg::CPACR_EL1) == (arm::cpacr::kFpen | kZenSmen));
  vcpu.put();
  cpu_with_sve_and_sme(false);
  set(arm::SysReg::CPTR_EL2, 0);
  set(arm::SysReg::CPACR_EL1, 0);
}

TEST_CASE("a vCPU that shows SVE and SME, or a CPU without them, leaves CPACR_EL1 to the guest") {
  cpu_with_sve_and_sme(true);
  set(arm::SysReg::CPTR_EL2, arm::cptr::kTcpac);  // left by a vCPU that hid them
  arm::VCpu shown{{.entry = 0x1000, .hide_unswitched_features = false}};
  shown.load();
  CHECK((hw(arm::SysReg::CPTR_EL2) & arm::cptr::kTcpac) == 0);
  CHECK(hw(arm::SysReg::CPACR_EL1) == 0);
  CHECK((shown.hcr() & arm::hcr::kTid1) == 0);
  shown.put();
  cpu_with_sve_and_sme(false);
  arm::VCpu plain{{.entry = 0x1000}};
  CHECK((plain.hcr() & arm::hcr::kTid1) == 0);
  plain.load();
  CHECK(hw(arm::SysReg::CPACR_EL1) == 0);
  plain.put();
}

TEST_CASE("SVE and SME access traps of a vCPU hiding them are undefined instructions inside run()") {
  cpu_with_sve_and_sme(true);
  arm::VCpu vcpu{{.entry = 0x4000'1000}};
  vcpu.el1().at<arm::SysReg::VBAR_EL1>() = 0x4008'0000;
  std::uint64_t sve_vector = 0, sme_vector = 0;
  const auto trap = [](arm::ExceptionClass ec) {
    return [ec](arm::GuestRegisters&) {
      set(arm::SysReg::ESR_EL2, arm::Esr::make(ec, true, 0).value());
      return kSync;
    };
  };
  scripted::set_script({trap(arm::ExceptionClass::SveAccess),
                        [&](arm::GuestRegisters& regs) {
                          sve_vector = regs.pc;
                          regs.pc = 0x4000'2000;
                          return trap(arm::ExceptionClass::SmeAccess)(regs);
                        },
                        [&](arm::GuestRegisters& regs) {
                          sme_vector = regs.pc;
                          return hvc(1, 0)(regs);
                        }});
  vcpu.load();
  run_until_hvc(vcpu, 1);  // neither reached the hypervisor
  CHECK(sve_vector == 0x4008'0200);
  CHECK(sme_vector == 0x4008'0200);
  CHECK(hw(arm::SysReg::ELR_EL1) == 0x4000'2000);
  CHECK((hw(arm::SysReg::ESR_EL1) >> 26) == 0);  // EC 0x00: "Unknown reason"
  vcpu.put();
  cpu_with_sve_and_sme(false);
  set(arm::SysReg::CPTR_EL2, 0);
}

TEST_CASE(
    "where SME is hidden, ID group 1 traps (HCR_EL2.TID1): SMIDR_EL1 is undefined, REVIDR_EL1 the CPU's") {
  cpu_with_sve_and_sme(true);
  set(arm::SysReg::REVIDR_EL1, 0x77);
  arm::VCpu vcpu{{.entry = 0x4000'1000}};
  CHECK((vcpu.hcr() & arm::hcr::kTid1) != 0);
  vcpu.el1().at<arm::SysReg::VBAR_EL1>() = 0x4008'0000;
  std::uint64_t revidr = 0, smidr_vector = 0;
  scripted::set_script({mrs(arm::SysReg::REVIDR_EL1, 5),
                        [&](arm::GuestRegisters& regs) {
                          revidr = regs.x[5];
                          return mrs(arm::SysReg::SMIDR_EL1, 6)(regs);
                        },
                        [&](arm::GuestRegisters& regs) {
                          smidr_vector = regs.pc;
                          return hvc(1, 0)(regs);
                        }});
  vcpu.load();
  run_until_hvc(vcpu, 1);
  CHECK(revidr == 0x77);
  CHECK(smidr_vector == 0x4008'0200);
  CHECK((hw(arm::SysReg::ESR_EL1) >> 26) == 0);
  vcpu.put();
  cpu_with_sve_and_sme(false);
  set(arm::SysReg::REVIDR_EL1, 0);
  set(arm::SysReg::CPTR_EL2, 0);
}

TEST_CASE("OSDTRRX_EL1/OSDTRTX_EL1 reach the channel's registers without its flags; OSECCR_EL1 is storage") {
  arm::DebugState state;
  std::uint64_t value = 1;
  CHECK(arm::write_debug_channel_register(arm::SysReg::OSDTRRX_EL1, 0x1'2345'6789, state));
  CHECK(arm::write_debug_channel_register(arm::SysReg::OSDTRTX_EL1, 0xabcd, state));
  CHECK(arm::write_debug_channel_register(arm::SysReg::OSECCR_EL1, 0x5, state));
  CHECK_FALSE(state.channel.tx_full);  // the save/restore view sets no flag
  CHECK(arm::read_debug_channel_register(arm::SysReg::OSDTRRX_EL1, state, value));
  CHECK(value == 0x2345'6789);  // 32 bits
  CHECK(arm::read_debug_channel_register(arm::SysReg::DBGDTR_EL0, state, value));
  CHECK(value == ((0xabcdull << 32) | 0x2345'6789));
  CHECK(arm::read_debug_channel_register(arm::SysReg::OSECCR_EL1, state, value));
  CHECK(value == 0x5);
  CHECK(arm::debug_register_slot(arm::SysReg::DBGWCR1_EL1, state, {2, 2}) == &state.watchpoints[1].control);
  CHECK(arm::debug_register_slot(arm::SysReg::DBGBVR1_EL1, state, {2, 2}) == &state.breakpoints[1].value);
  CHECK(arm::debug_register_slot(arm::SysReg::DBGBVR2_EL1, state, {2, 2}) == nullptr);  // beyond the count
  CHECK(arm::debug_register_slot(arm::SysReg::MDSCR_EL1, state, {2, 2}) == nullptr);
}

TEST_CASE(
    "the claim tags and the DCC are per vCPU, answered inside run() without switching the breakpoints in") {
  set(arm::SysReg::ID_AA64DFR0_EL1, dfr0(2, 2));
  arm::VCpu a{{.entry = 0x1000}};
  arm::VCpu b{{.entry = 0x1000}};
  std::uint64_t a_tags = 0, a_status = 0, a_set = 0;
  a.load();
  scripted::set_script({
      msr(arm::SysReg::DBGCLAIMSET_EL1, 1, 0x1a5),  // bits beyond CLAIM[7:0] ignored
      msr(arm::SysReg::DBGCLAIMCLR_EL1, 1, 0x01),
      msr(arm::SysReg::DBGDTRTX_EL0, 2, 0x1234),
      msr(arm::SysReg::DBGDTRTX_EL0, 2, 0x5678),  // an overrun: the first value stays
      mrs(arm::SysReg::DBGCLAIMCLR_EL1, 3),
      [&](arm::GuestRegisters& regs) {
        a_tags = regs.x[3];
        return mrs(arm::SysReg::MDCCSR_EL0, 4)(regs);
      },
      [&](arm::GuestRegisters& regs) {
        a_status = regs.x[4];
        return mrs(arm::SysReg::DBGCLAIMSET_EL1, 5)(regs);
      },
      [&](arm::GuestRegisters& regs) {
        a_set = regs.x[5];
        return hvc(1, 0)(regs);
      },
  });
  run_until_hvc(a, 1);
  CHECK_FALSE(a.debug_registers_on_cpu());  // TDA still traps
  CHECK(a_tags == 0xa4);
  CHECK(a_status == arm::mdccsr::kTxFull);
  CHECK(a_set == arm::kClaimTags);
  CHECK(a.debug_registers().channel.dtrtx == 0x1234);
  a.put();

  std::uint64_t b_tags = 1, b_status = 1, b_dtr = 1;
  b.load();
  scripted::set_script({
      mrs(arm::SysReg::DBGCLAIMCLR_EL1, 3),
      [&](arm::GuestRegisters& regs) {
        b_tags = regs.x[3];
        return mrs(arm::SysReg::MDCCSR_EL0, 4)(regs);
      },
      [&](arm::GuestRegisters& regs) {
        b_status = regs.x[4];
        return mrs(arm::SysReg::DBGDTR_EL0, 5)(regs);
      },
      [&](arm::GuestRegisters& regs) {
        b_dtr = regs.x[5];
        return hvc(1, 0)(regs);
      },
  });
  run_until_hvc(b, 1);
  CHECK(b_tags == 0);  // reset values: nothing of A's
  CHECK(b_status == 0);
  CHECK(b_dtr == 0);
  b.put();

  a.load();
  std::uint64_t again = 0;
  scripted::set_script({mrs(arm::SysReg::DBGCLAIMCLR_EL1, 3), [&](arm::GuestRegisters& regs) {
                          again = regs.x[3];
                          return hvc(1, 0)(regs);
                        }});
  run_until_hvc(a, 1);
  CHECK(again == 0xa4);
  a.put();
  set(arm::SysReg::ID_AA64DFR0_EL1, 0);
  set(arm::SysReg::MDCR_EL2, 0);
}

TEST_CASE("DBGDTR_EL0 writes DTRTX from [31:0] and DTRRX from [63:32]; MDCCSR_EL0 cannot be written") {
  arm::DebugState state;
  CHECK(arm::write_debug_channel_register(arm::SysReg::DBGDTR_EL0, 0x1111'2222'3333'4444, state));
  CHECK(state.channel.dtrtx == 0x3333'4444);
  CHECK(state.channel.dtrrx == 0x1111'2222);
  std::uint64_t value = 0;
  CHECK(arm::read_debug_channel_register(arm::SysReg::DBGDTR_EL0, state, value));
  CHECK(value == 0x3333'4444'1111'2222);
  CHECK(arm::read_debug_channel_register(arm::SysReg::MDCCSR_EL0, state, value));
  CHECK(value == arm::mdccsr::kTxFull);  // RXfull stays 0: no debugger writes DTRRX
  CHECK_FALSE(arm::write_debug_channel_register(arm::SysReg::MDCCSR_EL0, 0, state));
  CHECK_FALSE(arm::read_debug_channel_register(arm::SysReg::MDSCR_EL1, state, value));
}

// The exit path sends a trapped access straight to the hypervisor when its group is not in
// answered_register_groups(); that is right only if every register the vCPU answers itself
// is inside. Walks the whole encoding space, for every combination of what is emulated.
TEST_CASE("answered_register_groups() covers every register the vCPU answers itself") {
  for (unsigned choice = 0; choice < 32; ++choice) {
    const arm::AnsweredRegisterChoices choices{.physical_timer = (choice & 1) != 0,
                                               .identification = (choice & 2) != 0,
                                               .absent_pmu = (choice & 4) != 0,
                                               .lor = (choice & 8) != 0,
                                               .sme_untrapped = (choice & 16) != 0};
    const arm::AnsweredRegisterGroups groups = arm::answered_register_groups(choices);
    for (unsigned value = 0; value < 0x10000; ++value) {
      const arm::SysRegEncoding encoding{value >> 14, value >> 11, value >> 7, value >> 3, value};
      const bool physical_timer = encoding == arm::SysReg::CNTP_CTL_EL0 ||
                                  encoding == arm::SysReg::CNTP_CVAL_EL0 ||
                                  encoding == arm::SysReg::CNTP_TVAL_EL0;
      const bool identification =
          encoding.op0() == 3 && encoding.op1() <= 1 && encoding.crn() == 0 && encoding.crm() <= 7;
      const bool el1_control = encoding == arm::SysReg::ACTLR_EL1 || encoding == arm::SysReg::CPACR_EL1;
      const bool both = arm::is_debug_register(encoding) || el1_control ||
                        (choices.physical_timer && physical_timer) ||
                        (choices.absent_pmu && arm::is_pmu_register(encoding)) ||
                        (choices.sme_untrapped && arm::is_sme_untrapped_register(encoding));
      const bool read = both || (choices.identification && identification);
      const bool write = both || arm::is_set_way_maintenance(encoding) ||
                         arm::is_implementation_defined_register(encoding) ||
                         (choices.lor && arm::is_lor_register(encoding)) ||
                         arm::may_be_trapped_by_tvm(encoding);
      if (read)
        CHECK_MESSAGE(groups.reads.contains(encoding), "read of encoding ", value, ", choices ", choice);
      if (write)
        CHECK_MESSAGE(groups.writes.contains(encoding), "write of encoding ", value, ", choices ", choice);
    }
  }
  // And the point of it: a register no rule names is outside, e.g. the sysreg_read benchmark's
  // CNTP_CTL_EL0 when the physical timer is not emulated, beside the PMU's event counters.
  const arm::AnsweredRegisterGroups plain = arm::answered_register_groups({.absent_pmu = true});
  CHECK_FALSE(plain.reads.contains(arm::SysReg::CNTP_CTL_EL0));
  CHECK_FALSE(plain.reads.contains(arm::SysReg::ICC_SGI1R_EL1));
  CHECK_FALSE(plain.writes.contains(arm::SysReg::ICC_SGI1R_EL1));
}

TEST_CASE(
    "SME hidden on a CPU with FEAT_FGT: TPIDR2_EL0 and SMPRI_EL1 trapped and UNDEFINED, the host's "
    "other fine-grained traps kept") {
  set(arm::SysReg::ID_AA64PFR1_EL1, 1ull << 24);   // SME
  set(arm::SysReg::ID_AA64MMFR0_EL1, 1ull << 56);  // FGT
  constexpr std::uint64_t kHostTraps = arm::hfgxtr::kNTpidr2El0 | arm::hfgxtr::kNSmpriEl1 | 0x3;
  set(arm::SysReg::HFGRTR_EL2, kHostTraps);
  set(arm::SysReg::HFGWTR_EL2, kHostTraps);
  arm::VCpu vcpu{{.entry = 0x1000}};
  vcpu.el1().at<arm::SysReg::VBAR_EL1>() = 0x8000;
  vcpu.load();
  CHECK(hw(arm::SysReg::HFGRTR_EL2) == 0x3);
  CHECK(hw(arm::SysReg::HFGWTR_EL2) == 0x3);
  scripted::set_script({mrs(arm::SysReg::TPIDR2_EL0, 2), hvc(1, 0)});
  run_until_hvc(vcpu, 1);
  // The read became an undefined instruction exception at the guest's EL1: its vector
  // (VBAR_EL1 + 0x200, current EL with SP_ELx, synchronous), ESR_EL1.EC 0 (Unknown reason).
  CHECK(hw(arm::SysReg::ELR_EL1) == 0x1000);
  CHECK((hw(arm::SysReg::ESR_EL1) >> 26) == 0);
  vcpu.put();
  CHECK(hw(arm::SysReg::HFGRTR_EL2) == kHostTraps);
  CHECK(hw(arm::SysReg::HFGWTR_EL2) == kHostTraps);
  // Without FGT the same CPU switches them instead (qemu_sme_registers_cpu_max on QEMU).
  set(arm::SysReg::ID_AA64MMFR0_EL1, 0);
  arm::VCpu switched{{.entry = 0x1000}};
  set(arm::SysReg::TPIDR2_EL0, 0x4444);
  switched.load();
  CHECK(hw(arm::SysReg::TPIDR2_EL0) == 0);
  CHECK(hw(arm::SysReg::HFGRTR_EL2) == kHostTraps);  // untouched
  switched.put();
  set(arm::SysReg::ID_AA64PFR1_EL1, 0);
  set(arm::SysReg::HFGRTR_EL2, 0);
  set(arm::SysReg::HFGWTR_EL2, 0);
  set(arm::SysReg::TPIDR2_EL0, 0);
  set(arm::SysReg::ESR_EL1, 0);
  set(arm::SysReg::ELR_EL1, 0);
  set(arm::SysReg::MDCR_EL2, 0);
}
