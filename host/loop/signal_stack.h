// An alternate signal stack for the calling thread (sigaltstack(2)), so
// that a handler for a fatal signal (daemon/crash_report.cpp) still has a
// stack to run on when plugin code overflowed the thread's own: without
// one, the kernel cannot deliver SIGSEGV there and the process dies
// without a word. Each thread has its own alternate stack, so every host
// thread that runs plugin code makes one: the loop thread (main()), the
// executor's workers and the reload's lifecycle threads.
//
// Owned by the thread that made it (a local at the top of its function),
// destroyed on that thread. Harmless without a handler that asks for it
// (SA_ONSTACK).
#pragma once

#include <cstddef>

namespace bentos::loop {

class SignalStack {
 public:
  SignalStack() noexcept;  // without memory, the thread just has none
  ~SignalStack();
  SignalStack(const SignalStack&) = delete;
  SignalStack& operator=(const SignalStack&) = delete;

  // False when the stack could not be set up (no memory).
  bool active() const { return memory_ != nullptr; }
  static size_t size();

 private:
  void* memory_ = nullptr;
};

}  // namespace bentos::loop
