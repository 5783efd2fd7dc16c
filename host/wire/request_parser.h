// The fast path of decode_request: reads the request shapes bentosd sends
// (one envelope, one op among open..poll, each field at most once, with
// the schema's wire types) straight from the frame bytes, into a Request,
// without protobuf objects. Anything else (FUSE-only ops, responses,
// unknown or repeated fields, odd encodings, malformed bytes) is left to
// the generated parser, which decides exactly as before.
//
// Write data and ioctl in_buf are not copied: Request::data views them in
// the frame (request_bytes.h), so the frame must outlive the Request's use.
//
// Stateless; any thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/ops.h"

namespace bentos::wire {

// True when `out` now holds exactly what the generated parser would have
// produced; false when the generated parser must decide (out unspecified).
bool parse_request_fast(const uint8_t* data, size_t len, Request& out);

}  // namespace bentos::wire
