// A user's program: imports the installed modules and writes its own coroutine.
// On the host it exercises the pure modules; at EL2 it runs a guest that makes one
// hypercall and exits with status 0 only if the hypercall arrived as expected.
import arm.vcpu;

namespace {
arm::Generator<int> countdown(arm::FrameArena&, int from) {
  while (from > 0) co_yield from--;
}
}  // namespace

#if defined(CONSUMER_HOST)
int main() {
  arm::FrameStorage<256> arena;
  int sum = 0;
  for (int value : countdown(arena, 3)) sum += value;
  const arm::Esr esr = arm::Esr::make(arm::ExceptionClass::Hvc64, true, 7);
  return (sum == 6 && esr.iss() == 7 && arm::smccc::FunctionId{0x84000000}.is_fast()) ? 0 : 1;
}
#else
extern "C" char consumer_guest[];
extern "C" char consumer_guest_stack_top[];

int main() {
  arm::FrameStorage<256> arena;
  int sum = 0;
  for (int value : countdown(arena, 3)) sum += value;

  arm::PerCpu cpu;
  if (cpu.enable() != arm::EnableError::None) return 2;
  arm::VCpu vcpu{{.entry = reinterpret_cast<unsigned long>(consumer_guest),
                  .stack = reinterpret_cast<unsigned long>(consumer_guest_stack_top)}};
  vcpu.load();
  for (arm::Exit& exit : vcpu.run()) {
    auto* call = exit.get_if<arm::Hypercall>();
    if (call == nullptr) return 3;
    return (call->immediate == 1 && call->x[0] == 0xc0ffee && sum == 6) ? 0 : 4;
  }
  return 5;
}
#endif
