// OneOf<Ts...>: a tagged union of trivially copyable event types. The exit events a vCPU
// yields are plain values; this is the small, freestanding subset of std::variant they
// need, with the names the run loop reads: is<T>(), get_if<T>(), visit().
module;
#include <arm/runtime/std_support.h>
export module arm.runtime:one_of;

namespace arm {

template <class T, class... Ts>
constexpr std::size_t index_of() {
  std::size_t index = 0;
  const bool found = ((std::is_same_v<T, Ts> ? true : (++index, false)) || ...);
  return found ? index : sizeof...(Ts);
}

template <class... Ts>
constexpr std::size_t max_size() {
  std::size_t size = 1;
  ((size = sizeof(Ts) > size ? sizeof(Ts) : size), ...);
  return size;
}
template <class... Ts>
constexpr std::size_t max_align() {
  std::size_t align = 1;
  ((align = alignof(Ts) > align ? alignof(Ts) : align), ...);
  return align;
}

// Tag for building an alternative inside a OneOf (see OneOf(InPlace<T>)).
export template <class T>
struct InPlace {};
export template <class T>
inline constexpr InPlace<T> in_place{};

export template <class... Ts>
class OneOf {
  static_assert((std::is_trivially_copyable_v<Ts> && ...), "OneOf holds trivially copyable events only");
  static_assert((std::is_trivially_destructible_v<Ts> && ...),
                "OneOf holds trivially destructible events only");

 public:
  template <class T>
  static constexpr bool holds_type = index_of<T, Ts...>() < sizeof...(Ts);
  // This OneOf's alternatives followed by more: how a module extends another's event set.
  template <class... More>
  using With = OneOf<Ts..., More...>;
  template <class T>
  static constexpr std::size_t index_for = index_of<T, Ts...>();

  template <class T>
    requires(holds_type<std::remove_cvref_t<T>>)
  OneOf(T&& value) noexcept : index_(index_for<std::remove_cvref_t<T>>) {  // NOLINT: implicit by design
    new (storage_) std::remove_cvref_t<T>(std::forward<T>(value));
  }

  // Value-initializes alternative T in place: with named return value optimization, an
  // event is then built once, where it will be read, instead of built and copied.
  template <class T>
    requires(holds_type<T>)
  explicit OneOf(InPlace<T>) noexcept : index_(index_for<T>) {
    new (storage_) T();
  }
  // Replaces the held alternative with a T built in place from `arguments` (aggregate
  // initialization when T has no constructor), and returns it.
  template <class T, class... Arguments>
    requires(holds_type<T>)
  T& emplace(Arguments&&... arguments) noexcept {
    index_ = index_for<T>;
    return *new (storage_) T{std::forward<Arguments>(arguments)...};
  }

  // Makes T the held alternative without initializing it, for a builder that writes every
  // field its readers look at (the exit path's decoder: zeroing what it then overwrites
  // costs every exit). The storage keeps the bytes it had: T is trivially copyable, so an
  // implicit-lifetime type, and its builder writes every field before anyone reads it.
  template <class T>
    requires(holds_type<T>)
  T& emplace_for_overwrite() noexcept {
    index_ = index_for<T>;
    return *__builtin_launder(reinterpret_cast<T*>(storage_));
  }
  // The alternative held, known to be T (checked by get_if otherwise).
  template <class T>
  T& as() noexcept {
    return *reinterpret_cast<T*>(storage_);
  }

  std::size_t index() const noexcept { return index_; }
  template <class T>
  bool is() const noexcept {
    return index_ == index_for<T>;
  }
  template <class T>
  T* get_if() noexcept {
    static_assert(holds_type<T>, "this OneOf cannot hold that type");
    return is<T>() ? reinterpret_cast<T*>(storage_) : nullptr;
  }
  template <class T>
  const T* get_if() const noexcept {
    static_assert(holds_type<T>, "this OneOf cannot hold that type");
    return is<T>() ? reinterpret_cast<const T*>(storage_) : nullptr;
  }

  static constexpr std::size_t kAlternatives = sizeof...(Ts);

  // Calls visitor(static_cast<T*>(nullptr)) for the alternative at `index`: per-type data
  // (a name, a table entry) without a value.
  template <class Visitor>
  static constexpr decltype(auto) visit_type(std::size_t index, Visitor&& visitor) {
    return visit_type_from<0, Ts...>(index, visitor);
  }

  // Calls visitor(T&) with the alternative held.
  template <class Visitor>
  decltype(auto) visit(Visitor&& visitor) {
    return visit_from<0, Ts...>(visitor);
  }

 private:
  template <std::size_t I, class First, class... Rest>
  decltype(auto) visit_from(auto& visitor) {
    if constexpr (sizeof...(Rest) == 0) {
      return visitor(*reinterpret_cast<First*>(storage_));
    } else {
      if (index_ == I) return visitor(*reinterpret_cast<First*>(storage_));
      return visit_from<I + 1, Rest...>(visitor);
    }
  }

  template <std::size_t I, class First, class... Rest>
  static constexpr decltype(auto) visit_type_from(std::size_t index, auto& visitor) {
    if constexpr (sizeof...(Rest) == 0) {
      return visitor(static_cast<First*>(nullptr));
    } else {
      if (index == I) return visitor(static_cast<First*>(nullptr));
      return visit_type_from<I + 1, Rest...>(index, visitor);
    }
  }

  alignas(max_align<Ts...>()) std::byte storage_[max_size<Ts...>()];
  std::size_t index_;
};

}  // namespace arm
