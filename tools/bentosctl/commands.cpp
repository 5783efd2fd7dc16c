// The per-op commands: `bentosctl OP SOCKET [ARGS]` opens a handle, performs
// OP, releases the handle and prints OP's answer (all three with -v).
#include <iostream>

#include "commands.h"
#include "interrupt.h"
#include "options.h"

namespace bentos::ctl {

namespace {

constexpr const char* kOpCommands[] = {"open", "read",  "write", "flush",
                                       "fsync", "ioctl", "poll",  "release"};

// Turns the command and its arguments into the script op it performs.
bool op_for(const std::string& command, const Options& o, std::string& op,
            std::vector<std::string>& op_args, std::string& error) {
  op = command;
  op_args = o.positional;
  if (command == "write") {
    const int sources = (o.positional.empty() ? 0 : 1) + (o.file.empty() ? 0 : 1) + (o.hex.empty() ? 0 : 1);
    if (sources != 1 || o.positional.size() > 1) {
      error = "write: give exactly one of TEXT, - (standard input), --file PATH, --hex HEX";
      return false;
    }
    if (!o.file.empty()) {
      op = "write-file";
      op_args = {o.file};
    } else if (!o.hex.empty()) {
      op = "write-hex";
      op_args = {o.hex};
    } else if (o.positional[0] == "-") {
      op = "write-stdin";
      op_args.clear();
    }
  } else if (command == "read" && o.all) {
    op = "read-all";
  } else if (command == "fsync" && o.datasync) {
    op = "fdatasync";
  } else if (command == "open") {
    if (!o.positional.empty() && !o.flags.empty()) {
      error = "open: give FLAGS or --flags, not both";
      return false;
    }
    if (o.positional.empty()) op_args = {o.flags.empty() ? std::string("rw") : o.flags};
  }
  return true;
}

}  // namespace

bool is_op_command(const std::string& command) {
  for (const char* op : kOpCommands) {
    if (command == op) return true;
  }
  return false;
}

int op_command(const std::string& command, const std::vector<std::string>& args) {
  Options o;
  std::vector<std::string> allowed = {"--flags", "--verbose"};
  if (command == "read") allowed.push_back("--all");
  if (command == "write") allowed.insert(allowed.end(), {"--file", "--hex"});
  if (command == "fsync") allowed.push_back("--datasync");
  if (command == "ioctl") allowed.push_back("--out-size");
  if (const int code = parse_options(command, args, allowed, false, o); code >= 0) return code;

  std::string op, error;
  std::vector<std::string> op_args;
  if (!op_for(command, o, op, op_args, error)) return usage_error(error);
  Step open_step, main_step, release_step;
  const std::string flags = command == "open" ? op_args.at(0) : (o.flags.empty() ? "rw" : o.flags);
  if (!parse_op("open", {flags}, o.script, open_step, error) ||
      !parse_op(op, op_args, o.script, main_step, error) ||
      !parse_op("release", {}, o.script, release_step, error)) {
    return usage_error(error);
  }
  if (main_step.from_stdin) {
    std::string input;
    if (!interrupt::read_stdin(input, error)) {
      return error.empty() ? interrupt::exit_status() : usage_error(error);
    }
    main_step.request.data = std::move(input);
  }

  auto session = Session::connect(o.socket, o.connect_timeout_ms, o.answer_timeout_ms, error);
  if (!session) {
    return interrupt::received() != 0 ? interrupt::exit_status() : usage_error(error);
  }
  // open and release are steps of their own only for the commands named so.
  std::vector<std::pair<const Step*, bool>> steps;  // step, printed
  steps.emplace_back(&open_step, command == "open" || o.verbose);
  if (command != "open" && command != "release") steps.emplace_back(&main_step, true);
  steps.emplace_back(&release_step, command == "release" || o.verbose);

  int status = kExitOk;
  for (const auto& [step, print] : steps) {
    switch (execute_step(*session, *step, o.json, print)) {
      case StepStatus::ok: break;
      case StepStatus::op_failed:
        status = kExitOpFailed;
        if (step == &open_step) return status;  // nothing open to work on
        break;
      case StepStatus::failed: return kExitUsage;
      case StepStatus::interrupted: return session->interrupted();
    }
  }
  return status;
}

}  // namespace bentos::ctl
