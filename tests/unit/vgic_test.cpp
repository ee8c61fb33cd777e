// arm.vgic as the GIC architecture specification (IHI 0069) describes its registers: reset
// values, access widths, set/clear semantics, routing, SGI targeting, list register delivery.
#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>

import arm.gic;
import arm.vgic;

namespace {

constexpr std::uint64_t kGicd = 0x0800'0000;
constexpr std::uint64_t kGicr = 0x080a'0000;
constexpr std::uint64_t kSgiFrame = arm::kGicrFrameSize;

arm::Vgic make_vgic(unsigned vcpus = 2, unsigned spis = 64) {
  return arm::Vgic({.vcpus = vcpus, .spis = spis, .gicd_base = kGicd, .gicr_base = kGicr});
}
std::uint64_t rd(unsigned vcpu) { return kGicr + vcpu * arm::kGicrStride; }
std::uint64_t sgi(unsigned vcpu) { return rd(vcpu) + kSgiFrame; }

// A guest's usual bring-up: groups enabled, the redistributor awake.
void bring_up(arm::Vgic& vgic) {
  vgic.write(0, kGicd + arm::gicd::CTLR, 4, arm::gicd::kCtlrEnableGrp1 | arm::gicd::kCtlrEnableGrp0);
  for (unsigned n = 0; n < vgic.config().vcpus; ++n) vgic.write(n, rd(n) + arm::gicr::WAKER, 4, 0);
}
// An SPI, group 1, enabled, routed to `vcpu`, with `priority`.
void enable_spi(arm::Vgic& vgic, std::uint32_t intid, unsigned vcpu = 0, std::uint8_t priority = 0xa0) {
  const std::uint32_t bit = 1u << (intid % 32);
  vgic.write(0, kGicd + arm::gicd::IGROUPR + 4ull * (intid / 32), 4,
             vgic.read(0, kGicd + arm::gicd::IGROUPR + 4ull * (intid / 32), 4) | bit);
  vgic.write(0, kGicd + arm::gicd::IPRIORITYR + intid, 1, priority);
  vgic.write(0, kGicd + arm::gicd::IROUTER + 8ull * intid, 8, arm::vgic_vcpu_affinity(vcpu));
  vgic.write(0, kGicd + arm::gicd::ISENABLER + 4ull * (intid / 32), 4, bit);
}
void enable_private(arm::Vgic& vgic, unsigned vcpu, std::uint32_t intid, std::uint8_t priority = 0xa0) {
  vgic.write(vcpu, sgi(vcpu) + arm::gicr::IGROUPR0, 4,
             vgic.read(vcpu, sgi(vcpu) + arm::gicr::IGROUPR0, 4) | (1u << intid));
  vgic.write(vcpu, sgi(vcpu) + arm::gicr::IPRIORITYR0 + intid, 1, priority);
  vgic.write(vcpu, sgi(vcpu) + arm::gicr::ISENABLER0, 4, 1u << intid);
}

// One vCPU, brought up, with these SPIs (INTID, priority) enabled and routed to it.
struct Spi {
  std::uint32_t intid;
  std::uint8_t priority;
};
arm::Vgic vgic_with_spis(std::initializer_list<Spi> spis) {
  arm::Vgic vgic = make_vgic(1);
  bring_up(vgic);
  for (const Spi& spi : spis) enable_spi(vgic, spi.intid, 0, spi.priority);
  return vgic;
}

std::uint64_t lr_state(std::uint64_t lr) { return lr >> 62; }
std::uint64_t lr_priority(std::uint64_t lr) { return (lr >> 48) & 0xff; }
// What the guest does to a list register: acknowledge (pending -> active), deactivate.
void acknowledge(std::uint64_t& lr) { lr = (lr & ~(3ull << 62)) | (arm::ich_lr::kStateActive << 62); }
void deactivate(std::uint64_t& lr) { lr &= ~(3ull << 62); }

}  // namespace

TEST_CASE("GICD_CTLR resets with the groups disabled and reads ARE and DS as one") {
  arm::Vgic vgic = make_vgic();
  CHECK(vgic.read(0, kGicd + arm::gicd::CTLR, 4) == (arm::gicd::kCtlrAre | arm::gicd::kCtlrDs));
}

