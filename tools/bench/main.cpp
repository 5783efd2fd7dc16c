// bentos-bench: see scenarios.h, docs/performance.md and the README
// section "Benchmarks".
//
// Runs the scenarios named on the command line (all of them by default),
// one after the other, against its own bentos-driver-host (started from the
// build tree in a temp directory) unless --socket-dir names a running one,
// and prints one row (or JSON line) per metric. Exit status: 0 when every
// scenario ran or was skipped (llm-stream without python3 or llm.so), 1
// when one failed, 2 for usage errors.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "baseline_server.h"
#include "cpu_keeper.h"
#include "host_process.h"
#include "scenarios.h"

namespace {

using namespace bentos::bench;

const char kUsage[] =
    "usage: bentos-bench [OPTIONS] [SCENARIO...]\n"
    "\n"
    "Measures bentos-driver-host over its sockets, next to a raw framed-echo baseline\n"
    "(epoll, no protobuf) driven by the same client with the same frames; prints host,\n"
    "baseline and host/baseline per metric. With no SCENARIO, runs them all.\n"
    "\n"
    "Scenarios:\n"
    "  p2-rtt     one kv session, sequential requests (write + read): req/s, p50/p99/p99.9\n"
    "  p2-load    N kv sessions on one connection, one request in flight each\n"
    "  p1-stream  echo, 64 KiB writes and reads pipelined: MB/s each way\n"
    "  p3-fanout  a bench-only device emitting at full speed to M listeners: events/s, drops\n"
    "  sessions   K idle kv sessions on one connection: host RSS per session\n"
    "  startup    spawn to every socket accepting, the seven example devices\n"
    "  llm-stream the llm device reading the mock provider against a direct HTTP client:\n"
    "             chunk latency p50/p99, chunks/s with 64 streams, kv p50/p99 idle and\n"
    "             while the 64 streams run (on a host of its own; skipped without python3\n"
    "             or llm.so)\n"
    "  p2-rtt-isolated, p2-load-isolated\n"
    "             p2-rtt and p2-load on kviso (kv with \"isolation\": \"process\") against the\n"
    "             in-process kv of the same host, taking turns: host = isolated, baseline =\n"
    "             in-process, ratio = isolated / in-process\n"
    "  p2-scale   on a host of its own, N isolated kv devices loaded at once by N clients\n"
    "             (p2-load's, one per device) against N in-process ones: aggregate req/s,\n"
    "             the CPU the host and its children used, and the clients' (100 = one CPU)\n"
    "\n"
    "Options:\n"
    "  --json               one JSON object per line per metric:\n"
    "                       {\"scenario\",\"metric\",\"unit\",\"host\",\"baseline\",\"ratio\"}\n"
    "                       (+ \"baseline_is\": \"in-process\" for the isolated ones, p2-scale)\n"
    "  --quick              a seconds-long smoke of every scenario (CI): 0.2 s per side,\n"
    "                       1 round, 2000 idle sessions, 1 startup\n"
    "  --seconds S          per side of p2-rtt, p2-load, p1-stream, p3-fanout, the isolated\n"
    "                       ones and p2-scale, and of each llm-stream part (default 3)\n"
    "  --rounds R           p2-rtt, p2-load, p1-stream, llm-stream, the isolated ones,\n"
    "                       p2-scale: the two sides take R turns of S/R seconds each,\n"
    "                       so both see the same machine (default 5)\n"
    "  --load-sessions N    p2-load sessions (and p2-load-isolated's, p2-scale's per\n"
    "                       device; default 64)\n"
    "  --stream-bytes N     p1-stream bytes per write and read (default 65536)\n"
    "  --stream-window N    p1-stream write+read pairs in flight (default 4)\n"
    "  --listeners M        p3-fanout listeners (default 100)\n"
    "  --fanout-burst B     events the fanout device emits per loop turn (default 256)\n"
    "  --sessions K         idle sessions (default 100000)\n"
    "  --startup-runs R     host starts measured (default 5)\n"
    "  --llm-streams N      llm-stream streams at once (default 64)\n"
    "  --scale-devices N    p2-scale kv devices of each kind (default: the CPUs, at least 2)\n"
    "  --mock-llm PATH      the mock provider script (default: tests/support/mock_llm/\n"
    "                       mock_llm.py of the source tree this bench was built from)\n"
    "  --socket-dir DIR     use a running host's kv.sock, echo.sock, fanout.sock (and\n"
    "                       kviso.sock for the isolated scenarios; skipped without it)\n"
    "  --host-pid PID       that host's pid (the sessions scenario reads its RSS)\n"
    "  --host-binary PATH   default: host/bentos-driver-host of this build tree\n"
    "  --placement P        where the client and the server under test run: same (all\n"
    "                       on CPU 0: what each request costs in software; default),\n"
    "                       split (client on CPU 0, host or baseline on CPU 1) or any\n"
    "                       (the kernel decides); docs/performance.md. p2-scale runs\n"
    "                       its host and clients on every CPU whatever this says\n"
    "  --no-keep-awake      let idle CPUs halt (by default one SCHED_IDLE spinner per\n"
    "                       CPU keeps them awake: on a VM, waking a halted vCPU\n"
    "                       costs more than a round trip; docs/performance.md)\n"
    "  --plugin-dir DIR     default: plugins/ of this build tree (llm-stream looks for\n"
    "                       llm.so there and in its llm/ folder)\n"
    "  --fanout-plugin PATH default: fanout.so beside this program\n"
    "\n"
    "Example:\n"
    "  build/tools/bench/bentos-bench --seconds 1 p2-rtt p2-load\n";

struct NamedScenario {
  const char* name;
  Scenario run;
};

const NamedScenario kScenarios[] = {
    {"p2-rtt", run_p2_rtt},
    {"p2-load", run_p2_load},
    {"p1-stream", run_p1_stream},
    {"p3-fanout", run_p3_fanout},
    {"sessions", run_sessions},
    {"startup", run_startup},
    {"llm-stream", run_llm_stream},
    {"p2-rtt-isolated", run_p2_rtt_isolated},
    {"p2-load-isolated", run_p2_load_isolated},
    {"p2-scale", run_p2_scale},
};

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "bentos-bench: %s\n(see bentos-bench --help)\n", msg.c_str());
  return 2;
}

