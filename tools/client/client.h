// A client for the BentOS driver wire protocol (wire.md): plays the bentosd
// role against a device endpoint. Used by integration tests (which also need
// to misbehave: raw bytes, bad prefixes, out-of-order waits) and by bentosctl.
//
// Everything here is blocking and simple on purpose; a test or a tool drives
// one connection from one thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "wire/frame_decoder.h"
#include "wire/ops.h"

namespace bentos::client {

// Requests for asynchronous use with Connection::send(). id stays 0, so
// send() assigns one.
wire::Request make_open(uint64_t fh, int32_t flags);
wire::Request make_read(uint64_t fh, uint64_t size, int64_t offset = 0);
wire::Request make_write(uint64_t fh, std::string data, int64_t offset = 0);
wire::Request make_flush(uint64_t fh);
wire::Request make_release(uint64_t fh, int32_t flags = 0);
wire::Request make_fsync(uint64_t fh, bool datasync = false);
wire::Request make_ioctl(uint64_t fh, uint32_t cmd, std::string in_buf, uint64_t out_bufsz);
wire::Request make_poll(uint64_t fh, uint32_t events);

// One connection to a device endpoint.
//
// Owned by whoever connected it (a test case, bentosctl's main); it owns the
// socket and closes it on destruction. Not thread-safe: exactly one thread
// uses a Connection. Every call blocks at most about its timeout_ms; a
// negative timeout means no limit. send() itself blocks until the kernel took
// every byte, which is prompt unless the peer stopped reading.
//
// "Closed" means no further reply can arrive: the peer closed (EOF), the
// connection failed (reset, write error), or the reply stream is unusable
// (a length prefix above the client's cap). Replies received before that
// stay available to wait()/next_reply().
class Connection {
 public:
  // The client accepts replies up to this size; a larger length prefix is
  // treated as a broken stream. Generous, since the daemon's own cap on
  // requests is what tests probe, not the client's.
  static constexpr uint64_t kMaxReplyBytes = uint64_t{1} << 30;

  // Connects to `endpoint` (unix:///path, /abs/path, tcp://host:port).
  // Retries every 20 ms while the socket is missing or refuses, so a test
  // may call this right after starting the daemon. Returns nullptr and
  // sets `error` on a bad endpoint or when timeout_ms passes.
  static std::unique_ptr<Connection> connect(const std::string& endpoint, std::string& error,
                                             int timeout_ms = 5000);

  // Takes ownership of an already connected stream socket (e.g. one end of
  // a socketpair in tests).
  static std::unique_ptr<Connection> adopt(int fd);

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends one request. When req.id is 0 the next unused id is assigned;
  // returns the id used. A write failure marks the connection closed (the
  // caller sees it as wait() returning nullopt), it is not reported here.
  uint64_t send(wire::Request req);

  // Writes arbitrary bytes (garbage, bad length prefixes, partial frames).
  void send_bytes(const std::string& raw);

  // Returns the reply carrying `id`, reading and buffering replies for other
  // ids meanwhile. nullopt on timeout or once closed (see last_error()).
  std::optional<wire::Reply> wait(uint64_t id, int timeout_ms = 5000);

  // Returns the oldest reply not yet taken, in arrival order.
  std::optional<wire::Reply> next_reply(int timeout_ms = 5000);

  // send() + wait().
  std::optional<wire::Reply> call(wire::Request req, int timeout_ms = 5000);

  // Synchronous helpers: one request on `fh`, wait for its reply.
  std::optional<wire::Reply> open(uint64_t fh, int32_t flags, int timeout_ms = 5000);
  std::optional<wire::Reply> read(uint64_t fh, uint64_t size, int timeout_ms = 5000);
  std::optional<wire::Reply> write(uint64_t fh, std::string data, int timeout_ms = 5000);
  std::optional<wire::Reply> flush(uint64_t fh, int timeout_ms = 5000);
  std::optional<wire::Reply> release(uint64_t fh, int timeout_ms = 5000);
  std::optional<wire::Reply> fsync(uint64_t fh, bool datasync = false, int timeout_ms = 5000);
  std::optional<wire::Reply> ioctl(uint64_t fh, uint32_t cmd, std::string in_buf = {},
                                   uint64_t out_bufsz = 0, int timeout_ms = 5000);
  std::optional<wire::Reply> poll(uint64_t fh, uint32_t events, int timeout_ms = 5000);

