// arm.gic: the GICv3 pieces a hypervisor needs (Arm IHI 0069, "GIC architecture
// specification, GICv3 and GICv4"):
//  - list register encoding for virtual interrupt injection (ICH_LR<n>_EL2, 12.4),
//  - the virtual CPU interface state a vCPU carries between load() and put(),
//  - a minimal physical GIC driver for EL2 images: wake the redistributor, enable a PPI,
//    acknowledge and end an interrupt.
module;
#include <arm/runtime/std_support.h>
export module arm.gic;
import arm.sysreg;

export namespace arm {

// ICH_LR<n>_EL2 fields (IHI 0069, 12.4.6).
namespace ich_lr {
inline constexpr unsigned kVirtualIntidShift = 0;    // vINTID [31:0]
inline constexpr unsigned kPhysicalIntidShift = 32;  // pINTID [44:32], with HW == 1
inline constexpr unsigned kPriorityShift = 48;       // Priority [55:48]
inline constexpr std::uint64_t kGroup1 = 1ull << 60;
inline constexpr std::uint64_t kHardware = 1ull << 61;  // deactivating vINTID deactivates pINTID
inline constexpr unsigned kStateShift = 62;             // State [63:62]
inline constexpr std::uint64_t kStatePending = 0b01;
inline constexpr std::uint64_t kStateActive = 0b10;
inline constexpr std::uint64_t kStateMask = 0b11ull << kStateShift;
}  // namespace ich_lr

// ICH_HCR_EL2.En: the virtual CPU interface signals virtual interrupts (12.4.5).
inline constexpr std::uint64_t kIchHcrEnable = 1ull << 0;

// The library switches this many list registers (GICv3 implementations have 1-16;
// ICH_VTR_EL2.ListRegs says how many, and QEMU's has 4).
inline constexpr unsigned kMaxListRegisters = 4;

// A virtual interrupt to make pending in a guest.
struct VirtualInterrupt {
  std::uint32_t intid = 0;
  std::uint8_t priority = 0xa0;  // lower value = higher priority
  bool group1 = true;            // Linux uses group 1
  // Set to link it to a physical interrupt the hypervisor acknowledged but did not
  // deactivate: the guest's deactivation then deactivates the physical one.
  bool hardware = false;
  std::uint32_t physical_intid = 0;
};

constexpr std::uint64_t list_register_value(const VirtualInterrupt& interrupt) noexcept {
  using namespace ich_lr;
  std::uint64_t value = (std::uint64_t{interrupt.intid} << kVirtualIntidShift) |
                        (std::uint64_t{interrupt.priority} << kPriorityShift) |
                        (kStatePending << kStateShift);
  if (interrupt.group1) value |= kGroup1;
  if (interrupt.hardware)
    value |= kHardware | (std::uint64_t{interrupt.physical_intid & 0x1fff} << kPhysicalIntidShift);
  return value;
}
constexpr bool list_register_free(std::uint64_t value) noexcept { return (value & ich_lr::kStateMask) == 0; }
constexpr std::uint32_t list_register_intid(std::uint64_t value) noexcept {
  return static_cast<std::uint32_t>(value);
}

// The guest's virtual CPU interface, kept in the vCPU while it is not on a CPU.
struct VgicState {
  std::uint64_t hcr = kIchHcrEnable;
  std::uint64_t vmcr = 0;
  std::uint64_t ap0r0 = 0;
  std::uint64_t ap1r0 = 0;
  std::uint64_t lr[kMaxListRegisters] = {};
};

namespace detail {
template <unsigned N>
inline std::uint64_t read_lr() noexcept {
  if constexpr (N == 0) return read_sysreg<SysReg::ICH_LR0_EL2>();
  if constexpr (N == 1) return read_sysreg<SysReg::ICH_LR1_EL2>();
  if constexpr (N == 2) return read_sysreg<SysReg::ICH_LR2_EL2>();
  if constexpr (N == 3) return read_sysreg<SysReg::ICH_LR3_EL2>();
}
template <unsigned N>
inline void write_lr(std::uint64_t value) noexcept {
  if constexpr (N == 0) write_sysreg<SysReg::ICH_LR0_EL2>(value);
  if constexpr (N == 1) write_sysreg<SysReg::ICH_LR1_EL2>(value);
  if constexpr (N == 2) write_sysreg<SysReg::ICH_LR2_EL2>(value);
  if constexpr (N == 3) write_sysreg<SysReg::ICH_LR3_EL2>(value);
}
}  // namespace detail

inline std::uint64_t read_list_register(unsigned n) noexcept {
  switch (n) {
    case 0:
      return detail::read_lr<0>();
    case 1:
      return detail::read_lr<1>();
    case 2:
      return detail::read_lr<2>();
    default:
      return detail::read_lr<3>();
  }
}
inline void write_list_register(unsigned n, std::uint64_t value) noexcept {
  switch (n) {
    case 0:
      detail::write_lr<0>(value);
      break;
    case 1:
      detail::write_lr<1>(value);
      break;
    case 2:
      detail::write_lr<2>(value);
      break;
    default:
      detail::write_lr<3>(value);
      break;
  }
}

// Number of list registers the hardware has, capped at kMaxListRegisters
// (ICH_VTR_EL2.ListRegs [4:0] is the count minus one).
inline unsigned list_register_count() noexcept {
  const unsigned count = static_cast<unsigned>(read_sysreg<SysReg::ICH_VTR_EL2>() & 0x1f) + 1;
  return count < kMaxListRegisters ? count : kMaxListRegisters;
}

inline void save_vgic(VgicState& state, unsigned list_registers) noexcept {
  state.vmcr = read_sysreg<SysReg::ICH_VMCR_EL2>();
  state.ap0r0 = read_sysreg<SysReg::ICH_AP0R0_EL2>();
  state.ap1r0 = read_sysreg<SysReg::ICH_AP1R0_EL2>();
  for (unsigned n = 0; n < list_registers; ++n) state.lr[n] = read_list_register(n);
  // The next vCPU on this CPU must not see these interrupts.
  write_sysreg<SysReg::ICH_HCR_EL2>(0);
}

inline void restore_vgic(const VgicState& state, unsigned list_registers) noexcept {
  write_sysreg<SysReg::ICH_VMCR_EL2>(state.vmcr);
  write_sysreg<SysReg::ICH_AP0R0_EL2>(state.ap0r0);
  write_sysreg<SysReg::ICH_AP1R0_EL2>(state.ap1r0);
  for (unsigned n = 0; n < list_registers; ++n) write_list_register(n, state.lr[n]);
  write_sysreg<SysReg::ICH_HCR_EL2>(state.hcr);
}

// INTID ranges (IHI 0069, 2.2): SGIs 0-15, PPIs 16-31, SPIs 32-1019, special 1020-1023.
inline constexpr std::uint32_t kSpuriousIntid = 1023;

// A minimal driver for the physical GICv3 at EL2, for the hypervisor's own interrupts.
// Addresses come from the caller (the DTB or the board): QEMU virt has the distributor
// at 0x08000000 and the redistributors at 0x080a0000, 0x20000 apart.
class PhysicalGic {
 public:
  PhysicalGic(std::uintptr_t distributor, std::uintptr_t redistributor) noexcept
      : distributor_(distributor), redistributor_(redistributor) {}

