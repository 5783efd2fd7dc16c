// new-driver's C drivers (bentos/driver.h): raw, p1, p2, p3, with
// their tests (see new_driver_templates.h). tests/sdk/check-new-driver.sh
// builds and tests each.
#include "new_driver_templates.h"

namespace bentos::ctl::templates {

namespace {

const DriverTemplate kTemplates[] = {
    {"raw", "c",
     R"TPL(/* @NAME@.c - a raw (L1) driver in C: you answer each file operation. Here
 * a read returns a greeting once per open file, then EOF. Ops left NULL get
 * the host's defaults (open, flush, release and fsync succeed; the rest
 * answer ENOSYS). */
#include <bentos/driver.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bentos_host_services *services; /* the same table for every instance */

static int32_t on_create(bentos_host *host, const bentos_host_services *s, const char *config_json,
                         uint64_t config_len, void **instance, char *errbuf, uint64_t errbuf_len) {
  (void)host;
  (void)config_json;
  (void)config_len;
  (void)errbuf;
  (void)errbuf_len;
  services = s;
  *instance = NULL;
  return 0;
}

static void on_destroy(void *instance) { (void)instance; }

/* The session state: whether this open file was greeted. */
static int32_t on_open(void *instance, bentos_call *call, const bentos_session_info *info, void **state) {
  (void)instance;
  (void)info;
  *state = calloc(1, sizeof(int));
  if (*state == NULL) return services->complete_error(call, -ENOMEM);
  return services->complete_ok(call);
}

static int32_t on_read(void *instance, void *state, bentos_call *call, uint64_t size, int64_t offset) {
  static const char text[] = "hello\n";
  int *greeted = state;
  (void)instance;
  (void)offset;
  if (*greeted) return services->complete_bytes(call, NULL, 0); /* EOF */
  *greeted = 1;
  return services->complete_bytes(call, text, size < sizeof text - 1 ? size : sizeof text - 1);
}

static int32_t on_release(void *instance, void *state, bentos_call *call, int32_t flags) {
  (void)instance;
  (void)flags;
  free(state);
  return services->complete_ok(call);
}

static const bentos_raw_ops ops = {
    sizeof(bentos_raw_ops), 0, on_open, on_read, NULL, NULL, on_release, NULL, NULL, NULL,
};

static const bentos_driver driver = {
    sizeof(bentos_driver), BENTOS_ABI_MAJOR, BENTOS_ABI_MINOR, BENTOS_PATTERN_RAW, "@NAME@", "0.1.0",
    "greets each reader once", BENTOS_THREADING_LOOP, 0, on_create, on_destroy, &ops,
};

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major, uint32_t host_minor) {
  (void)host_major;
  (void)host_minor;
  return &driver;
}
)TPL",
     R"TPL(TEST_CASE("@NAME@ greets each open file once, then end of file") {
  bt::host h(kPlugin);
  auto f = h.open();
  CHECK(f.read().data == "hello\n");
  CHECK(f.read().eof());
  auto g = h.open();
  CHECK(g.read(3).data == "hel");  // cut to the read's size
  CHECK(f.release().ok());
}

TEST_CASE("@NAME@: ops left NULL get the host's defaults") {
  bt::host h(kPlugin);
  auto f = h.open();
  CHECK(f.write("hi").error == ENOSYS);
  CHECK(f.flush().ok());
  CHECK(f.fsync().ok());
}
)TPL"},
    {"p1", "c",
     R"TPL(/* @NAME@.c - a pure-stream (P1) driver in C: every byte written comes back
 * to the reader of the same open file. Replace on_data with your device. */
#include <bentos/driver.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bentos_host_services *services; /* the same table for every instance */

static int32_t on_create(bentos_host *host, const bentos_host_services *s, const char *config_json,
                         uint64_t config_len, void **instance, char *errbuf, uint64_t errbuf_len) {
  (void)config_json;
  (void)config_len;
  (void)errbuf;
  (void)errbuf_len;
  services = s;
  *instance = host; /* this sketch keeps no state of its own but the host handle */
  return 0;
}

static void on_destroy(void *instance) { (void)instance; }

/* The session state is the host's session handle, for push(). */
static int32_t on_session_start(void *instance, const bentos_session_info *info, void **state) {
  (void)instance;
  *state = info->session;
  return 0;
}

static void on_session_end(void *instance, void *state) {
  (void)instance;
  (void)state;
}

/* Returns how many bytes it took; 0 when the output queue is full (the
 * host then calls on_writable when it has room again). */
static int64_t on_data(void *instance, void *state, const uint8_t *data, uint64_t len) {
  (void)instance;
  return services->push(state, data, len) == 0 ? (int64_t)len : 0;
}

static void on_writable(void *instance, void *state) {
  (void)instance;
  (void)state;
}

static const bentos_stream_ops ops = {
    sizeof(bentos_stream_ops), 0, on_session_start, on_session_end, on_data, on_writable,
};

static const bentos_driver driver = {
    sizeof(bentos_driver), BENTOS_ABI_MAJOR, BENTOS_ABI_MINOR, BENTOS_PATTERN_STREAM, "@NAME@", "0.1.0",
    "echoes what is written", BENTOS_THREADING_LOOP, 0, on_create, on_destroy, &ops,
};

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major, uint32_t host_minor) {
  (void)host_major;
  (void)host_minor;
  return &driver;
}
)TPL",
     R"TPL(TEST_CASE("@NAME@: what a file is written its reads return") {
  bt::host h(kPlugin);
  auto f = h.open();
  CHECK(f.write("hello").written == 5);
  CHECK(f.read().data == "hello");
  CHECK(f.read().eof());  // the output queue is empty: end of file (P1)
  CHECK(f.release().ok());
}

