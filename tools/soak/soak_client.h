// One soak client: a thread that, until its deadline, connects to a random
// device, runs a random sequence of file operations on a few fhs, and then
// either releases everything and closes or simply disconnects (with reads
// possibly still parked in the host). Every request it waits for must be
// answered; a missing answer, a refused connect or a connection the host
// closes is a failure.
//
// Owned by main(); each SoakClient runs on its own thread and shares
// nothing but its read-only targets.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "client.h"

namespace bentos::soak {

struct Target {
  std::string device;  // decides what is written: "kv", "echo", "synth"...
  std::string socket;
};

struct Tally {
  uint64_t connections = 0;
  uint64_t disconnects_midway = 0;  // closed without releasing
  uint64_t requests = 0;            // sent
  uint64_t answered = 0;            // awaited and answered
  uint64_t unawaited = 0;           // parked reads left behind on purpose
  std::map<std::string, uint64_t> outcomes;  // "data", "EAGAIN", ...
  std::vector<std::string> failures;         // the first few, verbatim
  uint64_t failure_count = 0;

  void merge(const Tally& other);
  void fail(std::string what);
};

class SoakClient {
 public:
  SoakClient(const std::vector<Target>& targets, uint64_t seed, int answer_timeout_ms)
      : targets_(targets), rng_(seed), answer_timeout_ms_(answer_timeout_ms) {}

  // Runs connection after connection until `deadline`.
  void run(std::chrono::steady_clock::time_point deadline);
  const Tally& tally() const { return tally_; }

 private:
  void one_connection(const Target& target);
  // Sends `req`, waits for its answer and records it; false on failure.
  bool ask(client::Connection& c, wire::Request req, const std::string& what);
  wire::Request random_op(const Target& target, uint64_t fh, bool nonblocking, bool& await);
  std::string payload(const Target& target);
  uint64_t pick(uint64_t low, uint64_t high);

  const std::vector<Target>& targets_;
  std::mt19937_64 rng_;
  int answer_timeout_ms_;
  Tally tally_;
};

}  // namespace bentos::soak
