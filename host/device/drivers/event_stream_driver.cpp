#include "device/drivers/event_stream_driver.h"

#include <cerrno>

#include "patterns/pattern.h"
#include "plugin/bentos_host.h"
#include "plugin/targets.h"
#include "util/log.h"

namespace bentos::device {

using wire::OpKind;
using wire::Reply;

namespace {

struct ListenerSession : Session {
  ListenerSession(uint64_t fh_, uint64_t link_id_, patterns::ListenerId id_) : Session(fh_, link_id_), id(id_) {}
  const patterns::ListenerId id;
};

// emit() from any thread: the event is copied once, stamped, and queued for
// the loop, where the hub shares that one copy with every listener.
class HubEmitTarget : public plugin::EmitTarget {
 public:
  HubEmitTarget(std::weak_ptr<EventStreamDriver::Core> core, std::shared_ptr<loop::LoopInbox> inbox)
      : core_(std::move(core)), inbox_(std::move(inbox)) {}

  int32_t emit(const void* data, uint64_t len) override {
    auto core = core_.lock();
    if (!core) return 0;
    auto event = std::make_shared<const std::string>(static_cast<const char*>(data), len);
    const uint64_t sequence = core->sequence.fetch_add(1) + 1;
    std::weak_ptr<EventStreamDriver::Core> weak = core_;
    inbox_->post([weak, event, sequence] {
      if (auto c = weak.lock()) c->parked.answer(c->hub.emit(event, sequence));
    });
    return 0;
  }

 private:
  std::weak_ptr<EventStreamDriver::Core> core_;
  std::shared_ptr<loop::LoopInbox> inbox_;
};

}  // namespace

EventStreamDriver::EventStreamDriver(const DriverContext& ctx)
    : ctx_(ctx),
      ops_(ctx.instance.library().event_stream_ops()),
      // P3 blocks on an empty read unless the device asks for the SDK's eof [fix].
      core_(std::make_shared<Core>(ctx.spec.read_when_empty != config::ReadWhenEmpty::eof,
                                   ctx.spec.limits.max_events)) {
  bentos_host* host = ctx_.instance.host();
  std::lock_guard<std::mutex> lock(host->emit_mutex);
  host->emit_target = std::make_shared<HubEmitTarget>(core_, ctx_.inbox);
}

EventStreamDriver::~EventStreamDriver() {
  bentos_host* host = ctx_.instance.host();
  std::lock_guard<std::mutex> lock(host->emit_mutex);
  host->emit_target.reset();
}

void EventStreamDriver::open(Link& link, const wire::Request& req, Responder r) {
  auto s = std::make_shared<ListenerSession>(req.fh, link.id(), next_listener_++);
  // Events emitted before this open are not this listener's.
  const uint64_t after = core_->sequence.load();
  const bool first = core_->hub.add(s->id, (req.flags & patterns::kONonblock) != 0, after);
  link.put(s);
  if (activating_) return waiting_opens_.push_back({s, r});
  if (!first || !ops_.on_activate) return r.send(Reply::opened());
  activating_ = true;
  waiting_opens_.push_back({s, r});
  void* inst = ctx_.plugin_instance();
  auto activate = ops_.on_activate;
  ctx_.exec.submit(
      this, "on_activate", [=]() -> int64_t { return activate(inst); }, [this](int64_t rc) { activated(rc); });
}

void EventStreamDriver::activated(int64_t rc) {
  activating_ = false;
  std::vector<WaitingOpen> waiting = std::move(waiting_opens_);
  waiting_opens_.clear();
  if (rc < 0) {
    log::warn(ctx_.device(), "on_activate failed (" + std::to_string(rc) + "); " +
                                 std::to_string(waiting.size()) + " open(s) waiting for it answer EIO");
  }
  for (auto& w : waiting) {
    if (rc >= 0) {
      w.responder.send(Reply::opened());
      continue;
    }
    // §5: activation failed -> the listener is removed, EIO. One released
    // meanwhile is gone already; its open still gets its answer.
    if (!w.session->ended) {
      if (auto l = w.responder.link.lock()) l->drop(w.session);
      w.session->ended = true;
      auto removed = core_->hub.remove(std::static_pointer_cast<ListenerSession>(w.session)->id);
      core_->parked.answer(std::move(removed.answers));
    }
    w.responder.send(Reply::error(EIO));
  }
  // Every listener left while it activated: deactivate, as remove_listener
  // would have (not after a failed activation: nothing is active).
  if (rc >= 0 && core_->hub.listeners() == 0) deactivate();
}

void EventStreamDriver::op(Link&, const std::shared_ptr<Session>& base, wire::Request&& req, Responder r) {
  auto s = std::static_pointer_cast<ListenerSession>(base);
  switch (req.kind) {
    case OpKind::write: return r.send(Reply::error(EACCES));
    case OpKind::read: {
      const patterns::ReadToken token = core_->parked.park(r);
      auto result = core_->hub.read(s->id, req.size, token);
      if (!result.parked) {
        core_->parked.forget(token);
        r.send(std::move(result.reply));
      }
      return;
    }
    case OpKind::poll: return r.send(Reply::polled(core_->hub.poll(s->id)));
    case OpKind::flush:
    case OpKind::fsync: return r.send(Reply::empty());
    default: return r.send(Reply::error(ENOSYS));  // ioctl
  }
}

void EventStreamDriver::release(Link&, std::shared_ptr<Session> s, const wire::Request&, Responder r) {
  remove_listener(s);
  r.send(Reply::empty());
}

void EventStreamDriver::end(std::shared_ptr<Session> s) { remove_listener(s); }

void EventStreamDriver::remove_listener(const std::shared_ptr<Session>& base) {
  auto s = std::static_pointer_cast<ListenerSession>(base);
  if (s->ended) return;
  s->ended = true;
  auto removed = core_->hub.remove(s->id);
  core_->parked.answer(std::move(removed.answers));  // EIO (§1.4)
  // While on_activate runs (on a worker), deactivating now would undo an
  // activation a new open may be waiting for: activated() decides then.
  if (removed.last && !activating_) deactivate();
}

void EventStreamDriver::deactivate() {
  if (!ops_.on_deactivate) return;
  void* inst = ctx_.plugin_instance();
  auto deactivate = ops_.on_deactivate;
  const std::string device = ctx_.device();
  ctx_.exec.submit(
      this, "on_deactivate", [=]() -> int64_t { return deactivate(inst); },
      [device](int64_t rc) {
        if (rc < 0) log::warn(device, "on_deactivate failed (" + std::to_string(rc) + "); ignored");
      });
}

}  // namespace bentos::device
