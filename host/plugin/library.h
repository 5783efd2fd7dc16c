// A loaded plugin file: dlopen, the entry function, ABI version checks, and
// zero-extended copies of its descriptor and ops table (driver.h rules).
//
// Owned by the Host (shared by every device that uses the same file).
// Loaded and destroyed on the loop thread; read-only afterwards, so any
// thread may read the descriptor and ops.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "bentos/driver.h"
#include "patterns/pattern.h"

namespace bentos::plugin {

// What tells one version of a file from another: a replaced file (new
// inode, as `install` or a package upgrade leaves it) or one rewritten in
// place (new size or mtime).
struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};

class PluginLibrary {
 public:
  // Loads `path` with RTLD_NOW | RTLD_LOCAL and checks it. On failure
  // returns nullptr and sets `error` to a sentence naming the file and, for
  // version refusals, both ABI versions.
  //
  // dlopen returns the copy already mapped for a path, and a library that
  // cannot be unloaded (built with -z nodelete, or exporting unique C++
  // symbols) stays mapped after its last dlclose. So when an earlier copy
  // of `path` is still resident, the file is loaded from a private
  // snapshot (a memfd) instead, and a replaced plugin really runs its new
  // code after a reload.
  static std::shared_ptr<PluginLibrary> load(const std::string& path, std::string& error);
  // A driver linked into the running program (a test binary holding its
  // own driver class): `entry` is its bentos_driver_entry_v1. The same
  // checks as load(); `label` stands for the path in messages. Nothing is
  // dlopened, so file_replaced() is meaningless for it.
  static std::shared_ptr<PluginLibrary> from_entry(bentos_driver_entry_fn entry, const std::string& label,
                                                   std::string& error);
  ~PluginLibrary();
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const std::string& path() const { return path_; }
  // True when the file at path() is no longer the one loaded (replaced,
  // rewritten or gone), so devices using it must restart to pick it up.
  bool file_replaced() const;
  // Whether this copy was loaded from a private snapshot (see load()).
  bool from_snapshot() const { return snapshot_fd_ >= 0; }
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

  bool open_snapshot(int file_fd, std::string& error);

  std::string path_;
  FileIdentity identity_;
  void* dl_ = nullptr;
  int snapshot_fd_ = -1;  // the memfd a snapshot was loaded from, or -1
  bentos_driver descriptor_{};
  bentos_raw_ops raw_{};
  bentos_stream_ops stream_{};
  bentos_write_read_ops write_read_{};
  bentos_event_stream_ops event_stream_{};
  bentos_configured_stream_ops configured_{};
};

}  // namespace bentos::plugin
