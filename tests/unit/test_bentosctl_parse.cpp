// bentosctl's parsers: ioctl commands (the Linux _IOC encoding), ioctl
// payloads (typed, little-endian), open flags, and `run` scripts.
#include <fcntl.h>
#include <linux/ioctl.h>

#include <cstdint>
#include <doctest/doctest.h>
#include <string>
#include <vector>

#include "client.h"
#include "ioctl_parse.h"
#include "script.h"

namespace ctl = bentos::ctl;
namespace client = bentos::client;
namespace wire = bentos::wire;

namespace {

uint32_t cmd_of(const std::string& text) {
  uint32_t cmd = 0xdeadbeef;
  std::string error;
  const bool ok = ctl::parse_ioctl_cmd(text, cmd, error);
  INFO(text << ": " << error);
  CHECK(ok);
  return cmd;
}

bool cmd_fails(const std::string& text) {
  uint32_t cmd = 0;
  std::string error;
  const bool ok = ctl::parse_ioctl_cmd(text, cmd, error);
  INFO(text << " -> " << error);
  if (!ok) CHECK_FALSE(error.empty());  // a failure always says why
  return !ok;
}

// The payload as hex, or "error" when it does not parse.
std::string payload_hex(const std::string& text) {
  std::string bytes, error;
  if (!ctl::parse_ioctl_payload(text, bytes, error)) {
    CHECK_FALSE(error.empty());
    return "error";
  }
  return client::to_hex(bytes);
}

}  // namespace

TEST_CASE("ioctl commands: plain numbers") {
  CHECK(cmd_of("0") == 0);
  CHECK(cmd_of("128") == 0x80);
  CHECK(cmd_of("0x80") == 0x80);
  CHECK(cmd_of("0xBE00") == 0xBE00);
  CHECK(cmd_of("0x4004be01") == 0x4004be01);
  CHECK(cmd_of("0xffffffff") == 0xffffffff);
  CHECK(cmd_of(" 0x5401 ") == 0x5401);
  CHECK(cmd_fails("0x100000000"));
  CHECK(cmd_fails("-1"));
  CHECK(cmd_fails("TCGETS"));
  CHECK(cmd_fails(""));
}

TEST_CASE("ioctl commands: _IO macros give the Linux encodings") {
  // Values from the kernel headers (x86-64).
  CHECK(cmd_of("_IOR('B',0,int)") == 0x80044200);
  CHECK(cmd_of("_IOW(0,1,int32)") == 0x40040001);
  CHECK(cmd_of("_IO('T',1)") == 0x5401);               // TCGETS
  CHECK(cmd_of("_IO('T', 0x1B)") == 0x541B);           // FIONREAD
  CHECK(cmd_of("_IO(0xBE,0)") == 0xBE00);              // P4 GET_STATE
  CHECK(cmd_of("_IO('U', 1)") == 0x5501);              // UI_DEV_CREATE
  CHECK(cmd_of("_IOW('T', 202, int)") == 0x400454ca);  // TUNSETIFF
  CHECK(cmd_of("_IOR('E', 0x01, int)") == 0x80044501); // EVIOCGVERSION
  CHECK(cmd_of("_IOW('E', 0x90, int)") == 0x40044590); // EVIOCGRAB
  CHECK(cmd_of("_IOR('R', 0x00, int)") == 0x80045200); // RNDGETENTCNT
  CHECK(cmd_of("_IOW('U', 100, int)") == 0x40045564);  // UI_SET_EVBIT
  CHECK(cmd_of("_IOR('V', 0, 104)") == 0x80685600);    // VIDIOC_QUERYCAP (104-byte struct)
  CHECK(cmd_of("_IOWR('d', 0x00, 64)") == 0xC0406400); // DRM_IOCTL_VERSION (64-bit)
  CHECK(cmd_of("_IOR(0x12,114,size_t)") == 0x80081272); // BLKGETSIZE64 (64-bit)
  CHECK(cmd_of("_IOW(0xBE,2,int32)") == 0x4004BE02);
}

TEST_CASE("ioctl commands: the same as the kernel's own macros") {
  CHECK(cmd_of("_IOR('B',0,int)") == _IOR('B', 0, int));
  CHECK(cmd_of("_IOW(0,1,int32)") == _IOW(0, 1, int32_t));
  CHECK(cmd_of("_IOWR('x', 255, uint64)") == _IOWR('x', 255, uint64_t));
  CHECK(cmd_of("_IOW('a', 7, double)") == _IOW('a', 7, double));
  CHECK(cmd_of("_IOW('a', 7, float64)") == _IOW('a', 7, double));
  CHECK(cmd_of("_IOR('a', 8, char)") == _IOR('a', 8, char));
  CHECK(cmd_of("_IOR('a', 8, long)") == _IOR('a', 8, long));
  CHECK(cmd_of("_IOR('a', 8, int64)") == _IOR('a', 8, int64_t));
  CHECK(cmd_of("_IOR('a', 8, uint32)") == _IOR('a', 8, uint32_t));
  CHECK(cmd_of("_IOR('a', 8, unsigned   int)") == _IOR('a', 8, unsigned int));
  CHECK(cmd_of("_IOR('a', 8, void *)") == _IOR('a', 8, void*));
  CHECK(cmd_of("_IO('a', 9)") == _IO('a', 9));
  CHECK(ctl::ioc(ctl::kIocRead | ctl::kIocWrite, 'q', 3, 16) == _IOWR('q', 3, char[16]));
}

