// The checks of one device entry. Every check reports through DeviceErrors,
// which prefixes the file, the device and the key path, so each message reads
// "FILE: device 'kv': key 'limits.max_events': expected ..., found ...".
#include "config/manifest_device.h"

#include <algorithm>
#include <initializer_list>
#include <optional>

#include "config/suggest.h"
#include "net/endpoint.h"

namespace bentos::config::detail {

namespace {

constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxShownString = 60;
// uid/gid -1 means "unchanged" to chown(2) and is nobody's real id.
constexpr uint64_t kMaxId = 4294967294;
constexpr uint64_t kGiB = 1ull << 30;
constexpr uint32_t kDefaultSocketMode = 0660;

constexpr std::string_view kNameRule =
    "a name of at most 64 characters matching [a-z0-9][a-z0-9._-]* "
    "(several such segments may be joined by '/')";

// Collects the problems of one device, each prefixed with file and device.
class DeviceErrors {
 public:
  DeviceErrors(const std::string& file, std::string who, std::vector<std::string>& out)
      : file_(file), who_(std::move(who)), out_(out), first_(out.size()) {}

  void add(std::string_view key, std::string_view message) {
    out_.push_back(file_ + ": " + who_ + ": key '" + std::string(key) + "': " + std::string(message));
  }
  void expected(std::string_view key, std::string_view what, const Json& found) {
    add(key, "expected " + std::string(what) + ", found " + describe(found));
  }
  void missing(std::string_view key, std::string_view what) {
    add(key, "expected " + std::string(what) + ", found nothing (the key is missing)");
  }
  bool any() const { return out_.size() > first_; }

