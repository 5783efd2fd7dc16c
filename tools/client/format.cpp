// Text helpers of the client library: errno and poll-bit names, one-line
// reply descriptions, and parsers for the flag/number syntax bentosctl and
// tests accept. Pure functions; no thread affinity.
#include <fcntl.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <iterator>
#include <string>
#include <vector>

#include "client.h"

namespace bentos::client {

namespace {

struct Named {
  uint32_t value;
  const char* name;
};

// Linux errno values. Aliases (EWOULDBLOCK, EDEADLOCK, ENOTSUP) are left out:
// they share a number with the name listed, and the first match wins anyway.
#define BENTOS_ERRNO(e) Named{static_cast<uint32_t>(e), #e}
constexpr Named kErrnos[] = {
    BENTOS_ERRNO(EPERM),        BENTOS_ERRNO(ENOENT),       BENTOS_ERRNO(ESRCH),
    BENTOS_ERRNO(EINTR),        BENTOS_ERRNO(EIO),          BENTOS_ERRNO(ENXIO),
    BENTOS_ERRNO(E2BIG),        BENTOS_ERRNO(ENOEXEC),      BENTOS_ERRNO(EBADF),
    BENTOS_ERRNO(ECHILD),       BENTOS_ERRNO(EAGAIN),       BENTOS_ERRNO(ENOMEM),
    BENTOS_ERRNO(EACCES),       BENTOS_ERRNO(EFAULT),       BENTOS_ERRNO(EBUSY),
    BENTOS_ERRNO(EEXIST),       BENTOS_ERRNO(EXDEV),        BENTOS_ERRNO(ENODEV),
    BENTOS_ERRNO(ENOTDIR),      BENTOS_ERRNO(EISDIR),       BENTOS_ERRNO(EINVAL),
    BENTOS_ERRNO(ENFILE),       BENTOS_ERRNO(EMFILE),       BENTOS_ERRNO(ENOTTY),
    BENTOS_ERRNO(ETXTBSY),      BENTOS_ERRNO(EFBIG),        BENTOS_ERRNO(ENOSPC),
    BENTOS_ERRNO(ESPIPE),       BENTOS_ERRNO(EROFS),        BENTOS_ERRNO(EMLINK),
    BENTOS_ERRNO(EPIPE),        BENTOS_ERRNO(EDOM),         BENTOS_ERRNO(ERANGE),
    BENTOS_ERRNO(EDEADLK),      BENTOS_ERRNO(ENAMETOOLONG), BENTOS_ERRNO(ENOLCK),
    BENTOS_ERRNO(ENOSYS),       BENTOS_ERRNO(ENOTEMPTY),    BENTOS_ERRNO(ELOOP),
    BENTOS_ERRNO(ENOMSG),       BENTOS_ERRNO(ENODATA),      BENTOS_ERRNO(ETIME),
    BENTOS_ERRNO(EPROTO),       BENTOS_ERRNO(EBADMSG),      BENTOS_ERRNO(EOVERFLOW),
    BENTOS_ERRNO(EILSEQ),       BENTOS_ERRNO(ENOTSOCK),     BENTOS_ERRNO(EMSGSIZE),
    BENTOS_ERRNO(EPROTONOSUPPORT), BENTOS_ERRNO(EOPNOTSUPP), BENTOS_ERRNO(EADDRINUSE),
    BENTOS_ERRNO(EADDRNOTAVAIL), BENTOS_ERRNO(ENETDOWN),    BENTOS_ERRNO(ENETUNREACH),
    BENTOS_ERRNO(ECONNABORTED), BENTOS_ERRNO(ECONNRESET),   BENTOS_ERRNO(ENOBUFS),
    BENTOS_ERRNO(EISCONN),      BENTOS_ERRNO(ENOTCONN),     BENTOS_ERRNO(ESHUTDOWN),
    BENTOS_ERRNO(ETIMEDOUT),    BENTOS_ERRNO(ECONNREFUSED), BENTOS_ERRNO(EHOSTUNREACH),
    BENTOS_ERRNO(EALREADY),     BENTOS_ERRNO(EINPROGRESS),  BENTOS_ERRNO(ESTALE),
    BENTOS_ERRNO(EDQUOT),       BENTOS_ERRNO(ECANCELED),    BENTOS_ERRNO(EOWNERDEAD),
    BENTOS_ERRNO(ENOTRECOVERABLE),
};
#undef BENTOS_ERRNO

// Poll bits as they travel on the wire (Linux values, wire.md).
constexpr Named kPollBits[] = {
    {0x001, "POLLIN"},     {0x002, "POLLPRI"},    {0x004, "POLLOUT"},    {0x008, "POLLERR"},
    {0x010, "POLLHUP"},    {0x020, "POLLNVAL"},   {0x040, "POLLRDNORM"}, {0x080, "POLLRDBAND"},
    {0x100, "POLLWRNORM"}, {0x200, "POLLWRBAND"}, {0x400, "POLLMSG"},    {0x2000, "POLLRDHUP"},
};

// Open flags by their short names; access modes are handled separately
// because they are a two-bit field, not independent bits.
constexpr Named kOpenFlags[] = {
    {O_NONBLOCK, "nonblock"}, {O_NONBLOCK, "ndelay"},       {O_APPEND, "append"},
    {O_CREAT, "creat"},       {O_CREAT, "create"},          {O_TRUNC, "trunc"},
    {O_EXCL, "excl"},         {O_CLOEXEC, "cloexec"},       {O_SYNC, "sync"},
    {O_DSYNC, "dsync"},       {O_NOCTTY, "noctty"},         {O_NOFOLLOW, "nofollow"},
    {O_DIRECTORY, "directory"}, {O_ASYNC, "async"},         {O_NOATIME, "noatime"},
    {O_DIRECT, "direct"},     {O_PATH, "path"},
};

constexpr Named kAccessModes[] = {
    {O_RDONLY, "ro"}, {O_RDONLY, "rdonly"}, {O_WRONLY, "wo"},
    {O_WRONLY, "wronly"}, {O_RDWR, "rw"}, {O_RDWR, "rdwr"},
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Splits on ',' and '|', trimming blanks; empty pieces are kept so the
// caller can reject "rw,,append".
std::vector<std::string> split_flags(const std::string& text) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : text) {
    if (c == ',' || c == '|') {
      parts.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(trim(cur));
  return parts;
}

const Named* find_name(const Named* begin, const Named* end, const std::string& name) {
  for (const Named* n = begin; n != end; ++n) {
    if (name == n->name) return n;
  }
  return nullptr;
}

std::string hex_number(uint64_t v) {
  char buf[20];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  (void)ec;  // 16 hex digits always fit
  return "0x" + std::string(buf, p);
}

}  // namespace

std::string errno_name(int err) {
  for (const Named& e : kErrnos) {
    if (err >= 0 && static_cast<uint32_t>(err) == e.value) return e.name;
  }
  return "E" + std::to_string(err);
}

std::string poll_events_name(uint32_t events) {
  if (events == 0) return "0";
  std::string out;
  uint32_t rest = events;
  for (const Named& bit : kPollBits) {
    if ((events & bit.value) == 0) continue;
    if (!out.empty()) out += '|';
    out += bit.name;
    rest &= ~bit.value;
  }
  if (rest != 0) {
    if (!out.empty()) out += '|';
    out += hex_number(rest);
  }
  return out;
}

std::string c_escape(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string c_quote(const std::string& bytes, size_t max_bytes) {
  if (bytes.size() <= max_bytes) return '"' + c_escape(bytes) + '"';
  return '"' + c_escape(bytes.substr(0, max_bytes)) + "\"...";
}

std::string to_hex(const std::string& bytes, size_t max_bytes) {
  static const char kHex[] = "0123456789abcdef";
  const size_t n = bytes.size() < max_bytes ? bytes.size() : max_bytes;
  std::string out;
  out.reserve(2 * n + 3);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  if (n < bytes.size()) out += "...";
  return out;
}

bool from_hex(const std::string& text, std::string& out, std::string& error) {
  std::string digits;
  size_t start = 0;
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) start = 2;
  for (size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == ':' || c == '-' || c == '_') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      error = "'" + text + "' is not hex: unexpected '" + std::string(1, c) + "'";
      return false;
    }
    digits += c;
  }
  if (digits.size() % 2 != 0) {
    error = "'" + text + "' has an odd number of hex digits";
    return false;
  }
  out.clear();
  for (size_t i = 0; i < digits.size(); i += 2) {
    unsigned v = 0;
    std::from_chars(digits.data() + i, digits.data() + i + 2, v, 16);
    out += static_cast<char>(v);
  }
  return true;
}

