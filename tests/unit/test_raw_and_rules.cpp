// The raw layer (behavior.md §2): defaults for unset ops and how a plugin's
// completion becomes the reply; and the host-wide unknown-fh rule (§1.6) for
// every pattern × op. Pure functions; no sockets.
#include <doctest/doctest.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "patterns/completion.h"
#include "patterns/pattern.h"
#include "patterns/raw.h"
#include "wire/ops.h"

using bentos::patterns::Completion;
using bentos::patterns::completion_kind_name;
using bentos::patterns::Pattern;
using bentos::patterns::pattern_name;
using bentos::patterns::raw_default_reply;
using bentos::patterns::raw_reply;
using bentos::patterns::unknown_session_reply;
using bentos::wire::OpKind;
using bentos::wire::Reply;
using bentos::wire::ReplyKind;

namespace {

const std::vector<OpKind> kRawOps = {OpKind::open,    OpKind::read,  OpKind::write,
                                     OpKind::flush,   OpKind::release, OpKind::fsync,
                                     OpKind::ioctl,   OpKind::poll};

const std::vector<Completion::Kind> kSuccessKinds = {Completion::Kind::bytes, Completion::Kind::count,
                                                     Completion::Kind::ok, Completion::Kind::ioctl,
                                                     Completion::Kind::poll};

// A success reply that carries nothing: flush, release, fsync.
void check_empty_success(const Reply& r) {
  CHECK(r.kind == ReplyKind::empty);
  CHECK(r.err == 0);
  CHECK(r.data.empty());
  CHECK(r.count == 0u);
  CHECK(r.result == 0);
  CHECK(r.revents == 0u);
}

void check_error(const Reply& r, int32_t err) {
  CHECK(r.kind == ReplyKind::error);
  CHECK(r.err == err);
}

// The completion kind that answers `op` successfully (driver.h: complete_ok
// answers open/flush/release/fsync).
Completion::Kind right_kind(OpKind op) {
  switch (op) {
    case OpKind::read: return Completion::Kind::bytes;
    case OpKind::write: return Completion::Kind::count;
    case OpKind::ioctl: return Completion::Kind::ioctl;
    case OpKind::poll: return Completion::Kind::poll;
    default: return Completion::Kind::ok;
  }
}

// A completion of `kind` with every payload field filled, so a reply that
// copied the wrong field would show it.
Completion filled(Completion::Kind kind) {
  Completion c;
  c.kind = kind;
  c.data = "payload";
  c.count = 7;
  c.result = 3;
  c.revents = 0x11;
  return c;
}

}  // namespace

// ------------------------------------------------------------- raw defaults

TEST_CASE("raw default for open is success with an empty OpenReply") {
  const Reply r = raw_default_reply(OpKind::open);
  CHECK(r.kind == ReplyKind::open);
  CHECK(r.err == 0);
  CHECK(r.data.empty());
}

TEST_CASE("raw default for flush, release, fsync is an empty success") {
  for (const OpKind op : {OpKind::flush, OpKind::release, OpKind::fsync}) {
    CAPTURE(bentos::wire::op_name(op));
    check_empty_success(raw_default_reply(op));
  }
}

TEST_CASE("raw default for read, write, ioctl, poll is ENOSYS") {
  for (const OpKind op : {OpKind::read, OpKind::write, OpKind::ioctl, OpKind::poll}) {
    CAPTURE(bentos::wire::op_name(op));
    check_error(raw_default_reply(op), ENOSYS);
  }
}

// ------------------------------------------------- raw_reply, the right kind

TEST_CASE("raw open answered by complete_ok is an OpenReply") {
  std::string problem = "stale";
  const Reply r = raw_reply(OpKind::open, filled(Completion::Kind::ok), 0, problem);
  CHECK(r.kind == ReplyKind::open);
  CHECK(r.err == 0);
  CHECK(problem.empty());
}

