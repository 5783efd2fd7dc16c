// A loaded plugin file: dlopen, the entry function, ABI version checks, and
// zero-extended copies of its descriptor and ops table (driver.h rules).
//
// Owned by the Host (shared by every device that uses the same file).
// Loaded and destroyed on the loop thread; read-only afterwards, so any
// thread may read the descriptor and ops.
#pragma once

#include <memory>
#include <string>

#include "bentos/driver.h"
#include "patterns/pattern.h"

namespace bentos::plugin {

class PluginLibrary {
 public:
  // Loads `path` with RTLD_NOW | RTLD_LOCAL and checks it. On failure
  // returns nullptr and sets `error` to a sentence naming the file and, for
  // version refusals, both ABI versions.
  static std::shared_ptr<PluginLibrary> load(const std::string& path, std::string& error);
  ~PluginLibrary();
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const std::string& path() const { return path_; }
  const bentos_driver& descriptor() const { return descriptor_; }
  patterns::Pattern pattern() const { return static_cast<patterns::Pattern>(descriptor_.pattern); }
  std::string name() const { return descriptor_.name ? descriptor_.name : "?"; }
  std::string version() const { return descriptor_.version ? descriptor_.version : "?"; }

  // The pattern's ops table, zero-extended; only the one matching
  // pattern() is filled.
  const bentos_raw_ops& raw_ops() const { return raw_; }
  const bentos_stream_ops& stream_ops() const { return stream_; }
  const bentos_write_read_ops& write_read_ops() const { return write_read_; }
  const bentos_event_stream_ops& event_stream_ops() const { return event_stream_; }
  const bentos_configured_stream_ops& configured_stream_ops() const { return configured_; }

 private:
  PluginLibrary() = default;
  bool check_and_copy(const bentos_driver* d, std::string& error);
  bool copy_ops(std::string& error);

  std::string path_;
  void* dl_ = nullptr;
  bentos_driver descriptor_{};
  bentos_raw_ops raw_{};
  bentos_stream_ops stream_{};
  bentos_write_read_ops write_read_{};
  bentos_event_stream_ops event_stream_{};
  bentos_configured_stream_ops configured_{};
};

}  // namespace bentos::plugin
