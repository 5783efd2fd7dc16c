#include "daemon/socket_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

namespace bentos::daemon {

SocketStore::SocketStore(SdNotifier& notifier, net::InheritedSockets inherited)
    : notifier_(notifier), unclaimed_(std::move(inherited.usable)) {
  for (const auto& r : inherited.rejected) {
    log::warn("", "inherited socket '" + r.name + "' is unusable (" + r.why + "); dropping it");
    remove_entry(r.name);
  }
  for (const auto& s : unclaimed_) log::debug("", "inherited a listening socket for " + s.path);
}

SocketStore::~SocketStore() {
  for (const auto& s : unclaimed_) ::close(s.fd);
}

bool SocketStore::valid_fd_name(const std::string& name) {
  if (name.size() > 255) return false;
  for (const char c : name) {
    if (c < ' ' || c >= 127 || c == ':') return false;
  }
  return true;
}

int SocketStore::take(const std::string& path) {
  for (auto it = unclaimed_.begin(); it != unclaimed_.end(); ++it) {
    if (it->path != path) continue;
    const int fd = it->fd;
    // Still in systemd's store under the name it came with.
    stored_[path] = it->name;
    unclaimed_.erase(it);
    log::info("", "socket " + path + ": taken over from the previous process (kept by the service manager)");
    return fd;
  }
  return -1;
}

void SocketStore::listening(const std::string& path, int fd) {
  if (stored_.count(path) || !notifier_.enabled()) return;  // taken over: stored already
  if (!valid_fd_name(path)) {
    log::warn("", "socket " + path + ": its path cannot name a stored socket (FDNAME=); it will not survive a "
                  "restart");
    return;
  }
  if (notifier_.send_with_fd("FDSTORE=1\nFDNAME=" + path, fd)) stored_[path] = path;
}

bool SocketStore::closing(const std::string& path) {
  auto it = stored_.find(path);
  if (handing_over_ && it != stored_.end()) return false;  // the next process serves it
  if (it != stored_.end()) {
    remove_entry(it->second);
    stored_.erase(it);
  }
  return true;
}

void SocketStore::release_unclaimed() {
  for (const auto& s : unclaimed_) {
    log::info("", "socket " + s.path + ": no device uses it any more; closing the inherited socket");
    ::close(s.fd);
    struct stat st {};
    if (::lstat(s.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(s.path.c_str());
    remove_entry(s.name);
  }
  unclaimed_.clear();
}

void SocketStore::begin_handover() { handing_over_ = notifier_.enabled(); }

void SocketStore::remove_entry(const std::string& name) {
  if (name.empty() || !valid_fd_name(name)) return;  // not one systemd could have stored by name
  notifier_.send("FDSTOREREMOVE=1\nFDNAME=" + name);
}

}  // namespace bentos::daemon
