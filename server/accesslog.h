/*
 * The access log: one JSON object per request and line, to a file or stderr.
 *
 * Each thread formats into its own buffer and writes it out with one write(2) when
 * it fills or 100 ms after its first line, so that logging costs no system call per
 * request and lines of different threads never interleave.
 */
#ifndef EF_SERVER_ACCESSLOG_H
#define EF_SERVER_ACCESSLOG_H

#include <h2o.h>
#include "conf/config.h"

typedef struct st_ef_accesslog_t {
    int fd; /* -1 when off */
} ef_accesslog_t;

typedef struct st_ef_accesslog_buffer_t {
    ef_accesslog_t *log;
    h2o_loop_t *loop;
    h2o_timeout_t *flush_timeout;
    h2o_timeout_entry_t flush_timer;
    char *bytes;
    size_t size;
} ef_accesslog_buffer_t;

/* A function that ran for the request: at which hook, how long, and how it ended ("ok", or an error's kind). */
typedef struct st_ef_access_function_t {
    const char *hook;
    const char *function;
    const char *outcome;
    uint64_t duration_us;
} ef_access_function_t;

/* What one line records, beyond what the request itself holds. */
typedef struct st_ef_access_entry_t {
    h2o_req_t *req;
    const char *request_id;
    const char *behavior;     /* pattern, or NULL when none matched */
    const char *origin;       /* name, or NULL */
    int status;               /* as sent; 499 when the client left before a response began */
    int upstream_status;      /* 0 when the origin was not asked */
    const char *cache;        /* what the cache did: x-cache's value */
    const char *cache_reason; /* why the response was not stored; NULL when it was, or when that was not the question */
    uint64_t duration_us;
    const ef_access_function_t *functions; /* in the order they ran */
    size_t num_functions;
} ef_access_entry_t;

/**
 * Opens the log `conf` names: stderr, nothing, or a file opened for appending (and
 * created 0644 if missing). Returns 0, or -1 with errno set.
 */
int ef_accesslog_open(ef_accesslog_t *log, const ef_conf_t *conf);
void ef_accesslog_close(ef_accesslog_t *log);

/* Sets up a thread's buffer; `flush_timeout` is a 100 ms timer list of that thread's `loop`. */
void ef_accesslog_buffer_init(ef_accesslog_buffer_t *buf, ef_accesslog_t *log, h2o_loop_t *loop, h2o_timeout_t *flush_timeout);

/* Writes out what is buffered and releases the buffer. */
void ef_accesslog_buffer_dispose(ef_accesslog_buffer_t *buf);

/* Appends the line for `entry`. */
void ef_accesslog_write(ef_accesslog_buffer_t *buf, const ef_access_entry_t *entry);

#endif
