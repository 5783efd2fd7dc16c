// What bentos-bench prints: one Metric per measured number, with the
// baseline's number when the scenario has one, as a table or as JSON lines.
// Also the percentile math the latency metrics use.
//
// Value types and pure functions; any thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace bentos::bench {

struct Metric {
  std::string scenario;
  std::string metric;
  std::string unit;
  double host = 0;
  std::optional<double> baseline;  // none where a raw baseline makes no sense
  // What the baseline column holds when it is not the raw baseline: the
  // *-isolated scenarios compare an isolated kv ("host") with the
  // in-process one ("in-process"). Empty: the raw baseline.
  std::string baseline_is;
  // host / baseline, when both are there and the baseline is not zero.
  std::optional<double> ratio() const;
};

// The q-quantile (0 < q <= 1) of `sorted` by nearest rank: the smallest
// sample with at least q of all samples at or below it. 0 when empty.
int64_t percentile(const std::vector<int64_t>& sorted, double q);

// One JSON object per line: {"scenario","metric","unit","host","baseline","ratio"},
// plus "baseline_is" when the baseline is not the raw one.
std::string to_json(const Metric& m);
// A skipped scenario's line: {"scenario", "skipped": reason}.
std::string skipped_json(const std::string& scenario, const std::string& reason);
void print_table_header(FILE* out);
void print_table_row(FILE* out, const Metric& m);

}  // namespace bentos::bench
