/*
 * Direct invocations (Lambda's Invoke, POST /functions/NAME/invocations on the admin
 * listener), and the queue of the asynchronous ones (InvocationType: Event).
 *
 * An Event invocation is queued on the worker thread that accepted it and run there,
 * at most async.concurrency at a time per thread. A failed attempt is retried after
 * async.retry-delay, then twice that (the function's async.retries, 2 by default, as
 * Lambda); a throttled one is retried without counting, until the event is older than
 * the function's async.max-event-age. An event given up is written to the function's
 * async.on-failure directory as Lambda's destination record, or reported in the error
 * log. With async.queue-directory, each event is a file there from the moment it is
 * accepted until it is done, and the first worker thread resumes what it finds there at
 * start-up: the queue survives a restart (at least once, as Lambda's: an event that was
 * running when edgefn stopped runs again).
 */
#ifndef EF_SERVER_ASYNC_H
#define EF_SERVER_ASYNC_H

#include <h2o.h>
#include "functions/runtime.h"

typedef struct st_ef_thread_t ef_thread_t;

/* A worker thread's queue. */
typedef struct st_ef_async_thread_t {
    ef_thread_t *thread;
    h2o_linklist_t ready;  /* events to run as soon as there is room, oldest first */
    h2o_linklist_t events; /* every event of the thread's: ready, running or waiting for a retry */
    size_t running;
    int kicking;
    int stopping;
    h2o_timeout_entry_t kick_timer; /* the next turn of the loop runs more */
} ef_async_thread_t;

#define EF_ASYNC_MAX_PAYLOAD (256 * 1024) /* bytes of an Event invocation's payload, as Lambda's */

/* Sets up the thread's queue; the first thread resumes the events of async.queue-directory. */
void ef_async_thread_init(ef_async_thread_t *async, ef_thread_t *thread);

/**
 * Once the thread takes no more requests: stops what runs (a persisted event stays in the queue directory for the next
 * start) and frees the queue, saying in the log what was kept or lost.
 */
void ef_async_thread_stop(ef_async_thread_t *async);

enum { EF_ASYNC_QUEUED = 0, EF_ASYNC_FULL = -1, EF_ASYNC_NOT_SAVED = -2 };

/**
 * Queues an Event invocation of the function at index `f` (of server->functions) with `payload` (JSON, copied), under
 * the request id `id`. Returns EF_ASYNC_QUEUED; or, with why in `err`, EF_ASYNC_FULL (async.max-queued events wait) or
 * EF_ASYNC_NOT_SAVED (its file in async.queue-directory cannot be written), when the event is not accepted.
 */
int ef_async_enqueue(ef_async_thread_t *async, size_t f, h2o_iovec_t payload, const char *id, char *err, size_t errlen);

/*
 * One direct invocation of a function (the admin API's RequestResponse, or a queued event's attempt) on a worker thread:
 * its event and invocation, counted with hook="invoke" in the thread's metrics.
 */
typedef struct st_ef_direct_t {
    ef_thread_t *thread;
    size_t function; /* index in server->functions */
    h2o_headers_t headers[2];
    ef_event_t event;
    ef_invocation_t inv;
    int running;
} ef_direct_t;

/**
 * Starts the function at index `f` on `payload` (JSON, which must outlive the invocation) under `request_id`, with what
 * it allocates in `pool`. inv->log is ef_invocation_log unless `log` is given; `logged`, `data` and `on_complete` go
 * to the invocation, and on_complete must call ef_direct_done first.
 */
void ef_direct_start(ef_direct_t *d, ef_thread_t *thread, size_t f, h2o_mem_pool_t *pool, const char *request_id,
                     h2o_iovec_t payload, void (*on_complete)(ef_invocation_t *), void *data,
                     void (*log)(ef_invocation_t *, const char *, size_t), void (*logged)(ef_invocation_t *, const char *, size_t));

/* The invocation is over: counts it. */
void ef_direct_done(ef_direct_t *d);

/* The invoker leaves before the end (on_complete does not follow); nothing when it is over. */
void ef_direct_cancel(ef_direct_t *d);

/**
 * The error of a failed direct invocation, as Lambda reports it to the invoker: what the function raised (its
 * errorType, errorMessage and stackTrace), or edgefn's account of the limit that stopped it ({"errorType":
 * "Sandbox.Timedout", "errorMessage": ...}). Allocated in `pool`.
 */
h2o_iovec_t ef_invoke_error_body(const ef_invocation_t *inv, h2o_mem_pool_t *pool);

#endif
