/*
 * A test run: one function run on one event outside any request, and its report as
 * CloudFront's TestFunction gives it (the function's output, its log lines, its error,
 * its duration and the share of its budget it used). `edgefn test` runs one in a loop
 * of its own; the admin API's POST /functions/NAME/test runs one on the worker thread
 * that took the request, in the running server's environments. Nothing reaches an origin.
 *
 *   ef_test_run_t *run = ...;
 *   ef_test_run_init(run, pool, request_id);
 *   if (ef_test_run_read_event(run, json, err, sizeof(err)) != 0) ...   (optional: defaults are GET / at no hook)
 *   run->event.hook = ...;                                               (when the event names none)
 *   ef_test_run_start(run, fn, thread_state, on_done);                    (on_done may be called before this returns)
 *   ... json_t *report = ef_test_run_report(run); ...
 *   ef_test_run_dispose(run);
 */
#ifndef EF_FUNCTIONS_TEST_RUN_H
#define EF_FUNCTIONS_TEST_RUN_H

#include <jansson.h>
#include "functions/runtime.h"

typedef struct st_ef_test_run_t ef_test_run_t;

struct st_ef_test_run_t {
    ef_event_t event;
    h2o_headers_t request_headers, response_headers;
    char request_id[48];
    ef_invocation_t inv;
    json_t *logs; /* the lines, in order */
    int running;
    /* the function is a running server's: its lines go to its log stream as well, and the run collects an environment's
     * lines from the invocation (ef_invocation_t.logged); `edgefn test` owns its function and sends it every line through
     * fn->log_cb (to ef_test_run_log) */
    int shared_function;
    void (*on_done)(ef_test_run_t *run);
    void *data; /* the caller's */
};

/* Sets up the event's defaults (GET / from 127.0.0.1 with Host: localhost, a 200 OK response) in `pool`. */
void ef_test_run_init(ef_test_run_t *run, h2o_mem_pool_t *pool, const char *request_id);

/**
 * Applies an event in any shape ef_event_read_json takes; its hook, if it names one, goes to run->event.hook
 * (EF_NUM_HOOKS until one is known). Returns 0, or -1 with what is wrong in `err`.
 */
int ef_test_run_read_event(ef_test_run_t *run, json_t *event, char *err, size_t errlen);

/* Runs `fn` on the event (whose hook must be known) with its runtime's state for the calling thread. */
void ef_test_run_start(ef_test_run_t *run, ef_function_t *fn, void *thread_state, void (*on_done)(ef_test_run_t *run));

/* Adds a line to the report (for fn->log_cb). */
void ef_test_run_log(ef_test_run_t *run, const char *msg, size_t len);

/* The caller leaves before the run is over: on_done does not follow. */
void ef_test_run_cancel(ef_test_run_t *run);

/**
 * The report: {"function", "eventType", "requestId", "outcome": "request" | "response" | "error" | "invalid",
 * "request" or "response" (CloudFront Functions shape), "status" and "error" (when it failed), "logs",
 * "durationMs", "computeUtilization" (percent of the time budget), "memoryUsedBytes", "memoryLimitBytes"}.
 */
json_t *ef_test_run_report(const ef_test_run_t *run);

void ef_test_run_dispose(ef_test_run_t *run);

#endif
