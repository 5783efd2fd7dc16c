/*
 * bentos/driver.h - the BentOS driver plugin ABI, version 1.
 *
 * This is the only header a driver plugin needs. It is plain C99: fixed-width
 * integers, pointer + length pairs and opaque handles. A plugin is a shared
 * object that exports exactly one function, bentos_driver_entry_v1(), which
 * returns a static, constant descriptor (struct bentos_driver).
 *
 * Lifecycle, and the thread each step runs on:
 *   bentos_driver_entry_v1()  once per dlopen, on the loop thread
 *   create(config)            once per device: loop thread at start-up,
 *                             a lifecycle thread of its own during a reload
 *   session_start / raw open  per open file (connection, fh)   [callbacks]
 *   ops                       read, write, ioctl, ... per pattern [callbacks]
 *   session_end / raw release exactly once per successful start [callbacks]
 *   destroy(instance)         once, after every session ended and every
 *                             timer stopped: loop thread at shutdown, a
 *                             lifecycle thread during a reload
 * [callbacks]: the loop thread, or a host worker when the device runs on
 * workers (see Threading). The pattern semantics: docs/patterns.md.
 *
 * Versions: 1.0 was the first; 1.1 appended end_output to the services
 * (P1 end of output) and on_writable to the P4 ops. A plugin built against
 * 1.1 that uses an appended service must check that the host has it:
 * services->abi_minor >= 1 (BENTOS_HAS_SERVICE below does exactly that),
 * because a 1.0 host hands it a shorter table.
 *
 * Compatibility rules (why the structs look the way they do):
 *   - Every struct starts with `struct_size`. Fields are only ever appended.
 *     The host copies min(struct_size, sizeof) bytes into a zeroed struct of
 *     its own, so a plugin built against an older minor simply has its newer
 *     callbacks read as "unset".
 *   - The host refuses a plugin whose abi_major differs from its own, or
 *     whose abi_minor is newer than its own.
 *   - Errors are 0 (success) or a negative errno (-EINVAL, -ENOENT, ...).
 *   - Input pointers given to a callback are valid only during that call;
 *     data handed to a host service is copied before the service returns.
 *
 * Threading: by default every callback runs on the host's loop thread and
 * must not block. A device configured with worker threads (manifest
 * "threads" or "executor": "worker", or the descriptor's threading hint
 * BENTOS_THREADING_WORKER) runs its callbacks on host workers instead.
 * Which thread runs what, for such a device:
 *   - ops callbacks (raw ops; session_start/session_end; on_data,
 *     on_request, process, config_default/config_apply/config_free,
 *     on_query, on_cancel, on_drain, on_writable): a worker. Each session
 *     is a strand: its callbacks run one at a time, in order, but not
 *     always on the same worker; different sessions run in parallel.
 *   - P3 on_activate/on_deactivate: a worker, on the device's own strand
 *     (never two at once, never overlapping each other).
 *   - post() tasks and timer functions (timer_start): always the loop
 *     thread, so they run in parallel with worker callbacks: state they
 *     share with callbacks needs a lock.
 *   - create()/destroy(): see struct bentos_driver.
 * The plugin must guard state shared between sessions, and between
 * callbacks and its timers/posted tasks. A plugin that cannot (one that
 * keeps its state unlocked and uses timers from its callbacks) declares
 * BENTOS_THREADING_LOOP_ONLY: the host then refuses to give its devices
 * workers. Every service may be called from any thread, including from
 * inside a callback.
 *
 * Semantics of each pattern (states, defaults, limits, poll bits, errors):
 * docs/patterns.md in the bentos-driver-host sources, installed as
 * <datadir>/doc/bentos-driver-host/patterns.md.
 *
 * Handles: bentos_call, bentos_session and bentos_cycle handles are
 * generation-checked inside the host. Using one after it was completed,
 * after its session ended, or twice, is detected, logged and ignored (the
 * service returns -ESTALE); it is never a use after free.
 */
#ifndef BENTOS_DRIVER_H
#define BENTOS_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BENTOS_ABI_MAJOR 1
#define BENTOS_ABI_MINOR 1

/* Name of the exported entry symbol for ABI major 1. */
#define BENTOS_DRIVER_ENTRY_SYMBOL "bentos_driver_entry_v1"

#if defined(__GNUC__)
#define BENTOS_EXPORT __attribute__((visibility("default")))
#else
#define BENTOS_EXPORT
#endif

