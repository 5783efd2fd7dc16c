// The templates of `bentosctl new-driver`: see new_driver_templates.h.
// Every driver here is built and its generated test run by
// tests/sdk/check-new-driver.sh.
#include "new_driver_templates.h"

namespace bentos::ctl::templates {

namespace {

const DriverTemplate kTemplates[] = {
    {"p1", "cpp",
     R"TPL(// @NAME@.cpp - a pure-stream (P1) driver: every byte written comes back
// to the reader of the same open file. Replace on_data with your device.
#include <bentos/driver.hpp>

#include <string_view>

namespace {

class Device {
 public:
  // One per open file; the output queue the host keeps for it.
  struct session_type {
    explicit session_type(bentos::stream_output o) : out(o) {}
    bentos::stream_output out;
  };

  // Takes what it can: returning fewer bytes than given applies
  // backpressure, and the host calls on_writable when the queue has room.
  size_t on_data(session_type& s, std::string_view in) {
    return s.out.push(in) == bentos::push_result::ok ? in.size() : 0;
  }
  void on_writable(session_type&) {}
};

}  // namespace

BENTOS_STREAM_DRIVER(Device, "@NAME@", "0.1.0", "echoes what is written");
)TPL",
     R"TPL(open write hello read release)TPL",
     R"TPL(open rw: opened
write "hello": wrote 5
read 65536: read 5 bytes: "hello"
release: ok)TPL"},
    {"p2", "cpp",
     R"TPL(// @NAME@.cpp - a write-then-read (P2) driver: one request in, one
// response out. Replace on_request with your device.
#include <bentos/driver.hpp>

#include <string>
#include <string_view>

namespace {

class Device {
 public:
  // Gets every write of the cycle, concatenated; runs on the loop thread.
  std::string on_request(std::string_view request) {
    ++requests_;
    return "request " + std::to_string(requests_) + ": " + std::string(request) + "\n";
  }

 private:
  unsigned long requests_ = 0;  // one count per device
};

}  // namespace

BENTOS_WRITE_READ_DRIVER(Device, "@NAME@", "0.1.0", "answers each request with its number");
)TPL",
     R"TPL(open write hello read read release)TPL",
     R"TPL(open rw: opened
write "hello": wrote 5
read 65536: read 17 bytes: "request 1: hello\n"
read 65536: EOF
release: ok)TPL"},
    {"p3", "cpp",
     R"TPL(// @NAME@.cpp - an event-stream (P3) driver: every open file receives the
// events emitted after it opened. Here a host timer emits a tick 100 ms
// after the first listener opens, then every second while anyone listens
// (the test reads the first one). Replace the timer with your event source.
#include <bentos/driver.hpp>

#include <string>

namespace {

class Device {
 public:
  // The timer's callback runs on the loop thread: keep every callback there.
  static constexpr bool loop_only = true;

  Device(const bentos::device_config&, bentos::host_handle host) : host_(host) {}

  // The first listener opened / the last one left.
  void on_activate() {
    ticks_ = bentos::timer(host_, 100, 1000, [this] { host_.emit("tick " + std::to_string(++count_) + "\n"); });
  }
  void on_deactivate() { ticks_.stop(); }

 private:
  bentos::host_handle host_;
  bentos::timer ticks_;
  unsigned long count_ = 0;
};

}  // namespace

BENTOS_EVENT_STREAM_DRIVER(Device, "@NAME@", "0.1.0", "ticks every second while anyone listens");
)TPL",
     R"TPL(open ro read release)TPL",
     R"TPL(open ro: opened
read 65536: read 7 bytes: "tick 1\n"
release: ok)TPL"},
    {"p4", "cpp",
     R"TPL(// @NAME@.cpp - a configured-stream (P4) driver: configure with ioctls,
// write the input, read the output records. Here the input comes back as
// one record, upper-cased when ioctl 1 (_IOW(0, 1, int32), cmd 0x40040001)
// set the flag. Replace apply and process with your device.
#include <bentos/driver.hpp>

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

struct Config {
  bool upper = false;
};

class Device {
 public:
  using config_type = Config;

  // A write-direction ioctl edits a copy of the session's config.
  bentos::apply_result apply(uint32_t cmd, std::string_view in, Config& config) {
    if ((cmd & 0xFF) != 1) return bentos::apply_result::not_mine;
    if (in.empty()) throw bentos::error::invalid_argument("ioctl 1 needs a byte");
    config.upper = in[0] != 0;
    return bentos::apply_result::recognised;
  }

  // One cycle: yield records (now or later, from any thread), then end.
  void process(const bentos::record_list& records, const Config& config, bentos::record_stream out) {
    std::string all;
    for (auto record : records) all += record;
    if (config.upper)
      for (char& c : all) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out.yield(all);
    out.end();
  }
};

}  // namespace

