// MMIO: a guest load or store that hit a stage 2 translation or access flag fault and
// carries a valid instruction syndrome (ISV = 1) is an access the hypervisor emulates
// without decoding the instruction: the syndrome names the size, the register and how the
// loaded value extends into it.
//
// Arm ARM (DDI 0487), ESR_EL2, "ISS encoding for an exception from a Data Abort": ISV,
// SAS, SSE, SRT, SF, AR.
module;
#include <arm/runtime/std_support.h>
export module arm.trap:mmio;
import arm.runtime;
import :registers;
import :esr;
import :fault;
import :events;

export namespace arm {

// A guest load from an emulated device. complete(value) answers it: the completion writes
// the value to the destination register with the load's width and extension and moves
// the PC past the instruction. Unanswered, the guest's PC stays on the load and the vCPU
// injects a synchronous external abort.
struct MmioRead {
  std::uint64_t address = 0;  // the IPA accessed
  std::uint64_t far = 0;      // the guest virtual address (FAR_EL2), for abort injection
  std::uint8_t size = 0;      // bytes: 1, 2, 4 or 8 (SAS)
  std::uint8_t rt = 0;        // destination register; 31 is XZR (SRT)
  bool sign_extend = false;   // SSE: LDRSB, LDRSH, LDRSW
  bool sixty_four = false;    // SF: the destination is an X register, not a W register
  bool acquire = false;       // AR: a load-acquire (LDAR*, LDAPR*)
  static constexpr std::uint8_t instruction_length = kA64InstructionLength;
  std::uint64_t value = 0;
  Reply reply = Reply::None;

  void complete(std::uint64_t data) noexcept {
    value = data;
    reply = Reply::Answered;
  }
};

// A guest store to an emulated device: `value` is the data stored, already read from the
// source register (XZR reads as 0) and cut to `size` bytes. Stores are emulated unless
// the hypervisor calls reject(); then the PC stays and the vCPU injects an abort.
struct MmioWrite {
  std::uint64_t address = 0;
  std::uint64_t far = 0;
  std::uint8_t size = 0;
  std::uint8_t rt = 0;   // source register; 31 is XZR
  bool release = false;  // AR: a store-release (STLR*)
  static constexpr std::uint8_t instruction_length = kA64InstructionLength;
  std::uint64_t value = 0;
  Reply reply = Reply::None;

  void reject() noexcept { reply = Reply::Rejected; }
};

using MmioAccess = OneOf<MmioRead, MmioWrite>;

// The low `size` bytes of a value.
constexpr std::uint64_t truncate_to_size(std::uint64_t value, unsigned size) noexcept {
  return size >= 8 ? value : value & ((std::uint64_t{1} << (size * 8)) - 1);
}

// The register value a load of `size` bytes leaves in its destination: sign-extended from
// the access size when `sign_extend` (SSE), to 64 bits for an X register (SF = 1) or to 32
// bits for a W register, whose write zero-extends into the X register (Arm ARM, "Registers
// in AArch64 Execution state": a write to Wn clears bits [63:32] of Xn). LDRSB w0 of 0x80 gives
// 0x00000000ffffff80, LDRSB x0 gives 0xffffffffffffff80.
// Computed as the hardware would: the access's bytes moved to the top of the register and
// shifted back down, arithmetically for a sign-extending load. A zero-extending load of at
// most 4 bytes (the frequent one: LDR Wt, LDRB, LDRH) takes the two shifts alone, as its
// bytes fit a W register whatever SF says (measured: 4 instructions per MMIO read less than
// one branch-free form for every case).
constexpr std::uint64_t extend_loaded_value(std::uint64_t data, unsigned size, bool sign_extend,
                                            bool sixty_four) noexcept {
  // 64 - 8 * size modulo 64 for a size of 1, 2, 4 or 8 (0 for 8): one negate and mask.
  const unsigned unused_bits = (0u - 8u * size) & 63;
  const std::uint64_t top = data << unused_bits;
  if (!sign_extend && size <= 4) [[likely]]
    return top >> unused_bits;
  const std::uint64_t value = sign_extend
                                  ? static_cast<std::uint64_t>(static_cast<std::int64_t>(top) >> unused_bits)
                                  : top >> unused_bits;
  return sixty_four ? value : value & 0xffffffffu;
}

// The MMIO access a Data Abort with a valid instruction syndrome describes, at `ipa`.
// decode() uses it for stage 2 translation and access flag faults; a hypervisor that
// found the IPA of another abort itself (an UndecodedDataAbort whose syndrome is valid)
// uses it too. Meaningful only when iss.isv().
// Builds the access in `out` (MmioAccess, TrapEvent or any union that extends them), in
// place: the exit path keeps one union and reuses it. Returns the index of the event built
// (out.index()), known here without reading it back.
template <class Out>
std::size_t emplace_mmio_access(Out& out, DataAbortIss iss, std::uint64_t ipa, std::uint64_t far,
                                const GuestRegisters& regs) noexcept {
  const auto size = static_cast<std::uint8_t>(iss.access_size());
  const auto rt = static_cast<std::uint8_t>(iss.srt());
  // Every field is written (value and reply too): no zeroing first.
  if (iss.wnr()) {
    MmioWrite& write = out.template emplace_for_overwrite<MmioWrite>();
    write.address = ipa;
    write.far = far;
    write.size = size;
    write.rt = rt;
    write.release = iss.ar();
    write.value = truncate_to_size(regs.read(rt), size);
    write.reply = Reply::None;
    return Out::template index_for<MmioWrite>;
  }
  MmioRead& read = out.template emplace_for_overwrite<MmioRead>();
  read.address = ipa;
  read.far = far;
  read.size = size;
  read.rt = rt;
  read.sign_extend = iss.sse();
  read.sixty_four = iss.sf();
  read.acquire = iss.ar();
  read.value = 0;
  read.reply = Reply::None;
  return Out::template index_for<MmioRead>;
}

inline MmioAccess mmio_access(DataAbortIss iss, std::uint64_t ipa, std::uint64_t far,
                              const GuestRegisters& regs) noexcept {
  MmioAccess access{in_place<MmioRead>};
  emplace_mmio_access(access, iss, ipa, far, regs);
  return access;
}

}  // namespace arm