/* ---- Opaque handles -------------------------------------------------- */

/* One device instance as the host sees it; valid from create to destroy. */
typedef struct bentos_host bentos_host;
/* One open file (one (connection, fh) pair); valid while the session lives. */
typedef struct bentos_session bentos_session;
/* One request awaiting its answer; complete it exactly once. */
typedef struct bentos_call bentos_call;
/* One P4 processing cycle: yield records, then end it exactly once. */
typedef struct bentos_cycle bentos_cycle;
/* The 1.0 name of bentos_cycle, kept so 1.0 sources compile unchanged. (It
 * is unrelated to bentos_stream_ops, the P1 pure-stream ops table.) */
typedef bentos_cycle bentos_stream;

/* ---- Enumerations (stored in uint32_t fields) ------------------------- */

enum bentos_pattern {
  BENTOS_PATTERN_RAW = 1,               /* L1: every file op, by hand */
  BENTOS_PATTERN_STREAM = 2,            /* P1: pure stream */
  BENTOS_PATTERN_WRITE_READ = 3,        /* P2: write a request, read a response */
  BENTOS_PATTERN_EVENT_STREAM = 4,      /* P3: events to every listener */
  BENTOS_PATTERN_CONFIGURED_STREAM = 5  /* P4: configure, submit, stream records */
};

enum bentos_threading {
  BENTOS_THREADING_LOOP = 0,   /* callbacks run on the loop thread (default) */
  BENTOS_THREADING_WORKER = 1, /* hint: callbacks may block; run on host workers */
  /* Callbacks must stay on the loop thread (the driver shares unlocked
   * state with its timers, or is otherwise not thread-safe). The host
   * refuses a manifest entry asking such a driver for workers ("threads"
   * or "executor": "worker"): `--check` reports it (exit 78), and the
   * device does not start (nor reload), with an error naming it. Added in
   * 1.1 without a minor bump: a host that predates it runs the driver as
   * BENTOS_THREADING_LOOP (the loop, unless its manifest asks for
   * workers). */
  BENTOS_THREADING_LOOP_ONLY = 2
};

enum bentos_log_level {
  BENTOS_LOG_ERROR = 0,
  BENTOS_LOG_WARN = 1,
  BENTOS_LOG_INFO = 2,
  BENTOS_LOG_DEBUG = 3
};

/* Poll bits, as on Linux. */
#define BENTOS_POLLIN 0x01u
#define BENTOS_POLLOUT 0x04u
#define BENTOS_POLLHUP 0x10u

/* open(2) flag the host honours: a read that would park answers EAGAIN. */
#define BENTOS_O_NONBLOCK 0x800

/* ---- Small value types ------------------------------------------------ */

/* A byte range (P4 input records). */
typedef struct bentos_bytes {
  const uint8_t *data;
  uint64_t len;
} bentos_bytes;

/* Who a new session is; given to every session_start / raw open. */
typedef struct bentos_session_info {
  uint32_t struct_size;
  int32_t open_flags;          /* open(2) flags as bentosd sent them */
  uint64_t fh;                 /* bentosd's file handle */
  uint64_t connection_id;      /* host-unique id of the bentosd connection */
  bentos_session *session;     /* for push() (P1) and logging */
} bentos_session_info;

/* ---- Host services (the host gives this table to create) -------------- */

typedef void (*bentos_task_fn)(void *arg);

