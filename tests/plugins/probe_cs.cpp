// probe_cs: a configured-stream (P4) plugin for host tests, written against
// the C ABI (driver.h) directly so that it can stream from threads, end
// late, end twice and keep yielding after a cancel on purpose. It keeps the
// ABI 1.0 name of the P4 cycle handle, bentos_stream, on purpose too: 1.0
// sources must still compile against the current driver.h.
//
// Config: {value: int32, default 0}. Codec (low 16 bits of cmd):
//   0x01 SET_VALUE   int32 little-endian (short payload: EINVAL)
//   0x03             the codec fails with EIO (a codec error passes through)
//   anything else    not mine (ENOTTY)
// Queries: 0x80 "value=<v>"; 0x81 the stats line below; 0x82 EPERM; else
// EINVAL.
//   stats: "cancels=<c> drains=<d> live=<l> ended=<e> configs=<k>
//   late_ok=<o> late_cancelled=<x> late_other=<y> end_rc=<r> refused=<f>
//   writable=<w>\n"
//   (sessions live/ended, config values not yet freed, the results of
//   yields made after a cancel, the result of the second end of "twice")
//
// A cycle's first record (trailing whitespace ignored) is the command:
//   fail-now         process returns -EINVAL (the submit fails at once)
//   fail-later       from a thread: yields "a", then end(-EIO)
//   slow:<ms>        from a thread: "r<k>\n" every 20 ms for ms, then end(0)
//   hold             from a thread: nothing until cancelled
//   threads:<n>[:<k>] n threads start together, each yields k (default 1)
//                    records "t<i>-<j>\n"; the last to finish ends(0)
//   empty            yields a zero-length record, then "x", then end(0)
//   config           yields "value=<v>" (the cycle's config), then end(0)
//   twice            yields "x", end(0), end(0) again (result kept: end_rc)
//   flood:<n>        from a thread: n records of 1 KiB; after a yield refused
//                    with -EAGAIN it waits for on_writable (ABI 1.1; 10 s at
//                    most) and retries the same record; then end(0), or
//                    end(-ETIMEDOUT) if on_writable never came
//   anything else    every input record back as one record, then end(0)
// A threaded cycle that is cancelled keeps yielding "late" every 10 ms for
// 100 ms (counted in late_*), then calls end(0), so tests can check that a
// cancelled stream's output is dropped safely. Destroy stops and joins
// every thread.

#include <bentos/driver.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

struct Config {
  int32_t value = 0;
};

// One cycle run by threads. Shared by its threads and the instance's job
// list (on_cancel finds it there); the atomics are its only mutable state.
struct Job {
  bentos_stream* stream;
  std::atomic<bool> cancelled{false};
  std::atomic<int> remaining{0};  // threads:<n> not yet done
};

