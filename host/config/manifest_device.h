// Internal to config/: the checks of one device entry of a manifest, and the
// message helpers shared with manifest.cpp. Not installed, not used outside
// this folder.
//
// Plain functions over value types; no thread affinity.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/manifest.h"

namespace bentos::config::detail {

// ordered_json keeps keys in file order, so errors come out in the order the
// reader sees the keys, and a device's "config" reaches the plugin unsorted.
using Json = nlohmann::ordered_json;

// What device `index` of file `file` needs besides its JSON.
struct DeviceContext {
  const std::string& file;
  const std::string& socket_dir;
  size_t index = 0;  // position in "devices"
  // Key paths inside this device ("limits.max_events") that occur more than
  // once in their object; the JSON parser keeps only the last of them.
  std::vector<std::string> duplicate_keys;
};

// A device entry after its checks. An invalid device still carries what
// could be read (its name, when valid, and its socket), so that a second
// device with the same name or socket is reported now rather than after the
// first one is fixed.
struct CheckedDevice {
  DeviceSpec spec;  // spec.name is "" when the name itself is invalid
  bool valid = false;
};

// Checks devices[index], appending one message per problem to `errors`.
CheckedDevice check_device(const Json& entry, const DeviceContext& context, std::vector<std::string>& errors);

// How a value is shown after "found": a string with its quotes (shortened
// when long), a number as written, "an object", "an array", "null".
std::string describe(const Json& value);

// Keys that document a file instead of configuring it: "$anything" and
// "_comment..." are accepted and skipped in every object we check.
bool is_comment_key(std::string_view key);

// "unknown key; did you mean 'x'?" or, when nothing is close, the list of
// keys that are accepted there.
std::string unknown_key_message(std::string_view key, const std::vector<std::string_view>& known);

// The text used for a key that occurs twice in one object.
inline constexpr std::string_view kDuplicateKeyMessage =
    "expected each key once, found it more than once (JSON keeps only the last)";

}  // namespace bentos::config::detail
