// playground: a raw-layer (L1) driver through the C++ authoring layer, for
// watching what the kernel side sends.
//
// Every op is logged (info level, through the host's log) with its fields;
// open flags are spelled with their Linux names (O_RDWR|O_NONBLOCK).
// Behaviour per open file:
//   write    replaces the file's buffer; count = bytes written
//   read     the first read after a write returns the buffer (its first
//            `size` bytes); later reads, and reads before any write, EOF
//   ioctl    ENOTTY
//   poll     0 (no event)
//   open, flush, fsync, release: success

#include <bentos/driver.hpp>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

// open(2) flags as Linux spells them (the generic/x86 values bentosd
// forwards), e.g. "O_WRONLY|O_CREAT|O_TRUNC"; unknown bits in hex.
std::string open_flag_names(int32_t flags) {
  static constexpr struct {
    uint32_t bits;
    const char* name;
  } names[] = {
      {0x101000, "O_SYNC"},     {0x410000, "O_TMPFILE"}, {0x40, "O_CREAT"},      {0x80, "O_EXCL"},
      {0x100, "O_NOCTTY"},      {0x200, "O_TRUNC"},      {0x400, "O_APPEND"},    {0x800, "O_NONBLOCK"},
      {0x1000, "O_DSYNC"},      {0x2000, "O_ASYNC"},     {0x4000, "O_DIRECT"},   {0x8000, "O_LARGEFILE"},
      {0x10000, "O_DIRECTORY"}, {0x20000, "O_NOFOLLOW"}, {0x40000, "O_NOATIME"}, {0x80000, "O_CLOEXEC"},
      {0x200000, "O_PATH"},
  };
  static constexpr const char* access[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
  auto rest = static_cast<uint32_t>(flags);
  std::string out = access[rest & 3];
  rest &= ~3u;
  for (const auto& n : names) {
    if ((rest & n.bits) == n.bits) {
      out += '|';
      out += n.name;
      rest &= ~n.bits;
    }
  }
  if (rest != 0) out += "|" + hex(rest);
  return out;
}

// The first bytes of a write, printable ASCII kept and the rest escaped.
std::string preview(std::string_view data) {
  constexpr size_t limit = 32;
  std::string out = "\"";
  for (unsigned char c : data.substr(0, limit)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  out += data.size() > limit ? "\"..." : "\"";
  return out;
}

// One open file: who it is and its buffer. Owned by the host's session
// (the adapter creates it at open and frees it after release); touched
// only by this file's ops, on the loop thread.
struct File {
  explicit File(const bentos::session_info& info) : fh(info.fh), connection(info.connection_id) {}
  uint64_t fh;
  uint64_t connection;
  std::string buffer;
  bool unread = false;  // a write came since the last read
};

// One device instance. Owned by the host through the adapter, from create
// to destroy; stateless apart from the host handle, so any thread may use
// it (the host runs it on the loop).
class Playground {
 public:
  using session_type = File;

  Playground(const bentos::device_config&, bentos::host_handle host) : host_(host) {}

  void on_open(File& f, const bentos::session_info& info) {
    log(f, "open", "flags=" + open_flag_names(info.open_flags) + " (" + hex(static_cast<uint32_t>(info.open_flags)) + ")");
  }

  std::string on_read(File& f, const bentos::read_request& r) {
    log(f, "read", "size=" + std::to_string(r.size) + " offset=" + std::to_string(r.offset) +
                       (f.unread ? " -> buffer" : " -> EOF"));
    if (!f.unread) return {};
    f.unread = false;
    return f.buffer;  // the layer sends at most r.size bytes
  }

  uint64_t on_write(File& f, const bentos::write_request& w) {
    log(f, "write", "len=" + std::to_string(w.data.size()) + " offset=" + std::to_string(w.offset) + " data=" +
                        preview(w.data));
    f.buffer.assign(w.data);
    f.unread = true;
    return w.data.size();
  }

  bentos::ioctl_reply on_ioctl(File& f, const bentos::ioctl_request& r) {
    log(f, "ioctl", "cmd=" + hex(r.cmd) + " (dir=" + std::to_string(r.cmd >> 30) + " size=" +
                        std::to_string((r.cmd >> 16) & 0x3FFF) + " type=" + hex((r.cmd >> 8) & 0xFF) + " nr=" +
                        hex(r.cmd & 0xFF) + ") flags=" + hex(r.flags) + " in_len=" + std::to_string(r.in.size()) +
                        " out_size=" + std::to_string(r.out_size) + " -> ENOTTY");
    throw bentos::error::not_a_tty("playground has no ioctls");
  }

  uint32_t on_poll(File& f, uint32_t events) {
    log(f, "poll", "events=" + hex(events) + " -> 0");
    return 0;
  }

  void on_flush(File& f) { log(f, "flush", ""); }
  void on_fsync(File& f, bool datasync) { log(f, "fsync", datasync ? "datasync=1" : "datasync=0"); }
  void on_release(File& f, int32_t flags) { log(f, "release", "flags=" + open_flag_names(flags)); }

 private:
  void log(const File& f, std::string_view op, const std::string& fields) const {
    std::string line(op);
    line += " fh=" + std::to_string(f.fh) + " conn=" + std::to_string(f.connection);
    if (!fields.empty()) line += " " + fields;
    host_.log(bentos::log_level::info, line);
  }

  bentos::host_handle host_;
};

}  // namespace

BENTOS_RAW_DRIVER(Playground, "playground", "1.0.0", "raw-layer example: logs every op; write, then read it back once");
