// P4 configured stream, one session (behavior.md §6, every [fix] row).
//
//   OPEN 0 -> CONFIGURED 1 -> PROCESSING 2 -> STREAMING 3 -> DRAINING 4
//   -> COMPLETE 5
//
// A pure state machine: records in (one per write), a submit that hands
// the cycle's records to the plugin's process(), records out (one per
// read, split at `size`), parked reads (FIFO), the framework ioctls on type
// byte 0xBE, and the stored stream error. It reports what the session layer
// must do (call process, on_cancel, on_drain, reset the config) in a Step;
// it never calls the plugin and never touches config values (the session
// layer owns those and asks config_writable() before storing one).
//
// Each submit starts a new cycle number; yields and ends carry the cycle
// they belong to, so output from a cancelled stream is recognised as stale
// and dropped.
//
// Owned by the session layer; loop thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "patterns/parked_reads.h"
#include "wire/ops.h"

namespace bentos::patterns {

enum class P4State : uint8_t {
  open = 0,
  configured = 1,
  processing = 2,
  streaming = 3,
  draining = 4,
  complete = 5,
};
const char* p4_state_name(P4State state);

// The framework ioctls (type byte 0xBE; bits 31..16 ignored).
inline constexpr uint32_t kP4IoctlType = 0xBE;
enum class P4Ioctl : uint8_t { get_state = 0, drain = 1, drop = 2, reset = 3, get_error = 4 };
bool is_framework_ioctl(uint32_t cmd);

struct P4Step {
  // The triggering request's answer now. Unset when the request was parked
  // (it is then answered through `answers` of a later step).
  std::optional<wire::Reply> reply;
  bool submit = false;               // call process(records) for `cycle`
  std::vector<std::string> records;  // when submit
  uint64_t cycle = 0;                // when submit
  bool cancel = false;               // call on_cancel (the stream was cancelled)
  bool drain = false;                // call on_drain (once per cycle, at stream end)
  bool reset_config = false;         // RESET: the config becomes the default
  ParkedAnswers answers;             // parked reads answered by this event
  bool stale = false;                // a yield/end for a cycle no longer current
};

class ConfiguredStreamMachine {
 public:
  ConfiguredStreamMachine(bool nonblocking, uint64_t max_request_bytes);

  // One record. OPEN -> CONFIGURED; CONFIGURED: appended; PROCESSING,
  // STREAMING, DRAINING: EBUSY; COMPLETE: clears the stored error, record,
  // -> CONFIGURED. EFBIG (nothing appended) when the cycle's records would
  // exceed max_request_bytes. Reply: count = len.
  P4Step write(std::string_view data);

  // flush and fsync: CONFIGURED -> submit (answered by process_started);
  // every other state: success.
  P4Step flush();

  // OPEN: EAGAIN. CONFIGURED: submit, then park (a non-blocking read still
  // submits, and waits only for process() to return: the submit's errno
  // if it failed at once, else a record yielded by then, else EAGAIN). PROCESSING: park.
  // STREAMING/DRAINING: deliver the head record (split at size), or park
  // if empty and not ended, or (ended and empty) -> COMPLETE with EOF or
  // the stored errno. COMPLETE: EOF or the stored errno, every time. A read of size 0 where a record would be
  // delivered answers buf{} and consumes nothing. Non-blocking: EAGAIN
  // wherever it would park.
  P4Step read(uint64_t size, ReadToken token);

  // process() for `cycle` returned `rc`. rc < 0 fails the submit at once:
  // queue and error cleared, -> CONFIGURED [fix], parked reads answer that
  // errno. `reply` is set only when the submit was triggered by flush/fsync:
  // it answers that request (empty success, or the errno). A read-triggered
  // submit's read is answered through `answers` (or was answered EAGAIN).
  // A cycle cancelled before this call still answers its flush but changes
  // nothing else (stale). A call for a cycle not awaiting it: stale, no reply.
  P4Step process_started(uint64_t cycle, int32_t rc);

