// Process-wide tables that turn the ABI's opaque handles (bentos_session*,
// bentos_cycle*) into host objects; bentos_call*, made once per request,
// has its own slot table (plugin/call_table.h) with the same guarantees.
//
// A handle is not a pointer to host memory: it is a 64-bit id, never reused,
// stored in the pointer. Completing a call twice, after its timeout, or after
// its connection closed therefore finds nothing and is reported, instead of
// touching freed memory. The table is process-wide (not per Host) only
// because the C services receive nothing but the handle; ids are unique
// across Hosts, so several Hosts in one process (tests) never mix.
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace bentos::plugin {

uint64_t next_handle_id();

template <typename Entry>
class HandleTable {
 public:
  uint64_t add(std::shared_ptr<Entry> entry) {
    const uint64_t id = next_handle_id();
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.emplace(id, std::move(entry));
    return id;
  }
  // Removes and returns the entry (nullptr if absent): exactly one caller
  // wins, which is what makes completion exactly-once.
  std::shared_ptr<Entry> take(uint64_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return nullptr;
    auto entry = std::move(it->second);
    entries_.erase(it);
    return entry;
  }
  std::shared_ptr<Entry> find(uint64_t id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(id);
    return it == entries_.end() ? nullptr : it->second;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, std::shared_ptr<Entry>> entries_;
};

template <typename Handle>
Handle* handle_from_id(uint64_t id) {
  return reinterpret_cast<Handle*>(static_cast<uintptr_t>(id));
}
template <typename Handle>
uint64_t id_from_handle(const Handle* h) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(h));
}

}  // namespace bentos::plugin