TEST_CASE("GICD_CTLR keeps the group enables and ignores writes to ARE, DS and RES0 bits") {
  arm::Vgic vgic = make_vgic();
  vgic.write(0, kGicd + arm::gicd::CTLR, 4, 0xffff'ffff);
  CHECK(vgic.read(0, kGicd + arm::gicd::CTLR, 4) == 0x53);
  vgic.write(0, kGicd + arm::gicd::CTLR, 4, 0);
  CHECK(vgic.read(0, kGicd + arm::gicd::CTLR, 4) == 0x50);
}

TEST_CASE("GICD_TYPER reports ITLinesNumber from the SPI count, 10 INTID bits and no LPIs") {
  arm::Vgic vgic = make_vgic(2, 64);
  const std::uint64_t typer = vgic.read(0, kGicd + arm::gicd::TYPER, 4);
  CHECK((typer & 0x1f) == 2);          // ITLinesNumber: INTIDs up to 32 * 3 - 1 = 95
  CHECK(((typer >> 5) & 7) == 1);      // CPUNumber: vCPUs - 1
  CHECK(((typer >> 19) & 0x1f) == 9);  // IDbits
  CHECK(((typer >> 17) & 1) == 0);     // LPIS
  CHECK(((typer >> 16) & 1) == 0);     // MBIS
  CHECK(((typer >> 10) & 1) == 0);     // SecurityExtn: a single Security state
  CHECK(((typer >> 25) & 1) == 1);     // No1N
}

TEST_CASE("the SPI count is rounded up to whole 32-interrupt registers") {
  arm::Vgic vgic = make_vgic(1, 40);
  CHECK((vgic.read(0, kGicd + arm::gicd::TYPER, 4) & 0x1f) == 2);
}

TEST_CASE("GICD_IIDR and GICD_PIDR2 name an Arm GICv3") {
  arm::Vgic vgic = make_vgic();
  CHECK((vgic.read(0, kGicd + arm::gicd::IIDR, 4) & 0xfff) == 0x43b);
  CHECK(((vgic.read(0, kGicd + arm::gicd::PIDR2, 4) >> 4) & 0xf) == 3);
}

TEST_CASE("every SPI resets group 0, disabled, not pending, not active, priority 0, level, routed to 0") {
  arm::Vgic vgic = make_vgic();
  for (std::uint64_t n = 1; n < 3; ++n) {
    CHECK(vgic.read(0, kGicd + arm::gicd::IGROUPR + 4 * n, 4) == 0);
    CHECK(vgic.read(0, kGicd + arm::gicd::ISENABLER + 4 * n, 4) == 0);
    CHECK(vgic.read(0, kGicd + arm::gicd::ISPENDR + 4 * n, 4) == 0);
    CHECK(vgic.read(0, kGicd + arm::gicd::ISACTIVER + 4 * n, 4) == 0);
    CHECK(vgic.read(0, kGicd + arm::gicd::IPRIORITYR + 32 * n, 4) == 0);
    CHECK(vgic.read(0, kGicd + arm::gicd::ICFGR + 8 * n, 4) == 0);
  }
  CHECK(vgic.read(0, kGicd + arm::gicd::IROUTER + 8ull * 32, 8) == 0);
}

TEST_CASE("ISENABLER sets, ICENABLER clears, zeros change nothing, both read the enables") {
  arm::Vgic vgic = make_vgic();
  vgic.write(0, kGicd + arm::gicd::ISENABLER + 4, 4, 0x0000'00f0);
  vgic.write(0, kGicd + arm::gicd::ISENABLER + 4, 4, 0x0000'0001);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISENABLER + 4, 4) == 0xf1);
  vgic.write(0, kGicd + arm::gicd::ICENABLER + 4, 4, 0x0000'0030);
  CHECK(vgic.read(0, kGicd + arm::gicd::ICENABLER + 4, 4) == 0xc1);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISENABLER + 4, 4) == 0xc1);
}

TEST_CASE("ISPENDR and ICPENDR set and clear pending; ISACTIVER and ICACTIVER the active state") {
  arm::Vgic vgic = make_vgic();
  vgic.write(0, kGicd + arm::gicd::ISPENDR + 4, 4, 0x6);
  CHECK(vgic.read(0, kGicd + arm::gicd::ICPENDR + 4, 4) == 0x6);
  vgic.write(0, kGicd + arm::gicd::ICPENDR + 4, 4, 0x2);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISPENDR + 4, 4) == 0x4);
  vgic.write(0, kGicd + arm::gicd::ISACTIVER + 4, 4, 0x9);
  CHECK(vgic.read(0, kGicd + arm::gicd::ICACTIVER + 4, 4) == 0x9);
  vgic.write(0, kGicd + arm::gicd::ICACTIVER + 4, 4, 0x1);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISACTIVER + 4, 4) == 0x8);
}

TEST_CASE("ICPENDR leaves a level interrupt pending while its line is high") {
  arm::Vgic vgic = make_vgic();
  vgic.set_level(33, true);
  vgic.write(0, kGicd + arm::gicd::ICPENDR + 4, 4, 0x2);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISPENDR + 4, 4) == 0x2);
  vgic.set_level(33, false);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISPENDR + 4, 4) == 0);
}

TEST_CASE("the distributor's registers for SGIs and PPIs are RAZ/WI with affinity routing") {
  arm::Vgic vgic = make_vgic();
  vgic.write(0, kGicd + arm::gicd::ISENABLER, 4, 0xffff'ffff);
  vgic.write(0, kGicd + arm::gicd::IPRIORITYR, 4, 0xffff'ffff);
  vgic.write(0, kGicd + arm::gicd::IGROUPR, 4, 0xffff'ffff);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISENABLER, 4) == 0);
  CHECK(vgic.read(0, kGicd + arm::gicd::IPRIORITYR, 4) == 0);
  CHECK(vgic.read(0, kGicd + arm::gicd::IGROUPR, 4) == 0);
  CHECK(vgic.read(0, sgi(0) + arm::gicr::ISENABLER0, 4) == 0);
  CHECK(vgic.read(0, sgi(0) + arm::gicr::IGROUPR0, 4) == 0);
}

TEST_CASE("GICD_IPRIORITYR is byte and word accessible, little-endian, one byte per interrupt") {
  arm::Vgic vgic = make_vgic();
  vgic.write(0, kGicd + arm::gicd::IPRIORITYR + 32, 4, 0x4433'2211);
  CHECK(vgic.read(0, kGicd + arm::gicd::IPRIORITYR + 34, 1) == 0x33);
  vgic.write(0, kGicd + arm::gicd::IPRIORITYR + 35, 1, 0xf0);
  CHECK(vgic.read(0, kGicd + arm::gicd::IPRIORITYR + 32, 4) == 0xf033'2211);
}

TEST_CASE("a halfword or doubleword GICD_IPRIORITYR access is RAZ/WI") {
  arm::Vgic vgic = make_vgic();
  vgic.write(0, kGicd + arm::gicd::IPRIORITYR + 32, 2, 0xffff);
  vgic.write(0, kGicd + arm::gicd::IPRIORITYR + 32, 8, ~0ull);
  CHECK(vgic.read(0, kGicd + arm::gicd::IPRIORITYR + 32, 4) == 0);
  vgic.write(0, kGicd + arm::gicd::IPRIORITYR + 32, 4, 0x01020304);
  CHECK(vgic.read(0, kGicd + arm::gicd::IPRIORITYR + 32, 2) == 0);
}

TEST_CASE("a byte access to a 32-bit register, or a misaligned access, is RAZ/WI") {
  arm::Vgic vgic = make_vgic();
  vgic.write(0, kGicd + arm::gicd::ISENABLER + 4, 1, 0xff);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISENABLER + 4, 4) == 0);
  vgic.write(0, kGicd + arm::gicd::ISENABLER + 4, 4, 0xff);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISENABLER + 4, 1) == 0);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISENABLER + 5, 4) == 0);
  CHECK(vgic.read(0, kGicd + arm::gicd::CTLR, 8) == 0);
  CHECK(vgic.read(0, kGicd + arm::gicd::CTLR, 3) == 0);
}

