// libFuzzer target: the pure pattern state machines (host/patterns):
// WriteReadMachine (P2), StreamMachine (P1), EventHub (P3) and
// ConfiguredStreamMachine (P4), driven by op sequences decoded from the
// input. docs/fuzzing.md says how to run it.
//
// Input layout: bytes 0..2 configure the machines (non-blocking flags,
// read-when-empty, small limits so the bounds are reached); then each byte
// pair is (op, argument): the op byte picks a machine and an operation, the
// argument gives sizes, lengths, listener ids, cycles and errnos.
//
// Checked after every step:
//   - a read's reply (immediate, or a parked read's answer) never carries
//     more bytes than that read asked for;
//   - P1 output comes out exactly once and in push order, whatever the
//     chunk and read sizes (large ones too, which the reads hand out as
//     moved or split chunks);
//   - poll bits stay within POLLIN|POLLOUT (P1 always has POLLOUT, P3 never);
//   - the P4 state and the GET_STATE ioctl's answer are 0..5;
//   - parked-read answers name only tokens that are parked (on that
//     listener, for P3), and each token is answered at most once;
//   - the machines' own parked-read counts match the tokens we saw parked,
//     and ending a session leaves none.
#include <cerrno>
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "fuzz_check.h"
#include "patterns/completion.h"
#include "patterns/configured_stream.h"
#include "patterns/event_stream.h"
#include "patterns/pattern.h"
#include "patterns/stream.h"
#include "patterns/write_read.h"

using namespace bentos::patterns;
using bentos::wire::Reply;
using bentos::wire::ReplyKind;

namespace {

constexpr uint32_t kInOut = kPollIn | kPollOut;

std::string payload(size_t len, uint64_t salt) {
  std::string s(len, '\0');
  for (size_t i = 0; i < len; ++i) s[i] = static_cast<char>('a' + (salt + i) % 26);
  return s;
}

// A read's answer may carry at most `size` bytes.
void check_read_reply(const Reply& r, uint64_t size) {
  FUZZ_CHECK(r.kind == ReplyKind::buf || r.kind == ReplyKind::error);
  if (r.kind == ReplyKind::buf) FUZZ_CHECK(r.payload_size() <= size);
  if (r.kind == ReplyKind::error) FUZZ_CHECK(r.err > 0);
}

// Tokens parked and not yet answered: token -> (read size, owner).
struct Parked {
  std::map<ReadToken, std::pair<uint64_t, uint64_t>> tokens;

  void park(ReadToken t, uint64_t size, uint64_t owner = 0) {
    FUZZ_CHECK(tokens.emplace(t, std::make_pair(size, owner)).second);
  }
  void answered(const ParkedAnswers& answers, std::optional<uint64_t> owner = std::nullopt) {
    for (const auto& a : answers) {
      auto it = tokens.find(a.token);
      FUZZ_CHECK(it != tokens.end());  // parked, and not answered before
      if (owner) FUZZ_CHECK(it->second.second == *owner);
      check_read_reply(a.reply, it->second.first);
      tokens.erase(it);
    }
  }
  size_t count(uint64_t owner) const {
    size_t n = 0;
    for (const auto& [t, v] : tokens) n += v.second == owner;
    return n;
  }
};

struct Driver {
  uint64_t next_token = 1;
  uint64_t salt = 0;

  // P2
  uint64_t p2_max = 0;
  std::unique_ptr<WriteReadMachine> p2;
  std::optional<uint64_t> p2_read_size;  // the submit came from a read of this size
  // P1
  EmptyRead p1_when = EmptyRead::eof;
  bool p1_nonblocking = false;
  uint64_t p1_max = 0;
  std::unique_ptr<StreamMachine> p1;
  Parked p1_parked;
  std::string p1_undelivered;  // accepted pushes not yet read, in order

  // Replies of P1 reads, in the order the machine produced them: each
  // must carry the next bytes pushed.
  void p1_delivered(const Reply& r) {
    if (r.kind != ReplyKind::buf) return;
    const std::string got = r.payload();
    FUZZ_CHECK(p1_undelivered.compare(0, got.size(), got) == 0);
    p1_undelivered.erase(0, got.size());
  }
  void p1_delivered(const ParkedAnswers& answers) {
    for (const auto& a : answers) p1_delivered(a.reply);
  }
  // P3
  std::unique_ptr<EventHub> p3;
  Parked p3_parked;
  std::map<ListenerId, bool> p3_listeners;
  uint64_t p3_sequence = 0;
  // P4
  bool p4_nonblocking = false;
  uint64_t p4_max = 0;
  std::unique_ptr<ConfiguredStreamMachine> p4;
  Parked p4_parked;

