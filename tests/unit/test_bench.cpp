// bentos-bench's own pieces: its hand-written request frames decode with
// the host's codec to what was meant, it reads the host's reply frames
// right, its percentile and JSON output are what docs/performance.md
// says, llm-stream's baseline client decodes the mock's stream, and
// p2-scale's CPU reading from /proc adds up.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "frames.h"
#include "proc_cpu.h"
#include "report.h"
#include "sse_client.h"
#include "wire/codec.h"

using namespace bentos;

namespace {

wire::Request decode(const std::string& frame) {
  REQUIRE(frame.size() >= 4);
  const size_t len = (size_t{uint8_t(frame[0])} << 24) | (size_t{uint8_t(frame[1])} << 16) |
                     (size_t{uint8_t(frame[2])} << 8) | size_t{uint8_t(frame[3])};
  REQUIRE(len == frame.size() - 4);
  wire::Request r;
  REQUIRE(wire::detail::decode_request_generated(reinterpret_cast<const uint8_t*>(frame.data()) + 4, len, r));
  return r;
}

// The view points into the frame, so the frame lives as long as the test.
bench::FrameView view(const wire::Reply& reply) {
  static std::vector<std::unique_ptr<std::string>> frames;
  frames.push_back(std::make_unique<std::string>());
  std::string& frame = *frames.back();
  wire::append_reply_frame(reply, frame);
  bench::FrameView v;
  REQUIRE(bench::read_frame(reinterpret_cast<const uint8_t*>(frame.data()) + 4, frame.size() - 4, v));
  return v;
}

}  // namespace

TEST_CASE("bench request frames decode as the requests they stand for") {
  std::string f;
  bench::append_open(f, 300, 7, 2);
  wire::Request r = decode(f);
  CHECK((r.kind == wire::OpKind::open && r.id == 300 && r.fh == 7 && r.flags == 2));

  f.clear();
  bench::append_open(f, 0, 0, -1);
  r = decode(f);
  CHECK((r.kind == wire::OpKind::open && r.id == 0 && r.fh == 0 && r.flags == -1));

  const std::string data(70000, 'x');
  f.clear();
  bench::append_write(f, 1ull << 40, 3, data.data(), data.size());
  r = decode(f);
  CHECK((r.kind == wire::OpKind::write && r.id == 1ull << 40 && r.fh == 3 && r.data == data));

  f.clear();
  bench::append_write(f, 5, 3, nullptr, 0);
  r = decode(f);
  CHECK((r.kind == wire::OpKind::write && r.data.empty()));

  f.clear();
  bench::append_read(f, 9, 4, 65536);
  r = decode(f);
  CHECK((r.kind == wire::OpKind::read && r.id == 9 && r.fh == 4 && r.size == 65536));

  f.clear();
  bench::append_release(f, 10, 4);
  r = decode(f);
  CHECK((r.kind == wire::OpKind::release && r.id == 10 && r.fh == 4));
}

TEST_CASE("bench reads the host's reply frames") {
  wire::Reply w = wire::Reply::written(11);
  w.id = 77;
  w.fh = 2;
  bench::FrameView v = view(w);
  CHECK((v.response && v.id == 77 && v.fh == 2 && v.member == bench::kReplyWrite && v.count == 11 && v.err == 0));

  wire::Reply b = wire::Reply::bytes("OK\n");
  b.id = 78;
  v = view(b);
  CHECK((v.member == bench::kReplyBuf && v.data_len == 3 && std::string(reinterpret_cast<const char*>(v.data), 3) == "OK\n"));

  v = view(wire::Reply::bytes(""));  // EOF: buf selected, no data
  CHECK((v.member == bench::kReplyBuf && v.data_len == 0));

  v = view(wire::Reply::opened());
  CHECK(v.member == bench::kReplyOpen);

  v = view(wire::Reply::error(16));
  CHECK((v.err == 16 && v.member == 0));

  const uint8_t garbage[] = {0x0a, 0x05, 0x01};
  CHECK_FALSE(bench::read_frame(garbage, sizeof garbage, v));
}

TEST_CASE("percentiles are nearest-rank") {
  std::vector<int64_t> s;
  for (int64_t i = 1; i <= 1000; ++i) s.push_back(i);
  CHECK(bench::percentile(s, 0.5) == 500);
  CHECK(bench::percentile(s, 0.99) == 990);
  CHECK(bench::percentile(s, 0.999) == 999);
  CHECK(bench::percentile(s, 1.0) == 1000);
  CHECK(bench::percentile({42}, 0.999) == 42);
  CHECK(bench::percentile({}, 0.5) == 0);
}

TEST_CASE("metrics print as one JSON object each, with null where there is no baseline") {
  const bench::Metric with{"p2-rtt", "p50", "us", 11.0, 10.0};
  CHECK(bench::to_json(with) ==
        R"({"scenario": "p2-rtt", "metric": "p50", "unit": "us", "host": 11, "baseline": 10, "ratio": 1.1})");
  const bench::Metric without{"startup", "median", "ms", 3.5, std::nullopt};
  CHECK(bench::to_json(without) ==
        R"({"scenario": "startup", "metric": "median", "unit": "ms", "host": 3.5, "baseline": null, "ratio": null})");
  const bench::Metric zero{"p3-fanout", "dropped", "events/s", 0, 0.0};
  CHECK(bench::to_json(zero).find("\"ratio\": null") != std::string::npos);
  // The isolated scenarios say what their baseline column holds.
  const bench::Metric isolated{"p2-rtt-isolated", "p50", "us", 10.0, 8.0, "in-process"};
  CHECK(bench::to_json(isolated) ==
        R"({"scenario": "p2-rtt-isolated", "metric": "p50", "unit": "us", "host": 10, "baseline": 8, "ratio": 1.25, )"
        R"("baseline_is": "in-process"})");
}

