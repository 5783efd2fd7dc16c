/*
 * probe_raw: a raw-layer (L1) plugin for host tests, in C99 + pthreads.
 *
 *   open     a per-session buffer, empty; live sessions + 1
 *   write    replaces the buffer; completes with the byte count
 *   read     the buffer (up to size), except when it holds:
 *              "hang"     never completed (the call is kept, unused)
 *              "badkind"  completed with complete_count: the wrong kind for
 *                         a read, which the host must answer EIO
 *              "thread"   "threaded", from a thread 50 ms later
 *              "sleep:MS" "slept", after blocking the calling thread (the
 *                         loop) for MS ms: a slow callback
 *              "errno:N"  complete_error(call, N), N as given: positive,
 *                         absurd (-100000) or INT32_MIN are plugin bugs
 *              "return:N" returns N from the callback without completing
 *   ioctl    complete_ioctl(result = live sessions, no data)
 *   poll     POLLIN | POLLOUT
 *   release  frees the buffer; live sessions - 1
 * flush and fsync are left to the host's defaults.
 */
#define _POSIX_C_SOURCE 200809L

#include <bentos/driver.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One device instance. `lock` guards `live` and the thread list, since
 * reads may start threads while other callbacks run. */
struct probe {
  bentos_host *host;
  const bentos_host_services *services;
  pthread_mutex_t lock;
  int64_t live;
  pthread_t *threads;
  size_t thread_count, thread_capacity;
};

/* One open file. */
struct probe_session {
  char *data;
  uint64_t len;
  bentos_call *parked; /* the last "hang" read, never answered */
};

/* What a "thread" read hands its thread. */
struct late_answer {
  const bentos_host_services *services;
  bentos_call *call;
  uint64_t size;
};

static int holds(const struct probe_session *s, const char *word) {
  size_t n = strlen(word);
  return s->len == n && memcmp(s->data, word, n) == 0;
}

/* The number after `prefix` when the buffer is "prefix<integer>". */
static int number_after(const struct probe_session *s, const char *prefix,
                        long long *out) {
  size_t n = strlen(prefix);
  char text[32];
  char *end = NULL;
  if (s->len <= n || s->len - n >= sizeof text) return 0;
  if (memcmp(s->data, prefix, n) != 0) return 0;
  memcpy(text, s->data + n, (size_t)(s->len - n));
  text[s->len - n] = '\0';
  *out = strtoll(text, &end, 10);
  return end != text && *end == '\0';
}

static int32_t probe_create(bentos_host *host,
                            const bentos_host_services *services,
                            const char *config_json, uint64_t config_len,
                            void **instance, char *errbuf,
                            uint64_t errbuf_len) {
  struct probe *self = calloc(1, sizeof *self);
  (void)config_json;
  (void)config_len;
  if (self == NULL || pthread_mutex_init(&self->lock, NULL) != 0) {
    free(self);
    if (errbuf != NULL && errbuf_len > 0) errbuf[0] = '\0';
    return -ENOMEM;
  }
  self->host = host;
  self->services = services;
  *instance = self;
  return 0;
}

/* Joins every thread a "thread" read started: none outlives the instance. */
static void probe_destroy(void *instance) {
  struct probe *self = instance;
  size_t i;
  for (i = 0; i < self->thread_count; i++) pthread_join(self->threads[i], NULL);
  free(self->threads);
  pthread_mutex_destroy(&self->lock);
  free(self);
}

static int32_t probe_open(void *instance, bentos_call *call,
                          const bentos_session_info *info, void **state) {
  struct probe *self = instance;
  struct probe_session *session = calloc(1, sizeof *session);
  (void)info;
  if (session == NULL) return -ENOMEM;
  pthread_mutex_lock(&self->lock);
  self->live++;
  pthread_mutex_unlock(&self->lock);
  *state = session;
  self->services->complete_ok(call);
  return 0;
}

static int32_t probe_write(void *instance, void *state, bentos_call *call,
                           const uint8_t *data, uint64_t len, int64_t offset) {
  struct probe *self = instance;
  struct probe_session *session = state;
  char *copy = malloc(len > 0 ? (size_t)len : 1);
  (void)offset;
  if (copy == NULL) return -ENOMEM;
  if (len > 0) memcpy(copy, data, (size_t)len);
  free(session->data);
  session->data = copy;
  session->len = len;
  self->services->complete_count(call, len);
  return 0;
}