bool parse_u64(const std::string& text, uint64_t lo, uint64_t hi, uint64_t& out) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 12) return false;
  out = std::strtoull(text.c_str(), nullptr, 10);
  return out >= lo && out <= hi;
}

std::string self_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

std::string absolute(const std::string& path) { return std::filesystem::absolute(path).lexically_normal().string(); }

// llm.so in the plugin folder, or in its llm/ subfolder (where meson puts
// a plugin built from plugins/llm/meson.build); "" when neither exists.
std::string find_llm_plugin(const std::string& plugin_dir) {
  for (const char* candidate : {"/llm.so", "/llm/llm.so"}) {
    if (::access((plugin_dir + candidate).c_str(), R_OK) == 0) return plugin_dir + candidate;
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  bool json = false;
  bool keep_awake = true;
  std::string placement = "same";
  std::vector<const NamedScenario*> chosen;
  std::string socket_dir, fanout_plugin;
  uint64_t fanout_burst = 256;  // events the fanout device emits per loop turn (= max_events)
  Target target;
  const std::string here = self_dir();
  target.host_binary = absolute(here + "/../../host/bentos-driver-host");
  target.plugin_dir = absolute(here + "/../../plugins");
  fanout_plugin = here + "/fanout.so";
  // The source tree is where the mock provider lives; meson passes it.
  target.mock_llm = BENTOS_BENCH_SOURCE_DIR "/tests/support/mock_llm/mock_llm.py";

  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--json") {
      json = true;
      continue;
    }
    if (arg == "--no-keep-awake") {
      keep_awake = false;
      continue;
    }
    if (arg == "--quick") {
      opt.seconds = 0.2;
      opt.idle_sessions = 2000;
      opt.startup_runs = 1;
      opt.rounds = 1;
      continue;
    }
    if (arg.rfind("--", 0) == 0) {
      if (i + 1 >= argc) return usage_error(arg + " needs a value");
      const std::string value = argv[++i];
      uint64_t n = 0;
      auto count = [&](uint64_t lo, uint64_t hi, uint64_t& field) {
        if (!parse_u64(value, lo, hi, n)) return false;
        field = n;
        return true;
      };
      bool ok = true;
      if (arg == "--seconds") {
        char* end = nullptr;
        opt.seconds = std::strtod(value.c_str(), &end);
        ok = !value.empty() && *end == '\0' && std::isfinite(opt.seconds) && opt.seconds > 0 && opt.seconds <= 3600;
      } else if (arg == "--rounds") {
        ok = count(1, 1000, opt.rounds);
      } else if (arg == "--load-sessions") {
        ok = count(1, 1u << 20, opt.load_sessions);
      } else if (arg == "--stream-bytes") {
        ok = count(1, 8u << 20, opt.stream_bytes);
      } else if (arg == "--stream-window") {
        ok = count(1, 64, opt.stream_window);
      } else if (arg == "--fanout-burst") {
        ok = count(1, 1000000, fanout_burst);
      } else if (arg == "--listeners") {
        ok = count(1, 100000, opt.listeners);
      } else if (arg == "--sessions") {
        ok = count(1, 1u << 24, opt.idle_sessions);
      } else if (arg == "--startup-runs") {
        ok = count(1, 1000, opt.startup_runs);
      } else if (arg == "--llm-streams") {
        ok = count(1, 4096, opt.llm_streams);
      } else if (arg == "--scale-devices") {
        ok = count(1, 256, opt.scale_devices);
      } else if (arg == "--mock-llm") {
        target.mock_llm = absolute(value);
      } else if (arg == "--host-pid") {
        uint64_t pid = 0;
        ok = count(1, 1u << 30, pid);
        target.host_pid = static_cast<pid_t>(pid);
      } else if (arg == "--placement") {
        placement = value;
        ok = value == "same" || value == "split" || value == "any";
      } else if (arg == "--socket-dir") {
        socket_dir = absolute(value);
      } else if (arg == "--host-binary") {
        target.host_binary = absolute(value);
      } else if (arg == "--plugin-dir") {
        target.plugin_dir = absolute(value);
      } else if (arg == "--fanout-plugin") {
        fanout_plugin = absolute(value);
      } else {
        return usage_error("unknown option " + arg);
      }
      if (!ok) return usage_error("bad value for " + arg + ": " + value);
      continue;
    }
    auto it = std::find_if(std::begin(kScenarios), std::end(kScenarios),
                           [&](const NamedScenario& s) { return arg == s.name; });
    if (it == std::end(kScenarios)) return usage_error("unknown scenario '" + arg + "'");
    chosen.push_back(&*it);
  }
  if (chosen.empty()) {
    for (const NamedScenario& s : kScenarios) chosen.push_back(&s);
  }
  target.llm_plugin = find_llm_plugin(target.plugin_dir);

  // Our own host, unless told to use a running one. kv's max_sessions is
  // raised so the sessions scenario's K fit on one connection; kviso is
  // the same kv in a child process (the *-isolated scenarios).
  // Placement (see cpu_keeper.h): "same" pins everything to CPU 0 now, so
  // the host and the baseline started below inherit it; "split" starts
  // them on CPU 1 and moves the client to CPU 0 after.
  const bool split = placement == "split" && std::thread::hardware_concurrency() >= 2 && pin_to_cpu(1);
  if (placement == "same" && !pin_to_cpu(0)) {
    std::fprintf(stderr, "bentos-bench: note: cannot pin to CPU 0; placement left to the kernel\n");
  }
  HostProcess host;
  if (socket_dir.empty()) {
    const uint64_t max_sessions = std::max<uint64_t>(opt.idle_sessions + 1024, 262144);
    const std::string kv_entry = "\"plugin\": \"kv.so\", \"config\": {\"strict\": false}, \"limits\": "
                                 "{\"max_sessions\": " + std::to_string(max_sessions) + "}";
    const std::string bench_devices = ",\n  {\"name\": \"kvbench\", " + kv_entry + "},\n  {\"name\": \"kviso\", " +
                                      kv_entry + ", \"isolation\": \"process\"}" +
                                      ",\n  {\"name\": \"fanout\", \"plugin\": \"" + fanout_plugin +
                                      "\", \"config\": {\"burst\": " + std::to_string(fanout_burst) + "}}";
    std::vector<std::string> devices = example_device_names();
    devices.insert(devices.end(), {"kvbench", "kviso", "fanout"});
    std::string error;
    if (!host.start({target.host_binary, target.plugin_dir, example_manifest(bench_devices), devices}, error) ||
        !host.wait_ready(10000, error)) {
      std::fprintf(stderr, "bentos-bench: starting the host: %s\n", error.c_str());
      return 1;
    }
    target.kv = host.socket("kvbench");
    target.kv_isolated = host.socket("kviso");
    target.echo = host.socket("echo");
    target.fanout = host.socket("fanout");
    target.host_pid = host.pid();
  } else {
    target.kv = socket_dir + "/kv.sock";
    target.kv_isolated = socket_dir + "/kviso.sock";
    target.echo = socket_dir + "/echo.sock";
    target.fanout = socket_dir + "/fanout.sock";
  }
  BaselineServer baseline;
  std::string error;
  if (!baseline.start(error)) {
    std::fprintf(stderr, "bentos-bench: baseline: %s\n", error.c_str());
    return 1;
  }
  target.baseline = baseline.path();
  if (split) pin_to_cpu(0);
  // After the baseline's fork and the host's spawn: those children never
  // see these threads.
  CpuKeeper keeper;
  if (keep_awake && !keeper.start()) {
    std::fprintf(stderr, "bentos-bench: note: SCHED_IDLE refused; idle CPUs may halt between requests\n");
  }

  if (!json) {
    std::printf("# bentos-bench: %g s per side; latency = one request (write + read); ratio = host / baseline\n",
                opt.seconds);
    print_table_header(stdout);
  }
  int status = 0;
  for (const NamedScenario* s : chosen) {
    std::vector<Metric> metrics;
    error.clear();
    if (!s->run(opt, target, metrics, error)) {
      std::fprintf(stderr, "bentos-bench: %s: %s\n", s->name, error.c_str());
      status = 1;
    } else if (!error.empty()) {  // skipped: not a failure (scenarios.h)
      if (json) {
        std::printf("%s\n", skipped_json(s->name, error).c_str());
      } else {
        std::printf("%-16s skipped: %s\n", s->name, error.c_str());
      }
    }
    const auto not_raw = std::find_if(metrics.begin(), metrics.end(),
                                       [](const Metric& m) { return !m.baseline_is.empty(); });
    if (!json && not_raw != metrics.end()) {
      std::printf("# %s: host = isolated, baseline = %s, ratio = isolated / %s\n", s->name,
                  not_raw->baseline_is.c_str(), not_raw->baseline_is.c_str());
    }
    for (const Metric& m : metrics) {
      if (json) {
        std::printf("%s\n", to_json(m).c_str());
      } else {
        print_table_row(stdout, m);
      }
    }
    std::fflush(stdout);
  }
  if (socket_dir.empty() && !host.stop()) {
    std::fprintf(stderr, "bentos-bench: the host did not exit 0 on SIGTERM; its log:\n%s", host.log_text().c_str());
    status = 1;
  }
  return status;
}
