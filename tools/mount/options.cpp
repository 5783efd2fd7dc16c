#include "options.h"

#include <netdb.h>
#include <cstring>

#include <filesystem>
#include <map>
#include <string_view>

#include "build_config.h"
#include "config/manifest.h"
#include "config/options.h"

namespace bentos::mount {

namespace {

namespace fs = std::filesystem;

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  if (ec) return path;
  std::string text = p.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

// Options taking a value accept "--opt VALUE" and "--opt=VALUE"; returns the
// value, or sets `error`.
bool take_value(int argc, const char* const* argv, int& i, const std::string& name,
                const std::string& value_name, std::string& value, std::string& error) {
  const std::string arg = argv[i];
  if (arg.size() > name.size() && arg[name.size()] == '=') {
    value = arg.substr(name.size() + 1);
  } else if (i + 1 < argc && argv[i + 1] != nullptr && argv[i + 1][0] != '-') {
    value = argv[++i];
  } else {
    error = "option '" + name + "' needs a value (" + value_name + ")";
    return false;
  }
  if (value.empty()) {
    error = "option '" + name + "' needs a non-empty value (" + value_name + ")";
    return false;
  }
  return true;
}

bool starts_with_option(const std::string& arg, std::string_view name) {
  return arg == name || (arg.size() > name.size() && arg.compare(0, name.size(), name) == 0 && arg[name.size()] == '=');
}

// A socket given on the command line: a URI, an absolute path, or (handy
// during development) a path relative to the current directory.
std::string socket_text(const std::string& given) {
  if (given.find("://") != std::string::npos || given.empty() || given[0] == '/') return given;
  return absolute_path(given);
}

bool resolve_tcp(DeviceEntry& device, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(device.endpoint.port);
  const int rc = ::getaddrinfo(device.endpoint.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    error = "device '" + device.name + "': cannot resolve " + device.endpoint.uri() + ": " + ::gai_strerror(rc);
    return false;
  }
  std::memcpy(&device.tcp_address, found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  return true;
}

}  // namespace

bool parse_options(int argc, const char* const* argv, Options& out, std::string& error) {
  out = Options{};
  out.socket_dir = config::Options{}.socket_dir;  // the daemon's default
  std::vector<std::string> positional;
  bool options_ended = false;
  for (int i = 1; i < argc && argv[i] != nullptr; ++i) {
    const std::string arg = argv[i];
    std::string value;
    if (options_ended || arg == "-" || arg.empty() || arg[0] != '-') {
      positional.push_back(arg);
    } else if (arg == "--") {
      options_ended = true;
    } else if (arg == "--help" || arg == "-h") {
      out.help = true;
    } else if (arg == "--version") {
      out.version = true;
    } else if (arg == "--allow-other") {
      out.allow_other = true;
    } else if (arg == "--debug") {
      out.debug = true;
    } else if (starts_with_option(arg, "--config")) {
      if (!take_value(argc, argv, i, "--config", "MANIFEST", value, error)) return false;
      out.configs.push_back(value);
    } else if (starts_with_option(arg, "--socket-dir")) {
      if (!take_value(argc, argv, i, "--socket-dir", "DIR", value, error)) return false;
      out.socket_dir = absolute_path(value);
    } else if (starts_with_option(arg, "--device")) {
      if (!take_value(argc, argv, i, "--device", "NAME=SOCKET", value, error)) return false;
      const size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
        error = "option '--device' expects NAME=SOCKET (e.g. echo=/run/bentos/drivers/echo.sock), found '" +
                value + "'";
        return false;
      }
      out.device_specs.push_back(value);
    } else {
      error = "unknown option '" + arg + "'";
      return false;
    }
  }
  if (out.help || out.version) return true;
  if (positional.empty()) {
    error = "missing MOUNTPOINT";
    return false;
  }
  if (positional.size() > 1) {
    error = "unexpected argument '" + positional[1] + "': give exactly one MOUNTPOINT";
    return false;
  }
  out.mountpoint = absolute_path(positional[0]);
  return true;
}

std::string usage_text() {
  const std::string etc = std::string(BENTOS_DEFAULT_SYSCONFDIR) + "/bentos";
  return "Usage: bentos-mount [--config MANIFEST]... [--socket-dir DIR] [--device NAME=SOCKET]...\n"
         "                    [--allow-other] [--debug] MOUNTPOINT\n"
         "\n"
         "Mounts a directory with one file per BentOS device and forwards every file\n"
         "operation on it (open, read, write, flush, release, fsync, ioctl, poll) to the\n"
         "device's socket, the way bentosd does on a BentOS machine. Nested device\n"
         "names such as llm/fixture/echo become folders. Stays in the foreground;\n"
         "Ctrl-C (SIGINT) or SIGTERM unmounts and exits.\n"
         "\n"
         "Options:\n"
         "  --config MANIFEST      a device manifest (the daemon's format), or a directory\n"
         "                         of *.json manifests; repeatable (default, when neither\n"
         "                         --config nor --device is given: " + etc + "/devices.json\n"
         "                         and " + etc + "/devices.d, skipped when missing)\n"
         "  --socket-dir DIR       where a manifest device's socket is when its entry names\n"
         "                         none: DIR/NAME.sock, '/' in NAME written as '-'\n"
         "                         (default: /run/bentos/drivers, as the daemon)\n"
         "  --device NAME=SOCKET   add a device, or override a manifest device's socket;\n"
         "                         SOCKET is unix:///abs.sock, a path, or tcp://host:port;\n"
         "                         repeatable\n"
         "  --allow-other          let other users use the mount (allow_other,\n"
         "                         default_permissions)\n"
         "  --debug                print libfuse's trace of every request\n"
         "  --version, --help\n"
         "\n"
         "Example:\n"
         "  bentos-mount --config config/devices.json --socket-dir run /tmp/bentos &\n"
         "  exec 3<>/tmp/bentos/echo; echo hello >&3; cat <&3\n"
         "\n"
         "Exit status: 0 after a clean unmount, 1 on an error (no /dev/fuse, mount point\n"
         "missing or busy, bad manifest), 2 on a usage error.\n";
}

bool resolve_devices(const Options& options, std::vector<DeviceEntry>& out, std::vector<std::string>& errors) {
  out.clear();
  std::map<std::string, std::string> sockets;  // name -> socket text; ordered for stable listings
  std::vector<std::string> order;
  const auto put = [&](const std::string& name, const std::string& socket) {
    if (!sockets.count(name)) order.push_back(name);
    sockets[name] = socket;
  };

  std::vector<std::string> paths = options.configs;
  config::MissingPaths missing = config::MissingPaths::error;
  if (paths.empty() && options.device_specs.empty()) {
    const std::string etc = std::string(BENTOS_DEFAULT_SYSCONFDIR) + "/bentos";
    paths = {etc + "/devices.json", etc + "/devices.d"};
    missing = config::MissingPaths::ignore;
  }
  if (!paths.empty()) {
    const config::LoadResult loaded = config::load_manifests(paths, options.socket_dir, missing);
    if (!loaded.ok()) {
      errors = loaded.errors;
      return false;
    }
    for (const auto& d : loaded.devices) put(d.name, d.socket);
  }
  for (const std::string& spec : options.device_specs) {
    const size_t eq = spec.find('=');
    const std::string name = spec.substr(0, eq);
    if (!config::is_valid_device_name(name)) {
      errors.push_back("option '--device': '" + name +
                       "' is not a device name: expected segments matching [a-z0-9][a-z0-9._-]* joined by "
                       "'/', at most 64 characters");
      continue;
    }
    put(name, socket_text(spec.substr(eq + 1)));
  }
  for (const std::string& name : order) {
    DeviceEntry entry;
    entry.name = name;
    std::string error;
    if (!net::parse_endpoint(sockets[name], entry.endpoint, error)) {
      errors.push_back("device '" + name + "': " + error);
      continue;
    }
    if (entry.endpoint.kind == net::Endpoint::Kind::tcp && !resolve_tcp(entry, error)) {
      errors.push_back(error);
      continue;
    }
    out.push_back(std::move(entry));
  }
  if (errors.empty() && out.empty()) {
    errors.push_back(paths.empty() || missing == config::MissingPaths::ignore
                         ? "no devices to mount: give --config MANIFEST or --device NAME=SOCKET"
                         : "no devices to mount: the manifests name none");
  }
  return errors.empty();
}

}  // namespace bentos::mount