  void step_p2(uint8_t op, uint8_t arg) {
    switch (op % 5) {
      case 0: {
        const auto data = payload(arg % 33, salt++);
        const Reply r = p2->write(data);
        if (r.kind == ReplyKind::write) FUZZ_CHECK(r.count == data.size());
        else FUZZ_CHECK(r.kind == ReplyKind::error && (r.err == EBUSY || r.err == EFBIG));
        FUZZ_CHECK(p2->accumulated_bytes() <= p2_max);
        break;
      }
      case 1: {
        if (p2->state() == WriteReadMachine::State::processing) break;  // one request in flight
        const WriteReadStep s = p2->flush();
        FUZZ_CHECK(s.submit != s.reply.has_value());
        if (s.submit) {
          FUZZ_CHECK(s.request.size() <= p2_max);
          p2_read_size.reset();
        }
        break;
      }
      case 2: {
        if (p2->state() == WriteReadMachine::State::processing) {
          const WriteReadStep s = p2->read(arg % 40);
          FUZZ_CHECK(!s.submit && s.reply);
          FUZZ_CHECK(s.reply->kind == ReplyKind::error && s.reply->err == EAGAIN);
          break;
        }
        const uint64_t size = arg % 40;
        const WriteReadStep s = p2->read(size);
        FUZZ_CHECK(s.submit != s.reply.has_value());
        if (s.submit) p2_read_size = size;
        else check_read_reply(*s.reply, size);
        break;
      }
      case 3: {
        const uint32_t bits = p2->poll();
        FUZZ_CHECK((bits & ~kInOut) == 0);
        break;
      }
      case 4: {
        if (p2->state() != WriteReadMachine::State::processing) break;
        Completion c;
        switch (arg % 4) {
          case 0: case 1: c = Completion::bytes(payload(arg % 50, salt++)); break;
          case 2: c = Completion::error(1 + arg % 40); break;
          default: c.kind = Completion::Kind::count; c.count = arg; break;
        }
        const Reply r = p2->complete(c);
        if (p2_read_size) check_read_reply(r, *p2_read_size);
        else FUZZ_CHECK(r.kind == ReplyKind::empty || r.kind == ReplyKind::error);
        FUZZ_CHECK(p2->state() != WriteReadMachine::State::processing);
        p2_read_size.reset();
        break;
      }
    }
    const auto st = static_cast<int>(p2->state());
    FUZZ_CHECK(st >= 0 && st <= 3);
  }

  void step_p1(uint8_t op, uint8_t arg) {
    switch (op % 5) {
      case 0: {
        // Mostly small reads; from 0xC0 on, large ones (700..44800 bytes).
        const uint64_t size = arg < 0xC0 ? arg % 40 : (arg - 0xBFu) * 700u;
        const ReadToken t = next_token++;
        const auto r = p1->read(size, t);
        if (r.parked) {
          p1_parked.park(t, size);
        } else {
          check_read_reply(r.reply, size);
          p1_delivered(r.reply);
        }
        break;
      }
      case 1: {
        const uint64_t before = p1->queued_bytes();
        // Mostly small chunks; from 0xE0 on, large ones (1..32 KiB).
        const auto data = payload(arg < 0xE0 ? arg % 48 : (arg - 0xDFu) * 1024u, salt++);
        const auto r = p1->push(data);
        if (r.accepted) p1_undelivered += data;
        p1_parked.answered(r.answers);
        p1_delivered(r.answers);
        if (before == 0 || data.empty()) FUZZ_CHECK(r.accepted);  // empty queue / empty push
        // Only a chunk into an empty queue may take it beyond the bound.
        if (before != 0) FUZZ_CHECK(p1->queued_bytes() <= std::max(before, p1_max));
        if (!r.accepted) FUZZ_CHECK(p1->queued_bytes() == before && r.answers.empty());
        break;
      }
      case 2: (void)p1->take_writable_notice(); break;
      case 3: {
        const uint32_t bits = p1->poll();
        FUZZ_CHECK((bits & ~kInOut) == 0 && (bits & kPollOut));
        FUZZ_CHECK(((bits & kPollIn) != 0) == (p1->queued_bytes() != 0));
        break;
      }
      case 4: {
        p1_parked.answered(p1->end());
        p1_undelivered.clear();  // the queue went with the session
        FUZZ_CHECK(p1_parked.tokens.empty() && p1->parked_reads() == 0);
        if (arg & 1) {  // a racing push after the release is discarded
          FUZZ_CHECK(p1->push(payload(3, salt++)).answers.empty());
        }
        p1 = std::make_unique<StreamMachine>(p1_when, p1_nonblocking, p1_max);
        break;
      }
    }
    FUZZ_CHECK(p1->parked_reads() == p1_parked.tokens.size());
  }

