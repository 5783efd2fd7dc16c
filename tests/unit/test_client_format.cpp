// The client library's text helpers: errno names, reply descriptions and
// the flag, event, hex and number syntax that bentosctl and tests accept.
#include <fcntl.h>

#include <cerrno>
#include <doctest/doctest.h>
#include <string>

#include "client.h"

namespace client = bentos::client;
namespace wire = bentos::wire;

TEST_CASE("errno_name") {
  CHECK(client::errno_name(EPERM) == "EPERM");
  CHECK(client::errno_name(EAGAIN) == "EAGAIN");
  CHECK(client::errno_name(ETIMEDOUT) == "ETIMEDOUT");
  CHECK(client::errno_name(ECANCELED) == "ECANCELED");
  for (int e : {EPERM, ENOENT, EIO, EBADF, EAGAIN, ENOMEM, EACCES, EBUSY, EFBIG, EINVAL, ENOTTY,
                EPIPE, ENOSYS, EMFILE, ETIMEDOUT, ENOTCONN, ECONNRESET, EINTR, ESTALE, ENODEV,
                ENXIO, EEXIST}) {
    CHECK(client::errno_name(e)[0] == 'E');
    CHECK(client::errno_name(e) != "E" + std::to_string(e));
  }
  CHECK(client::errno_name(4000) == "E4000");
  CHECK(client::errno_name(-1) == "E-1");
}

TEST_CASE("describe") {
  CHECK(client::describe(wire::Reply::empty()) == "ok");
  CHECK(client::describe(wire::Reply::opened()) == "opened");
  CHECK(client::describe(wire::Reply::written(12)) == "wrote 12");
  CHECK(client::describe(wire::Reply::bytes("")) == "EOF");
  CHECK(client::describe(wire::Reply::bytes(std::string("a\"\\\t\x01\x7f", 6))) ==
        "read 6 bytes: \"a\\\"\\\\\\t\\x01\\x7f\"");
  const std::string long_data = client::describe(wire::Reply::bytes(std::string(1000, 'z')));
  CHECK(long_data.rfind("read 1000 bytes: \"zzz", 0) == 0);
  CHECK(long_data.size() < 250);
  CHECK(long_data.substr(long_data.size() - 4) == "\"...");
  CHECK(client::describe(wire::Reply::ioctl_result(0)) == "ioctl result=0");
  CHECK(client::describe(wire::Reply::ioctl_result(-1, "\x01")) == "ioctl result=-1 buf=01");
  CHECK(client::describe(wire::Reply::polled(0x5)) == "poll revents=POLLIN|POLLOUT (0x5)");
  CHECK(client::describe(wire::Reply::polled(0)) == "poll revents=0 (0x0)");
  CHECK(client::describe(wire::Reply::polled(0x10 | 0x10000)) ==
        "poll revents=POLLHUP|0x10000 (0x10010)");
  CHECK(client::describe(wire::Reply::error(ENOSYS)) == "error ENOSYS (38)");
}

TEST_CASE("parse_open_flags") {
  int32_t f = -1;
  std::string err;
  CHECK(client::parse_open_flags("rw", f, err));
  CHECK(f == O_RDWR);
  CHECK(client::parse_open_flags("ro", f, err));
  CHECK(f == O_RDONLY);
  CHECK(client::parse_open_flags("wronly,nonblock", f, err));
  CHECK(f == (O_WRONLY | O_NONBLOCK));
  CHECK(client::parse_open_flags("O_RDWR|O_APPEND|O_CREAT", f, err));
  CHECK(f == (O_RDWR | O_APPEND | O_CREAT));
  CHECK(client::parse_open_flags("rdwr | trunc | excl | cloexec", f, err));
  CHECK(f == (O_RDWR | O_TRUNC | O_EXCL | O_CLOEXEC));
  CHECK(client::parse_open_flags("nonblock", f, err));
  CHECK(f == O_NONBLOCK);
  CHECK(client::parse_open_flags("2050", f, err));
  CHECK(f == (O_RDWR | O_NONBLOCK));
  CHECK(client::parse_open_flags("0x802", f, err));
  CHECK(f == (O_RDWR | O_NONBLOCK));
  CHECK(client::parse_open_flags("rw,0x400", f, err));
  CHECK(f == (O_RDWR | O_APPEND));
  CHECK(client::parse_open_flags("rw,rdwr", f, err));  // the same mode twice is fine
  f = 99;
  CHECK_FALSE(client::parse_open_flags("bogus", f, err));
  CHECK(err.find("'bogus'") != std::string::npos);
  CHECK(f == 99);
  CHECK_FALSE(client::parse_open_flags("ro,wo", f, err));
  CHECK(err.find("conflicting") != std::string::npos);
  CHECK_FALSE(client::parse_open_flags("rw,,append", f, err));
  CHECK_FALSE(client::parse_open_flags("", f, err));
  CHECK_FALSE(client::parse_open_flags("0x", f, err));
  CHECK_FALSE(client::parse_open_flags("0x100000000", f, err));
}

TEST_CASE("parse_poll_events, hex and numbers") {
  uint32_t ev = 0;
  std::string err;
  CHECK(client::parse_poll_events("in|out", ev, err));
  CHECK(ev == 0x5);
  CHECK(client::parse_poll_events("POLLHUP", ev, err));
  CHECK(ev == 0x10);
  CHECK(client::parse_poll_events("0x4", ev, err));
  CHECK(ev == 0x4);
  CHECK_FALSE(client::parse_poll_events("release", ev, err));

  std::string bytes;
  CHECK(client::from_hex("de:AD be-ef", bytes, err));
  CHECK(bytes == "\xde\xad\xbe\xef");
  CHECK(client::from_hex("0x0100", bytes, err));
  CHECK(bytes == std::string("\x01\x00", 2));
  CHECK(client::from_hex("", bytes, err));
  CHECK(bytes.empty());
  CHECK_FALSE(client::from_hex("abc", bytes, err));
  CHECK_FALSE(client::from_hex("zz", bytes, err));
  CHECK(client::to_hex("\x01\xff") == "01ff");
  CHECK(client::to_hex("abc", 2) == "6162...");

  uint64_t n = 0;
  CHECK(client::parse_number("65536", n));
  CHECK(n == 65536);
  CHECK(client::parse_number("0xBE01", n));
  CHECK(n == 0xbe01);
  CHECK_FALSE(client::parse_number("12abc", n));
  CHECK_FALSE(client::parse_number("-1", n));
  CHECK_FALSE(client::parse_number("", n));
}
