// bentosctl's device commands. Each takes the arguments after its name and
// returns the process exit status (session.h: 0, 1, 2, or 128 + signal).
//
// main's thread only.
#pragma once

#include <string>
#include <vector>

#include "script.h"
#include "session.h"

namespace bentos::ctl {

// `run SOCKET [OPTIONS] OP...` (run.cpp).
int run_command(const std::vector<std::string>& args);

// open, read, write, flush, fsync, ioctl, poll, release (commands.cpp).
bool is_op_command(const std::string& command);
int op_command(const std::string& command, const std::vector<std::string>& args);

// `cat SOCKET` and `send SOCKET TEXT|-` (cat_send.cpp).
int cat_command(const std::vector<std::string>& args);
int send_command(const std::vector<std::string>& args);

enum class StepStatus {
  ok,           // answered with success (read-all: up to EOF)
  op_failed,    // answered an errno
  failed,       // no answer: connection error, printed as a usage error
  interrupted,  // a signal arrived
};

// Performs one step (sleep, read-all's repeated reads, or one request) and
// prints its answers; with print false only error answers are printed.
// For `failed` the error message is already printed.
StepStatus execute_step(Session& session, const Step& step, bool json, bool print);

}  // namespace bentos::ctl
