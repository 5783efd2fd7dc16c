// synth: a configured-stream (P4) driver through the C++ authoring layer,
// in its typed form (decode_input / process / encode_output).
//
// Config, per session: {uppercase: false, delay_ms: the device config's
// "delay_ms", default 100}. Commands are matched on the low 16 bits of
// cmd, so `_IOW(0, 1, int32)` from a shell tool works:
//   0x01 SET_UPPERCASE  in[0] != 0            (no payload: EINVAL)
//   0x02 SET_DELAY      int32 little-endian ms (short or negative: EINVAL)
//   0x80 GET_CONFIG     query: {"uppercase":B,"delay_ms":N}
// Anything else the codec leaves alone; as a query it is EINVAL.
//
// A cycle's input is its records concatenated, which must be UTF-8 (else
// the submit answers EINVAL), upper-cased if configured, then trimmed of
// surrounding whitespace. The output is its characters (code points) in
// reverse order, one record each; each record is preceded by delay_ms, so
// record k (from 1) comes k * delay_ms after the submit. Empty input ends
// the stream at once with no record.
//
// Upper-casing is the simple one-to-one Unicode mapping of the C library's
// C.UTF-8 locale (so 'ß' stays 'ß'); if that locale is missing, ASCII only.
//
// The records are paced by a host timer on the loop thread: nothing blocks
// and no thread is started. Cancel (DROP, RESET, release) stops the timer
// and ends the stream. Host timers run on the loop thread, so the driver
// declares loop_only: a manifest asking it for workers is refused.

#include <bentos/driver.hpp>

#include <algorithm>
#include <cstdint>
#include <locale.h>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <wctype.h>

#include "../common/utf8.hpp"

namespace {

namespace utf8 = bentos_examples::utf8;

// A session's config. Values are owned by the host (through the adapter);
// the driver reads them during a callback and copies what it keeps.
struct Config {
  bool uppercase = false;
  int64_t delay_ms = 100;
};

// One session's cycle in flight: the characters still to send and the
// timer that sends them. Owned by the session (adapter); loop thread only.
struct Job {
  std::u32string output;  // the reversed text
  size_t next = 0;        // index of the next character to yield
  std::optional<bentos::typed_stream<char32_t>> out;
  bentos::timer pacer;

  // Stops sending and ends the stream (no-op when none is in flight).
  void finish() {
    pacer.stop();
    if (out) out->end();
    out.reset();
    output.clear();
    next = 0;
  }
};

// The C.UTF-8 LC_CTYPE locale for towupper_l, freed with the driver.
struct locale_deleter {
  void operator()(locale_t l) const { freelocale(l); }
};
using locale_ptr = std::unique_ptr<std::remove_pointer_t<locale_t>, locale_deleter>;

// One device instance. Owned by the host through the adapter, from create
// to destroy. Every callback runs on the loop thread; encode_output may run
// wherever a record is yielded (here: the loop thread too).
class Synth {
 public:
  // The pacing timer and process/on_cancel share each session's job
  // unlocked: the host refuses worker threads for this driver.
  static constexpr bool loop_only = true;

  using config_type = Config;
  using session_type = Job;
  using input_type = std::u32string;
  using output_type = char32_t;

  Synth(const bentos::device_config& config, bentos::host_handle host)
      : host_(host), upper_(newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr))) {
    try {
      for (const std::string& key : config.keys()) {
        if (key != "delay_ms") throw bentos::error::invalid_argument("unknown config key '" + key + "'; known: delay_ms");
      }
      delay_ms_ = config.int_or("delay_ms", 100);
    } catch (const bentos::error::driver_error& e) {
      throw bentos::error::invalid_argument(std::string("synth: ") + e.what());
    }
    if (delay_ms_ < 0 || delay_ms_ > INT32_MAX) {
      throw bentos::error::invalid_argument("synth: config key 'delay_ms' must be within 0..2147483647");
    }
    if (!upper_) host.log(bentos::log_level::warn, "no C.UTF-8 locale: upper-casing ASCII only");
  }

  Config default_config() const { return Config{false, delay_ms_}; }

  bentos::apply_result apply(uint32_t cmd, std::string_view in, Config& config) const {
    switch (cmd & 0xFFFF) {
      case 0x01:
        if (in.empty()) throw bentos::error::invalid_argument("SET_UPPERCASE needs 1 byte");
        config.uppercase = in[0] != 0;
        return bentos::apply_result::recognised;
      case 0x02: {
        if (in.size() < 4) throw bentos::error::invalid_argument("SET_DELAY needs an int32");
        uint32_t v = 0;
        for (int k = 3; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(in[static_cast<size_t>(k)]);
        if (v > INT32_MAX) throw bentos::error::invalid_argument("SET_DELAY: negative delay");
        config.delay_ms = v;
        return bentos::apply_result::recognised;
      }
      default:
        return bentos::apply_result::not_mine;
    }
  }

  std::string on_query(uint32_t cmd, const Config& config) const {
    if ((cmd & 0xFFFF) != 0x80) throw bentos::error::invalid_argument("synth: unknown command");
    return std::string("{\"uppercase\":") + (config.uppercase ? "true" : "false") +
           ",\"delay_ms\":" + std::to_string(config.delay_ms) + "}";
  }

  std::u32string decode_input(const bentos::record_list& records, const Config& config) const {
    std::string joined;
    for (std::string_view r : records) joined += r;
    std::optional<std::u32string> text = utf8::decode(joined);
    if (!text) throw bentos::error::invalid_argument("synth: the input is not valid UTF-8");
    if (config.uppercase) {
      for (char32_t& c : *text) c = to_upper(c);
    }
    return std::u32string(utf8::trim(*text));
  }

  std::string encode_output(char32_t c, const Config&) const {
    std::string out;
    utf8::append(out, c);
    return out;
  }

  void process(Job& job, std::u32string text, const Config& config, bentos::typed_stream<char32_t> out) {
    job.finish();  // a new cycle starts only after the last one ended
    std::reverse(text.begin(), text.end());
    if (config.delay_ms == 0) {
      for (char32_t c : text) out.yield(c);
      out.end();
      return;
    }
    job.output = std::move(text);
    job.out = std::move(out);
    if (job.output.empty()) return job.finish();
    auto every = static_cast<uint64_t>(config.delay_ms);
    job.pacer = bentos::timer(host_, every, every, [&job] { send_next(job); });
  }

  void on_cancel(Job& job) { job.finish(); }

 private:
  static void send_next(Job& job) {
    if (job.out && job.next < job.output.size()) job.out->yield(job.output[job.next++]);
    if (job.next >= job.output.size()) job.finish();
  }

  char32_t to_upper(char32_t c) const {
    if (upper_) return static_cast<char32_t>(towupper_l(static_cast<wint_t>(c), upper_.get()));
    return c >= U'a' && c <= U'z' ? c - (U'a' - U'A') : c;
  }

  bentos::host_handle host_;
  locale_ptr upper_;
  int64_t delay_ms_ = 100;  // the device's default delay
};

}  // namespace

BENTOS_CONFIGURED_STREAM_DRIVER(Synth, "synth", "1.0.0",
                                "configured-stream example: characters back in reverse order, delay_ms apart");
