// bentos-mount against the real daemon and a real FUSE mount: shell tools
// (bash, coreutils) and Python (fcntl, select, threading, signal) on the
// device files. Where /dev/fuse is unusable every case prints
// "SKIPPED: <reason>" and returns.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "daemon_runner.h"
#include "mount_runner.h"

using bentos::test::DaemonRunner;
using bentos::test::MountRunner;

namespace {

namespace fs = std::filesystem;

// "slow": a ticker that never ticks during a test, for parked reads.
const char* kDevices = R"([
  {"name": "echo", "plugin": "echo.so"},
  {"name": "kv", "plugin": "kv.so"},
  {"name": "ticker", "plugin": "ticker.so", "config": {"interval_ms": 1000}},
  {"name": "synth", "plugin": "synth.so", "config": {"delay_ms": 20}},
  {"name": "llm/fixture/echo", "plugin": "echo.so"},
  {"name": "slow", "plugin": "ticker.so", "config": {"interval_ms": 600000}}
])";

#define SKIP_WITHOUT_FUSE()                                       \
  do {                                                            \
    const std::string why_ = bentos::test::fuse_unavailable_reason(); \
    if (!why_.empty()) {                                          \
      MESSAGE("SKIPPED: " << why_);                               \
      return;                                                     \
    }                                                             \
  } while (0)

#define SKIP_WITHOUT_BINARY()                                                  \
  do {                                                                         \
    if (::access(bentos::test::mount_path().c_str(), X_OK) != 0) {             \
      MESSAGE("SKIPPED: bentos-mount was not built (libfuse3 missing)");       \
      return;                                                                  \
    }                                                                          \
  } while (0)

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The manifest options that point bentos-mount at a runner's devices.
std::vector<std::string> config_args(const DaemonRunner& d) {
  return {"--config", d.dir() + "/devices.json", "--socket-dir", d.dir() + "/run"};
}

// Runs a bash script; stdout and stderr together in `out`.
int sh(const std::string& script, std::string& out, int timeout_ms = 20000) {
  return bentos::test::run_program({bentos::test::find_program("bash"), "-c", script}, out, timeout_ms);
}

// Runs a Python script (written to a temporary file) with the mount point
// as its argument.
int python(const std::string& script, const std::string& mountpoint, std::string& out) {
  const std::string py = bentos::test::find_program("python3");
  if (py.empty()) {
    out = "python3 not found";
    return -1;
  }
  const std::string dir = bentos::test::make_temp_dir("bentos-py");
  bentos::test::write_text(dir + "/test.py", script);
  const int status = bentos::test::run_program({py, dir + "/test.py", mountpoint}, out, 30000);
  bentos::test::remove_tree(dir);
  return status;
}

// A daemon with kDevices and a mount of all of them (through --config).
struct Rig {
  DaemonRunner daemon{kDevices};
  MountRunner mount{config_args(daemon), "echo"};
  std::string m() const { return mount.mountpoint(); }
};

#define REQUIRE_RIG(rig)                                             \
  REQUIRE((rig).daemon.ready());                                     \
  REQUIRE_MESSAGE((rig).mount.ready(), "bentos-mount:\n" << (rig).mount.log())

