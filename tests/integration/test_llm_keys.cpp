// API keys (inference.md §6, §8): file (mode-checked), systemd credential,
// environment; a missing key starts the device and fails each call with
// EACCES; the key never shows in the log or any reply. Also the device
// config's refusals.
#include "llm_session.h"

#include <sys/stat.h>

using namespace llm_test;
using bentos::test::DaemonRunner;
using bentos::test::MockLlm;

namespace {

constexpr const char* kSecret = "sk-ant-secret-0123456789abcdef";

struct TempDir {
  std::string path = bentos::test::make_temp_dir("bentos-llm-keys");
  ~TempDir() { bentos::test::remove_tree(path); }
};

std::string key_file(const TempDir& t, const std::string& name, mode_t mode) {
  const std::string path = t.path + "/" + name;
  bentos::test::write_text(path, std::string(kSecret) + "\n");
  ::chmod(path.c_str(), mode);
  return path;
}

// Runs one call and checks the key went out as x-api-key and nowhere else.
void check_key_works(DaemonRunner& d, MockLlm& mock, const std::string& device) {
  mock.script(json{{"pieces", json::array({json{{"text", "authorised"}}})}});
  auto c = d.connect(device);
  REQUIRE(c);
  open_session(*c, 1);
  CHECK(ask(*c, 1, "hi") == std::vector<std::string>{"authorised", "eof"});
  CHECK(mock.requests().back()["headers"]["x-api-key"] == kSecret);
}

// The call fails at the submit with EACCES, the provider is never asked,
// and GET_ERROR explains.
void check_missing(DaemonRunner& d, MockLlm& mock, const std::string& device, const std::string& reason) {
  const size_t before = mock.requests().size();
  auto c = d.connect(device);
  REQUIRE(c);
  open_session(*c, 1);
  CHECK(ask(*c, 1, "hi") == std::vector<std::string>{"err:EACCES"});
  json err = query(*c, 1, kGetLastError);
  CHECK(err["kind"] == "authentication");
  CHECK(err["message"].get<std::string>().find(reason) != std::string::npos);
  CHECK(mock.requests().size() == before);
}

}  // namespace

TEST_CASE("llm keys: api_key_file 0600, api_key_env, api_key_credential all work; the key never leaks") {
  MockLlm mock;
  mock.config(json{{"api_key", kSecret}});
  TempDir t;
  const std::string file = key_file(t, "key", 0600);
  bentos::test::write_text(t.path + "/claude-key", std::string(kSecret) + "\n");
  json devices = json::array({device("byfile", "anthropic", mock, json{{"api_key_file", file}}),
                              device("byenv", "anthropic", mock, json{{"api_key_env", "LLM_TEST_SECRET"}}),
                              device("bycred", "anthropic", mock, json{{"api_key_credential", "claude-key"}})});
  DaemonRunner d(devices.dump(), bentos::test::trust_args(), {},
                 {std::string("LLM_TEST_SECRET=") + kSecret, "CREDENTIALS_DIRECTORY=" + t.path});
  REQUIRE(d.ready());
  for (const char* name : {"byfile", "byenv", "bycred"}) {
    CAPTURE(name);
    check_key_works(d, mock, name);
  }
  // A 401 from the provider, a retry log line, GET_INFO: none may carry it.
  auto c = d.connect("byenv");
  REQUIRE(c);
  open_session(*c, 1, true);
  mock.script(json{{"status", 401}, {"error", {{"message", std::string("Incorrect API key provided: ") + kSecret + "."}}}});
  CHECK(ask(*c, 1, "hi") == std::vector<std::string>{"err:EACCES"});
  const std::string err = query(*c, 1, kGetLastError).dump();
  CHECK(err.find(kSecret) == std::string::npos);
  CHECK(err.find("[redacted]") != std::string::npos);
  CHECK(query(*c, 1, kGetInfo).dump().find(kSecret) == std::string::npos);
  CHECK(d.log().find(kSecret) == std::string::npos);
  CHECK(d.log().find(std::string(kSecret).substr(0, 16)) == std::string::npos);
}

