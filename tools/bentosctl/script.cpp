#include "script.h"

#include <climits>
#include <fstream>
#include <sstream>

#include "client.h"
#include "ioctl_parse.h"

namespace bentos::ctl {

namespace {

constexpr const char* kOps[] = {"open",    "write",  "write-hex", "write-file", "write-stdin",
                                "read",    "read-all", "flush",   "fsync",      "fdatasync",
                                "ioctl",   "poll",   "release",   "sleep"};

constexpr uint64_t kDefaultReadSize = 65536;
constexpr uint32_t kDefaultPollEvents = 0x1 | 0x4;  // POLLIN|POLLOUT
// Labels show this much of a write's text; the reply line gives the count.
constexpr size_t kLabelTextBytes = 60;

bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "write-file: cannot open '" + path + "'";
    return false;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    error = "write-file: cannot read '" + path + "'";
    return false;
  }
  out = buf.str();
  return true;
}

// Walks the tokens; `next_*` helpers consume arguments.
class Parser {
 public:
  Parser(const std::vector<std::string>& tokens, const ScriptOptions& options)
      : tokens_(tokens), options_(options) {}

  // One op whose arguments are exactly the tokens.
  bool single(const std::string& op, Step& step, std::string& error) {
    single_ = true;
    step.op = op;
    if (!parse_step(step, error)) return false;
    if (has_next()) {
      error = op + ": unexpected argument '" + tokens_[pos_] + "'";
      return false;
    }
    step.request.fh = options_.fh;
    return true;
  }

  bool run(std::vector<Step>& steps, std::string& error) {
    while (pos_ < tokens_.size()) {
      Step step;
      step.op = tokens_[pos_++];
      if (!parse_step(step, error)) return false;
      step.request.fh = options_.fh;
      steps.push_back(std::move(step));
    }
    if (steps.empty()) {
      error = "no ops given";
      return false;
    }
    return true;
  }

 private:
  bool has_next() const { return pos_ < tokens_.size(); }
  // The next token, if it is there and is not an op name (in a script).
  bool optional_arg(std::string& arg) {
    if (!has_next() || (!single_ && is_op_name(tokens_[pos_]))) return false;
    arg = tokens_[pos_++];
    return true;
  }
  bool required_arg(const Step& step, const char* what, std::string& arg, std::string& error) {
    if (!has_next()) {
      error = step.op + ": missing " + what;
      return false;
    }
    arg = tokens_[pos_++];
    return true;
  }

  bool parse_step(Step& step, std::string& error) {
    const std::string& op = step.op;
    std::string arg;
    if (op == "open") {
      if (!optional_arg(arg)) arg = "rw";
      int32_t flags = 0;
      if (!client::parse_open_flags(arg, flags, error)) return false;
      step.request = client::make_open(0, flags);
      step.label = "open " + arg;
    } else if (op == "write") {
      if (!required_arg(step, "TEXT", arg, error)) return false;
      step.label = "write " + client::c_quote(arg, kLabelTextBytes);
      step.request = client::make_write(0, std::move(arg));
    } else if (op == "write-hex") {
      if (!required_arg(step, "HEX", arg, error)) return false;
      std::string bytes;
      if (!client::from_hex(arg, bytes, error)) {
        error = "write-hex: " + error;
        return false;
      }
      step.label = "write-hex " + arg;
      step.request = client::make_write(0, std::move(bytes));
    } else if (op == "write-file") {
      if (!required_arg(step, "PATH", arg, error)) return false;
      std::string bytes;
      if (!read_file(arg, bytes, error)) return false;
      step.label = "write-file " + arg;
      step.request = client::make_write(0, std::move(bytes));
    } else if (op == "write-stdin") {
      step.label = "write-stdin";
      step.from_stdin = true;
      step.request = client::make_write(0, {});
    } else if (op == "read" || op == "read-all") {
      uint64_t size = kDefaultReadSize;
      if (has_next() && client::parse_number(tokens_[pos_], size)) {
        ++pos_;
      } else if (single_ && has_next()) {
        error = op + ": '" + tokens_[pos_] + "' is not a size in bytes";
        return false;
      }
      step.label = op + " " + std::to_string(size);
      step.read_all = op == "read-all";
      step.request = client::make_read(0, size);
    } else if (op == "flush" || op == "fsync" || op == "fdatasync" || op == "release") {
      step.label = op;
      if (op == "flush") step.request = client::make_flush(0);
      if (op == "fsync") step.request = client::make_fsync(0, false);
      if (op == "fdatasync") step.request = client::make_fsync(0, true);
      if (op == "release") step.request = client::make_release(0);
    } else if (op == "ioctl") {
      return parse_ioctl(step, error);
    } else if (op == "poll") {
      uint32_t events = kDefaultPollEvents;
      std::string why;
      if (has_next() && client::parse_poll_events(tokens_[pos_], events, why)) {
        step.label = "poll " + tokens_[pos_++];
      } else if (single_ && has_next()) {
        error = "poll: " + why;
        return false;
      } else {
        step.label = "poll " + client::poll_events_name(events);
      }
      step.request = client::make_poll(0, events);
    } else if (op == "sleep") {
      uint64_t ms = 0;
      if (!required_arg(step, "MS", arg, error)) return false;
      if (!client::parse_number(arg, ms) || ms > INT_MAX) {
        error = "sleep: '" + arg + "' is not a number of milliseconds";
        return false;
      }
      step.sleep_ms = static_cast<int>(ms);
      step.label = "sleep " + arg;
    } else {
      error = "unknown op '" + op + "' (run `bentosctl run --help` for the list)";
      return false;
    }
    return true;
  }

  bool parse_ioctl(Step& step, std::string& error) {
    std::string cmd_text;
    if (!required_arg(step, "CMD", cmd_text, error)) return false;
    uint32_t cmd = 0;
    if (!parse_ioctl_cmd(cmd_text, cmd, error)) {
      error = "ioctl: " + error;
      return false;
    }
    std::string payload_text;
    std::string payload;
    step.label = "ioctl " + cmd_text;
    if (optional_arg(payload_text)) {
      if (!parse_ioctl_payload(payload_text, payload, error)) {
        error = "ioctl: " + error;
        return false;
      }
      step.label += " " + payload_text;
    }
    step.request = client::make_ioctl(0, cmd, std::move(payload), options_.ioctl_out_size);
    return true;
  }

  const std::vector<std::string>& tokens_;
  const ScriptOptions& options_;
  size_t pos_ = 0;
  bool single_ = false;  // parse_op: every token is an argument
};

}  // namespace

bool is_op_name(const std::string& token) {
  for (const char* op : kOps) {
    if (token == op) return true;
  }
  return false;
}

bool parse_script(const std::vector<std::string>& tokens, const ScriptOptions& options,
                  std::vector<Step>& steps, std::string& error) {
  steps.clear();
  return Parser(tokens, options).run(steps, error);
}

bool parse_op(const std::string& op, const std::vector<std::string>& args,
              const ScriptOptions& options, Step& step, std::string& error) {
  step = Step{};
  return Parser(args, options).single(op, step, error);
}

bool needs_stdin(const std::vector<Step>& steps) {
  for (const Step& step : steps) {
    if (step.from_stdin) return true;
  }
  return false;
}

void fill_stdin(std::vector<Step>& steps, const std::string& input) {
  for (Step& step : steps) {
    if (step.from_stdin) step.request.data = input;
  }
}

}  // namespace bentos::ctl
