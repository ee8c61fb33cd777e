// The few standard-library facilities the library's modules use, on both builds.
//
// With a C++ standard library (x86_64 unit tests): the real standard headers.
// Without one (aarch64-none-elf at EL2, -nostdinc++): this
// header declares the minimum itself: the coroutine support types over clang's
// __builtin_coro_* builtins, placement new, and move/forward/exchange. Everything sits in
// namespace std so that code reads the same on both builds.
//
// Include it only from a module's global module fragment. Importers cannot see names
// declared there, which is why arm.runtime re-exports the coroutine names.
#pragma once

#if __has_include(<coroutine>)
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>
#else
#include <stddef.h>
#include <stdint.h>

// Placement new: the only operator new the runtime ever uses.
inline void* operator new(size_t, void* where) noexcept { return where; }

namespace std {
using ::int16_t;
using ::int32_t;
using ::int64_t;
using ::int8_t;
using ::size_t;
using ::uint16_t;
using ::uint32_t;
using ::uint64_t;
using ::uint8_t;
using ::uintptr_t;
using byte = unsigned char;

template <class T>
struct remove_reference {
  using type = T;
};
template <class T>
struct remove_reference<T&> {
  using type = T;
};
template <class T>
struct remove_reference<T&&> {
  using type = T;
};
template <class T>
using remove_reference_t = typename remove_reference<T>::type;
template <class T>
using remove_cvref_t = __remove_cvref(T);
// Constant expressions of compiler builtins; clang-tidy 19 takes them for dynamic
// initializers (bugprone-dynamic-static-initializers), hence the NOLINTs.
template <class A, class B>
inline constexpr bool is_same_v = __is_same(A, B);  // NOLINT(bugprone-dynamic-static-initializers)
template <class T>
inline constexpr bool is_trivially_copyable_v =  // NOLINT(bugprone-dynamic-static-initializers)
    __is_trivially_copyable(T);
template <class T>
inline constexpr bool is_trivially_destructible_v =  // NOLINT(bugprone-dynamic-static-initializers)
    __is_trivially_destructible(T);

template <class T>
constexpr remove_reference_t<T>&& move(T&& value) noexcept {
  return static_cast<remove_reference_t<T>&&>(value);
}
template <class T>
constexpr T&& forward(remove_reference_t<T>& value) noexcept {
  return static_cast<T&&>(value);
}
template <class T, class U = T>
constexpr T exchange(T& object, U&& replacement) {
  T old = std::move(object);
  object = std::forward<U>(replacement);
  return old;
}
template <class T>
constexpr T* addressof(T& object) noexcept {
  return __builtin_addressof(object);
}

// [coroutine.traits]: the promise type comes from the return type.
template <class Ret, class... Args>
struct coroutine_traits {
  using promise_type = typename Ret::promise_type;
};

template <class Promise = void>
struct coroutine_handle;

// NOLINTBEGIN(performance-trivially-destructible): neither declares a destructor; clang-tidy
// 19 reports one for these two classes when it analyses EL2 sources.
template <>
struct coroutine_handle<void> {
  constexpr coroutine_handle() noexcept = default;
  constexpr coroutine_handle(decltype(nullptr)) noexcept {}
  static coroutine_handle from_address(void* address) noexcept {
    coroutine_handle handle;
    handle.frame_ = address;
    return handle;
  }
  constexpr void* address() const noexcept { return frame_; }
  constexpr explicit operator bool() const noexcept { return frame_ != nullptr; }
  bool done() const noexcept { return __builtin_coro_done(frame_); }
  void operator()() const { resume(); }
  void resume() const { __builtin_coro_resume(frame_); }
  void destroy() const { __builtin_coro_destroy(frame_); }

 protected:
  void* frame_ = nullptr;
};

template <class Promise>
struct coroutine_handle : coroutine_handle<> {
  using coroutine_handle<>::coroutine_handle;
  static coroutine_handle from_address(void* address) noexcept {
    coroutine_handle handle;
    handle.frame_ = address;
    return handle;
  }
  static coroutine_handle from_promise(Promise& promise) noexcept {
    coroutine_handle handle;
    handle.frame_ = __builtin_coro_promise(__builtin_addressof(promise), alignof(Promise), true);
    return handle;
  }
  Promise& promise() const noexcept {
    return *static_cast<Promise*>(__builtin_coro_promise(frame_, alignof(Promise), false));
  }
};

struct noop_coroutine_promise {};
// NOLINTEND(performance-trivially-destructible)
using noop_coroutine_handle = coroutine_handle<noop_coroutine_promise>;
inline noop_coroutine_handle noop_coroutine() noexcept {
  return noop_coroutine_handle::from_address(__builtin_coro_noop());
}

struct suspend_always {
  constexpr bool await_ready() const noexcept { return false; }
  constexpr void await_suspend(coroutine_handle<>) const noexcept {}
  constexpr void await_resume() const noexcept {}
};
struct suspend_never {
  constexpr bool await_ready() const noexcept { return true; }
  constexpr void await_suspend(coroutine_handle<>) const noexcept {}
  constexpr void await_resume() const noexcept {}
};
}  // namespace std
#endif
