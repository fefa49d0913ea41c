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
#include "server/origin.h"

typedef struct st_ef_server_t ef_server_t;

typedef _Atomic uint64_t ef_counter_t;

/* Adds `n` to a counter of the calling thread's (one writer: no locked instruction). */
static inline void ef_count(ef_counter_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/* Durations, in buckets of seconds from 100 µs to 30 s (Prometheus' convention: the bounds are upper, inclusive). */
#define EF_METRICS_DURATION_BUCKETS 16
extern const double ef_metrics_duration_bounds[EF_METRICS_DURATION_BUCKETS];

typedef struct st_ef_histogram_t {
    ef_counter_t counts[EF_METRICS_DURATION_BUCKETS + 1]; /* per bucket, not cumulative; the last is above every bound */
    ef_counter_t sum_ns;
} ef_histogram_t;

void ef_histogram_observe(ef_histogram_t *h, uint64_t ns);

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

/* One thread's counters. */
typedef struct st_ef_metrics_thread_t {
    ef_behavior_metrics_t *behaviors; /* indexed like conf->behaviors */
    ef_origin_metrics_t *origins;     /* indexed like conf->origins */
    ef_counter_t requests;            /* requests begun (the pipeline's; admin and Runtime API requests not counted) */
    ef_counter_t requests_done;       /* requests ended: begun - done is what is in flight */
} ef_metrics_thread_t;

/* Allocates a thread's counters for `server`'s config (before the thread runs); free with ef_metrics_thread_dispose. */
void ef_metrics_thread_init(ef_metrics_thread_t *m, const ef_server_t *server);
void ef_metrics_thread_dispose(ef_metrics_thread_t *m);

/* Writes every metric of `server`, summed over its threads, in the text format, into a buffer of `pool`. */
h2o_iovec_t ef_metrics_scrape(ef_server_t *server, h2o_mem_pool_t *pool);

#endif
