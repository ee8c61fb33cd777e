#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <string>

import arm.runtime;

namespace {

arm::Generator<int> count_to(arm::FrameArena& arena, int limit) {
  for (int i = 1; i <= limit; ++i) co_yield i;
}

arm::Task<int> forty_two(arm::FrameArena&) { co_return 42; }

arm::Task<int> add_forty_two(arm::FrameArena& arena, int x) {
  const int value = co_await forty_two(arena);
  co_return value + x;
}

arm::Task<long> chain(arm::FrameArena& arena, int depth) {
  if (depth == 0) co_return 0;
  long total = 0;
  for (int i = 0; i < 10000; ++i) total += co_await forty_two(arena);
  co_return total + co_await chain(arena, depth - 1);
}

// Counts constructions and destructions to prove frames destroy their locals.
struct Counted {
  static inline int alive = 0;
  Counted() { ++alive; }
  Counted(const Counted&) { ++alive; }
  ~Counted() { --alive; }
};

arm::Generator<int> holds_counted(arm::FrameArena&) {
  Counted counted;
  co_yield 1;
  co_yield 2;
}

struct Event {
  int value = 0;
  int answer = 0;
};
arm::Generator<Event> ask(arm::FrameArena&, int questions, int& answers_sum) {
  for (int i = 0; i < questions; ++i) {
    Event event{i, -1};
    co_yield event;
    answers_sum += event.answer;  // the consumer wrote into the yielded event
  }
}

// An owner of an event slot, as a VCpu is: its member coroutine overwrites the slot
// between yields and reads back what the consumer answered.
struct Asker {
  arm::FrameStorage<512> arena;
  Event slot;
  int answers_sum = 0;
  int questions = 0;
  int body_started = 0;
  Event& event_slot() noexcept { return slot; }
  arm::FrameArena& frame_arena() noexcept { return arena; }
  arm::EventStream<Event> ask() {
    co_yield slot;  // the stream's lazy start
    ++body_started;
    for (int i = 0; i < questions; ++i) {
      slot = Event{i, -1};
      co_yield slot;
      answers_sum += slot.answer;
    }
  }
};

}  // namespace

TEST_CASE("an event stream yields its owner's slot, answered in place, and then ends") {
  Asker asker;
  asker.questions = 4;
  int seen = 0;
  for (Event& event : asker.ask()) {
    CHECK(&event == &asker.slot);
    CHECK(event.value == seen++);
    event.answer = event.value * 10;
  }
  CHECK(seen == 4);
  CHECK(asker.answers_sum == 0 + 10 + 20 + 30);
  CHECK(asker.arena.live_frames() == 0);
}

TEST_CASE("an event stream is lazy: its body starts at the first iteration") {
  Asker asker;
  asker.questions = 1;
  {
    auto stream = asker.ask();
    CHECK(stream.valid());
    CHECK(asker.arena.live_frames() == 1);
    CHECK(asker.body_started == 0);
    auto it = stream.begin();
    CHECK(asker.body_started == 1);
    CHECK(!(it == stream.end()));
  }
  CHECK(asker.arena.live_frames() == 0);
}

TEST_CASE("a generator yields its values in order and then ends") {
  arm::FrameStorage<512> arena;
  int expected = 1;
  for (int value : count_to(arena, 5)) CHECK(value == expected++);
  CHECK(expected == 6);
  CHECK(arena.live_frames() == 0);
  CHECK(arena.bytes_in_use() == 0);
}

TEST_CASE("a generator is lazy: nothing runs before the first iteration") {
  arm::FrameStorage<512> arena;
  auto generator = count_to(arena, 3);
  CHECK(generator.valid());
  CHECK(arena.live_frames() == 1);
}

TEST_CASE("the consumer answers a yielded event in place") {
  arm::FrameStorage<512> arena;
  int sum = 0;
  for (Event& event : ask(arena, 4, sum)) event.answer = event.value * 10;
  CHECK(sum == 0 + 10 + 20 + 30);
}

