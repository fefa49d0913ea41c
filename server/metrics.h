/*
 * Metrics: counters kept per worker thread and summed when scraped, in Prometheus'
 * text format 0.0.4 (GET /metrics on the admin listener).
 *
 * Each thread writes only its own counters, so a count is a plain load and store of a
 * relaxed atomic (no lock, no locked instruction); a scrape reads every thread's with
 * relaxed loads and sums them. A sum is therefore not one instant's snapshot, as with
 * any scrape of a running server, but every counter only grows.
 */
#ifndef EF_SERVER_METRICS_H
#define EF_SERVER_METRICS_H

#include <stdatomic.h>
#include <stdint.h>
#include <h2o.h>
#include "functions/runtime.h"
#include "server/origin.h"

typedef struct st_ef_server_t ef_server_t;

typedef _Atomic uint64_t ef_counter_t;

/* Adds `n` to a counter of the calling thread's (one writer: no locked instruction). */
static inline void ef_count(ef_counter_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/* A histogram's upper bounds (inclusive, as Prometheus has them), in the unit it is exposed in. */
#define EF_METRICS_MAX_BUCKETS 16
typedef struct st_ef_buckets_t {
    size_t size;
    double bounds[EF_METRICS_MAX_BUCKETS];
} ef_buckets_t;

extern const ef_buckets_t ef_metrics_duration_buckets; /* seconds, 100 µs to 30 s */
extern const ef_buckets_t ef_metrics_ratio_buckets;    /* a share, 0.01 to 1 */

/* Counts per bucket (not cumulative; past the last bound, the one after it) and the sum, in billionths of the unit. */
typedef struct st_ef_histogram_t {
    ef_counter_t counts[EF_METRICS_MAX_BUCKETS + 1];
    ef_counter_t sum_e9;
} ef_histogram_t;

/* Counts an observation of `value_e9` billionths of the unit (nanoseconds for seconds). */
void ef_histogram_observe(ef_histogram_t *h, const ef_buckets_t *buckets, uint64_t value_e9);

/* The x-cache values (filters/exchange.h's ef_xcache_t), counted per behavior. */
#define EF_METRICS_XCACHE_VALUES 6

typedef struct st_ef_behavior_metrics_t {
    ef_counter_t responses[5]; /* by status class: 1xx .. 5xx */
    ef_counter_t cache[EF_METRICS_XCACHE_VALUES];
    ef_counter_t collapsed; /* requests that waited for another's fetch */
} ef_behavior_metrics_t;

typedef struct st_ef_origin_metrics_t {
    ef_histogram_t duration; /* from the fetch's start to the response head */
    ef_counter_t errors[EF_ORIGIN_NUM_ERRORS];
} ef_origin_metrics_t;

/* Why an invocation failed, as edgefn_function_errors_total's `kind` says. */
typedef enum en_ef_function_error_t {
    EF_FUNCTION_ERROR_RUNTIME,    /* the function raised an error */
    EF_FUNCTION_ERROR_VALIDATION, /* it returned something invalid */
    EF_FUNCTION_ERROR_TIMEOUT,    /* its timeout or CPU budget */
    EF_FUNCTION_ERROR_MEMORY,     /* its memory */
    EF_FUNCTION_ERROR_THROTTLE,   /* its concurrency */
    EF_FUNCTION_ERROR_CRASH,      /* its environment exited or did not start */
    EF_FUNCTION_NUM_ERRORS
} ef_function_error_t;

/* The kinds' names ("runtime", ...), as the metrics and the access log give them. */
extern const char *const ef_function_error_names[EF_FUNCTION_NUM_ERRORS];

/* One function at one hook. */
typedef struct st_ef_function_metrics_t {
    ef_counter_t started, ended; /* started - ended is what runs now */
    ef_counter_t invocations;    /* completed */
    ef_counter_t errors[EF_FUNCTION_NUM_ERRORS];
    ef_histogram_t duration;
    ef_counter_t cold_starts;
    ef_histogram_t init_duration;
    ef_counter_t mb_ms;          /* memory size in MB times billed duration in ms: 1024000 of them make a GB-second */
    ef_histogram_t budget_ratio; /* Lua: the share of its CPU budget an invocation used */
} ef_function_metrics_t;

/* A function's counters are kept per hook, and for direct invocations (POST /functions/NAME/invocations) in one more. */
#define EF_METRICS_INVOKE EF_NUM_HOOKS
#define EF_METRICS_FUNCTION_SLOTS (EF_NUM_HOOKS + 1)

/* The label of a slot: a hook's name, or "invoke". */
static inline const char *ef_metrics_slot_name(int slot)
{
    return slot == EF_METRICS_INVOKE ? "invoke" : ef_hook_names[slot];
}

/* One thread's counters. */
typedef struct st_ef_metrics_thread_t {
    ef_behavior_metrics_t *behaviors; /* indexed like conf->behaviors */
    ef_origin_metrics_t *origins;     /* indexed like conf->origins */
    ef_function_metrics_t *functions; /* [function (as conf->functions) * EF_METRICS_FUNCTION_SLOTS + hook or EF_METRICS_INVOKE] */
    ef_counter_t requests;            /* requests begun (the pipeline's; admin and Runtime API requests not counted) */
    ef_counter_t requests_done;       /* requests ended: begun - done is what is in flight */
} ef_metrics_thread_t;

/* The counters of the function at index `f` (of server->functions) at a hook, or EF_METRICS_INVOKE, in `m`. */
static inline ef_function_metrics_t *ef_metrics_function(ef_metrics_thread_t *m, size_t f, int slot)
{
    return &m->functions[f * EF_METRICS_FUNCTION_SLOTS + slot];
}

/**
 * Counts a completed invocation into `m` (whose `started` was counted when it began): its outcome, duration, cold
 * start, GB-seconds and budget. Returns the error's kind (ef_function_error_t), or EF_FUNCTION_NUM_ERRORS when it ran.
 */
int ef_metrics_count_invocation(ef_function_metrics_t *m, const ef_invocation_t *inv);

/* Allocates a thread's counters for `server`'s config (before the thread runs); free with ef_metrics_thread_dispose. */
void ef_metrics_thread_init(ef_metrics_thread_t *m, const ef_server_t *server);
void ef_metrics_thread_dispose(ef_metrics_thread_t *m);

/* One function's counters at one hook, summed over the threads. */
typedef struct st_ef_function_totals_t {
    uint64_t invocations, errors[EF_FUNCTION_NUM_ERRORS], cold_starts, running, mb_ms, duration_ns;
} ef_function_totals_t;

/* Sums the counters of the function at index `f` (of server->functions) at a hook, or EF_METRICS_INVOKE. */
void ef_metrics_function_totals(ef_server_t *server, size_t f, int slot, ef_function_totals_t *totals);

/* Writes every metric of `server`, summed over its threads, in the text format, into a buffer of `pool`. */
h2o_iovec_t ef_metrics_scrape(ef_server_t *server, h2o_mem_pool_t *pool);

#endif
