#include "ioctl_parse.h"

#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

#include "client.h"

namespace bentos::ctl {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\n");
  return s.substr(b, e - b + 1);
}

// Collapses runs of blanks into one space: "unsigned   long" -> "unsigned long".
std::string squeeze(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

struct TypeSize {
  const char* name;
  uint32_t size;
};

constexpr TypeSize kTypeSizes[] = {
    {"char", 1},          {"signed char", 1},   {"unsigned char", 1}, {"bool", 1},
    {"int8", 1},          {"uint8", 1},         {"int8_t", 1},        {"uint8_t", 1},
    {"s8", 1},            {"u8", 1},            {"__s8", 1},          {"__u8", 1},
    {"short", 2},         {"unsigned short", 2}, {"int16", 2},        {"uint16", 2},
    {"int16_t", 2},       {"uint16_t", 2},      {"s16", 2},           {"u16", 2},
    {"__s16", 2},         {"__u16", 2},         {"int", 4},           {"unsigned", 4},
    {"unsigned int", 4},  {"int32", 4},         {"uint32", 4},        {"int32_t", 4},
    {"uint32_t", 4},      {"s32", 4},           {"u32", 4},           {"__s32", 4},
    {"__u32", 4},         {"float", 4},         {"float32", 4},       {"long long", 8},
    {"unsigned long long", 8}, {"int64", 8},    {"uint64", 8},        {"int64_t", 8},
    {"uint64_t", 8},      {"s64", 8},           {"u64", 8},           {"__s64", 8},
    {"__u64", 8},         {"double", 8},        {"float64", 8},
    {"long", sizeof(long)}, {"unsigned long", sizeof(long)}, {"size_t", sizeof(size_t)},
    {"ssize_t", sizeof(size_t)}, {"void*", sizeof(void*)}, {"pointer", sizeof(void*)},
};

// Splits "a, 'b', c" on commas outside character literals.
std::vector<std::string> split_args(const std::string& text) {
  std::vector<std::string> parts;
  std::string cur;
  bool in_quote = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quote && c == '\\' && i + 1 < text.size()) {
      cur += c;
      cur += text[++i];
      continue;
    }
    if (c == '\'') in_quote = !in_quote;
    if (c == ',' && !in_quote) {
      parts.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(trim(cur));
  return parts;
}

// A byte-sized macro argument: a number or a character literal ('B', '\x42').
bool parse_byte(const std::string& text, const char* what, uint32_t& value, std::string& error) {
  if (text.size() >= 3 && text.front() == '\'' && text.back() == '\'') {
    const std::string inner = text.substr(1, text.size() - 2);
    if (inner.size() == 1 && inner[0] != '\\') {
      value = static_cast<unsigned char>(inner[0]);
      return true;
    }
    if (inner.size() == 2 && inner[0] == '\\') {
      switch (inner[1]) {
        case '\\': value = '\\'; return true;
        case '\'': value = '\''; return true;
        case '0': value = 0; return true;
        case 'n': value = '\n'; return true;
        case 't': value = '\t'; return true;
        default: break;
      }
    }
    uint64_t n = 0;
    if (inner.size() > 2 && inner[0] == '\\' && inner[1] == 'x' &&
        client::parse_number("0x" + inner.substr(2), n) && n <= 0xff) {
      value = static_cast<uint32_t>(n);
      return true;
    }
    error = std::string(what) + " " + text + " is not a single-character literal";
    return false;
  }
  uint64_t n = 0;
  if (!client::parse_number(text, n) || n > 0xff) {
    error = std::string(what) + " '" + text + "' must be a number 0..255 or a 'c' character literal";
    return false;
  }
  value = static_cast<uint32_t>(n);
  return true;
}

bool parse_size(const std::string& text, uint32_t& size, std::string& error) {
  uint64_t n = 0;
  if (client::parse_number(text, n)) {
    if (n > kIocMaxSize) {
      error = "size " + text + " does not fit the 14-bit size field (at most 16383)";
      return false;
    }
    size = static_cast<uint32_t>(n);
    return true;
  }
  if (ioctl_type_size(text, size)) return true;
  error = "size '" + text +
          "' is neither a number of bytes nor a known type (int, int32, uint32, int64, uint64, "
          "float64, double, char, short, long, ...)";
  return false;
}

bool parse_macro(const std::string& text, uint32_t& cmd, std::string& error) {
  const size_t open = text.find('(');
  std::string name = lower(trim(text.substr(0, open)));
  if (!name.empty() && name[0] == '_') name.erase(0, 1);
  uint32_t dir = 0;
  size_t want_args = 3;
  if (name == "io") {
    dir = kIocNone;
    want_args = 2;
  } else if (name == "ior") {
    dir = kIocRead;
  } else if (name == "iow") {
    dir = kIocWrite;
  } else if (name == "iowr") {
    dir = kIocRead | kIocWrite;
  } else {
    error = "unknown macro '" + trim(text.substr(0, open)) + "' (expected _IO, _IOR, _IOW or _IOWR)";
    return false;
  }
  const std::string rest = trim(text.substr(open + 1));
  if (rest.empty() || rest.back() != ')') {
    error = "missing ')' at the end";
    return false;
  }
  const std::vector<std::string> args = split_args(rest.substr(0, rest.size() - 1));
  if (args.size() != want_args) {
    error = want_args == 2 ? "_IO takes 2 arguments (TYPE, NR)"
                           : "_IOR, _IOW and _IOWR take 3 arguments (TYPE, NR, SIZE)";
    return false;
  }
  uint32_t type = 0, nr = 0, size = 0;
  if (!parse_byte(args[0], "type", type, error)) return false;
  if (!parse_byte(args[1], "nr", nr, error)) return false;
  if (want_args == 3 && !parse_size(args[2], size, error)) return false;
  cmd = ioc(dir, type, nr, size);
  return true;
}

// Integers: optional '-', decimal or 0x hex, within [min, max].
bool parse_integer(const std::string& text, int64_t min, uint64_t max, uint64_t& bits) {
  const bool negative = !text.empty() && text[0] == '-';
  uint64_t magnitude = 0;
  if (!client::parse_number(negative ? text.substr(1) : text, magnitude)) return false;
  if (!negative) {
    if (magnitude > max) return false;
    bits = magnitude;
    return true;
  }
  // -magnitude >= min, computed without overflow.
  if (min >= 0 || magnitude > static_cast<uint64_t>(-(min + 1)) + 1) return false;
  bits = ~magnitude + 1;  // two's complement
  return true;
}

bool parse_double(const std::string& text, double& value) {
  const char* b = text.data();
  const char* e = b + text.size();
  if (b != e && *b == '+') ++b;
  const auto [p, ec] = std::from_chars(b, e, value);
  return b != e && ec == std::errc{} && p == e;
}

void append_le(std::string& out, uint64_t bits, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xff);
}

