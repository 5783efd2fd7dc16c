// Process-wide malloc settings for the daemon (glibc only; elsewhere a
// no-op), applied once at start.
//
// Why: P1 output chunks (64 KiB each under bentos-bench's p1-stream) are
// allocated by a push and freed after the flush that wrote them, a batch
// at a time. With glibc's defaults a batch freed at the top of the heap
// (more than 128 KiB) is returned to the kernel at once (brk), and the next
// pushes fault the same pages back in: about 7 % of the host's time under
// p1-stream (page faults, TLB flushes, memcg uncharging), and 0.72x instead
// of 0.81x of the baseline (docs/performance.md). Keeping up to 16 MiB of
// freed heap for reuse, and serving blocks below 8 MiB from the heap rather
// than from a fresh mmap each, is where glibc's own adaptive thresholds
// head after large frees anyway; it starts there instead.
//
// An operator who sets glibc's malloc tunables (GLIBC_TUNABLES=...malloc...)
// keeps them: nothing is changed then.
//
// main() only, before the loop starts; not thread-safe.
#pragma once

namespace bentos::daemon {

void keep_freed_heap_for_reuse();

}  // namespace bentos::daemon
