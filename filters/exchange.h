/*
 * An exchange: one request's way through the pipeline, shared by the stages in
 * filters/. It is also the generator of the response sent to the client.
 */
#ifndef EF_FILTERS_EXCHANGE_H
#define EF_FILTERS_EXCHANGE_H

#include <time.h>
#include <h2o.h>
#include "filters/route.h"
#include "functions/runtime.h"
#include "server/server.h"

typedef struct st_ef_exchange_t ef_exchange_t;

struct st_ef_exchange_t {
    h2o_generator_t super;
    h2o_req_t *req;
    ef_thread_t *thread;
    const ef_behavior_t *behavior;
    ef_fetch_t *fetch;
    int upstream_status;
    struct timespec started;
    char id[EF_REQUEST_ID_LEN + 1];
    /* the function stages */
    ef_event_t event;
    ef_invocation_t inv;
    void (*after_hook)(ef_exchange_t *ex);
    h2o_iovec_t client_ip;
    unsigned invoking : 1;   /* an invocation is under way (a process runtime's, which completes later) */
    unsigned responded : 1;  /* a function answered: req->res holds its response, `body` its body */
    unsigned has_body : 1;   /* `body` replaces the origin's */
    unsigned viewer_headers_added : 1; /* host and cloudfront-forwarded-proto are in the request's headers, for functions */
    h2o_iovec_t body;
};

#endif
