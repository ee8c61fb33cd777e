// Scenario: a guest can reach only its own RAM. The guest runs from 64 KiB of RAM that is
// the only thing mapped at stage 2 (at IPA 0x80000000, not 1:1): the hypervisor's image,
// its stack and its stage-2 tables are not mapped. The guest is told where a secret, the
// hypervisor's code, its EL2 stack and the stage-2 tables are, and tries to load, store
// and execute them (isolation_memory_guest.S). Every attempt must arrive here as an exit
// of the expected type at exactly the expected address; the host leaves each unanswered
// (or rejects it), so the vCPU injects an external abort, which the guest checks. At the
// end the secret, the stack word and the tables are unchanged.
#include <arm/asm/context.h>
#include <string.h>

#include "scenario.h"

import arm.vcpu;

extern "C" char isolation_memory_guest[];
extern "C" char isolation_memory_guest_end[];
extern "C" char arm_el2_vectors[];  // hypervisor code the guest branches to
extern "C" char __stack_top[];      // the EL2 stacks end here (runtime/el2/el2.ld.in)

namespace {
constexpr uint64_t kGuestIpa = 0x8000'0000;
constexpr uint64_t kGuestRamSize = uint64_t{64} * 1024;
constexpr uint64_t kGuestStackSize = 4096;                   // at the top of the guest's RAM
constexpr uint64_t kSecret = 0x5345'4352'4554'2121;          // "SECRET!!"
constexpr uint64_t kStackWord = 0x5354'4143'4b57'4f52;       // "STACKWOR"
constexpr uint64_t kGuestStore = 0x6861'636b'6861'636b;      // STORE_VALUE of the guest
constexpr uint64_t kGuestStackMark = 0x6f77'6e52'414d'2121;  // STACK_MARK of the guest
constexpr unsigned kTablePages = 4;

alignas(4096) unsigned char guest_ram[kGuestRamSize];
alignas(4096) unsigned char stage2_pages[kTablePages * 4096];
volatile uint64_t secret = kSecret;

uint64_t address_of(const volatile void* p) { return reinterpret_cast<uint64_t>(p); }

// What the guest's next attempt must look like at EL2.
enum class Access { Read, Write, ReadPair, WritePair, Fetch };
struct Expected {
  Access access;
  uint64_t address;
  uint8_t size = 8;  // bytes accessed; checked for MMIO reads and writes
  const char* what = "";
};

// Checks one exit against what was expected and leaves the guest to its abort: reads
// unanswered, writes rejected, faults unresolved.
bool matches(arm::Exit& exit, const Expected& expected) {
  switch (expected.access) {
    case Access::Read: {
      const auto* read = exit.get_if<arm::MmioRead>();
      return read != nullptr && read->address == expected.address && read->far == expected.address &&
             read->size == expected.size;
    }
    case Access::Write: {
      auto* write = exit.get_if<arm::MmioWrite>();
      if (write == nullptr || write->address != expected.address || write->far != expected.address ||
          write->size != expected.size || write->value != kGuestStore)
        return false;
      write->reject();
      return true;
    }
    case Access::ReadPair:
    case Access::WritePair: {
      // A load/store pair has no instruction syndrome (ISV = 0): arm.trap cannot make it
      // an MMIO access (Arm ARM D19.2 ESR_EL2, Data Abort ISS, ISV).
      const auto* abort = exit.get_if<arm::UndecodedDataAbort>();
      return abort != nullptr && !abort->syndrome_valid &&
             abort->write == (expected.access == Access::WritePair) &&
             abort->fault.kind() == arm::FaultKind::Translation && abort->address.ipa == expected.address &&
             abort->address.page_offset_known && abort->address.va == expected.address;
    }
    case Access::Fetch: {
      const auto* abort = exit.get_if<arm::InstructionAbort>();
      return abort != nullptr && abort->fault.kind() == arm::FaultKind::Translation &&
             abort->address.ipa == expected.address && abort->address.va == expected.address;
    }
  }
  return false;
}
}  // namespace