TEST_CASE("@NAME@: each open file has its own stream") {
  bt::host h(kPlugin);
  auto a = h.open(), b = h.open();
  CHECK(a.write("one").ok());
  CHECK(b.write("two").ok());
  CHECK(a.read().data == "one");
  CHECK(b.read().data == "two");
}
)TPL"},
    {"p2", "c",
     R"TPL(/* @NAME@.c - a write-then-read (P2) driver in C: one request in, one
 * response out. Replace on_request with your device. */
#include <bentos/driver.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bentos_host_services *services; /* the same table for every instance */

static int32_t on_create(bentos_host *host, const bentos_host_services *s, const char *config_json,
                         uint64_t config_len, void **instance, char *errbuf, uint64_t errbuf_len) {
  (void)config_json;
  (void)config_len;
  (void)errbuf;
  (void)errbuf_len;
  services = s;
  *instance = host; /* this sketch keeps no state of its own but the host handle */
  return 0;
}

static void on_destroy(void *instance) { (void)instance; }

/* Gets every write of the cycle, concatenated; answers through the call. */
static int32_t on_request(void *instance, void *state, bentos_call *call, const uint8_t *data, uint64_t len) {
  char response[128];
  int n;
  (void)instance;
  (void)state;
  n = snprintf(response, sizeof response, "got %llu bytes\n", (unsigned long long)len);
  (void)data;
  if (n < 0) return services->complete_error(call, -EIO);
  return services->complete_bytes(call, response, (uint64_t)n);
}

static const bentos_write_read_ops ops = {
    sizeof(bentos_write_read_ops), 0, NULL, NULL, on_request,
};

static const bentos_driver driver = {
    sizeof(bentos_driver), BENTOS_ABI_MAJOR, BENTOS_ABI_MINOR, BENTOS_PATTERN_WRITE_READ, "@NAME@", "0.1.0",
    "answers each request with its size", BENTOS_THREADING_LOOP, 0, on_create, on_destroy, &ops,
};

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major, uint32_t host_minor) {
  (void)host_major;
  (void)host_minor;
  return &driver;
}
)TPL",
     R"TPL(TEST_CASE("@NAME@ answers each request with its size") {
  bt::host h(kPlugin);
  auto f = h.open();
  CHECK(f.write("hello").written == 5);
  CHECK(f.read().data == "got 5 bytes\n");
  CHECK(f.read().eof());  // the response was read to its end
  CHECK(f.release().ok());
}

TEST_CASE("@NAME@: a read before any request is EAGAIN (the host's P2 rule)") {
  bt::host h(kPlugin);
  auto f = h.open();
  CHECK(f.read().error == EAGAIN);
}
)TPL"},
    {"p3", "c",
     R"TPL(/* @NAME@.c - an event-stream (P3) driver in C: every open file receives
 * the events emitted after it opened. Here on_activate (the first listener
 * opened) emits one event, which that listener reads; emit() works from
 * any thread, so a real device calls it from wherever its events come. */
#include <bentos/driver.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bentos_host_services *services; /* the same table for every instance */

static int32_t on_create(bentos_host *host, const bentos_host_services *s, const char *config_json,
                         uint64_t config_len, void **instance, char *errbuf, uint64_t errbuf_len) {
  (void)config_json;
  (void)config_len;
  (void)errbuf;
  (void)errbuf_len;
  services = s;
  *instance = host; /* this sketch keeps no state of its own but the host handle */
  return 0;
}

static void on_destroy(void *instance) { (void)instance; }

static int32_t on_activate(void *instance) {
  static const char event[] = "active\n";
  return services->emit(instance, event, sizeof event - 1);
}

static int32_t on_deactivate(void *instance) {
  (void)instance;
  return 0;
}

static const bentos_event_stream_ops ops = {
    sizeof(bentos_event_stream_ops), 0, on_activate, on_deactivate,
};

static const bentos_driver driver = {
    sizeof(bentos_driver), BENTOS_ABI_MAJOR, BENTOS_ABI_MINOR, BENTOS_PATTERN_EVENT_STREAM, "@NAME@", "0.1.0",
    "one event when the first listener opens", BENTOS_THREADING_LOOP, 0, on_create, on_destroy, &ops,
};

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major, uint32_t host_minor) {
  (void)host_major;
  (void)host_minor;
  return &driver;
}
)TPL",
     R"TPL(TEST_CASE("@NAME@: the first listener reads the event on_activate emitted") {
  bt::host h(kPlugin);
  auto f = h.open(O_RDONLY);
  CHECK(f.read().data == "active\n");
  CHECK(f.release().ok());
}

TEST_CASE("@NAME@: a listener opening later sees only later events") {
  bt::host h(kPlugin);
  auto first = h.open(O_RDONLY);
  auto later = h.open(O_RDONLY | O_NONBLOCK);
  CHECK(later.read().error == EAGAIN);
  CHECK(first.read().data == "active\n");
}
)TPL"},
};

}  // namespace

std::span<const DriverTemplate> c_templates() { return kTemplates; }

}  // namespace bentos::ctl::templates
