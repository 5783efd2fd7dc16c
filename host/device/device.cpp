#include "device/device.h"

#include <cerrno>
#include <cinttypes>

#include <unistd.h>

#include "net/endpoint.h"
#include "loop/host_context.h"
#include "device/drivers/configured_stream_driver.h"
#include "device/drivers/event_stream_driver.h"
#include "device/drivers/raw_driver.h"
#include "device/drivers/stream_driver.h"
#include "device/drivers/write_read_driver.h"
#include "util/log.h"
#include "wire/codec.h"

namespace bentos::device {

using wire::OpKind;
using wire::Reply;

Device::Device(loop::HostContext& host, config::DeviceSpec spec, std::shared_ptr<plugin::PluginLibrary> library)
    : host_(host), spec_(std::move(spec)), library_(std::move(library)) {}

Device::~Device() { stop(); }

std::string Device::endpoint_uri() const { return listener_ ? listener_->bound_uri() : spec_.socket; }

size_t Device::session_count() const {
  size_t n = 0;
  for (const auto& [id, link] : links_) n += link->session_count();
  return n;
}

bool Device::start(bool listen, std::string& error) {
  auto instance = plugin::PluginInstance::create(library_, spec_.name, spec_.config_json, host_.loop(),
                                                 host_.inbox(), error);
  if (!instance) return false;
  return start_with(std::move(instance), listen, error);
}

bool Device::start_with(std::unique_ptr<plugin::PluginInstance> instance, bool listen, std::string& error) {
  instance_ = std::move(instance);
  calls_ = std::make_shared<plugin::CallTracker>(host_.loop(), host_.inbox(), spec_.name, spec_.limits.request_timeout_ms);
  // Blocking plugins run on host workers: asked for by the manifest
  // ("threads": N or "executor": "worker") or by the plugin's own hint.
  const bool workers = spec_.threads > 0 || spec_.executor == "worker" ||
                       library_->descriptor().threading == BENTOS_THREADING_WORKER;
  if (workers) {
    const unsigned threads = spec_.threads > 0 ? spec_.threads : 4;
    executor_ = std::make_unique<loop::WorkerExecutor>(threads, host_.inbox(), instance_->guard());
    log::info(spec_.name, "callbacks run on " + std::to_string(threads) + " worker thread(s)");
  } else {
    executor_ = std::make_unique<loop::LoopExecutor>(instance_->guard());
  }
  const DriverContext ctx{*instance_, calls_, *executor_, spec_, host_.inbox(), stats_};
  switch (library_->pattern()) {
    case patterns::Pattern::raw: driver_ = std::make_unique<RawDriver>(ctx); break;
    case patterns::Pattern::stream: driver_ = std::make_unique<StreamDriver>(ctx); break;
    case patterns::Pattern::write_read: driver_ = std::make_unique<WriteReadDriver>(ctx); break;
    case patterns::Pattern::event_stream: driver_ = std::make_unique<EventStreamDriver>(ctx); break;
    case patterns::Pattern::configured_stream: driver_ = std::make_unique<ConfiguredStreamDriver>(ctx); break;
  }
  if (!listen) {
    instance_->open();
    return true;
  }
  net::Endpoint endpoint;
  if (!net::parse_endpoint(spec_.socket, endpoint, error)) {
    error = "device '" + spec_.name + "': " + error;
    return false;
  }
  net::ListenOptions options;
  options.mode = spec_.socket_mode;
  options.group = spec_.socket_group;
  options.handover = host_.socket_handover();  // take over a socket kept across a restart
  listener_ = net::Listener::open(
      host_.loop(), endpoint, options,
      [this](net::StreamStorage* client, std::string peer) { accept(client, std::move(peer)); }, error);
  if (!listener_) {
    error = "device '" + spec_.name + "': " + error;
    return false;
  }
  // Last: what the plugin posted or started from create() may emit or
  // push, and runs once the driver that takes it is there.
  instance_->open();
  return true;
}

void Device::stop() {
  auto instance = stop_serving();
  instance.reset();  // its destroy(), here on the loop thread
}

std::unique_ptr<plugin::PluginInstance> Device::stop_serving() {
  listener_.reset();
  // Closing a connection ends its sessions through on_link_closed.
  while (!links_.empty()) {
    auto link = links_.begin()->second;
    link->close();
    links_.erase(link->id());
  }
  // Answers the plugin gave that still wait in the inbox (an open completed
  // just before a SIGTERM handled in the same loop turn) reach their
  // drivers now, while those can still act on them: an open that succeeded
  // for a connection already closed gets its release, as driver.h
  // promises, instead of being dropped with its state leaked. (A no-op
  // when this runs inside a drain, as a reload's steps do.)
  host_.inbox()->run_pending();
  // Workers finish their callbacks before anything they use goes away.
  if (executor_) executor_->close();
  if (calls_) calls_->close();
  driver_.reset();
  executor_.reset();
  if (instance_) instance_->begin_destroy();
  return std::move(instance_);
}

bool Device::peer_allowed(net::StreamStorage* client, std::string& why) const {
  if (spec_.allowed_uids.empty() && spec_.allowed_gids.empty()) return true;
  uint32_t uid = 0, gid = 0;
  int32_t pid = 0;
  if (!net::peer_credentials(&client->stream, uid, gid, pid)) {
    why = "peer credentials unavailable (allowed_uids/allowed_gids need a Unix socket)";
    return false;
  }
  for (uint32_t u : spec_.allowed_uids) if (u == uid) return true;
  for (uint32_t g : spec_.allowed_gids) if (g == gid) return true;
  why = "uid " + std::to_string(uid) + " gid " + std::to_string(gid) + " (pid " + std::to_string(pid) +
        ") is not in allowed_uids/allowed_gids";
  return false;
}

void Device::accept(net::StreamStorage* client, std::string peer) {
  std::string why;
  const bool allowed = peer_allowed(client, why);
  const bool admitted = allowed && host_.admit_connection();
  if (!admitted) {
    if (allowed) {
      why = "the host already has " + std::to_string(host_.open_connections()) + " connections (max_connections " +
            std::to_string(host_.max_connections()) + ")";
    }
    ++(allowed ? stats_.limits.connections_over_max : stats_.limits.peers_refused);
    log::warn(spec_.name, "refused connection " + peer + ": " + why);
    uv_close(reinterpret_cast<uv_handle_t*>(&client->stream),
             [](uv_handle_t* h) { delete reinterpret_cast<net::StreamStorage*>(h); });
    return;
  }
  ++stats_.connections_accepted;
  auto* conn = new net::Connection(client, host_.next_connection_id(), std::move(peer), spec_.limits.max_frame_bytes,
                                   &host_.flusher());
  auto link = std::make_shared<Link>(static_cast<LinkOwner&>(*this), stats_, conn);
  links_.emplace(link->id(), link);
  log::debug(spec_.name, "connection " + link->peer() + " opened");
  conn->start(link.get());
}

bool Device::adopt_connection(int fd, std::string peer, std::string& error) {
  auto* client = new net::StreamStorage;
  uv_pipe_init(host_.loop(), &client->pipe, 0);
  if (const int rc = uv_pipe_open(&client->pipe, fd); rc != 0) {
    error = "device '" + spec_.name + "': cannot serve fd " + std::to_string(fd) + ": " + uv_strerror(rc);
    uv_close(reinterpret_cast<uv_handle_t*>(&client->stream),
             [](uv_handle_t* h) { delete reinterpret_cast<net::StreamStorage*>(h); });
    ::close(fd);
    return false;
  }
  accept(client, std::move(peer));
  return true;
}

void Device::on_frame(Link& link, const uint8_t* payload, size_t len, uint64_t arrived_ns) {
  // Latency runs from the read that brought the frame to the write that
  // hands its reply to the kernel (Link::on_flush): no clock reading here.
  wire::Request req;
  if (!wire::decode_request(payload, len, req)) {
    // [fix] §1.3: no trustworthy id, so no reply; skip it and keep serving.
    ++stats_.malformed_frames;
    log::warn(spec_.name, "connection " + link.peer() + ": skipped a " + std::to_string(len) +
                              "-byte frame that is not a valid FuseMessage (" +
                              std::to_string(stats_.malformed_frames) + " so far)");
    return;
  }
  stats_.request_decoded(req.kind);
  dispatch(link, std::move(req), arrived_ns);
}

void Device::on_oversized_frame(Link& link, uint64_t length) {
  ++stats_.limits.frames_too_big;
  log::warn(spec_.name, "connection " + link.peer() + ": frame length " + std::to_string(length) +
                            " exceeds max_frame_bytes " + std::to_string(spec_.limits.max_frame_bytes) +
                            "; closing this connection");
}

void Device::dispatch(Link& link, wire::Request&& req, uint64_t decoded_ns) {
  Responder r{link.weak_from_this(), &link, req.id, req.fh, req.kind, decoded_ns};
  const patterns::Pattern pattern = library_->pattern();
  switch (req.kind) {
    case OpKind::none:
      return r.send(Reply::error(EINVAL));
    case OpKind::no_op:
      return r.send(Reply::error(ENOSYS));  // §1.2, as the SDK
    case OpKind::fuse_only:
      log::debug(spec_.name, "FUSE-only op (field " + std::to_string(req.fuse_field) + ") answered ENOSYS");
      return r.send(Reply::error(ENOSYS));
    case OpKind::open: {
      if (auto old = link.take(req.fh)) {
        // [fix] §1.4: a re-open on the same connection ends the old session first.
        log::debug(spec_.name, "fh " + std::to_string(req.fh) + " re-opened; ending its old session");
        driver_->end(std::move(old));
      }
      if (link.session_count() >= spec_.limits.max_sessions) {
        log::warn(spec_.name, "connection " + link.peer() + " reached max_sessions " +
                                  std::to_string(spec_.limits.max_sessions) + "; open answered EMFILE");
        ++stats_.limits.sessions_refused;
        return r.send(Reply::error(EMFILE));
      }
      ++stats_.sessions_opened;
      return driver_->open(link, req, r);
    }
    case OpKind::release: {
      auto s = link.take(req.fh);
      if (!s) return r.send(patterns::unknown_session_reply(pattern, req.kind));
      return driver_->release(link, std::move(s), req, r);
    }
    default: {
      const std::shared_ptr<Session>* s = link.find(req.fh);
      if (!s) return r.send(patterns::unknown_session_reply(pattern, req.kind));
      return driver_->op(link, *s, std::move(req), std::move(r));
    }
  }
}

void Device::on_link_closed(Link& link) {
  const uint64_t id = link.id();
  // Calls of this connection can no longer be answered: forget them, so a
  // late completion is reported instead of delivered (§1.9).
  if (calls_) calls_->forget_link(id);
  auto sessions = link.take_all();
  for (auto& [fh, s] : sessions) {
    if (driver_) driver_->end(s);  // [fix] §1.5: as if released
  }
  if (!sessions.empty()) {
    log::debug(spec_.name, "connection " + link.peer() + " closed; ended " + std::to_string(sessions.size()) +
                               " session(s)");
  }
  host_.connection_closed();
  links_.erase(id);
}

}  // namespace bentos::device