// One device instance. Owned by the host from create to destroy. Callbacks
// run on the loop thread; the stream threads touch only their Job, the
// atomics and (under mutex_) jobs_ and stopping_. The destructor stops the
// waits and joins every thread.
class Probe {
 public:
  Probe(bentos_host* host, const bentos_host_services* services) : host_(host), services_(services) {}
  ~Probe() {
    halt_ = true;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  const bentos_host_services* services() const { return services_; }
  std::atomic<int64_t> cancels{0}, drains{0}, live{0}, ended{0}, configs{0}, refused{0}, writable{0};

  // ABI 1.1: a refused yield may be retried.
  void on_writable() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      writable.fetch_add(1);
    }
    wake_.notify_all();
  }

  int32_t process(const Config& config, const bentos_bytes* records, uint64_t count, bentos_stream* stream) {
    std::string_view first = count > 0 ? view(records[0]) : std::string_view();
    while (!first.empty() && (first.back() == '\n' || first.back() == '\r' || first.back() == ' ')) {
      first.remove_suffix(1);
    }
    uint64_t a = 0, b = 1;
    if (first == "fail-now") return -EINVAL;
    if (first == "fail-later") {
      return run(stream, [this](Job& job) {
        yield(job, "a");
        return -EIO;
      });
    }
    if (number_after(first, "slow:", a)) {
      return run(stream, [this, a](Job& job) {
        for (uint64_t k = 1; k * 20 <= a && !job.cancelled; ++k) {
          if (!sleep_for(20ms)) break;
          yield(job, "r" + std::to_string(k) + "\n");
        }
        return 0;
      });
    }
    if (first == "hold") {
      return run(stream, [this](Job& job) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || job.cancelled.load(); });
        return 0;
      });
    }
    if (threads_command(first, a, b)) return start_threads(stream, a, b);
    if (number_after(first, "flood:", a)) {
      return run(stream, [this, a](Job& job) {
        const std::string record(1024, 'f');
        for (uint64_t k = 0; k < a && !job.cancelled; ++k) {
          const int64_t seen = writable;
          const int32_t rc = services_->yield(job.stream, record.data(), record.size());
          if (rc != -EAGAIN) continue;
          refused.fetch_add(1);
          std::unique_lock<std::mutex> lock(mutex_);
          if (!wake_.wait_for(lock, 10s, [&] { return stopping_ || job.cancelled || writable != seen; })) {
            return -ETIMEDOUT;
          }
          --k;  // the same record again
        }
        return 0;
      });
    }
    if (first == "empty") {
      services_->yield(stream, "", 0);
      services_->yield(stream, "x", 1);
      services_->end(stream, 0);
      return 0;
    }
    if (first == "config") {
      std::string text = "value=" + std::to_string(config.value);
      services_->yield(stream, text.data(), text.size());
      services_->end(stream, 0);
      return 0;
    }
    if (first == "twice") {
      services_->yield(stream, "x", 1);
      services_->end(stream, 0);
      end_rc_.store(services_->end(stream, 0));
      return 0;
    }
    for (uint64_t i = 0; i < count; ++i) services_->yield(stream, records[i].data, records[i].len);
    services_->end(stream, 0);
    return 0;
  }

  void cancel(bentos_stream* stream) {
    cancels.fetch_add(1);
    services_->log(host_, BENTOS_LOG_DEBUG, "probe_cs: stream cancelled");
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& job : jobs_) {
        if (job->stream == stream) job->cancelled = true;
      }
    }
    wake_.notify_all();
  }

  std::string stats() const {
    return "cancels=" + std::to_string(cancels) + " drains=" + std::to_string(drains) + " live=" +
           std::to_string(live) + " ended=" + std::to_string(ended) + " configs=" + std::to_string(configs) +
           " late_ok=" + std::to_string(late_ok_) + " late_cancelled=" + std::to_string(late_cancelled_) +
           " late_other=" + std::to_string(late_other_) + " end_rc=" + std::to_string(end_rc_) +
           " refused=" + std::to_string(refused) + " writable=" + std::to_string(writable) + "\n";
  }

 private:
  static std::string_view view(const bentos_bytes& r) {
    return {reinterpret_cast<const char*>(r.data), r.data ? static_cast<size_t>(r.len) : 0};
  }
  static bool number(std::string_view s, uint64_t& n) {
    auto r = std::from_chars(s.data(), s.data() + s.size(), n);
    return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
  }
  static bool number_after(std::string_view s, std::string_view prefix, uint64_t& n) {
    return s.substr(0, prefix.size()) == prefix && number(s.substr(prefix.size()), n);
  }
  static bool threads_command(std::string_view s, uint64_t& n, uint64_t& k) {
    if (s.substr(0, 8) != "threads:") return false;
    s.remove_prefix(8);
    size_t colon = s.find(':');
    if (colon == std::string_view::npos) return number(s, n) && n > 0 && n <= 64;
    return number(s.substr(0, colon), n) && number(s.substr(colon + 1), k) && n > 0 && n <= 64;
  }

  // Sleeps unless destroy begins; false then.
  bool sleep_for(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mutex_);
    return !wake_.wait_for(lock, d, [this] { return stopping_; });
  }

  void yield(Job& job, std::string_view record) {
    services_->yield(job.stream, record.data(), record.size());
  }

  // After a cancel: "late" every 10 ms for 100 ms, results counted.
  void late_yields(Job& job) {
    for (int i = 0; i < 10 && sleep_for(10ms); ++i) {
      int32_t rc = services_->yield(job.stream, "late", 4);
      (rc == 0 ? late_ok_ : rc == -ECANCELED ? late_cancelled_ : late_other_).fetch_add(1);
    }
  }

  std::shared_ptr<Job> add_job(bentos_stream* stream) {
    auto job = std::make_shared<Job>();
    job->stream = stream;
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(job);
    return job;
  }
  void finish(const std::shared_ptr<Job>& job, int32_t error) {
    if (job->cancelled) late_yields(*job);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      std::erase(jobs_, job);
    }
    services_->end(job->stream, error);
  }

  // One thread runs body(job), whose result ends the stream.
  template <class Body>
  int32_t run(bentos_stream* stream, Body body) {
    auto job = add_job(stream);
    threads_.emplace_back([this, job, body] { finish(job, body(*job)); });
    return 0;
  }

  int32_t start_threads(bentos_stream* stream, uint64_t n, uint64_t k) {
    auto job = add_job(stream);
    job->remaining = static_cast<int>(n);
    auto ready = std::make_shared<std::atomic<uint64_t>>(0);
    for (uint64_t i = 0; i < n; ++i) {
      threads_.emplace_back([this, job, ready, i, n, k] {
        ready->fetch_add(1);
        while (ready->load() < n && !halt_) std::this_thread::yield();  // start together
        for (uint64_t j = 1; j <= k && !job->cancelled; ++j) {
          yield(*job, "t" + std::to_string(i) + "-" + std::to_string(j) + "\n");
        }
        if (job->remaining.fetch_sub(1) == 1) finish(job, 0);
      });
    }
    return 0;
  }

  bentos_host* host_;
  const bentos_host_services* services_;
  std::atomic<int64_t> late_ok_{0}, late_cancelled_{0}, late_other_{0};
  std::atomic<int32_t> end_rc_{0};
  std::atomic<bool> halt_{false};  // destroy began: stop waiting for a start
  std::vector<std::thread> threads_;  // loop thread only (process, destructor)
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;                   // guarded by mutex_
  std::vector<std::shared_ptr<Job>> jobs_;  // guarded by mutex_
};

