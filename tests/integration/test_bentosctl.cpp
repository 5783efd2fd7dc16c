// bentosctl's commands against the real daemon and every example device:
// the per-op commands, cat, send, run's new ops, ioctl syntax, --json,
// exit statuses, and Ctrl-C.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "daemon_runner.h"

using bentos::test::bentosctl_path;
using bentos::test::DaemonRunner;
using bentos::test::run_program;

namespace {

// Every example device; kvs is kv in strict mode, slow a ticker that never
// ticks within a test. Debug logging shows sessions ended by a close rather
// than a release ("closed; ended N session(s)").
const char* kDevices = R"([
  {"name": "hello", "plugin": "hello.so"},
  {"name": "playground", "plugin": "playground.so"},
  {"name": "echo", "plugin": "echo.so"},
  {"name": "kv", "plugin": "kv.so"},
  {"name": "kvs", "plugin": "kv.so", "config": {"strict": true}},
  {"name": "ticker", "plugin": "ticker.so", "config": {"interval_ms": 300}},
  {"name": "slow", "plugin": "ticker.so", "config": {"interval_ms": 600000}},
  {"name": "synth", "plugin": "synth.so", "config": {"delay_ms": 5}}
])";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// bentosctl ARGS; stdout and stderr together in `out`.
int ctl(std::vector<std::string> args, std::string& out) {
  args.insert(args.begin(), bentosctl_path());
  return run_program(args, out);
}

// A shell command line, for pipes and separate stdout/stderr.
int sh(const std::string& command, std::string& out) { return run_program({"/bin/sh", "-c", command}, out); }

// Single-quoted for the shell.
std::string q(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  size_t start = 0;
  for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(nlohmann::json::parse(out.substr(start, nl - start)));
  }
  return lines;
}

// bentosctl running in the background, its stdout and stderr on a pipe.
class Background {
 public:
  explicit Background(const std::vector<std::string>& args) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      ::close(fds[0]);
      ::close(fds[1]);
      // A test run in the background of a shell inherits SIGINT ignored,
      // and bentosctl (like cat) keeps an ignored signal ignored.
      ::signal(SIGINT, SIG_DFL);
      ::signal(SIGTERM, SIG_DFL);
      std::vector<std::string> full = {bentosctl_path()};
      full.insert(full.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : full) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~Background() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }

  // Reads until the output holds `needle`, EOF, or timeout_ms.
  const std::string& read_until(const std::string& needle, int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!contains(output_, needle) && !eof_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) eof_ = true;
      else output_.append(buf, static_cast<size_t>(n));
    }
    return output_;
  }

  // Sends `signo`, reads the rest of the output and returns the exit
  // status: the exit code, or -1 if it was killed by a signal or hung.
  int stop_with(int signo, int timeout_ms = 5000) {
    // A child still starting (slow under sanitizers on a busy machine) may
    // not have installed its handler yet, and would die of the signal
    // instead of handling it: wait until /proc says it catches it.
    wait_until_caught(signo, timeout_ms);
    ::kill(pid_, signo);
    read_until("\x01never", timeout_ms);  // to EOF
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  const std::string& output() const { return output_; }

 private:
  // Polls the SigCgt mask of /proc/PID/status for `signo`.
  void wait_until_caught(int signo, int timeout_ms) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
      std::string line;
      while (std::getline(status, line)) {
        if (line.rfind("SigCgt:", 0) != 0) continue;
        const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
        if (mask & (1ull << (signo - 1))) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  bool eof_ = false;
  std::string output_;
};

struct OpCase {
  const char* device;
  std::vector<std::string> args;  // after the socket
  const char* command;
  const char* expected;  // the whole output
  int status;
};

}  // namespace