  void step_p3(uint8_t op, uint8_t arg) {
    const ListenerId id = arg % 4;
    switch (op % 5) {
      case 0: {
        const bool had = p3_listeners.count(id) != 0;
        const bool was_empty = p3->listeners() == 0;
        const bool first = p3->add(id, (arg & 0x10) != 0, p3_sequence);
        FUZZ_CHECK(first == (!had && was_empty));
        if (!had) p3_listeners[id] = (arg & 0x10) != 0;
        break;
      }
      case 1: {
        const bool had = p3_listeners.count(id) != 0;
        auto r = p3->remove(id);
        FUZZ_CHECK(r.was_listener == had);
        p3_parked.answered(r.answers, id);
        FUZZ_CHECK(p3_parked.count(id) == 0);  // every parked read answered
        p3_listeners.erase(id);
        FUZZ_CHECK(r.last == (had && p3_listeners.empty()));
        break;
      }
      case 2: {
        const auto ev = std::make_shared<const std::string>(payload(arg % 24, salt++));
        ++p3_sequence;
        p3_parked.answered(p3->emit(ev, p3_sequence));
        break;
      }
      case 3: {
        const uint64_t size = (arg >> 2) % 40;
        const ReadToken t = next_token++;
        const auto r = p3->read(id, size, t);
        if (r.parked) {
          FUZZ_CHECK(p3_listeners.count(id) != 0);
          p3_parked.park(t, size, id);
        } else {
          check_read_reply(r.reply, size);
          if (!p3_listeners.count(id)) FUZZ_CHECK(r.reply.kind == ReplyKind::error && r.reply.err == EIO);
        }
        break;
      }
      case 4: {
        const uint32_t bits = p3->poll(id);
        FUZZ_CHECK((bits & ~kPollIn) == 0);
        FUZZ_CHECK(((bits & kPollIn) != 0) == (p3->queued(id) != 0));
        break;
      }
    }
    FUZZ_CHECK(p3->listeners() == p3_listeners.size());
  }

  uint64_t p4_cycle(uint8_t arg) const {
    const uint64_t cur = p4->current_cycle();
    switch (arg % 4) {
      case 0: case 1: return cur;
      case 2: return cur > 0 ? cur - 1 : 0;
      default: return cur + 1;
    }
  }

  void check_p4_step(const P4Step& s) {
    p4_parked.answered(s.answers);
    if (s.submit) FUZZ_CHECK(s.cycle == p4->current_cycle());
  }

