// The FUSE side of bentos-mount: a lowlevel libfuse session whose /dev/fuse
// descriptor is watched by the same libuv loop as the device sockets, so a
// read parked at a device never blocks anything else. Every kernel request
// for a device file becomes one wire request on that device's DeviceLink
// and is answered when the device replies (the lowlevel API allows replying
// later, from the same thread).
//
//   lookup, getattr, setattr, readdir   answered from the InodeTable
//   open      OpenReq(flags) with a fresh fh; direct I/O, not seekable
//   read      ReadReq(size)            write  WriteReq(data)
//   flush     FlushReq(lock_owner)     fsync  FsyncReq(datasync)
//   release   ReleaseReq(flags), answered at once; the file is forgotten
//   ioctl     IoctlReq(cmd unchanged, in_buf, out_bufsz from the kernel's
//             restricted encoding); IoctlReply.result is the return value
//   poll      PollReq(events); not ready + a poll handle: PollWatch
//
// Interrupts (a signal to the caller): a parked read, ioctl, flush or fsync
// answers EINTR at once; a poll answers "nothing ready" (an error would
// read as POLLERR) and keeps its handle. The device's late reply for such a
// request is dropped -- except a late read's data, which is not lost: it is
// given to the next read on the same open file (kept per file until then).
//
// Owned by main(). Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "device_link.h"
#include "fuse_api.h"
#include "inode_table.h"
#include "poll_watch.h"
#include "wire/ops.h"

namespace bentos::mount {

class FuseBridge {
 public:
  FuseBridge(uv_loop_t* loop, InodeTable table, std::vector<std::unique_ptr<DeviceLink>> links);
  ~FuseBridge();
  FuseBridge(const FuseBridge&) = delete;
  FuseBridge& operator=(const FuseBridge&) = delete;

  // Creates the session (with the mount options `fuse_options`, e.g.
  // "fsname=bentos,subtype=bentos") and mounts it on `mountpoint`. On
  // failure returns false with `error` (libfuse's own message included).
  bool mount(const std::string& mountpoint, const std::string& fuse_options, bool debug, std::string& error);

  // Watches the session descriptor. `on_end` runs once when the session
  // ends by itself (unmounted from outside: status 0; a read error: 1).
  void start(std::function<void(int status)> on_end);

  // Answers every request still waiting (EIO), unmounts, closes the
  // sockets and handles. The loop must then run to completion.
  void shutdown();

 private:
  struct OpenFile {
    uint64_t key = 0;        // fi->fh
    const Node* node = nullptr;
    DeviceLink* link = nullptr;
    uint64_t fh = 0;         // wire fh on the device connection
    uint64_t generation = 0; // the connection it was opened on
    std::string stash;       // late data of interrupted reads, served first
    std::deque<uint64_t> reads;  // waiting read ops on this file, oldest first
  };

  struct PendingOp {
    fuse_req_t req = nullptr;  // null once the kernel has its answer
    wire::OpKind kind = wire::OpKind::none;
    uint64_t file = 0;         // OpenFile key; open: 0
    size_t size = 0;           // read: size; ioctl: out_bufsz
    uint32_t events = 0;       // poll
    fuse_pollhandle* handle = nullptr;  // poll: the kernel's, until used
    fuse_file_info fi{};       // open
    const Node* node = nullptr;  // open
    uint64_t fh = 0;             // open
    uint64_t generation = 0;     // open
    bool retry = false;          // open: may be sent once more
  };

  // libfuse callbacks (userdata = this).
  static void op_init(void* userdata, fuse_conn_info* conn);
  static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
  static void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi);
  static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
  static void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void op_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi);
  static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev);
  static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
  static void op_write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off, fuse_file_info* fi);
  static void op_flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void op_release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);
  static void op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void* arg, fuse_file_info* fi,
                       unsigned flags, const void* in_buf, size_t in_bufsz, size_t out_bufsz);
  static void op_poll(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, fuse_pollhandle* ph);
  static void on_interrupt(fuse_req_t req, void* data);
  static void on_fuse_readable(uv_poll_t* handle, int status, int events);

  // `retry`: an open that fails because its connection was already gone
  // (not yet noticed) is sent once more on a new connection.
  void do_open(fuse_req_t req, const Node& node, fuse_file_info* fi, bool retry);
  void do_read(fuse_req_t req, OpenFile& file, size_t size);
  void do_poll(fuse_req_t req, OpenFile& file, uint32_t events, fuse_pollhandle* ph);

  // Sends `request` for a file op and records the kernel request; when the
  // file's connection is gone, answers `req` at once. Returns the op key
  // (0 when answered at once).
  uint64_t forward(OpenFile& file, wire::Request request, PendingOp op, bool interruptible);
  void on_reply(uint64_t op_key, const wire::Reply& reply);
  void answer(PendingOp& op, const wire::Reply& reply);
  void answer_open(PendingOp& op, const wire::Reply& reply);
  void answer_poll(PendingOp& op, const wire::Reply& reply);
  // A reply for a read the kernel no longer waits for: keep its data.
  void keep_late_data(uint64_t file_key, const std::string& data);
  void serve_stash(OpenFile& file);
  fuse_req_t take_req(PendingOp& op);  // the op's kernel request, now answered by the caller
  void drain_interrupts();
  void on_dead_file(fuse_req_t req, wire::OpKind kind, fuse_pollhandle* ph);
  OpenFile* file_of(fuse_file_info* fi);
  OpenFile* find_file(uint64_t key);
  void forget_file(uint64_t key);
  void read_fuse();
  void ask_poll(uint64_t file_key, uint32_t events, PollWatch::Answer answer);

  uv_loop_t* loop_;
  InodeTable table_;
  std::vector<std::unique_ptr<DeviceLink>> links_;  // by device index
  PollWatch polls_;
  fuse_session* session_ = nullptr;
  bool mounted_ = false;
  bool shutting_down_ = false;
  uv_poll_t fuse_poll_{};
  bool polling_ = false;
  fuse_buf buf_{};
  std::function<void(int)> on_end_;

  std::unordered_map<uint64_t, OpenFile> files_;
  uint64_t next_file_ = 1;
  std::unordered_map<uint64_t, PendingOp> ops_;
  uint64_t next_op_ = 1;
  std::unordered_map<fuse_req_t, uint64_t> op_of_req_;  // unanswered ops that take interrupts
  std::vector<fuse_req_t> interrupted_;
};

}  // namespace bentos::mount
