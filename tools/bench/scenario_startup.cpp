// startup: from spawning bentos-driver-host with the seven example devices
// (config/devices.json) to every one of their sockets accepting a
// connection; `startup_runs` starts, the median and the fastest reported.
#include <algorithm>

#include "host_process.h"
#include "scenarios.h"

namespace bentos::bench {

std::vector<std::string> example_device_names() { return {"hello", "playground", "echo", "kv", "ticker", "synth", "llm"}; }

std::string example_manifest(const std::string& extra_devices) {
  return R"({"devices": [
  {"name": "hello", "plugin": "hello.so"},
  {"name": "playground", "plugin": "playground.so"},
  {"name": "echo", "plugin": "echo.so"},
  {"name": "kv", "plugin": "kv.so", "config": {"strict": false}},
  {"name": "ticker", "plugin": "ticker.so", "config": {"interval_ms": 1000}},
  {"name": "synth", "plugin": "synth.so", "config": {"delay_ms": 100}},
  {"name": "llm", "plugin": "llm.so",
   "config": {"provider": "openai", "model": "local", "base_url": "http://127.0.0.1:8080"}})" +
         extra_devices + "\n]}\n";
}

bool run_startup(const Options& opt, const Target& t, std::vector<Metric>& out, std::string& error) {
  if (t.host_binary.empty()) {
    error = "needs the host binary (--host-binary)";
    return false;
  }
  std::vector<int64_t> runs;
  for (uint64_t i = 0; i < opt.startup_runs; ++i) {
    HostProcess host;
    int64_t spawned = 0, ready = 0;
    if (!host.start({t.host_binary, t.plugin_dir, example_manifest(), example_device_names()}, error, &spawned) ||
        !host.wait_ready(10000, error, &ready)) {
      return false;
    }
    runs.push_back(ready - spawned);
    if (!host.stop()) {
      error = "bentos-driver-host did not exit 0 on SIGTERM; its log:\n" + host.log_text();
      return false;
    }
  }
  std::sort(runs.begin(), runs.end());
  out.push_back({"startup", "median", "ms", static_cast<double>(percentile(runs, 0.5)) / 1e6, std::nullopt});
  out.push_back({"startup", "fastest", "ms", static_cast<double>(runs.front()) / 1e6, std::nullopt});
  return true;
}

}  // namespace bentos::bench
