#include "session/executor.h"

#include <cerrno>
#include <exception>
#include <string>

#include "util/log.h"

namespace bentos::session {

int64_t run_plugin_callback(const std::function<int64_t()>& work) noexcept {
  try {
    return work();
  } catch (const std::exception& e) {
    log::error("plugin", std::string("a callback threw a C++ exception (") + e.what() +
                             "); it never crosses the C ABI: answering EIO");
  } catch (...) {
    log::error("plugin", "a callback threw a non-standard C++ exception; answering EIO");
  }
  return -EIO;
}

WorkerExecutor::WorkerExecutor(unsigned threads, std::shared_ptr<plugin::LoopInbox> inbox)
    : inbox_(std::move(inbox)) {
  if (threads == 0) threads = 1;
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { worker_loop(); });
}

WorkerExecutor::~WorkerExecutor() { close(); }

void WorkerExecutor::submit(StrandKey strand, std::function<int64_t()> work, std::function<void(int64_t)> done) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closing_) return;
    Strand& s = strands_[strand];
    s.tasks.push_back({std::move(work), std::move(done)});
    if (s.running || s.tasks.size() > 1) return;  // already queued or running
    ready_.push_back(strand);
  }
  wake_.notify_one();
}

void WorkerExecutor::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return closing_ || !ready_.empty(); });
    if (ready_.empty()) return;  // closing, nothing left to start
    const StrandKey key = ready_.front();
    ready_.pop_front();
    Strand& strand = strands_[key];
    strand.running = true;
    Task task = std::move(strand.tasks.front());
    strand.tasks.pop_front();
    lock.unlock();
    const int64_t result = run_plugin_callback(task.work);
    // The answer goes back to the loop; the inbox keeps submission order.
    std::weak_ptr<int> alive = alive_;
    inbox_->post([alive, done = std::move(task.done), result] {
      if (alive.lock()) done(result);
    });
    lock.lock();
    Strand& again = strands_[key];
    again.running = false;
    if (again.tasks.empty()) {
      strands_.erase(key);
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
    closing_ = true;
    // Work not yet started is dropped: its device is going away.
    for (auto it = ready_.begin(); it != ready_.end(); ++it) strands_.erase(*it);
    ready_.clear();
  }
  wake_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  alive_.reset();
}

}  // namespace bentos::session
