#include "device/drivers/write_read_driver.h"

#include <cerrno>

#include "patterns/completion.h"
#include "patterns/write_read.h"
#include "util/log.h"

namespace bentos::device {

using patterns::Completion;
using wire::OpKind;
using wire::Reply;

namespace {

struct WriteReadSessionState : Session {
  WriteReadSessionState(uint64_t fh_, uint64_t link_id_, uint64_t max_request_bytes)
      : Session(fh_, link_id_), machine(max_request_bytes) {}
  patterns::WriteReadMachine machine;
  void* state = nullptr;              // the plugin's per-session pointer
  const std::string* device = nullptr;  // the device's name (its spec outlives sessions), for logs
};

// driver.h promises a log line for a completion of the wrong kind; the
// machine answers it EIO, this says why (the test harness reports it).
void check_kind(const WriteReadSessionState& s, const Completion& c) {
  if (c.kind == Completion::Kind::bytes || c.kind == Completion::Kind::error) return;
  log::warn(s.device ? *s.device : std::string(),
            std::string("plugin answered a request with ") + patterns::completion_kind_name(c.kind) +
                "; a write-read request takes complete_bytes or complete_error (answered EIO)");
}

}  // namespace

WriteReadDriver::WriteReadDriver(const DriverContext& ctx)
    : ctx_(ctx), ops_(ctx.instance.library().write_read_ops()) {}

void WriteReadDriver::open(Link& link, const wire::Request& req, Responder r) {
  auto s = std::make_shared<WriteReadSessionState>(req.fh, link.id(), ctx_.spec.limits.max_request_bytes);
  s->device = &ctx_.spec.name;
  const bentos_session_info info{sizeof(bentos_session_info), req.flags, req.fh, link.id(), nullptr};
  void* inst = ctx_.plugin_instance();
  auto start = ops_.session_start;
  ctx_.open_session(link, s, [=] { return start ? start(inst, &info, &s->state) : 0; }, r);
}

void WriteReadDriver::op(Link& link, const std::shared_ptr<Session>& base, wire::Request&& req, Responder r) {
  // By reference: only a submit needs its own references (no atomic
  // reference counting for the ops answered at once).
  auto& machine = static_cast<WriteReadSessionState&>(*base).machine;
  patterns::WriteReadStep step;
  switch (req.kind) {
    case OpKind::write: {
      Reply reply = machine.write(req.data);
      ctx_.stats.machine_answered_write(reply);
      return r.send(std::move(reply));
    }
    case OpKind::poll: return r.send(Reply::polled(machine.poll()));
    case OpKind::fsync: return r.send(Reply::empty());
    case OpKind::ioctl: return r.send(Reply::error(ENOSYS));
    case OpKind::flush: step = machine.flush(); break;
    case OpKind::read: step = machine.read(req.size); break;
    default: return r.send(Reply::error(EINVAL));
  }
  if (step.reply) return r.send(std::move(*step.reply));
  // Submit: the answer completes the trigger, even after a release (§4).
  // Neither closure allocates (their captures fit Executor::Work/Done and
  // the call's Deliver); the tracker outlives every `done` (the executor
  // drops results once the device closes it).
  auto s = std::static_pointer_cast<WriteReadSessionState>(base);
  auto deliver = [s, r = std::move(r)](Completion&& c) {
    check_kind(*s, c);
    r.send(s->machine.complete(std::move(c)));
  };
  static_assert(plugin::CallTracker::Deliver::fits_inline<decltype(deliver)>(), "a P2 request must not allocate");
  bentos_call* call = ctx_.calls->start(link.id(), std::move(deliver));
  void* inst = ctx_.plugin_instance();
  auto on_request = ops_.on_request;
  plugin::CallTracker* calls = ctx_.calls.get();
  void* strand = s.get();
  auto done = [calls, call](int64_t rc) { calls->returned(call, rc, "on_request"); };
  static_assert(loop::Done::fits_inline<decltype(done)>(), "a P2 request must not allocate");
  if (ctx_.exec.inline_on_loop()) {
    // The callback runs before submit() returns, so it can read the
    // request where it is, and the buffer goes back to the machine for the
    // next cycle: no allocation per request, whatever its size.
    const std::string& request = step.request;
    ctx_.exec.submit(
        strand, "on_request",
        [on_request, inst, s = std::move(s), call, &request]() -> int64_t {
          return on_request(inst, s->state, call, reinterpret_cast<const uint8_t*>(request.data()), request.size());
        },
        done);
    machine.recycle(std::move(step.request));
    return;
  }
  ctx_.exec.submit(
      strand, "on_request",
      [on_request, inst, s = std::move(s), call, request = std::move(step.request)]() -> int64_t {
        return on_request(inst, s->state, call, reinterpret_cast<const uint8_t*>(request.data()), request.size());
      },
      done);
}

void WriteReadDriver::release(Link&, std::shared_ptr<Session> s, const wire::Request&, Responder r) {
  end_plugin_session(s);
  r.send(Reply::empty());
}

void WriteReadDriver::end(std::shared_ptr<Session> s) { end_plugin_session(s); }

void WriteReadDriver::end_plugin_session(const std::shared_ptr<Session>& base) {
  auto s = std::static_pointer_cast<WriteReadSessionState>(base);
  if (s->ended) return;
  s->ended = true;
  if (!ops_.session_end) return;
  void* inst = ctx_.plugin_instance();
  auto end_fn = ops_.session_end;
  ctx_.run_detached(s.get(), "session_end", [=] {
    if (s->started) end_fn(inst, s->state);
  });
}

}  // namespace bentos::device
