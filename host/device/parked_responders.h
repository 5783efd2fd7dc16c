// Loop-side bookkeeping for parked reads: the state machines know a read
// only by its token; this maps tokens back to where the answer goes.
//
// Owned by one session (or device, for P3); loop thread only.
#pragma once

#include <unordered_map>

#include "patterns/parked_reads.h"
#include "device/link.h"

namespace bentos::device {

class ParkedResponders {
 public:
  patterns::ReadToken park(Responder r) {
    const patterns::ReadToken token = next_++;
    waiting_.emplace(token, std::move(r));
    return token;
  }
  // A token the machine answered at once was never needed.
  void forget(patterns::ReadToken token) { waiting_.erase(token); }
  // For a read that usually answers at once: take a token first, and file
  // the responder under it (park_as) only if the machine parked the read,
  // so an answered read costs no table entry. Nothing may answer the token
  // in between (answers arrive through the loop, after this op returns).
  patterns::ReadToken reserve() { return next_++; }
  void park_as(patterns::ReadToken token, Responder r) { waiting_.emplace(token, std::move(r)); }
  // Sends each answer to its read (answers for unknown tokens are dropped).
  void answer(patterns::ParkedAnswers&& answers) {
    for (auto& a : answers) {
      auto it = waiting_.find(a.token);
      if (it == waiting_.end()) continue;
      Responder r = std::move(it->second);
      waiting_.erase(it);
      r.send(std::move(a.reply));
    }
  }
  size_t size() const { return waiting_.size(); }

 private:
  patterns::ReadToken next_ = 1;
  std::unordered_map<patterns::ReadToken, Responder> waiting_;
};

}  // namespace bentos::device
