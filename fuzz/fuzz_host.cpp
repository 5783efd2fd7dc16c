// libFuzzer target: the whole request path. One in-process Host
// (tests/support/in_process_host.h, which also checks the replies), started
// on the first input, serves the six example devices (the example plugins,
// dlopen'ed from the build tree) on Unix sockets in a temporary directory.
// Each input opens a client connection to one device, writes the op
// sequence the input encodes (valid frames, with stray bytes mixed in), runs
// the loop between ops so frames arrive split and interleaved with replies,
// then closes the connection. docs/fuzzing.md says how to run it.
//
// Input layout: byte 0 picks the device; then each op is an op byte and
// its arguments:
//   op % 11: 0 open (fh, flags), 1 read (fh, size), 2 write (fh, len, data),
//   3 flush (fh), 4 release (fh), 5 fsync (fh), 6 ioctl (fh, cmd, len,
//   data), 7 poll (fh, events), 8 stray bytes (len, bytes), 9 a frame with
//   a hostile length prefix (4 bytes), 10 run the loop a while.
//
// Checked:
//   - every frame the host sends back decodes as a reply;
//   - a reply with one of our ids answers a request we sent, at most once;
//   - once the connection is closed, the device ends up with no connection
//     and no session (disconnect cleanup, behavior.md §1.5);
//   - ASan/UBSan/LSan find nothing (the Host is never destroyed, and every
//     plugin instance it owns stays reachable).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "fuzz_check.h"
#include "in_process_host.h"

namespace {

using bentos::test::InProcessHost;
using bentos::test::LoopClient;
using bentos::wire::OpKind;
using bentos::wire::Request;

// Loop threading (behavior.md §2 defaults), and fast timers, so every
// callback runs inside uv_run here and each input is deterministic enough.
constexpr const char* kDevices = R"([
  {"name": "hello", "plugin": "hello.so"},
  {"name": "playground", "plugin": "playground.so"},
  {"name": "echo", "plugin": "echo.so", "limits": {"max_buffered_bytes": 4096}},
  {"name": "kv", "plugin": "kv.so", "config": {"strict": false}},
  {"name": "ticker", "plugin": "ticker.so", "config": {"interval_ms": 1}, "limits": {"max_events": 8}},
  {"name": "synth", "plugin": "synth.so", "config": {"delay_ms": 0}}
])";

// The one Host every input talks to (tests/support/in_process_host.h),
// never destroyed. The plugins are the ones built beside this target.
InProcessHost& world() {
  static InProcessHost* host = [] {
    try {
      return new InProcessHost(kDevices, {BENTOS_FUZZ_PLUGIN_DIR});
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fuzz_host: %s\n", e.what());
      std::abort();
    }
  }();
  return *host;
}

// Reads the input front to back; past the end every byte is 0.
struct Input {
  const uint8_t* data;
  size_t size;
  size_t at = 0;
  bool done() const { return at >= size; }
  uint8_t byte() { return at < size ? data[at++] : 0; }
  std::string bytes(size_t n) {
    n = std::min(n, size - std::min(at, size));
    std::string s(reinterpret_cast<const char*>(data + at), n);
    at += n;
    return s;
  }
};

void run_op(Input& in, LoopClient& c, InProcessHost& w) {
  const uint8_t op = in.byte() % 11;
  if (op == 8) {
    c.send_raw(in.bytes(in.byte()));
  } else if (op == 9) {
    c.send_raw(in.bytes(4) + in.bytes(in.byte() % 16));
  } else if (op == 10) {
    c.settle();
    return;
  } else {
    const uint64_t fh = 1 + in.byte() % 4;  // few handles, so they collide
    Request r = bentos::test::make_request(OpKind::open, fh);
    switch (op) {
      case 0:
        r.flags = (in.byte() & 1 ? 0x800 /* O_NONBLOCK */ : 0) | 2 /* O_RDWR */;
        break;
      case 1:
        r.kind = OpKind::read;
        r.size = uint64_t{in.byte()} * 17;
        break;
      case 2:
        r.kind = OpKind::write;
        r.data = in.bytes(in.byte());
        break;
      case 3: r.kind = OpKind::flush; break;
      case 4: r.kind = OpKind::release; break;
      case 5: r.kind = OpKind::fsync; break;
      case 6:
        r.kind = OpKind::ioctl;
        r.cmd = in.byte();
        r.cmd |= static_cast<uint32_t>(in.byte() % 4) << 30;  // _IOC direction bits
        r.out_bufsz = in.byte();
        r.data = in.bytes(in.byte() % 16);
        break;
      default:
        r.kind = OpKind::poll;
        r.events = in.byte();
        break;
    }
    c.send(std::move(r));
  }
  w.turn();
  c.exchange();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  InProcessHost& w = world();
  Input in{data, size};
  const auto devices = w.host().devices();
  bentos::device::Device* device = devices[in.byte() % devices.size()];
  {
    LoopClient client(w, device->name());
    while (!in.done()) run_op(in, client, w);
    client.settle();
    for (const auto& v : client.violations()) std::fprintf(stderr, "fuzz_host: %s\n", v.c_str());
    FUZZ_CHECK(client.violations().empty());
    client.close();
  }
  // The host notices the close on its next read; sessions then end.
  for (int turns = 0; turns < 1000 && (device->connection_count() > 0 || device->session_count() > 0); ++turns)
    w.turn();
  FUZZ_CHECK(device->connection_count() == 0);
  FUZZ_CHECK(device->session_count() == 0);
  return 0;
}