// Starts a program directly (no shell, so SIGINT keeps its default action);
// output to /dev/null.
pid_t spawn_quiet(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int fd = ::open("/dev/null", O_RDWR);
  ::dup2(fd, 1);
  ::dup2(fd, 2);
  ::signal(SIGINT, SIG_DFL);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

// Waits up to timeout_ms for `pid`; the raw wait status, or -1 on timeout.
int wait_for(pid_t pid, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

void reap(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
}

}  // namespace

TEST_CASE("mount: echo session with bash and cat") {
  SKIP_WITHOUT_FUSE();
  Rig rig;
  REQUIRE_RIG(rig);
  std::string out;
  CHECK(sh("exec 3<>" + rig.m() + "/echo; echo hello >&3; cat <&3", out) == 0);
  CHECK(out == "hello\n");
}

TEST_CASE("mount: kv write-then-read, cat exits 0 both times") {
  SKIP_WITHOUT_FUSE();
  Rig rig;
  REQUIRE_RIG(rig);
  std::string out;
  const std::string script = "exec 3<>" + rig.m() +
                             "/kv\n"
                             "echo \"greeting=hello world\" >&3; cat <&3; echo \"cat=$?\"\n"
                             "echo greeting >&3; cat <&3; echo \"cat=$?\"\n";
  CHECK(sh(script, out) == 0);
  CHECK(out == "OK\ncat=0\nhello world\ncat=0\n");
}

TEST_CASE("mount: timeout 3.5 cat on the ticker prints three ticks") {
  SKIP_WITHOUT_FUSE();
  Rig rig;
  REQUIRE_RIG(rig);
  std::string out;
  CHECK(sh("timeout 3.5 cat " + rig.m() + "/ticker; echo \"status=$?\"", out) == 0);
  CHECK(out == "tick 1\ntick 2\ntick 3\nstatus=124\n");
}

TEST_CASE("mount: synth reverses a line, one record per read") {
  SKIP_WITHOUT_FUSE();
  Rig rig;
  REQUIRE_RIG(rig);
  std::string out;
  CHECK(sh("exec 3<>" + rig.m() + "/synth; echo hello >&3; cat <&3", out) == 0);
  CHECK(out == "olleh");
}

TEST_CASE("mount: nested device names become folders; file and folder attributes") {
  SKIP_WITHOUT_FUSE();
  Rig rig;
  REQUIRE_RIG(rig);
  std::string out;
  const std::string m = rig.m();
  CHECK(sh("ls " + m + "; ls " + m + "/llm " + m + "/llm/fixture", out) == 0);
  CHECK(out == "echo\nkv\nllm\nslow\nsynth\nticker\n" + m + "/llm:\nfixture\n\n" + m + "/llm/fixture:\necho\n");
  CHECK(sh("stat -c '%A %s' " + m + "/echo " + m + "/llm " + m + "/llm/fixture/echo", out) == 0);
  CHECK(out == "-rw-rw-rw- 0\ndrwxr-xr-x 0\n-rw-rw-rw- 0\n");
  CHECK(sh("exec 3<>" + m + "/llm/fixture/echo; echo nested >&3; cat <&3", out) == 0);
  CHECK(out == "nested\n");
  // Only the devices exist: no new files, no such names.
  CHECK(sh("echo x > " + m + "/newfile", out) == 1);
  CHECK(contains(out, "Permission denied"));
  CHECK(sh("cat " + m + "/llm/nothing", out) == 1);
  CHECK(contains(out, "No such file or directory"));
}

TEST_CASE("mount: synth ioctls through Python fcntl (GET_STATE, SET_UPPERCASE, GET_CONFIG, DROP)") {
  SKIP_WITHOUT_FUSE();
  Rig rig;
  REQUIRE_RIG(rig);
  const char* script = R"PY(
import fcntl, os, struct, sys, threading, time
M = sys.argv[1]
GET_STATE, DROP = 0xBE00, 0xBE02
SET_UPPERCASE = 0x40040001   # _IOW(0, 1, int32)
SET_DELAY = 0x40040002       # _IOW(0, 2, int32)
GET_CONFIG = 0x80400080      # _IOR(0, 0x80, char[64])
def state(): return fcntl.ioctl(fd, GET_STATE)
def set_int(cmd, v): return fcntl.ioctl(fd, cmd, bytearray(struct.pack('<i', v)), True)
fd = os.open(M + '/synth', os.O_RDWR)
print('open', state())
print('uppercase', set_int(SET_UPPERCASE, 1))
print('config', bytes(fcntl.ioctl(fd, GET_CONFIG, bytes(64))).rstrip(b'\0').decode())
os.write(fd, b'hello')
print('written', state())
records = [os.read(fd, 100)]
print('streaming', state())
while True:
    r = os.read(fd, 100)
    if not r: break
    records.append(r)
print('records', b'|'.join(records).decode(), 'then', state())
os.write(fd, b'abc')
print('delay', set_int(SET_DELAY, 60000))
got = {}
def reader():
    got['data'] = os.read(fd, 100)
t = threading.Thread(target=reader); t.start()
time.sleep(0.3)
print('parked', t.is_alive(), state())
print('drop', fcntl.ioctl(fd, DROP))
t.join(3)
print('reader', t.is_alive(), got.get('data'), 'state', state())
try:
    fcntl.ioctl(fd, DROP)
except OSError as e:
    print('drop again', e.errno)
os.close(fd)
)PY";
  std::string out;
  CHECK(python(script, rig.m(), out) == 0);
  CHECK(out ==
        "open 0\n"
        "uppercase 0\n"
        "config {\"uppercase\":true,\"delay_ms\":20}\n"
        "written 1\n"
        "streaming 3\n"
        "records O|L|L|E|H then 5\n"
        "delay 0\n"
        "parked True 2\n"
        "drop 0\n"
        "reader False b'' state 1\n"
        "drop again 22\n");
}