 private:
  const std::string& file_;
  std::string who_;  // "device 'kv'", or "devices[3]" without a valid name
  std::vector<std::string>& out_;
  size_t first_;  // errors before this device's checks began
};

// ---- integers --------------------------------------------------------------

// An inclusive range; `max_note` explains a large maximum ("1 GiB").
struct Range {
  uint64_t min;
  uint64_t max;
  std::string_view max_note = "";
};

std::string at_least_text(uint64_t min) {
  if (min == 0) return "a non-negative integer";
  if (min == 1) return "a positive integer";
  return "an integer of at least " + std::to_string(min);
}

std::string at_most_text(const Range& range) {
  std::string text = "an integer of at most " + std::to_string(range.max);
  if (!range.max_note.empty()) text += " (" + std::string(range.max_note) + ")";
  return text;
}

std::string range_text(const Range& range) {
  std::string text = "an integer from " + std::to_string(range.min) + " to " + std::to_string(range.max);
  if (!range.max_note.empty()) text += " (" + std::string(range.max_note) + ")";
  return text;
}

// Reads an integer within `range`. The message names only the bound that was
// crossed, so "-3" reads "expected a positive integer, found -3".
bool read_integer(std::string_view key, const Json& value, const Range& range, DeviceErrors& errors,
                  uint64_t& out) {
  if (!value.is_number_integer()) {
    errors.expected(key, range_text(range), value);
    return false;
  }
  if (!value.is_number_unsigned() && value.get<int64_t>() < 0) {
    errors.expected(key, at_least_text(range.min), value);
    return false;
  }
  const uint64_t n = value.get<uint64_t>();
  if (n < range.min) {
    errors.expected(key, at_least_text(range.min), value);
    return false;
  }
  if (n > range.max) {
    errors.expected(key, at_most_text(range), value);
    return false;
  }
  out = n;
  return true;
}

// ---- strings ---------------------------------------------------------------

// A string without NUL bytes (they would cut paths short in system calls).
bool read_text(std::string_view key, const Json& value, std::string_view what, bool allow_empty,
               DeviceErrors& errors, std::string& out) {
  if (!value.is_string() || value.get_ref<const std::string&>().find('\0') != std::string::npos ||
      (!allow_empty && value.get_ref<const std::string&>().empty())) {
    errors.expected(key, what, value);
    return false;
  }
  out = value.get<std::string>();
  return true;
}

// One of a few fixed strings; returns its position in `choices`.
std::optional<size_t> read_choice(std::string_view key, const Json& value,
                                  std::initializer_list<std::string_view> choices, DeviceErrors& errors) {
  size_t i = 0;
  for (std::string_view choice : choices) {
    if (value.is_string() && value.get_ref<const std::string&>() == choice) return i;
    ++i;
  }
  std::string what;
  i = 0;
  for (std::string_view choice : choices) {
    if (i > 0) what += (i + 1 == choices.size()) ? " or " : ", ";
    what += "\"" + std::string(choice) + "\"";
    ++i;
  }
  errors.expected(key, what, value);
  return std::nullopt;
}

// ---- one function per device key ---------------------------------------------

// A plugin is a file name looked up in the plugin path or an absolute path
// (design/architecture.md). A relative path, or any '..', could name a file
// outside the folders the operator vetted, so both are refused (the loader
// then checks who may write the file: plugin/trust.h).
void parse_plugin(const Json& v, DeviceSpec& d, DeviceErrors& e) {
  std::string plugin;
  if (!read_text("plugin", v, "a plugin file name or path (a non-empty string)", false, e, plugin)) return;
  if (plugin == "." || plugin == "..") {
    e.expected("plugin", "a plugin file name (looked up in the plugin path) or an absolute path", v);
    return;
  }
  if (plugin.find('/') == std::string::npos) {
    d.plugin = plugin;
    return;
  }
  if (plugin[0] != '/') {
    e.add("plugin", "expected a plugin file name (looked up in the plugin path) or an absolute path, found " +
                        describe(v) + "; a relative path may name a file outside the plugin path");
    return;
  }
  size_t start = 0;
  while (start <= plugin.size()) {
    const size_t end = std::min(plugin.find('/', start), plugin.size());
    if (plugin.compare(start, end - start, "..") == 0) {
      e.add("plugin", "expected an absolute path without '..' components, found " + describe(v) +
                          "; name the plugin file directly");
      return;
    }
    start = end + 1;
  }
  d.plugin = plugin;
}

// Splits a parse_endpoint message "socket 'TEXT': REST" so ours can say the
// key once: "key 'socket': REST".
std::string endpoint_problem(const std::string& text, const std::string& error) {
  const std::string prefix = "socket '" + text + "': ";
  return error.rfind(prefix, 0) == 0 ? error.substr(prefix.size()) : error;
}

void parse_socket(const Json& v, DeviceSpec& d, DeviceErrors& e) {
  constexpr std::string_view what = "a socket: unix:///abs/path.sock, an absolute path, or tcp://host:port";
  std::string text;
  if (!read_text("socket", v, what, false, e, text)) return;
  net::Endpoint endpoint;
  std::string error;
  if (!net::parse_endpoint(text, endpoint, error)) {
    const std::string problem = endpoint_problem(text, error);
    if (problem.rfind("expected", 0) == 0) e.add("socket", problem + ", found " + describe(v));
    else e.add("socket", problem + " (found " + describe(v) + ")");
    return;
  }
  d.socket = endpoint.uri();
}

void parse_device_path(const Json& v, DeviceSpec& d, DeviceErrors& e) {
  read_text("device_path", v, "a string (the device node bentosd attaches)", true, e, d.device_path);
}

void parse_config(const Json& v, DeviceSpec& d, DeviceErrors&) { d.config_json = v.dump(); }

// "0660" or "660" as a string, or the same number written in decimal (432).
void parse_socket_mode(const Json& v, DeviceSpec& d, DeviceErrors& e) {
  constexpr std::string_view what =
      "a permission mode: a string of octal digits such as \"0660\" (at most \"0777\"), "
      "or an integer of at most 511 (0777)";
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    uint32_t mode = 0;
    bool ok = !s.empty() && s.size() <= 4;
    for (char c : s) {
      ok = ok && c >= '0' && c <= '7';
      if (ok) mode = mode * 8 + static_cast<uint32_t>(c - '0');
    }
    if (ok && mode <= 0777) {
      d.socket_mode = mode;
      return;
    }
  } else if (v.is_number_unsigned() && v.get<uint64_t>() <= 0777) {
    d.socket_mode = static_cast<uint32_t>(v.get<uint64_t>());
    return;
  } else if (v.is_number_unsigned()) {
    // 660 written as a JSON number is decimal 660, not octal 0660.
    e.add("socket_mode", "expected " + std::string(what) + ", found " + describe(v) +
                             "; JSON numbers are decimal, so write the mode as a string such as \"0660\"");
    return;
  }
  e.expected("socket_mode", what, v);
}

void parse_socket_group(const Json& v, DeviceSpec& d, DeviceErrors& e) {
  constexpr std::string_view what = "a group name (a non-empty string) or a numeric gid";
  if (v.is_number_integer()) {
    uint64_t gid = 0;
    if (read_integer("socket_group", v, Range{0, kMaxId}, e, gid)) d.socket_group = std::to_string(gid);
    return;
  }
  std::string group;
  if (read_text("socket_group", v, what, false, e, group)) d.socket_group = group;
}

// "allowed_uids": [0, 1000]: each element is checked and named by its index.
void parse_ids(std::string_view key, const Json& v, std::vector<uint32_t>& out, DeviceErrors& e) {
  if (!v.is_array()) {
    e.expected(key, "an array of non-negative integer ids", v);
    return;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    uint64_t id = 0;
    const std::string element = std::string(key) + "[" + std::to_string(i) + "]";
    if (read_integer(element, v[i], Range{0, kMaxId}, e, id)) out.push_back(static_cast<uint32_t>(id));
  }
}

void parse_allowed_uids(const Json& v, DeviceSpec& d, DeviceErrors& e) {
  parse_ids("allowed_uids", v, d.allowed_uids, e);
}

void parse_allowed_gids(const Json& v, DeviceSpec& d, DeviceErrors& e) {
  parse_ids("allowed_gids", v, d.allowed_gids, e);
}

void parse_read_when_empty(const Json& v, DeviceSpec& d, DeviceErrors& e) {
  const auto choice = read_choice("read_when_empty", v, {"eof", "block"}, e);
  if (choice) d.read_when_empty = *choice == 0 ? ReadWhenEmpty::eof : ReadWhenEmpty::block;
}

void parse_threads(const Json& v, DeviceSpec& d, DeviceErrors& e) {
  uint64_t n = 0;
  if (read_integer("threads", v, Range{0, 64}, e, n)) d.threads = static_cast<uint32_t>(n);
}

void parse_executor(const Json& v, DeviceSpec& d, DeviceErrors& e) {
  const auto choice = read_choice("executor", v, {"loop", "worker"}, e);
  if (choice) d.executor = *choice == 0 ? "loop" : "worker";
}

// ---- isolation ---------------------------------------------------------------

void parse_isolation(const Json& v, DeviceSpec& d, DeviceErrors& e) {
  const auto choice = read_choice("isolation", v, {"in-process", "process"}, e);
  if (choice) d.isolation.mode = *choice == 0 ? IsolationMode::in_process : IsolationMode::process;
}

// Under 100 ms a busy machine would kill healthy children; over an hour is
// no watchdog.
void parse_watchdog_ms(const Json& v, DeviceSpec& d, DeviceErrors& e) {
  uint64_t n = 0;
  if (read_integer("watchdog_ms", v, Range{100, 3600000, "one hour"}, e, n)) d.isolation.watchdog_ms = n;
}

// A user or group name, or a numeric id written as a number or a string;
// whether it exists is checked when the device starts (the host may run
// where the name is defined later, e.g. by sysusers).
void parse_identity(std::string_view key, const Json& v, std::string& out, DeviceErrors& e) {
  if (v.is_number_integer()) {
    uint64_t id = 0;
    if (read_integer(key, v, Range{0, kMaxId}, e, id)) out = std::to_string(id);
    return;
  }
  read_text(key, v, "a name (a non-empty string) or a numeric id", false, e, out);
}

void parse_user(const Json& v, DeviceSpec& d, DeviceErrors& e) { parse_identity("user", v, d.isolation.user, e); }
void parse_group(const Json& v, DeviceSpec& d, DeviceErrors& e) { parse_identity("group", v, d.isolation.group, e); }

// ---- limits ----------------------------------------------------------------

// Bounds keep a typo ("max_frame_bytes": 16) from making a device unusable
// and a stray digit from letting one connection take all memory.
struct LimitRule {
  std::string_view key;
  uint64_t Limits::*field;  // nullptr: an isolated device's process limit, below
  Range range;
  uint64_t Isolation::*process_field = nullptr;
};

const LimitRule kLimitRules[] = {
    {"max_frame_bytes", &Limits::max_frame_bytes, {64, kGiB, "1 GiB"}},
    {"max_request_bytes", &Limits::max_request_bytes, {1, kGiB, "1 GiB"}},
    {"max_buffered_bytes", &Limits::max_buffered_bytes, {1, kGiB, "1 GiB"}},
    {"max_events", &Limits::max_events, {1, 1u << 20, ""}},
    {"max_sessions", &Limits::max_sessions, {1, 1u << 24, ""}},
    {"request_timeout_ms", &Limits::request_timeout_ms, {0, 86400000, "one day"}},
    // The child process of an isolated device (setrlimit): under 16 MiB of
    // address space the dynamic loader itself fails; 16 open files cover
    // the host's own descriptors.
    {"memory_bytes", nullptr, {16ull << 20, 1ull << 40, "1 TiB"}, &Isolation::memory_bytes},
    {"open_files", nullptr, {16, 1u << 20, ""}, &Isolation::open_files},
    {"cpu_seconds", nullptr, {1, 1u << 30, ""}, &Isolation::cpu_seconds},
};

void parse_limits(const Json& v, DeviceSpec& d, DeviceErrors& e) {
  if (!v.is_object()) {
    e.expected("limits", "an object such as {\"max_events\": 256}", v);
    return;
  }
  std::vector<std::string_view> known;
  for (const LimitRule& rule : kLimitRules) known.push_back(rule.key);
  for (const auto& [key, value] : v.items()) {
    if (is_comment_key(key)) continue;
    const std::string path = "limits." + key;
    const LimitRule* rule = nullptr;
    for (const LimitRule& candidate : kLimitRules)
      if (candidate.key == key) rule = &candidate;
    if (rule == nullptr) {
      e.add(path, unknown_key_message(key, known));
      continue;
    }
    uint64_t n = 0;
    if (!read_integer(path, value, rule->range, e, n)) continue;
    if (rule->field) d.limits.*(rule->field) = n;
    else d.isolation.*(rule->process_field) = n;
  }
}

// ---- the device ------------------------------------------------------------

using KeyParser = void (*)(const Json& value, DeviceSpec& device, DeviceErrors& errors);

struct KeyRule {
  std::string_view key;
  KeyParser parse;  // nullptr: handled before the others ("name")
};

const KeyRule kDeviceKeys[] = {
    {"name", nullptr},
    {"plugin", parse_plugin},
    {"socket", parse_socket},
    {"device_path", parse_device_path},
    {"config", parse_config},
    {"socket_mode", parse_socket_mode},
    {"socket_group", parse_socket_group},
    {"allowed_uids", parse_allowed_uids},
    {"allowed_gids", parse_allowed_gids},
    {"read_when_empty", parse_read_when_empty},
    {"limits", parse_limits},
    {"threads", parse_threads},
    {"executor", parse_executor},
    {"isolation", parse_isolation},
    {"watchdog_ms", parse_watchdog_ms},
    {"user", parse_user},
    {"group", parse_group},
};

const KeyRule* find_rule(std::string_view key) {
  for (const KeyRule& rule : kDeviceKeys)
    if (rule.key == key) return &rule;
  return nullptr;
}

std::vector<std::string_view> device_keys() {
  std::vector<std::string_view> keys;
  for (const KeyRule& rule : kDeviceKeys) keys.push_back(rule.key);
  return keys;
}

// The device's valid name, or nullopt (the caller then names it devices[i]).
std::optional<std::string> valid_name(const Json& entry) {
  const auto it = entry.find("name");
  if (it == entry.end() || !it->is_string()) return std::nullopt;
  const std::string& name = it->get_ref<const std::string&>();
  if (!is_valid_device_name(name)) return std::nullopt;
  return name;
}

void check_name(const Json& entry, DeviceErrors& errors) {
  const auto it = entry.find("name");
  if (it == entry.end()) errors.missing("name", kNameRule);
  else if (!valid_name(entry)) errors.expected("name", kNameRule, *it);
}

void apply_default_socket(const DeviceContext& context, DeviceSpec& device, DeviceErrors& errors) {
  const std::string uri = default_socket_uri(context.socket_dir, device.name);
  net::Endpoint endpoint;
  std::string error;
  if (net::parse_endpoint(uri, endpoint, error)) {
    device.socket = endpoint.uri();
    return;
  }
  errors.add("socket", "no socket given, and the default '" + uri + "' (from the socket directory) is unusable: " +
                           endpoint_problem(uri, error));
}

}  // namespace

