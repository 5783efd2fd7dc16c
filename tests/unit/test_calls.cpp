// The call path of a device: plugin::CallTable hands out each call exactly
// once and never lets a stale handle name a newer call in a reused slot;
// plugin::CallTracker delivers answers on the loop thread, times calls
// out, forgets a closed connection's calls and drops everything once
// closed.
#include <doctest/doctest.h>

#include <uv.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "plugin/call_table.h"
#include "plugin/handle_table.h"
#include "plugin/call_tracker.h"

using bentos::patterns::Completion;
using bentos::plugin::call_table;
using bentos::plugin::CallRoute;
using bentos::plugin::PendingCall;
using bentos::plugin::CallTracker;

namespace {

PendingCall call_for(const std::shared_ptr<CallRoute>& route, uint64_t link_id, uint64_t deadline_ms = 0) {
  PendingCall c;
  c.route = route;
  c.link_id = link_id;
  c.deadline_ms = deadline_ms;
  return c;
}

// A loop with its inbox, the way a Host owns them.
struct Loop {
  Loop() {
    uv_loop_init(&loop);
    inbox = std::make_shared<bentos::loop::LoopInbox>(&loop);
  }
  ~Loop() {
    inbox->close();
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
  uv_loop_t loop;
  std::shared_ptr<bentos::loop::LoopInbox> inbox;
};

}  // namespace

TEST_CASE("CallTable: a call is taken once; a reused slot gets a new handle, and the old one finds nothing") {
  auto route = std::make_shared<CallRoute>();
  const uint64_t first = call_table().add(call_for(route, 1));
  CHECK(call_table().take(first).has_value());
  CHECK_FALSE(call_table().take(first).has_value());
  // The slot is free again: the next call takes it, under another handle.
  const uint64_t second = call_table().add(call_for(route, 2));
  CHECK((second & 0xffffffffu) == (first & 0xffffffffu));  // same slot
  CHECK(second != first);
  CHECK_FALSE(call_table().take(first).has_value());
  auto taken = call_table().take(second);
  REQUIRE(taken.has_value());
  CHECK(taken->link_id == 2);
  // Handles no slot ever had.
  CHECK_FALSE(call_table().take(0).has_value());
  CHECK_FALSE(call_table().take(uint64_t{1} << 31).has_value());
  CHECK_FALSE(call_table().take(~uint64_t{0}).has_value());
}

TEST_CASE("CallTable::take_matching takes one route's calls by link or by deadline, and nothing else") {
  auto mine = std::make_shared<CallRoute>();
  auto other = std::make_shared<CallRoute>();
  const uint64_t a = call_table().add(call_for(mine, 1, 100));
  const uint64_t b = call_table().add(call_for(mine, 2, 300));
  const uint64_t c = call_table().add(call_for(other, 1, 100));
  const uint64_t d = call_table().add(call_for(mine, 0));  // no deadline, no link
  auto by_link = call_table().take_matching(mine.get(), 1, 0);
  REQUIRE(by_link.size() == 1);
  CHECK(by_link[0].id == a);
  auto due = call_table().take_matching(mine.get(), 0, 200);
  CHECK(due.empty());  // b is due at 300, d never
  due = call_table().take_matching(mine.get(), 0, 300);
  REQUIRE(due.size() == 1);
  CHECK(due[0].id == b);
  auto rest = call_table().take_matching(mine.get(), 0, 0);
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].id == d);
  CHECK(call_table().take(c).has_value());  // the other route's call was never touched
}

TEST_CASE("CallTable: threads racing to complete calls take each exactly once") {
  auto route = std::make_shared<CallRoute>();
  constexpr int kCalls = 20000;
  std::vector<uint64_t> ids;
  for (int i = 0; i < kCalls; ++i) ids.push_back(call_table().add(call_for(route, 1)));
  std::atomic<int> taken{0};
  std::vector<std::thread> racers;
  for (int t = 0; t < 4; ++t) {
    racers.emplace_back([&] {
      for (uint64_t id : ids) {
        if (call_table().take(id)) ++taken;
      }
    });
  }
  // New calls keep reusing the freed slots meanwhile.
  for (int i = 0; i < kCalls; ++i) call_table().take(call_table().add(call_for(route, 2)));
  for (auto& t : racers) t.join();
  CHECK(taken.load() == kCalls);
  CHECK(call_table().take_matching(route.get(), 0, 0).empty());
}

