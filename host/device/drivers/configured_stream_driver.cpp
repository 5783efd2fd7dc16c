#include "device/drivers/configured_stream_driver.h"

#include <atomic>
#include <cerrno>
#include <optional>

#include "patterns/completion.h"
#include "patterns/pattern.h"
#include "plugin/targets.h"
#include "device/parked_responders.h"
#include "util/log.h"

namespace bentos::device {

using patterns::Completion;
using patterns::P4Step;
using wire::OpKind;
using wire::Reply;

class CycleHandle;

// One P4 session. Loop thread only, except `state` and `config`, which
// only code running on the session's strand touches.
struct ConfiguredSession : Session, std::enable_shared_from_this<ConfiguredSession> {
  ConfiguredSession(uint64_t fh_, uint64_t link_id_, bool nonblocking, uint64_t max_request_bytes)
      : Session(fh_, link_id_), machine(nonblocking, max_request_bytes) {}
  patterns::ConfiguredStreamMachine machine;
  // Output bytes accepted from yield() and not yet read or discarded, for
  // max_buffered_bytes: yields (any thread) add, the loop subtracts.
  std::shared_ptr<std::atomic<uint64_t>> outstanding = std::make_shared<std::atomic<uint64_t>>(0);
  // A yield was refused for max_buffered_bytes since the last on_writable
  // (set by yield() on any thread, cleared on the loop).
  std::shared_ptr<std::atomic<bool>> refused = std::make_shared<std::atomic<bool>>(false);
  ParkedResponders parked;
  std::shared_ptr<CycleHandle> cycle;  // the cycle in flight, if any
  uint64_t stream_id = 0;              // its bentos_cycle handle
  void* state = nullptr;               // strand only
  void* config = nullptr;              // strand only
};

// The host side of one cycle's bentos_cycle: yield/end from any thread
// are posted to the loop. After a cancel, yields answer -ECANCELED; end()
// is still expected (the services take the handle out of the table then).
class CycleHandle : public plugin::CycleTarget {
 public:
  CycleHandle(std::weak_ptr<ConfiguredStreamDriver*> driver, std::weak_ptr<ConfiguredSession> session,
              std::shared_ptr<loop::LoopInbox> inbox, uint64_t cycle,
              std::shared_ptr<std::atomic<uint64_t>> outstanding, std::shared_ptr<std::atomic<bool>> refused,
              uint64_t max_buffered, std::shared_ptr<std::atomic<uint64_t>> refusals)
      : driver_(std::move(driver)),
        session_(std::move(session)),
        inbox_(std::move(inbox)),
        cycle_(cycle),
        outstanding_(std::move(outstanding)),
        refused_(std::move(refused)),
        max_buffered_(max_buffered),
        refusals_(std::move(refusals)) {}

  int32_t yield(const void* data, uint64_t len) override {
    if (cancelled.load()) return -ECANCELED;
    // max_buffered_bytes: refused (would block) unless nothing is queued.
    uint64_t queued = outstanding_->load();
    do {
      if (queued > 0 && queued + len > max_buffered_) {
        refusals_->fetch_add(1, std::memory_order_relaxed);
        refused_->store(true);
        return -EAGAIN;
      }
    } while (!outstanding_->compare_exchange_weak(queued, queued + len));
    std::string record(static_cast<const char*>(data), len);
    post([record = std::move(record)](ConfiguredStreamDriver& d, const std::shared_ptr<ConfiguredSession>& s,
                                      uint64_t cycle) mutable { d.on_yield(s, cycle, std::move(record)); });
    return 0;
  }

  int32_t end(int32_t negative_errno) override {
    if (cancelled.load()) return 0;
    // 0 or -1..-4095; anything else is a plugin bug that ends the cycle EIO.
    const int32_t error = negative_errno == 0 ? 0 : patterns::wire_errno(negative_errno);
    if (negative_errno != 0 && !patterns::is_negative_errno(negative_errno)) {
      log::warn("plugin", "end(" + std::to_string(negative_errno) + ") on a stream of cycle " +
                              std::to_string(cycle_) + ": not 0 or a negative errno (-1 to -4095); ending it EIO");
    }
    post([error](ConfiguredStreamDriver& d, const std::shared_ptr<ConfiguredSession>& s, uint64_t cycle) {
      d.on_end(s, cycle, error);
    });
    return 0;
  }

  std::atomic<bool> cancelled{false};

 private:
  template <typename Fn>
  void post(Fn fn) {
    inbox_->post([driver = driver_, session = session_, cycle = cycle_, fn = std::move(fn)]() mutable {
      auto d = driver.lock();
      auto s = session.lock();
      if (d && s) fn(**d, s, cycle);
    });
  }

