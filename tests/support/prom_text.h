// A small, strict reader of the Prometheus text exposition format (0.0.4),
// for tests of the host's `metrics` answer. Stricter than Prometheus where
// the host's own output allows it, so a test catches what a scraper would
// merely tolerate:
//  - every family has one HELP and one TYPE line, before its samples;
//  - a family's samples follow each other (no interleaving), and each
//    sample's name belongs to the family it sits in (histograms: _bucket,
//    _sum, _count; summaries are refused, the host writes none);
//  - names and label names are valid, a label set has no duplicate label
//    and no blanks, label values use only the escapes \\ \" \n, HELP text
//    only \\ \n; no series appears twice;
//  - values are Go floats as Prometheus reads them (+Inf, -Inf, NaN, or a
//    decimal); no timestamps, no other comments, no blank lines; the text
//    ends with a newline.
// check_histograms() and check_naming() add the format's meaning on top.
//
// Value types and free functions; no thread affinity.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace bentos::test::prom {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;  // values unescaped
  double value = 0;
};

struct Family {
  std::string name, help, type;  // help unescaped
  std::vector<Sample> samples;
};

struct Exposition {
  std::vector<Family> families;  // in the order of the text
  // nullptr when there is none of that name.
  const Family* family(const std::string& name) const;
};

// Parses `text`; false with `error` ("line N: what is wrong") at the first
// problem.
bool parse(const std::string& text, Exposition& out, std::string& error);

// Every histogram's series (its labels without le): buckets in ascending
// le order, counts cumulative (never decreasing), the last le +Inf and equal
// to _count, one _sum and one _count. Returns the problems, one a line
// ("" when there are none).
std::string check_histograms(const Exposition& exposition);

// OpenMetrics-compatible names: every family starts with `prefix`, counters
// end in _total and nothing else does, counters are never negative.
// Returns the problems, one a line ("" when there are none).
std::string check_naming(const Exposition& exposition, const std::string& prefix);

}  // namespace bentos::test::prom
