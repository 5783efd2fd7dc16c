// bentos/inference/config.hpp and queries.hpp: every config ioctl with a
// good payload and with every malformed kind (EINVAL, config untouched),
// command matching on the low 16 bits, and the 0x80..0x82 queries.

#include <doctest/doctest.h>

#include <bentos/inference.hpp>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace inf = bentos::inference;
using bentos::apply_result;

namespace {

std::string le32(int32_t v) {
  std::string s(4, '\0');
  for (int k = 0; k < 4; ++k) s[k] = static_cast<char>((static_cast<uint32_t>(v) >> (8 * k)) & 0xFF);
  return s;
}

std::string le64(double d) {
  uint64_t v = std::bit_cast<uint64_t>(d);
  std::string s(8, '\0');
  for (int k = 0; k < 8; ++k) s[k] = static_cast<char>((v >> (8 * k)) & 0xFF);
  return s;
}

// Applies to a copy of `before`; returns the errno (0 = recognised) and
// checks that a refusal left the config alone.
int apply_errno(uint32_t cmd, const std::string& in, const inf::inference_config& before = {}) {
  inf::inference_config c = before;
  try {
    // Outside CHECK: doctest would swallow the exception.
    apply_result r = inf::apply_config_ioctl(cmd, in, c);
    CHECK(r == apply_result::recognised);
    return 0;
  } catch (const bentos::error::driver_error& e) {
    CHECK(c == before);
    return e.code();
  }
}

inf::inference_config applied(uint32_t cmd, const std::string& in) {
  inf::inference_config c;
  REQUIRE(inf::apply_config_ioctl(cmd, in, c) == apply_result::recognised);
  return c;
}

// _IOW(0, nr, size) as Linux builds it: direction write (1) in bits 31..30,
// the size in bits 29..16.
constexpr uint32_t iow(uint32_t nr, uint32_t size) { return (1u << 30) | (size << 16) | nr; }

}  // namespace

TEST_CASE("the default config has every field unset and both formats unstructured") {
  inf::inference_config c;
  CHECK_FALSE(c.max_tokens);
  CHECK_FALSE(c.temperature);
  CHECK_FALSE(c.top_p);
  CHECK_FALSE(c.stop);
  CHECK_FALSE(c.thinking_budget);
  CHECK_FALSE(c.tools);
  CHECK_FALSE(c.tool_choice);
  CHECK_FALSE(c.extra);
  CHECK_FALSE(c.system);
  CHECK(c.input_format == inf::format::unstructured);
  CHECK(c.output_format == inf::format::unstructured);
}

TEST_CASE("integer and float ioctls: little-endian, _IOW commands, wider payloads") {
  CHECK(applied(0x01, le32(1024)).max_tokens == 1024);
  CHECK(applied(iow(0x01, 4), le32(7)).max_tokens == 7);
  CHECK(applied(0x01, le32(300) + "\x01\x02\x03\x04").max_tokens == 300);  // an int64 buffer: low 4 bytes
  CHECK(applied(0x05, le32(0)).thinking_budget == 0);
  CHECK(applied(0x05, le32(16000)).thinking_budget == 16000);
  CHECK(applied(0x02, le64(0.7)).temperature == 0.7);
  CHECK(applied(iow(0x02, 8), le64(0.0)).temperature == 0.0);
  CHECK(applied(0x03, le64(0.95)).top_p == 0.95);
}

TEST_CASE("integer and float ioctls refuse short payloads and impossible values") {
  CHECK(apply_errno(0x01, "") == EINVAL);
  CHECK(apply_errno(0x01, "\x01\x02\x03") == EINVAL);
  CHECK(apply_errno(0x01, le32(0)) == EINVAL);
  CHECK(apply_errno(0x01, le32(-5)) == EINVAL);
  CHECK(apply_errno(0x05, "\x01") == EINVAL);
  CHECK(apply_errno(0x05, le32(-1)) == EINVAL);
  CHECK(apply_errno(0x02, le32(1)) == EINVAL);  // 4 of 8 bytes
  CHECK(apply_errno(0x02, le64(-0.5)) == EINVAL);
  CHECK(apply_errno(0x02, le64(std::nan(""))) == EINVAL);
  CHECK(apply_errno(0x03, le64(std::numeric_limits<double>::infinity())) == EINVAL);
  CHECK(apply_errno(0x03, "1234567") == EINVAL);
  // A refusal keeps the value set before.
  inf::inference_config set = applied(0x01, le32(50));
  CHECK(apply_errno(0x01, "\x00", set) == EINVAL);
}

TEST_CASE("format ioctls: one byte, 0 or 1") {
  CHECK(applied(0x06, std::string(1, '\1')).input_format == inf::format::structured);
  CHECK(applied(0x07, std::string(1, '\1')).output_format == inf::format::structured);
  inf::inference_config c;
  c.input_format = inf::format::structured;
  REQUIRE(inf::apply_config_ioctl(0x06, std::string(1, '\0'), c) == apply_result::recognised);
  CHECK(c.input_format == inf::format::unstructured);
  CHECK(applied(iow(0x07, 4), le32(1)).output_format == inf::format::structured);  // an int32 1
  CHECK(apply_errno(0x06, "") == EINVAL);
  CHECK(apply_errno(0x06, "\x02") == EINVAL);
  CHECK(apply_errno(0x07, "\xff") == EINVAL);
  CHECK(apply_errno(0x07, "1") == EINVAL);  // the character, not the byte
}

