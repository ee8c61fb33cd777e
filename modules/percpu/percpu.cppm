// arm.percpu: the state of one physical CPU as a virtualization host.
//
// probe() reads the ID registers instead of assuming the hardware; enable() installs the
// EL2 vectors and the EL2 configuration every guest on this CPU shares, remembering what
// was there; disable() puts it back.
module;
#include <arm/runtime/std_support.h>
export module arm.percpu;
export import arm.sysreg;

#if defined(__aarch64__)
extern "C" char arm_el2_vectors[];  // asm/vectors.S
#endif

export namespace arm {

// HCR_EL2 fields (Arm ARM D19.2, "HCR_EL2").
namespace hcr {
inline constexpr std::uint64_t kVm = 1ull << 0;         // stage 2 translation on
inline constexpr std::uint64_t kSwio = 1ull << 1;       // set/way invalidate acts as clean+invalidate
inline constexpr std::uint64_t kPtw = 1ull << 2;        // stage 1 walks into stage 2 Device memory fault
inline constexpr std::uint64_t kFmo = 1ull << 3;        // physical FIQ to EL2, virtual FIQ on
inline constexpr std::uint64_t kImo = 1ull << 4;        // physical IRQ to EL2, virtual IRQ on
inline constexpr std::uint64_t kAmo = 1ull << 5;        // SError to EL2, virtual SError on
inline constexpr std::uint64_t kFb = 1ull << 9;         // broadcast TLB/cache maintenance
inline constexpr std::uint64_t kBsuInner = 1ull << 10;  // BSU = 0b01: inner shareable
inline constexpr std::uint64_t kTwi = 1ull << 13;       // trap WFI
inline constexpr std::uint64_t kTwe = 1ull << 14;       // trap WFE
// Trap ID group 1: REVIDR_EL1, AIDR_EL1 and, with FEAT_SME, SMIDR_EL1 (Arm ARM D19.2
// HCR_EL2.TID1); arm.vcpu sets it to make SMIDR_EL1 UNDEFINED where it hides SME.
inline constexpr std::uint64_t kTid1 = 1ull << 16;
inline constexpr std::uint64_t kTid3 = 1ull << 18;   // trap ID group 3
inline constexpr std::uint64_t kTsc = 1ull << 19;    // trap SMC
inline constexpr std::uint64_t kTidcp = 1ull << 20;  // trap implementation defined sysregs
inline constexpr std::uint64_t kTacr = 1ull << 21;   // trap ACTLR_EL1 (answered by arm.vcpu)
inline constexpr std::uint64_t kTsw = 1ull << 22;    // trap data cache maintenance by set/way
inline constexpr std::uint64_t kTvm = 1ull << 26;    // trap writes of the EL1 VM control registers
inline constexpr std::uint64_t kTge = 1ull << 27;
inline constexpr std::uint64_t kRw = 1ull << 31;    // EL1 is AArch64
inline constexpr std::uint64_t kTlor = 1ull << 35;  // trap LORegion registers (FEAT_LOR)
inline constexpr std::uint64_t kApk = 1ull << 40;   // don't trap pointer authentication keys
inline constexpr std::uint64_t kApi = 1ull << 41;   // don't trap pointer authentication instructions
}  // namespace hcr

// CPTR_EL2 fields without VHE (Arm ARM D19.2, "CPTR_EL2", E2H == 0).
namespace cptr {
inline constexpr std::uint64_t kRes1 = (1ull << 13) | (1ull << 9) | 0xffull;
inline constexpr std::uint64_t kTz = 1ull << 8;    // trap SVE
inline constexpr std::uint64_t kTfp = 1ull << 10;  // trap FP/SIMD
inline constexpr std::uint64_t kTsm = 1ull << 12;  // trap SME
inline constexpr std::uint64_t kTta = 1ull << 20;  // trap trace registers
inline constexpr std::uint64_t kTam = 1ull << 30;  // trap activity monitors
// Trap EL1 accesses to CPACR_EL1 (EC 0x18). arm.vcpu sets it per vCPU at load() where it
// hides SVE or SME, so that it keeps the guest's view of CPACR_EL1 apart from the hardware's
// (VCpu::answer_cpacr_read()).
inline constexpr std::uint64_t kTcpac = 1ull << 31;
}  // namespace cptr

// MDCR_EL2 fields (Arm ARM D19.2, "MDCR_EL2").
// HFGRTR_EL2 and HFGWTR_EL2 (FEAT_FGT, Arm ARM D24.2), the fine-grained traps of EL1 and
// EL0 reads and writes of system registers, the same bit for both directions. The "n"
// fields trap when 0, so that a hypervisor that predates a feature traps its registers.
// Only these two are the library's: arm.vcpu clears them while a vCPU that hides SME runs
// (VCpu::load()) and puts back what the host had at put(); every other bit stays the host's.
// Where EL3 exists they act only with SCR_EL3.FGTEn set, which the firmware must do on a
// CPU with FEAT_FGT (as arm64 Linux requires to boot at EL2); without it an EL2 access to
// them traps to EL3.
namespace hfgxtr {
inline constexpr std::uint64_t kNSmpriEl1 = 1ull << 54;
inline constexpr std::uint64_t kNTpidr2El0 = 1ull << 55;
}  // namespace hfgxtr

namespace mdcr {
inline constexpr unsigned kHpmnShift = 0;  // counters [HPMN-1:0] belong to EL1
inline constexpr std::uint64_t kHpmnMask = 0x1full << kHpmnShift;
inline constexpr std::uint64_t kTpmcr = 1ull << 5;  // trap PMCR_EL0
inline constexpr std::uint64_t kTpm = 1ull << 6;    // trap PMU registers
inline constexpr std::uint64_t kHpme = 1ull << 7;   // enable counters [N-1:HPMN] (EL2's)
// FEAT_PMUv3p1: event counters [HPMN-1:0] do not count at EL2 (the cycle counter only with
// PMCR_EL0.DP, Arm ARM D12 "Prohibiting event and cycle counting").
inline constexpr std::uint64_t kHpmd = 1ull << 17;
// FEAT_PMUv3p5: the cycle counter does not count at EL2.
inline constexpr std::uint64_t kHccd = 1ull << 23;
// Trap the other debug registers at EL1 and EL0 (is_trapped_by_debug_access_trap): MDSCR_EL1,
// MDCCINT_EL1, the breakpoints and watchpoints, the claim tags, the DCC. Set by VCpu::load()
// and kept set while the guest runs: every access is answered inside run()
// (VCpu::switch_in_debug_registers()), the claim tags and the DCC from the vCPU's own state
// (arm.vcpu:context, read_debug_channel_register). The DCC's own trap, TDCC [27], exists
// only with FEAT_FGT, which the library does not use.
inline constexpr std::uint64_t kTda = 1ull << 9;
// Trap the powerdown debug registers at EL1: OSLAR_EL1, OSLSR_EL1, DBGPRCR_EL1 and, where
// FEAT_DoubleLock is implemented, OSDLR_EL1 (without it OSDLR_EL1 is RAZ/WI and not listed);
// without FEAT_DoPD also any IMPLEMENTATION DEFINED register of that kind. Set per vCPU by
// VCpu::load() (VCpuConfig::emulate_os_lock).
inline constexpr std::uint64_t kTdosa = 1ull << 10;
}  // namespace mdcr

// CNTHCTL_EL2 fields without VHE (Arm ARM D19.2, "CNTHCTL_EL2").
namespace cnthctl {
inline constexpr std::uint64_t kEl1pcten = 1ull << 0;  // EL1/EL0 read the physical counter
inline constexpr std::uint64_t kEl1pcen = 1ull << 1;   // EL1/EL0 use the physical timer
}  // namespace cnthctl

// VTCR_EL2 fields (Arm ARM D19.2, "VTCR_EL2"), 4 KiB granule.
namespace vtcr {
inline constexpr unsigned kT0szShift = 0;
inline constexpr unsigned kSl0Shift = 6;
inline constexpr unsigned kIrgn0Shift = 8;
inline constexpr unsigned kOrgn0Shift = 10;
inline constexpr unsigned kSh0Shift = 12;
inline constexpr unsigned kTg0Shift = 14;
inline constexpr unsigned kPsShift = 16;
inline constexpr std::uint64_t kRes1 = 1ull << 31;
inline constexpr std::uint64_t kWriteBackAllocate = 0b01;
inline constexpr std::uint64_t kInnerShareable = 0b11;
inline constexpr std::uint64_t kGranule4K = 0b00;
// The stage-2 layout the library uses: a 39-bit IPA space (T0SZ = 25) whose walk starts
// at level 1 (SL0 = 1), one 4 KiB root table of 512 x 1 GiB entries. Walks are inner
// shareable write-back cacheable (IRGN0/ORGN0/SH0), matching how the tables are written:
// through EL2's stage 1 map, which makes RAM Normal write-back inner shareable
// (runtime/el2/mmu.c), so walker and writer agree without cache maintenance.
inline constexpr unsigned kIpaBits = 39;
inline constexpr std::uint64_t kSl0StartLevel1 = 0b01;
}  // namespace vtcr

// ICC_SRE_EL2 (Arm IHI 0069, 12.2.13): SRE, DFB, DIB and Enable (EL1 may use ICC_SRE_EL1).
inline constexpr std::uint64_t kIccSreEl2 = 0b1111;

// What probe() found. Every field comes from an ID register (Arm ARM D19.2).
struct HardwareFeatures {
  bool el2_implemented = false;        // ID_AA64PFR0_EL1.EL2 != 0
  bool el1_aarch64 = false;            // ID_AA64PFR0_EL1.EL1 != 0
  bool vhe = false;                    // ID_AA64MMFR1_EL1.VH
  bool fp = false;                     // ID_AA64PFR0_EL1.FP != 0xf
  bool advanced_simd = false;          // ID_AA64PFR0_EL1.AdvSIMD != 0xf
  bool sve = false;                    // ID_AA64PFR0_EL1.SVE != 0
  bool sme = false;                    // ID_AA64PFR1_EL1.SME [27:24] != 0
  bool gic_system_registers = false;   // ID_AA64PFR0_EL1.GIC != 0
  unsigned physical_address_bits = 0;  // from ID_AA64MMFR0_EL1.PARange
  std::uint8_t pa_range = 0;           // the raw PARange field, for VTCR_EL2.PS
  unsigned vmid_bits = 8;              // ID_AA64MMFR1_EL1.VMIDBits: 8 or 16
  unsigned pmu_counters = 0;           // PMCR_EL0.N
  bool pointer_auth = false;           // FEAT_PAuth: ID_AA64ISAR1_EL1, ID_AA64ISAR2_EL1
  bool lor = false;                    // FEAT_LOR: ID_AA64MMFR1_EL1.LO != 0
  bool fine_grained_traps = false;     // FEAT_FGT: ID_AA64MMFR0_EL1.FGT [59:56] != 0
  std::uint64_t midr = 0;              // MIDR_EL1, what a guest reads (VPIDR_EL2)
  // ID_AA64DFR0_EL1 as it is: its BRPs/WRPs and PMUVer decide which debug and PMU registers
  // a vCPU may switch (arm.vcpu reads them: debug_register_counts, pmu_version).
  std::uint64_t id_aa64dfr0 = 0;
};

// Whether the CPU has pointer authentication, whose keys are EL1 state a vCPU must switch
// (Arm ARM D19.2, ID_AA64ISAR1_EL1 APA [7:4], API [11:8], GPA [27:24], GPI [31:28];
// ID_AA64ISAR2_EL1 GPA3 [11:8], APA3 [15:12]).
constexpr bool has_pointer_auth(std::uint64_t isar1, std::uint64_t isar2) noexcept {
  auto field = [](std::uint64_t value, unsigned low) { return (value >> low) & 0xf; };
  return field(isar1, 4) != 0 || field(isar1, 8) != 0 || field(isar1, 24) != 0 || field(isar1, 28) != 0 ||
         field(isar2, 8) != 0 || field(isar2, 12) != 0;
}

// ID_AA64MMFR0_EL1.PARange encodings to address bits.
constexpr unsigned physical_address_bits(std::uint64_t pa_range) noexcept {
  constexpr unsigned kBits[] = {32, 36, 40, 42, 44, 48, 52};
  return pa_range < 7 ? kBits[pa_range] : 0;
}

constexpr HardwareFeatures features_from(std::uint64_t pfr0, std::uint64_t mmfr0, std::uint64_t mmfr1,
                                         std::uint64_t pmcr) noexcept {
  auto field = [](std::uint64_t value, unsigned low) { return (value >> low) & 0xf; };
  HardwareFeatures features;
  features.el1_aarch64 = field(pfr0, 4) != 0;
  features.el2_implemented = field(pfr0, 8) != 0;
  features.fp = field(pfr0, 16) != 0xf;
  features.advanced_simd = field(pfr0, 20) != 0xf;
  features.gic_system_registers = field(pfr0, 24) != 0;
  features.sve = field(pfr0, 32) != 0;
  features.pa_range = static_cast<std::uint8_t>(field(mmfr0, 0));
  features.physical_address_bits = physical_address_bits(features.pa_range);
  features.vmid_bits = field(mmfr1, 4) == 0b0010 ? 16 : 8;
  features.vhe = field(mmfr1, 8) != 0;
  features.lor = field(mmfr1, 16) != 0;
  features.fine_grained_traps = field(mmfr0, 56) != 0;
  features.pmu_counters = static_cast<unsigned>((pmcr >> 11) & 0x1f);
  return features;
}

inline HardwareFeatures probe() noexcept {
  HardwareFeatures features =
      features_from(read_sysreg<SysReg::ID_AA64PFR0_EL1>(), read_sysreg<SysReg::ID_AA64MMFR0_EL1>(),
                    read_sysreg<SysReg::ID_AA64MMFR1_EL1>(), read_sysreg<SysReg::PMCR_EL0>());
  features.pointer_auth =
      has_pointer_auth(read_sysreg<SysReg::ID_AA64ISAR1_EL1>(), read_sysreg<SysReg::ID_AA64ISAR2_EL1>());
  features.sme = ((read_sysreg<SysReg::ID_AA64PFR1_EL1>() >> 24) & 0xf) != 0;
  features.midr = read_sysreg<SysReg::MIDR_EL1>();
  features.id_aa64dfr0 = read_sysreg<SysReg::ID_AA64DFR0_EL1>();
  return features;
}

// The guest's HCR_EL2: what a VCpuConfig decides, per vCPU.
struct GuestHcrOptions {
  bool route_interrupts_to_el2 = true;  // IMO, FMO, AMO
  bool trap_wfi = true;                 // TWI
  bool trap_wfe = false;                // TWE
  bool trap_smc = true;                 // TSC
  bool stage2 = false;                  // VM
  bool trap_id_registers = false;       // TID3
};

// The one place HCR_EL2 is composed for a guest, bit by bit (Arm ARM DDI 0487 M.c D24.2.61
// "HCR_EL2"), next to what Linux KVM sets (HCR_GUEST_FLAGS, arch/arm64/include/asm/kvm_arm.h).
// arm.vcpu adds TVM while it watches for a cache toggle after a set/way operation
// (VCpu::answer_set_way_maintenance()); nothing else changes it while the guest runs.
//   RW      EL1 is AArch64 (the library runs no AArch32 guest).
//   IMO, FMO, AMO  physical IRQ, FIQ, SError go to EL2 and the virtual ones are enabled, as KVM
//           (options.route_interrupts_to_el2).
//   TWI, TWE, TSC, VM, TID3  per vCPU from its VCpuConfig (KVM sets TWI, TWE, TSC, VM, TID3 too;
//           it clears TWE for a vCPU alone on its CPU, as VCpuConfig::trap_wfe defaults).
//   FB, BSU = inner shareable  TLB and cache maintenance by the guest is broadcast, barriers
//           upgraded to inner shareable: a vCPU that moves to another CPU finds its TLB
//           invalidations done there too (KVM: FB, BSU_IS).
//   TSW     DC ISW/CSW/CISW (and with FEAT_MTE2 DC IGSW, IGDSW, CGSW, CGDSW, CIGSW, CIGDSW)
//           trap: by set/way they act on this CPU's physical caches, shared with the
//           hypervisor and other VMs, and miss the guest's lines in other CPUs' caches and in
//           system caches (Arm ARM D7.5.9.12 "Effects of All and set/way maintenance
//           instructions"). arm.vcpu turns them into clean and invalidate by VA of the VM's
//           memory (KVM: TSW, kvm_set_way_flush).
//   SWIO    set: a DC ISW that reaches the hardware cleans too. With VM = 1 the hardware does
//           that anyway (D7.5.9.2 "The data cache maintenance instruction (DC)"); with TSW it
//           never reaches the hardware; it stays for a guest run without stage 2 (KVM: SWIO).
//   TIDCP   accesses to the IMPLEMENTATION DEFINED system registers (op0 = 3, CRn = 11 or 15)
//           trap and are UNDEFINED, as on a CPU without them: what they control is unknown and
//           may reach beyond the guest (KVM: TIDCP, undefined). arm.vcpu answers the writes
//           inside run(); the reads reach the hypervisor, whose default is UNDEFINED.
//   TACR    ACTLR_EL1 traps: its bits are IMPLEMENTATION DEFINED controls of the physical CPU
//           (errata workarounds, prefetchers); arm.vcpu answers it as a register the guest
//           reads and cannot change (KVM: TACR).
//   TLOR    with FEAT_LOR, the LORegion registers trap and are UNDEFINED (as for TIDCP);
//           ID_AA64MMFR1_EL1.LO reads 0 (features.cppm): LORegions are not switched per vCPU
//           (KVM: TLOR, LO hidden). Without FEAT_LOR the bit is RES0 and stays 0.
//   PTW     set: a stage 1 walk whose table address is Device memory at stage 2 takes a stage
//           2 Permission fault instead of reading a device as a translation table (Arm ARM
//           D24.2.61 HCR_EL2.PTW). The stage 2 tables map RAM only as Normal memory today,
//           so it changes nothing there; a device a hypervisor maps into a guest keeps the
//           guest's walks out of it (KVM: PTW).
//   APK, API  with FEAT_PAuth, pointer authentication does not trap: its keys are EL1 state
//           the guest owns (load()/put()). Without it they are RES0 and stay 0 (the guest
//           fuzzer found them set on a CPU without PAuth, where HCR_EL2 read back differently).
// Not set, with the reason:
//   TVM, TRVM  trap the EL1 VM control registers: only while arm.vcpu watches for a cache
//           toggle after a set/way operation (TVM), as KVM does.
//   TID1, TID2, TID0  KVM traps TID2 (cache geometry, to show one set and one way so that a
//           set/way loop costs one trap) and TID1 (REVIDR, AIDR); here the guest reads the
//           hardware's values: the cache geometry is real, a set/way loop costs a trap per line.
//   FWB     (FEAT_S2FWB) KVM sets it so stage 2 alone decides cacheability; the stage 2 tables
//           here use the MemAttr encoding for FWB = 0 (arm.stage2), and the guest's own
//           Non-cacheable accesses with its caches off stay Non-cacheable.
//   TERR, TEA  (FEAT_RAS) KVM traps error record accesses and routes synchronous external
//           aborts to EL2 on RAS hardware; the library does not emulate error records yet.
//   E2H, TGE  this is an EL2 host without VHE; both 0 while a guest runs.
//   ATA, TPU, TPCP, TOCU, TICAB, TDZ, TTLB  not set, as under KVM: the guest's cache and TLB
//           maintenance by VA and DC ZVA act on its own translations (and MTE is hidden).
constexpr std::uint64_t guest_hcr(const HardwareFeatures& cpu, const GuestHcrOptions& options) noexcept {
  std::uint64_t hcr =
      hcr::kRw | hcr::kFb | hcr::kBsuInner | hcr::kTsw | hcr::kSwio | hcr::kTidcp | hcr::kTacr | hcr::kPtw;
  if (options.route_interrupts_to_el2) hcr |= hcr::kImo | hcr::kFmo | hcr::kAmo;
  if (options.trap_wfi) hcr |= hcr::kTwi;
  if (options.trap_wfe) hcr |= hcr::kTwe;
  if (options.trap_smc) hcr |= hcr::kTsc;
  if (options.stage2) hcr |= hcr::kVm;
  if (options.trap_id_registers) hcr |= hcr::kTid3;
  if (cpu.lor) hcr |= hcr::kTlor;
  if (cpu.pointer_auth) hcr |= hcr::kApk | hcr::kApi;
  return hcr;
}

// The EL2 configuration shared by every guest on a CPU (the per-vCPU HCR_EL2 is set by
// the vCPU at entry, from this base).
struct El2Config {
  std::uint64_t vbar = 0;
  std::uint64_t hcr = 0;
  std::uint64_t mdcr = 0;
  std::uint64_t cptr = 0;
  std::uint64_t cnthctl = 0;
  std::uint64_t vtcr = 0;
};

// The EL2 configuration for this hardware. Guests: AArch64 EL1, interrupts and SErrors
// routed to EL2, SMC trapped, pointer authentication allowed, TLB and cache maintenance
// broadcast inner shareable. FP/SIMD untrapped (the host never uses it), SVE and SME
// trapped (their state is not switched), PMU owned by the host, physical timer trapped
// so EL2 keeps it, virtual timer and counter for the guest.
constexpr El2Config default_el2_config(const HardwareFeatures& features, std::uint64_t vbar) noexcept {
  El2Config config;
  config.vbar = vbar;
  config.hcr = guest_hcr(features, {});
  config.cptr = cptr::kRes1 | cptr::kTz | cptr::kTsm | cptr::kTam | cptr::kTta;
  config.mdcr = (std::uint64_t{features.pmu_counters} << mdcr::kHpmnShift) | mdcr::kTpm | mdcr::kTpmcr;
  config.cnthctl = cnthctl::kEl1pcten;
  const std::uint64_t ps = features.pa_range > 6 ? 6 : features.pa_range;
  config.vtcr = vtcr::kRes1 | ((64 - vtcr::kIpaBits) << vtcr::kT0szShift) |
                (vtcr::kSl0StartLevel1 << vtcr::kSl0Shift) | (vtcr::kWriteBackAllocate << vtcr::kIrgn0Shift) |
                (vtcr::kWriteBackAllocate << vtcr::kOrgn0Shift) | (vtcr::kInnerShareable << vtcr::kSh0Shift) |
                (vtcr::kGranule4K << vtcr::kTg0Shift) | (ps << vtcr::kPsShift);
  return config;
}

inline El2Config read_el2_config() noexcept {
  return El2Config{read_sysreg<SysReg::VBAR_EL2>(),    read_sysreg<SysReg::HCR_EL2>(),
                   read_sysreg<SysReg::MDCR_EL2>(),    read_sysreg<SysReg::CPTR_EL2>(),
                   read_sysreg<SysReg::CNTHCTL_EL2>(), read_sysreg<SysReg::VTCR_EL2>()};
}

inline void write_el2_config(const El2Config& config) noexcept {
  write_sysreg<SysReg::VBAR_EL2>(config.vbar);
  write_sysreg<SysReg::HCR_EL2>(config.hcr);
  write_sysreg<SysReg::MDCR_EL2>(config.mdcr);
  write_sysreg<SysReg::CPTR_EL2>(config.cptr);
  write_sysreg<SysReg::CNTHCTL_EL2>(config.cnthctl);
  write_sysreg<SysReg::VTCR_EL2>(config.vtcr);
  instruction_barrier();
}

// The EL2 physical timer (CNTHP_*_EL2, Arm ARM D11.2 "The Generic Timer in AArch64
// state"): the hypervisor's own timer, which a guest cannot read or program. Armed before
// entering a guest, it is the watchdog that bounds a guest that never traps: its interrupt
// (PPI 26, routed to EL2 by HCR_EL2.IMO) ends the guest's run with an ExternalInterrupt
// exit even when the guest masked its own interrupts. The hypervisor enables the PPI at
// its interrupt controller (PhysicalGic::enable_private_interrupt).
class HypervisorTimer {
 public:
  static constexpr std::uint32_t kIntid = 26;  // Server Base System Architecture PPI map
  // CNTHP_CTL_EL2 fields.
  static constexpr std::uint64_t kEnable = 1ull << 0;
  static constexpr std::uint64_t kInterruptMask = 1ull << 1;
  static constexpr std::uint64_t kInterruptStatus = 1ull << 2;

