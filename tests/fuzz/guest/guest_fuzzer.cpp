// Guest fuzzer: an EL2 image that runs random guest programs (program.h) under arm.vcpu
// and checks, after every exit, that the host is intact and the exit was typed.
//
//   tools/fuzz-guests [--programs N] [--seed S] [--max-exits E] [--deadline-us U] [--cpu MODEL]
//
// Program n uses seed S + n; a failure prints the seed that reproduces it alone
// (`--seed <that seed> --programs 1`). Each program runs in a fresh vCPU with stage 2 on,
// its own 64 KiB of RAM and nothing else mapped, until it ends (`hvc #kProgramDone`, a
// PSCI power-off), reaches the exit limit, or the hypervisor's timer stops it. The host
// answers each exit at random (answer, refuse, inject, resume) as a hypervisor might,
// through run()'s generator or next_exit(); the GIC is an arm::Vgic, as in the example
// hypervisor: the guest's GICD/GICR accesses and SGI register writes are its, it raises
// interrupts now and then, and the list registers are folded and filled before every
// entry. --gic-percent P aims P% of the programs' addresses at the vGIC's registers
// (0, the default, keeps every seed's program what it was).
//
// After each exit: the EL2 configuration (vectors, HCR_EL2, MDCR, CPTR, VTCR, VTTBR,
// SCTLR_EL2, DAIF), the host's callee-saved registers and stack pointer across the guest
// run (call_with_host_markers, tests/support), canaries in this frame and at the bottom of the EL2 stack.
// After each program: the hypervisor's code and read-only data, and a secret page the
// guest targets, are unchanged.
#include <arm/asm/context.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_markers.h"
#include "program.h"
#include "vgic_list_registers.h"

extern "C" {
#include <semihost.h>  // picolibc declares these without C linkage
}

import arm.vcpu;

extern "C" char guest_fuzz_vectors[];
extern "C" char guest_fuzz_vectors_end[];
extern "C" char __image_start[];
extern "C" char __image_end[];
extern "C" char __init_array_end[];  // end of .text, .guest_text and .rodata
extern "C" char __stack_top[];

