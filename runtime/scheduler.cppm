// Scheduler: round-robin among coroutine tasks on one physical CPU, without a heap.
//
// A hypervisor runs each vCPU as a Task; a task gives the CPU to the next one with
// `co_await scheduler.yield()` (typically at a WFI exit, after vcpu.put()). Switching is
// symmetric transfer from one task to the next: no stack grows, nothing is allocated.
//
//   arm::Scheduler<4> scheduler;
//   auto a = vcpu_loop(arena, vcpu_a, scheduler), b = vcpu_loop(arena, vcpu_b, scheduler);
//   scheduler.spawn(a);
//   scheduler.spawn(b);
//   scheduler.run();  // returns when every task has finished
module;
#include <arm/runtime/std_support.h>
export module arm.runtime:scheduler;
import :task;

export namespace arm {

template <std::size_t Capacity>
class Scheduler {
 public:
  // Queues a task to run. False if the queue is full or the task is invalid or done.
  template <class T>
  bool spawn(Task<T>& task) noexcept {
    if (!task.valid() || task.done()) return false;
    return push(task.handle());
  }

  // Runs queued tasks until none is left. A task leaves the queue when it finishes; a
  // task suspended on something other than yield() (which this scheduler never resumes)
  // is dropped from it as well.
  void run() noexcept {
    while (count_ > 0) pop().resume();
  }

  // `co_await scheduler.yield()`: the current task goes to the back of the queue and the
  // next one runs (the same one, if it is alone).
  struct Yield {
    Scheduler& scheduler;
    bool await_ready() const noexcept { return scheduler.count_ == 0; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> current) const noexcept {
      scheduler.push(current);
      return scheduler.pop();
    }
    void await_resume() const noexcept {}
  };
  Yield yield() noexcept { return Yield{*this}; }

  std::size_t queued() const noexcept { return count_; }

 private:
  bool push(std::coroutine_handle<> handle) noexcept {
    if (count_ == Capacity) return false;
    queue_[(head_ + count_) % Capacity] = handle;
    ++count_;
    return true;
  }
  std::coroutine_handle<> pop() noexcept {
    const std::coroutine_handle<> handle = queue_[head_];
    head_ = (head_ + 1) % Capacity;
    --count_;
    return handle;
  }

  std::coroutine_handle<> queue_[Capacity] = {};
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

}  // namespace arm
