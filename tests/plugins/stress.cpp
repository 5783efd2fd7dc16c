// stress: a write-then-read (P2) plugin for host tests whose requests are
// completed from many threads at once, written against the C ABI
// (driver.h) directly so that it can complete one call several times.
//
// Requests (surrounding ASCII whitespace trimmed):
//   race:<k>     k threads (1..256) start together and each completes the
//                same call with "winner <i>\n"; the host must take exactly
//                one answer and refuse the rest (-ESTALE)
//   stats        "races=<r> wins=<w> stale=<s> other=<o>\n" over all races
//                so far: completions that returned 0, -ESTALE, anything
//                else. Answered from a thread once every race in flight
//                has finished, so after N races wins == N is exact.
//   pool:<text>  "<text>\n", completed by one of 4 pool threads; many such
//                requests on many sessions complete concurrently
//   anything else  -EINVAL
// Destroy stops the pool and joins every thread.

#include <bentos/driver.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

// One device instance. Owned by the host from create to destroy.
// on_request (loop thread) alone appends to threads_; the pool, race and
// stats threads share queue_, races_in_flight_ and stopping_ under mutex_,
// and count completions in atomics. The destructor stops and joins all.
class Stress {
 public:
  Stress(bentos_host* host, const bentos_host_services* services) : host_(host), services_(services) {
    for (int i = 0; i < 4; ++i) threads_.emplace_back([this] { pool_main(); });
  }
  Stress(const Stress&) = delete;
  Stress& operator=(const Stress&) = delete;
  ~Stress() {
    halt_ = true;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
    // Calls still queued were never answered; the host answers them EIO.
  }

  int32_t on_request(bentos_call* call, std::string_view text) {
    uint64_t n = 0;
    if (after(text, "race:", n)) {
      if (n < 1 || n > 256) return -EINVAL;
      start_race(call, n);
    } else if (text == "stats") {
      threads_.emplace_back([this, call] { answer_stats(call); });
    } else if (text.substr(0, 5) == "pool:") {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.emplace_back(call, std::string(text.substr(5)) + "\n");
      }
      wake_.notify_one();
    } else {
      return -EINVAL;
    }
    return 0;
  }

 private:
  static bool after(std::string_view text, std::string_view prefix, uint64_t& n) {
    if (text.substr(0, prefix.size()) != prefix) return false;
    std::string_view s = text.substr(prefix.size());
    auto r = std::from_chars(s.data(), s.data() + s.size(), n);
    return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
  }

  void start_race(bentos_call* call, uint64_t n) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++races_in_flight_;
    }
    races_.fetch_add(1);
    struct race {
      std::atomic<uint64_t> ready{0};
      std::atomic<uint64_t> left;
    };
    auto r = std::make_shared<race>();
    r->left = n;
    for (uint64_t i = 0; i < n; ++i) {
      threads_.emplace_back([this, call, r, i, n] {
        r->ready.fetch_add(1);
        while (r->ready.load() < n && !halt_) std::this_thread::yield();  // start together
        std::string text = "winner " + std::to_string(i) + "\n";
        int32_t rc = services_->complete_bytes(call, text.data(), text.size());
        (rc == 0 ? wins_ : rc == -ESTALE ? stale_ : other_).fetch_add(1);
        if (r->left.fetch_sub(1) == 1) {
          std::lock_guard<std::mutex> lock(mutex_);
          --races_in_flight_;
          wake_.notify_all();
        }
      });
    }
  }

  void answer_stats(bentos_call* call) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || races_in_flight_ == 0; });
    }
    std::string text = "races=" + std::to_string(races_) + " wins=" + std::to_string(wins_) +
                       " stale=" + std::to_string(stale_) + " other=" + std::to_string(other_) + "\n";
    services_->complete_bytes(call, text.data(), text.size());
  }

  void pool_main() {
    for (;;) {
      std::pair<bentos_call*, std::string> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      if (services_->complete_bytes(job.first, job.second.data(), job.second.size()) != 0) {
        services_->log(host_, BENTOS_LOG_DEBUG, "stress: a pool answer came too late");
      }
    }
  }

  bentos_host* host_;
  const bentos_host_services* services_;
  std::atomic<uint64_t> races_{0}, wins_{0}, stale_{0}, other_{0};
  std::atomic<bool> halt_{false};  // destroy began: stop waiting for a start
  std::vector<std::thread> threads_;  // constructor, on_request, destructor: loop thread
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;                                   // guarded by mutex_
  uint64_t races_in_flight_ = 0;                            // guarded by mutex_
  std::deque<std::pair<bentos_call*, std::string>> queue_;  // guarded by mutex_
};

std::string_view trim(std::string_view s) {
  constexpr std::string_view space = " \t\r\n\v\f";
  size_t begin = s.find_first_not_of(space);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(space) - begin + 1);
}

// The C callbacks: every exception stops here (only bad_alloc and
// std::system_error from thread creation can occur).

int32_t stress_create(bentos_host* host, const bentos_host_services* services, const char*, uint64_t,
                      void** instance, char* errbuf, uint64_t errbuf_len) {
  if (errbuf && errbuf_len > 0) errbuf[0] = '\0';
  try {
    *instance = new Stress(host, services);
    return 0;
  } catch (...) {
    return -ENOMEM;
  }
}

void stress_destroy(void* instance) { delete static_cast<Stress*>(instance); }

int32_t stress_on_request(void* instance, void*, bentos_call* call, const uint8_t* data, uint64_t len) {
  try {
    std::string_view request(reinterpret_cast<const char*>(data), data ? len : 0);
    return static_cast<Stress*>(instance)->on_request(call, trim(request));
  } catch (...) {
    return -EAGAIN;  // no thread could be started
  }
}

constexpr bentos_write_read_ops stress_ops = {
    sizeof(bentos_write_read_ops), 0, nullptr, nullptr, stress_on_request,
};

constexpr bentos_driver stress_driver = {
    sizeof(bentos_driver),
    BENTOS_ABI_MAJOR,
    BENTOS_ABI_MINOR,
    BENTOS_PATTERN_WRITE_READ,
    "stress",
    "0.0.0",
    "test plugin: completions racing from many threads",
    BENTOS_THREADING_LOOP,
    0,
    stress_create,
    stress_destroy,
    &stress_ops,
};

}  // namespace

extern "C" BENTOS_EXPORT const bentos_driver* bentos_driver_entry_v1(uint32_t, uint32_t) { return &stress_driver; }
