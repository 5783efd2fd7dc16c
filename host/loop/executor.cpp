#include "loop/executor.h"

#include <cerrno>
#include <exception>
#include <string>

#include "loop/signal_stack.h"
#include "util/log.h"

namespace bentos::loop {

std::shared_ptr<loop::PluginGuard> guard_or_default(std::shared_ptr<loop::PluginGuard> guard) {
  return guard ? std::move(guard) : std::make_shared<loop::PluginGuard>("plugin");
}

void LoopExecutor::submit(StrandKey, const char* op, Work work, Done done) {
  const auto start = SlowCallbackLog::Clock::now();
  const int64_t result = guard_->run(op, work);
  const auto end = SlowCallbackLog::Clock::now();
  if (std::string line = slow_.note(op, end - start, end); !line.empty()) log::warn(guard_->device(), line);
  if (done) done(result);
}

WorkerExecutor::WorkerExecutor(unsigned threads, std::shared_ptr<loop::LoopInbox> inbox,
                               std::shared_ptr<loop::PluginGuard> guard)
    : inbox_(std::move(inbox)), guard_(guard_or_default(std::move(guard))) {
  if (threads == 0) threads = 1;
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { worker_loop(); });
}

WorkerExecutor::~WorkerExecutor() { close(); }

void WorkerExecutor::submit(StrandKey strand, const char* op, Work work, Done done) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closing_) return;
    Strand& s = strand_for(strand);
    const bool idle = s.empty() && !s.running;
    s.tasks.push_back({op, std::move(work), std::move(done)});
    if (!idle) return;  // already queued or running
    ready_.push_back(strand);
  }
  wake_.notify_one();
}

WorkerExecutor::Task WorkerExecutor::Strand::pop() {
  Task task = std::move(tasks[head++]);
  if (head == tasks.size()) {
    tasks.clear();
    head = 0;
  }
  return task;
}

WorkerExecutor::Strand& WorkerExecutor::strand_for(StrandKey key) {
  if (auto it = strands_.find(key); it != strands_.end()) return it->second;
  if (spare_.empty()) return strands_[key];
  // A node (and its task vector's capacity) from a strand that went idle:
  // a session's next request allocates nothing.
  Strands::node_type node = std::move(spare_.back());
  spare_.pop_back();
  node.key() = key;
  return strands_.insert(std::move(node)).position->second;
}

void WorkerExecutor::retire(StrandKey key) {
  // Bounded: beyond this many, idle strands are freed.
  constexpr size_t kSpareStrands = 256;
  if (spare_.size() < kSpareStrands) {
    spare_.push_back(strands_.extract(key));
  } else {
    strands_.erase(key);
  }
}

void WorkerExecutor::worker_loop() {
  const SignalStack crash_stack;  // a plugin's stack overflow is still reported
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    // Closing: a worker leaves once no strand has work queued behind a
    // running task (that work would be put back in ready_ when it is done).
    const auto queued_behind = [this] {
      for (const auto& [k, strand] : strands_) {
        if (!strand.empty()) return true;
      }
      return false;
    };
    wake_.wait(lock, [&] { return !ready_.empty() || (closing_ && !queued_behind()); });
    if (ready_.empty()) return;
    const StrandKey key = ready_.front();
    ready_.pop_front();
    Strand& strand = strands_.at(key);
    strand.running = true;
    Task task = strand.pop();
    lock.unlock();
    const int64_t result = guard_->run(task.op, task.work);
    // The answer goes back to the loop; the inbox keeps submission order.
    std::weak_ptr<int> alive = alive_;
    if (task.done) {
      inbox_->post([alive, done = std::move(task.done), result] {
        if (alive.lock()) done(result);
      });
    }
    lock.lock();
    Strand& again = strands_.at(key);
    again.running = false;
    if (again.empty()) {
      retire(key);
      if (closing_) wake_.notify_all();  // waiting workers may leave now
    } else {
      ready_.push_back(key);
      wake_.notify_one();
    }
  }
}

void WorkerExecutor::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closing_ && threads_.empty()) return;
    // New work is refused from here on; work already queued (the end hooks
    // a stopping device queues: session_end, release, config_free...) still
    // runs, because the ABI promises it, before the workers exit.
    closing_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  alive_.reset();
}

}  // namespace bentos::loop
