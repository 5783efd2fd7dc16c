// bentos/inference/driver.hpp against a fake provider, through the P4
// adapter's C ops table (configured_stream.hpp) and a fake host: the test
// plays the host (session start, config ioctls, submit, DROP, RESET,
// release) and the provider (chunks, finish, fail), and reads what the
// host would have been given (records, the end, query replies).

#include <doctest/doctest.h>

#include <bentos/inference.hpp>

#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace inf = bentos::inference;

// ---- The fake host: what the C ABI's opaque handles point at here ----

struct bentos_host {
  std::mutex mutex;
  std::vector<std::string> log;
};

struct bentos_cycle {
  std::mutex mutex;
  std::vector<std::string> records;
  bool full = false;       // yield answers -EAGAIN (max_buffered_bytes)
  bool cancelled = false;  // DROP/RESET/release happened: yield answers -ECANCELED
  int ends = 0;
  int32_t end_error = 1;  // 1 = not ended
};

struct bentos_call {
  int calls = 0;
  int32_t result = 1;
  std::string data;
  int32_t error = 0;
};

namespace {

void fake_log(bentos_host* h, int32_t, const char* m) {
  std::lock_guard lock(h->mutex);
  h->log.emplace_back(m);
}
int32_t fake_complete_ioctl(bentos_call* c, int32_t result, const void* data, uint64_t len) {
  ++c->calls;
  c->result = result;
  c->data.assign(static_cast<const char*>(data), len);
  return 0;
}
int32_t fake_complete_error(bentos_call* c, int32_t err) {
  ++c->calls;
  c->error = err;
  return 0;
}
int32_t fake_yield(bentos_cycle* s, const void* data, uint64_t len) {
  std::lock_guard lock(s->mutex);
  if (s->ends > 0) return -ESTALE;
  if (s->cancelled) return -ECANCELED;
  if (s->full) return -EAGAIN;
  s->records.emplace_back(static_cast<const char*>(data), len);
  return 0;
}
int32_t fake_end(bentos_cycle* s, int32_t err) {
  std::lock_guard lock(s->mutex);
  if (s->ends++ > 0) return -ESTALE;
  s->end_error = err;
  return 0;
}
const char* fake_device_name(bentos_host*) { return "llm/test"; }

bentos_host_services make_services() {
  bentos_host_services s{};
  s.struct_size = sizeof(s);
  s.log = &fake_log;
  s.complete_ioctl = &fake_complete_ioctl;
  s.complete_error = &fake_complete_error;
  s.yield = &fake_yield;
  s.end = &fake_end;
  s.device_name = &fake_device_name;
  return s;
}
const bentos_host_services services = make_services();

// ---- The fake provider ----

// What the fake provider saw and holds. One per test, reached through a
// global because the adapter builds the driver (and so the provider).
struct provider_log {
  std::vector<inf::request> requests;
  std::vector<std::shared_ptr<inf::sink>> sinks;
  std::vector<std::shared_ptr<std::atomic<bool>>> cancelled;
  std::optional<inf::provider_error> refuse;     // start() throws provider_failure
  bool finish_at_once = false;                   // start() completes synchronously
  inf::capabilities caps;
};
provider_log* current_log = nullptr;

class fake_call final : public inf::call {
 public:
  explicit fake_call(std::shared_ptr<std::atomic<bool>> flag) : flag_(std::move(flag)) {}
  ~fake_call() override { cancel(); }
  void cancel() noexcept override { flag_->store(true); }

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
};

class fake_provider final : public inf::provider {
 public:
  inf::capabilities info() const override { return current_log->caps; }
  std::unique_ptr<inf::call> start(inf::request r, std::shared_ptr<inf::sink> out) override {
    provider_log& log = *current_log;
    if (log.refuse) throw inf::provider_failure(*log.refuse);
    log.requests.push_back(std::move(r));
    if (log.finish_at_once) {
      out->chunk(inf::text_delta{"now"});
      out->finish(inf::metadata{"m", inf::stop_reason::end_turn, std::nullopt});
    }
    log.sinks.push_back(out);
    log.cancelled.push_back(std::make_shared<std::atomic<bool>>(false));
    return std::make_unique<fake_call>(log.cancelled.back());
  }
};

// What a plugin writes: a driver class and a provider factory.
class test_driver : public inf::driver {
 public:
  test_driver(const bentos::device_config&, bentos::host_handle h) : driver(h, std::make_unique<fake_provider>()) {}
};

using adapter = bentos::detail::configured_stream_adapter<test_driver>;
const bentos_configured_stream_ops& ops = adapter::ops;

// One device instance and one session on it, driven like the host does.
struct fixture {
  bentos_host host;  // declared first: it outlives everything that may log
  provider_log provider;
  void* inst = nullptr;
  void* state = nullptr;
  void* config = nullptr;

