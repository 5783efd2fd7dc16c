#include "cpu_keeper.h"

#include <pthread.h>
#include <sched.h>

namespace bentos::bench {

bool pin_to_cpu(unsigned cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;
}

bool allow_all_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  const unsigned cpus = std::thread::hardware_concurrency();
  for (unsigned i = 0; i < (cpus == 0 ? 1 : cpus) && i < CPU_SETSIZE; ++i) CPU_SET(i, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;
}

bool CpuKeeper::start() {
  const unsigned cpus = std::thread::hardware_concurrency();
  for (unsigned i = 0; i < (cpus == 0 ? 1 : cpus); ++i) {
    std::atomic<int> ready{0};  // 1 = idle priority set, -1 = refused
    spinners_.emplace_back([this, &ready, i] {
      pin_to_cpu(i);
      sched_param param{};
      if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) != 0) {
        ready = -1;
        return;
      }
      ready = 1;
      while (!stop_.load(std::memory_order_relaxed)) {
      }
    });
    while (ready.load() == 0) std::this_thread::yield();
    if (ready.load() < 0) {
      stop_ = true;
      for (auto& t : spinners_) t.join();
      spinners_.clear();
      return false;
    }
  }
  return true;
}

CpuKeeper::~CpuKeeper() {
  stop_ = true;
  for (auto& t : spinners_) t.join();
}

}  // namespace bentos::bench
