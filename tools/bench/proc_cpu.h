// The CPU time a process and its children have used, read from /proc:
// p2-scale compares how much CPU the host uses with isolated devices
// (child processes, each with a loop of its own) and with in-process ones
// (all on the host's one loop thread).
//
// Free functions over /proc; any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace bentos::bench {

// From the text of a /proc/<pid>/stat file: utime + stime (the process's
// own CPU, all its threads) and cutime + cstime (its children that have
// exited and been waited for), in clock ticks, and its parent. False
// when the text does not parse (the command name may hold spaces and
// parentheses: the fields are counted from the last ')').
struct StatCpu {
  pid_t parent = -1;
  int64_t own_ticks = 0;
  int64_t reaped_children_ticks = 0;
};
bool parse_stat_cpu(const std::string& stat_text, StatCpu& out);

// CPU seconds used so far by `pid` (every thread), its live children and
// the children it has waited for. The difference of two readings is what
// the tree used in between, even when a child died and was replaced (its
// time moves from the live sum to the parent's reaped sum). -1 when `pid`
// cannot be read.
double tree_cpu_seconds(pid_t pid);

}  // namespace bentos::bench
