// Scenario: no host register value ever appears in a guest. Every entry into the guest goes
// through call_with_host_markers (tests/support), which fills the host's general registers
// with markers 0x48484848_000000nn before calling the code that runs the vCPU. Before the
// vCPU is built, and between its exits (put, markers, load), the host also writes markers
// into the EL1 system registers, the first breakpoint and watchpoint and the FP/SIMD
// registers a vCPU owns. The guest
// (isolation_host_registers_guest.S) checks at its first entry that it sees only zeros and
// the vCPU's reset values, and after each hypercall that only x0-x3 changed, to exactly
// the host's answer. The host checks that it saw the guest's values in each call.
// (isolation.cpp covers two vCPUs sharing a CPU; this one covers the host's own values.)
#include "host_markers.h"
#include "scenario.h"

import arm.vcpu;

extern "C" char isolation_host_registers_guest[];
extern "C" char isolation_host_registers_vectors[];
extern "C" char __image_start[];
extern "C" char __image_end[];
extern "C" void arm_fpsimd_restore(const void* state);

namespace {
constexpr uint16_t kHypercall = 1;
constexpr unsigned kRounds = 3;

bool is_host_address(uint64_t value) {
  return value >= reinterpret_cast<uint64_t>(__image_start) &&
         value < reinterpret_cast<uint64_t>(__image_end);
}

// The guest's register values in round r, and the host's answers (see the guest).
constexpr uint64_t guest_value(unsigned round, unsigned n) { return (round << 8) | n; }
constexpr uint64_t host_answer(unsigned round, unsigned n) { return (round << 8) | 0x80 | n; }

// Markers in the EL1 registers a vCPU owns (kEl1ContextRegisters), as the host could leave
// them. SCTLR_EL1 gets only bits that are harmless while EL1 does not run (EL0 access to
// DAIF, DC ZVA, CTR_EL0 and cache maintenance: UMA, DZE, UCT, UCI); VBAR_EL1 bits [10:0]
// are RES0.
void plant_el1_markers() {
  using arm::SysReg;
  using arm::write_sysreg;
  write_sysreg<SysReg::SCTLR_EL1>(arm::kSctlrEl1Res1 | (1u << 9) | (1u << 14) | (1u << 15) | (1u << 26));
  write_sysreg<SysReg::VBAR_EL1>(host_marker(0x800));
  write_sysreg<SysReg::CPACR_EL1>(3u << 20);  // FPEN: FP/SIMD untrapped
  write_sysreg<SysReg::TTBR0_EL1>(host_marker(0x1000));
  write_sysreg<SysReg::TTBR1_EL1>(host_marker(0x2000));
  write_sysreg<SysReg::TCR_EL1>(host_marker(0x19));
  write_sysreg<SysReg::MAIR_EL1>(host_marker(0xff));
  write_sysreg<SysReg::AMAIR_EL1>(host_marker(0x13));
  write_sysreg<SysReg::CONTEXTIDR_EL1>(host_marker(0x14));
  write_sysreg<SysReg::TPIDR_EL1>(host_marker(0x15));
  write_sysreg<SysReg::TPIDR_EL0>(host_marker(0x16));
  write_sysreg<SysReg::TPIDRRO_EL0>(host_marker(0x17));
  write_sysreg<SysReg::ESR_EL1>(host_marker(0x18));
  write_sysreg<SysReg::FAR_EL1>(host_marker(0x19));
  write_sysreg<SysReg::PAR_EL1>(host_marker(0x1a00));
  write_sysreg<SysReg::ELR_EL1>(host_marker(0x1b));
  write_sysreg<SysReg::SPSR_EL1>(host_marker(0x3c5));
  write_sysreg<SysReg::AFSR0_EL1>(host_marker(0x1d));
  write_sysreg<SysReg::AFSR1_EL1>(host_marker(0x1e));
  write_sysreg<SysReg::CNTKCTL_EL1>(host_marker(0x3));  // EL0 reads the counters
  write_sysreg<SysReg::CNTV_CTL_EL0>(0b11);             // enabled, interrupt masked
  write_sysreg<SysReg::CNTV_CVAL_EL0>(host_marker(0x20));
  write_sysreg<SysReg::CSSELR_EL1>(0b10);  // level 2
  write_sysreg<SysReg::SP_EL0>(host_marker(0x21));
  write_sysreg<SysReg::SP_EL1>(host_marker(0x22));
  arm::instruction_barrier();
}

// Markers in breakpoint 0 (DBGBVR0_EL1, DBGBCR0_EL1) and watchpoint 0 (DBGWVR0_EL1,
// DBGWCR0_EL1), which every CPU has. The control registers keep E (bit 0) clear, so nothing
// is enabled; the addresses keep their RES0 low bits clear (Arm ARM D19.3).
void plant_debug_markers() {
  using arm::SysReg;
  using arm::write_sysreg;
  write_sysreg<SysReg::DBGBVR0_EL1>(host_marker(0x74));
  write_sysreg<SysReg::DBGBCR0_EL1>(host_marker(0x1e6));  // PMC EL1 and EL0, BAS 0b1111
  write_sysreg<SysReg::DBGWVR0_EL1>(host_marker(0x78));
  write_sysreg<SysReg::DBGWCR0_EL1>(host_marker(0x1fe));  // PAC EL1 and EL0, LSC load and store
  arm::instruction_barrier();
}

// Markers in V0-V31, FPSR (its cumulative flags) and FPCR (DN, FZ, RMode).
void plant_fpsimd_markers() {
  static arm::FpSimdState markers;
  for (unsigned n = 0; n < 32; ++n) markers.v[n][0] = markers.v[n][1] = host_marker(0x40 + n);
  markers.fpsr = 0x9f;
  markers.fpcr = (1u << 25) | (1u << 24) | (3u << 22);
  arm_fpsimd_restore(&markers);
}

// The vCPU's exits, advanced one at a time from inside call_with_host_markers.
struct Exits {
  arm::EventStream<arm::Exit> run;
  arm::EventStream<arm::Exit>::Iterator at{{}};
  bool started = false;
};
void run_to_next_exit(void* context) {
  auto& exits = *static_cast<Exits*>(context);
  if (!exits.started) {
    exits.at = exits.run.begin();
    exits.started = true;
  } else {
    ++exits.at;
  }
}

const char* kind_of(uint64_t value) {
  if (is_host_marker(value)) return " (a host marker)";
  if (is_host_address(value)) return " (a host address)";
  return "";
}
}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);
  plant_el1_markers();
  plant_debug_markers();
  plant_fpsimd_markers();

  // The host passes nothing: no argument, no stack. Only VBAR_EL1 is configured.
  arm::VCpu vcpu{{.entry = reinterpret_cast<uint64_t>(isolation_host_registers_guest)}};
  vcpu.el1().at<arm::SysReg::VBAR_EL1>() = reinterpret_cast<uint64_t>(isolation_host_registers_vectors);
  vcpu.load();
  Exits exits{vcpu.run()};
  unsigned rounds = 0;
  arm::Hypercall* call = nullptr;
  for (;;) {
    SCENARIO_CHECK(call_with_host_markers(run_to_next_exit, &exits) == 0);  // and the host got its own back
    call = exits.at->get_if<arm::Hypercall>();
    if (call == nullptr) {
      printf("unexpected %s exit at 0x%llx\n", arm::exit_name(*exits.at),
             (unsigned long long)vcpu.registers().pc);
      return 1;
    }
    if (call->immediate == GUEST_REPORT) break;
    // The host sees the guest's values, and answers with its own in x0-x3.
    ++rounds;
    SCENARIO_CHECK(call->immediate == kHypercall && rounds <= kRounds && call->x[0] == rounds);
    for (unsigned n = 1; n < arm::kCallArguments; ++n) SCENARIO_CHECK(call->x[n] == guest_value(rounds, n));
    call->complete(host_answer(rounds, 0), host_answer(rounds, 1), host_answer(rounds, 2),
                   host_answer(rounds, 3));
    // The host's own values go into the registers the vCPU switches in load().
    vcpu.put();
    plant_el1_markers();
    plant_debug_markers();
    plant_fpsimd_markers();
    vcpu.load();
  }
  if (call->x[0] != GUEST_PASS) {
    printf("guest reported %llu: register %llu = 0x%llx%s\n", (unsigned long long)call->x[0],
           (unsigned long long)call->x[2], (unsigned long long)call->x[1], kind_of(call->x[1]));
    return 1;
  }
  SCENARIO_CHECK(rounds == kRounds);
  printf(
      "isolation_host_registers: the guest saw none of the host's values at its first entry or after %u "
      "hypercalls (general, FP/SIMD, EL1 and debug registers)\n",
      rounds);
  return 0;
}
