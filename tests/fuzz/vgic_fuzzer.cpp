// libFuzzer target over arm.vgic: random sequences of guest MMIO accesses to the virtual
// distributor and redistributors (in range, near the ranges, at every width and alignment),
// device raises and level changes, SGIs, and list register round trips in which the "guest"
// acknowledges and deactivates what it was given, and ends some outside them (EOIcount). Checked after every
// step:
//  - the list registers hold only INTIDs that exist, each at most once per vCPU, and an SPI
//    in at most one vCPU's list registers;
//  - a list register is pending only for an interrupt that is enabled, in an enabled group;
//  - registers of interrupts beyond ITLinesNumber read as zero;
//  - the work mask kept incrementally is what a rescan of every interrupt gives;
// and at the end, after the guest clears every enable, pending and active bit and lowers
// every line: nothing is pending, nothing is delivered, no vCPU has work. No crash, no
// sanitizer report, under any input.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz_input.h"

import arm.gic;
import arm.vgic;

namespace {

constexpr std::uint64_t kGicd = 0x0800'0000;
constexpr std::uint64_t kGicr = 0x080a'0000;
constexpr unsigned kVcpus = 3;
constexpr unsigned kSpis = 64;

class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  std::uint8_t u8() { return at_ < size_ ? data_[at_++] : 0; }
  std::uint64_t u64() {
    std::uint64_t value = 0;
    for (unsigned i = 0; i < 8; ++i) value |= std::uint64_t{u8()} << (8 * i);
    return value;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

// An address the guest might touch: mostly inside the frames, sometimes just outside.
std::uint64_t address(Bytes& in) {
  const std::uint64_t offset = (in.u8() | (std::uint64_t{in.u8()} << 8)) & 0xffff;
  switch (in.u8() % 4) {
    case 0:
      return kGicd + offset;
    case 1:
      return kGicr + (in.u8() % (2 * kVcpus + 1)) * arm::kGicrFrameSize + offset;
    case 2:
      return kGicd + arm::gicd::IROUTER + (offset & 0x7ff);
    default:
      return kGicd + (offset & 0xfff);  // the per-interrupt register blocks
  }
}

void check_list_registers(const arm::VgicState (&cpus)[kVcpus]) {
  bool seen_spi[kSpis] = {};
  for (unsigned n = 0; n < kVcpus; ++n) {
    bool seen_private[32] = {};
    for (std::uint64_t lr : cpus[n].lr) {
      if (arm::list_register_free(lr)) continue;
      const std::uint32_t intid = arm::list_register_intid(lr);
      FUZZ_CHECK(intid < 32 + kSpis);
      bool& seen = intid < 32 ? seen_private[intid] : seen_spi[intid - 32];
      FUZZ_CHECK(!seen);
      seen = true;
    }
  }
}

// What the hypervisor would do at an exit: fold, then (maybe) let the guest act, flush.
void round_trip(arm::Vgic& vgic, arm::VgicState& cpu, unsigned vcpu, std::uint8_t guest, std::uint8_t ended) {
  // Interrupts the guest ended outside the list registers (ICH_HCR_EL2.EOIcount), when
  // flush() left active ones out (LRENPIE).
  if ((cpu.hcr & arm::kIchHcrLrenpie) != 0) cpu.hcr |= std::uint64_t{ended % 4u} << arm::kIchHcrEoiCountShift;
  for (std::uint64_t& lr : cpu.lr) {
    if (arm::list_register_free(lr)) continue;
    const std::uint64_t state = (lr >> 62) & 3;
    switch (guest & 3) {
      case 1:
        lr = (lr & ~(3ull << 62)) | ((state & 1) ? 2ull << 62 : 0);
        break;  // acknowledge
      case 2:
        lr &= ~(3ull << 62);
        break;  // deactivate
      default:
        break;  // leave it
    }
    guest >>= 2;
  }
  vgic.fold(vcpu, cpu);
  vgic.flush(vcpu, cpu);
  const std::uint64_t ctlr = vgic.read(vcpu, kGicd + arm::gicd::CTLR, 4);
  for (std::uint64_t lr : cpu.lr) {
    if (arm::list_register_free(lr) || ((lr >> 62) & 1) == 0) continue;
    const std::uint32_t intid = arm::list_register_intid(lr);
    const std::uint64_t enables =
        intid < 32 ? kGicr + 2ull * vcpu * arm::kGicrFrameSize + arm::kGicrFrameSize + arm::gicr::ISENABLER0
                   : kGicd + arm::gicd::ISENABLER + 4ull * (intid / 32);
    FUZZ_CHECK(((vgic.read(vcpu, enables, 4) >> (intid % 32)) & 1) != 0);
    FUZZ_CHECK((ctlr & ((lr & arm::ich_lr::kGroup1) ? 2 : 1)) != 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static arm::Vgic vgic({.vcpus = kVcpus, .spis = kSpis, .gicd_base = kGicd, .gicr_base = kGicr});
  vgic.reset({.vcpus = kVcpus, .spis = kSpis, .gicd_base = kGicd, .gicr_base = kGicr});
  arm::VgicState cpus[kVcpus];
  Bytes in(data, size);
  for (unsigned step = 0; step < 256 && !in.empty(); ++step) {
    const std::uint8_t op = in.u8();
    const unsigned vcpu = (op >> 4) % (kVcpus + 1);  // sometimes a vCPU that does not exist
    const unsigned sizes[4] = {1, 2, 4, 8};
    switch (op % 8) {
      case 0:
        vgic.read(vcpu, address(in), sizes[in.u8() % 4]);
        break;
      case 1:
      case 2: {
        const std::uint64_t where = address(in);
        vgic.write(vcpu, where, sizes[in.u8() % 4], in.u64());
        break;
      }
      case 3:
        vgic.raise(in.u8() | (static_cast<std::uint32_t>(in.u8() & 1) << 8), vcpu);
        break;
      case 4:
        vgic.set_level(in.u8(), (op & 8) != 0, vcpu);
        break;
      case 5:
        vgic.send_sgi(vcpu, in.u64());
        break;
      default:
        if (vcpu < kVcpus) {
          const std::uint8_t guest = in.u8();
          round_trip(vgic, cpus[vcpu], vcpu, guest, in.u8());
        }
        break;
    }
    check_list_registers(cpus);
    FUZZ_CHECK(vgic.work_is_consistent());  // the incremental work mask is a rescan's
    // Beyond ITLinesNumber (INTIDs 96..) every register is RAZ.
    FUZZ_CHECK(vgic.read(0, kGicd + arm::gicd::ISPENDR + 12, 4) == 0);
    FUZZ_CHECK(vgic.read(0, kGicd + arm::gicd::IROUTER + 8ull * 96, 8) == 0);
  }
  // The guest clears everything; the devices lower their lines.
  for (std::uint32_t intid = 0; intid < 32 + kSpis; ++intid)
    for (unsigned n = 0; n < kVcpus; ++n) vgic.set_level(intid, false, n);
  for (unsigned n = 0; n < kVcpus; ++n) {
    const std::uint64_t frame = kGicr + 2ull * n * arm::kGicrFrameSize + arm::kGicrFrameSize;
    vgic.write(n, frame + arm::gicr::ICENABLER0, 4, ~0u);
    vgic.write(n, frame + arm::gicr::ICPENDR0, 4, ~0u);
    vgic.write(n, frame + arm::gicr::ICACTIVER0, 4, ~0u);
  }
  for (unsigned r = 1; r < 32 / 32 + kSpis / 32 + 1; ++r) {
    vgic.write(0, kGicd + arm::gicd::ICENABLER + 4ull * r, 4, ~0u);
    vgic.write(0, kGicd + arm::gicd::ICPENDR + 4ull * r, 4, ~0u);
    vgic.write(0, kGicd + arm::gicd::ICACTIVER + 4ull * r, 4, ~0u);
  }
  for (unsigned n = 0; n < kVcpus; ++n) {
    vgic.fold(n, cpus[n]);
    FUZZ_CHECK(!vgic.has_work(n));
    vgic.flush(n, cpus[n]);
    for (std::uint64_t lr : cpus[n].lr) FUZZ_CHECK(lr == 0);
    const std::uint64_t frame = kGicr + 2ull * n * arm::kGicrFrameSize + arm::kGicrFrameSize;
    FUZZ_CHECK(vgic.read(n, frame + arm::gicr::ISPENDR0, 4) == 0);
    FUZZ_CHECK(vgic.read(n, frame + arm::gicr::ISACTIVER0, 4) == 0);
  }
  for (unsigned r = 1; r < 3; ++r) FUZZ_CHECK(vgic.read(0, kGicd + arm::gicd::ISPENDR + 4ull * r, 4) == 0);
  return 0;
}
