// The client side: per target, `connections` threads, each with its own
// connection, keeping up to `depth` requests in flight.
//
// A thread's requests come in cycles (kv: write, read; echo: write, read;
// hello: open, read, release). The requests of one cycle are pipelined on
// one session, but a session starts its next cycle only once the previous
// one is fully answered: P2 answers EBUSY to a write while the previous
// request is still being processed. So a thread runs ceil(depth / cycle
// length) sessions ("lanes", fh 1, 2, ...; hello opens a fresh fh per
// cycle) and the total in flight never exceeds `depth`.
//
// Each thread owns its Connection, its lanes and its latency samples; the
// main thread reads them only after join(). Replies are matched by id.
#include <algorithm>
#include <chrono>
#include <latch>
#include <memory>
#include <unordered_map>
#include <vector>

#include "bench.h"
#include "client.h"

namespace bentos::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kReplyTimeoutMs = 5000;
constexpr int kConnectTimeoutMs = 3000;
constexpr uint64_t kKeySpace = 4096;   // kv keys wrap, so the store stays bounded
const char kHello[] = "Hello from BentOS!\n";

// What a reply must look like to count as a success.
struct Expect {
  wire::ReplyKind kind = wire::ReplyKind::empty;
  uint64_t count = 0;     // write: bytes taken; read: bytes returned (echo)
  const char* text = nullptr;  // read: exact contents (kv, hello, baseline)
};

struct Pending {
  Clock::time_point sent;
  Expect expect;
  size_t lane = 0;
};

// One session of a thread: its fh and where it is in its current cycle.
struct Lane {
  uint64_t fh = 0;
  uint64_t cycle = 0;
  int sent = 0;         // requests of the current cycle sent so far
  int outstanding = 0;  // requests sent and not answered yet
};

int cycle_len(Workload w) { return w == Workload::hello ? 3 : 2; }
// kv, echo and baseline keep one session per lane; hello opens one per cycle.
bool lanes_keep_sessions(Workload w) { return w != Workload::hello; }

// Request number `pos` of `lane`'s current cycle.
wire::Request make_request(Workload w, const Lane& lane, int pos, int thread,
                           const std::string& payload, Expect& expect) {
  switch (w) {
    case Workload::echo:
      if (pos == 0) {
        expect = {wire::ReplyKind::write, payload.size(), nullptr};
        return client::make_write(lane.fh, payload);
      }
      expect = {wire::ReplyKind::buf, payload.size(), nullptr};
      return client::make_read(lane.fh, payload.size());
    case Workload::hello:
      if (pos == 0) {
        expect = {wire::ReplyKind::open, 0, nullptr};
        return client::make_open(lane.fh, 0);
      }
      if (pos == 1) {
        expect = {wire::ReplyKind::buf, 0, kHello};
        return client::make_read(lane.fh, 4096);
      }
      expect = {wire::ReplyKind::empty, 0, nullptr};
      return client::make_release(lane.fh);
    case Workload::kv:
    case Workload::baseline:
      if (pos == 0) {
        std::string text = "k" + std::to_string(thread) + "_" + std::to_string(lane.fh) + "_" +
                           std::to_string(lane.cycle % kKeySpace) + "=v";
        expect = {wire::ReplyKind::write, text.size(), nullptr};
        return client::make_write(lane.fh, std::move(text));
      }
      expect = {wire::ReplyKind::buf, 0, "OK\n"};
      return client::make_read(lane.fh, 65536);
  }
  return {};
}

// Empty when the reply is what `expect` asks for, else what is wrong.
std::string check(const wire::Reply& r, const Expect& e) {
  if (r.kind == wire::ReplyKind::error) return "answered " + client::describe(r);
  if (r.kind != e.kind) return "unexpected reply: " + client::describe(r);
  if (e.kind == wire::ReplyKind::write && r.count != e.count) return "short write: " + client::describe(r);
  if (e.kind == wire::ReplyKind::buf) {
    if (e.text != nullptr && r.data != e.text) return "unexpected data: " + client::describe(r);
    if (e.text == nullptr && r.data.size() != e.count) {
      return "read " + std::to_string(r.data.size()) + " bytes, expected " + std::to_string(e.count);
    }
  }
  return {};
}

struct ThreadResult {
  uint64_t ops = 0, errors = 0, bytes = 0;
  std::vector<int64_t> lat_ns;
  std::string first_error;

  void fail(std::string why, uint64_t n = 1) {
    errors += n;
    if (first_error.empty()) first_error = std::move(why);
  }
};

struct Shared {
  std::latch ready;
  std::latch go{1};
  Clock::time_point deadline;  // written before go opens
  explicit Shared(int n) : ready(n) {}
};

