#include "device/drivers/stream_driver.h"

#include <atomic>
#include <cerrno>
#include <functional>
#include <mutex>
#include <string>

#include "patterns/completion.h"
#include "patterns/pattern.h"
#include "patterns/stream.h"
#include "plugin/targets.h"
#include "device/parked_responders.h"
#include "util/log.h"

namespace bentos::device {

using wire::OpKind;
using wire::Reply;

namespace {

// One P1 session. The machine is shared with push() callers on any thread,
// hence its mutex; everything else is loop-thread only.
struct StreamSessionState : Session, plugin::PushTarget, std::enable_shared_from_this<StreamSessionState> {
  StreamSessionState(uint64_t fh_, uint64_t link_id_, patterns::EmptyRead when_empty, bool nonblocking,
                     uint64_t max_buffered, std::shared_ptr<loop::LoopInbox> inbox_)
      : Session(fh_, link_id_), machine(when_empty, nonblocking, max_buffered), inbox(std::move(inbox_)) {}

  // Any thread.
  int32_t push(const void* data, uint64_t len) override {
    patterns::StreamMachine::PushResult result;
    {
      std::lock_guard<std::mutex> lock(mutex);
      result = machine.push(std::string_view(static_cast<const char*>(data), len));
    }
    if (result.ended_output) return -EPIPE;
    if (!result.accepted) {
      buffer_full->fetch_add(1, std::memory_order_relaxed);
      return -EAGAIN;
    }
    answer_on_loop(std::move(result.answers));
    return 0;
  }

  // Any thread.
  int32_t end_output(int32_t negative_errno) override {
    patterns::ParkedAnswers answers;
    bool first = false;
    {
      std::lock_guard<std::mutex> lock(mutex);
      // 0: a clean end (EOF); anything but -1..-4095 is a plugin bug: EIO.
      first = machine.end_output(negative_errno == 0 ? 0 : patterns::wire_errno(negative_errno), answers);
    }
    if (!first) return -EALREADY;
    output_over.store(true, std::memory_order_release);
    answer_on_loop(std::move(answers));
    return 0;
  }

  // Parked reads served from another thread: their replies go out on the
  // loop thread. The task keeps the session alive: a release may come
  // first, and the served reads must still get their answers.
  void answer_on_loop(patterns::ParkedAnswers&& answers) {
    if (answers.empty()) return;
    inbox->post([self = shared_from_this(), answers = std::move(answers)]() mutable {
      self->parked.answer(std::move(answers));
    });
  }

