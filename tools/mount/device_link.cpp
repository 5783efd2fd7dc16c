#include "device_link.h"

#include <errno.h>

#include <utility>

#include "mount_log.h"
#include "wire/codec.h"

namespace bentos::mount {

namespace {

// Replies may carry up to a read's size (1 MiB from the kernel) or an
// ioctl buffer; anything near this is a broken stream, not a reply.
constexpr uint64_t kMaxReplyBytes = uint64_t{64} << 20;
constexpr size_t kReadChunk = 64 * 1024;

}  // namespace

// One connection (attempt). Freed by libuv's close callback.
struct DeviceLink::Conn {
  DeviceLink* link = nullptr;  // null once the link closed
  uint64_t generation = 0;
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_pipe_t pipe;
    uv_tcp_t tcp;
  };
  uv_connect_t connect_req{};
  bool connected = false;
  bool closed = false;
  wire::FrameDecoder decoder{kMaxReplyBytes};
  std::vector<std::string> queued;    // frames written once connected
  std::map<uint64_t, Done> waiting;   // by request id
  std::vector<char> read_buffer = std::vector<char>(kReadChunk);
};

struct DeviceLink::WriteReq {
  uv_write_t req{};
  Conn* conn = nullptr;
  std::string data;
};

DeviceLink::DeviceLink(uv_loop_t* loop, std::string name, net::Endpoint endpoint,
                       const sockaddr_storage& tcp_address)
    : loop_(loop), name_(std::move(name)), endpoint_(std::move(endpoint)), tcp_address_(tcp_address) {
  uv_idle_init(loop_, &defer_);
  defer_.data = this;
}

DeviceLink::~DeviceLink() = default;

bool DeviceLink::live(uint64_t generation) const {
  return conn_ != nullptr && !conn_->closed && conn_->generation == generation;
}

uint64_t DeviceLink::open(wire::Request request, Done done) {
  if (closed_) return 0;
  if (conn_ == nullptr) start_connection();
  if (conn_ == nullptr) {  // could not even start: answer from the idle callback
    deferred_.emplace_back(std::move(done), wire::Reply::error(ENXIO));
    uv_idle_start(&defer_, on_defer);
    return 0;
  }
  send(conn_->generation, std::move(request), std::move(done));
  return conn_->generation;
}

bool DeviceLink::send(uint64_t generation, wire::Request request, Done done) {
  if (!live(generation)) return false;
  request.id = next_id_++;
  conn_->waiting.emplace(request.id, std::move(done));
  std::string frame;
  wire::append_request_frame(request, frame);
  if (conn_->connected) write_frame(*conn_, std::move(frame));
  else conn_->queued.push_back(std::move(frame));
  return true;
}

void DeviceLink::start_connection() {
  auto* conn = new Conn();
  conn->link = this;
  conn->generation = ++generation_;
  int rc = 0;
  if (endpoint_.kind == net::Endpoint::Kind::unix_socket) {
    rc = uv_pipe_init(loop_, &conn->pipe, 0);
  } else {
    rc = uv_tcp_init(loop_, &conn->tcp);
  }
  if (rc != 0) {
    log_line(name_ + ": cannot create a socket: " + uv_strerror(rc));
    delete conn;
    return;
  }
  conn->handle.data = conn;
  conn->connect_req.data = conn;
  conn_ = conn;
  if (endpoint_.kind == net::Endpoint::Kind::unix_socket) {
    uv_pipe_connect(&conn->connect_req, &conn->pipe, endpoint_.path.c_str(), on_connect);
    return;
  }
  rc = uv_tcp_connect(&conn->connect_req, &conn->tcp, reinterpret_cast<const sockaddr*>(&tcp_address_), on_connect);
  if (rc != 0) {
    // Nothing waits on this connection yet (open() sends after this returns),
    // so failing it now calls no callback; open() then defers ENXIO.
    fail(conn, ENXIO, std::string("cannot connect: ") + uv_strerror(rc));
  }
}

void DeviceLink::on_connect(uv_connect_t* req, int status) {
  auto* conn = static_cast<Conn*>(req->data);
  DeviceLink* link = conn->link;
  if (link == nullptr || conn->closed) return;
  if (status != 0) {
    link->fail(conn, ENXIO, std::string("cannot connect to ") + link->uri() + ": " + uv_strerror(status));
    return;
  }
  conn->connected = true;
  if (link->logged_failure_) log_line(link->name_ + ": connected to " + link->uri());
  link->logged_failure_ = false;
  uv_read_start(&conn->stream, on_alloc, on_read);
  std::vector<std::string> queued = std::move(conn->queued);
  conn->queued.clear();
  for (auto& frame : queued) link->write_frame(*conn, std::move(frame));
}