  fixture() {
    current_log = &provider;
    char err[128] = {};
    REQUIRE(adapter::create(&host, &services, "null", 4, &inst, err, sizeof err) == 0);
    bentos_session_info info{sizeof(bentos_session_info), 2, 7, 1, nullptr};
    REQUIRE(ops.session_start(inst, &info, &state) == 0);
    REQUIRE(ops.config_default(inst, &config) == 0);
  }
  ~fixture() {
    ops.session_end(inst, state);
    ops.config_free(inst, config);
    adapter::destroy(inst);
    current_log = nullptr;
  }

  // A config ioctl: 0 (stored), -ENOTTY (not the codec's) or -errno.
  int32_t ioctl(uint32_t cmd, const std::string& in) {
    void* fresh = nullptr;
    int32_t rc = ops.config_apply(inst, config, cmd, reinterpret_cast<const uint8_t*>(in.data()), in.size(), &fresh);
    if (rc == 0) {
      ops.config_free(inst, config);
      config = fresh;
    }
    return rc;
  }
  // A query: the reply bytes, or "errno N".
  std::string query(uint32_t cmd) {
    bentos_call call;
    int32_t rc = ops.on_query(inst, state, config, &call, cmd, nullptr, 0, 4096);
    if (rc < 0) return "errno " + std::to_string(-rc);
    REQUIRE(call.calls == 1);
    CHECK(call.result == 0);
    return call.data;
  }
  // A submit of `records` into `stream`: process()'s result.
  int32_t submit(const std::vector<std::string>& records, bentos_cycle& stream) {
    std::vector<bentos_bytes> views;
    for (const auto& r : records) views.push_back({reinterpret_cast<const uint8_t*>(r.data()), r.size()});
    return ops.process(inst, state, config, views.data(), views.size(), &stream);
  }
  // DROP or RESET with a cycle in flight: the host marks the stream
  // cancelled, then calls on_cancel; RESET also replaces the config.
  void drop(bentos_cycle& stream) {
    {
      std::lock_guard lock(stream.mutex);
      stream.cancelled = true;
    }
    ops.on_cancel(inst, state, &stream);
  }
  void reset() {
    ops.config_free(inst, config);
    config = nullptr;
    REQUIRE(ops.config_default(inst, &config) == 0);
  }
  inf::sink& sink(size_t k) { return *provider.sinks.at(k); }
};

const inf::metadata md_a{"model-a", inf::stop_reason::end_turn, inf::usage{5, 7, std::nullopt, std::nullopt, std::nullopt}};
const inf::metadata md_b{"model-b", inf::stop_reason::max_tokens, std::nullopt};
const inf::provider_error rate_limited{inf::error_kind::rate_limited, "slow down", "rate_limit_error", std::nullopt};

}  // namespace

