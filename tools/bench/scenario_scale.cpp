// p2-scale (issue 14): does a host with isolated devices use more than
// one CPU? In-process devices share the host's one loop thread; each
// isolated device is a child process with a loop of its own.
//
// A host of the scenario's own serves N in-process kv devices (kvp0..) and
// N isolated ones (kvi0..), N = --scale-devices (default: the CPUs, at
// least 2). Each round, N client threads (one per device, p2-load's client
// with --load-sessions sessions) load the N in-process devices at once for
// S/R seconds, then the N isolated ones. Reported: the aggregate req/s of
// each kind, and the CPU the host and its children used meanwhile (utime +
// stime from /proc, as a percentage of one CPU), and the CPU the client
// threads used (they share the machine). The host and the clients
// may run on every CPU whatever --placement says: the question is whether
// the host uses them.
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "cpu_keeper.h"
#include "host_process.h"
#include "proc_cpu.h"
#include "scenarios.h"

namespace bentos::bench {
namespace {

// Restores the calling thread's CPU affinity when the scenario ends (the
// other scenarios keep --placement's).
class AffinityRestorer {
 public:
  AffinityRestorer() { saved_ = ::sched_getaffinity(0, sizeof mask_, &mask_) == 0; }
  ~AffinityRestorer() {
    if (saved_) ::sched_setaffinity(0, sizeof mask_, &mask_);
  }
  AffinityRestorer(const AffinityRestorer&) = delete;
  AffinityRestorer& operator=(const AffinityRestorer&) = delete;

 private:
  cpu_set_t mask_{};
  bool saved_ = false;
};

// One kind's totals over the rounds.
struct Phase {
  // Each round's aggregate rate (the sum over devices of each device's
  // requests / its elapsed time), summed over the rounds.
  double rate_sum = 0;
  double cpu_s = 0;           // host + children CPU over the phases
  double client_cpu_s = 0;    // the client threads' CPU over the phases
  double wall_s = 0;          // the phases' wall time
};

// The calling thread's CPU time: the bench's own process total would
// include the SCHED_IDLE spinners (cpu_keeper.h).
double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string manifest(size_t n) {
  std::string devices;
  for (size_t i = 0; i < n; ++i) {
    const std::string index = std::to_string(i);
    devices += std::string(devices.empty() ? "" : ",\n") + "  {\"name\": \"kvp" + index +
               "\", \"plugin\": \"kv.so\", \"config\": {\"strict\": false}},\n  {\"name\": \"kvi" + index +
               "\", \"plugin\": \"kv.so\", \"config\": {\"strict\": false}, \"isolation\": \"process\"}";
  }
  return "{\"devices\": [\n" + devices + "\n]}\n";
}

// One client thread per socket, all at once, for `seconds`; adds the
// aggregate rate and the host tree's CPU and wall time to `phase`.
bool load_all(const std::vector<std::string>& sockets, size_t sessions, double seconds, pid_t host_pid, Phase& phase,
              std::string& error) {
  std::vector<P2Run> runs(sockets.size());
  std::vector<std::string> errors(sockets.size());
  std::vector<double> client_cpu(sockets.size(), 0);
  const double cpu_before = tree_cpu_seconds(host_pid);
  const int64_t start = monotonic_ns();
  {
    std::vector<std::thread> clients;
    for (size_t i = 0; i < sockets.size(); ++i) {
      clients.emplace_back([&, i] {
        const double before = thread_cpu_seconds();
        measure_p2(sockets[i], sessions, seconds, runs[i], errors[i]);
        client_cpu[i] = thread_cpu_seconds() - before;
      });
    }
    for (std::thread& c : clients) c.join();
  }
  const double wall = static_cast<double>(monotonic_ns() - start) / 1e9;
  const double cpu_after = tree_cpu_seconds(host_pid);
  for (size_t i = 0; i < sockets.size(); ++i) {
    if (!errors[i].empty()) {
      error = sockets[i] + ": " + errors[i];
      return false;
    }
    phase.rate_sum += static_cast<double>(runs[i].requests) / runs[i].elapsed_s;
    phase.client_cpu_s += client_cpu[i];
  }
  if (cpu_before < 0 || cpu_after < 0) {
    error = "cannot read /proc/" + std::to_string(host_pid) + "/stat";
    return false;
  }
  phase.cpu_s += cpu_after - cpu_before;
  phase.wall_s += wall;
  return true;
}

}  // namespace

bool run_p2_scale(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error) {
  if (t.host_binary.empty()) {
    error = "needs the host binary (--host-binary)";
    return false;
  }
  const unsigned cpus = std::thread::hardware_concurrency();
  const size_t n = opt.scale_devices != 0 ? static_cast<size_t>(opt.scale_devices) : std::max(2u, cpus);
  AffinityRestorer restore;
  if (!allow_all_cpus()) {
    error = "cannot allow every CPU (sched_setaffinity)";
    return false;
  }
  std::vector<std::string> names, in_process, isolated;
  for (size_t i = 0; i < n; ++i) names.insert(names.end(), {"kvp" + std::to_string(i), "kvi" + std::to_string(i)});
  HostProcess host;
  if (!host.start({t.host_binary, t.plugin_dir, manifest(n), names}, error) || !host.wait_ready(10000, error)) {
    error = "starting the p2-scale host: " + error;
    return false;
  }
  for (size_t i = 0; i < n; ++i) {
    in_process.push_back(host.socket("kvp" + std::to_string(i)));
    isolated.push_back(host.socket("kvi" + std::to_string(i)));
  }
  Phase proc, iso;
  const double each = opt.seconds / static_cast<double>(opt.rounds);
  const auto sessions = static_cast<size_t>(opt.load_sessions);
  for (uint64_t round = 0; round < opt.rounds; ++round) {
    if (!load_all(in_process, sessions, each, host.pid(), proc, error) ||
        !load_all(isolated, sessions, each, host.pid(), iso, error)) {
      return false;
    }
  }
  // req/s: the mean of the rounds' aggregate rates. CPU: 100 = one CPU busy.
  const double rounds = static_cast<double>(opt.rounds);
  out.push_back({"p2-scale", "devices", "count", static_cast<double>(n), std::nullopt});
  out.push_back({"p2-scale", "requests", "req/s", iso.rate_sum / rounds, proc.rate_sum / rounds, "in-process"});
  out.push_back({"p2-scale", "host_cpu", "%cpu", 100 * iso.cpu_s / iso.wall_s, 100 * proc.cpu_s / proc.wall_s,
                 "in-process"});
  // What the clients took of the same CPUs: with host_cpu, how much of
  // the machine the run had.
  out.push_back({"p2-scale", "client_cpu", "%cpu", 100 * iso.client_cpu_s / iso.wall_s,
                 100 * proc.client_cpu_s / proc.wall_s, "in-process"});
  if (!host.stop()) {
    error = "the p2-scale host did not exit 0 on SIGTERM; its log:\n" + host.log_text();
    return false;
  }
  return true;
}

}  // namespace bentos::bench
