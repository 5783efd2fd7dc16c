// The one line the host logs when a signal kills it (issue 14, item 5):
// a plugin in this process dereferenced NULL, aborted, hit an illegal
// instruction... The host cannot survive that (the plugin's memory is the
// host's memory), but it can say which device's plugin was running before
// it goes, instead of dying silently:
//
//   error: crashy: the host crashed with SIGSEGV (segmentation fault) in a
//   plugin callback of device 'crashy' (on_request, plugin /p/crasher.so);
//   exiting by the same signal so that the service manager restarts the
//   host
//
// (one line). The handler then lets the process die by that same signal,
// so the exit status, core dumps and systemd's Restart=on-failure see the
// crash as it was. A device that must not take the others down runs in a
// process of its own ("isolation": "process").
//
// Which device: loop/running_plugin.h (every plugin call marks its thread).
// The handler runs on an alternate signal stack, so a stack overflow is
// reported too, and does only async-signal-safe things: no allocation, no
// stdio, no locks; one write(2) to standard error.
#pragma once

#include <sys/types.h>

#include <cstddef>

#include "loop/running_plugin.h"

namespace bentos::daemon {

// Catches SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT for the whole
// process and gives the calling thread an alternate signal stack (other
// threads that run plugin code make their own: loop::SignalStack). Call it
// first thing in main(), on the main thread; again is harmless.
void install_crash_report();

// In an isolated device's child process (daemon/isolated_child.cpp): its
// crash takes down that device alone, and the host, not the service
// manager, starts it again; the line says so. Before any plugin loads.
void report_crashes_as_isolated_child();

// The line for a death by `signum` (with its trailing newline, and
// journald's "<3>" priority prefix when `journal`), written into `out`,
// cut to fit `capacity`; returns its length. `sender` is the process that
// sent the signal with kill(2), or 0 when the crashing code raised it
// itself (a fault, abort()). `site` is the plugin call that was running on
// the crashing thread, or null. `isolated_child`: the line of an isolated
// device's child process. Async-signal-safe.
size_t format_crash_line(char* out, size_t capacity, int signum, pid_t sender, const loop::PluginCallSite* site,
                         bool journal, bool isolated_child = false) noexcept;

}  // namespace bentos::daemon
