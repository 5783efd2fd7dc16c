// Listening sockets that outlive this process: the ones a service manager
// passes in at start (the socket-activation protocol of sd_listen_fds(3):
// $LISTEN_PID, $LISTEN_FDS, $LISTEN_FDNAMES, the fds from 3 on), and the
// hand-over interface a Listener reports to, so that whoever keeps the
// sockets across restarts (systemd's file descriptor store,
// daemon/socket_store.h) knows which ones exist.
//
// Plain functions and an interface; no thread affinity of their own (the
// daemon calls them on the loop thread).
#pragma once

#include <string>
#include <vector>

namespace bentos::net {

// One socket passed in by the service manager.
struct InheritedSocket {
  int fd = -1;
  std::string name;  // its $LISTEN_FDNAMES entry ("" when none was given)
  std::string path;  // the file it is bound to (getsockname)
};

struct InheritedSockets {
  std::vector<InheritedSocket> usable;  // AF_UNIX, SOCK_STREAM, listening, bound to a path
  struct Rejected {
    std::string name;
    std::string why;
  };
  std::vector<Rejected> rejected;  // closed already
};

// Takes the sockets passed to this process: nothing unless $LISTEN_PID is
// our pid. The variables are removed from the environment (a plugin's child
// processes must not take them for theirs) and every fd is made
// close-on-exec. Fds that are not listening AF_UNIX stream sockets bound to
// a path are closed and reported in `rejected`.
InheritedSockets take_inherited_sockets();

// True when `fd` is an AF_UNIX SOCK_STREAM socket in the listening state
// bound to a file; its path in `path`, else the reason in `why`.
bool listening_unix_socket(int fd, std::string& path, std::string& why);

// What a Listener on a Unix socket reports to (ListenOptions::handover).
// Implemented by the daemon; loop thread only.
class SocketHandover {
 public:
  virtual ~SocketHandover() = default;
  // An inherited listening socket bound to `path`, or -1. Ownership passes
  // to the caller.
  virtual int take(const std::string& path) = 0;
  // `fd` now listens at `path` (bound here, or taken above).
  virtual void listening(const std::string& path, int fd) = 0;
  // The listener at `path` is closing; true when it should remove its
  // socket file, false when the socket is being handed over (shutdown
  // with the sockets kept by the service manager).
  virtual bool closing(const std::string& path) = 0;
};

}  // namespace bentos::net
