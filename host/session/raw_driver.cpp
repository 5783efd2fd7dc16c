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
  void* state = nullptr;  // the plugin's per-session pointer (written by open)
  // Loop thread: the plugin has not answered the open yet. A session that
  // ends meanwhile is released only once the open succeeds (a failed open
  // frees its own state; releasing it too would free it twice).
  bool open_pending = false;
  bool release_after_open = false;
};

}  // namespace

RawDriver::RawDriver(const DriverContext& ctx) : ctx_(ctx), ops_(ctx.instance.library().raw_ops()) {}

bentos_call* RawDriver::start_call(uint64_t link_id, OpKind op, uint64_t read_size, Responder r) {
  // The name by pointer keeps the closure inline (no allocation per
  // request); a deliver runs only while the device, hence its name, lives.
  const std::string* device = &ctx_.device();
  return ctx_.calls->start(link_id, [op, read_size, r, device](Completion&& c) {
    std::string problem;
    Reply reply = patterns::raw_reply(op, c, read_size, problem);
    if (!problem.empty()) log::warn(*device, "plugin " + problem);
    r.send(std::move(reply));
  });
}

void RawDriver::run(const Session* strand, bentos_call* call, const char* name, std::function<int32_t()> callback) {
  std::shared_ptr<CallTracker> calls = ctx_.calls;
  ctx_.exec.submit(
      strand, name, [callback = std::move(callback)]() -> int64_t { return callback(); },
      [calls, call, name](int64_t rc) { calls->returned(call, rc, name); });
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
  std::string device = ctx_.device();
  s->open_pending = true;
  // Link id 0: the open's answer is awaited even if the connection dies, so
  // the session is released exactly when the plugin's open succeeded.
  bentos_call* call = ctx_.calls->start(0, [this, r, s, weak_link, device](Completion&& c) {
    std::string problem;
    Reply reply = patterns::raw_reply(OpKind::open, c, 0, problem);
    if (!problem.empty()) log::warn(device, "plugin " + problem);
    s->open_pending = false;
    if (reply.kind == wire::ReplyKind::error) {
      s->ended = true;  // the plugin cleans up after its own failed open
      if (auto l = weak_link.lock()) l->drop(s);
    } else if (s->release_after_open) {
      release_detached(s);  // it ended (disconnect, re-open) while opening
    }
    r.send(std::move(reply));
  });
  const bentos_session_info info{sizeof(bentos_session_info), req.flags, req.fh, link.id(), nullptr};
  void* inst = ctx_.plugin_instance();
  auto open_fn = ops_.open;
  run(s.get(), call, "open", [open_fn, inst, call, info, s] { return open_fn(inst, call, &info, &s->state); });
}

void RawDriver::op(Link& link, const std::shared_ptr<Session>& base, wire::Request&& req, Responder r) {
  auto s = std::static_pointer_cast<RawSession>(base);
  void* inst = ctx_.plugin_instance();
  const bentos_raw_ops ops = ops_;
  const auto unset = [&] { r.send(patterns::raw_default_reply(req.kind)); };
  // The request's bytes travel with the callback (it may run on a worker).
  auto data = std::make_shared<std::string>(req.data.view());
  switch (req.kind) {
    case OpKind::read: {
      if (!ops.read) return unset();
      bentos_call* call = start_call(link.id(), req.kind, req.size, r);
      const uint64_t size = req.size;
      const int64_t offset = req.offset;
      return run(s.get(), call, "read", [=] { return ops.read(inst, s->state, call, size, offset); });
    }
    case OpKind::write: {
      if (!ops.write) return unset();
      bentos_call* call = start_call(link.id(), req.kind, 0, r);
      const int64_t offset = req.offset;
      return run(s.get(), call, "write", [=] {
        return ops.write(inst, s->state, call, reinterpret_cast<const uint8_t*>(data->data()), data->size(), offset);
      });
    }
    case OpKind::flush: {
      if (!ops.flush) return unset();
      bentos_call* call = start_call(link.id(), req.kind, 0, r);
      return run(s.get(), call, "flush", [=] { return ops.flush(inst, s->state, call); });
    }
    case OpKind::fsync: {
      if (!ops.fsync) return unset();
      bentos_call* call = start_call(link.id(), req.kind, 0, r);
      const int32_t datasync = req.datasync ? 1 : 0;
      return run(s.get(), call, "fsync", [=] { return ops.fsync(inst, s->state, call, datasync); });
    }
    case OpKind::ioctl: {
      if (!ops.ioctl) return unset();
      bentos_call* call = start_call(link.id(), req.kind, 0, r);
      const uint32_t cmd = req.cmd, flags = req.ioctl_flags;
      const uint64_t out_size = req.out_bufsz;
      return run(s.get(), call, "ioctl", [=] {
        return ops.ioctl(inst, s->state, call, cmd, flags, reinterpret_cast<const uint8_t*>(data->data()),
                         data->size(), out_size);
      });
    }
    case OpKind::poll: {
      if (!ops.poll) return unset();
      bentos_call* call = start_call(link.id(), req.kind, 0, r);
      const uint32_t events = req.events;
      return run(s.get(), call, "poll", [=] { return ops.poll(inst, s->state, call, events); });
    }
    default:
      return unset();
  }
}

void RawDriver::release(Link& link, std::shared_ptr<Session> base, const wire::Request& req, Responder r) {
  auto s = std::static_pointer_cast<RawSession>(base);
  s->ended = true;
  if (!ops_.release) {
    r.send(patterns::raw_default_reply(OpKind::release));
    return;
  }
  bentos_call* call = start_call(link.id(), OpKind::release, 0, r);
  void* inst = ctx_.plugin_instance();
  auto release_fn = ops_.release;
  const int32_t flags = req.flags;
  run(s.get(), call, "release", [=] { return release_fn(inst, s->state, call, flags); });
}

void RawDriver::end(std::shared_ptr<Session> base) {
  auto s = std::static_pointer_cast<RawSession>(base);
  if (s->ended) return;
  s->ended = true;
  if (s->open_pending) {
    s->release_after_open = true;
    return;
  }
  release_detached(s);
}

void RawDriver::release_detached(const std::shared_ptr<Session>& base) {
  auto s = std::static_pointer_cast<RawSession>(base);
  if (!ops_.release) return;
  // The plugin frees its state in release; nobody waits for the answer.
  bentos_call* call = ctx_.calls->start(0, [](Completion&&) {});
  void* inst = ctx_.plugin_instance();
  auto release_fn = ops_.release;
  run(s.get(), call, "release", [=] { return release_fn(inst, s->state, call, 0); });
}

}  // namespace bentos::session
