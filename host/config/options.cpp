// The daemon's command line: a table of options, each with the function that
// applies its value, and the usage text that lists the same options.
#include "config/options.h"

#include <filesystem>
#include <optional>
#include <string_view>

#include "config/suggest.h"

namespace bentos::config {

namespace {

namespace fs = std::filesystem;

// What the options given so far say; the defaults are filled in at the end
// because --config and --plugin-dir combine with them.
struct State {
  Options options;
  std::vector<std::string> configs;
  std::vector<std::string> plugin_dirs;
  // What --dev must not override: an option the user gave wins.
  bool socket_dir_given = false;
  bool log_level_given = false;
};

// Applies an option's value; returns "" or what was wrong with it.
using Apply = std::string (*)(const std::string& value, State& state);

struct OptionRule {
  std::string_view name;        // "--config"
  std::string_view value_name;  // "PATH"; empty for a flag
  Apply apply;
};

std::string apply_config(const std::string& value, State& state) {
  state.configs.push_back(value);
  return "";
}

std::string apply_plugin_dir(const std::string& value, State& state) {
  state.plugin_dirs.push_back(value);
  return "";
}

// Socket paths must be absolute (net/endpoint.h), so a relative directory,
// handy during development, is resolved against the current one now.
std::string apply_socket_dir(const std::string& value, State& state) {
  std::error_code ec;
  fs::path dir = fs::absolute(value, ec);
  if (ec) return "option '--socket-dir': cannot resolve '" + value + "': " + ec.message();
  std::string text = dir.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  state.options.socket_dir = text;
  state.socket_dir_given = true;
  return "";
}

// Like --socket-dir: a relative path is taken from the current directory.
std::string apply_control_socket(const std::string& value, State& state) {
  state.options.control_socket_is_default = false;
  if (value == "none") {
    state.options.control_socket.clear();
    return "";
  }
  if (value.find("://") != std::string::npos || (!value.empty() && value[0] == '/')) {
    state.options.control_socket = value;
    return "";
  }
  std::error_code ec;
  const fs::path path = fs::absolute(value, ec);
  if (ec) return "option '--control-socket': cannot resolve '" + value + "': " + ec.message();
  state.options.control_socket = path.lexically_normal().string();
  return "";
}

std::string apply_log_level(const std::string& value, State& state) {
  state.log_level_given = true;
  if (log::parse_level(value, state.options.log_level)) return "";
  return "option '--log-level': expected error, warn, info or debug, found '" + value + "'";
}

std::string apply_check(const std::string&, State& state) {
  state.options.check = true;
  return "";
}

std::string apply_dump(const std::string&, State& state) {
  state.options.dump = true;
  return "";
}

std::string apply_allow_insecure_plugins(const std::string&, State& state) {
  state.options.allow_insecure_plugins = true;
  return "";
}

std::string apply_dev(const std::string&, State& state) {
  state.options.dev = true;
  return "";
}

std::string apply_version(const std::string&, State& state) {
  state.options.show_version = true;
  return "";
}

std::string apply_help(const std::string&, State& state) {
  state.options.show_help = true;
  return "";
}

const OptionRule kOptions[] = {
    {"--config", "PATH", apply_config},
    {"--plugin-dir", "DIR", apply_plugin_dir},
    {"--socket-dir", "DIR", apply_socket_dir},
    {"--control-socket", "PATH", apply_control_socket},
    {"--log-level", "LEVEL", apply_log_level},
    {"--check", "", apply_check},
    {"-t", "", apply_check},
    {"--dump", "", apply_dump},
    {"--allow-insecure-plugins", "", apply_allow_insecure_plugins},
    {"--dev", "", apply_dev},
    {"--version", "", apply_version},
    {"--help", "", apply_help},
    {"-h", "", apply_help},
};

const OptionRule* find_option(std::string_view name) {
  for (const OptionRule& rule : kOptions)
    if (rule.name == name) return &rule;
  return nullptr;
}

std::string unknown_option(std::string_view name) {
  // Only long names are suggested: every short one is a distance of 1 from
  // any other single letter.
  std::vector<std::string_view> names;
  for (const OptionRule& rule : kOptions)
    if (rule.name.rfind("--", 0) == 0) names.push_back(rule.name);
  const std::string suggestion = closest_match(name, names);
  std::string error = "unknown option '" + std::string(name) + "'";
  if (!suggestion.empty()) error += "; did you mean '" + suggestion + "'?";
  return error;
}

// Handles argv[i] (and argv[i + 1] when it is the option's value); returns
// "" or the error. `i` is left on the last argument used.
std::string parse_option(int argc, const char* const* argv, int& i, State& state) {
  const std::string arg = argv[i];
  const size_t equals = arg.find('=');
  const bool long_form = arg.rfind("--", 0) == 0;
  const std::string name = long_form && equals != std::string::npos ? arg.substr(0, equals) : arg;
  const OptionRule* rule = find_option(name);
  if (rule == nullptr) return unknown_option(name);

  const std::string what = "option '" + name + "'";
  if (rule->value_name.empty()) {
    if (name != arg) return what + " takes no value, found '" + arg + "'";
    return rule->apply("", state);
  }
  std::string value;
  if (name != arg) {
    value = arg.substr(equals + 1);
  } else if (i + 1 < argc && argv[i + 1] != nullptr && argv[i + 1][0] != '-') {
    value = argv[++i];
  } else {
    const std::string found = i + 1 < argc && argv[i + 1] != nullptr ? "'" + std::string(argv[i + 1]) + "'"
                                                                       : "the end of the command line";
    return what + " needs a value (" + std::string(rule->value_name) + "), found " + found +
           "; write " + name + "=VALUE for a value that starts with '-'";
  }
  if (value.empty()) return what + " needs a non-empty value (" + std::string(rule->value_name) + ")";
  return rule->apply(value, state);
}

// --dev: everything under the current directory, nothing of the system's.
// The manifest is ./devices.json unless --config names one, plugins are
// looked up in the current directory after any --plugin-dir; it is not a
// skippable default (a development run with no devices is a mistake), and
// /etc/bentos is never read: a developer's host must not pick up the
// machine's installed devices. Nor does it serve the system control socket
// (/run/bentos/driver-host.sock), even as root.
std::string apply_dev_defaults(State& state) {
  Options& options = state.options;
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  if (ec) return "option '--dev': cannot read the current directory: " + ec.message();
  if (state.configs.empty()) state.configs.push_back((cwd / "devices.json").string());
  // Plugins built next to the manifest are found without --plugin-dir.
  state.plugin_dirs.push_back(cwd.string());
  if (!state.socket_dir_given) options.socket_dir = (cwd / "run").string();
  if (options.control_socket_is_default) {
    options.control_socket = (cwd / "run" / "control.sock").string();
    // Named, so a control socket that cannot be created is an error.
    options.control_socket_is_default = false;
  }
  if (!state.log_level_given) options.log_level = log::Level::debug;
  options.allow_insecure_plugins = true;
  return "";
}

void apply_defaults(State& state, const std::string& sysconfdir, const std::string& packaged_plugin_dir) {
  const fs::path bentos_etc = fs::path(sysconfdir) / "bentos";
  Options& options = state.options;
  options.config_is_default = state.configs.empty();
  options.config_paths = state.configs;
  if (options.config_is_default)
    options.config_paths = {(bentos_etc / "devices.json").string(), (bentos_etc / "devices.d").string()};
  options.plugin_dirs = state.plugin_dirs;
  options.plugin_dirs.push_back((bentos_etc / "drivers.d").string());
  if (!packaged_plugin_dir.empty()) options.plugin_dirs.push_back(packaged_plugin_dir);
}

ParseOutcome parse_unguarded(int argc, const char* const* argv, const std::string& sysconfdir,
                             const std::string& packaged_plugin_dir) {
  ParseOutcome outcome;
  State state;
  bool options_ended = false;  // after "--" everything is a positional argument
  for (int i = 1; i < argc && argv[i] != nullptr && outcome.error.empty(); ++i) {
    const std::string arg = argv[i];
    if (!options_ended && arg == "--") options_ended = true;
    else if (!options_ended && arg.size() > 1 && arg[0] == '-') outcome.error = parse_option(argc, argv, i, state);
    else outcome.error = "unexpected argument '" + arg + "': this program takes options only";
  }
  if (outcome.error.empty() && state.options.dump && !state.options.check) {
    outcome.error = "option '--dump' goes with --check (or -t): bentos-driver-host --check --dump";
  }
  if (outcome.error.empty() && state.options.dev) outcome.error = apply_dev_defaults(state);
  apply_defaults(state, sysconfdir, packaged_plugin_dir);
  outcome.options = std::move(state.options);
  return outcome;
}

}  // namespace

ParseOutcome parse_command_line(int argc, const char* const* argv, const std::string& sysconfdir,
                                const std::string& packaged_plugin_dir) {
  try {
    return parse_unguarded(argc, argv, sysconfdir, packaged_plugin_dir);
  } catch (const std::exception& e) {  // out of memory, mostly; never thrown at the caller
    ParseOutcome outcome;
    outcome.error = std::string("internal error while reading the command line: ") + e.what();
    return outcome;
  }
}

std::string ready_line(size_t devices, const std::string& control_socket, const std::string& cwd) {
  std::string line = "ready: " + std::to_string(devices) + " device(s)";
  if (control_socket.empty()) return line + ", no control socket";
  std::string shown = control_socket;
  const fs::path relative = fs::path(control_socket).lexically_relative(cwd);
  if (!cwd.empty() && !relative.empty() && *relative.begin() != "..") shown = "./" + relative.string();
  return line + ", control " + shown;
}

std::string usage_text(const std::string& program, const std::string& sysconfdir,
                       const std::string& packaged_plugin_dir) {
  const std::string etc = (fs::path(sysconfdir) / "bentos").string();
  return "Usage: " + program + " [OPTION]...\n"
         "Hosts BentOS device drivers: loads the plugin of every device named in the\n"
         "manifests and serves each device on its own socket.\n"
         "\n"
         "Options:\n"
         "  --config PATH          a manifest file, or a directory whose *.json files are\n"
         "                         read in name order; repeatable; replaces the defaults\n"
         "                         (default: " + etc + "/devices.json and\n"
         "                         " + etc + "/devices.d, each skipped when missing)\n"
         "  --plugin-dir DIR       where to look for a plugin named without a '/', as\n"
         "                         NAME and then NAME.so; repeatable; searched in order\n"
         "                         before the defaults (default: " + etc + "/drivers.d,\n"
         "                         then " + packaged_plugin_dir + ")\n"
         "  --socket-dir DIR       where a device's socket goes when its manifest entry\n"
         "                         names none: DIR/NAME.sock\n"
         "                         (default: /run/bentos/drivers)\n"
         "  --control-socket PATH  serve the control socket at PATH, mode 0660: one\n"
         "                         JSON request per line, one JSON answer; see\n"
         "                         `bentosctl list` ('none' disables it; default:\n"
         "                         /run/bentos/driver-host.sock, skipped with a\n"
         "                         warning when it cannot be created)\n"
         "  --log-level LEVEL      error, warn, info or debug (default: info)\n"
         "  --allow-insecure-plugins\n"
         "                         load plugin files even when they or their folders\n"
         "                         are writable by others or owned by another user\n"
         "                         (development only)\n"
         "  --dev                  a development run from the current directory: the\n"
         "                         manifest ./devices.json (unless --config), plugins\n"
         "                         also looked up in the current directory, sockets\n"
         "                         in ./run (created if missing), the control socket\n"
         "                         ./run/control.sock (never the system one), log level\n"
         "                         debug, --allow-insecure-plugins; prints\n"
         "                         'ready: N device(s), control ./run/control.sock' on\n"
         "                         standard output once every device listens; other\n"
         "                         options given override these\n"
         "  -t, --check            check the manifests and load the plugins without\n"
         "                         serving; exit 0 when all is well, 78 (EX_CONFIG)\n"
         "                         otherwise\n"
         "  --dump                 with --check: print the effective configuration\n"
         "                         (every manifest merged, every default filled in) as\n"
         "                         JSON on standard output\n"
         "  --version              print the version and exit\n"
         "  -h, --help             print this help and exit\n"
         "\n"
         "An option's value may also be attached: --config=PATH. A command-line error\n"
         "exits with status 2; a configuration error (manifests that do not load) with\n"
         "78 (EX_CONFIG), so a service manager does not restart into it.\n"
         "\n"
         "Examples:\n"
         "  " + program + " --check\n"
         "      check the installed configuration, as after editing " + etc + "\n"
         "  " + program + " -t --dump\n"
         "      check it and print what the host would run, defaults included\n"
         "  " + program + " --config ./devices.json --plugin-dir ./build/plugins \\\n"
         "      --socket-dir /tmp/bentos --log-level debug\n"
         "      run a development manifest against freshly built plugins\n"
         "  " + program + " --dev\n"
         "      serve ./devices.json from the current directory, sockets in ./run\n"
         "  " + program + " --config " + etc + "/devices.d \\\n"
         "      --control-socket /run/bentos/control.sock\n"
         "      serve only the drop-in devices, with a control socket for bentosctl\n";
}

}  // namespace bentos::config