TEST_CASE("mount: select and poll wake on a tick; kv reports POLLOUT, then POLLIN after a flush") {
  SKIP_WITHOUT_FUSE();
  Rig rig;
  REQUIRE_RIG(rig);
  const char* script = R"PY(
import os, select, sys, threading, time
M = sys.argv[1]
fd = os.open(M + '/ticker', os.O_RDONLY)
print('ticker now', select.select([fd], [], [], 0)[0] == [fd])
t = time.time(); r = select.select([fd], [], [], 5)[0]; dt = time.time() - t
print('select', r == [fd], 0.5 < dt < 2.5, os.read(fd, 100))
p = select.poll(); p.register(fd, select.POLLIN)
t = time.time(); ev = p.poll(5000); dt = time.time() - t
print('poll', ev == [(fd, select.POLLIN)], 0.5 < dt < 2.5, os.read(fd, 100))
os.close(fd)

fd = os.open(M + '/kv', os.O_RDWR)
p = select.poll(); p.register(fd, select.POLLIN | select.POLLOUT)
print('kv idle', p.poll(0) == [(fd, select.POLLOUT)])
os.write(fd, b'colour=green')
print('kv written', p.poll(0) == [(fd, select.POLLOUT)])
os.close(os.dup(fd))   # close() of a copy: the kernel sends flush
print('kv flushed', p.poll(0) == [(fd, select.POLLIN)], os.read(fd, 100))
# Waiting for POLLIN while another thread writes and flushes.
p = select.poll(); p.register(fd, select.POLLIN)
def later():
    time.sleep(0.3); os.write(fd, b'colour'); os.close(os.dup(fd))
threading.Thread(target=later).start()
t = time.time(); ev = p.poll(5000); dt = time.time() - t
print('kv woke', ev == [(fd, select.POLLIN)], dt < 2, os.read(fd, 100))
os.close(fd)
)PY";
  std::string out;
  CHECK(python(script, rig.m(), out) == 0);
  CHECK(out ==
        "ticker now False\n"
        "select True True b'tick 1\\n'\n"
        "poll True True b'tick 2\\n'\n"
        "kv idle True\n"
        "kv written True\n"
        "kv flushed True b'OK\\n'\n"
        "kv woke True True b'green\\n'\n");
}

TEST_CASE("mount: a signal interrupts a parked read with EINTR, and the late tick is not lost") {
  SKIP_WITHOUT_FUSE();
  Rig rig;
  REQUIRE_RIG(rig);
  const char* script = R"PY(
import os, signal, sys, time
M = sys.argv[1]
class Alarm(Exception): pass
def on_alarm(signum, frame): raise Alarm()
signal.signal(signal.SIGALRM, on_alarm)
fd = os.open(M + '/ticker', os.O_RDONLY)
signal.setitimer(signal.ITIMER_REAL, 0.3)
t = time.time()
try:
    os.read(fd, 100)
    print('not interrupted')
except Alarm:
    print('interrupted', time.time() - t < 0.8)
print(os.read(fd, 100), os.read(fd, 100))
os.close(fd)
)PY";
  std::string out;
  CHECK(python(script, rig.m(), out) == 0);
  CHECK(out == "interrupted True\nb'tick 1\\n' b'tick 2\\n'\n");
}

