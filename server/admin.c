#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "server/admin.h"
#include "server/errors.h"

struct st_handler_t {
    h2o_handler_t super;
    ef_server_t *server;
};

int ef_admin_read_token(const char *path, h2o_iovec_t *token, char *err, size_t errlen)
{
    char buf[4096];
    size_t len, start = 0;
    FILE *fp;

    if ((fp = fopen(path, "r")) == NULL) {
        snprintf(err, errlen, "cannot read \"%s\": %s", path, strerror(errno));
        return -1;
    }
    len = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    while (start < len && (buf[start] == ' ' || buf[start] == '\t' || buf[start] == '\n' || buf[start] == '\r'))
        ++start;
    while (len > start && (buf[len - 1] == ' ' || buf[len - 1] == '\t' || buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        --len;
    if (len == start) {
        snprintf(err, errlen, "\"%s\" holds no token", path);
        return -1;
    }
    *token = h2o_strdup(NULL, buf + start, len - start);
    return 0;
}

static int token_matches(h2o_iovec_t given, h2o_iovec_t token)
{
    /* constant time in the token's content, so that timing does not reveal a prefix */
    unsigned char diff = given.len != token.len;
    for (size_t i = 0; i != token.len; ++i)
        diff |= (unsigned char)(i < given.len ? given.base[i] : 0) ^ (unsigned char)token.base[i];
    return diff == 0;
}

static int is_authorized(h2o_req_t *req, h2o_iovec_t token)
{
    ssize_t i;

    if (token.len == 0)
        return 1;
    if ((i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1)) == -1)
        return 0;
    h2o_iovec_t v = req->headers.entries[i].value;
    if (v.len < 7 || !h2o_lcstris(v.base, 7, H2O_STRLIT("bearer ")))
        return 0;
    return token_matches(h2o_iovec_init(v.base + 7, v.len - 7), token);
}

static void send_json(h2o_req_t *req, const char *id, int status, const char *reason, const char *json)
{
    req->res.status = status;
    req->res.reason = reason;
    req->res.content_length = strlen(json);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    ef_add_request_id(req, h2o_strdup(&req->pool, id, SIZE_MAX).base);
    h2o_send_inline(req, json, SIZE_MAX);
}

static int on_req(h2o_handler_t *_self, h2o_req_t *req)
{
    struct st_handler_t *self = (void *)_self;
    ef_thread_t *thread = ef_thread_from_ctx(req->conn->ctx);
    char id[EF_REQUEST_ID_LEN + 1];

    ef_thread_next_request_id(thread, id);
    if (!is_authorized(req, self->server->admin_token)) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL, H2O_STRLIT("Bearer realm=\"edgefn\""));
        ef_send_error(req, h2o_strdup(&req->pool, id, SIZE_MAX).base, 401, "Unauthorized", "missing or invalid bearer token");
        return 0;
    }
    if (h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/health"))) {
        if (thread->draining)
            send_json(req, id, 503, "Service Unavailable", "{\"status\":\"draining\"}\n");
        else
            send_json(req, id, 200, "OK", "{\"status\":\"ok\"}\n");
        return 0;
    }
    char cause[256];
    snprintf(cause, sizeof(cause), "no admin endpoint %.*s", (int)(req->path_normalized.len < 200 ? req->path_normalized.len : 200),
             req->path_normalized.base);
    ef_send_error(req, h2o_strdup(&req->pool, id, SIZE_MAX).base, 404, "Not Found", cause);
    return 0;
}

void ef_admin_register(h2o_pathconf_t *pathconf, ef_server_t *server)
{
    struct st_handler_t *self = (void *)h2o_create_handler(pathconf, sizeof(*self));
    self->super.on_req = on_req;
    self->server = server;
}
