/*
 * The function stages: running the function a behavior binds to a hook, and applying
 * what it returned to the request or the response.
 */
#ifndef EF_FILTERS_HOOK_H
#define EF_FILTERS_HOOK_H

#include "filters/exchange.h"

/**
 * Runs the function that ex's behavior binds to `hook`, on ex's request (or, at the
 * response hooks, on req->res), and then calls `next`, at once when no function is
 * bound. A function that answers at a request hook leaves its response in req->res
 * (and ex->body) with ex->responded set. A function that fails or returns something
 * invalid gets edgefn's 503 or 502 sent instead, and `next` is not called.
 */
void ef_hook_run(ef_exchange_t *ex, ef_hook_t hook, void (*next)(ef_exchange_t *ex));

/* Stops an invocation under way, when the request goes away before it completes. */
void ef_hook_cancel(ef_exchange_t *ex);

#endif
