// FuseBridge: open, release and the file ops forwarded to devices.
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

// ---- open and release -------------------------------------------------

void FuseBridge::op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  FuseBridge* self = bridge_of(req);
  const Node* node = self->table_.find(ino);
  if (node == nullptr || node->is_dir) {
    fuse_reply_err(req, node == nullptr ? ENOENT : EISDIR);
    return;
  }
  self->do_open(req, *node, fi, true);
}

void FuseBridge::do_open(fuse_req_t req, const Node& node, fuse_file_info* fi, bool retry) {
  DeviceLink& link = *links_[node.device];
  PendingOp op;
  op.req = req;
  op.kind = OpKind::open;
  op.retry = retry;
  op.fi = *fi;
  op.node = &node;
  op.fh = link.allocate_fh();
  wire::Request request = make_request(OpKind::open, op.fh);
  request.flags = fi->flags;
  const uint64_t key = next_op_++;
  ops_.emplace(key, op);
  const uint64_t generation = link.open(std::move(request), [this, key](const Reply& r) { on_reply(key, r); });
  const auto it = ops_.find(key);
  if (it != ops_.end()) it->second.generation = generation;
}

void FuseBridge::answer_open(PendingOp& op, const Reply& reply) {
  fuse_req_t req = take_req(op);
  DeviceLink* link = links_[op.node->device].get();
  if (reply.kind == ReplyKind::error && reply.err == EIO && op.retry && op.generation != 0 &&
      !link->live(op.generation)) {
    // Sent on a connection that turned out to be gone (the host restarted
    // and the loss was not seen yet): once more, on a new connection.
    do_open(req, *op.node, &op.fi, false);
    return;
  }
  if (reply.kind == ReplyKind::error) {
    fuse_reply_err(req, kernel_errno(reply.err, OpKind::open));
    return;
  }
  if (reply.kind != ReplyKind::open && reply.kind != ReplyKind::empty) {
    fuse_reply_err(req, EIO);
    return;
  }
  const uint64_t key = next_file_++;
  OpenFile& file = files_[key];
  file.key = key;
  file.node = op.node;
  file.link = link;
  file.fh = op.fh;
  file.generation = op.generation;
  fuse_file_info fi = op.fi;
  fi.fh = key;
  fi.direct_io = 1;     // every read and write reaches the device as issued
  fi.nonseekable = 1;   // a character device
  fi.keep_cache = 0;
  if (fuse_reply_open(req, &fi) != 0) {
    // The opener is gone (killed meanwhile): the kernel will never release
    // this file, so end the device's session now.
    wire::Request release = make_request(OpKind::release, file.fh);
    release.flags = op.fi.flags;
    link->send(file.generation, std::move(release), [](const Reply&) {});
    forget_file(key);
  }
}

void FuseBridge::op_release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  FuseBridge* self = bridge_of(req);
  OpenFile* file = self->file_of(fi);
  if (file != nullptr) {
    wire::Request release = make_request(OpKind::release, file->fh);
    release.flags = fi->flags;
    release.lock_owner = fi->lock_owner;
    // Nobody waits for the answer: the kernel does not, and the file is
    // forgotten now. A dead connection has nothing to release.
    file->link->send(file->generation, std::move(release), [](const Reply&) {});
    self->forget_file(file->key);
  }
  fuse_reply_err(req, 0);
}

// ---- file ops -----------------------------------------------------------

void FuseBridge::op_read(fuse_req_t req, fuse_ino_t, size_t size, off_t, fuse_file_info* fi) {
  FuseBridge* self = bridge_of(req);
  OpenFile* file = self->file_of(fi);
  if (file == nullptr) {
    fuse_reply_err(req, EBADF);
    return;
  }
  self->do_read(req, *file, size);
}

void FuseBridge::do_read(fuse_req_t req, OpenFile& file, size_t size) {
  if (!file.stash.empty()) {
    const size_t n = std::min(size, file.stash.size());
    fuse_reply_buf(req, file.stash.data(), n);
    file.stash.erase(0, n);
    return;
  }
  wire::Request request = make_request(OpKind::read, file.fh);
  request.size = size;
  PendingOp op;
  op.req = req;
  op.kind = OpKind::read;
  op.file = file.key;
  op.size = size;
  const uint64_t key = forward(file, std::move(request), std::move(op), true);
  // Still waiting (not interrupted inside forward): a reader late data may serve.
  const auto it = ops_.find(key);
  if (key != 0 && it != ops_.end() && it->second.req != nullptr) file.reads.push_back(key);
}

