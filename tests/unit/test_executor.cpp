// WorkerExecutor: callbacks of one strand never overlap and run in
// submission order; strands run in parallel; results come back on the loop
// thread, in order per strand. LoopExecutor runs inline.
#include <doctest/doctest.h>

#include <uv.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include "session/executor.h"

using bentos::session::LoopExecutor;
using bentos::session::StrandKey;
using bentos::session::WorkerExecutor;

TEST_CASE("LoopExecutor runs the work and its done inline") {
  LoopExecutor exec;
  std::vector<int> order;
  exec.submit(nullptr, [&] { order.push_back(1); return int64_t{7}; }, [&](int64_t r) { order.push_back(static_cast<int>(r)); });
  CHECK(order == std::vector<int>{1, 7});
  CHECK(exec.inline_on_loop());
}

TEST_CASE("WorkerExecutor: per-strand order and exclusion, parallel strands, results on the loop thread") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto inbox = std::make_shared<bentos::plugin::LoopInbox>(&loop);
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
            key,
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
  auto inbox = std::make_shared<bentos::plugin::LoopInbox>(&loop);
  std::atomic<bool> finished{false};
  bool done_ran = false;
  {
    WorkerExecutor exec(1, inbox);
    int key = 0;
    exec.submit(&key, [&]() -> int64_t {
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
  auto inbox = std::make_shared<bentos::plugin::LoopInbox>(&loop);
  std::atomic<int> ran{0};
  int key = 0;
  {
    WorkerExecutor exec(1, inbox);
    for (int i = 0; i < 3; ++i) {
      exec.submit(&key, [&]() -> int64_t {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ++ran;
        return 0;
      }, [](int64_t) {});
    }
    exec.close();
    CHECK(ran.load() == 3);
    exec.submit(&key, [&]() -> int64_t { ++ran; return 0; }, [](int64_t) {});
    CHECK(ran.load() == 3);
  }
  inbox->close();
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
