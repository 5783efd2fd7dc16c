// The device layer's view of one bentosd connection: its sessions keyed by
// fh (patterns.md §1.4: sessions are keyed by (connection, fh)), and the way
// back for replies. A Link knows nothing of its device: it reports frames
// and its end to a LinkOwner, as net::Connection reports to its Handler. A Responder addresses one request's reply and is safe to
// keep after the connection died (the reply is then dropped).
//
// Owned by its Device (shared_ptr; Responders hold weak_ptrs). Loop thread
// only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "device/device_stats.h"
#include "device/session.h"
#include "net/connection.h"
#include "wire/ops.h"

namespace bentos::device {

class Link;
struct Responder;

// What a Link reports to whoever owns it (a Device). Loop thread only.
class LinkOwner {
 public:
  virtual ~LinkOwner() = default;
  // One whole request frame, valid during the call. `arrived_ns`: when the
  // read that completed it returned (DeviceStats::now_ns()).
  virtual void on_frame(Link& link, const uint8_t* payload, size_t len, uint64_t arrived_ns) = 0;
  // A frame announced longer than the limit; the connection is closing.
  virtual void on_oversized_frame(Link& link, uint64_t length) = 0;
  // The connection is gone: end its sessions and drop the Link.
  virtual void on_link_closed(Link& link) = 0;
};

class Link : public net::Connection::Handler, public std::enable_shared_from_this<Link> {
 public:
  // `stats` (the device's) counts bytes and reply latencies; it and
  // `owner` outlive the Link's connection.
  Link(LinkOwner& owner, DeviceStats& stats, net::Connection* connection);

  uint64_t id() const { return id_; }
  const std::string& peer() const { return peer_; }
  bool alive() const { return connection_ != nullptr; }

  // Encodes and queues the reply `to` addresses (dropped if the
  // connection is gone), and counts it in the device's stats.
  void send(const Responder& to, wire::Reply reply);
  void close();

  // The session on `fh` (null if none), without a reference count of its
  // own: valid until the table changes (put, take, drop, take_all).
  const std::shared_ptr<Session>* find(uint64_t fh) const;
  // Removes and returns the session on `fh` (nullptr if none).
  std::shared_ptr<Session> take(uint64_t fh);
  void put(std::shared_ptr<Session> session);
  // Takes `session` out if it is still the one on its fh (a failed open).
  void drop(const std::shared_ptr<Session>& session);
  size_t session_count() const { return sessions_.size(); }
  // Empties the table, returning what it held (for disconnect cleanup).
  std::unordered_map<uint64_t, std::shared_ptr<Session>> take_all();

  // net::Connection::Handler
  void on_frame(const uint8_t* payload, size_t len) override;
  void on_oversized_frame(uint64_t length) override;
  void on_closed() override;
  // Records the latency of every reply queued since the last flush.
  void on_flush(uint64_t now_ns) override;

 private:
  // A reply encoded into the connection's output and not yet written.
  struct Unflushed {
    wire::OpKind op;
    uint64_t decoded_ns;
  };

  LinkOwner& owner_;
  DeviceStats& stats_;
  net::Connection* connection_;  // null once closed
  uint64_t id_;
  std::string peer_;
  std::unordered_map<uint64_t, std::shared_ptr<Session>> sessions_;
  // Cleared at each flush, keeping its capacity: no allocation per reply.
  std::vector<Unflushed> unflushed_;
};

// Where one request's reply goes, and what the stats need to know about
// the request (its op, when its bytes arrived). Cheap to copy; loop thread
// only.
struct Responder {
  std::weak_ptr<Link> link;
  // The same Link, for send(): loop-thread-only code holds every reference
  // to a Link, so while `link` has not expired it cannot die under us, and
  // expired() is a plain load where lock() would be two atomic updates.
  Link* target = nullptr;
  uint64_t id = 0;
  uint64_t fh = 0;
  wire::OpKind op = wire::OpKind::none;
  uint64_t decoded_ns = 0;  // when the read that brought the request returned (DeviceStats::now_ns())
  void send(wire::Reply reply) const;
};

}  // namespace bentos::device