void client_thread(const Target& target, const Options& opt, int index, Shared& shared,
                   ThreadResult& out) {
  const Workload w = target.workload;
  const int len = cycle_len(w);
  const size_t depth = static_cast<size_t>(opt.depth);
  std::vector<Lane> lanes(static_cast<size_t>((opt.depth + len - 1) / len));
  std::string payload(w == Workload::echo ? opt.size : 0, 'x');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);

  std::string error;
  std::unique_ptr<client::Connection> conn =
      client::Connection::connect(target.endpoint, error, kConnectTimeoutMs);
  uint64_t next_fh = 1;
  for (Lane& lane : lanes) {
    if (!conn || !lanes_keep_sessions(w)) break;
    lane.fh = next_fh++;
    auto opened = conn->open(lane.fh, 2 /* O_RDWR */, kReplyTimeoutMs);
    if (!opened || opened->kind != wire::ReplyKind::open) {
      error = "open: " + (opened ? client::describe(*opened) : conn->last_error());
      conn.reset();
    }
  }
  shared.ready.count_down();
  shared.go.wait();
  if (!conn) {
    out.fail("connect " + target.endpoint + ": " + error);
    return;
  }
  out.lat_ns.reserve(1 << 16);
  std::unordered_map<uint64_t, Pending> inflight;
  bool stopping = false;
  for (;;) {
    // Fill the window: finish started cycles, start new ones until the deadline.
    for (bool sent_any = true; sent_any && inflight.size() < depth;) {
      sent_any = false;
      for (size_t i = 0; i < lanes.size() && inflight.size() < depth; ++i) {
        Lane& lane = lanes[i];
        if (lane.sent == 0) {
          if (lane.outstanding > 0 || stopping) continue;
          if (Clock::now() >= shared.deadline) {
            stopping = true;
            continue;
          }
          if (!lanes_keep_sessions(w)) lane.fh = next_fh++;
        }
        Pending p;
        p.lane = i;
        wire::Request req = make_request(w, lane, lane.sent, index, payload, p.expect);
        p.sent = Clock::now();
        inflight.emplace(conn->send(std::move(req)), p);
        ++lane.outstanding;
        if (++lane.sent == len) {
          lane.sent = 0;
          ++lane.cycle;
        }
        sent_any = true;
      }
    }
    if (inflight.empty()) break;
    std::optional<wire::Reply> reply = conn->next_reply(kReplyTimeoutMs);
    const Clock::time_point now = Clock::now();
    if (!reply) {
      out.fail("no reply: " + conn->last_error(), inflight.size());
      break;
    }
    auto it = inflight.find(reply->id);
    if (it == inflight.end()) {
      out.fail("reply with unknown id " + std::to_string(reply->id));
      continue;
    }
    out.lat_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(now - it->second.sent).count());
    std::string why = check(*reply, it->second.expect);
    if (why.empty()) {
      ++out.ops;
      out.bytes += reply->kind == wire::ReplyKind::write ? reply->count : reply->data.size();
    } else {
      out.fail(std::move(why));
    }
    --lanes[it->second.lane].outstanding;
    inflight.erase(it);
  }
  if (!lanes_keep_sessions(w) || conn->closed()) return;
  for (const Lane& lane : lanes) conn->release(lane.fh, kReplyTimeoutMs);
}

double percentile_us(const std::vector<int64_t>& sorted, double q) {
  const size_t idx = std::min(sorted.size() - 1, static_cast<size_t>(q * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[idx]) / 1000.0;
}

}  // namespace

const char* workload_name(Workload w) {
  switch (w) {
    case Workload::kv: return "kv";
    case Workload::echo: return "echo";
    case Workload::hello: return "hello";
    case Workload::baseline: return "baseline";
  }
  return "?";
}

Result run_target(const Target& target, const Options& opt) {
  const int n = opt.connections;
  Shared shared(n);
  std::vector<ThreadResult> results(static_cast<size_t>(n));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    threads.emplace_back(client_thread, std::cref(target), std::cref(opt), i, std::ref(shared),
                         std::ref(results[static_cast<size_t>(i)]));
  }
  shared.ready.wait();  // every thread connected and opened its session
  const Clock::time_point start = Clock::now();
  shared.deadline = start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(opt.seconds));
  shared.go.count_down();
  for (std::thread& t : threads) t.join();
  const Clock::time_point end = Clock::now();

  Result r;
  r.elapsed_s = std::chrono::duration<double>(end - start).count();
  std::vector<int64_t> all;
  for (ThreadResult& t : results) {
    r.ops += t.ops;
    r.errors += t.errors;
    r.bytes += t.bytes;
    if (r.first_error.empty()) r.first_error = t.first_error;
    all.insert(all.end(), t.lat_ns.begin(), t.lat_ns.end());
  }
  if (!all.empty()) {
    std::sort(all.begin(), all.end());
    r.p50_us = percentile_us(all, 0.50);
    r.p90_us = percentile_us(all, 0.90);
    r.p99_us = percentile_us(all, 0.99);
    r.max_us = static_cast<double>(all.back()) / 1000.0;
  }
  return r;
}

}  // namespace bentos::bench
