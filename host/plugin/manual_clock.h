// A clock that moves only when told: plugin timers scheduled on it fire in
// advance(), in due order (ties in the order they were scheduled), with no
// dependence on wall time. The seam the test harness (bentos/testing.hpp)
// gives TimerSet, so `advance(250ms)` fires exactly what is due.
//
// Owned by whoever owns the loop (the harness); loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>
#include <utility>

namespace bentos::plugin {

class ManualClock {
 public:
  using Fire = std::function<void()>;

  uint64_t now_ms() const { return now_ms_; }

  // Runs `fire` once, `delay_ms` from now. Returns an id for cancel().
  uint64_t schedule(uint64_t delay_ms, Fire fire) {
    const uint64_t id = next_id_++;
    const Key key{now_ms_ + delay_ms, id};
    due_.emplace(key, std::move(fire));
    keys_.emplace(id, key);
    return id;
  }
  void cancel(uint64_t id) {
    auto it = keys_.find(id);
    if (it == keys_.end()) return;
    due_.erase(it->second);
    keys_.erase(it);
  }

  // Moves time forward by `span_ms`, firing each entry as time reaches it
  // (an entry scheduled by a firing one fires too when it falls inside the
  // span). `after_each` runs after every firing (the harness turns the loop
  // there, so what a timer posted is delivered before the next one fires).
  void advance(uint64_t span_ms, const std::function<void()>& after_each = {}) {
    const uint64_t target = now_ms_ + span_ms;
    while (!due_.empty() && due_.begin()->first.first <= target) {
      auto first = due_.begin();
      now_ms_ = first->first.first;
      Fire fire = std::move(first->second);
      keys_.erase(first->first.second);
      due_.erase(first);
      fire();
      if (after_each) after_each();
    }
    now_ms_ = target;
  }

  size_t pending() const { return due_.size(); }

 private:
  using Key = std::pair<uint64_t, uint64_t>;  // due time, id (schedule order)
  uint64_t now_ms_ = 0;
  uint64_t next_id_ = 1;
  std::map<Key, Fire> due_;
  std::unordered_map<uint64_t, Key> keys_;
};

}  // namespace bentos::plugin
