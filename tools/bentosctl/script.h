// `bentosctl run` scripts: the op tokens of the command line turned into a
// list of steps, each holding the request to send. Everything is checked
// (and write-file contents read; standard input for write-stdin is read by
// the caller, see fill_stdin) before connecting, so a typo never leaves a
// half-run script behind.
//
// Plain values; used by main's single thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wire/ops.h"

namespace bentos::ctl {

struct Step {
  std::string op;         // op name as typed: "open", "write-hex", "sleep", ...
  std::string label;      // what its output line starts with: `write "abc"`
  wire::Request request;  // kind none for sleep; for read-all, each read
  int sleep_ms = 0;       // sleep
  bool read_all = false;  // read-all: repeat the read until EOF or an error
  bool from_stdin = false;  // write-stdin: request.data is filled by fill_stdin
};

struct ScriptOptions {
  uint64_t fh = 1;
  uint64_t ioctl_out_size = 4096;
};

// True when `token` names an op; decides whether an optional argument is
// present.
bool is_op_name(const std::string& token);

// Parses tokens[0..] into steps. On failure returns false with a message
// naming the offending token.
bool parse_script(const std::vector<std::string>& tokens, const ScriptOptions& options,
                  std::vector<Step>& steps, std::string& error);

// Parses one op with exactly these arguments (an optional argument is taken
// even when it looks like an op name): the per-op commands.
bool parse_op(const std::string& op, const std::vector<std::string>& args,
              const ScriptOptions& options, Step& step, std::string& error);

// True when some step is write-stdin.
bool needs_stdin(const std::vector<Step>& steps);
// Gives every write-stdin step `input` as its data.
void fill_stdin(std::vector<Step>& steps, const std::string& input);

}  // namespace bentos::ctl
