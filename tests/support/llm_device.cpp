#include "llm_device.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "daemon_runner.h"

namespace bentos::test {

namespace {

bool python3_in_path() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && ::access((dir + "/python3").c_str(), X_OK) == 0) return true;
  }
  return false;
}

}  // namespace

std::string llm_plugin_path() {
  for (const char* candidate : {"/llm.so", "/llm/llm.so"}) {
    const std::string path = plugin_dir() + candidate;
    if (::access(path.c_str(), R_OK) == 0) return path;
  }
  return {};
}

std::string llm_unavailable_reason() {
  if (llm_plugin_path().empty()) return "the llm plugin (llm.so) is not built in " + plugin_dir();
  if (!python3_in_path()) return "python3 is not in PATH (the mock provider needs it)";
  return {};
}

std::string llm_device_json(const std::string& name, const std::string& base_url, const nlohmann::json& extra,
                            const std::string& provider) {
  nlohmann::json config = {{"provider", provider}, {"model", "m"}, {"base_url", base_url}};
  config.update(extra);
  return nlohmann::json{{"name", name}, {"plugin", llm_plugin_path()}, {"config", config}}.dump();
}

}  // namespace bentos::test
