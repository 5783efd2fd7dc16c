// bentos-soak: many connections doing random op sequences across devices,
// with random disconnects, for a given time (scripts/soak.sh starts the
// host and watches its memory and descriptors around two runs of this).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "soak_client.h"

namespace {

const char* kUsage =
    "Usage: bentos-soak [--seconds N] [--connections N] [--seed N] [--timeout MS] DEVICE=SOCKET...\n"
    "Drives each DEVICE=SOCKET with N concurrent clients (default 16) for N seconds\n"
    "(default 10): random opens, writes, reads, flushes, polls, ioctls, fsyncs and\n"
    "releases, then a release of everything or a plain disconnect. What is written\n"
    "depends on the device name (kv: key=value over 64 keys; others:\n"
    "random text). Every awaited request must be answered within --timeout ms\n"
    "(default 5000). Prints a summary; exits 1 on any failure, 2 on usage errors.\n"
    "Example: bentos-soak --seconds 30 kv=run/kv.sock echo=run/echo.sock\n";

bool number(const char* text, uint64_t& out) {
  char* end = nullptr;
  out = std::strtoull(text, &end, 10);
  return end != text && *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seconds = 10, connections = 16, seed = 1, timeout_ms = 5000;
  std::vector<bentos::soak::Target> targets;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    uint64_t* value = arg == "--seconds" ? &seconds
                      : arg == "--connections" ? &connections
                      : arg == "--seed" ? &seed
                      : arg == "--timeout" ? &timeout_ms
                                           : nullptr;
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (value) {
      if (i + 1 >= argc || !number(argv[i + 1], *value)) {
        std::fprintf(stderr, "bentos-soak: %s needs a number\n%s", arg.c_str(), kUsage);
        return 2;
      }
      ++i;
      continue;
    }
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size()) {
      std::fprintf(stderr, "bentos-soak: expected DEVICE=SOCKET, found '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
    targets.push_back({arg.substr(0, eq), arg.substr(eq + 1)});
  }
  if (targets.empty() || connections == 0) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::vector<bentos::soak::SoakClient> clients;
  clients.reserve(connections);
  for (uint64_t i = 0; i < connections; ++i) clients.emplace_back(targets, seed * 1000003 + i, static_cast<int>(timeout_ms));
  std::vector<std::thread> threads;
  for (auto& c : clients) threads.emplace_back([&c, deadline] { c.run(deadline); });
  for (auto& t : threads) t.join();

  bentos::soak::Tally total;
  for (const auto& c : clients) total.merge(c.tally());
  std::printf("soak: %llu s, %llu clients: %llu connections (%llu dropped mid-way), %llu requests, "
              "%llu answered, %llu reads left parked, %llu failures\n",
              static_cast<unsigned long long>(seconds), static_cast<unsigned long long>(connections),
              static_cast<unsigned long long>(total.connections),
              static_cast<unsigned long long>(total.disconnects_midway),
              static_cast<unsigned long long>(total.requests), static_cast<unsigned long long>(total.answered),
              static_cast<unsigned long long>(total.unawaited),
              static_cast<unsigned long long>(total.failure_count));
  std::string outcomes;
  for (const auto& [name, n] : total.outcomes) outcomes += " " + name + "=" + std::to_string(n);
  std::printf("soak: answers:%s\n", outcomes.c_str());
  for (const auto& f : total.failures) std::printf("soak: FAILURE: %s\n", f.c_str());
  return total.failure_count == 0 ? 0 : 1;
}
