// hv.platform: the machine the example hypervisor runs on, as the device tree it was
// given in x0 describes it (Devicetree Specification v0.4, chapters 2 and 3; the GICv3
// binding, Linux Documentation/devicetree/bindings/interrupt-controller/arm,gic-v3.yaml):
// RAM, the CPUs and their MPIDRs, the GICv3 distributor and redistributors, the console
// PL011 and its interrupt, and where the hypervisor's configuration (hv.cfg) was loaded.
// Nothing here assumes QEMU's virt layout; a property the hypervisor cannot do without that
// is missing or malformed is an error naming it.
module;
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
export module hv.platform;
import arm.fdt;

export namespace hv {

inline constexpr unsigned kMaxPhysicalCpus = 8;
// The GICv3 binding's default when "redistributor-stride" is absent: the RD_base and
// SGI_base frames of 64 KiB each (IHI 0069 12.10, "The GIC Redistributor register map").
inline constexpr uint64_t kDefaultRedistributorStride = 0x2'0000;
// Where tools/run-hypervisor's QEMU -device loader puts hv.cfg when the device tree does
// not say (QEMU's own device tree has no place for it).
inline constexpr uint64_t kDefaultConfigAddress = 0x4010'0000;
inline constexpr uint64_t kDefaultConfigMaxSize = 0x1'0000;

struct Platform {
  uint64_t ram_base = 0;
  uint64_t ram_size = 0;
  unsigned cpus = 0;
  uint64_t mpidr[kMaxPhysicalCpus] = {};  // affinity fields of each CPU node's reg
  uint64_t gicd = 0;                      // GICv3 reg[0]
  uint64_t gicr = 0;                      // GICv3 reg[1]: the first redistributor region
  uint64_t gicr_size = 0;
  uint64_t gicr_stride = kDefaultRedistributorStride;
  uint64_t uart = 0;                        // the console: /chosen stdout-path's PL011 (else the first PL011)
  uint32_t uart_intid = 0;                  // its interrupt as a GIC INTID
  char uart_path[128] = {};                 // its node's path (the guests' stdout-path)
  uint64_t config = kDefaultConfigAddress;  // hv.cfg
  uint64_t config_size = kDefaultConfigMaxSize;
  bool config_from_dt = false;  // /chosen named it (arm-vcpu,config or linux,initrd-*)
};

struct PlatformError {
  char message[160] = {};
};

}  // namespace hv

namespace hv {

bool equal(const char* a, const char* b) { return arm::fdt::strings_equal(a, b); }
bool begins(const char* text, const char* prefix) {
  while (*prefix != '\0')
    if (*text++ != *prefix++) return false;
  return true;
}

// A value of `cells` 32-bit cells at `data` (1 or 2 cells; Devicetree 2.3.5 "reg").
uint64_t read_cells(const uint8_t* data, unsigned cells) {
  uint64_t value = 0;
  for (unsigned n = 0; n < cells; ++n) value = (value << 32) | arm::fdt::cell(data, n);
  return value;
}

// Whether the string list `data` (Devicetree 2.2.4.1: NUL-separated) holds `word`.
bool string_list_has(const uint8_t* data, uint32_t size, const char* word) {
  const char* text = reinterpret_cast<const char*>(data);
  for (uint32_t at = 0; at < size;) {
    if (equal(text + at, word)) return true;
    while (at < size && text[at] != '\0') ++at;
    ++at;
  }
  return false;
}

// One node's properties of interest, collected until its end.
struct NodeFacts {
  char path[128] = {};
  unsigned address_cells = 2, size_cells = 1;  // what this node's children use (2.3.5)
  bool is_memory = false, is_cpu = false, is_gic = false, is_pl011 = false;
  const uint8_t* reg = nullptr;
  uint32_t reg_size = 0;
  const uint8_t* interrupts = nullptr;
  uint32_t interrupts_size = 0;
  const uint8_t* stride = nullptr;
};

}  // namespace hv

