#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "server/admin.h"
#include "server/errors.h"
#include "server/log.h"

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

void ef_admin_send_json(h2o_req_t *req, const char *id, int status, const char *reason, const char *json)
{
    req->res.status = status;
    req->res.reason = reason;
    req->res.content_length = strlen(json);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    ef_add_request_id(req, h2o_strdup(&req->pool, id, SIZE_MAX).base);
    h2o_send_inline(req, json, SIZE_MAX);
}

void ef_admin_send_json_value(h2o_req_t *req, const char *id, json_t *value, size_t flags)
{
    char *json = json_dumps(value, JSON_PRESERVE_ORDER | JSON_INDENT(2) | flags);
    h2o_iovec_t body = h2o_concat(&req->pool, h2o_iovec_init(json, strlen(json)), h2o_iovec_init(H2O_STRLIT("\n")));

    free(json);
    json_decref(value);
    ef_admin_send_json(req, id, 200, "OK", body.base);
}

int ef_admin_check_invalidation_path(const char *path, size_t len, char *err, size_t errlen)
{
    const char *star;

    if (len == 0 || path[0] != '/') {
        snprintf(err, errlen, "must start with \"/\"");
        return -1;
    }
    if (len > EF_ADMIN_MAX_INVALIDATION_PATH_LEN) {
        snprintf(err, errlen, "is %zu bytes long, more than %d", len, EF_ADMIN_MAX_INVALIDATION_PATH_LEN);
        return -1;
    }
    if ((star = memchr(path, '*', len)) != NULL && star != path + len - 1) {
        snprintf(err, errlen, "has \"*\" before its end (\"*\" may only be the last character)");
        return -1;
    }
    /* no request path holds one, so such a path could match nothing; and it would break the log line */
    for (size_t i = 0; i != len; ++i) {
        if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f) {
            snprintf(err, errlen, "has a control character (0x%02x) at byte %zu", (unsigned char)path[i], i);
            return -1;
        }
    }
    return 0;
}

void ef_admin_send_error(h2o_req_t *req, const char *id, int status, const char *reason, const char *error, const char *message)
{
    json_t *obj = json_pack("{s:s, s:s}", "error", error, "message", message);

    if (obj == NULL) {
        /* the message quotes bytes that are not UTF-8 (jansson's account of a bad body does): keep the ASCII */
        char *ascii = h2o_strdup(&req->pool, message, SIZE_MAX).base;
        for (char *p = ascii; *p != '\0'; ++p)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
        obj = json_pack("{s:s, s:s}", "error", error, "message", ascii);
    }
    char *json = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    h2o_iovec_t body = h2o_concat(&req->pool, h2o_iovec_init(json, strlen(json)), h2o_iovec_init(H2O_STRLIT("\n")));

    free(json);
    json_decref(obj);
    ef_admin_send_json(req, id, status, reason, body.base);
}

void ef_admin_send_method_not_allowed(h2o_req_t *req, const char *id, const char *allow)
{
    char message[256];

    snprintf(message, sizeof(message), "%.*s %.*s is not allowed; use %s", (int)(req->method.len < 32 ? req->method.len : 32),
             req->method.base, (int)req->path_normalized.len, req->path_normalized.base, allow);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, allow, strlen(allow));
    ef_admin_send_error(req, id, 405, "Method Not Allowed", "MethodNotAllowed", message);
}

