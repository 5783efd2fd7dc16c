/*
 * probe_stream: a pure-stream (P1) plugin for host tests, in C99 + pthreads.
 *
 * Each on_data call is one command (trailing ASCII whitespace ignored):
 *   flood:<n>       a thread pushes up to n chunks of 1 KiB ("0000...",
 *                   "1111...", digits cycling) and stops at the first
 *                   refused push (-EAGAIN), counted as refused
 *   flood-wait:<n>  as flood, but after a refused push the thread waits
 *                   for on_writable (10 s at most) and retries the same
 *                   chunk, until all n are queued
 *   stats           pushes "queued=<q> refused=<r> writable=<w> stale=<s>
 *                   running=<t>\n": chunks queued by floods, refused
 *                   pushes, on_writable calls, flood pushes that found the
 *                   session ended, flood threads still running (all for
 *                   this session)
 *   flags           pushes "<open flags>\n" (decimal)
 *   short:<k>       consumes only min(k, len) bytes, pushes nothing
 *   fail:<n>        on_data returns -n
 *   end             ends the session's output (ABI 1.1 end_output(0)):
 *                   readers get what is queued, then EOF
 *   end-err:<n>     ends it with -n: readers get errno n after the queue
 *   anything else   pushes "<len>\n", the byte count of this on_data call
 * A command's own push failing (queue full) fails the write with that
 * errno. Every command but short:<k> consumes the whole write.
 *
 * Flood threads hold a reference to their session's state, so a session
 * that ends while they run is freed by whichever lets go last; destroy
 * wakes and joins every thread.
 */
#define _POSIX_C_SOURCE 200809L

#include <bentos/driver.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 1024

/* One device instance. `lock` guards every session's counters and
 * references, `stopping` and the thread list; `changed` is broadcast on
 * on_writable, session end and destroy. */
struct probe {
  bentos_host *host;
  const bentos_host_services *services;
  pthread_mutex_t lock;
  pthread_cond_t changed;
  int stopping;
  pthread_t *threads;
  size_t thread_count, thread_capacity;
};

/* One open file, shared with its flood threads (refs counts them plus the
 * session itself); fields below `session` are guarded by probe.lock. */
struct probe_session {
  bentos_session *session;
  int32_t open_flags;
  int refs;
  int ended;
  uint64_t queued, refused, writable, stale, running;
};

/* What one flood thread gets. */
struct flood {
  struct probe *probe;
  struct probe_session *session;
  uint64_t chunks;
  int wait;
};

static void session_unref(struct probe *self, struct probe_session *s) {
  int last;
  pthread_mutex_lock(&self->lock);
  last = --s->refs == 0;
  pthread_mutex_unlock(&self->lock);
  if (last) free(s);
}

static int32_t probe_create(bentos_host *host,
                            const bentos_host_services *services,
                            const char *config_json, uint64_t config_len,
                            void **instance, char *errbuf,
                            uint64_t errbuf_len) {
  struct probe *self = calloc(1, sizeof *self);
  (void)config_json;
  (void)config_len;
  if (self == NULL) {
    if (errbuf != NULL && errbuf_len > 0) errbuf[0] = '\0';
    return -ENOMEM;
  }
  pthread_mutex_init(&self->lock, NULL);
  pthread_cond_init(&self->changed, NULL);
  self->host = host;
  self->services = services;
  *instance = self;
  return 0;
}

static void probe_destroy(void *instance) {
  struct probe *self = instance;
  size_t i;
  pthread_mutex_lock(&self->lock);
  self->stopping = 1;
  pthread_cond_broadcast(&self->changed);
  pthread_mutex_unlock(&self->lock);
  for (i = 0; i < self->thread_count; i++) pthread_join(self->threads[i], NULL);
  free(self->threads);
  pthread_cond_destroy(&self->changed);
  pthread_mutex_destroy(&self->lock);
  free(self);
}

static int32_t probe_session_start(void *instance,
                                   const bentos_session_info *info,
                                   void **state) {
  struct probe_session *s = calloc(1, sizeof *s);
  (void)instance;
  if (s == NULL) return -ENOMEM;
  s->session = info->session;
  s->open_flags = info->open_flags;
  s->refs = 1;
  *state = s;
  return 0;
}

static void probe_session_end(void *instance, void *state) {
  struct probe *self = instance;
  struct probe_session *s = state;
  pthread_mutex_lock(&self->lock);
  s->ended = 1;
  pthread_cond_broadcast(&self->changed);
  pthread_mutex_unlock(&self->lock);
  session_unref(self, s);
}

/* Waits (lock held) until on_writable has run since `seen` was read, the
 * session ended or destroy began; 0 when the thread should retry. */
static int wait_writable(struct probe *self, struct probe_session *s,
                         uint64_t seen, const struct timespec *deadline) {
  while (s->writable == seen && !s->ended && !self->stopping) {
    if (pthread_cond_timedwait(&self->changed, &self->lock, deadline) ==
        ETIMEDOUT) {
      return -1;
    }
  }
  return s->ended || self->stopping ? -1 : 0;
}