TEST_CASE("the adapter finds every piece of the driver") {
  CHECK(adapter::bytes_process);
  CHECK(adapter::has_apply);
  CHECK(adapter::query_plain);
  CHECK(adapter::has_cancel);
  CHECK(bool(ops.on_query));
  CHECK(bool(ops.config_apply));
}

TEST_CASE("unstructured: the input becomes one user message; text_delta text is the output") {
  fixture f;
  REQUIRE(f.ioctl(0x01, std::string("\x00\x01\x00\x00", 4)) == 0);  // max_tokens 256
  REQUIRE(f.ioctl(0x0B, "Be brief.") == 0);
  bentos_cycle out;
  REQUIRE(f.submit({"Why is the sky ", "blue?"}, out) == 0);
  REQUIRE(f.provider.requests.size() == 1);
  const inf::request& r = f.provider.requests[0];
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0] == inf::message{inf::role::user, {inf::text_part{"text/plain", "Why is the sky blue?"}}, {}, {}});
  CHECK(r.config.max_tokens == 256);
  CHECK(r.config.system == "Be brief.");

  CHECK_FALSE(f.sink(0).output_started());
  CHECK(f.sink(0).chunk(inf::thinking_delta{"Rayleigh..."}));
  CHECK_FALSE(f.sink(0).output_started());  // no record for thinking here
  CHECK(f.sink(0).chunk(inf::text_delta{"Rayleigh "}));
  CHECK(f.sink(0).output_started());
  CHECK(f.sink(0).chunk(inf::tool_call_start{"t", "f"}));
  CHECK(f.sink(0).chunk(inf::text_delta{"scattering."}));
  CHECK(out.ends == 0);
  f.sink(0).finish(md_a);
  CHECK(out.records == std::vector<std::string>{"Rayleigh ", "scattering."});
  CHECK(out.ends == 1);
  CHECK(out.end_error == 0);
  CHECK(f.query(0x80) == inf::encode(md_a));
  CHECK(f.query(0x81) == "{}");
  // Anything after the end is ignored.
  CHECK_FALSE(f.sink(0).chunk(inf::text_delta{"late"}));
  f.sink(0).fail(rate_limited);
  CHECK(out.ends == 1);
  CHECK(f.query(0x81) == "{}");
}

TEST_CASE("structured: JSON in, one JSON record per chunk out, complete last") {
  fixture f;
  REQUIRE(f.ioctl(0x06, std::string(1, '\1')) == 0);
  REQUIRE(f.ioctl(0x07, std::string(1, '\1')) == 0);
  bentos_cycle out;
  REQUIRE(f.submit({R"({"role":"user","content":[{"mime_type":"text/plain","text":"weather?"}]})",
                    R"({"role":"assistant","content":[]})"},
                   out) == 0);
  REQUIRE(f.provider.requests.at(0).messages.size() == 2);
  CHECK(f.provider.requests[0].messages[1].role == inf::role::assistant);

  std::vector<inf::chunk> chunks{inf::thinking_delta{"t"}, inf::redacted_thinking_delta{"r"},
                                 inf::tool_call_start{"toolu_1", "get_weather"}, inf::tool_call_delta{"toolu_1", "{\"c"},
                                 inf::text_delta{"ok"}};
  std::vector<std::string> expected;
  for (const auto& c : chunks) {
    CHECK(f.sink(0).chunk(c));
    expected.push_back(inf::encode(c));
  }
  CHECK(f.sink(0).chunk(inf::complete{md_b}));  // ignored: finish() writes it
  f.sink(0).finish(md_a);
  expected.push_back(inf::encode(inf::chunk{inf::complete{md_a}}));
  CHECK(out.records == expected);
  CHECK(out.end_error == 0);
  CHECK(f.query(0x80) == inf::encode(md_a));
}

