/* abi_wrong_major: a descriptor claiming ABI major 2. The host must refuse
 * it with a message naming both majors, without calling anything in it. */
#include <bentos/driver.h>

static const bentos_driver wrong_major = {
    sizeof(bentos_driver),
    2, /* abi_major: not the host's */
    0,
    BENTOS_PATTERN_RAW,
    "abi_wrong_major",
    "0.0.0",
    "test plugin: wrong ABI major",
    BENTOS_THREADING_LOOP,
    0,
    NULL, /* create: never reached */
    NULL,
    NULL,
};

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major,
                                                          uint32_t host_minor) {
  (void)host_major;
  (void)host_minor;
  return &wrong_major;
}
