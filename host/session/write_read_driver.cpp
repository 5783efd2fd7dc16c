#include "session/write_read_driver.h"

#include <cerrno>

#include "patterns/write_read.h"

namespace bentos::session {

using patterns::Completion;
using wire::OpKind;
using wire::Reply;

namespace {

struct WriteReadSessionState : Session {
  WriteReadSessionState(uint64_t fh_, uint64_t link_id_, uint64_t max_request_bytes)
      : Session(fh_, link_id_), machine(max_request_bytes) {}
  patterns::WriteReadSession machine;
  void* state = nullptr;  // the plugin's per-session pointer
};

}  // namespace

WriteReadDriver::WriteReadDriver(plugin::PluginInstance& instance, std::shared_ptr<CallTracker> calls,
                                 uint64_t max_request_bytes)
    : instance_(instance),
      ops_(instance.library().write_read_ops()),
      calls_(std::move(calls)),
      max_request_bytes_(max_request_bytes) {}

void WriteReadDriver::open(Link& link, const wire::Request& req, Responder r) {
  auto s = std::make_shared<WriteReadSessionState>(req.fh, link.id(), max_request_bytes_);
  if (ops_.session_start) {
    bentos_session_info info{sizeof(bentos_session_info), req.flags, req.fh, link.id(), nullptr};
    const int32_t rc = ops_.session_start(instance_.handle(), &info, &s->state);
    if (rc < 0) {
      r.send(Reply::error(-rc));
      return;
    }
  }
  link.put(s);
  r.send(Reply::opened());
}

void WriteReadDriver::op(Link& link, const std::shared_ptr<Session>& base, wire::Request&& req, Responder r) {
  auto s = std::static_pointer_cast<WriteReadSessionState>(base);
  patterns::WriteReadStep step;
  switch (req.kind) {
    case OpKind::write: return r.send(s->machine.write(req.data));
    case OpKind::poll: return r.send(Reply::polled(s->machine.poll()));
    case OpKind::fsync: return r.send(Reply::empty());
    case OpKind::ioctl: return r.send(Reply::error(ENOSYS));
    case OpKind::flush: step = s->machine.flush(); break;
    case OpKind::read: step = s->machine.read(req.size); break;
    default: return r.send(Reply::error(EINVAL));
  }
  if (step.reply) return r.send(std::move(*step.reply));
  // Submit: the answer completes the trigger, even after a release (§4).
  bentos_call* call = calls_->start(link.id(), [s, r](Completion&& c) { r.send(s->machine.complete(c)); });
  const int32_t rc = ops_.on_request(instance_.handle(), s->state, call,
                                     reinterpret_cast<const uint8_t*>(step.request.data()), step.request.size());
  calls_->returned(call, rc, "on_request");
}

void WriteReadDriver::release(Link&, std::shared_ptr<Session> s, const wire::Request&, Responder r) {
  end_plugin_session(*s);
  r.send(Reply::empty());
}

void WriteReadDriver::end(std::shared_ptr<Session> s) { end_plugin_session(*s); }

void WriteReadDriver::end_plugin_session(Session& base) {
  auto& s = static_cast<WriteReadSessionState&>(base);
  if (s.ended) return;
  s.ended = true;
  if (ops_.session_end) ops_.session_end(instance_.handle(), s.state);
}

}  // namespace bentos::session
