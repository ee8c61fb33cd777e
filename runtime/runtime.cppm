// arm.runtime: the freestanding coroutine runtime under the vCPU. Identical on the host
// and at EL2: no heap (frames live in caller-owned FrameArenas), no exceptions.
//
// An importer can write coroutines with nothing but `import arm.runtime;` (or any module
// that re-exports it): the coroutine support names are re-exported below, because
// declarations in a global module fragment are invisible to importers.
module;
#include <arm/runtime/std_support.h>
export module arm.runtime;
export import :frame_arena;
export import :generator;
export import :event_stream;
export import :task;
export import :one_of;
export import :scheduler;

export namespace std {
using std::coroutine_handle;
using std::coroutine_traits;
using std::noop_coroutine;
using std::suspend_always;
using std::suspend_never;
}  // namespace std
