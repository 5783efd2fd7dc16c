#include "options.h"

#include <algorithm>
#include <climits>
#include <iostream>

#include "client.h"
#include "help.h"
#include "session.h"

namespace bentos::ctl {

namespace {

// Takes an option's value from "--opt=V" or the following token.
bool option_value(const std::vector<std::string>& args, size_t& i, const std::string& name,
                  std::string& value, bool& missing) {
  const std::string& a = args[i];
  if (a.size() > name.size() && a.compare(0, name.size(), name) == 0 && a[name.size()] == '=') {
    value = a.substr(name.size() + 1);
    return true;
  }
  if (a != name) return false;
  missing = i + 1 >= args.size();
  value = missing ? std::string() : args[++i];
  return true;
}

}  // namespace

int parse_options(const std::string& command, const std::vector<std::string>& args,
                  const std::vector<std::string>& allowed, bool ops_follow, Options& out) {
  auto allows = [&](const char* name) {
    return std::find(allowed.begin(), allowed.end(), name) != allowed.end();
  };
  const std::string see = " (see bentosctl " + command + " --help)";
  bool options_done = false;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    // "-" (standard input) is an argument, not an option.
    if (options_done || a.size() < 2 || a[0] != '-') {
      if (out.socket.empty()) {
        out.socket = a;
      } else if (ops_follow) {
        break;  // the first op: options end here
      } else {
        out.positional.push_back(a);
      }
      continue;
    }
    std::string value;
    bool missing = false;
    uint64_t n = 0;
    if (a == "--") {
      options_done = true;
    } else if (a == "--help" || a == "-h") {
      std::cout << command_usage(command);
      return kExitOk;
    } else if (a == "--json") {
      out.json = true;
    } else if ((a == "--verbose" || a == "-v") && allows("--verbose")) {
      out.verbose = true;
    } else if (a == "--all" && allows("--all")) {
      out.all = true;
    } else if (a == "--datasync" && allows("--datasync")) {
      out.datasync = true;
    } else if (option_value(args, i, "--fh", value, missing)) {
      if (!client::parse_number(value, n)) return usage_error("--fh: expected a number");
      out.script.fh = n;
    } else if (option_value(args, i, "--timeout", value, missing)) {
      if (!client::parse_number(value, n) || n > INT32_MAX) {
        return usage_error("--timeout: expected milliseconds");
      }
      out.answer_timeout_ms = n == 0 ? -1 : static_cast<int>(n);
      out.connect_timeout_ms = n == 0 ? 5000 : static_cast<int>(n);
    } else if (allows("--out-size") && option_value(args, i, "--out-size", value, missing)) {
      if (!client::parse_number(value, n)) return usage_error("--out-size: expected a number");
      out.script.ioctl_out_size = n;
    } else if (allows("--size") && option_value(args, i, "--size", value, missing)) {
      if (!client::parse_number(value, n) || n == 0) {
        return usage_error("--size: expected a number of bytes");
      }
      out.size = n;
    } else if (allows("--flags") && option_value(args, i, "--flags", value, missing)) {
      if (missing) return usage_error("--flags: missing FLAGS");
      out.flags = value;
    } else if (allows("--file") && option_value(args, i, "--file", value, missing)) {
      if (missing) return usage_error("--file: missing PATH");
      out.file = value;
    } else if (allows("--hex") && option_value(args, i, "--hex", value, missing)) {
      if (missing) return usage_error("--hex: missing HEX");
      out.hex = value;
    } else {
      return usage_error(command + ": unknown option '" + a + "'" + see);
    }
  }
  if (out.socket.empty()) return usage_error(command + ": missing SOCKET" + see);
  if (ops_follow) out.positional.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return -1;
}

}  // namespace bentos::ctl
