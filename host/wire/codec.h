// FuseMessage <-> Request/Reply. The only place that touches the generated
// protobuf classes (codec.cpp); callers see plain structs and bytes.
//
// Stateless functions; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "wire/ops.h"

namespace bentos::wire {

// Decodes one frame payload (without its length prefix). Returns false when
// the bytes are not a valid FuseMessage; a zero-length payload is valid and
// yields an all-default envelope (kind none). A message carrying a response
// instead of a request also yields kind none. out.data is a view into
// [data, data+len) when the fast parser decided, owned when the generated
// parser did (request_bytes.h): either way, use it only while the frame lives.
bool decode_request(const uint8_t* data, size_t len, Request& out);

class SegmentedOutput;

// Appends one framed reply (4-byte big-endian length + FuseMessage) to out,
// byte for byte what the generated encoder writes (reply_encoder.cpp).
void append_reply_frame(const Reply& reply, std::string& out);
// The same bytes into a connection's output, where large payload pieces
// (reply.data, reply.segments) are spliced in instead of copied: they are
// moved out of `reply`, which is left with only its scalars.
void append_reply_frame(Reply&& reply, SegmentedOutput& out);

// Appends one framed request; used by the client library and tests.
void append_request_frame(const Request& request, std::string& out);

// Decodes a reply payload (client side). Returns false when the bytes are
// not a FuseMessage carrying a response.
bool decode_reply(const uint8_t* data, size_t len, Reply& out);

namespace detail {
// decode_request through the generated protobuf parser only: the
// reference the fast path must agree with (tests, fuzz/fuzz_wire.cpp).
bool decode_request_generated(const uint8_t* data, size_t len, Request& out);
}  // namespace detail

}  // namespace bentos::wire
