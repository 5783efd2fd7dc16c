// Keeps the machine's CPUs from going idle while bentos-bench measures.
//
// On a virtual machine an idle vCPU halts, and waking it again takes tens
// of microseconds: on this project's 2-core dev VM a sequential round trip
// then costs ~120 us instead of ~10, and the number measures the
// hypervisor, not the host. One spinning thread per CPU at SCHED_IDLE
// priority runs only when nothing else wants that CPU, so it keeps the
// vCPUs awake without taking time from the host, the client or the
// baseline (docs/performance.md, "What the machine adds").
//
// pin_to_cpu() places the sides: the client on one CPU, the server under
// test (host or baseline) on another, so both servers pay the same
// cross-CPU wake-ups (the kernel otherwise puts the baseline beside the
// client and the host elsewhere, and compares placements, not servers).
//
// Owned by main(); start() and the destructor on that thread.
#pragma once

#include <atomic>
#include <thread>
#include <vector>

namespace bentos::bench {

// Restricts the calling thread (and what it spawns or forks later) to
// `cpu`; false if that is not possible.
bool pin_to_cpu(unsigned cpu);
// Lets the calling thread (and what it spawns or starts later) run on
// every online CPU, whatever --placement pinned; false if refused.
bool allow_all_cpus();

class CpuKeeper {
 public:
  CpuKeeper() = default;
  ~CpuKeeper();  // stops and joins the spinners
  CpuKeeper(const CpuKeeper&) = delete;
  CpuKeeper& operator=(const CpuKeeper&) = delete;

  // Starts one SCHED_IDLE spinner on each online CPU; false (and nothing
  // running) if the scheduler refuses SCHED_IDLE.
  bool start();

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> spinners_;
};

}  // namespace bentos::bench