TEST_CASE("ioctl commands: spellings and mistakes") {
  CHECK(cmd_of("_ior('B',0,INT)") == 0x80044200);  // any case
  CHECK(cmd_of("IOR('B',0,int)") == 0x80044200);   // the underscore is optional
  CHECK(cmd_of(" _IOR ( 'B' , 0 , int ) ") == 0x80044200);
  CHECK(cmd_of("_IOR(66,0,4)") == 0x80044200);     // type as a number, size in bytes
  CHECK(cmd_of("_IOR(0x42,0x0,0x4)") == 0x80044200);
  CHECK(cmd_of("_IO(',',1)") == 0x2C01);           // a comma inside a literal
  CHECK(cmd_of("_IO('\\x42',1)") == 0x4201);
  CHECK(cmd_of("_IO('\\'',1)") == 0x2701);
  CHECK(cmd_of("_IOR('B',0,16383)") == 0xBFFF4200);  // the largest size
  CHECK(cmd_fails("_IOR('B',0,16384)"));  // does not fit in 14 bits
  CHECK(cmd_fails("_IOR('B',0,struct foo)"));
  CHECK(cmd_fails("_IOR('B',0)"));
  CHECK(cmd_fails("_IO('B',0,int)"));
  CHECK(cmd_fails("_IOR('B',0,int"));
  CHECK(cmd_fails("_IOR('B',256,int)"));
  CHECK(cmd_fails("_IOR(256,0,int)"));
  CHECK(cmd_fails("_IOR('BB',0,int)"));
  CHECK(cmd_fails("_IOX('B',0,int)"));
  CHECK(cmd_fails("_IOR('B',0,int) 1"));
}

TEST_CASE("ioctl payloads: integers are little-endian") {
  CHECK(payload_hex("int32:250") == "fa000000");
  CHECK(payload_hex("int32:-1") == "ffffffff");
  CHECK(payload_hex("int32:0x01020304") == "04030201");
  CHECK(payload_hex("int32:2147483647") == "ffffff7f");
  CHECK(payload_hex("int32:-2147483648") == "00000080");
  CHECK(payload_hex("int32:2147483648") == "error");
  CHECK(payload_hex("int32:-2147483649") == "error");
  CHECK(payload_hex("uint32:4294967295") == "ffffffff");
  CHECK(payload_hex("uint32:-1") == "error");
  CHECK(payload_hex("int8:-128") == "80");
  CHECK(payload_hex("int8:-129") == "error");
  CHECK(payload_hex("uint8:255") == "ff");
  CHECK(payload_hex("uint8:256") == "error");
  CHECK(payload_hex("int16:0x10") == "1000");
  CHECK(payload_hex("uint16:65535") == "ffff");
  CHECK(payload_hex("int64:-9223372036854775808") == "0000000000000080");
  CHECK(payload_hex("uint64:18446744073709551615") == "ffffffffffffffff");
  CHECK(payload_hex("u32:1") == "01000000");
  CHECK(payload_hex("INT32:1") == "01000000");
  CHECK(payload_hex("int32:1,2") == "0100000002000000");  // a list packs several
  CHECK(payload_hex("uint8:1, 2 ,3") == "010203");
  CHECK(payload_hex("int32:") == "error");
  CHECK(payload_hex("int32:abc") == "error");
  CHECK(payload_hex("int32:1,") == "error");
  CHECK(payload_hex("int32:1.5") == "error");
}

TEST_CASE("ioctl payloads: floats are IEEE 754, little-endian") {
  CHECK(payload_hex("float64:1.5") == "000000000000f83f");
  CHECK(payload_hex("float64:-2") == "00000000000000c0");
  CHECK(payload_hex("float64:0") == "0000000000000000");
  CHECK(payload_hex("double:1") == "000000000000f03f");
  CHECK(payload_hex("f64:+0.5") == "000000000000e03f");
  CHECK(payload_hex("float64:1e300") == "9c7500883ce4377e");
  CHECK(payload_hex("float32:1.5") == "0000c03f");
  CHECK(payload_hex("f32:1") == "0000803f");  // not taken for bare hex
  CHECK(payload_hex("float32:1e300") == "error");
  CHECK(payload_hex("float64:x") == "error");
  CHECK(payload_hex("float64:1.5,2") == "000000000000f83f0000000000000040");
}

