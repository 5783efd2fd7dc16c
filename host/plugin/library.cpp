#include "plugin/library.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

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

}  // namespace

std::shared_ptr<PluginLibrary> PluginLibrary::load(const std::string& path, std::string& error) {
  std::shared_ptr<PluginLibrary> lib(new PluginLibrary());
  lib->path_ = path;
  dlerror();
  lib->dl_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
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

PluginLibrary::~PluginLibrary() {
  if (dl_) dlclose(dl_);
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
