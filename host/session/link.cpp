#include "session/link.h"

#include "session/device.h"
#include "wire/codec.h"

namespace bentos::session {

namespace {
// Each frame's big-endian length (wire.md), counted in bytes_in like the
// replies' prefixes are in bytes_out.
constexpr size_t kLengthPrefixBytes = 4;
}  // namespace

Link::Link(Device& device, net::Connection* connection)
    : device_(device), connection_(connection), id_(connection->id()), peer_(connection->peer()) {}

void Link::send(const Responder& to, wire::Reply reply) {
  if (!connection_) return;
  reply.id = to.id;
  reply.fh = to.fh;
  std::string& out = connection_->output();
  const size_t before = out.size();
  wire::append_reply_frame(reply, out);
  connection_->mark_dirty();
  DeviceStats& stats = device_.stats();
  stats.bytes_out += out.size() - before;
  stats.reply_encoded(to.op, reply, to.decoded_ns);
}

void Link::close() {
  if (connection_) connection_->close();  // calls on_closed()
}

std::shared_ptr<Session> Link::find(uint64_t fh) const {
  auto it = sessions_.find(fh);
  return it == sessions_.end() ? nullptr : it->second;
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
  device_.stats().bytes_in += kLengthPrefixBytes + len;
  device_.on_frame(*this, payload, len);
}

void Link::on_oversized_frame(uint64_t length) { device_.on_oversized_frame(*this, length); }

void Link::on_closed() {
  connection_ = nullptr;
  // The device drops its reference; keep ourselves alive through cleanup.
  auto self = shared_from_this();
  device_.on_link_closed(*this);
}

void Responder::send(wire::Reply reply) const {
  if (auto l = link.lock()) l->send(*this, std::move(reply));
}

}  // namespace bentos::session