static void *answer_later(void *arg) {
  struct late_answer *late = arg;
  struct timespec delay = {0, 50 * 1000 * 1000};
  static const char text[] = "threaded";
  uint64_t len = sizeof text - 1;
  nanosleep(&delay, NULL);
  late->services->complete_bytes(late->call, text,
                                 late->size < len ? late->size : len);
  free(late);
  return NULL;
}

static int32_t start_late_answer(struct probe *self, bentos_call *call,
                                 uint64_t size) {
  struct late_answer *late = malloc(sizeof *late);
  int32_t rc = 0;
  if (late == NULL) return -ENOMEM;
  late->services = self->services;
  late->call = call;
  late->size = size;
  pthread_mutex_lock(&self->lock);
  if (self->thread_count == self->thread_capacity) {
    size_t capacity = self->thread_capacity ? 2 * self->thread_capacity : 8;
    pthread_t *grown = realloc(self->threads, capacity * sizeof *grown);
    if (grown == NULL) {
      rc = -ENOMEM;
    } else {
      self->threads = grown;
      self->thread_capacity = capacity;
    }
  }
  if (rc == 0 && pthread_create(&self->threads[self->thread_count], NULL,
                                answer_later, late) != 0) {
    rc = -EAGAIN;
  }
  if (rc == 0) self->thread_count++;
  pthread_mutex_unlock(&self->lock);
  if (rc != 0) free(late);
  return rc;
}

static int32_t probe_read(void *instance, void *state, bentos_call *call,
                          uint64_t size, int64_t offset) {
  struct probe *self = instance;
  struct probe_session *session = state;
  long long number = 0;
  (void)offset;
  if (holds(session, "hang")) {
    session->parked = call;
    return 0;
  }
  if (holds(session, "badkind")) {
    self->services->complete_count(call, 1);
    return 0;
  }
  if (holds(session, "thread")) return start_late_answer(self, call, size);
  if (number_after(session, "sleep:", &number)) {
    struct timespec delay;
    delay.tv_sec = (time_t)(number / 1000);
    delay.tv_nsec = (long)(number % 1000) * 1000000L;
    nanosleep(&delay, NULL);
    self->services->complete_bytes(call, "slept", 5);
    return 0;
  }
  if (number_after(session, "errno:", &number)) {
    self->services->complete_error(call, (int32_t)number);
    return 0;
  }
  if (number_after(session, "return:", &number)) return (int32_t)number;
  self->services->complete_bytes(call, session->data,
                                 size < session->len ? size : session->len);
  return 0;
}

static int32_t probe_release(void *instance, void *state, bentos_call *call,
                             int32_t flags) {
  struct probe *self = instance;
  struct probe_session *session = state;
  (void)flags;
  free(session->data);
  free(session);
  pthread_mutex_lock(&self->lock);
  self->live--;
  pthread_mutex_unlock(&self->lock);
  self->services->complete_ok(call);
  return 0;
}

static int32_t probe_ioctl(void *instance, void *state, bentos_call *call,
                           uint32_t cmd, uint32_t flags, const uint8_t *in,
                           uint64_t in_len, uint64_t out_size) {
  struct probe *self = instance;
  int64_t live;
  (void)state;
  (void)cmd;
  (void)flags;
  (void)in;
  (void)in_len;
  (void)out_size;
  pthread_mutex_lock(&self->lock);
  live = self->live;
  pthread_mutex_unlock(&self->lock);
  self->services->complete_ioctl(call, (int32_t)live, NULL, 0);
  return 0;
}

static int32_t probe_poll(void *instance, void *state, bentos_call *call,
                          uint32_t events) {
  struct probe *self = instance;
  (void)state;
  (void)events;
  self->services->complete_poll(call, BENTOS_POLLIN | BENTOS_POLLOUT);
  return 0;
}

static const bentos_raw_ops probe_ops = {
    sizeof(bentos_raw_ops), 0,           probe_open, probe_read,
    probe_write,            NULL,        probe_release,
    NULL,                   probe_ioctl, probe_poll,
};

static const bentos_driver probe_driver = {
    sizeof(bentos_driver),
    BENTOS_ABI_MAJOR,
    BENTOS_ABI_MINOR,
    BENTOS_PATTERN_RAW,
    "probe_raw",
    "0.0.0",
    "test plugin: raw-layer probe",
    BENTOS_THREADING_LOOP,
    0,
    probe_create,
    probe_destroy,
    &probe_ops,
};

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major,
                                                          uint32_t host_minor) {
  (void)host_major;
  (void)host_minor;
  return &probe_driver;
}
