/*
 * bentos/inference/outcomes.hpp - part of the inference subsystem (bentos/inference.hpp).
 * A session's last_metadata and last_error (inference.md §1), and how
 * RESET clears them although the C++ layer never says "RESET".
 *
 * Why generations: on RESET the host cancels the cycle (on_cancel, only if
 * one is in flight) and replaces the session's config with a fresh
 * default_config(); no callback tells the session itself. So the driver
 * stamps every default config with a new generation number (copies made
 * by config ioctls keep it), and this store remembers which generation
 * its outcomes belong to. A query or a result arriving with a newer
 * generation means a RESET happened since: the old outcomes are dropped
 * first. A result of an older generation (a call that finished just as
 * RESET came) is ignored. The outcome is exactly "RESET clears both".
 *
 * Owned jointly (shared_ptr) by the session state and by each cycle in
 * flight, so a provider thread finishing late never writes into a freed
 * session. Any thread; a mutex guards every member.
 */
#pragma once

#include "bentos/inference/types.hpp"

#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>

namespace bentos::inference {

class session_outcomes {
 public:
  struct snapshot {
    std::optional<metadata> last_metadata;
    std::optional<provider_error> last_error;
  };

  // A success; keeps last_error (a success does not clear it).
  void set_metadata(uint64_t generation, metadata m) {
    std::lock_guard lock(mutex_);
    if (adopt(generation)) last_metadata_ = std::move(m);
  }
  // A failure; keeps last_metadata (it is the last *successful* call's).
  void set_error(uint64_t generation, provider_error e) {
    std::lock_guard lock(mutex_);
    if (adopt(generation)) last_error_ = std::move(e);
  }
  // What the queries of a session whose config has `generation` see.
  snapshot read(uint64_t generation) {
    std::lock_guard lock(mutex_);
    adopt(generation);
    return {last_metadata_, last_error_};
  }

 private:
  // Moves to `generation` if it is newer (clearing the outcomes); false
  // when it is older, i.e. from before a RESET.
  bool adopt(uint64_t generation) {
    if (generation < generation_) return false;
    if (generation > generation_) {
      generation_ = generation;
      last_metadata_.reset();
      last_error_.reset();
    }
    return true;
  }

  std::mutex mutex_;
  uint64_t generation_ = 0;
  std::optional<metadata> last_metadata_;
  std::optional<provider_error> last_error_;
};

}  // namespace bentos::inference
