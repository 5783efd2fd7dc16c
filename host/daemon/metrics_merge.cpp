#include "daemon/metrics_merge.h"

#include <cstdlib>
#include <map>
#include <sstream>

namespace bentos::daemon {

namespace {

struct Family {
  std::string help, type;  // whole lines
  std::vector<std::string> samples;
};

// Families in the order first seen.
struct Exposition {
  std::vector<std::string> order;
  std::map<std::string, Family> families;

  Family& family(const std::string& name) {
    auto [it, added] = families.try_emplace(name);
    if (added) order.push_back(name);
    return it->second;
  }
};

// "# HELP name text" -> "name".
std::string comment_name(const std::string& line) {
  const size_t start = 7;  // after "# HELP " / "# TYPE "
  const size_t end = line.find(' ', start);
  return line.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// Reads `text` into `into`. With `device_only`, families not named
// bentos_device_* are skipped (a child's host-wide figures are summed
// separately). Samples follow their family's TYPE line.
void read_exposition(const std::string& text, Exposition& into, bool device_only) {
  std::istringstream in(text);
  std::string current;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      current = comment_name(line);
      if (device_only && current.rfind("bentos_device_", 0) != 0) continue;
      Family& f = into.family(current);
      (line[2] == 'H' ? f.help : f.type) = line;
    } else if (!line.empty() && line[0] != '#' && !current.empty()) {
      if (device_only && current.rfind("bentos_device_", 0) != 0) continue;
      into.family(current).samples.push_back(line);
    }
  }
}

// The value of an unlabelled sample `name` in `text`, or 0.
double gauge_value(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + " ", 0) == 0) return std::strtod(line.c_str() + name.size() + 1, nullptr);
  return 0;
}

std::string number(double v) {
  std::ostringstream out;
  out << static_cast<uint64_t>(v);
  return out.str();
}

}  // namespace

std::string merge_metrics(const std::string& host_text, const std::vector<ChildMetrics>& children) {
  Exposition all;
  read_exposition(host_text, all, false);
  double connections = gauge_value(host_text, "bentos_connections");
  double sessions = gauge_value(host_text, "bentos_sessions");
  for (const auto& c : children) {
    read_exposition(c.text, all, true);
    connections += gauge_value(c.text, "bentos_connections");
    sessions += gauge_value(c.text, "bentos_sessions");
  }
  all.family("bentos_connections").samples = {"bentos_connections " + number(connections)};
  all.family("bentos_sessions").samples = {"bentos_sessions " + number(sessions)};
  Family& restarts = all.family("bentos_device_restarts_total");
  restarts.help = "# HELP bentos_device_restarts_total Child processes started again after one ended (isolated devices).";
  restarts.type = "# TYPE bentos_device_restarts_total counter";
  Family& up = all.family("bentos_device_child_up");
  up.help = "# HELP bentos_device_child_up 1 while a child process serves the isolated device, else 0.";
  up.type = "# TYPE bentos_device_child_up gauge";
  for (const auto& c : children) {
    restarts.samples.push_back("bentos_device_restarts_total{device=\"" + c.device + "\"} " + number(c.restarts));
    up.samples.push_back("bentos_device_child_up{device=\"" + c.device + "\"} " + (c.up ? "1" : "0"));
  }
  std::string out;
  for (const auto& name : all.order) {
    const Family& f = all.families[name];
    if (!f.help.empty()) out += f.help + "\n";
    if (!f.type.empty()) out += f.type + "\n";
    for (const auto& s : f.samples) out += s + "\n";
  }
  return out;
}

}  // namespace bentos::daemon
