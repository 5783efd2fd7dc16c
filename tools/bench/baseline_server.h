// The raw baseline: a minimal framed echo server on a Unix socket, with
// epoll directly (no protobuf, no libuv, no sessions). Every complete frame
// it receives goes back verbatim, as soon as the frame is whole, so the
// same client with the same frames and concurrency measures what the
// socket and the framing alone cost (docs/performance.md).
//
// The server runs in a child process, forked by start() and reaped by the
// destructor, because the host it is compared with is one too: on a
// virtual machine whose idle CPUs are slow to wake, a thread in the
// client's own process would be favoured. The class itself is touched only
// by the thread that created it.
#pragma once

#include <sys/types.h>

#include <string>

namespace bentos::bench {

class BaselineServer {
 public:
  BaselineServer() = default;
  ~BaselineServer();  // stops the thread, removes the socket and its directory
  BaselineServer(const BaselineServer&) = delete;
  BaselineServer& operator=(const BaselineServer&) = delete;

  // Binds a socket in a fresh temp directory and forks the server; false
  // with `error` set on failure.
  bool start(std::string& error);
  const std::string& path() const { return path_; }

 private:
  void serve();

  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;  // an eventfd shared with the child: writing to it ends serve()
  pid_t child_ = -1;
};

}  // namespace bentos::bench