typedef struct bentos_host_services {
  uint32_t struct_size;
  uint32_t abi_minor; /* the host's minor: later entries exist if >= it */

  /* Any thread. A log line tagged with the device name. */
  void (*log)(bentos_host *host, int32_t level, const char *message);

  /* Any thread. Answer a request; data is copied. Each returns 0, or
   * -ESTALE if the call was already answered, timed out or its connection
   * closed (the completion is dropped and logged).
   * Which one answers which op: read -> complete_bytes (NULL/0 = EOF, or
   * an empty P2 response); write -> complete_count; ioctl ->
   * complete_ioctl; poll -> complete_poll; open, flush, release, fsync ->
   * complete_ok; any op -> complete_error. A completion of the wrong kind
   * is a plugin bug: the request is answered EIO and the host logs it. A
   * raw read answered with more than `size` bytes is cut to `size` (a FUSE
   * kernel rejects longer replies), also logged. */
  int32_t (*complete_bytes)(bentos_call *call, const void *data, uint64_t len);
  int32_t (*complete_count)(bentos_call *call, uint64_t count);
  int32_t (*complete_ok)(bentos_call *call); /* open/flush/release/fsync */
  int32_t (*complete_ioctl)(bentos_call *call, int32_t result,
                            const void *data, uint64_t len);
  int32_t (*complete_poll)(bentos_call *call, uint32_t revents);
  int32_t (*complete_error)(bentos_call *call, int32_t negative_errno);

  /* Any thread. P1 output for one session. Returns 0 when queued,
   * -EAGAIN when the queue is over max_buffered_bytes (nothing queued;
   * on_writable follows when space frees up), -ESTALE if the session
   * ended. */
  int32_t (*push)(bentos_session *session, const void *data, uint64_t len);

  /* Any thread. P3: one encoded event to every current listener of the
   * instance. Returns 0 (also when nobody listens). */
  int32_t (*emit)(bentos_host *host, const void *data, uint64_t len);

  /* Any thread. P4: one output record of a cycle, then the end of it
   * (0 or a negative errno). yield returns -EAGAIN (nothing queued) when
   * the session's unread output would exceed max_buffered_bytes; retry
   * later. After DROP, RESET or release the stream is cancelled: yield
   * returns -ECANCELED and does nothing; end() must still be called once so
   * the host can forget the handle. */
  int32_t (*yield)(bentos_cycle *cycle, const void *data, uint64_t len);
  int32_t (*end)(bentos_cycle *cycle, int32_t negative_errno);

  /* Any thread. Run fn(arg) on the loop thread soon. 0 or -errno. Tasks
   * still queued when destroy() begins are dropped, never run. */
  int32_t (*post)(bentos_host *host, bentos_task_fn fn, void *arg);

  /* Any thread (fn runs on the loop thread). A timer calling fn(arg) after
   * delay_ms, then every repeat_ms if repeat_ms > 0. Returns an id > 0, or
   * 0 on failure (no host or no fn, or called off the loop once the host
   * stopped taking tasks for the instance): 0, not a negative errno, since
   * the return is an unsigned id. Called off the loop thread, the timer
   * starts shortly after; stopping it before then still prevents it. Timers still running
   * at destroy are stopped by the host before destroy() is called. */
  uint64_t (*timer_start)(bentos_host *host, uint64_t delay_ms,
                          uint64_t repeat_ms, bentos_task_fn fn, void *arg);
  int32_t (*timer_stop)(bentos_host *host, uint64_t timer_id);

  /* Any thread. The device name from the manifest (valid until destroy). */
  const char *(*device_name)(bentos_host *host);

  /* ---- ABI 1.1 (check BENTOS_HAS_SERVICE(services, end_output)) ---- */

  /* Any thread. P1: this session's output is over: 0 for a clean end (a
   * serial line hung up, a child process exited), or a negative errno for a
   * failure. Reads first drain what is queued, then answer EOF (or that
   * errno, every time: it is sticky); reads parked in block mode are
   * answered at once; writes answer EPIPE without reaching on_data; poll
   * reports POLLIN | POLLHUP (a read no longer blocks); push returns
   * -EPIPE. Returns 0, -EALREADY if the output had ended already (the
   * first end stands), or -ESTALE if the session ended. */
  int32_t (*end_output)(bentos_session *session, int32_t negative_errno);
} bentos_host_services;

/* True when the host's services table has `member` (appended in a later
 * minor than the one the host was built with, it may be missing). */
#define BENTOS_HAS_SERVICE(services, member)                              \
  ((services)->struct_size >= offsetof(bentos_host_services, member) +   \
                                  sizeof((services)->member) &&           \
   (services)->member != NULL)

/* ---- Ops tables, one per pattern ---------------------------------------
 *
 * `instance` is the pointer create() produced; `state` is the per-session
 * pointer session_start (or raw open) stored. Callbacks that receive a
 * bentos_call answer it through the services, now or later, from any
 * thread; returning a negative errno instead is the same as
 * complete_error(call, errno). Returning 0 means "answered, or will be".
 * Any callback may be left NULL; the pattern's default applies.
 */

