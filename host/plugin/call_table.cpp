#include <utility>

#include "plugin/call_table.h"

namespace bentos::plugin {

CallTable& call_table() {
  static CallTable table;
  return table;
}

uint64_t CallTable::add(PendingCall call) {
  std::lock_guard<std::mutex> lock(mutex_);
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& slot = slots_[index];
  slot.live = true;
  slot.call = std::move(call);
  ++live_;
  return id_of(index, slot.generation);
}

void CallTable::free_slot(uint32_t index) {
  Slot& slot = slots_[index];
  slot.live = false;
  slot.call = PendingCall{};
  --live_;
  // A wrapped generation would let an old handle name a new call.
  if (++slot.generation != 0) free_.push_back(index);
}

std::optional<PendingCall> CallTable::take(uint64_t id) {
  const uint64_t low = id & 0xffffffffu;
  if (low == 0) return std::nullopt;
  const auto index = static_cast<uint32_t>(low - 1);
  const auto generation = static_cast<uint32_t>(id >> 32);
  std::lock_guard<std::mutex> lock(mutex_);
  if (index >= slots_.size()) return std::nullopt;
  Slot& slot = slots_[index];
  if (!slot.live || slot.generation != generation) return std::nullopt;
  std::optional<PendingCall> call(std::move(slot.call));
  free_slot(index);
  return call;
}

std::vector<CallTable::Taken> CallTable::take_matching(const CallRoute* route, uint64_t link_id, uint64_t due_ms) {
  std::vector<Taken> taken;
  std::lock_guard<std::mutex> lock(mutex_);
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    Slot& slot = slots_[i];
    if (!slot.live || slot.call.route.get() != route) continue;
    if (link_id != 0 && slot.call.link_id != link_id) continue;
    if (due_ms != 0 && (slot.call.deadline_ms == 0 || slot.call.deadline_ms > due_ms)) continue;
    taken.push_back({id_of(i, slot.generation), std::move(slot.call)});
    free_slot(i);
  }
  return taken;
}

size_t CallTable::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return live_;
}

}  // namespace bentos::plugin
