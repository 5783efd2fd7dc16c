// Issue 13: an llm device (the llm plugin, provider openai, against the
// mock provider) through the tools a user has: `bentosctl send` printing
// the answer as it streams, and bentos-mount with the README's shell
// session and docs/examples/llm_structured.py, run verbatim (the test
// also checks that README.md and docs/llm.md show exactly what it runs).
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon_runner.h"
#include "llm_device.h"
#include "mock_llm.h"
#include "mount_runner.h"

using bentos::test::DaemonRunner;
using bentos::test::MockLlm;
using bentos::test::MountRunner;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string source_file(const std::string& relative) {
  const char* dir = std::getenv("BENTOS_SOURCE_DIR");
  REQUIRE(dir != nullptr);
  std::ifstream in(std::string(dir) + "/" + relative);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A program running in the background, its stdout and stderr on a pipe
// the test reads as it goes. Owned by one test case, on its thread; the
// destructor kills what still runs.
class Running {
 public:
  explicit Running(std::vector<std::string> args) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      ::close(fds[0]);
      ::close(fds[1]);
      ::signal(SIGINT, SIG_DFL);  // not inherited ignored from a background shell
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~Running() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(fd_);
  }

  // Reads until the output holds `needle`, EOF or timeout_ms.
  const std::string& read_until(const std::string& needle, int timeout_ms = 10000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!contains(output_, needle) && !eof_ && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) eof_ = true;
      else output_.append(buf, static_cast<size_t>(n));
    }
    return output_;
  }
  bool exited() {
    int status = 0;
    if (pid_ <= 0) return true;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    pid_ = -1;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return true;
  }
  // Sends `signo` (if still running) and waits; the exit code, -1 when
  // killed by a signal or still running after timeout_ms.
  int stop_with(int signo, int timeout_ms = 10000) {
    if (pid_ > 0) ::kill(pid_, signo);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!exited() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    read_until("\x01never", 1000);  // the rest, to EOF
    return pid_ > 0 ? -1 : status_;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  int status_ = -1;
  bool eof_ = false;
  std::string output_;
};

}  // namespace

TEST_CASE("bentosctl send prints an llm answer as it streams, not at EOF") {
  SKIP_WITHOUT_LLM();
  MockLlm mock;
  DaemonRunner d("[" + bentos::test::llm_device_json("llm", mock.base_url()) + "]");
  REQUIRE(d.ready());

  // The whole answer, paced: piece by piece, then exit 0.
  mock.script({{"pieces", {{{"text", "Hello"}}, {{"text", ","}}, {{"text", " world"}}}}, {"pace_ms", 300}});
  std::string out;
  CHECK(bentos::test::run_program({bentos::test::bentosctl_path(), "send", d.socket("llm"), "hello"}, out) == 0);
  CHECK(out == "Hello, world");

  // The proof that it is printed as it arrives, with no timing involved:
  // after its first piece the mock stalls until the client goes away, so
  // the first piece can only be on stdout while bentosctl is still
  // reading. Ctrl-C then releases, and the provider sees the call end.
  mock.script({{"pieces", {{{"text", "first piece"}}, {{"stall", true}}}}});
  Running send({bentos::test::bentosctl_path(), "send", d.socket("llm"), "hello"});
  CHECK(send.read_until("first piece") == "first piece");
  CHECK_FALSE(send.exited());
  CHECK(send.stop_with(SIGINT) == 130);
  CHECK(mock.wait_requests([](const nlohmann::json& log) {
    return log.size() == 2 && log[1]["closed_early"] == true;
  }));
  const auto requests = mock.requests();
  CHECK(requests[0]["body"]["stream"] == true);
}

namespace {

// What README.md shows for bentos-mount and an llm device: this session,
// run verbatim by the test below, and what it prints with the mock
// provider unscripted (it streams the prompt back word by word).
const char kReadmeSession[] = R"(exec 3<>$M/llm; echo "hello" >&3; cat <&3)";
const char kReadmeOutput[] = "hello\n";

#define SKIP_WITHOUT_FUSE()                                               \
  do {                                                                    \
    const std::string why_ = bentos::test::fuse_unavailable_reason();     \
    if (!why_.empty()) {                                                  \
      MESSAGE("SKIPPED: " << why_);                                       \
      return;                                                             \
    }                                                                     \
  } while (0)

// A daemon with one llm device on the mock, mounted with bentos-mount.
struct MountedLlm {
  MockLlm mock;
  DaemonRunner daemon{"[" + bentos::test::llm_device_json("llm", mock.base_url()) + "]"};
  MountRunner mount{{"--config", daemon.dir() + "/devices.json", "--socket-dir", daemon.dir() + "/run"}, "llm"};
  std::string m() const { return mount.mountpoint(); }
};

#define REQUIRE_MOUNTED(rig)                                         \
  REQUIRE((rig).daemon.ready());                                     \
  REQUIRE_MESSAGE((rig).mount.ready(), "bentos-mount:\n" << (rig).mount.log())

}  // namespace

TEST_CASE("mount: the README's shell session on an llm device streams the answer") {
  SKIP_WITHOUT_LLM();
  SKIP_WITHOUT_FUSE();
  // The README shows exactly this session and output.
  CHECK(contains(source_file("README.md"), std::string("$ ") + kReadmeSession + "\n" + kReadmeOutput));
  MountedLlm rig;
  REQUIRE_MOUNTED(rig);
  std::string out;
  CHECK(bentos::test::run_program({bentos::test::find_program("bash"), "-c", "M=" + rig.m() + "; " + kReadmeSession},
                                  out) == 0);
  CHECK(out == kReadmeOutput);

  // A scripted answer comes out the same way, one read per piece.
  rig.mock.script({{"pieces", {{{"text", "The sky"}}, {{"text", " scatters"}}, {{"text", " blue light.\n"}}}}});
  CHECK(bentos::test::run_program({bentos::test::find_program("bash"), "-c", "M=" + rig.m() + "; " + kReadmeSession},
                                  out) == 0);
  CHECK(out == "The sky scatters blue light.\n");
  const auto requests = rig.mock.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0]["body"]["messages"].dump().find("hello") != std::string::npos);
}

TEST_CASE("mount: docs/examples/llm_structured.py sets max_tokens and the formats, reads JSON events") {
  SKIP_WITHOUT_LLM();
  SKIP_WITHOUT_FUSE();
  const std::string example = source_file("docs/examples/llm_structured.py");
  REQUIRE_FALSE(example.empty());
  // docs/llm.md shows the file as it is.
  CHECK(contains(source_file("docs/llm.md"), "```python\n" + example + "```\n"));
  MountedLlm rig;
  REQUIRE_MOUNTED(rig);
  std::string out;
  const char* source_dir = std::getenv("BENTOS_SOURCE_DIR");
  CHECK(bentos::test::run_program({bentos::test::find_program("python3"),
                                   std::string(source_dir) + "/docs/examples/llm_structured.py", rig.m() + "/llm"},
                                  out, 30000) == 0);
  // The unscripted mock streams the last user message back word by word:
  // five text_delta events, then complete.
  CHECK(out == "Why is the sky blue?\nstop_reason: end_turn\n");
  const auto requests = rig.mock.requests();
  REQUIRE(requests.size() == 1);
  const auto& body = requests[0]["body"];
  CHECK(body["max_tokens"] == 256);
  CHECK(body.dump().find("Answer in one sentence.") != std::string::npos);
  CHECK(body["messages"].back()["role"] == "user");
}
