// PSCI 1.1 for guests (Arm DEN0022, Power State Coordination Interface).
//
// What the library can decide from the call and the VM's configuration it answers at
// once: PSCI_VERSION, PSCI_FEATURES, MIGRATE_INFO_TYPE, AFFINITY_INFO, and every invalid
// argument. What needs the hypervisor (starting, stopping or suspending a vCPU, turning the
// VM off or resetting it) becomes a typed event that the hypervisor completes with a
// PSCI return code.
//
// The VM's vCPUs are a table the hypervisor owns and keeps current (psci::AffinityEntry:
// MPIDR and power state). It is the list of valid CPU_ON targets and the answer to
// AFFINITY_INFO, which therefore never needs an event: the hypervisor updates the table
// when it starts or stops a vCPU (ON_PENDING while a started vCPU has not run yet, ON, OFF).
module;
#include <arm/runtime/std_support.h>
export module arm.smc:psci;
import arm.runtime;
import arm.trap;
import :smccc;
import :arch;

export namespace arm::psci {

// Function identifiers (DEN0022, "PSCI Function IDs"). The SMC64 form (bit 30) exists only
// for functions with an address or MPIDR argument; the others are SMC32 only.
inline constexpr std::uint32_t kPsciVersion = 0x8400'0000;
inline constexpr std::uint32_t kCpuSuspend = 0x8400'0001;
inline constexpr std::uint32_t kCpuSuspend64 = 0xc400'0001;
inline constexpr std::uint32_t kCpuOff = 0x8400'0002;
inline constexpr std::uint32_t kCpuOn = 0x8400'0003;
inline constexpr std::uint32_t kCpuOn64 = 0xc400'0003;
inline constexpr std::uint32_t kAffinityInfo = 0x8400'0004;
inline constexpr std::uint32_t kAffinityInfo64 = 0xc400'0004;
inline constexpr std::uint32_t kMigrate = 0x8400'0005;
inline constexpr std::uint32_t kMigrate64 = 0xc400'0005;
inline constexpr std::uint32_t kMigrateInfoType = 0x8400'0006;
inline constexpr std::uint32_t kMigrateInfoUpCpu = 0x8400'0007;
inline constexpr std::uint32_t kMigrateInfoUpCpu64 = 0xc400'0007;
inline constexpr std::uint32_t kSystemOff = 0x8400'0008;
inline constexpr std::uint32_t kSystemReset = 0x8400'0009;
inline constexpr std::uint32_t kPsciFeatures = 0x8400'000a;
inline constexpr std::uint32_t kCpuFreeze = 0x8400'000b;
inline constexpr std::uint32_t kCpuDefaultSuspend = 0x8400'000c;
inline constexpr std::uint32_t kCpuDefaultSuspend64 = 0xc400'000c;
inline constexpr std::uint32_t kNodeHwState = 0x8400'000d;
inline constexpr std::uint32_t kNodeHwState64 = 0xc400'000d;
inline constexpr std::uint32_t kSystemSuspend = 0x8400'000e;
inline constexpr std::uint32_t kSystemSuspend64 = 0xc400'000e;
inline constexpr std::uint32_t kPsciSetSuspendMode = 0x8400'000f;
inline constexpr std::uint32_t kPsciStatResidency = 0x8400'0010;
inline constexpr std::uint32_t kPsciStatResidency64 = 0xc400'0010;
inline constexpr std::uint32_t kPsciStatCount = 0x8400'0011;
inline constexpr std::uint32_t kPsciStatCount64 = 0xc400'0011;
inline constexpr std::uint32_t kSystemReset2 = 0x8400'0012;
inline constexpr std::uint32_t kSystemReset264 = 0xc400'0012;
inline constexpr std::uint32_t kMemProtect = 0x8400'0013;
inline constexpr std::uint32_t kMemProtectCheckRange = 0x8400'0014;
inline constexpr std::uint32_t kMemProtectCheckRange64 = 0xc400'0014;

// PSCI owns function numbers 0x00-0x1f of the Standard Secure Service (DEN0028, "Standard
// Secure Service Calls"); the rest of that owner's range belongs to SDEI, TRNG, ...
inline constexpr std::uint16_t kLastFunctionNumber = 0x1f;

// PSCI_VERSION's answer: 1.1 (DEN0022, "PSCI_VERSION": major in [30:16], minor in [15:0]).
inline constexpr std::uint32_t kImplementedVersion = (1u << 16) | 1u;

// Return codes (DEN0022, "Return error codes"), in w0 and sign-extended into x0.
enum class Status : std::int32_t {
  Success = 0,
  NotSupported = -1,
  InvalidParameters = -2,
  Denied = -3,
  AlreadyOn = -4,
  OnPending = -5,
  InternalFailure = -6,
  NotPresent = -7,
  Disabled = -8,
  InvalidAddress = -9,
};

// AFFINITY_INFO's answers (DEN0022, "AFFINITY_INFO"), also the power state of a vCPU in
// the hypervisor's table.
enum class AffinityState : std::uint8_t { On = 0, Off = 1, OnPending = 2 };

// MIGRATE_INFO_TYPE: "Trusted OS is either not present or does not require migration"
// (DEN0022, "MIGRATE_INFO_TYPE"). A guest has no Trusted OS, so MIGRATE and
// MIGRATE_INFO_UP_CPU are not needed and not implemented.
inline constexpr std::int64_t kMigrateInfoTypeNotRequired = 2;

// PSCI_FEATURES flags for CPU_SUSPEND (DEN0022, "PSCI_FEATURES"): bit 1 says the
// power_state parameter uses the extended StateID format; bit 0 (OS-initiated mode) stays
// zero: guests get platform-coordinated mode only.
inline constexpr std::int64_t kCpuSuspendExtendedStateId = 1 << 1;

// MPIDR affinity fields (Arm ARM D19.2 "MPIDR_EL1"): Aff3 [39:32], Aff2 [23:16], Aff1
// [15:8], Aff0 [7:0]. PSCI's target_cpu and target_affinity carry exactly these; the other
// bits must be zero (DEN0022, "CPU_ON", "AFFINITY_INFO").
inline constexpr std::uint64_t kAffinityMask = 0xff'00ff'ffffull;
inline constexpr unsigned kMaxAffinityLevel = 3;

// The affinity fields at `level` and above: what AFFINITY_INFO compares for
// lowest_affinity_level = level.
constexpr std::uint64_t affinity_mask_from(unsigned level) noexcept {
  constexpr std::uint64_t kFields[] = {0xffull, 0xff00ull, 0xff'0000ull, 0xff'0000'0000ull};
  std::uint64_t mask = 0;
  for (unsigned n = level; n <= kMaxAffinityLevel; ++n) mask |= kFields[n];
  return mask;
}

// The power_state parameter of CPU_SUSPEND (DEN0022, "CPU_SUSPEND", power_state
// parameter). Original format: StateID [15:0], StateType [16], PowerLevel [25:24].
// Extended format (PSCI 1.0): StateID [27:0], StateType [30]. Other bits are reserved.
// StateType 1 is a powerdown state: the core resumes at the entry point, not after the call.
namespace power_state {
inline constexpr std::uint32_t kOriginalValidBits = 0x0301'ffff;
inline constexpr std::uint32_t kOriginalPowerdown = 1u << 16;
inline constexpr std::uint32_t kExtendedValidBits = 0x4fff'ffff;
inline constexpr std::uint32_t kExtendedPowerdown = 1u << 30;
}  // namespace power_state

// SYSTEM_RESET2's reset_type (DEN0022, "SYSTEM_RESET2"): bit 31 set is a vendor-specific
// reset; otherwise bits [30:0] name an architectural reset, of which only 0
// (SYSTEM_WARM_RESET) is defined.
inline constexpr std::uint32_t kResetTypeVendor = 1u << 31;
inline constexpr std::uint32_t kSystemWarmReset = 0;

// One vCPU of the VM, in the hypervisor's table (a PSCI affinity instance at level 0).
struct AffinityEntry {
  std::uint64_t mpidr = 0;  // what the vCPU reads in MPIDR_EL1; only the affinity fields count
  AffinityState state = AffinityState::Off;
};

// Guest physical memory in which an entry point may lie: [base, base + size).
struct AddressRange {
  std::uint64_t base = 0;
  std::uint64_t size = 0;
  constexpr bool contains(std::uint64_t address) const noexcept { return address - base < size; }
};

struct Policy {
  // Answer PSCI calls for the guest (the default). Off: PSCI ids are treated like any
  // other call (firmware allow-list, hypervisor calls, or NOT_SUPPORTED).
  bool emulate = true;
  // The VM's vCPUs. Empty: every CPU_ON and AFFINITY_INFO gets INVALID_PARAMETERS.
  smccc::Table<AffinityEntry> vcpus;
  // Entry points (CPU_ON, powerdown CPU_SUSPEND) are guest physical addresses: they must be
  // below 2^address_bits (the VM's IPA size) ...
  unsigned address_bits = 48;
  // ... and, when this table is not empty, inside one of its ranges (the guest's RAM).
  smccc::Table<AddressRange> memory;
  // CPU_SUSPEND's power_state in the extended StateID format (reported by PSCI_FEATURES).
  bool extended_power_state = false;
};

constexpr smccc::Answer answer_with(Status status) noexcept {
  return smccc::answer_with(static_cast<std::int64_t>(status));
}
// The answer to the call behind a PSCI event: the status the hypervisor completed it with,
// or NOT_SUPPORTED if it left the event alone, as for any call nobody answered.
template <class Event>
constexpr smccc::Answer answer_for(const Event& event) noexcept {
  return answer_with(event.reply == Reply::Answered ? event.status : Status::NotSupported);
}

enum class ResetKind : std::uint8_t {
  Cold,    // SYSTEM_RESET
  Warm,    // SYSTEM_RESET2 with SYSTEM_WARM_RESET
  Vendor,  // SYSTEM_RESET2 with a vendor-specific reset_type
};

}  // namespace arm::psci

export namespace arm {

// CPU_ON (DEN0022, "CPU_ON"): start the vCPU `target` at `entry`, at EL1 with the MMU off,
// x0 = context_id. The target is a valid vCPU of the VM that the table says is OFF, and the
// entry point is valid. Answers: SUCCESS (the hypervisor has started it or will; mark it
// ON_PENDING or ON in the table), ALREADY_ON, ON_PENDING, INTERNAL_FAILURE.
struct PsciCpuOn {
  std::uint64_t target_mpidr = 0;  // affinity fields of the target
  std::size_t target = 0;          // index of the target in psci::Policy::vcpus
  std::uint64_t entry = 0;
  std::uint64_t context_id = 0;
  psci::Status status = psci::Status::NotSupported;  // the answer, once complete()d
  Reply reply = Reply::None;
  Conduit conduit = Conduit::Hvc;  // the call's instruction (smccc::dispatch sets it)
  void complete(psci::Status answer) noexcept {
    status = answer;
    reply = Reply::Answered;
  }
};

// CPU_OFF (DEN0022, "CPU_OFF"): stop the calling vCPU. On success the call does not return:
// the hypervisor stops running this vCPU (and marks it OFF). It may refuse with DENIED.
struct PsciCpuOff {
  psci::Status status = psci::Status::NotSupported;  // the answer, once complete()d
  Reply reply = Reply::None;
  Conduit conduit = Conduit::Hvc;  // the call's instruction (smccc::dispatch sets it)
  void complete(psci::Status answer) noexcept {
    status = answer;
    reply = Reply::Answered;
  }
};

// CPU_SUSPEND (DEN0022, "CPU_SUSPEND"). A standby state returns SUCCESS to the caller when
// the vCPU wakes up (like WFI); a powerdown state resumes at `entry` with x0 = context_id
// (both zero for standby). The hypervisor may also treat any state as a plain standby.
struct PsciCpuSuspend {
  std::uint32_t power_state = 0;  // as the guest passed it, validated against its format
  bool powerdown = false;         // StateType
  std::uint64_t entry = 0;
  std::uint64_t context_id = 0;
  psci::Status status = psci::Status::NotSupported;  // the answer, once complete()d
  Reply reply = Reply::None;
  Conduit conduit = Conduit::Hvc;  // the call's instruction (smccc::dispatch sets it)
  void complete(psci::Status answer) noexcept {
    status = answer;
    reply = Reply::Answered;
  }
};

// SYSTEM_OFF (DEN0022, "SYSTEM_OFF"): the VM powers off; the call does not return.
struct PsciSystemOff {
  psci::Status status = psci::Status::NotSupported;  // the answer, once complete()d
  Reply reply = Reply::None;
  Conduit conduit = Conduit::Hvc;  // the call's instruction (smccc::dispatch sets it)
  void complete(psci::Status answer) noexcept {
    status = answer;
    reply = Reply::Answered;
  }
};

// SYSTEM_RESET (a cold reset) and SYSTEM_RESET2 (DEN0022, "SYSTEM_RESET", "SYSTEM_RESET2").
// On success the call does not return. A vendor reset the hypervisor does not know gets
// INVALID_PARAMETERS or NOT_SUPPORTED.
struct PsciSystemReset {
  psci::ResetKind kind = psci::ResetKind::Cold;
  std::uint32_t reset_type = 0;                      // SYSTEM_RESET2's reset_type; 0 for SYSTEM_RESET
  std::uint64_t cookie = 0;                          // SYSTEM_RESET2's cookie; 0 for SYSTEM_RESET
  psci::Status status = psci::Status::NotSupported;  // the answer, once complete()d
  Reply reply = Reply::None;
  Conduit conduit = Conduit::Hvc;  // the call's instruction (smccc::dispatch sets it)
  void complete(psci::Status answer) noexcept {
    status = answer;
    reply = Reply::Answered;
  }
};

// The rows of the PSCI events in the exit rules (arm.trap:rules): a PSCI event's completion
// always runs, and answers the call with the hypervisor's status or, left alone,
// NOT_SUPPORTED (psci::answer_for).
template <class Event>
concept PsciEvent = std::is_same_v<Event, PsciCpuOn> || std::is_same_v<Event, PsciCpuOff> ||
                    std::is_same_v<Event, PsciCpuSuspend> || std::is_same_v<Event, PsciSystemOff> ||
                    std::is_same_v<Event, PsciSystemReset>;
// clang-format off
template <> inline constexpr ExitRule kExitRule<PsciCpuOn> = {"psci-cpu-on", Default::Complete};
template <> inline constexpr ExitRule kExitRule<PsciCpuOff> = {"psci-cpu-off", Default::Complete};
template <> inline constexpr ExitRule kExitRule<PsciCpuSuspend> = {"psci-cpu-suspend", Default::Complete};
template <> inline constexpr ExitRule kExitRule<PsciSystemOff> = {"psci-system-off", Default::Complete};
template <> inline constexpr ExitRule kExitRule<PsciSystemReset> = {"psci-system-reset", Default::Complete};
// clang-format on
template <PsciEvent Event>
constexpr void complete(GuestRegisters& regs, const Event& event) noexcept {
  complete_call(regs, psci::answer_for(event).x, event.conduit);
}

}  // namespace arm

export namespace arm::psci {

using Outcome = OneOf<smccc::Answer, PsciCpuOn, PsciCpuOff, PsciCpuSuspend, PsciSystemOff, PsciSystemReset>;

constexpr bool is_psci_call(smccc::FunctionId id) noexcept {
  return id.is_fast() && id.owner() == smccc::Owner::StandardSecure && id.number() <= kLastFunctionNumber;
}

// An entry point the guest may name: A64 code is word-aligned; the address is a guest
// physical one (the new context starts with the MMU off). Otherwise INVALID_ADDRESS
// (PSCI 1.0 and later; 0.2 said INVALID_PARAMETERS).
constexpr bool valid_entry_point(std::uint64_t entry, const Policy& policy) noexcept {
  if (entry % 4 != 0) return false;
  if (policy.address_bits < 64 && (entry >> policy.address_bits) != 0) return false;
  if (policy.memory.empty()) return true;
  for (const AddressRange& range : policy.memory)
    if (range.contains(entry)) return true;
  return false;
}

// The vCPU whose affinity is exactly `target_mpidr`, or vcpus.size() if there is none.
constexpr std::size_t find_vcpu(std::uint64_t target_mpidr, const Policy& policy) noexcept {
  for (std::size_t n = 0; n < policy.vcpus.size(); ++n)
    if ((policy.vcpus[n].mpidr & kAffinityMask) == target_mpidr) return n;
  return policy.vcpus.size();
}

// PSCI_FEATURES(psci_func_id) (DEN0022, "PSCI_FEATURES"): 0 or feature flags for what is
// implemented, NOT_SUPPORTED otherwise. SMCCC_VERSION is included: PSCI 1.0 makes
// PSCI_FEATURES the way to discover that the SMC Calling Convention 1.1 is there.
constexpr std::int64_t features(std::uint32_t psci_func_id, const Policy& policy) noexcept {
  switch (psci_func_id) {
    case kCpuSuspend:
    case kCpuSuspend64:
      return policy.extended_power_state ? kCpuSuspendExtendedStateId : 0;
    case kPsciVersion:
    case kCpuOff:
    case kCpuOn:
    case kCpuOn64:
    case kAffinityInfo:
    case kAffinityInfo64:
    case kMigrateInfoType:
    case kSystemOff:
    case kSystemReset:
    case kPsciFeatures:
    case kSystemReset2:
    case kSystemReset264:
    case smccc::kSmcccVersion:
      return smccc::kSuccess;
    default:
      return smccc::kNotSupported;
  }
}

namespace detail {

inline Outcome cpu_on(const smccc::CallRegisters& arguments, const Policy& policy) noexcept {
  const std::uint64_t target_mpidr = arguments.x[1];
  const std::uint64_t entry = arguments.x[2];
  if ((target_mpidr & ~kAffinityMask) != 0) return answer_with(Status::InvalidParameters);
  const std::size_t target = find_vcpu(target_mpidr, policy);
  if (target == policy.vcpus.size()) return answer_with(Status::InvalidParameters);
  if (!valid_entry_point(entry, policy)) return answer_with(Status::InvalidAddress);
  switch (policy.vcpus[target].state) {
    case AffinityState::On:
      return answer_with(Status::AlreadyOn);
    case AffinityState::OnPending:
      return answer_with(Status::OnPending);
    case AffinityState::Off:
      break;
  }
  PsciCpuOn event;
  event.target_mpidr = target_mpidr;
  event.target = target;
  event.entry = entry;
  event.context_id = arguments.x[3];
  return event;
}

// AFFINITY_INFO over the vCPU table: at level 0 the state of one vCPU; above, ON if any
// vCPU of the affinity instance is on, else ON_PENDING if one is starting, else OFF.
constexpr std::int64_t affinity_info(std::uint64_t target_affinity, std::uint32_t lowest_level,
                                     const Policy& policy) noexcept {
  constexpr auto kInvalid = static_cast<std::int64_t>(Status::InvalidParameters);
  if (lowest_level > kMaxAffinityLevel) return kInvalid;
  if ((target_affinity & ~kAffinityMask) != 0) return kInvalid;
  const std::uint64_t mask = affinity_mask_from(static_cast<unsigned>(lowest_level));
  bool found = false;
  bool pending = false;
  for (const AffinityEntry& vcpu : policy.vcpus) {
    if ((vcpu.mpidr & mask) != (target_affinity & mask)) continue;
    found = true;
    if (vcpu.state == AffinityState::On) return static_cast<std::int64_t>(AffinityState::On);
    if (vcpu.state == AffinityState::OnPending) pending = true;
  }
  if (!found) return kInvalid;
  return static_cast<std::int64_t>(pending ? AffinityState::OnPending : AffinityState::Off);
}

inline Outcome cpu_suspend(const smccc::CallRegisters& arguments, const Policy& policy) noexcept {
  // power_state is 32 bits in both conventions.
  const auto power_state = static_cast<std::uint32_t>(arguments.x[1]);
  const std::uint32_t valid_bits =
      policy.extended_power_state ? power_state::kExtendedValidBits : power_state::kOriginalValidBits;
  const std::uint32_t powerdown_bit =
      policy.extended_power_state ? power_state::kExtendedPowerdown : power_state::kOriginalPowerdown;
  if ((power_state & ~valid_bits) != 0) return answer_with(Status::InvalidParameters);
  PsciCpuSuspend event;
  event.power_state = power_state;
  event.powerdown = (power_state & powerdown_bit) != 0;
  if (event.powerdown) {
    // Entry point and context id matter only when the core loses its context.
    if (!valid_entry_point(arguments.x[2], policy)) return answer_with(Status::InvalidAddress);
    event.entry = arguments.x[2];
    event.context_id = arguments.x[3];
  }
  return event;
}

inline Outcome system_reset2(const smccc::CallRegisters& arguments) noexcept {
  // reset_type is 32 bits in both conventions; the cookie is as wide as the convention.
  const auto reset_type = static_cast<std::uint32_t>(arguments.x[1]);
  PsciSystemReset event;
  event.reset_type = reset_type;
  event.cookie = arguments.x[2];
  if ((reset_type & kResetTypeVendor) != 0) {
    event.kind = ResetKind::Vendor;
  } else if (reset_type == kSystemWarmReset) {
    event.kind = ResetKind::Warm;
  } else {
    return answer_with(Status::InvalidParameters);  // reserved architectural reset type
  }
  return event;
}

}  // namespace detail

// A PSCI call (is_psci_call(id)). Functions the library does not implement, and SMC64 ids
// of SMC32-only functions, get NOT_SUPPORTED.
inline Outcome call(smccc::FunctionId id, const smccc::CallRegisters& registers,
                    const Policy& policy) noexcept {
  const smccc::CallRegisters arguments = smccc::arguments_for(id, registers);
  switch (id.value()) {
    case kPsciVersion:
      return smccc::answer_with(kImplementedVersion);
    case kPsciFeatures:
      return smccc::answer_with(features(static_cast<std::uint32_t>(arguments.x[1]), policy));
    case kMigrateInfoType:
      return smccc::answer_with(kMigrateInfoTypeNotRequired);
    case kCpuOn:
    case kCpuOn64:
      return detail::cpu_on(arguments, policy);
    case kAffinityInfo:
    case kAffinityInfo64:
      // lowest_affinity_level is 32 bits in both conventions; target_affinity is as wide as
      // the convention.
      return smccc::answer_with(
          detail::affinity_info(arguments.x[1], static_cast<std::uint32_t>(arguments.x[2]), policy));
    case kCpuSuspend:
    case kCpuSuspend64:
      return detail::cpu_suspend(arguments, policy);
    case kCpuOff:
      return PsciCpuOff{};
    case kSystemOff:
      return PsciSystemOff{};
    case kSystemReset:
      return PsciSystemReset{};
    case kSystemReset2:
    case kSystemReset264:
      return detail::system_reset2(arguments);
    default:
      return answer_with(Status::NotSupported);
  }
}

}  // namespace arm::psci