bool parse_number(const std::string& text, uint64_t& value) {
  const char* b = text.data();
  const char* e = b + text.size();
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    b += 2;
    base = 16;
  }
  if (b == e) return false;
  auto [p, ec] = std::from_chars(b, e, value, base);
  return ec == std::errc{} && p == e;
}

bool parse_open_flags(const std::string& text, int32_t& flags, std::string& error) {
  uint32_t result = 0;
  const char* access = nullptr;  // the access-mode name seen, if any
  for (const std::string& part : split_flags(text)) {
    if (part.empty()) {
      error = "open flags '" + text + "': empty flag name";
      return false;
    }
    uint64_t number = 0;
    if (parse_number(part, number)) {
      if (number > UINT32_MAX) {
        error = "open flags '" + text + "': " + part + " does not fit in 32 bits";
        return false;
      }
      result |= static_cast<uint32_t>(number);
      continue;
    }
    std::string name = lower(part);
    if (name.rfind("o_", 0) == 0) name = name.substr(2);
    if (const Named* mode = find_name(std::begin(kAccessModes), std::end(kAccessModes), name)) {
      if (access != nullptr && (result & O_ACCMODE) != mode->value) {
        error = "open flags '" + text + "': conflicting access modes " + access + " and " + part;
        return false;
      }
      access = mode->name;
      result = (result & ~static_cast<uint32_t>(O_ACCMODE)) | mode->value;
      continue;
    }
    if (const Named* flag = find_name(std::begin(kOpenFlags), std::end(kOpenFlags), name)) {
      result |= flag->value;
      continue;
    }
    error = "open flags '" + text + "': unknown flag '" + part +
            "' (expected ro, wo, rw, nonblock, append, creat, trunc, excl, cloexec, sync, "
            "dsync, noctty, nofollow, directory, async, noatime, direct, path, or a number)";
    return false;
  }
  flags = static_cast<int32_t>(result);
  return true;
}