TEST_CASE("bentosctl --help lists every command with examples; each command has its own help") {
  std::string out;
  CHECK(ctl({"--help"}, out) == 0);
  for (const char* cmd : {"cat SOCKET", "send SOCKET", "open SOCKET", "read SOCKET", "write SOCKET", "flush SOCKET",
                          "fsync SOCKET", "ioctl SOCKET", "poll SOCKET", "release SOCKET", "run SOCKET", "list [DEVICE]", "status", "stats [DEVICE]",
                          "metrics", "reload", "host CONTROL"}) {
    CHECK_MESSAGE(contains(out, cmd), cmd);
  }
  CHECK(contains(out, "Examples:"));
  CHECK(contains(out, "Exit status"));
  for (const char* cmd : {"cat", "send", "open", "read", "write", "flush", "fsync", "ioctl", "poll", "release", "run",
                          "list", "status", "stats", "metrics", "reload"}) {
    CHECK(ctl({cmd, "--help"}, out) == 0);
    CHECK_MESSAGE(contains(out, "Usage: bentosctl"), cmd);
    CHECK_MESSAGE(contains(out, "Examples:"), cmd);
    std::string via_help;
    CHECK(ctl({"help", cmd}, via_help) == 0);
    CHECK(via_help == out);
  }
  CHECK(ctl({}, out) == 2);
  CHECK(ctl({"frobnicate"}, out) == 2);
  CHECK(contains(out, "unknown command 'frobnicate'"));
}

TEST_CASE("per-op commands on every example device: answers, errno names, exit statuses") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  const std::vector<OpCase> cases = {
      {"hello", {}, "open", "open rw: opened\n", 0},
      {"hello", {}, "read", "read 65536: read 19 bytes: \"Hello from BentOS!\\n\"\n", 0},
      {"hello", {"5"}, "read", "read 5: read 5 bytes: \"Hello\"\n", 0},
      {"hello", {"hi"}, "write", "write \"hi\": error ENOSYS (38)\n", 1},
      {"hello", {}, "flush", "flush: ok\n", 0},
      {"hello", {}, "fsync", "fsync: ok\n", 0},
      {"hello", {"0x5401"}, "ioctl", "ioctl 0x5401: error ENOSYS (38)\n", 1},
      {"hello", {}, "poll", "poll POLLIN|POLLOUT: error ENOSYS (38)\n", 1},
      {"hello", {}, "release", "release: ok\n", 0},
      {"playground", {"rw,nonblock"}, "open", "open rw,nonblock: opened\n", 0},
      {"playground", {}, "read", "read 65536: EOF\n", 0},
      {"playground", {"hi"}, "write", "write \"hi\": wrote 2\n", 0},
      {"playground", {"_IO('T',1)"}, "ioctl", "ioctl _IO('T',1): error ENOTTY (25)\n", 1},
      {"playground", {"in"}, "poll", "poll in: poll revents=0 (0x0)\n", 0},
      {"playground", {"--datasync"}, "fsync", "fdatasync: ok\n", 0},
      {"echo", {}, "read", "read 65536: EOF\n", 0},
      {"echo", {"hello"}, "write", "write \"hello\": wrote 5\n", 0},
      {"echo", {}, "poll", "poll POLLIN|POLLOUT: poll revents=POLLOUT (0x4)\n", 0},
      {"echo", {"0x80"}, "ioctl", "ioctl 0x80: error ENOSYS (38)\n", 1},
      {"kv", {}, "read", "read 65536: error EAGAIN (11)\n", 1},
      {"kv", {"name=bentos"}, "write", "write \"name=bentos\": wrote 11\n", 0},
      {"kv", {}, "flush", "flush: ok\n", 0},
      {"kv", {}, "poll", "poll POLLIN|POLLOUT: poll revents=POLLOUT (0x4)\n", 0},
      {"ticker", {"ro"}, "open", "open ro: opened\n", 0},
      {"ticker", {}, "read", "read 65536: read 7 bytes: \"tick 1\\n\"\n", 0},
      {"ticker", {"--flags", "ro,nonblock"}, "read", "read 65536: error EAGAIN (11)\n", 1},
      {"ticker", {"x"}, "write", "write \"x\": error EACCES (13)\n", 1},
      {"ticker", {}, "poll", "poll POLLIN|POLLOUT: poll revents=0 (0x0)\n", 0},
      {"ticker", {"0x80"}, "ioctl", "ioctl 0x80: error ENOSYS (38)\n", 1},
      {"synth", {}, "read", "read 65536: error EAGAIN (11)\n", 1},
      {"synth", {"hi"}, "write", "write \"hi\": wrote 2\n", 0},
      {"synth", {"0x80"}, "ioctl", "ioctl 0x80: ioctl result=0 buf=7b22757070657263617365223a66616c73652c2264656c61795f6d73223a357d\n", 0},
      {"synth", {"_IO(0xBE,0)"}, "ioctl", "ioctl _IO(0xBE,0): ioctl result=0\n", 0},
      {"synth", {"_IOW(0,2,int32)", "hex:01"}, "ioctl", "ioctl _IOW(0,2,int32) hex:01: error EINVAL (22)\n", 1},
      {"synth", {}, "poll", "poll POLLIN|POLLOUT: poll revents=POLLOUT (0x4)\n", 0},
      {"synth", {}, "fsync", "fsync: ok\n", 0},
      {"synth", {}, "release", "release: ok\n", 0},
  };
  for (const OpCase& c : cases) {
    std::vector<std::string> args = {c.command, d.socket(c.device)};
    args.insert(args.end(), c.args.begin(), c.args.end());
    std::string out;
    const int status = ctl(args, out);
    INFO(c.command << " on " << c.device);
    CHECK(out == c.expected);
    CHECK(status == c.status);
  }
}

