// Aborts a guest causes at EL2 that are not plain MMIO accesses: instruction aborts, data
// aborts the library cannot emulate by itself, faults of the guest's memory system, and
// PC/SP alignment faults.
module;
#include <arm/runtime/std_support.h>
export module arm.trap:abort;
import :fault;
import :events;

export namespace arm {

// An instruction fetch that faulted at stage 2 (EC 0x20, "Instruction Abort from a lower
// Exception level"). The PC is the faulting instruction.
struct InstructionAbort {
  FaultAddress address;
  FaultStatus fault;
  bool s1ptw = false;     // the fault was on the stage 1 walk for the fetch, not the fetch itself
  bool external = false;  // EA: IMPLEMENTATION DEFINED classification of External aborts
  Reply reply = Reply::None;

  void retry() noexcept { reply = Reply::Retry; }
};

// A stage 2 translation, access flag or permission fault on a data access that
// arm.trap cannot turn into an MmioRead/MmioWrite by itself:
//  - syndrome_valid is false: no instruction syndrome (ISV = 0), e.g. load/store pair,
//    writeback addressing, SIMD&FP registers, exclusives: the hypervisor must decode the
//    instruction at the PC;
//  - cache_maintenance: a DC or IC (or AT) instruction on the address (CM = 1);
//  - !address.ipa_known: a stage 2 permission fault, for which HPFAR_EL2 is UNKNOWN; the
//    IPA comes from translating address.va (AT S1E1R/W), after which mmio_access() turns a
//    valid syndrome into the MMIO access;
//  - !address.va_known, or vncr (the access was to the VNCR_EL2 page, FEAT_NV2).
// complete() says the hypervisor emulated the instruction itself (writing any register
// through the vCPU); retry() says it mapped the page; untouched, the vCPU injects an abort.
struct UndecodedDataAbort {
  FaultAddress address;
  FaultStatus fault;
  DataAbortIss syndrome{0};     // the whole ISS; SAS/SSE/SRT/SF/AR valid when syndrome_valid
  bool syndrome_valid = false;  // ISV
  bool write = false;           // WnR (a cache maintenance instruction reports 1)
  bool cache_maintenance = false;
  bool vncr = false;
  static constexpr std::uint8_t instruction_length = kA64InstructionLength;
  Reply reply = Reply::None;

  void complete() noexcept { reply = Reply::Answered; }
  void retry() noexcept { reply = Reply::Retry; }
};

// A data access fault of the guest's memory system rather than of an emulated device: a
// stage 2 fault on the guest's own stage 1 table walk (s1ptw: its page tables live in
// memory the hypervisor did not map), a synchronous External abort or parity/ECC error,
// an alignment fault (e.g. an unaligned access to memory Device-typed at stage 2), a TLB
// conflict, a stage 2 address size fault, and the other fault codes. Unresolved, the vCPU
// injects an abort; retry() re-executes the access.
struct GuestMemoryFault {
  FaultAddress address;
  FaultStatus fault;
  bool write = false;
  bool s1ptw = false;
  bool external = false;  // EA
  bool cache_maintenance = false;
  Reply reply = Reply::None;

  void retry() noexcept { reply = Reply::Retry; }
};

// The guest branched to a misaligned address (EC 0x22). FAR_EL2 and the PC hold it.
struct PcAlignmentFault {
  std::uint64_t address = 0;
};

// The guest used a misaligned SP with SCTLR_EL1.SA/SA0 checking on (EC 0x26).
struct SpAlignmentFault {
  std::uint64_t pc = 0;
};

}  // namespace arm
