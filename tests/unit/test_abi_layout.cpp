// Pins the size and every field offset of each public struct of
// bentos/driver.h (LP64). These are the ABI: a change here breaks every
// plugin built against v1, so this file fails to compile first.
// If you meant to change the ABI, you are adding fields at the end of a
// struct (append the new asserts) or bumping BENTOS_ABI_MAJOR.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "bentos/driver.h"
#include "bentos/driver.hpp"

#if UINTPTR_MAX == UINT64_MAX
static_assert(sizeof(bentos_bytes) == 16);
static_assert(offsetof(bentos_bytes, data) == 0);
static_assert(offsetof(bentos_bytes, len) == 8);
static_assert(sizeof(bentos_session_info) == 32);
static_assert(offsetof(bentos_session_info, open_flags) == 4);
static_assert(offsetof(bentos_session_info, fh) == 8);
static_assert(offsetof(bentos_session_info, connection_id) == 16);
static_assert(offsetof(bentos_session_info, session) == 24);
static_assert(sizeof(bentos_host_services) == 136);  // 1.1: end_output appended
static_assert(offsetof(bentos_host_services, abi_minor) == 4);
static_assert(offsetof(bentos_host_services, log) == 8);
static_assert(offsetof(bentos_host_services, complete_bytes) == 16);
static_assert(offsetof(bentos_host_services, complete_count) == 24);
static_assert(offsetof(bentos_host_services, complete_ok) == 32);
static_assert(offsetof(bentos_host_services, complete_ioctl) == 40);
static_assert(offsetof(bentos_host_services, complete_poll) == 48);
static_assert(offsetof(bentos_host_services, complete_error) == 56);
static_assert(offsetof(bentos_host_services, push) == 64);
static_assert(offsetof(bentos_host_services, emit) == 72);
static_assert(offsetof(bentos_host_services, yield) == 80);
static_assert(offsetof(bentos_host_services, end) == 88);
static_assert(offsetof(bentos_host_services, post) == 96);
static_assert(offsetof(bentos_host_services, timer_start) == 104);
static_assert(offsetof(bentos_host_services, timer_stop) == 112);
static_assert(offsetof(bentos_host_services, device_name) == 120);
static_assert(offsetof(bentos_host_services, end_output) == 128);
static_assert(sizeof(bentos_raw_ops) == 72);
static_assert(offsetof(bentos_raw_ops, open) == 8);
static_assert(offsetof(bentos_raw_ops, read) == 16);
static_assert(offsetof(bentos_raw_ops, write) == 24);
static_assert(offsetof(bentos_raw_ops, flush) == 32);
static_assert(offsetof(bentos_raw_ops, release) == 40);
static_assert(offsetof(bentos_raw_ops, fsync) == 48);
static_assert(offsetof(bentos_raw_ops, ioctl) == 56);
static_assert(offsetof(bentos_raw_ops, poll) == 64);
static_assert(sizeof(bentos_stream_ops) == 40);
static_assert(offsetof(bentos_stream_ops, session_start) == 8);
static_assert(offsetof(bentos_stream_ops, session_end) == 16);
static_assert(offsetof(bentos_stream_ops, on_data) == 24);
static_assert(offsetof(bentos_stream_ops, on_writable) == 32);
static_assert(sizeof(bentos_write_read_ops) == 32);
static_assert(offsetof(bentos_write_read_ops, session_start) == 8);
static_assert(offsetof(bentos_write_read_ops, session_end) == 16);
static_assert(offsetof(bentos_write_read_ops, on_request) == 24);
static_assert(sizeof(bentos_event_stream_ops) == 24);
static_assert(offsetof(bentos_event_stream_ops, on_activate) == 8);
static_assert(offsetof(bentos_event_stream_ops, on_deactivate) == 16);
static_assert(sizeof(bentos_configured_stream_ops) == 88);  // 1.1: on_writable appended
static_assert(offsetof(bentos_configured_stream_ops, session_start) == 8);
static_assert(offsetof(bentos_configured_stream_ops, session_end) == 16);
static_assert(offsetof(bentos_configured_stream_ops, config_default) == 24);
static_assert(offsetof(bentos_configured_stream_ops, config_apply) == 32);
static_assert(offsetof(bentos_configured_stream_ops, config_free) == 40);
static_assert(offsetof(bentos_configured_stream_ops, process) == 48);
static_assert(offsetof(bentos_configured_stream_ops, on_query) == 56);
static_assert(offsetof(bentos_configured_stream_ops, on_cancel) == 64);
static_assert(offsetof(bentos_configured_stream_ops, on_drain) == 72);
static_assert(offsetof(bentos_configured_stream_ops, on_writable) == 80);
static_assert(sizeof(bentos_driver) == 72);
static_assert(offsetof(bentos_driver, abi_major) == 4);
static_assert(offsetof(bentos_driver, abi_minor) == 8);
static_assert(offsetof(bentos_driver, pattern) == 12);
static_assert(offsetof(bentos_driver, name) == 16);
static_assert(offsetof(bentos_driver, version) == 24);
static_assert(offsetof(bentos_driver, description) == 32);
static_assert(offsetof(bentos_driver, threading) == 40);
static_assert(offsetof(bentos_driver, reserved) == 44);
static_assert(offsetof(bentos_driver, create) == 48);
static_assert(offsetof(bentos_driver, destroy) == 56);
static_assert(offsetof(bentos_driver, ops) == 64);
#endif

static_assert(BENTOS_ABI_MAJOR == 1, "driver.h is ABI major 1");

TEST_CASE("the ABI's enumerations keep their values") {
  CHECK(BENTOS_PATTERN_RAW == 1);
  CHECK(BENTOS_PATTERN_STREAM == 2);
  CHECK(BENTOS_PATTERN_WRITE_READ == 3);
  CHECK(BENTOS_PATTERN_EVENT_STREAM == 4);
  CHECK(BENTOS_PATTERN_CONFIGURED_STREAM == 5);
  CHECK(BENTOS_THREADING_LOOP == 0);
  CHECK(BENTOS_THREADING_WORKER == 1);
  CHECK(BENTOS_THREADING_LOOP_ONLY == 2);
  CHECK(BENTOS_LOG_ERROR == 0);
  CHECK(BENTOS_LOG_DEBUG == 3);
  CHECK(BENTOS_POLLIN == 0x01u);
  CHECK(BENTOS_POLLOUT == 0x04u);
  CHECK(BENTOS_POLLHUP == 0x10u);
  CHECK(BENTOS_O_NONBLOCK == 0x800);
  CHECK(std::string(BENTOS_DRIVER_ENTRY_SYMBOL) == "bentos_driver_entry_v1");
}

namespace {
int32_t fake_end_output(bentos_session*, int32_t) { return 0; }
}  // namespace

TEST_CASE("ABI 1.1: a plugin tells a 1.0 host's services table from a 1.1 one") {
  static_assert(BENTOS_ABI_MINOR == 1);
  bentos_host_services table{};
  table.struct_size = sizeof(bentos_host_services);
  table.abi_minor = 1;
  table.end_output = fake_end_output;
  CHECK(BENTOS_HAS_SERVICE(&table, end_output));
  bentos::stream_output out(nullptr, &table);
  CHECK(out.has_end());
  CHECK(out.end() == 0);
  // What a 1.0 host hands out: the table ends at device_name.
  table.struct_size = offsetof(bentos_host_services, end_output);
  table.abi_minor = 0;
  CHECK_FALSE(BENTOS_HAS_SERVICE(&table, end_output));
  CHECK_FALSE(out.has_end());
  CHECK(out.end() == -ENOSYS);  // never called through a table that lacks it
}
