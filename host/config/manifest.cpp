// Manifest files: JSON syntax, the top-level object, merging devices across
// files, and finding plugin files. The checks of one device entry live in
// manifest_device.cpp.
#include "config/manifest.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

#include "config/manifest_device.h"
#include "net/endpoint.h"

namespace bentos::config {

namespace {

namespace fs = std::filesystem;
using detail::Json;

// ---- JSON syntax -------------------------------------------------------------

// 1-based line and column (in bytes) of the byte at `offset`.
std::pair<size_t, size_t> line_column(const std::string& text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, offset - line_start + 1};
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line
// 1, column 2: syntax error ..."; we keep the part after the position, since
// we print our own.
std::string parser_message(const std::string& what) {
  const size_t bracket = what.find("] ");
  std::string message = bracket == std::string::npos ? what : what.substr(bracket + 2);
  if (message.rfind("parse error", 0) == 0) {
    const size_t colon = message.find(": ");
    if (colon != std::string::npos) message = message.substr(colon + 2);
  }
  return message;
}

// Follows the parser through the document to find keys given twice in one
// object, which JSON parsers (nlohmann included) silently collapse to the
// last. Paths look like "devices[2].limits.max_events".
class DuplicateKeyFinder {
 public:
  bool on_event(Json::parse_event_t event, const Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start: push(false); break;
      case Json::parse_event_t::array_start: push(true); break;
      case Json::parse_event_t::key: on_key(parsed.get<std::string>()); break;
      case Json::parse_event_t::value: count_array_element(); break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        stack_.pop_back();
        count_array_element();
        break;
    }
    return true;  // keep every value
  }

  // Each duplicate as its path segments: "devices", "[2]", "limits", "max_events".
  const std::vector<std::vector<std::string>>& duplicates() const { return duplicates_; }

 private:
  struct Frame {
    bool is_array = false;
    size_t elements = 0;      // arrays: elements seen so far
    std::string current_key;  // objects: the key being read
    std::set<std::string> keys;
    std::vector<std::string> path;  // segments leading to this container
  };

  void push(bool is_array) {
    Frame frame;
    frame.is_array = is_array;
    if (!stack_.empty()) {
      const Frame& parent = stack_.back();
      frame.path = parent.path;
      frame.path.push_back(parent.is_array ? "[" + std::to_string(parent.elements) + "]" : parent.current_key);
    }
    stack_.push_back(std::move(frame));
  }

  void on_key(const std::string& key) {
    Frame& frame = stack_.back();
    frame.current_key = key;
    if (frame.keys.insert(key).second) return;
    std::vector<std::string> path = frame.path;
    path.push_back(key);
    duplicates_.push_back(std::move(path));
  }

  void count_array_element() {
    if (!stack_.empty() && stack_.back().is_array) ++stack_.back().elements;
  }

  std::vector<Frame> stack_;
  std::vector<std::vector<std::string>> duplicates_;
};

std::string join_path(std::vector<std::string>::const_iterator begin,
                      std::vector<std::string>::const_iterator end) {
  std::string out;
  for (auto it = begin; it != end; ++it) {
    if (!out.empty() && (*it)[0] != '[') out += '.';
    out += *it;
  }
  return out;
}

// Duplicate keys sorted by where they belong: device index -> key paths
// inside it; top-level ones under SIZE_MAX.
using DuplicatesByDevice = std::map<size_t, std::vector<std::string>>;
constexpr size_t kTopLevel = SIZE_MAX;

DuplicatesByDevice group_duplicates(const std::vector<std::vector<std::string>>& duplicates) {
  DuplicatesByDevice out;
  for (const auto& path : duplicates) {
    if (path.size() >= 3 && path[0] == "devices" && path[1].front() == '[') {
      const size_t index = std::stoul(path[1].substr(1));
      out[index].push_back(join_path(path.begin() + 2, path.end()));
    } else {
      out[kTopLevel].push_back(join_path(path.begin(), path.end()));
    }
  }
  return out;
}

// Parses `text`, or records "FILE: invalid JSON at line L, column C: ...".
std::optional<Json> parse_json(const std::string& text, const std::string& file, DuplicateKeyFinder& finder,
                               std::vector<std::string>& errors) {
  try {
    return Json::parse(text, [&finder](int, Json::parse_event_t event, Json& parsed) {
      return finder.on_event(event, parsed);
    });
  } catch (const Json::parse_error& e) {
    // e.byte counts the bytes read, the offending one included.
    const auto [line, column] = line_column(text, e.byte == 0 ? 0 : e.byte - 1);
    errors.push_back(file + ": invalid JSON at line " + std::to_string(line) + ", column " +
                     std::to_string(column) + ": " + parser_message(e.what()));
  } catch (const Json::exception& e) {
    errors.push_back(file + ": invalid JSON: " + parser_message(e.what()));  // e.g. a number too large
  }
  return std::nullopt;
}

// ---- merging -------------------------------------------------------------------

// The devices accepted so far, to refuse a second device with the same name
// or the same socket (the second bind would fail, or worse, steal the first).
class DeviceRegistry {
 public:
  // Records `device` unless its name or socket is taken; then says so.
  bool add(const DeviceSpec& device, std::vector<std::string>& errors) {
    if (const auto it = files_by_name_.find(device.name); it != files_by_name_.end()) {
      errors.push_back(it->second == device.source_file
                           ? "device '" + device.name + "' is defined twice in " + device.source_file
                           : "device '" + device.name + "' is defined in " + it->second + " and again in " +
                                 device.source_file);
      return false;
    }
    files_by_name_[device.name] = device.source_file;
    const std::string key = socket_key(device.socket);
    if (!key.empty()) {
      if (const auto it = owners_by_socket_.find(key); it != owners_by_socket_.end()) {
        errors.push_back("device '" + device.name + "' in " + device.source_file + " uses socket '" +
                         device.socket + "', which device '" + it->second.name + "' in " + it->second.file +
                         " already uses");
        return false;
      }
      owners_by_socket_[key] = Owner{device.name, device.source_file};
    }
    return true;
  }

