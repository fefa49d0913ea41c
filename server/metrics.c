#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "server/metrics.h"
#include "server/server.h"

const double ef_metrics_duration_bounds[EF_METRICS_DURATION_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                        0.05,   0.1,     0.25,   0.5,   1,      2.5,   10,   30};

/* in the order of ef_xcache_t */
static const char *const xcache_results[EF_METRICS_XCACHE_VALUES] = {"pass", "hit", "refresh_hit", "miss", "function_generated",
                                                                     "error"};

void ef_histogram_observe(ef_histogram_t *h, uint64_t ns)
{
    double s = ns / 1e9;
    size_t i = 0;

    while (i != EF_METRICS_DURATION_BUCKETS && s > ef_metrics_duration_bounds[i])
        ++i;
    ef_count(&h->counts[i], 1);
    ef_count(&h->sum_ns, ns);
}

void ef_metrics_thread_init(ef_metrics_thread_t *m, const ef_server_t *server)
{
    size_t nb = server->conf->num_behaviors, no = server->num_origins;

    *m = (ef_metrics_thread_t){0};
    m->behaviors = h2o_mem_alloc(sizeof(m->behaviors[0]) * (nb + 1));
    memset(m->behaviors, 0, sizeof(m->behaviors[0]) * (nb + 1));
    m->origins = h2o_mem_alloc(sizeof(m->origins[0]) * (no + 1));
    memset(m->origins, 0, sizeof(m->origins[0]) * (no + 1));
}

void ef_metrics_thread_dispose(ef_metrics_thread_t *m)
{
    free(m->behaviors);
    free(m->origins);
    *m = (ef_metrics_thread_t){0};
}

/* the text format */

typedef H2O_VECTOR(char) buf_t;

struct st_writer_t {
    h2o_mem_pool_t *pool;
    buf_t buf;
};

