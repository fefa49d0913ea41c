/*
 * Strict parsers for the durations and sizes written in edgefn configs.
 */
#ifndef EF_CONF_UNITS_H
#define EF_CONF_UNITS_H

#include <stddef.h>
#include <stdint.h>

/**
 * Parses a duration: a non-negative integer followed by one unit, "ms", "s", "m",
 * "h" or "d" ("250ms", "5s", "1d"); a bare "0" is also accepted. Nothing else is:
 * no spaces, signs, fractions or missing units. Stores milliseconds in `*ms` and
 * returns 0, or returns -1 and points `*why` at a static sentence that says what was
 * expected (e.g. `missing unit`), for use in an error message.
 */
int ef_parse_duration(const char *s, uint64_t *ms, const char **why);

/**
 * Parses a size: a non-negative integer followed by one unit, "B", "KB", "MB" or
 * "GB" (binary multiples: 1KB = 1024B; "KiB", "MiB" and "GiB" are accepted as
 * synonyms); a bare "0" is also accepted. Stores bytes in `*bytes` and returns 0, or
 * returns -1 with `*why` as for ef_parse_duration.
 */
int ef_parse_size(const char *s, uint64_t *bytes, const char **why);

/**
 * Formats `ms` the shortest exact way it parses back ("250ms", "5s", "2m", "1d")
 * into `buf` of `len` bytes, and returns `buf`. For messages.
 */
const char *ef_format_duration(uint64_t ms, char *buf, size_t len);

#endif
