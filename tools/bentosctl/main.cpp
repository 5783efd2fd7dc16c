// bentosctl: talks to a device endpoint the way bentosd would, for people
// and shell scripts. `run` sends a sequence of ops on one connection and
// prints one answer per op.
//
// Single-threaded.
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "build_config.h"
#include "client.h"
#include "control.h"
#include "script.h"

namespace {

using bentos::client::Connection;
using bentos::ctl::Step;
namespace client = bentos::client;
namespace wire = bentos::wire;

constexpr int kExitOk = 0;
constexpr int kExitOpFailed = 1;
constexpr int kExitUsage = 2;

const char kMainUsage[] = R"(Usage: bentosctl [--help] [--version] COMMAND ...

Talks to a BentOS device endpoint the way bentosd does.

Commands:
  run SOCKET [OPTIONS] OP...   send a sequence of ops on one connection and
                               print each answer
  host CONTROL_SOCKET [CMD]    ask a running host (--control-socket) for its
                               devices and counters (list, status)

Run `bentosctl run --help` for the ops and examples.
)";

const char kRunUsage[] = R"(Usage: bentosctl run SOCKET [--fh N] [--timeout MS] [--out-size N] [--json] OP...

Opens one connection to SOCKET (unix:///path.sock, /abs/path.sock or
tcp://host:port), sends each OP in turn, waits for its answer and prints one
line per op.

Options (anywhere before the first op):
  --fh N          file handle carried by every op (default 1)
  --timeout MS    connect timeout and per-answer timeout (default 5000)
  --out-size N    out_bufsz sent with ioctl (default 4096)
  --json          print one JSON object per op instead of text

Ops (an optional argument is taken when the next token is not an op name;
for read and poll, when it is a number or, for poll, event names):
  open [FLAGS]      open; FLAGS: ro|wo|rw, nonblock, append, creat, trunc, excl,
                    cloexec, ... joined with ',' or '|', or a number (default rw)
  write TEXT        write TEXT as is (no newline added)
  write-hex HEX     write bytes given in hex, e.g. 00ff10 or de:ad
  write-file PATH   write the contents of PATH
  read [SIZE]       read up to SIZE bytes (default 65536)
  flush             flush
  fsync             fsync
  fdatasync         fsync with datasync set
  ioctl CMD [HEX]   ioctl CMD (decimal or 0x hex), optional hex payload
  poll [EVENTS]     poll; EVENTS a number or names like in|out (default in|out)
  release           release the handle
  sleep MS          pause MS milliseconds

Errors are printed by name and number: `read 65536: error EAGAIN (11)`.

Exit status: 0 every op succeeded, 1 some op answered an error, 2 usage or
connection error (no answer within the timeout, connection closed).

Examples:
  bentosctl run /tmp/bentos-kv.sock open rw write 'name=bentos' flush read release
  bentosctl run unix:///tmp/bentos-synth.sock open ioctl 0x80 release
  bentosctl run /tmp/bentos-synth.sock open ioctl 0x4004be01 01000000 release
  bentosctl run --json --fh 7 tcp://127.0.0.1:7000 open rw,nonblock read 16 poll in release
)";

struct RunArgs {
  std::string socket;
  bentos::ctl::ScriptOptions script;
  int timeout_ms = 5000;
  bool json = false;
  std::vector<std::string> ops;
};

int usage_error(const std::string& message) {
  std::cerr << "bentosctl: " << message << "\n";
  return kExitUsage;
}

// Takes an option's value from "--opt=V" or the following token.
bool option_value(const std::vector<std::string>& args, size_t& i, const std::string& name,
                  std::string& value) {
  const std::string& a = args[i];
  if (a.size() > name.size() && a.compare(0, name.size(), name) == 0 && a[name.size()] == '=') {
    value = a.substr(name.size() + 1);
    return true;
  }
  if (a != name) return false;
  value = i + 1 < args.size() ? args[++i] : std::string();
  return true;
}

// Parses the arguments after "run". Returns -1 to go on, else an exit code.
int parse_run_args(const std::vector<std::string>& args, RunArgs& out) {
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string value;
    uint64_t n = 0;
    if (a == "--help" || a == "-h") {
      std::cout << kRunUsage;
      return kExitOk;
    } else if (a == "--json") {
      out.json = true;
    } else if (option_value(args, i, "--fh", value)) {
      if (!client::parse_number(value, n)) return usage_error("--fh: expected a number");
      out.script.fh = n;
    } else if (option_value(args, i, "--timeout", value)) {
      if (!client::parse_number(value, n) || n > INT32_MAX) {
        return usage_error("--timeout: expected milliseconds");
      }
      out.timeout_ms = static_cast<int>(n);
    } else if (option_value(args, i, "--out-size", value)) {
      if (!client::parse_number(value, n)) return usage_error("--out-size: expected a number");
      out.script.ioctl_out_size = n;
    } else if (a.rfind("--", 0) == 0) {
      return usage_error("run: unknown option '" + a + "' (see bentosctl run --help)");
    } else if (out.socket.empty()) {
      out.socket = a;
    } else {
      break;  // the first op: options end here
    }
  }
  if (out.socket.empty()) return usage_error("run: missing SOCKET (see bentosctl run --help)");
  out.ops.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return -1;
}

