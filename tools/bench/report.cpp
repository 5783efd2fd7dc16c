#include "report.h"

#include <cmath>

namespace bentos::bench {
namespace {

// Six significant digits, and never NaN or infinity (not JSON).
std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string optional_number(const std::optional<double>& v) { return v ? number(*v) : "null"; }

// Names and units here are fixed ASCII words; quoting is enough.
std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::string cell(const std::optional<double>& v, int precision) {
  if (!v || !std::isfinite(*v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, *v);
  return buf;
}

}  // namespace

std::optional<double> Metric::ratio() const {
  if (!baseline || *baseline == 0) return std::nullopt;
  return host / *baseline;
}

int64_t percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(q * static_cast<double>(sorted.size()));
  size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  if (index >= sorted.size()) index = sorted.size() - 1;
  return sorted[index];
}

std::string to_json(const Metric& m) {
  return "{\"scenario\": " + quoted(m.scenario) + ", \"metric\": " + quoted(m.metric) + ", \"unit\": " +
         quoted(m.unit) + ", \"host\": " + number(m.host) + ", \"baseline\": " + optional_number(m.baseline) +
         ", \"ratio\": " + optional_number(m.ratio()) +
         (m.baseline_is.empty() ? std::string() : ", \"baseline_is\": " + quoted(m.baseline_is)) + "}";
}

std::string skipped_json(const std::string& scenario, const std::string& reason) {
  std::string escaped;  // the reason is free text (a path): escape it
  for (const char c : reason) {
    if (c == '"' || c == '\\') {
      escaped += '\\';
      escaped += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      escaped += buf;
    } else {
      escaped += c;
    }
  }
  return "{\"scenario\": " + quoted(scenario) + ", \"skipped\": \"" + escaped + "\"}";
}

void print_table_header(FILE* out) {
  std::fprintf(out, "%-16s %-16s %-9s %12s %12s %7s\n", "scenario", "metric", "unit", "host", "baseline", "ratio");
}

void print_table_row(FILE* out, const Metric& m) {
  const int precision = std::fabs(m.host) >= 1000 ? 0 : (std::fabs(m.host) >= 10 ? 1 : 2);
  std::fprintf(out, "%-16s %-16s %-9s %12s %12s %7s\n", m.scenario.c_str(), m.metric.c_str(), m.unit.c_str(),
               cell(m.host, precision).c_str(), cell(m.baseline, precision).c_str(), cell(m.ratio(), 2).c_str());
}

}  // namespace bentos::bench
