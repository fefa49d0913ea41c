/*
 * The admin listener: a small HTTP API on loopback for operators and for edgefn's
 * own CLI. Every endpoint requires `Authorization: Bearer TOKEN` when admin.token-file
 * is set.
 *
 *   GET /health   200 {"status":"ok"} while serving, 503 {"status":"draining"} while stopping
 *   GET /cache    200 {"memory": 268435456, "max_object_size": 10485760, "objects": 12, "bytes": 40960,
 *                 "hits": 30, "stale_hits": 1, "misses": 12, "inserts": 12, "evictions": 0, "purged": 3,
 *                 "refused": 0}: the store's size and counters (ef_cache_get_stats)
 *   POST /cache/invalidations  {"paths": ["/static*", "/index.html"]} (CloudFront's shape) purges each path
 *                 (ef_cache_purge) and answers 200 {"purged": 3, "paths": [{"path": "/static*", "purged": 3},
 *                 {"path": "/index.html", "purged": 0}]}
 *
 * The cache endpoints answer errors as JSON {"error": "InvalidArgument", "message": "..."}: 400 for a
 * body that is not a valid invalidation (MissingBody, MalformedInput, InvalidArgument), 405 with Allow
 * for another method (MethodNotAllowed), 404 NoCache when no behavior has a cache: policy.
 */
#ifndef EF_SERVER_ADMIN_H
#define EF_SERVER_ADMIN_H

#include <h2o.h>
#include <jansson.h>
#include "server/server.h"

/* For the admin's endpoints: a JSON answer, and a JSON error {"error": ERROR, "message": MESSAGE}. */
void ef_admin_send_json(h2o_req_t *req, const char *id, int status, const char *reason, const char *json);
void ef_admin_send_error(h2o_req_t *req, const char *id, int status, const char *reason, const char *error, const char *message);
void ef_admin_send_method_not_allowed(h2o_req_t *req, const char *id, const char *allow);
/* A 200 with `value` as indented JSON (its keys in order; `flags`: more of jansson's, e.g. JSON_REAL_PRECISION); takes
 * the reference. */
void ef_admin_send_json_value(h2o_req_t *req, const char *id, json_t *value, size_t flags);

/**
 * GET /functions, /functions/NAME, /functions/NAME/logs and /cost (server/admin_functions.c), and the POST endpoints
 * below.
 * Returns 1 if the request's path is one of those (it is then answered), 0 otherwise.
 */
int ef_admin_functions(ef_server_t *server, h2o_req_t *req, const char *id);

/**
 * POST /functions/NAME/test (`is_test`) or POST /functions/NAME/invocations for the function at index `f` of
 * server->functions (server/admin_invoke.c); other methods get 405.
 */
void ef_admin_run_function(ef_server_t *server, h2o_req_t *req, const char *id, size_t f, int is_test);

/* Makes the admin API the handler of `pathconf`. */
void ef_admin_register(h2o_pathconf_t *pathconf, ef_server_t *server);

/**
 * Reads the token from `path`: the file's content without surrounding whitespace.
 * Returns 0, or -1 with a reason in `err` (`errlen` bytes) when the file cannot be
 * read or holds no token.
 */
int ef_admin_read_token(const char *path, h2o_iovec_t *token, char *err, size_t errlen);

#define EF_ADMIN_MAX_INVALIDATION_PATHS 3000    /* per request, as CloudFront */
#define EF_ADMIN_MAX_INVALIDATION_PATH_LEN 4096 /* bytes */

/**
 * Checks one invalidation path of `len` bytes: it starts with "/", is at most
 * EF_ADMIN_MAX_INVALIDATION_PATH_LEN bytes, has "*" only as its last character and no
 * control character. Returns 0, or -1 with what is wrong in `err` (`errlen` bytes), a
 * phrase to follow the path: "must start with \"/\"". The admin API and `edgefn purge`
 * both check with it.
 */
int ef_admin_check_invalidation_path(const char *path, size_t len, char *err, size_t errlen);

#endif