TEST_CASE("llm keys: missing key sources start the device; each call answers EACCES with a clear message") {
  MockLlm mock;
  TempDir t;
  json devices = json::array({device("nofile", "anthropic", mock, json{{"api_key_file", t.path + "/absent"}}),
                              device("noenv", "anthropic", mock, json{{"api_key_env", "LLM_TEST_UNSET_VAR"}}),
                              device("nocred", "anthropic", mock, json{{"api_key_credential", "absent"}}),
                              device("nosource", "anthropic", mock)});
  DaemonRunner d(devices.dump(), bentos::test::trust_args(), {}, {"CREDENTIALS_DIRECTORY=" + t.path});
  REQUIRE(d.ready());
  check_missing(d, mock, "nofile", "api_key_file " + t.path + "/absent does not exist");
  check_missing(d, mock, "noenv", "api_key_env LLM_TEST_UNSET_VAR is not set");
  check_missing(d, mock, "nocred", "credential absent is not in $CREDENTIALS_DIRECTORY");
  check_missing(d, mock, "nosource", "no API key");
}

TEST_CASE("llm keys: a key file group or others may read is refused at create, naming the file only") {
  MockLlm mock;
  TempDir t;
  const std::string file = key_file(t, "key", 0644);
  std::string out;
  bentos::test::write_text(t.path + "/devices.json",
                           json{{"devices", json::array({device("leaky", "anthropic", mock, json{{"api_key_file", file}})})}}.dump());
  std::vector<std::string> args = {"--check", "--config", t.path + "/devices.json", "--plugin-dir", bentos::test::plugin_dir()};
  for (const auto& a : bentos::test::trust_args()) args.push_back(a);
  CHECK(bentos::test::run_daemon_once(args, out) != 0);
  CAPTURE(out);
  CHECK(out.find("group or others may read it (mode 0644)") != std::string::npos);
  CHECK(out.find(kSecret) == std::string::npos);
  ::chmod(file.c_str(), 0600);
  CHECK(bentos::test::run_daemon_once(args, out) == 0);
}

TEST_CASE("llm config: unknown keys, a missing model or provider, a base_url with /v1 are refused") {
  MockLlm mock;
  TempDir t;
  const std::vector<std::pair<json, std::string>> cases = {
      {json{{"provider", "openai"}, {"model", "m"}, {"temprature", 1}}, "unknown config key 'temprature'; known: provider, model"},
      {json{{"provider", "openai"}}, "config key 'model' is required"},
      {json{{"model", "m"}}, "config key 'provider' must be \"anthropic\" or \"openai\""},
      {json{{"provider", "openai"}, {"model", "m"}, {"base_url", "http://127.0.0.1:1/v1"}}, "must not end in /v1"},
      {json{{"provider", "openai"}, {"model", "m"}, {"max_retries", -1}}, "'max_retries' must be within 0..10"},
      {json{{"provider", "openai"}, {"model", "m"}, {"api_key_env", "A"}, {"api_key_file", "/x"}}, "at most one of"},
  };
  for (const auto& [config, message] : cases) {
    CAPTURE(config.dump());
    bentos::test::write_text(t.path + "/devices.json",
                             json{{"devices", json::array({json{{"name", "bad"}, {"plugin", "llm.so"}, {"config", config}}})}}.dump());
    std::vector<std::string> args = {"--check", "--config", t.path + "/devices.json", "--plugin-dir", bentos::test::plugin_dir()};
    for (const auto& a : bentos::test::trust_args()) args.push_back(a);
    std::string out;
    CHECK(bentos::test::run_daemon_once(args, out) != 0);
    CAPTURE(out);
    CHECK(out.find(message) != std::string::npos);
  }
}
