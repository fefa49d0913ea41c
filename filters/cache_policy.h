/*
 * The edge cache's rules, apart from its store (server/cache.c) and from the stages
 * that use them: what a response may be cached for, what a request's cache key is,
 * and when a cached response answers a conditional request with 304.
 *
 * Freshness follows CloudFront within RFC 9111: the origin's s-maxage, else max-age,
 * else Expires, else the behavior's default-ttl, always clamped to [min-ttl, max-ttl].
 */
#ifndef EF_FILTERS_CACHE_POLICY_H
#define EF_FILTERS_CACHE_POLICY_H

#include <time.h>
#include <h2o.h>
#include "conf/config.h"

/* The directives of Cache-Control that a shared cache acts on. */
typedef struct st_ef_cache_control_t {
    unsigned no_store : 1;
    unsigned no_cache : 1;
    unsigned private_ : 1;
    unsigned public_ : 1;
    unsigned must_revalidate : 1;
    int64_t max_age;  /* seconds; -1 when absent or malformed */
    int64_t s_maxage; /* seconds; -1 when absent or malformed */
} ef_cache_control_t;

/* Reads every Cache-Control header of `headers` (directives are case-insensitive; unknown ones are ignored). */
void ef_cache_control_parse(const h2o_headers_t *headers, ef_cache_control_t *cc);

/* What may be done with a response. */
typedef struct st_ef_cache_decision_t {
    int store;           /* it may be cached */
    uint64_t ttl;        /* ms it is fresh for, once clamped */
    int revalidate;      /* stored, but asked about again (with its validators) before every use: no-cache */
    int must_revalidate; /* once stale, never served without the origin's word, even when it fails (RFC 9111 5.2.2: no-cache,
                          * must-revalidate, proxy-revalidate, s-maxage) */
    const char *reason;  /* when !store: why, for logs ("no-store", "status 500", ...) */
} ef_cache_decision_t;

/**
 * Decides whether the response to a `method` request with `status` and `headers` may
 * be cached under `policy`, and for how long, at `now` (seconds since the epoch).
 * `authorized`: the request carried Authorization, whose responses a shared cache
 * keeps only when the origin says so (public, s-maxage, must-revalidate).
 */
void ef_cache_decide(const ef_conf_cache_policy_t *policy, h2o_iovec_t method, int status, const h2o_headers_t *headers,
                     int authorized, time_t now, ef_cache_decision_t *out);

/**
 * The cache key of a request, allocated in `pool`:
 *
 *   host "\n" path ["?" query] "\n" ["h:" name "=" value "\n"]... ["c:" name "=" value "\n"]...
 *
 * The host is lower-cased; the query holds the parameters `policy` names (all of
 * them, or a list), sorted by name then value, so that ?b=2&a=1 and ?a=1&b=2 share
 * an object; the headers and cookies `policy` names follow, sorted by name, a header's
 * values joined with ",". The path is what lies between the first "\n" and the next
 * "?" or "\n": what an invalidation path matches against.
 */
h2o_iovec_t ef_cache_key(h2o_mem_pool_t *pool, const ef_conf_cache_policy_t *policy, h2o_iovec_t host, h2o_iovec_t path,
                         h2o_iovec_t query, const h2o_headers_t *headers);

/**
 * The secondary key a response's Vary asks for: "v:" name "=" value "\n" for each
 * header it names (lower-cased, sorted), from the request's `headers`. Empty when it
 * has no Vary. Returns -1 for "Vary: *" (nothing can be served from the cache).
 */
int ef_cache_vary_key(h2o_mem_pool_t *pool, const h2o_headers_t *response_headers, const h2o_headers_t *request_headers,
                      h2o_iovec_t *key);

/**
 * Whether a cached response with validators `etag` and `last_modified` (either may be
 * empty) answers a request's If-None-Match or If-Modified-Since with 304 (RFC 9110
 * 13.1: If-None-Match wins; its comparison is weak).
 */
int ef_cache_not_modified(const h2o_headers_t *request_headers, h2o_iovec_t etag, h2o_iovec_t last_modified);

#endif
