/*
 * The runtime interface: how the pipeline runs a function without knowing what runs
 * it (DESIGN.md, "The runtime interface").
 *
 * A runtime prepares each of its functions once at start-up, keeps per-thread state
 * for them (Lua: one lua_State per worker thread), and is given invocations: an
 * event, a deadline and a completion callback. The Lua runtime completes before
 * invoke returns; a process runtime completes later, from the event loop. The
 * pipeline treats both the same: it waits for on_complete.
 */
#ifndef EF_FUNCTIONS_RUNTIME_H
#define EF_FUNCTIONS_RUNTIME_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "conf/config.h"
#include "functions/event.h"

typedef struct st_ef_function_t ef_function_t;
typedef struct st_ef_invocation_t ef_invocation_t;

typedef enum en_ef_invoke_status_t {
    EF_INVOKE_OK,      /* the event holds the outcome */
    EF_INVOKE_FAILED,  /* the function raised an error: 503; what it raised is for its log, not the viewer */
    EF_INVOKE_LIMIT,   /* the function was stopped or could not run: a limit (CPU, memory, time), a throttle, a
                        * crash, an init failure; 503, and inv->error says which */
    EF_INVOKE_INVALID, /* the function returned something invalid: 502 */
} ef_invoke_status_t;

/* Which limit stopped an invocation (EF_INVOKE_LIMIT), as the metrics count errors. A runtime that names none had its
 * function crash (an environment that exited, or failed to start). */
typedef enum en_ef_limit_t {
    EF_LIMIT_CRASH,
    EF_LIMIT_TIMEOUT,  /* its timeout, or a Lua function's CPU budget */
    EF_LIMIT_MEMORY,   /* its memory */
    EF_LIMIT_THROTTLE, /* its concurrency: no environment was free */
} ef_limit_t;

struct st_ef_invocation_t {
    ef_function_t *fn;
    ef_event_t *event;
    void *thread_state; /* the runtime's state for the calling thread (from thread_init) */
    /* called once the invocation is over, on the thread that started it (before invoke returns, for Lua) */
    void (*on_complete)(ef_invocation_t *inv);
    void *data; /* the caller's */
    /* lines the function logs go here; by default its log stream (ef_invocation_log) */
    void (*log)(ef_invocation_t *inv, const char *msg, size_t len);
    /**
     * When set, a process runtime also hands over, just before on_complete, the lines the invocation's environment
     * wrote to the function's log stream meanwhile (what the function printed, START, END, REPORT): they are written
     * on the thread that owns the environment, not through `log`. For a test's report and Invoke's log tail.
     */
    void (*logged)(ef_invocation_t *inv, const char *msg, size_t len);
    /**
     * A direct invocation (Lambda's Invoke, outside any request) when payload.base is set: the function is given the
     * payload (JSON) as its event instead of `event`'s request, and what it returns is left as JSON in `result`
     * (allocated in event->pool) instead of being read into the event; `event` still gives the request id and pool.
     * When the function raised an error, `result` is the error as Lambda reports it ({"errorType", "errorMessage",
     * "stackTrace"}) when the runtime has it; otherwise result.base is NULL.
     */
    h2o_iovec_t payload;
    h2o_iovec_t result;
    /* set by the runtime before on_complete */
    ef_invoke_status_t status;
    char error[256];       /* why it failed, was stopped or was invalid, one line; the log stream has the rest */
    uint64_t duration_ns;  /* wall time the function ran */
    uint64_t budget_ns;    /* what it was allowed */
    uint64_t memory_bytes; /* peak memory it allocated */
    ef_limit_t limit;      /* with EF_INVOKE_LIMIT: which */
    int cold_start;        /* it ran in an environment started for it (process runtimes) */
    uint64_t init_ns;      /* then: how long that environment took to start */
    void *runtime_data;    /* the runtime's, while the invocation runs */
};

