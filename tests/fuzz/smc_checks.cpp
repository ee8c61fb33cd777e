// The trap fuzzer's arm.smc checks (smc_checks.h): every HVC/SMC the decoder produces, and
// calls built directly from the input's registers (x0 steered into the SMCCC function-id
// ranges), go through arm.smc's dispatch() under a policy the input chooses and are
// answered through a counting firmware conduit. Who answers, what the library answers
// itself, PSCI's decisions, the bits a call ignores, discovery, and what answer() and
// arm::finish() do to the guest's registers are checked against DEN0028 and DEN0022.
// Any violation aborts, which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "fuzz_input.h"

import arm.trap;
import arm.smc;

#include "smc_checks.h"

namespace trap_fuzz {
namespace {

using arm::smccc::Answer;
using arm::smccc::CallOutcome;
using arm::smccc::CallRegisters;
using arm::smccc::FunctionId;
using arm::smccc::FunctionIdRange;
using arm::smccc::GuestCall;
using arm::smccc::GuestCallPolicy;
namespace psci = arm::psci;

constexpr std::uint64_t kUpperHalf = 0xffff'ffff'0000'0000;
constexpr std::uint64_t kNotSupported = static_cast<std::uint64_t>(arm::smccc::kNotSupported);

// Return codes travel as w0 sign-extended into x0 (DEN0028 and DEN0022 "Return codes";
// Linux compares all of x0 with -1): every value the library answers itself is one.
constexpr std::uint64_t x0_for(std::int64_t code) { return static_cast<std::uint64_t>(code); }
constexpr bool is_sign_extended_w0(std::uint64_t x0) {
  return x0 == x0_for(static_cast<std::int32_t>(static_cast<std::uint32_t>(x0)));
}

// The Arm Architecture calls arm.smc answers or names: their numbers are scattered over
// 0x0000-0xffff, where a random number rarely lands.
constexpr std::uint32_t kArchFunctionIds[] = {
    arm::smccc::kSmcccVersion,    arm::smccc::kSmcccArchFeatures, arm::smccc::kSmcccArchSocId,
    arm::smccc::kArchWorkaround1, arm::smccc::kArchWorkaround2,   arm::smccc::kArchWorkaround3,
};

// w0 of the direct calls. A random w0 almost never names a function the library
// implements, so most inputs steer it into the SMCCC ranges, derived from the input's x0
// so that mutations of x0 still move it. x0[63:32] stays as the input has it: the function
// id is w0 alone (DEN0028, "Function Identifier").
std::uint64_t direct_function_id(const Input& in) {
  const auto low = static_cast<std::uint32_t>(in.x[0]);
  const std::uint32_t psci_id =
      psci::kPsciVersion | (low & (FunctionId::kSmc64Bit | psci::kLastFunctionNumber));
  const std::uint32_t arch_id =
      kArchFunctionIds[low % (sizeof kArchFunctionIds / sizeof kArchFunctionIds[0])];
  std::uint32_t id = low;
  switch (in.smc.function & 7) {
    case 1:
    case 2:  // every PSCI function number, both conventions: where most of the decisions are
      id = psci_id;
      break;
    case 3:
      id = arch_id;
      break;
    case 4:  // the rest of the Arm Architecture Service, both conventions
      id = FunctionId::kFastBit | (low & (FunctionId::kSmc64Bit | 0xffff));
      break;
    case 5:  // a well-formed fast call of any owner
      id = FunctionId::kFastBit | (low & (FunctionId::kSmc64Bit | 0x3f00'ffff));
      break;
    case 6:  // a PSCI or Arm Architecture id with one bit of [23:16] set: malformed, or the
             // SVE hint (bit 16) of SMCCC 1.3
      id = ((low & 0x100) != 0 ? psci_id : arch_id) | (1u << (16 + (in.smc.function >> 3) % 8));
      break;
    default:  // as the input has it: yielding calls, reserved bits, other owners
      break;
  }
  return (in.x[0] & kUpperHalf) | id;
}

// The input's registers, with x0..x2 of the direct calls shaped so that PSCI's checks are
// passed as well as failed: a CPU_ON target that is one of the vCPUs, an entry point in
// guest RAM, a small affinity level, a power_state without reserved bits.
arm::GuestRegisters direct_call_registers(const Input& in, const arm::GuestRegisters& regs) {
  arm::GuestRegisters direct = regs;
  direct.x[0] = direct_function_id(in);
  const unsigned shape = in.smc.arguments;
  switch (shape & 3) {
    case 1:  // a vCPU's affinity (whether or not the table has that many vCPUs)
      direct.x[1] = in.smc.vcpu_mpidr[(shape >> 2) & 3] & psci::kAffinityMask;
      break;
    case 2:  // a well-formed MPIDR, mostly of no vCPU
      direct.x[1] &= psci::kAffinityMask;
      break;
    case 3:  // a power_state without reserved bits
      direct.x[1] &= (in.smc.flags & kExtendedPowerState) != 0 ? psci::power_state::kExtendedValidBits
                                                               : psci::power_state::kOriginalValidBits;
      break;
    default:  // as the input has it
      break;
  }
  const std::uint64_t base = in.smc.memory[0][0], size = in.smc.memory[0][1];
  switch ((shape >> 4) & 3) {
    case 1:  // a word-aligned address in the first RAM range
      if (size != 0) direct.x[2] = (base + direct.x[2] % size) & ~3ull;
      break;
    case 2:  // an affinity level
      direct.x[2] &= 3;
      break;
    case 3:  // a word-aligned address below 2^address_bits
      direct.x[2] &= ~3ull;
      if (in.smc.address_bits < 64) direct.x[2] &= (1ull << in.smc.address_bits) - 1;
      break;
    default:  // as the input has it
      break;
  }
  return direct;
}

// The hypervisor's policy, with the tables it points to, from the input. Built in place
// and never copied: the policy's tables are views of the arrays here.
struct CallSetup {
  GuestCallPolicy policy;
  psci::AffinityEntry vcpus[4];
  psci::AddressRange memory[2];
  FunctionIdRange allowed[3];
  FunctionIdRange claimed[1];

  // The policy of every call of one input: its ranges are placed around the id of the
  // direct calls, which direct_function_id() makes from the input alone.
  explicit CallSetup(const Input& in) : CallSetup(in.smc, FunctionId{direct_function_id(in)}) {}
  CallSetup(const SmcInput& in, FunctionId direct_id) {
    policy.psci.emulate = (in.flags & kPsciOff) == 0;
    policy.psci.extended_power_state = (in.flags & kExtendedPowerState) != 0;
    policy.psci.address_bits = in.address_bits;
    const auto exposure = [&](std::uint8_t flag) {
      return (in.flags & flag) != 0 ? arm::smccc::Exposure::Unaffected : arm::smccc::Exposure::Unknown;
    };
    policy.cpus = {exposure(kSpectreV2Unaffected), exposure(kSpectreV4Unaffected),
                   exposure(kSpectreBhbUnaffected)};

    const std::size_t vcpu_count = (in.counts & 7) % 5;
    for (std::size_t n = 0; n < vcpu_count; ++n)
      vcpus[n] = {in.vcpu_mpidr[n], static_cast<psci::AffinityState>(((in.vcpu_states >> (2 * n)) & 3) % 3)};
    policy.psci.vcpus = {vcpus, vcpu_count};

    // Guest RAM does not wrap past 2^64: a range that would is cut at the top.
    const std::size_t memory_count = ((in.counts >> 3) & 3) % 3;
    for (std::size_t n = 0; n < memory_count; ++n) {
      const std::uint64_t base = in.memory[n][0], size = in.memory[n][1];
      const std::uint64_t to_top = 0 - base;  // 2^64 - base, and 0 for base 0 (no limit)
      memory[n] = {base, base != 0 && size > to_top ? to_top : size};
    }
    policy.psci.memory = {memory, memory_count};

    const std::size_t allowed_count = (in.counts >> 5) & 3;
    for (std::size_t n = 0; n < allowed_count; ++n) allowed[n] = range(in, n, direct_id);
    policy.firmware.allowed = {allowed, allowed_count};
    const std::size_t claimed_count = (in.counts >> 7) & 1;
    if (claimed_count != 0) claimed[0] = range(in, 3, direct_id);
    policy.hypervisor_calls = {claimed, claimed_count};
  }
  CallSetup(const CallSetup&) = delete;
  CallSetup& operator=(const CallSetup&) = delete;

  // Absolute ranges rarely meet the calls' ids; ranges from -128..127 around the direct
  // calls' id meet it about half of the time (and are empty when first > last).
  static FunctionIdRange range(const SmcInput& in, std::size_t n, FunctionId id) {
    if ((in.range_kinds >> n) & 1) return {in.ranges[n][0], in.ranges[n][1]};
    return {id.value() + static_cast<std::int8_t>(in.ranges[n][0]),
            id.value() + static_cast<std::int8_t>(in.ranges[n][1])};
  }
};

// Argument n as the callee must read it: w registers for SMC32 (DEN0028, "SMC32/HVC32
// argument passing").
std::uint64_t argument(const GuestCall& call, unsigned n) {
  const std::uint64_t x = call.registers.x[n];
  return FunctionId{call.registers.x[0]}.is_smc64() ? x : x & 0xffff'ffff;
}

bool in_ranges(arm::smccc::Table<FunctionIdRange> ranges, FunctionId id) {
  for (const FunctionIdRange& range : ranges)
    if (range.first <= id.value() && id.value() <= range.last) return true;
  return false;
}

const Answer* answer_of(CallOutcome& outcome) { return outcome.get_if<Answer>(); }
bool answers(CallOutcome& outcome, std::uint64_t x0) {
  const Answer* answer = answer_of(outcome);
  return answer != nullptr && answer->x[0] == x0;
}

template <class Decision>
constexpr bool kIsPsciEvent = arm::PsciEvent<Decision>;

bool is_psci_event(CallOutcome& outcome) {
  return outcome.visit([](auto& decision) { return kIsPsciEvent<std::remove_cvref_t<decltype(decision)>>; });
}

// The fields a decision carries, for comparing two outcomes of the same call.
bool same_fields(const Answer& a, const Answer& b) {
  return a.x[0] == b.x[0] && a.x[1] == b.x[1] && a.x[2] == b.x[2] && a.x[3] == b.x[3];
}
bool same_fields(const arm::PsciCpuOn& a, const arm::PsciCpuOn& b) {
  return a.target_mpidr == b.target_mpidr && a.target == b.target && a.entry == b.entry &&
         a.context_id == b.context_id;
}
bool same_fields(const arm::PsciCpuSuspend& a, const arm::PsciCpuSuspend& b) {
  return a.power_state == b.power_state && a.powerdown == b.powerdown && a.entry == b.entry &&
         a.context_id == b.context_id;
}
bool same_fields(const arm::PsciSystemReset& a, const arm::PsciSystemReset& b) {
  return a.kind == b.kind && a.reset_type == b.reset_type && a.cookie == b.cookie;
}
template <class Decision>
bool same_fields(const Decision&, const Decision&) {
  return true;  // Forward, NotHandled, CPU_OFF, SYSTEM_OFF carry nothing
}
bool same_decision(CallOutcome& a, CallOutcome& b) {
  if (a.index() != b.index()) return false;
  return a.visit([&](auto& decision) {
    return same_fields(decision, *b.get_if<std::remove_cvref_t<decltype(decision)>>());
  });
}

// Who answers a call, in dispatch()'s documented order: a non-zero immediate or an id the
// hypervisor claims is its own (NotHandled); a malformed fast call, and every id outside
// the services the library answers (Arm Architecture, emulated PSCI) that is not an
// allowed SMC, is NOT_SUPPORTED; only allowed SMCs reach the firmware.
void check_routing(const GuestCall& call, const GuestCallPolicy& policy, CallOutcome& outcome) {
  const FunctionId id{call.registers.x[0]};
  const bool claimed = call.immediate != 0 || in_ranges(policy.hypervisor_calls, id);
  FUZZ_CHECK(outcome.is<arm::smccc::NotHandled>() == claimed);
  if (claimed) return;
  // Bits [23:17] of a fast call are zero (DEN0028, "Function Identifier"; bit 16 is
  // SMCCC 1.3's SVE hint).
  const bool malformed = id.is_fast() && ((id.value() >> 17) & 0x7f) != 0;
  const bool arch = id.is_fast() && id.owner() == arm::smccc::Owner::ArmArchitecture;
  const bool psci = policy.psci.emulate && id.is_fast() && id.owner() == arm::smccc::Owner::StandardSecure &&
                    id.number() <= psci::kLastFunctionNumber;
  const bool library_service = !malformed && (arch || psci);
  const bool allowed = call.conduit == arm::smccc::Conduit::Smc && in_ranges(policy.firmware.allowed, id);
  FUZZ_CHECK(outcome.is<arm::smccc::Forward>() == (allowed && !malformed && !library_service));
  if (is_psci_event(outcome)) FUZZ_CHECK(psci && library_service);
  if (!library_service && !outcome.is<arm::smccc::Forward>()) FUZZ_CHECK(answers(outcome, kNotSupported));
}

// What the library answers itself is a return code or version in w0, sign-extended, and
// zero in x1..x3: results a call does not define leak nothing (smccc::Answer).
void check_answer_values(CallOutcome& outcome) {
  const Answer* answer = answer_of(outcome);
  if (answer == nullptr) return;
  FUZZ_CHECK(is_sign_extended_w0(answer->x[0]));
  FUZZ_CHECK(answer->x[1] == 0 && answer->x[2] == 0 && answer->x[3] == 0);
}

// An entry point a guest may name (DEN0022 "CPU_ON", and psci::Policy): word-aligned,
// below 2^address_bits, and in guest RAM when the policy lists it.
bool entry_point_allowed(std::uint64_t entry, const psci::Policy& policy) {
  if (entry % 4 != 0) return false;
  if (policy.address_bits < 64 && (entry >> policy.address_bits) != 0) return false;
  if (policy.memory.empty()) return true;
  for (const psci::AddressRange& range : policy.memory)
    if (entry >= range.base && entry - range.base < range.size) return true;
  return false;
}

std::int64_t status_of(CallOutcome& outcome) {
  const Answer* answer = answer_of(outcome);
  FUZZ_CHECK(answer != nullptr);
  return static_cast<std::int64_t>(answer->x[0]);
}
constexpr std::int64_t code(psci::Status status) { return static_cast<std::int64_t>(status); }

// CPU_ON: an event exactly when the target is one of the VM's vCPUs, off, and the entry
// point is valid, carrying target, entry and context id as the guest passed them; every
// refusal has its documented reason.
void check_cpu_on(const GuestCall& call, const psci::Policy& policy, CallOutcome& outcome) {
  const std::uint64_t target = argument(call, 1), entry = argument(call, 2);
  bool known = false, all_off = true, any_on = false, any_pending = false;
  for (const psci::AffinityEntry& vcpu : policy.vcpus) {
    if ((vcpu.mpidr & psci::kAffinityMask) != target) continue;
    known = true;
    all_off = all_off && vcpu.state == psci::AffinityState::Off;
    any_on = any_on || vcpu.state == psci::AffinityState::On;
    any_pending = any_pending || vcpu.state == psci::AffinityState::OnPending;
  }
  const bool entry_ok = entry_point_allowed(entry, policy);
  if (const auto* on = outcome.get_if<arm::PsciCpuOn>()) {
    FUZZ_CHECK(known && entry_ok && on->target < policy.vcpus.size());
    const psci::AffinityEntry& vcpu = policy.vcpus[on->target];
    FUZZ_CHECK((vcpu.mpidr & psci::kAffinityMask) == target && vcpu.state == psci::AffinityState::Off);
    FUZZ_CHECK(on->target_mpidr == target && on->entry == entry && on->context_id == argument(call, 3));
    FUZZ_CHECK(on->reply == arm::Reply::None);
    return;
  }
  const std::int64_t status = status_of(outcome);
  FUZZ_CHECK(!(known && entry_ok && all_off));
  if (status == code(psci::Status::InvalidParameters))
    FUZZ_CHECK(!known);
  else if (status == code(psci::Status::InvalidAddress))
    FUZZ_CHECK(!entry_ok);
  else if (status == code(psci::Status::AlreadyOn))
    FUZZ_CHECK(any_on);
  else if (status == code(psci::Status::OnPending))
    FUZZ_CHECK(any_pending);
  else
    FUZZ_CHECK(!"CPU_ON answered with a status DEN0022 does not give it");
}

// CPU_SUSPEND: power_state is 32 bits in both conventions; reserved bits of the format in
// use are INVALID_PARAMETERS; a powerdown state carries a valid entry point and the
// context id, a standby state neither.
void check_cpu_suspend(const GuestCall& call, const psci::Policy& policy, CallOutcome& outcome) {
  const auto power_state = static_cast<std::uint32_t>(call.registers.x[1]);
  const bool extended = policy.extended_power_state;
  const bool reserved = (power_state & ~(extended ? psci::power_state::kExtendedValidBits
                                                  : psci::power_state::kOriginalValidBits)) != 0;
  const bool powerdown = (power_state & (extended ? psci::power_state::kExtendedPowerdown
                                                  : psci::power_state::kOriginalPowerdown)) != 0;
  const bool entry_ok = entry_point_allowed(argument(call, 2), policy);
  if (const auto* suspend = outcome.get_if<arm::PsciCpuSuspend>()) {
    FUZZ_CHECK(!reserved && suspend->power_state == power_state && suspend->powerdown == powerdown);
    if (powerdown)
      FUZZ_CHECK(entry_ok && suspend->entry == argument(call, 2) && suspend->context_id == argument(call, 3));
    else
      FUZZ_CHECK(suspend->entry == 0 && suspend->context_id == 0);
    return;
  }
  const std::int64_t status = status_of(outcome);
  if (status == code(psci::Status::InvalidParameters))
    FUZZ_CHECK(reserved);
  else if (status == code(psci::Status::InvalidAddress))
    FUZZ_CHECK(!reserved && powerdown && !entry_ok);
  else
    FUZZ_CHECK(!"CPU_SUSPEND answered with a status DEN0022 does not give it");
}

// SYSTEM_RESET2: reset_type is 32 bits in both conventions; bit 31 a vendor reset, 0 a warm
// reset, any other architectural type INVALID_PARAMETERS. SYSTEM_RESET is a cold reset.
void check_system_reset(const GuestCall& call, CallOutcome& outcome) {
  const bool reset2 = FunctionId{call.registers.x[0]}.as_smc32() == psci::kSystemReset2;
  const auto reset_type = reset2 ? static_cast<std::uint32_t>(call.registers.x[1]) : 0u;
  const bool vendor = reset2 && (reset_type & psci::kResetTypeVendor) != 0;
  if (const auto* reset = outcome.get_if<arm::PsciSystemReset>()) {
    FUZZ_CHECK(reset->reset_type == reset_type && reset->cookie == (reset2 ? argument(call, 2) : 0));
    if (!reset2)
      FUZZ_CHECK(reset->kind == psci::ResetKind::Cold);
    else if (vendor)
      FUZZ_CHECK(reset->kind == psci::ResetKind::Vendor);
    else
      FUZZ_CHECK(reset->kind == psci::ResetKind::Warm && reset_type == psci::kSystemWarmReset);
    return;
  }
  FUZZ_CHECK(reset2 && !vendor && reset_type != psci::kSystemWarmReset);
  FUZZ_CHECK(status_of(outcome) == code(psci::Status::InvalidParameters));
}

// PSCI's decisions: each event comes from its own function ids only, and the emulated
// functions decide as DEN0022 and psci::Policy say.
void check_psci_decision(const GuestCall& call, const GuestCallPolicy& policy, CallOutcome& outcome) {
  const std::uint32_t id = FunctionId{call.registers.x[0]}.value();
  if (outcome.is<arm::PsciCpuOn>()) FUZZ_CHECK(id == psci::kCpuOn || id == psci::kCpuOn64);
  if (outcome.is<arm::PsciCpuSuspend>()) FUZZ_CHECK(id == psci::kCpuSuspend || id == psci::kCpuSuspend64);
  if (outcome.is<arm::PsciCpuOff>()) FUZZ_CHECK(id == psci::kCpuOff);
  if (outcome.is<arm::PsciSystemOff>()) FUZZ_CHECK(id == psci::kSystemOff);
  if (outcome.is<arm::PsciSystemReset>())
    FUZZ_CHECK(id == psci::kSystemReset || id == psci::kSystemReset2 || id == psci::kSystemReset264);
  if (!policy.psci.emulate || outcome.is<arm::smccc::NotHandled>()) return;
  switch (id) {
    case psci::kCpuOn:
    case psci::kCpuOn64:
      check_cpu_on(call, policy.psci, outcome);
      break;
    case psci::kCpuSuspend:
    case psci::kCpuSuspend64:
      check_cpu_suspend(call, policy.psci, outcome);
      break;
    case psci::kCpuOff:
      FUZZ_CHECK(outcome.is<arm::PsciCpuOff>());
      break;
    case psci::kSystemOff:
      FUZZ_CHECK(outcome.is<arm::PsciSystemOff>());
      break;
    case psci::kSystemReset:
    case psci::kSystemReset2:
    case psci::kSystemReset264:
      check_system_reset(call, outcome);
      break;
    default:  // immediate answers: check_routing and check_answer_values cover them
      break;
  }
}

// The registers that hold a 32-bit parameter, as a mask of register numbers: x1..x7 of
// every SMC32 call (DEN0028), and the uint32 parameters of SMC64 PSCI functions (DEN0022:
// CPU_SUSPEND's power_state, AFFINITY_INFO's lowest_affinity_level, SYSTEM_RESET2's
// reset_type).
unsigned thirty_two_bit_parameters(FunctionId id) {
  if (!id.is_smc64()) return 0xfe;
  switch (id.value()) {
    case psci::kCpuSuspend64:
    case psci::kSystemReset264:
      return 1u << 1;
    case psci::kAffinityInfo64:
      return 1u << 2;
    default:
      return 0;
  }
}

// What is not part of a call does not change its decision: x0[63:32] (the function id is
// w0) and the upper halves of 32-bit parameters; nor do x7..x17, which the call events do
// not carry (SMCCC 1.1 calls pass at most x1..x6), so a hypervisor that dispatches all of
// x0..x17 (guest_call(conduit, immediate, regs)) decides as the vCPU does from the event.
void check_ignored_bits(const GuestCall& call, const arm::GuestRegisters& regs, const GuestCallPolicy& policy,
                        CallOutcome& outcome) {
  CallOutcome full = arm::smccc::dispatch(arm::smccc::guest_call(call.conduit, call.immediate, regs), policy);
  FUZZ_CHECK(same_decision(outcome, full));

  GuestCall widened = call;
  widened.registers.x[0] ^= kUpperHalf;
  const unsigned narrow = thirty_two_bit_parameters(FunctionId{call.registers.x[0]});
  for (unsigned n = 1; n < 8; ++n)
    if ((narrow >> n) & 1) widened.registers.x[n] ^= kUpperHalf;
  CallOutcome other = arm::smccc::dispatch(widened, policy);
  FUZZ_CHECK(same_decision(outcome, other));
}

// Discovery agrees with the calls: a function that SMCCC_ARCH_FEATURES or PSCI_FEATURES
// reports NOT_SUPPORTED answers NOT_SUPPORTED when called, and no workaround is ever
// reported as implemented (0): the library has none (arm.smc:arch).
void check_discovery(const GuestCall& call, const GuestCallPolicy& policy, CallOutcome& outcome) {
  if (!outcome.is<Answer>() && !is_psci_event(outcome)) return;  // not the library's answer
  const FunctionId id{call.registers.x[0]};
  GuestCall query{call.conduit, 0, {}};
  query.registers.x[1] = id.value();
  if (id.is_fast() && id.owner() == arm::smccc::Owner::ArmArchitecture)
    query.registers.x[0] = arm::smccc::kSmcccArchFeatures;
  else if (policy.psci.emulate && psci::is_psci_call(id))
    query.registers.x[0] = psci::kPsciFeatures;
  else
    return;
  CallOutcome reply = arm::smccc::dispatch(query, policy);
  if (!reply.is<Answer>()) return;  // the hypervisor claims the query itself
  const std::uint64_t features = answer_of(reply)->x[0];
  if (features == kNotSupported) FUZZ_CHECK(answers(outcome, kNotSupported));
  const std::uint32_t value = id.value();
  if (value == arm::smccc::kArchWorkaround1 || value == arm::smccc::kArchWorkaround2 ||
      value == arm::smccc::kArchWorkaround3)
    FUZZ_CHECK(features != 0);
}

// A firmware conduit that counts its calls and answers from the input.
struct CountingConduit {
  unsigned calls = 0;
  CallRegisters seen;
  CallRegisters reply;
  void call(CallRegisters& registers) noexcept {
    ++calls;
    seen = registers;
    registers = reply;
  }
};

// The hypervisor's answer to a PSCI event, from the input: a status, or nothing.
void complete_psci_event(CallOutcome& outcome, const SmcInput& in) {
  if ((in.completion & 1) == 0) return;
  const auto status = static_cast<psci::Status>(-static_cast<int>((in.completion >> 1) % 10));
  outcome.visit([&](auto& decision) {
    if constexpr (kIsPsciEvent<std::remove_cvref_t<decltype(decision)>>) decision.complete(status);
  });
}

// What the guest must get in x0..x3 for a decision the library answers.
Answer expected_result(CallOutcome& outcome, const CallRegisters& firmware_reply) {
  return outcome.visit([&](auto& decision) -> Answer {
    using Decision = std::remove_cvref_t<decltype(decision)>;
    if constexpr (std::is_same_v<Decision, Answer>) {
      return decision;
    } else if constexpr (std::is_same_v<Decision, arm::smccc::Forward>) {
      return {{firmware_reply.x[0], firmware_reply.x[1], firmware_reply.x[2], firmware_reply.x[3]}};
    } else if constexpr (kIsPsciEvent<Decision>) {
      const bool completed = decision.reply == arm::Reply::Answered;
      return {{x0_for(completed ? code(decision.status) : arm::smccc::kNotSupported), 0, 0, 0}};
    } else {
      return {};  // NotHandled: the hypervisor's own answer
    }
  });
}

// answer() and arm::finish(): the conduit runs once for Forward and never otherwise;
// a forwarded call carries the guest's x0..x6 and nothing else; the guest gets exactly the
// decision's x0..x3 (NOT_SUPPORTED in x0 when nobody answered), no other register changes,
// and the PC moves past an SMC (trapped before it executes) but not past an HVC.
template <class Call>
void check_answer_and_completion(Call call, CallOutcome& outcome, const arm::GuestRegisters& regs,
                                 const Input& in) {
  CountingConduit firmware;
  for (unsigned n = 0; n < arm::smccc::kCallRegisterCount; ++n) firmware.reply.x[n] = ~in.answer + n;
  complete_psci_event(outcome, in.smc);
  const Answer expected = expected_result(outcome, firmware.reply);

  const bool answered = arm::smccc::answer(call, outcome, firmware);
  FUZZ_CHECK(answered == !outcome.is<arm::smccc::NotHandled>());
  FUZZ_CHECK((call.reply == arm::Reply::Answered) == answered);
  FUZZ_CHECK(firmware.calls == (outcome.is<arm::smccc::Forward>() ? 1u : 0u));
  if (firmware.calls != 0)
    for (unsigned n = 0; n < arm::smccc::kCallRegisterCount; ++n)
      FUZZ_CHECK(firmware.seen.x[n] == (n < arm::kCallArguments ? call.x[n] : 0));

  arm::GuestRegisters after = regs;
  bool injected = false;
  arm::finish(after, call, [&](auto&&) { injected = true; });
  FUZZ_CHECK(!injected);  // a call is always answered, NOT_SUPPORTED if by nobody
  for (unsigned n = 0; n < 4; ++n) {
    if (answered)
      FUZZ_CHECK(after.x[n] == expected.x[n]);
    else
      FUZZ_CHECK(after.x[n] == (n == 0 ? kNotSupported : regs.x[n]));
  }
  for (unsigned n = 4; n < 31; ++n) FUZZ_CHECK(after.x[n] == regs.x[n]);
  FUZZ_CHECK(after.pc == regs.pc + (std::is_same_v<Call, arm::SecureMonitorCall> ? 4 : 0));
  FUZZ_CHECK(after.pstate == regs.pstate);
}

// One HVC or SMC through arm.smc. `regs` are the guest's registers at the call.
template <class Call>
void check_call(const Call& event, const arm::GuestRegisters& regs, const GuestCallPolicy& policy,
                const Input& in) {
  // A call event carries x0..x6 as they were at the call.
  for (unsigned n = 0; n < arm::kCallArguments; ++n) FUZZ_CHECK(event.x[n] == regs.x[n]);
  const GuestCall call = arm::smccc::guest_call(event);
  CallOutcome outcome = arm::smccc::dispatch(call, policy);
  check_routing(call, policy, outcome);
  check_answer_values(outcome);
  check_psci_decision(call, policy, outcome);
  check_ignored_bits(call, regs, policy, outcome);
  check_discovery(call, policy, outcome);
  check_answer_and_completion(event, outcome, regs, in);
}

template <class Call>
Call call_event(const arm::GuestRegisters& regs, std::uint16_t immediate) {
  Call call;
  call.immediate = immediate;
  for (unsigned n = 0; n < arm::kCallArguments; ++n) call.x[n] = regs.x[n];
  return call;
}

}  // namespace

// The decoded calls are checked under the same policy as the direct calls: the policy is
// a function of the input alone.
void check_guest_call(const arm::Hypercall& call, const arm::GuestRegisters& regs, const Input& in) {
  const CallSetup calls{in};
  check_call(call, regs, calls.policy, in);
}
void check_guest_call(const arm::SecureMonitorCall& call, const arm::GuestRegisters& regs, const Input& in) {
  const CallSetup calls{in};
  check_call(call, regs, calls.policy, in);
}

// The same registers as an HVC and as an SMC: the conduit changes forwarding and the PC.
void check_direct_calls(const Input& in, const arm::GuestRegisters& regs) {
  const CallSetup calls{in};
  const arm::GuestRegisters direct = direct_call_registers(in, regs);
  const std::uint16_t immediate = (in.smc.flags & kUseImmediate) != 0 ? in.smc.immediate : 0;
  check_call(call_event<arm::Hypercall>(direct, immediate), direct, calls.policy, in);
  check_call(call_event<arm::SecureMonitorCall>(direct, immediate), direct, calls.policy, in);
}

}  // namespace trap_fuzz
