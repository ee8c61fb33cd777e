// Scenario: guest data cache maintenance by set/way (HCR_EL2.TSW, always set by the vCPU).
//
// 1. A vCPU without VCpuConfig::guest_memory: each of the guest's DC ISW, DC CSW and DC CISW
//    reaches the hypervisor as a SysRegWrite with its encoding and operand (level, set/way
//    decoded by set_way_maintenance()), and a hypervisor word written just before entering
//    the guest is intact after them; the FEAT_MTE2 form DC IGSW is UNDEFINED for the guest.
// 2. A vCPU with guest_memory (a host buffer): the vCPU answers the set/way operations itself,
//    with no exit. The first (DC CSW) cleans and invalidates the buffer by VA once and sets
//    HCR_EL2.TVM; the guest's pattern written before it is in the buffer; a TTBR0_EL1 write
//    the guest makes then (trapped by TVM) takes effect; a second set/way operation and an
//    SCTLR_EL1 write that leaves the caches off clean nothing more and keep TVM.
//
// What QEMU can show: the traps, the decode, which answers run and when, the registers the
// vCPU writes for the guest. What it cannot: QEMU (TCG) models no caches, so a discarded
// dirty line cannot happen here and the words checked would be intact without the trap too;
// those checks only prove the emulation does not corrupt memory. On hardware, the same
// scenario would also catch an untrapped DC ISW discarding the hypervisor's line.
#include "set_way.h"

#include "scenario.h"

import arm.vcpu;

extern "C" char set_way_guest_exits[], set_way_guest_flush[];
SCENARIO_GUEST_STACK(guest_stack);

namespace {
volatile uint64_t hypervisor_word = 0;
alignas(64) uint64_t guest_buffer[64] = {};
constexpr uint64_t kHypervisorValue = 0x4859505256495352;  // "RSIVRPYH"

int run_exits(arm::PerCpu&) {
  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(set_way_guest_exits),
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack)}};
  SCENARIO_CHECK((vcpu.hcr() & arm::hcr::kTsw) != 0);
  vcpu.load();
  constexpr arm::SysReg kExpected[] = {arm::SysReg::DC_ISW, arm::SysReg::DC_CSW, arm::SysReg::DC_CISW};
  constexpr arm::SetWayOperation kOperations[] = {
      arm::SetWayOperation::Invalidate, arm::SetWayOperation::Clean, arm::SetWayOperation::CleanInvalidate};
  unsigned seen = 0;
  hypervisor_word = kHypervisorValue;
  for (arm::Exit& exit : vcpu.run()) {
    if (auto* write = exit.get_if<arm::SysRegWrite>()) {
      SCENARIO_CHECK(seen < 3);
      SCENARIO_CHECK(arm::is_set_way_maintenance(write->encoding));
      SCENARIO_CHECK(write->encoding == kExpected[seen]);
      SCENARIO_CHECK(write->value == SET_WAY_OPERAND);
      const arm::SetWayMaintenance op = arm::set_way_maintenance(*write);
      SCENARIO_CHECK(op.operation == kOperations[seen] && !op.tags);
      SCENARIO_CHECK(op.level == SET_WAY_LEVEL && op.set_way == SET_WAY_SETWAY);
      printf("set/way exit %u: %s level %u set/way %#x\n", seen, arm::exit_name(exit.index()), op.level,
             op.set_way);
      ++seen;
      continue;  // the default completes it: nothing done, the guest resumes past it
    }
    auto* call = exit.get_if<arm::Hypercall>();
    SCENARIO_CHECK(call != nullptr);
    if (call->immediate == SET_WAY_EXITS_DONE) {
      SCENARIO_CHECK(seen == 3);
      SCENARIO_CHECK(call->x[0] == 1);  // DC IGSW was UNDEFINED
      SCENARIO_CHECK(hypervisor_word == kHypervisorValue);
      call->complete(0);
      continue;
    }
    SCENARIO_CHECK(call->immediate == GUEST_REPORT && call->x[0] == GUEST_PASS);
    vcpu.put();
    return 0;
  }
  return 1;
}

int run_flush(arm::PerCpu&) {
  const arm::GuestMemoryRange memory[] = {
      {.el2_address = reinterpret_cast<uint64_t>(guest_buffer), .size = sizeof guest_buffer}};
  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(set_way_guest_flush),
                  .argument = reinterpret_cast<uint64_t>(guest_buffer),
                  .stack = reinterpret_cast<uint64_t>(guest_stack + sizeof guest_stack),
                  .guest_memory = memory}};
  // What the hypervisor's own writes left in its caches must be in memory before a guest
  // with caches off writes there, or a write-back would overwrite the guest's data later.
  arm::clean_invalidate_to_poc(reinterpret_cast<uint64_t>(guest_buffer), sizeof guest_buffer);
  vcpu.load();
  for (arm::Exit& exit : vcpu.run()) {
    auto* call = exit.get_if<arm::Hypercall>();
    SCENARIO_CHECK(call != nullptr);  // no set/way operation or TVM write reaches the loop
    const bool watching = (vcpu.hcr() & arm::hcr::kTvm) != 0;
    switch (call->immediate) {
      case SET_WAY_CLEANED:
        SCENARIO_CHECK(vcpu.set_way_operations() == 1 && vcpu.guest_memory_flushes() == 1 && watching);
        SCENARIO_CHECK(guest_buffer[0] == SET_WAY_PATTERN);
        break;
      case SET_WAY_TTBR_WRITTEN:
        SCENARIO_CHECK(call->x[0] == SET_WAY_TTBR0 && watching);
        SCENARIO_CHECK(vcpu.guest_memory_flushes() == 1);
        break;
      case SET_WAY_AGAIN:
        SCENARIO_CHECK(vcpu.set_way_operations() == 2 && vcpu.guest_memory_flushes() == 1 && watching);
        break;
      default:
        SCENARIO_CHECK(call->immediate == GUEST_REPORT && call->x[0] == GUEST_PASS);
        printf("set/way operations %llu, guest memory flushes %llu\n",
               (unsigned long long)vcpu.set_way_operations(),
               (unsigned long long)vcpu.guest_memory_flushes());
        vcpu.put();
        return 0;
    }
    call->complete(0);
  }
  return 1;
}
}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  if (run_exits(cpu) != 0) return 1;
  return run_flush(cpu);
}