TEST_CASE("a provider error: last_error, the errno; success keeps last_error; failure keeps last_metadata") {
  fixture f;
  bentos_cycle one, two, three;
  REQUIRE(f.submit({"a"}, one) == 0);
  f.sink(0).finish(md_a);
  REQUIRE(f.submit({"b"}, two) == 0);
  f.sink(1).chunk(inf::text_delta{"partial"});
  f.sink(1).fail(rate_limited);
  CHECK(two.records == std::vector<std::string>{"partial"});
  CHECK(two.end_error == -EAGAIN);
  CHECK(f.query(0x81) == R"({"kind":"rate_limited","message":"slow down","provider_code":"rate_limit_error"})");
  CHECK(f.query(0x80) == inf::encode(md_a));

  REQUIRE(f.submit({"c"}, three) == 0);
  f.sink(2).finish(md_b);
  CHECK(three.end_error == 0);
  CHECK(f.query(0x80) == inf::encode(md_b));
  CHECK(f.query(0x81) == inf::encode(rate_limited));  // a success does not clear it
}

TEST_CASE("the cycle ends with each kind's errno, ECONNREFUSED when refused") {
  for (auto [kind, err] : std::vector<std::pair<inf::error_kind, int>>{{inf::error_kind::authentication, EACCES},
                                                                        {inf::error_kind::context_exceeded, E2BIG},
                                                                        {inf::error_kind::overloaded, EBUSY},
                                                                        {inf::error_kind::timeout, ETIMEDOUT}}) {
    fixture f;
    bentos_cycle out;
    REQUIRE(f.submit({"x"}, out) == 0);
    f.sink(0).fail(inf::provider_error{kind, "m", std::nullopt, std::nullopt});
    CHECK(out.end_error == -err);
  }
  fixture f;
  bentos_cycle out;
  REQUIRE(f.submit({"x"}, out) == 0);
  f.sink(0).fail(inf::provider_error{inf::error_kind::network_error, "refused", std::nullopt, ECONNREFUSED});
  CHECK(out.end_error == -ECONNREFUSED);
  CHECK(f.query(0x81) == R"({"kind":"network_error","message":"refused"})");
}

TEST_CASE("RESET clears last_metadata and last_error; an older cycle's late result is ignored") {
  fixture f;
  bentos_cycle one, two, three;
  REQUIRE(f.submit({"a"}, one) == 0);
  f.sink(0).finish(md_a);
  REQUIRE(f.submit({"b"}, two) == 0);
  f.sink(1).fail(rate_limited);
  REQUIRE(f.ioctl(0x01, std::string("\x10\x00\x00\x00", 4)) == 0);  // a config ioctl is no RESET
  CHECK(f.query(0x80) == inf::encode(md_a));
  CHECK(f.query(0x81) == inf::encode(rate_limited));

  f.reset();  // RESET in COMPLETE: no on_cancel, a fresh config only
  CHECK(f.query(0x80) == "{}");
  CHECK(f.query(0x81) == "{}");

  // RESET while a call streams: on_cancel aborts it, and its late finish
  // is neither recorded nor written.
  REQUIRE(f.submit({"c"}, three) == 0);
  f.drop(three);
  f.reset();
  CHECK(f.provider.cancelled.at(2)->load());
  f.sink(2).finish(md_b);
  f.sink(2).fail(rate_limited);
  CHECK(f.query(0x80) == "{}");
  CHECK(f.query(0x81) == "{}");
  CHECK(three.records.empty());
}

TEST_CASE("RESET clears outcomes even when a stale cycle reports after it") {
  // A call that finishes after RESET without on_cancel having reached it
  // (it ended as the RESET came) belongs to the old generation.
  fixture f;
  bentos_cycle out;
  REQUIRE(f.submit({"a"}, out) == 0);
  std::shared_ptr<inf::sink> kept = f.provider.sinks.at(0);
  f.reset();
  kept->finish(md_a);
  CHECK(f.query(0x80) == "{}");
}