Probe& probe(void* instance) { return *static_cast<Probe*>(instance); }

// The C callbacks. Only bad_alloc can be thrown; it stops at each of them.
template <class F>
auto barrier(F&& f) noexcept -> decltype(f()) {
  try {
    return f();
  } catch (...) {
    return -ENOMEM;
  }
}

int32_t cs_create(bentos_host* host, const bentos_host_services* services, const char*, uint64_t, void** instance,
                  char* errbuf, uint64_t errbuf_len) {
  if (errbuf && errbuf_len > 0) errbuf[0] = '\0';
  return barrier([&] {
    *instance = new Probe(host, services);
    return 0;
  });
}
void cs_destroy(void* instance) { delete &probe(instance); }

int32_t cs_session_start(void* instance, const bentos_session_info*, void** state) {
  probe(instance).live.fetch_add(1);
  *state = nullptr;
  return 0;
}
void cs_session_end(void* instance, void*) {
  probe(instance).live.fetch_sub(1);
  probe(instance).ended.fetch_add(1);
}

int32_t cs_config_default(void* instance, void** config) {
  return barrier([&] {
    *config = new Config();
    probe(instance).configs.fetch_add(1);
    return 0;
  });
}
int32_t cs_config_apply(void* instance, const void* config, uint32_t cmd, const uint8_t* in, uint64_t in_len,
                        void** new_config) {
  switch (cmd & 0xFFFF) {
    case 0x01: {
      if (in_len < 4) return -EINVAL;
      uint32_t v = in[0] | (in[1] << 8) | (in[2] << 16) | (static_cast<uint32_t>(in[3]) << 24);
      return barrier([&] {
        auto* next = new Config(*static_cast<const Config*>(config));
        next->value = static_cast<int32_t>(v);
        *new_config = next;
        probe(instance).configs.fetch_add(1);
        return 0;
      });
    }
    case 0x03:
      return -EIO;
    default:
      return -ENOTTY;
  }
}
void cs_config_free(void* instance, void* config) {
  delete static_cast<Config*>(config);
  probe(instance).configs.fetch_sub(1);
}

int32_t cs_process(void* instance, void*, const void* config, const bentos_bytes* records, uint64_t count,
                   bentos_stream* stream) {
  return barrier([&] { return probe(instance).process(*static_cast<const Config*>(config), records, count, stream); });
}

int32_t cs_on_query(void* instance, void*, const void* config, bentos_call* call, uint32_t cmd, const uint8_t*,
                    uint64_t, uint64_t) {
  return barrier([&] {
    std::string out;
    switch (cmd & 0xFFFF) {
      case 0x80:
        out = "value=" + std::to_string(static_cast<const Config*>(config)->value);
        break;
      case 0x81:
        out = probe(instance).stats();
        break;
      case 0x82:
        return -EPERM;
      default:
        return -EINVAL;
    }
    probe(instance).services()->complete_ioctl(call, 0, out.data(), out.size());
    return 0;
  });
}

void cs_on_cancel(void* instance, void*, bentos_stream* stream) {
  barrier([&] {
    probe(instance).cancel(stream);
    return 0;
  });
}
void cs_on_drain(void* instance, void*) { probe(instance).drains.fetch_add(1); }
void cs_on_writable(void* instance, void*) { probe(instance).on_writable(); }

constexpr bentos_configured_stream_ops cs_ops = {
    sizeof(bentos_configured_stream_ops),
    0,
    cs_session_start,
    cs_session_end,
    cs_config_default,
    cs_config_apply,
    cs_config_free,
    cs_process,
    cs_on_query,
    cs_on_cancel,
    cs_on_drain,
    cs_on_writable,
};

constexpr bentos_driver cs_driver = {
    sizeof(bentos_driver),
    BENTOS_ABI_MAJOR,
    BENTOS_ABI_MINOR,
    BENTOS_PATTERN_CONFIGURED_STREAM,
    "probe_cs",
    "0.0.0",
    "test plugin: configured-stream probe (threads, late ends, cancel)",
    BENTOS_THREADING_LOOP,
    0,
    cs_create,
    cs_destroy,
    &cs_ops,
};

}  // namespace

extern "C" BENTOS_EXPORT const bentos_driver* bentos_driver_entry_v1(uint32_t, uint32_t) { return &cs_driver; }