/* The length of at most `max` bytes of `s`, cut at a UTF-8 character boundary (jansson takes only valid UTF-8). */
static int utf8_prefix(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return (int)len;
    while (max != 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        --max;
    return (int)max;
}

/* A path as it appears in a message: quoted, and cut when long, so that one bad path does not make a huge answer. */
static void quote_path(char *buf, size_t bufsize, const char *path, size_t len)
{
    snprintf(buf, bufsize, "\"%.*s%s\"", utf8_prefix(path, len, 200), path, len > 200 ? "..." : "");
}

/* Reads and checks the invalidation's paths into `paths` (borrowed from `root`); on a problem fills `message` and returns -1. */
static int read_invalidation(json_t *root, json_t **paths, char *message, size_t msglen)
{
    static const char *types[] = {"an object", "an array", "a string", "a number", "a number", "true", "false", "null"};
    char quoted[256], err[128];

    if (!json_is_object(root)) {
        snprintf(message, msglen, "the body is %s, not an object like {\"paths\": [\"/index.html\"]}", types[json_typeof(root)]);
        return -1;
    }
    if ((*paths = json_object_get(root, "paths")) == NULL) {
        snprintf(message, msglen, "the body has no \"paths\": expected {\"paths\": [\"/index.html\"]}");
        return -1;
    }
    if (!json_is_array(*paths)) {
        snprintf(message, msglen, "\"paths\" is %s, not an array of paths", types[json_typeof(*paths)]);
        return -1;
    }
    if (json_array_size(*paths) == 0) {
        snprintf(message, msglen, "\"paths\" is empty: name at least one path");
        return -1;
    }
    if (json_array_size(*paths) > EF_ADMIN_MAX_INVALIDATION_PATHS) {
        snprintf(message, msglen, "\"paths\" has %zu paths, more than %d", json_array_size(*paths),
                 EF_ADMIN_MAX_INVALIDATION_PATHS);
        return -1;
    }
    for (size_t i = 0; i != json_array_size(*paths); ++i) {
        json_t *path = json_array_get(*paths, i);
        if (!json_is_string(path)) {
            snprintf(message, msglen, "paths[%zu] is %s, not a string", i, types[json_typeof(path)]);
            return -1;
        }
        if (ef_admin_check_invalidation_path(json_string_value(path), json_string_length(path), err, sizeof(err)) != 0) {
            quote_path(quoted, sizeof(quoted), json_string_value(path), json_string_length(path));
            snprintf(message, msglen, "paths[%zu] %s %s", i, quoted, err);
            return -1;
        }
    }
    return 0;
}

/* POST /cache/invalidations */
static void on_invalidations(struct st_handler_t *self, h2o_req_t *req, const char *id)
{
    json_t *root = NULL, *paths, *results = json_array(), *out;
    json_error_t jerr;
    char message[512], listing[1024];
    size_t total = 0, listing_len = 0, num_listed = 0;

    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        ef_admin_send_method_not_allowed(req, id, "POST");
        goto Exit;
    }
    if (self->server->cache == NULL) {
        ef_admin_send_error(req, id, 404, "Not Found", "NoCache",
                            "no behavior has a cache: policy, so there is nothing to invalidate");
        goto Exit;
    }
    if (req->entity.len == 0) {
        ef_admin_send_error(req, id, 400, "Bad Request", "MissingBody",
                            "the request has no body: expected JSON like {\"paths\": [\"/index.html\"]}");
        goto Exit;
    }
    if ((root = json_loadb(req->entity.base, req->entity.len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
        snprintf(message, sizeof(message), "the body is not JSON: %s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
        ef_admin_send_error(req, id, 400, "Bad Request", "MalformedInput", message);
        goto Exit;
    }
    if (read_invalidation(root, &paths, message, sizeof(message)) != 0) {
        ef_admin_send_error(req, id, 400, "Bad Request", "InvalidArgument", message);
        goto Exit;
    }

    /* one pass over the cache for all the paths */
    size_t num_paths = json_array_size(paths);
    h2o_iovec_t *patterns = h2o_mem_alloc_pool(&req->pool, sizeof(patterns[0]) * num_paths);
    size_t *counts = h2o_mem_alloc_pool(&req->pool, sizeof(counts[0]) * num_paths);
    for (size_t i = 0; i != num_paths; ++i)
        patterns[i] = h2o_iovec_init(json_string_value(json_array_get(paths, i)), json_string_length(json_array_get(paths, i)));
    total = ef_cache_purge_paths(self->server->cache, patterns, num_paths, counts);
    for (size_t i = 0; i != num_paths; ++i) {
        json_t *path = json_array_get(paths, i);
        size_t n = counts[i];
        json_array_append_new(results, json_pack("{s:O, s:I}", "path", path, "purged", (json_int_t)n));
        /* the log line names the paths while they fit in one line; the rest are counted */
        if (listing_len < sizeof(listing) - 300) {
            int len = snprintf(listing + listing_len, sizeof(listing) - listing_len, "%s%.*s (%zu)", i == 0 ? "" : ", ",
                               utf8_prefix(json_string_value(path), json_string_length(path), 200), json_string_value(path), n);
            listing_len += (size_t)len;
            ++num_listed;
        }
    }
    if (num_listed != json_array_size(paths))
        snprintf(listing + listing_len, sizeof(listing) - listing_len, " and %zu more", json_array_size(paths) - num_listed);
    ef_log(EF_LOG_INFO, "cache: invalidation purged %zu object%s: %s", total, total == 1 ? "" : "s", listing);

    out = json_pack("{s:I, s:O}", "purged", (json_int_t)total, "paths", results);
    char *json = json_dumps(out, JSON_PRESERVE_ORDER);
    h2o_iovec_t body = h2o_concat(&req->pool, h2o_iovec_init(json, strlen(json)), h2o_iovec_init(H2O_STRLIT("\n")));
    free(json);
    json_decref(out);
    ef_admin_send_json(req, id, 200, "OK", body.base);

Exit:
    json_decref(results);
    json_decref(root);
}

/* GET /cache */
static void on_cache_stats(struct st_handler_t *self, h2o_req_t *req, const char *id)
{
    ef_cache_stats_t stats;
    char json[1024];

    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"))) {
        ef_admin_send_method_not_allowed(req, id, "GET");
        return;
    }
    if (self->server->cache == NULL) {
        ef_admin_send_error(req, id, 404, "Not Found", "NoCache", "no behavior has a cache: policy, so there is no cache");
        return;
    }
    ef_cache_get_stats(self->server->cache, &stats);
    snprintf(json, sizeof(json),
             "{\"memory\": %" PRIu64 ", \"max_object_size\": %" PRIu64 ", \"objects\": %zu, \"bytes\": %zu, \"hits\": %" PRIu64
             ", \"stale_hits\": %" PRIu64 ", \"misses\": %" PRIu64 ", \"inserts\": %" PRIu64 ", \"evictions\": %" PRIu64
             ", \"purged\": %" PRIu64 ", \"refused\": %" PRIu64 "}\n",
             self->server->conf->cache.memory, self->server->conf->cache.max_object_size, stats.objects, stats.bytes, stats.hits,
             stats.stale, stats.misses, stats.inserts, stats.evictions, stats.purged, stats.refused);
    ef_admin_send_json(req, id, 200, "OK", json);
}

/* GET /metrics: Prometheus' text format 0.0.4 */
static void on_metrics(struct st_handler_t *self, h2o_req_t *req, const char *id)
{
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"))) {
        ef_admin_send_method_not_allowed(req, id, "GET");
        return;
    }
    h2o_iovec_t body = ef_metrics_scrape(self->server, &req->pool);
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = body.len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/plain; version=0.0.4; charset=utf-8"));
    ef_add_request_id(req, h2o_strdup(&req->pool, id, SIZE_MAX).base);
    h2o_send_inline(req, body.base, body.len);
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
            ef_admin_send_json(req, id, 503, "Service Unavailable", "{\"status\":\"draining\"}\n");
        else
            ef_admin_send_json(req, id, 200, "OK", "{\"status\":\"ok\"}\n");
        return 0;
    }
    if (h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/metrics"))) {
        on_metrics(self, req, id);
        return 0;
    }
    if (h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/cache/invalidations"))) {
        on_invalidations(self, req, id);
        return 0;
    }
    if (h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/cache"))) {
        on_cache_stats(self, req, id);
        return 0;
    }
    if (ef_admin_functions(self->server, req, id))
        return 0;
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
