/*
 * bentos/driver/hook_check.hpp - part of the C++ authoring layer (bentos/driver.hpp).
 * Compile-time checks of a driver class's hooks, run by every
 * BENTOS_*_DRIVER macro.
 *
 * What is checked (each failure is one static_assert saying what to write):
 *   - a member named like a hook of another pattern, or like a C ABI
 *     ops-table field (on_request in an event-stream driver,
 *     session_start in any), is an error naming what it is and what the
 *     macro accepts;
 *   - a member whose name is a near miss of a hook (on_deactive,
 *     onRequest, on_activated, proces...) is an error naming the hook;
 *   - a class with none of its pattern's hooks is an error;
 *   - a hook of the pattern that exists but cannot be called in any form
 *     the layer accepts (a wrong signature, or not public) is an error
 *     giving the accepted forms (each pattern header asserts its own).
 *
 * How, and the limits: C++20 has no reflection, so no code can list a
 * class's members; it can only ask whether a member of a given name
 * exists. The names asked about are generated (tools/gen-hook-names.py ->
 * hook_names.hpp) from the table of hooks: every hook of every pattern,
 * the C field names, and the near misses of each hook by rule (a letter
 * dropped, doubled, replaced or inserted, two neighbours dropped or
 * swapped, a tense or number suffix, camelCase). A misspelling outside
 * those rules (two unrelated letters wrong, a name of your own such as
 * on_close) is not caught: it compiles as an ordinary member the host
 * never calls. The existence test derives a probe class from the driver
 * and looks the name up there, so it sees private members and overloaded
 * or template ones too; a driver class declared `final` cannot be derived
 * from and gets only the checks that need no probe (no hook at all, wrong
 * signatures of public hooks). Define BENTOS_NO_HOOK_CHECK before
 * including bentos/driver.hpp to turn the name checks off (for example if
 * a helper of yours is named like a near miss on purpose).
 */
#pragma once

#include "bentos/driver/hook_names.hpp"

#include <type_traits>

namespace bentos::detail::hook_check {

// One member per known name. A probe deriving from both the driver and
// this finds a name unambiguously only when the driver has no member of
// that name (of any kind or access): name lookup happens before access
// checks, so two candidates are ambiguous even if one is private.
struct all_names {
#define BENTOS_DETAIL_X(name) int name;
  BENTOS_DETAIL_ALL_NAMES(BENTOS_DETAIL_X)
#undef BENTOS_DETAIL_X
};

template <class D>
struct probe : D, all_names {};

// Whether the checks by name can run on D (a final class cannot be probed).
template <class D>
inline constexpr bool probeable = std::is_class_v<D> && !std::is_final_v<D>;

#if defined(BENTOS_NO_HOOK_CHECK)
#define BENTOS_DETAIL_NAME_CHECKS 0
#else
#define BENTOS_DETAIL_NAME_CHECKS 1
#endif

// True when D has a member called `name`: BENTOS_DETAIL_NAMED(D, on_read).
template <class D, class Test>
constexpr bool named(Test test) {
  if constexpr (probeable<D>) {
    return test.template operator()<probe<D>>();
  } else {
    return false;
  }
}
#define BENTOS_DETAIL_NAMED(D, name) \
  ::bentos::detail::hook_check::named<D>([]<class P>() { return !requires { &P::name; }; })

// The near misses of every hook, the same for every pattern.
template <class D>
constexpr bool no_near_miss() {
  if constexpr (probeable<D> && BENTOS_DETAIL_NAME_CHECKS) {
    using P = probe<D>;
#define BENTOS_DETAIL_X(bad, hook)                                                                  \
  static_assert(requires { &P::bad; }, #bad " is not a hook: did you mean " #hook "? (a member " \
                                            "named like a hook must be one; see bentos/driver/hook_check.hpp)");
    BENTOS_DETAIL_NEAR_MISSES(BENTOS_DETAIL_X)
#undef BENTOS_DETAIL_X
  }
  return true;
}

// Another pattern's hooks and the C field names, per pattern (the message
// has to be one string literal, so each pattern has its own function).
#define BENTOS_DETAIL_FOREIGN_CHECK(KEY)                                                          \
  template <class D>                                                                              \
  constexpr bool no_foreign_##KEY() {                                                             \
    if constexpr (probeable<D> && BENTOS_DETAIL_NAME_CHECKS) {                                    \
      using P = probe<D>;                                                                         \
      BENTOS_DETAIL_FOREIGN_##KEY(BENTOS_DETAIL_FOREIGN_X_##KEY)                                  \
    }                                                                                             \
    return true;                                                                                  \
  }
#define BENTOS_DETAIL_FOREIGN_X_RAW(name, what) \
  static_assert(requires { &P::name; }, #name " is " what "; " BENTOS_DETAIL_ACCEPTS_RAW);
#define BENTOS_DETAIL_FOREIGN_X_STREAM(name, what) \
  static_assert(requires { &P::name; }, #name " is " what "; " BENTOS_DETAIL_ACCEPTS_STREAM);
#define BENTOS_DETAIL_FOREIGN_X_WRITE_READ(name, what) \
  static_assert(requires { &P::name; }, #name " is " what "; " BENTOS_DETAIL_ACCEPTS_WRITE_READ);
#define BENTOS_DETAIL_FOREIGN_X_EVENT_STREAM(name, what) \
  static_assert(requires { &P::name; }, #name " is " what "; " BENTOS_DETAIL_ACCEPTS_EVENT_STREAM);
#define BENTOS_DETAIL_FOREIGN_X_CONFIGURED_STREAM(name, what) \
  static_assert(requires { &P::name; }, #name " is " what "; " BENTOS_DETAIL_ACCEPTS_CONFIGURED_STREAM);
BENTOS_DETAIL_FOREIGN_CHECK(RAW)
BENTOS_DETAIL_FOREIGN_CHECK(STREAM)
BENTOS_DETAIL_FOREIGN_CHECK(WRITE_READ)
BENTOS_DETAIL_FOREIGN_CHECK(EVENT_STREAM)
BENTOS_DETAIL_FOREIGN_CHECK(CONFIGURED_STREAM)

// How many of the pattern's own hook names D has (any signature, any
// access); 0 for a class that cannot be probed.
#define BENTOS_DETAIL_OWN_COUNT(KEY)                       \
  template <class D>                                       \
  constexpr int own_hooks_##KEY() {                        \
    int n = 0;                                             \
    BENTOS_DETAIL_HOOKS_##KEY(BENTOS_DETAIL_OWN_COUNT_X)   \
    return n;                                              \
  }
#define BENTOS_DETAIL_OWN_COUNT_X(name) n += BENTOS_DETAIL_NAMED(D, name) ? 1 : 0;
BENTOS_DETAIL_OWN_COUNT(RAW)
BENTOS_DETAIL_OWN_COUNT(STREAM)
BENTOS_DETAIL_OWN_COUNT(WRITE_READ)
BENTOS_DETAIL_OWN_COUNT(EVENT_STREAM)
BENTOS_DETAIL_OWN_COUNT(CONFIGURED_STREAM)

}  // namespace bentos::detail::hook_check

// Every check by name for pattern KEY on class D; true, or a
// static_assert fails. Each adapter's `checked` member runs it, and
// make_descriptor asserts `checked`.
#define BENTOS_DETAIL_NAME_CHECKS_FOR(KEY, D) \
  (::bentos::detail::hook_check::no_near_miss<D>() && ::bentos::detail::hook_check::no_foreign_##KEY<D>())