TEST_CASE("DROP aborts the call, ends the stream, and later output is ignored") {
  fixture f;
  REQUIRE(f.ioctl(0x07, std::string(1, '\1')) == 0);
  bentos_cycle out;
  REQUIRE(f.submit({"a"}, out) == 0);
  CHECK(f.sink(0).chunk(inf::text_delta{"x"}));
  f.drop(out);
  CHECK(f.provider.cancelled.at(0)->load());
  CHECK(out.ends == 1);
  CHECK_FALSE(f.sink(0).chunk(inf::text_delta{"y"}));
  f.sink(0).finish(md_a);
  CHECK(out.records.size() == 1);
  CHECK(f.query(0x80) == "{}");
  // The session goes on: the next cycle works.
  bentos_cycle next;
  REQUIRE(f.submit({"b"}, next) == 0);
  f.sink(1).finish(md_b);
  CHECK(next.end_error == 0);
  CHECK(f.query(0x80) == inf::encode(md_b));
}

TEST_CASE("release with a call in flight aborts it") {
  bentos_cycle out;
  std::shared_ptr<std::atomic<bool>> cancelled;
  {
    fixture f;
    REQUIRE(f.submit({"a"}, out) == 0);
    cancelled = f.provider.cancelled.at(0);
    CHECK_FALSE(cancelled->load());
  }  // session_end without on_cancel (the safety net)
  CHECK(cancelled->load());
  CHECK(out.ends == 1);
}

TEST_CASE("bad input fails the submit with EINVAL and never reaches the provider") {
  fixture f;
  bentos_cycle out;
  CHECK(f.submit({"caf\xc3"}, out) == -EINVAL);
  REQUIRE(f.ioctl(0x06, std::string(1, '\1')) == 0);
  CHECK(f.submit({"not json"}, out) == -EINVAL);
  CHECK(f.submit({R"({"role":"robot"})"}, out) == -EINVAL);
  CHECK(f.provider.requests.empty());
  CHECK(out.ends == 0);
  CHECK(f.query(0x81) == "{}");
}

TEST_CASE("a failure before the call (no API key): the submit answers its errno and sets last_error") {
  fixture f;
  f.provider.refuse = inf::provider_error{inf::error_kind::authentication, "no API key configured", std::nullopt, {}};
  bentos_cycle out;
  CHECK(f.submit({"hi"}, out) == -EACCES);
  CHECK(out.ends == 0);  // a failed process() must not end the stream
  CHECK(f.query(0x81) == R"({"kind":"authentication","message":"no API key configured"})");
}

TEST_CASE("a provider that finishes inside start()") {
  fixture f;
  f.provider.finish_at_once = true;
  bentos_cycle out;
  CHECK(f.submit({"hi"}, out) == 0);
  CHECK(out.records == std::vector<std::string>{"now"});
  CHECK(out.end_error == 0);
  CHECK(f.query(0x80) == R"({"model":"m","stop_reason":"end_turn"})");
}

TEST_CASE("config ioctls and queries through the ops table") {
  fixture f;
  CHECK(f.ioctl(0x01, "\x01") == -EINVAL);
  CHECK(f.ioctl(0x06, "\x05") == -EINVAL);
  CHECK(f.ioctl(0x08, "[{") == -EINVAL);
  CHECK(f.ioctl(0x0B, "\xff") == -EINVAL);
  CHECK(f.ioctl(0x80, "") == -ENOTTY);  // not the codec's: the host asks on_query
  CHECK(f.ioctl(0x33, "") == -ENOTTY);
  CHECK(f.query(0x33) == "errno 22");
  CHECK(f.query(0x7F) == "errno 22");
  f.provider.caps.model = "claude-x";
  f.provider.caps.provider = "anthropic";
  CHECK(f.query(0x82) == inf::encode(f.provider.caps));
  CHECK(f.query((2u << 30) | (0x1000u << 16) | 0x82) == inf::encode(f.provider.caps));
}

