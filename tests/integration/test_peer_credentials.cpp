// Who may talk to a device (issue 6, item 2), with a real client running as
// another user: bentosctl started through `setpriv` as nobody (65534).
//  - allowed_uids/allowed_gids: a peer not listed is closed before any
//    frame is answered, and the host logs its uid, gid and pid;
//  - socket_mode: 0600 keeps others out at connect (EACCES), and the
//    default 0660 does too for a user outside the socket's group;
//  - a listed uid or gid is served.
// (Every device admits root too: the test runner connects as root to see
// that the host is ready.) Needs root (to switch users) and setpriv;
// skipped loudly otherwise.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "daemon_runner.h"

using bentos::test::DaemonRunner;

namespace {

constexpr const char* kNobody = "65534";
constexpr const char* kSetpriv = "/usr/bin/setpriv";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Runs bentosctl with `args` as uid/gid 65534 with no supplementary groups.
int bentosctl_as_nobody(const std::vector<std::string>& args, std::string& out) {
  std::vector<std::string> argv = {kSetpriv, std::string("--reuid=") + kNobody, std::string("--regid=") + kNobody,
                                   "--clear-groups", bentos::test::bentosctl_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return bentos::test::run_program(argv, out);
}

// Why the tests cannot run here, or "" when they can.
std::string cannot_run() {
  if (::geteuid() != 0) return "not root: switching to another user needs root";
  if (::access(kSetpriv, X_OK) != 0) return std::string(kSetpriv) + " is missing (util-linux)";
  std::string out;
  if (bentosctl_as_nobody({"--help"}, out) != 0) {
    return "bentosctl cannot run as uid 65534 (a folder above the build tree is closed to others?): " + out;
  }
  return {};
}

const char* kDevices = R"([
  {"name": "rootonly", "plugin": "hello.so", "socket_mode": "0666", "allowed_uids": [0]},
  {"name": "nobodyuid", "plugin": "hello.so", "socket_mode": "0666", "allowed_uids": [0, 65534]},
  {"name": "nobodygid", "plugin": "hello.so", "socket_mode": "0666", "allowed_gids": [0, 65534]},
  {"name": "private", "plugin": "hello.so", "socket_mode": "0600"},
  {"name": "default", "plugin": "hello.so"}
])";

// The runner's temporary folder is private (mkdtemp, 0700); others must be
// able to reach the sockets inside for the socket's own mode to decide.
void open_folder_to_others(const DaemonRunner& d) {
  ::chmod(d.dir().c_str(), 0711);
  ::chmod((d.dir() + "/run").c_str(), 0755);
}

}  // namespace

TEST_CASE("a peer outside allowed_uids/allowed_gids is closed before any frame, and logged with uid, gid, pid") {
  if (const std::string why = cannot_run(); !why.empty()) {
    MESSAGE("SKIPPED: " << why);
    return;
  }
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  open_folder_to_others(d);
  std::string out;
  CHECK(bentosctl_as_nobody({"run", d.socket("rootonly"), "open", "read", "release"}, out) != 0);
  CHECK_FALSE(contains(out, "opened"));
  CHECK_FALSE(contains(out, "Hello"));
  CHECK(d.wait_for_log("warn: rootonly: refused connection "));
  CHECK(contains(d.log(), ": uid 65534 gid 65534 (pid "));
  CHECK(contains(d.log(), "is not in allowed_uids/allowed_gids"));
  // Root is listed and still served on the same socket.
  auto c = d.connect("rootonly");
  REQUIRE(c);
  CHECK(c->open(1, 0));
}

TEST_CASE("a uid or gid in the allowed lists is served") {
  if (const std::string why = cannot_run(); !why.empty()) {
    MESSAGE("SKIPPED: " << why);
    return;
  }
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  open_folder_to_others(d);
  for (const char* device : {"nobodyuid", "nobodygid"}) {
    INFO(device);
    std::string out;
    CHECK(bentosctl_as_nobody({"run", d.socket(device), "open", "read", "release"}, out) == 0);
    CHECK(contains(out, "Hello from BentOS!"));
  }
  CHECK_FALSE(contains(d.log(), "refused connection"));
}

TEST_CASE("socket_mode 0600, and the default 0660, refuse other users at connect with EACCES") {
  if (const std::string why = cannot_run(); !why.empty()) {
    MESSAGE("SKIPPED: " << why);
    return;
  }
  DaemonRunner d(kDevices);
  REQUIRE(d.ready());
  open_folder_to_others(d);
  struct stat st{};
  REQUIRE(::stat(d.socket("default").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0660);
  REQUIRE(::stat(d.socket("private").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  for (const char* device : {"private", "default"}) {
    INFO(device);
    std::string out;
    CHECK(bentosctl_as_nobody({"run", d.socket(device), "open", "release"}, out) != 0);
    CHECK(contains(out, "Permission denied"));
  }
  // The host never saw those peers: the kernel refused them.
  CHECK_FALSE(contains(d.log(), "refused connection"));
}
