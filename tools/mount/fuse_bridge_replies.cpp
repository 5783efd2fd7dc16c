// FuseBridge: forwarding requests, answering the kernel, interrupts and
// data that arrives for an interrupted read.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "fuse_bridge.h"
#include "fuse_bridge_internal.h"
#include "mount_log.h"

namespace bentos::mount {

using namespace detail;
using wire::OpKind;
using wire::Reply;
using wire::ReplyKind;

// ---- requests and replies ----------------------------------------------

uint64_t FuseBridge::forward(OpenFile& file, wire::Request request, PendingOp op, bool interruptible) {
  if (!file.link->live(file.generation)) {
    on_dead_file(op.req, op.kind, op.handle);
    return 0;
  }
  const uint64_t key = next_op_++;
  fuse_req_t req = op.req;
  ops_.emplace(key, std::move(op));
  file.link->send(file.generation, std::move(request), [this, key](const Reply& r) { on_reply(key, r); });
  if (interruptible) {
    op_of_req_[req] = key;
    // May call on_interrupt at once when the interrupt came first; it only
    // queues the request (answering inside libfuse's callback is unsafe).
    fuse_req_interrupt_func(req, on_interrupt, this);
  }
  return key;
}

void FuseBridge::on_dead_file(fuse_req_t req, OpKind kind, fuse_pollhandle* ph) {
  // The connection this file was opened on is gone (the host stopped or
  // restarted): the device session no longer exists.
  // Like a character device whose driver went away: data ops fail with
  // EIO, close() (flush) succeeds, polls report an error and hang-up.
  if (ph != nullptr) fuse_pollhandle_destroy(ph);
  if (kind == OpKind::poll) fuse_reply_poll(req, POLLERR | POLLHUP);
  else fuse_reply_err(req, kind == OpKind::flush ? 0 : EIO);
}

void FuseBridge::on_reply(uint64_t op_key, const Reply& reply) {
  if (shutting_down_) return;
  const auto it = ops_.find(op_key);
  if (it == ops_.end()) return;
  PendingOp op = std::move(it->second);
  ops_.erase(it);
  OpenFile* file = find_file(op.file);
  if (op.kind == OpKind::read && file != nullptr) remove_from(file->reads, op_key);
  if (op.req == nullptr) {  // the kernel already has its answer (interrupted)
    if (op.kind == OpKind::read && reply.kind == ReplyKind::buf) keep_late_data(op.file, reply.data);
    if (op.kind == OpKind::open && reply.kind != ReplyKind::error) {
      links_[op.node->device]->send(op.generation, make_request(OpKind::release, op.fh), [](const Reply&) {});
    }
    if (op.handle != nullptr) fuse_pollhandle_destroy(op.handle);
    return;
  }
  answer(op, reply);
}

void FuseBridge::answer(PendingOp& op, const Reply& reply) {
  switch (op.kind) {
    case OpKind::open:
      answer_open(op, reply);
      return;
    case OpKind::poll:
      answer_poll(op, reply);
      return;
    default:
      break;
  }
  fuse_req_t req = take_req(op);
  if (reply.kind == ReplyKind::error) {
    const int err = kernel_errno(reply.err, op.kind);
    fuse_reply_err(req, err);
    return;
  }
  switch (op.kind) {
    case OpKind::read:
      if (reply.kind != ReplyKind::buf) break;
      if (reply.data.size() > op.size) {  // more than asked: keep the rest for the next read
        fuse_reply_buf(req, reply.data.data(), op.size);
        keep_late_data(op.file, reply.data.substr(op.size));
      } else {
        fuse_reply_buf(req, reply.data.data(), reply.data.size());
      }
      return;
    case OpKind::write:
      if (reply.kind != ReplyKind::write) break;
      fuse_reply_write(req, static_cast<size_t>(std::min<uint64_t>(reply.count, op.size)));
      return;
    case OpKind::flush:
    case OpKind::fsync:
      fuse_reply_err(req, 0);
      return;
    case OpKind::ioctl: {
      if (reply.kind != ReplyKind::ioctl) break;
      const size_t n = std::min(reply.data.size(), op.size);
      fuse_reply_ioctl(req, reply.result, n > 0 ? reply.data.data() : nullptr, n);
      return;
    }
    default:
      break;
  }
  fuse_reply_err(req, EIO);  // a reply of the wrong kind
}

void FuseBridge::answer_poll(PendingOp& op, const Reply& reply) {
  fuse_req_t req = take_req(op);
  fuse_pollhandle* ph = op.handle;
  op.handle = nullptr;
  uint32_t revents = 0;
  if (reply.kind == ReplyKind::poll) {
    revents = reply.revents;
    OpenFile* file = find_file(op.file);
    if (file != nullptr && !file->stash.empty()) revents |= POLLIN;
  } else if (reply.kind == ReplyKind::error && reply.err == ENOSYS) {
    revents = kDefaultPollMask;  // never ENOSYS: it would switch poll off for the whole mount
  } else {
    if (ph != nullptr) fuse_pollhandle_destroy(ph);
    fuse_reply_err(req, reply.kind == ReplyKind::error ? kernel_errno(reply.err, OpKind::poll) : EIO);
    return;
  }
  fuse_reply_poll(req, revents);
  if (ph == nullptr) return;
  if (poll_ready(op.events, revents) || find_file(op.file) == nullptr) fuse_pollhandle_destroy(ph);
  else polls_.watch(op.file, ph, op.events);
}

fuse_req_t FuseBridge::take_req(PendingOp& op) {
  fuse_req_t req = op.req;
  op.req = nullptr;
  op_of_req_.erase(req);
  return req;
}

void FuseBridge::on_interrupt(fuse_req_t req, void* data) {
  static_cast<FuseBridge*>(data)->interrupted_.push_back(req);
}

void FuseBridge::drain_interrupts() {
  while (!interrupted_.empty()) {
    std::vector<fuse_req_t> list = std::move(interrupted_);
    interrupted_.clear();
    for (fuse_req_t req : list) {
      const auto mapped = op_of_req_.find(req);
      if (mapped == op_of_req_.end()) continue;  // answered meanwhile
      const uint64_t key = mapped->second;
      const auto it = ops_.find(key);
      if (it == ops_.end()) {
        op_of_req_.erase(mapped);
        continue;
      }
      PendingOp& op = it->second;
      fuse_req_t r = take_req(op);
      if (op.kind == OpKind::poll) {
        // An error here would read as POLLERR; "nothing ready" lets the
        // caller see its signal, and the handle still gets notified.
        fuse_reply_poll(r, 0);
        if (op.handle != nullptr && find_file(op.file) != nullptr) polls_.watch(op.file, op.handle, op.events);
        else if (op.handle != nullptr) fuse_pollhandle_destroy(op.handle);
        op.handle = nullptr;
      } else {
        fuse_reply_err(r, EINTR);
      }
      if (op.kind == OpKind::read) {
        if (OpenFile* file = find_file(op.file)) remove_from(file->reads, key);
      }
      // The op stays in ops_ without a kernel request: its device reply is
      // dropped (a read's data is kept for the next read).
    }
  }
}

void FuseBridge::keep_late_data(uint64_t file_key, const std::string& data) {
  OpenFile* file = find_file(file_key);
  if (file == nullptr || data.empty()) return;
  file->stash += data;
  serve_stash(*file);
  if (!file->stash.empty()) polls_.forget(file->key, true);  // a poller may want it
}

void FuseBridge::serve_stash(OpenFile& file) {
  while (!file.stash.empty() && !file.reads.empty()) {
    const uint64_t key = file.reads.front();
    file.reads.pop_front();
    const auto it = ops_.find(key);
    if (it == ops_.end() || it->second.req == nullptr) continue;
    PendingOp& op = it->second;
    fuse_req_t req = take_req(op);
    const size_t n = std::min(op.size, file.stash.size());
    fuse_reply_buf(req, file.stash.data(), n);
    file.stash.erase(0, n);
    // The op stays: its own device reply, when it comes, is late data too.
  }
}

}  // namespace bentos::mount
