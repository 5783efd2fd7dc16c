#include "proc_cpu.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace bentos::bench {
namespace {

bool read_stat(const std::string& pid_dir, StatCpu& out) {
  std::ifstream in(pid_dir + "/stat");
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  return parse_stat_cpu(text.str(), out);
}

}  // namespace

bool parse_stat_cpu(const std::string& stat_text, StatCpu& out) {
  const size_t close = stat_text.rfind(')');
  if (close == std::string::npos) return false;
  // After "pid (comm)": state ppid pgrp session tty_nr tpgid flags minflt
  // cminflt majflt cmajflt utime stime cutime cstime (proc(5)).
  std::istringstream fields(stat_text.substr(close + 1));
  std::vector<std::string> f;
  for (std::string word; f.size() < 15 && fields >> word;) f.push_back(word);
  if (f.size() < 15) return false;
  for (size_t i = 1; i < 15; ++i) {
    if (f[i].find_first_not_of("-0123456789") != std::string::npos) return false;
  }
  out.parent = static_cast<pid_t>(std::atol(f[1].c_str()));
  out.own_ticks = std::atoll(f[11].c_str()) + std::atoll(f[12].c_str());
  out.reaped_children_ticks = std::atoll(f[13].c_str()) + std::atoll(f[14].c_str());
  return true;
}

double tree_cpu_seconds(pid_t pid) {
  StatCpu self;
  if (!read_stat("/proc/" + std::to_string(pid), self)) return -1;
  int64_t ticks = self.own_ticks + self.reaped_children_ticks;
  // Live children: every process whose parent is `pid`. A process that
  // exits while we look is skipped (its stat is gone).
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    StatCpu child;
    if (read_stat(entry.path().string(), child) && child.parent == pid) ticks += child.own_ticks;
  }
  return static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace bentos::bench
