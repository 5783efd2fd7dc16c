/* no_entry: a valid shared object that is not a driver. It exports a
 * function, but not bentos_driver_entry_v1; the host must say so. */
#include <bentos/driver.h>

BENTOS_EXPORT int bentos_not_a_driver(void);

BENTOS_EXPORT int bentos_not_a_driver(void) { return 42; }
