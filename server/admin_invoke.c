/*
 * The admin API's endpoints that run a function:
 *
 *   POST /functions/NAME/test         CloudFront's TestFunction, for any hook and either runtime: the body is an
 *                                     event (functions/test_run.h), the answer the report `edgefn test` prints
 *   POST /functions/NAME/invocations  Lambda's Invoke: the body is the payload, given to the handler as it is;
 *                                     X-Edgefn-Invocation-Type: RequestResponse (default), Event or DryRun;
 *                                     X-Edgefn-Log-Type: Tail for the last 4 KB of the log lines
 *
 * Both run on the worker thread that took the request, in the running server's
 * environments and Lua states. A test is not counted in the metrics; an invocation is,
 * with hook="invoke".
 */
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "functions/json.h"
#include "functions/registry.h"
#include "functions/test_run.h"
#include "server/admin.h"
#include "server/errors.h"

#define LOG_TAIL 4096 /* bytes of log lines X-Edgefn-Log-Type: Tail answers, as Lambda's */

/* Whether the request's body is a payload of at most `max` bytes of JSON; if not, it is answered 413 or 400. */
static int check_payload(h2o_req_t *req, const char *id, size_t max)
{
    ef_json_error_t jerr;
    char msg[320];

    if (req->entity.len > max) {
        snprintf(msg, sizeof(msg), "the body is %zu bytes; the most is %zu", req->entity.len, max);
        ef_admin_send_error(req, id, 413, "Payload Too Large", "RequestTooLarge", msg);
        return 0;
    }
    if (ef_json_parse(&req->pool, req->entity.base, req->entity.len, &jerr) == NULL) {
        snprintf(msg, sizeof(msg), "the body is not JSON: %s at line %d, column %d", jerr.text, jerr.line, jerr.column);
        ef_admin_send_error(req, id, 400, "Bad Request", "InvalidRequestContent", msg);
        return 0;
    }
    return 1;
}

/* ---- POST /functions/NAME/test ---- */

struct st_test_t {
    ef_test_run_t run;
    h2o_req_t *req;
    const char *id;
};

static void on_test_done(ef_test_run_t *run)
{
    struct st_test_t *t = run->data;
    /* durations with 6 significant digits, as `edgefn test` prints them */
    ef_admin_send_json_value(t->req, t->id, ef_test_run_report(run), JSON_REAL_PRECISION(6));
}

/* the request is over (answered, or its client gone): a run still going is abandoned */
static void on_test_dispose(void *p)
{
    ef_test_run_dispose(&((struct st_test_t *)p)->run);
}

static void on_test(ef_server_t *server, h2o_req_t *req, const char *id, ef_function_t *fn)
{
    ef_thread_t *thread = ef_thread_from_ctx(req->conn->ctx);
    char err[512];
    json_error_t jerr;
    json_t *event;

    if (req->entity.base == NULL || req->entity.len == 0) {
        ef_admin_send_error(req, id, 400, "Bad Request", "MissingBody",
                            "the request has no body: expected an event, e.g. {\"hook\": \"viewer-request\", \"uri\": \"/\"}");
        return;
    }
    if ((event = json_loadb(req->entity.base, req->entity.len, 0, &jerr)) == NULL) {
        snprintf(err, sizeof(err), "the body is not JSON: %s at line %d, column %d", jerr.text, jerr.line, jerr.column);
        ef_admin_send_error(req, id, 400, "Bad Request", "MalformedInput", err);
        return;
    }
    struct st_test_t *t = h2o_mem_alloc_shared(&req->pool, sizeof(*t), on_test_dispose);
    t->req = req;
    t->id = h2o_strdup(&req->pool, id, SIZE_MAX).base;
    ef_test_run_init(&t->run, &req->pool, t->id);
    t->run.data = t;
    t->run.shared_function = 1;
    int ret = ef_test_run_read_event(&t->run, event, err, sizeof(err));
    json_decref(event);
    if (ret != 0 || t->run.event.hook == EF_NUM_HOOKS) {
        ef_admin_send_error(req, id, 400, "Bad Request", "InvalidArgument",
                            ret != 0 ? err
                                     : "the event names no hook: give context.eventType (CloudFront Functions), "
                                       "Records[0].cf.config.eventType (Lambda@Edge) or hook (the short form)");
        return;
    }
    ef_test_run_start(&t->run, fn, ef_functions_thread_state(&thread->functions, fn), on_test_done);
}

/* ---- POST /functions/NAME/invocations ---- */

struct st_invoke_t {
    ef_direct_t run;
    h2o_req_t *req;
    const char *id;
    h2o_buffer_t *tail; /* the last log lines, with X-Edgefn-Log-Type: Tail */
};

static void keep_line(struct st_invoke_t *x, const char *msg, size_t len)
{
    h2o_iovec_t dst = h2o_buffer_reserve(&x->tail, len + 1);
    memcpy(dst.base, msg, len);
    dst.base[len] = '\n';
    x->tail->size += len + 1;
    if (x->tail->size > 4 * LOG_TAIL)
        h2o_buffer_consume(&x->tail, x->tail->size - LOG_TAIL);
}

static void on_invoke_log(ef_invocation_t *inv, const char *msg, size_t len)
{
    ef_invocation_log(inv, msg, len);
    keep_line(inv->data, msg, len);
}

static void on_invoke_logged(ef_invocation_t *inv, const char *msg, size_t len)
{
    keep_line(inv->data, msg, len);
}

