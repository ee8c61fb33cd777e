// The example hypervisor: boots a guest kernel (an arm64 Linux Image by default) at EL1
// on QEMU's virt machine, N vCPUs on M physical CPUs (N > M allowed; vCPU i on CPU i mod M).
//
//  - Memory: the hypervisor keeps 0x40000000-0x41000000 (QEMU's DTB, its configuration,
//    its image, stacks, stage-2 tables); the guest gets the rest of RAM, mapped 1:1 by
//    stage 2. The hypervisor's memory is never mapped into the guest.
//  - Devices: the GICv3 distributor and redistributors are emulated by arm.vgic (not in
//    stage 2: the physical GIC is the hypervisor's alone); the guest's GIC CPU interface is
//    the virtual one (list registers, filled by arm.vgic). The PL011 UART is emulated by
//    trap-and-emulate (hv.pl011). Every other device is left out of the guest's DT.
//  - Interrupts: physical interrupts exit to the hypervisor, which acknowledges them. The
//    virtual timer's PPI is a level input of arm.vgic linked to the physical one (HW bit),
//    followed at exits while it is high; the emulated EL1 physical timer's (PPI 30) is a
//    level input too, from the vCPU's TimerLevel events and its hardware copy's PPI; the
//    emulated UART's line is a level input of arm.vgic; the guest's SGIs go through
//    arm.vgic, with a physical SGI (kKickSgi) to the CPU a target vCPU is placed on.
//  - Scheduling: each physical CPU runs an arm::Scheduler of vCPU tasks (vcpu_task). WFI is
//    trapped; a WFI, CPU_SUSPEND or CPU_OFF parks the task, and the CPU runs another vCPU
//    (put() the old, load() the new, sync its list registers) or sleeps at EL2 until the
//    earliest deadline or a kick. vGIC work, a timer deadline and CPU_ON make a vCPU
//    runnable. With more than one vCPU on a CPU, the EL2 physical timer preempts after a
//    10 ms slice and WFE yields.
//  - Firmware: the guest's PSCI calls (method "smc") are answered by arm.smc; the physical
//    CPUs are started through the real firmware at boot; CPU_ON makes the vCPU runnable on
//    its CPU. SYSTEM_OFF ends the hypervisor with status 0 after printing exits by type.
//
// Configuration: hv.cfg (see config.cppm); tools/run-hypervisor writes it.
#include <arm/asm/mmu.h>
#include <arm/runtime/std_support.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

import arm.vcpu;
import arm.vgic;
import arm.fdt;
import hv.config;
import hv.guest_dt;
import hv.pl011;
import hv.stats;

extern "C" void arm_console_putc(char c);
extern "C" char arm_el2_secondary_entry[];

namespace {

// QEMU virt (hw/arm/virt.c memory map).
constexpr uint64_t kRamBase = 0x4000'0000;
constexpr uint64_t kHostDtb = kRamBase;  // QEMU's DTB for an ELF image
constexpr uint64_t kHostDtbMaxSize = 0x10'0000;
constexpr uint64_t kConfigAddress = 0x4010'0000;  // hv.cfg (tools/run-hypervisor)
constexpr uint64_t kConfigMaxSize = 0x1'0000;
constexpr uint64_t kGuestRamBase = 0x4100'0000;  // below: the hypervisor's own memory
constexpr uint64_t kGicDistributor = 0x0800'0000;
constexpr uint64_t kGicRedistributors = 0x080a'0000;
constexpr uint64_t kGicRedistributorStride = 0x2'0000;
constexpr uint64_t kUartBase = 0x0900'0000;
constexpr uint32_t kUartIntid = 33;            // SPI 1
constexpr uint64_t kGuestDtbSize = 0x20'0000;  // the guest's DTB: the last 2 MiB of RAM
constexpr uint32_t kMaxIntid = 1019;
constexpr uint32_t kMaintenanceIntid = 25;  // PPI 9, the GIC maintenance interrupt
constexpr uint32_t kKickSgi = 8;            // makes another CPU exit its guest
constexpr uint64_t kTimeSliceUs = 10'000;   // a vCPU runs at most this long while others wait

// arm64 Image header (Linux Documentation/arch/arm64/booting.rst).
struct ImageHeader {
  uint32_t code0, code1;
  uint64_t text_offset, image_size, flags, res2, res3, res4;
  uint32_t magic, res5;
};
constexpr uint32_t kImageMagic = 0x644d'5241;  // "ARM\x64"

// Guarded by a spinlock: the emulated UART and console output are shared by all vCPUs.
class SpinLock {
 public:
  void lock() {
    while (__atomic_exchange_n(&locked_, 1u, __ATOMIC_ACQUIRE) != 0) {
    }
  }
  void unlock() { __atomic_store_n(&locked_, 0u, __ATOMIC_RELEASE); }

