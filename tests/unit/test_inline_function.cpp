// util::InlineFunction: small callables live inside it, big ones on the
// heap; either way a callable is moved, called and destroyed exactly as a
// std::function's would be.
#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <string>

#include "util/inline_function.h"

using bentos::util::InlineFunction;

namespace {

// Counts its live copies through a shared counter, to catch a callable
// destroyed twice or never.
struct Tracked {
  explicit Tracked(int* live_) : live(live_) { ++*live; }
  Tracked(Tracked&& o) noexcept : live(o.live) { ++*live; }
  Tracked(const Tracked& o) : live(o.live) { ++*live; }
  ~Tracked() { --*live; }
  int* live;
};

}  // namespace

TEST_CASE("InlineFunction keeps small callables inline and big ones on the heap") {
  auto small = [a = 1, b = 2](int x) { return a + b + x; };
  std::array<char, 200> big_payload{};
  big_payload[199] = 5;
  auto big = [big_payload](int x) { return big_payload[199] + x; };
  using Fn = InlineFunction<int(int), 64>;
  CHECK(Fn::fits_inline<decltype(small)>());
  CHECK_FALSE(Fn::fits_inline<decltype(big)>());
  Fn f1 = small;
  Fn f2 = big;
  CHECK(f1(10) == 13);
  CHECK(f2(10) == 15);
}

TEST_CASE("InlineFunction: empty, moved-from and reassigned states") {
  InlineFunction<int()> empty;
  CHECK_FALSE(empty);
  InlineFunction<int()> null_fn = nullptr;
  CHECK_FALSE(null_fn);
  InlineFunction<int()> f = [] { return 4; };
  CHECK(f);
  InlineFunction<int()> g = std::move(f);
  CHECK_FALSE(f);  // NOLINT: a moved-from InlineFunction is empty, by contract
  CHECK(g() == 4);
  g = [] { return 9; };
  CHECK(g() == 9);
  g = nullptr;
  CHECK_FALSE(g);
}

TEST_CASE("InlineFunction destroys each callable exactly once, inline or on the heap") {
  int live = 0;
  {
    Tracked t(&live);
    InlineFunction<int(), 64> inline_fn = [t] { return *t.live; };
    std::array<char, 128> pad{};
    InlineFunction<int(), 64> heap_fn = [t, pad] { return *t.live + pad[0]; };
    CHECK(live == 3);  // t and one copy in each function
    InlineFunction<int(), 64> moved_inline = std::move(inline_fn);
    InlineFunction<int(), 64> moved_heap = std::move(heap_fn);
    CHECK(live == 3);  // a move relocates; it leaves nothing behind
    moved_inline = std::move(moved_heap);  // destroys the inline copy
    CHECK(live == 2);
    CHECK(moved_inline() == 2);
  }
  CHECK(live == 0);
}

TEST_CASE("InlineFunction calls a mutable callable on its own state, and forwards move-only arguments") {
  InlineFunction<int()> counter = [n = 0]() mutable { return ++n; };
  CHECK(counter() == 1);
  CHECK(counter() == 2);
  InlineFunction<std::string(std::unique_ptr<std::string>&&)> take =
      [](std::unique_ptr<std::string>&& p) { return *p + "!"; };
  CHECK(take(std::make_unique<std::string>("hi")) == "hi!");
}
