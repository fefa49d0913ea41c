#include <stdio.h>
#include <string.h>
#include <time.h>
#include "filters/cache_stage.h"
#include "filters/exchange.h"
#include "filters/hook.h"
#include "filters/pipeline.h"
#include "filters/route.h"
#include "functions/event.h"
#include "server/errors.h"
#include "server/log.h"

struct st_handler_t {
    h2o_handler_t super;
    ef_server_t *server;
};

static uint64_t elapsed_us(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)(now.tv_sec - since->tv_sec) * 1000000 + (now.tv_nsec - since->tv_nsec) / 1000;
}

static void respond_error(ef_exchange_t *ex, int status, const char *cause)
{
    if (status >= 500)
        ef_log(EF_LOG_WARN, "request %s: %d: %s", ex->id, status, cause);
    /* an origin that failed half-way through its head may have left some behind */
    ex->req->res.headers = (h2o_headers_t){NULL};
    ex->cache.status = EF_XCACHE_ERROR;
    ef_cache_add_headers(ex);
    ef_send_error(ex->req, ex->id, status, ef_event_status_reason(status), cause);
}

/* the response generator, driven by the client side */

static void on_generator_proceed(h2o_generator_t *self, h2o_req_t *req)
{
    ef_exchange_t *ex = (ef_exchange_t *)self;
    if (!ef_cache_fill_proceed(ex))
        ef_fetch_proceed(ex->fetch);
}

static void on_generator_stop(h2o_generator_t *self, h2o_req_t *req)
{
    /* the client went away, or h2o ends the response early */
    ef_fetch_cancel(((ef_exchange_t *)self)->fetch);
}

/* the last stage: what goes to the client */

