// hv.config: the hypervisor's configuration, a small text file QEMU places in memory
// with `-device loader,file=hv.cfg,addr=0x40100000` (tools/run-hypervisor writes it).
//
//   # comment
//   kernel=0x41000000        guest kernel load address (arm64 Image or raw binary)
//   entry=0x41000000         entry point of a raw binary (default: the load address)
//   initrd=0x48000000        optional initramfs load address
//   initrd_size=987162       its size in bytes (required with initrd)
//   cmdline=console=ttyAMA0  the kernel command line (rest of the line)
//   cpus=2                   vCPUs (vCPU i runs on physical CPU i mod QEMU's CPUs)
//   pmu=on                   give every vCPU a guest PMU (arm::GuestPmu::Partitioned);
//                            default off (no PMU: PMUVer 0, PMU registers UNDEFINED)
//
// One key per line. The file ends at the first NUL byte (QEMU's RAM is zeroed). Errors
// name the line and the key.
module;
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
export module hv.config;

export namespace hv {

inline constexpr unsigned kMaxCpus = 8;
inline constexpr unsigned kMaxCmdline = 512;

// What is wrong with a configuration, and on which line (0: the file as a whole).
struct ConfigError {
  unsigned line = 0;
  char message[160] = {};
};

struct Config {
  uint64_t kernel = 0;
  uint64_t entry = 0;
  uint64_t initrd = 0;
  uint64_t initrd_size = 0;
  unsigned cpus = 1;
  bool pmu = false;
  char cmdline[kMaxCmdline] = {};
};

namespace detail {
// Fills `error` and returns false, for `return detail::fail(error, ...)` in the parser.
[[gnu::format(printf, 3, 4)]] inline bool fail(ConfigError& error, unsigned line, const char* format, ...) {
  error.line = line;
  va_list arguments;
  va_start(arguments, format);
  vsnprintf(error.message, sizeof error.message, format, arguments);
  va_end(arguments);
  return false;
}

inline bool starts_with(const char* text, const char* prefix) {
  while (*prefix != '\0')
    if (*text++ != *prefix++) return false;
  return true;
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
    value = value * base + digit;
  }
  return true;
}
}  // namespace detail

// Parses the configuration at `text` (at most `max_size` bytes). On error fills `error`
// with what is wrong and on which line, and returns false.
inline bool parse_config(const char* text, unsigned long max_size, Config& config, ConfigError& error) {
  const char* const end = text + max_size;
  unsigned line_number = 0;
  bool have_kernel = false;
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
    const char* equals = line;
    while (equals < value_end && *equals != '=') ++equals;
    if (equals == value_end) return detail::fail(error, line_number, "expected key=value");
    const char* value = equals + 1;
    uint64_t number = 0;
    auto numeric = [&](const char* key, uint64_t& out) {
      if (!detail::parse_number(value, value_end, number))
        return detail::fail(error, line_number, "%s needs a number (decimal or 0x hex)", key);
      out = number;
      return true;
    };
    const unsigned long key_length = static_cast<unsigned long>(equals - line);
    auto is_key = [&](const char* key) {
      unsigned long n = 0;
      while (key[n] != '\0') ++n;
      return n == key_length && detail::starts_with(line, key);
    };
    if (is_key("kernel")) {
      if (!numeric("kernel", config.kernel)) return false;
      have_kernel = true;
    } else if (is_key("entry")) {
      if (!numeric("entry", config.entry)) return false;
    } else if (is_key("initrd")) {
      if (!numeric("initrd", config.initrd)) return false;
    } else if (is_key("initrd_size")) {
      if (!numeric("initrd_size", config.initrd_size)) return false;
    } else if (is_key("cpus")) {
      uint64_t cpus = 0;
      if (!numeric("cpus", cpus)) return false;
      if (cpus == 0 || cpus > kMaxCpus)
        return detail::fail(error, line_number, "cpus must be 1..%u", kMaxCpus);
      config.cpus = static_cast<unsigned>(cpus);
    } else if (is_key("pmu")) {
      const unsigned long length = static_cast<unsigned long>(value_end - value);
      if (length == 2 && value[0] == 'o' && value[1] == 'n') {
        config.pmu = true;
      } else if (length == 3 && value[0] == 'o' && value[1] == 'f' && value[2] == 'f') {
        config.pmu = false;
      } else {
        return detail::fail(error, line_number, "pmu must be on or off");
      }
    } else if (is_key("cmdline")) {
      const unsigned long length = static_cast<unsigned long>(value_end - value);
      if (length >= kMaxCmdline)
        return detail::fail(error, line_number, "cmdline longer than %u bytes", kMaxCmdline - 1);
      for (unsigned long i = 0; i < length; ++i) config.cmdline[i] = value[i];
      config.cmdline[length] = '\0';
    } else {
      return detail::fail(error, line_number, "unknown key '%.*s'", static_cast<int>(key_length), line);
    }
    line = next;
  }
  if (!have_kernel) return detail::fail(error, 0, "no kernel= line (where the guest kernel was loaded)");
  if (config.initrd != 0 && config.initrd_size == 0)
    return detail::fail(error, 0, "initrd= needs initrd_size=");
  if (config.entry == 0) config.entry = config.kernel;
  return true;
}

}  // namespace hv
