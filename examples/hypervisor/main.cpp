// The example hypervisor: boots guest kernels (an arm64 Linux Image by default) at EL1 on
// QEMU's virt machine: one or several VMs, whose vCPUs together run on M physical CPUs
// (more vCPUs than CPUs allowed).
//
//  - VMs: each has its own RAM (hv.cfg memory=), stage 2 with its own VMID, vGIC, timers,
//    emulated UART and PSCI state (struct Vm). A guest reaches nothing of another VM: its
//    stage 2 maps only its RAM, its device accesses go to its own Vm, its SGIs and CPU_ONs
//    name only its own vCPUs.
//  - Memory: the hypervisor keeps 0x40000000-0x41000000 (QEMU's DTB, its configuration,
//    its image, stacks, stage-2 tables); the VMs get the rest of RAM, in VM order, each
//    mapped 1:1 by its stage 2. The hypervisor's memory is never mapped into a guest.
//  - Devices: the GICv3 distributor and redistributors are emulated by arm.vgic (not in
//    stage 2: the physical GIC is the hypervisor's alone); the guest's GIC CPU interface is
//    the virtual one (list registers, filled by arm.vgic). The PL011 UART is emulated by
//    trap-and-emulate (hv.pl011); with several VMs each output line gets a "[vmN] " prefix,
//    and console input goes to vm0. Every other device is left out of the guest's DT.
//  - Interrupts: physical interrupts exit to the hypervisor, which acknowledges them. The
//    virtual timer's PPI is a level input of arm.vgic linked to the physical one (HW bit),
//    followed at exits while it is high; the emulated EL1 physical timer's (PPI 30) is a
//    level input too, from the vCPU's TimerLevel events and its hardware copy's PPI; the
//    emulated UART's line is a level input of arm.vgic; the guest's SGIs go through
//    arm.vgic, with a physical SGI (kKickSgi) to the CPU a target vCPU is placed on.
//  - Scheduling: the vCPUs of all VMs are numbered in VM order (slots); slot s runs on CPU
//    s mod M. Each physical CPU runs an arm::Scheduler of vCPU tasks (vcpu_task). WFI is
//    trapped; a WFI, CPU_SUSPEND or CPU_OFF parks the task, and the CPU runs another vCPU
//    (put() the old, load() the new, sync its list registers) or sleeps at EL2 until the
//    earliest deadline or a kick. vGIC work, a timer deadline and CPU_ON make a vCPU
//    runnable. With more than one vCPU on a CPU, the EL2 physical timer preempts after a
//    10 ms slice and WFE yields.
//  - Firmware: the guest's PSCI calls (method "smc") are answered by arm.smc; the physical
//    CPUs are started through the real firmware at boot; CPU_ON makes the vCPU runnable on
//    its CPU. SYSTEM_OFF (or SYSTEM_RESET, unsupported) ends the VM; the hypervisor ends
//    with the last VM, after printing exits by type, with status 0 if every VM powered off.
//
// Configuration: hv.cfg (see config.cppm); tools/run-hypervisor writes it.
#include <arm/asm/context.h>
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
import hv.platform;
import hv.stats;

extern "C" void arm_console_putc(char c);
extern "C" void arm_el2_console_set_pl011(uint64_t base);
extern "C" char arm_el2_secondary_entry[];
extern "C" uint64_t arm_boot_argument;  // x0 at entry (runtime/el2/start.S): the device tree
extern "C" char __image_end[];

