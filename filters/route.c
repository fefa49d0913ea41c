#include <stdlib.h>
#include <string.h>
#include <h2o.h>
#include "filters/route.h"

int ef_path_match(const char *pattern, size_t pattern_len, const char *path, size_t path_len)
{
    /* Greedy glob matching that backtracks only to the last '*': linear for the
     * patterns people write, O(pattern x path) at worst, and no recursion. */
    size_t p = 0, s = 0, star = SIZE_MAX, star_s = 0;

    while (s < path_len) {
        if (p < pattern_len && pattern[p] == '*') {
            star = p++;
            star_s = s;
        } else if (p < pattern_len && (pattern[p] == '?' || pattern[p] == path[s])) {
            ++p;
            ++s;
        } else if (star != SIZE_MAX) {
            p = star + 1;
            s = ++star_s;
        } else {
            return 0;
        }
    }
    while (p < pattern_len && pattern[p] == '*')
        ++p;
    return p == pattern_len;
}

struct st_ef_routes_t *ef_routes_create(const ef_conf_t *conf, ef_origin_t *origins)
{
    struct st_ef_routes_t *routes = h2o_mem_alloc(sizeof(*routes));
    routes->size = conf->num_behaviors;
    routes->behaviors = calloc(routes->size != 0 ? routes->size : 1, sizeof(routes->behaviors[0]));
    if (routes->behaviors == NULL)
        h2o_fatal("no memory");

    for (size_t i = 0; i != routes->size; ++i) {
        ef_behavior_t *b = routes->behaviors + i;
        b->conf = conf->behaviors + i;
        b->origin = origins + (b->conf->origin - conf->origins);
        b->pattern = b->conf->path;
        b->pattern_len = strlen(b->pattern);
        b->literal_len = strcspn(b->pattern, "*?");
        b->is_prefix_match = b->literal_len + 1 == b->pattern_len && b->pattern[b->literal_len] == '*';
    }
    return routes;
}

void ef_routes_destroy(struct st_ef_routes_t *routes)
{
    if (routes == NULL)
        return;
    free(routes->behaviors);
    free(routes);
}

const ef_behavior_t *ef_routes_find(const struct st_ef_routes_t *routes, const char *path, size_t path_len)
{
    for (size_t i = 0; i != routes->size; ++i) {
        const ef_behavior_t *b = routes->behaviors + i;
        if (path_len < b->literal_len || memcmp(path, b->pattern, b->literal_len) != 0)
            continue;
        if (b->is_prefix_match || ef_path_match(b->pattern + b->literal_len, b->pattern_len - b->literal_len, path + b->literal_len,
                                                path_len - b->literal_len))
            return b;
    }
    return NULL;
}