TEST_CASE("GICD_ICFGR holds Int_config in the upper bit of each pair; its other bits are RAZ/WI") {
  arm::Vgic vgic = make_vgic();
  vgic.write(0, kGicd + arm::gicd::ICFGR + 8, 4, 0xffff'ffff);
  CHECK(vgic.read(0, kGicd + arm::gicd::ICFGR + 8, 4) == 0xaaaa'aaaa);
}

TEST_CASE("GICD_IROUTER keeps IRM and the affinity fields, 64-bit or as 32-bit halves") {
  arm::Vgic vgic = make_vgic();
  const std::uint64_t router = kGicd + arm::gicd::IROUTER + 8ull * 40;
  vgic.write(0, router, 8, ~0ull);
  CHECK(vgic.read(0, router, 8) == 0xff'8000'0000ull + 0xff'ffff);
  vgic.write(0, router, 4, 0x0000'0102);
  CHECK(vgic.read(0, router, 4) == 0x0102);
  CHECK(vgic.read(0, router + 4, 4) == 0xff);
  vgic.write(0, router + 4, 4, 0);
  CHECK(vgic.read(0, router, 8) == 0x0102);
  CHECK(vgic.read(0, router, 2) == 0);  // halfword: RAZ/WI
}

TEST_CASE("IROUTER of an SPI beyond ITLinesNumber is RAZ/WI") {
  arm::Vgic vgic = make_vgic(1, 32);
  vgic.write(0, kGicd + arm::gicd::IROUTER + 8ull * 64, 8, 1);
  CHECK(vgic.read(0, kGicd + arm::gicd::IROUTER + 8ull * 64, 8) == 0);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISENABLER + 8, 4) == 0);
}

TEST_CASE("GICR_TYPER names the vCPU's affinity and processor number, and Last on the last frame") {
  arm::Vgic vgic = make_vgic(3);
  for (unsigned n = 0; n < 3; ++n) {
    const std::uint64_t typer = vgic.read(0, rd(n) + arm::gicr::TYPER, 8);
    CHECK((typer >> 32) == arm::vgic_vcpu_affinity(n));
    CHECK(((typer >> 8) & 0xffff) == n);
    CHECK(((typer >> 4) & 1) == (n == 2 ? 1 : 0));
    CHECK((typer & 1) == 0);  // PLPIS
    CHECK(vgic.read(0, rd(n) + arm::gicr::TYPER, 4) == (typer & 0xffff'ffff));
    CHECK(vgic.read(0, rd(n) + arm::gicr::TYPER + 4, 4) == (typer >> 32));
  }
  CHECK_FALSE(vgic.contains(rd(3)));
  CHECK(vgic.contains(rd(2) + arm::kGicrStride - 4));
}

TEST_CASE("GICR_WAKER resets asleep and ChildrenAsleep follows ProcessorSleep") {
  arm::Vgic vgic = make_vgic();
  CHECK(vgic.read(1, rd(1) + arm::gicr::WAKER, 4) == 0x6);
  vgic.write(1, rd(1) + arm::gicr::WAKER, 4, 0);
  CHECK(vgic.read(1, rd(1) + arm::gicr::WAKER, 4) == 0);
  CHECK(vgic.read(0, rd(0) + arm::gicr::WAKER, 4) == 0x6);  // another redistributor's own
  vgic.write(1, rd(1) + arm::gicr::WAKER, 4, 0x2);
  CHECK(vgic.read(1, rd(1) + arm::gicr::WAKER, 4) == 0x6);
}

TEST_CASE("GICR_CTLR reads zero (no LPIs, RWP clear) and GICR_IIDR and PIDR2 match the distributor") {
  arm::Vgic vgic = make_vgic();
  vgic.write(0, rd(0) + arm::gicr::CTLR, 4, 1);
  CHECK(vgic.read(0, rd(0) + arm::gicr::CTLR, 4) == 0);
  CHECK(vgic.read(0, rd(0) + arm::gicr::IIDR, 4) == 0x43b);
  CHECK(vgic.read(0, rd(0) + arm::gicr::PIDR2, 4) == 0x30);
}

TEST_CASE("the SGI frame's registers are each vCPU's own") {
  arm::Vgic vgic = make_vgic();
  vgic.write(0, sgi(0) + arm::gicr::ISENABLER0, 4, 0x0000'0002);
  vgic.write(1, sgi(1) + arm::gicr::ISENABLER0, 4, 0x0800'0000);
  CHECK(vgic.read(0, sgi(0) + arm::gicr::ISENABLER0, 4) == 0x2);
  CHECK(vgic.read(1, sgi(1) + arm::gicr::ISENABLER0, 4) == 0x0800'0000);
  // The frame is named by its address, not by the vCPU that accesses it.
  CHECK(vgic.read(0, sgi(1) + arm::gicr::ICENABLER0, 4) == 0x0800'0000);
  vgic.write(1, sgi(1) + arm::gicr::IPRIORITYR0 + 27, 1, 0x80);
  CHECK(vgic.read(1, sgi(1) + arm::gicr::IPRIORITYR0 + 24, 4) == 0x8000'0000);
  CHECK(vgic.read(0, sgi(0) + arm::gicr::IPRIORITYR0 + 24, 4) == 0);
}

TEST_CASE("the SGI frame holds register 0 of each bit block only: the words after it are RAZ/WI") {
  arm::Vgic vgic = make_vgic();
  bring_up(vgic);
  for (const std::uint64_t block :
       {arm::gicr::IGROUPR0, arm::gicr::ISENABLER0, arm::gicr::ICENABLER0, arm::gicr::ISPENDR0,
        arm::gicr::ICPENDR0, arm::gicr::ISACTIVER0, arm::gicr::ICACTIVER0}) {
    CAPTURE(block);
    vgic.write(0, sgi(0) + block + 4, 4, ~0u);
    CHECK(vgic.read(0, sgi(0) + block + 4, 4) == 0);
    CHECK(vgic.read(0, sgi(0) + block + 0x7c, 4) == 0);
  }
  // None of those writes reached the SGIs' and PPIs' own state.
  CHECK(vgic.read(0, sgi(0) + arm::gicr::IGROUPR0, 4) == 0);
  CHECK(vgic.read(0, sgi(0) + arm::gicr::ISENABLER0, 4) == 0);
  CHECK(vgic.read(0, sgi(0) + arm::gicr::ISPENDR0, 4) == 0);
  CHECK(vgic.read(0, sgi(0) + arm::gicr::ISACTIVER0, 4) == 0);
  // Each block's register 0 is its own field.
  vgic.write(0, sgi(0) + arm::gicr::IGROUPR0, 4, 0x1);
  vgic.write(0, sgi(0) + arm::gicr::ISENABLER0, 4, 0x2);
  vgic.write(0, sgi(0) + arm::gicr::ISPENDR0, 4, 0x4);
  vgic.write(0, sgi(0) + arm::gicr::ISACTIVER0, 4, 0x8);
  CHECK(vgic.read(0, sgi(0) + arm::gicr::IGROUPR0, 4) == 0x1);
  CHECK(vgic.read(0, sgi(0) + arm::gicr::ICENABLER0, 4) == 0x2);
  CHECK(vgic.read(0, sgi(0) + arm::gicr::ICPENDR0, 4) == 0x4);
  CHECK(vgic.read(0, sgi(0) + arm::gicr::ICACTIVER0, 4) == 0x8);
}

TEST_CASE("the group and enable bits of a whole register read back; past the last SPI, RAZ/WI") {
  arm::Vgic vgic = make_vgic(1, 64);  // INTIDs 32-95: GICD registers 1 and 2
  vgic.write(0, kGicd + arm::gicd::IGROUPR + 8, 4, 0xa5a5'5a5a);
  vgic.write(0, kGicd + arm::gicd::ISENABLER + 8, 4, 0x8000'0001);
  CHECK(vgic.read(0, kGicd + arm::gicd::IGROUPR + 8, 4) == 0xa5a5'5a5a);
  CHECK(vgic.read(0, kGicd + arm::gicd::ICENABLER + 8, 4) == 0x8000'0001);
  CHECK(vgic.read(0, kGicd + arm::gicd::IGROUPR + 4, 4) == 0);
  vgic.write(0, kGicd + arm::gicd::ISENABLER + 12, 4, ~0u);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISENABLER + 12, 4) == 0);
}

TEST_CASE("GICR_ICFGR0 reads SGIs as edge-triggered and ignores writes; ICFGR1 configures PPIs") {
  arm::Vgic vgic = make_vgic();
  vgic.write(0, sgi(0) + arm::gicr::ICFGR0, 4, 0);
  CHECK(vgic.read(0, sgi(0) + arm::gicr::ICFGR0, 4) == 0xaaaa'aaaa);
  CHECK(vgic.read(0, sgi(0) + arm::gicr::ICFGR1, 4) == 0);
  vgic.write(0, sgi(0) + arm::gicr::ICFGR1, 4, 0x0020'0000);
  CHECK(vgic.read(0, sgi(0) + arm::gicr::ICFGR1, 4) == 0x0020'0000);
}

TEST_CASE("an SGI to a target list reaches the named vCPUs only") {
  arm::Vgic vgic = make_vgic(3);
  // INTID 5 [27:24], TargetList [15:0] = vCPUs 0 and 2.
  const std::uint32_t kicks = vgic.send_sgi(0, (5ull << 24) | 0b101);
  CHECK(vgic.read(0, sgi(0) + arm::gicr::ISPENDR0, 4) == 1u << 5);
  CHECK(vgic.read(1, sgi(1) + arm::gicr::ISPENDR0, 4) == 0);
  CHECK(vgic.read(2, sgi(2) + arm::gicr::ISPENDR0, 4) == 1u << 5);
  CHECK(kicks == 0);  // not enabled: nothing to deliver, nobody to kick
}

TEST_CASE("an SGI with IRM set reaches every vCPU but the sender") {
  arm::Vgic vgic = make_vgic(3);
  vgic.send_sgi(1, (3ull << 24) | (1ull << 40));
  CHECK(vgic.read(0, sgi(0) + arm::gicr::ISPENDR0, 4) == 1u << 3);
  CHECK(vgic.read(1, sgi(1) + arm::gicr::ISPENDR0, 4) == 0);
  CHECK(vgic.read(2, sgi(2) + arm::gicr::ISPENDR0, 4) == 1u << 3);
}

TEST_CASE("an SGI naming vCPUs that do not exist generates nothing for them") {
  arm::Vgic vgic = make_vgic(2);
  vgic.send_sgi(0, (1ull << 24) | 0xfffc);            // Aff0 2..15: none exist
  vgic.send_sgi(0, (1ull << 24) | (1ull << 16) | 1);  // Aff1 = 1: no such cluster
  vgic.send_sgi(0, (1ull << 24) | (1ull << 44) | 1);  // RS = 1: Aff0 16
  CHECK(vgic.read(0, sgi(0) + arm::gicr::ISPENDR0, 4) == 0);
  CHECK(vgic.read(1, sgi(1) + arm::gicr::ISPENDR0, 4) == 0);
  vgic.send_sgi(5, (1ull << 24) | 1);  // from a sender that does not exist
  CHECK(vgic.read(0, sgi(0) + arm::gicr::ISPENDR0, 4) == 0);
}

TEST_CASE("an enabled SGI to another vCPU asks to kick that vCPU") {
  arm::Vgic vgic = make_vgic(2);
  bring_up(vgic);
  enable_private(vgic, 1, 2);
  CHECK_FALSE(vgic.has_work(1));
  CHECK(vgic.send_sgi(0, (2ull << 24) | 0b10) == 0b10);
  CHECK(vgic.has_work(1));
  CHECK_FALSE(vgic.has_work(0));
}

TEST_CASE("an idle vGIC has no work for any vCPU and flushes empty list registers") {
  arm::Vgic vgic = make_vgic(2);
  bring_up(vgic);
  CHECK_FALSE(vgic.has_work(0));
  arm::VgicState cpu;
  vgic.flush(0, cpu);
  for (std::uint64_t lr : cpu.lr) CHECK(lr == 0);
  CHECK((cpu.hcr & arm::kIchHcrNpie) == 0);
}

TEST_CASE("a raised SPI goes to the list registers of the vCPU IROUTER names") {
  arm::Vgic vgic = make_vgic(2);
  bring_up(vgic);
  enable_spi(vgic, 40, 1, 0x60);
  CHECK(vgic.raise(40) == 0b10);
  arm::VgicState cpu0, cpu1;
  vgic.flush(0, cpu0);
  vgic.flush(1, cpu1);
  CHECK(cpu0.lr[0] == 0);
  CHECK(arm::list_register_intid(cpu1.lr[0]) == 40);
  CHECK(lr_state(cpu1.lr[0]) == arm::ich_lr::kStatePending);
  CHECK(lr_priority(cpu1.lr[0]) == 0x60);
  CHECK((cpu1.lr[0] & arm::ich_lr::kGroup1) != 0);
}

TEST_CASE("an SPI routed with IRM set goes to an awake vCPU; to a nonexistent affinity, nowhere") {
  arm::Vgic vgic = make_vgic(2);
  vgic.write(0, kGicd + arm::gicd::CTLR, 4, arm::gicd::kCtlrEnableGrp1);
  vgic.write(1, rd(1) + arm::gicr::WAKER, 4, 0);  // only vCPU 1 is awake
  enable_spi(vgic, 33, 0);
  vgic.write(0, kGicd + arm::gicd::IROUTER + 8ull * 33, 8, arm::gicd::kIrouterIrm);
  vgic.raise(33);
  CHECK(vgic.has_work(1));
  CHECK_FALSE(vgic.has_work(0));
  enable_spi(vgic, 34, 0);
  vgic.write(0, kGicd + arm::gicd::IROUTER + 8ull * 34, 8, 0x7);  // Aff0 7: no such vCPU
  vgic.raise(34);
  arm::VgicState cpu0, cpu1;
  vgic.flush(0, cpu0);
  vgic.flush(1, cpu1);
  CHECK(arm::list_register_intid(cpu1.lr[0]) == 33);
  CHECK(cpu1.lr[1] == 0);
  CHECK(cpu0.lr[0] == 0);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISPENDR + 4, 4) == (1u << 1 | 1u << 2));
}

TEST_CASE("a pending interrupt is not delivered while disabled or while its group is disabled") {
  arm::Vgic vgic = make_vgic(1);
  enable_spi(vgic, 35);
  vgic.raise(35);
  CHECK_FALSE(vgic.has_work(0));  // GICD_CTLR.EnableGrp1 still 0
  bring_up(vgic);
  CHECK(vgic.has_work(0));
  vgic.write(0, kGicd + arm::gicd::ICENABLER + 4, 4, 1u << 3);
  CHECK_FALSE(vgic.has_work(0));
  arm::VgicState cpu;
  vgic.flush(0, cpu);
  CHECK(cpu.lr[0] == 0);
}

TEST_CASE("the list registers take the highest-priority interrupts, and NPIE asks for the rest") {
  arm::Vgic vgic = make_vgic(1);
  bring_up(vgic);
  const std::uint8_t priorities[6] = {0xa0, 0x20, 0xf0, 0x40, 0x10, 0x80};
  for (unsigned i = 0; i < 6; ++i) {
    enable_spi(vgic, 32 + i, 0, priorities[i]);
    vgic.raise(32 + i);
  }
  arm::VgicState cpu;
  vgic.flush(0, cpu);
  CHECK(arm::list_register_intid(cpu.lr[0]) == 36);  // 0x10
  CHECK(arm::list_register_intid(cpu.lr[1]) == 33);  // 0x20
  CHECK(arm::list_register_intid(cpu.lr[2]) == 35);  // 0x40
  CHECK(arm::list_register_intid(cpu.lr[3]) == 37);  // 0x80
  CHECK((cpu.hcr & arm::kIchHcrNpie) != 0);
  CHECK((cpu.hcr & arm::kIchHcrEnable) != 0);
}

TEST_CASE("more interrupts than list registers are each delivered exactly once over refills") {
  arm::Vgic vgic = make_vgic(1, 32);
  bring_up(vgic);
  for (unsigned i = 0; i < 10; ++i) {
    enable_spi(vgic, 32 + i, 0, static_cast<std::uint8_t>(0x10 * (i % 5)));
    vgic.raise(32 + i);
  }
  unsigned delivered[64] = {};
  arm::VgicState cpu;
  for (unsigned round = 0; round < 10 && vgic.has_work(0); ++round) {
    vgic.flush(0, cpu);
    for (std::uint64_t& lr : cpu.lr) {
      if (arm::list_register_free(lr)) continue;
      ++delivered[arm::list_register_intid(lr)];
      acknowledge(lr);
      deactivate(lr);
    }
    vgic.fold(0, cpu);
  }
  for (unsigned i = 0; i < 10; ++i) CHECK(delivered[32 + i] == 1);
  CHECK_FALSE(vgic.has_work(0));
  CHECK(vgic.read(0, kGicd + arm::gicd::ISPENDR + 4, 4) == 0);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISACTIVER + 4, 4) == 0);
}

TEST_CASE("a list register still pending at exit folds back pending and is delivered again") {
  arm::Vgic vgic = make_vgic(1);
  bring_up(vgic);
  enable_spi(vgic, 40);
  vgic.raise(40);
  arm::VgicState cpu;
  vgic.flush(0, cpu);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISPENDR + 4, 4) == 1u << 8);  // seen through the LR
  vgic.fold(0, cpu);
  CHECK(cpu.lr[0] == 0);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISPENDR + 4, 4) == 1u << 8);
  vgic.flush(0, cpu);
  CHECK(arm::list_register_intid(cpu.lr[0]) == 40);
  CHECK(cpu.lr[1] == 0);
}

TEST_CASE(
    "an acknowledged interrupt folds back active; higher-priority ones take the list registers before it") {
  arm::Vgic vgic = make_vgic(1);
  bring_up(vgic);
  for (unsigned i = 0; i < 5; ++i) enable_spi(vgic, 32 + i, 0, 0x20);
  enable_spi(vgic, 40, 0, 0xf0);
  vgic.raise(40);
  arm::VgicState cpu;
  vgic.flush(0, cpu);
  acknowledge(cpu.lr[0]);
  vgic.fold(0, cpu);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISACTIVER + 4, 4) == 1u << 8);
  for (unsigned i = 0; i < 5; ++i) vgic.raise(32 + i);  // higher priority, more than fit
  vgic.flush(0, cpu);
  // They may preempt it, so they go first (by priority, then INTID); 40 stays active
  // outside the list registers, and LRENPIE asks to hear when the guest ends it there.
  for (unsigned n = 0; n < arm::kMaxListRegisters; ++n) {
    CHECK(arm::list_register_intid(cpu.lr[n]) == 32 + n);
    CHECK(lr_state(cpu.lr[n]) == arm::ich_lr::kStatePending);
  }
  CHECK(vgic.read(0, kGicd + arm::gicd::ISACTIVER + 4, 4) == 1u << 8);
  CHECK((cpu.hcr & arm::kIchHcrLrenpie) != 0);
  CHECK((cpu.hcr & arm::kIchHcrNpie) != 0);  // and 36 waits for the refill
}

TEST_CASE("an edge raised again while its first edge is active becomes pending and active") {
  arm::Vgic vgic = make_vgic(1);
  bring_up(vgic);
  enable_spi(vgic, 40);
  vgic.write(0, kGicd + arm::gicd::ICFGR + 4ull * 2, 4, 2u << 16);  // INTID 40 edge-triggered
  vgic.raise(40);
  arm::VgicState cpu;
  vgic.flush(0, cpu);
  acknowledge(cpu.lr[0]);
  vgic.raise(40);
  CHECK(vgic.has_work(0));
  vgic.fold(0, cpu);
  vgic.flush(0, cpu);
  CHECK(lr_state(cpu.lr[0]) == (arm::ich_lr::kStatePending | arm::ich_lr::kStateActive));
  CHECK(cpu.lr[1] == 0);
}

TEST_CASE("a level interrupt whose line drops before the guest acknowledges it is not delivered") {
  arm::Vgic vgic = make_vgic(1);
  bring_up(vgic);
  enable_spi(vgic, 41);
  vgic.set_level(41, true);
  arm::VgicState cpu;
  vgic.flush(0, cpu);
  CHECK(arm::list_register_intid(cpu.lr[0]) == 41);
  CHECK((cpu.lr[0] & arm::kIchLrEoi) != 0);  // resampled when the guest deactivates it
  vgic.set_level(41, false);
  vgic.fold(0, cpu);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISPENDR + 4, 4) == 0);
  CHECK_FALSE(vgic.has_work(0));
  vgic.flush(0, cpu);
  CHECK(cpu.lr[0] == 0);
}

TEST_CASE("a level interrupt whose line stays high is pending again after the guest deactivates it") {
  arm::Vgic vgic = make_vgic(1);
  bring_up(vgic);
  enable_spi(vgic, 41);
  vgic.set_level(41, true);
  arm::VgicState cpu;
  vgic.flush(0, cpu);
  acknowledge(cpu.lr[0]);
  deactivate(cpu.lr[0]);
  vgic.fold(0, cpu);
  vgic.flush(0, cpu);
  CHECK(lr_state(cpu.lr[0]) == arm::ich_lr::kStatePending);
  vgic.set_level(41, false);
  acknowledge(cpu.lr[0]);
  deactivate(cpu.lr[0]);
  vgic.fold(0, cpu);
  CHECK_FALSE(vgic.has_work(0));
}

TEST_CASE("a level interrupt made pending by ISPENDR stays pending when its line is low") {
  arm::Vgic vgic = make_vgic(1);
  bring_up(vgic);
  enable_spi(vgic, 41);
  vgic.write(0, kGicd + arm::gicd::ISPENDR + 4, 4, 1u << 9);
  arm::VgicState cpu;
  vgic.flush(0, cpu);
  vgic.fold(0, cpu);  // not acknowledged
  CHECK(vgic.read(0, kGicd + arm::gicd::ISPENDR + 4, 4) == 1u << 9);
}

TEST_CASE("ICPENDR of an interrupt in a list register discards its pending state at fold") {
  arm::Vgic vgic = make_vgic(1);
  bring_up(vgic);
  enable_spi(vgic, 40);
  vgic.raise(40);
  arm::VgicState cpu;
  vgic.flush(0, cpu);
  vgic.write(0, kGicd + arm::gicd::ICPENDR + 4, 4, 1u << 8);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISPENDR + 4, 4) == 0);
  vgic.fold(0, cpu);
  CHECK_FALSE(vgic.has_work(0));
}