TEST_CASE("per-op commands: --verbose, read --all, open flags, usage and connection errors") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  std::string out;
  CHECK(ctl({"read", "-v", "--all", d.socket("hello")}, out) == 0);
  CHECK(out ==
        "open rw: opened\n"
        "read-all 65536: read 19 bytes: \"Hello from BentOS!\\n\"\n"
        "read-all 65536: EOF\n"
        "release: ok\n");
  CHECK(ctl({"open", "--flags", "ro,nonblock", "-v", d.socket("ticker")}, out) == 0);
  CHECK(out == "open ro,nonblock: opened\nrelease: ok\n");
  // Bad arguments are usage errors, found before connecting.
  CHECK(ctl({"open", "--fh", "3", d.socket("kv"), "bogus"}, out) == 2);
  CHECK(contains(out, "unknown flag 'bogus'"));
  CHECK(ctl({"ioctl", d.socket("synth"), "_IOR('B',0,nope)"}, out) == 2);
  CHECK(contains(out, "size 'nope'"));
  CHECK(ctl({"ioctl", d.socket("synth"), "0x80", "float64:x"}, out) == 2);
  CHECK(ctl({"flush", d.socket("kv"), "extra"}, out) == 2);
  CHECK(contains(out, "unexpected argument 'extra'"));
  CHECK(ctl({"write", d.socket("kv")}, out) == 2);
  CHECK(ctl({"read", d.socket("kv"), "--frob"}, out) == 2);
  CHECK(contains(out, "unknown option '--frob'"));
  CHECK(ctl({"read", d.dir() + "/nothing.sock", "--timeout", "200"}, out) == 2);
  CHECK(contains(out, "nothing.sock"));
  // Text that looks like an option, after `--`.
  CHECK(ctl({"write", d.socket("echo"), "--", "--x"}, out) == 0);
  CHECK(out == "write \"--x\": wrote 3\n");
}

TEST_CASE("ioctl: _IOW(0,1,int32) sets synth's uppercase, GET_STATE by macro and by number") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  std::string out;
  CHECK(ctl({"run", d.socket("synth"), "open", "ioctl", "_IOW(0,1,int32)", "int32:1", "ioctl", "_IO(0xBE,0)",
             "ioctl", "0xBE00", "write", "abc", "read-all", "release"},
            out) == 0);
  CHECK(out ==
        "open rw: opened\n"
        "ioctl _IOW(0,1,int32) int32:1: ioctl result=0\n"
        "ioctl _IO(0xBE,0): ioctl result=1\n"
        "ioctl 0xBE00: ioctl result=1\n"
        "write \"abc\": wrote 3\n"
        "read-all 65536: read 1 bytes: \"C\"\n"
        "read-all 65536: read 1 bytes: \"B\"\n"
        "read-all 65536: read 1 bytes: \"A\"\n"
        "read-all 65536: EOF\n"
        "release: ok\n");
  // SET_DELAY with an int32 payload, read back through GET_CONFIG as JSON.
  CHECK(ctl({"run", "--json", d.socket("synth"), "open", "ioctl", "_IOW(0,2,int32)", "int32:250", "ioctl",
             "_IOR(0,0x80,int)", "release"},
            out) == 0);
  const auto lines = json_lines(out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[1]["cmd"] == 0x40040002);
  CHECK(lines[1]["in_hex"] == "fa000000");
  CHECK(lines[2]["cmd"] == 0x80040080);
  CHECK(nlohmann::json::parse(lines[2]["buf"].get<std::string>()) ==
        nlohmann::json::parse(R"({"uppercase":false,"delay_ms":250})"));
  // Bare hex payloads still work.
  CHECK(ctl({"run", d.socket("synth"), "open", "ioctl", "0x40040001", "01000000", "ioctl", "0x80", "release"}, out) == 0);
  CHECK(contains(out, "ioctl 0x40040001 01000000: ioctl result=0"));
}

