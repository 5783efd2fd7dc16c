#include "patterns/event_stream.h"

#include <cerrno>
#include <iterator>

#include "patterns/pattern.h"

namespace bentos::patterns {

using wire::OpKind;
using wire::Reply;

std::optional<Reply> event_stream_fixed_reply(OpKind op) {
  switch (op) {
    case OpKind::write: return Reply::error(EACCES);
    case OpKind::flush:
    case OpKind::fsync: return Reply::empty();
    case OpKind::ioctl: return Reply::error(ENOSYS);
    default: return std::nullopt;
  }
}

EventHub::EventHub(bool block_when_empty, uint64_t max_events)
    : block_when_empty_(block_when_empty), max_events_(max_events) {}

bool EventHub::add(ListenerId id, bool nonblocking, uint64_t after_sequence) {
  const bool first = listeners_.empty();
  auto [it, inserted] = listeners_.try_emplace(id);
  if (!inserted) return false;
  it->second.nonblocking = nonblocking;
  it->second.after_sequence = after_sequence;
  return first;
}

EventHub::RemoveResult EventHub::remove(ListenerId id) {
  RemoveResult result;
  auto it = listeners_.find(id);
  if (it == listeners_.end()) return result;
  result.was_listener = true;
  for (const ParkedRead& read : it->second.parked) {
    result.answers.push_back(ParkedAnswer{read.token, Reply::error(EIO)});
  }
  listeners_.erase(it);
  result.last = listeners_.empty();
  return result;
}

ParkedAnswers EventHub::emit(const Event& event, uint64_t sequence) {
  ParkedAnswers answers;
  if (!event || event->empty()) return answers;
  for (auto& [id, l] : listeners_) {
    if (sequence <= l.after_sequence) continue;  // emitted before it opened
    // The same shared event in every queue: one encoding, no copies.
    l.queue.push_back(event);
    serve_parked(l, answers);
    enforce_bound(l);
  }
  return answers;
}

EventHub::ReadResult EventHub::read(ListenerId id, uint64_t size, ReadToken token) {
  ReadResult result;
  auto it = listeners_.find(id);
  if (it == listeners_.end()) {
    result.reply = Reply::error(EIO);
    return result;
  }
  Listener& l = it->second;
  // Reads park only while the queue is empty (emit serves them first).
  if (!l.queue.empty() || size == 0) {
    result.reply = Reply::bytes(collect(l, size));
    return result;
  }
  if (!block_when_empty_) {
    result.reply = Reply::bytes({});
  } else if (l.nonblocking) {
    result.reply = Reply::error(EAGAIN);
  } else {
    l.parked.push_back(ParkedRead{token, size});
    result.parked = true;
  }
  return result;
}

uint32_t EventHub::poll(ListenerId id) const {
  auto it = listeners_.find(id);
  if (it == listeners_.end() || it->second.queue.empty()) return 0;
  return kPollIn;
}

size_t EventHub::queued(ListenerId id) const {
  auto it = listeners_.find(id);
  return it == listeners_.end() ? 0 : it->second.queue.size();
}

std::string EventHub::collect(Listener& l, uint64_t size) {
  std::string out;
  while (!l.queue.empty()) {
    const std::string& event = *l.queue.front();
    const size_t rest = event.size() - l.head_offset;
    const uint64_t room = size - out.size();
    if (rest <= room) {
      out.append(event, l.head_offset, rest);
      l.queue.pop_front();
      l.head_offset = 0;
      continue;
    }
    // [fix] Too long for what is left. Split it only when nothing was
    // collected (else it waits whole for the next read); either way the
    // reply never exceeds `size`.
    if (out.empty()) {
      const size_t n = static_cast<size_t>(room);
      out.append(event, l.head_offset, n);
      l.head_offset += n;
    }
    break;
  }
  return out;
}

void EventHub::serve_parked(Listener& l, ParkedAnswers& answers) {
  while (!l.parked.empty() && !l.queue.empty()) {
    const ParkedRead read = l.parked.front();
    l.parked.pop_front();
    answers.push_back(ParkedAnswer{read.token, Reply::bytes(collect(l, read.size))});
  }
}

void EventHub::enforce_bound(Listener& l) {
  while (l.queue.size() > max_events_) {
    // A partially read head stays; the oldest event not yet started goes.
    const bool keep_head = l.head_offset > 0 && l.queue.size() > 1;
    l.queue.erase(keep_head ? std::next(l.queue.begin()) : l.queue.begin());
    if (!keep_head) l.head_offset = 0;
    ++dropped_;
  }
}

}  // namespace bentos::patterns
