// Generator<T>: a lazily started coroutine that yields references to T, consumed with a
// range-for loop. (A coroutine that yields one slot over and over, as VCpu::run() does, is
// an EventStream<T>: see event_stream.cppm.)
module;
#include <arm/runtime/std_support.h>
export module arm.runtime:generator;
import :frame_arena;

export namespace arm {

template <class T>
class [[nodiscard]] Generator {
 public:
  struct promise_type : ArenaAllocatedFrame {
    T* current = nullptr;

    Generator get_return_object() noexcept { return Generator{Handle::from_promise(*this)}; }
    // The frame did not fit its arena: the caller receives an invalid Generator.
    static Generator get_return_object_on_allocation_failure() noexcept { return Generator{}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(T& value) noexcept {
      current = std::addressof(value);
      return {};
    }
    std::suspend_always yield_value(T&& value) noexcept {
      current = std::addressof(value);
      return {};
    }
    void return_void() noexcept {}
    // The library builds without exceptions; nothing can reach this.
    [[noreturn]] void unhandled_exception() noexcept { __builtin_trap(); }
    // A generator produces values; it does not wait for anything.
    template <class U>
    void await_transform(U&&) = delete;
  };
  using Handle = std::coroutine_handle<promise_type>;

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

  Generator() noexcept = default;
  Generator(Generator&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Generator& operator=(Generator&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;
  ~Generator() { reset(); }

  // False when the frame could not be allocated; such a generator yields nothing.
  bool valid() const noexcept { return static_cast<bool>(handle_); }

  Iterator begin() noexcept {
    if (handle_) handle_.resume();
    return Iterator{handle_};
  }
  Sentinel end() const noexcept { return {}; }

 private:
  explicit Generator(Handle handle) noexcept : handle_(handle) {}
  void reset() noexcept {
    if (handle_) handle_.destroy();
    handle_ = {};
  }
  Handle handle_;
};

}  // namespace arm
