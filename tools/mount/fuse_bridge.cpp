#include "fuse_bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <utility>

#include "mount_log.h"

namespace bentos::mount {

namespace {

using wire::OpKind;
using wire::Reply;
using wire::ReplyKind;

// What the kernel reads from a file without a poll method.
constexpr uint32_t kDefaultPollMask = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
// The tree never changes while mounted, so the kernel may cache it.
constexpr double kAttrTimeout = 60.0;
// Kernel requests read per wake-up before the loop serves the sockets again.
constexpr int kMaxRequestsPerWake = 64;

// libfuse's messages. Until the mount is done its errors are kept, so the
// failure is reported in one line of ours; afterwards they are printed.
bool g_hold_fuse_errors = true;
std::string g_fuse_error;

void fuse_log_sink(enum fuse_log_level level, const char* fmt, va_list ap) {
  char line[1024];
  std::vsnprintf(line, sizeof line, fmt, ap);
  std::string text = line;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (level == FUSE_LOG_DEBUG) {
    std::fprintf(stderr, "%s\n", text.c_str());
    return;
  }
  if (g_hold_fuse_errors && level <= FUSE_LOG_ERR) {
    g_fuse_error = text;
    return;
  }
  log_line("libfuse: " + text);
}

// A device's errno, as the kernel should see it. Some ENOSYS answers would
// switch the op off for the whole mount (the kernel remembers "the
// filesystem has no flush/fsync/poll/open"), so those are mapped to what
// the kernel would do for this one call anyway, or to the errno Linux
// character devices give.
int kernel_errno(int err, OpKind kind) {
  if (err <= 0 || err >= 512) return EIO;  // the kernel refuses others
  if (err != ENOSYS) return err;
  switch (kind) {
    case OpKind::open: return EIO;
    case OpKind::ioctl: return ENOTTY;
    case OpKind::flush:
    case OpKind::fsync: return 0;
    default: return err;
  }
}

wire::Request make_request(OpKind kind, uint64_t fh) {
  wire::Request r;
  r.kind = kind;
  r.fh = fh;
  return r;
}

void remove_from(std::deque<uint64_t>& keys, uint64_t key) {
  keys.erase(std::remove(keys.begin(), keys.end(), key), keys.end());
}

FuseBridge* bridge_of(fuse_req_t req) { return static_cast<FuseBridge*>(fuse_req_userdata(req)); }

}  // namespace

FuseBridge::FuseBridge(uv_loop_t* loop, InodeTable table, std::vector<std::unique_ptr<DeviceLink>> links)
    : loop_(loop),
      table_(std::move(table)),
      links_(std::move(links)),
      polls_(loop, [this](uint64_t file, uint32_t events, PollWatch::Answer answer) {
        ask_poll(file, events, std::move(answer));
      }) {}

FuseBridge::~FuseBridge() {
  if (session_ != nullptr) {
    if (mounted_) fuse_session_unmount(session_);
    fuse_session_destroy(session_);
  }
  std::free(buf_.mem);
}

bool FuseBridge::mount(const std::string& mountpoint, const std::string& fuse_options, bool debug,
                       std::string& error) {
  fuse_set_log_func(fuse_log_sink);
  std::vector<std::string> words = {"bentos-mount", "-o", fuse_options};
  if (debug) words.push_back("-d");
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());

  fuse_lowlevel_ops ops{};
  ops.init = op_init;
  ops.lookup = op_lookup;
  ops.getattr = op_getattr;
  ops.setattr = op_setattr;
  ops.readdir = op_readdir;
  ops.open = op_open;
  ops.create = op_create;
  ops.mknod = op_mknod;
  ops.read = op_read;
  ops.write = op_write;
  ops.flush = op_flush;
  ops.release = op_release;
  ops.fsync = op_fsync;
  ops.ioctl = op_ioctl;
  ops.poll = op_poll;

  g_fuse_error.clear();
  session_ = fuse_session_new(&args, &ops, sizeof ops, this);
  fuse_opt_free_args(&args);
  if (session_ == nullptr) {
    error = "cannot create the FUSE session" + (g_fuse_error.empty() ? std::string() : ": " + g_fuse_error);
    return false;
  }
  if (fuse_session_mount(session_, mountpoint.c_str()) != 0) {
    error = "cannot mount on " + mountpoint +
            (g_fuse_error.empty()
                 ? std::string(" (mounting needs CAP_SYS_ADMIN, or the setuid fusermount3 for other users; its "
                               "message, if any, is above)")
                 : ": " + g_fuse_error);
    if (g_fuse_error.find("busy") != std::string::npos) error += " (the mount point is busy)";
    fuse_session_destroy(session_);
    session_ = nullptr;
    return false;
  }
  mounted_ = true;
  g_hold_fuse_errors = false;
  const int fd = fuse_session_fd(session_);
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);  // receive_buf then answers -EAGAIN when drained
  return true;
}

void FuseBridge::start(std::function<void(int)> on_end) {
  on_end_ = std::move(on_end);
  uv_poll_init(loop_, &fuse_poll_, fuse_session_fd(session_));
  fuse_poll_.data = this;
  uv_poll_start(&fuse_poll_, UV_READABLE, on_fuse_readable);
  polling_ = true;
}

