#include <stdio.h>
#include "server/errors.h"
#include "server/server.h"

h2o_iovec_t ef_error_body(h2o_req_t *req, int status, const char *reason, const char *cause, const char *id)
{
    char buf[1024];
    int len = snprintf(buf, sizeof(buf), "%d %s: %s\nrequest id: %s\n", status, reason, cause, id);
    return h2o_strdup(&req->pool, buf, len < (int)sizeof(buf) ? (size_t)len : sizeof(buf) - 1);
}

void ef_add_request_id(h2o_req_t *req, const char *id)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-edgefn-request-id"), 0, NULL, id, EF_REQUEST_ID_LEN);
}

void ef_send_error(h2o_req_t *req, const char *id, int status, const char *reason, const char *cause)
{
    static h2o_generator_t generator = {NULL, NULL};
    h2o_iovec_t body = ef_error_body(req, status, reason, cause, id);

    req->res.status = status;
    req->res.reason = reason;
    req->res.content_length = body.len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/plain; charset=utf-8"));
    ef_add_request_id(req, id);
    h2o_start_response(req, &generator);
    if (h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD")))
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    else
        h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}
