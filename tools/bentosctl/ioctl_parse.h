// bentosctl's ioctl syntax: the command as a number or as the Linux macros
// (`_IOR('B', 0, int)`), and the payload as typed values (`int32:250`).
// Pure functions, shared with the unit tests through bentosctl_lib.
#pragma once

#include <cstdint>
#include <string>

namespace bentos::ctl {

// Linux's generic _IOC layout (asm-generic/ioctl.h): nr bits 0-7, type
// bits 8-15, size bits 16-29, direction bits 30-31.
inline constexpr uint32_t kIocNone = 0;
inline constexpr uint32_t kIocWrite = 1;
inline constexpr uint32_t kIocRead = 2;
inline constexpr uint32_t kIocMaxSize = (1u << 14) - 1;

constexpr uint32_t ioc(uint32_t dir, uint32_t type, uint32_t nr, uint32_t size) {
  return (dir << 30) | ((size & kIocMaxSize) << 16) | ((type & 0xff) << 8) | (nr & 0xff);
}

// The size in bytes of a C type named in _IOR/_IOW/_IOWR: int, int32,
// uint32, int64, uint64, float64, double, char, short, long, size_t, ...
// (case-insensitive). False for an unknown name.
bool ioctl_type_size(const std::string& name, uint32_t& size);

// Parses an ioctl command: a 32-bit number (decimal or 0x hex), or
// _IO(TYPE,NR), _IOR(TYPE,NR,SIZE), _IOW(TYPE,NR,SIZE), _IOWR(TYPE,NR,SIZE)
// where TYPE and NR are numbers or 'c' character literals (0..255) and SIZE
// is a type name (see ioctl_type_size) or a number of bytes. Blanks are
// allowed between the parts. On failure `error` says what is wrong.
bool parse_ioctl_cmd(const std::string& text, uint32_t& cmd, std::string& error);

// Parses an ioctl payload into bytes:
//   hex:DEADBEEF      bytes in hex (separators as client::from_hex)
//   text:hello        the text as is (also str:)
//   int8: uint8: int16: uint16: int32: uint32: int64: uint64:
//                     integers, decimal or 0x hex, little-endian; a comma
//                     list packs several (int32:1,2)
//   float32: float64: IEEE 754, little-endian (double: is float64)
//   DEADBEEF          no prefix: hex, as older bentosctl versions took it
bool parse_ioctl_payload(const std::string& text, std::string& bytes, std::string& error);

}  // namespace bentos::ctl
