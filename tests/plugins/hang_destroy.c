/*
 * hang_destroy: a raw-layer plugin for shutdown and reload tests, in C99.
 * Opens and releases sessions and nothing else; its destroy sleeps for the
 * config's "hang_ms" milliseconds and its create for "create_hang_ms"
 * (both default 0), like a plugin stuck in teardown or setup, so the
 * host's bounded shutdown and reload can be observed. With "create_posts"
 * set, create posts a task and starts a timer before it sleeps; each logs
 * whether create had returned when it ran (the host must hold them).
 */
#define _POSIX_C_SOURCE 200809L

#include <bentos/driver.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hang {
  const bentos_host_services *services;
  bentos_host *host;
  long hang_ms;
  int create_returned; /* read by the task and the timer, on the loop */
};

/* The number after `key` (quoted) in the config text; 0 when absent. */
static long parse_ms(const char *json, uint64_t len, const char *key) {
  char *text;
  const char *at;
  long value = 0;
  if (json == NULL || len == 0) return 0;
  text = malloc((size_t)len + 1);
  if (text == NULL) return 0;
  memcpy(text, json, (size_t)len);
  text[len] = '\0';
  at = strstr(text, key);
  if (at != NULL) {
    at = strchr(at + strlen(key), ':');
    if (at != NULL) value = strtol(at + 1, NULL, 10);
  }
  free(text);
  return value > 0 ? value : 0;
}

static void sleep_ms(long ms) {
  struct timespec delay;
  delay.tv_sec = ms / 1000;
  delay.tv_nsec = (ms % 1000) * 1000000L;
  while (nanosleep(&delay, &delay) != 0 && errno == EINTR) {
  }
}

static void report(struct hang *self, const char *what) {
  char line[96];
  snprintf(line, sizeof line, "%s ran %s create returned", what,
           self->create_returned ? "after" : "before");
  self->services->log(self->host, BENTOS_LOG_INFO, line);
}

static void posted_task(void *arg) { report(arg, "posted task"); }
static void timer_task(void *arg) { report(arg, "timer"); }

static int32_t hang_create(bentos_host *host,
                           const bentos_host_services *services,
                           const char *config_json, uint64_t config_len,
                           void **instance, char *errbuf,
                           uint64_t errbuf_len) {
  struct hang *self = calloc(1, sizeof *self);
  if (self == NULL) {
    if (errbuf != NULL && errbuf_len > 0) errbuf[0] = '\0';
    return -ENOMEM;
  }
  self->services = services;
  self->host = host;
  self->hang_ms = parse_ms(config_json, config_len, "\"hang_ms\"");
  if (parse_ms(config_json, config_len, "\"create_posts\"") > 0) {
    services->post(host, posted_task, self);
    services->timer_start(host, 0, 0, timer_task, self);
  }
  sleep_ms(parse_ms(config_json, config_len, "\"create_hang_ms\""));
  self->create_returned = 1;
  *instance = self;
  return 0;
}

static void hang_destroy(void *instance) {
  struct hang *self = instance;
  sleep_ms(self->hang_ms);
  free(self);
}

static int32_t hang_open(void *instance, bentos_call *call,
                         const bentos_session_info *info, void **state) {
  struct hang *self = instance;
  (void)info;
  *state = NULL;
  self->services->complete_ok(call);
  return 0;
}

static int32_t hang_release(void *instance, void *state, bentos_call *call,
                            int32_t flags) {
  struct hang *self = instance;
  (void)state;
  (void)flags;
  self->services->complete_ok(call);
  return 0;
}

static const bentos_raw_ops hang_ops = {
    sizeof(bentos_raw_ops), 0,    hang_open, NULL, NULL, NULL, hang_release,
    NULL,                   NULL, NULL,
};

static const bentos_driver hang_driver = {
    sizeof(bentos_driver),
    BENTOS_ABI_MAJOR,
    BENTOS_ABI_MINOR,
    BENTOS_PATTERN_RAW,
    "hang_destroy",
    "0.0.0",
    "test plugin: destroy sleeps for config hang_ms, create for create_hang_ms",
    BENTOS_THREADING_LOOP,
    0,
    hang_create,
    hang_destroy,
    &hang_ops,
};

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major,
                                                          uint32_t host_minor) {
  (void)host_major;
  (void)host_minor;
  return &hang_driver;
}