 private:
  struct Owner {
    std::string name;
    std::string file;
  };

  // Unix paths are compared after lexical normalisation ("/a//b" is "/a/b").
  // tcp port 0 asks for any free port, so it never clashes.
  static std::string socket_key(const std::string& uri) {
    net::Endpoint endpoint;
    std::string error;
    if (!net::parse_endpoint(uri, endpoint, error)) return uri;
    if (endpoint.kind == net::Endpoint::Kind::tcp) return endpoint.port == 0 ? "" : endpoint.uri();
    return "unix://" + fs::path(endpoint.path).lexically_normal().string();
  }

  std::map<std::string, std::string> files_by_name_;
  std::map<std::string, Owner> owners_by_socket_;
};

// ---- one file ------------------------------------------------------------------

void check_top_level(const Json& doc, const std::string& file, std::vector<std::string>& errors) {
  for (const auto& [key, value] : doc.items()) {
    if (key != "devices" && key != "host" && !detail::is_comment_key(key))
      errors.push_back(file + ": key '" + key + "': " + detail::unknown_key_message(key, {"devices", "host"}));
  }
}

// One host-wide setting: its key and the integers it accepts.
struct HostKey {
  std::string_view key;
  uint64_t min, max;
};
constexpr HostKey kMaxConnectionsKey{"max_connections", 1, 1000000};
// A create/destroy bound under 100 ms would fail healthy plugins on a busy
// machine; over 10 minutes is no bound an operator waits for.
constexpr HostKey kLifecycleTimeoutKey{"lifecycle_timeout_ms", 100, 600000};

// What one file's "host" object sets.
struct HostValues {
  std::optional<uint64_t> max_connections;
  std::optional<uint64_t> lifecycle_timeout_ms;
  std::optional<IsolationMode> isolation;
};

constexpr std::string_view kIsolationKey = "isolation";

// The optional "host" object: host-wide settings.
HostValues check_host_settings(const Json& doc, const std::string& file, std::vector<std::string>& errors) {
  HostValues out;
  const auto host = doc.find("host");
  if (host == doc.end()) return out;
  if (!host->is_object()) {
    errors.push_back(file + ": key 'host': expected an object of host-wide settings, found " +
                     detail::describe(*host));
    return out;
  }
  for (const auto& [key, value] : host->items()) {
    if (detail::is_comment_key(key)) continue;
    if (key == kIsolationKey) {
      if (value == "in-process" || value == "process") {
        out.isolation = value == "process" ? IsolationMode::process : IsolationMode::in_process;
      } else {
        errors.push_back(file + ": key 'host.isolation': expected \"in-process\" or \"process\", found " +
                         detail::describe(value));
      }
      continue;
    }
    const HostKey* known = key == kMaxConnectionsKey.key       ? &kMaxConnectionsKey
                           : key == kLifecycleTimeoutKey.key ? &kLifecycleTimeoutKey
                                                             : nullptr;
    if (!known) {
      errors.push_back(file + ": key 'host." + key + "': " +
                       detail::unknown_key_message(key, {kMaxConnectionsKey.key, kLifecycleTimeoutKey.key, kIsolationKey}));
      continue;
    }
    if (!value.is_number_integer() || value.get<int64_t>() < static_cast<int64_t>(known->min) ||
        value.get<uint64_t>() > known->max) {
      errors.push_back(file + ": key 'host." + key + "': expected an integer from " + std::to_string(known->min) +
                       " to " + std::to_string(known->max) + ", found " + detail::describe(value));
      continue;
    }
    (known == &kMaxConnectionsKey ? out.max_connections : out.lifecycle_timeout_ms) = value.get<uint64_t>();
  }
  return out;
}

// Takes one file's value of a host-wide setting into `value`, unless an
// earlier file set a different one (an error naming both files).
void merge_host_value(const std::optional<uint64_t>& given, std::string_view key, const std::string& file,
                      uint64_t& value, std::string& value_file, std::vector<std::string>& errors) {
  if (!given) return;
  if (!value_file.empty() && value != *given) {
    errors.push_back(file + ": key 'host." + std::string(key) + "': " + std::to_string(*given) + " contradicts " +
                     std::to_string(value) + " set in " + value_file);
    return;
  }
  value = *given;
  value_file = file;
}

// One file's devices, valid or not, in file order, and its errors.
struct CheckedFile {
  std::string file;
  HostValues host;
  std::vector<detail::CheckedDevice> devices;
  std::vector<std::string> errors;
};

CheckedFile check_manifest(const std::string& text, const std::string& file, const std::string& socket_dir) {
  CheckedFile checked;
  DuplicateKeyFinder finder;
  const std::optional<Json> doc = parse_json(text, file, finder, checked.errors);
  if (!doc) return checked;
  if (!doc->is_object()) {
    checked.errors.push_back(file + ": expected a JSON object {\"devices\": [...]}, found " + detail::describe(*doc));
    return checked;
  }
  check_top_level(*doc, file, checked.errors);
  checked.file = file;
  checked.host = check_host_settings(*doc, file, checked.errors);
  DuplicatesByDevice duplicates = group_duplicates(finder.duplicates());
  const std::vector<std::string> top_level = duplicates[kTopLevel];
  for (const std::string& key : top_level)
    checked.errors.push_back(file + ": key '" + key + "': " + std::string(detail::kDuplicateKeyMessage));
  // With "devices" given twice, devices[N] paths mix both arrays; only the
  // last array counts, and its duplicates cannot be told apart, so drop them.
  if (std::find(top_level.begin(), top_level.end(), "devices") != top_level.end()) duplicates.clear();

  const auto devices = doc->find("devices");
  if (devices == doc->end() || !devices->is_array()) {
    const std::string found = devices == doc->end() ? "nothing (the key is missing)" : detail::describe(*devices);
    checked.errors.push_back(file + ": key 'devices': expected an array of device objects, found " + found);
    return checked;
  }
  for (size_t i = 0; i < devices->size(); ++i) {
    const detail::DeviceContext context{file, socket_dir, i, std::move(duplicates[i])};
    checked.devices.push_back(detail::check_device((*devices)[i], context, checked.errors));
  }
  return checked;
}

// Moves `checked` into `result`: its errors, then each valid device whose
// name and socket are free. Invalid devices still claim their name and
// socket, so a clash with them is reported at once.
void merge(CheckedFile&& checked, DeviceRegistry& registry, LoadResult& result) {
  result.errors.insert(result.errors.end(), checked.errors.begin(), checked.errors.end());
  HostSettings& host = result.host;
  merge_host_value(checked.host.max_connections, kMaxConnectionsKey.key, checked.file, host.max_connections,
                   host.max_connections_file, result.errors);
  merge_host_value(checked.host.lifecycle_timeout_ms, kLifecycleTimeoutKey.key, checked.file,
                   host.lifecycle_timeout_ms, host.lifecycle_timeout_ms_file, result.errors);
  if (checked.host.isolation) {
    if (!host.isolation_file.empty() && host.isolation != *checked.host.isolation) {
      result.errors.push_back(checked.file + ": key 'host.isolation': \"" + isolation_name(*checked.host.isolation) +
                              "\" contradicts \"" + isolation_name(host.isolation) + "\" set in " + host.isolation_file);
    } else {
      host.isolation = *checked.host.isolation;
      host.isolation_file = checked.file;
    }
  }
  for (detail::CheckedDevice& device : checked.devices) {
    if (device.spec.name.empty()) continue;  // nothing to clash with
    if (registry.add(device.spec, result.errors) && device.valid) result.devices.push_back(std::move(device.spec));
  }
}

// Once every file is read: devices that do not say take the host-wide
// isolation, and the keys only a child process can use are refused on
// devices that stay in the host's process.
void resolve_isolation(LoadResult& result) {
  for (DeviceSpec& d : result.devices) {
    if (d.isolation.mode == IsolationMode::unset) d.isolation.mode = result.host.isolation;
    const std::string where = d.source_file + ": device '" + d.name + "': ";
    if (d.isolation.mode == IsolationMode::process) {
      if (d.socket.rfind("unix://", 0) != 0)
        result.errors.push_back(where + "key 'socket': an isolated device (\"isolation\": \"process\") needs a unix:// "
                                        "socket, found " + d.socket);
      continue;
    }
    if (!d.isolation.has_process_only_keys()) continue;
    std::string keys;
    const auto name_key = [&keys](bool given, const char* key) {
      if (given) keys += std::string(keys.empty() ? "" : ", ") + "'" + key + "'";
    };
    name_key(d.isolation.watchdog_ms.has_value(), "watchdog_ms");
    name_key(!d.isolation.user.empty(), "user");
    name_key(!d.isolation.group.empty(), "group");
    name_key(d.isolation.memory_bytes != 0, "limits.memory_bytes");
    name_key(d.isolation.open_files != 0, "limits.open_files");
    name_key(d.isolation.cpu_seconds != 0, "limits.cpu_seconds");
    result.errors.push_back(where + "key " + keys + ": applies only to a device in its own process; add "
                                    "\"isolation\": \"process\" (or set it for every device under \"host\")");
  }
  // A device with errors is not started: keep the list to the valid ones.
  std::vector<DeviceSpec> valid;
  for (DeviceSpec& d : result.devices) {
    const std::string where = d.source_file + ": device '" + d.name + "': ";
    bool failed = false;
    for (const std::string& e : result.errors) failed = failed || e.rfind(where, 0) == 0;
    if (!failed) valid.push_back(std::move(d));
  }
  result.devices = std::move(valid);
}

LoadResult parse_manifest_unguarded(const std::string& text, const std::string& file,
                                    const std::string& socket_dir) {
  LoadResult result;
  DeviceRegistry registry;
  merge(check_manifest(text, file, socket_dir), registry, result);
  resolve_isolation(result);
  return result;
}

// Reads a whole file, refusing it unread when it exceeds kMaxManifestBytes.
bool read_file(const std::string& file, std::string& text, std::vector<std::string>& errors) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    errors.push_back(file + ": cannot open: " + std::strerror(errno));
    return false;
  }
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0;
  if (ok && static_cast<uint64_t>(st.st_size) > kMaxManifestBytes) {
    errors.push_back(file + ": expected a manifest of at most " + std::to_string(kMaxManifestBytes) +
                     " bytes (16 MiB), found " + std::to_string(st.st_size) + " bytes");
    ::close(fd);
    return false;
  }
  text.clear();
  char buffer[65536];
  while (ok && text.size() <= kMaxManifestBytes) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  if (!ok) errors.push_back(file + ": cannot read: " + std::strerror(errno));
  else if (text.size() > kMaxManifestBytes) {  // grew while we read it
    errors.push_back(file + ": expected a manifest of at most " + std::to_string(kMaxManifestBytes) +
                     " bytes (16 MiB), found more");
    ok = false;
  }
  ::close(fd);
  return ok;
}

