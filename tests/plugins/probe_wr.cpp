// probe_wr: a write-then-read (P2) plugin for host tests, written against
// the C ABI (driver.h) directly so that it can misbehave on purpose:
// complete twice, never complete, complete late from another thread.
//
// Requests (surrounding ASCII whitespace trimmed):
//   sessions          "<live> <ended>\n": session_start minus session_end,
//                     and the number of session_end calls (instance-wide)
//   flags             open flags of the most recent session_start, "\n"
//   echo:<text>       "<text>", completed inline
//   thread:<ms>:<t>   "<t>", completed from another thread after ms
//   late:<ms>         "late\n", completed from another thread after ms
//   twice             completes "first", then "second" on the same call;
//                     the second completion's result is kept
//   last_rc           that result in decimal, "\n" (the host should give
//                     -ESTALE; 0 before any "twice")
//   hang              never completed
//   fail:<n>          on_request returns -n
//   empty             completed with 0 bytes
//   big:<n>           n bytes of 'x'
//   throw             throws a C++ exception out of on_request (through
//                     the C ABI: the host must contain it and answer EIO)
//   anything else     -EINVAL

#include <bentos/driver.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

// One device instance. Owned by the host from create to destroy. The
// counters are atomics because session hooks and requests may run on host
// workers; the thread list is guarded by mutex_. destroy() (the owner's
// last call) stops the waits early and joins every thread.
class Probe {
 public:
  Probe(bentos_host* host, const bentos_host_services* services) : host_(host), services_(services) {}

  ~Probe() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();  // never detached
  }

  void session_start(int32_t flags) {
    live_.fetch_add(1);
    last_flags_.store(flags);
  }
  void session_end() {
    live_.fetch_sub(1);
    ended_.fetch_add(1);
  }

  int32_t on_request(bentos_call* call, std::string_view text) {
    auto reply = [&](std::string_view out) { return services_->complete_bytes(call, out.data(), out.size()); };
    std::string_view arg;
    if (text == "sessions") {
      reply(std::to_string(live_.load()) + " " + std::to_string(ended_.load()) + "\n");
    } else if (text == "flags") {
      reply(std::to_string(last_flags_.load()) + "\n");
    } else if (after(text, "echo:", arg)) {
      reply(arg);
    } else if (after(text, "thread:", arg)) {
      size_t colon = arg.find(':');
      uint64_t ms = 0;
      if (colon == std::string_view::npos || !number(arg.substr(0, colon), ms)) return -EINVAL;
      later(call, ms, std::string(arg.substr(colon + 1)));
    } else if (after(text, "late:", arg)) {
      uint64_t ms = 0;
      if (!number(arg, ms)) return -EINVAL;
      later(call, ms, "late\n");
    } else if (text == "twice") {
      reply("first");
      last_rc_.store(reply("second"));
    } else if (text == "last_rc") {
      reply(std::to_string(last_rc_.load()) + "\n");
    } else if (text == "hang") {
      services_->log(host_, BENTOS_LOG_DEBUG, "probe_wr: leaving a call unanswered");
    } else if (after(text, "fail:", arg)) {
      uint64_t n = 0;
      if (!number(arg, n) || n > INT32_MAX) return -EINVAL;
      return -static_cast<int32_t>(n);
    } else if (text == "empty") {
      reply("");

    } else if (after(text, "big:", arg)) {
      uint64_t n = 0;
      if (!number(arg, n)) return -EINVAL;
      reply(std::string(n, 'x'));
    } else {
      return -EINVAL;
    }
    return 0;
  }

 private:
  static bool after(std::string_view text, std::string_view prefix, std::string_view& rest) {
    if (text.substr(0, prefix.size()) != prefix) return false;
    rest = text.substr(prefix.size());
    return true;
  }
  static bool number(std::string_view s, uint64_t& n) {
    auto r = std::from_chars(s.data(), s.data() + s.size(), n);
    return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
  }

  // Completes the call from a new thread after ms, or as soon as destroy
  // starts (the completion then most likely reports -ESTALE, which is fine).
  void later(bentos_call* call, uint64_t ms, std::string text) {
    std::lock_guard<std::mutex> lock(mutex_);
    threads_.emplace_back([this, call, ms, text = std::move(text)] {
      {
        std::unique_lock<std::mutex> wait_lock(mutex_);
        wake_.wait_for(wait_lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
      }
      services_->complete_bytes(call, text.data(), text.size());
    });
  }

  bentos_host* host_;
  const bentos_host_services* services_;
  std::atomic<int64_t> live_{0};
  std::atomic<int64_t> ended_{0};
  std::atomic<int32_t> last_flags_{0};
  std::atomic<int32_t> last_rc_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;            // guarded by mutex_
  std::vector<std::thread> threads_;  // guarded by mutex_
};

std::string_view trim(std::string_view s) {
  constexpr std::string_view space = " \t\r\n\v\f";
  size_t begin = s.find_first_not_of(space);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(space) - begin + 1);
}

// The C callbacks: every exception stops here (only bad_alloc can occur).

int32_t probe_create(bentos_host* host, const bentos_host_services* services, const char*, uint64_t,
                     void** instance, char* errbuf, uint64_t errbuf_len) {
  Probe* probe = new (std::nothrow) Probe(host, services);
  if (!probe) {
    if (errbuf && errbuf_len > 0) errbuf[0] = '\0';
    return -ENOMEM;
  }
  *instance = probe;
  return 0;
}

void probe_destroy(void* instance) { delete static_cast<Probe*>(instance); }

int32_t probe_session_start(void* instance, const bentos_session_info* info, void** state) {
  static_cast<Probe*>(instance)->session_start(info->open_flags);
  *state = nullptr;
  return 0;
}

void probe_session_end(void* instance, void*) { static_cast<Probe*>(instance)->session_end(); }

int32_t probe_on_request(void* instance, void*, bentos_call* call, const uint8_t* data, uint64_t len) {
  std::string_view request(reinterpret_cast<const char*>(data), data ? len : 0);
  // Misbehaviour on request: an exception that escapes into the host.
  if (trim(request) == "throw") throw std::runtime_error("probe_wr: thrown on purpose");
  try {
    return static_cast<Probe*>(instance)->on_request(call, trim(request));
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  } catch (...) {
    return -EIO;
  }
}

constexpr bentos_write_read_ops probe_ops = {
    sizeof(bentos_write_read_ops), 0, probe_session_start, probe_session_end, probe_on_request,
};

constexpr bentos_driver probe_driver = {
    sizeof(bentos_driver),
    BENTOS_ABI_MAJOR,
    BENTOS_ABI_MINOR,
    BENTOS_PATTERN_WRITE_READ,
    "probe_wr",
    "0.0.0",
    "test plugin: write-then-read probe",
    BENTOS_THREADING_LOOP,
    0,
    probe_create,
    probe_destroy,
    &probe_ops,
};

}  // namespace

extern "C" BENTOS_EXPORT const bentos_driver* bentos_driver_entry_v1(uint32_t, uint32_t) {
  return &probe_driver;
}