static void send_response(ef_exchange_t *ex)
{
    static h2o_generator_t generator = {NULL, NULL};
    h2o_req_t *req = ex->req;

    /* a body replacing the origin's that is being stored: the viewer gets its own once the store is over */
    if (ex->has_body && ex->fetch != NULL && ef_cache_fill_detach(ex, send_response))
        return;
    ef_add_request_id(req, ex->id);
    ef_cache_add_headers(ex);
    if (!ex->has_body) {
        /* the origin's body, streamed (from the fill's copies while it is being stored) */
        h2o_start_response(req, &ex->super);
        on_generator_proceed(&ex->super, req);
        return;
    }
    /* a function's body, generated or replacing the origin's */
    if (ex->fetch != NULL) {
        /* the origin's body is not wanted */
        ef_fetch_cancel(ex->fetch);
        ex->fetch = NULL;
    }
    /* no length, and no body, where HTTP has none */
    int bodyless = req->res.status == 204 || req->res.status == 304;
    req->res.content_length = bodyless ? SIZE_MAX : ex->body.len;
    h2o_start_response(req, &generator);
    if (bodyless || h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD")))
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    else
        h2o_send(req, &ex->body, 1, H2O_SEND_STATE_FINAL);
}

/* the origin stage */

static void after_origin_response(ef_exchange_t *ex)
{
    ef_cache_store_stage(ex);
    ef_hook_run(ex, EF_HOOK_VIEWER_RESPONSE, send_response);
}

static void on_origin_head(ef_fetch_t *fetch, int errstatus, const char *cause)
{
    ef_exchange_t *ex = fetch->data;
    ef_origin_metrics_t *m = &ex->thread->metrics.origins[ex->behavior->origin->index];

    ex->fetch = fetch;
    ex->upstream_status = fetch->upstream_status;
    ef_histogram_observe(&m->duration, &ef_metrics_duration_buckets, ef_now_ns() - ex->origin_started_ns);
    if (errstatus != 0)
        ef_count(&m->errors[fetch->error], 1);
    if (errstatus != 0) {
        /* edgefn's own error: no function runs on it, and requests waiting for this fetch go to the origin themselves */
        ex->fetch = NULL;
        if (ef_cache_on_origin_error(ex)) {
            ef_log(EF_LOG_WARN, "request %s: %d: %s; the stale cached object was served", ex->id, errstatus, cause);
            ef_hook_run(ex, EF_HOOK_VIEWER_RESPONSE, send_response);
            return;
        }
        respond_error(ex, errstatus, cause);
        return;
    }
    if (ef_cache_on_origin_head(ex)) {
        /* a stale object the origin confirmed (304), or could not replace (5xx): it is the response, as a hit's,
         * without origin-response */
        ef_fetch_cancel(fetch);
        ex->fetch = NULL;
        ef_hook_run(ex, EF_HOOK_VIEWER_RESPONSE, send_response);
        return;
    }
    ef_hook_run(ex, EF_HOOK_ORIGIN_RESPONSE, after_origin_response);
}

static void on_origin_body(ef_fetch_t *fetch, h2o_iovec_t *bufs, size_t bufcnt, h2o_send_state_t state)
{
    ef_exchange_t *ex = fetch->data;
    if (!ef_cache_fill_body(ex, bufs, bufcnt, state))
        h2o_send(ex->req, bufs, bufcnt, state);
}

static const ef_fetch_callbacks_t origin_callbacks = {on_origin_head, on_origin_body};

/* the request stages */

static void after_origin_request(ef_exchange_t *ex)
{
    if (ex->responded) {
        /* answered at origin-request: no origin, no origin-response; it is cached like the origin's, and viewer-response
         * runs */
        ef_cache_store_stage(ex);
        ef_hook_run(ex, EF_HOOK_VIEWER_RESPONSE, send_response);
        return;
    }
    ef_cache_prepare_fetch(ex);
    /* ex->fetch is set by on_origin_head, which may run before this returns */
    ex->origin_started_ns = ef_now_ns();
    ef_origin_fetch(ex->behavior->origin, ex->req, ex->id, &origin_callbacks, ex);
}

static void on_cache_hit(ef_exchange_t *ex)
{
    ef_hook_run(ex, EF_HOOK_VIEWER_RESPONSE, send_response);
}

static void on_cache_miss(ef_exchange_t *ex)
{
    ef_hook_run(ex, EF_HOOK_ORIGIN_REQUEST, after_origin_request);
}

static void after_viewer_request(ef_exchange_t *ex)
{
    if (ex->responded) {
        /* answered at viewer-request: straight to the client, without viewer-response */
        ex->cache.status = EF_XCACHE_FUNCTION;
        send_response(ex);
        return;
    }
    ef_cache_lookup_stage(ex, on_cache_hit, on_cache_miss);
}

/* the request's end: its access-log line */

static void on_exchange_dispose(void *_ex)
{
    ef_exchange_t *ex = _ex;
    h2o_req_t *req = ex->req;

    ef_hook_cancel(ex);
    ef_cache_dispose(ex);
    ef_count(&ex->thread->metrics.requests_done, 1);
    if (ex->behavior != NULL) {
        ef_behavior_metrics_t *m = ef_behavior_metrics(ex);
        if (req->res.status >= 100 && req->res.status < 600)
            ef_count(&m->responses[req->res.status / 100 - 1], 1);
        ef_count(&m->cache[ex->cache.status], 1);
    }
    ef_access_function_t functions[EF_NUM_HOOKS];
    for (size_t i = 0; i != ex->num_runs; ++i) {
        unsigned o = ex->runs[i].outcome;
        functions[i] = (ef_access_function_t){ef_hook_names[ex->runs[i].hook], ex->runs[i].fn->conf->name,
                                              o < EF_FUNCTION_NUM_ERRORS    ? ef_function_error_names[o]
                                              : o == EF_FUNCTION_NUM_ERRORS ? "ok"
                                                                            : "cancelled",
                                              ex->runs[i].duration_us};
    }
    ef_access_entry_t entry = {
        .req = req,
        .request_id = ex->id,
        .behavior = ex->behavior != NULL ? ex->behavior->pattern : NULL,
        .origin = ex->behavior != NULL ? ex->behavior->origin->conf->name : NULL,
        .status = req->res.status != 0 ? req->res.status : 499,
        .upstream_status = ex->upstream_status,
        .cache = ef_xcache_names[ex->cache.status].base,
        .cache_reason = ex->cache.reason,
        .duration_us = elapsed_us(&ex->started),
        .functions = functions,
        .num_functions = ex->num_runs,
    };
    ef_accesslog_write(&ex->thread->accesslog, &entry);
}

static int on_req(h2o_handler_t *_self, h2o_req_t *req)
{
    struct st_handler_t *self = (void *)_self;
    ef_exchange_t *ex = h2o_mem_alloc_shared(&req->pool, sizeof(*ex), on_exchange_dispose);

    *ex = (ef_exchange_t){{on_generator_proceed, on_generator_stop}, req, ef_thread_from_ctx(req->conn->ctx)};
    clock_gettime(CLOCK_MONOTONIC, &ex->started);
    ef_thread_next_request_id(ex->thread, ex->id);
    ef_count(&ex->thread->metrics.requests, 1);

    ex->behavior = ef_routes_find(self->server->routes, req->path_normalized.base, req->path_normalized.len);
    if (ex->behavior == NULL) {
        char cause[256];
        snprintf(cause, sizeof(cause), "no behavior matches %.*s",
                 (int)(req->path_normalized.len < 200 ? req->path_normalized.len : 200), req->path_normalized.base);
        respond_error(ex, 404, cause);
        return 0;
    }
    ef_hook_run(ex, EF_HOOK_VIEWER_REQUEST, after_viewer_request);
    return 0;
}

void ef_pipeline_register(h2o_pathconf_t *pathconf, ef_server_t *server)
{
    struct st_handler_t *self = (void *)h2o_create_handler(pathconf, sizeof(*self));
    self->super.on_req = on_req;
    self->server = server;
}

/* what h2o answers by itself */

static void on_fallback_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    char id[EF_REQUEST_ID_LEN + 1];
    ef_thread_next_request_id(ef_thread_from_ctx(req->conn->ctx), id);
    ef_add_request_id(req, h2o_strdup(&req->pool, id, EF_REQUEST_ID_LEN).base);
    h2o_setup_next_ostream(req, slot);
}

