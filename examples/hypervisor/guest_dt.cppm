// hv.guest_dt: the guest's device tree, derived from the one QEMU gave the hypervisor.
//
// Kept: the root, cpus (only the guest's vCPUs), psci (method "smc": the hypervisor traps
// SMC and answers PSCI itself), the GICv3 (passed through, without its ITS), the arch
// timer, the PL011 (emulated by the hypervisor) and its clock.
// Replaced: memory (only the guest's RAM: the hypervisor's own memory is never visible)
// and chosen (bootargs, initrd).
// Dropped: every other device (PCIe, virtio-mmio, fw-cfg, flash, GPIO, RTC), since the
// hypervisor neither maps nor emulates them, and the PMU unless the vCPUs have one
// (GuestDtInput::pmu: its "arm,armv8-pmuv3" node names the overflow PPI the hypervisor
// raises through the vGIC).
module;
#include <stdint.h>
#include <stdio.h>
export module hv.guest_dt;
import arm.fdt;

export namespace hv {
bool has_prefix(const char* name, const char* prefix) {
  while (*prefix != '\0')
    if (*name++ != *prefix++) return false;
  return true;
}
}  // namespace hv

namespace hv {

// Nodes directly under the root that the guest does not get.
constexpr const char* kDroppedRootChildren[] = {"platform-bus", "fw-cfg", "pcie",  "flash",  "virtio_mmio",
                                                "gpio-keys",    "pl061",  "pl031", "memory", "chosen"};

bool drop_root_child(const char* name, bool pmu) {
  if (has_prefix(name, "pmu")) return !pmu;
  for (const char* prefix : kDroppedRootChildren)
    if (has_prefix(name, prefix)) return true;
  return false;
}

// cpu@N with N >= vcpus, and the cpu-map (it refers to cpu nodes that may be gone).
bool drop_cpus_child(const char* name, unsigned vcpus) {
  if (has_prefix(name, "cpu-map")) return true;
  if (!has_prefix(name, "cpu@")) return false;
  unsigned index = 0;
  for (const char* p = name + 4; *p >= '0' && *p <= '9'; ++p)
    index = index * 10 + static_cast<unsigned>(*p - '0');
  return index >= vcpus;
}

}  // namespace hv

