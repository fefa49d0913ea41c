/*
 * The event as JSON in the Lambda@Edge shape: what a process function (nodejs,
 * python, provided) is sent through the Runtime API, and how what it returns is read
 * back into the event. A Lambda@Edge function written for AWS runs unchanged.
 *
 *   {"Records": [{"cf": {
 *     "config": {"distributionDomainName": "localhost:8080", "distributionId": "EDGEFN",
 *                "eventType": "viewer-request", "requestId": "..."},
 *     "request": {"clientIp": "203.0.113.178", "method": "GET", "uri": "/index.html",
 *                 "querystring": "a=1&b=2",
 *                 "headers": {"host": [{"key": "Host", "value": "example.org"}]},
 *                 "body": {"inputTruncated": false, "action": "read-only",
 *                          "encoding": "base64", "data": ""}},
 *     "response": {"status": "200", "statusDescription": "OK", "headers": {...}}}}]}
 *
 * `response` is there at the response hooks only; `body` only when the function was
 * configured with include-body (at the request hooks).
 */
#ifndef EF_FUNCTIONS_EVENT_LAMBDA_H
#define EF_FUNCTIONS_EVENT_LAMBDA_H

#include "functions/event.h"

typedef struct st_ef_lambda_options_t {
    h2o_iovec_t distribution_domain; /* config.distributionDomainName: the viewer's host */
    int include_body;                /* request.body goes into the event (request hooks only) */
    size_t body_limit;               /* bytes of it, at most; beyond, inputTruncated is true */
} ef_lambda_options_t;

/**
 * Appends `ev` as a Lambda@Edge event to `buf` (JSON, UTF-8; bytes that are not valid
 * UTF-8 in a header value are escaped as \u00XX of their Latin-1 reading, as
 * CloudFront does). Written by hand, not through a JSON tree: this runs for every
 * invocation.
 */
void ef_event_to_lambda_json(h2o_buffer_t **buf, const ef_event_t *ev, const ef_lambda_options_t *opts);

/**
 * Reads what a function returned (`len` bytes of JSON at `json`) back into `ev`,
 * allocating what changed in ev->pool:
 * - at a request hook, a request object (continue with it) or a response object
 *   (one with `status`: answer with it, ev->outcome = EF_EVENT_RESPOND);
 * - at a response hook, a response object.
 * Only what differs from the event that was sent is applied, and each change is
 * checked with the rules of functions/event.h, as for a Lua function; read-only
 * fields (method, clientIp) must come back unchanged, and an `origin` is refused
 * (behaviors choose the origin). A string that reads as it was sent (\u00XX for a
 * byte that was not UTF-8 included) is unchanged; a field left out is unchanged,
 * but a header name left out of `headers` is removed. With include-body, a
 * request.body with action "replace" replaces the body (request_body_changed).
 * Returns 0, or -1 with why the result is invalid in `err`, naming the field (the
 * request then gets a 502); on -1 `ev` is left as it was.
 */
int ef_event_from_lambda_json(ef_event_t *ev, const ef_lambda_options_t *opts, const char *json, size_t len, char *err,
                              size_t errlen);

#endif