TEST_CASE("raw read answered by complete_bytes is a BufReply with those bytes") {
  std::string problem = "stale";
  const Reply r = raw_reply(OpKind::read, Completion::bytes(std::string("hi\0there", 8)), 100, problem);
  CHECK(r.kind == ReplyKind::buf);
  CHECK(r.data == std::string("hi\0there", 8));
  CHECK(problem.empty());
}

TEST_CASE("raw read answered by complete_bytes with exactly size bytes is not cut") {
  std::string problem;
  const Reply r = raw_reply(OpKind::read, Completion::bytes("12345"), 5, problem);
  CHECK(r.kind == ReplyKind::buf);
  CHECK(r.data == "12345");
  CHECK(problem.empty());
}

TEST_CASE("raw read answered by empty complete_bytes is EOF (empty BufReply)") {
  std::string problem;
  const Reply r = raw_reply(OpKind::read, Completion::bytes(""), 0, problem);
  CHECK(r.kind == ReplyKind::buf);
  CHECK(r.data.empty());
  CHECK(problem.empty());
}

TEST_CASE("raw read answered with more than size bytes is cut to size and the problem is set") {
  std::string problem;
  const Reply r = raw_reply(OpKind::read, Completion::bytes("hello world"), 5, problem);
  CHECK(r.kind == ReplyKind::buf);
  CHECK(r.data == "hello");
  CHECK_FALSE(problem.empty());
}

TEST_CASE("raw read of size 0 answered with bytes is cut to nothing and the problem is set") {
  std::string problem;
  const Reply r = raw_reply(OpKind::read, Completion::bytes("x"), 0, problem);
  CHECK(r.kind == ReplyKind::buf);
  CHECK(r.data.empty());
  CHECK_FALSE(problem.empty());
}

TEST_CASE("raw write answered by complete_count is a WriteReply with that count") {
  std::string problem = "stale";
  const Reply r = raw_reply(OpKind::write, filled(Completion::Kind::count), 0, problem);
  CHECK(r.kind == ReplyKind::write);
  CHECK(r.count == 7u);
  CHECK(problem.empty());
}

TEST_CASE("raw write answered by complete_count 0 is a WriteReply with count 0") {
  Completion c;
  c.kind = Completion::Kind::count;
  c.count = 0;
  std::string problem;
  const Reply r = raw_reply(OpKind::write, c, 0, problem);
  CHECK(r.kind == ReplyKind::write);
  CHECK(r.count == 0u);
}

TEST_CASE("raw flush, release, fsync answered by complete_ok are empty successes") {
  for (const OpKind op : {OpKind::flush, OpKind::release, OpKind::fsync}) {
    CAPTURE(bentos::wire::op_name(op));
    std::string problem = "stale";
    check_empty_success(raw_reply(op, filled(Completion::Kind::ok), 0, problem));
    CHECK(problem.empty());
  }
}

TEST_CASE("raw ioctl answered by complete_ioctl is an IoctlReply with its result and buf") {
  std::string problem = "stale";
  const Reply r = raw_reply(OpKind::ioctl, filled(Completion::Kind::ioctl), 0, problem);
  CHECK(r.kind == ReplyKind::ioctl);
  CHECK(r.result == 3);
  CHECK(r.data == "payload");
  CHECK(problem.empty());
}

TEST_CASE("raw ioctl answered by complete_ioctl with a negative result passes it through as the result") {
  Completion c;
  c.kind = Completion::Kind::ioctl;
  c.result = -1;
  std::string problem;
  const Reply r = raw_reply(OpKind::ioctl, c, 0, problem);
  CHECK(r.kind == ReplyKind::ioctl);
  CHECK(r.result == -1);
  CHECK(r.data.empty());
}

TEST_CASE("raw poll answered by complete_poll is a PollReply with its revents") {
  std::string problem = "stale";
  const Reply r = raw_reply(OpKind::poll, filled(Completion::Kind::poll), 0, problem);
  CHECK(r.kind == ReplyKind::poll);
  CHECK(r.revents == 0x11u);
  CHECK(problem.empty());
}

