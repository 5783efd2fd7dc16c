// A move-only std::function that keeps callables of up to `Capacity` bytes
// inside itself. The request path hands every call's continuation (the
// reply to send, the result to route) through the executor, the call table
// and the loop inbox; std::function stores anything bigger than two
// pointers on the heap, which made those continuations several mallocs
// per request. Callables that do not fit (or could throw when moved) still
// work: they go to the heap, as with std::function.
//
// A value type with no thread affinity (its owner decides).
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace bentos::util {

template <typename Signature, size_t Capacity = 64>
class InlineFunction;

template <typename R, typename... Args, size_t Capacity>
class InlineFunction<R(Args...), Capacity> {
 public:
  InlineFunction() noexcept = default;
  InlineFunction(std::nullptr_t) noexcept {}

  template <typename F, typename Fn = std::decay_t<F>,
            typename = std::enable_if_t<!std::is_same_v<Fn, InlineFunction> && std::is_invocable_r_v<R, Fn&, Args...>>>
  InlineFunction(F&& f) {  // NOLINT: implicit, like std::function
    if constexpr (fits_inline<Fn>()) {
      ::new (static_cast<void*>(storage_)) Fn(std::forward<F>(f));
      ops_ = &kInlineOps<Fn>;
    } else {
      *reinterpret_cast<Fn**>(storage_) = new Fn(std::forward<F>(f));
      ops_ = &kHeapOps<Fn>;
    }
  }

  InlineFunction(InlineFunction&& other) noexcept { take(other); }
  InlineFunction& operator=(InlineFunction&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  InlineFunction(const InlineFunction&) = delete;
  InlineFunction& operator=(const InlineFunction&) = delete;
  ~InlineFunction() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  // Calling an empty InlineFunction is a bug, as with std::function (which
  // throws); here it is undefined, so callers check operator bool.
  R operator()(Args... args) const { return ops_->invoke(storage_, std::forward<Args>(args)...); }

  // Whether a callable of type F is stored without a heap allocation.
  template <typename F>
  static constexpr bool fits_inline() {
    return sizeof(F) <= Capacity && alignof(F) <= alignof(std::max_align_t) &&
           std::is_nothrow_move_constructible_v<F>;
  }

 private:
  struct Ops {
    R (*invoke)(void* storage, Args&&... args);
    // Moves the callable from `from` into the empty `to`, leaving `from`
    // with nothing to destroy.
    void (*relocate)(void* from, void* to) noexcept;
    void (*destroy)(void* storage) noexcept;
  };

  template <typename Fn>
  static constexpr Ops kInlineOps{
      [](void* s, Args&&... args) -> R { return (*static_cast<Fn*>(s))(std::forward<Args>(args)...); },
      [](void* from, void* to) noexcept {
        ::new (to) Fn(std::move(*static_cast<Fn*>(from)));
        static_cast<Fn*>(from)->~Fn();
      },
      [](void* s) noexcept { static_cast<Fn*>(s)->~Fn(); }};

  template <typename Fn>
  static constexpr Ops kHeapOps{
      [](void* s, Args&&... args) -> R { return (**static_cast<Fn**>(s))(std::forward<Args>(args)...); },
      [](void* from, void* to) noexcept { *static_cast<Fn**>(to) = *static_cast<Fn**>(from); },
      [](void* s) noexcept { delete *static_cast<Fn**>(s); }};

  void take(InlineFunction& other) noexcept {
    if (!other.ops_) return;
    other.ops_->relocate(other.storage_, storage_);
    ops_ = std::exchange(other.ops_, nullptr);
  }
  void reset() noexcept {
    if (ops_) std::exchange(ops_, nullptr)->destroy(storage_);
  }

  static_assert(Capacity >= sizeof(void*), "room for at least the heap pointer");
  const Ops* ops_ = nullptr;
  alignas(std::max_align_t) mutable unsigned char storage_[Capacity];
};

}  // namespace bentos::util
