// A listening socket for one device: a Unix socket (stale file removed,
// mode and group applied) or, for development and tests, TCP.
//
// Owned by its Device; loop thread only. Closing it unlinks the socket file
// it created.
#pragma once

#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "net/connection.h"
#include "net/endpoint.h"
#include "net/inherited_sockets.h"

namespace bentos::net {

struct ListenOptions {
  std::optional<uint32_t> mode;       // chmod of the socket file
  std::optional<std::string> group;   // chgrp: a name or a numeric gid
  int backlog = 128;
  // Unix sockets only: asked first for an inherited socket at the path,
  // told when the socket listens and when it closes. Not owned; outlives
  // the listener. nullptr: always bind, always unlink at close.
  SocketHandover* handover = nullptr;
};

class Listener {
 public:
  // Receives each accepted client (ownership passes) and a peer description.
  using AcceptFn = std::function<void(StreamStorage* client, std::string peer)>;

  // Binds and listens (or takes over the handover's socket for the path).
  // On failure returns nullptr with `error` naming the
  // endpoint and the reason.
  static std::unique_ptr<Listener> open(uv_loop_t* loop, const Endpoint& endpoint, const ListenOptions& options,
                                        AcceptFn on_accept, std::string& error);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }
  // The endpoint actually bound (a tcp port 0 becomes the chosen port).
  std::string bound_uri() const;

 private:
  Listener() = default;
  bool bind_unix(const ListenOptions& options, std::string& error);
  bool adopt_unix(int fd, const ListenOptions& options, std::string& error);
  bool apply_file_options(const ListenOptions& options, std::string& error);
  bool bind_tcp(std::string& error);
  static void on_connection(uv_stream_t* server, int status);

  uv_loop_t* loop_ = nullptr;
  Endpoint endpoint_;
  StreamStorage* server_ = nullptr;  // heap: freed in its close callback
  AcceptFn on_accept_;
  uint64_t accepted_ = 0;
  bool created_file_ = false;
  SocketHandover* handover_ = nullptr;  // told at close, once listening
};

// Binds a listening Unix socket at `path` the way a Listener does (its
// folder created, a stale socket file replaced, mode and group applied)
// without watching it: for a socket that another process accepts on (an
// isolated device's child). Returns the fd (close-on-exec), or -1 with
// `error` set and no file left behind.
int bind_unix_socket(const std::string& path, const ListenOptions& options, std::string& error);

// A group given as a name or a numeric gid (a socket's "socket_group", an
// isolated device's "group"); false with `error` naming it when no such
// group exists.
bool resolve_group(const std::string& group, gid_t& gid, std::string& error);

// Peer credentials of a Unix-socket client (SO_PEERCRED); false for TCP.
bool peer_credentials(uv_stream_t* client, uint32_t& uid, uint32_t& gid, int32_t& pid);

}  // namespace bentos::net