TEST_CASE("SET_STOP: a JSON array of strings") {
  CHECK(applied(0x04, R"(["\n\nHuman:","END"])").stop == std::vector<std::string>{"\n\nHuman:", "END"});
  CHECK(applied(0x04, "[]").stop == std::vector<std::string>{});
  for (const char* bad : {"", "[", R"("END")", R"(["a",1])", R"({"stop":["a"]})", "null", "[\"\xff\"]", "[] []"}) {
    CAPTURE(bad);
    CHECK(apply_errno(0x04, bad) == EINVAL);
  }
}

TEST_CASE("SET_TOOLS: a JSON array of tools") {
  auto c = applied(0x08, R"([{"name":"f","description":"d","input_schema":{"type":"object"}},{"name":"g","input_schema":{}}])");
  REQUIRE(c.tools);
  REQUIRE(c.tools->size() == 2);
  CHECK((*c.tools)[0] == inf::tool{"f", "d", inf::parse_json(R"({"type":"object"})")});
  CHECK((*c.tools)[1].name == "g");
  CHECK(applied(0x08, "[]").tools->empty());
  for (const char* bad : {"{", R"({"name":"f","input_schema":{}})", R"([{"name":"f"}])", R"([{"input_schema":{}}])",
                          R"([{"name":"f","input_schema":"object"}])", "[1]", "[\"\xc0\xaf\"]"}) {
    CAPTURE(bad);
    CHECK(apply_errno(0x08, bad) == EINVAL);
  }
}

TEST_CASE("SET_TOOL_CHOICE: strings or objects") {
  using mode = inf::tool_choice::mode;
  CHECK(applied(0x09, R"("auto")").tool_choice == inf::tool_choice{mode::auto_, ""});
  CHECK(applied(0x09, R"("any")").tool_choice == inf::tool_choice{mode::any, ""});
  CHECK(applied(0x09, R"("none")").tool_choice == inf::tool_choice{mode::none, ""});
  CHECK(applied(0x09, R"({"type":"none"})").tool_choice == inf::tool_choice{mode::none, ""});
  CHECK(applied(0x09, R"({"type":"tool","name":"get_weather"})").tool_choice == inf::tool_choice{mode::tool, "get_weather"});
  for (const char* bad : {"auto", R"("required")", R"({"type":"tool"})", R"({"type":"tool","name":5})", "[]", ""}) {
    CAPTURE(bad);
    CHECK(apply_errno(0x09, bad) == EINVAL);
  }
}

TEST_CASE("SET_EXTRA: a JSON object, key order kept") {
  auto c = applied(0x0A, R"({"top_k":40,"metadata":{"user_id":"u"}})");
  REQUIRE(c.extra);
  CHECK(inf::dump(*c.extra) == R"({"top_k":40,"metadata":{"user_id":"u"}})");
  for (const char* bad : {"[]", "1", R"("x")", "{", "{\"a\":\"\xed\xa0\x80\"}"}) {
    CAPTURE(bad);
    CHECK(apply_errno(0x0A, bad) == EINVAL);
  }
}

TEST_CASE("SET_SYSTEM: UTF-8 text, not JSON") {
  CHECK(applied(0x0B, "You are terse.").system == "You are terse.");
  CHECK(applied(0x0B, R"({"not":"json"})").system == R"({"not":"json"})");
  CHECK(applied(0x0B, "").system == "");
  CHECK(applied(0x0B, "caf\xc3\xa9 \xf0\x9f\x98\x80").system == "caf\xc3\xa9 \xf0\x9f\x98\x80");
  for (const char* bad : {"\xff", "caf\xc3", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\xaf"}) {
    CAPTURE(bad);
    CHECK(apply_errno(0x0B, bad) == EINVAL);
  }
}

TEST_CASE("commands that are not config ioctls are not the codec's") {
  inf::inference_config c;
  for (uint32_t cmd : {0x00u, 0x0Cu, 0x7Fu, 0x80u, 0x81u, 0x82u, 0xFFu, 0xBE00u, 0xBE03u, 0x0101u, 0x4001u << 8}) {
    CAPTURE(cmd);
    CHECK(inf::apply_config_ioctl(cmd, le32(5), c) == apply_result::not_mine);
  }
  CHECK(c == inf::inference_config{});
}

TEST_CASE("queries: {} until there is something, then compact JSON; unknown -> EINVAL") {
  std::optional<inf::metadata> md;
  std::optional<inf::provider_error> err;
  inf::capabilities caps;
  caps.model = "m";
  caps.provider = "openai";
  inf::query_state q{md, err, caps};
  CHECK(inf::answer_query(0x80, q) == "{}");
  CHECK(inf::answer_query(0x81, q) == "{}");
  CHECK(inf::answer_query(0x82, q) == inf::encode(caps));
  CHECK(inf::answer_query((2u << 30) | (64u << 16) | 0x82, q) == inf::encode(caps));  // _IOR(0, 0x82, char[64])

  md = inf::metadata{"m", inf::stop_reason::max_tokens, std::nullopt};
  err = inf::provider_error{inf::error_kind::authentication, "bad key", "authentication_error", std::nullopt};
  CHECK(inf::answer_query(0x80, q) == R"({"model":"m","stop_reason":"max_tokens"})");
  CHECK(inf::answer_query(0x81, q) == R"({"kind":"authentication","message":"bad key","provider_code":"authentication_error"})");

  for (uint32_t cmd : {0x83u, 0x7Fu, 0x00u, 0x01u, 0xBE04u, 0x0180u}) {
    CAPTURE(cmd);
    int code = 0;
    try {
      inf::answer_query(cmd, q);
    } catch (const bentos::error::driver_error& e) {
      code = e.code();
    }
    CHECK(code == EINVAL);
  }
}
