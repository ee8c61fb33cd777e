// arm.timer: the EL1 Generic Timers as a guest sees them, as values.
//
// Arm ARM (DDI 0487) D12, "The Generic Timer in AArch64 state", section "Timers": each timer
// compares a 64-bit count with its CompareValue (CNTx_CVAL_EL0) and its condition is met when
//
//     Count - Offset - CompareValue >= 0     (an unsigned 64-bit comparison: Count - Offset >= CVAL)
//
// where Count is the physical count (CNTPCT_EL0) and Offset is CNTVOFF_EL2 for the virtual
// timer and zero for the EL1 physical timer (no FEAT_ECV CNTPOFF here). CNTx_CTL_EL0.ISTATUS
// reports the condition while ENABLE is set, and the timer's interrupt output is asserted
// while ENABLE == 1, IMASK == 0 and ISTATUS == 1: a level, not an edge. TVAL is a signed
// 32-bit view of the same comparison: reads give (CVAL - (Count - Offset))[31:0], writes set
// CVAL = (Count - Offset) + SignExtend(TVAL[31:0]).
//
// Pure: no register is touched, so the rules are host-tested (tests/unit/timer_test.cpp);
// arm.vcpu moves the values to and from the CPU.
module;
#include <arm/runtime/std_support.h>
export module arm.timer;

export namespace arm {

// CNTV_CTL_EL0 and CNTP_CTL_EL0 fields (Arm ARM D19, "CNTP_CTL_EL0", "CNTV_CTL_EL0"): the
// same layout for both timers.
namespace cnt_ctl {
inline constexpr std::uint64_t kEnable = 1ull << 0;
inline constexpr std::uint64_t kImask = 1ull << 1;
inline constexpr std::uint64_t kIstatus = 1ull << 2;  // read-only
inline constexpr std::uint64_t kWritable = kEnable | kImask;
}  // namespace cnt_ctl

// The guests' timer interrupts (Arm Base System Architecture PPI map, used by QEMU's virt
// and by every Linux DT for "arm,armv8-timer"): PPI 11 and PPI 14.
inline constexpr std::uint32_t kVirtualTimerIntid = 27;
inline constexpr std::uint32_t kPhysicalTimerIntid = 30;

// No deadline: the timer cannot assert its output without a register write.
inline constexpr std::uint64_t kNoDeadline = ~0ull;

// One EL1 timer: its control and compare value as the guest wrote them (CTL without
// ISTATUS, which is computed), and the offset between the physical count and the count it
// compares against.
struct GenericTimer {
  std::uint64_t ctl = 0;  // ENABLE and IMASK only
  std::uint64_t cval = 0;
  std::uint64_t offset = 0;  // CNTVOFF_EL2 for the virtual timer, 0 for the physical one

  // The timer's view of the count: physical count minus offset, modulo 2^64.
  constexpr std::uint64_t count(std::uint64_t physical_count) const noexcept {
    return physical_count - offset;
  }
  constexpr bool enabled() const noexcept { return (ctl & cnt_ctl::kEnable) != 0; }
  constexpr bool masked() const noexcept { return (ctl & cnt_ctl::kImask) != 0; }
  // The timer condition (ISTATUS while enabled).
  constexpr bool condition_met(std::uint64_t physical_count) const noexcept {
    return count(physical_count) >= cval;
  }
  // The interrupt output: ENABLE && !IMASK && ISTATUS.
  constexpr bool output(std::uint64_t physical_count) const noexcept {
    return enabled() && !masked() && condition_met(physical_count);
  }

  // MRS CNTx_CTL_EL0: ISTATUS computed. With ENABLE == 0 ISTATUS is UNKNOWN; it reads 0.
  constexpr std::uint64_t read_ctl(std::uint64_t physical_count) const noexcept {
    return ctl | (enabled() && condition_met(physical_count) ? cnt_ctl::kIstatus : 0);
  }
  // MSR CNTx_CTL_EL0: ISTATUS is read-only, the other bits RES0.
  constexpr void write_ctl(std::uint64_t value) noexcept { ctl = value & cnt_ctl::kWritable; }
  // MRS CNTx_TVAL_EL0: (CVAL - count)[31:0]; bits [63:32] RES0 (read as zero).
  constexpr std::uint64_t read_tval(std::uint64_t physical_count) const noexcept {
    return (cval - count(physical_count)) & 0xffff'ffffull;
  }
  // MSR CNTx_TVAL_EL0: CVAL = count + SignExtend(value[31:0]).
  constexpr void write_tval(std::uint64_t value, std::uint64_t physical_count) noexcept {
    const auto ticks = static_cast<std::int32_t>(static_cast<std::uint32_t>(value));
    cval = count(physical_count) + static_cast<std::uint64_t>(static_cast<std::int64_t>(ticks));
  }

  // The earliest physical count, at or after `physical_count`, at which the output is
  // asserted without another register write: `physical_count` itself when it already is,
  // kNoDeadline when the timer is disabled or masked. The timer's count only grows until it
  // wraps at 2^64; a CVAL it has passed is met at once (the comparison is unsigned).
  constexpr std::uint64_t deadline(std::uint64_t physical_count) const noexcept {
    if (!enabled() || masked()) return kNoDeadline;
    if (condition_met(physical_count)) return physical_count;
    const std::uint64_t ticks = cval - count(physical_count);
    return ticks > kNoDeadline - physical_count ? kNoDeadline : physical_count + ticks;
  }
};

// The earlier of two deadlines.
constexpr std::uint64_t earliest(std::uint64_t a, std::uint64_t b) noexcept { return a < b ? a : b; }

// The output levels of a vCPU's two EL1 timers at one moment.
struct TimerLines {
  bool virtual_timer = false;   // INTID kVirtualTimerIntid
  bool physical_timer = false;  // INTID kPhysicalTimerIntid
  constexpr bool operator==(const TimerLines&) const noexcept = default;
};

}  // namespace arm
