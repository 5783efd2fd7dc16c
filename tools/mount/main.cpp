// bentos-mount: mounts a directory with one file per BentOS device and plays
// bentosd's role for it (wire.md), so shell tools get real file
// descriptors on devices during development. See `bentos-mount --help`.
//
// One thread: the libuv loop runs the FUSE session descriptor, the device
// sockets, the poll re-ask timer and the signals.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <climits>
#include <cstdio>
#include <ctime>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "build_config.h"
#include "device_link.h"
#include "fuse_bridge.h"
#include "inode_table.h"
#include "mount_log.h"
#include "options.h"

namespace {

using namespace bentos::mount;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// Undoes the octal escapes of /proc/self/mountinfo ("\040" for a space).
std::string unescape_mountinfo(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      const std::string digits = text.substr(i + 1, 3);
      if (digits.size() == 3 && digits.find_first_not_of("01234567") == std::string::npos) {
        out.push_back(static_cast<char>(std::stoi(digits, nullptr, 8)));
        i += 3;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

// The file system type mounted exactly at `path`, or "" when none is.
std::string mounted_type(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, found;
  while (std::getline(in, line)) {
    // id parent major:minor root mount-point options [optional...] - type source super-options
    std::vector<std::string> fields;
    size_t start = 0;
    while (start <= line.size()) {
      const size_t space = line.find(' ', start);
      fields.push_back(line.substr(start, space == std::string::npos ? std::string::npos : space - start));
      if (space == std::string::npos) break;
      start = space + 1;
    }
    if (fields.size() < 5 || unescape_mountinfo(fields[4]) != path) continue;
    for (size_t i = 5; i + 1 < fields.size(); ++i) {
      if (fields[i] == "-") {
        found = fields[i + 1];  // the last mount at the path is the visible one
        break;
      }
    }
  }
  return found;
}

bool check_mountpoint(const std::string& path, std::string& error) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOTCONN) {
      error = "mount point " + path + " is busy: a FUSE mount whose server is gone (" + std::strerror(err) +
              "); unmount it first: fusermount3 -u " + path + " (or umount -l " + path + ")";
    } else if (err == ENOENT) {
      error = "mount point " + path + " does not exist; create it first (mkdir -p " + path + ")";
    } else {
      error = "cannot use mount point " + path + ": " + std::strerror(err);
    }
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    error = "mount point " + path + " is not a directory";
    return false;
  }
  char resolved[PATH_MAX];
  const std::string real = ::realpath(path.c_str(), resolved) != nullptr ? resolved : path;
  const std::string type = mounted_type(real);
  if (type.rfind("fuse", 0) == 0) {
    error = "mount point " + path + " is busy: already a FUSE mount (" + type + "); unmount it first: fusermount3 -u " +
            path;
    return false;
  }
  return true;
}

bool check_dev_fuse(std::string& error) {
  const int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    error = std::string("cannot use /dev/fuse: ") + std::strerror(errno) +
            " (is the fuse module loaded? in a container, pass --device /dev/fuse)";
    return false;
  }
  ::close(fd);
  return true;
}

// The running mount: the bridge and the signals that end it.
struct App {
  uv_loop_t* loop = nullptr;
  std::unique_ptr<FuseBridge> bridge;
  std::vector<std::unique_ptr<uv_signal_t>> signals;
  std::string mountpoint;
  int exit_code = kExitOk;
  bool finishing = false;

  void finish(int code, const std::string& why) {
    if (finishing) return;
    finishing = true;
    exit_code = code;
    log_line(why);
    bridge->shutdown();
    for (auto& s : signals) uv_close(reinterpret_cast<uv_handle_t*>(s.get()), nullptr);
  }

  static void on_signal(uv_signal_t* handle, int signum) {
    auto* app = static_cast<App*>(handle->data);
    app->finish(kExitOk, std::string(signum == SIGINT ? "SIGINT" : signum == SIGTERM ? "SIGTERM" : "SIGHUP") +
                             ": unmounting " + app->mountpoint);
  }
};

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);  // a device socket closing under a write is handled, not fatal

  Options options;
  std::string error;
  if (!parse_options(argc, argv, options, error)) {
    std::fprintf(stderr, "bentos-mount: %s\nTry 'bentos-mount --help'.\n", error.c_str());
    return kExitUsage;
  }
  if (options.help) {
    std::fputs(usage_text().c_str(), stdout);
    return kExitOk;
  }
  if (options.version) {
    std::printf("bentos-mount %s\n", BENTOS_VERSION);
    return kExitOk;
  }

  std::vector<DeviceEntry> devices;
  std::vector<std::string> errors;
  if (!resolve_devices(options, devices, errors)) {
    for (const auto& e : errors) log_line(e);
    return kExitError;
  }
  std::vector<std::string> names;
  for (const auto& d : devices) names.push_back(d.name);
  InodeTable table;
  if (!table.build(names, error)) {
    log_line(error);
    return kExitError;
  }
  table.set_owner(::getuid(), ::getgid(), static_cast<int64_t>(::time(nullptr)));

  if (!check_mountpoint(options.mountpoint, error) || !check_dev_fuse(error)) {
    log_line(error);
    return kExitError;
  }

  App app;
  app.loop = uv_default_loop();
  app.mountpoint = options.mountpoint;
  std::vector<std::unique_ptr<DeviceLink>> links;
  for (const auto& d : devices) {
    links.push_back(std::make_unique<DeviceLink>(app.loop, d.name, d.endpoint, d.tcp_address));
  }
  app.bridge = std::make_unique<FuseBridge>(app.loop, std::move(table), std::move(links));
  // Caught from now on, so a signal during the mount still unmounts (it is
  // handled once the loop runs).
  for (int signum : {SIGINT, SIGTERM, SIGHUP}) {
    auto handle = std::make_unique<uv_signal_t>();
    uv_signal_init(app.loop, handle.get());
    handle->data = &app;
    uv_signal_start(handle.get(), App::on_signal, signum);
    app.signals.push_back(std::move(handle));
  }

  std::string fuse_options = "fsname=bentos,subtype=bentos";
  if (options.allow_other) fuse_options += ",allow_other,default_permissions";
  if (!app.bridge->mount(options.mountpoint, fuse_options, options.debug, error)) {
    app.finish(kExitError, error);
    uv_run(app.loop, UV_RUN_DEFAULT);  // lets libuv close the handles
    app.bridge.reset();
    uv_loop_close(app.loop);
    return app.exit_code;
  }

  for (const auto& d : devices) std::printf("%s -> %s\n", d.name.c_str(), d.endpoint.uri().c_str());
  std::printf("mounted on %s (Ctrl-C or SIGTERM unmounts)\n", options.mountpoint.c_str());
  std::fflush(stdout);

  app.bridge->start([&app](int status) {
    app.finish(status, status == 0 ? app.mountpoint + " was unmounted; exiting"
                                   : "the FUSE session failed; unmounting " + app.mountpoint);
  });

  uv_run(app.loop, UV_RUN_DEFAULT);
  app.bridge.reset();  // destroys the FUSE session once the loop let go of everything
  uv_loop_close(app.loop);
  return app.exit_code;
}
