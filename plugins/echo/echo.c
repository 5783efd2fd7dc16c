/*
 * echo: a pure-stream (P1) driver in plain C99 against bentos/driver.h.
 *
 * Bytes written to an open file come back on reads of that same file;
 * every open file has its own output queue, so files are independent.
 *
 * Backpressure: the host bounds each session's output queue
 * (max_buffered_bytes) and refuses a push that would overflow it. echo
 * pushes the written bytes in pieces of at most ECHO_PIECE bytes and
 * consumes only the pieces that were queued, so a writer facing a full
 * queue sees a short write and retries the rest. A write of which nothing
 * could be queued answers EAGAIN (the writer retries after reading: a
 * write count of 0 would look like an error to most writers). When the
 * queue has room again the host calls on_writable; echo keeps no unsent
 * data, so it only notes the event.
 */
#include <bentos/driver.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* The largest piece pushed at once: small enough that a nearly full
 * queue still takes part of a big write. */
#define ECHO_PIECE 65536u

/* One device instance: the host's handle and services, kept from create.
 * Read-only after create, so any callback may use it. */
struct echo_instance {
  bentos_host *host;
  const bentos_host_services *services;
};

/* One open file: its output handle and whether a push was refused since
 * the queue last had room. Touched by this session's callbacks only. */
struct echo_session {
  bentos_session *session;
  int blocked;
};

static int32_t echo_create(bentos_host *host,
                           const bentos_host_services *services,
                           const char *config_json, uint64_t config_len,
                           void **instance, char *errbuf,
                           uint64_t errbuf_len) {
  struct echo_instance *self;
  (void)config_json; /* echo takes no configuration */
  (void)config_len;
  self = calloc(1, sizeof *self);
  if (self == NULL) {
    if (errbuf != NULL && errbuf_len > 0) {
      snprintf(errbuf, (size_t)errbuf_len, "%s", "echo: out of memory");
    }
    return -ENOMEM;
  }
  self->host = host;
  self->services = services;
  *instance = self;
  return 0;
}

static void echo_destroy(void *instance) { free(instance); }

static int32_t echo_session_start(void *instance,
                                  const bentos_session_info *info,
                                  void **state) {
  struct echo_session *session = calloc(1, sizeof *session);
  (void)instance;
  if (session == NULL) return -ENOMEM;
  session->session = info->session;
  *state = session;
  return 0;
}

static void echo_session_end(void *instance, void *state) {
  (void)instance;
  free(state);
}

/* Pushes data piece by piece; returns the bytes queued, or a negative
 * errno when nothing was (EAGAIN for a full queue). */
static int64_t echo_on_data(void *instance, void *state, const uint8_t *data,
                            uint64_t len) {
  struct echo_instance *self = instance;
  struct echo_session *session = state;
  uint64_t queued = 0;
  int32_t rc = 0;
  while (queued < len) {
    uint64_t piece = len - queued < ECHO_PIECE ? len - queued : ECHO_PIECE;
    rc = self->services->push(session->session, data + queued, piece);
    if (rc != 0) break;
    queued += piece;
  }
  if (rc == -EAGAIN) session->blocked = 1;
  if (queued > 0 || len == 0) return (int64_t)queued;
  return rc;
}

static void echo_on_writable(void *instance, void *state) {
  struct echo_instance *self = instance;
  struct echo_session *session = state;
  if (session->blocked) {
    session->blocked = 0;
    self->services->log(self->host, BENTOS_LOG_DEBUG,
                        "output queue has room again");
  }
}

static const bentos_stream_ops echo_ops = {
    sizeof(bentos_stream_ops),
    0,
    echo_session_start,
    echo_session_end,
    echo_on_data,
    echo_on_writable,
};

static const bentos_driver echo_driver = {
    sizeof(bentos_driver),
    BENTOS_ABI_MAJOR,
    BENTOS_ABI_MINOR,
    BENTOS_PATTERN_STREAM,
    "echo",
    "1.0.0",
    "pure-stream example: what an open file is written, it reads back",
    BENTOS_THREADING_LOOP,
    0,
    echo_create,
    echo_destroy,
    &echo_ops,
};

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major,
                                                          uint32_t host_minor) {
  (void)host_major; /* the host checks the versions in the descriptor */
  (void)host_minor;
  return &echo_driver;
}