  std::mutex mutex;
  patterns::StreamMachine machine;  // guarded by mutex
  // machine.output_ended(), readable without the lock on the write path.
  std::atomic<bool> output_over{false};
  std::shared_ptr<loop::LoopInbox> inbox;
  std::shared_ptr<std::atomic<uint64_t>> buffer_full;  // the device's DeviceStats::buffer_full
  void* state = nullptr;       // the plugin's per-session pointer
  uint64_t push_handle = 0;    // this session's bentos_session id
  ParkedResponders parked;     // loop thread only
};

patterns::EmptyRead empty_read_mode(const config::DeviceSpec& spec) {
  // P1 default: the SDK's eof.
  return spec.read_when_empty == config::ReadWhenEmpty::block ? patterns::EmptyRead::block
                                                              : patterns::EmptyRead::eof;
}

}  // namespace

StreamDriver::StreamDriver(const DriverContext& ctx) : ctx_(ctx), ops_(ctx.instance.library().stream_ops()) {}

void StreamDriver::open(Link& link, const wire::Request& req, Responder r) {
  auto s = std::make_shared<StreamSessionState>(req.fh, link.id(), empty_read_mode(ctx_.spec),
                                                (req.flags & patterns::kONonblock) != 0,
                                                ctx_.spec.limits.max_buffered_bytes, ctx_.inbox);
  s->buffer_full = ctx_.stats.buffer_full;
  s->push_handle = plugin::push_targets().add(s);
  const bentos_session_info info{sizeof(bentos_session_info), req.flags, req.fh, link.id(),
                                 plugin::handle_from_id<bentos_session>(s->push_handle)};
  void* inst = ctx_.plugin_instance();
  auto start = ops_.session_start;
  ctx_.open_session(
      link, s, [=] { return start ? start(inst, &info, &s->state) : 0; }, r,
      [s] { plugin::push_targets().take(s->push_handle); });
}

void StreamDriver::op(Link&, const std::shared_ptr<Session>& base, wire::Request&& req, Responder r) {
  switch (req.kind) {
    case OpKind::write: return write(base, req.data, std::move(r));
    case OpKind::read: return read(base, req.size, std::move(r));
    case OpKind::poll: {
      auto& s = static_cast<StreamSessionState&>(*base);
      uint32_t revents = 0;
      {
        std::lock_guard<std::mutex> lock(s.mutex);
        revents = s.machine.poll();
      }
      return r.send(Reply::polled(revents));
    }
    case OpKind::flush:
    case OpKind::fsync: return r.send(Reply::empty());
    default: return r.send(Reply::error(ENOSYS));  // ioctl
  }
}

void StreamDriver::write(const std::shared_ptr<Session>& base, std::string_view data, Responder r) {
  auto* s = static_cast<StreamSessionState*>(base.get());
  // The plugin ended this session's output: as on a pipe whose reader
  // left, a write fails with EPIPE and on_data is not called.
  if (s->output_over.load(std::memory_order_acquire)) return r.send(Reply::error(EPIPE));
  void* inst = ctx_.plugin_instance();
  auto on_data = ops_.on_data;
  const size_t len = data.size();
  // `this` outlives the answer: a stopping device closes its executor,
  // which drops answers still queued, before it destroys its driver.
  auto answer = [this, r = std::move(r), len](int64_t consumed) { answer_write(r, consumed, len); };
  static_assert(loop::Done::fits_inline<decltype(answer)>(), "a P1 write must not allocate");
  if (ctx_.exec.inline_on_loop()) {
    // The callback runs before submit() returns, inside on_frame: the
    // frame's bytes and this stack frame are still there, so on_data gets
    // the bytes where they were read, and the work is a reference.
    const auto work = [&]() -> int64_t {
      return on_data(inst, s->state, reinterpret_cast<const uint8_t*>(data.data()), len);
    };
    return ctx_.exec.submit(s, "on_data", std::cref(work), std::move(answer));
  }
  // A worker runs it later, when the frame is gone: one copy travels with
  // it, and the session stays alive until it ran.
  auto bytes = std::make_shared<const std::string>(data);
  auto session = std::static_pointer_cast<StreamSessionState>(base);
  ctx_.exec.submit(
      s, "on_data",
      [session, bytes, inst, on_data]() -> int64_t {
        return on_data(inst, session->state, reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
      },
      std::move(answer));
}

void StreamDriver::answer_write(const Responder& r, int64_t consumed, size_t len) const {
  if (consumed < 0) {
    if (!patterns::is_negative_errno(consumed))
      log::warn(ctx_.device(), "plugin on_data returned " + std::to_string(consumed) +
                                   ", not a negative errno (-1 to -4095); answering EIO");
    return r.send(Reply::error(patterns::wire_errno(consumed)));
  }
  if (static_cast<uint64_t>(consumed) > len) {
    log::warn(ctx_.device(), "on_data consumed " + std::to_string(consumed) + " of " + std::to_string(len) +
                                 " bytes; reporting " + std::to_string(len));
    consumed = static_cast<int64_t>(len);
  }
  r.send(Reply::written(static_cast<uint64_t>(consumed)));
}

void StreamDriver::read(const std::shared_ptr<Session>& base, uint64_t size, Responder r) {
  auto& s = static_cast<StreamSessionState&>(*base);
  // Most reads answer at once: the responder is filed only if the read parks.
  const patterns::ReadToken token = s.parked.reserve();
  patterns::StreamMachine::ReadResult result;
  bool notice = false;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    result = s.machine.read(size, token);
    notice = s.machine.take_writable_notice();
  }
  if (result.parked) {
    s.parked.park_as(token, std::move(r));
  } else {
    r.send(std::move(result.reply));
  }
  if (notice && ops_.on_writable) {
    void* inst = ctx_.plugin_instance();
    auto on_writable = ops_.on_writable;
    auto session = std::static_pointer_cast<StreamSessionState>(base);
    ctx_.run_detached(session.get(), "on_writable", [=] { on_writable(inst, session->state); });
  }
}

void StreamDriver::release(Link&, std::shared_ptr<Session> s, const wire::Request&, Responder r) {
  finish(s);
  r.send(Reply::empty());
}

void StreamDriver::end(std::shared_ptr<Session> s) { finish(s); }

void StreamDriver::finish(const std::shared_ptr<Session>& base) {
  auto s = std::static_pointer_cast<StreamSessionState>(base);
  if (s->ended) return;
  s->ended = true;
  void* inst = ctx_.plugin_instance();
  auto end_fn = ops_.session_end;
  // The end goes through the session's strand, after any on_data still
  // queued there (on workers), so output pushed by a write that came before
  // the release still reaches the reads parked before it.
  ctx_.exec.submit(
      s.get(), "session_end",
      [=]() -> int64_t {
        if (s->started && end_fn) end_fn(inst, s->state);
        // Here rather than in the answer below, which a stopping device
        // drops: the handle must leave the table either way.
        plugin::push_targets().take(s->push_handle);  // later pushes: -ESTALE
        return 0;
      },
      [s](int64_t) {
        patterns::ParkedAnswers answers;
        {
          std::lock_guard<std::mutex> lock(s->mutex);
          answers = s->machine.end();
        }
        s->parked.answer(std::move(answers));  // EIO (§1.4)
      });
}

}  // namespace bentos::device
