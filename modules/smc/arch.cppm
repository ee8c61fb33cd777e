// The Arm Architecture Service calls a hypervisor answers itself (DEN0028, "Arm
// Architecture Calls"): SMCCC_VERSION, SMCCC_ARCH_FEATURES and the discovery of the
// speculation workarounds SMCCC_ARCH_WORKAROUND_1/2/3.
//
// The library applies no branch-predictor hardening and no SSBD on its own. So the answers
// to the workaround queries come from what the hypervisor states about the CPUs (the
// CpuVulnerabilities configuration). The safe default, Exposure::Unknown, tells the guest
// that no firmware workaround exists (NOT_SUPPORTED): the guest then treats itself as
// vulnerable and uses its own mitigations, if any. Only a hypervisor that knows every CPU
// the guest can run on is unaffected should say Exposure::Unaffected.
module;
#include <arm/runtime/std_support.h>
export module arm.smc:arch;
import :smccc;

export namespace arm::smccc {

// Arm Architecture Service function identifiers (DEN0028, "Arm Architecture Calls"), all
// SMC32 fast calls.
inline constexpr std::uint32_t kSmcccVersion = 0x8000'0000;
inline constexpr std::uint32_t kSmcccArchFeatures = 0x8000'0001;
inline constexpr std::uint32_t kSmcccArchSocId = 0x8000'0002;
inline constexpr std::uint32_t kArchWorkaround1 = 0x8000'8000;  // CVE-2017-5715
inline constexpr std::uint32_t kArchWorkaround2 = 0x8000'7fff;  // CVE-2018-3639
inline constexpr std::uint32_t kArchWorkaround3 = 0x8000'3fff;  // CVE-2022-23960 and CVE-2017-5715

// SMCCC_ARCH_FEATURES answer for a workaround the calling PE does not need (DEN0028,
// "SMCCC_ARCH_FEATURES": 1 for SMCCC_ARCH_WORKAROUND_1/2/3, "this PE is not affected").
inline constexpr std::int64_t kWorkaroundNotNeededOnThisPe = 1;

// What the hypervisor knows about one speculation vulnerability on the CPUs its guests
// run on.
enum class Exposure : std::uint8_t {
  Unknown,     // the default: affected or not known; the library does not mitigate it
  Unaffected,  // the hypervisor states that every CPU the guest can run on is unaffected
};

struct CpuVulnerabilities {
  Exposure spectre_v2 = Exposure::Unknown;   // CVE-2017-5715, branch target injection
  Exposure spectre_v4 = Exposure::Unknown;   // CVE-2018-3639, speculative store bypass
  Exposure spectre_bhb = Exposure::Unknown;  // CVE-2022-23960, branch history injection
};

constexpr bool is_arch_call(FunctionId id) noexcept {
  return id.is_fast() && id.owner() == Owner::ArmArchitecture;
}

// SMCCC_ARCH_FEATURES(arch_func_id) (DEN0028, "SMCCC_ARCH_FEATURES"). For the workarounds:
//   WORKAROUND_1: 1 when the CPUs are unaffected, otherwise NOT_SUPPORTED ("not
//                 implemented": the guest must not count on a firmware mitigation);
//   WORKAROUND_2: NOT_REQUIRED (-2) when unaffected: no CPU of the system needs the dynamic
//                 mitigation, so the guest never calls it; otherwise NOT_SUPPORTED;
//   WORKAROUND_3: mitigates both CVE-2022-23960 and CVE-2017-5715, so 1 only when the CPUs
//                 are unaffected by both; otherwise NOT_SUPPORTED.
// 0 ("implemented, call it") is never answered for a workaround: the library has none.
constexpr std::int64_t arch_features(std::uint32_t arch_func_id, const CpuVulnerabilities& cpus) noexcept {
  switch (arch_func_id) {
    case kSmcccVersion:
    case kSmcccArchFeatures:
      return kSuccess;
    case kArchWorkaround1:
      return cpus.spectre_v2 == Exposure::Unaffected ? kWorkaroundNotNeededOnThisPe : kNotSupported;
    case kArchWorkaround2:
      return cpus.spectre_v4 == Exposure::Unaffected ? kNotRequired : kNotSupported;
    case kArchWorkaround3:
      return cpus.spectre_bhb == Exposure::Unaffected && cpus.spectre_v2 == Exposure::Unaffected
                 ? kWorkaroundNotNeededOnThisPe
                 : kNotSupported;
    default:
      return kNotSupported;  // SMCCC_ARCH_SOC_ID and everything else: not implemented
  }
}

// An Arm Architecture call. A workaround call on CPUs the hypervisor declared unaffected
// has nothing to do and succeeds; otherwise it is not implemented, as discovery said.
constexpr Answer arch_call(FunctionId id, const CallRegisters& registers,
                           const CpuVulnerabilities& cpus) noexcept {
  const CallRegisters arguments = arguments_for(id, registers);
  switch (id.value()) {
    case kSmcccVersion:
      return answer_with(kImplementedVersion);
    case kSmcccArchFeatures:
      return answer_with(arch_features(static_cast<std::uint32_t>(arguments.x[1]), cpus));
    case kArchWorkaround1:
    case kArchWorkaround2:
    case kArchWorkaround3:
      return answer_with(arch_features(id.value(), cpus) == kNotSupported ? kNotSupported : kSuccess);
    default:
      return answer_with(kNotSupported);
  }
}

}  // namespace arm::smccc