// ---- paths ---------------------------------------------------------------------

bool is_manifest_name(const std::string& name) {
  constexpr std::string_view suffix = ".json";
  return name.size() > suffix.size() && name[0] != '.' &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The *.json regular files of `dir`, in byte order of their names.
void list_directory(const std::string& dir, std::vector<std::string>& files, std::vector<std::string>& errors) {
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (is_manifest_name(name) && fs::is_regular_file(it->status(type_ec))) names.push_back(name);
  }
  if (ec) {
    errors.push_back(dir + ": cannot list the directory: " + ec.message());
    return;
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) files.push_back((fs::path(dir) / name).string());
}

// Turns one --config path into the files it names.
void expand_path(const std::string& path, MissingPaths missing, std::vector<std::string>& files,
                 std::vector<std::string>& errors) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    if (missing == MissingPaths::error) errors.push_back(path + ": no such file or directory");
    return;
  }
  if (ec) errors.push_back(path + ": cannot access: " + ec.message());
  else if (status.type() == fs::file_type::directory) list_directory(path, files, errors);
  else if (status.type() == fs::file_type::regular) files.push_back(path);
  else errors.push_back(path + ": expected a manifest file or a directory of them, found another kind of file");
}

// The same file named twice (say by a directory and by itself) would make
// every device in it a duplicate; say so once, plainly, instead.
bool first_time_seen(const std::string& file, std::set<std::pair<dev_t, ino_t>>& seen,
                     std::vector<std::string>& errors) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return true;  // read_file reports it
  if (seen.insert({st.st_dev, st.st_ino}).second) return true;
  errors.push_back(file + ": this manifest is named more than once by the configuration paths; read it once");
  return false;
}