static void printf_to(struct st_writer_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void printf_to(struct st_writer_t *w, const char *fmt, ...)
{
    va_list args;
    int n;

    for (;;) {
        size_t room = w->buf.capacity - w->buf.size;
        va_start(args, fmt);
        n = vsnprintf(w->buf.entries + w->buf.size, room, fmt, args);
        va_end(args);
        if ((size_t)n < room)
            break;
        h2o_vector_reserve(w->pool, &w->buf, w->buf.size + n + 4096);
    }
    w->buf.size += n;
}

/* A label value, escaped as the format asks (backslash, double quote, line feed), into `dst` of `size` bytes. */
static const char *label(char *dst, size_t size, const char *s)
{
    size_t n = 0;
    for (; *s != '\0' && n + 3 < size; ++s) {
        if (*s == '\\' || *s == '"' || *s == '\n') {
            dst[n++] = '\\';
            dst[n++] = *s == '\n' ? 'n' : *s;
        } else {
            dst[n++] = *s;
        }
    }
    dst[n] = '\0';
    return dst;
}

static void header(struct st_writer_t *w, const char *name, const char *type, const char *help)
{
    printf_to(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static uint64_t load(ef_counter_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* One series of a histogram, from counts summed over the threads. */
static void histogram(struct st_writer_t *w, const char *name, const char *labels, const uint64_t *counts, uint64_t sum_ns)
{
    uint64_t cumulative = 0;

    for (size_t i = 0; i != EF_METRICS_DURATION_BUCKETS; ++i) {
        cumulative += counts[i];
        printf_to(w, "%s_bucket{%s,le=\"%g\"} %" PRIu64 "\n", name, labels, ef_metrics_duration_bounds[i], cumulative);
    }
    cumulative += counts[EF_METRICS_DURATION_BUCKETS];
    printf_to(w, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n%s_sum{%s} %.9f\n%s_count{%s} %" PRIu64 "\n", name, labels, cumulative,
              name, labels, sum_ns / 1e9, name, labels, cumulative);
}

static void write_server(struct st_writer_t *w, ef_server_t *server)
{
    uint64_t connections = 0, begun = 0, done = 0;

    for (size_t t = 0; t != server->num_threads; ++t) {
        ef_thread_t *thread = server->threads + t;
        connections += __atomic_load_n(&thread->num_connections, __ATOMIC_RELAXED);
        begun += load(&thread->metrics.requests);
        done += load(&thread->metrics.requests_done);
    }
    header(w, "edgefn_worker_threads", "gauge", "Worker threads serving requests.");
    printf_to(w, "edgefn_worker_threads %zu\n", server->num_threads);
    header(w, "edgefn_connections", "gauge", "Client connections open, on every listener (the admin listener's included).");
    printf_to(w, "edgefn_connections %" PRIu64 "\n", connections);
    header(w, "edgefn_requests_in_flight", "gauge", "Requests begun and not yet ended.");
    printf_to(w, "edgefn_requests_in_flight %" PRIu64 "\n", begun - done);
}

static void write_behaviors(struct st_writer_t *w, ef_server_t *server)
{
    const ef_conf_t *conf = server->conf;
    char lb[512];

    header(w, "edgefn_responses_total", "counter", "Responses, by behavior and status class.");
    for (size_t b = 0; b != conf->num_behaviors; ++b) {
        for (size_t c = 0; c != 5; ++c) {
            uint64_t n = 0;
            for (size_t t = 0; t != server->num_threads; ++t)
                n += load(&server->threads[t].metrics.behaviors[b].responses[c]);
            printf_to(w, "edgefn_responses_total{behavior=\"%s\",code=\"%zuxx\"} %" PRIu64 "\n",
                      label(lb, sizeof(lb), conf->behaviors[b].path), c + 1, n);
        }
    }
    header(w, "edgefn_cache_requests_total", "counter",
           "Responses, by behavior and what the cache did (x-cache: hit, refresh_hit, miss, pass, function_generated, error).");
    for (size_t b = 0; b != conf->num_behaviors; ++b) {
        for (size_t r = 0; r != EF_METRICS_XCACHE_VALUES; ++r) {
            uint64_t n = 0;
            for (size_t t = 0; t != server->num_threads; ++t)
                n += load(&server->threads[t].metrics.behaviors[b].cache[r]);
            printf_to(w, "edgefn_cache_requests_total{behavior=\"%s\",result=\"%s\"} %" PRIu64 "\n",
                      label(lb, sizeof(lb), conf->behaviors[b].path), xcache_results[r], n);
        }
    }
    header(w, "edgefn_cache_collapsed_total", "counter", "Requests that waited for another's fetch of the same object.");
    for (size_t b = 0; b != conf->num_behaviors; ++b) {
        uint64_t n = 0;
        for (size_t t = 0; t != server->num_threads; ++t)
            n += load(&server->threads[t].metrics.behaviors[b].collapsed);
        printf_to(w, "edgefn_cache_collapsed_total{behavior=\"%s\"} %" PRIu64 "\n", label(lb, sizeof(lb), conf->behaviors[b].path),
                  n);
    }
}

static void write_cache(struct st_writer_t *w, ef_server_t *server)
{
    ef_cache_stats_t st;

    if (server->cache == NULL)
        return;
    ef_cache_get_stats(server->cache, &st);
    header(w, "edgefn_cache_memory_bytes", "gauge", "What cache.memory allows all cached objects together.");
    printf_to(w, "edgefn_cache_memory_bytes %" PRIu64 "\n", server->conf->cache.memory);
    header(w, "edgefn_cache_bytes", "gauge", "What the cached objects take (keys, headers and bodies).");
    printf_to(w, "edgefn_cache_bytes %zu\n", st.bytes);
    header(w, "edgefn_cache_objects", "gauge", "Objects in the cache.");
    printf_to(w, "edgefn_cache_objects %zu\n", st.objects);
    header(w, "edgefn_cache_inserts_total", "counter", "Objects stored.");
    printf_to(w, "edgefn_cache_inserts_total %" PRIu64 "\n", st.inserts);
    header(w, "edgefn_cache_evictions_total", "counter", "Objects dropped to make room for others.");
    printf_to(w, "edgefn_cache_evictions_total %" PRIu64 "\n", st.evictions);
    header(w, "edgefn_cache_purged_total", "counter", "Objects dropped by invalidations.");
    printf_to(w, "edgefn_cache_purged_total %" PRIu64 "\n", st.purged);
    header(w, "edgefn_cache_refused_total", "counter", "Responses too large to store.");
    printf_to(w, "edgefn_cache_refused_total %" PRIu64 "\n", st.refused);
}

static void write_origins(struct st_writer_t *w, ef_server_t *server)
{
    char lb[256], labels[320];

    header(w, "edgefn_origin_duration_seconds", "histogram", "Time from the start of an origin fetch to its response head.");
    for (size_t o = 0; o != server->num_origins; ++o) {
        uint64_t counts[EF_METRICS_DURATION_BUCKETS + 1] = {0}, sum = 0;
        for (size_t t = 0; t != server->num_threads; ++t) {
            ef_histogram_t *h = &server->threads[t].metrics.origins[o].duration;
            for (size_t i = 0; i != EF_METRICS_DURATION_BUCKETS + 1; ++i)
                counts[i] += load(&h->counts[i]);
            sum += load(&h->sum_ns);
        }
        snprintf(labels, sizeof(labels), "origin=\"%s\"", label(lb, sizeof(lb), server->origins[o].conf->name));
        histogram(w, "edgefn_origin_duration_seconds", labels, counts, sum);
    }
    header(w, "edgefn_origin_errors_total", "counter", "Origin fetches that failed before a response head, by kind.");
    for (size_t o = 0; o != server->num_origins; ++o) {
        for (size_t k = 0; k != EF_ORIGIN_NUM_ERRORS; ++k) {
            uint64_t n = 0;
            for (size_t t = 0; t != server->num_threads; ++t)
                n += load(&server->threads[t].metrics.origins[o].errors[k]);
            printf_to(w, "edgefn_origin_errors_total{origin=\"%s\",kind=\"%s\"} %" PRIu64 "\n",
                      label(lb, sizeof(lb), server->origins[o].conf->name), ef_origin_error_names[k], n);
        }
    }
}

h2o_iovec_t ef_metrics_scrape(ef_server_t *server, h2o_mem_pool_t *pool)
{
    struct st_writer_t w = {pool};

    h2o_vector_reserve(pool, &w.buf, 16384);
    write_server(&w, server);
    write_behaviors(&w, server);
    write_cache(&w, server);
    write_origins(&w, server);
    return h2o_iovec_init(w.buf.entries, w.buf.size);
}
