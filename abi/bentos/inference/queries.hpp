/*
 * bentos/inference/queries.hpp - part of the inference subsystem (bentos/inference.hpp).
 * The read-direction ioctls of inference.md §3: 0x80 GET_METADATA, 0x81
 * GET_ERROR, 0x82 GET_INFO, answered in any state as compact JSON. Any
 * other command is EINVAL. Pure function: any thread.
 */
#pragma once

#include "bentos/driver/errors.hpp"
#include "bentos/inference/config.hpp"
#include "bentos/inference/json.hpp"
#include "bentos/inference/types.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace bentos::inference {

// What the queries read: the session's last outcomes and the device's
// capabilities. Views; valid during the answer_query call.
struct query_state {
  const std::optional<metadata>& last_metadata;
  const std::optional<provider_error>& last_error;
  const capabilities& info;
};

// The reply bytes of a query; `{}` stands for "none yet".
inline std::string answer_query(uint32_t cmd, const query_state& state) {
  std::optional<uint32_t> nr = command_number(cmd);
  switch (nr.value_or(0)) {
    case command::get_metadata: return state.last_metadata ? encode(*state.last_metadata) : "{}";
    case command::get_error: return state.last_error ? encode(*state.last_error) : "{}";
    case command::get_info: return encode(state.info);
    default: throw error::invalid_argument("inference: unknown command " + std::to_string(cmd));
  }
}

}  // namespace bentos::inference
