// One device's socket, the bentosd side of wire.md: a non-blocking libuv
// connection shared by every open file of that device. It assigns the fh of
// each open and the id of each request, and matches replies to requests by
// id (they may come back in any order).
//
// A connection has a generation number. Files remember the generation they
// were opened on; once that connection is gone (the host stopped or
// restarted), their requests are refused here and the caller answers EIO.
// A lost connection fails every request still waiting with EIO; nothing
// reconnects until the next open, which starts a new connection (and
// generation). An open whose connection cannot be made fails with ENXIO.
//
// Owned by the FUSE bridge. Loop thread only. `done` callbacks run on the
// loop, exactly once per accepted request, never inside the call that sent
// it -- except close(), which drops them without calling.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net/endpoint.h"
#include "wire/frame_decoder.h"
#include "wire/ops.h"

namespace bentos::mount {

class DeviceLink {
 public:
  using Done = std::function<void(const wire::Reply&)>;

  // `tcp_address` is used for tcp endpoints (resolved at start).
  DeviceLink(uv_loop_t* loop, std::string name, net::Endpoint endpoint, const sockaddr_storage& tcp_address);
  ~DeviceLink();
  DeviceLink(const DeviceLink&) = delete;
  DeviceLink& operator=(const DeviceLink&) = delete;

  const std::string& name() const { return name_; }
  std::string uri() const { return endpoint_.uri(); }

  // A new fh for an open (never reused while this process runs).
  uint64_t allocate_fh() { return next_fh_++; }

  // Sends an open on the live connection, connecting first when there is
  // none. Returns the generation it was sent on.
  uint64_t open(wire::Request request, Done done);

  // Sends a request on connection `generation`. Returns false (nothing sent,
  // `done` dropped) when that connection is gone.
  bool send(uint64_t generation, wire::Request request, Done done);

  // True while connection `generation` is connecting or connected.
  bool live(uint64_t generation) const;

  // Drops every waiting callback without calling it and closes the socket
  // (shutdown). The loop must run afterwards so libuv can free the handle.
  void close();

 private:
  struct Conn;
  struct WriteReq;

  void start_connection();
  void write_frame(Conn& conn, std::string frame);
  void fail(Conn* conn, int error, const std::string& why);
  void on_frame(Conn& conn, const uint8_t* data, size_t len);

  static void on_connect(uv_connect_t* req, int status);
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_close(uv_handle_t* handle);
  static void on_defer(uv_idle_t* idle);

  uv_loop_t* loop_;
  std::string name_;
  net::Endpoint endpoint_;
  sockaddr_storage tcp_address_{};
  Conn* conn_ = nullptr;  // the live connection, or null
  uint64_t generation_ = 0;
  uint64_t next_fh_ = 1;
  uint64_t next_id_ = 1;
  bool closed_ = false;
  bool logged_failure_ = false;  // a failing connect is logged once until one succeeds

  // Failures decided inside open() are answered from an idle callback, so
  // `done` never runs inside the call that sent the request.
  uv_idle_t defer_{};
  std::vector<std::pair<Done, wire::Reply>> deferred_;
};

}  // namespace bentos::mount
