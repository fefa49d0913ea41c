#include <string.h>
#include "server/range.h"

/* Reads decimal digits at *p; returns 0, or -1 when there are none or the number is absurdly large. */
static int read_position(const char **p, const char *end, uint64_t *n)
{
    const char *start = *p;
    for (*n = 0; *p < end && **p >= '0' && **p <= '9'; ++*p)
        if ((*n = *n * 10 + (**p - '0')) > ((uint64_t)1 << 60))
            return -1;
    return *p != start ? 0 : -1;
}

int ef_range_parse(h2o_iovec_t v, uint64_t size, uint64_t *first, uint64_t *last)
{
    const char *p = v.base, *end = v.base + v.len;
    uint64_t a = 0, b = 0;
    int has_a, has_b;

    if (v.len < 6 || memcmp(p, "bytes=", 6) != 0 || memchr(p, ',', v.len) != NULL)
        return 0;
    p += 6;
    if ((has_a = p < end && *p != '-') && read_position(&p, end, &a) != 0)
        return 0;
    if (p == end || *p++ != '-')
        return 0;
    if ((has_b = p < end) && read_position(&p, end, &b) != 0)
        return 0;
    if (p != end || (!has_a && !has_b))
        return 0;
    if (!has_a) { /* the last b bytes */
        if (b == 0 || size == 0)
            return -1;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
    } else {
        if (a >= size || (has_b && b < a))
            return -1;
        *first = a;
        *last = !has_b || b >= size ? size - 1 : b;
    }
    return 1;
}