const char* reply_kind_name(wire::ReplyKind kind) {
  switch (kind) {
    case wire::ReplyKind::error: return "error";
    case wire::ReplyKind::empty: return "empty";
    case wire::ReplyKind::open: return "open";
    case wire::ReplyKind::buf: return "buf";
    case wire::ReplyKind::write: return "write";
    case wire::ReplyKind::ioctl: return "ioctl";
    case wire::ReplyKind::poll: return "poll";
  }
  return "?";
}

nlohmann::ordered_json step_json(const Step& step) {
  nlohmann::ordered_json j;
  j["op"] = step.op;
  j["label"] = step.label;
  const wire::Request& r = step.request;
  if (step.op == "sleep") {
    j["ms"] = step.sleep_ms;
    return j;
  }
  j["fh"] = r.fh;
  switch (r.kind) {
    case wire::OpKind::open: j["flags"] = r.flags; break;
    case wire::OpKind::read: j["size"] = r.size; break;
    case wire::OpKind::write: j["bytes"] = r.data.size(); break;
    case wire::OpKind::ioctl:
      j["cmd"] = r.cmd;
      j["in_hex"] = client::to_hex(r.data);
      break;
    case wire::OpKind::poll: j["events"] = r.events; break;
    default: break;
  }
  return j;
}

void add_reply_json(nlohmann::ordered_json& j, const wire::Reply& reply) {
  j["id"] = reply.id;
  j["ok"] = reply.kind != wire::ReplyKind::error;
  j["reply"] = reply_kind_name(reply.kind);
  j["text"] = client::describe(reply);
  switch (reply.kind) {
    case wire::ReplyKind::error:
      j["errno"] = reply.err;
      j["errno_name"] = client::errno_name(reply.err);
      break;
    case wire::ReplyKind::buf:
      j["eof"] = reply.data.empty();
      j["data"] = reply.data;  // invalid UTF-8 is replaced when dumped; data_hex is exact
      j["data_hex"] = client::to_hex(reply.data);
      break;
    case wire::ReplyKind::write: j["count"] = reply.count; break;
    case wire::ReplyKind::ioctl:
      j["result"] = reply.result;
      j["buf_hex"] = client::to_hex(reply.data);
      break;
    case wire::ReplyKind::poll: {
      j["revents"] = reply.revents;
      j["revents_names"] = client::poll_events_name(reply.revents);
      break;
    }
    default: break;
  }
}

void print_line(const RunArgs& args, const Step& step, const wire::Reply* reply) {
  if (args.json) {
    nlohmann::ordered_json j = step_json(step);
    if (reply != nullptr) {
      add_reply_json(j, *reply);
    } else {
      j["ok"] = true;
    }
    std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  } else {
    std::cout << step.label << ": " << (reply != nullptr ? client::describe(*reply) : "ok")
              << "\n";
  }
  // Show progress as it happens: scripts with sleeps, or a pipe to a reader.
  std::cout.flush();
}

int run(const std::vector<std::string>& raw_args) {
  RunArgs args;
  if (const int code = parse_run_args(raw_args, args); code >= 0) return code;
  std::vector<Step> steps;
  std::string error;
  if (!bentos::ctl::parse_script(args.ops, args.script, steps, error)) return usage_error(error);

  auto conn = Connection::connect(args.socket, error, args.timeout_ms);
  if (!conn) return usage_error(error);

  int status = kExitOk;
  for (const Step& step : steps) {
    if (step.op == "sleep") {
      std::this_thread::sleep_for(std::chrono::milliseconds(step.sleep_ms));
      print_line(args, step, nullptr);
      continue;
    }
    const std::optional<wire::Reply> reply = conn->call(step.request, args.timeout_ms);
    if (!reply) return usage_error(step.label + ": " + conn->last_error());
    if (reply->kind == wire::ReplyKind::error) status = kExitOpFailed;
    print_line(args, step, &*reply);
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  // The client sends with MSG_NOSIGNAL; this covers stdout going to a
  // closed pipe (`bentosctl run ... | head -1`).
  std::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kMainUsage;
    return kExitUsage;
  }
  const std::string& cmd = args[0];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << kMainUsage;
    return kExitOk;
  }
  if (cmd == "--version" || cmd == "-V") {
    std::cout << "bentosctl " << BENTOS_VERSION << "\n";
    return kExitOk;
  }
  if (cmd == "run") return run(std::vector<std::string>(args.begin() + 1, args.end()));
  if (cmd == "host") return bentos::ctl::control_command(std::vector<std::string>(args.begin() + 1, args.end()));
  return usage_error("unknown command '" + cmd + "' (see bentosctl --help)");
}