LoadResult load_manifests_unguarded(const std::vector<std::string>& paths, const std::string& socket_dir,
                                    MissingPaths missing) {
  LoadResult result;
  std::vector<std::string> files;
  for (const std::string& path : paths) expand_path(path, missing, files, result.errors);

  DeviceRegistry registry;
  std::set<std::pair<dev_t, ino_t>> seen;
  for (const std::string& file : files) {
    std::string text;
    if (!first_time_seen(file, seen, result.errors) || !read_file(file, text, result.errors)) continue;
    merge(check_manifest(text, file, socket_dir), registry, result);
  }
  resolve_isolation(result);
  return result;
}

// ---- plugins -------------------------------------------------------------------

bool is_plugin_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

std::optional<std::string> find_plugin_unguarded(const std::string& plugin, const std::string& manifest_dir,
                                                 const std::vector<std::string>& dirs, std::string& error) {
  if (plugin.empty()) {
    error = "plugin '': expected a plugin file name or path, found an empty string";
    return std::nullopt;
  }
  if (plugin.find('/') != std::string::npos) {
    const fs::path path = plugin[0] == '/' || manifest_dir.empty() ? fs::path(plugin) : fs::path(manifest_dir) / plugin;
    if (is_plugin_file(path)) return path.string();
    error = "plugin '" + plugin + "': no such file: " + path.string();
    return std::nullopt;
  }
  // Per directory, the exact name first, so an earlier directory always wins.
  const bool has_so = plugin.size() > 3 && plugin.compare(plugin.size() - 3, 3, ".so") == 0;
  for (const std::string& dir : dirs) {
    if (is_plugin_file(fs::path(dir) / plugin)) return (fs::path(dir) / plugin).string();
    if (!has_so && is_plugin_file(fs::path(dir) / (plugin + ".so")))
      return (fs::path(dir) / (plugin + ".so")).string();
  }
  if (dirs.empty()) {
    error = "plugin '" + plugin + "' not found: no plugin directory to look in (add one with --plugin-dir)";
    return std::nullopt;
  }
  std::string list;
  for (const std::string& dir : dirs) list += (list.empty() ? "" : ", ") + dir;
  error = "plugin '" + plugin + "' not found: looked for '" + plugin + "'" +
          (has_so ? "" : " and '" + plugin + ".so'") + " in " + list;
  return std::nullopt;
}

}  // namespace

