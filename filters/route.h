/*
 * Behaviors: which origin (and, later, which functions and cache policy) a request
 * gets, chosen by the first CloudFront path pattern that matches its path.
 */
#ifndef EF_FILTERS_ROUTE_H
#define EF_FILTERS_ROUTE_H

#include <stddef.h>
#include "conf/config.h"
#include "server/origin.h"

typedef struct st_ef_behavior_t {
    const ef_conf_behavior_t *conf;
    ef_origin_t *origin;
    struct st_ef_function_t *functions[EF_NUM_HOOKS]; /* NULL where no function is bound */
    const char *pattern;
    size_t pattern_len;
    size_t literal_len;  /* bytes before the first wildcard */
    int is_prefix_match; /* the pattern is a literal and one trailing '*', as most are */
} ef_behavior_t;

struct st_ef_routes_t {
    ef_behavior_t *behaviors;
    size_t size;
};

/**
 * Matches `path` against a CloudFront path pattern: case-sensitive, '*' matches any
 * run of characters ('/' included), '?' exactly one, everything else itself.
 * Returns 1 on a match, 0 otherwise.
 */
int ef_path_match(const char *pattern, size_t pattern_len, const char *path, size_t path_len);

/**
 * Builds the behaviors of `conf` in order, each bound to its runtime origin in
 * `origins` (indexed like conf->origins). Free with ef_routes_destroy.
 */
struct st_ef_routes_t *ef_routes_create(const ef_conf_t *conf, ef_origin_t *origins);
void ef_routes_destroy(struct st_ef_routes_t *routes);

/* Returns the first behavior whose pattern matches `path` (no query string), or NULL. */
const ef_behavior_t *ef_routes_find(const struct st_ef_routes_t *routes, const char *path, size_t path_len);

#endif
