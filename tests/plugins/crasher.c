/*
 * crasher: a write-then-read (P2) plugin, in C99, that takes its process
 * down on request, for the crash report and process isolation tests.
 *
 * The text written is a command (surrounding ASCII whitespace trimmed);
 * the next read answers it. Every answer ends in a newline.
 *   segv      writes through a NULL pointer: dies by SIGSEGV
 *   abort     abort(): dies by SIGABRT
 *   exit3     exit(3): the process ends with status 3
 *   spin      loops forever on the calling thread (never answers)
 *   overflow  recurses until the thread's stack overflows: SIGSEGV with
 *             no stack left for a signal handler but an alternate one
 *   alloc N   allocates N MiB, touches every byte and keeps it until
 *             destroy: "ok alloc N", or "error alloc N" when malloc fails
 *   pid       getpid() in decimal (which process serves the device)
 *   uid       getuid() in decimal (which user it runs as)
 *   anything  "ok <text>"
 * The config may say "crash_at_create": "segv" | "abort" | "exit3" to do
 * the same inside create() (a plugin that crashes while loading).
 */
#define _POSIX_C_SOURCE 200809L

#include <bentos/driver.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Blocks handed out by "alloc", kept so the memory stays resident. */
struct block {
  struct block *next;
};

/* One device instance, owned by the host from create to destroy. Requests
 * may run on host workers (manifest "threads"), so `blocks` is guarded. */
struct crasher {
  const bentos_host_services *services;
  pthread_mutex_t mutex;
  struct block *blocks; /* guarded by mutex */
};

/* Uses 4 KiB of stack per level; the volatile frame and the work after
 * the call keep it from being turned into a loop, and the volatile bound
 * (never reached) from being seen as infinite (a -Werror warning). */
static volatile unsigned long recursion_limit = (unsigned long)-1;
static unsigned long recurse(unsigned long depth) {
  volatile char frame[4096];
  frame[0] = (char)depth;
  if (depth >= recursion_limit) return 0;
  return recurse(depth + 1) + (unsigned char)frame[0];
}

/* UBSan (scripts/test.sh --sanitize builds plugins with it) would report
 * the NULL store and exit 1 before it faults: the crash must be real. */
#if defined(__GNUC__)
#define NO_UBSAN __attribute__((no_sanitize("undefined")))
#else
#define NO_UBSAN
#endif

/* Each way of dying, done so that no compiler can reason it away. */
NO_UBSAN static void crash(const char *how) {
  if (strcmp(how, "segv") == 0) {
    /* Volatile twice: the pointer is loaded at run time, so the compiler
     * cannot see that it is NULL and turn the store into a trap instruction
     * (which would be SIGILL); the pointee is volatile, so the store is
     * never dropped as dead (GCC 12 drops it through a plain `int *`). */
    volatile int *volatile nowhere = NULL;
    *nowhere = 1;
  } else if (strcmp(how, "abort") == 0) {
    abort(); /* SIGABRT, as a failed assert() in a plugin would */
  } else if (strcmp(how, "exit3") == 0) {
    exit(3); /* a plugin that ends the process itself: atexit handlers run */
  } else if (strcmp(how, "spin") == 0) {
    /* A volatile counter: the loop has a side effect, so it cannot be
     * assumed to terminate and removed (C11 6.8.5p6). */
    volatile unsigned long turns = 0;
    for (;;) ++turns;
  } else if (strcmp(how, "overflow") == 0) {
    recurse(0);
  }
}

static int is_crash(const char *how) {
  return strcmp(how, "segv") == 0 || strcmp(how, "abort") == 0 ||
         strcmp(how, "exit3") == 0 || strcmp(how, "spin") == 0 ||
         strcmp(how, "overflow") == 0;
}

/* The string value of "crash_at_create" in the config text, copied into
 * `out` ("" when absent). A scan rather than a JSON parser: the test
 * manifests are written by the tests themselves. */
static void crash_at_create(const char *json, uint64_t len, char *out,
                            size_t out_len) {
  static const char key[] = "\"crash_at_create\"";
  char *text;
  const char *at;
  size_t n = 0;
  out[0] = '\0';
  if (json == NULL || len == 0 || (text = malloc((size_t)len + 1)) == NULL)
    return;
  memcpy(text, json, (size_t)len);
  text[len] = '\0';
  at = strstr(text, key);
  if (at != NULL && (at = strchr(at + sizeof key - 1, ':')) != NULL &&
      (at = strchr(at, '"')) != NULL) {
    for (++at; *at != '\0' && *at != '"' && n + 1 < out_len; ++at)
      out[n++] = *at;
  }
  out[n] = '\0';
  free(text);
}