TEST_CASE("mount: two processes on the same device keep separate sessions") {
  SKIP_WITHOUT_FUSE();
  Rig rig;
  REQUIRE_RIG(rig);
  const std::string tmp = bentos::test::make_temp_dir("bentos-two");
  // Each process writes its request in two parts with a pause between them
  // (read -t on a fifo nobody writes: a builtin, so no close, no flush), so
  // the two requests accumulate at the same time.
  const std::string script = "M=" + rig.m() + "; T=" + tmp +
                             "\n"
                             "mkfifo $T/never\n"
                             "session() {\n"
                             "  exec 5<>$T/never 3<>$M/kv\n"
                             "  { printf %s \"$1\"; read -t 0.5 -u 5; printf =%s \"$2\"; } >&3\n"
                             "  cat <&3\n"
                             "  printf %s \"$1\" >&3; cat <&3\n"
                             "}\n"
                             "session first red >$T/a 2>&1 &\n"
                             "session second blue >$T/b 2>&1 &\n"
                             "wait\n"
                             "cat $T/a; echo ---; cat $T/b\n";
  std::string out;
  CHECK(sh(script, out) == 0);
  CHECK(out == "OK\nred\n---\nOK\nblue\n");
  bentos::test::remove_tree(tmp);
}

TEST_CASE("mount: the host restarts; old files fail with EIO, new opens reconnect") {
  SKIP_WITHOUT_FUSE();
  DaemonRunner first(kDevices);
  REQUIRE(first.ready());
  MountRunner mount(config_args(first), "echo");
  REQUIRE_MESSAGE(mount.ready(), "bentos-mount:\n" << mount.log());
  const std::string m = mount.mountpoint();
  std::string out;
  CHECK(sh("exec 3<>" + m + "/echo; echo one >&3; cat <&3", out) == 0);
  CHECK(out == "one\n");

  const int old_fd = ::open((m + "/echo").c_str(), O_RDWR);
  REQUIRE(old_fd >= 0);
  CHECK(::write(old_fd, "x", 1) == 1);
  CHECK(first.stop() == 0);

  char buf[16];
  errno = 0;
  CHECK(::read(old_fd, buf, sizeof buf) == -1);
  CHECK(errno == EIO);
  CHECK(::close(old_fd) == 0);
  CHECK(sh("exec 3<>" + m + "/echo", out) == 1);
  CHECK(contains(out, "No such device or address"));

  DaemonRunner second(kDevices, {}, first.dir());
  REQUIRE(second.ready());
  CHECK(sh("exec 3<>" + m + "/echo; echo two >&3; cat <&3", out) == 0);
  CHECK(out == "two\n");
  CHECK(sh("exec 3<>" + m + "/kv; echo k=v >&3; cat <&3", out) == 0);
  CHECK(out == "OK\n");
  CHECK(contains(mount.log(), "echo: the host closed the connection"));
  CHECK(mount.stop() == 0);
}

