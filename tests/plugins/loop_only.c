/*
 * loop_only: a raw-layer test plugin whose descriptor says
 * BENTOS_THREADING_LOOP_ONLY. Every read answers "loop\n". The host must
 * serve it on the loop and refuse a manifest entry giving it workers.
 */
#include <bentos/driver.h>

#include <stddef.h>

static const bentos_host_services *services;

static int32_t loop_only_create(bentos_host *host, const bentos_host_services *s, const char *config_json,
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

static void loop_only_destroy(void *instance) { (void)instance; }

static int32_t loop_only_read(void *instance, void *state, bentos_call *call, uint64_t size, int64_t offset) {
  static const char text[] = "loop\n";
  (void)instance;
  (void)state;
  (void)offset;
  services->complete_bytes(call, text, size < sizeof text - 1 ? size : sizeof text - 1);
  return 0;
}

static const bentos_raw_ops loop_only_ops = {
    sizeof(bentos_raw_ops), 0, NULL, loop_only_read, NULL, NULL, NULL, NULL, NULL, NULL,
};

static const bentos_driver loop_only_driver = {
    sizeof(bentos_driver), BENTOS_ABI_MAJOR, BENTOS_ABI_MINOR, BENTOS_PATTERN_RAW, "loop_only", "0.0.0",
    "test: callbacks pinned to the loop thread", BENTOS_THREADING_LOOP_ONLY, 0,
    loop_only_create, loop_only_destroy, &loop_only_ops,
};

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major, uint32_t host_minor) {
  (void)host_major;
  (void)host_minor;
  return &loop_only_driver;
}
