// What an Instruction or Data Abort taken to EL2 says about itself: the fault status code
// (IFSC/DFSC), the syndrome of the access (Data Abort ISS) and where the fault happened
// (HPFAR_EL2 and FAR_EL2). Values in, values out; the events built from them live in
// :abort and :mmio.
//
// Arm ARM (DDI 0487), ESR_EL2, "ISS encoding for an exception from a Data Abort" and
// "ISS encoding for an exception from an Instruction Abort"; HPFAR_EL2; FAR_EL2.
module;
#include <arm/runtime/std_support.h>
export module arm.trap:fault;
import :esr;

export namespace arm {

// The kinds of fault an xFSC value names (Arm ARM, ESR_EL2, DFSC and IFSC fields). Kinds
// with a level come in groups of four codes, levels 0 to 3, and with FEAT_LPA2 some have a
// level -1 code elsewhere in the table.
enum class FaultKind : std::uint8_t {
  AddressSize,              // 0b0000nn; level -1: 0b101001
  Translation,              // 0b0001nn; level -1: 0b101011
  AccessFlag,               // 0b0010nn
  Permission,               // 0b0011nn
  SyncExternal,             // 0b010000: synchronous External abort, not on a table walk
  TagCheck,                 // 0b010001: synchronous Tag Check Fault (FEAT_MTE2)
  SyncExternalOnWalk,       // 0b0101nn; level -1: 0b010011
  ParityEcc,                // 0b011000: synchronous parity or ECC error, not on a table walk
  ParityEccOnWalk,          // 0b0111nn; level -1: 0b011011
  Alignment,                // 0b100001
  Debug,                    // 0b100010: breakpoint, step, watchpoint (debug exceptions only)
  GranuleProtectionOnWalk,  // 0b1001nn; level -1: 0b100011 (FEAT_RME)
  GranuleProtection,        // 0b101000: not on a table walk (FEAT_RME)
  TlbConflict,              // 0b110000
  UnsupportedAtomicUpdate,  // 0b110001: unsupported atomic hardware update of a descriptor
  Lockdown,                 // 0b110100: IMPLEMENTATION DEFINED fault (Lockdown)
  UnsupportedExclusive,     // 0b110101: IMPLEMENTATION DEFINED (unsupported exclusive or atomic)
  Reserved,                 // any other value
};

// A decoded IFSC/DFSC value: the raw 6-bit code, its kind and, for the kinds that have
// one, the translation level (-1 to 3) the fault was found at.
class FaultStatus {
 public:
  constexpr FaultStatus() noexcept = default;
  constexpr explicit FaultStatus(std::uint32_t code) noexcept
      : code_(static_cast<std::uint8_t>(code & 0x3f)) {
    decode();
  }

  constexpr std::uint8_t code() const noexcept { return code_; }
  constexpr FaultKind kind() const noexcept { return kind_; }
  constexpr bool has_level() const noexcept { return has_level_; }
  // The lookup level of the fault; meaningful only when has_level().
  constexpr int level() const noexcept { return level_; }

  // Translation, access flag and permission faults: the three a hypervisor resolves by
  // mapping (or emulating) the page at stage 2.
  constexpr bool is_translation_access_or_permission() const noexcept {
    return kind_ == FaultKind::Translation || kind_ == FaultKind::AccessFlag ||
           kind_ == FaultKind::Permission;
  }
  // The synchronous External aborts and parity/ECC errors, on a table walk or not.
  constexpr bool is_external() const noexcept {
    return kind_ == FaultKind::SyncExternal || kind_ == FaultKind::SyncExternalOnWalk ||
           kind_ == FaultKind::ParityEcc || kind_ == FaultKind::ParityEccOnWalk;
  }

  friend constexpr bool operator==(const FaultStatus&, const FaultStatus&) noexcept = default;