  // Counter ticks per second (CNTFRQ_EL0).
  static std::uint64_t frequency() noexcept { return read_sysreg<SysReg::CNTFRQ_EL0>(); }
  // Fires `ticks` counter ticks from now (CNTHP_CVAL_EL2 = CNTPCT_EL0 + ticks).
  static void start(std::uint64_t ticks) noexcept {
    write_sysreg<SysReg::CNTHP_CVAL_EL2>(read_sysreg<SysReg::CNTPCT_EL0>() + ticks);
    write_sysreg<SysReg::CNTHP_CTL_EL2>(kEnable);
    instruction_barrier();
  }
  // Fires when the physical count reaches `count` (an absolute CNTHP_CVAL_EL2), e.g. a
  // parked vCPU's next_deadline().
  static void start_at(std::uint64_t count) noexcept {
    write_sysreg<SysReg::CNTHP_CVAL_EL2>(count);
    write_sysreg<SysReg::CNTHP_CTL_EL2>(kEnable);
    instruction_barrier();
  }
  // The same in microseconds.
  static void start_us(std::uint64_t microseconds) noexcept { start(frequency() * microseconds / 1'000'000); }
  // Disarms the timer, which also withdraws its (level-sensitive) interrupt.
  static void stop() noexcept {
    write_sysreg<SysReg::CNTHP_CTL_EL2>(0);
    instruction_barrier();
  }
  // Whether the deadline has passed while armed (CNTHP_CTL_EL2.ISTATUS).
  static bool expired() noexcept {
    const std::uint64_t control = read_sysreg<SysReg::CNTHP_CTL_EL2>();
    return (control & kEnable) != 0 && (control & kInterruptStatus) != 0;
  }
};

// Why enable() refused to run.
enum class EnableError : std::uint8_t { None, NoEl2, El1NotAArch64, AlreadyEnabled };

// One physical CPU as a virtualization host.
class PerCpu {
 public:
  // Probes the hardware, installs the EL2 vectors and configuration, and keeps what was
  // there for disable().
  EnableError enable() noexcept {
    if (enabled_) return EnableError::AlreadyEnabled;
    features_ = probe();
    if (!features_.el2_implemented) return EnableError::NoEl2;
    if (!features_.el1_aarch64) return EnableError::El1NotAArch64;
    previous_ = read_el2_config();
    config_ = default_el2_config(features_, vector_base());
    write_el2_config(config_);
    if (features_.gic_system_registers) {
      // EL2 uses the GIC system registers (ICH_*) and lets EL1 use them (ICC_SRE_EL2).
      write_sysreg<SysReg::ICC_SRE_EL2>(kIccSreEl2);
      instruction_barrier();
    }
    enabled_ = true;
    return EnableError::None;
  }

  // Restores the EL2 configuration enable() found.
  void disable() noexcept {
    if (!enabled_) return;
    write_el2_config(previous_);
    enabled_ = false;
  }

  bool enabled() const noexcept { return enabled_; }
  const HardwareFeatures& features() const noexcept { return features_; }
  const El2Config& config() const noexcept { return config_; }
  const El2Config& previous_config() const noexcept { return previous_; }

 private:
  static std::uint64_t vector_base() noexcept {
#if defined(__aarch64__)
    return reinterpret_cast<std::uint64_t>(arm_el2_vectors);
#else
    return 0;  // the host build has no vectors; tests check the rest of the configuration
#endif
  }

  HardwareFeatures features_;
  El2Config config_;
  El2Config previous_;
  bool enabled_ = false;
};

}  // namespace arm
