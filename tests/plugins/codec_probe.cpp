// codec_probe: a configured-stream (P4) test plugin through the C++
// authoring layer whose config codec and input decoder fail the way real
// decoders do, with library exceptions rather than bentos::error:
//   ioctl 0x01 SET_BYTE   reads in.at(3): a short payload throws std::out_of_range
//   ioctl 0x02 SET_JSON   nlohmann::json::parse(in): bad JSON throws parse_error
//   decode_input          parses the cycle's records as one JSON document
//   process               a JSON string "throw" throws std::runtime_error;
//                         anything else comes back as one record, then end
//   query 0x80            the config, "byte=<b> json=<j>"
// The host must answer the codec's and the decoder's failures EINVAL and
// process()'s EIO (behavior.md §6.2 [fix]).
#include <bentos/driver.hpp>

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace {

struct Config {
  int byte = 0;
  std::string json = "null";
};

class CodecProbe {
 public:
  using config_type = Config;
  using input_type = nlohmann::json;
  using output_type = std::string;

  bentos::apply_result apply(uint32_t cmd, std::string_view in, Config& config) const {
    switch (cmd & 0xFFFF) {
      case 0x01: config.byte = static_cast<unsigned char>(std::string(in).at(3)); return bentos::apply_result::recognised;
      case 0x02: config.json = nlohmann::json::parse(in).dump(); return bentos::apply_result::recognised;
      default: return bentos::apply_result::not_mine;
    }
  }

  std::string on_query(uint32_t cmd, const Config& config) const {
    if ((cmd & 0xFFFF) != 0x80) throw bentos::error::invalid_argument("codec_probe: unknown query");
    return "byte=" + std::to_string(config.byte) + " json=" + config.json;
  }

  nlohmann::json decode_input(const bentos::record_list& records, const Config&) const {
    std::string joined;
    for (std::string_view r : records) joined += r;
    return nlohmann::json::parse(joined);
  }

  std::string encode_output(const std::string& value, const Config&) const { return value; }

  void process(nlohmann::json input, const Config&, bentos::typed_stream<std::string> out) const {
    if (input == "throw") throw std::runtime_error("codec_probe: process throws on purpose");
    out.yield(input.dump());
    out.end();
  }
};

}  // namespace

BENTOS_CONFIGURED_STREAM_DRIVER(CodecProbe, "codec_probe", "1.0.0",
                                "test: a codec and decoder that throw library exceptions on malformed input");
