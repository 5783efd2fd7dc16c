/*
 * bentos/driver.hpp - the C++ authoring layer over bentos/driver.h.
 *
 * Header only; needs the C++20 standard library and nothing else (no
 * protobuf, no libuv, no JSON library). A driver author writes one class
 * with domain callbacks and one macro line; the layer produces the exported
 * entry function, the static descriptor, the ops table and the exception
 * barrier, so no C++ exception ever crosses the C boundary:
 * bentos::error::* becomes its errno, anything else EIO (logged).
 *
 * Every driver class has a constructor taking (const bentos::device_config&,
 * bentos::host_handle), (const bentos::device_config&) or nothing; a throw
 * from it refuses the device. Patterns with sessions (raw, P1, P2, P4)
 * give each open file a `session_type` if the class declares one, and
 * every per-session callback may be written with or without it as its
 * first parameter. One macro per pattern, one pattern per plugin:
 *
 *   Raw (L1), driver/raw.hpp: every op by hand.
 *     struct Hello {
 *       struct session_type { bool greeted = false; };
 *       std::string on_read(session_type& s, const bentos::read_request& r);
 *     };
 *     BENTOS_RAW_DRIVER(Hello, "hello", "1.0.0", "says hello");
 *
 *   Pure stream (P1), driver/stream.hpp: bytes in, pushed bytes out.
 *     struct Echo {
 *       size_t on_data(std::string_view in, bentos::stream_output out) {
 *         return out.push(in) == bentos::push_result::ok ? in.size() : 0;
 *       }
 *     };
 *     BENTOS_STREAM_DRIVER(Echo, "echo", "1.0.0", "echoes");
 *
 *   Write-read (P2), driver/write_read.hpp: one request, one response.
 *     struct Kv { std::string on_request(std::string_view request); };
 *     BENTOS_WRITE_READ_DRIVER(Kv, "kv", "1.0.0", "a key-value store");
 *
 *   Event stream (P3), driver/event_stream.hpp: events to every listener.
 *     struct Bell {
 *       explicit Bell(const bentos::device_config&, bentos::host_handle h) : host(h) {}
 *       void on_activate() { host.emit("ring\n"); }
 *       bentos::host_handle host;
 *     };
 *     BENTOS_EVENT_STREAM_DRIVER(Bell, "bell", "1.0.0", "rings once per activation");
 *
 *   Configured stream (P4), driver/configured_stream.hpp: a typed config
 *   set by ioctls, then records in, records out.
 *     struct Upper {
 *       struct config_type { bool loud = false; };
 *       bentos::apply_result apply(uint32_t cmd, std::string_view in, config_type& c);
 *       void process(const bentos::record_list& in, const config_type& c,
 *                    bentos::record_stream out) {
 *         for (auto r : in) out.yield(r);
 *         out.end();
 *       }
 *     };
 *     BENTOS_CONFIGURED_STREAM_DRIVER(Upper, "upper", "1.0.0", "records back");
 *
 * Layout (one file per part under bentos/driver/, all included here):
 *   errors.hpp             bentos::error::driver_error and its factories
 *   device_config.hpp      bentos::device_config (tiny JSON scanner)
 *   host.hpp               bentos::host_handle (log, emit), bentos::reply,
 *                          bentos::timer (host timers on the loop thread)
 *   adapter.hpp            exception barrier, instance box, sessions,
 *                          descriptor; shared by every pattern
 *   raw.hpp                BENTOS_RAW_DRIVER, bentos::raw_call
 *   stream.hpp             BENTOS_STREAM_DRIVER, bentos::stream_output
 *   write_read.hpp         BENTOS_WRITE_READ_DRIVER
 *   event_stream.hpp       BENTOS_EVENT_STREAM_DRIVER, bentos::event_emitter
 *   configured_stream.hpp  BENTOS_CONFIGURED_STREAM_DRIVER,
 *                          bentos::record_stream, bentos::typed_stream
 * Each pattern file documents the members its adapter looks for.
 */
#pragma once

#include "bentos/driver.h"
#include "bentos/driver/errors.hpp"
#include "bentos/driver/device_config.hpp"
#include "bentos/driver/host.hpp"
#include "bentos/driver/adapter.hpp"
#include "bentos/driver/raw.hpp"
#include "bentos/driver/stream.hpp"
#include "bentos/driver/write_read.hpp"
#include "bentos/driver/event_stream.hpp"
#include "bentos/driver/configured_stream.hpp"