struct NumberKind {
  const char* name;
  size_t bytes;
  bool is_float;
  bool is_signed;
};

constexpr NumberKind kNumberKinds[] = {
    {"int8", 1, false, true},    {"i8", 1, false, true},      {"uint8", 1, false, false},
    {"u8", 1, false, false},     {"int16", 2, false, true},   {"i16", 2, false, true},
    {"uint16", 2, false, false}, {"u16", 2, false, false},    {"int32", 4, false, true},
    {"i32", 4, false, true},     {"int", 4, false, true},     {"uint32", 4, false, false},
    {"u32", 4, false, false},    {"int64", 8, false, true},   {"i64", 8, false, true},
    {"uint64", 8, false, false}, {"u64", 8, false, false},    {"float32", 4, true, true},
    {"f32", 4, true, true},      {"float", 4, true, true},    {"float64", 8, true, true},
    {"f64", 8, true, true},      {"double", 8, true, true},
};

bool encode_number(const NumberKind& kind, const std::string& item, std::string& out,
                   std::string& error) {
  if (kind.is_float) {
    double v = 0;
    if (!parse_double(item, v)) {
      error = std::string(kind.name) + ": '" + item + "' is not a number";
      return false;
    }
    if (kind.bytes == 8) {
      append_le(out, std::bit_cast<uint64_t>(v), 8);
      return true;
    }
    const auto f = static_cast<float>(v);
    if (std::isfinite(v) && !std::isfinite(f)) {
      error = std::string(kind.name) + ": " + item + " is out of range";
      return false;
    }
    append_le(out, std::bit_cast<uint32_t>(f), 4);
    return true;
  }
  const unsigned bits = static_cast<unsigned>(8 * kind.bytes);
  const uint64_t umax = bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
  const int64_t min = kind.is_signed ? (bits == 64 ? INT64_MIN : -(int64_t{1} << (bits - 1))) : 0;
  const uint64_t max = kind.is_signed ? umax >> 1 : umax;
  uint64_t value = 0;
  if (!parse_integer(item, min, max, value)) {
    error = std::string(kind.name) + ": '" + item + "' is not an integer within " +
            std::to_string(min) + ".." + std::to_string(max);
    return false;
  }
  append_le(out, value, kind.bytes);
  return true;
}

