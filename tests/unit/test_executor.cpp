// WorkerExecutor: callbacks of one strand never overlap and run in
// submission order; strands run in parallel; results come back on the loop
// thread, in order per strand. LoopExecutor runs inline. SlowCallbackLog:
// which slow loop callbacks are logged, and how the rate limit works.
#include <doctest/doctest.h>

#include <uv.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include "loop/executor.h"
#include "loop/slow_callbacks.h"

using bentos::loop::LoopExecutor;
using bentos::loop::SlowCallbackLog;
using bentos::loop::StrandKey;
using bentos::loop::WorkerExecutor;

TEST_CASE("LoopExecutor runs the work and its done inline") {
  LoopExecutor exec;
  std::vector<int> order;
  exec.submit(nullptr, "op", [&] { order.push_back(1); return int64_t{7}; }, [&](int64_t r) { order.push_back(static_cast<int>(r)); });
  CHECK(order == std::vector<int>{1, 7});
  CHECK(exec.inline_on_loop());
}

TEST_CASE("WorkerExecutor: per-strand order and exclusion, parallel strands, results on the loop thread") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto inbox = std::make_shared<bentos::loop::LoopInbox>(&loop);
  constexpr int kStrands = 8;
  constexpr int kPerStrand = 200;
  int keys[kStrands];
  std::atomic<int> running[kStrands] = {};
  std::atomic<bool> overlap{false};
  std::atomic<int> max_parallel{0}, now_parallel{0};
  std::map<int, std::vector<int>> ran;  // per strand, written only by that strand's (exclusive) work
  std::map<int, std::vector<int>> done_order;
  const auto loop_thread = std::this_thread::get_id();
  bool done_off_loop = false;
  int completed = 0;
  for (int s = 0; s < kStrands; ++s) {
    ran[s];  // created up front: workers then only touch their own vector
    done_order[s];
  }
  {
    WorkerExecutor exec(4, inbox);
    for (int i = 0; i < kPerStrand; ++i) {
      for (int s = 0; s < kStrands; ++s) {
        const StrandKey key = &keys[s];
        exec.submit(
            key, "op",
            [&, s, i]() -> int64_t {
              if (running[s].fetch_add(1) != 0) overlap = true;
              const int p = now_parallel.fetch_add(1) + 1;
              int seen = max_parallel.load();
              while (p > seen && !max_parallel.compare_exchange_weak(seen, p)) {
              }
              ran[s].push_back(i);
              if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
              now_parallel.fetch_sub(1);
              running[s].fetch_sub(1);
              return i;
            },
            [&, s](int64_t r) {
              if (std::this_thread::get_id() != loop_thread) done_off_loop = true;
              done_order[s].push_back(static_cast<int>(r));
              if (++completed == kStrands * kPerStrand) inbox->close();
            });
      }
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    exec.close();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
  CHECK(completed == kStrands * kPerStrand);
  CHECK_FALSE(overlap.load());
  CHECK_FALSE(done_off_loop);
  CHECK(max_parallel.load() > 1);  // strands did run side by side
  std::vector<int> expected(kPerStrand);
  for (int i = 0; i < kPerStrand; ++i) expected[i] = i;
  for (int s = 0; s < kStrands; ++s) {
    CHECK(ran[s] == expected);
    CHECK(done_order[s] == expected);
  }
}

TEST_CASE("WorkerExecutor: close() waits for running work and drops results for a closed executor") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto inbox = std::make_shared<bentos::loop::LoopInbox>(&loop);
  std::atomic<bool> finished{false};
  bool done_ran = false;
  {
    WorkerExecutor exec(1, inbox);
    int key = 0;
    exec.submit(&key, "op", [&]() -> int64_t {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      finished = true;
      return 0;
    }, [&](int64_t) { done_ran = true; });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    exec.close();
    CHECK(finished.load());  // close() joined the running callback
  }
  inbox->run_pending();  // the posted result finds its executor gone
  CHECK_FALSE(done_ran);
  inbox->close();
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("WorkerExecutor: close() still runs work already queued (end hooks), then refuses new work") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto inbox = std::make_shared<bentos::loop::LoopInbox>(&loop);
  std::atomic<int> ran{0};
  int key = 0;
  {
    WorkerExecutor exec(1, inbox);
    for (int i = 0; i < 3; ++i) {
      exec.submit(&key, "op", [&]() -> int64_t {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ++ran;
        return 0;
      }, [](int64_t) {});
    }
    exec.close();
    CHECK(ran.load() == 3);
    exec.submit(&key, "op", [&]() -> int64_t { ++ran; return 0; }, [](int64_t) {});
    CHECK(ran.load() == 3);
  }
  inbox->close();
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("SlowCallbackLog: callbacks over 10 ms are reported with their op, then rate-limited for 10 s") {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  SlowCallbackLog log;
  const SlowCallbackLog::Clock::time_point t0{};
  CHECK(log.note("read", milliseconds(10), t0).empty());  // at the threshold: fine
  const std::string first = log.note("on_request", milliseconds(25), t0 + seconds(1));
  CHECK(first.find("plugin callback on_request took 25 ms on the loop thread") == 0);
  CHECK(first.find("more slow callback") == std::string::npos);
  // Within the quiet period: counted, not logged.
  CHECK(log.note("read", milliseconds(40), t0 + seconds(2)).empty());
  CHECK(log.note("write", milliseconds(300), t0 + seconds(5)).empty());
  CHECK(log.note("read", milliseconds(11), t0 + seconds(10)).empty());
  CHECK(log.note("read", milliseconds(1), t0 + seconds(12)).empty());  // fast: never counted
  // After it: one line, with the count and the slowest of those held back.
  const std::string next = log.note("poll", milliseconds(12), t0 + seconds(11) + milliseconds(1));
  CHECK(next.find("plugin callback poll took 12 ms") == 0);
  CHECK(next.find("; 3 more slow callback(s) since the last report, the slowest write at 300 ms") !=
        std::string::npos);
  CHECK(log.note("poll", milliseconds(12), t0 + seconds(12)).empty());
  const std::string third = log.note("poll", milliseconds(13), t0 + seconds(30));
  CHECK(third.find("; 1 more slow callback(s)") != std::string::npos);
}

TEST_CASE("LoopInbox: posts from the loop and from other threads all run, each thread's in order; none after close") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto inbox = std::make_shared<bentos::loop::LoopInbox>(&loop);
  std::vector<int> from_loop, from_other;
  for (int i = 0; i < 100; ++i) CHECK(inbox->post([&, i] { from_loop.push_back(i); }));
  std::thread other([&] {
    for (int i = 0; i < 100; ++i) CHECK(inbox->post([&, i] { from_other.push_back(i); }));
  });
  other.join();
  // A task posting from the loop runs in the same drain, after the others.
  CHECK(inbox->post([&] { CHECK(inbox->post([&] { from_loop.push_back(100); })); }));
  inbox->run_pending();
  std::vector<int> expected(100);
  for (int i = 0; i < 100; ++i) expected[i] = i;
  CHECK(from_other == expected);
  expected.push_back(100);
  CHECK(from_loop == expected);
  inbox->close();
  CHECK_FALSE(inbox->post([] {}));
  std::thread late([&] { CHECK_FALSE(inbox->post([] {})); });
  late.join();
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
