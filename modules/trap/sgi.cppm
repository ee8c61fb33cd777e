// The targets of a software-generated interrupt: a guest writes ICC_SGI1R_EL1 (or
// ICC_ASGI1R_EL1, ICC_SGI0R_EL1, same layout) and the hypervisor delivers the SGI to the
// vCPUs it names. Pure: a register value in, the targets out.
//
// Arm GIC architecture specification (IHI 0069), ICC_SGI1R_EL1: TargetList [15:0],
// Aff1 [23:16], INTID [27:24], Aff2 [39:32], IRM [40], RS [47:44], Aff3 [55:48].
// MPIDR_EL1 (Arm ARM): Aff0 [7:0], Aff1 [15:8], Aff2 [23:16], Aff3 [39:32].
module;
#include <arm/runtime/std_support.h>
export module arm.trap:sgi;
import :esr;

export namespace arm {

// The affinity fields of MPIDR_EL1, which name a PE.
inline constexpr std::uint64_t kMpidrAffinityMask = 0xff'00ff'ffffull;

struct SgiTarget {
  std::uint8_t intid = 0;     // SGI number 0..15
  bool all_but_self = false;  // IRM: every PE but the sender, the affinity fields ignored
  std::uint8_t aff3 = 0;
  std::uint8_t aff2 = 0;
  std::uint8_t aff1 = 0;
  std::uint8_t range_selector = 0;  // RS: TargetList bit n names Aff0 = RS * 16 + n
  std::uint16_t target_list = 0;

  // Whether the SGI goes to the PE with affinity `mpidr` when `sender_mpidr` wrote it.
  constexpr bool targets(std::uint64_t mpidr, std::uint64_t sender_mpidr) const noexcept {
    if (all_but_self) return (mpidr & kMpidrAffinityMask) != (sender_mpidr & kMpidrAffinityMask);
    if (bits(mpidr, 39, 32) != aff3 || bits(mpidr, 23, 16) != aff2 || bits(mpidr, 15, 8) != aff1)
      return false;
    const unsigned aff0 = static_cast<unsigned>(bits(mpidr, 7, 0));
    const unsigned first = range_selector * 16u;
    return aff0 >= first && aff0 < first + 16 && bit(target_list, aff0 - first);
  }
};

constexpr SgiTarget decode_sgi(std::uint64_t value) noexcept {
  SgiTarget target;
  target.target_list = static_cast<std::uint16_t>(bits(value, 15, 0));
  target.aff1 = static_cast<std::uint8_t>(bits(value, 23, 16));
  target.intid = static_cast<std::uint8_t>(bits(value, 27, 24));
  target.aff2 = static_cast<std::uint8_t>(bits(value, 39, 32));
  target.all_but_self = bit(value, 40);
  target.range_selector = static_cast<std::uint8_t>(bits(value, 47, 44));
  target.aff3 = static_cast<std::uint8_t>(bits(value, 55, 48));
  return target;
}

// The ICC_SGI1R_EL1 value that sends SGI `intid` to the one PE with affinity `mpidr`
// (decode_sgi()'s inverse): its Aff3, Aff2 and Aff1, RS = Aff0 / 16 and TargetList bit
// Aff0 % 16. A hypervisor kicking a physical CPU writes it.
constexpr std::uint64_t encode_sgi(std::uint8_t intid, std::uint64_t mpidr) noexcept {
  const std::uint64_t aff0 = bits(mpidr, 7, 0);
  return (bits(mpidr, 39, 32) << 48) | ((aff0 / 16) << 44) | (bits(mpidr, 23, 16) << 32) |
         (std::uint64_t{intid & 0xfu} << 24) | (bits(mpidr, 15, 8) << 16) | (std::uint64_t{1} << (aff0 % 16));
}

}  // namespace arm