TEST_CASE("a hardware-mapped interrupt's list register carries HW and the physical INTID, not EOI") {
  arm::Vgic vgic = make_vgic(1);
  bring_up(vgic);
  enable_private(vgic, 0, 27);
  vgic.map_hardware(27, 27);
  vgic.raise(27);
  arm::VgicState cpu;
  vgic.flush(0, cpu);
  CHECK((cpu.lr[0] & arm::ich_lr::kHardware) != 0);
  CHECK(((cpu.lr[0] >> 32) & 0x1fff) == 27);
  CHECK((cpu.lr[0] & arm::kIchLrEoi) == 0);
}

TEST_CASE("an SPI in one vCPU's list registers is not also put in another's") {
  arm::Vgic vgic = make_vgic(2);
  bring_up(vgic);
  enable_spi(vgic, 40, 0);
  vgic.raise(40);
  arm::VgicState cpu0, cpu1;
  vgic.flush(0, cpu0);
  acknowledge(cpu0.lr[0]);
  vgic.write(0, kGicd + arm::gicd::IROUTER + 8ull * 40, 8, arm::vgic_vcpu_affinity(1));
  vgic.flush(1, cpu1);
  CHECK(cpu1.lr[0] == 0);
}

TEST_CASE("accesses by a vCPU that does not exist, or to unknown offsets, read zero and change nothing") {
  arm::Vgic vgic = make_vgic(1);
  CHECK(vgic.read(4, kGicd + arm::gicd::CTLR, 4) == 0);
  vgic.write(4, kGicd + arm::gicd::CTLR, 4, 3);
  vgic.write(0, kGicd + 0x5000, 4, ~0ull);
  CHECK(vgic.read(0, kGicd + 0x5000, 4) == 0);
  CHECK(vgic.read(0, kGicd + arm::gicd::CTLR, 4) == 0x50);
  CHECK(vgic.raise(2000) == 0);
  CHECK(vgic.raise(16, 7) == 0);
}

