// Task<T>: a lazily started coroutine that produces one T and can be co_awaited. Awaiting
// a task starts it and resumes the awaiter by symmetric transfer when it finishes, so a
// chain of any length runs in constant stack. A hypervisor writes its per-vCPU loops as
// tasks (`auto& exit = co_await vcpu.next_exit();`) and drives them with run_to_completion
// or its own scheduler.
module;
#include <arm/runtime/std_support.h>
export module arm.runtime:task;
import :frame_arena;

namespace arm {

// Where a finished task continues: its awaiter, or nowhere when it was started directly.
struct TaskPromiseBase : ArenaAllocatedFrame {
  std::coroutine_handle<> continuation = std::noop_coroutine();

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> finished) const noexcept {
      return finished.promise().continuation;
    }
    void await_resume() const noexcept {}
  };
  std::suspend_always initial_suspend() noexcept { return {}; }
  FinalAwaiter final_suspend() noexcept { return {}; }
  [[noreturn]] void unhandled_exception() noexcept { __builtin_trap(); }
};

template <class T>
struct TaskPromiseValue : TaskPromiseBase {
  union {
    T value;
  };
  bool has_value = false;
  TaskPromiseValue() noexcept {}
  ~TaskPromiseValue() {
    if (has_value) value.~T();
  }
  template <class U>
  void return_value(U&& result) noexcept {
    new (std::addressof(value)) T(std::forward<U>(result));
    has_value = true;
  }
  T take() noexcept { return std::move(value); }
};

template <>
struct TaskPromiseValue<void> : TaskPromiseBase {
  void return_void() noexcept {}
  void take() noexcept {}
};

export template <class T = void>
class [[nodiscard]] Task {
 public:
  struct promise_type : TaskPromiseValue<T> {
    Task get_return_object() noexcept { return Task{Handle::from_promise(*this)}; }
    // The frame did not fit its arena: the caller receives an invalid Task.
    static Task get_return_object_on_allocation_failure() noexcept { return Task{}; }
  };
  using Handle = std::coroutine_handle<promise_type>;

  Task() noexcept = default;
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  // False when the frame could not be allocated. Awaiting or running an invalid task is a
  // programming error; check valid() where allocation can fail.
  bool valid() const noexcept { return static_cast<bool>(handle_); }
  bool done() const noexcept { return !handle_ || handle_.done(); }

  // Starts (or continues) the task on the current stack; returns when it finishes or
  // suspends on something that is not another task.
  void resume() noexcept {
    if (handle_ && !handle_.done()) handle_.resume();
  }
  // The coroutine itself, for schedulers.
  std::coroutine_handle<> handle() const noexcept { return handle_; }

  // The task's result; only after done().
  T result() noexcept { return handle_.promise().take(); }

  struct Awaiter {
    Handle task;
    bool await_ready() const noexcept { return !task || task.done(); }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) const noexcept {
      task.promise().continuation = awaiting;
      return task;
    }
    T await_resume() const noexcept {
      if (!task) __builtin_trap();  // awaited an invalid task: see valid()
      return task.promise().take();
    }
  };
  Awaiter operator co_await() const& noexcept { return Awaiter{handle_}; }

 private:
  explicit Task(Handle handle) noexcept : handle_(handle) {}
  void reset() noexcept {
    if (handle_) handle_.destroy();
    handle_ = {};
  }
  Handle handle_;
};

// Runs a task that never waits on anything outside itself (the case for a vCPU loop on
// one physical CPU) to completion. Returns false if the task is invalid or suspended on
// something that did not resume it.
export template <class T>
bool run_to_completion(Task<T>& task) noexcept {
  if (!task.valid()) return false;
  task.resume();
  return task.done();
}

}  // namespace arm