TEST_CASE("back-pressure: refused records wait in order; the end waits for on_writable to deliver them") {
  fixture f;
  bentos_cycle out;
  REQUIRE(f.submit({"a"}, out) == 0);
  out.full = true;
  CHECK(f.sink(0).chunk(inf::text_delta{"1"}));
  CHECK(f.sink(0).chunk(inf::text_delta{"2"}));
  CHECK(out.records.empty());
  CHECK_FALSE(f.sink(0).output_started());
  out.full = false;
  CHECK(f.sink(0).chunk(inf::text_delta{"3"}));
  CHECK(out.records == std::vector<std::string>{"1", "2", "3"});
  out.full = true;
  CHECK(f.sink(0).chunk(inf::text_delta{"4"}));
  f.sink(0).finish(md_a);
  CHECK(out.ends == 0);  // "4" waits: no end yet
  CHECK(out.records.size() == 3);
  CHECK(f.query(0x80) == inf::encode(md_a));  // the call itself succeeded
  REQUIRE(bool(ops.on_writable));
  ops.on_writable(f.inst, f.state);  // still full: nothing changes
  CHECK(out.ends == 0);
  out.full = false;
  ops.on_writable(f.inst, f.state);
  CHECK(out.records == std::vector<std::string>{"1", "2", "3", "4"});
  CHECK(out.ends == 1);
  CHECK(out.end_error == 0);
}

TEST_CASE("back-pressure: a failed call's errno also waits for the records before it") {
  fixture f;
  bentos_cycle out;
  REQUIRE(f.submit({"a"}, out) == 0);
  out.full = true;
  CHECK(f.sink(0).chunk(inf::text_delta{"1"}));
  f.sink(0).fail(rate_limited);
  CHECK(out.ends == 0);
  out.full = false;
  ops.on_writable(f.inst, f.state);
  CHECK(out.records == std::vector<std::string>{"1"});
  CHECK(out.end_error == -EAGAIN);
}

TEST_CASE("back-pressure: more than max_pending_bytes waiting -> ENOBUFS and the call is told to stop") {
  fixture f;
  bentos_cycle out;
  REQUIRE(f.submit({"a"}, out) == 0);
  out.full = true;
  const std::string big(1u << 20, 'x');
  bool wanted = true;
  for (int k = 0; k < 9 && wanted; ++k) wanted = f.sink(0).chunk(inf::text_delta{big});
  CHECK_FALSE(wanted);
  CHECK(out.end_error == -ENOBUFS);
  out.full = false;
  ops.on_writable(f.inst, f.state);  // nothing left to deliver
  CHECK(out.records.empty());
  CHECK(out.ends == 1);
}

TEST_CASE("the sink may be fed from another thread") {
  fixture f;
  bentos_cycle out;
  REQUIRE(f.submit({"a"}, out) == 0);
  std::shared_ptr<inf::sink> s = f.provider.sinks.at(0);
  std::thread provider_thread([s] {
    for (int k = 0; k < 100; ++k) s->chunk(inf::text_delta{std::to_string(k)});
    s->finish(md_a);
  });
  provider_thread.join();
  REQUIRE(out.records.size() == 100);
  CHECK(out.records[99] == "99");
  CHECK(out.end_error == 0);
}

TEST_CASE("a cancel racing the provider thread ends the stream exactly once") {
  for (int round = 0; round < 20; ++round) {
    fixture f;
    bentos_cycle out;
    REQUIRE(f.submit({"a"}, out) == 0);
    std::shared_ptr<inf::sink> s = f.provider.sinks.at(0);
    std::thread provider_thread([s] {
      for (int k = 0; k < 50 && s->chunk(inf::text_delta{"x"}); ++k) {
      }
      s->finish(md_a);
    });
    f.drop(out);
    provider_thread.join();
    CHECK(out.ends == 1);
    std::lock_guard lock(out.mutex);
    CHECK((out.end_error == 0 || out.end_error == -ECANCELED));
  }
}