namespace {

// Where QEMU puts the device tree for an ELF image it boots directly (hw/arm/boot.c: the
// start of RAM), which it does not pass in x0; a boot loader (booti) passes it in x0.
constexpr uint64_t kQemuElfDtb = ARM_EL2_RAM_BASE;
constexpr uint64_t kHostDtbMaxSize = 0x10'0000;
// The hypervisor keeps the first 16 MiB of RAM (the device tree QEMU puts there, hv.cfg,
// its image, stacks and stage-2 tables); the VMs' RAM starts above.
constexpr uint64_t kHypervisorMemory = 0x100'0000;
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

// The physical console (the PL011 every VM's output and the hypervisor's messages share).
SpinLock console_lock;

struct Vm;
void vm_console_output(void* context, char c);

// One VM: its RAM, stage 2 (with its own VMID), vGIC, emulated UART, PSCI table and vCPUs.
// Nothing in one Vm refers to another: a guest reaches only what its Vm holds.
struct Vm {
  unsigned id = 0;
  hv::VmConfig config;
  uint64_t ram_base = 0;
  uint64_t ram_size = 0;
  uint64_t dtb = 0;
  uint64_t vttbr = 0;
  unsigned first_slot = 0;  // its vCPU n is slots[first_slot + n]
  SpinLock uart_lock;       // the emulated UART, shared by the VM's vCPUs
  hv::EmulatedPl011 uart{vm_console_output, this};
  // With several VMs, what the guest wrote since its last newline: lines reach the console
  // whole, after a "[vmN] " prefix.
  char line[160] = {};
  unsigned line_length = 0;
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
  // Set once by the vCPU that ends the VM (SYSTEM_OFF, SYSTEM_RESET): its other vCPUs stop
  // at their next exit. `status` is what the VM ended with (0: powered off).
  bool stopped = false;
  int status = 0;
};
Vm vms[hv::kMaxVms];
unsigned vm_count = 0;
unsigned running_vms = 0;  // VMs not stopped yet; the hypervisor ends when none is left

// "vmN: " in the hypervisor's messages about a VM when there are several, "" with one.
struct VmLabel {
  char text[8];
};
VmLabel label(const Vm& vm) {
  VmLabel label{};
  if (vm_count > 1) snprintf(label.text, sizeof label.text, "vm%u: ", vm.id);
  return label;
}

// What a guest transmits on its emulated UART. With one VM the characters go straight to
// the console; with several, whole lines with a "[vmN] " prefix, so that each line says
// which VM wrote it (a line longer than the buffer is split, each part prefixed). Called
// with the VM's UART lock.
void vm_console_output(void* context, char c) {
  Vm& vm = *static_cast<Vm*>(context);
  if (vm_count == 1) {
    console_lock.lock();
    arm_console_putc(c);
    console_lock.unlock();
    return;
  }
  vm.line[vm.line_length++] = c;
  if (c != '\n' && vm.line_length != sizeof vm.line) return;
  console_lock.lock();
  char prefix[8];
  snprintf(prefix, sizeof prefix, "[vm%u] ", vm.id);
  for (const char* p = prefix; *p != '\0'; ++p) arm_console_putc(*p);
  for (unsigned n = 0; n < vm.line_length; ++n) arm_console_putc(vm.line[n]);
  if (c != '\n') {
    arm_console_putc('\r');
    arm_console_putc('\n');
  }
  vm.line_length = 0;
  console_lock.unlock();
}

// Physical CPUs that run vCPUs: min(all VMs' vCPUs, QEMU's -smp). The vCPUs of all VMs are
// numbered in VM order (slots); slot s runs on CPU s % this.
unsigned physical_cpu_count = 1;
unsigned vcpu_count = 0;  // slots in use
unsigned cpu_of(unsigned slot) { return slot % physical_cpu_count; }

// A vCPU as its physical CPU's scheduler sees it.
enum class VcpuState : uint8_t {
  Off,       // before CPU_ON, after CPU_OFF: runnable once psci_vcpus says OnPending
  Runnable,  // running, or preempted and waiting for its turn
  Waiting,   // parked in WFI: runnable on vGIC work or at wake_at
  Stopped,   // its VM ended: never runs again
};
struct VcpuSlot {
  Vm* vm = nullptr;
  unsigned index = 0;  // within its VM: its MPIDR, its vGIC redistributor, its PSCI entry
  unsigned slot = 0;   // among all VMs' vCPUs
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

// Each VM's stage-2 tables, from its own pool of pages, tagged with its own VMID.
constexpr unsigned kStage2PagesPerVm = 16;
struct Stage2 {
  arm::PagePool pool;
  arm::Stage2Table table;
  Stage2(void* pages, uint16_t vmid) : pool(pages, kStage2PagesPerVm), table(pool, vmid) {}
};
alignas(4096) unsigned char stage2_pages[hv::kMaxVms][kStage2PagesPerVm * 4096];
alignas(Stage2) unsigned char stage2_storage[hv::kMaxVms][sizeof(Stage2)];

// The machine, from its device tree (hv.platform), and that device tree, copied into the
// hypervisor's own memory: a boot loader may leave it anywhere in RAM, even where a VM's
// RAM will be.
hv::Platform platform;
alignas(8) unsigned char host_dtb[kHostDtbMaxSize];
uint64_t guest_ram_base = 0;                        // the first VM's RAM
uint64_t redistributor[hv::kMaxPhysicalCpus] = {};  // each physical CPU's GICR (RD_base)

arm::PhysicalGic gic_for(unsigned cpu) { return arm::PhysicalGic{platform.gicd, redistributor[cpu]}; }

// Finds the redistributor of the CPU with `mpidr` in the first redistributor region: the
// frame whose GICR_TYPER Affinity_Value (Aff3.Aff2.Aff1.Aff0) names it (the order of frames
// is the GIC's, not the device tree's). 0 if none does.
uint64_t find_redistributor(uint64_t mpidr) {
  const uint64_t affinity = ((mpidr >> 32 & 0xff) << 24) | (mpidr & 0xff'ffff);
  for (uint64_t frame = platform.gicr; frame + platform.gicr_stride <= platform.gicr + platform.gicr_size;
       frame += platform.gicr_stride) {
    const uint64_t typer = *reinterpret_cast<volatile uint64_t*>(frame + arm::gicr::TYPER);
    if ((typer >> arm::gicr::kTyperAffinityShift) == affinity) return frame;
    if ((typer & arm::gicr::kTyperLast) != 0) break;
  }
  return 0;
}

// Copies the device tree the hypervisor was given (x0; else where QEMU puts one for an ELF),
// reads the platform from it, maps its devices at EL2 and finds every CPU's redistributor.
bool read_machine() {
  uint64_t dtb = arm_boot_argument;
  if (dtb == 0 || !arm::fdt::Reader::valid(reinterpret_cast<const void*>(dtb), kHostDtbMaxSize))
    dtb = kQemuElfDtb;
  if (!arm::fdt::Reader::valid(reinterpret_cast<const void*>(dtb), kHostDtbMaxSize)) {
    printf("hypervisor: no device tree in x0 (0x%llx) or at 0x%llx\n",
           static_cast<unsigned long long>(arm_boot_argument), static_cast<unsigned long long>(kQemuElfDtb));
    return false;
  }
  const uint32_t size = arm::fdt::Reader(reinterpret_cast<const void*>(dtb)).total_size();
  __builtin_memcpy(host_dtb, reinterpret_cast<const void*>(dtb), size);
  hv::PlatformError error;
  if (!hv::read_platform(host_dtb, platform, error)) {
    printf("hypervisor: device tree at 0x%llx: %s\n", static_cast<unsigned long long>(dtb), error.message);
    return false;
  }
  arm_el2_console_set_pl011(platform.uart);
  // The first CPU in the table is this one, the boot CPU: the others are started from it.
  const uint64_t self = arm::read_sysreg<arm::SysReg::MPIDR_EL1>() & arm::kMpidrAffinityMask;
  for (unsigned n = 0; n < platform.cpus; ++n) {
    if ((platform.mpidr[n] & arm::kMpidrAffinityMask) != self) continue;
    const uint64_t first = platform.mpidr[0];
    platform.mpidr[0] = platform.mpidr[n];
    platform.mpidr[n] = first;
  }
  const bool mapped = arm_el2_map_device(platform.gicd, 0x1'0000) &&
                      arm_el2_map_device(platform.gicr, platform.gicr_size) &&
                      arm_el2_map_device(platform.uart, hv::EmulatedPl011::kSize);
  if (!mapped) {
    printf("hypervisor: the GIC or the console lies where the EL2 map has memory\n");
    return false;
  }
  for (unsigned n = 0; n < platform.cpus; ++n) {
    redistributor[n] = find_redistributor(platform.mpidr[n]);
    if (redistributor[n] == 0) {
      printf("hypervisor: no redistributor for CPU %u (MPIDR 0x%llx)\n", n,
             static_cast<unsigned long long>(platform.mpidr[n]));
      return false;
    }
  }
  // The VMs' RAM: above the hypervisor's, and within what EL2 maps as memory.
  guest_ram_base = platform.ram_base + kHypervisorMemory;
  if (platform.ram_base < ARM_EL2_MMU_RAM_BASE || reinterpret_cast<uint64_t>(__image_end) > guest_ram_base) {
    printf("hypervisor: RAM at 0x%llx: the image must lie in its first 16 MiB, within the EL2 map\n",
           static_cast<unsigned long long>(platform.ram_base));
    return false;
  }
  printf(
      "hypervisor: RAM 0x%llx-0x%llx, GICD 0x%llx, GICR 0x%llx, console PL011 0x%llx (INTID %u), hv.cfg at "
      "0x%llx%s\n",
      static_cast<unsigned long long>(platform.ram_base),
      static_cast<unsigned long long>(platform.ram_base) + platform.ram_size,
      static_cast<unsigned long long>(platform.gicd), static_cast<unsigned long long>(platform.gicr),
      static_cast<unsigned long long>(platform.uart), platform.uart_intid,
      static_cast<unsigned long long>(platform.config), platform.config_from_dt ? " (from /chosen)" : "");
  return true;
}

bool overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a < b + b_size && b < a + a_size;
}

unsigned long long mib(uint64_t bytes) { return static_cast<unsigned long long>(bytes >> 20); }

// Reads hv.cfg; on error says what is wrong, where and in which VM.
bool read_config(hv::Config& config) {
  hv::ConfigError error;
  if (hv::parse_config(reinterpret_cast<const char*>(platform.config), platform.config_size, config, error))
    return true;
  char where[32] = "";
  if (error.line != 0 && error.vm != hv::ConfigError::kNoVm)
    snprintf(where, sizeof where, " line %u, vm%d", error.line, error.vm);
  else if (error.line != 0)
    snprintf(where, sizeof where, " line %u", error.line);
  else if (error.vm != hv::ConfigError::kNoVm)
    snprintf(where, sizeof where, ", vm%d", error.vm);
  printf("hypervisor: hv.cfg%s: %s\n", where, error.message);
  printf("hypervisor: no usable configuration at 0x%llx (see examples/hypervisor/config.cppm)\n",
         static_cast<unsigned long long>(platform.config));
  return false;
}

// Gives each VM its RAM: in VM order from guest_ram_base, each its memory= size, the one
// without memory= what the others leave. RAM beyond the EL2 map's window is not used.
bool lay_out_memory(const hv::Config& config) {
  uint64_t requested = 0;
  for (unsigned n = 0; n < config.vm_count; ++n) requested += config.vms[n].memory;
  uint64_t ram_end = platform.ram_base + platform.ram_size;
  if (ram_end > ARM_EL2_MMU_RAM_BASE + ARM_EL2_MMU_RAM_SIZE)
    ram_end = ARM_EL2_MMU_RAM_BASE + ARM_EL2_MMU_RAM_SIZE;
  const uint64_t available = ram_end > guest_ram_base ? ram_end - guest_ram_base : 0;
  if (requested > available) {
    printf("hypervisor: the VMs' memory= add up to %llu MiB; RAM has %llu MiB for guests\n", mib(requested),
           mib(available));
    return false;
  }
  uint64_t base = guest_ram_base;
  for (unsigned n = 0; n < config.vm_count; ++n) {
    Vm& vm = vms[n];
    vm.ram_base = base;
    vm.ram_size = config.vms[n].memory != 0 ? config.vms[n].memory
                                            : (available - requested) & ~(hv::kMemoryGranule - 1);
    if (vm.ram_size <= 2 * kGuestDtbSize) {
      printf("hypervisor: vm%u: memory=%llu MiB is too small (its DTB takes the last 2 MiB)\n", n,
             mib(vm.ram_size));
      return false;
    }
    base += vm.ram_size;
  }
  return true;
}

// Validates VM `vm`'s kernel and initrd against its RAM, builds its stage 2 and its DTB.
bool prepare_vm(Vm& vm) {
  const hv::VmConfig& config = vm.config;
  const VmLabel who = label(vm);
  const uint64_t ram_end = vm.ram_base + vm.ram_size;
  vm.dtb = ram_end - kGuestDtbSize;
  uint64_t kernel_size = 0x100'0000;  // a raw binary: assume 16 MiB for the overlap checks
  const bool in_ram = config.kernel >= vm.ram_base && config.kernel < vm.dtb;
  const auto* header = reinterpret_cast<const ImageHeader*>(config.kernel);
  if (in_ram && header->magic == kImageMagic) {
    kernel_size = header->image_size != 0 ? header->image_size : 0x100'0000;
    if (((config.kernel - header->text_offset) & 0x1f'ffff) != 0) {
      printf(
          "hypervisor: %san arm64 Image must sit text_offset (0x%llx) above a 2 MiB boundary; "
          "kernel=0x%llx\n",
          who.text, static_cast<unsigned long long>(header->text_offset),
          static_cast<unsigned long long>(config.kernel));
      return false;
    }
    printf("hypervisor: %sarm64 Image at 0x%llx, %llu bytes\n", who.text,
           static_cast<unsigned long long>(config.kernel), static_cast<unsigned long long>(kernel_size));
  } else if (in_ram) {
    printf("hypervisor: %sraw binary at 0x%llx, entry 0x%llx\n", who.text,
           static_cast<unsigned long long>(config.kernel), static_cast<unsigned long long>(config.entry));
    kernel_size = vm.dtb - config.kernel < kernel_size ? vm.dtb - config.kernel : kernel_size;
  }
  if (!in_ram || config.kernel + kernel_size > vm.dtb) {
    printf("hypervisor: vm%u: kernel=0x%llx (+0x%llx) is outside its RAM [0x%llx, 0x%llx)\n", vm.id,
           static_cast<unsigned long long>(config.kernel), static_cast<unsigned long long>(kernel_size),
           static_cast<unsigned long long>(vm.ram_base), static_cast<unsigned long long>(vm.dtb));
    return false;
  }
  if (config.initrd != 0 && (config.initrd < vm.ram_base || config.initrd + config.initrd_size > vm.dtb ||
                             overlaps(config.initrd, config.initrd_size, config.kernel, kernel_size))) {
    printf("hypervisor: vm%u: initrd=0x%llx (+%llu) overlaps the kernel or leaves its RAM [0x%llx, 0x%llx)\n",
           vm.id, static_cast<unsigned long long>(config.initrd),
           static_cast<unsigned long long>(config.initrd_size), static_cast<unsigned long long>(vm.ram_base),
           static_cast<unsigned long long>(vm.dtb));
    return false;
  }
  // VMID 0 is left unused: VM n's TLB entries are tagged n + 1.
  auto* stage2 = new (stage2_storage[vm.id]) Stage2(stage2_pages[vm.id], static_cast<uint16_t>(vm.id + 1));
  if (const arm::MapError error = stage2->table.map(vm.ram_base, vm.ram_base, vm.ram_size, arm::kGuestRam);
      error != arm::MapError::None) {
    printf("hypervisor: vm%u: building stage 2 failed (error %u)\n", vm.id, static_cast<unsigned>(error));
    return false;
  }
  vm.vttbr = stage2->table.vttbr();
  vm.vgic.reset({.vcpus = config.cpus < arm::kVgicMaxVcpus ? config.cpus : arm::kVgicMaxVcpus,
                 .spis = 64,
                 .gicd_base = platform.gicd,
                 .gicr_base = platform.gicr});

  hv::GuestDtInput dt;
  dt.ram_base = vm.ram_base;
  dt.ram_size = vm.ram_size;
  dt.vcpus = config.cpus;
  dt.bootargs = config.cmdline;
  dt.pmu = config.pmu;
  if (config.initrd != 0) {
    dt.initrd_start = config.initrd;
    dt.initrd_end = config.initrd + config.initrd_size;
  }
  dt.stdout_path = platform.uart_path;
  const unsigned long dtb_size =
      hv::build_guest_dt(host_dtb, sizeof host_dtb, dt, reinterpret_cast<void*>(vm.dtb), kGuestDtbSize);
  if (dtb_size == 0) return false;
  arm_el2_clean_to_poc(reinterpret_cast<const void*>(vm.dtb), dtb_size);  // the guest starts with caches off
  printf("hypervisor: %sguest RAM 0x%llx-0x%llx (%llu MiB), DTB at 0x%llx (%lu bytes), %u vCPU(s)\n",
         who.text, static_cast<unsigned long long>(vm.ram_base), static_cast<unsigned long long>(ram_end),
         mib(vm.ram_size), static_cast<unsigned long long>(vm.dtb), dtb_size, config.cpus);

  for (unsigned i = 0; i < config.cpus; ++i)
    vm.psci_vcpus[i] = {.mpidr = i, .state = arm::psci::AffinityState::Off};
  vm.guest_ram[0] = {vm.ram_base, vm.ram_size};
  vm.calls.psci.vcpus = {vm.psci_vcpus, config.cpus};
  vm.calls.psci.memory = vm.guest_ram;
  vm.guest_memory[0] = {vm.ram_base, vm.ram_size};
  vm.calls.psci.address_bits = arm::vtcr::kIpaBits;
  return true;
}

// Reads the configuration and prepares every VM it describes.
bool prepare_vms(unsigned physical_cpus) {
  static hv::Config config;
  if (!read_config(config)) return false;
  vm_count = config.vm_count;
  if (!lay_out_memory(config)) return false;
  for (unsigned n = 0; n < vm_count; ++n) {
    Vm& vm = vms[n];
    vm.id = n;
    vm.config = config.vms[n];
    vm.first_slot = vcpu_count;
    for (unsigned i = 0; i < vm.config.cpus; ++i)
      slots[vcpu_count + i] = {.vm = &vm, .index = i, .slot = vcpu_count + i};
    vcpu_count += vm.config.cpus;
    if (!prepare_vm(vm)) return false;
  }
  running_vms = vm_count;
  physical_cpu_count = vcpu_count < physical_cpus ? vcpu_count : physical_cpus;
  printf("hypervisor: %u VM(s), %u vCPU(s) on %u CPU(s)\n", vm_count, vcpu_count, physical_cpu_count);
  return true;
}

// Starts physical CPU `cpu` (the device tree's MPIDR) through the firmware's PSCI.
int64_t firmware_cpu_on(unsigned cpu) {
  arm::smccc::CallRegisters call;
  call.x[0] = arm::psci::kCpuOn64;
  call.x[1] = platform.mpidr[cpu];
  call.x[2] = reinterpret_cast<uint64_t>(arm_el2_secondary_entry);
  call.x[3] = cpu;  // context id: arm_el2_secondary_main's argument
  arm::smccc::SmcConduit firmware;
  return static_cast<int64_t>(arm::smccc::call_firmware(firmware, call).x[0]);
}

void set_cpu_state(Vm& vm, unsigned index, arm::psci::AffinityState state) {
  __atomic_store(&vm.psci_vcpus[index].state, &state, __ATOMIC_RELEASE);
}

// The guest's set/way cache maintenance in `vm`, which the vCPUs answer inside run() (never
// an exit): Linux issues none once booted; a count here means a guest emptied its caches by
// set/way. Called with the console lock.
void set_way_summary(const Vm& vm) {
  uint64_t operations = vm.set_way_operations;
  uint64_t flushes = vm.guest_memory_flushes;
  for (unsigned n = 0; n < vm.config.cpus; ++n) {
    const VcpuSlot& slot = slots[vm.first_slot + n];
    if (slot.vcpu == nullptr) continue;
    operations += slot.vcpu->set_way_operations();
    flushes += slot.vcpu->guest_memory_flushes();
  }
  printf("hypervisor: %s%llu set/way cache operations, %llu flushes of guest RAM\n", label(vm).text,
         static_cast<unsigned long long>(operations), static_cast<unsigned long long>(flushes));
}

// Prints every VM's exits by type and ends the hypervisor (PSCI SYSTEM_OFF to the firmware,
// through picolibc's exit()), with `status`.
[[noreturn]] void end_hypervisor(int status) {
  console_lock.lock();
  for (unsigned n = 0; n < vm_count; ++n) {
    hv::ExitStats total;
    for (unsigned i = 0; i < vms[n].config.cpus; ++i) total.add(vms[n].stats[i]);
    total.print(label(vms[n]).text);
    set_way_summary(vms[n]);
  }
  exit(status);
}

// Something the hypervisor cannot go on without.
[[noreturn]] void fatal(const char* why, unsigned cpu) {
  console_lock.lock();
  printf("\nhypervisor: %s (CPU %u)\n", why, cpu);
  console_lock.unlock();
  end_hypervisor(1);
}

void kick_cpu(unsigned cpu);

// vCPU `index` of `vm` ended its VM (`why`, with `status`). The VM's other vCPUs stop at
// their next exit (their CPUs are kicked); the hypervisor ends with the last VM, with the
// first nonzero status any VM ended with.
void stop_vm(Vm& vm, unsigned index, const char* why, int status, unsigned self) {
  console_lock.lock();
  printf("\nhypervisor: %s%s (vCPU %u)\n", label(vm).text, why, index);
  console_lock.unlock();
  vm.status = status;
  __atomic_store_n(&vm.stopped, true, __ATOMIC_RELEASE);
  for (unsigned n = 0; n < vm.config.cpus; ++n)
    if (cpu_of(vm.first_slot + n) != self) kick_cpu(cpu_of(vm.first_slot + n));
  if (__atomic_sub_fetch(&running_vms, 1u, __ATOMIC_ACQ_REL) != 0) return;
  int first_failure = 0;
  for (unsigned n = 0; n < vm_count && first_failure == 0; ++n) first_failure = vms[n].status;
  end_hypervisor(first_failure);
}

bool stopped(const Vm& vm) { return __atomic_load_n(&vm.stopped, __ATOMIC_ACQUIRE); }

// The physical PL011 is the hypervisor's console; what it receives is the input of vm0's
// guest (with several VMs the others get none). Its receive interrupts (DDI 0183 3.3.13
// UARTIMSC: RXIM, RTIM) raise its physical SPI (platform.uart_intid), which the hypervisor owns (each
// guest's distributor is its arm.vgic's): it is enabled and routed to the boot CPU in the
// physical distributor, and what it brings in becomes the level of vm0's emulated UART's
// line in its vGIC.
Vm& console_input_vm() { return vms[0]; }

volatile uint32_t* physical_uart(uint64_t offset) {
  return reinterpret_cast<volatile uint32_t*>(platform.uart + offset);
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
  gic.enable_shared_interrupt(platform.uart_intid, /*affinity=*/platform.mpidr[0]);
}

// Moves what the physical UART received into the emulated one, as far as its FIFO takes;
// the rest stays in the physical one (read only when there is room, so nothing is lost).
// Called with the UART lock of console_input_vm().
void receive_console_input() {
  hv::EmulatedPl011& uart = console_input_vm().uart;
  while (uart.can_receive() && (*physical_uart(hv::EmulatedPl011::kFr) & hv::EmulatedPl011::kFrRxfe) == 0)
    uart.receive(static_cast<char>(*physical_uart(hv::EmulatedPl011::kDr) & 0xff));
  set_console_input_enabled(uart.can_receive());
}

// Physical SGI kKickSgi to physical CPU `cpu`, which makes it exit its guest or its sleep.
void kick_cpu(unsigned cpu) {
  // The vGIC's and the PSCI table's stores before the SGI that makes the target look at them.
  asm volatile("dsb ish" ::: "memory");
  arm::write_sysreg<arm::SysReg::ICC_SGI1R_EL1>(arm::encode_sgi(kKickSgi, platform.mpidr[cpu]));
  arm::instruction_barrier();
}

// The vCPUs of `vm` in `kicks` (bit n = its vCPU n) have new work in its vGIC: the CPUs they
// are placed on take it up. Another CPU gets a physical SGI (it exits its guest, or wakes
// from its sleep, and looks at its parked vCPUs); on this one (`self`) the running vCPU
// gives way after the current exit if one of them can run now.
void kick(const Vm& vm, uint32_t kicks, unsigned self) {
  uint32_t cpus = 0;
  for (unsigned n = 0; n < vm.config.cpus; ++n)
    if ((kicks & (1u << n)) != 0) cpus |= 1u << cpu_of(vm.first_slot + n);
  if ((cpus & (1u << self)) != 0) cpu_table[self].reschedule = true;
  cpus &= ~(1u << self);
  for (unsigned cpu = 0; cpu < physical_cpu_count; ++cpu)
    if ((cpus & (1u << cpu)) != 0) kick_cpu(cpu);
}

// arm.smc already refused a CPU_ON for a vCPU that is on or starting, or that its VM does not
// have (from psci_vcpus). The target's CPU starts it (it may be this one): its scheduler sees
// OnPending.
void handle_psci_cpu_on(Vm& vm, arm::PsciCpuOn& on, unsigned self) {
  const unsigned target = static_cast<unsigned>(on.target);
  vm.cpu_entry[target] = on.entry;
  vm.cpu_context[target] = on.context_id;
  set_cpu_state(vm, target, arm::psci::AffinityState::OnPending);
  const unsigned cpu = cpu_of(vm.first_slot + target);
  if (cpu == self)
    cpu_table[self].reschedule = true;
  else
    kick_cpu(cpu);
  on.complete(arm::psci::Status::Success);
}

// A VM's emulated UART's interrupt line is a level input of its vGIC. Called with the VM's
// UART lock, on physical CPU `self`.
void update_uart_interrupt(Vm& vm, unsigned self) {
  kick(vm, vm.vgic.set_level(platform.uart_intid, vm.uart.interrupt_pending()), self);
}

// The physical UART's receive interrupt: what it received goes to the emulated one.
// Level-sensitive: with the FIFO drained (or the emulated one full, when the physical line
// stays high until the guest reads) deactivating it is safe.
void take_console_input(arm::PhysicalGic& gic, unsigned self) {
  Vm& vm = console_input_vm();
  vm.uart_lock.lock();
  receive_console_input();
  update_uart_interrupt(vm, self);
  vm.uart_lock.unlock();
  gic.deactivate(platform.uart_intid);
}

// A physical interrupt arrived while the guest ran: acknowledge it and hand it to the
// guest. With split EOI (ICC_CTLR_EL1.EOImode = 1) the EOI only drops the priority; the
// guest's own deactivation of the linked virtual interrupt deactivates the physical one.
void forward_physical_interrupt(PhysicalCpu& cpu, VcpuSlot& slot, arm::PhysicalGic& gic, arm::VCpu& vcpu) {
  Vm& vm = *slot.vm;
  const unsigned index = slot.index;
  const uint32_t intid = gic.acknowledge();
  if (intid > kMaxIntid) return;  // spurious
  gic.end_of_interrupt(intid);
  if (intid == platform.uart_intid) {
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
    kick(vm, vm.vgic.set_level(intid, lines.physical_timer, index), cpu.index);
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
void sync_list_registers(Vm& vm, unsigned index, unsigned list_registers) {
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
void sync_guest_interrupts(Vm& vm, unsigned index, unsigned list_registers, arm::PhysicalGic& gic,
                           const arm::VCpu& vcpu) {
  const bool dropped = vm.virtual_timer_high[index] && !vcpu.virtual_timer_output();
  if (dropped) {
    vm.virtual_timer_high[index] = false;
    vm.vgic.set_level(arm::kVirtualTimerIntid, false, index);
  }
  sync_list_registers(vm, index, list_registers);
  if (dropped && !in_list_registers(arm::kVirtualTimerIntid, list_registers) &&
      gic.private_interrupt_active(arm::kVirtualTimerIntid))
    gic.deactivate(arm::kVirtualTimerIntid);
}

bool in_uart(uint64_t address) {
  return address >= platform.uart && address < platform.uart + hv::EmulatedPl011::kSize;
}

// Registers the hypervisor answers itself: SGI generation (arm.vgic makes the SGI pending
// for the vCPUs the value names; with a single Security state ICC_SGI0R_EL1 and
// ICC_ASGI1R_EL1 name their targets the same way). The PMU never gets here: the vCPU
// either lends the guest its partition of the PMU or makes its registers UNDEFINED
// (VCpuConfig::pmu).
bool handle_sysreg(Vm& vm, arm::Exit& exit, unsigned index, unsigned self) {
  if (auto* write = exit.get_if<arm::SysRegWrite>()) {
    if (write->encoding == arm::SysReg::ICC_SGI1R_EL1 || write->encoding == arm::SysReg::ICC_ASGI1R_EL1 ||
        write->encoding == arm::SysReg::ICC_SGI0R_EL1) {
      kick(vm, vm.vgic.send_sgi(index, write->value), self);
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

// An exit the hypervisor has no handler for, reported (the first few of each vCPU).
void note_unexpected(Vm& vm, unsigned index, const arm::Exit& exit, uint64_t pc) {
  console_lock.lock();
  vm.stats[index].note_unexpected(exit, pc, label(vm).text);
  console_lock.unlock();
}

// What the running vCPU does after an exit.
enum class Next : uint8_t {
  Run,    // back into the guest
  Wait,   // parked until an interrupt or its deadline (WFI, CPU_SUSPEND)
  Off,    // parked until a CPU_ON (CPU_OFF)
  Stop,   // its VM ended (SYSTEM_OFF, SYSTEM_RESET, by this vCPU or another)
  Yield,  // runnable, but another vCPU of this CPU gets its turn (time slice, wake-up)
};

// Handles one exit of the vCPU in `slot`, running on `cpu`.
Next handle_exit(PhysicalCpu& cpu, VcpuSlot& slot, arm::VCpu& vcpu, arm::Exit& exit, arm::PhysicalGic& gic) {
  Vm& vm = *slot.vm;
  const unsigned index = slot.index;
  vm.stats[index].count(exit);
  if (exit.is<arm::ExternalInterrupt>()) {
    forward_physical_interrupt(cpu, slot, gic, vcpu);
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
    kick(vm, vm.vgic.set_level(level->intid, level->high, index), cpu.index);
  } else if (auto* read = exit.get_if<arm::MmioRead>(); read != nullptr && vm.vgic.contains(read->address)) {
    // The list registers first, so that the guest reads what it acknowledged since entry.
    sync_list_registers(vm, index, cpu.list_registers);
    read->complete(vm.vgic.read(index, read->address, read->size));
  } else if (auto* write = exit.get_if<arm::MmioWrite>();
             write != nullptr && vm.vgic.contains(write->address)) {
    kick(vm, vm.vgic.write(index, write->address, write->size, write->value), cpu.index);
  } else if (auto* read = exit.get_if<arm::MmioRead>(); read != nullptr && in_uart(read->address)) {
    vm.uart_lock.lock();
    read->complete(vm.uart.read(read->address - platform.uart));
    // Room in the FIFO again: take what waits in the physical one.
    if (read->address - platform.uart == hv::EmulatedPl011::kDr && &vm == &console_input_vm())
      receive_console_input();
    update_uart_interrupt(vm, cpu.index);  // reading the data register may drop the line
    vm.uart_lock.unlock();
  } else if (auto* write = exit.get_if<arm::MmioWrite>(); write != nullptr && in_uart(write->address)) {
    vm.uart_lock.lock();
    vm.uart.write(write->address - platform.uart, write->value);
    update_uart_interrupt(vm, cpu.index);
    vm.uart_lock.unlock();
  } else if (auto* on = exit.get_if<arm::PsciCpuOn>()) {
    handle_psci_cpu_on(vm, *on, cpu.index);
  } else if (auto* off = exit.get_if<arm::PsciCpuOff>()) {
    off->complete(arm::psci::Status::Success);
    return Next::Off;
  } else if (auto* suspend = exit.get_if<arm::PsciCpuSuspend>()) {
    // Every state as a standby (DEN0022 allows it): a WFI that returns SUCCESS.
    suspend->complete(arm::psci::Status::Success);
    slot.wake_at = vcpu.next_deadline();
    return Next::Wait;
  } else if (exit.is<arm::PsciSystemOff>()) {
    stop_vm(vm, index, "guest powered off", 0, cpu.index);
    return Next::Stop;
  } else if (exit.is<arm::PsciSystemReset>()) {
    stop_vm(vm, index, "guest asked for a reset, which this example does not support", 3, cpu.index);
    return Next::Stop;
  } else if (auto* write = exit.get_if<arm::MmioWrite>()) {
    // Nothing there (outside the VM's RAM and its devices): a bus error, as a read is.
    note_unexpected(vm, index, exit, vcpu.registers().pc);
    write->reject();
  } else if (!handle_sysreg(vm, exit, index, cpu.index)) {
    note_unexpected(vm, index, exit, vcpu.registers().pc);  // the vCPU's default action follows
  }
  return Next::Run;
}

bool runnable(const VcpuSlot& slot) {
  const Vm& vm = *slot.vm;
  if (stopped(vm)) return false;
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
    case VcpuState::Stopped:
      return false;
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
    if (intid == platform.uart_intid)
      take_console_input(gic, cpu.index);
    else
      gic.deactivate(intid);  // the kick, the timer (stopped above), or nothing a guest owns now
  }
}

// A CPU_ON for the vCPU in `slot` arrived: a fresh vCPU at the entry point the guest named.
void start_vcpu(const PhysicalCpu& cpu, VcpuSlot& slot) {
  Vm& vm = *slot.vm;
  const unsigned index = slot.index;
  vm.vgic.map_hardware(arm::kVirtualTimerIntid, arm::kVirtualTimerIntid, index);
  if (vm.config.pmu) vm.vgic.map_hardware(arm::kPmuOverflowIntid, arm::kPmuOverflowIntid, index);
  if (slot.vcpu != nullptr) {
    vm.set_way_operations += slot.vcpu->set_way_operations();
    vm.guest_memory_flushes += slot.vcpu->guest_memory_flushes();
  }
  slot.vcpu = new (vcpu_storage[slot.slot])
      arm::VCpu{{.mpidr = index,
                 .entry = vm.cpu_entry[index],
                 .argument = vm.cpu_context[index],
                 .stage2_vttbr = vm.vttbr,
                 .trap_wfi = true,
                 .calls = &vm.calls,
                 .guest_memory = vm.guest_memory,
                 .pmu = vm.config.pmu ? arm::GuestPmu::Partitioned : arm::GuestPmu::None,
                 .cpu = cpu.features}};
  set_cpu_state(vm, index, arm::psci::AffinityState::On);
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
// run, or the CPU sleeps when none can. Once its VM has ended it never runs again.
arm::Task<> vcpu_task(arm::FrameArena&, PhysicalCpu& cpu, VcpuSlot& slot) {
  arm::PhysicalGic gic = gic_for(cpu.index);
  Vm& vm = *slot.vm;
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
    sync_list_registers(vm, slot.index, cpu.list_registers);
    cpu.reschedule = false;
    cpu.slice_end = 0;
    arm_cpu_timer(cpu);
    Next next = Next::Run;
    while (next == Next::Run) {
      arm::Exit& exit = co_await vcpu.next_exit();
      next = handle_exit(cpu, slot, vcpu, exit, gic);
      if (stopped(vm)) next = Next::Stop;  // by another vCPU of the VM, which kicked this CPU
      sync_guest_interrupts(vm, slot.index, cpu.list_registers, gic, vcpu);
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
    if (next == Next::Stop) {
      slot.state = VcpuState::Stopped;
    } else if (next == Next::Off) {
      slot.state = VcpuState::Off;
      set_cpu_state(vm, slot.index, arm::psci::AffinityState::Off);
    } else if (next == Next::Wait) {
      slot.state = VcpuState::Waiting;
    }
    co_await cpu.scheduler.yield();  // round robin: the others on this CPU first
  }
}

// Runs the vCPUs placed on physical CPU `index` (slot s with s % physical_cpu_count ==
// index), whose features PerCpu probed. Never returns: the last VM's end ends the hypervisor.
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
  for (unsigned n = 0; n < vm_count; ++n)
    if (vms[n].config.pmu) gic.enable_private_interrupt(arm::kPmuOverflowIntid);
  arm::Task<> tasks[hv::kMaxCpus];
  for (unsigned n = index; n < vcpu_count; n += physical_cpu_count) {
    VcpuSlot& slot = slots[n];
    cpu.slots[cpu.count] = &slot;
    tasks[cpu.count] = vcpu_task(cpu.frames, cpu, slot);
    if (!cpu.scheduler.spawn(tasks[cpu.count])) fatal("no room for a vCPU's task", index);
    ++cpu.count;
  }
  cpu.scheduler.run();
  fatal("a vCPU task ended", index);
}

}  // namespace

// Secondary CPUs arrive here (runtime/el2/start.S) after firmware CPU_ON.
extern "C" void arm_el2_secondary_main(uint64_t cpu) {
  arm::PerCpu percpu;
  if (percpu.enable() != arm::EnableError::None) fatal("EL2 setup failed", static_cast<unsigned>(cpu));
  run_cpu(static_cast<unsigned>(cpu), percpu.features());
}

int main() {
  arm::PerCpu percpu;
  if (percpu.enable() != arm::EnableError::None) {
    printf("hypervisor: this CPU cannot host guests (no EL2 or no AArch64 EL1)\n");
    return 1;
  }
  if (!read_machine()) return 1;
  printf("hypervisor: EL2 ready, %u CPU(s), %u-bit physical addresses\n", platform.cpus,
         percpu.features().physical_address_bits);
  if (!prepare_vms(platform.cpus)) return 1;
  arm::PhysicalGic boot_gic = gic_for(0);
  boot_gic.init_this_cpu();
  enable_console_input(boot_gic);
  // Every VM starts as a board does: its vCPU 0 at the kernel's entry with the DTB in x0.
  for (unsigned n = 0; n < vm_count; ++n) {
    Vm& vm = vms[n];
    vm.cpu_entry[0] = vm.config.entry;
    vm.cpu_context[0] = vm.dtb;
    set_cpu_state(vm, 0, arm::psci::AffinityState::OnPending);
  }
  for (unsigned cpu = 1; cpu < physical_cpu_count; ++cpu) {
    if (const int64_t status = firmware_cpu_on(cpu); status != 0) {
      printf("hypervisor: firmware CPU_ON for CPU %u failed (%lld)\n", cpu, static_cast<long long>(status));
      return 1;
    }
  }
  run_cpu(0, percpu.features());
}