static int32_t reply(struct crasher *self, bentos_call *call, const char *text) {
  return self->services->complete_bytes(call, text, strlen(text));
}

/* "alloc N": N MiB, every byte written so that it is resident (and counts
 * against RLIMIT_AS or a cgroup limit at once, not on first use). */
static int32_t alloc_mib(struct crasher *self, bentos_call *call,
                         const char *arg) {
  char answer[64];
  char *end = NULL;
  const unsigned long mib = strtoul(arg, &end, 10);
  struct block *b = NULL;
  if (end == arg || *end != '\0') return -EINVAL;
  if (mib > 0 && mib <= (size_t)-1 / (1024 * 1024)) b = malloc(mib * 1024 * 1024);
  if (b != NULL) {
    memset(b, 0xA5, mib * 1024 * 1024);
    pthread_mutex_lock(&self->mutex);
    b->next = self->blocks;
    self->blocks = b;
    pthread_mutex_unlock(&self->mutex);
  }
  snprintf(answer, sizeof answer, "%s alloc %lu\n", b != NULL ? "ok" : "error",
           mib);
  return reply(self, call, answer);
}

static int32_t crasher_request(void *instance, void *state, bentos_call *call,
                               const uint8_t *data, uint64_t len) {
  struct crasher *self = instance;
  char text[256];
  char answer[300];
  size_t begin = 0, end = (size_t)len;
  (void)state;
  while (begin < end && strchr(" \t\r\n\v\f", data[begin]) != NULL) ++begin;
  while (end > begin && strchr(" \t\r\n\v\f", data[end - 1]) != NULL) --end;
  if (end - begin >= sizeof text) return -EINVAL;
  memcpy(text, data + begin, end - begin);
  text[end - begin] = '\0';

  if (is_crash(text)) {
    crash(text);
    return -EIO; /* not reached */
  }
  if (strncmp(text, "alloc ", 6) == 0) return alloc_mib(self, call, text + 6);
  if (strcmp(text, "pid") == 0) {
    snprintf(answer, sizeof answer, "%ld\n", (long)getpid());
  } else if (strcmp(text, "uid") == 0) {
    snprintf(answer, sizeof answer, "%lu\n", (unsigned long)getuid());
  } else {
    snprintf(answer, sizeof answer, "ok %s\n", text);
  }
  return reply(self, call, answer);
}

static int32_t crasher_create(bentos_host *host,
                              const bentos_host_services *services,
                              const char *config_json, uint64_t config_len,
                              void **instance, char *errbuf,
                              uint64_t errbuf_len) {
  char how[16];
  struct crasher *self;
  (void)host;
  crash_at_create(config_json, config_len, how, sizeof how);
  if (strcmp(how, "segv") == 0 || strcmp(how, "abort") == 0 ||
      strcmp(how, "exit3") == 0)
    crash(how);
  if (how[0] != '\0') {
    snprintf(errbuf, (size_t)errbuf_len,
             "crash_at_create must be \"segv\", \"abort\" or \"exit3\", not "
             "\"%s\"",
             how);
    return -EINVAL;
  }
  self = calloc(1, sizeof *self);
  if (self == NULL) return -ENOMEM;
  self->services = services;
  pthread_mutex_init(&self->mutex, NULL);
  *instance = self;
  return 0;
}

static void crasher_destroy(void *instance) {
  struct crasher *self = instance;
  while (self->blocks != NULL) {
    struct block *next = self->blocks->next;
    free(self->blocks);
    self->blocks = next;
  }
  pthread_mutex_destroy(&self->mutex);
  free(self);
}

static const bentos_write_read_ops crasher_ops = {
    sizeof(bentos_write_read_ops), 0, NULL, NULL, crasher_request,
};

static const bentos_driver crasher_driver = {
    sizeof(bentos_driver),
    BENTOS_ABI_MAJOR,
    BENTOS_ABI_MINOR,
    BENTOS_PATTERN_WRITE_READ,
    "crasher",
    "0.0.0",
    "test plugin: crashes its process on request (segv, abort, exit3, spin, overflow)",
    BENTOS_THREADING_LOOP,
    0,
    crasher_create,
    crasher_destroy,
    &crasher_ops,
};

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major,
                                                          uint32_t host_minor) {
  (void)host_major;
  (void)host_minor;
  return &crasher_driver;
}