void FuseBridge::op_write(fuse_req_t req, fuse_ino_t, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
  FuseBridge* self = bridge_of(req);
  OpenFile* file = self->file_of(fi);
  if (file == nullptr) {
    fuse_reply_err(req, EBADF);
    return;
  }
  wire::Request request = make_request(OpKind::write, file->fh);
  request.data = std::string(buf, size);
  request.offset = off;
  PendingOp op;
  op.req = req;
  op.kind = OpKind::write;
  op.file = file->key;
  op.size = size;
  // Not interruptible: the device may take the data even if the writer is
  // told it failed; a write's answer is prompt anyway.
  self->forward(*file, std::move(request), std::move(op), false);
}

void FuseBridge::op_flush(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  FuseBridge* self = bridge_of(req);
  OpenFile* file = self->file_of(fi);
  if (file == nullptr) {
    fuse_reply_err(req, EBADF);
    return;
  }
  wire::Request request = make_request(OpKind::flush, file->fh);
  request.lock_owner = fi->lock_owner;
  PendingOp op;
  op.req = req;
  op.kind = OpKind::flush;
  op.file = file->key;
  self->forward(*file, std::move(request), std::move(op), true);
}

void FuseBridge::op_fsync(fuse_req_t req, fuse_ino_t, int datasync, fuse_file_info* fi) {
  FuseBridge* self = bridge_of(req);
  OpenFile* file = self->file_of(fi);
  if (file == nullptr) {
    fuse_reply_err(req, EBADF);
    return;
  }
  wire::Request request = make_request(OpKind::fsync, file->fh);
  request.datasync = datasync != 0;
  PendingOp op;
  op.req = req;
  op.kind = OpKind::fsync;
  op.file = file->key;
  self->forward(*file, std::move(request), std::move(op), true);
}

void FuseBridge::op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void*, fuse_file_info* fi,
                          unsigned flags, const void* in_buf, size_t in_bufsz, size_t out_bufsz) {
  FuseBridge* self = bridge_of(req);
  if (flags & FUSE_IOCTL_COMPAT) {  // a 32-bit caller: its structures would differ
    fuse_reply_err(req, ENOSYS);
    return;
  }
  const Node* node = self->table_.find(ino);
  OpenFile* file = (flags & FUSE_IOCTL_DIR) || node == nullptr || node->is_dir ? nullptr : self->file_of(fi);
  if (file == nullptr) {
    fuse_reply_err(req, ENOTTY);
    return;
  }
  // The kernel's restricted ioctl already sized the buffers from cmd's
  // _IOC direction and size bits: in_bufsz bytes came in, out_bufsz may go
  // back. cmd itself goes to the device unchanged.
  wire::Request request = make_request(OpKind::ioctl, file->fh);
  request.cmd = cmd;
  request.ioctl_flags = flags;
  if (in_bufsz > 0 && in_buf != nullptr) request.data = std::string(static_cast<const char*>(in_buf), in_bufsz);
  request.out_bufsz = out_bufsz;
  PendingOp op;
  op.req = req;
  op.kind = OpKind::ioctl;
  op.file = file->key;
  op.size = out_bufsz;
  self->forward(*file, std::move(request), std::move(op), true);
}

void FuseBridge::op_poll(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, fuse_pollhandle* ph) {
  FuseBridge* self = bridge_of(req);
  OpenFile* file = self->file_of(fi);
  if (file == nullptr) {
    if (ph != nullptr) fuse_pollhandle_destroy(ph);
    fuse_reply_err(req, EBADF);
    return;
  }
  self->do_poll(req, *file, fi->poll_events, ph);
}

void FuseBridge::do_poll(fuse_req_t req, OpenFile& file, uint32_t events, fuse_pollhandle* ph) {
  wire::Request request = make_request(OpKind::poll, file.fh);
  request.events = events;
  PendingOp op;
  op.req = req;
  op.kind = OpKind::poll;
  op.file = file.key;
  op.events = events;
  op.handle = ph;
  forward(file, std::move(request), std::move(op), true);
}

void FuseBridge::ask_poll(uint64_t file_key, uint32_t events, PollWatch::Answer answer) {
  OpenFile* file = find_file(file_key);
  if (file == nullptr || !file->link->live(file->generation)) {
    answer(std::nullopt);
    return;
  }
  if (!file->stash.empty()) {
    answer(uint32_t{POLLIN});
    return;
  }
  wire::Request request = make_request(OpKind::poll, file->fh);
  request.events = events;
  file->link->send(file->generation, std::move(request), [answer = std::move(answer)](const Reply& r) {
    if (r.kind == ReplyKind::poll) answer(r.revents);
    else if (r.kind == ReplyKind::error && r.err == ENOSYS) answer(kDefaultPollMask);
    else answer(std::nullopt);
  });
}

}  // namespace bentos::mount