BENTOS_CONFIGURED_STREAM_DRIVER(Device, "@NAME@", "0.1.0", "returns its input, upper-cased on request");
)TPL",
     R"TPL(open ioctl 0x40040001 01 write hello read read release)TPL",
     R"TPL(open rw: opened
ioctl 0x40040001 01: ioctl result=0
write "hello": wrote 5
read 65536: read 5 bytes: "HELLO"
read 65536: EOF
release: ok)TPL"},
    {"raw", "cpp",
     R"TPL(// @NAME@.cpp - a raw (L1) driver: you answer each file operation. Here a
// read returns a greeting once per open file, then EOF, and a write takes
// every byte. Ops left out get the host's defaults (open, flush, release
// and fsync succeed; the rest answer ENOSYS).
#include <bentos/driver.hpp>

#include <cstdint>

namespace {

class Device {
 public:
  struct session_type {
    bool greeted = false;
  };
  void on_open(session_type&, const bentos::session_info&) {}
  // nullptr answers EOF.
  const char* on_read(session_type& s, const bentos::read_request&) {
    if (s.greeted) return nullptr;
    s.greeted = true;
    return "hello\n";
  }
  void on_write(const bentos::write_request& w, bentos::raw_call call) { call.count(w.data.size()); }
};

}  // namespace

BENTOS_RAW_DRIVER(Device, "@NAME@", "0.1.0", "greets each reader once");
)TPL",
     R"TPL(open read read write hi release)TPL",
     R"TPL(open rw: opened
read 65536: read 6 bytes: "hello\n"
read 65536: EOF
write "hi": wrote 2
release: ok)TPL"},
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
     R"TPL(open read read release)TPL",
     R"TPL(open rw: opened
read 65536: read 6 bytes: "hello\n"
read 65536: EOF
release: ok)TPL"},
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
     R"TPL(open write hello read release)TPL",
     R"TPL(open rw: opened
write "hello": wrote 5
read 65536: read 5 bytes: "hello"
release: ok)TPL"},
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
     R"TPL(open write hello read read release)TPL",
     R"TPL(open rw: opened
write "hello": wrote 5
read 65536: read 12 bytes: "got 5 bytes\n"
read 65536: EOF
release: ok)TPL"},
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
     R"TPL(open ro read release)TPL",
     R"TPL(open ro: opened
read 65536: read 7 bytes: "active\n"
release: ok)TPL"},
};

}  // namespace

const DriverTemplate* find_template(std::string_view pattern, std::string_view language) {
  for (const DriverTemplate& t : kTemplates)
    if (t.pattern == pattern && t.language == language) return &t;
  return nullptr;
}

const std::string_view kMakefile = R"TPL(# Builds the BentOS driver plugins listed below: NAME.so from NAME.cpp
# (C++20) or NAME.c (C99). The list is explicit so that other sources in
# this folder (a test, a helper) do not become plugins: add each new driver
# to it. `make test` builds them and runs ./test-@NAME@.sh.
PKG_CONFIG ?= pkg-config
BENTOS_CFLAGS := $(shell $(PKG_CONFIG) --cflags bentos-driver)
BENTOS_MAP := $(shell $(PKG_CONFIG) --variable=plugin_map bentos-driver)
BENTOS_PLUGINDIR := $(shell $(PKG_CONFIG) --variable=plugindir bentos-driver)
ifeq ($(BENTOS_MAP),)
$(error pkg-config finds no bentos-driver with a plugin_map variable: set PKG_CONFIG_PATH)
endif

CPP_PLUGINS := @CPP_PLUGINS@
C_PLUGINS := @C_PLUGINS@
PLUGINS := $(addsuffix .so,$(CPP_PLUGINS) $(C_PLUGINS))

CXXFLAGS ?= -O2 -g -Wall -Wextra
CFLAGS ?= -O2 -g -Wall -Wextra
# A loadable module: position independent, every symbol hidden but the entry.
PLUGIN_FLAGS := -fPIC -fvisibility=hidden $(BENTOS_CFLAGS)
PLUGIN_LDFLAGS := -shared -Wl,--version-script=$(BENTOS_MAP) -Wl,-z,defs

