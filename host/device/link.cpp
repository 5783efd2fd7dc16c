#include "device/link.h"

#include "wire/codec.h"

namespace bentos::device {

namespace {
// Each frame's big-endian length (wire.md), counted in bytes_in like the
// replies' prefixes are in bytes_out.
constexpr size_t kLengthPrefixBytes = 4;
// Replies whose latency waits for the next flush, at most (16 bytes each).
constexpr size_t kMaxUnflushed = 64 * 1024;
}  // namespace

Link::Link(LinkOwner& owner, DeviceStats& stats, net::Connection* connection)
    : owner_(owner),
      stats_(stats), connection_(connection), id_(connection->id()), peer_(connection->peer()) {}

void Link::send(const Responder& to, wire::Reply reply) {
  if (!connection_) return;
  reply.id = to.id;
  reply.fh = to.fh;
  DeviceStats& stats = stats_;
  stats.reply_encoded(reply);  // before the encoder moves the payload out
  wire::SegmentedOutput& out = connection_->output();
  const size_t before = out.size();
  wire::append_reply_frame(std::move(reply), out);
  connection_->mark_dirty();
  stats.bytes_out += out.size() - before;
  if (unflushed_.size() < kMaxUnflushed) {
    unflushed_.push_back(Unflushed{to.op, to.decoded_ns});
  } else {
    // A peer that stopped reading while requests keep coming (up to the
    // connection's read pause): no flush in sight, so this reply's latency
    // ends now, at one clock reading, rather than the list growing.
    stats.reply_written(to.op, to.decoded_ns, DeviceStats::now_ns());
  }
}

void Link::on_flush(uint64_t now_ns) {
  DeviceStats& stats = stats_;
  for (const Unflushed& u : unflushed_) stats.reply_written(u.op, u.decoded_ns, now_ns);
  unflushed_.clear();
}

void Link::close() {
  if (connection_) connection_->close();  // calls on_closed()
}

const std::shared_ptr<Session>* Link::find(uint64_t fh) const {
  auto it = sessions_.find(fh);
  return it == sessions_.end() ? nullptr : &it->second;
}

std::shared_ptr<Session> Link::take(uint64_t fh) {
  auto it = sessions_.find(fh);
  if (it == sessions_.end()) return nullptr;
  auto s = std::move(it->second);
  sessions_.erase(it);
  return s;
}

void Link::put(std::shared_ptr<Session> session) {
  const uint64_t fh = session->fh;
  sessions_[fh] = std::move(session);
}

void Link::drop(const std::shared_ptr<Session>& session) {
  auto it = sessions_.find(session->fh);
  if (it != sessions_.end() && it->second == session) sessions_.erase(it);
}

std::unordered_map<uint64_t, std::shared_ptr<Session>> Link::take_all() {
  std::unordered_map<uint64_t, std::shared_ptr<Session>> all;
  all.swap(sessions_);
  return all;
}

void Link::on_frame(const uint8_t* payload, size_t len) {
  stats_.bytes_in += kLengthPrefixBytes + len;
  owner_.on_frame(*this, payload, len, connection_->batch_arrived_ns());
}

void Link::on_oversized_frame(uint64_t length) { owner_.on_oversized_frame(*this, length); }

void Link::on_closed() {
  connection_ = nullptr;
  unflushed_.clear();  // dropped with the output: never written, no latency
  // The device drops its reference; keep ourselves alive through cleanup.
  auto self = shared_from_this();
  owner_.on_link_closed(*this);
}

void Responder::send(wire::Reply reply) const {
  if (target && !link.expired()) target->send(*this, std::move(reply));
}

}  // namespace bentos::device