CheckedDevice check_device(const Json& entry, const DeviceContext& context, std::vector<std::string>& errors) {
  CheckedDevice checked;
  const std::string where = context.file + ": devices[" + std::to_string(context.index) + "]";
  if (!entry.is_object()) {
    errors.push_back(where + ": expected a device object such as {\"name\": ..., \"plugin\": ...}, found " +
                     describe(entry));
    return checked;
  }
  const std::optional<std::string> name = valid_name(entry);
  DeviceErrors device_errors(context.file,
                             name ? "device '" + *name + "'" : "devices[" + std::to_string(context.index) + "]",
                             errors);
  DeviceSpec& device = checked.spec;
  device.name = name.value_or("");
  device.source_file = context.file;
  check_name(entry, device_errors);
  for (const std::string& key : context.duplicate_keys) device_errors.add(key, kDuplicateKeyMessage);

  const std::vector<std::string_view> known = device_keys();
  for (const auto& [key, value] : entry.items()) {
    if (is_comment_key(key)) continue;
    const KeyRule* rule = find_rule(key);
    if (rule == nullptr) device_errors.add(key, unknown_key_message(key, known));
    else if (rule->parse != nullptr) rule->parse(value, device, device_errors);
  }
  if (!entry.contains("plugin")) device_errors.missing("plugin", "a plugin file name or path");
  if (!entry.contains("socket") && name) apply_default_socket(context, device, device_errors);
  // Only the owner and the group may connect unless the manifest says
  // otherwise (docs/security.md); a TCP socket has no mode.
  if (!device.socket_mode && device.socket.rfind("unix://", 0) == 0) device.socket_mode = kDefaultSocketMode;

  checked.valid = !device_errors.any();
  return checked;
}

