// Keeps the listening sockets alive across restarts through systemd's file
// descriptor store (FileDescriptorStoreMax= in the units):
//   - at start, the sockets systemd passes back ($LISTEN_FDS) are taken
//     over by the listeners for the same paths (net::Listener asks take());
//     the ones no device or control socket claims are closed, their files
//     removed, and dropped from the store (release_unclaimed());
//   - every socket that starts listening is sent to the store
//     (FDSTORE=1, FDNAME=<its path>); one that closes during a reload (a
//     device removed or restarted) is dropped from it (FDSTOREREMOVE=1);
//   - at shutdown (begin_handover()) the sockets stay in the store and
//     their files stay on disk: the next process serves them, and clients
//     queue in the backlog meanwhile instead of getting ECONNREFUSED.
// Without $NOTIFY_SOCKET nothing is stored and files are removed at close,
// as before; inherited sockets are still taken over.
//
// Owned by main() (outlives the Host and the ControlServer, whose
// listeners report to it); loop thread only.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "daemon/sd_notify.h"
#include "net/inherited_sockets.h"

namespace bentos::daemon {

class SocketStore : public net::SocketHandover {
 public:
  SocketStore(SdNotifier& notifier, net::InheritedSockets inherited);
  ~SocketStore() override;
  SocketStore(const SocketStore&) = delete;
  SocketStore& operator=(const SocketStore&) = delete;

  int take(const std::string& path) override;
  void listening(const std::string& path, int fd) override;
  bool closing(const std::string& path) override;

  // After the first start: inherited sockets nobody took are closed,
  // their files removed and their store entries dropped.
  void release_unclaimed();
  // Shutting down: closing listeners keep their store entries and files.
  // With no store (no NOTIFY_SOCKET) this changes nothing.
  void begin_handover();
  bool handing_over() const { return handing_over_; }
  size_t stored() const { return stored_.size(); }

  // A valid FDNAME= value (systemd's rule: at most 255 printable ASCII
  // characters, no ':', which separates $LISTEN_FDNAMES).
  static bool valid_fd_name(const std::string& name);

 private:
  void remove_entry(const std::string& name);

  SdNotifier& notifier_;
  std::vector<net::InheritedSocket> unclaimed_;
  std::map<std::string, std::string> stored_;  // path -> FDNAME in systemd's store
  bool handing_over_ = false;
};

}  // namespace bentos::daemon