all: $(PLUGINS)

$(addsuffix .so,$(CPP_PLUGINS)): %.so: %.cpp $(BENTOS_MAP)
	$(CXX) -std=c++20 $(PLUGIN_FLAGS) $(CPPFLAGS) $(CXXFLAGS) $< -o $@ $(PLUGIN_LDFLAGS) $(LDFLAGS)

$(addsuffix .so,$(C_PLUGINS)): %.so: %.c $(BENTOS_MAP)
	$(CC) -std=c99 $(PLUGIN_FLAGS) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(PLUGIN_LDFLAGS) $(LDFLAGS)

test: all
	./test-@NAME@.sh

install: $(PLUGINS)
	install -d $(DESTDIR)$(BENTOS_PLUGINDIR)
	install -m 0644 $(PLUGINS) $(DESTDIR)$(BENTOS_PLUGINDIR)

clean:
	rm -f $(PLUGINS)

.PHONY: all test install clean
)TPL";

const std::string_view kManifest = R"TPL({"devices": [
  {"name": "@NAME@", "plugin": "@NAME@.so"}
]}
)TPL";

const std::string_view kTestScript = R"TPL(#!/usr/bin/env bash
# test-@NAME@.sh: starts `bentos-driver-host --dev` on this folder's
# devices.json, waits for its readiness line, sends file operations to the
# device with `bentosctl run` and compares each answer with the expected
# one. Run it with `make test`. BENTOS_DRIVER_HOST and BENTOSCTL name other
# binaries than the ones on PATH.
#
# The sockets go to a temporary folder, so a `bentos-driver-host --dev`
# you keep running in this folder is not disturbed.
#
# This end-to-end script stands in until the SDK has an in-process test
# harness (bentos/testing.hpp): each check below (ops in, answers out)
# then becomes one harness test case, with no daemon and no sockets.
set -u
cd "$(dirname "$0")"
host=${BENTOS_DRIVER_HOST:-bentos-driver-host}
ctl=${BENTOSCTL:-bentosctl}
passed=0 failed=0

work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$host" --dev --socket-dir "$work/run" --control-socket "$work/run/control.sock" \
  >"$work/stdout" 2>"$work/host.log" &
pid=$!
for _ in $(seq 100); do
  grep -q '^ready: ' "$work/stdout" && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: bentos-driver-host exited before it was ready:"; cat "$work/host.log"; exit 1
  fi
  sleep 0.1
done
if ! grep -q '^ready: 1 device(s)' "$work/stdout"; then
  echo "FAIL: bentos-driver-host did not report 1 device ready within 10 s:"; cat "$work/stdout" "$work/host.log"; exit 1
fi

# check OP... <<'EOF' (the expected answers) EOF
check() {
  local expected actual
  expected=$(cat)
  actual=$("$ctl" run "$work/run/@NAME@.sock" "$@" 2>&1)
  if [ "$actual" = "$expected" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: bentosctl run @NAME@ $*"
    diff <(echo "$expected") <(echo "$actual") | sed 's/^/  /'
  fi
}

check @OPS@ <<'EOF'
@EXPECTED@
EOF

if [ "$failed" -ne 0 ]; then echo "host log:"; cat "$work/host.log"; fi
echo "test-@NAME@: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
)TPL";

const std::string_view kReadme = R"TPL(# @NAME@

A BentOS driver (pattern @PATTERN@) generated by `bentosctl new-driver`.

| file | what |
|---|---|
| `@SOURCE@` | the driver |
| `Makefile` | builds `@NAME@.so` against the installed SDK (`pkg-config bentos-driver`) |
| `devices.json` | the manifest: one device `@NAME@` served by `@NAME@.so` |
| `test-@NAME@.sh` | the test: runs the device under `bentos-driver-host --dev` and checks its answers |

```sh
make test                    # build, then run ./test-@NAME@.sh
bentos-driver-host --dev     # serve ./devices.json; sockets in ./run
bentosctl run run/@NAME@.sock open read release
```

The test is an end-to-end script for now: once the SDK ships its
in-process harness (`bentos/testing.hpp`), each `check` in it becomes a
harness test case that needs no daemon. The guide (`writing-a-driver.md`,
installed under `pkg-config --variable=docdir bentos-driver`) explains
every part of the driver.
)TPL";

}  // namespace bentos::ctl::templates