/* L1 raw layer: every file op. Defaults when NULL: open -> success;
 * flush, release, fsync -> success; read, write, ioctl, poll -> ENOSYS.
 * If open fails, the plugin frees whatever it stored in *state; otherwise
 * release (or, when the connection dies, a release whose answer is
 * discarded) is always called once per successful open, after the open's
 * answer. An open answered after the device's request_timeout_ms counts as
 * failed: its completion returns -ESTALE, and the plugin frees its state. */
typedef struct bentos_raw_ops {
  uint32_t struct_size;
  uint32_t reserved;
  /* Valid completions: complete_ok, complete_error. */
  int32_t (*open)(void *instance, bentos_call *call,
                  const bentos_session_info *info, void **state);
  /* Valid completions: complete_bytes (at most `size` bytes; 0 = EOF),
   * complete_error. */
  int32_t (*read)(void *instance, void *state, bentos_call *call,
                  uint64_t size, int64_t offset);
  /* Valid completions: complete_count (bytes taken, at most len),
   * complete_error. */
  int32_t (*write)(void *instance, void *state, bentos_call *call,
                   const uint8_t *data, uint64_t len, int64_t offset);
  /* Valid completions: complete_ok, complete_error. */
  int32_t (*flush)(void *instance, void *state, bentos_call *call);
  /* Valid completions: complete_ok, complete_error (the session ends
   * either way; free `state` here). */
  int32_t (*release)(void *instance, void *state, bentos_call *call,
                     int32_t flags);
  /* Valid completions: complete_ok, complete_error. */
  int32_t (*fsync)(void *instance, void *state, bentos_call *call,
                   int32_t datasync);
  /* Valid completions: complete_ioctl (result, and at most out_size
   * bytes), complete_error. */
  int32_t (*ioctl)(void *instance, void *state, bentos_call *call,
                   uint32_t cmd, uint32_t flags, const uint8_t *in,
                   uint64_t in_len, uint64_t out_size);
  /* Valid completions: complete_poll (revents), complete_error. */
  int32_t (*poll)(void *instance, void *state, bentos_call *call,
                  uint32_t events);
} bentos_raw_ops;

/* Session hooks shared by P1, P2 and P4. session_start returns 0 (and may
 * set *state) or a negative errno, which fails the open. session_end runs
 * exactly once per successful session_start: on release, on re-open of
 * the same fh, or when the connection dies. */
typedef int32_t (*bentos_session_start_fn)(void *instance,
                                           const bentos_session_info *info,
                                           void **state);
typedef void (*bentos_session_end_fn)(void *instance, void *state);

/* P1 pure stream. on_data returns the number of bytes consumed (may be
 * fewer than len) or a negative errno. Output goes through push(). */
typedef struct bentos_stream_ops {
  uint32_t struct_size;
  uint32_t reserved;
  bentos_session_start_fn session_start;
  bentos_session_end_fn session_end;
  int64_t (*on_data)(void *instance, void *state, const uint8_t *data,
                     uint64_t len);
  /* The output queue had refused a push and now has room again. */
  void (*on_writable)(void *instance, void *state);
} bentos_stream_ops;

/* P2 write-then-read. on_request gets the whole accumulated request and
 * answers the call with complete_bytes (the response) or an error. */
typedef struct bentos_write_read_ops {
  uint32_t struct_size;
  uint32_t reserved;
  bentos_session_start_fn session_start;
  bentos_session_end_fn session_end;
  int32_t (*on_request)(void *instance, void *state, bentos_call *call,
                        const uint8_t *data, uint64_t len);
} bentos_write_read_ops;

/* P3 event stream. Events go out through emit(). on_activate runs when
 * the first listener opens (a failure fails that open with EIO);
 * on_deactivate when the last one goes (its result is only logged). */
typedef struct bentos_event_stream_ops {
  uint32_t struct_size;
  uint32_t reserved;
  int32_t (*on_activate)(void *instance);
  int32_t (*on_deactivate)(void *instance);
} bentos_event_stream_ops;

/* P4 configured stream. The host owns config values: it asks for the
 * default, asks the codec to apply an ioctl into a *new* value, and keeps
 * or frees that value depending on the state; config_free releases any
 * value the host no longer needs. */
