/*
 * The error log: timestamped lines on stderr for operators. Access logs are
 * elsewhere (accesslog.h); this is for what went wrong and for lifecycle events.
 */
#ifndef EF_SERVER_LOG_H
#define EF_SERVER_LOG_H

#include <stddef.h>
#include <stdint.h>

typedef enum en_ef_log_level_t {
    EF_LOG_ERROR,
    EF_LOG_WARN,
    EF_LOG_INFO,
} ef_log_level_t;

/**
 * Writes one line "2026-11-26T20:45:00.123Z [error] message" to stderr with a single
 * write(2), so that lines from different threads never interleave. A trailing
 * newline in `fmt` is not needed.
 */
void ef_log(ef_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * Formats the current UTC time as "2026-11-26T20:45:00.123Z" into `buf` (at least
 * 25 bytes) and returns the length written.
 */
size_t ef_log_timestamp(char *buf);

/* Writes `v` in decimal into `buf` (at least 20 bytes; no NUL) without printf, and returns the length written. */
size_t ef_format_uint(char *buf, uint64_t v);

#endif
