// Must compile: a configured-stream driver, typed form, with a query and
// a final class (probed less, see hook_check.hpp, but still built).
#include <bentos/driver.hpp>

#include <cstdint>
#include <string>
#include <string_view>

struct Config {
  bool loud = false;
};

struct Upper final {
  using config_type = Config;
  using input_type = std::string;
  using output_type = char;
  bentos::apply_result apply(uint32_t cmd, std::string_view in, Config& c) {
    if (cmd != 1) return bentos::apply_result::not_mine;
    c.loud = !in.empty() && in[0] != 0;
    return bentos::apply_result::recognised;
  }
  std::string decode_input(const bentos::record_list& in, const Config&) {
    std::string all;
    for (auto r : in) all += r;
    return all;
  }
  std::string encode_output(char c, const Config&) { return std::string(1, c); }
  void process(std::string in, const Config&, bentos::typed_stream<char> out) {
    for (char c : in) out.yield(c);
    out.end();
  }
  std::string_view on_query(uint32_t, const Config& c) { return c.loud ? "loud" : "quiet"; }
  void on_cancel() {}
};

BENTOS_CONFIGURED_STREAM_DRIVER(Upper, "upper", "1.0.0", "P4");
static_assert(::bentos::detail::configured_stream_adapter<Upper>::query_plain);  // on_query is in the ops table
