#include "prom_text.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>
#include <string_view>

namespace bentos::test::prom {

namespace {

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

bool valid_metric_name(std::string_view s) {
  if (s.empty() || !name_start(s[0])) return false;
  for (char c : s)
    if (!name_char(c)) return false;
  return true;
}

bool valid_label_name(std::string_view s) {
  if (s.empty() || s[0] == ':' || !name_start(s[0]) || s.rfind("__", 0) == 0) return false;
  for (char c : s)
    if (!name_char(c) || c == ':') return false;
  return true;
}

// A value as Prometheus reads it (Go's ParseFloat), canonical spellings only.
bool parse_value(std::string_view s, double& out) {
  if (s == "+Inf") return out = std::numeric_limits<double>::infinity(), true;
  if (s == "-Inf") return out = -std::numeric_limits<double>::infinity(), true;
  if (s == "NaN") return out = std::numeric_limits<double>::quiet_NaN(), true;
  if (s.empty()) return false;
  for (char c : s) {
    // from_chars would also take "inf" and "nan"; Go's canonical forms are above.
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+')) return false;
  }
  const char* begin = s.data();
  if (*begin == '+') ++begin;  // Go accepts a leading '+', from_chars does not
  const auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Unescapes `s` allowing only the escapes in `allowed` (besides the
// backslash itself): 'n' for a line feed, '"' for a quote.
bool unescape(std::string_view s, std::string_view allowed, std::string& out, std::string& error) {
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (i + 1 == s.size()) return error = "a backslash ends the text", false;
    const char e = s[++i];
    if (e == '\\') out += '\\';
    else if (e == 'n' && allowed.find('n') != std::string_view::npos) out += '\n';
    else if (e == '"' && allowed.find('"') != std::string_view::npos) out += '"';
    else return error = std::string("escape \\") + e + " is not allowed here", false;
  }
  return true;
}

// `{a="x",b="y"}` at the start of `s`; sets `consumed` to its length.
bool parse_labels(std::string_view s, std::map<std::string, std::string>& labels, size_t& consumed,
                  std::string& error) {
  size_t i = 1;  // after '{'
  for (;;) {
    if (i < s.size() && s[i] == '}') break;
    const size_t name_start_at = i;
    while (i < s.size() && s[i] != '=') ++i;
    const std::string name(s.substr(name_start_at, i - name_start_at));
    if (!valid_label_name(name)) return error = "bad label name '" + name + "'", false;
    if (i + 1 >= s.size() || s[i + 1] != '"') return error = "label " + name + ": expected =\"", false;
    i += 2;
    const size_t value_start = i;
    while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
    if (i >= s.size()) return error = "label " + name + ": unterminated value", false;
    std::string value;
    if (!unescape(s.substr(value_start, i - value_start), "n\"", value, error)) {
      return error = "label " + name + ": " + error, false;
    }
    if (!labels.emplace(name, value).second) return error = "label " + name + " twice", false;
    ++i;  // closing quote
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == '}') break;
    return error = "label set: expected ',' or '}' after label " + name, false;
  }
  consumed = i + 1;
  return true;
}

// Whether a sample called `name` belongs to `family`.
bool belongs(const Family& family, const std::string& name) {
  if (family.type == "histogram") {
    return name == family.name + "_bucket" || name == family.name + "_sum" || name == family.name + "_count";
  }
  return name == family.name;
}

std::string series_key(const Sample& s) {
  std::string key = s.name + "{";
  for (const auto& [k, v] : s.labels) key += k + "=" + v + "\x1f";
  return key + "}";
}

}  // namespace

const Family* Exposition::family(const std::string& name) const {
  for (const Family& f : families)
    if (f.name == name) return &f;
  return nullptr;
}

bool parse(const std::string& text, Exposition& out, std::string& error) {
  out = {};
  if (text.empty()) return error = "empty text", false;
  if (text.back() != '\n') return error = "the text does not end with a newline", false;
  std::set<std::string> family_names, series;
  Family* current = nullptr;
  size_t line_no = 0;
  const auto fail = [&](const std::string& what) {
    error = "line " + std::to_string(line_no) + ": " + what;
    return false;
  };
  std::string_view rest(text);
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    ++line_no;
    if (line.empty()) return fail("blank line");
    if (line[0] == '#') {
      const bool help = line.rfind("# HELP ", 0) == 0, type = line.rfind("# TYPE ", 0) == 0;
      if (!help && !type) return fail("a comment that is neither HELP nor TYPE");
      std::string_view body = line.substr(7);
      const size_t space = body.find(' ');
      if (space == std::string_view::npos) return fail("HELP or TYPE without a text");
      const std::string name(body.substr(0, space));
      const std::string_view value = body.substr(space + 1);
      if (!valid_metric_name(name)) return fail("bad metric name '" + name + "'");
      if (!current || current->name != name) {
        // A new family: the one before it is finished.
        if (current && (current->help.empty() || current->type.empty())) {
          return fail("family " + current->name + " has no " + (current->help.empty() ? "HELP" : "TYPE"));
        }
        if (!family_names.insert(name).second) return fail("family " + name + " appears twice");
        out.families.push_back(Family{name, "", "", {}});
        current = &out.families.back();
      } else if (!current->samples.empty()) {
        return fail("HELP or TYPE of " + name + " after its samples");
      }
      if (help) {
        if (!current->help.empty()) return fail("second HELP for " + name);
        std::string unescaped;
        if (!unescape(value, "n", unescaped, error)) return fail("HELP of " + name + ": " + error);
        if (unescaped.empty()) return fail("empty HELP for " + name);
        current->help = unescaped;
      } else {
        if (!current->type.empty()) return fail("second TYPE for " + name);
        const std::string t(value);
        if (t == "summary") return fail("summary " + name + ": the host writes none, this reader checks none");
        if (t != "counter" && t != "gauge" && t != "histogram" && t != "untyped") {
          return fail("unknown TYPE '" + t + "'");
        }
        current->type = t;
      }
      continue;
    }
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = std::string(line.substr(0, i));
    if (!valid_metric_name(s.name)) return fail("bad metric name '" + s.name + "'");
    if (!current || !belongs(*current, s.name)) {
      return fail("sample " + s.name + " is not in the family above it (" + (current ? current->name : "none") +
                  "): no HELP/TYPE of its own, or families interleaved");
    }
    if (current->help.empty() || current->type.empty()) return fail("sample " + s.name + " before its HELP and TYPE");
    if (i < line.size() && line[i] == '{') {
      size_t consumed = 0;
      if (!parse_labels(line.substr(i), s.labels, consumed, error)) return fail(s.name + ": " + error);
      i += consumed;
    }
    if (i >= line.size() || line[i] != ' ') return fail(s.name + ": expected one space before the value");
    const std::string_view value = line.substr(i + 1);
    if (value.find(' ') != std::string_view::npos) return fail(s.name + ": a timestamp or a second blank");
    if (!parse_value(value, s.value)) return fail(s.name + ": bad value '" + std::string(value) + "'");
    const bool bucket = current->type == "histogram" && s.name == current->name + "_bucket";
    if (bucket != (s.labels.count("le") == 1)) {
      return fail(s.name + (bucket ? ": a bucket without le" : ": le on a sample that is no bucket"));
    }
    if (!series.insert(series_key(s)).second) return fail(s.name + ": the same series twice");
    current->samples.push_back(std::move(s));
  }
  if (current && (current->help.empty() || current->type.empty())) {
    ++line_no;
    return fail("family " + current->name + " has no " + (current->help.empty() ? "HELP" : "TYPE"));
  }
  return true;
}

