/*
 * compat_cs_1_0: a P4 plugin built against the ABI 1.0 header kept in
 * tests/compat: its bentos_configured_stream_ops ends at on_drain (1.1
 * appended on_writable), so the host must read the missing field as unset.
 * Each cycle yields its input records back, one record each, then ends.
 */
#include "bentos_driver_1_0.h"

#include <stddef.h>

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

static int32_t compat_process(void *instance, void *state, const void *config, const bentos_bytes *records,
                              uint64_t count, bentos_stream *stream) {
  uint64_t i;
  (void)instance;
  (void)state;
  (void)config;
  for (i = 0; i < count; i++) services->yield(stream, records[i].data, records[i].len);
  services->end(stream, 0);
  return 0;
}

static const bentos_configured_stream_ops compat_ops = {
    sizeof(bentos_configured_stream_ops), 0, NULL, NULL, NULL, NULL, NULL, compat_process, NULL, NULL, NULL,
};

static const bentos_driver compat_driver = {
    sizeof(bentos_driver), BENTOS_ABI_MAJOR, BENTOS_ABI_MINOR, BENTOS_PATTERN_CONFIGURED_STREAM, "compat_cs_1_0",
    "1.0.0", "test: a P4 plugin built against driver.h 1.0", BENTOS_THREADING_LOOP, 0,
    compat_create, compat_destroy, &compat_ops,
};

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major, uint32_t host_minor) {
  (void)host_major;
  (void)host_minor;
  return &compat_driver;
}
