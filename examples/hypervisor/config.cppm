// hv.config: the hypervisor's configuration, a small text file QEMU places in memory
// with `-device loader,file=hv.cfg,addr=0x40100000` (tools/run-hypervisor writes it).
//
// It describes one or more VMs. A single VM needs no header; several are numbered sections
// in order, `[vm0]`, `[vm1]`, ... (keys before the first header belong to vm0):
//
//   # comment
//   [vm0]
//   kernel=0x41000000        guest kernel load address (arm64 Image or raw binary)
//   entry=0x41000000         entry point of a raw binary (default: the load address)
//   initrd=0x48000000        optional initramfs load address
//   initrd_size=987162       its size in bytes (required with initrd)
//   cmdline=console=ttyAMA0  the kernel command line (rest of the line)
//   cpus=2                   the VM's vCPUs
//   memory=256M              the VM's RAM (bytes, or with K, M or G; a multiple of 2 MiB).
//                            At most one VM may leave it out: it gets the RAM the others
//                            leave. The VMs' RAM follows the hypervisor's in VM order.
//   pmu=on                   give every vCPU a guest PMU (arm::GuestPmu::Partitioned);
//                            default off (no PMU: PMUVer 0, PMU registers UNDEFINED)
//
// One key per line. The file ends at the first NUL byte (QEMU's RAM is zeroed). Errors
// name the line, the VM and the key.
module;
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
export module hv.config;

export namespace hv {

inline constexpr unsigned kMaxVms = 4;
inline constexpr unsigned kMaxCpus = 8;  // the vCPUs of all VMs together
inline constexpr unsigned kMaxCmdline = 512;
// A VM's RAM is mapped by stage 2 in 2 MiB blocks, and an arm64 Image is placed at a 2 MiB
// boundary: sizes are multiples of it.
inline constexpr uint64_t kMemoryGranule = 0x20'0000;

// What is wrong with a configuration, where (line 0: the file as a whole) and in which VM
// (kNoVm: none in particular).
struct ConfigError {
  static constexpr int kNoVm = -1;
  unsigned line = 0;
  int vm = kNoVm;
  char message[160] = {};
};

struct VmConfig {
  uint64_t kernel = 0;
  uint64_t entry = 0;
  uint64_t initrd = 0;
  uint64_t initrd_size = 0;
  uint64_t memory = 0;  // 0: what the other VMs leave
  unsigned cpus = 1;
  bool pmu = false;
  char cmdline[kMaxCmdline] = {};
};

struct Config {
  VmConfig vms[kMaxVms];
  unsigned vm_count = 0;
};

namespace detail {
// Fills `error` and returns false, for `return detail::fail(error, ...)` in the parser.
[[gnu::format(printf, 4, 5)]] inline bool fail(ConfigError& error, unsigned line, int vm, const char* format,
                                               ...) {
  error.line = line;
  error.vm = vm;
  va_list arguments;
  va_start(arguments, format);
  vsnprintf(error.message, sizeof error.message, format, arguments);
  va_end(arguments);
  return false;
}

inline bool equals(const char* begin, const char* end, const char* word) {
  for (; begin != end; ++begin, ++word)
    if (*word == '\0' || *begin != *word) return false;
  return *word == '\0';
}
inline bool parse_number(const char* begin, const char* end, uint64_t& value) {
  value = 0;
  unsigned base = 10;
  if (end - begin > 2 && begin[0] == '0' && (begin[1] == 'x' || begin[1] == 'X')) {
    base = 16;
    begin += 2;
  }
  if (begin == end) return false;
  for (const char* p = begin; p != end; ++p) {
    unsigned digit;
    if (*p >= '0' && *p <= '9')
      digit = static_cast<unsigned>(*p - '0');
    else if (base == 16 && *p >= 'a' && *p <= 'f')
      digit = static_cast<unsigned>(*p - 'a' + 10);
    else if (base == 16 && *p >= 'A' && *p <= 'F')
      digit = static_cast<unsigned>(*p - 'A' + 10);
    else
      return false;
    if (value > (UINT64_MAX - digit) / base) return false;  // does not fit in 64 bits
    value = value * base + digit;
  }
  return true;
}
// A size: a number, optionally followed by K, M or G (binary multiples).
inline bool parse_size(const char* begin, const char* end, uint64_t& value) {
  unsigned shift = 0;
  if (end != begin) {
    switch (end[-1]) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      default:
        break;
    }
  }
  if (shift != 0) --end;
  if (!parse_number(begin, end, value) || (shift != 0 && (value >> (64 - shift)) != 0)) return false;
  value <<= shift;
  return true;
}
}  // namespace detail