 private:
  constexpr void set(FaultKind kind) noexcept { kind_ = kind; }
  constexpr void set(FaultKind kind, int level) noexcept {
    kind_ = kind;
    level_ = static_cast<std::int8_t>(level);
    has_level_ = true;
  }
  constexpr void decode() noexcept {
    const int level = code_ & 0b11;
    switch (code_ >> 2) {
      case 0b0000:
        return set(FaultKind::AddressSize, level);
      case 0b0001:
        return set(FaultKind::Translation, level);
      case 0b0010:
        return set(FaultKind::AccessFlag, level);
      case 0b0011:
        return set(FaultKind::Permission, level);
      case 0b0101:
        return set(FaultKind::SyncExternalOnWalk, level);
      case 0b0111:
        return set(FaultKind::ParityEccOnWalk, level);
      case 0b1001:
        return set(FaultKind::GranuleProtectionOnWalk, level);
      default:
        break;
    }
    switch (code_) {
      case 0b010000:
        return set(FaultKind::SyncExternal);
      case 0b010001:
        return set(FaultKind::TagCheck);
      case 0b010011:
        return set(FaultKind::SyncExternalOnWalk, -1);
      case 0b011000:
        return set(FaultKind::ParityEcc);
      case 0b011011:
        return set(FaultKind::ParityEccOnWalk, -1);
      case 0b100001:
        return set(FaultKind::Alignment);
      case 0b100010:
        return set(FaultKind::Debug);
      case 0b100011:
        return set(FaultKind::GranuleProtectionOnWalk, -1);
      case 0b101000:
        return set(FaultKind::GranuleProtection);
      case 0b101001:
        return set(FaultKind::AddressSize, -1);
      case 0b101011:
        return set(FaultKind::Translation, -1);
      case 0b110000:
        return set(FaultKind::TlbConflict);
      case 0b110001:
        return set(FaultKind::UnsupportedAtomicUpdate);
      case 0b110100:
        return set(FaultKind::Lockdown);
      case 0b110101:
        return set(FaultKind::UnsupportedExclusive);
      default:
        return set(FaultKind::Reserved);
    }
  }

  std::uint8_t code_ = 0;
  FaultKind kind_ = FaultKind::Reserved;
  std::int8_t level_ = 0;
  bool has_level_ = false;
};

// ISS of a Data Abort (Arm ARM, ESR_EL2, "ISS encoding for an exception from a Data
// Abort"). SAS, SSE, SRT, SF and AR are valid only when ISV is 1.
class DataAbortIss {
 public:
  constexpr explicit DataAbortIss(std::uint32_t iss = 0) noexcept : iss_(iss & 0x1ffffff) {}
  constexpr std::uint32_t value() const noexcept { return iss_; }

  constexpr bool isv() const noexcept { return bit(iss_, 24); }  // Instruction Syndrome Valid
  constexpr unsigned sas() const noexcept { return static_cast<unsigned>(bits(iss_, 23, 22)); }
  constexpr unsigned access_size() const noexcept { return 1u << sas(); }  // bytes: 1, 2, 4, 8
  constexpr bool sse() const noexcept { return bit(iss_, 21); }            // sign-extend the load
  constexpr unsigned srt() const noexcept { return static_cast<unsigned>(bits(iss_, 20, 16)); }
  constexpr bool sf() const noexcept { return bit(iss_, 15); }  // 64-bit register (X, not W)
  constexpr bool ar() const noexcept { return bit(iss_, 14); }  // acquire/release semantics
  constexpr bool vncr() const noexcept { return bit(iss_, 13); }
  constexpr unsigned set() const noexcept { return static_cast<unsigned>(bits(iss_, 12, 11)); }
  constexpr bool fnv() const noexcept { return bit(iss_, 10); }   // FAR not valid
  constexpr bool ea() const noexcept { return bit(iss_, 9); }     // External abort type
  constexpr bool cm() const noexcept { return bit(iss_, 8); }     // cache maintenance or AT
  constexpr bool s1ptw() const noexcept { return bit(iss_, 7); }  // stage 2 fault on a stage 1 walk
  constexpr bool wnr() const noexcept { return bit(iss_, 6); }    // write, not read
  constexpr FaultStatus dfsc() const noexcept {
    return FaultStatus{static_cast<std::uint32_t>(bits(iss_, 5, 0))};
  }