std::string check_histograms(const Exposition& exposition) {
  std::ostringstream problems;
  for (const Family& f : exposition.families) {
    if (f.type != "histogram") continue;
    struct Series {
      std::vector<std::pair<double, double>> buckets;  // (le, count) in text order
      int sums = 0, counts = 0;
      double count = 0;
    };
    std::map<std::string, Series> by_labels;
    for (const Sample& s : f.samples) {
      auto labels = s.labels;
      std::string le;
      if (auto it = labels.find("le"); it != labels.end()) {
        le = it->second;
        labels.erase(it);
      }
      Sample key{"", labels, 0};
      Series& series = by_labels[series_key(key)];
      if (s.name == f.name + "_bucket") {
        double bound = 0;
        if (!parse_value(le, bound) || std::isnan(bound)) {
          problems << f.name << series_key(key) << ": bad le '" << le << "'\n";
          continue;
        }
        series.buckets.emplace_back(bound, s.value);
      } else if (s.name == f.name + "_sum") {
        ++series.sums;
      } else {
        ++series.counts;
        series.count = s.value;
      }
    }
    for (const auto& [key, series] : by_labels) {
      const std::string where = f.name + key + ": ";
      if (series.buckets.empty()) problems << where << "no buckets\n";
      if (series.sums != 1) problems << where << series.sums << " _sum samples, expected 1\n";
      if (series.counts != 1) problems << where << series.counts << " _count samples, expected 1\n";
      for (size_t i = 1; i < series.buckets.size(); ++i) {
        if (!(series.buckets[i].first > series.buckets[i - 1].first)) {
          problems << where << "le " << series.buckets[i].first << " after " << series.buckets[i - 1].first << "\n";
        }
        if (series.buckets[i].second < series.buckets[i - 1].second) {
          problems << where << "bucket le=" << series.buckets[i].first << " counts " << series.buckets[i].second
                   << ", less than the one before it (" << series.buckets[i - 1].second << ")\n";
        }
      }
      if (!series.buckets.empty()) {
        const auto& [last_le, last_count] = series.buckets.back();
        if (!std::isinf(last_le)) problems << where << "the last bucket is le=" << last_le << ", not +Inf\n";
        else if (last_count != series.count) {
          problems << where << "+Inf bucket " << last_count << " != _count " << series.count << "\n";
        }
      }
    }
  }
  return problems.str();
}

std::string check_naming(const Exposition& exposition, const std::string& prefix) {
  std::ostringstream problems;
  const auto ends_with = [](const std::string& s, std::string_view tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  for (const Family& f : exposition.families) {
    if (f.name.rfind(prefix, 0) != 0) problems << f.name << ": does not start with " << prefix << "\n";
    if ((f.type == "counter") != ends_with(f.name, "_total")) {
      problems << f.name << ": a " << f.type << (f.type == "counter" ? " must" : " must not") << " end in _total\n";
    }
    for (const std::string_view reserved : {"_bucket", "_sum", "_count"}) {
      if (ends_with(f.name, reserved)) problems << f.name << ": ends in the reserved " << reserved << "\n";
    }
    if (f.type == "counter") {
      for (const Sample& s : f.samples) {
        if (!(s.value >= 0)) problems << s.name << ": counter value " << s.value << "\n";
      }
    }
  }
  return problems.str();
}

}  // namespace bentos::test::prom