TEST_CASE("destroying a suspended generator destroys the frame's locals and frees its storage") {
  arm::FrameStorage<512> arena;
  {
    auto generator = holds_counted(arena);
    auto it = generator.begin();
    CHECK(*it == 1);
    CHECK(Counted::alive == 1);
  }
  CHECK(Counted::alive == 0);
  CHECK(arena.live_frames() == 0);
  CHECK(arena.bytes_in_use() == 0);
}

TEST_CASE("a frame that does not fit its arena gives an invalid generator, not a crash") {
  arm::FrameStorage<64> arena;  // smaller than any frame
  auto generator = count_to(arena, 3);
  CHECK_FALSE(generator.valid());
  int iterations = 0;
  for (int value : generator) iterations += value;
  CHECK(iterations == 0);
  CHECK(arena.failed_allocations() == 1);
  CHECK(arena.live_frames() == 0);
}

TEST_CASE("an invalid task reports failure to run_to_completion") {
  arm::FrameStorage<64> arena;
  auto task = forty_two(arena);
  CHECK_FALSE(task.valid());
  CHECK_FALSE(arm::run_to_completion(task));
}

TEST_CASE("tasks await tasks and return values") {
  arm::FrameStorage<2048> arena;
  auto task = add_forty_two(arena, 8);
  REQUIRE(arm::run_to_completion(task));
  CHECK(task.result() == 50);
}

TEST_CASE("a million synchronous completions run in constant stack (symmetric transfer)") {
  arm::FrameStorage<1 << 16> arena;
  auto task = chain(arena, 100);
  REQUIRE(arm::run_to_completion(task));
  CHECK(task.result() == 42L * 10000 * 100);
  CHECK(arena.live_frames() == 1);  // only the outer task remains until it is destroyed
}

TEST_CASE("the arena returns out-of-order frees once the frames above them go") {
  alignas(16) std::byte buffer[1024];
  arm::FrameArena arena(buffer, sizeof buffer);
  void* a = arena.allocate(100);
  void* b = arena.allocate(100);
  void* c = arena.allocate(100);
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  REQUIRE(c != nullptr);
  CHECK(reinterpret_cast<std::uintptr_t>(b) % arm::FrameArena::kAlignment == 0);
  const std::size_t full = arena.bytes_in_use();
  arm::FrameArena::release(b);
  CHECK(arena.bytes_in_use() == full);  // b is below c: kept until c goes
  arm::FrameArena::release(c);
  CHECK(arena.bytes_in_use() < full);
  arm::FrameArena::release(a);
  CHECK(arena.bytes_in_use() == 0);
  CHECK(arena.allocate(2000) == nullptr);
  CHECK(arena.failed_allocations() == 1);
}

TEST_CASE("OneOf holds one alternative and says which") {
  struct A {
    int a;
  };
  struct B {
    long b;
  };
  arm::OneOf<A, B> value = B{7};
  CHECK(value.is<B>());
  CHECK_FALSE(value.is<A>());
  CHECK(value.get_if<A>() == nullptr);
  REQUIRE(value.get_if<B>() != nullptr);
  CHECK(value.get_if<B>()->b == 7);
  CHECK(value.visit([](auto& alternative) { return sizeof(alternative); }) == sizeof(B));
}

namespace {
arm::Task<> take_turns(arm::FrameArena&, arm::Scheduler<4>& scheduler, char name, int turns,
                       std::string& log) {
  for (int i = 0; i < turns; ++i) {
    log += name;
    co_await scheduler.yield();
  }
}
}  // namespace

TEST_CASE("the scheduler runs tasks round-robin at each yield and returns when all are done") {
  arm::FrameStorage<2048> arena;
  arm::Scheduler<4> scheduler;
  std::string log;
  auto a = take_turns(arena, scheduler, 'a', 3, log);
  auto b = take_turns(arena, scheduler, 'b', 2, log);
  auto c = take_turns(arena, scheduler, 'c', 1, log);
  CHECK(scheduler.spawn(a));
  CHECK(scheduler.spawn(b));
  CHECK(scheduler.spawn(c));
  scheduler.run();
  CHECK(log == "abcaba");
  CHECK(a.done());
  CHECK(b.done());
  CHECK(c.done());
  CHECK(scheduler.queued() == 0);
  CHECK_FALSE(scheduler.spawn(a));  // finished tasks are not queued again
}