void FuseBridge::on_fuse_readable(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<FuseBridge*>(handle->data);
  // libuv reports POLLERR as an error status; an unmount from outside looks
  // like that, and reading then tells it apart (ENODEV: the session exited).
  self->read_fuse();
  if (status < 0 && !self->shutting_down_) {
    log_line(std::string("watching /dev/fuse failed: ") + uv_strerror(status));
    if (self->on_end_) self->on_end_(1);
  }
}

void FuseBridge::read_fuse() {
  for (int n = 0; n < kMaxRequestsPerWake && !shutting_down_; ++n) {
    const int res = fuse_session_receive_buf(session_, &buf_);
    if (res == -EINTR || res == -EAGAIN) break;
    if (res <= 0 || fuse_session_exited(session_)) {
      if (res < 0) log_line(std::string("reading /dev/fuse failed: ") + std::strerror(-res));
      if (on_end_) on_end_(res < 0 ? 1 : 0);
      return;
    }
    fuse_session_process_buf(session_, &buf_);
    drain_interrupts();
    if (fuse_session_exited(session_)) {
      if (on_end_) on_end_(0);
      return;
    }
  }
}

void FuseBridge::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  if (polling_) {
    uv_poll_stop(&fuse_poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(&fuse_poll_), nullptr);
    polling_ = false;
  }
  // Nobody will answer these any more: tell their callers now.
  for (auto& [key, op] : ops_) {
    if (op.handle != nullptr) fuse_pollhandle_destroy(op.handle);
    op.handle = nullptr;
    if (op.req == nullptr) continue;
    fuse_req_t req = op.req;
    op.req = nullptr;
    fuse_reply_err(req, EIO);
  }
  ops_.clear();
  op_of_req_.clear();
  interrupted_.clear();
  polls_.notify_all();
  polls_.close();
  for (auto& link : links_) link->close();
  if (session_ != nullptr && mounted_) {
    fuse_session_unmount(session_);
    mounted_ = false;
  }
}

// ---- the tree ---------------------------------------------------------

void FuseBridge::op_init(void*, fuse_conn_info* conn) {
  // Every read and write goes to the device as it comes (direct I/O), so
  // splicing buys nothing; keep requests in plain memory buffers.
  conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
}

void FuseBridge::op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  FuseBridge* self = bridge_of(req);
  const Node* node = self->table_.child(parent, name);
  if (node == nullptr) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  fuse_entry_param e{};
  e.ino = node->ino;
  e.attr = self->table_.attributes(*node);
  e.attr_timeout = kAttrTimeout;
  e.entry_timeout = kAttrTimeout;
  fuse_reply_entry(req, &e);
}

void FuseBridge::op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  FuseBridge* self = bridge_of(req);
  const Node* node = self->table_.find(ino);
  if (node == nullptr) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  const struct stat st = self->table_.attributes(*node);
  fuse_reply_attr(req, &st, kAttrTimeout);
}

void FuseBridge::op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat*, int to_set, fuse_file_info*) {
  FuseBridge* self = bridge_of(req);
  const Node* node = self->table_.find(ino);
  if (node == nullptr) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  // Like a character device: truncation and time stamps are accepted and
  // change nothing; ownership and mode are fixed.
  if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
    fuse_reply_err(req, EPERM);
    return;
  }
  const struct stat st = self->table_.attributes(*node);
  fuse_reply_attr(req, &st, kAttrTimeout);
}

void FuseBridge::op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  FuseBridge* self = bridge_of(req);
  const Node* dir = self->table_.find(ino);
  if (dir == nullptr || !dir->is_dir) {
    fuse_reply_err(req, dir == nullptr ? ENOENT : ENOTDIR);
    return;
  }
  std::vector<std::pair<std::string, struct stat>> entries;
  struct stat st{};
  st.st_ino = dir->ino;
  st.st_mode = S_IFDIR;
  entries.emplace_back(".", st);
  st.st_ino = dir->parent;
  entries.emplace_back("..", st);
  for (const auto& [name, child_ino] : dir->children) {
    const Node* child = self->table_.find(child_ino);
    entries.emplace_back(name, self->table_.attributes(*child));
  }
  std::vector<char> buf(size);
  size_t used = 0;
  for (size_t i = off < 0 ? 0 : static_cast<size_t>(off); i < entries.size(); ++i) {
    const size_t need = fuse_add_direntry(req, buf.data() + used, size - used, entries[i].first.c_str(),
                                          &entries[i].second, static_cast<off_t>(i + 1));
    if (need > size - used) break;
    used += need;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void FuseBridge::op_create(fuse_req_t req, fuse_ino_t, const char*, mode_t, fuse_file_info*) {
  fuse_reply_err(req, EACCES);  // only the devices' files exist here
}

void FuseBridge::op_mknod(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) { fuse_reply_err(req, EACCES); }

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
  request.data.assign(buf, size);
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
  if (in_bufsz > 0 && in_buf != nullptr) request.data.assign(static_cast<const char*>(in_buf), in_bufsz);
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

FuseBridge::OpenFile* FuseBridge::file_of(fuse_file_info* fi) { return fi == nullptr ? nullptr : find_file(fi->fh); }

FuseBridge::OpenFile* FuseBridge::find_file(uint64_t key) {
  const auto it = files_.find(key);
  return it == files_.end() ? nullptr : &it->second;
}

void FuseBridge::forget_file(uint64_t key) {
  polls_.forget(key, false);
  files_.erase(key);
}

}  // namespace bentos::mount