TEST_CASE("CallTracker: an answer is delivered once, on the loop, and a second one is stale") {
  Loop l;
  auto tracker = std::make_shared<CallTracker>(&l.loop, l.inbox, "dev", 0);
  std::vector<std::string> got;
  bentos_call* call = tracker->start(7, [&](Completion&& c) { got.push_back(c.data); });
  CHECK(tracker->outstanding() == 1);
  std::thread plugin([&] {
    CHECK(bentos::plugin::complete_call(call, Completion::bytes("one")) == 0);
    CHECK(bentos::plugin::complete_call(call, Completion::bytes("two")) == -ESTALE);
  });
  plugin.join();
  CHECK(got.empty());  // not before the loop runs
  l.inbox->run_pending();
  CHECK(got == std::vector<std::string>{"one"});
  CHECK(tracker->outstanding() == 0);
  tracker->close();
}

TEST_CASE("CallTracker::returned answers a negative return, once, and ignores the rest") {
  Loop l;
  auto tracker = std::make_shared<CallTracker>(&l.loop, l.inbox, "dev", 0);
  std::vector<int> errs;
  bentos_call* call = tracker->start(1, [&](Completion&& c) { errs.push_back(c.err); });
  tracker->returned(call, 0, "on_request");  // accepted: the answer comes later
  CHECK(errs.empty());
  tracker->returned(call, -EPERM, "on_request");
  CHECK(errs == std::vector<int>{EPERM});
  tracker->returned(call, -EIO, "on_request");  // already answered: logged, ignored
  CHECK(errs == std::vector<int>{EPERM});
  bentos_call* absurd = tracker->start(1, [&](Completion&& c) { errs.push_back(c.err); });
  tracker->returned(absurd, -100000, "on_request");
  CHECK(errs == std::vector<int>{EPERM, EIO});
  CHECK(tracker->outstanding() == 0);
}

TEST_CASE("CallTracker::forget_link drops that connection's calls only") {
  Loop l;
  auto tracker = std::make_shared<CallTracker>(&l.loop, l.inbox, "dev", 0);
  int delivered = 0;
  bentos_call* gone = tracker->start(1, [&](Completion&&) { ++delivered; });
  bentos_call* kept = tracker->start(2, [&](Completion&&) { ++delivered; });
  bentos_call* unlinked = tracker->start(0, [&](Completion&&) { ++delivered; });
  tracker->forget_link(1);
  CHECK(tracker->outstanding() == 2);
  CHECK(bentos::plugin::complete_call(gone, Completion{}) == -ESTALE);
  CHECK(bentos::plugin::complete_call(kept, Completion{}) == 0);
  CHECK(bentos::plugin::complete_call(unlinked, Completion{}) == 0);
  l.inbox->run_pending();
  CHECK(delivered == 2);
  CHECK(tracker->outstanding() == 0);
}

TEST_CASE("CallTracker times a call out with ETIMEDOUT, and its late answer is stale") {
  Loop l;
  auto tracker = std::make_shared<CallTracker>(&l.loop, l.inbox, "dev", 20);
  std::vector<int> errs;
  bentos_call* call = tracker->start(1, [&](Completion&& c) {
    errs.push_back(c.err);
    uv_stop(&l.loop);
  });
  uv_run(&l.loop, UV_RUN_DEFAULT);  // until the timeout answers
  CHECK(errs == std::vector<int>{ETIMEDOUT});
  CHECK(tracker->timeouts() == 1);
  CHECK(tracker->outstanding() == 0);
  CHECK(bentos::plugin::complete_call(call, Completion{}) == -ESTALE);
  tracker->close();
}

TEST_CASE("CallTracker::close drops calls in flight and answers already queued") {
  Loop l;
  auto tracker = std::make_shared<CallTracker>(&l.loop, l.inbox, "dev", 1000);
  int delivered = 0;
  bentos_call* queued = tracker->start(1, [&](Completion&&) { ++delivered; });
  bentos_call* pending = tracker->start(1, [&](Completion&&) { ++delivered; });
  CHECK(bentos::plugin::complete_call(queued, Completion{}) == 0);  // now waits in the inbox
  tracker->close();
  l.inbox->run_pending();
  CHECK(delivered == 0);
  CHECK(bentos::plugin::complete_call(pending, Completion{}) == -ESTALE);
  CHECK(tracker->outstanding() == 0);
}
