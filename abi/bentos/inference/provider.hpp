/*
 * bentos/inference/provider.hpp - part of the inference subsystem (bentos/inference.hpp).
 * The provider interface: what a new model API implements (one class with
 * start(), plus the call it returns), and the sink it streams into.
 *
 * The life of one call:
 *
 *   driver (callback thread)          provider (its own threads)
 *   ------------------------          --------------------------
 *   c = p.start(request, sink)  --->  queue the transfer; return at once
 *                                     sink->chunk(...)  (0..n times)
 *                                     sink->finish(metadata)  or
 *                                     sink->fail(error)       (exactly once)
 *   c->cancel()  (DROP, RESET,  --->  abort the transfer at once; later
 *    release; maybe never)            sink calls are allowed and ignored
 *   c.reset()    (next cycle or       the call object goes; the transfer
 *    session end)                     may still be winding down
 *
 * Ownership, and why it is split this way: the driver owns the `call`
 * (unique_ptr, per session) and may destroy it at any time, so a provider
 * must not keep pointers to it. The provider co-owns the `sink`
 * (shared_ptr) for as long as its transfer can still produce output, so
 * the sink outlives any late callback without the driver waiting for the
 * provider's thread: cancel() and ~call never block. The provider object
 * itself is owned by the driver and outlives every call it started; its
 * destructor must stop its threads and release every sink it still holds.
 *
 * Threads: start() and info() run on the host's callback threads (the
 * loop thread, or host workers: several sessions at once), so they must
 * be safe to call concurrently and must not block on the network. The
 * sink may be called from any thread, but for one call never from two
 * threads at once. cancel() and ~call run on a callback thread, possibly
 * while the provider's thread is calling the sink.
 *
 * The design fits an HTTP client on one curl multi handle per device:
 * start() hands the request to the device's thread and returns a call
 * whose cancel() posts "abort this easy handle" to that thread and wakes
 * it; many calls stream at once on that one thread.
 */
#pragma once

#include "bentos/inference/config.hpp"
#include "bentos/inference/types.hpp"

#include <memory>
#include <vector>

namespace bentos::inference {

// What one call sends: the conversation and the session's settings (a
// copy: the provider keeps it as long as it needs).
struct request {
  std::vector<message> messages;
  inference_config config;
};

// Where a call's output goes. Implemented by the driver (one per cycle);
// shared by the provider while its transfer lives. Thread rules above.
class sink {
 public:
  virtual ~sink() = default;

  // One piece of output, in stream order. Never a `complete` chunk:
  // finish() writes that one (a `complete` given here is ignored). Returns
  // false when nobody wants more output (the cycle was cancelled or has
  // failed): the provider should abort the transfer then.
  virtual bool chunk(const inference::chunk& c) = 0;
  // The call succeeded: the driver writes the `complete` chunk, records
  // the metadata and ends the cycle. Exactly one of finish/fail per call;
  // any later call of either is ignored.
  virtual void finish(const metadata& m) = 0;
  // The call failed: the driver records the error (GET_ERROR 0x81 shows
  // its kind, message and provider_code, so none of them may ever hold the
  // API key) and ends the cycle with its errno.
  virtual void fail(const provider_error& e) = 0;
  // True once a record of this call reached the session's output. A
  // retryable error may be retried only while this is false (§6).
  virtual bool output_started() const = 0;
};

// One call in flight, as the driver holds it.
class call {
 public:
  // Destroying a call that is still running cancels it. Must not block.
  virtual ~call() = default;
  // Abort the transfer now (the server should see the connection close
  // within 100 ms). Idempotent, never blocks, never throws; the provider
  // then need not call finish() or fail().
  virtual void cancel() noexcept = 0;
};

// A model API. One per device instance, owned by the driver.
class provider {
 public:
  virtual ~provider() = default;
  // GET_INFO's answer (already including the device's overrides).
  virtual capabilities info() const = 0;
  // Start one call and return at once. The provider keeps `out` until the
  // call is over. A failure known before anything is sent (no API key)
  // throws provider_failure (recorded as last_error, the submit answers its
  // errno); any other throw fails the submit without touching last_error
  // (bentos::error::* keep their errno, anything else is EIO). A provider
  // that completes synchronously may call `out` before returning.
  virtual std::unique_ptr<call> start(request r, std::shared_ptr<sink> out) = 0;
};

}  // namespace bentos::inference