std::string describe(const Json& value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s.empty()) return "an empty string";
    // Cut on a UTF-8 character boundary so the dump stays valid.
    if (s.size() <= kMaxShownString) return value.dump();
    size_t cut = kMaxShownString;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    return Json(s.substr(0, cut)).dump() + "...";
  }
  return value.dump();  // numbers as written, true, false, null
}

bool is_comment_key(std::string_view key) {
  return (!key.empty() && key[0] == '$') || key.rfind("_comment", 0) == 0;
}

std::string unknown_key_message(std::string_view key, const std::vector<std::string_view>& known) {
  const std::string suggestion = closest_match(key, known);
  if (!suggestion.empty()) return "unknown key; did you mean '" + suggestion + "'?";
  std::string list;
  for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
  return "unknown key; expected one of: " + list;
}

}  // namespace bentos::config::detail

namespace bentos::config {

bool is_valid_device_name(std::string_view name) {
  if (name.empty() || name.size() > detail::kMaxNameLength) return false;
  bool segment_start = true;
  for (char c : name) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (segment_start) {
      if (!alnum) return false;  // also refuses "//", "/x", ".hidden"
      segment_start = false;
    } else if (c == '/') {
      segment_start = true;
    } else if (!alnum && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return !segment_start;  // a trailing '/' leaves an empty last segment
}

std::string default_socket_uri(const std::string& socket_dir, const std::string& name) {
  std::string dir = socket_dir;
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  std::string file = name;
  for (char& c : file)
    if (c == '/') c = '-';
  return "unix://" + dir + "/" + file + ".sock";
}

}  // namespace bentos::config
