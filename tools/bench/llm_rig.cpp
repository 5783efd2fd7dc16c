#include "llm_rig.h"

#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>


namespace bentos::bench {
namespace {

bool in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

}  // namespace

bool LlmRig::mock_to_last_cpu() const {
  const unsigned cpus = std::thread::hardware_concurrency();
  if (cpus < 2) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpus - 1, &set);
  bool moved = false;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(mock_->pid()) + "/task", ec)) {
    const pid_t tid = static_cast<pid_t>(std::atoi(task.path().filename().c_str()));
    moved = ::sched_setaffinity(tid, sizeof set, &set) == 0 || moved;
  }
  return moved;
}

std::string LlmRig::missing(const Target& t) {
  if (!in_path("python3")) return "python3 is not in PATH (the mock provider needs it)";
  if (t.mock_llm.empty() || ::access(t.mock_llm.c_str(), R_OK) != 0) {
    return "no mock provider script at '" + t.mock_llm + "' (--mock-llm PATH)";
  }
  if (t.llm_plugin.empty()) return "the llm plugin (llm.so) is not built in " + t.plugin_dir;
  return {};
}

bool LlmRig::start(const Target& t, uint64_t streams, std::string& error) {
  try {
    mock_ = std::make_unique<test::MockLlm>(t.mock_llm);
  } catch (const std::exception& e) {
    error = std::string("the mock provider: ") + e.what();
    return false;
  }
  // Room for twice the streams: the calls a closed connection cancelled
  // may still hold their places for a moment when the next run starts
  // (over the limit a call is refused with EAGAIN).
  const std::string limit = ", \"max_concurrent_calls\": " + std::to_string(2 * streams);
  const std::string manifest = "{\"devices\": [\n  {\"name\": \"llm\", \"plugin\": \"" + t.llm_plugin +
                               "\", \"config\": {\"provider\": \"openai\", \"model\": \"m\", \"base_url\": \"" +
                               mock_->base_url() + "\"" + limit +
                               "}},\n  {\"name\": \"kv\", \"plugin\": \"kv.so\", \"config\": {\"strict\": false}}\n]}\n";
  if (!host_.start({t.host_binary, t.plugin_dir, manifest, {"llm", "kv"}}, error) || !host_.wait_ready(10000, error)) {
    error = "starting the llm host: " + error;
    return false;
  }
  return true;
}

}  // namespace bentos::bench
