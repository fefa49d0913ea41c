/*
 * The event: what a function sees of a request, and at the response hooks of its
 * response, and what it hands back.
 *
 * An event points at the request's own data (its headers vector, its path) instead
 * of copying it: a runtime reads only what a function touches, and writes back only
 * what the function changed, allocating in `pool`. The pipeline in filters/ builds
 * an event from an h2o request and applies the outcome; functions/ never sees the
 * h2o request itself. Both runtimes (Lua tables in the CloudFront Functions shape,
 * JSON in the Lambda@Edge shape) translate to and from this one struct, and both
 * use the checks below, so that the rules are written once.
 */
#ifndef EF_FUNCTIONS_EVENT_H
#define EF_FUNCTIONS_EVENT_H

#include <h2o.h>
#include "conf/config.h"

typedef enum en_ef_event_outcome_t {
    EF_EVENT_CONTINUE, /* go on with the (possibly changed) request, or send the (possibly changed) response */
    EF_EVENT_RESPOND,  /* at a request hook: answer with event->response instead of going on */
} ef_event_outcome_t;

typedef struct st_ef_event_request_t {
    h2o_iovec_t method;     /* read-only */
    h2o_iovec_t path;       /* CloudFront's `uri`: the path as the viewer sent it, without the query */
    h2o_iovec_t query;      /* the query string without '?'; base == NULL when there is none */
    h2o_headers_t *headers; /* the request's headers, cookie included; changed in place */
    h2o_iovec_t body;       /* the request body; base == NULL when there is none */
} ef_event_request_t;

typedef struct st_ef_event_response_t {
    int status;
    h2o_iovec_t reason;     /* CloudFront's `statusDescription`; may be empty */
    h2o_headers_t *headers; /* set-cookie included; changed in place */
    h2o_iovec_t body;       /* when has_body: the body a function gave, replacing any other */
    unsigned has_body : 1;
} ef_event_response_t;

/* One value of a query parameter or cookie; a set-cookie's has the attributes that follow "name=value; ". */
typedef struct st_ef_event_item_t {
    h2o_iovec_t value;
    h2o_iovec_t attributes; /* "Path=/; Secure"; empty but for set-cookie */
} ef_event_item_t;

/* A query parameter or cookie: one name=value, in the order met. */
typedef struct st_ef_event_param_t {
    h2o_iovec_t name;
    ef_event_item_t item;
} ef_event_param_t;

typedef H2O_VECTOR(ef_event_param_t) ef_event_params_t;

typedef struct st_ef_event_t {
    ef_hook_t hook;
    const char *request_id;
    h2o_iovec_t client_ip;
    h2o_mem_pool_t *pool; /* what a function changes is allocated here; it outlives the invocation */
    ef_event_request_t request;
    ef_event_response_t response; /* at the response hooks, and for a response a function generates */
    ef_event_outcome_t outcome;
    unsigned request_path_changed : 1; /* path or query was set: the pipeline rebuilds the request's path */
    unsigned request_body_changed : 1; /* request.body was replaced: the origin is sent the new one */
} ef_event_t;

static inline int ef_hook_is_response(ef_hook_t hook)
{
    return hook >= EF_HOOK_ORIGIN_RESPONSE;
}

/**
 * Whether a function may set or remove the header `name` (lowercase) at `hook`.
 * Hop-by-hop headers (Connection, Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding,
 * Upgrade), framing that edgefn computes (Content-Length) and edgefn's own
 * (x-edgefn-*) are not a function's to touch. Returns 1 when allowed; otherwise 0,
 * with a reason in `why` (`whylen` bytes) for the 502 and the function's log.
 */
int ef_event_header_allowed(ef_hook_t hook, h2o_iovec_t name, char *why, size_t whylen);

/**
 * Checks a response as a function returned it: a status in 200-599, no body with a
 * status that cannot have one (204, 304), a reason without CR or LF. Returns 0, or
 * -1 with a reason in `why`.
 */
int ef_event_check_response(const ef_event_response_t *response, char *why, size_t whylen);

/**
 * Checks a path as a function set it: non-empty, starting with '/', without
 * whitespace, control characters, '?' or '#'. Returns 0, or -1 with a reason in `why`.
 */
int ef_event_check_path(h2o_iovec_t path, char *why, size_t whylen);

/* Checks a header value: no CR, LF or NUL. Returns 0, or -1 with a reason in `why`. */
int ef_event_check_header_value(h2o_iovec_t name, h2o_iovec_t value, char *why, size_t whylen);

/* The standard reason phrase of `status` ("Not Found"), or "" for a status without a common one. */
const char *ef_event_status_reason(int status);

/**
 * Adds the header `name` (lower-case) with `value` to `headers`, as h2o's parsers
 * store headers: by token when the name is one (so that h2o and edgefn recognise it),
 * else by string. Nothing is copied: both must live as long as `pool`.
 */
void ef_event_add_header(h2o_mem_pool_t *pool, h2o_headers_t *headers, h2o_iovec_t name, h2o_iovec_t value);

/* Removes every header `name` (lower-case) from `headers`. */
void ef_event_delete_headers(h2o_headers_t *headers, h2o_iovec_t name);

/* Appends name=value (with `attributes` for a set-cookie) to `params`, allocating in `pool`. Nothing is copied. */
void ef_event_add_param(h2o_mem_pool_t *pool, ef_event_params_t *params, h2o_iovec_t name, h2o_iovec_t value,
                        h2o_iovec_t attributes);

/**
 * Splitting a query string ("a=1&b=&c", without '?') at '&' and '=', the cookies of
 * every cookie header ("a=1; b=2"), or each set-cookie header ("a=1; Path=/") into
 * `params`. Names and values point into their sources, as written: nothing is
 * decoded. Empty pieces are skipped; a piece without '=' has the value "".
 */
void ef_event_parse_query(h2o_mem_pool_t *pool, h2o_iovec_t query, ef_event_params_t *params);
void ef_event_parse_cookies(h2o_mem_pool_t *pool, const h2o_headers_t *headers, ef_event_params_t *params);
void ef_event_parse_set_cookies(h2o_mem_pool_t *pool, const h2o_headers_t *headers, ef_event_params_t *params);

/* The inverse of the first two: "a=1&b=2" with `sep` "&", "a=1; b=2" with "; ". Allocated in `pool`. */
h2o_iovec_t ef_event_join_params(h2o_mem_pool_t *pool, const ef_event_params_t *params, const char *sep);

/* Decodes base64 (standard or URL alphabet, padded or not, line breaks ignored) into `pool`; 0, or -1 when invalid. */
int ef_event_decode_base64(h2o_mem_pool_t *pool, h2o_iovec_t src, h2o_iovec_t *out);

#endif
