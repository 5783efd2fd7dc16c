/*
 * bentos/inference.hpp - the inference subsystem of the C++ authoring layer:
 * language models as P4 configured-stream devices (/dev/llm/...), after
 * the normative contract in the project's inference.md.
 *
 * Header only, over bentos/driver.hpp; needs nlohmann/json (3.9 or newer)
 * on the include path, unlike the rest of the layer. Namespace
 * bentos::inference. A plugin writes one provider (provider.hpp) and
 * derives its driver class from bentos::inference::driver (driver.hpp).
 *
 * Layout (one concept per file under bentos/inference/, all included here):
 *   types.hpp     the data model: messages, parts, tools, usage, metadata,
 *                 provider errors, capabilities, chunks
 *   names.hpp     the enums' wire names, both ways
 *   json.hpp      exact JSON encoding and strict decoding of every type
 *   utf8.hpp      strict UTF-8 validation
 *   config.hpp    inference_config and its ioctl codec 0x01..0x0B
 *   queries.hpp   GET_METADATA, GET_ERROR, GET_INFO (0x80..0x82)
 *   io.hpp        input records -> messages; chunk -> output record
 *   errors.hpp    error kinds -> errno, HTTP status classification,
 *                 provider_failure
 *   provider.hpp  the provider / call / sink interface
 *   outcomes.hpp  a session's last_metadata / last_error, RESET-aware
 *   cycle.hpp     the sink of one P4 cycle
 *   driver.hpp    bentos::inference::driver, the P4 driver itself
 */
#pragma once

#include "bentos/driver.hpp"
#include "bentos/inference/types.hpp"
#include "bentos/inference/names.hpp"
#include "bentos/inference/json.hpp"
#include "bentos/inference/utf8.hpp"
#include "bentos/inference/config.hpp"
#include "bentos/inference/queries.hpp"
#include "bentos/inference/io.hpp"
#include "bentos/inference/errors.hpp"
#include "bentos/inference/provider.hpp"
#include "bentos/inference/outcomes.hpp"
#include "bentos/inference/cycle.hpp"
#include "bentos/inference/driver.hpp"
