// The command-line options bentosctl's device commands share, and their
// parser. Each command says which options it takes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "script.h"

namespace bentos::ctl {

struct Options {
  std::string socket;
  std::vector<std::string> positional;  // after SOCKET (for run: the ops)
  ScriptOptions script;                 // --fh, --out-size
  int connect_timeout_ms = 5000;
  int answer_timeout_ms = -1;  // negative: no limit
  std::string flags;           // --flags; empty: the command's default
  uint64_t size = 65536;       // --size
  std::string file, hex;       // write --file / --hex
  bool json = false;
  bool verbose = false;
  bool all = false;       // read --all
  bool datasync = false;  // fsync --datasync
};

// Parses `args` (what follows the command name). `allowed` lists the
// options beyond --help, --json, --fh and --timeout (e.g. "--flags",
// "--size"). For `run` (ops_follow), options end at the first token after
// SOCKET; otherwise they may appear anywhere and `--` ends them.
// Returns -1 to go on, or an exit status (help printed, usage error).
int parse_options(const std::string& command, const std::vector<std::string>& args,
                  const std::vector<std::string>& allowed, bool ops_follow, Options& out);

}  // namespace bentos::ctl
