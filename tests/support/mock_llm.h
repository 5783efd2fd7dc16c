// Runs tests/support/mock_llm/mock_llm.py (the scriptable Anthropic/OpenAI
// mock, its docstring has the script format) as a child process for one
// test: starts it on a free port, scripts it and reads what it recorded
// over its control API, and kills it on destruction.
//
// Owned by one test; not thread-safe (use it from the test's thread).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace bentos::test {

struct HttpReply {
  int status = 0;  // 0: no answer (connect or read failed)
  std::string body;
};

// One blocking HTTP/1.1 exchange with "Connection: close" (the body read
// to EOF): enough for the mock's control API.
HttpReply http_exchange(int port, const std::string& method, const std::string& path, const std::string& body = {});

class MockLlm {
 public:
  // Starts python3 (from PATH) on `script`, by default (empty) on
  // $BENTOS_SOURCE_DIR/tests/support/mock_llm/mock_llm.py (bentos-bench,
  // which runs outside meson test, passes its own path); throws
  // std::runtime_error when it does not report its port within 20 s.
  explicit MockLlm(const std::string& script = {});
  ~MockLlm();
  MockLlm(const MockLlm&) = delete;
  MockLlm& operator=(const MockLlm&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string base_url() const;  // http://127.0.0.1:PORT, no trailing '/'

  // Appends response specs (a JSON array, or one object) to the queue.
  void script(const nlohmann::json& specs) const;
  void reset() const;
  void config(const nlohmann::json& settings) const;
  // The request log (GET /_mock/requests).
  nlohmann::json requests() const;
  // Polls the log until `done(log)` holds; false after timeout.
  bool wait_requests(const std::function<bool(const nlohmann::json&)>& done,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  nlohmann::json control(const std::string& method, const std::string& path, const std::string& body) const;

  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace bentos::test