TEST_CASE("p2-scale reads a process's CPU from /proc/PID/stat, counting fields from the last ')'") {
  bench::StatCpu s;
  // A command name with a space and a ')' of its own; utime 300, stime 45,
  // cutime 7, cstime 3 (fields 14 to 17).
  REQUIRE(bench::parse_stat_cpu("4242 (my (odd) host) S 17 4242 4242 0 -1 4194560 900 12 0 0 300 45 7 3 20 0 3 0 "
                                "1234 5678 90\n",
                                s));
  CHECK(s.parent == 17);
  CHECK(s.own_ticks == 345);
  CHECK(s.reaped_children_ticks == 10);
  CHECK_FALSE(bench::parse_stat_cpu("4242 (cut) S 17 4242", s));
  CHECK_FALSE(bench::parse_stat_cpu("no parenthesis 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15", s));
  CHECK_FALSE(bench::parse_stat_cpu("1 (x) S 17 1 1 0 -1 0 0 0 0 0 ab 45 7 3", s));
}

namespace {

// Spins until this process has used `seconds` more CPU.
void burn_cpu(double seconds) {
  auto used = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  const double until = used() + seconds;
  while (used() < until) {
  }
}

}  // namespace

TEST_CASE("p2-scale's CPU reading counts a live child, and keeps counting it once it is reaped") {
  const double before = bench::tree_cpu_seconds(::getpid());
  REQUIRE(before >= 0);
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // burns 0.3 s of CPU, says so, then waits to be killed
    burn_cpu(0.3);
    (void)!::write(ready[1], "x", 1);
    ::pause();
    ::_exit(0);
  }
  char c;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  const double with_live_child = bench::tree_cpu_seconds(::getpid());
  ::kill(child, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  const double with_reaped_child = bench::tree_cpu_seconds(::getpid());
  ::close(ready[0]);
  ::close(ready[1]);
  // Clock ticks are 10 ms (USER_HZ 100): 0.3 s reads 0.28 s or more.
  CHECK(with_live_child - before >= 0.28);
  CHECK(with_reaped_child >= with_live_child - 0.011);
  CHECK(bench::tree_cpu_seconds(999999999) < 0);
}

TEST_CASE("a skipped scenario prints its reason as JSON") {
  CHECK(bench::skipped_json("llm-stream", "no \"llm.so\" in C:\\x\n") ==
        R"({"scenario": "llm-stream", "skipped": "no \"llm.so\" in C:\\x\u000a"})");
}

namespace {

// The mock's OpenAI stream for two text pieces, as bytes on the wire.
std::string mock_response() {
  const std::string events[] = {
      R"(data: {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]})"
      "\n\n",
      R"(data: {"choices": [{"index": 0, "delta": {"content": "123"}, "finish_reason": null}], "usage": null})"
      "\n\n",
      ": ping\n\n",
      R"(data: {"choices": [{"index": 0, "delta": {"content": "h\u00e9"}, "finish_reason": null}]})"
      "\n\n",
      R"(data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})"
      "\n\n",
      R"(data: {"choices": [], "usage": {"prompt_tokens": 1}})"
      "\n\n",
      "data: [DONE]\n\n"};
  std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const std::string& e : events) {
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", e.size());
    out += size + e + "\r\n";
  }
  return out + "0\r\n\r\n";
}

}  // namespace

TEST_CASE("llm-stream's baseline client decodes the mock's chunked SSE stream, fed in any pieces") {
  const std::string bytes = mock_response();
  for (size_t piece : {size_t{1}, size_t{3}, size_t{17}, bytes.size()}) {
    bench::SseDecoder d;
    std::vector<std::string> texts;
    bool done_at_half = false;
    for (size_t off = 0; off < bytes.size(); off += piece) {
      if (off <= bytes.size() / 2) done_at_half = d.done();
      REQUIRE(d.feed(bytes.data() + off, std::min(piece, bytes.size() - off), texts));
    }
    CAPTURE(piece);
    CHECK_FALSE(done_at_half);
    CHECK(d.done());
    CHECK(texts == std::vector<std::string>{"123", "h\xc3\xa9"});
  }
}

TEST_CASE("llm-stream's baseline client refuses what the mock would not send") {
  std::vector<std::string> texts;
  bench::SseDecoder not_ok;
  const std::string error = "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 2\r\n\r\n{}";
  CHECK_FALSE(not_ok.feed(error.data(), error.size(), texts));
  CHECK(not_ok.error() == "not a 200: HTTP/1.1 429 Too Many Requests");
  bench::SseDecoder not_chunked;
  const std::string plain = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
  CHECK_FALSE(not_chunked.feed(plain.data(), plain.size(), texts));
  bench::SseDecoder bad_json;
  const std::string junk = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\ndata: {\n\r\n";
  CHECK_FALSE(bad_json.feed(junk.data(), junk.size(), texts));
  CHECK(texts.empty());
}
