// Generator<T>: a lazily started coroutine that yields references to T, consumed with a
// range-for loop. (A coroutine that yields one slot over and over, as VCpu::run() does, is
// an EventStream<T>: see event_stream.cppm.) Both are a YieldedRange: the owner of the
// frame, iterated by resuming it, whose promise points at what it yielded last.
module;
#include <arm/runtime/std_support.h>
export module arm.runtime:generator;
import :frame_arena;

export namespace arm {

// What a range-for loop over a yielding coroutine needs, shared by Generator<T> and
// EventStream<T>: `Promise` has `T* current`, the value the coroutine yielded last.
template <class T, class Promise>
class [[nodiscard]] YieldedRange {
 public:
  using Handle = std::coroutine_handle<Promise>;

  struct Sentinel {};
  class Iterator {
   public:
    explicit Iterator(Handle handle) noexcept : handle_(handle) {}
    T& operator*() const noexcept { return *handle_.promise().current; }
    T* operator->() const noexcept { return handle_.promise().current; }
    Iterator& operator++() noexcept {
      handle_.resume();
      return *this;
    }
    bool operator==(Sentinel) const noexcept { return !handle_ || handle_.done(); }

   private:
    Handle handle_;
  };

  YieldedRange() noexcept = default;
  explicit YieldedRange(Handle handle) noexcept : handle_(handle) {}
  YieldedRange(YieldedRange&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  YieldedRange& operator=(YieldedRange&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  YieldedRange(const YieldedRange&) = delete;
  YieldedRange& operator=(const YieldedRange&) = delete;
  ~YieldedRange() { reset(); }

  // False when the frame could not be allocated; such a range yields nothing.
  bool valid() const noexcept { return static_cast<bool>(handle_); }

  // Resumes the coroutine from its first suspension to its first value.
  Iterator begin() noexcept {
    if (handle_) handle_.resume();
    return Iterator{handle_};
  }
  Sentinel end() const noexcept { return {}; }

 private:
  void reset() noexcept {
    if (handle_) handle_.destroy();
    handle_ = {};
  }
  Handle handle_;
};

// The promise parts every yielding coroutine of the runtime shares: its frame in a
// caller-owned arena, no exceptions, nothing awaited.
struct YieldingPromise : ArenaAllocatedFrame {
  std::suspend_always final_suspend() noexcept { return {}; }
  void return_void() noexcept {}
  // The library builds without exceptions; nothing can reach this.
  [[noreturn]] void unhandled_exception() noexcept { __builtin_trap(); }
  // A yielding coroutine produces values; it does not wait for anything.
  template <class U>
  void await_transform(U&&) = delete;
};

template <class T>
struct GeneratorPromise;

template <class T>
class Generator : public YieldedRange<T, GeneratorPromise<T>> {
 public:
  using promise_type = GeneratorPromise<T>;
  using YieldedRange<T, GeneratorPromise<T>>::YieldedRange;
};

template <class T>
struct GeneratorPromise : YieldingPromise {
  T* current = nullptr;

  Generator<T> get_return_object() noexcept {
    return Generator<T>{std::coroutine_handle<GeneratorPromise>::from_promise(*this)};
  }
  // The frame did not fit its arena: the caller receives an invalid Generator.
  static Generator<T> get_return_object_on_allocation_failure() noexcept { return Generator<T>{}; }
  std::suspend_always initial_suspend() noexcept { return {}; }
  std::suspend_always yield_value(T& value) noexcept {
    current = std::addressof(value);
    return {};
  }
  std::suspend_always yield_value(T&& value) noexcept {
    current = std::addressof(value);
    return {};
  }
};

}  // namespace arm