namespace {

using guest_fuzz::Rng;
using Exits = arm::EventStream<arm::Exit>;

// QEMU virt's GICv3 (hw/arm/virt.c).
constexpr uintptr_t kGicDistributor = 0x0800'0000;
constexpr uintptr_t kGicRedistributor = 0x080a'0000;
constexpr uint32_t kMaintenanceIntid = 25;  // PPI 9, ICH_HCR_EL2's maintenance interrupt

// The guest's window of IPAs (64 KiB of RAM) and what lies where in it.
constexpr uint64_t kGuestBase = 0x8000'0000;
constexpr uint64_t kGuestRamSize = 0x1'0000;
constexpr uint64_t kVectorsOffset = 0x0000;
constexpr uint64_t kCodeOffset = 0x1000, kCodeSize = 0x7000;
constexpr uint64_t kDataOffset = 0x8000, kDataSize = 0x3000;
constexpr uint64_t kReadOnlyOffset = 0xb000;
constexpr uint64_t kNoExecuteOffset = 0xc000;
constexpr uint64_t kStackOffset = 0xd000;
constexpr uint64_t kPage = arm::kPageSize;

alignas(4096) unsigned char guest_ram[kGuestRamSize];
alignas(4096) unsigned char stage2_pages[8 * 4096];
// Hypervisor data a guest must never read or change.
alignas(4096) uint64_t secret[512];
constexpr uint64_t secret_word(unsigned n) { return 0x5ec2'e700'0000'0000ull | n; }  // n < 512
// CPU 0's EL2 stack ends at its bottom: a canary there catches an overflow.
constexpr unsigned kStackCanaryWords = 8;
constexpr uint64_t kCanary = 0xca4a'2bca'4a2b'ca4aull;

struct Options {
  uint64_t programs = 500;
  uint64_t seed = 1;
  uint64_t max_exits = 256;
  uint64_t deadline_us = 5000;
  uint64_t gic_percent = 0;
};

// The semihosting command line: `guest_fuzzer --programs N --seed S ...`.
bool parse_options(Options& options) {
  static char line[256];
  if (sys_semihost_get_cmdline(line, sizeof line) != 0) return true;  // no arguments: defaults
  char* save = nullptr;
  strtok_r(line, " ", &save);  // program name
  while (char* name = strtok_r(nullptr, " ", &save)) {
    char* text = strtok_r(nullptr, " ", &save);
    char* end = nullptr;
    const uint64_t value = text != nullptr ? strtoull(text, &end, 0) : 0;
    if (text == nullptr || *end != '\0') {
      printf("guest fuzzer: option %s needs a number\n", name);
      return false;
    }
    if (strcmp(name, "--programs") == 0) {
      options.programs = value;
    } else if (strcmp(name, "--seed") == 0) {
      options.seed = value;
    } else if (strcmp(name, "--max-exits") == 0) {
      options.max_exits = value;
    } else if (strcmp(name, "--deadline-us") == 0) {
      options.deadline_us = value;
    } else if (strcmp(name, "--gic-percent") == 0 && value <= 100) {
      options.gic_percent = value;
    } else {
      printf("guest fuzzer: unknown option %s\n", name);
      return false;
    }
  }
  return true;
}

// How a program ended.
enum class Ending { Done, ExitLimit, Timer, PowerOff, Count };
constexpr const char* kEndingNames[] = {"ran to the end", "hit the exit limit",
                                        "stopped by the hypervisor timer", "powered off (PSCI)"};

struct Statistics {
  uint64_t programs = 0;
  uint64_t instructions = 0;
  uint64_t exits = 0;
  uint64_t by_type[arm::Exit::kAlternatives] = {};
  uint64_t gic_accesses = 0;            // GICD/GICR MMIO and SGI register writes, by arm.vgic
  uint64_t maintenance_interrupts = 0;  // the vGIC's refills
  uint64_t endings[static_cast<unsigned>(Ending::Count)] = {};
};

// The VM's SMCCC policies; each program gets one at random. PSCI emulated for a VM with
// two vCPUs; PSCI left to the firmware through an allow-list of harmless queries; or no
// policy, every call reaching the hypervisor.
arm::psci::AffinityEntry psci_vcpus[] = {{.mpidr = 0, .state = arm::psci::AffinityState::On},
                                         {.mpidr = 1, .state = arm::psci::AffinityState::Off}};
constexpr arm::psci::AddressRange kGuestMemory[] = {{kGuestBase, kGuestRamSize}};
constexpr arm::smccc::FunctionIdRange kHarmlessFirmwareCalls[] = {
    {arm::psci::kPsciVersion, arm::psci::kPsciVersion},
    {arm::psci::kMigrateInfoType, arm::psci::kMigrateInfoType},
    {arm::psci::kPsciFeatures, arm::psci::kPsciFeatures},
};

struct Policies {
  arm::smccc::GuestCallPolicy emulated;
  arm::smccc::GuestCallPolicy firmware;
  Policies() {
    emulated.psci.vcpus = psci_vcpus;
    emulated.psci.memory = kGuestMemory;
    emulated.psci.address_bits = 39;
    firmware.psci.emulate = false;
    firmware.firmware.allowed = kHarmlessFirmwareCalls;
  }
  const arm::smccc::GuestCallPolicy* pick(Rng& rng) const {
    switch (rng.below(3)) {
      case 0:
        return &emulated;
      case 1:
        return &firmware;
      default:
        return nullptr;
    }
  }
};

uint64_t read_daif() {
  uint64_t value;
  asm volatile("mrs %0, daif" : "=r"(value));
  return value;
}

// FNV-1a over the hypervisor's code and read-only data.
uint64_t image_checksum() {
  uint64_t hash = 0xcbf2'9ce4'8422'2325ull;
  for (auto* word = reinterpret_cast<const uint64_t*>(__image_start);
       word < reinterpret_cast<const uint64_t*>(__init_array_end); ++word)
    hash = (hash ^ *word) * 0x100'0000'01b3ull;
  return hash;
}

uint64_t* stack_bottom() {
  return reinterpret_cast<uint64_t*>(__stack_top - (uint64_t{1} << ARM_EL2_STACK_SHIFT) * ARM_EL2_MAX_CPUS);
}

// What must not change while guests run.
struct HostBaseline {
  arm::El2Config el2;
  uint64_t sctlr_el2 = 0;
  uint64_t daif = 0;
  uint64_t vttbr = 0;
  uint64_t image = 0;
};

// One program's run: the vCPU, its exit loop, and the position in it. Half the programs
// use run()'s generator, half next_exit(), the form a hypervisor's own coroutine awaits.
struct ProgramRun {
  arm::VCpu* vcpu = nullptr;
  bool use_next_exit = false;
  Exits exits;
  alignas(Exits::Iterator) unsigned char position[sizeof(Exits::Iterator)];
  bool started = false;
  arm::Exit* current = nullptr;  // null once the loop ended

  Exits::Iterator& iterator() { return *reinterpret_cast<Exits::Iterator*>(position); }
};

// Runs the guest to its next exit: the first call starts the loop, later ones resume it
// (which applies the answer to the previous exit).
extern "C" void guest_fuzz_step(void* context) {
  auto& run = *static_cast<ProgramRun*>(context);
  if (run.use_next_exit) {
    run.current = &run.vcpu->next_exit().await_resume();
    return;
  }
  if (!run.started) {
    new (run.position) Exits::Iterator(run.exits.begin());
    run.started = true;
  } else {
    ++run.iterator();
  }
  run.current = run.iterator() == run.exits.end() ? nullptr : &*run.iterator();
}

// Where things are for the program generator: the guest's window and the hypervisor's
// own addresses, which the guest may use as IPAs (none is mapped for it).
guest_fuzz::Layout guest_layout(uint32_t gic_percent) {
  return {.code = kGuestBase + kCodeOffset,
          .data = kGuestBase + kDataOffset,
          .data_size = kDataSize,
          .read_only = kGuestBase + kReadOnlyOffset,
          .read_only_size = kPage,
          .no_execute = kGuestBase + kNoExecuteOffset,
          .unmapped = kGuestBase + kGuestRamSize,
          .hypervisor = reinterpret_cast<uint64_t>(__image_start),
          .hypervisor_size = static_cast<uint64_t>(__image_end - __image_start),
          .secret = reinterpret_cast<uint64_t>(secret),
          .stage2_tables = reinterpret_cast<uint64_t>(stage2_pages),
          .gic_percent = gic_percent};
}

class Fuzzer {
 public:
  Fuzzer(const Options& options, arm::PerCpu& cpu, arm::PhysicalGic& gic, uint64_t vttbr)
      : options_(options), cpu_(cpu), gic_(gic), vttbr_(vttbr) {}

  void take_baseline() {
    baseline_.el2 = cpu_.config();
    baseline_.sctlr_el2 = arm::read_sysreg<arm::SysReg::SCTLR_EL2>();
    baseline_.daif = read_daif();
    baseline_.vttbr = vttbr_;
    baseline_.image = image_checksum();
    for (unsigned n = 0; n < 512; ++n) secret[n] = secret_word(n);
    for (unsigned n = 0; n < kStackCanaryWords; ++n) stack_bottom()[n] = kCanary;
  }

  // Runs one program; false on a failure (already reported).
  bool run_program(uint64_t seed) {
    seed_ = seed;
    Rng rng(seed);
    const unsigned instructions = load_program(rng);
    statistics_.instructions += instructions;

    arm::VCpu& vcpu = *new (vcpu_storage_) arm::VCpu(vcpu_config(rng));
    guest_fuzz::ProgramGenerator values(rng, layout_);
    for (auto& x : vcpu.registers().x) x = values.value();
    vcpu.el1().at<arm::SysReg::VBAR_EL1>() = kGuestBase + kVectorsOffset;
    vcpu.el1().at<arm::SysReg::TPIDR_EL1>() = done_address_;

    vgic_.reset(kVgicConfig);
    list_registers_used_ = false;
    maintenance_streak_ = 0;
    failed_ = false;
    list_registers_ = vgic_list_registers();

    ProgramRun& run = *new (run_storage_) ProgramRun{};
    run.vcpu = &vcpu;
    run.use_next_exit = rng.percent(50);
    if (!run.use_next_exit) run.exits = vcpu.run();
    vcpu.load();
    arm::HypervisorTimer::start_us(options_.deadline_us);
    volatile uint64_t frame_canary[4] = {kCanary, kCanary, kCanary, kCanary};

    Rng host(seed ^ 0x4057'4057'4057'4057ull);
    Ending ending = Ending::ExitLimit;
    bool ok = true;
    for (uint64_t n = 0; n < options_.max_exits; ++n) {
      sync_list_registers();
      const uint64_t broken = call_with_host_markers(guest_fuzz_step, &run);
      if (broken != 0) {
        ok = fail(n, "host callee-saved registers or SP changed across the guest run (mask 0x%" PRIx64 ")",
                  broken);
        break;
      }
      if (run.current == nullptr) {
        ok = fail(n, "the exit loop ended");
        break;
      }
      arm::Exit& exit = *run.current;
      ++statistics_.exits;
      ++statistics_.by_type[exit.index()];
      ok = host_intact(vcpu, n) && frame_intact(frame_canary, n) && nothing_leaked(vcpu, n);
      if (!ok) break;
      if (exit.is<arm::Unhandled>()) {
        const auto& unhandled = exit.as<arm::Unhandled>();
        ok = fail(n, "untyped exit: ESR_EL2 0x%" PRIx64 " at PC 0x%" PRIx64, unhandled.esr, unhandled.pc);
        break;
      }
      if (respond(exit, vcpu, host, ending)) {
        ok = !failed_;
        break;
      }
    }
    arm::HypervisorTimer::stop();
    vcpu.put();
    run.~ProgramRun();
    vcpu.~VCpu();
    if (ok) ok = program_left_host_intact();
    ++statistics_.programs;
    ++statistics_.endings[static_cast<unsigned>(ending)];
    return ok;
  }

  const Statistics& statistics() const { return statistics_; }

 private:
  // Fresh guest RAM: the vectors, a program, random data.
  unsigned load_program(Rng& rng) {
    memset(guest_ram, 0, sizeof guest_ram);
    memcpy(guest_ram + kVectorsOffset, guest_fuzz_vectors, guest_fuzz_vectors_end - guest_fuzz_vectors);
    for (uint64_t offset = kDataOffset; offset < kStackOffset; offset += 8) {
      const uint64_t word = rng.next();
      memcpy(guest_ram + offset, &word, sizeof word);
    }
    guest_fuzz::ProgramGenerator generator(rng, layout_);
    guest_fuzz::ProgramWriter writer(reinterpret_cast<uint32_t*>(guest_ram + kCodeOffset), kCodeSize / 4,
                                     kGuestBase + kCodeOffset);
    const size_t done = generator.generate(writer, 8 + rng.below(57));
    done_address_ = kGuestBase + kCodeOffset + 4 * done;
    // The rest of the code area ends the program too: a guest that lands there (a jump, a
    // skipped branch) would otherwise crawl through zeros (UDF), one EL1 exception each,
    // until the timer stops it.
    auto* code = reinterpret_cast<uint32_t*>(guest_ram + kCodeOffset);
    for (size_t n = writer.size(); n < kCodeSize / 4; ++n)
      code[n] = guest_fuzz::a64::hvc(guest_fuzz::kProgramDone);
    // The no-execute page gets code too, so a jump there fails only for its permission.
    memcpy(guest_ram + kNoExecuteOffset, guest_ram + kCodeOffset, kPage);
    return static_cast<unsigned>(writer.size());
  }

  arm::VCpuConfig vcpu_config(Rng& rng) const {
    return {.mpidr = 0,
            .entry = kGuestBase + kCodeOffset,
            .stack = kGuestBase + kGuestRamSize,
            .stage2_vttbr = vttbr_,
            .trap_wfi = rng.percent(95),  // untrapped, a WFI sleeps until the timer
            .trap_wfe = rng.percent(30),
            .physical_timer_passthrough = rng.percent(20),
            .emulate_os_lock = rng.percent(80),
            .switch_debug_registers_on_first_use = rng.percent(80),
            .calls = policies_.pick(rng)};
  }

  // Before each entry, the example hypervisor's way: the list registers back into the vGIC
  // and filled again, when either holds something.
  void sync_list_registers() { ::sync_list_registers(vgic_, 0, list_registers_, list_registers_used_); }

  // The vGIC's exits: GICD/GICR accesses and SGI register writes, always answered by it.
  bool respond_vgic(arm::Exit& exit) {
    if (auto* read = exit.get_if<arm::MmioRead>(); read != nullptr && vgic_.contains(read->address)) {
      sync_list_registers();  // so that the guest reads what it acknowledged since entry
      read->complete(vgic_.read(0, read->address, read->size));
    } else if (auto* write = exit.get_if<arm::MmioWrite>();
               write != nullptr && vgic_.contains(write->address)) {
      vgic_.write(0, write->address, write->size, write->value);
    } else if (auto* write = exit.get_if<arm::SysRegWrite>();
               write != nullptr && arm::is_sgi_register(write->encoding)) {
      vgic_.send_sgi(0, write->value);
    } else {
      return false;
    }
    ++statistics_.gic_accesses;
    return true;
  }

  // The host's answer to one exit, chosen at random. Returns true when the program is over.
  bool respond(arm::Exit& exit, arm::VCpu& vcpu, Rng& host, Ending& ending) {
    // A device or the hypervisor raises an interrupt now and then: an edge on any INTID
    // (some out of range), or a level SPI's line.
    if (host.percent(5)) {
      const auto intid = static_cast<uint32_t>(host.below(100));
      if (host.percent(50))
        vgic_.raise(intid, 0);
      else
        vgic_.set_level(intid, host.percent(50), 0);
    }
    if (respond_vgic(exit)) return false;
    if (auto* call = exit.get_if<arm::Hypercall>()) {
      if (call->immediate == guest_fuzz::kProgramDone) {
        ending = Ending::Done;
        return true;
      }
      if (host.percent(70)) call->complete(host.next(), host.next(), host.next(), host.next());
    } else if (auto* call = exit.get_if<arm::SecureMonitorCall>()) {
      if (host.percent(50)) call->complete(host.next());
    } else if (auto* read = exit.get_if<arm::MmioRead>()) {
      if (host.percent(70)) read->complete(host.next());
    } else if (auto* write = exit.get_if<arm::MmioWrite>()) {
      if (host.percent(20)) write->reject();
    } else if (auto* read = exit.get_if<arm::SysRegRead>()) {
      if (host.percent(50)) read->complete(host.next());
    } else if (auto* write = exit.get_if<arm::SysRegWrite>()) {
      if (host.percent(30)) write->reject();
    } else if (exit.is<arm::ExternalInterrupt>()) {
      const uint32_t intid = gic_.acknowledge();
      if (intid == arm::kSpuriousIntid) return false;
      if (intid == arm::HypervisorTimer::kIntid) arm::HypervisorTimer::stop();
      gic_.end_of_interrupt(intid);
      if (intid == kMaintenanceIntid) {
        // The refill is sync_list_registers()'s. A maintenance interrupt that holds again
        // at once, with the guest making no progress, is a livelock of the vGIC's.
        ++statistics_.maintenance_interrupts;
        const uint64_t pc = vcpu.registers().pc;
        maintenance_streak_ = pc == maintenance_pc_ ? maintenance_streak_ + 1 : 0;
        maintenance_pc_ = pc;
        if (maintenance_streak_ >= 32) {
          fail(~0ull, "maintenance interrupt storm at guest PC 0x%" PRIx64 " (ICH_HCR_EL2 0x%" PRIx64 ")", pc,
               arm::read_sysreg<arm::SysReg::ICH_HCR_EL2>());
          failed_ = true;
          return true;
        }
      }
      if (intid == arm::HypervisorTimer::kIntid) {
        ending = Ending::Timer;
        return true;
      }
    } else if (auto* on = exit.get_if<arm::PsciCpuOn>()) {
      static constexpr arm::psci::Status kAnswers[] = {
          arm::psci::Status::Success, arm::psci::Status::AlreadyOn, arm::psci::Status::Denied};
      on->complete(kAnswers[host.below(3)]);
    } else if (auto* suspend = exit.get_if<arm::PsciCpuSuspend>()) {
      suspend->complete(arm::psci::Status::Success);
    } else if (exit.is<arm::PsciCpuOff>() || exit.is<arm::PsciSystemOff>() ||
               exit.is<arm::PsciSystemReset>()) {
      ending = Ending::PowerOff;
      return true;
    } else {
      // Faults and the remaining traps: the vCPU's default, or the hypervisor injects.
      const unsigned choice = host.below(20);
      if (choice == 0) vcpu.inject_undefined();
      if (choice == 1) vcpu.inject_data_abort(host.next(), host.percent(50));
      if (choice == 2) vcpu.resume_as_is();
    }
    return false;
  }

  bool host_intact(const arm::VCpu& vcpu, uint64_t exit) {
    const arm::El2Config now = arm::read_el2_config();
    if (now.vbar != baseline_.el2.vbar) return fail(exit, "VBAR_EL2 changed: 0x%" PRIx64, now.vbar);
    if (now.hcr != vcpu.hcr())
      return fail(exit, "HCR_EL2 is 0x%" PRIx64 ", not the vCPU's 0x%" PRIx64, now.hcr, vcpu.hcr());
    // TDOSA is the vCPU's own (VCpuConfig::emulate_os_lock, set by load()); TDA is always set
    // while a vCPU is loaded (VCpu::switch_in_debug_registers()).
    uint64_t expected_mdcr = (baseline_.el2.mdcr & ~arm::mdcr::kTdosa) | arm::mdcr::kTda;
    if (vcpu.config().emulate_os_lock) expected_mdcr |= arm::mdcr::kTdosa;
    if (now.mdcr != expected_mdcr) return fail(exit, "MDCR_EL2 changed: 0x%" PRIx64, now.mdcr);
    // TCPAC is the vCPU's own where it hides SVE or SME (VCpu::hidden_cpacr()).
    uint64_t expected_cptr = baseline_.el2.cptr & ~arm::cptr::kTcpac;
    if (vcpu.hidden_cpacr() != 0) expected_cptr |= arm::cptr::kTcpac;
    if (now.cptr != expected_cptr) return fail(exit, "CPTR_EL2 changed: 0x%" PRIx64, now.cptr);
    if (now.vtcr != baseline_.el2.vtcr) return fail(exit, "VTCR_EL2 changed: 0x%" PRIx64, now.vtcr);
    if ((now.cnthctl & ~arm::cnthctl::kEl1pcen) != baseline_.el2.cnthctl)
      return fail(exit, "CNTHCTL_EL2 changed: 0x%" PRIx64, now.cnthctl);
    const uint64_t vttbr = arm::read_sysreg<arm::SysReg::VTTBR_EL2>();
    if (vttbr != baseline_.vttbr) return fail(exit, "VTTBR_EL2 changed: 0x%" PRIx64, vttbr);
    const uint64_t sctlr = arm::read_sysreg<arm::SysReg::SCTLR_EL2>();
    if (sctlr != baseline_.sctlr_el2) return fail(exit, "SCTLR_EL2 changed: 0x%" PRIx64, sctlr);
    if (read_daif() != baseline_.daif) return fail(exit, "EL2 DAIF changed: 0x%" PRIx64, read_daif());
    for (unsigned n = 0; n < kStackCanaryWords; ++n)
      if (stack_bottom()[n] != kCanary) return fail(exit, "EL2 stack canary %u overwritten", n);
    return true;
  }

  // The guest's registers never hold a host value: a marker the host had in its general
  // registers while the guest ran (host_markers.h), or a word of the secret. Random
  // programs produce neither pattern by chance (one in 2^58 per register).
  bool nothing_leaked(const arm::VCpu& vcpu, uint64_t exit) {
    for (unsigned n = 0; n < 31; ++n) {
      const uint64_t value = vcpu.registers().x[n];
      if (is_host_marker(value) && (value & 0xffff'ffc0) == 0)
        return fail(exit, "guest x%u holds the host's marker 0x%" PRIx64, n, value);
      if ((value & ~uint64_t{0xfff}) == secret_word(0))
        return fail(exit, "guest x%u holds a word of the hypervisor's secret", n);
    }
    return true;
  }

  bool frame_intact(const volatile uint64_t (&canary)[4], uint64_t exit) {
    for (unsigned n = 0; n < 4; ++n)
      if (canary[n] != kCanary) return fail(exit, "canary %u in the host's frame overwritten", n);
    return true;
  }

  bool program_left_host_intact() {
    for (size_t offset = 0; offset < sizeof guest_ram; offset += 8) {
      uint64_t word;
      memcpy(&word, guest_ram + offset, sizeof word);
      if ((word & ~uint64_t{0xfff}) == secret_word(0))
        return fail(~0ull, "the guest's RAM holds a word of the hypervisor's secret (offset 0x%zx)", offset);
    }
    for (unsigned n = 0; n < 512; ++n)
      if (secret[n] != secret_word(n)) return fail(~0ull, "hypervisor secret word %u changed", n);
    if (image_checksum() != baseline_.image) return fail(~0ull, "hypervisor code or read-only data changed");
    return true;
  }

  [[gnu::format(printf, 3, 4)]] bool fail(uint64_t exit, const char* format, ...) {
    char reason[160];
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    const auto seed = static_cast<unsigned long long>(seed_);
    if (exit == ~0ull) {
      printf("FAIL seed %llu: %s\n", seed, reason);
    } else {
      printf("FAIL seed %llu, exit %llu: %s\n", seed, static_cast<unsigned long long>(exit), reason);
    }
    printf("  reproduce: tools/fuzz-guests --seed %llu --programs 1\n", seed);
    return false;
  }

  const Options& options_;
  arm::PerCpu& cpu_;
  arm::PhysicalGic& gic_;
  uint64_t vttbr_;
  const guest_fuzz::Layout layout_ = guest_layout(static_cast<uint32_t>(options_.gic_percent));
  // The VM's GIC: vCPU 0 runs the program; vCPU 1 exists for SGI target lists.
  static constexpr arm::VgicConfig kVgicConfig{
      .vcpus = 2, .spis = 64, .gicd_base = kGicDistributor, .gicr_base = kGicRedistributor};
  arm::Vgic vgic_{kVgicConfig};
  bool list_registers_used_ = false;
  unsigned list_registers_ = 0;
  uint64_t maintenance_pc_ = 0;
  unsigned maintenance_streak_ = 0;
  HostBaseline baseline_;
  Policies policies_;
  Statistics statistics_;
  uint64_t seed_ = 0;
  bool failed_ = false;  // respond() found a failure (already reported)
  uint64_t done_address_ = 0;
  alignas(arm::VCpu) unsigned char vcpu_storage_[sizeof(arm::VCpu)];
  alignas(ProgramRun) unsigned char run_storage_[sizeof(ProgramRun)];
};

// Stage 2 for every program: the guest's 64 KiB and nothing else.
bool map_guest(arm::Stage2Table& stage2) {
  const auto pa = reinterpret_cast<uint64_t>(guest_ram);
  const arm::MemoryAttributes read_only{arm::MemoryType::Normal, false, true};
  const arm::MemoryAttributes no_execute{arm::MemoryType::Normal, true, false};
  return stage2.map(kGuestBase, pa, kReadOnlyOffset, arm::kGuestRam) == arm::MapError::None &&
         stage2.map(kGuestBase + kReadOnlyOffset, pa + kReadOnlyOffset, kPage, read_only) ==
             arm::MapError::None &&
         stage2.map(kGuestBase + kNoExecuteOffset, pa + kNoExecuteOffset, kPage, no_execute) ==
             arm::MapError::None &&
         stage2.map(kGuestBase + kStackOffset, pa + kStackOffset, kGuestRamSize - kStackOffset,
                    arm::kGuestRam) == arm::MapError::None;
}

void print_statistics(const Options& options, const Statistics& statistics, uint64_t failures) {
  printf("guest fuzzer: %llu programs (%llu instructions) from seed %llu, %llu exits, %llu failures\n",
         static_cast<unsigned long long>(statistics.programs),
         static_cast<unsigned long long>(statistics.instructions),
         static_cast<unsigned long long>(options.seed), static_cast<unsigned long long>(statistics.exits),
         static_cast<unsigned long long>(failures));
  for (unsigned n = 0; n < static_cast<unsigned>(Ending::Count); ++n)
    printf("  %-32s %8llu programs\n", kEndingNames[n],
           static_cast<unsigned long long>(statistics.endings[n]));
  printf("  vGIC: %llu GIC accesses, %llu maintenance interrupts\n",
         static_cast<unsigned long long>(statistics.gic_accesses),
         static_cast<unsigned long long>(statistics.maintenance_interrupts));
  printf("  exits by type:\n");
  for (size_t n = 0; n < arm::Exit::kAlternatives; ++n)
    if (statistics.by_type[n] != 0)
      printf("    %-24s %10llu\n", arm::exit_name(n), static_cast<unsigned long long>(statistics.by_type[n]));
}

}  // namespace

int main() {
  static Options options;
  if (!parse_options(options)) return 2;
  static arm::PerCpu cpu;
  if (cpu.enable() != arm::EnableError::None || !cpu.features().gic_system_registers) {
    printf("guest fuzzer: needs EL2 and a GICv3 system register interface\n");
    return 1;
  }
  static arm::PhysicalGic gic{kGicDistributor, kGicRedistributor};
  gic.init_this_cpu();
  gic.enable_private_interrupt(arm::HypervisorTimer::kIntid);
  gic.enable_private_interrupt(kMaintenanceIntid);

  static arm::PagePool pool(stage2_pages, sizeof stage2_pages / kPage);
  static arm::Stage2Table stage2(pool, 1);
  if (!map_guest(stage2)) {
    printf("guest fuzzer: cannot map the guest's RAM\n");
    return 1;
  }

  if (static_cast<uint64_t>(guest_fuzz_vectors_end - guest_fuzz_vectors) > kCodeOffset - kVectorsOffset) {
    printf("guest fuzzer: the guest's vectors do not fit before its code\n");
    return 1;
  }
  static Fuzzer fuzzer(options, cpu, gic, stage2.vttbr());
  fuzzer.take_baseline();
  uint64_t failures = 0;
  for (uint64_t n = 0; n < options.programs && failures == 0; ++n)
    if (!fuzzer.run_program(options.seed + n)) ++failures;
  print_statistics(options, fuzzer.statistics(), failures);
  return failures == 0 ? 0 : 1;
}
