#include "soak_client.h"

#include <thread>

namespace bentos::soak {

namespace {

constexpr int32_t kRdwr = 2;
constexpr int32_t kNonblock = 0x800;
constexpr size_t kFailuresKept = 20;
// kv keys stay within a small set, so its store (and the host's memory)
// reaches a steady size during the warm-up.
constexpr uint64_t kKeys = 64;

std::string outcome_name(const wire::Reply& r) {
  switch (r.kind) {
    case wire::ReplyKind::error: return client::errno_name(r.err);
    case wire::ReplyKind::empty: return "ok";
    case wire::ReplyKind::open: return "opened";
    case wire::ReplyKind::buf: return r.data.empty() ? "eof" : "data";
    case wire::ReplyKind::write: return "written";
    case wire::ReplyKind::ioctl: return "ioctl";
    case wire::ReplyKind::poll: return "polled";
  }
  return "?";
}

}  // namespace

void Tally::merge(const Tally& o) {
  connections += o.connections;
  disconnects_midway += o.disconnects_midway;
  requests += o.requests;
  answered += o.answered;
  unawaited += o.unawaited;
  for (const auto& [k, v] : o.outcomes) outcomes[k] += v;
  for (const auto& f : o.failures)
    if (failures.size() < kFailuresKept) failures.push_back(f);
  failure_count += o.failure_count;
}

void Tally::fail(std::string what) {
  ++failure_count;
  if (failures.size() < kFailuresKept) failures.push_back(std::move(what));
}

uint64_t SoakClient::pick(uint64_t low, uint64_t high) {
  return std::uniform_int_distribution<uint64_t>(low, high)(rng_);
}

void SoakClient::run(std::chrono::steady_clock::time_point deadline) {
  while (std::chrono::steady_clock::now() < deadline) one_connection(targets_[pick(0, targets_.size() - 1)]);
}

bool SoakClient::ask(client::Connection& c, wire::Request req, const std::string& what) {
  ++tally_.requests;
  const uint64_t id = c.send(std::move(req));
  auto reply = c.wait(id, answer_timeout_ms_);
  if (!reply) {
    tally_.fail(what + ": no answer within " + std::to_string(answer_timeout_ms_) + " ms" +
                (c.closed() ? " (the host closed the connection)" : ""));
    return false;
  }
  ++tally_.answered;
  ++tally_.outcomes[outcome_name(*reply)];
  return true;
}

std::string SoakClient::payload(const Target& t) {
  if (t.device == "kv") {
    // Always key=value: writes before a read accumulate into one request,
    // so a lookup "k1" written before "k2=v" would store the key "k1k2",
    // and such keys would grow the store without bound. With every write
    // a store, the key is always the first write's (the rest is value).
    return "k" + std::to_string(pick(0, kKeys - 1)) + "=v" + std::to_string(pick(0, 1u << 20));
  }
  std::string bytes(pick(1, 512), '\0');
  for (char& b : bytes) b = static_cast<char>('a' + pick(0, 25));
  return bytes;
}

// One random op on `fh`. Reads on a blocking fh may park (ticker, synth),
// so they are sent without waiting (`await` false) and left to the
// disconnect; everything else is awaited.
wire::Request SoakClient::random_op(const Target& t, uint64_t fh, bool nonblocking, bool& await) {
  await = true;
  switch (pick(0, 9)) {
    case 0:
    case 1:
    case 2: return client::make_write(fh, payload(t));
    case 3:
    case 4:
    case 5:
      await = nonblocking;
      return client::make_read(fh, pick(1, 8192));
    case 6: return client::make_flush(fh);
    case 7: return client::make_poll(fh, 1);
    case 8: {
      if (t.device == "synth") {
        static const uint32_t kCmds[] = {0xBE00, 0xBE01, 0xBE02, 0xBE03, 0xBE04, 0x80};
        if (pick(0, 3) == 0) return client::make_ioctl(fh, 0x40040001, std::string("\x01\0\0\0", 4), 0);
        return client::make_ioctl(fh, kCmds[pick(0, 5)], {}, 256);
      }
      return client::make_ioctl(fh, 0x5401, {}, 0);
    }
    default: return client::make_fsync(fh, pick(0, 1) == 1);
  }
}

void SoakClient::one_connection(const Target& t) {
  std::string error;
  auto c = client::Connection::connect(t.socket, error, 2000);
  if (!c) {
    tally_.fail(t.device + ": " + error);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return;
  }
  ++tally_.connections;
  std::map<uint64_t, bool> open;  // fh -> opened non-blocking
  uint64_t next_fh = 1;
  const uint64_t ops = pick(1, 60);
  for (uint64_t i = 0; i < ops; ++i) {
    if (open.empty() || pick(0, 9) == 0) {
      const uint64_t fh = next_fh++;
      const bool nonblocking = pick(0, 2) != 0;
      if (!ask(*c, client::make_open(fh, kRdwr | (nonblocking ? kNonblock : 0)), t.device + " open")) return;
      open[fh] = nonblocking;  // a refused open leaves an unknown fh: fine
      continue;
    }
    auto it = open.begin();
    std::advance(it, static_cast<long>(pick(0, open.size() - 1)));
    if (pick(0, 14) == 0) {
      if (!ask(*c, client::make_release(it->first), t.device + " release")) return;
      open.erase(it);
      continue;
    }
    bool await = true;
    wire::Request req = random_op(t, it->first, it->second, await);
    const std::string what = t.device + " " + wire::op_name(req.kind);
    if (await) {
      if (!ask(*c, std::move(req), what)) return;
    } else {
      ++tally_.requests;
      ++tally_.unawaited;
      c->send(std::move(req));
    }
  }
  if (pick(0, 1) == 0) {
    ++tally_.disconnects_midway;  // sessions (and parked reads) end with the connection
    return;
  }
  for (const auto& [fh, nonblocking] : open) {
    if (!ask(*c, client::make_release(fh), t.device + " release")) return;
  }
}

}  // namespace bentos::soak
