#include <stdio.h>
#include <string.h>
#include "functions/event_json.h"
#include "functions/test_run.h"

void ef_test_run_init(ef_test_run_t *run, h2o_mem_pool_t *pool, const char *request_id)
{
    *run = (ef_test_run_t){.logs = json_array()};
    snprintf(run->request_id, sizeof(run->request_id), "%s", request_id);
    run->event = (ef_event_t){.hook = EF_NUM_HOOKS, .request_id = run->request_id, .pool = pool};
    run->event.request.headers = &run->request_headers;
    run->event.response.headers = &run->response_headers;
    run->event.request.method = h2o_iovec_init(H2O_STRLIT("GET"));
    run->event.request.path = h2o_iovec_init(H2O_STRLIT("/"));
    h2o_add_header(pool, &run->request_headers, H2O_TOKEN_HOST, NULL, H2O_STRLIT("localhost"));
    run->event.client_ip = h2o_iovec_init(H2O_STRLIT("127.0.0.1"));
    run->event.response.status = 200;
    run->event.response.reason = h2o_iovec_init(H2O_STRLIT("OK"));
}

int ef_test_run_read_event(ef_test_run_t *run, json_t *event, char *err, size_t errlen)
{
    return ef_event_read_json(&run->event, event, &run->event.hook, err, errlen);
}

void ef_test_run_log(ef_test_run_t *run, const char *msg, size_t len)
{
    json_t *line = json_stringn(msg, len);

    /* a function may log bytes that are not UTF-8: keep what can be kept */
    json_array_append_new(run->logs, line != NULL ? line : json_string("(a line that is not UTF-8)"));
}

static void on_log(ef_invocation_t *inv, const char *msg, size_t len)
{
    ef_test_run_t *run = inv->data;

    ef_test_run_log(run, msg, len);
    if (run->shared_function)
        ef_invocation_log(inv, msg, len);
}

static void on_logged(ef_invocation_t *inv, const char *msg, size_t len)
{
    ef_test_run_log(inv->data, msg, len);
}

static void on_complete(ef_invocation_t *inv)
{
    ef_test_run_t *run = inv->data;

    run->running = 0;
    run->on_done(run);
}

void ef_test_run_start(ef_test_run_t *run, ef_function_t *fn, void *thread_state, void (*on_done)(ef_test_run_t *run))
{
    run->on_done = on_done;
    run->inv = (ef_invocation_t){.fn = fn,
                                 .event = &run->event,
                                 .thread_state = thread_state,
                                 .on_complete = on_complete,
                                 .data = run,
                                 .log = on_log,
                                 .logged = run->shared_function ? on_logged : NULL};
    run->running = 1;
    fn->runtime->invoke(&run->inv);
}

void ef_test_run_cancel(ef_test_run_t *run)
{
    if (run->running) {
        run->running = 0;
        run->inv.fn->runtime->cancel(&run->inv);
    }
}

json_t *ef_test_run_report(const ef_test_run_t *run)
{
    const ef_invocation_t *inv = &run->inv;
    const ef_event_t *ev = &run->event;
    json_t *out = json_object();
    double utilization = inv->budget_ns != 0 ? 100.0 * inv->duration_ns / inv->budget_ns : 0;

    json_object_set_new(out, "function", json_string(inv->fn->conf->name));
    json_object_set_new(out, "eventType", json_string(ef_hook_names[ev->hook]));
    json_object_set_new(out, "requestId", json_string(ev->request_id));
    switch (inv->status) {
    case EF_INVOKE_OK:
        if (ef_hook_is_response(ev->hook) || ev->outcome == EF_EVENT_RESPOND) {
            json_object_set_new(out, "outcome", json_string("response"));
            json_object_set_new(out, "response", ef_event_response_to_cf_json(ev));
        } else {
            json_object_set_new(out, "outcome", json_string("request"));
            json_object_set_new(out, "request", ef_event_request_to_cf_json(ev));
        }
        break;
    case EF_INVOKE_FAILED:
    case EF_INVOKE_LIMIT:
    case EF_INVOKE_INVALID:
        json_object_set_new(out, "outcome", json_string(inv->status == EF_INVOKE_INVALID ? "invalid" : "error"));
        json_object_set_new(out, "status", json_integer(inv->status == EF_INVOKE_INVALID ? 502 : 503));
        json_object_set_new(out, "error", json_string(inv->error));
        break;
    }
    json_object_set_new(out, "logs", json_incref(run->logs));
    json_object_set_new(out, "durationMs", json_real(inv->duration_ns / 1e6));
    /* as CloudFront's ComputeUtilization: the share of the time budget used, in percent */
    json_object_set_new(out, "computeUtilization", json_integer(utilization < 100 ? (json_int_t)(utilization + 0.5) : 100));
    json_object_set_new(out, "memoryUsedBytes", json_integer(inv->memory_bytes));
    json_object_set_new(out, "memoryLimitBytes", json_integer(inv->fn->conf->memory));
    return out;
}

void ef_test_run_dispose(ef_test_run_t *run)
{
    ef_test_run_cancel(run);
    json_decref(run->logs);
    run->logs = NULL;
}