int main() {
  arm::PerCpu cpu;
  SCENARIO_CHECK(cpu.enable() == arm::EnableError::None);

  // The guest's code goes into its own RAM; it runs from there and nowhere else.
  const auto code_size = static_cast<size_t>(isolation_memory_guest_end - isolation_memory_guest);
  SCENARIO_CHECK(code_size <= kGuestRamSize - kGuestStackSize);
  memcpy(guest_ram, isolation_memory_guest, code_size);
  // New instructions in memory: complete the writes, then discard any stale instruction
  // cache contents before the guest fetches them (Arm ARM, "Synchronization and
  // coherency issues between data and instruction accesses").
  asm volatile("dsb ish\n ic iallu\n dsb ish\n isb" ::: "memory");

  arm::PagePool pool(stage2_pages, kTablePages);
  arm::Stage2Table stage2(pool, 1);
  SCENARIO_CHECK(stage2.map(kGuestIpa, address_of(guest_ram), kGuestRamSize, arm::kGuestRam) ==
                 arm::MapError::None);
  SCENARIO_CHECK(!stage2.translate(address_of(&secret)).mapped);
  const unsigned table_pages = kTablePages - static_cast<unsigned>(pool.pages_left());

  volatile uint64_t stack_word = kStackWord;  // a word on the hypervisor's EL2 stack
  const uint64_t code = address_of(arm_el2_vectors);
  const uint64_t stack = address_of(&stack_word);
  SCENARIO_CHECK(stack < address_of(__stack_top) &&
                 stack >= address_of(__stack_top) - (1 << ARM_EL2_STACK_SHIFT));
  const uint64_t tables = address_of(stage2_pages);
  const uint64_t secret_address = address_of(&secret);

  arm::VCpu vcpu{{.entry = kGuestIpa,
                  .argument = secret_address,
                  .stack = kGuestIpa + kGuestRamSize,
                  .stage2_vttbr = stage2.vttbr()}};
  auto& x = vcpu.registers().x;
  x[1] = code;
  x[2] = stack;
  x[3] = tables;
  x[4] = table_pages;
  x[5] = address_of(guest_ram);

  // The guest's attempts, in its order (isolation_memory_guest.S).
  Expected expected[16 + kTablePages];
  unsigned count = 0;
  expected[count++] = {Access::Read, secret_address, 1, "ldrb from the secret"};
  expected[count++] = {Access::Read, secret_address, 2, "ldrh from the secret"};
  expected[count++] = {Access::Read, secret_address, 4, "ldr w from the secret"};
  expected[count++] = {Access::Read, secret_address, 8, "ldr x from the secret"};
  expected[count++] = {Access::ReadPair, secret_address, 16, "ldp from the secret"};
  expected[count++] = {Access::Write, secret_address, 8, "str to the secret"};
  expected[count++] = {Access::WritePair, secret_address, 16, "stp to the secret"};
  expected[count++] = {Access::Fetch, code, 4, "branch into hypervisor code"};
  for (unsigned page = 0; page < table_pages; ++page)
    expected[count++] = {Access::Read, tables + uint64_t{page} * 4096, 8, "ldr from a stage-2 table"};
  expected[count++] = {Access::Write, tables, 8, "str into the stage-2 root table"};
  expected[count++] = {Access::Read, stack, 8, "ldr from the EL2 stack"};
  expected[count++] = {Access::Write, stack, 8, "str to the EL2 stack"};
  expected[count++] = {Access::Read, address_of(guest_ram), 8, "ldr from its RAM's physical address"};

  vcpu.load();
  unsigned seen = 0;
  for (arm::Exit& exit : vcpu.run()) {
    if (auto* call = exit.get_if<arm::Hypercall>()) {
      SCENARIO_CHECK(call->immediate == GUEST_REPORT);
      printf("guest reported %llu (x1 = 0x%llx) after %u of %u stopped accesses\n",
             (unsigned long long)call->x[0], (unsigned long long)call->x[1], seen, count);
      SCENARIO_CHECK(call->x[0] == GUEST_PASS);
      break;
    }
    if (seen == count) {
      printf("a %s exit after the last access\n", arm::exit_name(exit));
      return 1;
    }
    if (!matches(exit, expected[seen])) {
      printf("access %u: expected %s at 0x%llx, got a %s exit\n", seen + 1, expected[seen].what,
             (unsigned long long)expected[seen].address, arm::exit_name(exit));
      return 1;
    }
    ++seen;
  }
  SCENARIO_CHECK(seen == count);
  SCENARIO_CHECK(secret == kSecret);
  SCENARIO_CHECK(stack_word == kStackWord);
  SCENARIO_CHECK(!stage2.translate(secret_address).mapped && !stage2.translate(code).mapped);
  uint64_t stack_mark;
  memcpy(&stack_mark, guest_ram + kGuestRamSize - 16, sizeof stack_mark);
  SCENARIO_CHECK(stack_mark == kGuestStackMark);
  printf(
      "isolation_memory: %u hostile accesses (secret, EL2 code, EL2 stack, %u stage-2 table pages) "
      "all stopped at stage 2; the secret is intact\n",
      count, table_pages);
  return 0;
}