export namespace hv {

// Reads `platform` from the device tree at `dtb` (already checked with Reader::valid).
inline bool read_platform(const void* dtb, Platform& platform, PlatformError& error) {
  using Kind = arm::fdt::Token::Kind;
  auto fail = [&](const char* what) {
    snprintf(error.message, sizeof error.message, "%s", what);
    return false;
  };
  arm::fdt::Reader reader(dtb);
  constexpr unsigned kMaxDepth = 16;
  NodeFacts nodes[kMaxDepth];
  unsigned depth = 0;
  char stdout_path[128] = {}, first_pl011_path[128] = {};
  uint64_t first_pl011 = 0, stdout_uart = 0;
  uint32_t first_pl011_intid = 0, stdout_intid = 0;
  bool have_memory = false, have_gic = false;
  const uint8_t* initrd_start = nullptr;
  const uint8_t* initrd_end = nullptr;
  uint32_t initrd_start_size = 0, initrd_end_size = 0;
  platform = {};
  for (;;) {
    const arm::fdt::Token token = reader.next();
    if (token.kind == Kind::Error) return fail("the device tree is malformed");
    if (token.kind == Kind::End) break;
    if (token.kind == Kind::BeginNode) {
      if (depth == kMaxDepth) return fail("the device tree is nested too deeply");
      NodeFacts& node = nodes[depth];
      node = {};
      // Its path: the parent's, "/", its name (the root's name is empty).
      if (depth == 0)
        snprintf(node.path, sizeof node.path, "/");
      else
        snprintf(node.path, sizeof node.path, "%s%s%s", nodes[depth - 1].path, depth == 1 ? "" : "/",
                 token.name);
      node.is_memory = depth == 1 && begins(token.name, "memory");
      ++depth;
      continue;
    }
    NodeFacts& node = nodes[depth - 1];
    // The cells of this node's own reg come from its parent (Devicetree 2.3.5).
    const unsigned address_cells = depth >= 2 ? nodes[depth - 2].address_cells : 2;
    const unsigned size_cells = depth >= 2 ? nodes[depth - 2].size_cells : 1;
    if (token.kind == Kind::Property) {
      const char* name = token.name;
      if (equal(name, "#address-cells") && token.size == 4)
        node.address_cells = arm::fdt::cell(token.data, 0);
      if (equal(name, "#size-cells") && token.size == 4) node.size_cells = arm::fdt::cell(token.data, 0);
      if (equal(name, "device_type") && string_list_has(token.data, token.size, "memory"))
        node.is_memory = true;
      if (equal(name, "device_type") && string_list_has(token.data, token.size, "cpu")) node.is_cpu = true;
      if (equal(name, "compatible")) {
        node.is_gic = string_list_has(token.data, token.size, "arm,gic-v3");
        node.is_pl011 = string_list_has(token.data, token.size, "arm,pl011");
      }
      if (equal(name, "reg")) {
        node.reg = token.data;
        node.reg_size = token.size;
      }
      if (equal(name, "interrupts")) {
        node.interrupts = token.data;
        node.interrupts_size = token.size;
      }
      if (equal(name, "redistributor-stride") && token.size == 8) node.stride = token.data;
      if (equal(node.path, "/chosen")) {
        if (equal(name, "stdout-path") && token.size > 0 && token.size < sizeof stdout_path) {
          // "path[:options]" (Devicetree 3.6).
          unsigned n = 0;
          for (; n < token.size && token.data[n] != '\0' && token.data[n] != ':'; ++n)
            stdout_path[n] = static_cast<char>(token.data[n]);
          stdout_path[n] = '\0';
        }
        if (equal(name, "arm-vcpu,config") && token.size == 16) {
          platform.config = read_cells(token.data, 2);
          platform.config_size = read_cells(token.data + 8, 2);
          platform.config_from_dt = true;
        }
        if (equal(name, "linux,initrd-start")) {
          initrd_start = token.data;
          initrd_start_size = token.size;
        }
        if (equal(name, "linux,initrd-end")) {
          initrd_end = token.data;
          initrd_end_size = token.size;
        }
      }
      continue;
    }
    // EndNode: what the node said.
    const uint32_t entry = 4 * (address_cells + size_cells);
    if (node.is_memory && node.reg != nullptr && !have_memory) {
      if (node.reg_size < entry || address_cells > 2 || size_cells > 2)
        return fail("/memory has no usable reg");
      platform.ram_base = read_cells(node.reg, address_cells);
      platform.ram_size = read_cells(node.reg + size_t{4} * address_cells, size_cells);
      have_memory = true;
    }
    if (node.is_cpu && begins(node.path, "/cpus/")) {
      if (node.reg == nullptr || node.reg_size != 4 * address_cells || address_cells > 2)
        return fail("a /cpus node has no usable reg (its MPIDR)");
      if (platform.cpus == kMaxPhysicalCpus) return fail("more CPUs than the hypervisor supports (8)");
      platform.mpidr[platform.cpus++] = read_cells(node.reg, address_cells);
    }
    if (node.is_gic && !have_gic) {
      if (node.reg == nullptr || node.reg_size < 2 * entry || address_cells > 2 || size_cells > 2)
        return fail("the GICv3 node needs reg with the distributor and a redistributor region");
      platform.gicd = read_cells(node.reg, address_cells);
      platform.gicr = read_cells(node.reg + entry, address_cells);
      platform.gicr_size = read_cells(node.reg + entry + size_t{4} * address_cells, size_cells);
      if (node.stride != nullptr) platform.gicr_stride = read_cells(node.stride, 2);
      have_gic = true;
    }
    if (node.is_pl011 && node.reg != nullptr && node.reg_size >= 4 * address_cells && address_cells <= 2) {
      const uint64_t base = read_cells(node.reg, address_cells);
      // interrupts: <type number flags> in the GIC binding, type 0 an SPI (INTID 32 + number).
      uint32_t intid = 0;
      if (node.interrupts != nullptr && node.interrupts_size >= 12 && arm::fdt::cell(node.interrupts, 0) == 0)
        intid = 32 + arm::fdt::cell(node.interrupts, 1);
      if (first_pl011 == 0) {
        first_pl011 = base;
        first_pl011_intid = intid;
        snprintf(first_pl011_path, sizeof first_pl011_path, "%s", node.path);
      }
      if (stdout_path[0] != '\0' && equal(node.path, stdout_path)) {
        stdout_uart = base;
        stdout_intid = intid;
      }
    }
    --depth;
  }
  if (!have_memory) return fail("no /memory node");
  if (platform.cpus == 0) return fail("no CPU nodes under /cpus");
  if (!have_gic) return fail("no GICv3 (compatible \"arm,gic-v3\")");
  platform.uart = stdout_uart != 0 ? stdout_uart : first_pl011;
  platform.uart_intid = stdout_uart != 0 ? stdout_intid : first_pl011_intid;
  snprintf(platform.uart_path, sizeof platform.uart_path, "%s",
           stdout_uart != 0 ? stdout_path : first_pl011_path);
  if (platform.uart == 0) return fail("no PL011 console (compatible \"arm,pl011\")");
  if (platform.uart_intid == 0) return fail("the console PL011 has no SPI in its interrupts");
  // booti's initrd argument (/chosen linux,initrd-start/end, 32 or 64 bits each) when
  // arm-vcpu,config does not name the configuration.
  if (!platform.config_from_dt && initrd_start != nullptr && initrd_end != nullptr &&
      (initrd_start_size == 4 || initrd_start_size == 8) && initrd_start_size == initrd_end_size) {
    const uint64_t start = read_cells(initrd_start, initrd_start_size / 4);
    const uint64_t end = read_cells(initrd_end, initrd_end_size / 4);
    if (end <= start) return fail("/chosen linux,initrd-end is not above linux,initrd-start");
    platform.config = start;
    platform.config_size = end - start;
    platform.config_from_dt = true;
  }
  return true;
}

}  // namespace hv
