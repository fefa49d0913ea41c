/*
 * The server: worker threads, one h2o event loop each, the listeners they accept
 * on, and the orderly way they stop.
 */
#ifndef EF_SERVER_SERVER_H
#define EF_SERVER_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <h2o.h>
#include <openssl/ssl.h>
#include "conf/config.h"
#include "functions/registry.h"
#include "server/accesslog.h"
#include "server/async.h"
#include "server/cache.h"
#include "server/collapse.h"
#include "server/metrics.h"
#include "server/origin.h"

typedef struct st_ef_server_t ef_server_t;
typedef struct st_ef_routes_t ef_routes_t;

/* A fixed-duration timer list of one thread's loop (h2o_timeout_t), shared by all users of that duration. */
typedef struct st_ef_timeout_slot_t {
    uint64_t ms;
    h2o_timeout_t timeout;
} ef_timeout_slot_t;

struct st_ef_thread_t {
    h2o_context_t ctx;     /* h2o hands callbacks &ctx; ef_thread_from_ctx gets back here */
    h2o_context_t api_ctx; /* the Runtime API's, on the same loop */
    ef_server_t *server;
    size_t index;
    pthread_t tid;
    h2o_multithread_receiver_t shutdown_receiver;
    h2o_multithread_receiver_t cache_receiver;             /* requests whose wait for another's cache fetch is over */
    h2o_multithread_message_t drain_message, stop_message; /* each sent at most once */
    h2o_socket_t **listeners;                              /* one per ef_server_t.listeners entry; NULL once closed */
    size_t num_connections;                                /* client connections open on this thread */
    int draining;
    int drain_expired;
    int finished; /* under ef_server_t.lock: the thread takes no more messages */
    h2o_timeout_entry_t drain_timer;
    H2O_VECTOR(ef_timeout_slot_t *) timeouts;
    void **origin_state; /* per origin, owned by that origin's ops */
    ef_functions_thread_t functions;
    ef_accesslog_buffer_t accesslog;
    ef_metrics_thread_t metrics;
    ef_async_thread_t async; /* Event invocations accepted on this thread */
    struct {
        uint64_t prefix; /* random, per thread */
        uint64_t counter;
    } reqid;
};

typedef struct st_ef_listener_t {
    const ef_conf_listen_t *conf; /* NULL for the admin listener */
    int is_admin;
    SSL_CTX *ssl_ctx;
    int *fds;      /* one per thread (SO_REUSEPORT), -1 when not yet bound */
    char name[80]; /* "http://0.0.0.0:8080", for messages */
} ef_listener_t;

struct st_ef_server_t {
    ef_conf_t *conf;
    h2o_globalconf_t globalconf;
    h2o_hostconf_t *hosts[2];        /* the edge host, NULL-terminated */
    h2o_hostconf_t *admin_hosts[2];  /* the admin host, NULL-terminated */
    h2o_globalconf_t api_globalconf; /* the Runtime API's, apart from the viewers' */
    h2o_hostconf_t *api_hosts[2];    /* the Runtime API's host, NULL-terminated */
    ef_origin_t *origins;
    size_t num_origins;
    ef_functions_t functions;
    ef_routes_t *routes;
    ef_cache_t *cache;       /* NULL when no behavior has a cache policy */
    ef_collapse_t *collapse; /* the cache's fetches in flight; with `cache` */
    ef_listener_t *listeners;
    size_t num_listeners;
    ef_accesslog_t accesslog;
    h2o_iovec_t admin_token; /* empty when no token is required */
    size_t num_threads;
    ef_thread_t *threads;
    atomic_size_t async_queued; /* Event invocations in the queues of all threads */
    pthread_barrier_t ready;    /* threads and main meet here once every thread can take messages */
    pthread_mutex_t lock;       /* orders a thread's end against messages sent to it */
};

static inline ef_thread_t *ef_thread_from_ctx(h2o_context_t *ctx)
{
    return H2O_STRUCT_FROM_MEMBER(ef_thread_t, ctx, ctx);
}

/**
 * Builds everything a loaded config needs short of sockets and threads: the h2o
 * configuration, routes, runtime origins (resolving their addresses) and TLS
 * contexts (loading certificates and keys). Problems are appended to `errors` at
 * the position of the config item at fault. Returns 0 or -1; in both cases the
 * server must be released with ef_server_dispose. `edgefn check` stops here.
 */
int ef_server_prepare(ef_server_t *server, ef_conf_t *conf, ef_conf_errors_t *errors);

/**
 * Binds the listeners, opens the access log, starts the worker threads and serves
 * until SIGTERM or SIGINT, then drains (see DESIGN.md) and returns. Returns 0 after
 * an orderly stop, -1 if serving could not start (the reason is logged).
 */
int ef_server_run(ef_server_t *server);

void ef_server_dispose(ef_server_t *server);

/**
 * Returns the thread's timer list of `ms` milliseconds, creating it on first use;
 * link entries to it with h2o_timeout_link.
 */
h2o_timeout_t *ef_thread_timeout(ef_thread_t *thread, uint64_t ms);

/**
 * Writes the viewer's address ("192.0.2.7", "2001:db8::1") as a NUL-terminated
 * string into `buf` (at least NI_MAXHOST bytes) and returns its length, or 0 when the
 * connection has none. IPv4, the common case, is formatted without printf: this runs
 * for every proxied request.
 */
size_t ef_client_ip(h2o_req_t *req, char *buf);

/* Writes the thread's next request id, 20 lowercase hex digits and a NUL, into `buf`. */
void ef_thread_next_request_id(ef_thread_t *thread, char *buf);

#define EF_REQUEST_ID_LEN 20

#endif
