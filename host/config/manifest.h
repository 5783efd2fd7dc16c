// Device manifests: `{"devices": [ {device}, ... ]}` files, merged in order,
// validated strictly. Every error names the file, the device and the key, and
// says what was expected (architecture.md, "Configuration").
//
// Plain functions over value types; no thread affinity.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
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
};

// What an empty read does where a pattern lets the device choose.
enum class ReadWhenEmpty { pattern_default, eof, block };

struct DeviceSpec {
  std::string name;         // [a-z0-9][a-z0-9._-]*, unique across all files
  std::string plugin;       // as written in the manifest
  std::string socket;       // endpoint URI: unix:///abs.sock or tcp://host:port
  std::string device_path;  // informational: what bentosd attaches
  std::string config_json = "null";  // the device's "config", re-serialized
  std::optional<uint32_t> socket_mode;   // e.g. 0660
  std::optional<std::string> socket_group;
  std::vector<uint32_t> allowed_uids;    // empty = anyone who can connect
  std::vector<uint32_t> allowed_gids;
  ReadWhenEmpty read_when_empty = ReadWhenEmpty::pattern_default;
  Limits limits;
  std::string source_file;  // the manifest that defined it
};

struct LoadResult {
  std::vector<DeviceSpec> devices;
  std::vector<std::string> errors;  // empty = valid
  bool ok() const { return errors.empty(); }
};

// Parses one manifest text. `file` is used in messages; `socket_dir` gives
// the default socket `<socket_dir>/<name>.sock`.
LoadResult parse_manifest(const std::string& text, const std::string& file,
                          const std::string& socket_dir);

// Loads manifests from `paths`: each a file, or a directory whose *.json
// files are read in name order. A missing path is an error. Devices are
// merged; a duplicate name (or socket) is an error naming both files.
LoadResult load_manifests(const std::vector<std::string>& paths,
                          const std::string& socket_dir);

// Finds a plugin file: a value containing '/' is a path (relative ones are
// taken from `manifest_dir`); a bare name is looked up in `dirs` in order,
// as given and then with ".so" appended. Returns the path, or nullopt with
// `error` saying where it looked.
std::optional<std::string> find_plugin(const std::string& plugin,
                                       const std::string& manifest_dir,
                                       const std::vector<std::string>& dirs,
                                       std::string& error);

}  // namespace bentos::config
