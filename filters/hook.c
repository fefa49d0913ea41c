#include <stdio.h>
#include <string.h>
#include "filters/cache_stage.h"
#include "filters/hook.h"
#include "server/errors.h"
#include "server/log.h"

static void fail(ef_exchange_t *ex, int status, const char *reason, const char *cause)
{
    ef_log(EF_LOG_WARN, "request %s: %d: %s", ex->id, status, cause);
    if (ex->fetch != NULL) {
        /* an origin-response function failed: what the origin still sends is not wanted */
        ef_fetch_cancel(ex->fetch);
        ex->fetch = NULL;
    }
    ex->req->res.headers = (h2o_headers_t){NULL};
    ex->cache.status = EF_XCACHE_ERROR;
    ef_cache_add_headers(ex);
    ef_send_error(ex->req, ex->id, status, reason, cause);
}

/*
 * What a function sees of the viewer in headers, as on CloudFront: the host (h2o keeps Host and :authority out of
 * req->headers) and the scheme, as cloudfront-forwarded-proto, which a viewer cannot forge. They stay in the request:
 * the origin client ignores both (it sends the authority as Host, and x-forwarded-proto), and a changed host header
 * becomes the authority (see apply_request).
 */
static void add_viewer_headers(ef_exchange_t *ex)
{
    static const h2o_iovec_t proto_name = {H2O_STRLIT(EF_HEADER_FORWARDED_PROTO)};
    h2o_req_t *req = ex->req;
    ssize_t i;

    if (req->authority.len != 0 && h2o_find_header(&req->headers, H2O_TOKEN_HOST, -1) == -1)
        h2o_add_header(&req->pool, &req->headers, H2O_TOKEN_HOST, NULL, req->authority.base, req->authority.len);
    while ((i = h2o_find_header_by_str(&req->headers, proto_name.base, proto_name.len, -1)) != -1)
        h2o_delete_header(&req->headers, i);
    h2o_add_header_by_str(&req->pool, &req->headers, proto_name.base, proto_name.len, 0, NULL, req->scheme->name.base,
                          req->scheme->name.len);
    ex->viewer_headers_added = 1;
}

/* The event for `hook`: pointers into the request (and response), nothing copied. */
static void build_event(ef_exchange_t *ex, ef_hook_t hook)
{
    h2o_req_t *req = ex->req;
    ef_event_t *ev = &ex->event;

    if (ex->client_ip.base == NULL) {
        char ip[NI_MAXHOST];
        size_t len = ef_client_ip(req, ip);
        ex->client_ip = h2o_strdup(&req->pool, ip, len);
    }
    *ev = (ef_event_t){.hook = hook, .request_id = ex->id, .client_ip = ex->client_ip, .pool = &req->pool};
    ev->request.method = req->method;
    if (req->query_at != SIZE_MAX) {
        ev->request.path = h2o_iovec_init(req->path.base, req->query_at);
        ev->request.query = h2o_iovec_init(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1);
    } else {
        ev->request.path = req->path;
    }
    ev->request.headers = &req->headers;
    ev->request.body = req->entity;
    if (!ex->viewer_headers_added)
        add_viewer_headers(ex);
    if (ef_hook_is_response(hook)) {
        ev->response.status = req->res.status;
        ev->response.reason =
            req->res.reason != NULL ? h2o_iovec_init(req->res.reason, strlen(req->res.reason)) : h2o_iovec_init("", 0);
        ev->response.headers = &req->res.headers;
    }
}

static void apply_request(ef_exchange_t *ex)
{
    h2o_req_t *req = ex->req;
    ef_event_t *ev = &ex->event;
    ssize_t host = h2o_find_header(&req->headers, H2O_TOKEN_HOST, -1);

    /* a changed host header is the new authority: what a preserve-host origin is sent */
    if (host != -1)
        req->authority = req->headers.entries[host].value;
    /* a Lambda@Edge function with include-body may replace the body (the origin client sends its length) */
    if (ev->request_body_changed)
        req->entity = ev->request.body;
    if (!ev->request_path_changed)
        return;
    /* the origin gets the new path; routing has happened and does not again (as on CloudFront) */
    req->path = ev->request.query.base != NULL
                    ? h2o_concat(&req->pool, ev->request.path, h2o_iovec_init(H2O_STRLIT("?")), ev->request.query)
                    : h2o_strdup(&req->pool, ev->request.path.base, ev->request.path.len);
    req->path_normalized = h2o_url_normalize_path(&req->pool, req->path.base, req->path.len, &req->query_at, &req->norm_indexes);
}

