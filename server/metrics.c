#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "server/metrics.h"
#include "server/server.h"

const ef_buckets_t ef_metrics_duration_buckets = {
    16, {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30}};
const ef_buckets_t ef_metrics_ratio_buckets = {9, {0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1}};

const char *const ef_function_error_names[EF_FUNCTION_NUM_ERRORS] = {"runtime", "validation", "timeout",
                                                                     "memory",  "throttle",   "crash"};

/* in the order of ef_xcache_t */
static const char *const xcache_results[EF_METRICS_XCACHE_VALUES] = {"pass", "hit", "refresh_hit", "miss", "function_generated",
                                                                     "error"};

void ef_histogram_observe(ef_histogram_t *h, const ef_buckets_t *buckets, uint64_t value_e9)
{
    double v = value_e9 / 1e9;
    size_t i = 0;

    while (i != buckets->size && v > buckets->bounds[i])
        ++i;
    ef_count(&h->counts[i], 1);
    ef_count(&h->sum_e9, value_e9);
}

void ef_metrics_thread_init(ef_metrics_thread_t *m, const ef_server_t *server)
{
    size_t nb = server->conf->num_behaviors, no = server->num_origins;

    *m = (ef_metrics_thread_t){0};
    m->behaviors = h2o_mem_alloc(sizeof(m->behaviors[0]) * (nb + 1));
    memset(m->behaviors, 0, sizeof(m->behaviors[0]) * (nb + 1));
    m->origins = h2o_mem_alloc(sizeof(m->origins[0]) * (no + 1));
    memset(m->origins, 0, sizeof(m->origins[0]) * (no + 1));
    size_t nf = server->functions.size * EF_METRICS_FUNCTION_SLOTS;
    m->functions = h2o_mem_alloc(sizeof(m->functions[0]) * (nf + 1));
    memset(m->functions, 0, sizeof(m->functions[0]) * (nf + 1));
}

int ef_metrics_count_invocation(ef_function_metrics_t *m, const ef_invocation_t *inv)
{
    static const ef_function_error_t limits[] = {[EF_LIMIT_CRASH] = EF_FUNCTION_ERROR_CRASH,
                                                 [EF_LIMIT_TIMEOUT] = EF_FUNCTION_ERROR_TIMEOUT,
                                                 [EF_LIMIT_MEMORY] = EF_FUNCTION_ERROR_MEMORY,
                                                 [EF_LIMIT_THROTTLE] = EF_FUNCTION_ERROR_THROTTLE};
    int outcome = EF_FUNCTION_NUM_ERRORS; /* ok */

    ef_count(&m->ended, 1);
    ef_count(&m->invocations, 1);
    switch (inv->status) {
    case EF_INVOKE_OK:
        break;
    case EF_INVOKE_FAILED:
        outcome = EF_FUNCTION_ERROR_RUNTIME;
        break;
    case EF_INVOKE_INVALID:
        outcome = EF_FUNCTION_ERROR_VALIDATION;
        break;
    case EF_INVOKE_LIMIT:
        outcome = limits[inv->limit];
        break;
    }
    if (outcome != EF_FUNCTION_NUM_ERRORS)
        ef_count(&m->errors[outcome], 1);
    ef_histogram_observe(&m->duration, &ef_metrics_duration_buckets, inv->duration_ns);
    if (inv->cold_start) {
        ef_count(&m->cold_starts, 1);
        ef_histogram_observe(&m->init_duration, &ef_metrics_duration_buckets, inv->init_ns);
    }
    /* as Lambda bills: the configured memory, times the duration rounded up to a millisecond */
    ef_count(&m->mb_ms, (inv->fn->conf->memory >> 20) * ((inv->duration_ns + 999999) / 1000000));
    if (inv->fn->runtime == &ef_lua_runtime && inv->budget_ns != 0)
        ef_histogram_observe(&m->budget_ratio, &ef_metrics_ratio_buckets,
                             (uint64_t)((double)inv->duration_ns / inv->budget_ns * 1e9));
    return outcome;
}