static void on_fallback_log(h2o_logger_t *self, h2o_req_t *req)
{
    ssize_t i = h2o_find_header_by_str(&req->res.headers, H2O_STRLIT("x-edgefn-request-id"), -1);
    struct timeval now;
    char id[EF_REQUEST_ID_LEN + 1] = "";

    if (i != -1)
        memcpy(id, req->res.headers.entries[i].value.base, EF_REQUEST_ID_LEN);
    gettimeofday(&now, NULL);
    ef_access_entry_t entry = {
        .req = req,
        .request_id = id,
        .status = req->res.status != 0 ? req->res.status : 499,
        .duration_us = (uint64_t)h2o_timeval_subtract(&req->timestamps.request_begin_at, &now),
    };
    ef_accesslog_write(&ef_thread_from_ctx(req->conn->ctx)->accesslog, &entry);
}

void ef_pipeline_register_fallback(h2o_pathconf_t *pathconf, ef_server_t *server)
{
    h2o_filter_t *filter = h2o_create_filter(pathconf, sizeof(*filter));
    filter->on_setup_ostream = on_fallback_setup_ostream;
    h2o_logger_t *logger = h2o_create_logger(pathconf, sizeof(*logger));
    logger->log_access = on_fallback_log;
}

void ef_pipeline_thread_init(ef_thread_t *thread)
{
    ef_cache_thread_init(thread);
}

void ef_pipeline_thread_dispose(ef_thread_t *thread)
{
    ef_cache_thread_dispose(thread);
}

int ef_pipeline_quiesced(ef_server_t *server)
{
    return ef_cache_quiesced(server);
}
