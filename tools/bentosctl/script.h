// `bentosctl run` scripts: the op tokens of the command line turned into a
// list of steps, each holding the request to send. Everything is checked
// (and write-file contents read) before connecting, so a typo never leaves a
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
  wire::Request request;  // kind none for sleep
  int sleep_ms = 0;       // sleep
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

}  // namespace bentos::ctl
