// The client side of the wire for bentos-bench, without protobuf: appends
// framed requests (4-byte big-endian length + FuseMessage) straight into a
// send buffer and reads the few reply fields the scenarios check straight
// from the receive buffer, so the client allocates nothing per request and
// costs the same against the host and against the baseline.
//
// Stateless functions; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bentos::bench {

void append_open(std::string& out, uint64_t id, uint64_t fh, int32_t flags);
void append_write(std::string& out, uint64_t id, uint64_t fh, const char* data, size_t len);
void append_read(std::string& out, uint64_t id, uint64_t fh, uint64_t size);
void append_release(std::string& out, uint64_t id, uint64_t fh);

// What a frame says, as far as the bench cares. The baseline echoes
// request frames, so a request is read too (only its id then matters).
struct FrameView {
  uint64_t id = 0;
  uint64_t fh = 0;
  bool response = false;    // a FuseResponse (from the host)
  int32_t err = 0;          // response: positive errno, 0 on success
  uint32_t member = 0;      // response: the reply member's field number (8 open, 9 buf, 10 write...), 0 none
  const uint8_t* data = nullptr;  // buf: the data, pointing into the frame
  size_t data_len = 0;
  uint64_t count = 0;       // write: bytes taken
};

constexpr uint32_t kReplyOpen = 8;
constexpr uint32_t kReplyBuf = 9;
constexpr uint32_t kReplyWrite = 10;

// Reads one frame payload (without its length prefix); false when it is
// not a well-formed protobuf message.
bool read_frame(const uint8_t* payload, size_t len, FrameView& out);

}  // namespace bentos::bench
