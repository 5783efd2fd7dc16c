// Reads waiting for data, first come first served (behavior.md §3, §5, §6:
// "parked reads are served first come, first served"). A token is the
// session layer's handle for the waiting request; the pattern never looks
// inside it.
//
// Value type owned by a session state machine; single-threaded.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "wire/ops.h"

namespace bentos::patterns {

using ReadToken = uint64_t;

struct ParkedRead {
  ReadToken token;
  uint64_t size;
};

// An answer the session layer must send to a parked read.
struct ParkedAnswer {
  ReadToken token;
  wire::Reply reply;
};
using ParkedAnswers = std::vector<ParkedAnswer>;

}  // namespace bentos::patterns
