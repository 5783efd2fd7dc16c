// libFuzzer target: the whole request path. One in-process Host, started on
// the first input, serves the six example devices (the example plugins,
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
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/manifest.h"
#include "daemon/host.h"
#include "fuzz_check.h"
#include "wire/codec.h"

namespace {

using bentos::wire::OpKind;
using bentos::wire::Request;

// Ids the harness gives its requests; a reply id in this range must be one.
constexpr uint64_t kFirstId = uint64_t{1} << 40;

// Loop threading (behavior.md §2 defaults), and fast timers, so every
// callback runs inside uv_run here and each input is deterministic enough.
constexpr const char* kManifest = R"({"devices": [
  {"name": "hello", "plugin": "hello.so"},
  {"name": "playground", "plugin": "playground.so"},
  {"name": "echo", "plugin": "echo.so", "limits": {"max_buffered_bytes": 4096}},
  {"name": "kv", "plugin": "kv.so", "config": {"strict": false}},
  {"name": "ticker", "plugin": "ticker.so", "config": {"interval_ms": 1}, "limits": {"max_events": 8}},
  {"name": "synth", "plugin": "synth.so", "config": {"delay_ms": 0}}
]})";

struct World {
  uv_loop_t loop;
  std::unique_ptr<bentos::daemon::Host> host;
  std::vector<bentos::config::DeviceSpec> specs;
  std::string socket_dir;
};

World& world() {
  static World* w = [] {
    auto* out = new World();
    FUZZ_CHECK(uv_loop_init(&out->loop) == 0);
    char dir_template[] = "/tmp/bentos-fuzz-host.XXXXXX";  // mkdtemp's template
    FUZZ_CHECK(mkdtemp(dir_template) != nullptr);
    out->socket_dir = dir_template;
    auto parsed = bentos::config::parse_manifest(kManifest, "fuzz-manifest", out->socket_dir);
    FUZZ_CHECK(parsed.ok());
    // The plugins are the ones built beside this target; where the build
    // tree sits is not what this target tests.
    bentos::daemon::Host::Settings settings;
    settings.allow_insecure_plugins = true;
    out->host = std::make_unique<bentos::daemon::Host>(&out->loop, settings);
    for (const auto& spec : parsed.devices) {
      std::string error;
      const std::string plugin = std::string(BENTOS_FUZZ_PLUGIN_DIR) + "/" + spec.plugin;
      if (!out->host->add_device(spec, plugin, /*listen=*/true, error)) {
        std::fprintf(stderr, "fuzz_host: %s\n", error.c_str());
        std::abort();
      }
      out->specs.push_back(spec);
    }
    return out;
  }();
  return *w;
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

// The client end: a non-blocking socket, what it still has to write, and
// the replies it has read.
class Client {
 public:
  explicit Client(const std::string& socket_path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    FUZZ_CHECK(socket_path.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    FUZZ_CHECK(connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~Client() { close_now(); }

  void close_now() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  void queue(const std::string& bytes, bool well_formed) {
    out_ += bytes;
    stray_ = stray_ || !well_formed;
  }
  uint64_t send(Request r) {
    r.id = next_id_++;
    std::string frame;
    bentos::wire::append_request_frame(r, frame);
    queue(frame, true);
    return r.id;
  }

  // Moves bytes both ways without blocking; true if any moved.
  bool exchange() {
    if (fd_ < 0) return false;
    bool moved = false;
    while (!out_.empty()) {
      const ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
      if (n <= 0) break;  // full (the host paused us) or closed by the host
      out_.erase(0, static_cast<size_t>(n));
      moved = true;
    }
    char buf[65536];
    for (;;) {
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      in_.append(buf, static_cast<size_t>(n));
      moved = true;
    }
    check_replies();
    return moved;
  }

 private:
  // Every complete frame must be a reply; ours answered at most once.
  void check_replies() {
    while (in_.size() >= 4) {
      const uint32_t len = (uint32_t{static_cast<uint8_t>(in_[0])} << 24) |
                           (uint32_t{static_cast<uint8_t>(in_[1])} << 16) |
                           (uint32_t{static_cast<uint8_t>(in_[2])} << 8) | uint32_t{static_cast<uint8_t>(in_[3])};
      if (in_.size() < 4 + size_t{len}) return;
      bentos::wire::Reply reply;
      FUZZ_CHECK(bentos::wire::decode_reply(reinterpret_cast<const uint8_t*>(in_.data()) + 4, len, reply));
      if (reply.id >= kFirstId) {
        FUZZ_CHECK(reply.id < next_id_);
        FUZZ_CHECK(answered_.insert(reply.id).second);
      } else {
        // Only a reply to a stray or mangled frame may carry another id.
        FUZZ_CHECK(stray_);
      }
      in_.erase(0, 4 + size_t{len});
    }
  }

  int fd_ = -1;
  std::string out_, in_;
  uint64_t next_id_ = kFirstId;
  std::set<uint64_t> answered_;
  bool stray_ = false;
};

void run_loop_once(World& w) { uv_run(&w.loop, UV_RUN_NOWAIT); }

// Runs the loop and the client until nothing moves for a few turns.
void settle(World& w, Client& c) {
  for (int quiet = 0, turns = 0; quiet < 3 && turns < 1000; ++turns) {
    run_loop_once(w);
    quiet = c.exchange() ? 0 : quiet + 1;
  }
}

Request make(OpKind kind, uint64_t fh) {
  Request r;
  r.kind = kind;
  r.fh = fh;
  return r;
}

void run_op(Input& in, Client& c, World& w) {
  const uint8_t op = in.byte() % 11;
  if (op == 8) {
    c.queue(in.bytes(in.byte()), false);
  } else if (op == 9) {
    c.queue(in.bytes(4) + in.bytes(in.byte() % 16), false);
  } else if (op == 10) {
    settle(w, c);
    return;
  } else {
    const uint64_t fh = 1 + in.byte() % 4;  // few handles, so they collide
    Request r = make(OpKind::open, fh);
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
  run_loop_once(w);
  c.exchange();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  Input in{data, size};
  const size_t device_index = in.byte() % w.specs.size();
  bentos::session::Device* device = w.host->devices()[device_index];
  std::string path = device->endpoint_uri();
  if (path.rfind("unix://", 0) == 0) path = path.substr(7);
  {
    Client client(path);
    while (!in.done()) run_op(in, client, w);
    settle(w, client);
    client.close_now();
  }
  // The host notices the close on its next read; sessions then end.
  for (int turns = 0; turns < 1000 && (device->connection_count() > 0 || device->session_count() > 0); ++turns)
    run_loop_once(w);
  FUZZ_CHECK(device->connection_count() == 0);
  FUZZ_CHECK(device->session_count() == 0);
  return 0;
}