typedef struct bentos_configured_stream_ops {
  uint32_t struct_size;
  uint32_t reserved;
  bentos_session_start_fn session_start;
  bentos_session_end_fn session_end;
  /* A fresh default config (for a new session and for RESET). */
  int32_t (*config_default)(void *instance, void **config);
  /* Decode a write-direction ioctl into a new config derived from
   * `config`. Returns 0 with *new_config set, -ENOTTY for "not mine", or
   * another negative errno (-EINVAL for a short or malformed payload). */
  int32_t (*config_apply)(void *instance, const void *config, uint32_t cmd,
                          const uint8_t *in, uint64_t in_len,
                          void **new_config);
  void (*config_free)(void *instance, void *config);
  /* Start a cycle over its input records; yield/end through `cycle`,
   * now or later, from any thread. A negative return fails the submit at
   * once (and end() must then not be called). config stays valid until the
   * cycle ends or is cancelled. */
  int32_t (*process)(void *instance, void *state, const void *config,
                     const bentos_bytes *records, uint64_t count,
                     bentos_cycle *cycle);
  /* A read-direction ioctl the codec did not claim: answer the call with
   * complete_ioctl(call, 0, bytes, len) or an error. Any state. */
  int32_t (*on_query)(void *instance, void *state, const void *config,
                      bentos_call *call, uint32_t cmd, const uint8_t *in,
                      uint64_t in_len, uint64_t out_size);
  /* The cycle in flight was cancelled (DROP, RESET, release). */
  void (*on_cancel)(void *instance, void *state, bentos_cycle *cycle);
  /* The stream ended and its output is draining; once per cycle. */
  void (*on_drain)(void *instance, void *state);
  /* ABI 1.1. A yield was refused with -EAGAIN (the session's unread
   * output over max_buffered_bytes) and readers have since drained it
   * below half of that: yield again. Once per refusal; loop thread or the
   * session's strand, like the other callbacks. A 1.0 host never calls it. */
  void (*on_writable)(void *instance, void *state);
} bentos_configured_stream_ops;

/* ---- The descriptor ---------------------------------------------------- */

typedef struct bentos_driver {
  uint32_t struct_size;
  uint32_t abi_major;   /* BENTOS_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;   /* BENTOS_ABI_MINOR the plugin was built with */
  uint32_t pattern;     /* enum bentos_pattern */
  const char *name;     /* short driver name, e.g. "kv" */
  const char *version;  /* the driver's own version, e.g. "1.0.0" */
  const char *description;
  uint32_t threading;   /* enum bentos_threading */
  uint32_t reserved;
  /* Create one device instance from its JSON config (UTF-8, not NUL
   * terminated, "null" when the manifest has none). On failure return a
   * negative errno and write a message into errbuf (NUL terminated).
   *
   * Where create() and destroy() run: at startup, at shutdown and under
   * --check, on the loop thread. During a reload (SIGHUP, `bentosctl
   * reload`) each runs on a short-lived host thread of its own, not the
   * loop thread, so the host goes on serving its other devices meanwhile.
   * Either way no other callback of the same instance runs at the same
   * time, and one device's destroy() of the old instance returns before
   * create() of its new one starts. Assume no particular thread (nothing
   * thread-local carried from create() into callbacks). Every service
   * works from both; post() tasks and timers asked for in create() run on
   * the loop thread, and only after create() returned.
   *
   * How long they may take: during a reload each must return within the
   * host's lifecycle_timeout_ms (manifest "host" object, default 10000).
   * The host cannot interrupt one that does not: it logs it, reports the
   * device failed and stops waiting. A create() that returns after that
   * has its instance destroyed at once, on the same thread, and never
   * serves; the plugin file stays loaded while either still runs. At
   * shutdown destroy() is bounded by the host's shutdown limit (5 s),
   * after which the process exits anyway. */
  int32_t (*create)(bentos_host *host, const bentos_host_services *services,
                    const char *config_json, uint64_t config_len,
                    void **instance, char *errbuf, uint64_t errbuf_len);
  void (*destroy)(void *instance);
  /* The pattern's ops table: bentos_raw_ops, bentos_stream_ops, ... */
  const void *ops;
} bentos_driver;

/* The one exported function. The host passes its own ABI version so a
 * plugin may adapt; it returns a static descriptor or NULL to refuse. */
typedef const bentos_driver *(*bentos_driver_entry_fn)(uint32_t host_major,
                                                       uint32_t host_minor);

BENTOS_EXPORT const bentos_driver *bentos_driver_entry_v1(uint32_t host_major,
                                                          uint32_t host_minor);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BENTOS_DRIVER_H */