TEST_CASE("mount: SIGINT to a reader parked on a device ends it at once") {
  SKIP_WITHOUT_FUSE();
  DaemonRunner daemon(kDevices);
  REQUIRE(daemon.ready());
  // This time through --device, with a bare socket path.
  MountRunner mount({"--device", "slow=" + daemon.socket("slow"), "--device", "echo=" + daemon.socket("echo")}, "slow");
  REQUIRE_MESSAGE(mount.ready(), "bentos-mount:\n" << mount.log());
  const pid_t cat = spawn_quiet({bentos::test::find_program("cat"), mount.mountpoint() + "/slow"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  REQUIRE(wait_for(cat, 0) == -1);  // parked
  const auto start = std::chrono::steady_clock::now();
  ::kill(cat, SIGINT);
  const int status = wait_for(cat, 1000);
  const auto took = std::chrono::steady_clock::now() - start;
  reap(cat);
  REQUIRE_MESSAGE(status != -1, "cat did not end within a second of SIGINT");
  // The read answered EINTR; cat's SIGINT then ends it (default action).
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGINT);
  CHECK(took < std::chrono::seconds(1));
  // The mount carries on.
  std::string out;
  CHECK(sh("exec 3<>" + mount.mountpoint() + "/echo; echo still >&3; cat <&3", out) == 0);
  CHECK(out == "still\n");
  CHECK(mount.stop() == 0);
}

TEST_CASE("mount: SIGTERM unmounts and exits 0, even with a reader parked") {
  SKIP_WITHOUT_FUSE();
  Rig rig;
  REQUIRE_RIG(rig);
  const std::string m = rig.m();
  const pid_t cat = spawn_quiet({bentos::test::find_program("cat"), m + "/slow"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(rig.mount.stop(SIGTERM, 5000) == 0);
  CHECK_FALSE(bentos::test::is_mounted(m));
  CHECK(fs::is_directory(m));
  CHECK(fs::is_empty(m));
  const int status = wait_for(cat, 3000);
  reap(cat);
  CHECK(status != -1);  // the parked reader was answered, not left hanging
  CHECK(contains(rig.mount.log(), "SIGTERM: unmounting " + m));
}

TEST_CASE("mount: unmounted from outside, bentos-mount exits 0 by itself") {
  SKIP_WITHOUT_FUSE();
  MountRunner mount({"--device", "echo=/nonexistent/echo.sock"}, "echo");
  REQUIRE_MESSAGE(mount.ready(), "bentos-mount:\n" << mount.log());
  bentos::test::force_unmount(mount.mountpoint());
  CHECK(mount.wait_exit(5000) == 0);
  CHECK(contains(mount.log(), mount.mountpoint() + " was unmounted; exiting"));
}

TEST_CASE("mount: a device whose socket is missing fails opens with ENXIO, the mount stays up") {
  SKIP_WITHOUT_FUSE();
  MountRunner mount({"--device", "gone=/nonexistent/gone.sock"}, "gone");
  REQUIRE_MESSAGE(mount.ready(), "bentos-mount:\n" << mount.log());
  std::string out;
  CHECK(sh("cat " + mount.mountpoint() + "/gone", out) == 1);
  CHECK(contains(out, "No such device or address"));
  CHECK(contains(mount.log(), "gone: cannot connect to unix:///nonexistent/gone.sock"));
  CHECK(mount.running());
}

TEST_CASE("mount: a stale mount (its server killed) is reported as busy") {
  SKIP_WITHOUT_FUSE();
  MountRunner mount({"--device", "echo=/nonexistent/echo.sock"}, "echo");
  REQUIRE_MESSAGE(mount.ready(), "bentos-mount:\n" << mount.log());
  CHECK(mount.stop(SIGKILL) == 128 + SIGKILL);  // leaves the mount behind, its server gone
  REQUIRE(bentos::test::is_mounted(mount.mountpoint()));
  std::string out;
  const std::string m = mount.mountpoint();
  CHECK(bentos::test::run_program({bentos::test::mount_path(), "--device", "echo=/x.sock", m}, out) == 1);
  CHECK(out == "bentos-mount: mount point " + m +
                   " is busy: a FUSE mount whose server is gone (Transport endpoint is not connected); unmount it "
                   "first: fusermount3 -u " + m + " (or umount -l " + m + ")\n");
  // ~MountRunner detaches the stale mount.
}

TEST_CASE("mount: a busy mount point is refused with a clear message") {
  SKIP_WITHOUT_FUSE();
  Rig rig;
  REQUIRE_RIG(rig);
  std::string out;
  CHECK(bentos::test::run_program({bentos::test::mount_path(), "--device", "echo=/nonexistent.sock", rig.m()}, out) ==
        1);
  CHECK(out == "bentos-mount: mount point " + rig.m() + " is busy: already a FUSE mount (fuse.bentos); unmount it first: "
                                                        "fusermount3 -u " + rig.m() + "\n");
  CHECK(rig.mount.running());
}

TEST_CASE("mount: usage and configuration errors") {
  SKIP_WITHOUT_BINARY();
  const std::string bin = bentos::test::mount_path();
  const std::string tmp = bentos::test::make_temp_dir("bentos-mount-errors");
  std::string out;
  CHECK(bentos::test::run_program({bin, "--bogus", tmp}, out) == 2);
  CHECK(out == "bentos-mount: unknown option '--bogus'\nTry 'bentos-mount --help'.\n");
  CHECK(bentos::test::run_program({bin, "--device", "echo=/x.sock"}, out) == 2);
  CHECK(out == "bentos-mount: missing MOUNTPOINT\nTry 'bentos-mount --help'.\n");
  CHECK(bentos::test::run_program({bin, "--device", "echo", tmp}, out) == 2);
  CHECK(contains(out, "expects NAME=SOCKET"));
  CHECK(bentos::test::run_program({bin, "--help"}, out) == 0);
  CHECK(contains(out, "Usage: bentos-mount"));

  CHECK(bentos::test::run_program({bin, "--device", "echo=/x.sock", tmp + "/missing"}, out) == 1);
  CHECK(out == "bentos-mount: mount point " + tmp + "/missing does not exist; create it first (mkdir -p " + tmp +
                   "/missing)\n");
  bentos::test::write_text(tmp + "/file", "");
  CHECK(bentos::test::run_program({bin, "--device", "echo=/x.sock", tmp + "/file"}, out) == 1);
  CHECK(out == "bentos-mount: mount point " + tmp + "/file is not a directory\n");
  CHECK(bentos::test::run_program({bin, "--device", "llm=/x.sock", "--device", "llm/echo=/y.sock", tmp}, out) == 1);
  CHECK(contains(out, "device 'llm/echo' clashes with the device 'llm'"));
  CHECK(bentos::test::run_program({bin, "--device", "Echo=/x.sock", tmp}, out) == 1);
  CHECK(contains(out, "'Echo' is not a device name"));
  bentos::test::write_text(tmp + "/bad.json", R"({"devices": [{"name": "kv", "plugin": "kv.so", "sockt": "x"}]})");
  CHECK(bentos::test::run_program({bin, "--config", tmp + "/bad.json", tmp}, out) == 1);
  CHECK(contains(out, "did you mean 'socket'"));
  bentos::test::remove_tree(tmp);
}

TEST_CASE("mount: without /dev/fuse the error says what to do") {
  SKIP_WITHOUT_BINARY();
  // A private mount namespace with an empty /dev hides /dev/fuse from
  // bentos-mount alone (needs root and unshare).
  const std::string unshare = bentos::test::find_program("unshare");
  if (unshare.empty() || ::geteuid() != 0) {
    MESSAGE("SKIPPED: needs root and unshare(1) to hide /dev/fuse");
    return;
  }
  const std::string tmp = bentos::test::make_temp_dir("bentos-nofuse");
  std::string out;
  const int status = bentos::test::run_program(
      {unshare, "-m", "--propagation", "private", bentos::test::find_program("sh"), "-c",
       "mount -t tmpfs none /dev || exit 99; exec " + bentos::test::mount_path() + " --device echo=/x.sock " + tmp},
      out);
  bentos::test::remove_tree(tmp);
  if (status == 99 || contains(out, "unshare failed") || contains(out, "Operation not permitted")) {
    MESSAGE("SKIPPED: cannot hide /dev/fuse here: " << out);
    return;
  }
  CHECK(status == 1);
  CHECK(out ==
        "bentos-mount: cannot use /dev/fuse: No such file or directory (is the fuse module loaded? in a container, "
        "pass --device /dev/fuse)\n");
}