bool parse_hex(const std::string& text, std::string& bytes, std::string& error) {
  if (client::from_hex(text, bytes, error)) return true;
  error = "payload " + error + " (use hex:, text:, int32:, float64:, ... for other forms)";
  return false;
}

}  // namespace

bool ioctl_type_size(const std::string& name, uint32_t& size) {
  std::string key = lower(squeeze(trim(name)));
  // "void *" and "void*" alike.
  if (const auto star = key.find(" *"); star != std::string::npos) key.erase(star, 1);
  for (const TypeSize& t : kTypeSizes) {
    if (key == t.name) {
      size = t.size;
      return true;
    }
  }
  return false;
}

bool parse_ioctl_cmd(const std::string& raw, uint32_t& cmd, std::string& error) {
  const std::string text = trim(raw);
  if (text.find('(') != std::string::npos) {
    if (!parse_macro(text, cmd, error)) {
      error = "ioctl command '" + raw + "': " + error;
      return false;
    }
    return true;
  }
  uint64_t n = 0;
  if (!client::parse_number(text, n) || n > UINT32_MAX) {
    error = "ioctl command '" + raw +
            "' is not a 32-bit number (decimal or 0x hex) or _IO/_IOR/_IOW/_IOWR(...)";
    return false;
  }
  cmd = static_cast<uint32_t>(n);
  return true;
}

bool parse_ioctl_payload(const std::string& text, std::string& bytes, std::string& error) {
  bytes.clear();
  const size_t colon = text.find(':');
  const std::string kind = colon == std::string::npos ? std::string() : lower(text.substr(0, colon));
  const std::string value = colon == std::string::npos ? text : text.substr(colon + 1);
  if (kind == "text" || kind == "str") {
    bytes = value;
    return true;
  }
  if (kind == "hex") return parse_hex(value, bytes, error);
  for (const NumberKind& k : kNumberKinds) {
    if (kind != k.name) continue;
    size_t start = 0;
    for (;;) {
      const size_t comma = value.find(',', start);
      const std::string item =
          trim(value.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (!encode_number(k, item, bytes, error)) {
        error = "payload " + error;
        return false;
      }
      if (comma == std::string::npos) return true;
      start = comma + 1;
    }
  }
  // No known prefix: bare hex, whose separators may be ':' ("de:ad").
  if (kind.find_first_not_of("0123456789abcdefx") == std::string::npos) {
    return parse_hex(text, bytes, error);
  }
  error = "payload '" + text + "': unknown form '" + text.substr(0, colon) +
          ":' (expected hex:, text:, int8:, uint8:, int16:, uint16:, int32:, uint32:, int64:, "
          "uint64:, float32:, float64:)";
  return false;
}

}  // namespace bentos::ctl