  void step_p4(uint8_t op, uint8_t arg) {
    switch (op % 10) {
      case 0: {
        const auto data = payload(arg % 33, salt++);
        const P4Step s = p4->write(data);
        FUZZ_CHECK(s.reply);
        if (s.reply->kind == ReplyKind::write) FUZZ_CHECK(s.reply->count == data.size());
        check_p4_step(s);
        break;
      }
      case 1: {
        const P4Step s = p4->flush();
        FUZZ_CHECK(s.submit != s.reply.has_value());
        check_p4_step(s);
        break;
      }
      case 2: {
        const uint64_t size = arg % 40;
        const ReadToken t = next_token++;
        const P4Step s = p4->read(size, t);
        if (s.reply) check_read_reply(*s.reply, size);
        else p4_parked.park(t, size);
        check_p4_step(s);
        break;
      }
      case 3: {
        const int32_t rc = (arg & 0x80) ? -(1 + (arg >> 2) % 40) : 0;
        check_p4_step(p4->process_started(p4_cycle(arg), rc));
        break;
      }
      case 4: {
        const P4Step s = p4->yield(p4_cycle(arg), payload((arg >> 2) % 20, salt++));
        FUZZ_CHECK(!s.reply);
        check_p4_step(s);
        break;
      }
      case 5: {
        int32_t err = 0;
        if (arg & 0x40) err = 1 + (arg >> 2) % 15;
        if (arg & 0x80) err = -err;
        const P4Step s = p4->end(p4_cycle(arg), err);
        FUZZ_CHECK(!s.reply);
        check_p4_step(s);
        break;
      }
      case 6: {
        uint32_t cmd = (kP4IoctlType << 8) | (arg % 6);
        if (arg & 0x80) cmd |= 0x12340000u;  // bits 31..16 are ignored
        FUZZ_CHECK(is_framework_ioctl(cmd));
        const P4Step s = p4->framework_ioctl(cmd);
        FUZZ_CHECK(s.reply);
        if ((arg % 6) == static_cast<uint8_t>(P4Ioctl::get_state) && s.reply->kind == ReplyKind::ioctl) {
          FUZZ_CHECK(s.reply->result >= 0 && s.reply->result <= 5);
          FUZZ_CHECK(s.reply->result == static_cast<int32_t>(p4->state()));
        }
        check_p4_step(s);
        break;
      }
      case 7:
        if (p4->config_writable()) {
          p4->config_stored();
          FUZZ_CHECK(p4->state() == P4State::configured || p4->state() == P4State::open);
        }
        break;
      case 8: {
        const uint32_t bits = p4->poll();
        FUZZ_CHECK((bits & ~kInOut) == 0);
        break;
      }
      case 9: {
        const bool answer = arg & 1;
        const P4Step s = p4->end_session(answer);
        if (answer) {
          p4_parked.answered(s.answers);
          FUZZ_CHECK(p4_parked.tokens.empty());
        } else {
          FUZZ_CHECK(s.answers.empty());
          p4_parked.tokens.clear();  // a disconnect drops them
        }
        FUZZ_CHECK(p4->parked_reads() == 0 && p4->queued_records() == 0);
        FUZZ_CHECK(p4->state() == P4State::open);
        if (arg & 2) {  // a second end cancels nothing
          const P4Step again = p4->end_session(answer);
          FUZZ_CHECK(!again.cancel && again.answers.empty());
        }
        if (arg & 4) {  // late output of the ended stream is stale
          const P4Step y = p4->yield(p4->current_cycle(), "late");
          FUZZ_CHECK(y.answers.empty() && p4->queued_records() == 0);
        }
        p4 = std::make_unique<ConfiguredStreamMachine>(p4_nonblocking, p4_max);
        break;
      }
    }
    const auto st = static_cast<int>(p4->state());
    FUZZ_CHECK(st >= 0 && st <= 5);
    FUZZ_CHECK(p4->parked_reads() == p4_parked.tokens.size());
    FUZZ_CHECK((p4->queued_records() == 0) == (p4->queued_bytes() == 0));
    (void)p4_state_name(p4->state());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  Driver d;
  const uint8_t c0 = data[0], c1 = data[1], c2 = data[2];
  d.p2_max = 1 + c1 % 64;
  d.p2 = std::make_unique<WriteReadMachine>(d.p2_max);
  d.p1_when = (c0 & 1) ? EmptyRead::block : EmptyRead::eof;
  d.p1_nonblocking = c0 & 2;
  d.p1_max = (c2 & 0x80) ? 64u << 10 : 1 + c2 % 64;  // room for large chunks, or a tight bound
  d.p1 = std::make_unique<StreamMachine>(d.p1_when, d.p1_nonblocking, d.p1_max);
  d.p3 = std::make_unique<EventHub>((c0 & 4) != 0, 1 + (c0 >> 4) % 8);
  d.p4_nonblocking = c0 & 8;
  d.p4_max = 1 + c2 % 72;
  d.p4 = std::make_unique<ConfiguredStreamMachine>(d.p4_nonblocking, d.p4_max);

  for (size_t i = 3; i + 1 < size; i += 2) {
    const uint8_t op = data[i], arg = data[i + 1];
    // 25 ops: 5 P2, 5 P1, 5 P3, 10 P4.
    const uint8_t k = op % 25;
    if (k < 5) d.step_p2(k, arg);
    else if (k < 10) d.step_p1(k - 5, arg);
    else if (k < 15) d.step_p3(k - 10, arg);
    else d.step_p4(k - 15, arg);
  }
  // Ending everything answers or drops every parked read.
  d.p1_parked.answered(d.p1->end());
  FUZZ_CHECK(d.p1_parked.tokens.empty());
  for (const auto& [id, nb] : std::map<ListenerId, bool>(d.p3_listeners)) {
    d.p3_parked.answered(d.p3->remove(id).answers, id);
  }
  FUZZ_CHECK(d.p3_parked.tokens.empty() && d.p3->listeners() == 0);
  d.p4_parked.answered(d.p4->end_session(true).answers);
  FUZZ_CHECK(d.p4_parked.tokens.empty());
  return 0;
}
