// `bentosctl cat` (read until EOF, raw bytes to stdout, blocking like cat)
// and `bentosctl send` (write a request, print the answer as it arrives).
#include <cerrno>
#include <csignal>
#include <iostream>

#include "client.h"
#include "commands.h"
#include "interrupt.h"
#include "options.h"
#include "output.h"

namespace bentos::ctl {

namespace {

// One handle on one connection, for cat and send: opens, reads, releases,
// and turns what happens into the exit status.
class Handle {
 public:
  // summary_json: with --json an error is printed as send's one summary
  // object (with `partial`, the data read so far), not as a read answer.
  Handle(const char* command, const Options& o, bool summary_json = false)
      : command_(command), o_(o), summary_json_(summary_json) {}

  std::string partial;

  // Returns -1 once open, else the exit status.
  int open(const std::string& default_flags) {
    std::string error;
    Step open_step;
    const std::string flags = o_.flags.empty() ? default_flags : o_.flags;
    if (!parse_op("open", {flags}, o_.script, open_step, error)) return usage_error(error);
    session_ = Session::connect(o_.socket, o_.connect_timeout_ms, o_.answer_timeout_ms, error);
    if (!session_) {
      return interrupt::received() != 0 ? interrupt::exit_status() : usage_error(error);
    }
    return answer(open_step, "open: ");
  }

  // Sends `step`'s request. Returns -1 when it answered (reply set; an
  // errno answer only when errno_ok), else the exit status.
  int call(const Step& step, wire::Reply& reply) {
    switch (session_->call(step.request, reply)) {
      case Session::Result::interrupted: return session_->interrupted();
      case Session::Result::failed: return usage_error(command_ + ": " + step.label + ": " + session_->error());
      case Session::Result::answered: return -1;
    }
    return kExitUsage;
  }

  // Releases; returns `status`, or 1 when it was 0 and release failed.
  int release(int status) {
    Step step;
    std::string error;
    parse_op("release", {}, o_.script, step, error);
    wire::Reply reply;
    if (const int code = call(step, reply); code >= 0) return code;
    if (reply.kind == wire::ReplyKind::error) {
      report(step, reply, "release: ");
      if (status == kExitOk) status = kExitOpFailed;
    }
    return status;
  }

  // Prints an errno answer on stderr (and as JSON when asked).
  void report(const Step& step, const wire::Reply& reply, const std::string& what) {
    if (o_.json && summary_json_) {
      nlohmann::ordered_json j;
      j["op"] = command_;
      j["ok"] = false;
      j["failed_op"] = step.op;
      j["errno"] = reply.err;
      j["errno_name"] = client::errno_name(reply.err);
      j["data"] = partial;
      j["data_hex"] = client::to_hex(partial);
      print_json(j);
    } else if (o_.json) {
      print_answer(step, &reply, true);
    }
    std::cout.flush();
    std::cerr << "bentosctl: " << command_ << ": " << what << client::describe(reply) << "\n";
  }

 private:
  int answer(const Step& step, const std::string& what) {
    wire::Reply reply;
    if (const int code = call(step, reply); code >= 0) return code;
    if (reply.kind != wire::ReplyKind::error) return -1;
    report(step, reply, what);
    return kExitOpFailed;
  }

  std::string command_;
  const Options& o_;
  bool summary_json_;
  std::unique_ptr<Session> session_;
};

Step read_step(const Options& o) {
  Step step;
  std::string error;
  parse_op("read", {std::to_string(o.size)}, o.script, step, error);
  return step;
}

}  // namespace

int cat_command(const std::vector<std::string>& args) {
  Options o;
  if (const int code = parse_options("cat", args, {"--flags", "--size"}, false, o); code >= 0) {
    return code;
  }
  if (!o.positional.empty()) return usage_error("cat: unexpected argument '" + o.positional[0] + "'");
  Handle h("cat", o);
  if (const int code = h.open("ro"); code >= 0) return code;
  const Step step = read_step(o);
  for (;;) {
    wire::Reply reply;
    if (const int code = h.call(step, reply); code >= 0) return code;
    if (reply.kind == wire::ReplyKind::error) {
      // EAGAIN: nothing more to read without waiting (a P2 device with no
      // request, a nonblock handle); like the end of the file.
      if (reply.err == EAGAIN) return h.release(kExitOk);
      h.report(step, reply, "");
      return h.release(kExitOpFailed);
    }
    if (o.json) {
      print_answer(step, &reply, true);
    } else if (!interrupt::write_stdout(reply.data)) {
      // The reader went away (`| head -3`): stop quietly, as cat does.
      h.release(kExitOk);
      return 128 + SIGPIPE;
    }
    if (reply.kind != wire::ReplyKind::buf || reply.data.empty()) return h.release(kExitOk);
  }
}

int send_command(const std::vector<std::string>& args) {
  Options o;
  if (const int code = parse_options("send", args, {"--flags", "--size"}, false, o); code >= 0) {
    return code;
  }
  if (o.positional.size() != 1) return usage_error("send: expected SOCKET TEXT (or - for standard input)");
  std::string text = o.positional[0], error;
  if (text == "-" && !interrupt::read_stdin(text, error)) {
    return error.empty() ? interrupt::exit_status() : usage_error(error);
  }
  Step write_step;
  parse_op("write", {text}, o.script, write_step, error);
  const Step step = read_step(o);

  Handle h("send", o, true);
  if (const int code = h.open("rw"); code >= 0) return code;
  wire::Reply reply;
  if (const int code = h.call(write_step, reply); code >= 0) return code;
  if (reply.kind == wire::ReplyKind::error) {
    h.report(write_step, reply, "write: ");
    return h.release(kExitOpFailed);
  }
  // Each read's data goes to stdout as soon as it arrives: a streaming
  // device (an LLM answering token by token) shows its answer as it is
  // produced, not at EOF. --json keeps it for its one summary object.
  std::string& answer = h.partial;
  int reads = 0;
  for (;;) {
    if (const int code = h.call(step, reply); code >= 0) return code;
    ++reads;
    if (reply.kind == wire::ReplyKind::error) {
      h.report(step, reply, "");
      return h.release(kExitOpFailed);
    }
    if (reply.kind != wire::ReplyKind::buf || reply.data.empty()) break;
    answer += reply.data;
    if (!o.json && !interrupt::write_stdout(reply.data)) {
      // The reader went away (`| head -c 10`): stop quietly, as cat does.
      h.release(kExitOk);
      return 128 + SIGPIPE;
    }
  }
  if (o.json) {
    nlohmann::ordered_json summary;
    summary["op"] = "send";
    summary["ok"] = true;
    summary["data"] = answer;
    summary["data_hex"] = client::to_hex(answer);
    summary["reads"] = reads;
    print_json(summary);
  }
  return h.release(kExitOk);
}

}  // namespace bentos::ctl