void ef_metrics_thread_dispose(ef_metrics_thread_t *m)
{
    free(m->behaviors);
    free(m->origins);
    free(m->functions);
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

/* Where a series' counters are in a thread: `series(thread, index)` is its struct, `offset` the member's place in it. */
typedef char *(*series_fn)(ef_thread_t *thread, size_t index);

static ef_counter_t *counter_at(ef_thread_t *thread, series_fn series, size_t index, size_t offset)
{
    return (ef_counter_t *)(series(thread, index) + offset);
}

/* One series of a histogram, summed over the threads. */
static void histogram(struct st_writer_t *w, ef_server_t *server, const char *name, const char *labels, const ef_buckets_t *buckets,
                      series_fn series, size_t index, size_t offset)
{
    uint64_t counts[EF_METRICS_MAX_BUCKETS + 1] = {0}, sum = 0, cumulative = 0;

    for (size_t t = 0; t != server->num_threads; ++t) {
        ef_histogram_t *h = (ef_histogram_t *)(series(server->threads + t, index) + offset);
        for (size_t i = 0; i <= buckets->size; ++i)
            counts[i] += load(&h->counts[i]);
        sum += load(&h->sum_e9);
    }
    for (size_t i = 0; i != buckets->size; ++i) {
        cumulative += counts[i];
        printf_to(w, "%s_bucket{%s,le=\"%g\"} %" PRIu64 "\n", name, labels, buckets->bounds[i], cumulative);
    }
    cumulative += counts[buckets->size];
    printf_to(w, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n%s_sum{%s} %.9f\n%s_count{%s} %" PRIu64 "\n", name, labels, cumulative,
              name, labels, sum / 1e9, name, labels, cumulative);
}

/* One counter of a series, summed over the threads. */
static uint64_t sum(ef_server_t *server, series_fn series, size_t index, size_t offset)
{
    uint64_t n = 0;
    for (size_t t = 0; t != server->num_threads; ++t)
        n += load(counter_at(server->threads + t, series, index, offset));
    return n;
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

static char *origin_series(ef_thread_t *thread, size_t o)
{
    return (char *)&thread->metrics.origins[o];
}

static void write_origins(struct st_writer_t *w, ef_server_t *server)
{
    char lb[256], labels[320];

    header(w, "edgefn_origin_duration_seconds", "histogram", "Time from the start of an origin fetch to its response head.");
    for (size_t o = 0; o != server->num_origins; ++o) {
        snprintf(labels, sizeof(labels), "origin=\"%s\"", label(lb, sizeof(lb), server->origins[o].conf->name));
        histogram(w, server, "edgefn_origin_duration_seconds", labels, &ef_metrics_duration_buckets, origin_series, o,
                  offsetof(ef_origin_metrics_t, duration));
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

/* functions: one series per function and hook it is bound to (by any behavior), and for its direct invocations */

static char *function_series(ef_thread_t *thread, size_t i)
{
    return (char *)&thread->metrics.functions[i];
}

/* a member of ef_function_metrics_t, for sum() and histogram() */
#define FM(member) function_series, i, offsetof(ef_function_metrics_t, member)

void ef_metrics_function_totals(ef_server_t *server, size_t f, int slot, ef_function_totals_t *totals)
{
    size_t i = f * EF_METRICS_FUNCTION_SLOTS + slot;

    *totals = (ef_function_totals_t){.invocations = sum(server, FM(invocations)),
                                     .cold_starts = sum(server, FM(cold_starts)),
                                     .running = sum(server, FM(started)) - sum(server, FM(ended)),
                                     .mb_ms = sum(server, FM(mb_ms))};
    for (size_t e = 0; e != EF_FUNCTION_NUM_ERRORS; ++e)
        totals->errors[e] = sum(server, FM(errors[e]));
    totals->duration_ns = sum(server, FM(duration.sum_e9));
}

/* Whether a function has series at a slot: at a hook when a behavior binds it there; for direct invocations once it had one */
static int has_series(ef_server_t *server, size_t f, int slot)
{
    const ef_conf_t *conf = server->conf;
    const ef_conf_function_t *fn = server->functions.entries[f].conf;
    size_t i = f * EF_METRICS_FUNCTION_SLOTS + slot;

    if (slot == EF_METRICS_INVOKE)
        return sum(server, FM(started)) != 0;
    for (size_t b = 0; b != conf->num_behaviors; ++b)
        if (conf->behaviors[b].functions[slot] == fn)
            return 1;
    return 0;
}

enum { INVOCATIONS, ERRORS, DURATION, COLD_STARTS, INIT_DURATION, CONCURRENT, GB_SECONDS, BUDGET_RATIO, NUM_FUNCTION_FAMILIES };

/* One family's series for the function at index f (of server->functions) at `hook`, labelled `labels`. */
static void write_function_series(struct st_writer_t *w, ef_server_t *server, int family, const char *name, size_t f, int slot,
                                  const char *labels)
{
    size_t i = f * EF_METRICS_FUNCTION_SLOTS + slot;

    switch (family) {
    case INVOCATIONS:
        printf_to(w, "%s{%s} %" PRIu64 "\n", name, labels, sum(server, FM(invocations)));
        break;
    case ERRORS:
        for (size_t e = 0; e != EF_FUNCTION_NUM_ERRORS; ++e)
            printf_to(w, "%s{%s,kind=\"%s\"} %" PRIu64 "\n", name, labels, ef_function_error_names[e], sum(server, FM(errors[e])));
        break;
    case DURATION:
        histogram(w, server, name, labels, &ef_metrics_duration_buckets, FM(duration));
        break;
    case COLD_STARTS:
        printf_to(w, "%s{%s} %" PRIu64 "\n", name, labels, sum(server, FM(cold_starts)));
        break;
    case INIT_DURATION:
        histogram(w, server, name, labels, &ef_metrics_duration_buckets, FM(init_duration));
        break;
    case CONCURRENT:
        printf_to(w, "%s{%s} %" PRIu64 "\n", name, labels, sum(server, FM(started)) - sum(server, FM(ended)));
        break;
    case GB_SECONDS:
        printf_to(w, "%s{%s} %.10g\n", name, labels, sum(server, FM(mb_ms)) / 1024000.0);
        break;
    case BUDGET_RATIO:
        if (server->functions.entries[f].runtime == &ef_lua_runtime)
            histogram(w, server, name, labels, &ef_metrics_ratio_buckets, FM(budget_ratio));
        break;
    }
}

static void write_functions(struct st_writer_t *w, ef_server_t *server)
{
    static const struct {
        const char *name, *type, *help;
    } families[NUM_FUNCTION_FAMILIES] = {
        [INVOCATIONS] = {"edgefn_function_invocations_total", "counter", "Invocations completed."},
        [ERRORS] = {"edgefn_function_errors_total", "counter",
                    "Invocations that failed, by kind: runtime (it raised an error), validation (it returned something "
                    "invalid), timeout, memory, throttle (concurrency), crash (its environment exited or did not start)."},
        [DURATION] = {"edgefn_function_duration_seconds", "histogram", "How long invocations ran."},
        [COLD_STARTS] = {"edgefn_function_cold_starts_total", "counter",
                         "Invocations that ran in an environment started for them."},
        [INIT_DURATION] = {"edgefn_function_init_duration_seconds", "histogram", "How long those environments took to start."},
        [CONCURRENT] = {"edgefn_function_concurrent_executions", "gauge", "Invocations running now."},
        [GB_SECONDS] = {"edgefn_function_gb_seconds_total", "counter",
                        "Memory size in GB times duration, each invocation rounded up to 1 ms, as Lambda bills."},
        [BUDGET_RATIO] = {"edgefn_function_compute_budget_ratio", "histogram",
                          "Lua functions: the share of their CPU budget invocations used."},
    };
    char fb[256], labels[400];

    header(w, "edgefn_function_provisioned_environments", "gauge",
           "Provisioned environments of a process function alive now (starting or ready), of concurrency.provisioned.");
    for (size_t f = 0; f != server->functions.size; ++f) {
        const ef_function_t *fn = server->functions.entries + f;
        if (ef_conf_runtime_is_process(fn->conf->runtime))
            printf_to(w, "edgefn_function_provisioned_environments{function=\"%s\",version=\"$LATEST\"} %u\n",
                      label(fb, sizeof(fb), fn->conf->name), atomic_load(&((ef_function_t *)fn)->provisioned_environments));
    }
    header(w, "edgefn_function_environments", "gauge",
           "A process function's execution environments alive now, by state: starting, idle (warm), busy (running an invocation).");
    for (size_t f = 0; f != server->functions.size; ++f) {
        ef_function_t *fn = server->functions.entries + f;
        if (!ef_conf_runtime_is_process(fn->conf->runtime))
            continue;
        label(fb, sizeof(fb), fn->conf->name);
        printf_to(w, "edgefn_function_environments{function=\"%s\",version=\"$LATEST\",state=\"starting\"} %u\n", fb,
                  atomic_load(&fn->environments.starting));
        printf_to(w, "edgefn_function_environments{function=\"%s\",version=\"$LATEST\",state=\"idle\"} %u\n", fb,
                  atomic_load(&fn->environments.idle));
        printf_to(w, "edgefn_function_environments{function=\"%s\",version=\"$LATEST\",state=\"busy\"} %u\n", fb,
                  atomic_load(&fn->environments.busy));
    }
    for (int family = 0; family != NUM_FUNCTION_FAMILIES; ++family) {
        header(w, families[family].name, families[family].type, families[family].help);
        for (size_t f = 0; f != server->functions.size; ++f) {
            const ef_function_t *fn = server->functions.entries + f;
            for (int slot = 0; slot != EF_METRICS_FUNCTION_SLOTS; ++slot) {
                if (!has_series(server, f, slot))
                    continue;
                snprintf(labels, sizeof(labels), "function=\"%s\",version=\"$LATEST\",hook=\"%s\"",
                         label(fb, sizeof(fb), fn->conf->name), ef_metrics_slot_name(slot));
                write_function_series(w, server, family, families[family].name, f, slot, labels);
            }
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
    write_functions(&w, server);
    return h2o_iovec_init(w.buf.entries, w.buf.size);
}
