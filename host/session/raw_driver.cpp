#include "session/raw_driver.h"

#include "patterns/raw.h"
#include "util/log.h"

namespace bentos::session {

using patterns::Completion;
using wire::OpKind;
using wire::Reply;

namespace {

struct RawSession : Session {
  using Session::Session;
  void* state = nullptr;  // the plugin's per-session pointer
};

}  // namespace

RawDriver::RawDriver(plugin::PluginInstance& instance, std::shared_ptr<CallTracker> calls)
    : instance_(instance), ops_(instance.library().raw_ops()), calls_(std::move(calls)) {}

bentos_call* RawDriver::start_call(uint64_t link_id, OpKind op, uint64_t read_size, Responder r) {
  std::string device = instance_.device();
  return calls_->start(link_id, [op, read_size, r, device](Completion&& c) {
    std::string problem;
    Reply reply = patterns::raw_reply(op, c, read_size, problem);
    if (!problem.empty()) log::warn(device, "plugin " + problem);
    r.send(std::move(reply));
  });
}

void RawDriver::open(Link& link, const wire::Request& req, Responder r) {
  auto s = std::make_shared<RawSession>(req.fh, link.id());
  // The session exists from the open on, so the plugin's state pointer has a
  // home while its open is pending; a failed open takes it out again.
  link.put(s);
  if (!ops_.open) {
    r.send(patterns::raw_default_reply(OpKind::open));
    return;
  }
  std::weak_ptr<Link> weak_link = r.link;
  std::string device = instance_.device();
  bentos_call* call = calls_->start(link.id(), [r, s, weak_link, device](Completion&& c) {
    std::string problem;
    Reply reply = patterns::raw_reply(OpKind::open, c, 0, problem);
    if (!problem.empty()) log::warn(device, "plugin " + problem);
    if (reply.kind == wire::ReplyKind::error) {
      s->ended = true;  // the plugin cleans up after its own failed open
      auto l = weak_link.lock();
      if (l && l->find(s->fh) == s) l->take(s->fh);
    }
    r.send(std::move(reply));
  });
  bentos_session_info info{sizeof(bentos_session_info), req.flags, req.fh, link.id(), nullptr};
  const int32_t rc = ops_.open(instance_.handle(), call, &info, &s->state);
  calls_->returned(call, rc, "open");
}

void RawDriver::op(Link& link, const std::shared_ptr<Session>& base, wire::Request&& req, Responder r) {
  auto* s = static_cast<RawSession*>(base.get());
  void* inst = instance_.handle();
  const auto unset = [&] { r.send(patterns::raw_default_reply(req.kind)); };
  bentos_call* call = nullptr;
  int32_t rc = 0;
  const auto* data = reinterpret_cast<const uint8_t*>(req.data.data());
  switch (req.kind) {
    case OpKind::read:
      if (!ops_.read) return unset();
      call = start_call(link.id(), req.kind, req.size, r);
      rc = ops_.read(inst, s->state, call, req.size, req.offset);
      break;
    case OpKind::write:
      if (!ops_.write) return unset();
      call = start_call(link.id(), req.kind, 0, r);
      rc = ops_.write(inst, s->state, call, data, req.data.size(), req.offset);
      break;
    case OpKind::flush:
      if (!ops_.flush) return unset();
      call = start_call(link.id(), req.kind, 0, r);
      rc = ops_.flush(inst, s->state, call);
      break;
    case OpKind::fsync:
      if (!ops_.fsync) return unset();
      call = start_call(link.id(), req.kind, 0, r);
      rc = ops_.fsync(inst, s->state, call, req.datasync ? 1 : 0);
      break;
    case OpKind::ioctl:
      if (!ops_.ioctl) return unset();
      call = start_call(link.id(), req.kind, 0, r);
      rc = ops_.ioctl(inst, s->state, call, req.cmd, req.ioctl_flags, data, req.data.size(), req.out_bufsz);
      break;
    case OpKind::poll:
      if (!ops_.poll) return unset();
      call = start_call(link.id(), req.kind, 0, r);
      rc = ops_.poll(inst, s->state, call, req.events);
      break;
    default:
      return unset();
  }
  calls_->returned(call, rc, wire::op_name(req.kind));
}

void RawDriver::release(Link& link, std::shared_ptr<Session> base, const wire::Request& req, Responder r) {
  auto* s = static_cast<RawSession*>(base.get());
  s->ended = true;
  if (!ops_.release) {
    r.send(patterns::raw_default_reply(OpKind::release));
    return;
  }
  bentos_call* call = start_call(link.id(), OpKind::release, 0, r);
  const int32_t rc = ops_.release(instance_.handle(), s->state, call, req.flags);
  calls_->returned(call, rc, "release");
}

void RawDriver::end(std::shared_ptr<Session> base) {
  auto* s = static_cast<RawSession*>(base.get());
  if (s->ended) return;
  s->ended = true;
  if (!ops_.release) return;
  // The plugin frees its state in release; nobody waits for the answer.
  bentos_call* call = calls_->start(0, [](Completion&&) {});
  const int32_t rc = ops_.release(instance_.handle(), s->state, call, 0);
  calls_->returned(call, rc, "release");
}

}  // namespace bentos::session