TEST_CASE("send: the P2 round trip on kv and strict kv, and on stream devices") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  std::string out;
  CHECK(ctl({"send", d.socket("kv"), "name=bentos"}, out) == 0);
  CHECK(out == "OK\n");
  CHECK(ctl({"send", d.socket("kv"), "name"}, out) == 0);
  CHECK(out == "bentos\n");
  CHECK(ctl({"send", d.socket("kv"), "missing"}, out) == 0);
  CHECK(out == "(not found)\n");
  // Strict kv: the errno goes to stderr by name and number, stdout stays empty.
  CHECK(sh(q(bentosctl_path()) + " send " + q(d.socket("kvs")) + " missing 2>/dev/null", out) == 1);
  CHECK(out.empty());
  CHECK(sh(q(bentosctl_path()) + " send " + q(d.socket("kvs")) + " missing 2>&1 >/dev/null", out) == 1);
  CHECK(out == "bentosctl: send: error ENOENT (2)\n");
  CHECK(ctl({"send", d.socket("kvs"), "=v"}, out) == 1);
  CHECK(out == "bentosctl: send: error EINVAL (22)\n");
  CHECK(ctl({"send", d.socket("kvs"), "k=v"}, out) == 0);
  CHECK(out == "OK\n");
  CHECK(ctl({"send", d.socket("kvs"), "k"}, out) == 0);
  CHECK(out == "v\n");
  // From standard input.
  CHECK(sh("printf 'name' | " + q(bentosctl_path()) + " send " + q(d.socket("kv")) + " -", out) == 0);
  CHECK(out == "bentos\n");
  // Stream devices: everything up to EOF.
  CHECK(ctl({"send", d.socket("synth"), "hello"}, out) == 0);
  CHECK(out == "olleh");
  CHECK(sh("echo hello | " + q(bentosctl_path()) + " send " + q(d.socket("synth")) + " -", out) == 0);
  CHECK(out == "olleh");
  CHECK(ctl({"send", d.socket("echo"), "hello"}, out) == 0);
  CHECK(out == "hello");
  CHECK(ctl({"send", d.socket("playground"), "hi"}, out) == 0);
  CHECK(out == "hi");
  CHECK(ctl({"send", d.socket("ticker"), "x"}, out) == 1);
  CHECK(out == "bentosctl: send: write: error EACCES (13)\n");
  CHECK(ctl({"send", d.socket("hello"), "x"}, out) == 1);
  CHECK(contains(out, "error ENOSYS (38)"));
  // --json: one object.
  CHECK(sh(q(bentosctl_path()) + " send --json " + q(d.socket("kv")) + " name", out) == 0);
  auto j = nlohmann::json::parse(out);
  CHECK(j["ok"] == true);
  CHECK(j["data"] == "bentos\n");
  CHECK(j["data_hex"] == "62656e746f730a");
  CHECK(sh(q(bentosctl_path()) + " send --json " + q(d.socket("kvs")) + " missing 2>/dev/null", out) == 1);
  j = nlohmann::json::parse(out);
  CHECK(j["ok"] == false);
  CHECK(j["errno"] == 2);
  CHECK(j["errno_name"] == "ENOENT");
  CHECK(j["failed_op"] == "read");
  CHECK(ctl({"send", d.socket("kv")}, out) == 2);
}