  // Enables the distributor for group 1, wakes this CPU's redistributor and opens the
  // CPU interface (priority mask, group 1 enable). Requires PerCpu::enable(), which turns
  // on the system register interface at EL2 (ICC_SRE_EL2).
  void init_this_cpu() noexcept {
    // GICD_CTLR (12.9.4): EnableGrp1NS [1] | ARE_NS [4] (affinity routing).
    write32(distributor_ + kGicdCtlr, read32(distributor_ + kGicdCtlr) | (1u << 1) | (1u << 4));
    // GICR_WAKER.ProcessorSleep [1] = 0, then wait for ChildrenAsleep [2] = 0 (12.11.41).
    write32(redistributor_ + kGicrWaker, read32(redistributor_ + kGicrWaker) & ~(1u << 1));
    while (read32(redistributor_ + kGicrWaker) & (1u << 2)) {
    }
    write_sysreg<SysReg::ICC_PMR_EL1>(0xff);
    write_sysreg<SysReg::ICC_IGRPEN1_EL1>(1);
    instruction_barrier();
  }

  // Makes an SGI or PPI (INTID < 32) of this CPU a group 1 interrupt and enables it.
  void enable_private_interrupt(std::uint32_t intid, std::uint8_t priority = 0x80) noexcept {
    const std::uintptr_t sgi_frame = redistributor_ + kSgiFrameOffset;
    write32(sgi_frame + kGicrIgroupr0, read32(sgi_frame + kGicrIgroupr0) | (1u << intid));
    auto* priorities = reinterpret_cast<volatile std::uint8_t*>(sgi_frame + kGicrIpriorityr);
    priorities[intid] = priority;
    write32(sgi_frame + kGicrIsenabler0, 1u << intid);
  }
  // Makes an SPI (32-1019) a group 1 interrupt routed to the CPU with the given affinity
  // (Aff3.Aff2.Aff1.Aff0 as in MPIDR_EL1, Interrupt_Routing_Mode 0) and enables it. The
  // registers are the distributor's, one bit, byte or doubleword per INTID (IHI 0069
  // 12.9.15 GICD_IGROUPR<n>, 12.9.22 GICD_IPRIORITYR<n>, 12.9.23 GICD_IROUTER<n>, 12.9.18
  // GICD_ISENABLER<n>); its trigger (GICD_ICFGR) stays as the platform reset it.
  void enable_shared_interrupt(std::uint32_t intid, std::uint64_t affinity,
                               std::uint8_t priority = 0x80) noexcept {
    const std::uintptr_t word = 4 * std::uintptr_t{intid / 32};
    const std::uint32_t bit = 1u << (intid % 32);
    write32(distributor_ + kGicdIgroupr + word, read32(distributor_ + kGicdIgroupr + word) | bit);
    reinterpret_cast<volatile std::uint8_t*>(distributor_ + kGicdIpriorityr)[intid] = priority;
    *reinterpret_cast<volatile std::uint64_t*>(distributor_ + kGicdIrouter + 8 * std::uintptr_t{intid}) =
        affinity & kIrouterAffinityMask;
    write32(distributor_ + kGicdIsenabler + word, bit);
  }

