#include "fuse_bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <utility>

#include "fuse_bridge_internal.h"
#include "mount_log.h"

namespace bentos::mount {

namespace {

using wire::OpKind;
using wire::Reply;
using wire::ReplyKind;

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

}  // namespace

using namespace detail;

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