static const char *dup_reason(ef_exchange_t *ex, h2o_iovec_t reason)
{
    return h2o_strdup(&ex->req->pool, reason.base, reason.len).base;
}

/* A response a function generated at a request hook becomes the request's response. */
static void install_response(ef_exchange_t *ex)
{
    h2o_req_t *req = ex->req;
    ef_event_response_t *r = &ex->event.response;

    req->res.status = r->status;
    req->res.reason = dup_reason(ex, r->reason);
    req->res.headers = *r->headers;
    ex->responded = 1;
    ex->has_body = 1;
    ex->body = r->has_body ? r->body : h2o_iovec_init("", 0);
}

static void apply_response(ef_exchange_t *ex)
{
    h2o_req_t *req = ex->req;
    ef_event_response_t *r = &ex->event.response;

    /* headers were changed in place */
    req->res.status = r->status;
    if (r->reason.base != req->res.reason)
        req->res.reason = dup_reason(ex, r->reason);
    if (r->has_body) {
        ex->has_body = 1;
        ex->body = r->body;
    }
}

/* The access log's account of a function that ran. */
static void record_run(ef_exchange_t *ex, const ef_invocation_t *inv, int outcome)
{
    if (ex->num_runs == EF_NUM_HOOKS)
        return;
    ex->runs[ex->num_runs++] = (typeof(ex->runs[0])){inv->fn, ex->event.hook, outcome, inv->duration_ns / 1000};
}

/* The counters of `fn` at `hook` on ex's thread. */
static ef_function_metrics_t *function_metrics(ef_exchange_t *ex, const ef_function_t *fn, ef_hook_t hook)
{
    return ef_metrics_function(&ex->thread->metrics, fn - ex->thread->server->functions.entries, hook);
}

static void on_complete(ef_invocation_t *inv)
{
    ef_exchange_t *ex = inv->data;
    const char *fn = inv->fn->conf->name, *hook = ef_hook_names[ex->event.hook];
    char cause[512];

    ex->invoking = 0;
    record_run(ex, inv, ef_metrics_count_invocation(function_metrics(ex, inv->fn, ex->event.hook), inv));
    switch (inv->status) {
    case EF_INVOKE_FAILED:
    case EF_INVOKE_LIMIT:
        /* which limit is the operator's business; what the function raised may not be the viewer's */
        snprintf(cause, sizeof(cause), "function \"%s\" (%s) failed: %s", fn, hook,
                 inv->status == EF_INVOKE_LIMIT ? inv->error : "it raised an error (its log has the traceback)");
        fail(ex, 503, "Service Unavailable", cause);
        return;
    case EF_INVOKE_INVALID:
        snprintf(cause, sizeof(cause), "function \"%s\" (%s) returned an invalid result: %s", fn, hook, inv->error);
        fail(ex, 502, "Bad Gateway", cause);
        return;
    case EF_INVOKE_OK:
        break;
    }
    if (ef_hook_is_response(ex->event.hook))
        apply_response(ex);
    else if (ex->event.outcome == EF_EVENT_RESPOND)
        install_response(ex);
    else
        apply_request(ex);
    ex->after_hook(ex);
}

void ef_hook_run(ef_exchange_t *ex, ef_hook_t hook, void (*next)(ef_exchange_t *ex))
{
    ef_function_t *fn = ex->behavior->functions[hook];

    if (fn == NULL) {
        next(ex);
        return;
    }
    build_event(ex, hook);
    ex->after_hook = next;
    ex->inv = (ef_invocation_t){.fn = fn,
                                .event = &ex->event,
                                .thread_state = ef_functions_thread_state(&ex->thread->functions, fn),
                                .on_complete = on_complete,
                                .data = ex,
                                .log = ef_invocation_log};
    ex->invoking = 1;
    ef_count(&function_metrics(ex, fn, hook)->started, 1);
    fn->runtime->invoke(&ex->inv);
}

void ef_hook_cancel(ef_exchange_t *ex)
{
    if (ex->invoking) {
        ex->invoking = 0;
        ef_count(&function_metrics(ex, ex->inv.fn, ex->event.hook)->ended, 1);
        record_run(ex, &ex->inv, EF_FUNCTION_NUM_ERRORS + 1); /* cancelled: its duration is unknown (0) */
        ex->inv.fn->runtime->cancel(&ex->inv);
    }
}