  friend constexpr bool operator==(const DataAbortIss&, const DataAbortIss&) noexcept = default;

 private:
  std::uint32_t iss_;
};

// ISS of an Instruction Abort (Arm ARM, ESR_EL2, "ISS encoding for an exception from an
// Instruction Abort").
class InstructionAbortIss {
 public:
  constexpr explicit InstructionAbortIss(std::uint32_t iss = 0) noexcept : iss_(iss & 0x1ffffff) {}
  constexpr std::uint32_t value() const noexcept { return iss_; }
  constexpr unsigned set() const noexcept { return static_cast<unsigned>(bits(iss_, 12, 11)); }
  constexpr bool fnv() const noexcept { return bit(iss_, 10); }
  constexpr bool ea() const noexcept { return bit(iss_, 9); }
  constexpr bool s1ptw() const noexcept { return bit(iss_, 7); }
  constexpr FaultStatus ifsc() const noexcept {
    return FaultStatus{static_cast<std::uint32_t>(bits(iss_, 5, 0))};
  }

 private:
  std::uint32_t iss_;
};

// Where a stage 2 abort happened.
struct FaultAddress {
  std::uint64_t ipa = 0;           // faulting IPA; only the page (bits [11:0] zero) unless page_offset_known
  std::uint64_t va = 0;            // FAR_EL2, the guest virtual address; 0 unless va_known
  bool ipa_known = false;          // HPFAR_EL2 was written for this fault
  bool page_offset_known = false;  // ipa[11:0] is the offset of the access in its page
  bool va_known = false;           // FnV is 0: FAR_EL2 holds the faulting virtual address
};

// HPFAR_EL2.FIPA, bits [47:4], holds IPA[55:12] (Arm ARM, HPFAR_EL2: IPA[47:12] without
// FEAT_LPA, IPA[51:12] with it, IPA[55:12] with FEAT_D128; unimplemented upper bits are
// RES0). Returns the faulting IPA's page.
constexpr std::uint64_t hpfar_page(std::uint64_t hpfar) noexcept { return bits(hpfar, 47, 4) << 12; }

// Whether HPFAR_EL2 holds the faulting IPA for a fault taken to EL2. It is written for a
// Translation, Access flag or Address size fault at stage 2, for those and Permission
// faults at stage 2 on a stage 1 translation table walk (S1PTW), and for a Granule
// Protection Check fault at stage 2 (FEAT_RME). For every other fault, including a stage 2
// Permission fault on the access itself, it is UNKNOWN (Arm ARM, HPFAR_EL2,
// "Configuration").
constexpr bool hpfar_holds_ipa(FaultStatus fault, bool s1ptw) noexcept {
  switch (fault.kind()) {
    case FaultKind::Translation:
    case FaultKind::AccessFlag:
    case FaultKind::AddressSize:
    case FaultKind::GranuleProtection:
    case FaultKind::GranuleProtectionOnWalk:
      return true;
    case FaultKind::Permission:
      return s1ptw;
    default:
      return false;
  }
}

// Combines HPFAR_EL2 (the page) and FAR_EL2 (the offset in it: translation granules are at
// least 4KB, so FAR[11:0] is the IPA's page offset too). FnV set means FAR_EL2 is UNKNOWN
// and is not used. On a stage 1 walk (S1PTW) HPFAR_EL2 names the page of the stage 1
// descriptor while FAR_EL2 is the address the guest accessed, so no offset is composed.
constexpr FaultAddress fault_address(FaultStatus fault, bool s1ptw, bool fnv, std::uint64_t hpfar,
                                     std::uint64_t far) noexcept {
  FaultAddress address;
  address.va_known = !fnv;
  address.va = fnv ? 0 : far;
  address.ipa_known = hpfar_holds_ipa(fault, s1ptw);
  if (!address.ipa_known) return address;
  address.ipa = hpfar_page(hpfar);
  if (address.va_known && !s1ptw) {
    address.ipa |= bits(far, 11, 0);
    address.page_offset_known = true;
  }
  return address;
}

}  // namespace arm
