// Ctrl-C and friends for bentosctl: SIGINT, SIGTERM and SIGHUP set a flag
// and make a self-pipe readable, so every blocking wait (an answer, stdin,
// a sleep) can stop at once, release what is open and exit 128 + signal.
// A second signal while cleaning up exits at once.
//
// Process-wide state; bentosctl is single-threaded.
#pragma once

#include <string>

namespace bentos::ctl::interrupt {

// Installs the handlers (a signal that is ignored, as for a background job
// of a non-interactive shell, stays ignored). Call once, early.
void install();

// The signal received, or 0.
int received();
// 128 + the signal received (130 for SIGINT, 143 for SIGTERM).
int exit_status();
// A descriptor that becomes readable once a signal arrived (never drained).
int wake_fd();

// Waits `ms` milliseconds; false when a signal cut it short.
bool sleep_ms(int ms);

// Reads standard input to its end. False when interrupted (error empty) or
// on a read error (error says which).
bool read_stdin(std::string& out, std::string& error);

// Writes all of `bytes` to standard output, unbuffered. False on an error
// such as EPIPE (the reader went away).
bool write_stdout(const std::string& bytes);

}  // namespace bentos::ctl::interrupt
