// bentosctl: talks to a device endpoint the way bentosd would, for people
// and shell scripts. Per-op commands (open, read, write, ...), `cat`,
// `send`, `run` (a sequence of ops on one connection), and the operator's
// commands over the daemon's control socket (list, status, stats, metrics,
// reload; control.cpp). See help.cpp for the grammar.
//
// Single-threaded.
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "build_config.h"
#include "commands.h"
#include "control.h"
#include "help.h"
#include "interrupt.h"
#include "new_driver.h"
#include "session.h"

int main(int argc, char** argv) {
  using namespace bentos::ctl;
  // The client sends with MSG_NOSIGNAL; this covers stdout going to a
  // closed pipe (`bentosctl cat ... | head -1`), which cat handles itself.
  std::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kMainUsage;
    return kExitUsage;
  }
  const std::string& cmd = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    if (cmd == "help" && !rest.empty()) {
      if (const char* usage = command_usage(rest[0])) {
        std::cout << usage;
        return kExitOk;
      }
      if (rest[0] == "new-driver") {
        std::cout << kNewDriverUsage;
        return kExitOk;
      }
      if (const char* usage = control_usage(rest[0])) {
        std::cout << usage;
        return kExitOk;
      }
      return usage_error("no command '" + rest[0] + "' (see bentosctl --help)");
    }
    std::cout << kMainUsage;
    return kExitOk;
  }
  if (cmd == "--version" || cmd == "-V") {
    std::cout << "bentosctl " << BENTOS_VERSION << "\n";
    return kExitOk;
  }
  if (cmd == "host") return host_command(rest);
  if (cmd == "new-driver") return new_driver_command(rest);
  if (is_control_command(cmd)) return control_command(cmd, rest);
  // The device commands stop cleanly on Ctrl-C.
  interrupt::install();
  if (cmd == "run") return run_command(rest);
  if (cmd == "cat") return cat_command(rest);
  if (cmd == "send") return send_command(rest);
  if (is_op_command(cmd)) return op_command(cmd, rest);
  return usage_error("unknown command '" + cmd + "' (see bentosctl --help)");
}
