/*
 * greeter: a raw-layer test plugin built in versions that differ only in
 * what a read returns (GREETING), to show a reload runs a replaced file's
 * new code. The "_nodelete" builds link with -z nodelete, so dlclose never
 * unmaps them: the case where dlopen's cache by path would hand back the
 * old copy.
 */
#include <bentos/driver.h>

#include <stddef.h>

#ifndef GREETING
#error "build with -DGREETING=\"...\""
#endif

static const bentos_host_services *services;

static int32_t greeter_create(bentos_host *host, const bentos_host_services *s, const char *config_json,
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

static void greeter_destroy(void *instance) { (void)instance; }

static int32_t greeter_read(void *instance, void *state, bentos_call *call, uint64_t size, int64_t offset) {
  static const char text[] = GREETING;
  (void)instance;
  (void)state;
  (void)offset;
  services->complete_bytes(call, text, size < sizeof text - 1 ? size : sizeof text - 1);
  return 0;
}

/* open and release are left NULL: the host's defaults succeed. */
static const bentos_raw_ops greeter_ops = {
    sizeof(bentos_raw_ops), 0, NULL, greeter_read, NULL, NULL, NULL, NULL, NULL, NULL,
};

static const bentos_driver greeter_driver = {
    sizeof(bentos_driver), BENTOS_ABI_MAJOR, BENTOS_ABI_MINOR, BENTOS_PATTERN_RAW, "greeter", GREETING,
    "test: every read returns the greeting it was built with", BENTOS_THREADING_LOOP, 0,
    greeter_create, greeter_destroy, &greeter_ops,
};

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major, uint32_t host_minor) {
  (void)host_major;
  (void)host_minor;
  return &greeter_driver;
}