void DeviceLink::write_frame(Conn& conn, std::string frame) {
  auto* w = new WriteReq();
  w->conn = &conn;
  w->data = std::move(frame);
  w->req.data = w;
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  const int rc = uv_write(&w->req, &conn.stream, &buf, 1, on_write);
  if (rc != 0) {
    delete w;
    fail(&conn, EIO, std::string("write failed: ") + uv_strerror(rc));
  }
}

void DeviceLink::on_write(uv_write_t* req, int status) {
  auto* w = static_cast<WriteReq*>(req->data);
  Conn* conn = w->conn;
  delete w;
  if (status != 0 && conn->link != nullptr && !conn->closed) {
    conn->link->fail(conn, EIO, std::string("write failed: ") + uv_strerror(status));
  }
}

void DeviceLink::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* conn = static_cast<Conn*>(handle->data);
  *buf = uv_buf_init(conn->read_buffer.data(), static_cast<unsigned>(conn->read_buffer.size()));
}

void DeviceLink::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* conn = static_cast<Conn*>(stream->data);
  DeviceLink* link = conn->link;
  if (link == nullptr || conn->closed) return;
  if (nread < 0) {
    link->fail(conn, EIO,
               nread == UV_EOF ? std::string("the host closed the connection")
                               : std::string("connection lost: ") + uv_strerror(static_cast<int>(nread)));
    return;
  }
  if (nread == 0) return;
  const bool ok = conn->decoder.feed(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread),
                                     [&](const uint8_t* payload, size_t len) {
                                       if (!conn->closed) link->on_frame(*conn, payload, len);
                                     });
  if (!ok && !conn->closed) {
    link->fail(conn, EIO,
               "a reply length of " + std::to_string(conn->decoder.oversized_length()) +
                   " bytes is beyond any reply; closing the connection");
  }
}

void DeviceLink::on_frame(Conn& conn, const uint8_t* data, size_t len) {
  wire::Reply reply;
  if (!wire::decode_reply(data, len, reply)) {
    log_line(name_ + ": skipped a frame of " + std::to_string(len) + " bytes that is not a reply");
    return;
  }
  const auto it = conn.waiting.find(reply.id);
  if (it == conn.waiting.end()) {
    log_line(name_ + ": dropped a reply for unknown request id " + std::to_string(reply.id));
    return;
  }
  Done done = std::move(it->second);
  conn.waiting.erase(it);
  done(reply);
}

void DeviceLink::fail(Conn* conn, int error, const std::string& why) {
  if (conn->closed) return;
  conn->closed = true;
  if (conn_ == conn) conn_ = nullptr;
  if (conn->connected) uv_read_stop(&conn->stream);
  uv_close(&conn->handle, on_close);
  std::map<uint64_t, Done> waiting = std::move(conn->waiting);
  conn->waiting.clear();
  conn->queued.clear();
  if (conn->connected) {
    log_line(name_ + ": " + why + "; its open files fail with EIO, the next open reconnects");
  } else if (!logged_failure_) {
    log_line(name_ + ": " + why + "; opens fail with ENXIO until it answers");
    logged_failure_ = true;
  }
  for (auto& [id, done] : waiting) done(wire::Reply::error(error));
}

void DeviceLink::on_close(uv_handle_t* handle) { delete static_cast<Conn*>(handle->data); }

void DeviceLink::on_defer(uv_idle_t* idle) {
  auto* link = static_cast<DeviceLink*>(idle->data);
  uv_idle_stop(idle);
  auto deferred = std::move(link->deferred_);
  link->deferred_.clear();
  for (auto& [done, reply] : deferred) done(reply);
}

void DeviceLink::close() {
  if (closed_) return;
  closed_ = true;
  deferred_.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(&defer_), nullptr);
  if (conn_ != nullptr) {
    Conn* conn = conn_;
    conn_ = nullptr;
    conn->closed = true;
    conn->link = nullptr;
    conn->waiting.clear();
    if (conn->connected) uv_read_stop(&conn->stream);
    uv_close(&conn->handle, on_close);
  }
}

}  // namespace bentos::mount