TEST_CASE("raw poll answered by complete_poll with 0 revents is a PollReply with 0") {
  Completion c;
  c.kind = Completion::Kind::poll;
  std::string problem;
  const Reply r = raw_reply(OpKind::poll, c, 0, problem);
  CHECK(r.kind == ReplyKind::poll);
  CHECK(r.revents == 0u);
}

// ------------------------------------------------- raw_reply, the wrong kind

TEST_CASE("raw reply with a wrong completion kind for any op is EIO and sets the problem") {
  int wrong_cells = 0;
  for (const OpKind op : kRawOps) {
    for (const Completion::Kind kind : kSuccessKinds) {
      if (kind == right_kind(op)) continue;
      CAPTURE(bentos::wire::op_name(op));
      CAPTURE(completion_kind_name(kind));
      std::string problem;
      check_error(raw_reply(op, filled(kind), 1000, problem), EIO);
      CHECK_FALSE(problem.empty());
      // The problem names the op and the kind that answered it.
      CHECK(problem.find(bentos::wire::op_name(op)) != std::string::npos);
      CHECK(problem.find(completion_kind_name(kind)) != std::string::npos);
      ++wrong_cells;
    }
  }
  CHECK(wrong_cells == 8 * 4);  // every op, every other success kind
}

TEST_CASE("raw read answered by complete_count is EIO, not a BufReply") {
  std::string problem;
  Completion c;
  c.kind = Completion::Kind::count;
  c.count = 5;
  check_error(raw_reply(OpKind::read, c, 100, problem), EIO);
  CHECK_FALSE(problem.empty());
}

// -------------------------------------------------- raw_reply, error answers

TEST_CASE("raw reply with an error completion answers its errno for every op") {
  for (const OpKind op : kRawOps) {
    for (const int32_t err : {EPERM, ENOENT, EACCES, ENOTTY, ETIMEDOUT}) {
      CAPTURE(bentos::wire::op_name(op));
      CAPTURE(err);
      std::string problem;
      check_error(raw_reply(op, Completion::error(err), 100, problem), err);
    }
  }
}

TEST_CASE("raw reply with an error completion with a non-positive errno answers EIO and sets the problem") {
  for (const OpKind op : kRawOps) {
    for (const int32_t err : {0, -1, -ENOENT}) {
      CAPTURE(bentos::wire::op_name(op));
      CAPTURE(err);
      std::string problem;
      check_error(raw_reply(op, Completion::error(err), 100, problem), EIO);
      CHECK_FALSE(problem.empty());
    }
  }
}

// -------------------------------------------- §1 rule 6: unknown fh, table

namespace {

struct UnknownCell {
  Pattern pattern;
  OpKind op;
  int32_t err;  // 0 = success (empty reply)
};

// behavior.md §1.6, transcribed cell by cell:
//   read, write, poll, ioctl -> EIO; release -> success; flush -> success in
//   P1/P3/raw, EIO in P2/P4; fsync -> success except P4 (EIO); P3 write ->
//   EACCES even for an unknown fh.
const std::vector<UnknownCell> kUnknownTable = {
    // raw
    {Pattern::raw, OpKind::read, EIO},
    {Pattern::raw, OpKind::write, EIO},
    {Pattern::raw, OpKind::flush, 0},
    {Pattern::raw, OpKind::release, 0},
    {Pattern::raw, OpKind::fsync, 0},
    {Pattern::raw, OpKind::ioctl, EIO},
    {Pattern::raw, OpKind::poll, EIO},
    // P1 stream
    {Pattern::stream, OpKind::read, EIO},
    {Pattern::stream, OpKind::write, EIO},
    {Pattern::stream, OpKind::flush, 0},
    {Pattern::stream, OpKind::release, 0},
    {Pattern::stream, OpKind::fsync, 0},
    {Pattern::stream, OpKind::ioctl, EIO},
    {Pattern::stream, OpKind::poll, EIO},
    // P2 write-then-read
    {Pattern::write_read, OpKind::read, EIO},
    {Pattern::write_read, OpKind::write, EIO},
    {Pattern::write_read, OpKind::flush, EIO},
    {Pattern::write_read, OpKind::release, 0},
    {Pattern::write_read, OpKind::fsync, 0},
    {Pattern::write_read, OpKind::ioctl, EIO},
    {Pattern::write_read, OpKind::poll, EIO},
    // P3 event stream
    {Pattern::event_stream, OpKind::read, EIO},
    {Pattern::event_stream, OpKind::write, EACCES},
    {Pattern::event_stream, OpKind::flush, 0},
    {Pattern::event_stream, OpKind::release, 0},
    {Pattern::event_stream, OpKind::fsync, 0},
    {Pattern::event_stream, OpKind::ioctl, EIO},
    {Pattern::event_stream, OpKind::poll, EIO},
    // P4 configured stream
    {Pattern::configured_stream, OpKind::read, EIO},
    {Pattern::configured_stream, OpKind::write, EIO},
    {Pattern::configured_stream, OpKind::flush, EIO},
    {Pattern::configured_stream, OpKind::release, 0},
    {Pattern::configured_stream, OpKind::fsync, EIO},
    {Pattern::configured_stream, OpKind::ioctl, EIO},
    {Pattern::configured_stream, OpKind::poll, EIO},
};

}  // namespace