TEST_CASE("ioctl payloads: hex and text") {
  CHECK(payload_hex("hex:DEAD") == "dead");
  CHECK(payload_hex("hex:de:ad") == "dead");
  CHECK(payload_hex("hex:") == "");
  CHECK(payload_hex("DEAD") == "dead");  // bare hex, as before
  CHECK(payload_hex("01000000") == "01000000");
  CHECK(payload_hex("de:ad") == "dead");
  CHECK(payload_hex("0xdead") == "dead");
  CHECK(payload_hex("text:hello") == "68656c6c6f");
  CHECK(payload_hex("text:a:b") == "613a62");
  CHECK(payload_hex("text:") == "");
  CHECK(payload_hex("str:hi") == "6869");
  CHECK(payload_hex("dea") == "error");
  CHECK(payload_hex("zz") == "error");
  CHECK(payload_hex("bogus:1") == "error");
}

TEST_CASE("open flags by name") {
  int32_t flags = -1;
  std::string error;
  REQUIRE(client::parse_open_flags("rw,nonblock", flags, error));
  CHECK(flags == (O_RDWR | O_NONBLOCK));
  REQUIRE(client::parse_open_flags("ro", flags, error));
  CHECK(flags == O_RDONLY);
  REQUIRE(client::parse_open_flags("wo|append|creat", flags, error));
  CHECK(flags == (O_WRONLY | O_APPEND | O_CREAT));
  REQUIRE(client::parse_open_flags("O_RDWR,O_CLOEXEC", flags, error));
  CHECK(flags == (O_RDWR | O_CLOEXEC));
  REQUIRE(client::parse_open_flags("0x802", flags, error));
  CHECK(flags == 0x802);
  CHECK_FALSE(client::parse_open_flags("rw,ro", flags, error));
  CHECK_FALSE(client::parse_open_flags("rw,bogus", flags, error));
  CHECK_FALSE(client::parse_open_flags("rw,,nonblock", flags, error));
}

TEST_CASE("run scripts: the new ops and ioctl forms") {
  std::vector<ctl::Step> steps;
  std::string error;
  const ctl::ScriptOptions options{7, 64};
  REQUIRE(ctl::parse_script({"open", "ro,nonblock", "ioctl", "_IOW(0,1,int32)", "int32:1", "ioctl", "0xbe00",
                             "read-all", "16", "write-stdin", "read-all", "release"},
                            options, steps, error));
  REQUIRE(steps.size() == 7);
  CHECK(steps[0].request.flags == (O_RDONLY | O_NONBLOCK));
  CHECK(steps[1].request.kind == wire::OpKind::ioctl);
  CHECK(steps[1].request.cmd == 0x40040001);
  CHECK(steps[1].request.data == std::string("\x01\0\0\0", 4));
  CHECK(steps[1].request.out_bufsz == 64);
  CHECK(steps[1].label == "ioctl _IOW(0,1,int32) int32:1");
  CHECK(steps[2].request.cmd == 0xbe00);
  CHECK(steps[2].request.data.empty());
  CHECK(steps[3].read_all);
  CHECK(steps[3].request.size == 16);
  CHECK(steps[3].label == "read-all 16");
  CHECK(steps[4].from_stdin);
  CHECK(steps[5].request.size == 65536);
  for (const auto& s : steps) CHECK(s.request.fh == 7);
  CHECK(ctl::needs_stdin(steps));
  ctl::fill_stdin(steps, "input");
  CHECK(steps[4].request.data == "input");
  CHECK(steps[4].request.kind == wire::OpKind::write);

  CHECK_FALSE(ctl::parse_script({"open", "ioctl", "_IOR('B',0,nope)"}, options, steps, error));
  CHECK(error.find("nope") != std::string::npos);
  CHECK_FALSE(ctl::parse_script({"open", "ioctl", "0x80", "int32:x"}, options, steps, error));
  CHECK_FALSE(ctl::parse_script({"open", "frobnicate"}, options, steps, error));
}

TEST_CASE("parse_op: every argument belongs to the op") {
  ctl::Step step;
  std::string error;
  const ctl::ScriptOptions options;
  REQUIRE(ctl::parse_op("write", {"read"}, options, step, error));
  CHECK(step.request.data == "read");
  REQUIRE(ctl::parse_op("ioctl", {"0x80", "text:release"}, options, step, error));
  CHECK(step.request.data == "release");
  REQUIRE(ctl::parse_op("read-all", {}, options, step, error));
  CHECK(step.read_all);
  REQUIRE(ctl::parse_op("open", {"rw"}, options, step, error));
  CHECK(step.request.flags == O_RDWR);
  CHECK_FALSE(ctl::parse_op("read", {"lots"}, options, step, error));
  CHECK_FALSE(ctl::parse_op("poll", {"bogus"}, options, step, error));
  CHECK_FALSE(ctl::parse_op("flush", {"x"}, options, step, error));
  CHECK(error.find("unexpected argument 'x'") != std::string::npos);
  CHECK_FALSE(ctl::parse_op("ioctl", {"0x80", "release"}, options, step, error));  // not hex
}
