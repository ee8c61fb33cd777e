// hv.stats: exits counted by type, printed when the guest powers off.
module;
#include <stdint.h>
#include <stdio.h>
export module hv.stats;
import arm.vcpu;

export namespace hv {

class ExitStats {
 public:
  static constexpr unsigned kKinds = 64;

  void count(const arm::Exit& exit) {
    const unsigned kind = static_cast<unsigned>(exit.index());
    if (kind >= kKinds) return;
    ++counts_[kind];
  }
  // Totals of several vCPUs.
  void add(const ExitStats& other) {
    for (unsigned i = 0; i < kKinds; ++i) counts_[i] += other.counts_[i];
  }
  // Prints "exits by type", largest first, after `who` (which VM, or "").
  void print(const char* who) const {
    uint64_t total = 0;
    for (uint64_t count : counts_) total += count;
    printf("hypervisor: %s%llu exits reached the exit loop, by type:\n", who,
           static_cast<unsigned long long>(total));
    bool printed[kKinds] = {};
    for (;;) {
      unsigned best = kKinds;
      for (unsigned i = 0; i < kKinds; ++i)
        if (!printed[i] && counts_[i] != 0 && (best == kKinds || counts_[i] > counts_[best])) best = i;
      if (best == kKinds) break;
      printed[best] = true;
      printf("  %-22s %10llu\n", arm::exit_name(best), static_cast<unsigned long long>(counts_[best]));
    }
  }
  // Reports the first few exits the hypervisor had no handler for (the vCPU then applies
  // its default: an injected exception or NOT_SUPPORTED), after `who` (which VM, or "").
  void note_unexpected(const arm::Exit& exit, uint64_t pc, const char* who) {
    if (unexpected_++ < 8)
      printf("hypervisor: %sunhandled %s exit at guest pc 0x%llx\n", who, arm::exit_name(exit.index()),
             static_cast<unsigned long long>(pc));
  }

 private:
  uint64_t counts_[kKinds] = {};
  unsigned unexpected_ = 0;
};

}  // namespace hv
