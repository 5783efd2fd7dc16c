// The file ops of bentos/testing.hpp: pending (an op awaited later), file
// (one fh) and connection (one client): each builds the request, sends it
// on its connection_state and awaits the answer.
//
// Thread: the test's thread, the host's loop thread (pending::wait and
// every op turn the loop).
#include <unistd.h>

#include "harness_state.h"

namespace bentos::testing {

using detail::request;

// --- pending ---

bool pending::ready() {
  conn_->host->turn();
  conn_->host->exchange_all();
  return conn_->replies.count(id_) > 0;
}

reply pending::wait(std::chrono::milliseconds timeout) { return conn_->await(id_, what_, timeout); }

// --- file ---

#define BENTOS_TESTING_FH_WHAT(op) (std::string(op) + " on fh " + std::to_string(fh_))

pending file::start_write(std::string_view bytes) {
  auto r = request(wire::OpKind::write, fh_);
  r.data = std::string(bytes);
  return conn_->start(std::move(r), BENTOS_TESTING_FH_WHAT("write"));
}
pending file::start_read(uint64_t size) {
  auto r = request(wire::OpKind::read, fh_);
  r.size = size;
  return conn_->start(std::move(r), BENTOS_TESTING_FH_WHAT("read"));
}
pending file::start_flush() { return conn_->start(request(wire::OpKind::flush, fh_), BENTOS_TESTING_FH_WHAT("flush")); }
pending file::start_fsync(bool datasync) {
  auto r = request(wire::OpKind::fsync, fh_);
  r.datasync = datasync;
  return conn_->start(std::move(r), BENTOS_TESTING_FH_WHAT("fsync"));
}
pending file::start_ioctl(uint32_t cmd, std::string_view in, uint64_t out_size) {
  auto r = request(wire::OpKind::ioctl, fh_);
  r.cmd = cmd;
  r.data = std::string(in);
  r.out_bufsz = out_size;
  return conn_->start(std::move(r), BENTOS_TESTING_FH_WHAT("ioctl"));
}
pending file::start_poll(uint32_t events) {
  auto r = request(wire::OpKind::poll, fh_);
  r.events = events;
  return conn_->start(std::move(r), BENTOS_TESTING_FH_WHAT("poll"));
}
pending file::start_release() {
  return conn_->start(request(wire::OpKind::release, fh_), BENTOS_TESTING_FH_WHAT("release"));
}

#undef BENTOS_TESTING_FH_WHAT

reply file::write(std::string_view bytes) { return start_write(bytes).wait(); }
reply file::read(uint64_t size) { return start_read(size).wait(); }
reply file::flush() { return start_flush().wait(); }
reply file::fsync(bool datasync) { return start_fsync(datasync).wait(); }
reply file::ioctl(uint32_t cmd, std::string_view in, uint64_t out_size) { return start_ioctl(cmd, in, out_size).wait(); }
reply file::poll(uint32_t events) { return start_poll(events).wait(); }
reply file::release() { return start_release().wait(); }

// --- connection ---

reply connection::try_open(int flags) {
  auto r = request(wire::OpKind::open, conn_->next_fh++);
  r.flags = flags;
  return conn_->start(std::move(r), "open").wait();
}

file connection::open(int flags) {
  const uint64_t fh = conn_->next_fh;
  const reply r = try_open(flags);
  if (!r.ok()) throw failure("open answered " + r.describe());
  return file(conn_, fh);
}

void connection::disconnect() {
  if (conn_->fd < 0) return;
  conn_->exchange();
  ::close(conn_->fd);
  conn_->fd = -1;
  conn_->host->settle();  // the host sees the end and ends the sessions
  conn_->host->throw_plugin_errors();
}

bool connection::closed_by_host() const {
  conn_->exchange();
  return conn_->eof;
}

}  // namespace bentos::testing