// The public functions promise not to throw: anything unexpected (say, out
// of memory) becomes an error message instead.

LoadResult parse_manifest(const std::string& text, const std::string& file, const std::string& socket_dir) {
  try {
    return parse_manifest_unguarded(text, file, socket_dir);
  } catch (const std::exception& e) {
    LoadResult result;
    result.errors.push_back(file + ": internal error while checking the manifest: " + e.what());
    return result;
  }
}

LoadResult load_manifests(const std::vector<std::string>& paths, const std::string& socket_dir,
                          MissingPaths missing) {
  try {
    return load_manifests_unguarded(paths, socket_dir, missing);
  } catch (const std::exception& e) {
    LoadResult result;
    result.errors.push_back(std::string("internal error while loading manifests: ") + e.what());
    return result;
  }
}

std::optional<std::string> find_plugin(const std::string& plugin, const std::string& manifest_dir,
                                       const std::vector<std::string>& dirs, std::string& error) {
  try {
    return find_plugin_unguarded(plugin, manifest_dir, dirs, error);
  } catch (const std::exception& e) {
    error = "plugin '" + plugin + "': internal error while looking for it: " + e.what();
    return std::nullopt;
  }
}

const char* isolation_name(IsolationMode mode) {
  switch (mode) {
    case IsolationMode::process: return "process";
    case IsolationMode::in_process: return "in-process";
    case IsolationMode::unset: break;
  }
  return "unset";
}

}  // namespace bentos::config
