#include "plugin/library.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "loop/running_plugin.h"

namespace bentos::plugin {

namespace {

std::string abi_text(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// Copies min(declared, sizeof(T)) bytes of a plugin struct into a zeroed T,
// so fields appended after the plugin was built read as unset.
template <typename T>
void copy_extended(const void* src, uint32_t declared, T& out) {
  std::memset(&out, 0, sizeof out);
  std::memcpy(&out, src, std::min<size_t>(declared, sizeof out));
  out.struct_size = static_cast<uint32_t>(sizeof out);
}

// The smallest descriptor a v1.0 plugin can have: everything through `ops`.
constexpr size_t kMinDescriptorSize = offsetof(bentos_driver, ops) + sizeof(void*);

FileIdentity identity_of(const struct stat& st) {
  return {st.st_dev, st.st_ino, st.st_size, int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
}

#ifdef MFD_EXEC
constexpr unsigned kMemfdExec = MFD_EXEC;
#else
constexpr unsigned kMemfdExec = 0x0010U;  // linux/memfd.h, from Linux 6.3
#endif

std::string snapshot_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// Whether a library loaded under `name` is still mapped.
bool resident(const std::string& name) {
  void* handle = dlopen(name.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  dlclose(handle);  // drops the reference RTLD_NOLOAD just took
  return true;
}

// Closes the descriptor, keeping errno for the caller's message.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    const int saved = errno;
    if (fd_ >= 0) close(fd_);
    errno = saved;
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

std::shared_ptr<PluginLibrary> PluginLibrary::load(const std::string& path, std::string& error) {
  std::shared_ptr<PluginLibrary> lib(new PluginLibrary());
  lib->path_ = path;
  // dlopen runs the file's constructors and then its entry function runs:
  // plugin code, named in the crash report if it takes the host down.
  const loop::PluginCallSite site{nullptr, lib->path_.c_str(), "loading the file"};
  const loop::RunningPluginScope loading(site);
  // Open once and identify that file: what is loaded is what was checked.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "plugin " + path + ": cannot open: " + std::strerror(errno);
    return nullptr;
  }
  FdCloser closer(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    error = "plugin " + path + ": cannot stat: " + std::strerror(errno);
    return nullptr;
  }
  lib->identity_ = identity_of(st);
  dlerror();
  if (resident(path)) {
    if (!lib->open_snapshot(fd, error)) return nullptr;
  } else {
    lib->dl_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  }
  if (!lib->dl_) {
    const char* why = dlerror();
    error = "plugin " + path + ": cannot load: " + (why ? why : "unknown dlopen error");
    return nullptr;
  }
  dlerror();
  void* sym = dlsym(lib->dl_, BENTOS_DRIVER_ENTRY_SYMBOL);
  if (!sym) {
    const char* why = dlerror();
    error = "plugin " + path + ": no entry function " BENTOS_DRIVER_ENTRY_SYMBOL
            " (not a BentOS driver for ABI major " + std::to_string(BENTOS_ABI_MAJOR) + "?): " +
            (why ? why : "symbol not found");
    return nullptr;
  }
  auto entry = reinterpret_cast<bentos_driver_entry_fn>(sym);
  const bentos_driver* d = entry(BENTOS_ABI_MAJOR, BENTOS_ABI_MINOR);
  if (!d) {
    error = "plugin " + path + ": its entry function refused host ABI " +
            abi_text(BENTOS_ABI_MAJOR, BENTOS_ABI_MINOR) + " (returned NULL)";
    return nullptr;
  }
  if (!lib->check_and_copy(d, error)) return nullptr;
  return lib;
}

std::shared_ptr<PluginLibrary> PluginLibrary::from_entry(bentos_driver_entry_fn entry, const std::string& label,
                                                         std::string& error) {
  std::shared_ptr<PluginLibrary> lib(new PluginLibrary());
  lib->path_ = label;
  const bentos_driver* d = entry ? entry(BENTOS_ABI_MAJOR, BENTOS_ABI_MINOR) : nullptr;
  if (!d) {
    error = "driver " + label + ": no entry function, or it refused host ABI " +
            abi_text(BENTOS_ABI_MAJOR, BENTOS_ABI_MINOR) + " (returned NULL)";
    return nullptr;
  }
  if (!lib->check_and_copy(d, error)) return nullptr;
  return lib;
}

bool PluginLibrary::open_snapshot(int file_fd, std::string& error) {
  const std::string restart = "; restart the host to load the new file";
  const std::string base = path_.substr(path_.find_last_of('/') + 1);
  // MFD_EXEC: a kernel with vm.memfd_noexec=1 (6.3 and later) makes a
  // memfd non-executable by default, and dlopen would fail on it. Older
  // kernels refuse the flag (EINVAL), and their memfds are executable.
  const std::string name = "bentos-plugin:" + base;
  snapshot_fd_ = memfd_create(name.c_str(), MFD_CLOEXEC | kMemfdExec);
  if (snapshot_fd_ < 0 && errno == EINVAL) snapshot_fd_ = memfd_create(name.c_str(), MFD_CLOEXEC);
  if (snapshot_fd_ < 0) {
    error = "plugin " + path_ + ": an earlier copy is still mapped and cannot be unloaded, and no private copy "
            "can be made (memfd_create: " + std::strerror(errno) + ")" + restart;
    return false;
  }
  off_t offset = 0;
  while (offset < identity_.size) {
    const ssize_t n = sendfile(snapshot_fd_, file_fd, &offset, static_cast<size_t>(identity_.size - offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "plugin " + path_ + ": cannot copy it for a private load: " +
              (n < 0 ? std::strerror(errno) : "the file shrank") + restart;
      return false;
    }
  }
  dl_ = dlopen(snapshot_path(snapshot_fd_).c_str(), RTLD_NOW | RTLD_LOCAL);
  return true;  // a dlopen failure is reported by the caller, like any other
}

bool PluginLibrary::file_replaced() const {
  struct stat st {};
  if (stat(path_.c_str(), &st) != 0) return true;
  return !(identity_of(st) == identity_);
}

PluginLibrary::~PluginLibrary() {
  if (dl_) {
    // The file's destructors run: plugin code, named if it crashes.
    const loop::PluginCallSite site{nullptr, path_.c_str(), "unloading the file"};
    const loop::RunningPluginScope unloading(site);
    dlclose(dl_);
  }
  if (snapshot_fd_ < 0) return;
  // A snapshot that cannot be unloaded either keeps its name, the memfd's
  // /proc/self/fd path: closing the descriptor would let a later snapshot
  // reuse the number, and dlopen would hand back this old copy. Keeping
  // one descriptor per such reload is the price.
  if (!resident(snapshot_path(snapshot_fd_))) close(snapshot_fd_);
}

bool PluginLibrary::check_and_copy(const bentos_driver* d, std::string& error) {
  const std::string host_abi = abi_text(BENTOS_ABI_MAJOR, BENTOS_ABI_MINOR);
  if (d->struct_size < offsetof(bentos_driver, abi_minor) + sizeof(uint32_t)) {
    error = "plugin " + path_ + ": descriptor is too small (" + std::to_string(d->struct_size) +
            " bytes) to carry an ABI version";
    return false;
  }
  const std::string plugin_abi = abi_text(d->abi_major, d->abi_minor);
  if (d->abi_major != BENTOS_ABI_MAJOR) {
    error = "plugin " + path_ + ": built for driver ABI " + plugin_abi + ", this host speaks ABI " +
            host_abi + "; the major versions must match (rebuild the plugin against this host's bentos/driver.h)";
    return false;
  }
  if (d->abi_minor > BENTOS_ABI_MINOR) {
    error = "plugin " + path_ + ": built for driver ABI " + plugin_abi + ", newer than this host's ABI " +
            host_abi + "; upgrade bentos-driver-host or rebuild the plugin against ABI " + host_abi;
    return false;
  }
  if (d->struct_size < kMinDescriptorSize) {
    error = "plugin " + path_ + ": descriptor is " + std::to_string(d->struct_size) +
            " bytes, smaller than the " + std::to_string(kMinDescriptorSize) + " bytes of ABI 1.0";
    return false;
  }
  copy_extended(d, d->struct_size, descriptor_);
  if (!descriptor_.create) {
    error = "plugin " + path_ + ": descriptor has no create function";
    return false;
  }
  if (!descriptor_.ops) {
    error = "plugin " + path_ + ": descriptor has no ops table";
    return false;
  }
  return copy_ops(error);
}

bool PluginLibrary::copy_ops(std::string& error) {
  // Every ops table starts with its struct_size.
  uint32_t declared = 0;
  std::memcpy(&declared, descriptor_.ops, sizeof declared);
  if (declared < sizeof(uint32_t) * 2) {
    error = "plugin " + path_ + ": ops table struct_size " + std::to_string(declared) + " is too small";
    return false;
  }
  switch (pattern()) {
    case patterns::Pattern::raw:
      copy_extended(descriptor_.ops, declared, raw_);
      return true;
    case patterns::Pattern::stream:
      copy_extended(descriptor_.ops, declared, stream_);
      if (!stream_.on_data) {
        error = "plugin " + path_ + ": stream (P1) ops table has no on_data";
        return false;
      }
      return true;
    case patterns::Pattern::write_read:
      copy_extended(descriptor_.ops, declared, write_read_);
      if (!write_read_.on_request) {
        error = "plugin " + path_ + ": write_read (P2) ops table has no on_request";
        return false;
      }
      return true;
    case patterns::Pattern::event_stream:
      copy_extended(descriptor_.ops, declared, event_stream_);
      return true;
    case patterns::Pattern::configured_stream:
      copy_extended(descriptor_.ops, declared, configured_);
      if (!configured_.process) {
        error = "plugin " + path_ + ": configured_stream (P4) ops table has no process";
        return false;
      }
      return true;
  }
  error = "plugin " + path_ + ": unknown pattern " + std::to_string(descriptor_.pattern) +
          " (expected 1 raw, 2 stream, 3 write_read, 4 event_stream or 5 configured_stream)";
  return false;
}

}  // namespace bentos::plugin
