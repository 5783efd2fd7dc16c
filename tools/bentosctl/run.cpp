// `bentosctl run`: a script of ops on one connection, one answer a line;
// and execute_step, which every device command uses to perform an op.
#include <iostream>

#include "commands.h"
#include "interrupt.h"
#include "options.h"
#include "output.h"

namespace bentos::ctl {

StepStatus execute_step(Session& session, const Step& step, bool json, bool print) {
  if (step.op == "sleep") {
    if (!interrupt::sleep_ms(step.sleep_ms)) return StepStatus::interrupted;
    if (print) print_answer(step, nullptr, json);
    return StepStatus::ok;
  }
  for (;;) {
    wire::Reply reply;
    switch (session.call(step.request, reply)) {
      case Session::Result::interrupted: return StepStatus::interrupted;
      case Session::Result::failed:
        usage_error(step.label + ": " + session.error());
        return StepStatus::failed;
      case Session::Result::answered: break;
    }
    const bool error = reply.kind == wire::ReplyKind::error;
    if (print || error) print_answer(step, &reply, json);
    if (error) return StepStatus::op_failed;
    // read-all goes on until EOF (an empty buf).
    if (!step.read_all || reply.kind != wire::ReplyKind::buf || reply.data.empty()) {
      return StepStatus::ok;
    }
  }
}

int run_command(const std::vector<std::string>& args) {
  Options options;
  options.answer_timeout_ms = 5000;  // a script gives up on a silent device
  const std::vector<std::string> allowed = {"--out-size"};
  if (const int code = parse_options("run", args, allowed, true, options); code >= 0) return code;
  std::vector<Step> steps;
  std::string error;
  if (!parse_script(options.positional, options.script, steps, error)) return usage_error(error);
  if (needs_stdin(steps)) {
    std::string input;
    if (!interrupt::read_stdin(input, error)) {
      return error.empty() ? interrupt::exit_status() : usage_error(error);
    }
    fill_stdin(steps, input);
  }

  auto session = Session::connect(options.socket, options.connect_timeout_ms,
                                  options.answer_timeout_ms, error);
  if (!session) {
    return interrupt::received() != 0 ? interrupt::exit_status() : usage_error(error);
  }
  int status = kExitOk;
  for (const Step& step : steps) {
    switch (execute_step(*session, step, options.json, true)) {
      case StepStatus::ok: break;
      case StepStatus::op_failed: status = kExitOpFailed; break;
      case StepStatus::failed: return kExitUsage;
      case StepStatus::interrupted: return session->interrupted();
    }
  }
  return status;
}

}  // namespace bentos::ctl