  // True once the peer closed the connection within timeout_ms. Replies that
  // arrive meanwhile are buffered, not dropped.
  bool wait_closed(int timeout_ms = 5000);

  bool closed() const { return eof_ || write_failed_; }
  // Why the last wait()/next_reply() came back empty, or why the connection
  // closed: "timed out after 100 ms", "connection closed by peer", ...
  const std::string& last_error() const { return last_error_; }
  // Complete frames that did not decode as a reply; they are skipped.
  uint64_t undecodable_frames() const { return undecodable_frames_; }
  // Replies received and not yet taken.
  size_t buffered_replies() const { return pending_.size(); }
  int fd() const { return fd_; }

 private:
  explicit Connection(int fd);

  // Waits up to timeout_ms for readable data and feeds what arrives to the
  // decoder. Returns false on timeout or when the connection is closed.
  bool read_some(int timeout_ms);
  // The read side is finished: no reply can arrive any more.
  void mark_eof(std::string why);
  void write_all(const char* data, size_t len);

  int fd_;
  uint64_t next_id_ = 1;
  wire::FrameDecoder decoder_{kMaxReplyBytes};
  std::deque<wire::Reply> pending_;  // received, not yet taken; arrival order
  bool eof_ = false;           // EOF, reset, or an unusable reply stream
  bool write_failed_ = false;  // e.g. EPIPE; replies already sent may still be read
  std::string last_error_;
  uint64_t undecodable_frames_ = 0;
};

// "EAGAIN" for 11 and so on; "E<n>" for numbers without a known name.
std::string errno_name(int err);

// One line for humans: "ok", "opened", "wrote 12", `read 7 bytes: "bentos\n"`,
// "EOF", "ioctl result=3 buf=dead", "poll revents=POLLIN|POLLOUT (0x5)",
// "error EAGAIN (11)".
std::string describe(const wire::Reply& reply);

// Poll bits as names: "POLLIN|POLLOUT"; "0" for none; unknown bits in hex.
std::string poll_events_name(uint32_t events);

// Parses poll events: a number (decimal or 0x hex) or names such as
// "in|out", "POLLIN,POLLHUP".
bool parse_poll_events(const std::string& text, uint32_t& events, std::string& error);

// C-style escaping of bytes for one-line output (\n, \x01, \").
std::string c_escape(const std::string& bytes);
// c_escape in double quotes; input longer than max_bytes is cut and "..."
// follows the closing quote.
std::string c_quote(const std::string& bytes, size_t max_bytes = SIZE_MAX);
// Lower-case hex, two digits a byte; longer than max_bytes: cut, "..." added.
std::string to_hex(const std::string& bytes, size_t max_bytes = SIZE_MAX);
// Hex digits with an optional 0x prefix, optionally separated by spaces,
// ':', '-' or '_'; an even number of digits.
bool from_hex(const std::string& text, std::string& out, std::string& error);

// Parses open(2) flags: names (ro/rdonly, wo/wronly, rw/rdwr, nonblock,
// append, creat, trunc, excl, cloexec, sync, dsync, noctty, ...; an "O_"
// prefix and any case are accepted) combined with ',' or '|', and numbers
// (decimal or 0x hex). At most one access mode.
bool parse_open_flags(const std::string& text, int32_t& flags, std::string& error);

// Parses an unsigned number, decimal or 0x hex, with no trailing junk.
bool parse_number(const std::string& text, uint64_t& value);

}  // namespace bentos::client