TEST_CASE("cat: reads until EOF, raw bytes; EAGAIN ends it") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  std::string out;
  CHECK(ctl({"cat", d.socket("hello")}, out) == 0);
  CHECK(out == "Hello from BentOS!\n");
  CHECK(ctl({"cat", "--size", "5", d.socket("hello")}, out) == 0);
  CHECK(out == "Hello");
  for (const char* dev : {"synth", "kv", "echo", "playground"}) {
    CHECK_MESSAGE(ctl({"cat", d.socket(dev)}, out) == 0, dev);
    CHECK_MESSAGE(out.empty(), dev << ": " << out);
  }
  CHECK(ctl({"cat", "--flags", "ro,nonblock", d.socket("ticker")}, out) == 0);
  CHECK(out.empty());
  CHECK(ctl({"cat", "--json", d.socket("hello")}, out) == 0);
  const auto lines = json_lines(out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["data"] == "Hello from BentOS!\n");
  CHECK(lines[1]["eof"] == true);
  CHECK(ctl({"cat", d.socket("hello"), "extra"}, out) == 2);
}

TEST_CASE("cat on an event device blocks like cat; Ctrl-C releases and exits 130") {
  DaemonRunner d(kDevices, {"--log-level", "debug"});
  REQUIRE(d.ready());
  Background cat({"cat", d.socket("ticker")});
  CHECK(cat.read_until("tick 2\n") == "tick 1\ntick 2\n");
  CHECK(cat.stop_with(SIGINT) == 130);
  CHECK(cat.output() == "tick 1\ntick 2\n");
  // Released before closing: the host had no session left to end.
  CHECK(d.wait_for_log("connection", 1000));
  CHECK_FALSE(d.wait_for_log("closed; ended", 300));
}

TEST_CASE("a parked read stops on SIGTERM (143), on SIGINT in run (130), and so does connecting") {
  DaemonRunner d(kDevices, {"--log-level", "debug"});
  REQUIRE(d.ready());
  {
    Background read({"read", d.socket("slow")});
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(read.stop_with(SIGTERM) == 143);
    CHECK(read.output().empty());
  }
  {
    Background run({"run", "--timeout", "0", d.socket("slow"), "open", "ro", "read"});
    CHECK(run.read_until("open ro: opened\n") == "open ro: opened\n");
    CHECK(run.stop_with(SIGINT) == 130);
    CHECK(run.output() == "open ro: opened\n");
  }
  CHECK_FALSE(d.wait_for_log("closed; ended", 300));
  {
    // Waiting for a socket that does not exist (yet) stops too.
    Background wait({"cat", d.dir() + "/nothing.sock"});
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(wait.stop_with(SIGINT, 1000) == 130);
  }
}

TEST_CASE("write from an argument, a file, hex and standard input") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  const std::string file = d.dir() + "/input.txt";
  bentos::test::write_text(file, "from a file\n");
  std::string out;
  CHECK(ctl({"write", "--file", file, d.socket("playground")}, out) == 0);
  CHECK(out == "write-file " + file + ": wrote 12\n");
  CHECK(ctl({"write", d.socket("playground"), "--hex", "de:ad"}, out) == 0);
  CHECK(out == "write-hex de:ad: wrote 2\n");
  CHECK(sh("printf 'abc' | " + q(bentosctl_path()) + " write " + q(d.socket("kv")) + " -", out) == 0);
  CHECK(out == "write-stdin: wrote 3\n");
  CHECK(ctl({"write", d.socket("kv"), "--file", d.dir() + "/missing"}, out) == 2);
  CHECK(ctl({"write", d.socket("kv"), "text", "--hex", "00"}, out) == 2);

  CHECK(ctl({"run", d.socket("echo"), "open", "write-file", file, "read", "release"}, out) == 0);
  CHECK(contains(out, "read 65536: read 12 bytes: \"from a file\\n\""));
  CHECK(sh("printf 'k=v' | " + q(bentosctl_path()) + " run " + q(d.socket("kv")) +
               " open write-stdin read-all write k read-all release",
           out) == 0);
  CHECK(out ==
        "open rw: opened\n"
        "write-stdin: wrote 3\n"
        "read-all 65536: read 3 bytes: \"OK\\n\"\n"
        "read-all 65536: EOF\n"
        "write \"k\": wrote 1\n"
        "read-all 65536: read 2 bytes: \"v\\n\"\n"
        "read-all 65536: EOF\n"
        "release: ok\n");
  // read-all stops at an errno, which the exit status reports.
  CHECK(ctl({"run", d.socket("kv"), "open", "read-all", "release"}, out) == 1);
  CHECK(out == "open rw: opened\nread-all 65536: error EAGAIN (11)\nrelease: ok\n");
}