  std::weak_ptr<ConfiguredStreamDriver*> driver_;
  std::weak_ptr<ConfiguredSession> session_;
  std::shared_ptr<loop::LoopInbox> inbox_;
  uint64_t cycle_;
  std::shared_ptr<std::atomic<uint64_t>> outstanding_;
  std::shared_ptr<std::atomic<bool>> refused_;
  uint64_t max_buffered_;
  std::shared_ptr<std::atomic<uint64_t>> refusals_;  // the device's DeviceStats::buffer_full
};

namespace {

// Runs one machine event and gives back to `outstanding` the output bytes
// it delivered or discarded (`added`: bytes this event brought in).
template <typename Fn>
P4Step tracked(ConfiguredSession& s, uint64_t added, Fn&& event) {
  const uint64_t before = s.machine.queued_bytes();
  P4Step step = event();
  const uint64_t released = before + added - s.machine.queued_bytes();
  if (released > 0) s.outstanding->fetch_sub(released);
  return step;
}

}  // namespace

ConfiguredStreamDriver::ConfiguredStreamDriver(const DriverContext& ctx)
    : ctx_(ctx),
      ops_(ctx.instance.library().configured_stream_ops()),
      self_(std::make_shared<ConfiguredStreamDriver*>(this)) {}

ConfiguredStreamDriver::~ConfiguredStreamDriver() = default;

void ConfiguredStreamDriver::on_strand(const std::shared_ptr<ConfiguredSession>& s, const char* op, loop::Work work,
                                       loop::Done done) {
  ctx_.exec.submit(s.get(), op, std::move(work), std::move(done));
}

void ConfiguredStreamDriver::open(Link& link, const wire::Request& req, Responder r) {
  auto s = std::make_shared<ConfiguredSession>(req.fh, link.id(), (req.flags & patterns::kONonblock) != 0,
                                               ctx_.spec.limits.max_request_bytes);
  const bentos_session_info info{sizeof(bentos_session_info), req.flags, req.fh, link.id(), nullptr};
  void* inst = ctx_.plugin_instance();
  const bentos_configured_stream_ops ops = ops_;
  ctx_.open_session(
      link, s,
      [=]() -> int32_t {
        if (ops.session_start) {
          if (int32_t rc = ops.session_start(inst, &info, &s->state); rc < 0) return rc;
        }
        if (ops.config_default) {
          if (int32_t rc = ops.config_default(inst, &s->config); rc < 0) {
            if (ops.session_end) ops.session_end(inst, s->state);
            return rc;
          }
        }
        return 0;
      },
      r);
}

void ConfiguredStreamDriver::op(Link& link, const std::shared_ptr<Session>& base, wire::Request&& req, Responder r) {
  auto s = std::static_pointer_cast<ConfiguredSession>(base);
  switch (req.kind) {
    case OpKind::write: {
      P4Step step = s->machine.write(req.data);
      if (step.reply) ctx_.stats.machine_answered_write(*step.reply);
      return apply(s, std::move(step), &r, false);
    }
    case OpKind::flush:
    case OpKind::fsync: return apply(s, tracked(*s, 0, [&] { return s->machine.flush(); }), &r, true);
    case OpKind::read: {
      const patterns::ReadToken token = s->parked.park(r);
      P4Step step = tracked(*s, 0, [&] { return s->machine.read(req.size, token); });
      if (step.reply) s->parked.forget(token);
      return apply(s, std::move(step), &r, false);
    }
    case OpKind::poll: return r.send(Reply::polled(s->machine.poll()));
    case OpKind::ioctl:
      if (patterns::is_framework_ioctl(req.cmd)) {
        return apply(s, tracked(*s, 0, [&] { return s->machine.framework_ioctl(req.cmd); }), &r, false);
      }
      return config_ioctl(link, s, std::move(req), r);
    default: return r.send(Reply::error(EINVAL));
  }
}

void ConfiguredStreamDriver::apply(const std::shared_ptr<ConfiguredSession>& s, P4Step&& step,
                                   const Responder* trigger, bool trigger_is_flush) {
  s->parked.answer(std::move(step.answers));
  // A submitting flush is answered by process()'s result instead.
  const bool flush_waits = step.submit && trigger_is_flush;
  if (step.reply && trigger && !flush_waits) trigger->send(std::move(*step.reply));
  // A cancelled stream hears on_cancel before its config can be replaced.
  if (step.cancel) cancel_cycle(s);
  if (step.reset_config) reset_config(s);
  if (step.drain && ops_.on_drain) {
    void* inst = ctx_.plugin_instance();
    auto drain = ops_.on_drain;
    ctx_.run_detached(s.get(), "on_drain", [=] { drain(inst, s->state); });
  }
  if (step.submit) start_process(s, std::move(step.records), step.cycle, flush_waits ? trigger : nullptr);
  notify_writable(s);
}

void ConfiguredStreamDriver::notify_writable(const std::shared_ptr<ConfiguredSession>& s) {
  // ABI 1.1: once readers drained a refused session's output below half
  // the bound, the plugin may yield again. Checked after every event, as
  // every event that delivers or discards output goes through apply().
  if (!ops_.on_writable || !s->refused->load()) return;
  if (s->outstanding->load() > ctx_.spec.limits.max_buffered_bytes / 2) return;
  if (!s->refused->exchange(false)) return;
  if (s->ended) return;
  void* inst = ctx_.plugin_instance();
  auto on_writable = ops_.on_writable;
  ctx_.run_detached(s.get(), "on_writable", [=] { on_writable(inst, s->state); });
}

void ConfiguredStreamDriver::start_process(const std::shared_ptr<ConfiguredSession>& s,
                                           std::vector<std::string>&& records, uint64_t cycle,
                                           const Responder* flush_trigger) {
  auto handle = std::make_shared<CycleHandle>(self_, s, ctx_.inbox, cycle, s->outstanding, s->refused,
                                             ctx_.spec.limits.max_buffered_bytes, ctx_.stats.buffer_full);
  const uint64_t stream_id = plugin::cycle_targets().add(handle);
  s->cycle = handle;
  s->stream_id = stream_id;
  auto input = std::make_shared<std::vector<std::string>>(std::move(records));
  void* inst = ctx_.plugin_instance();
  auto process = ops_.process;
  // A flush/fsync trigger is answered by process()'s result; a read
  // trigger waits parked in the machine and is answered through it.
  std::optional<Responder> flush_reply;
  if (flush_trigger) flush_reply = *flush_trigger;
  on_strand(
      s, "process",
      [=]() -> int64_t {
        std::vector<bentos_bytes> views;
        views.reserve(input->size());
        for (const auto& rec : *input) views.push_back({reinterpret_cast<const uint8_t*>(rec.data()), rec.size()});
        return process(inst, s->state, s->config, views.data(), views.size(),
                       plugin::handle_from_id<bentos_cycle>(stream_id));
      },
      [this, s, cycle, stream_id, flush_reply](int64_t rc) {
        if (rc < 0) {
          // Failed at once: there is no stream, so no end() will come.
          plugin::cycle_targets().take(stream_id);
          if (s->stream_id == stream_id) {
            s->cycle.reset();
            s->stream_id = 0;
          }
        }
        const int32_t result = static_cast<int32_t>(rc < -4095 ? -EIO : rc);
        P4Step step = tracked(*s, 0, [&] { return s->machine.process_started(cycle, result); });
        if (flush_reply) {
          // Exactly one answer per flush, even when a DROP/RESET and a new
          // submit overtook this cycle before process() returned.
          if (step.reply) {
            flush_reply->send(std::move(*step.reply));
          } else {
            flush_reply->send(result < 0 ? Reply::error(-result) : Reply::empty());
          }
        }
        step.reply.reset();
        apply(s, std::move(step), nullptr, false);
      });
}

void ConfiguredStreamDriver::cancel_cycle(const std::shared_ptr<ConfiguredSession>& s) {
  const uint64_t stream_id = s->stream_id;
  if (s->cycle) s->cycle->cancelled.store(true);
  s->refused->store(false);  // the cancelled cycle will not yield again
  s->cycle.reset();
  s->stream_id = 0;
  if (!ops_.on_cancel) return;
  void* inst = ctx_.plugin_instance();
  auto on_cancel = ops_.on_cancel;
  ctx_.run_detached(s.get(), "on_cancel",
                    [=] { on_cancel(inst, s->state, plugin::handle_from_id<bentos_cycle>(stream_id)); });
}

void ConfiguredStreamDriver::reset_config(const std::shared_ptr<ConfiguredSession>& s) {
  void* inst = ctx_.plugin_instance();
  const bentos_configured_stream_ops ops = ops_;
  const std::string device = ctx_.device();
  ctx_.run_detached(s.get(), "config_default", [=] {
    if (ops.config_free && s->config) ops.config_free(inst, s->config);
    s->config = nullptr;
    if (ops.config_default && ops.config_default(inst, &s->config) < 0) {
      log::warn(device, "config_default failed during RESET; the session has no config");
      s->config = nullptr;
    }
  });
}

void ConfiguredStreamDriver::on_yield(const std::shared_ptr<ConfiguredSession>& s, uint64_t cycle, std::string record) {
  if (s->ended) return;
  apply(s, tracked(*s, record.size(), [&] { return s->machine.yield(cycle, record); }), nullptr, false);
}

void ConfiguredStreamDriver::on_end(const std::shared_ptr<ConfiguredSession>& s, uint64_t cycle, int32_t error) {
  if (s->ended) return;
  P4Step step = s->machine.end(cycle, error);
  if (!step.stale && s->cycle) {
    s->cycle.reset();
    s->stream_id = 0;
  }
  apply(s, std::move(step), nullptr, false);
}

void ConfiguredStreamDriver::config_ioctl(Link& link, const std::shared_ptr<ConfiguredSession>& s,
                                          wire::Request&& req, Responder r) {
  auto in = std::make_shared<std::string>(req.data.view());
  const uint32_t cmd = req.cmd;
  const uint64_t out_size = req.out_bufsz;
  const uint64_t link_id = link.id();
  if (!ops_.config_apply) return query(link_id, s, in, cmd, out_size, r);
  void* inst = ctx_.plugin_instance();
  const bentos_configured_stream_ops ops = ops_;
  // Whether a recognised config may be stored is decided now, in request
  // order; the apply and the swap then happen in one strand task, so two
  // config ioctls in a row each build on the one before (§6 routing 2).
  const bool writable = s->machine.config_writable();
  on_strand(
      s, "config_apply",
      [=]() -> int64_t {
        void* fresh = nullptr;
        const int32_t rc = ops.config_apply(inst, s->config, cmd, reinterpret_cast<const uint8_t*>(in->data()),
                                            in->size(), &fresh);
        if (rc == 0 && writable) std::swap(s->config, fresh);
        if (ops.config_free && fresh) ops.config_free(inst, fresh);  // the old one, or the refused one
        return rc;
      },
      [=, this](int64_t rc) {
        if (rc == -ENOTTY) return query(link_id, s, in, cmd, out_size, r);  // not the codec's
        if (rc < 0) {
          if (!patterns::is_negative_errno(rc))
            log::warn(ctx_.device(), "plugin config_apply returned " + std::to_string(rc) +
                                         ", not a negative errno (-1 to -4095); answering EIO");
          return r.send(Reply::error(patterns::wire_errno(rc)));
        }
        if (!writable) return r.send(Reply::error(EBUSY));
        s->machine.config_stored();
        r.send(Reply::ioctl_result(0));
      });
}

void ConfiguredStreamDriver::query(uint64_t link_id, const std::shared_ptr<ConfiguredSession>& s,
                                   std::shared_ptr<std::string> in, uint32_t cmd, uint64_t out_size, Responder r) {
  if (!ops_.on_query) return r.send(Reply::error(EINVAL));
  // By pointer, as in RawDriver::start_call: a deliver runs only while the
  // device lives.
  const std::string* device = &ctx_.device();
  bentos_call* call = ctx_.calls->start(link_id, [r, device](Completion&& c) {
    switch (c.kind) {
      case Completion::Kind::ioctl: return r.send(Reply::ioctl_result(c.result, std::move(c.data)));
      case Completion::Kind::bytes: return r.send(Reply::ioctl_result(0, std::move(c.data)));
      case Completion::Kind::error: return r.send(Reply::error(c.err > 0 ? c.err : EIO));
      default:
        log::warn(*device, std::string("plugin answered on_query with ") + patterns::completion_kind_name(c.kind) +
                              "; answering EIO");
        return r.send(Reply::error(EIO));
    }
  });
  void* inst = ctx_.plugin_instance();
  auto on_query = ops_.on_query;
  std::shared_ptr<plugin::CallTracker> calls = ctx_.calls;
  on_strand(
      s, "on_query",
      [=]() -> int64_t {
        return on_query(inst, s->state, s->config, call, cmd, reinterpret_cast<const uint8_t*>(in->data()),
                        in->size(), out_size);
      },
      [calls, call](int64_t rc) { calls->returned(call, rc, "on_query"); });
}

void ConfiguredStreamDriver::release(Link&, std::shared_ptr<Session> s, const wire::Request&, Responder r) {
  finish(s);
  r.send(Reply::empty());
}

void ConfiguredStreamDriver::end(std::shared_ptr<Session> s) { finish(s); }

void ConfiguredStreamDriver::finish(const std::shared_ptr<Session>& base) {
  auto s = std::static_pointer_cast<ConfiguredSession>(base);
  if (s->ended) return;
  P4Step step = tracked(*s, 0, [&] { return s->machine.end_session(/*answer_parked=*/true); });
  s->ended = true;
  s->parked.answer(std::move(step.answers));  // EIO (§1.4)
  if (step.cancel) cancel_cycle(s);
  void* inst = ctx_.plugin_instance();
  const bentos_configured_stream_ops ops = ops_;
  ctx_.run_detached(s.get(), "session_end", [=] {
    if (!s->started) return;  // the start failed (or never ran): nothing to end
    if (ops.session_end) ops.session_end(inst, s->state);
    if (ops.config_free && s->config) ops.config_free(inst, s->config);
    s->config = nullptr;
  });
}

}  // namespace bentos::device
