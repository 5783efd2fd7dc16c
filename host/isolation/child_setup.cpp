#include "isolation/child_setup.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>

#include "config/spec_json.h"

namespace bentos::isolation {

namespace {
// A setup carries one device's config; anything longer is refused.
constexpr size_t kMaxSetupBytes = 64u << 20;
}  // namespace

std::string setup_line(const ChildSetup& s) {
  return nlohmann::json{{"spec", config::spec_to_json(s.spec)},
                        {"plugin_path", s.plugin_path},
                        {"check", s.check},
                        {"parent_pid", s.parent_pid},
                        {"max_connections", s.max_connections}}
      .dump();
}

bool parse_setup(const std::string& line, ChildSetup& s, std::string& error) {
  try {
    const auto j = nlohmann::json::parse(line);
    s.plugin_path = j.at("plugin_path").get<std::string>();
    s.check = j.at("check").get<bool>();
    s.parent_pid = j.at("parent_pid").get<pid_t>();
    s.max_connections = j.at("max_connections").get<uint64_t>();
    return config::spec_from_json(j.at("spec").get<std::string>(), s.spec, error);
  } catch (const nlohmann::json::exception& e) {
    error = std::string("bad setup line: ") + e.what();
    return false;
  }
}

bool write_line(int fd, const std::string& line) {
  const std::string bytes = line + "\n";
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool read_line(int fd, std::string& line, int timeout_ms) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  line.clear();
  char c = 0;
  while (line.size() < kMaxSetupBytes) {
    if (timeout_ms >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd, POLLIN, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(left));
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0) return false;
    }
    // One byte at a time: nothing after the newline may be taken from the
    // socket, it belongs to the loop that reads next. Only for two lines.
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (c == '\n') return true;
    line.push_back(c);
  }
  return false;
}

}  // namespace bentos::isolation
