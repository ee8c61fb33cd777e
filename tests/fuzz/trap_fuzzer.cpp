// libFuzzer target over arm.trap and arm.smc. This file holds the entry point and the
// arm.trap checks: arbitrary ESR/FAR/HPFAR and guest registers are decoded, answered,
// completed and injected, and the invariants the rest of the library and a hypervisor rely
// on are checked. Every HVC/SMC the decoder produces, and calls built directly from the
// input's registers, are handed to the arm.smc checks (smc_checks.cpp). Any violation
// aborts, which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "fuzz_input.h"

import arm.trap;
import arm.smc;

#include "smc_checks.h"

namespace {

using trap_fuzz::Input;

constexpr bool kValidSizes[9] = {false, true, true, false, true, false, false, false, true};

void check_fault_address(const arm::FaultAddress& address, const arm::Syndrome& syndrome) {
  if (address.va_known) FUZZ_CHECK(address.va == syndrome.far);
  if (!address.va_known) FUZZ_CHECK(address.va == 0 && !address.page_offset_known);
  if (!address.ipa_known) FUZZ_CHECK(address.ipa == 0 && !address.page_offset_known);
  if (address.ipa_known) FUZZ_CHECK((address.ipa & ~0xfffull) == arm::hpfar_page(syndrome.hpfar));
  // The IPA's page offset is FAR[11:0] whenever FnV is 0 and it is composed at all.
  if (address.page_offset_known) FUZZ_CHECK((address.ipa & 0xfff) == (syndrome.far & 0xfff));
  if (!address.page_offset_known) FUZZ_CHECK((address.ipa & 0xfff) == 0);
}

// The registers a completion may write: x0..x3 for calls, Rt for reads, none otherwise.
template <class Event>
bool may_write(const Event& event, unsigned n) {
  if constexpr (std::is_same_v<Event, arm::Hypercall> || std::is_same_v<Event, arm::SecureMonitorCall>)
    return n < 4;
  else if constexpr (std::is_same_v<Event, arm::MmioRead> || std::is_same_v<Event, arm::SysRegRead>)
    return event.reply == arm::Reply::Answered && n == event.rt;
  else
    return false;
}

template <class Event>
void answer(Event& event, const Input& in) {
  const bool yes = (in.choices & 1) != 0;
  if constexpr (std::is_same_v<Event, arm::Hypercall> || std::is_same_v<Event, arm::SecureMonitorCall>) {
    if (yes) event.complete(in.answer, in.answer + 1, in.answer + 2, in.answer + 3);
  } else if constexpr (std::is_same_v<Event, arm::MmioRead> || std::is_same_v<Event, arm::SysRegRead>) {
    if (yes) event.complete(in.answer);
  } else if constexpr (std::is_same_v<Event, arm::MmioWrite> || std::is_same_v<Event, arm::SysRegWrite>) {
    if (!yes) event.reject();
  } else if constexpr (std::is_same_v<Event, arm::UndecodedDataAbort>) {
    if (yes) ((in.choices & 2) != 0) ? event.retry() : event.complete();
  }
}

template <class Event>
void check_event(Event& event, const arm::Syndrome& syndrome, const arm::GuestRegisters& regs,
                 const Input& in) {
  const arm::Esr esr{syndrome.esr};
  if constexpr (std::is_same_v<Event, arm::Unhandled>) {
    FUZZ_CHECK(event.esr == syndrome.esr && event.far == syndrome.far && event.hpfar == syndrome.hpfar);
    FUZZ_CHECK(event.pc == regs.pc);
  }
  if constexpr (std::is_same_v<Event, arm::MmioRead> || std::is_same_v<Event, arm::MmioWrite>) {
    FUZZ_CHECK(kValidSizes[event.size]);
    FUZZ_CHECK(event.rt <= 31);
    FUZZ_CHECK((esr.iss() & (1u << 24)) != 0);  // only with a valid instruction syndrome
    FUZZ_CHECK((esr.iss() & (1u << 10)) == 0);  // never from an unknown FAR (FnV)
    FUZZ_CHECK((esr.iss() & (1u << 7)) == 0);   // never from a stage 1 walk
    FUZZ_CHECK(event.far == syndrome.far);
    FUZZ_CHECK((event.address & 0xfff) == (syndrome.far & 0xfff));
    FUZZ_CHECK((event.address & ~0xfffull) == arm::hpfar_page(syndrome.hpfar));
    FUZZ_CHECK(event.instruction_length == 4);  // from AArch64: every instruction is 32 bits
  }
  if constexpr (std::is_same_v<Event, arm::MmioWrite>)
    FUZZ_CHECK(event.value == arm::truncate_to_size(regs.read(event.rt), event.size));
  if constexpr (std::is_same_v<Event, arm::SysRegWrite>) FUZZ_CHECK(event.value == regs.read(event.rt));
  if constexpr (std::is_same_v<Event, arm::InstructionAbort> ||
                std::is_same_v<Event, arm::UndecodedDataAbort> ||
                std::is_same_v<Event, arm::GuestMemoryFault>)
    check_fault_address(event.address, syndrome);
  if constexpr (std::is_same_v<Event, arm::UnsupportedAArch32>) FUZZ_CHECK(event.esr == syndrome.esr);
  if constexpr (std::is_same_v<Event, arm::Wfx>)
    if (event.has_timeout) FUZZ_CHECK(event.timeout == regs.read(event.timeout_register));

  // Answer, finish, and check what the completion changed and whether the exit rules asked
  // for an exception instead (recorded, not run: the injection is arm.trap:inject's).
  answer(event, in);
  arm::GuestRegisters after = regs;
  bool injected = false;
  arm::finish(after, event, [&](auto&&) { injected = true; });
  const bool answered = [&] {
    if constexpr (requires { event.reply; }) return event.reply == arm::Reply::Answered;
    return false;
  }();
  const std::uint64_t advance = after.pc - regs.pc;
  FUZZ_CHECK(advance == 0 || advance == 2 || advance == 4);
  FUZZ_CHECK(after.pstate == regs.pstate);
  for (unsigned n = 0; n < 31; ++n)
    if (!may_write(event, n)) FUZZ_CHECK(after.x[n] == regs.x[n]);
  if constexpr (std::is_same_v<Event, arm::MmioRead>) {
    if (answered && event.rt < 31) {
      const std::uint64_t written = after.x[event.rt];
      FUZZ_CHECK(written ==
                 arm::extend_loaded_value(in.answer, event.size, event.sign_extend, event.sixty_four));
      if (!event.sixty_four) FUZZ_CHECK(written >> 32 == 0);
      if (!event.sign_extend && event.size < 8) FUZZ_CHECK(written >> (event.size * 8) == 0);
    }
    FUZZ_CHECK(advance == (answered ? event.instruction_length : 0u));
    FUZZ_CHECK(injected == !answered);
  }
  if constexpr (std::is_same_v<Event, arm::MmioWrite> || std::is_same_v<Event, arm::SysRegWrite>) {
    const bool rejected = event.reply == arm::Reply::Rejected;
    FUZZ_CHECK(advance == (rejected ? 0u : event.instruction_length));
    FUZZ_CHECK(injected == rejected);
  }
  if constexpr (std::is_same_v<Event, arm::SysRegRead>) {
    FUZZ_CHECK(advance == (answered ? event.instruction_length : 0u));
    FUZZ_CHECK(injected == !answered);
  }
  if (injected) FUZZ_CHECK(advance == 0);  // an exception is taken at the trapped instruction
}

void check_sgi(const Input& in) {
  const arm::SgiTarget target = arm::decode_sgi(in.answer);
  const std::uint64_t sender = in.x[0];
  FUZZ_CHECK(target.intid < 16 && target.range_selector < 16);
  if (target.all_but_self) {
    FUZZ_CHECK(!target.targets(sender, sender));
    return;
  }
  // An independent reading of ICC_SGI1R_EL1 against MPIDR_EL1.
  const std::uint64_t v = in.answer, m = in.mpidr;
  const bool same_cluster = ((v >> 48) & 0xff) == ((m >> 32) & 0xff) &&
                            ((v >> 32) & 0xff) == ((m >> 16) & 0xff) &&
                            ((v >> 16) & 0xff) == ((m >> 8) & 0xff);
  const unsigned aff0 = m & 0xff, first = ((v >> 44) & 0xf) * 16;
  const bool listed = aff0 >= first && aff0 < first + 16 && ((v >> (aff0 - first)) & 1) != 0;
  FUZZ_CHECK(target.targets(m, sender) == (same_cluster && listed));
}

void check_injection(const Input& in, const arm::GuestRegisters& regs) {
  for (int kind = 0; kind < 3; ++kind) {
    arm::GuestRegisters after = regs;
    arm::El1ExceptionState el1{in.vbar, in.sctlr, 0, in.far, 0, 0};
    if (kind == 0) arm::inject_undefined_instruction(after, el1);
    if (kind == 1) arm::inject_data_abort(after, el1, in.far, (in.choices & 1) != 0, (in.choices & 2) != 0);
    if (kind == 2) arm::inject_instruction_abort(after, el1, in.far, (in.choices & 2) != 0);
    const std::uint64_t offset = after.pc - (in.vbar & ~0x7ffull);
    FUZZ_CHECK(offset == 0 || offset == 0x200 || offset == 0x400 || offset == 0x600);
    FUZZ_CHECK((after.pstate & 0x1f) == 0b00101);                 // EL1h, AArch64
    FUZZ_CHECK((after.pstate & (0xfull << 6)) == (0xfull << 6));  // D, A, I, F masked
    FUZZ_CHECK((after.pstate & ((1ull << 20) | (1ull << 21) | (3ull << 10) | (1ull << 23))) == 0);
    FUZZ_CHECK(el1.elr == regs.pc && el1.spsr == regs.pstate);
    FUZZ_CHECK(((el1.esr >> 25) & 1) == 1);  // IL is 1 for all three
    FUZZ_CHECK((el1.esr >> 32) == 0);
    const unsigned ec = (el1.esr >> 26) & 0x3f;
    if (kind == 0) FUZZ_CHECK(ec == 0x00 && el1.far == in.far);
    if (kind == 1) FUZZ_CHECK(ec == 0x24 || ec == 0x25);
    if (kind == 2) FUZZ_CHECK(ec == 0x20 || ec == 0x21);
    for (unsigned n = 0; n < 31; ++n) FUZZ_CHECK(after.x[n] == regs.x[n]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{};
  std::memcpy(&in, data, size < sizeof in ? size : sizeof in);

  arm::GuestRegisters regs;
  for (unsigned n = 0; n < 31; ++n) regs.x[n] = in.x[n];
  regs.pc = in.pc;
  regs.pstate = in.pstate;
  const arm::Syndrome syndrome{in.esr, in.far, in.hpfar};

  arm::TrapEvent event = arm::decode(syndrome, regs);
  event.visit([&](auto& decoded) {
    if constexpr (arm::smccc::TrapCall<std::remove_cvref_t<decltype(decoded)>>)
      trap_fuzz::check_guest_call(decoded, regs, in);
    check_event(decoded, syndrome, regs, in);
  });
  trap_fuzz::check_direct_calls(in, regs);

  // System register ISS round trip.
  const arm::SysRegIss iss{static_cast<std::uint32_t>(in.esr)};
  FUZZ_CHECK(arm::SysRegIss::make(iss.encoding(), iss.rt(), iss.is_read()) == (in.esr & 0x3fffff));

  check_sgi(in);
  check_injection(in, regs);
  return 0;
}