TEST_CASE("with every list register active and more waiting, UIE (not NPIE) asks for the refill") {
  arm::Vgic vgic = make_vgic(1);
  bring_up(vgic);
  for (unsigned i = 0; i < 5; ++i) enable_spi(vgic, 32 + i);
  vgic.write(0, kGicd + arm::gicd::ISACTIVER + 4, 4, 0xf);  // four active
  vgic.raise(36);
  arm::VgicState cpu;
  vgic.flush(0, cpu);
  for (std::uint64_t lr : cpu.lr) CHECK(lr_state(lr) == arm::ich_lr::kStateActive);
  CHECK((cpu.hcr & arm::kIchHcrNpie) == 0);  // it would hold at once: the guest would never run
  CHECK((cpu.hcr & arm::kIchHcrUie) != 0);
  for (unsigned n = 0; n < 3; ++n) deactivate(cpu.lr[n]);
  vgic.fold(0, cpu);
  vgic.flush(0, cpu);
  CHECK(arm::list_register_intid(cpu.lr[0]) == 35);
  CHECK(arm::list_register_intid(cpu.lr[1]) == 36);
  CHECK(lr_state(cpu.lr[1]) == arm::ich_lr::kStatePending);
  CHECK((cpu.hcr & (arm::kIchHcrNpie | arm::kIchHcrUie)) == 0);
}

