// P2 write-then-read, one session (behavior.md §4, every [fix] row).
//
//   IDLE -> ACCUMULATING -> PROCESSING -> RESPONSE_READY -> IDLE
//
// A pure state machine: events in (write, flush, read, poll, completion),
// replies and "submit this request" actions out. The session layer calls the
// plugin's on_request when a step says submit, and feeds its answer back
// through complete(). No I/O, no plugin calls, no clocks.
//
// Owned by the session layer; used by one thread at a time (the loop).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "patterns/completion.h"
#include "wire/ops.h"

namespace bentos::patterns {

// What the session layer must do after a flush or read.
struct WriteReadStep {
  // Answer the triggering request now. Unset when `submit` is set: the
  // answer then comes from complete().
  std::optional<wire::Reply> reply;
  bool submit = false;
  std::string request;  // the whole accumulated input, when submit is set
};

class WriteReadMachine {
 public:
  enum class State { idle, accumulating, processing, response_ready };

  explicit WriteReadMachine(uint64_t max_request_bytes) : max_request_bytes_(max_request_bytes) {}

  // IDLE/ACCUMULATING: append, count = len (EFBIG, nothing appended, if the
  // cycle would exceed max_request_bytes). PROCESSING/RESPONSE_READY: EBUSY.
  wire::Reply write(std::string_view data);
  // ACCUMULATING: submit (answered by complete()). Otherwise success.
  WriteReadStep flush();
  // ACCUMULATING: submit, then deliver in the same reply. RESPONSE_READY:
  // deliver min(remaining, size). IDLE: EOF once right after a response was
  // read to its end, else EAGAIN. PROCESSING: EAGAIN.
  WriteReadStep read(uint64_t size);
  // IDLE/ACCUMULATING: POLLOUT; PROCESSING: 0; RESPONSE_READY: POLLIN.
  uint32_t poll() const;
  // The answer to the submitted on_request: a bytes completion is the
  // response; an error returns to IDLE and is the trigger's errno; any other
  // kind is a plugin bug answered EIO. Returns the triggering request's reply.
  wire::Reply complete(Completion answer);

  // Hands a submitted request's buffer back once the plugin is done with
  // it, so the next cycle's writes reuse its memory instead of allocating.
  // Ignored while this cycle's input is not empty.
  void recycle(std::string&& request_buffer);

  State state() const { return state_; }
  bool in_eof_window() const { return eof_window_; }
  size_t accumulated_bytes() const { return input_.size(); }

 private:
  enum class Trigger { flush, read };

  WriteReadStep submit(Trigger trigger, uint64_t read_size);
  wire::Reply deliver(uint64_t size);

  uint64_t max_request_bytes_;
  State state_ = State::idle;
  std::string input_;      // this cycle's writes, concatenated
  std::string response_;   // RESPONSE_READY: the response
  size_t delivered_ = 0;   // bytes of response_ already read
  bool eof_window_ = false;  // [fix] the next read after a full response is EOF
  Trigger trigger_ = Trigger::flush;
  uint64_t trigger_size_ = 0;
};

const char* write_read_state_name(WriteReadMachine::State state);

}  // namespace bentos::patterns
