// Caller-owned storage for coroutine frames. No global heap exists at EL2, and a
// hypervisor wants to know where every byte of its state lives, so each coroutine frame
// is carved out of a FrameArena that its owner (a VCpu, a scheduler) provides.
module;
#include <arm/runtime/std_support.h>
export module arm.runtime:frame_arena;

export namespace arm {

// A bump allocator over a caller-supplied buffer. Frames released in LIFO order (the
// usual case: a coroutine and the ones it awaits) return their space at once; a frame
// released out of order is marked free and its space returns when the frames above it go.
// allocate() returns nullptr when the buffer is full: the coroutine types turn that into
// an invalid object (see valid()), never into a crash.
class FrameArena {
 public:
  static constexpr std::size_t kAlignment = 16;

  FrameArena(void* storage, std::size_t bytes) noexcept
      : begin_(align_up(static_cast<std::byte*>(storage))),
        end_(static_cast<std::byte*>(storage) + bytes),
        top_(begin_) {
    if (end_ < begin_) end_ = begin_;
  }
  FrameArena(const FrameArena&) = delete;
  FrameArena& operator=(const FrameArena&) = delete;

  // Returns storage for `bytes` aligned to kAlignment, or nullptr if it does not fit.
  void* allocate(std::size_t bytes) noexcept {
    const std::size_t block = sizeof(Header) + round_up(bytes);
    if (bytes > capacity() || block > static_cast<std::size_t>(end_ - top_)) {
      ++failed_allocations_;
      return nullptr;
    }
    auto* header = new (top_) Header{this, static_cast<std::uint32_t>(block), last_block_size_, false};
    last_block_size_ = header->block_bytes;
    top_ += block;
    ++live_frames_;
    return header + 1;
  }

  // Releases storage returned by allocate() of whichever arena owns it.
  static void release(void* frame) noexcept {
    if (frame == nullptr) return;
    Header* header = static_cast<Header*>(frame) - 1;
    header->owner->release_block(header);
  }

  std::size_t capacity() const noexcept { return static_cast<std::size_t>(end_ - begin_); }
  std::size_t bytes_in_use() const noexcept { return static_cast<std::size_t>(top_ - begin_); }
  std::size_t live_frames() const noexcept { return live_frames_; }
  std::size_t failed_allocations() const noexcept { return failed_allocations_; }

 private:
  struct alignas(kAlignment) Header {
    FrameArena* owner;
    std::uint32_t block_bytes;     // this block, header included
    std::uint32_t previous_bytes;  // the block below it (0 for the first), to walk back
    bool free;
  };
  static_assert(sizeof(Header) % kAlignment == 0);

  static constexpr std::size_t round_up(std::size_t bytes) noexcept {
    return (bytes + kAlignment - 1) & ~(kAlignment - 1);
  }
  static std::byte* align_up(std::byte* pointer) noexcept {
    const auto address = reinterpret_cast<std::uintptr_t>(pointer);
    return pointer + (round_up(address) - address);
  }

  void release_block(Header* header) noexcept {
    header->free = true;
    --live_frames_;
    // Pop every free block at the top of the stack.
    while (top_ > begin_) {
      auto* last = reinterpret_cast<Header*>(top_ - last_block_size_);
      if (!last->free) break;
      top_ = reinterpret_cast<std::byte*>(last);
      last_block_size_ = last->previous_bytes;
    }
  }

  std::byte* begin_;
  std::byte* end_;
  std::byte* top_;
  std::uint32_t last_block_size_ = 0;
  std::size_t live_frames_ = 0;
  std::size_t failed_allocations_ = 0;
};

// A FrameArena with its buffer inline, for embedding in the object that owns the frames.
template <std::size_t Bytes>
class FrameStorage : public FrameArena {
 public:
  FrameStorage() noexcept : FrameArena(buffer_, Bytes) {}

 private:
  alignas(FrameArena::kAlignment) std::byte buffer_[Bytes];
};

// A coroutine finds its arena among its arguments: a FrameArena& itself, or an object
// (a VCpu, through the implicit object parameter of a member coroutine) that exposes
// frame_arena().
template <class T>
concept ProvidesFrameArena = requires(T& owner) { static_cast<FrameArena&>(owner.frame_arena()); };

template <class T>
concept FrameArenaArgument = ProvidesFrameArena<T> || requires(T& arena) { static_cast<FrameArena&>(arena); };

template <class First, class... Rest>
FrameArena& find_frame_arena(First& first, Rest&... rest) noexcept {
  if constexpr (ProvidesFrameArena<First>) {
    return first.frame_arena();
  } else if constexpr (requires { static_cast<FrameArena&>(first); }) {
    return static_cast<FrameArena&>(first);
  } else {
    static_assert(sizeof...(Rest) > 0,
                  "a coroutine frame needs caller-owned storage: pass a FrameArena& (or an object "
                  "with frame_arena()) as an argument; there is no global heap");
    return find_frame_arena(rest...);
  }
}

// The operator new/delete pair every promise type of the runtime uses.
struct ArenaAllocatedFrame {
  template <class... Args>
  static void* operator new(std::size_t bytes, Args&... args) noexcept {
    static_assert(sizeof...(Args) > 0,
                  "a coroutine frame needs caller-owned storage: pass a FrameArena& (or an object "
                  "with frame_arena()) as an argument; there is no global heap");
    return find_frame_arena(args...).allocate(bytes);
  }
  static void operator delete(void* frame, std::size_t) noexcept { FrameArena::release(frame); }
};

}  // namespace arm
