/*
 * edgefn's own error responses: one short text body that names the status, the
 * cause and the request id, the same wherever edgefn answers by itself.
 *
 *   502 Bad Gateway: origin "app" refused the connection (127.0.0.1:9000)
 *   request id: 5be1c0a7e20000000031
 */
#ifndef EF_SERVER_ERRORS_H
#define EF_SERVER_ERRORS_H

#include <h2o.h>

/**
 * Formats the body for `status`, `reason`, `cause` (a sentence without a trailing
 * period) and request id `id` into req->pool and returns it.
 */
h2o_iovec_t ef_error_body(h2o_req_t *req, int status, const char *reason, const char *cause, const char *id);

/**
 * Sends that body as the response, text/plain, with `id` in the x-edgefn-request-id
 * header, added to whatever headers req->res already has. `id` must live as long as
 * the request.
 */
void ef_send_error(h2o_req_t *req, const char *id, int status, const char *reason, const char *cause);

/* Adds the x-edgefn-request-id header; `id` must live as long as the request. */
void ef_add_request_id(h2o_req_t *req, const char *id);

#endif
