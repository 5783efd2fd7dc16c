#include "loop/signal_stack.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace bentos::loop {

size_t SignalStack::size() {
  // The kernel's minimum for this CPU (AVX-512 state is large), with room
  // for the crash report's line buffer and the calls that write it.
  const long minimum = sysconf(_SC_MINSIGSTKSZ);
  return static_cast<size_t>(std::max(minimum, 0L)) + 64 * 1024;
}

SignalStack::SignalStack() noexcept {
  void* memory = std::malloc(size());
  if (!memory) return;
  stack_t stack{};
  stack.ss_sp = memory;
  stack.ss_size = size();
  if (sigaltstack(&stack, nullptr) != 0) {
    std::free(memory);
    return;
  }
  memory_ = memory;
}

SignalStack::~SignalStack() {
  if (!memory_) return;
  // Only while it is still this thread's alternate stack (a sanitizer's
  // runtime may have replaced it), and never while running on it.
  stack_t current{};
  if (sigaltstack(nullptr, &current) == 0 && current.ss_sp == memory_ && !(current.ss_flags & SS_ONSTACK)) {
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, nullptr);
    std::free(memory_);
  }
  // Otherwise it stays allocated: freeing a stack the kernel may still
  // use would be worse than keeping 64 KiB.
}

}  // namespace bentos::loop