TEST_CASE(
    "with every list register pending and active and more waiting, UIE (not NPIE) asks for the refill") {
  // ICH_MISR_EL2.NP (IHI 0069, ICH_MISR_EL2) holds while no list register is in the pending state;
  // pending-and-active is not that state, so NPIE would hold at once, for ever: the guest
  // would never run again (qemu_vgic_garbage_enables_nothing hung on it).
  arm::Vgic vgic = make_vgic(1);
  bring_up(vgic);
  for (unsigned i = 0; i < 5; ++i) enable_spi(vgic, 32 + i);
  vgic.write(0, kGicd + arm::gicd::ISACTIVER + 4, 4, 0x1f);
  vgic.write(0, kGicd + arm::gicd::ISPENDR + 4, 4, 0x1f);
  arm::VgicState cpu;
  vgic.flush(0, cpu);
  for (std::uint64_t lr : cpu.lr)
    CHECK(lr_state(lr) == (arm::ich_lr::kStatePending | arm::ich_lr::kStateActive));
  CHECK((cpu.hcr & arm::kIchHcrNpie) == 0);
  CHECK((cpu.hcr & arm::kIchHcrUie) != 0);
}

TEST_CASE("the work mask follows each change of one interrupt, of the group enables and of IRM routing") {
  arm::Vgic vgic = make_vgic(2);
  bring_up(vgic);
  enable_spi(vgic, 40, 1);
  CHECK(!vgic.has_work(0));
  CHECK(!vgic.has_work(1));
  CHECK(vgic.raise(40) == 0b10);  // routed to vCPU 1
  CHECK(vgic.has_work(1));
  vgic.write(0, kGicd + arm::gicd::ICENABLER + 4, 4, 1u << 8);
  CHECK(!vgic.has_work(1));
  vgic.write(0, kGicd + arm::gicd::ISENABLER + 4, 4, 1u << 8);
  CHECK(vgic.has_work(1));
  vgic.write(0, kGicd + arm::gicd::CTLR, 4, 0);  // both groups off: nothing to deliver
  CHECK(!vgic.has_work(1));
  vgic.write(0, kGicd + arm::gicd::CTLR, 4, arm::gicd::kCtlrEnableGrp1);
  CHECK(vgic.has_work(1));
  vgic.write(0, kGicd + arm::gicd::IROUTER + 8ull * 40, 8, 0);  // to vCPU 0
  CHECK(vgic.has_work(0));
  CHECK(!vgic.has_work(1));
  vgic.write(0, kGicd + arm::gicd::IROUTER + 8ull * 40, 8, arm::gicd::kIrouterIrm);  // the first awake
  CHECK(vgic.has_work(0));
  vgic.write(0, rd(0) + arm::gicr::WAKER, 4, arm::gicr::kWakerProcessorSleep);  // vCPU 0 asleep
  CHECK(!vgic.has_work(0));
  CHECK(vgic.has_work(1));
  CHECK(vgic.work_is_consistent());
  vgic.write(0, kGicd + arm::gicd::ICPENDR + 4, 4, 1u << 8);
  CHECK(!vgic.has_work(1));
  CHECK(vgic.work_is_consistent());
}