 private:
  uint32_t locked_ = 0;
};

struct Vm {
  hv::Config config;
  uint64_t ram_end = 0;
  uint64_t dtb = 0;
  uint64_t vttbr = 0;
  SpinLock uart_lock;
  hv::EmulatedPl011 uart{arm_console_putc};
  // The vCPUs as PSCI sees them (MPIDR and On/Off/OnPending): arm.smc answers
  // AFFINITY_INFO and refuses CPU_ON for a running vCPU from this table.
  arm::psci::AffinityEntry psci_vcpus[hv::kMaxCpus];
  arm::psci::AddressRange guest_ram[1];
  // The same RAM as EL2 addresses it, for the vCPUs' set/way cache maintenance: stage 2 maps
  // it 1:1 and the EL2 runtime's identity map covers it (runtime/el2/mmu.c).
  arm::GuestMemoryRange guest_memory[1];
  // Set/way operations of vCPUs since replaced by a CPU_ON (see set_way_summary()).
  uint64_t set_way_operations = 0;
  uint64_t guest_memory_flushes = 0;
  arm::smccc::GuestCallPolicy calls;
  uint64_t cpu_entry[hv::kMaxCpus] = {};
  uint64_t cpu_context[hv::kMaxCpus] = {};
  hv::ExitStats stats[hv::kMaxCpus];
  // The emulated GICv3 (GICD, one GICR per vCPU at the addresses QEMU's virt uses).
  arm::Vgic vgic{arm::VgicConfig{.vcpus = 1, .spis = 64, .gicd_base = 0x0800'0000, .gicr_base = 0x080a'0000}};
  // Whether vCPU n's list registers hold anything arm.vgic put there.
  bool list_registers_used[hv::kMaxCpus] = {};
  // Whether vCPU n's virtual timer output was last seen high (its vGIC level): while it is,
  // every exit checks whether the guest lowered it (CNTV_* are not trapped).
  bool virtual_timer_high[hv::kMaxCpus] = {};
};
Vm vm;

// Physical CPUs that run vCPUs: min(cpus=, QEMU's -smp). vCPU n runs on CPU n % this.
unsigned physical_cpu_count = 1;
unsigned cpu_of(unsigned vcpu) { return vcpu % physical_cpu_count; }

// A vCPU as its physical CPU's scheduler sees it.
enum class VcpuState : uint8_t {
  Off,       // before CPU_ON, after CPU_OFF: runnable once psci_vcpus says OnPending
  Runnable,  // running, or preempted and waiting for its turn
  Waiting,   // parked in WFI: runnable on vGIC work or at wake_at
};
struct VcpuSlot {
  unsigned index = 0;
  VcpuState state = VcpuState::Off;
  uint64_t wake_at = arm::kNoDeadline;  // while Waiting: its timers' deadline (Wfx::deadline)
  arm::VCpu* vcpu = nullptr;            // from its first CPU_ON
};
VcpuSlot slots[hv::kMaxCpus];
alignas(arm::VCpu) unsigned char vcpu_storage[hv::kMaxCpus][sizeof(arm::VCpu)];

// One physical CPU: a Scheduler of the tasks of the vCPUs placed on it.
struct PhysicalCpu {
  unsigned index = 0;
  const arm::HardwareFeatures* features = nullptr;
  unsigned list_registers = 0;
  VcpuSlot* slots[hv::kMaxCpus] = {};
  unsigned count = 0;
  // Set by a kick, by vGIC work for another vCPU of this CPU and by the EL2 timer: after the
  // current exit, the running vCPU gives way if another one here can run.
  bool reschedule = false;
  uint64_t slice_end = 0;  // when the running vCPU's time slice ends (CNTPCT_EL0)
  arm::Scheduler<hv::kMaxCpus> scheduler;
  arm::FrameStorage<8192> frames;
};
PhysicalCpu cpu_table[hv::kMaxCpus];

alignas(4096) unsigned char stage2_pages[64 * 4096];

arm::PhysicalGic gic_for(unsigned cpu) {
  return arm::PhysicalGic{kGicDistributor, kGicRedistributors + cpu * kGicRedistributorStride};
}

// Reads the RAM size from QEMU's /memory node.
uint64_t ram_end_from_dtb(const void* dtb) {
  arm::fdt::Reader reader(dtb);
  bool in_memory = false;
  for (;;) {
    const auto token = reader.next();
    using Kind = arm::fdt::Token::Kind;
    if (token.kind == Kind::End || token.kind == Kind::Error) return 0;
    if (token.kind == Kind::BeginNode) in_memory = hv::has_prefix(token.name, "memory@");
    if (token.kind == Kind::Property && in_memory && arm::fdt::strings_equal(token.name, "reg") &&
        token.size >= 16) {
      const uint64_t base = (uint64_t{arm::fdt::cell(token.data, 0)} << 32) | arm::fdt::cell(token.data, 1);
      const uint64_t size = (uint64_t{arm::fdt::cell(token.data, 2)} << 32) | arm::fdt::cell(token.data, 3);
      return base + size;
    }
  }
}

bool overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a < b + b_size && b < a + a_size;
}