  // One output record of `cycle`. The first moves PROCESSING -> STREAMING.
  // Zero-length records are never delivered [fix]: not queued, no state
  // change. Parked reads are served first. A yield for a cycle that is not
  // the current one, or after its end, is ignored with stale set.
  P4Step yield(uint64_t cycle, std::string_view record);

  // The end of `cycle`'s stream: 0 or a positive errno (stored, reported
  // on read and GET_ERROR). Queue empty -> COMPLETE (parked reads get EOF or
  // the errno), else DRAINING. drain is set once per cycle, whether the
  // stream ended with success or an error. A negative errno is taken as
  // its positive value. A second end, or one for another cycle: stale.
  P4Step end(uint64_t cycle, int32_t error);

  // A framework ioctl (is_framework_ioctl(cmd) is true).
  P4Step framework_ioctl(uint32_t cmd);

  // Config ioctls: a codec-recognised config may be stored only in OPEN or
  // CONFIGURED (else EBUSY); storing one moves OPEN -> CONFIGURED.
  bool config_writable() const;
  void config_stored();

  // OPEN, CONFIGURED: POLLOUT; PROCESSING: 0; STREAMING, DRAINING: POLLIN
  // if a record is queued, else 0; COMPLETE: POLLIN [fix].
  uint32_t poll() const;

  // The session ends. A stream in flight is cancelled (cancel set); with
  // `answer_parked` (a release) parked reads answer EIO [fix], otherwise
  // (disconnect) they are dropped. The session is left inert (OPEN, nothing
  // queued, every later yield/end stale), so a second call cancels nothing.
  P4Step end_session(bool answer_parked);

  P4State state() const { return state_; }
  uint64_t current_cycle() const { return cycle_; }
  bool stream_in_flight() const { return state_ == P4State::processing || state_ == P4State::streaming; }
  // A cycle DROP can cancel: in flight, or ended with records still queued.
  bool cycle_active() const { return stream_in_flight() || state_ == P4State::draining; }
  int32_t stored_error() const { return error_; }
  size_t queued_records() const { return output_.size(); }
  // Bytes of output queued and not yet read (for max_buffered_bytes).
  uint64_t queued_bytes() const { return output_bytes_; }
  size_t parked_reads() const { return parked_.size(); }

 private:
  // by_flush: the trigger was flush/fsync (process_started answers it).
  P4Step submit(bool by_flush);
  // Cancels the cycle: stale from now on, queue and error cleared.
  void cancel_cycle();
  // Serves parked reads from the queue, or ends them when the stream ended.
  void serve_parked(ParkedAnswers& answers);
  wire::Reply deliver_head(uint64_t size);
  wire::Reply finished_reply() const;  // EOF or the stored errno
  void answer_all_parked(const wire::Reply& reply, ParkedAnswers& answers);
  // True while `cycle` is the current cycle and its stream has not ended.
  bool accepting(uint64_t cycle) const;

  bool nonblocking_;
  uint64_t max_request_bytes_;
  P4State state_ = P4State::open;
  std::vector<std::string> records_;  // this cycle's input
  uint64_t records_bytes_ = 0;
  std::deque<std::string> output_;    // yielded records, never empty ones
  size_t head_offset_ = 0;            // bytes of output_.front() delivered
  uint64_t output_bytes_ = 0;         // bytes in output_ not yet delivered
  std::deque<ParkedRead> parked_;
  uint64_t next_cycle_ = 1;
  uint64_t cycle_ = 0;                // the current cycle; 0 = none
  bool ended_ = false;                // the current cycle's stream ended
  int32_t error_ = 0;                 // stored stream error (positive errno)
  uint64_t awaiting_start_ = 0;       // the cycle whose process_started is due
  bool flush_triggered_ = false;      // that cycle was submitted by flush/fsync
  // The non-blocking read that submitted the awaited cycle: parked until
  // process_started says whether the submit failed (§1.7).
  std::optional<ReadToken> nonblocking_submit_;
};

}  // namespace bentos::patterns
