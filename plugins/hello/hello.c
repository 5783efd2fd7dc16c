/*
 * hello: the smallest raw-layer (L1) driver, in plain C99 against
 * bentos/driver.h alone, to show the C ABI needs nothing else.
 *
 * The first read on an open file returns "Hello from BentOS!\n" (only its
 * first `size` bytes if the reader asks for fewer); every later read on
 * that file is end of file. Release forgets the file. Write, ioctl, poll,
 * flush and fsync are left NULL, so the host's defaults answer them.
 */
#include <bentos/driver.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const char greeting[] = "Hello from BentOS!\n";

/* One device instance: the host's handle and services, kept from create so
 * the callbacks can answer their calls. */
struct hello_instance {
  bentos_host *host;
  const bentos_host_services *services;
};

/* One open file: whether it has had its greeting. */
struct hello_session {
  int greeted;
};

static int32_t hello_create(bentos_host *host,
                            const bentos_host_services *services,
                            const char *config_json, uint64_t config_len,
                            void **instance, char *errbuf,
                            uint64_t errbuf_len) {
  struct hello_instance *self;
  (void)config_json; /* hello takes no configuration */
  (void)config_len;
  self = calloc(1, sizeof *self);
  if (self == NULL) {
    if (errbuf != NULL && errbuf_len > 0) {
      snprintf(errbuf, (size_t)errbuf_len, "%s", "hello: out of memory");
    }
    return -ENOMEM;
  }
  self->host = host;
  self->services = services;
  *instance = self;
  services->log(host, BENTOS_LOG_INFO, "created");
  return 0;
}

static void hello_destroy(void *instance) { free(instance); }

static int32_t hello_open(void *instance, bentos_call *call,
                          const bentos_session_info *info, void **state) {
  struct hello_instance *self = instance;
  struct hello_session *session = calloc(1, sizeof *session);
  (void)info;
  if (session == NULL) return -ENOMEM;
  *state = session;
  self->services->complete_ok(call);
  return 0;
}

static int32_t hello_read(void *instance, void *state, bentos_call *call,
                          uint64_t size, int64_t offset) {
  struct hello_instance *self = instance;
  struct hello_session *session = state;
  uint64_t len = sizeof greeting - 1; /* without the terminating NUL */
  (void)offset; /* a character device: offsets mean nothing */
  if (session->greeted) {
    self->services->complete_bytes(call, "", 0); /* end of file */
    return 0;
  }
  session->greeted = 1;
  self->services->complete_bytes(call, greeting, size < len ? size : len);
  return 0;
}

static int32_t hello_release(void *instance, void *state, bentos_call *call,
                             int32_t flags) {
  struct hello_instance *self = instance;
  (void)flags;
  free(state);
  self->services->complete_ok(call);
  return 0;
}

static const bentos_raw_ops hello_ops = {
    sizeof(bentos_raw_ops),
    0,
    hello_open,
    hello_read,
    NULL, /* write: ENOSYS */
    NULL, /* flush: success */
    hello_release,
    NULL, /* fsync: success */
    NULL, /* ioctl: ENOSYS */
    NULL, /* poll: ENOSYS */
};

static const bentos_driver hello_driver = {
    sizeof(bentos_driver),
    BENTOS_ABI_MAJOR,
    BENTOS_ABI_MINOR,
    BENTOS_PATTERN_RAW,
    "hello",
    "1.0.0",
    "raw-layer example: the first read says hello, later reads are EOF",
    BENTOS_THREADING_LOOP,
    0,
    hello_create,
    hello_destroy,
    &hello_ops,
};

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major,
                                                          uint32_t host_minor) {
  (void)host_major; /* the host checks the versions in the descriptor */
  (void)host_minor;
  return &hello_driver;
}