bool parse_poll_events(const std::string& text, uint32_t& events, std::string& error) {
  uint32_t result = 0;
  for (const std::string& part : split_flags(text)) {
    uint64_t number = 0;
    if (parse_number(part, number) && number <= UINT32_MAX) {
      result |= static_cast<uint32_t>(number);
      continue;
    }
    std::string name = lower(part);
    if (name.rfind("poll", 0) != 0) name = "poll" + name;
    bool found = false;
    for (const Named& bit : kPollBits) {
      if (name == lower(bit.name)) {
        result |= bit.value;
        found = true;
      }
    }
    if (!found) {
      error = "poll events '" + text + "': unknown event '" + part +
              "' (expected in, out, pri, err, hup, rdhup, ... or a number)";
      return false;
    }
  }
  events = result;
  return true;
}

std::string describe(const wire::Reply& reply) {
  switch (reply.kind) {
    case wire::ReplyKind::error:
      return "error " + errno_name(reply.err) + " (" + std::to_string(reply.err) + ")";
    case wire::ReplyKind::empty: return "ok";
    case wire::ReplyKind::open: return "opened";
    case wire::ReplyKind::write: return "wrote " + std::to_string(reply.count);
    case wire::ReplyKind::buf:
      if (reply.data.empty()) return "EOF";
      // 200 bytes keep a line readable; the count still tells the full size.
      return "read " + std::to_string(reply.data.size()) + " bytes: " + c_quote(reply.data, 200);
    case wire::ReplyKind::ioctl: {
      std::string out = "ioctl result=" + std::to_string(reply.result);
      if (!reply.data.empty()) out += " buf=" + to_hex(reply.data, 64);
      return out;
    }
    case wire::ReplyKind::poll:
      return "poll revents=" + poll_events_name(reply.revents) + " (" + hex_number(reply.revents) +
             ")";
  }
  return "?";
}

}  // namespace bentos::client