// Validates the configuration against memory, builds stage 2 and the guest's DTB.
bool prepare_vm(unsigned physical_cpus) {
  if (!arm::fdt::Reader::valid(reinterpret_cast<const void*>(kHostDtb), kHostDtbMaxSize)) {
    printf("hypervisor: no device tree at 0x%llx (start QEMU with an ELF -kernel)\n",
           static_cast<unsigned long long>(kHostDtb));
    return false;
  }
  hv::ConfigError error;
  if (!hv::parse_config(reinterpret_cast<const char*>(kConfigAddress), kConfigMaxSize, vm.config, error)) {
    if (error.line != 0)
      printf("hypervisor: hv.cfg line %u: %s\n", error.line, error.message);
    else
      printf("hypervisor: hv.cfg: %s\n", error.message);
    printf("hypervisor: no usable configuration at 0x%llx (see examples/hypervisor/config.cppm)\n",
           static_cast<unsigned long long>(kConfigAddress));
    return false;
  }
  hv::Config& config = vm.config;
  vm.ram_end = ram_end_from_dtb(reinterpret_cast<const void*>(kHostDtb));
  if (vm.ram_end <= kGuestRamBase + 2 * kGuestDtbSize) {
    printf("hypervisor: not enough RAM for a guest (RAM ends at 0x%llx)\n",
           static_cast<unsigned long long>(vm.ram_end));
    return false;
  }
  physical_cpu_count = config.cpus < physical_cpus ? config.cpus : physical_cpus;
  vm.dtb = vm.ram_end - kGuestDtbSize;
  uint64_t kernel_size = 0x100'0000;  // a raw binary: assume 16 MiB for the overlap checks
  const auto* header = reinterpret_cast<const ImageHeader*>(config.kernel);
  if (header->magic == kImageMagic) {
    kernel_size = header->image_size != 0 ? header->image_size : 0x100'0000;
    if (((config.kernel - header->text_offset) & 0x1f'ffff) != 0) {
      printf(
          "hypervisor: an arm64 Image must sit text_offset (0x%llx) above a 2 MiB boundary; kernel=0x%llx\n",
          static_cast<unsigned long long>(header->text_offset),
          static_cast<unsigned long long>(config.kernel));
      return false;
    }
    printf("hypervisor: arm64 Image at 0x%llx, %llu bytes\n", static_cast<unsigned long long>(config.kernel),
           static_cast<unsigned long long>(kernel_size));
  } else {
    printf("hypervisor: raw binary at 0x%llx, entry 0x%llx\n", static_cast<unsigned long long>(config.kernel),
           static_cast<unsigned long long>(config.entry));
  }
  const uint64_t guest_ram_size = vm.ram_end - kGuestRamBase;
  if (config.kernel < kGuestRamBase || config.kernel + kernel_size > vm.dtb) {
    printf("hypervisor: kernel=0x%llx (+0x%llx) is outside guest RAM [0x%llx, 0x%llx)\n",
           static_cast<unsigned long long>(config.kernel), static_cast<unsigned long long>(kernel_size),
           static_cast<unsigned long long>(kGuestRamBase), static_cast<unsigned long long>(vm.dtb));
    return false;
  }
  if (config.initrd != 0 && (config.initrd < kGuestRamBase || config.initrd + config.initrd_size > vm.dtb ||
                             overlaps(config.initrd, config.initrd_size, config.kernel, kernel_size))) {
    printf("hypervisor: initrd=0x%llx (+%llu) overlaps the kernel or leaves guest RAM\n",
           static_cast<unsigned long long>(config.initrd),
           static_cast<unsigned long long>(config.initrd_size));
    return false;
  }

  static arm::PagePool pool(stage2_pages, sizeof stage2_pages / arm::kPageSize);
  static arm::Stage2Table stage2(pool, 1);
  const arm::MapError errors[] = {
      stage2.map(kGuestRamBase, kGuestRamBase, guest_ram_size, arm::kGuestRam),
  };
  for (arm::MapError error : errors) {
    if (error != arm::MapError::None) {
      printf("hypervisor: building stage 2 failed (error %u)\n", static_cast<unsigned>(error));
      return false;
    }
  }
  vm.vttbr = stage2.vttbr();
  vm.vgic.reset({.vcpus = config.cpus < arm::kVgicMaxVcpus ? config.cpus : arm::kVgicMaxVcpus,
                 .spis = 64,
                 .gicd_base = kGicDistributor,
                 .gicr_base = kGicRedistributors});

  hv::GuestDtInput dt;
  dt.ram_base = kGuestRamBase;
  dt.ram_size = guest_ram_size;
  dt.vcpus = config.cpus;
  dt.bootargs = config.cmdline;
  dt.pmu = config.pmu;
  if (config.initrd != 0) {
    dt.initrd_start = config.initrd;
    dt.initrd_end = config.initrd + config.initrd_size;
  }
  const unsigned long dtb_size = hv::build_guest_dt(reinterpret_cast<const void*>(kHostDtb), kHostDtbMaxSize,
                                                    dt, reinterpret_cast<void*>(vm.dtb), kGuestDtbSize);
  if (dtb_size == 0) return false;
  arm_el2_clean_to_poc(reinterpret_cast<const void*>(vm.dtb), dtb_size);  // the guest starts with caches off
  printf("hypervisor: guest RAM 0x%llx-0x%llx, DTB at 0x%llx (%lu bytes), %u vCPU(s)\n",
         static_cast<unsigned long long>(kGuestRamBase), static_cast<unsigned long long>(vm.ram_end),
         static_cast<unsigned long long>(vm.dtb), dtb_size, config.cpus);
  printf("hypervisor: %u vCPU(s) on %u CPU(s)\n", config.cpus, physical_cpu_count);

  for (unsigned i = 0; i < config.cpus; ++i)
    vm.psci_vcpus[i] = {.mpidr = i, .state = arm::psci::AffinityState::Off};
  vm.guest_ram[0] = {kGuestRamBase, guest_ram_size};
  vm.calls.psci.vcpus = {vm.psci_vcpus, config.cpus};
  vm.calls.psci.memory = vm.guest_ram;
  vm.guest_memory[0] = {kGuestRamBase, guest_ram_size};
  vm.calls.psci.address_bits = arm::vtcr::kIpaBits;
  return true;
}

// Starts physical CPU `cpu` (MPIDR Aff0 = cpu on QEMU virt) through the firmware's PSCI.
int64_t firmware_cpu_on(unsigned cpu) {
  arm::smccc::CallRegisters call;
  call.x[0] = arm::psci::kCpuOn64;
  call.x[1] = cpu;
  call.x[2] = reinterpret_cast<uint64_t>(arm_el2_secondary_entry);
  call.x[3] = cpu;  // context id: arm_el2_secondary_main's argument
  arm::smccc::SmcConduit firmware;
  return static_cast<int64_t>(arm::smccc::call_firmware(firmware, call).x[0]);
}

void set_cpu_state(unsigned cpu, arm::psci::AffinityState state) {
  __atomic_store(&vm.psci_vcpus[cpu].state, &state, __ATOMIC_RELEASE);
}

// The guest's set/way cache maintenance, which the vCPUs answer inside run() (never an exit):
// Linux issues none once booted; a count here means a guest emptied its caches by set/way.
void set_way_summary() {
  uint64_t operations = vm.set_way_operations;
  uint64_t flushes = vm.guest_memory_flushes;
  for (const VcpuSlot& slot : slots) {
    if (slot.vcpu == nullptr) continue;
    operations += slot.vcpu->set_way_operations();
    flushes += slot.vcpu->guest_memory_flushes();
  }
  printf("hypervisor: %llu set/way cache operations, %llu flushes of guest RAM\n",
         static_cast<unsigned long long>(operations), static_cast<unsigned long long>(flushes));
}

[[noreturn]] void power_off(unsigned cpu, const char* why, int status) {
  vm.uart_lock.lock();
  printf("\nhypervisor: %s (vCPU %u)\n", why, cpu);
  hv::ExitStats total;
  for (unsigned i = 0; i < vm.config.cpus; ++i) total.add(vm.stats[i]);
  total.print();
  set_way_summary();
  exit(status);
}

// The physical PL011 is the hypervisor's console; what it receives is the guest's input.
// Its receive interrupts (DDI 0183 3.3.13 UARTIMSC: RXIM, RTIM) raise the physical SPI
// kUartIntid, which the hypervisor owns (the guest's distributor is arm.vgic's): it is
// enabled and routed to the boot CPU in the physical distributor, and what it brings in
// becomes the level of the emulated UART's line in the vGIC.
volatile uint32_t* physical_uart(uint64_t offset) {
  return reinterpret_cast<volatile uint32_t*>(kUartBase + offset);
}

// The physical UART's receive interrupts (UARTIMSC.RXIM, RTIM) are on while the emulated
// FIFO has room and off while it is full: the physical line is level-sensitive and stays
// high while the physical FIFO holds anything, so with nowhere to put it, it would fire at
// every guest entry and the guest could never run to read its FIFO (flow control, as a
// real UART's RTS would give).
void set_console_input_enabled(bool enabled) {
  *physical_uart(hv::EmulatedPl011::kImsc) =
      enabled ? hv::EmulatedPl011::kRxInterrupt | hv::EmulatedPl011::kRxTimeoutInterrupt : 0;
}

void enable_console_input(arm::PhysicalGic& gic) {
  set_console_input_enabled(true);
  gic.enable_shared_interrupt(kUartIntid, /*affinity=*/0);
}

// Moves what the physical UART received into the emulated one, as far as its FIFO takes;
// the rest stays in the physical one (read only when there is room, so nothing is lost).
// Called with the UART lock.
void receive_console_input() {
  while (vm.uart.can_receive() && (*physical_uart(hv::EmulatedPl011::kFr) & hv::EmulatedPl011::kFrRxfe) == 0)
    vm.uart.receive(static_cast<char>(*physical_uart(hv::EmulatedPl011::kDr) & 0xff));
  set_console_input_enabled(vm.uart.can_receive());
}

// Physical SGI kKickSgi to physical CPU `cpu`, which makes it exit its guest or its sleep.
void kick_cpu(unsigned cpu) {
  // The vGIC's and the PSCI table's stores before the SGI that makes the target look at them.
  asm volatile("dsb ish" ::: "memory");
  // ICC_SGI1R_EL1: INTID [27:24], Aff1 [23:16], TargetList [15:0] (IHI 0069 12.2.23).
  const uint64_t affinity = arm::vgic_vcpu_affinity(cpu);
  arm::write_sysreg<arm::SysReg::ICC_SGI1R_EL1>((uint64_t{kKickSgi} << 24) |
                                                (((affinity >> 8) & 0xff) << 16) | (1u << (affinity & 0xf)));
  arm::instruction_barrier();
}

// The vCPUs in `kicks` (bit n = vCPU n) have new work in the vGIC: the CPUs they are placed
// on take it up. Another CPU gets a physical SGI (it exits its guest, or wakes from its sleep,
// and looks at its parked vCPUs); on this one (`self`) the running vCPU gives way after the
// current exit if one of them can run now.
void kick(uint32_t kicks, unsigned self) {
  uint32_t cpus = 0;
  for (unsigned n = 0; n < arm::kVgicMaxVcpus; ++n)
    if ((kicks & (1u << n)) != 0) cpus |= 1u << cpu_of(n);
  if ((cpus & (1u << self)) != 0) cpu_table[self].reschedule = true;
  cpus &= ~(1u << self);
  for (unsigned cpu = 0; cpu < physical_cpu_count; ++cpu)
    if ((cpus & (1u << cpu)) != 0) kick_cpu(cpu);
}

// arm.smc already refused a CPU_ON for a vCPU that is on or starting (from psci_vcpus). The
// target's CPU starts it (it may be this one): its scheduler sees OnPending.
void handle_psci_cpu_on(arm::PsciCpuOn& on, unsigned self) {
  const unsigned target = static_cast<unsigned>(on.target);
  vm.cpu_entry[target] = on.entry;
  vm.cpu_context[target] = on.context_id;
  set_cpu_state(target, arm::psci::AffinityState::OnPending);
  if (cpu_of(target) == self)
    cpu_table[self].reschedule = true;
  else
    kick_cpu(cpu_of(target));
  on.complete(arm::psci::Status::Success);
}

// The emulated UART's interrupt line is a level input of the vGIC. Called with the UART lock,
// on physical CPU `self`.
void update_uart_interrupt(unsigned self) {
  kick(vm.vgic.set_level(kUartIntid, vm.uart.interrupt_pending()), self);
}

// The physical UART's receive interrupt: what it received goes to the emulated one.
// Level-sensitive: with the FIFO drained (or the emulated one full, when the physical line
// stays high until the guest reads) deactivating it is safe.
void take_console_input(arm::PhysicalGic& gic, unsigned self) {
  vm.uart_lock.lock();
  receive_console_input();
  update_uart_interrupt(self);
  vm.uart_lock.unlock();
  gic.deactivate(kUartIntid);
}

// A physical interrupt arrived while the guest ran: acknowledge it and hand it to the
// guest. With split EOI (ICC_CTLR_EL1.EOImode = 1) the EOI only drops the priority; the
// guest's own deactivation of the linked virtual interrupt deactivates the physical one.
void forward_physical_interrupt(PhysicalCpu& cpu, unsigned index, arm::PhysicalGic& gic, arm::VCpu& vcpu) {
  const uint32_t intid = gic.acknowledge();
  if (intid > kMaxIntid) return;  // spurious
  gic.end_of_interrupt(intid);
  if (intid == kUartIntid) {
    take_console_input(gic, cpu.index);
    return;
  }
  if (intid == arm::HypervisorTimer::kIntid) {
    // The time slice (or a parked vCPU's deadline) is up: stopping the timer drops its line.
    arm::HypervisorTimer::stop();
    gic.deactivate(intid);
    cpu.reschedule = true;
    return;
  }
  if (intid == kKickSgi) {
    gic.deactivate(intid);
    cpu.reschedule = true;
    return;
  }
  if (intid == arm::kPhysicalTimerIntid) {
    // The emulated physical timer's hardware copy expired: sampling masks the copy (the
    // line drops, so deactivating at once is safe) and the level goes to the vGIC.
    const arm::TimerLines lines = vcpu.sample_timer_lines();
    gic.deactivate(intid);
    kick(vm.vgic.set_level(intid, lines.physical_timer, index), cpu.index);
    return;
  }
  if (intid == arm::kVirtualTimerIntid) {
    // Linked to the physical PPI (arm.vgic's list register has HW set): the guest's
    // deactivation of the virtual one deactivates it, so it cannot fire again before that.
    // The level follows the line: follow_virtual_timer() lowers it when the guest does.
    vm.virtual_timer_high[index] = true;
    vm.vgic.set_level(intid, true, index);
    return;
  }
  if (intid == arm::kPmuOverflowIntid) {
    // The vCPU's partition of the PMU, linked to the physical PPI as the timer's is.
    vm.vgic.raise(intid, index);
    return;
  }
  // The maintenance interrupt (arm.vgic refills the
  // list registers before the guest runs again), and anything else the guest has no
  // business with.
  gic.deactivate(intid);
}

// Before the guest runs again: arm.vgic folds the list registers back and fills them. Costs
// two loads and branches when neither the list registers nor arm.vgic hold anything.
void sync_list_registers(unsigned index, unsigned list_registers) {
  if (!vm.list_registers_used[index] && !vm.vgic.has_work(index)) return;
  arm::VgicState cpu;
  for (unsigned n = 0; n < list_registers; ++n) cpu.lr[n] = arm::read_list_register(n);
  cpu.hcr = arm::read_sysreg<arm::SysReg::ICH_HCR_EL2>();
  vm.vgic.fold(index, cpu, list_registers);
  vm.vgic.flush(index, cpu, list_registers);
  bool used = false;
  for (unsigned n = 0; n < list_registers; ++n) {
    arm::write_list_register(n, cpu.lr[n]);
    used |= cpu.lr[n] != 0;
  }
  arm::write_sysreg<arm::SysReg::ICH_HCR_EL2>(cpu.hcr);
  vm.list_registers_used[index] = used;
}

// Whether a list register holds `intid` (pending, active or both).
bool in_list_registers(uint32_t intid, unsigned list_registers) {
  for (unsigned n = 0; n < list_registers; ++n) {
    const uint64_t lr = arm::read_list_register(n);
    if (!arm::list_register_free(lr) && arm::list_register_intid(lr) == intid) return true;
  }
  return false;
}

// After an exit, before the guest runs again. The virtual timer's level, seen high at its
// PPI, drops when the guest disables, masks or reprograms its timer, which it does without a
// trap: checked at every exit while high (one MRS). fold() retires a dropped level from the
// list registers if the guest has not acknowledged it yet; then no guest deactivation will
// come for the physical PPI, and the hypervisor deactivates it itself (its line is low, so
// it cannot fire again at once). If the guest holds the interrupt active instead, its own
// deactivation does it (HW bit).
void sync_guest_interrupts(unsigned index, unsigned list_registers, arm::PhysicalGic& gic,
                           const arm::VCpu& vcpu) {
  const bool dropped = vm.virtual_timer_high[index] && !vcpu.virtual_timer_output();
  if (dropped) {
    vm.virtual_timer_high[index] = false;
    vm.vgic.set_level(arm::kVirtualTimerIntid, false, index);
  }
  sync_list_registers(index, list_registers);
  if (dropped && !in_list_registers(arm::kVirtualTimerIntid, list_registers) &&
      gic.private_interrupt_active(arm::kVirtualTimerIntid))
    gic.deactivate(arm::kVirtualTimerIntid);
}

bool in_uart(uint64_t address) {
  return address >= kUartBase && address < kUartBase + hv::EmulatedPl011::kSize;
}

// Registers the hypervisor answers itself: SGI generation (arm.vgic makes the SGI pending
// for the vCPUs the value names; with a single Security state ICC_SGI0R_EL1 and
// ICC_ASGI1R_EL1 name their targets the same way). The PMU never gets here: the vCPU
// either lends the guest its partition of the PMU or makes its registers UNDEFINED
// (VCpuConfig::pmu).
bool handle_sysreg(arm::Exit& exit, unsigned index, unsigned self) {
  if (auto* write = exit.get_if<arm::SysRegWrite>()) {
    if (write->encoding == arm::SysReg::ICC_SGI1R_EL1 || write->encoding == arm::SysReg::ICC_ASGI1R_EL1 ||
        write->encoding == arm::SysReg::ICC_SGI0R_EL1) {
      kick(vm.vgic.send_sgi(index, write->value), self);
      return true;
    }
  }
  return false;
}

// Whether a list register of the loaded vCPU holds a pending interrupt.
bool list_register_pending(unsigned list_registers) {
  for (unsigned n = 0; n < list_registers; ++n)
    if (((arm::read_list_register(n) >> arm::ich_lr::kStateShift) & arm::ich_lr::kStatePending) != 0)
      return true;
  return false;
}

// What the running vCPU does after an exit.
enum class Next : uint8_t {
  Run,    // back into the guest
  Wait,   // parked until an interrupt or its deadline (WFI, CPU_SUSPEND)
  Off,    // parked until a CPU_ON (CPU_OFF)
  Yield,  // runnable, but another vCPU of this CPU gets its turn (time slice, wake-up)
};

// Handles one exit of the vCPU in `slot`, running on `cpu`.
Next handle_exit(PhysicalCpu& cpu, VcpuSlot& slot, arm::VCpu& vcpu, arm::Exit& exit, arm::PhysicalGic& gic) {
  const unsigned index = slot.index;
  vm.stats[index].count(exit);
  if (exit.is<arm::ExternalInterrupt>()) {
    forward_physical_interrupt(cpu, index, gic, vcpu);
  } else if (auto* wfx = exit.get_if<arm::Wfx>(); wfx != nullptr && wfx->waits_for_interrupt()) {
    // A WFI with nothing pending in the list registers (arm.vcpu completes the others at
    // once); it completes (PC + 4) at this vCPU's next next_exit().
    slot.wake_at = wfx->deadline;
    return Next::Wait;
  } else if (exit.is<arm::Wfx>()) {
    // A WFE (trapped while the CPU has other vCPUs): the guest spins, typically on a lock
    // another vCPU of this CPU holds. The WFE completes; the others get their turn.
    return Next::Yield;
  } else if (auto* level = exit.get_if<arm::TimerLevel>()) {
    kick(vm.vgic.set_level(level->intid, level->high, index), cpu.index);
  } else if (auto* read = exit.get_if<arm::MmioRead>(); read != nullptr && vm.vgic.contains(read->address)) {
    // The list registers first, so that the guest reads what it acknowledged since entry.
    sync_list_registers(index, cpu.list_registers);
    read->complete(vm.vgic.read(index, read->address, read->size));
  } else if (auto* write = exit.get_if<arm::MmioWrite>();
             write != nullptr && vm.vgic.contains(write->address)) {
    kick(vm.vgic.write(index, write->address, write->size, write->value), cpu.index);
  } else if (auto* read = exit.get_if<arm::MmioRead>(); read != nullptr && in_uart(read->address)) {
    vm.uart_lock.lock();
    read->complete(vm.uart.read(read->address - kUartBase));
    // Room in the FIFO again: take what waits in the physical one.
    if (read->address - kUartBase == hv::EmulatedPl011::kDr) receive_console_input();
    update_uart_interrupt(cpu.index);  // reading the data register may drop the line
    vm.uart_lock.unlock();
  } else if (auto* write = exit.get_if<arm::MmioWrite>(); write != nullptr && in_uart(write->address)) {
    vm.uart_lock.lock();
    vm.uart.write(write->address - kUartBase, write->value);
    update_uart_interrupt(cpu.index);
    vm.uart_lock.unlock();
  } else if (auto* on = exit.get_if<arm::PsciCpuOn>()) {
    handle_psci_cpu_on(*on, cpu.index);
  } else if (auto* off = exit.get_if<arm::PsciCpuOff>()) {
    off->complete(arm::psci::Status::Success);
    return Next::Off;
  } else if (auto* suspend = exit.get_if<arm::PsciCpuSuspend>()) {
    // Every state as a standby (DEN0022 allows it): a WFI that returns SUCCESS.
    suspend->complete(arm::psci::Status::Success);
    slot.wake_at = vcpu.next_deadline();
    return Next::Wait;
  } else if (exit.is<arm::PsciSystemOff>()) {
    power_off(index, "guest powered off", 0);
  } else if (exit.is<arm::PsciSystemReset>()) {
    power_off(index, "guest asked for a reset, which this example does not support", 3);
  } else if (!handle_sysreg(exit, index, cpu.index)) {
    vm.stats[index].note_unexpected(exit, vcpu.registers().pc);  // the vCPU's default action follows
  }
  return Next::Run;
}

bool runnable(const VcpuSlot& slot) {
  switch (slot.state) {
    case VcpuState::Off: {
      arm::psci::AffinityState state;
      __atomic_load(&vm.psci_vcpus[slot.index].state, &state, __ATOMIC_ACQUIRE);
      return state == arm::psci::AffinityState::OnPending;
    }
    case VcpuState::Waiting:
      return vm.vgic.has_work(slot.index) || arm::read_sysreg<arm::SysReg::CNTPCT_EL0>() >= slot.wake_at;
    case VcpuState::Runnable:
      break;
  }
  return true;
}

bool other_runnable(const PhysicalCpu& cpu, const VcpuSlot& self) {
  for (unsigned n = 0; n < cpu.count; ++n)
    if (cpu.slots[n] != &self && runnable(*cpu.slots[n])) return true;
  return false;
}

// The earliest deadline of the vCPUs of `cpu` parked in WFI.
uint64_t earliest_wake(const PhysicalCpu& cpu) {
  uint64_t wake = arm::kNoDeadline;
  for (unsigned n = 0; n < cpu.count; ++n)
    if (cpu.slots[n]->state == VcpuState::Waiting) wake = arm::earliest(wake, cpu.slots[n]->wake_at);
  return wake;
}

// The EL2 physical timer while a vCPU runs on a CPU shared with others: the end of its time
// slice or, if earlier, a parked vCPU's deadline (which then need not wait for the slice).
void arm_cpu_timer(PhysicalCpu& cpu) {
  if (cpu.count < 2) return;  // alone on its CPU: nobody to give way to
  const uint64_t now = arm::read_sysreg<arm::SysReg::CNTPCT_EL0>();
  if (now >= cpu.slice_end)
    cpu.slice_end = now + arm::HypervisorTimer::frequency() * kTimeSliceUs / 1'000'000;
  // A parked vCPU whose deadline passed is runnable already: it gets its turn at the slice's end.
  const uint64_t wake = earliest_wake(cpu);
  arm::HypervisorTimer::start_at(wake > now ? arm::earliest(cpu.slice_end, wake) : cpu.slice_end);
}

// Nothing on this CPU can run: it sleeps at EL2 (WFI) until the earliest deadline of its
// parked vCPUs or an interrupt (a kick from another CPU, console input), then takes what
// arrived. A kick sent between the caller's last look at its vCPUs and the WFI is pending
// already, and a pending interrupt ends a WFI whatever PSTATE.I (Arm ARM D1 "Wait for
// Interrupt wake-up events").
void idle(PhysicalCpu& cpu) {
  const uint64_t wake = earliest_wake(cpu);
  if (wake != arm::kNoDeadline) arm::HypervisorTimer::start_at(wake);
  arm::wait_for_interrupt();
  arm::HypervisorTimer::stop();
  arm::PhysicalGic gic = gic_for(cpu.index);
  for (;;) {
    const uint32_t intid = gic.acknowledge();
    if (intid > kMaxIntid) break;
    gic.end_of_interrupt(intid);
    if (intid == kUartIntid)
      take_console_input(gic, cpu.index);
    else
      gic.deactivate(intid);  // the kick, the timer (stopped above), or nothing a guest owns now
  }
}

// A CPU_ON for the vCPU in `slot` arrived: a fresh vCPU at the entry point the guest named.
void start_vcpu(const PhysicalCpu& cpu, VcpuSlot& slot) {
  const unsigned index = slot.index;
  vm.vgic.map_hardware(arm::kVirtualTimerIntid, arm::kVirtualTimerIntid, index);
  if (vm.config.pmu) vm.vgic.map_hardware(arm::kPmuOverflowIntid, arm::kPmuOverflowIntid, index);
  if (slot.vcpu != nullptr) {
    vm.set_way_operations += slot.vcpu->set_way_operations();
    vm.guest_memory_flushes += slot.vcpu->guest_memory_flushes();
  }
  slot.vcpu = new (vcpu_storage[index])
      arm::VCpu{{.mpidr = index,
                 .entry = vm.cpu_entry[index],
                 .argument = vm.cpu_context[index],
                 .stage2_vttbr = vm.vttbr,
                 .trap_wfi = true,
                 .calls = &vm.calls,
                 .guest_memory = vm.guest_memory,
                 .pmu = vm.config.pmu ? arm::GuestPmu::Partitioned : arm::GuestPmu::None,
                 .cpu = cpu.features}};
  set_cpu_state(index, arm::psci::AffinityState::On);
}

// Takes the running vCPU off this CPU. put() disables its timers; a physical PPI 27 left
// active for it (hardware-linked in its vGIC) would block the timer of whatever runs here
// next. If its timer still fires when it runs again, the PPI fires again.
void switch_out(arm::PhysicalGic& gic, arm::VCpu& vcpu) {
  arm::HypervisorTimer::stop();
  vcpu.put();
  if (gic.private_interrupt_active(arm::kVirtualTimerIntid)) gic.deactivate(arm::kVirtualTimerIntid);
}

// The task of the vCPU in `slot` on physical CPU `cpu`: it runs the vCPU while it can and
// parks it (WFI, CPU_SUSPEND, CPU_OFF, before CPU_ON, preempted) so that the CPU's other vCPUs
// run, or the CPU sleeps when none can.
arm::Task<> vcpu_task(arm::FrameArena&, PhysicalCpu& cpu, VcpuSlot& slot) {
  arm::PhysicalGic gic = gic_for(cpu.index);
  for (;;) {
    while (!runnable(slot)) {
      if (other_runnable(cpu, slot))
        co_await cpu.scheduler.yield();
      else
        idle(cpu);
    }
    if (slot.state == VcpuState::Off) start_vcpu(cpu, slot);
    slot.state = VcpuState::Runnable;
    arm::VCpu& vcpu = *slot.vcpu;
    vcpu.load();
    sync_list_registers(slot.index, cpu.list_registers);
    cpu.reschedule = false;
    cpu.slice_end = 0;
    arm_cpu_timer(cpu);
    Next next = Next::Run;
    while (next == Next::Run) {
      arm::Exit& exit = co_await vcpu.next_exit();
      next = handle_exit(cpu, slot, vcpu, exit, gic);
      sync_guest_interrupts(slot.index, cpu.list_registers, gic, vcpu);
      // An interrupt that arrived since the WFI trapped is in a list register now: no wait.
      if (next == Next::Wait && list_register_pending(cpu.list_registers)) next = Next::Run;
      if (next == Next::Yield && !other_runnable(cpu, slot)) next = Next::Run;
      if (next != Next::Run || !cpu.reschedule) continue;
      cpu.reschedule = false;
      if (other_runnable(cpu, slot))
        next = Next::Yield;
      else
        arm_cpu_timer(cpu);
    }
    switch_out(gic, vcpu);
    if (next == Next::Off) {
      slot.state = VcpuState::Off;
      set_cpu_state(slot.index, arm::psci::AffinityState::Off);
    } else if (next == Next::Wait) {
      slot.state = VcpuState::Waiting;
    }
    co_await cpu.scheduler.yield();  // round robin: the others on this CPU first
  }
}

// Runs the vCPUs placed on physical CPU `index` (n % physical_cpu_count == index), whose
// features PerCpu probed. Never returns: SYSTEM_OFF ends the hypervisor.
[[noreturn]] void run_cpu(unsigned index, const arm::HardwareFeatures& features) {
  PhysicalCpu& cpu = cpu_table[index];
  cpu.index = index;
  cpu.features = &features;
  cpu.list_registers = arm::list_register_count() < arm::kMaxListRegisters ? arm::list_register_count()
                                                                           : arm::kMaxListRegisters;
  arm::PhysicalGic gic = gic_for(index);
  gic.init_this_cpu();
  gic.set_split_eoi(true);
  gic.enable_private_interrupt(arm::kVirtualTimerIntid);
  gic.enable_private_interrupt(arm::kPhysicalTimerIntid);
  gic.enable_private_interrupt(arm::HypervisorTimer::kIntid);
  gic.enable_private_interrupt(kMaintenanceIntid);
  gic.enable_private_interrupt(kKickSgi);
  if (vm.config.pmu) gic.enable_private_interrupt(arm::kPmuOverflowIntid);
  arm::Task<> tasks[hv::kMaxCpus];
  for (unsigned n = index; n < vm.config.cpus; n += physical_cpu_count) {
    VcpuSlot& slot = slots[n];
    slot.index = n;
    cpu.slots[cpu.count] = &slot;
    tasks[cpu.count] = vcpu_task(cpu.frames, cpu, slot);
    if (!cpu.scheduler.spawn(tasks[cpu.count])) power_off(n, "no room for the vCPU's task", 1);
    ++cpu.count;
  }
  cpu.scheduler.run();
  power_off(index, "a vCPU task ended", 1);
}

}  // namespace

