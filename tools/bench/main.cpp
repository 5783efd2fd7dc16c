// bentos-bench: see bench.h and the README section "Benchmarks".
//
//   bentos-bench [--seconds S] [--connections C] [--depth D] [--size N] TARGET...
//
// Targets run one after the other; one line each. Exit status: 0 when
// every request was answered as expected, 1 when any error was counted, 2
// for usage errors.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench.h"
#include "client.h"

namespace {

using bentos::bench::BaselineServer;
using bentos::bench::Options;
using bentos::bench::Result;
using bentos::bench::Target;
using bentos::bench::Workload;

const char kUsage[] =
    "usage: bentos-bench [--seconds S] [--connections C] [--depth D] [--size N] TARGET...\n"
    "\n"
    "Drives device sockets with pipelined requests and prints, per target, requests per\n"
    "second, MB/s (echo), round-trip latency percentiles in microseconds and errors.\n"
    "\n"
    "Targets:\n"
    "  kv=SOCKET     P2 cycles on one session: write \"k<i>=v\", read \"OK\\n\"\n"
    "  echo=SOCKET   P1: write N bytes, read the N bytes back\n"
    "  hello=SOCKET  raw: open, read the greeting, release (a new fh per cycle)\n"
    "  baseline      kv's requests against an in-process raw framed-echo server\n"
    "                (wire codec only, canned replies): the bare protocol cost\n"
    "SOCKET is a path, unix:///path, or tcp://127.0.0.1:PORT (loopback only).\n"
    "\n"
    "Options:\n"
    "  --seconds S      how long each target runs (default 3)\n"
    "  --connections C  client threads, each with its own connection (default 2)\n"
    "  --depth D        requests in flight per connection (default 8); a session runs one\n"
    "                   cycle at a time, so a connection uses ceil(D / cycle length) sessions\n"
    "  --size N         echo payload bytes per write (default 4096)\n"
    "\n"
    "Example:\n"
    "  bentos-bench --seconds 2 kv=run/kv.sock echo=run/echo.sock hello=run/hello.sock baseline\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "bentos-bench: %s\n(see bentos-bench --help)\n", msg.c_str());
  return 2;
}

bool parse_count(const std::string& text, uint64_t lo, uint64_t hi, uint64_t& out) {
  return bentos::client::parse_number(text, out) && out >= lo && out <= hi;
}

// Accepts a path (made absolute), unix://, or tcp:// to a loopback address.
bool make_endpoint(const std::string& sock, std::string& endpoint, std::string& error) {
  if (sock.empty()) {
    error = "empty socket";
    return false;
  }
  if (sock.rfind("tcp://", 0) == 0) {
    for (const char* host : {"tcp://127.0.0.1:", "tcp://localhost:", "tcp://[::1]:"}) {
      if (sock.rfind(host, 0) == 0) {
        endpoint = sock;
        return true;
      }
    }
    error = "only loopback tcp endpoints are allowed: " + sock;
    return false;
  }
  if (sock.rfind("unix://", 0) == 0) {
    endpoint = sock;
    return true;
  }
  if (sock.find("://") != std::string::npos) {
    error = "unknown endpoint scheme: " + sock;
    return false;
  }
  endpoint = std::filesystem::absolute(sock).lexically_normal().string();
  return true;
}

bool parse_target(const std::string& arg, Target& t, std::string& error) {
  t.label = arg;
  if (arg == "baseline") {
    t.workload = Workload::baseline;
    return true;
  }
  const size_t eq = arg.find('=');
  const std::string kind = arg.substr(0, eq);
  if (eq == std::string::npos) {
    error = "bad target '" + arg + "' (kv=SOCKET, echo=SOCKET, hello=SOCKET or baseline)";
    return false;
  }
  if (kind == "kv") {
    t.workload = Workload::kv;
  } else if (kind == "echo") {
    t.workload = Workload::echo;
  } else if (kind == "hello") {
    t.workload = Workload::hello;
  } else {
    error = "unknown target kind '" + kind + "' in '" + arg + "'";
    return false;
  }
  return make_endpoint(arg.substr(eq + 1), t.endpoint, error);
}

std::string fmt(double v, int precision = 0) {
  if (v < 0) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
}

void print_header() {
  std::printf("%-9s %5s %5s %7s %10s %8s %8s %8s %8s %9s %7s\n", "target", "conns", "depth",
              "size", "ops/s", "MB/s", "p50_us", "p90_us", "p99_us", "max_us", "errors");
}

void print_line(const Target& t, const Options& opt, const Result& r) {
  const bool echo = t.workload == Workload::echo;
  const double secs = r.elapsed_s > 0 ? r.elapsed_s : 1;
  std::printf("%-9s %5d %5d %7s %10s %8s %8s %8s %8s %9s %7llu\n",
              bentos::bench::workload_name(t.workload), opt.connections, opt.depth,
              echo ? std::to_string(opt.size).c_str() : "-",
              fmt(static_cast<double>(r.ops) / secs).c_str(),
              echo ? fmt(static_cast<double>(r.bytes) / secs / 1e6, 1).c_str() : "-",
              fmt(r.p50_us, 1).c_str(), fmt(r.p90_us, 1).c_str(), fmt(r.p99_us, 1).c_str(),
              fmt(r.max_us, 0).c_str(), static_cast<unsigned long long>(r.errors));
  std::fflush(stdout);
  if (!r.first_error.empty()) {
    std::fprintf(stderr, "bentos-bench: %s: %s\n", t.label.c_str(), r.first_error.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  std::vector<Target> targets;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--seconds" || arg == "--connections" || arg == "--depth" || arg == "--size") {
      if (i + 1 >= argc) return usage_error(arg + " needs a value");
      const std::string value = argv[++i];
      uint64_t n = 0;
      if (arg == "--seconds") {
        char* end = nullptr;
        const double s = std::strtod(value.c_str(), &end);
        if (value.empty() || *end != '\0' || !std::isfinite(s) || s <= 0 || s > 3600) {
          return usage_error("--seconds wants a number of seconds in (0, 3600]: " + value);
        }
        opt.seconds = s;
      } else if (arg == "--connections") {
        if (!parse_count(value, 1, 1000, n)) return usage_error("--connections wants 1..1000: " + value);
        opt.connections = static_cast<int>(n);
      } else if (arg == "--depth") {
        if (!parse_count(value, 1, 4096, n)) return usage_error("--depth wants 1..4096: " + value);
        opt.depth = static_cast<int>(n);
      } else {
        if (!parse_count(value, 1, uint64_t{4} << 20, n)) {
          return usage_error("--size wants 1..4194304 bytes: " + value);
        }
        opt.size = n;
      }
      continue;
    }
    if (arg.rfind("--", 0) == 0) return usage_error("unknown option " + arg);
    Target t;
    std::string error;
    if (!parse_target(arg, t, error)) return usage_error(error);
    targets.push_back(std::move(t));
  }
  if (targets.empty()) return usage_error("no target given");

  std::printf("bentos-bench: %g s per target, %d connection(s), depth %d; latency = one request's round trip\n",
              opt.seconds, opt.connections, opt.depth);
  print_header();
  uint64_t errors = 0;
  for (Target& t : targets) {
    BaselineServer server;
    if (t.workload == Workload::baseline) {
      std::string error;
      if (!server.start(error)) {
        std::fprintf(stderr, "bentos-bench: baseline: %s\n", error.c_str());
        return 1;
      }
      t.endpoint = server.path();
    }
    const Result r = bentos::bench::run_target(t, opt);
    print_line(t, opt, r);
    errors += r.errors;
  }
  return errors == 0 ? 0 : 1;
}