TEST_CASE(
    "nested deeper than the list registers: a higher-priority interrupt gets in, the active one left out "
    "ends through EOIcount") {
  arm::Vgic vgic = vgic_with_spis({{40, 0xa0}, {41, 0x90}, {42, 0x80}});
  constexpr unsigned kLrs = 2;
  arm::VgicState cpu;
  // The guest takes 40, then 41 preempts it (both stay active: nested).
  vgic.raise(40);
  vgic.flush(0, cpu, kLrs);
  acknowledge(cpu.lr[0]);
  vgic.fold(0, cpu, kLrs);
  vgic.raise(41);
  vgic.flush(0, cpu, kLrs);
  REQUIRE(arm::list_register_intid(cpu.lr[0]) == 41);
  acknowledge(cpu.lr[0]);
  vgic.fold(0, cpu, kLrs);
  // 42 preempts both: it and 41 fill the two list registers, 40 is left out, still active,
  // and LRENPIE asks to hear of its deactivation.
  vgic.raise(42);
  vgic.flush(0, cpu, kLrs);
  CHECK(arm::list_register_intid(cpu.lr[0]) == 42);
  CHECK(lr_state(cpu.lr[0]) == arm::ich_lr::kStatePending);
  CHECK(arm::list_register_intid(cpu.lr[1]) == 41);
  CHECK(lr_state(cpu.lr[1]) == arm::ich_lr::kStateActive);
  CHECK((cpu.hcr & arm::kIchHcrLrenpie) != 0);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISACTIVER + 4, 4) == ((1u << 8) | (1u << 9)));
  // The guest takes 42 and ends 42, 41 (their list registers) and 40 (in none: the CPU
  // interface counts it in EOIcount).
  acknowledge(cpu.lr[0]);
  deactivate(cpu.lr[0]);
  deactivate(cpu.lr[1]);
  cpu.hcr |= std::uint64_t{1} << arm::kIchHcrEoiCountShift;
  vgic.fold(0, cpu, kLrs);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISACTIVER + 4, 4) == 0);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISPENDR + 4, 4) == 0);
  CHECK((cpu.hcr & (arm::kIchHcrLrenpie | arm::kIchHcrEoiCountMask)) == 0);
  CHECK_FALSE(vgic.has_work(0));
  CHECK(vgic.work_is_consistent());
}

