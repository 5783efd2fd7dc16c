/*
 * compat_stream_1_0: a P1 plugin built against the ABI 1.0 header kept in
 * tests/compat (driver.h as released with minor 0), to prove a 1.1 host
 * still loads and drives it: its ops table and descriptor are the shorter
 * 1.0 structs, and it never sees the appended services. Bytes written come
 * back on reads (like echo); a write of "minor" answers the host's minor
 * from the services table instead, as a 1.0 plugin would read it.
 */
#include "bentos_driver_1_0.h"

#include <stdio.h>
#include <string.h>

/* Built against 1.0, not the current header (C99: no _Static_assert). */
typedef char built_against_abi_1_0[BENTOS_ABI_MINOR == 0 ? 1 : -1];

static const bentos_host_services *services;

static int32_t compat_create(bentos_host *host, const bentos_host_services *s, const char *config_json,
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

static void compat_destroy(void *instance) { (void)instance; }

static int32_t compat_start(void *instance, const bentos_session_info *info, void **state) {
  (void)instance;
  *state = info->session;
  return 0;
}

static int64_t compat_on_data(void *instance, void *state, const uint8_t *data, uint64_t len) {
  char line[64];
  int32_t rc;
  (void)instance;
  if (len == 5 && memcmp(data, "minor", 5) == 0) {
    snprintf(line, sizeof line, "host minor %u\n", (unsigned)services->abi_minor);
    rc = services->push((bentos_session *)state, line, strlen(line));
  } else {
    rc = services->push((bentos_session *)state, data, len);
  }
  return rc == 0 ? (int64_t)len : rc;
}

static const bentos_stream_ops compat_ops = {
    sizeof(bentos_stream_ops), 0, compat_start, NULL, compat_on_data, NULL,
};

static const bentos_driver compat_driver = {
    sizeof(bentos_driver), BENTOS_ABI_MAJOR, BENTOS_ABI_MINOR, BENTOS_PATTERN_STREAM, "compat_stream_1_0", "1.0.0",
    "test: a P1 plugin built against driver.h 1.0", BENTOS_THREADING_LOOP, 0,
    compat_create, compat_destroy, &compat_ops,
};

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major, uint32_t host_minor) {
  (void)host_major;
  (void)host_minor;
  return &compat_driver;
}
