/*
 * bentos/inference/driver.hpp - part of the inference subsystem (bentos/inference.hpp).
 * bentos::inference::driver, the P4 driver of inference.md: everything but
 * the provider. A plugin is
 *
 *   class llm_driver : public bentos::inference::driver {
 *    public:
 *     llm_driver(const bentos::device_config& c, bentos::host_handle h)
 *         : driver(h, make_provider(c, h)) {}  // std::unique_ptr<provider>
 *   };
 *   BENTOS_CONFIGURED_STREAM_DRIVER(llm_driver, "llm", "1.0.0", "language models");
 *
 * What it wires (configured_stream.hpp's members, found by the adapter):
 *   default_config  a fresh inference_config, stamped with a new generation
 *                   (outcomes.hpp: how RESET is noticed)
 *   apply           the 0x01..0x0B codec (config.hpp)
 *   process         decode the input per input_format (io.hpp; EINVAL at
 *                   the submit), start the provider call with a cycle
 *                   (cycle.hpp) as its sink; chunks become records per
 *                   output_format; success -> last_metadata, `complete`,
 *                   end 0; failure -> last_error, end with its errno
 *   on_query        0x80..0x82 (queries.hpp)
 *   on_cancel       cancel the cycle and abort the call
 *   on_writable     deliver the records the host refused while the
 *                   reader was behind (ABI 1.1; cycle.hpp)
 *
 * Threads: every member runs on the host's callback thread for the session
 * (the loop by default; nothing here blocks). The provider is shared by
 * all sessions and must be thread-safe (provider.hpp).
 */
#pragma once

#include "bentos/driver/configured_stream.hpp"
#include "bentos/driver/host.hpp"
#include "bentos/inference/config.hpp"
#include "bentos/inference/cycle.hpp"
#include "bentos/inference/errors.hpp"
#include "bentos/inference/io.hpp"
#include "bentos/inference/outcomes.hpp"
#include "bentos/inference/provider.hpp"
#include "bentos/inference/queries.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace bentos::inference {

// The session config the host keeps: the settings plus the generation of
// the default_config() it descends from. A value type (the host copies it
// for every config ioctl).
struct driver_config {
  inference_config settings;
  uint64_t generation = 0;
};

// Per open file. Owned by the adapter's session box from session start to
// session end; touched only by that session's callbacks. The outcomes are
// shared with the cycle in flight (see outcomes.hpp).
struct driver_session {
  driver_session() = default;
  driver_session(const driver_session&) = delete;
  driver_session& operator=(const driver_session&) = delete;
  // A session ending with a call in flight (the host cancels first; this
  // is the safety net): stop both, in the same order as on_cancel.
  ~driver_session() { stop(); }

  void stop() {
    if (current_cycle) current_cycle->cancel();
    if (current_call) current_call->cancel();
    current_call.reset();
    current_cycle.reset();
  }

  std::shared_ptr<session_outcomes> outcomes = std::make_shared<session_outcomes>();
  std::shared_ptr<cycle> current_cycle;
  std::unique_ptr<call> current_call;
};

// The P4 inference driver. Owned by the host (through the adapter) from
// create to destroy; its provider is owned by it and dies with it.
class driver {
 public:
  using config_type = driver_config;
  using session_type = driver_session;

  // Throws bentos::error::invalid_argument without a provider (the device
  // is refused).
  driver(host_handle host, std::unique_ptr<inference::provider> p) : host_(host), provider_(std::move(p)) {
    if (!provider_) throw error::invalid_argument("inference: the driver needs a provider");
  }

  driver_config default_config() { return driver_config{{}, next_generation_.fetch_add(1) + 1}; }

  apply_result apply(uint32_t cmd, std::string_view in, driver_config& config) {
    return apply_config_ioctl(cmd, in, config.settings);
  }

  void process(driver_session& s, const record_list& records, const driver_config& config, record_stream out) {
    s.stop();  // the previous cycle is over (ended or cancelled) by now
    std::vector<message> messages = decode_input(records, config.settings.input_format);
    auto sink = std::make_shared<cycle>(std::move(out), config.settings.output_format, s.outcomes,
                                        config.generation, host_);
    s.current_cycle = sink;
    try {
      s.current_call = provider_->start(request{std::move(messages), config.settings}, sink);
    } catch (const provider_failure& f) {
      sink->disarm();
      s.outcomes->set_error(config.generation, f.failure());
      throw;
    } catch (...) {
      sink->disarm();
      throw;
    }
  }

  std::string on_query(driver_session& s, uint32_t cmd, const driver_config& config) {
    session_outcomes::snapshot now = s.outcomes->read(config.generation);
    // info() may build its answer each time: ask only for GET_INFO.
    capabilities caps = command_number(cmd) == command::get_info ? provider_->info() : capabilities{};
    return answer_query(cmd, query_state{now.last_metadata, now.last_error, caps});
  }

  void on_cancel(driver_session& s) { s.stop(); }

  void on_writable(driver_session& s) {
    if (s.current_cycle) s.current_cycle->writable();
  }

  inference::provider& provider() noexcept { return *provider_; }
  const host_handle& host() const noexcept { return host_; }

 private:
  host_handle host_;
  std::unique_ptr<inference::provider> provider_;
  // Shared by all sessions' default_config() calls, possibly on several
  // host workers at once.
  std::atomic<uint64_t> next_generation_{0};
};

}  // namespace bentos::inference