TEST_CASE("EOIcount ends the highest-priority active interrupts outside the list registers first") {
  arm::Vgic vgic = vgic_with_spis({{40, 0xc0}, {41, 0xb8}, {42, 0xb0}, {43, 0xa8}});
  vgic.write(0, kGicd + arm::gicd::ISACTIVER + 4, 4, 0xf << 8);  // 40..43 active, 43 the highest
  arm::VgicState cpu;
  vgic.flush(0, cpu, 1);  // 43 in the one list register, 40..42 outside
  CHECK(arm::list_register_intid(cpu.lr[0]) == 43);
  CHECK((cpu.hcr & arm::kIchHcrLrenpie) != 0);
  cpu.hcr |= std::uint64_t{2} << arm::kIchHcrEoiCountShift;  // two ended outside: 42, then 41
  vgic.fold(0, cpu, 1);
  CHECK(vgic.read(0, kGicd + arm::gicd::ISACTIVER + 4, 4) == ((1u << 8) | (1u << 11)));
}

TEST_CASE(
    "with one list register, active, and more waiting, its EOI bit (not UIE, which would hold at once) asks "
    "for the refill") {
  arm::Vgic vgic = vgic_with_spis({{40, 0x80}, {41, 0x90}});
  vgic.write(0, kGicd + arm::gicd::ISACTIVER + 4, 4, 1u << 8);
  vgic.raise(41);
  vgic.write(0, kGicd + arm::gicd::ICFGR + 8, 4, 0xaaaa'aaaa);  // edge: no EOI bit of their own
  arm::VgicState cpu;
  vgic.flush(0, cpu, 1);
  CHECK(arm::list_register_intid(cpu.lr[0]) == 40);
  CHECK(lr_state(cpu.lr[0]) == arm::ich_lr::kStateActive);
  CHECK((cpu.hcr & (arm::kIchHcrUie | arm::kIchHcrNpie)) == 0);
  CHECK((cpu.lr[0] & arm::kIchLrEoi) != 0);
  deactivate(cpu.lr[0]);  // the maintenance interrupt follows; the exit folds and refills
  vgic.fold(0, cpu, 1);
  vgic.flush(0, cpu, 1);
  CHECK(arm::list_register_intid(cpu.lr[0]) == 41);
  CHECK(lr_state(cpu.lr[0]) == arm::ich_lr::kStatePending);
}
