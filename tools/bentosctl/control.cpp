#include "control.h"

#include <climits>
#include <iostream>
#include <nlohmann/json.hpp>

#include "client.h"
#include "control_client.h"
#include "control_tables.h"
#include "session.h"

namespace bentos::ctl {

namespace {

const char kControlUsage[] = R"HELP(Usage: bentosctl list|status|stats|metrics|reload [DEVICE] [--control-socket PATH] [--json] [--timeout MS]

Asks a running bentos-driver-host over its control socket and prints the
answer as a table (metrics: as the daemon wrote it):

  list     every device: name, pattern, driver and version, device path
           (what bentosd attaches), socket, plugin file
  status   version, pid, uptime, devices, connections, sessions
  stats    per device: requests by op with latency p50/p99/max in
           microseconds, errors by errno, bytes in and out, and one counter
           per limit (frames_too_big, requests_too_big, sessions_refused,
           request_timeouts, buffer_full, dropped_events,
           connections_over_max, peers_refused)
  metrics  the same counters, status' figures and latency histograms in
           the Prometheus text format (0.0.4), for node_exporter's textfile
           collector or a script
  reload   re-read the manifests; a configuration with errors changes
           nothing and is reported (exit status 1)

list and stats take an optional DEVICE to show only that one.

Options:
  --control-socket PATH  the daemon's control socket (default
                         $BENTOS_CONTROL_SOCKET, else /run/bentos/driver-host.sock)
  --json                 print the daemon's answer as it came: one JSON line
  --timeout MS           how long to wait for the answer (default 30000)

`bentosctl host CONTROL_SOCKET [COMMAND]` is the older spelling of
`bentosctl COMMAND --control-socket CONTROL_SOCKET`.

Exit status: 0 ok, 1 the daemon answered an error, 2 usage or connection
error (no socket, permission denied, no answer).

Examples:
  bentosctl list
  bentosctl stats kv --control-socket run/control.sock
  bentosctl status --json
  bentosctl metrics > bentos.prom
  sudo bentosctl reload
)HELP";

struct ControlOptions {
  std::string socket = default_control_socket();
  std::string device;
  bool json = false;
  int timeout_ms = 30000;
};

// Parses what follows the command; -1 to go on, else the exit status.
int parse(const std::string& command, const std::vector<std::string>& args, ControlOptions& out) {
  const std::string see = " (see bentosctl " + command + " --help)";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    // "--opt=VALUE" or "--opt VALUE".
    const auto value_of = [&](const std::string& name, std::string& value) {
      if (a.rfind(name + "=", 0) == 0) {
        value = a.substr(name.size() + 1);
        return true;
      }
      if (a != name) return false;
      value = i + 1 < args.size() ? args[++i] : std::string();
      return true;
    };
    std::string value;
    if (a == "--help" || a == "-h") {
      std::cout << kControlUsage;
      return kExitOk;
    } else if (a == "--json") {
      out.json = true;
    } else if (value_of("--control-socket", value)) {
      if (value.empty()) return usage_error(command + ": --control-socket: missing PATH" + see);
      out.socket = value;
    } else if (value_of("--timeout", value)) {
      uint64_t ms = 0;
      if (!client::parse_number(value, ms) || ms == 0 || ms > INT_MAX) {
        return usage_error(command + ": --timeout: expected milliseconds" + see);
      }
      out.timeout_ms = static_cast<int>(ms);
    } else if (a.size() > 1 && a[0] == '-') {
      return usage_error(command + ": unknown option '" + a + "'" + see);
    } else if (out.device.empty() && (command == "list" || command == "stats")) {
      out.device = a;
    } else {
      return usage_error(command + ": unexpected argument '" + a + "'" + see);
    }
  }
  return -1;
}

void print_table(const std::string& command, const nlohmann::ordered_json& answer) {
  if (command == "list") return print_list(answer);
  if (command == "status") return print_status(answer);
  if (command == "stats") return print_stats(answer);
  if (command == "reload") return print_reload(answer);
  if (command == "metrics") return print_metrics(answer);
  std::cout << answer.dump(2) << "\n";  // help, or a command this bentosctl does not know
}

}  // namespace

bool is_control_command(const std::string& command) {
  return command == "list" || command == "status" || command == "stats" || command == "metrics" ||
         command == "reload";
}

const char* control_usage(const std::string& command) {
  return is_control_command(command) || command == "host" ? kControlUsage : nullptr;
}

int control_command(const std::string& command, const std::vector<std::string>& args) {
  ControlOptions options;
  if (const int status = parse(command, args, options); status >= 0) return status;
  nlohmann::json request = {{"command", command}};
  if (!options.device.empty()) request["device"] = options.device;
  std::string line, error;
  if (!ask_control(options.socket, request.dump(), options.timeout_ms, line, error)) {
    return usage_error(command + ": " + error);
  }
  const auto answer = nlohmann::ordered_json::parse(line, nullptr, false);
  if (answer.is_discarded() || !answer.is_object() || !answer.contains("ok")) {
    std::cout << line << "\n";
    return usage_error(command + ": the daemon's answer is not a control answer");
  }
  const bool ok = answer["ok"] == true;
  if (options.json) {
    std::cout << line << std::endl;
  } else if (ok || command == "reload") {
    // A reload that went wrong may still have changed something: show it.
    try {
      print_table(command, answer);
    } catch (const nlohmann::json::exception& e) {
      std::cout << line << std::endl;
      return usage_error(command + ": unexpected answer (" + e.what() + ")");
    }
  }
  if (ok) return kExitOk;
  std::cout.flush();
  std::cerr << "bentosctl: " << command << ": " << answer.value("error", std::string("failed")) << "\n";
  if (!options.json && answer.contains("errors") && answer["errors"].size() > 1) {
    for (const auto& e : answer["errors"]) std::cerr << "  " << (e.is_string() ? e.get<std::string>() : e.dump()) << "\n";
  }
  return kExitOpFailed;
}

int host_command(const std::vector<std::string>& args) {
  std::string socket, command;
  std::vector<std::string> rest;
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << kControlUsage;
      return kExitOk;
    }
    const bool option = a.size() > 1 && a[0] == '-';
    if (!option && socket.empty()) {
      socket = a;
    } else if (!option && command.empty()) {
      command = a;
    } else {
      rest.push_back(a);
    }
  }
  if (socket.empty()) return usage_error("host: missing CONTROL_SOCKET (see bentosctl host --help)");
  rest.insert(rest.begin(), {"--control-socket", socket});
  return control_command(command.empty() ? "status" : command, rest);
}

}  // namespace bentos::ctl
