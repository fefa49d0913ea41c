/*
 * Byte ranges (RFC 9110 14): the one kind edgefn serves itself, from a directory origin's
 * files and from cached objects. A single range only; a request for several gets the
 * whole representation, as RFC 9110 allows.
 */
#ifndef EF_SERVER_RANGE_H
#define EF_SERVER_RANGE_H

#include <stdint.h>
#include <h2o.h>

/**
 * Parses a Range header value "bytes=first-last", "bytes=first-" or "bytes=-suffix"
 * against a representation of `size` bytes. Returns 1 with the inclusive [*first, *last]
 * when it names one satisfiable range, -1 when it is unsatisfiable (416), and 0 when
 * the header is to be ignored (another unit, several ranges, malformed).
 */
int ef_range_parse(h2o_iovec_t v, uint64_t size, uint64_t *first, uint64_t *last);

#endif
