// The raw baseline: a minimal framed echo server on a Unix socket, with
// epoll directly (no protobuf, no libuv, no sessions). Every complete frame
// it receives goes back verbatim, as soon as the frame is whole, so the
// same client with the same frames and concurrency measures what the
// socket and the framing alone cost (docs/performance.md).
//
// Owns one server thread, started by start() and joined by the destructor;
// the rest of the class is touched by the thread that created it.
#pragma once

#include <string>
#include <thread>

namespace bentos::bench {

class BaselineServer {
 public:
  BaselineServer() = default;
  ~BaselineServer();  // stops the thread, removes the socket and its directory
  BaselineServer(const BaselineServer&) = delete;
  BaselineServer& operator=(const BaselineServer&) = delete;

  // Binds a socket in a fresh temp directory and starts serving; false
  // with `error` set on failure.
  bool start(std::string& error);
  const std::string& path() const { return path_; }

 private:
  void serve();

  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;  // an eventfd: writing to it ends serve()
  std::thread thread_;
};

}  // namespace bentos::bench