static void on_invoke_complete(ef_invocation_t *inv)
{
    struct st_invoke_t *x = inv->data;
    h2o_req_t *req = x->req;
    h2o_iovec_t body;

    ef_direct_done(&x->run);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-edgefn-executed-version"), 0, NULL, H2O_STRLIT("$LATEST"));
    if (x->tail != NULL) {
        size_t n = x->tail->size < LOG_TAIL ? x->tail->size : LOG_TAIL;
        char *b64 = h2o_mem_alloc_pool(&req->pool, h2o_base64_encode_capacity(n));
        size_t len = h2o_base64_encode(b64, x->tail->bytes + x->tail->size - n, n, 0);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-edgefn-log-result"), 0, NULL, b64, len);
    }
    if (inv->status == EF_INVOKE_LIMIT && inv->limit == EF_LIMIT_THROTTLE) {
        /* as Lambda: a throttle is the API's error, not the function's */
        ef_admin_send_error(req, x->id, 429, "Too Many Requests", "TooManyRequestsException", inv->error);
        return;
    }
    if (inv->status == EF_INVOKE_OK) {
        body = inv->result;
    } else {
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-edgefn-function-error"), 0, NULL,
                              H2O_STRLIT("Unhandled"));
        body = ef_invoke_error_body(inv, &req->pool);
    }
    ef_admin_send_json(req, x->id, 200, "OK", h2o_strdup(&req->pool, body.base, body.len).base);
}

static void on_invoke_dispose(void *p)
{
    struct st_invoke_t *x = p;

    ef_direct_cancel(&x->run); /* the invoker left before the end, if it did */
    if (x->tail != NULL)
        h2o_buffer_dispose(&x->tail);
}

static void send_empty(h2o_req_t *req, const char *id, int status, const char *reason)
{
    req->res.status = status;
    req->res.reason = reason;
    req->res.content_length = 0;
    ef_add_request_id(req, h2o_strdup(&req->pool, id, SIZE_MAX).base);
    h2o_send_inline(req, "", 0);
}

static h2o_iovec_t header_value(h2o_req_t *req, const char *name, size_t len)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, len, -1);
    return i != -1 ? req->headers.entries[i].value : h2o_iovec_init(NULL, 0);
}

static void on_invocations(ef_server_t *server, h2o_req_t *req, const char *id, size_t f)
{
    ef_thread_t *thread = ef_thread_from_ctx(req->conn->ctx);
    h2o_iovec_t type = header_value(req, H2O_STRLIT("x-edgefn-invocation-type")),
                log = header_value(req, H2O_STRLIT("x-edgefn-log-type"));
    int is_event = 0, tail = 0;
    char msg[300];

    if (type.base == NULL || h2o_memis(type.base, type.len, H2O_STRLIT("RequestResponse"))) {
    } else if (h2o_memis(type.base, type.len, H2O_STRLIT("Event"))) {
        is_event = 1;
    } else if (h2o_memis(type.base, type.len, H2O_STRLIT("DryRun"))) {
        send_empty(req, id, 204, "No Content"); /* as Lambda: the function exists and the caller may invoke it */
        return;
    } else {
        snprintf(msg, sizeof(msg), "X-Edgefn-Invocation-Type: \"%.*s\" is not RequestResponse, Event or DryRun",
                 (int)(type.len < 64 ? type.len : 64), type.base);
        ef_admin_send_error(req, id, 400, "Bad Request", "InvalidArgument", msg);
        return;
    }
    if (log.base != NULL) {
        if (h2o_memis(log.base, log.len, H2O_STRLIT("Tail"))) {
            tail = 1;
        } else if (!h2o_memis(log.base, log.len, H2O_STRLIT("None"))) {
            snprintf(msg, sizeof(msg), "X-Edgefn-Log-Type: \"%.*s\" is not None or Tail", (int)(log.len < 64 ? log.len : 64),
                     log.base);
            ef_admin_send_error(req, id, 400, "Bad Request", "InvalidArgument", msg);
            return;
        }
    }

    h2o_iovec_t payload = req->entity;
    if (payload.len == 0)
        payload = h2o_iovec_init(H2O_STRLIT("{}")); /* as Lambda: no payload is an empty object */
    else if (!check_payload(req, id, is_event ? EF_ASYNC_MAX_PAYLOAD : EF_INVOKE_MAX_PAYLOAD))
        return;
    if (is_event) {
        char err[PATH_MAX + 128];
        switch (ef_async_enqueue(&thread->async, f, payload, id, err, sizeof(err))) {
        case EF_ASYNC_QUEUED:
            break;
        case EF_ASYNC_FULL:
            ef_admin_send_error(req, id, 429, "Too Many Requests", "TooManyRequestsException", err);
            return;
        default:
            ef_admin_send_error(req, id, 500, "Internal Server Error", "ServiceException", err);
            return;
        }
        send_empty(req, id, 202, "Accepted");
        return;
    }

    struct st_invoke_t *x = h2o_mem_alloc_shared(&req->pool, sizeof(*x), on_invoke_dispose);
    *x = (struct st_invoke_t){.req = req, .id = h2o_strdup(&req->pool, id, SIZE_MAX).base};
    if (tail)
        h2o_buffer_init(&x->tail, &h2o_socket_buffer_prototype);
    ef_direct_start(&x->run, thread, f, &req->pool, x->id, payload, on_invoke_complete, x, tail ? on_invoke_log : NULL,
                    tail ? on_invoke_logged : NULL);
}

void ef_admin_run_function(ef_server_t *server, h2o_req_t *req, const char *id, size_t f, int is_test)
{
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        ef_admin_send_method_not_allowed(req, id, "POST");
        return;
    }
    if (is_test)
        on_test(server, req, id, server->functions.entries + f);
    else
        on_invocations(server, req, id, f);
}