// Parses the configuration at `text` (at most `max_size` bytes). On error fills `error`
// with what is wrong, on which line and in which VM, and returns false.
inline bool parse_config(const char* text, unsigned long max_size, Config& config, ConfigError& error) {
  const char* const end = text + max_size;
  config = {};
  config.vm_count = 1;  // keys before any header belong to vm0
  bool have_kernel[kMaxVms] = {};
  bool vm0_has_keys = false, have_header = false;
  unsigned line_number = 0;
  for (const char* line = text; line < end && *line != '\0';) {
    ++line_number;
    const char* line_end = line;
    while (line_end < end && *line_end != '\n' && *line_end != '\0') ++line_end;
    const char* next = line_end < end && *line_end == '\n' ? line_end + 1 : line_end;
    while (line < line_end && (*line == ' ' || *line == '\t')) ++line;
    const char* value_end = line_end;
    while (value_end > line && (value_end[-1] == '\r' || value_end[-1] == ' ')) --value_end;
    if (line == value_end || *line == '#') {
      line = next;
      continue;
    }
    const int vm = static_cast<int>(config.vm_count) - 1;
    if (*line == '[') {
      // [vmN]: N must be the next VM's number (vm0 only if no key came before it).
      uint64_t number = 0;
      const bool well_formed = value_end - line > 4 && detail::equals(line, line + 3, "[vm") &&
                               value_end[-1] == ']' && detail::parse_number(line + 3, value_end - 1, number);
      if (!well_formed) return detail::fail(error, line_number, ConfigError::kNoVm, "expected [vmN]");
      const uint64_t expected = have_header || vm0_has_keys ? config.vm_count : 0;
      if (number != expected)
        return detail::fail(error, line_number, ConfigError::kNoVm, "[vm%llu] where [vm%llu] was expected",
                            static_cast<unsigned long long>(number),
                            static_cast<unsigned long long>(expected));
      if (number >= kMaxVms)
        return detail::fail(error, line_number, ConfigError::kNoVm, "at most %u VMs", kMaxVms);
      config.vm_count = static_cast<unsigned>(number) + 1;
      have_header = true;
      line = next;
      continue;
    }
    VmConfig& target = config.vms[vm];
    if (vm == 0) vm0_has_keys = true;
    const char* equals = line;
    while (equals < value_end && *equals != '=') ++equals;
    if (equals == value_end) return detail::fail(error, line_number, vm, "expected key=value");
    const char* value = equals + 1;
    auto numeric = [&](const char* key, uint64_t& out) {
      if (!detail::parse_number(value, value_end, out))
        return detail::fail(error, line_number, vm, "%s needs a number (decimal or 0x hex)", key);
      return true;
    };
    auto is_key = [&](const char* key) { return detail::equals(line, equals, key); };
    const unsigned long length = static_cast<unsigned long>(value_end - value);
    if (is_key("kernel")) {
      if (!numeric("kernel", target.kernel)) return false;
      have_kernel[vm] = true;
    } else if (is_key("entry")) {
      if (!numeric("entry", target.entry)) return false;
    } else if (is_key("initrd")) {
      if (!numeric("initrd", target.initrd)) return false;
    } else if (is_key("initrd_size")) {
      if (!numeric("initrd_size", target.initrd_size)) return false;
    } else if (is_key("memory")) {
      if (!detail::parse_size(value, value_end, target.memory) || target.memory == 0)
        return detail::fail(error, line_number, vm,
                            "memory needs a size (bytes, or a number with K, M or G)");
      if (target.memory % kMemoryGranule != 0)
        return detail::fail(error, line_number, vm, "memory must be a multiple of 2 MiB");
    } else if (is_key("cpus")) {
      uint64_t cpus = 0;
      if (!numeric("cpus", cpus)) return false;
      if (cpus == 0 || cpus > kMaxCpus)
        return detail::fail(error, line_number, vm, "cpus must be 1..%u", kMaxCpus);
      target.cpus = static_cast<unsigned>(cpus);
    } else if (is_key("pmu")) {
      if (detail::equals(value, value_end, "on"))
        target.pmu = true;
      else if (detail::equals(value, value_end, "off"))
        target.pmu = false;
      else
        return detail::fail(error, line_number, vm, "pmu must be on or off");
    } else if (is_key("cmdline")) {
      if (length >= kMaxCmdline)
        return detail::fail(error, line_number, vm, "cmdline longer than %u bytes", kMaxCmdline - 1);
      for (unsigned long i = 0; i < length; ++i) target.cmdline[i] = value[i];
      target.cmdline[length] = '\0';
    } else {
      return detail::fail(error, line_number, vm, "unknown key '%.*s'", static_cast<int>(equals - line),
                          line);
    }
    line = next;
  }
  unsigned cpus = 0, without_memory = 0;
  for (unsigned n = 0; n < config.vm_count; ++n) {
    VmConfig& vm = config.vms[n];
    const int which = static_cast<int>(n);
    if (!have_kernel[n])
      return detail::fail(error, 0, which, "no kernel= line (where the guest kernel was loaded)");
    if (vm.initrd != 0 && vm.initrd_size == 0)
      return detail::fail(error, 0, which, "initrd= needs initrd_size=");
    if (vm.entry == 0) vm.entry = vm.kernel;
    cpus += vm.cpus;
    if (vm.memory == 0 && ++without_memory > 1)
      return detail::fail(error, 0, which, "memory= missing: only one VM may take the RAM the others leave");
  }
  if (cpus > kMaxCpus)
    return detail::fail(error, 0, ConfigError::kNoVm, "the VMs have %u vCPUs together; at most %u", cpus,
                        kMaxCpus);
  return true;
}

}  // namespace hv
