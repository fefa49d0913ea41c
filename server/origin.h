/*
 * Origins: where a request goes when edgefn does not answer it itself.
 *
 * Every kind of origin (an HTTP server, a local directory) sits behind this one
 * interface, so that the pipeline, and later the hooks and the cache, treat them
 * alike: a fetch produces a status and headers, then a body stream with
 * back-pressure, in the manner of an h2o generator.
 */
#ifndef EF_SERVER_ORIGIN_H
#define EF_SERVER_ORIGIN_H

#include <h2o.h>
#include <sys/socket.h>
#include "conf/config.h"

/* the viewer's scheme, as functions see it (CloudFront's name); edgefn's own, never sent to an origin */
#define EF_HEADER_FORWARDED_PROTO "cloudfront-forwarded-proto"

typedef struct st_ef_thread_t ef_thread_t;
typedef struct st_ef_origin_t ef_origin_t;
typedef struct st_ef_fetch_t ef_fetch_t;
typedef struct st_ef_fetch_callbacks_t ef_fetch_callbacks_t;

typedef struct st_ef_origin_ops_t {
    /* per-thread state (connection pools, timers); may be NULL */
    void (*on_thread_init)(ef_origin_t *origin, ef_thread_t *thread);
    void (*on_thread_dispose)(ef_origin_t *origin, ef_thread_t *thread);
    /* starts a fetch; see ef_origin_fetch */
    ef_fetch_t *(*fetch)(ef_origin_t *origin, h2o_req_t *req, const char *request_id, const ef_fetch_callbacks_t *cb, void *data);
} ef_origin_ops_t;

struct st_ef_origin_t {
    const ef_conf_origin_t *conf;
    size_t index; /* in ef_server_t.origins, and of its per-thread state */
    const ef_origin_ops_t *ops;
    union {
        struct {
            struct sockaddr_storage addr;
            socklen_t addrlen;
            char addrstr[64]; /* "127.0.0.1:9000", for messages */
        } http;
        struct {
            h2o_mimemap_t *mimemap;
        } dir;
    };
};

/* Why a fetch failed before a response head (for metrics; the cause in words goes to on_head). */
typedef enum en_ef_origin_error_t {
    EF_ORIGIN_ERROR_REFUSED, /* the connection was refused, or could not be made */
    EF_ORIGIN_ERROR_TIMEOUT, /* connecting, or waiting for the response, took too long */
    EF_ORIGIN_ERROR_RESET,   /* the origin closed or reset the connection without answering */
    EF_ORIGIN_ERROR_INVALID, /* what it sent was not an HTTP response edgefn can relay */
    EF_ORIGIN_NUM_ERRORS
} ef_origin_error_t;

extern const char *const ef_origin_error_names[EF_ORIGIN_NUM_ERRORS];

struct st_ef_fetch_callbacks_t {
    /**
     * The response head is known: req->res.status, .reason, .headers and
     * .content_length are set; or the fetch failed before that, in which case
     * `errstatus` is 502 or 504 and `cause` says why in words a user can act on
     * ("origin \"app\" refused the connection (127.0.0.1:9000)"). After an error no
     * callback follows.
     */
    void (*on_head)(ef_fetch_t *fetch, int errstatus, const char *cause);
    /**
     * Body bytes, only after the consumer asked with ef_fetch_proceed; `bufs` stay
     * valid until the next ef_fetch_proceed, or until the request ends if `state` is
     * final. H2O_SEND_STATE_ERROR means the origin failed mid-body.
     */
    void (*on_body)(ef_fetch_t *fetch, h2o_iovec_t *bufs, size_t bufcnt, h2o_send_state_t state);
};

typedef struct st_ef_fetch_ops_t {
    void (*proceed)(ef_fetch_t *fetch);
    void (*cancel)(ef_fetch_t *fetch);
} ef_fetch_ops_t;

struct st_ef_fetch_t {
    const ef_fetch_ops_t *ops;
    const ef_fetch_callbacks_t *cb;
    void *data; /* the consumer's */
    h2o_req_t *req;
    const char *request_id;  /* for messages: in generated bodies and in the error log */
    int upstream_status;     /* status the origin answered with; 0 until known */
    ef_origin_error_t error; /* when on_head reported an error: which kind */
};

/**
 * Fetches `req` (its method, path, headers and entity, as possibly rewritten by the
 * pipeline) from `origin`, filling `req->res`, and reports through `cb` with `data`
 * in the returned fetch. `request_id` must live as long as the request. on_head may be called before this returns. The fetch lives
 * in req->pool and is released with the request; ef_fetch_cancel stops it early.
 */
static inline ef_fetch_t *ef_origin_fetch(ef_origin_t *origin, h2o_req_t *req, const char *request_id,
                                          const ef_fetch_callbacks_t *cb, void *data)
{
    return origin->ops->fetch(origin, req, request_id, cb, data);
}

/* Asks for (more) body: the consumer is done with the bufs of the last on_body. */
static inline void ef_fetch_proceed(ef_fetch_t *fetch)
{
    fetch->ops->proceed(fetch);
}

/* Stops the fetch and releases its connection; no callback follows. */
static inline void ef_fetch_cancel(ef_fetch_t *fetch)
{
    fetch->ops->cancel(fetch);
}

/**
 * Sets up the runtime origin for `conf`: resolves an HTTP origin's address, or
 * prepares a directory's mime map. Returns 0, or -1 with a message in `err` (of
 * `errlen` bytes) naming what failed.
 */
int ef_origin_init(ef_origin_t *origin, const ef_conf_origin_t *conf, size_t index, char *err, size_t errlen);
void ef_origin_dispose(ef_origin_t *origin);

extern const ef_origin_ops_t ef_origin_http_ops;
extern const ef_origin_ops_t ef_origin_dir_ops;

/**
 * For origin implementations: allocates a fetch object of `size` bytes (a struct
 * that begins with ef_fetch_t) in req->pool, zeroed and bound to the request, `ops`,
 * `cb` and `data`. `dispose` runs when the request's pool is released.
 */
void *ef_fetch_alloc(h2o_req_t *req, const char *request_id, size_t size, const ef_fetch_ops_t *ops, void (*dispose)(void *),
                     const ef_fetch_callbacks_t *cb, void *data);

#endif
