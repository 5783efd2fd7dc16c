#include "device/drivers/raw_driver.h"

#include "patterns/raw.h"
#include "util/log.h"

namespace bentos::device {

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
  auto deliver = [op, read_size, r = std::move(r), device](Completion&& c) {
    std::string problem;
    Reply reply = patterns::raw_reply(op, c, read_size, problem);
    if (!problem.empty()) log::warn(*device, "plugin " + problem);
    r.send(std::move(reply));
  };
  static_assert(plugin::CallTracker::Deliver::fits_inline<decltype(deliver)>(), "a raw request must not allocate");
  return ctx_.calls->start(link_id, std::move(deliver));
}

template <typename Callback>
void RawDriver::run(const Session* strand, bentos_call* call, const char* name, Callback callback) {
  // The tracker outlives every `done` (the executor drops results once the
  // device closes it), so a plain pointer keeps the closure small.
  plugin::CallTracker* calls = ctx_.calls.get();
  auto work = [callback = std::move(callback)]() -> int64_t { return callback(); };
  static_assert(loop::Work::fits_inline<decltype(work)>(), "a raw callback must not allocate");
  ctx_.exec.submit(strand, name, std::move(work), [calls, call, name](int64_t rc) { calls->returned(call, rc, name); });
}

template <typename Callback>
void RawDriver::run_with_bytes(const Session* strand, bentos_call* call, const char* name, std::string_view bytes,
                               Callback callback) {
  if (ctx_.exec.inline_on_loop()) {
    // Runs before submit() returns, inside on_frame: the frame is still
    // there (Executor::inline_on_loop).
    return run(strand, call, name, [&callback, bytes] {
      return callback(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    });
  }
  auto copy = std::make_shared<const std::string>(bytes);
  run(strand, call, name, [callback, copy] {
    return callback(reinterpret_cast<const uint8_t*>(copy->data()), copy->size());
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
  // Each closure captures only what its op needs, so none allocates.
  auto s = std::static_pointer_cast<RawSession>(base);
  void* inst = ctx_.plugin_instance();
  const auto unset = [&] { r.send(patterns::raw_default_reply(req.kind)); };
  switch (req.kind) {
    case OpKind::read: {
      const auto fn = ops_.read;
      if (!fn) return unset();
      bentos_call* call = start_call(link.id(), req.kind, req.size, std::move(r));
      const uint64_t size = req.size;
      const int64_t offset = req.offset;
      return run(s.get(), call, "read", [=] { return fn(inst, s->state, call, size, offset); });
    }
    case OpKind::write: {
      const auto fn = ops_.write;
      if (!fn) return unset();
      bentos_call* call = start_call(link.id(), req.kind, 0, std::move(r));
      const int64_t offset = req.offset;
      return run_with_bytes(s.get(), call, "write", req.data.view(), [=](const uint8_t* data, uint64_t len) {
        return fn(inst, s->state, call, data, len, offset);
      });
    }
    case OpKind::flush: {
      const auto fn = ops_.flush;
      if (!fn) return unset();
      bentos_call* call = start_call(link.id(), req.kind, 0, std::move(r));
      return run(s.get(), call, "flush", [=] { return fn(inst, s->state, call); });
    }
    case OpKind::fsync: {
      const auto fn = ops_.fsync;
      if (!fn) return unset();
      bentos_call* call = start_call(link.id(), req.kind, 0, std::move(r));
      const int32_t datasync = req.datasync ? 1 : 0;
      return run(s.get(), call, "fsync", [=] { return fn(inst, s->state, call, datasync); });
    }
    case OpKind::ioctl: {
      const auto fn = ops_.ioctl;
      if (!fn) return unset();
      bentos_call* call = start_call(link.id(), req.kind, 0, std::move(r));
      const uint32_t cmd = req.cmd, flags = req.ioctl_flags;
      const uint64_t out_size = req.out_bufsz;
      return run_with_bytes(s.get(), call, "ioctl", req.data.view(), [=](const uint8_t* data, uint64_t len) {
        return fn(inst, s->state, call, cmd, flags, data, len, out_size);
      });
    }
    case OpKind::poll: {
      const auto fn = ops_.poll;
      if (!fn) return unset();
      bentos_call* call = start_call(link.id(), req.kind, 0, std::move(r));
      const uint32_t events = req.events;
      return run(s.get(), call, "poll", [=] { return fn(inst, s->state, call, events); });
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

}  // namespace bentos::device