// Secondary CPUs arrive here (runtime/el2/start.S) after firmware CPU_ON.
extern "C" void arm_el2_secondary_main(uint64_t cpu) {
  arm::PerCpu percpu;
  if (percpu.enable() != arm::EnableError::None) power_off(static_cast<unsigned>(cpu), "EL2 setup failed", 1);
  run_cpu(static_cast<unsigned>(cpu), percpu.features());
}

int main() {
  arm::PerCpu percpu;
  if (percpu.enable() != arm::EnableError::None) {
    printf("hypervisor: this CPU cannot host guests (no EL2 or no AArch64 EL1)\n");
    return 1;
  }
  const unsigned physical_cpus = hv::count_cpus(reinterpret_cast<const void*>(kHostDtb));
  printf("hypervisor: EL2 ready, %u CPU(s), %u-bit physical addresses\n", physical_cpus,
         percpu.features().physical_address_bits);
  if (!prepare_vm(physical_cpus)) return 1;
  arm::PhysicalGic boot_gic = gic_for(0);
  boot_gic.init_this_cpu();
  enable_console_input(boot_gic);
  vm.cpu_entry[0] = vm.config.entry;
  vm.cpu_context[0] = vm.dtb;
  set_cpu_state(0, arm::psci::AffinityState::OnPending);
  for (unsigned cpu = 1; cpu < physical_cpu_count; ++cpu) {
    if (const int64_t status = firmware_cpu_on(cpu); status != 0) {
      printf("hypervisor: firmware CPU_ON for CPU %u failed (%lld)\n", cpu, static_cast<long long>(status));
      return 1;
    }
  }
  run_cpu(0, percpu.features());
}
