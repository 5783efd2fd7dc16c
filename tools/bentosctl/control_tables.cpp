#include "control_tables.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace bentos::ctl {

namespace {

using json = nlohmann::ordered_json;

// Columns padded to their widest cell; numeric columns aligned right.
class Table {
 public:
  Table(std::vector<std::string> header, std::vector<bool> right_aligned, std::string indent = "")
      : right_(std::move(right_aligned)), indent_(std::move(indent)) {
    rows_.push_back(std::move(header));
  }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  void print() const {
    std::vector<size_t> width(rows_.front().size(), 0);
    for (const auto& row : rows_)
      for (size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
    for (const auto& row : rows_) {
      std::string line = indent_;
      for (size_t c = 0; c < row.size() && c < width.size(); ++c) {
        const std::string pad(width[c] - row[c].size(), ' ');
        const bool last = c + 1 == row.size();
        if (c > 0) line += "  ";
        line += right_[c] ? pad + row[c] : (last ? row[c] : row[c] + pad);
      }
      std::cout << line << "\n";
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_;
  std::string indent_;
};

// A field as text: strings as they are, numbers as numbers, "-" if absent.
std::string text(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "-";
  const json& v = j[key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string micros(const json& latency, const char* key) {
  if (!latency.contains(key) || !latency[key].is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", latency[key].get<double>());
  return buf;
}

std::string duration(long long seconds) {
  char buf[64];
  const long long d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60;
  if (d > 0) {
    std::snprintf(buf, sizeof buf, "%lldd %lldh %02lldm", d, h, m);
  } else if (h > 0) {
    std::snprintf(buf, sizeof buf, "%lldh %02lldm %02llds", h, m, s);
  } else {
    std::snprintf(buf, sizeof buf, "%lldm %02llds", m, s);
  }
  return buf;
}

std::string joined(const json& names) {
  std::string out;
  if (names.is_array()) {
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + (n.is_string() ? n.get<std::string>() : n.dump());
  }
  return out.empty() ? "-" : out;
}

// "  LABEL: a, b, c" with the items wrapped at about 80 columns.
void print_wrapped(const std::string& label, const std::vector<std::string>& items) {
  const std::string indent(label.size() + 4, ' ');
  std::string line = "  " + label + ": ";
  bool first = true;
  for (const auto& item : items) {
    if (!first && line.size() + item.size() + 2 > 80) {
      std::cout << line << ",\n";
      line = indent;
    } else if (!first) {
      line += ", ";
    }
    line += item;
    first = false;
  }
  std::cout << line << (first ? "none" : "") << "\n";
}

const json& devices_of(const json& answer) {
  static const json none = json::array();
  return answer.contains("devices") && answer["devices"].is_array() ? answer["devices"] : none;
}

// For a device in a child process of its own: "  isolated: running, pid
// 4242, restarts 1, last exit signal SIGSEGV". Nothing for the others.
void print_isolation(const json& d) {
  if (!d.is_object() || d.value("isolation", "") != "process") return;
  std::cout << "  isolated: " << text(d, "state") << ", pid " << text(d, "pid") << ", restarts "
            << text(d, "restarts") << ", last exit " << text(d, "last_exit") << "\n";
}

void print_device_stats(const json& d) {
  std::cout << text(d, "name") << ": connections " << text(d, "connections") << ", sessions " << text(d, "sessions")
            << " (opened " << text(d, "sessions_opened") << "), requests " << text(d, "requests_total")
            << ", bytes in " << text(d, "bytes_in") << ", out " << text(d, "bytes_out") << "\n";
  print_isolation(d);
  const json requests = d.value("requests", json::object());
  const json latency = d.value("latency_us", json::object());
  Table ops({"OP", "REQUESTS", "P50_US", "P99_US", "MAX_US"}, {false, true, true, true, true}, "  ");
  bool any = false;
  for (const auto& [op, count] : requests.items()) {
    if (!count.is_number() || count.get<uint64_t>() == 0) continue;
    const json l = latency.value(op, json::object());
    ops.add({op, count.dump(), micros(l, "p50"), micros(l, "p99"), micros(l, "max")});
    any = true;
  }
  if (any) {
    ops.print();
  } else {
    std::cout << "  no requests yet\n";
  }
  std::vector<std::string> errors;
  const json error_counts = d.value("errors", json::array());
  for (const auto& e : error_counts) errors.push_back(text(e, "name") + " (" + text(e, "errno") + ") " + text(e, "count"));
  print_wrapped("errors", errors);
  std::vector<std::string> limits;
  const json limit_counts = d.value("limits", json::object());
  for (const auto& [name, count] : limit_counts.items()) limits.push_back(name + " " + count.dump());
  print_wrapped("limits", limits);
}

}  // namespace

void print_list(const json& answer) {
  const json& devices = devices_of(answer);
  if (devices.empty()) {
    std::cout << "no devices\n";
    return;
  }
  Table t({"NAME", "PATTERN", "DRIVER", "DEVICE_PATH", "SOCKET", "PLUGIN"}, {false, false, false, false, false, false});
  for (const auto& d : devices) {
    t.add({text(d, "name"), text(d, "pattern"), text(d, "driver") + " " + text(d, "driver_version"),
           text(d, "device_path"), text(d, "socket"), text(d, "plugin")});
  }
  t.print();
}

void print_status(const json& answer) {
  const long long up = answer.value("uptime_seconds", 0LL);
  std::cout << "bentos-driver-host " << text(answer, "version") << ", pid " << text(answer, "pid") << ", up "
            << duration(up) << "\n";
  Table t({"devices", text(answer, "devices")}, {false, true});
  t.add({"connections", text(answer, "connections")});
  t.add({"sessions", text(answer, "sessions")});
  t.add({"max_connections", text(answer, "max_connections")});
  t.print();
  const json isolated = answer.value("isolated", json::array());
  if (isolated.empty()) return;
  std::cout << "isolated devices:\n";
  Table rows({"NAME", "STATE", "PID", "RESTARTS", "CONNECTIONS", "LAST_EXIT"}, {false, false, true, true, true, false},
             "  ");
  for (const auto& d : isolated) {
    rows.add({text(d, "name"), text(d, "state"), text(d, "pid"), text(d, "restarts"), text(d, "connections"),
              text(d, "last_exit")});
  }
  rows.print();
}

void print_stats(const json& answer) {
  const json& devices = devices_of(answer);
  if (devices.empty()) std::cout << "no devices\n";
  bool first = true;
  for (const auto& d : devices) {
    if (!first) std::cout << "\n";
    first = false;
    print_device_stats(d);
  }
}

void print_reload(const json& answer) {
  if (answer.value("rejected", false)) {
    // Nothing was applied: a table of empty columns would read as "all
    // devices unchanged" when the point is that the manifests are broken.
    std::cout << "reload rejected: the manifests have errors; nothing changed, every device keeps serving "
                 "its old configuration\n";
    return;
  }
  Table t({"added", joined(answer.value("added", json::array()))}, {false, false});
  t.add({"removed", joined(answer.value("removed", json::array()))});
  t.add({"restarted", joined(answer.value("restarted", json::array()))});
  t.add({"unchanged", joined(answer.value("unchanged", json::array()))});
  t.print();
}

void print_metrics(const json& answer) { std::cout << answer.at("text").get<std::string>() << std::flush; }

}  // namespace bentos::ctl
