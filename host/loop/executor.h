// Where a device's plugin callbacks run (architecture.md, "threading").
//
// LoopExecutor runs each callback inline on the loop thread (the default:
// plugins must not block). WorkerExecutor (manifest "threads": N, or
// "executor": "worker") runs them on N host threads, so a plugin may block;
// callbacks of one strand (one session, or the device itself) run one at a
// time and in submission order, different strands in parallel. Either way
// `done` runs on the loop thread with the callback's result, in order per
// strand.
//
// Every callback is named by its op ("on_request", "read"...) so that log
// lines about it (an exception, a slow callback) say which one it was.
//
// Owned by its Device. submit() and close() are loop-thread only.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "loop/plugin_guard.h"
#include "loop/loop_inbox.h"
#include "loop/slow_callbacks.h"
#include "util/inline_function.h"

namespace bentos::loop {

using StrandKey = const void*;  // a session's address, or the device's

// A plugin callback and what follows it. Sized for the request path's
// closures, so submitting one allocates nothing.
using Work = util::InlineFunction<int64_t(), 96>;
using Done = util::InlineFunction<void(int64_t), 80>;

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `work` (the plugin callback `op`, a static string), then
  // `done(result)` on the loop thread. An empty `done` is allowed.
  virtual void submit(StrandKey strand, const char* op, Work work, Done done) = 0;
  // True when submit() runs the callback and its done before returning,
  // on the loop thread. Drivers rely on it to hand a callback views of
  // the request frame and references to their own stack.
  virtual bool inline_on_loop() const = 0;
  // Stops accepting work and waits for running callbacks to return.
  virtual void close() = 0;
};

// Every callback runs behind the device's loop::PluginGuard: a C++
// exception escaping the plugin is logged, counted, and the callback
// counts as -EIO (behavior.md §1.9). A null guard gets one of its own.
std::shared_ptr<loop::PluginGuard> guard_or_default(std::shared_ptr<loop::PluginGuard> guard);

class LoopExecutor : public Executor {
 public:
  explicit LoopExecutor(std::shared_ptr<loop::PluginGuard> guard = nullptr)
      : guard_(guard_or_default(std::move(guard))) {}
  // Runs the callback now and warns when it held the loop too long
  // (SlowCallbackLog).
  void submit(StrandKey, const char* op, Work work, Done done) override;
  bool inline_on_loop() const override { return true; }
  void close() override {}

 private:
  std::shared_ptr<loop::PluginGuard> guard_;
  SlowCallbackLog slow_;
};

class WorkerExecutor : public Executor {
 public:
  // Workers may block (that is what they are for), so their callbacks are
  // not timed.
  WorkerExecutor(unsigned threads, std::shared_ptr<loop::LoopInbox> inbox,
                 std::shared_ptr<loop::PluginGuard> guard = nullptr);
  ~WorkerExecutor() override;

  void submit(StrandKey strand, const char* op, Work work, Done done) override;
  bool inline_on_loop() const override { return false; }
  void close() override;

 private:
  struct Task {
    const char* op;
    Work work;
    Done done;
  };
  // Tasks in a vector read from `head`: unlike a deque (which allocates a
  // block every few tasks of this size), it keeps its capacity, so a
  // steady stream of requests allocates nothing here.
  struct Strand {
    std::vector<Task> tasks;
    size_t head = 0;
    bool running = false;  // a worker holds this strand's head task
    bool empty() const { return head == tasks.size(); }
    Task pop();
  };
  using Strands = std::unordered_map<StrandKey, Strand>;
  Strand& strand_for(StrandKey key);  // mutex_ held
  void retire(StrandKey key);         // mutex_ held; its tasks are done
  void worker_loop();

  std::shared_ptr<loop::LoopInbox> inbox_;
  const std::shared_ptr<loop::PluginGuard> guard_;
  // Results queued in the inbox after close() must not reach a device that
  // is gone: each holds a weak reference to this token.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::mutex mutex_;
  std::condition_variable wake_;
  Strands strands_;                                  // guarded by mutex_
  std::vector<Strands::node_type> spare_;            // guarded by mutex_: idle strands' map nodes, reused
  std::deque<StrandKey> ready_;                      // strands with work and no runner
  bool closing_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace bentos::loop
