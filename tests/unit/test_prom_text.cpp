// The test reader of the Prometheus text format (tests/support/prom_text.h)
// must refuse what it claims to refuse; otherwise the metrics tests that
// rely on it would pass on broken output.
#include <doctest/doctest.h>

#include <string>

#include "prom_text.h"

using namespace bentos::test::prom;

namespace {

const char kGood[] =
    "# HELP x_requests_total Requests, \\\\ and \\n escaped.\n"
    "# TYPE x_requests_total counter\n"
    "x_requests_total{device=\"a\\\"b\\\\c\\nd\",op=\"read\"} 3\n"
    "x_requests_total{device=\"e\",op=\"read\",} 0\n"
    "# TYPE x_up gauge\n"
    "# HELP x_up Up.\n"
    "x_up 1.5e-07\n"
    "# HELP x_latency_seconds Latency.\n"
    "# TYPE x_latency_seconds histogram\n"
    "x_latency_seconds_bucket{op=\"read\",le=\"0.001\"} 1\n"
    "x_latency_seconds_bucket{op=\"read\",le=\"+Inf\"} 2\n"
    "x_latency_seconds_sum{op=\"read\"} 0.5\n"
    "x_latency_seconds_count{op=\"read\"} 2\n"
    "# HELP x_empty_total Nothing yet.\n"
    "# TYPE x_empty_total counter\n";

// The error parse() gives for `text` ("" if it parses).
std::string parse_error(const std::string& text) {
  Exposition e;
  std::string error;
  return parse(text, e, error) ? "" : error;
}

}  // namespace

TEST_CASE("a well-formed exposition parses: families, labels unescaped, values, an empty family") {
  Exposition e;
  std::string error;
  REQUIRE_MESSAGE(parse(kGood, e, error), error);
  REQUIRE(e.families.size() == 4);
  const Family* requests = e.family("x_requests_total");
  REQUIRE(requests);
  CHECK(requests->type == "counter");
  CHECK(requests->help == "Requests, \\ and \n escaped.");
  REQUIRE(requests->samples.size() == 2);
  CHECK(requests->samples[0].labels.at("device") == "a\"b\\c\nd");
  CHECK(requests->samples[0].value == 3);
  CHECK(e.family("x_up")->samples[0].value == doctest::Approx(1.5e-07));
  CHECK(e.family("x_latency_seconds")->samples[1].labels.at("le") == "+Inf");
  CHECK(e.family("x_latency_seconds")->samples[1].value == 2);
  CHECK(e.family("x_empty_total")->samples.empty());
  CHECK(check_histograms(e) == "");
  CHECK(check_naming(e, "x_") == "");
}

TEST_CASE("the reader refuses what the format or the host's house rules forbid") {
  const std::string head = "# HELP a_total A.\n# TYPE a_total counter\n";
  struct Bad {
    std::string text, error;
  };
  const Bad cases[] = {
      {"", "empty"},
      {head + "a_total 1", "newline"},
      {"a_total 1\n", "not in the family"},
      {"# HELP a_total A.\na_total 1\n", "before its HELP and TYPE"},
      {"# TYPE a_total counter\na_total 1\n", "before its HELP and TYPE"},
      {"# HELP a_total A.\n# HELP b_total B.\n", "has no TYPE"},
      {head + "a_total 1\n# HELP a_total again\n", "after its samples"},
      {head + "# HELP b_total B.\n# TYPE b_total counter\nb_total 1\na_total 1\n", "not in the family"},
      {head + "# HELP b_total B.\n# TYPE b_total counter\n# HELP a_total A.\n", "appears twice"},
      {head + "\n", "blank line"},
      {head + "# just a comment\n", "neither HELP nor TYPE"},
      {head + "a_total{x=\"1\",x=\"2\"} 1\n", "twice"},
      {head + "a_total{x=\"1\"} 1\na_total{x=\"1\"} 2\n", "same series twice"},
      {head + "a_total{x=\"a\\tb\"} 1\n", "escape"},
      {head + "a_total{x=\"open} 1\n", "unterminated"},
      {head + "a_total{1x=\"y\"} 1\n", "bad label name"},
      {head + "a_total{__x=\"y\"} 1\n", "bad label name"},
      {head + "a_total{x=\"y\" } 1\n", "expected ','"},
      {head + "a_total 1 1700000000\n", "timestamp"},
      {head + "a_total  1\n", "timestamp or a second blank"},
      {head + "a_total inf\n", "bad value"},
      {head + "a_total 1x\n", "bad value"},
      {head + "a_total{le=\"1\"} 1\n", "le on a sample"},
      {"# HELP 1a A.\n", "bad metric name"},
      {"# HELP a A.\n# TYPE a summary\n", "summary"},
      {"# HELP a A.\n# TYPE a info\n", "unknown TYPE"},
      {"# HELP a A\\x.\n# TYPE a gauge\n", "escape"},
      {"# HELP h H.\n# TYPE h histogram\nh_bucket 1\n", "without le"},
      {"# HELP h H.\n# TYPE h histogram\nh 1\n", "not in the family"},
  };
  for (const Bad& c : cases) {
    const std::string error = parse_error(c.text);
    CHECK_MESSAGE(error.find(c.error) != std::string::npos, "text:\n" << c.text << "\nerror: " << error);
  }
}

