// HttpEngine: many concurrent streaming HTTP requests on one thread.
//
// One curl multi handle, driven by one thread that the engine owns (the
// plugin makes one engine per device instance). Any number of transfers
// run on it at once: no thread per call, and the host's loop thread never
// waits for the network. Retries are not done here; the provider layer
// above decides from the status, the Retry-After header and the error kind.
//
// Ownership and threads: the engine is owned by its creator (the device).
// start(), cancel() and transfer_count() may be called from any thread,
// concurrently. Handlers are only ever called on the engine thread, one
// call at a time per engine, and must not block long: every transfer of
// the engine waits meanwhile. The destructor must not race with any other
// call and must not run on the engine thread (i.e. not from a handler).
//
// curl honours the usual proxy variables (https_proxy, no_proxy, ...) of
// the process environment.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bentos::llm {

struct HttpRequest {
  enum class Method { post, get };
  Method method = Method::post;
  std::string url;
  std::vector<std::string> headers;  // "Name: value" lines
  std::string body;                  // sent as is (POST)
  // Limit for the TCP (and TLS) connect; 0 = curl's default (300 s).
  long connect_timeout_ms = 10'000;
  // The transfer fails with HttpError::idle_timeout when no byte arrives
  // for this long: counted from start() until the first response byte
  // (connect and the provider's "thinking" time included) and then between
  // any two received bytes. 0 = no limit.
  long idle_timeout_ms = 60'000;
  // Wait this long before the transfer begins (a retry's backoff). The
  // engine thread keeps it on a timer, so nothing sleeps and cancel()
  // during the wait ends it at once; the idle clock starts when it begins.
  std::chrono::milliseconds start_delay{0};
};

struct HttpResponse {
  long status = 0;
  // In arrival order; names as the server sent them.
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header of that name (ASCII case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const;
  // Retry-After as a delay: delta-seconds or an HTTP-date (then relative
  // to `now`, the wall clock, never negative). Empty when absent or not
  // understood.
  std::optional<std::chrono::milliseconds> retry_after(
      std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;
};

enum class HttpError {
  none,                // the exchange completed (whatever the status)
  connection_refused,  // the peer refused the TCP connection
  network,             // any other network, DNS, TLS or protocol failure,
                       // including a connection lost mid-response
  idle_timeout,        // no byte for idle_timeout_ms
  cancelled,           // cancel() or the engine's destruction
};

const char* to_string(HttpError error);

struct HttpCompletion {
  HttpError error = HttpError::none;
  std::string message;  // curl's message for a failure, empty on success
  bool ok() const { return error == HttpError::none; }
};

// The callbacks of one transfer. For every started transfer: on_response
// at most once (when the response headers are complete; 1xx interim
// responses are skipped), then on_body zero or more times with the body
// bytes as they arrive (not decoded further), then on_complete exactly
// once. Every call is on the engine thread. A handler may call start() and
// cancel() of its own engine (also for its own transfer); it must not throw
// (on_response and on_body run inside curl's C callbacks: a throw there
// terminates the process) and must not wait for another engine's cancel()
// that could in turn wait for this engine.
struct HttpHandler {
  std::function<void(const HttpResponse&)> on_response;
  std::function<void(std::string_view)> on_body;
  std::function<void(const HttpCompletion&)> on_complete;
};

using TransferId = std::uint64_t;  // never 0, never reused by one engine

class HttpEngine {
 public:
  HttpEngine();
  // Stops the thread: every transfer not yet complete gets on_complete
  // (cancelled) on the engine thread, then the thread is joined.
  ~HttpEngine();
  HttpEngine(const HttpEngine&) = delete;
  HttpEngine& operator=(const HttpEngine&) = delete;

  // Queues the transfer and wakes the engine thread; never blocks on the
  // network. Even a request curl refuses ends with one on_complete.
  TransferId start(HttpRequest request, HttpHandler handler);

  // Aborts the transfer at once: its connection is closed (never reused)
  // and its handler gets on_complete(cancelled), unless it had completed
  // already. Returns true when this call cancelled it.
  //
  // Guarantee when called from any thread but the engine thread: cancel()
  // waits for the engine thread (one turn of its loop: the handler call in
  // progress, if any, plus the abort), so when it returns the handler has
  // run its last call, on_complete included, and is never called again.
  // Do not call it while holding a lock that a handler of this engine
  // takes.
  //
  // From a handler (the engine thread) it cannot wait for itself: the
  // transfer is marked, gets no further on_response/on_body, and its
  // on_complete(cancelled) follows after the calling handler returns.
  // Cancelling an id that is complete, unknown or already cancelled is a
  // no-op returning false.
  bool cancel(TransferId id);

  // The same abort, but never waits: it is queued for the engine thread,
  // which wakes and aborts at once (within its loop turn). Handler calls
  // already under way, or due in that turn, may still happen. For callers
  // that must not block (a provider's call::cancel on the host's thread)
  // and can ignore late calls themselves.
  void cancel_soon(TransferId id);

  // Transfers started and not yet complete (for tests and statistics).
  std::size_t transfer_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bentos::llm
