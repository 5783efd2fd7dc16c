// Device manifests: `{"devices": [ {device}, ... ]}` files, merged in order,
// validated strictly. Every error names the file, the device and the key, and
// says what was expected (architecture.md, "Configuration").
//
// Plain functions over value types; no thread affinity.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bentos::config {

// Per-device limits (behavior.md §1, "Limits and their defaults").
struct Limits {
  uint64_t max_frame_bytes = 16ull << 20;
  uint64_t max_request_bytes = 8ull << 20;
  uint64_t max_buffered_bytes = 8ull << 20;
  uint64_t max_events = 256;
  uint64_t max_sessions = 262144;  // per connection
  uint64_t request_timeout_ms = 0; // 0 = none

  bool operator==(const Limits&) const = default;
};

// Where a device's plugin runs: in the host's own process, or in a child
// process of its own that the host supervises (docs/operations.md,
// "Fault isolation"). `unset` only between parsing and the end of
// load_manifests, which applies the host-wide default.
enum class IsolationMode { unset, in_process, process };

// The child process of an isolated device: who it runs as, what it may
// use, how long its loop may stay silent. Zero limits mean "inherited".
struct Isolation {
  IsolationMode mode = IsolationMode::unset;
  std::optional<uint64_t> watchdog_ms;  // default kDefaultWatchdogMs
  std::string user;                     // a name or a numeric uid; "" = the host's
  std::string group;                    // a name or a numeric gid; "" = the user's
  uint64_t memory_bytes = 0;            // RLIMIT_AS
  uint64_t open_files = 0;              // RLIMIT_NOFILE
  uint64_t cpu_seconds = 0;             // RLIMIT_CPU

  static constexpr uint64_t kDefaultWatchdogMs = 10000;
  uint64_t watchdog() const { return watchdog_ms.value_or(kDefaultWatchdogMs); }
  // True when a key that only an isolated device can use was given.
  bool has_process_only_keys() const {
    return watchdog_ms || !user.empty() || !group.empty() || memory_bytes || open_files || cpu_seconds;
  }
  bool operator==(const Isolation&) const = default;
};

const char* isolation_name(IsolationMode mode);

// What an empty read does where a pattern lets the device choose.
enum class ReadWhenEmpty { pattern_default, eof, block };

struct DeviceSpec {
  // [a-z0-9][a-z0-9._-]*, or several such segments joined by '/' (tools that
  // mount devices as files turn the segments into folders); at most 64
  // characters; unique across all files.
  std::string name;
  std::string plugin;       // as written in the manifest
  std::string socket;       // endpoint URI: unix:///abs.sock or tcp://host:port
  std::string device_path;  // informational: what bentosd attaches
  std::string config_json = "null";  // the device's "config", re-serialized
  std::optional<uint32_t> socket_mode;   // 0660 for a unix socket unless the manifest says otherwise
  std::optional<std::string> socket_group;
  std::vector<uint32_t> allowed_uids;    // empty = anyone who can connect
  std::vector<uint32_t> allowed_gids;
  ReadWhenEmpty read_when_empty = ReadWhenEmpty::pattern_default;
  Limits limits;
  // Where the device's plugin callbacks run (loop/executor.h): with
  // "threads": N (1..64) or "executor": "worker", on a WorkerExecutor of N
  // host threads (4 when only "executor" is given), one strand per session;
  // with neither (0, "loop"), inline on the loop thread. The plugin's
  // threading hint BENTOS_THREADING_WORKER also selects workers.
  uint32_t threads = 0;
  std::string executor = "loop";
  Isolation isolation;
  std::string source_file;  // the manifest that defined it

  // A reload keeps a running device only when nothing about it changed.
  bool operator==(const DeviceSpec&) const = default;
};

// Host-wide settings: the optional top-level "host" object of a manifest,
// e.g. {"host": {"max_connections": 4096}, "devices": [...]}.
struct HostSettings {
  uint64_t max_connections = 1024;  // behavior.md §1 limits
  std::string max_connections_file; // the manifest that set it, if any
  // How long a plugin's create() or destroy() may take during a reload
  // before the host gives up on it and reports the device failed
  // ("lifecycle_timeout_ms", 100 to 600000).
  uint64_t lifecycle_timeout_ms = 10000;
  std::string lifecycle_timeout_ms_file;  // the manifest that set it, if any
  // The isolation of devices whose entry does not say ("isolation").
  IsolationMode isolation = IsolationMode::in_process;
  std::string isolation_file;  // the manifest that set it, if any
};

struct LoadResult {
  std::vector<DeviceSpec> devices;
  HostSettings host;
  std::vector<std::string> errors;  // empty = valid
  bool ok() const { return errors.empty(); }
};

// True when `name` is a valid device name (see DeviceSpec::name).
bool is_valid_device_name(std::string_view name);

// The socket a device gets when its manifest entry names none:
// unix://<socket_dir>/<name>.sock, with each '/' of a nested name replaced
// by '-' so that every socket sits directly in `socket_dir`.
std::string default_socket_uri(const std::string& socket_dir, const std::string& name);

// What load_manifests does with a path that does not exist. The daemon
// passes `ignore` for its built-in default paths (Options::config_is_default)
// so that a host with no manifest yet starts with no devices.
enum class MissingPaths { error, ignore };

// Manifest files larger than this are refused unread.
inline constexpr uint64_t kMaxManifestBytes = 16ull << 20;

// Parses one manifest text. `file` is used in messages; `socket_dir` gives
// the default socket `<socket_dir>/<name>.sock`.
LoadResult parse_manifest(const std::string& text, const std::string& file,
                          const std::string& socket_dir);

// Loads manifests from `paths`: each a file, or a directory whose *.json
// files are read in name order (byte order; other files, dot files and
// subdirectories are skipped). A missing path is an error unless `missing`
// is MissingPaths::ignore. Devices are merged in order; a duplicate name (or
// socket) is an error naming both files. All errors of all files are
// collected, except that a JSON syntax error ends the checks of that file.
LoadResult load_manifests(const std::vector<std::string>& paths,
                          const std::string& socket_dir,
                          MissingPaths missing = MissingPaths::error);

// Finds a plugin file: a value containing '/' is a path (relative ones are
// taken from `manifest_dir`); a bare name is looked up in `dirs` in order,
// as given and then with ".so" appended. Returns the path, or nullopt with
// `error` saying where it looked.
std::optional<std::string> find_plugin(const std::string& plugin,
                                       const std::string& manifest_dir,
                                       const std::vector<std::string>& dirs,
                                       std::string& error);

}  // namespace bentos::config