/* CLOCK_MONOTONIC in nanoseconds: what invocations' durations and deadlines, and the pipeline's timings, are measured on. */
static inline uint64_t ef_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* What a runtime is told of the worker thread whose state it creates (process runtimes run environments on its loop). */
typedef struct st_ef_runtime_thread_t {
    h2o_context_t *ctx;         /* the thread's h2o context */
    h2o_hostconf_t **api_hosts; /* the host that serves the Runtime API (see functions/process/process.h) */
    size_t index;               /* of this thread, among num_threads */
    size_t num_threads;
} ef_runtime_thread_t;

typedef struct st_ef_runtime_t {
    const char *name;
    /**
     * Reads and checks `fn`'s code at start-up (and for `edgefn check`): it must
     * exist, fit max-code-size and compile. Returns 0, or -1 with a message in `err`
     * that says where (file:line) when it can.
     */
    int (*prepare)(ef_function_t *fn, char *err, size_t errlen);
    /* per-thread state for all of this runtime's functions; called on the worker thread */
    void *(*thread_init)(ef_function_t **fns, size_t num_fns, const ef_runtime_thread_t *thread);
    /**
     * Called on each worker thread, again and again, once no thread takes requests any more: stops what still
     * runs for requests that are gone and returns 1 when nothing of this thread's is in flight (NULL: always so).
     */
    int (*thread_quiesce)(void *state);
    void (*thread_dispose)(void *state);
    /* starts `inv`; inv->on_complete follows, maybe before this returns */
    void (*invoke)(ef_invocation_t *inv);
    /* the caller no longer wants the result (the client left); on_complete does not follow */
    void (*cancel)(ef_invocation_t *inv);
    void (*dispose)(ef_function_t *fn);
} ef_runtime_t;

struct st_ef_function_t {
    const ef_conf_function_t *conf;
    const ef_runtime_t *runtime;
    int log_fd;                           /* the function's log stream; -1 when off */
    const char *log_dir;                  /* when its stream is a file a day in this directory (NAME-YYYY-MM-DD.log) */
    atomic_int log_day;                   /* the day (since the epoch, UTC) that log_fd is the file of */
    int log_json;                         /* lines are JSON objects (function-log-format: json), not text */
    atomic_uint provisioned_environments; /* a process function's provisioned environments alive (starting or ready) */
    struct {                              /* a process function's environments alive, by state (its pool keeps them) */
        atomic_uint starting, idle, busy;
    } environments;
    void *data; /* the runtime's */
    /* when set, the function's log lines (the message alone) go here instead of log_fd: `edgefn test` collects them */
    void (*log_cb)(const ef_function_t *fn, const char *msg, size_t len);
    void *log_data;
};

extern const ef_runtime_t ef_lua_runtime;
extern const ef_runtime_t ef_process_runtime; /* nodejs, python and provided */

/**
 * Writes one line of `fn`'s log stream for an invocation at `hook` for request
 * `request_id`: "2026-11-26T21:02:34.123Z security-headers:$LATEST viewer-response <id> msg"
 * (the function and its version, as a qualified name).
 * One write(2) per line, so lines of different threads never interleave.
 */
void ef_function_log(const ef_function_t *fn, ef_hook_t hook, const char *request_id, const char *msg, size_t len);

/* The same, for lines that belong to no invocation (an environment starting): `hook` and `request_id` are "-". */
void ef_function_log_as(const ef_function_t *fn, const char *hook, const char *request_id, const char *msg, size_t len);

/* The default inv->log: ef_function_log for the invocation's function, hook and request. */
void ef_invocation_log(ef_invocation_t *inv, const char *msg, size_t len);

/* What the invocation's log lines and metrics name its hook: the event's, or "invoke" for a direct invocation. */
static inline const char *ef_invocation_hook_name(const ef_invocation_t *inv)
{
    return inv->payload.base != NULL ? "invoke" : ef_hook_names[inv->event->hook];
}

/* The most a direct invocation's payload and result may be, as Lambda's synchronous Invoke (6 MB). */
#define EF_INVOKE_MAX_PAYLOAD (6 * 1024 * 1024)

#endif
