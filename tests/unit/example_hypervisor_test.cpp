#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

import arm.fdt;
import hv.config;
import hv.pl011;
import hv.guest_dt;
import hv.platform;

namespace {
bool parse(const std::string& text, hv::Config& config, hv::ConfigError& error) {
  return hv::parse_config(text.c_str(), text.size() + 1, config, error);
}
// The error a configuration that must be refused is refused with.
hv::ConfigError rejection(const std::string& text) {
  hv::Config config;
  hv::ConfigError error;
  CHECK_FALSE(parse(text, config, error));
  return error;
}
}  // namespace

TEST_CASE("the hypervisor's configuration: keys, numbers, comments, defaults") {
  hv::Config config;
  hv::ConfigError error;
  REQUIRE(
      parse("# comment\nkernel=0x41000000\ninitrd=0x48000000\ninitrd_size=1234\ncpus=2\n"
            "cmdline=console=ttyAMA0 rdinit=/init\n",
            config, error));
  REQUIRE(config.vm_count == 1);  // no [vmN] header: one VM
  const hv::VmConfig& vm = config.vms[0];
  CHECK(vm.kernel == 0x4100'0000);
  CHECK(vm.entry == 0x4100'0000);  // a raw binary's default entry: its load address
  CHECK(vm.initrd == 0x4800'0000);
  CHECK(vm.initrd_size == 1234);
  CHECK(vm.cpus == 2);
  CHECK(vm.memory == 0);  // the RAM the hypervisor leaves
  CHECK(std::string(vm.cmdline) == "console=ttyAMA0 rdinit=/init");
}

TEST_CASE("several VMs: numbered sections, each with its own keys and memory size") {
  hv::Config config;
  hv::ConfigError error;
  REQUIRE(
      parse("[vm0]\nkernel=0x41000000\nmemory=64M\ncpus=2\n\n[vm1]\nkernel=0x45000000\n"
            "memory=0x4000000\npmu=on\n[vm2]\nkernel=0x49000000\nmemory=1G\n",
            config, error));
  REQUIRE(config.vm_count == 3);
  CHECK(config.vms[0].kernel == 0x4100'0000);
  CHECK(config.vms[0].memory == 64ull << 20);
  CHECK(config.vms[0].cpus == 2);
  CHECK_FALSE(config.vms[0].pmu);
  CHECK(config.vms[1].kernel == 0x4500'0000);
  CHECK(config.vms[1].memory == 64ull << 20);
  CHECK(config.vms[1].cpus == 1);
  CHECK(config.vms[1].pmu);
  CHECK(config.vms[2].memory == 1ull << 30);

  // Keys before the first header are vm0's.
  REQUIRE(parse("kernel=0x41000000\nmemory=2048K\n[vm1]\nkernel=0x45000000\n", config, error));
  CHECK(config.vm_count == 2);
  CHECK(config.vms[0].memory == 2ull << 20);
  CHECK(config.vms[1].memory == 0);
}

TEST_CASE("a malformed configuration is rejected with what is wrong and where") {
  hv::ConfigError error = rejection("kernel=0x41000000\nkernal=1\n");
  CHECK(error.line == 2);
  CHECK(error.vm == 0);
  CHECK(std::string(error.message) == "unknown key 'kernal'");

  error = rejection("kernel=0x4100zz\n");
  CHECK(error.line == 1);
  CHECK(std::string(error.message) == "kernel needs a number (decimal or 0x hex)");

  error = rejection("kernel=0x100000000000000000\n");  // more than 64 bits
  CHECK(std::string(error.message) == "kernel needs a number (decimal or 0x hex)");

  error = rejection("kernel=1\ncpus=9\n");
  CHECK(error.line == 2);
  CHECK(std::string(error.message) == "cpus must be 1..8");

  error = rejection("kernel=1\njust words\n");
  CHECK(error.line == 2);
  CHECK(std::string(error.message) == "expected key=value");

  error = rejection("cpus=1\n");
  CHECK(error.line == 0);
  CHECK(std::string(error.message) == "no kernel= line (where the guest kernel was loaded)");

  error = rejection("kernel=1\ninitrd=0x48000000\n");
  CHECK(std::string(error.message) == "initrd= needs initrd_size=");
}

TEST_CASE("a malformed description of several VMs names the VM and the setting") {
  hv::ConfigError error = rejection("[vm0]\nkernel=1\nmemory=64M\n[vm1]\nkernel=2\nmemory=3M\n");
  CHECK(error.line == 6);
  CHECK(error.vm == 1);
  CHECK(std::string(error.message) == "memory must be a multiple of 2 MiB");

  error = rejection("[vm0]\nkernel=1\nmemory=lots\n");
  CHECK(error.vm == 0);
  CHECK(std::string(error.message) == "memory needs a size (bytes, or a number with K, M or G)");

  error = rejection("[vm0]\nkernel=1\n[vm2]\nkernel=2\n");
  CHECK(error.line == 3);
  CHECK(std::string(error.message) == "[vm2] where [vm1] was expected");

  error = rejection("kernel=1\n[vm0]\n");  // vm0 had its keys already
  CHECK(std::string(error.message) == "[vm0] where [vm1] was expected");

  error = rejection("[vm0]\nkernel=1\n[vm1]\ncpus=2\n");
  CHECK(error.line == 0);
  CHECK(error.vm == 1);
  CHECK(std::string(error.message) == "no kernel= line (where the guest kernel was loaded)");

  error = rejection("[vm0]\nkernel=1\n[vm1]\nkernel=2\n");
  CHECK(error.vm == 1);
  CHECK(std::string(error.message) == "memory= missing: only one VM may take the RAM the others leave");

  error = rejection("cpus=5\nkernel=1\nmemory=4M\n[vm1]\ncpus=4\nkernel=2\n");
  CHECK(error.vm == hv::ConfigError::kNoVm);
  CHECK(std::string(error.message) == "the VMs have 9 vCPUs together; at most 8");

  error = rejection(
      "[vm0]\nkernel=1\nmemory=2M\n[vm1]\nkernel=1\nmemory=2M\n[vm2]\nkernel=1\n"
      "memory=2M\n[vm3]\nkernel=1\nmemory=2M\n[vm4]\n");
  CHECK(std::string(error.message) == "at most 4 VMs");

  error = rejection("[virtual machine]\n");
  CHECK(std::string(error.message) == "expected [vmN]");
}

TEST_CASE("the emulated PL011 transmits at once and raises TXIS while unmasked") {
  static std::string written;
  written.clear();
  hv::EmulatedPl011 uart{[](void*, char c) { written.push_back(c); }, nullptr};
  CHECK((uart.read(hv::EmulatedPl011::kFr) & hv::EmulatedPl011::kFrTxfe) != 0);
  CHECK((uart.read(hv::EmulatedPl011::kFr) & hv::EmulatedPl011::kFrRxfe) != 0);
  uart.write(hv::EmulatedPl011::kDr, 'o');
  uart.write(hv::EmulatedPl011::kDr, 'k');
  CHECK(written == "ok");
  CHECK(uart.characters_written() == 2);
  CHECK_FALSE(uart.interrupt_pending());
  uart.write(hv::EmulatedPl011::kImsc, hv::EmulatedPl011::kTxInterrupt);
  CHECK(uart.interrupt_pending());
  CHECK(uart.read(hv::EmulatedPl011::kMis) == hv::EmulatedPl011::kTxInterrupt);
  uart.write(hv::EmulatedPl011::kImsc, 0);
  CHECK_FALSE(uart.interrupt_pending());
  // The PrimeCell identification the AMBA bus matches: PeriphID 0x00?41011, CellID B105F00D.
  CHECK(uart.read(0xfe0) == 0x11);
  CHECK(uart.read(0xfe4) == 0x10);
  CHECK(uart.read(0xff0) == 0x0d);
  CHECK(uart.read(0xffc) == 0xb1);
}

TEST_CASE(
    "the emulated PL011 queues received characters in a 16-entry FIFO and raises RXIS until it is empty") {
  using Uart = hv::EmulatedPl011;
  Uart uart{[](void*, char) {}, nullptr};
  uart.write(Uart::kImsc, Uart::kRxInterrupt | Uart::kRxTimeoutInterrupt);
  CHECK((uart.read(Uart::kFr) & Uart::kFrRxfe) != 0);
  CHECK_FALSE(uart.interrupt_pending());
  CHECK(uart.read(Uart::kDr) == 0);  // an empty FIFO reads as 0

  CHECK(uart.receive('h'));
  CHECK(uart.receive('i'));
  CHECK((uart.read(Uart::kFr) & Uart::kFrRxfe) == 0);
  CHECK(uart.interrupt_pending());
  CHECK(uart.read(Uart::kMis) == (Uart::kRxInterrupt | Uart::kRxTimeoutInterrupt));
  CHECK(uart.read(Uart::kDr) == 'h');
  CHECK(uart.read(Uart::kDr) == 'i');
  CHECK((uart.read(Uart::kFr) & Uart::kFrRxfe) != 0);
  CHECK_FALSE(uart.interrupt_pending());

  for (unsigned i = 0; i < Uart::kFifoDepth; ++i) CHECK(uart.receive(static_cast<char>('a' + i)));
  CHECK((uart.read(Uart::kFr) & Uart::kFrRxff) != 0);
  CHECK_FALSE(uart.receive('!'));  // full: not stored
  for (unsigned i = 0; i < Uart::kFifoDepth; ++i) CHECK(uart.read(Uart::kDr) == 'a' + i);
  CHECK((uart.read(Uart::kFr) & Uart::kFrRxfe) != 0);
}

namespace {
// A small stand-in for QEMU's tree: memory, chosen, cpus (2), a GIC with an ITS, a PL011,
// a virtio-mmio device and PCIe.
std::vector<std::uint8_t> host_tree() {
  std::vector<std::uint8_t> blob(8192);
  arm::fdt::Writer w(blob.data(), blob.size());
  w.begin_node("");
  w.property_u32("#address-cells", 2);
  w.begin_node("memory@40000000");
  w.property_reg("reg", 0x4000'0000, 0x2000'0000);
  w.end_node();
  w.begin_node("chosen");
  w.property_string("bootargs", "host");
  w.end_node();
  w.begin_node("cpus");
  for (const char* cpu : {"cpu@0", "cpu@1"}) {
    w.begin_node(cpu);
    w.property_string("enable-method", "psci");
    w.end_node();
  }
  w.begin_node("cpu-map");
  w.end_node();
  w.end_node();
  w.begin_node("intc@8000000");
  w.property_string("compatible", "arm,gic-v3");
  w.begin_node("its@8080000");
  w.end_node();
  w.end_node();
  w.begin_node("pl011@9000000");
  w.end_node();
  w.begin_node("virtio_mmio@a000000");
  w.end_node();
  w.begin_node("pcie@10000000");
  w.end_node();
  w.end_node();
  blob.resize(w.finish());
  return blob;
}

// Node paths of a tree, "/a/b" style, and the properties of one node.
std::vector<std::string> node_paths(const std::vector<std::uint8_t>& blob) {
  std::vector<std::string> paths, stack;
  arm::fdt::Reader reader(blob.data());
  for (;;) {
    const auto token = reader.next();
    if (token.kind == arm::fdt::Token::Kind::BeginNode) {
      stack.emplace_back(token.name);
      std::string path;
      for (std::size_t i = 1; i < stack.size(); ++i) path += "/" + stack[i];
      paths.push_back(path.empty() ? "/" : path);
    } else if (token.kind == arm::fdt::Token::Kind::EndNode) {
      stack.pop_back();
    } else if (token.kind != arm::fdt::Token::Kind::Property) {
      return paths;
    }
  }
}
}  // namespace

TEST_CASE("the guest's device tree keeps what the guest may use and replaces memory and chosen") {
  const auto host = host_tree();
  std::vector<std::uint8_t> guest(8192);
  hv::GuestDtInput input;
  input.ram_base = 0x4100'0000;
  input.ram_size = 0x1f00'0000;
  input.vcpus = 1;
  input.initrd_start = 0x4800'0000;
  input.initrd_end = 0x4810'0000;
  input.bootargs = "console=ttyAMA0";
  const unsigned long size = hv::build_guest_dt(host.data(), host.size(), input, guest.data(), guest.size());
  REQUIRE(size > 0);
  guest.resize(size);
  REQUIRE(arm::fdt::Reader::valid(guest.data(), guest.size()));
  const std::vector<std::string> expected = {
      "/", "/cpus", "/cpus/cpu@0", "/intc@8000000", "/pl011@9000000", "/memory@41000000", "/chosen"};
  CHECK(node_paths(guest) == expected);
  CHECK(hv::count_cpus(host.data()) == 2);
  CHECK(hv::count_cpus(guest.data()) == 1);

  // /memory and /chosen carry the guest's values.
  arm::fdt::Reader reader(guest.data());
  bool in_memory = false, in_chosen = false, saw_reg = false, saw_bootargs = false, saw_initrd = false;
  for (auto token = reader.next(); token.kind != arm::fdt::Token::Kind::End; token = reader.next()) {
    if (token.kind == arm::fdt::Token::Kind::BeginNode) {
      in_memory = std::string(token.name) == "memory@41000000";
      in_chosen = std::string(token.name) == "chosen";
    }
    if (token.kind != arm::fdt::Token::Kind::Property) continue;
    if (in_memory && std::string(token.name) == "reg") {
      saw_reg = arm::fdt::cell(token.data, 1) == 0x4100'0000 && arm::fdt::cell(token.data, 3) == 0x1f00'0000;
    }
    if (in_chosen && std::string(token.name) == "bootargs")
      saw_bootargs = std::string(reinterpret_cast<const char*>(token.data)) == "console=ttyAMA0";
    if (in_chosen && std::string(token.name) == "linux,initrd-end")
      saw_initrd = arm::fdt::cell(token.data, 1) == 0x4810'0000;
  }
  CHECK(saw_reg);
  CHECK(saw_bootargs);
  CHECK(saw_initrd);
}

TEST_CASE("a guest device tree that does not fit is refused, not truncated") {
  const auto host = host_tree();
  std::vector<std::uint8_t> small(128);
  hv::GuestDtInput input;
  CHECK(hv::build_guest_dt(host.data(), host.size(), input, small.data(), small.size()) == 0);
  std::vector<std::uint8_t> garbage(64, 0x5a);
  std::vector<std::uint8_t> out(4096);
  CHECK(hv::build_guest_dt(garbage.data(), garbage.size(), input, out.data(), out.size()) == 0);
}

namespace {
// Big-endian cells for a property value.
std::vector<std::uint8_t> cells(std::initializer_list<std::uint32_t> values) {
  std::vector<std::uint8_t> bytes;
  for (std::uint32_t value : values)
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(value >> shift));
  return bytes;
}

// A machine unlike QEMU virt's: RAM at 2 GiB, two CPUs in cluster 1 (MPIDR 0x100, 0x101),
// the GIC and console elsewhere, the console named by stdout-path with options, and a
// second PL011 before it that is not the console.
struct TreeOptions {
  bool gic = true;
  bool config = true;
  bool initrd = false;
};
std::vector<std::uint8_t> board_tree(TreeOptions options = {}) {
  std::vector<std::uint8_t> blob(8192);
  arm::fdt::Writer w(blob.data(), blob.size());
  w.begin_node("");
  w.property_u32("#address-cells", 2);
  w.property_u32("#size-cells", 2);
  w.begin_node("chosen");
  w.property_string("stdout-path", "/soc/serial@1c090000:115200n8");
  if (options.config) {
    const auto value = cells({0, 0x8010'0000, 0, 0x400});
    w.property("arm-vcpu,config", value.data(), static_cast<std::uint32_t>(value.size()));
  }
  if (options.initrd) {
    w.property_u64("linux,initrd-start", 0x8800'0000);
    w.property_u64("linux,initrd-end", 0x8800'0123);
  }
  w.end_node();
  w.begin_node("memory@80000000");
  w.property_string("device_type", "memory");
  w.property_reg("reg", 0x8000'0000, 0x8000'0000);
  w.end_node();
  w.begin_node("cpus");
  w.property_u32("#address-cells", 1);
  w.property_u32("#size-cells", 0);
  for (std::uint32_t mpidr : {0x100u, 0x101u}) {
    char name[16];
    std::snprintf(name, sizeof name, "cpu@%x", mpidr);
    w.begin_node(name);
    w.property_string("device_type", "cpu");
    w.property_u32("reg", mpidr);
    w.end_node();
  }
  w.end_node();
  w.begin_node("soc");
  w.property_u32("#address-cells", 2);
  w.property_u32("#size-cells", 2);
  if (options.gic) {
    w.begin_node("interrupt-controller@2f000000");
    w.property_string("compatible", "arm,gic-v3");
    const auto reg = cells({0, 0x2f00'0000, 0, 0x1'0000, 0, 0x2f10'0000, 0, 0x20'0000});
    w.property("reg", reg.data(), static_cast<std::uint32_t>(reg.size()));
    w.end_node();
  }
  for (std::uint32_t base : {0x1c08'0000u, 0x1c09'0000u}) {
    char name[32];
    std::snprintf(name, sizeof name, "serial@%x", base);
    w.begin_node(name);
    static const char kCompatible[] = "arm,pl011\0arm,primecell";
    w.property("compatible", kCompatible, sizeof kCompatible);
    const auto reg = cells({0, base, 0, 0x1000});
    w.property("reg", reg.data(), static_cast<std::uint32_t>(reg.size()));
    const auto interrupts = cells({0, base == 0x1c09'0000u ? 5u : 4u, 4});
    w.property("interrupts", interrupts.data(), static_cast<std::uint32_t>(interrupts.size()));
    w.end_node();
  }
  w.end_node();
  w.end_node();
  blob.resize(w.finish());
  return blob;
}
}  // namespace

TEST_CASE("the platform comes from the device tree, not from QEMU virt's layout") {
  const auto tree = board_tree();
  hv::Platform platform;
  hv::PlatformError error;
  REQUIRE(hv::read_platform(tree.data(), platform, error));
  CHECK(platform.ram_base == 0x8000'0000);
  CHECK(platform.ram_size == 0x8000'0000);
  REQUIRE(platform.cpus == 2);
  CHECK(platform.mpidr[0] == 0x100);
  CHECK(platform.mpidr[1] == 0x101);
  CHECK(platform.gicd == 0x2f00'0000);
  CHECK(platform.gicr == 0x2f10'0000);
  CHECK(platform.gicr_size == 0x20'0000);
  CHECK(platform.gicr_stride == hv::kDefaultRedistributorStride);
  // stdout-path's node (its options after ':' ignored), not the first PL011.
  CHECK(platform.uart == 0x1c09'0000);
  CHECK(platform.uart_intid == 32 + 5);
  CHECK(std::string(platform.uart_path) == "/soc/serial@1c090000");
  CHECK(platform.config == 0x8010'0000);
  CHECK(platform.config_size == 0x400);
  CHECK(platform.config_from_dt);
}

TEST_CASE("the configuration's place: arm-vcpu,config, else booti's initrd, else the default") {
  hv::Platform platform;
  hv::PlatformError error;
  const auto initrd = board_tree({.config = false, .initrd = true});
  REQUIRE(hv::read_platform(initrd.data(), platform, error));
  CHECK(platform.config == 0x8800'0000);
  CHECK(platform.config_size == 0x123);
  const auto neither = board_tree({.config = false});
  REQUIRE(hv::read_platform(neither.data(), platform, error));
  CHECK(platform.config == hv::kDefaultConfigAddress);
  CHECK_FALSE(platform.config_from_dt);
}

TEST_CASE("a device tree without what the hypervisor needs is refused, naming it") {
  const auto tree = board_tree({.gic = false});
  hv::Platform platform;
  hv::PlatformError error;
  CHECK_FALSE(hv::read_platform(tree.data(), platform, error));
  CHECK(std::string(error.message) == "no GICv3 (compatible \"arm,gic-v3\")");
}
