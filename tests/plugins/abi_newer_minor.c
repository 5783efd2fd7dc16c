/* abi_newer_minor: ABI major 1 but a minor newer than the host's. The host
 * must refuse it (it may rely on services the host lacks), naming both. */
#include <bentos/driver.h>

static const bentos_raw_ops no_ops = {sizeof(bentos_raw_ops), 0, NULL, NULL,
                                      NULL, NULL, NULL, NULL, NULL, NULL};

static const bentos_driver newer_minor = {
    sizeof(bentos_driver),
    BENTOS_ABI_MAJOR,
    BENTOS_ABI_MINOR + 1, /* abi_minor: newer than the host's */
    BENTOS_PATTERN_RAW,
    "abi_newer_minor",
    "0.0.0",
    "test plugin: newer ABI minor",
    BENTOS_THREADING_LOOP,
    0,
    NULL, /* create: never reached */
    NULL,
    &no_ops,
};

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major,
                                                          uint32_t host_minor) {
  (void)host_major;
  (void)host_minor;
  return &newer_minor;
}