TEST_CASE("unknown fh: every pattern x op answers as behavior.md §1.6 says") {
  REQUIRE(kUnknownTable.size() == 5u * 7u);
  for (const UnknownCell& cell : kUnknownTable) {
    CAPTURE(pattern_name(cell.pattern));
    CAPTURE(bentos::wire::op_name(cell.op));
    const Reply r = unknown_session_reply(cell.pattern, cell.op);
    if (cell.err == 0) {
      check_empty_success(r);
    } else {
      check_error(r, cell.err);
    }
  }
}

TEST_CASE("unknown fh: the table covers every pattern and every op exactly once") {
  const std::vector<Pattern> patterns = {Pattern::raw, Pattern::stream, Pattern::write_read,
                                         Pattern::event_stream, Pattern::configured_stream};
  const std::vector<OpKind> ops = {OpKind::read,  OpKind::write, OpKind::flush, OpKind::release,
                                   OpKind::fsync, OpKind::ioctl, OpKind::poll};
  for (const Pattern p : patterns) {
    for (const OpKind op : ops) {
      int found = 0;
      for (const UnknownCell& cell : kUnknownTable) {
        if (cell.pattern == p && cell.op == op) ++found;
      }
      CAPTURE(pattern_name(p));
      CAPTURE(bentos::wire::op_name(op));
      CHECK(found == 1);
    }
  }
}

TEST_CASE("unknown fh: release is a success in every pattern") {
  for (const Pattern p : {Pattern::raw, Pattern::stream, Pattern::write_read, Pattern::event_stream,
                          Pattern::configured_stream}) {
    CAPTURE(pattern_name(p));
    check_empty_success(unknown_session_reply(p, OpKind::release));
  }
}

TEST_CASE("unknown fh: P3 write is EACCES, every other pattern's write is EIO") {
  check_error(unknown_session_reply(Pattern::event_stream, OpKind::write), EACCES);
  for (const Pattern p : {Pattern::raw, Pattern::stream, Pattern::write_read, Pattern::configured_stream}) {
    CAPTURE(pattern_name(p));
    check_error(unknown_session_reply(p, OpKind::write), EIO);
  }
}

TEST_CASE("pattern names") {
  CHECK(std::string(pattern_name(Pattern::raw)) == "raw");
  CHECK(std::string(pattern_name(Pattern::stream)) == "stream");
  CHECK(std::string(pattern_name(Pattern::write_read)) == "write_read");
  CHECK(std::string(pattern_name(Pattern::event_stream)) == "event_stream");
  CHECK(std::string(pattern_name(Pattern::configured_stream)) == "configured_stream");
}
