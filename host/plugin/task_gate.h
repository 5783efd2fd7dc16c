// When the tasks a plugin instance posted may run (see TaskGate).
#pragma once

#include <atomic>
#include <functional>
#include <vector>

namespace bentos::plugin {

// Whether the tasks an instance posted (post(), and timer starts or stops
// asked for off the loop) may run. Before the instance is open they are
// held, so a create() running off the loop (a reload) never has its timer
// fire or its task run before it returned; once it is open they run; once
// it is closed (destroy() begins, or the host gave up on a create()) they
// are dropped.
//
// Shared by the instance and the tasks in the inbox. alive() is any-thread;
// run(), open() and close() are loop-thread only.
class TaskGate {
 public:
  bool alive() const { return state_.load() != State::closed; }
  // Runs `task` now, holds it until open(), or drops it once closed.
  void run(std::function<void()> task) {
    if (state_.load() == State::open) return task();
    if (state_.load() == State::held) held_.push_back(std::move(task));
  }
  void open() {
    if (state_.load() != State::held) return;
    state_.store(State::open);
    // A held task may post more; those queue in the inbox behind these.
    auto held = std::move(held_);
    held_.clear();
    for (auto& task : held) {
      if (state_.load() != State::open) break;  // a task may have ended the instance
      task();
    }
  }
  void close() {
    state_.store(State::closed);
    held_.clear();
  }

 private:
  enum class State { held, open, closed };
  std::atomic<State> state_{State::held};
  std::vector<std::function<void()>> held_;  // loop thread
};

}  // namespace bentos::plugin