TEST_CASE("--json answers parse as JSON") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  std::string out;
  CHECK(ctl({"read", "--json", d.socket("hello")}, out) == 0);
  auto j = nlohmann::json::parse(out);
  CHECK(j["op"] == "read");
  CHECK(j["ok"] == true);
  CHECK(j["data"] == "Hello from BentOS!\n");
  CHECK(ctl({"read", "--json", d.socket("kv")}, out) == 1);
  j = nlohmann::json::parse(out);
  CHECK(j["ok"] == false);
  CHECK(j["errno"] == 11);
  CHECK(j["errno_name"] == "EAGAIN");
  CHECK(ctl({"poll", "--json", d.socket("echo")}, out) == 0);
  j = nlohmann::json::parse(out);
  CHECK(j["revents"] == 4);
  CHECK(j["revents_names"] == "POLLOUT");
  CHECK(ctl({"write", "--json", "-v", d.socket("echo"), "hi"}, out) == 0);
  const auto lines = json_lines(out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["op"] == "open");
  CHECK(lines[1]["count"] == 2);
  CHECK(lines[2]["op"] == "release");
  CHECK(ctl({"ioctl", "--json", d.socket("synth"), "_IO(0xBE,0)"}, out) == 0);
  j = nlohmann::json::parse(out);
  CHECK(j["cmd"] == 0xBE00);
  CHECK(j["result"] == 0);
}

TEST_CASE("run: the README's kv session prints each answer and exits 0") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  std::string out;
  const int status = run_program({bentosctl_path(), "run", d.socket("kv"), "open", "rw", "write", "name=bentos", "flush",
                                  "read", "write", "name", "read", "release"},
                                 out);
  CHECK(status == 0);
  CHECK(out ==
        "open rw: opened\n"
        "write \"name=bentos\": wrote 11\n"
        "flush: ok\n"
        "read 65536: read 3 bytes: \"OK\\n\"\n"
        "write \"name\": wrote 4\n"
        "read 65536: read 7 bytes: \"bentos\\n\"\n"
        "release: ok\n");
}

TEST_CASE("run: an errno answer is printed by name and number, exit status 1") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  std::string out;
  CHECK(run_program({bentosctl_path(), "run", d.socket("kv"), "open", "read", "release"}, out) == 1);
  CHECK(contains(out, "read 65536: error EAGAIN (11)"));
  CHECK(contains(out, "release: ok"));
  CHECK(run_program({bentosctl_path(), "run", d.socket("hello"), "open", "ioctl", "0x5401"}, out) == 1);
  CHECK(contains(out, "error ENOSYS (38)"));
}

TEST_CASE("run: no daemon at the socket is a connection error, exit status 2") {
  const std::string dir = bentos::test::make_temp_dir("bentos-ctl");
  std::string out;
  CHECK(run_program({bentosctl_path(), "run", dir + "/nothing.sock", "--timeout", "200", "open"}, out) == 2);
  CHECK(contains(out, dir + "/nothing.sock"));
  bentos::test::remove_tree(dir);
}

TEST_CASE("run --json: one object per op") {
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  std::string out;
  CHECK(run_program({bentosctl_path(), "run", "--json", d.socket("hello"), "open", "read", "read"}, out) == 0);
  std::vector<nlohmann::json> lines;
  size_t start = 0;
  for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(nlohmann::json::parse(out.substr(start, nl - start)));
  }
  REQUIRE(lines.size() == 3);
  CHECK(lines[1]["data"] == "Hello from BentOS!\n");
  CHECK(lines[2]["eof"] == true);
}