TEST_CASE("histogram checks: cumulative, ascending, ending in +Inf equal to _count, one _sum and _count") {
  const std::string head = "# HELP h_seconds H.\n# TYPE h_seconds histogram\n";
  const auto problems = [&](const std::string& body) {
    Exposition e;
    std::string error;
    REQUIRE_MESSAGE(parse(head + body, e, error), error);
    return check_histograms(e);
  };
  const std::string tail = "h_seconds_sum 1\nh_seconds_count 3\n";
  CHECK(problems("h_seconds_bucket{le=\"1\"} 1\nh_seconds_bucket{le=\"+Inf\"} 3\n" + tail) == "");
  CHECK(problems("h_seconds_bucket{le=\"1\"} 2\nh_seconds_bucket{le=\"2\"} 1\nh_seconds_bucket{le=\"+Inf\"} 3\n" +
                 tail)
            .find("less than the one before") != std::string::npos);
  CHECK(problems("h_seconds_bucket{le=\"2\"} 1\nh_seconds_bucket{le=\"1\"} 1\nh_seconds_bucket{le=\"+Inf\"} 3\n" +
                 tail)
            .find("after") != std::string::npos);
  CHECK(problems("h_seconds_bucket{le=\"1\"} 1\nh_seconds_bucket{le=\"2\"} 3\n" + tail).find("not +Inf") !=
        std::string::npos);
  CHECK(problems("h_seconds_bucket{le=\"+Inf\"} 2\n" + tail).find("!= _count") != std::string::npos);
  CHECK(problems("h_seconds_bucket{le=\"+Inf\"} 3\nh_seconds_count 3\n").find("_sum samples") != std::string::npos);
  CHECK(problems("h_seconds_bucket{le=\"x\"} 3\n" + tail).find("bad le") != std::string::npos);
  // Series are told apart by their other labels.
  CHECK(problems("h_seconds_bucket{op=\"a\",le=\"+Inf\"} 3\nh_seconds_sum{op=\"a\"} 1\nh_seconds_count{op=\"a\"} 3\n"
                 "h_seconds_bucket{op=\"b\",le=\"+Inf\"} 1\nh_seconds_sum{op=\"b\"} 1\n")
            .find("op=b") != std::string::npos);
}

TEST_CASE("naming checks: prefix, _total on counters only, reserved suffixes, no negative counter") {
  const auto problems = [](const std::string& text) {
    Exposition e;
    std::string error;
    REQUIRE_MESSAGE(parse(text, e, error), error);
    return check_naming(e, "x_");
  };
  CHECK(problems("# HELP y_total Y.\n# TYPE y_total counter\n").find("does not start with x_") != std::string::npos);
  CHECK(problems("# HELP x_requests R.\n# TYPE x_requests counter\n").find("must end in _total") !=
        std::string::npos);
  CHECK(problems("# HELP x_up_total U.\n# TYPE x_up_total gauge\n").find("must not end in _total") !=
        std::string::npos);
  CHECK(problems("# HELP x_count C.\n# TYPE x_count gauge\n").find("reserved") != std::string::npos);
  CHECK(problems("# HELP x_a_total A.\n# TYPE x_a_total counter\nx_a_total -1\n").find("counter value") !=
        std::string::npos);
}