  // Whether an SGI or PPI (INTID < 32) of this CPU is active (GICR_ISACTIVER0, IHI 0069
  // 12.11.26): e.g. one a hardware-linked list register has not deactivated yet.
  bool private_interrupt_active(std::uint32_t intid) const noexcept {
    return (read32(redistributor_ + kSgiFrameOffset + kGicrIsactiver0) >> (intid % 32) & 1) != 0;
  }
  void disable_private_interrupt(std::uint32_t intid) noexcept {
    write32(redistributor_ + kSgiFrameOffset + kGicrIcenabler0, 1u << intid);
  }

  std::uint32_t acknowledge() noexcept {
    return static_cast<std::uint32_t>(read_sysreg<SysReg::ICC_IAR1_EL1>());
  }
  // With split EOI, only drops the running priority; deactivate() or a guest's
  // deactivation of a hardware-linked virtual interrupt deactivates it.
  void end_of_interrupt(std::uint32_t intid) noexcept { write_sysreg<SysReg::ICC_EOIR1_EL1>(intid); }
  void deactivate(std::uint32_t intid) noexcept { write_sysreg<SysReg::ICC_DIR_EL1>(intid); }

  // ICC_CTLR_EL1.EOImode (IHI 0069, 12.2.6): 1 separates priority drop (EOIR) from
  // deactivation (DIR), which a hypervisor needs to hand interrupts to a guest.
  void set_split_eoi(bool split) noexcept {
    constexpr std::uint64_t kEoiMode = 1u << 1;
    const std::uint64_t ctlr = read_sysreg<SysReg::ICC_CTLR_EL1>();
    write_sysreg<SysReg::ICC_CTLR_EL1>(split ? ctlr | kEoiMode : ctlr & ~kEoiMode);
    instruction_barrier();
  }

 private:
  static constexpr std::uintptr_t kGicdCtlr = 0x0000;
  static constexpr std::uintptr_t kGicdIgroupr = 0x0080;
  static constexpr std::uintptr_t kGicdIsenabler = 0x0100;
  static constexpr std::uintptr_t kGicdIpriorityr = 0x0400;
  static constexpr std::uintptr_t kGicdIrouter = 0x6000;  // GICD_IROUTER<n> at 0x6000 + 8n
  // GICD_IROUTER: Aff3 [39:32], Aff2 [23:16], Aff1 [15:8], Aff0 [7:0]; Interrupt_Routing_Mode
  // [31] clear (route to the named PE).
  static constexpr std::uint64_t kIrouterAffinityMask = 0xff'00ff'ffffull;
  static constexpr std::uintptr_t kGicrWaker = 0x0014;
  static constexpr std::uintptr_t kSgiFrameOffset = 0x10000;  // the SGI_base frame, 64 KiB in
  static constexpr std::uintptr_t kGicrIgroupr0 = 0x0080;
  static constexpr std::uintptr_t kGicrIsenabler0 = 0x0100;
  static constexpr std::uintptr_t kGicrIcenabler0 = 0x0180;
  static constexpr std::uintptr_t kGicrIsactiver0 = 0x0300;
  static constexpr std::uintptr_t kGicrIpriorityr = 0x0400;

  static std::uint32_t read32(std::uintptr_t address) noexcept {
    return *reinterpret_cast<volatile std::uint32_t*>(address);
  }
  static void write32(std::uintptr_t address, std::uint32_t value) noexcept {
    *reinterpret_cast<volatile std::uint32_t*>(address) = value;
  }

  std::uintptr_t distributor_;
  std::uintptr_t redistributor_;
};

}  // namespace arm