static void *flood_main(void *arg) {
  struct flood *job = arg;
  struct probe *self = job->probe;
  struct probe_session *s = job->session;
  char chunk[CHUNK];
  struct timespec deadline;
  uint64_t i = 0;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 10;
  while (i < job->chunks) {
    uint64_t seen;
    int32_t rc;
    memset(chunk, '0' + (int)(i % 10), sizeof chunk);
    pthread_mutex_lock(&self->lock);
    seen = s->writable;
    pthread_mutex_unlock(&self->lock);
    rc = self->services->push(s->session, chunk, sizeof chunk);
    pthread_mutex_lock(&self->lock);
    if (rc == 0) {
      s->queued++;
      i++;
    } else if (rc == -EAGAIN) {
      s->refused++;
    } else {
      s->stale++;
    }
    if (rc != 0 && (rc != -EAGAIN || !job->wait ||
                    wait_writable(self, s, seen, &deadline) != 0)) {
      pthread_mutex_unlock(&self->lock);
      break;
    }
    pthread_mutex_unlock(&self->lock);
  }
  pthread_mutex_lock(&self->lock);
  s->running--;
  pthread_mutex_unlock(&self->lock);
  session_unref(self, s);
  free(job);
  return NULL;
}

static int32_t start_flood(struct probe *self, struct probe_session *s,
                           uint64_t chunks, int wait) {
  struct flood *job = malloc(sizeof *job);
  int32_t rc = 0;
  if (job == NULL) return -ENOMEM;
  job->probe = self;
  job->session = s;
  job->chunks = chunks;
  job->wait = wait;
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
  if (rc == 0) {
    s->refs++;
    s->running++;
    if (pthread_create(&self->threads[self->thread_count], NULL, flood_main,
                       job) != 0) {
      s->refs--;
      s->running--;
      rc = -EAGAIN;
    } else {
      self->thread_count++;
    }
  }
  pthread_mutex_unlock(&self->lock);
  if (rc != 0) free(job);
  return rc;
}

/* "<prefix><number>" with the number parsed into *n. */
static int command(const char *text, size_t len, const char *prefix,
                   uint64_t *n) {
  size_t plen = strlen(prefix), i;
  uint64_t v = 0;
  if (len <= plen || memcmp(text, prefix, plen) != 0) return 0;
  for (i = plen; i < len; i++) {
    if (text[i] < '0' || text[i] > '9' || v > UINT64_MAX / 10 - 1) return 0;
    v = v * 10 + (uint64_t)(text[i] - '0');
  }
  *n = v;
  return 1;
}

static int64_t push_text(struct probe *self, struct probe_session *s,
                         const char *text, uint64_t consumed) {
  int32_t rc = self->services->push(s->session, text, strlen(text));
  return rc == 0 ? (int64_t)consumed : rc;
}

static int64_t probe_on_data(void *instance, void *state, const uint8_t *data,
                             uint64_t len) {
  struct probe *self = instance;
  struct probe_session *s = state;
  const char *text = (const char *)data;
  size_t n = (size_t)len;
  uint64_t arg = 0;
  char line[160];
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' ||
                   text[n - 1] == ' ' || text[n - 1] == '\t')) {
    n--;
  }
  if (command(text, n, "flood:", &arg) || command(text, n, "flood-wait:", &arg)) {
    int32_t rc = start_flood(self, s, arg, text[5] == '-');
    return rc == 0 ? (int64_t)len : rc;
  }
  if (n == 5 && memcmp(text, "stats", 5) == 0) {
    pthread_mutex_lock(&self->lock);
    snprintf(line, sizeof line,
             "queued=%lu refused=%lu writable=%lu stale=%lu running=%lu\n",
             (unsigned long)s->queued, (unsigned long)s->refused,
             (unsigned long)s->writable, (unsigned long)s->stale,
             (unsigned long)s->running);
    pthread_mutex_unlock(&self->lock);
    return push_text(self, s, line, len);
  }
  if (n == 5 && memcmp(text, "flags", 5) == 0) {
    snprintf(line, sizeof line, "%ld\n", (long)s->open_flags);
    return push_text(self, s, line, len);
  }
  if (command(text, n, "short:", &arg)) return (int64_t)(arg < len ? arg : len);
  if (command(text, n, "fail:", &arg)) {
    return arg > 0 && arg < 4096 ? -(int64_t)arg : -EINVAL;
  }
  if ((n == 3 && memcmp(text, "end", 3) == 0) || command(text, n, "end-err:", &arg)) {
    int32_t rc;
    if (!BENTOS_HAS_SERVICE(self->services, end_output)) return -ENOSYS;
    rc = self->services->end_output(s->session, n == 3 ? 0 : -(int32_t)arg);
    return rc == 0 ? (int64_t)len : rc;
  }
  snprintf(line, sizeof line, "%lu\n", (unsigned long)len);
  return push_text(self, s, line, len);
}

static void probe_on_writable(void *instance, void *state) {
  struct probe *self = instance;
  struct probe_session *s = state;
  pthread_mutex_lock(&self->lock);
  s->writable++;
  pthread_cond_broadcast(&self->changed);
  pthread_mutex_unlock(&self->lock);
}

static const bentos_stream_ops probe_ops = {
    sizeof(bentos_stream_ops), 0,           probe_session_start,
    probe_session_end,         probe_on_data, probe_on_writable,
};

static const bentos_driver probe_driver = {
    sizeof(bentos_driver),
    BENTOS_ABI_MAJOR,
    BENTOS_ABI_MINOR,
    BENTOS_PATTERN_STREAM,
    "probe_stream",
    "0.0.0",
    "test plugin: pure-stream probe (floods, backpressure counters)",
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