export namespace hv {

struct GuestDtInput {
  uint64_t ram_base = 0;
  uint64_t ram_size = 0;
  unsigned vcpus = 1;
  uint64_t initrd_start = 0;  // 0: none
  uint64_t initrd_end = 0;
  const char* bootargs = "";
  const char* stdout_path = "/pl011@9000000";
  bool pmu = false;  // the vCPUs have a guest PMU (VCpuConfig::pmu): keep QEMU's PMU node
};

// The number of CPU nodes under /cpus: how many CPUs QEMU has (-smp).
unsigned count_cpus(const void* dtb) {
  using Kind = arm::fdt::Token::Kind;
  arm::fdt::Reader reader(dtb);
  unsigned depth = 0, cpus = 0;
  bool in_cpus = false;
  for (;;) {
    const arm::fdt::Token token = reader.next();
    if (token.kind == Kind::End || token.kind == Kind::Error) return cpus;
    if (token.kind == Kind::BeginNode) {
      ++depth;
      if (depth == 2) in_cpus = has_prefix(token.name, "cpus");
      if (depth == 3 && in_cpus && has_prefix(token.name, "cpu@")) ++cpus;
    } else if (token.kind == Kind::EndNode) {
      --depth;
    }
  }
}

// Writes the guest's DTB into `out`; returns its size, or 0 with a message on error.
unsigned long build_guest_dt(const void* host_dtb, unsigned long host_dtb_max, const GuestDtInput& input,
                             void* out, unsigned long out_capacity) {
  using Kind = arm::fdt::Token::Kind;
  if (!arm::fdt::Reader::valid(host_dtb, host_dtb_max)) {
    printf("hypervisor: no valid device tree from QEMU\n");
    return 0;
  }
  arm::fdt::Reader reader(host_dtb);
  arm::fdt::Writer writer(out, out_capacity);
  // Path of open nodes (names), to know where we are.
  const char* path[16] = {};
  unsigned depth = 0;
  // cpu@0's properties, for the vCPUs QEMU has no CPU node for (more vCPUs than CPUs): each
  // gets a copy with its own reg, without cpu@0's phandle, and PSCI as its enable-method.
  arm::fdt::Token cpu0[16];
  unsigned cpu0_properties = 0;
  unsigned host_cpus = 0;
  for (;;) {
    const arm::fdt::Token token = reader.next();
    if (token.kind == Kind::Error) {
      printf("hypervisor: malformed device tree from QEMU\n");
      return 0;
    }
    if (token.kind == Kind::End) break;
    if (token.kind == Kind::BeginNode) {
      bool drop = false;
      if (depth == 1) drop = drop_root_child(token.name, input.pmu);
      if (depth == 2 && has_prefix(path[1], "cpus")) drop = drop_cpus_child(token.name, input.vcpus);
      if (depth == 2 && has_prefix(path[1], "intc")) drop = has_prefix(token.name, "its");
      if (drop) {
        // Skip the whole subtree.
        for (unsigned nested = 1; nested > 0;) {
          const arm::fdt::Token skipped = reader.next();
          if (skipped.kind == Kind::BeginNode) ++nested;
          if (skipped.kind == Kind::EndNode) --nested;
          if (skipped.kind == Kind::Error || skipped.kind == Kind::End) {
            printf("hypervisor: malformed device tree from QEMU\n");
            return 0;
          }
        }
        continue;
      }
      if (depth >= 16) {
        printf("hypervisor: device tree nested too deeply\n");
        return 0;
      }
      path[depth++] = token.name;
      writer.begin_node(token.name);
      continue;
    }
    if (token.kind == Kind::Property) {
      if (depth == 3 && has_prefix(path[1], "cpus") && arm::fdt::strings_equal(path[2], "cpu@0") &&
          cpu0_properties < 16)
        cpu0[cpu0_properties++] = token;
      writer.property(token.name, token.data, token.size);
      continue;
    }
    if (depth == 3 && has_prefix(path[1], "cpus") && has_prefix(path[2], "cpu@")) ++host_cpus;
    // The end of /cpus: the vCPUs beyond QEMU's CPUs.
    if (depth == 2 && has_prefix(path[1], "cpus")) {
      for (unsigned n = host_cpus; n < input.vcpus && cpu0_properties != 0; ++n) {
        char name[16];
        snprintf(name, sizeof name, "cpu@%x", n);
        writer.begin_node(name);
        for (unsigned p = 0; p < cpu0_properties; ++p) {
          const arm::fdt::Token& property = cpu0[p];
          if (arm::fdt::strings_equal(property.name, "phandle") ||
              arm::fdt::strings_equal(property.name, "enable-method"))
            continue;
          if (arm::fdt::strings_equal(property.name, "reg") && property.size == 8)
            writer.property_u64("reg", n);
          else if (arm::fdt::strings_equal(property.name, "reg"))
            writer.property_u32("reg", n);
          else
            writer.property(property.name, property.data, property.size);
        }
        // QEMU gives a single CPU no enable-method; the hypervisor answers PSCI CPU_ON.
        writer.property_string("enable-method", "psci");
        writer.end_node();
      }
    }
    // EndNode: the root gets the new memory and chosen nodes before it closes.
    if (depth == 1) {
      char name[32];
      snprintf(name, sizeof name, "memory@%llx", static_cast<unsigned long long>(input.ram_base));
      writer.begin_node(name);
      writer.property_string("device_type", "memory");
      writer.property_reg("reg", input.ram_base, input.ram_size);
      writer.end_node();
      writer.begin_node("chosen");
      writer.property_string("bootargs", input.bootargs);
      writer.property_string("stdout-path", input.stdout_path);
      if (input.initrd_start != 0) {
        writer.property_u64("linux,initrd-start", input.initrd_start);
        writer.property_u64("linux,initrd-end", input.initrd_end);
      }
      writer.end_node();
    }
    writer.end_node();
    --depth;
  }
  const unsigned long size = writer.finish(reader.boot_cpu());
  if (size == 0) printf("hypervisor: the guest device tree does not fit in %lu bytes\n", out_capacity);
  return size;
}

}  // namespace hv
