#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include "conf/units.h"
#include "filters/pipeline.h"
#include "filters/route.h"
#include "server/admin.h"
#include "server/lazyread.h"
#include "server/log.h"
#include "server/server.h"

#define MAX_ACCEPTS_PER_WAKEUP 16

/* set by the main thread when a second signal asks to stop without waiting */
static atomic_int stop_now;
static atomic_size_t running_threads;
static atomic_int threads_serving; /* worker threads that may still take requests */
/* set by a thread that stopped with connections still open, whose h2o state cannot be torn down */
static atomic_int abandoned;

/* preparing */

static size_t count_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return (size_t)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

static const char *openssl_error(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return why != NULL ? why : "unknown error";
}

static SSL_CTX *load_tls(const ef_conf_t *conf, const ef_conf_listen_t *l, ef_conf_errors_t *errors)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, l->tls.certificate) != 1) {
        ef_conf_error(errors, conf, l->tls.pos, "tls.certificate: cannot load \"%s\": %s", l->tls.certificate, openssl_error());
    } else if (SSL_CTX_use_PrivateKey_file(ctx, l->tls.key, SSL_FILETYPE_PEM) != 1) {
        ef_conf_error(errors, conf, l->tls.pos, "tls.key: cannot load \"%s\": %s", l->tls.key, openssl_error());
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        ef_conf_error(errors, conf, l->tls.pos, "tls: the key \"%s\" does not belong to the certificate \"%s\"", l->tls.key,
                      l->tls.certificate);
    } else {
        /* h2o_alpn_protocols offers h2 and http/1.1 (h2o_http2_alpn_protocols would leave HTTP/1 clients out) */
        h2o_ssl_register_alpn_protocols(ctx, h2o_alpn_protocols);
        return ctx;
    }
    SSL_CTX_free(ctx);
    return NULL;
}

static void name_listener(ef_listener_t *l, const char *address, uint16_t port)
{
    int v6 = strchr(address, ':') != NULL;
    snprintf(l->name, sizeof(l->name), "%s://%s%s%s:%u", l->ssl_ctx != NULL ? "https" : "http", v6 ? "[" : "", address,
             v6 ? "]" : "", port);
}

int ef_server_prepare(ef_server_t *server, ef_conf_t *conf, ef_conf_errors_t *errors)
{
    size_t num_errors = errors->size, i;
    char err[512];

    *server = (ef_server_t){.conf = conf};
    h2o_config_init(&server->globalconf);
    /* no Server header of our own; an origin's passes through, as on CloudFront */
    server->globalconf.server_name = h2o_iovec_init(H2O_STRLIT(""));
    server->globalconf.max_request_entity_size = conf->max_request_body;
    server->globalconf.http2.graceful_shutdown_timeout = conf->drain_timeout;
    server->num_threads = conf->threads != 0 ? conf->threads : count_cpus();

    server->num_origins = conf->num_origins;
    server->origins = h2o_mem_alloc(sizeof(server->origins[0]) * (conf->num_origins + 1));
    memset(server->origins, 0, sizeof(server->origins[0]) * (conf->num_origins + 1));
    for (i = 0; i != conf->num_origins; ++i)
        if (ef_origin_init(server->origins + i, conf->origins + i, i, err, sizeof(err)) != 0)
            ef_conf_error(errors, conf, conf->origins[i].pos, "origin \"%s\": %s", conf->origins[i].name, err);
    ef_functions_prepare(&server->functions, conf, errors);
    server->routes = ef_routes_create(conf, server->origins);
    for (i = 0; i != conf->num_behaviors; ++i)
        if (conf->behaviors[i].cache.enabled && server->cache == NULL) {
            server->cache = ef_cache_create(conf->cache.memory, conf->cache.max_object_size);
            server->collapse = ef_collapse_create();
        }
    for (i = 0; i != conf->num_behaviors; ++i)
        for (int hook = 0; hook != EF_NUM_HOOKS; ++hook)
            if (conf->behaviors[i].functions[hook] != NULL)
                server->routes->behaviors[i].functions[hook] =
                    ef_functions_get(&server->functions, conf, conf->behaviors[i].functions[hook]);

    h2o_hostconf_t *host = h2o_config_register_host(&server->globalconf, h2o_iovec_init(H2O_STRLIT("edge")), 65535);
    ef_pipeline_register(h2o_config_register_path(host, "/", 0), server);
    ef_pipeline_register_fallback(&host->fallback_path, server);
    server->hosts[0] = host;

    /* The Runtime API that execution environments ask for their events, on listeners of their own (functions/process/).
     * Its configuration and contexts are its own, so that a drain, which ends the viewers' keep-alive connections, leaves
     * the environments' alone: they still answer the requests being drained. */
    h2o_config_init(&server->api_globalconf);
    server->api_globalconf.server_name = h2o_iovec_init(H2O_STRLIT(""));
    h2o_hostconf_t *api = h2o_config_register_host(&server->api_globalconf, h2o_iovec_init(H2O_STRLIT("runtime-api")), 65535);
    ef_functions_register_runtime_api(h2o_config_register_path(api, "/", 0));
    server->api_hosts[0] = api;

    server->listeners = h2o_mem_alloc(sizeof(server->listeners[0]) * (conf->num_listen + 1));
    for (i = 0; i != conf->num_listen; ++i) {
        ef_listener_t *l = server->listeners + server->num_listeners++;
        *l = (ef_listener_t){.conf = conf->listen + i};
        if (l->conf->tls.certificate != NULL)
            l->ssl_ctx = load_tls(conf, l->conf, errors);
        name_listener(l, l->conf->address, l->conf->port);
    }

    if (conf->admin.enabled) {
        h2o_hostconf_t *admin = h2o_config_register_host(&server->globalconf, h2o_iovec_init(H2O_STRLIT("admin")), 65535);
        ef_admin_register(h2o_config_register_path(admin, "/", 0), server);
        server->admin_hosts[0] = admin;
        if (conf->admin.token_file != NULL &&
            ef_admin_read_token(conf->admin.token_file, &server->admin_token, err, sizeof(err)) != 0)
            ef_conf_error(errors, conf, conf->admin.pos, "admin.token-file: %s", err);
        ef_listener_t *l = server->listeners + server->num_listeners++;
        *l = (ef_listener_t){.is_admin = 1};
        name_listener(l, conf->admin.address, conf->admin.port);
    }
    server->accesslog.fd = -1;

    return errors->size == num_errors ? 0 : -1;
}

void ef_server_dispose(ef_server_t *server)
{
    size_t i;

    if (server->conf == NULL)
        return; /* never prepared */

    for (i = 0; i != server->num_listeners; ++i) {
        ef_listener_t *l = server->listeners + i;
        if (l->fds != NULL) {
            for (size_t t = 0; t != server->num_threads; ++t)
                if (l->fds[t] != -1)
                    close(l->fds[t]);
            free(l->fds);
        }
        if (l->ssl_ctx != NULL)
            SSL_CTX_free(l->ssl_ctx);
    }
    free(server->listeners);
    ef_routes_destroy(server->routes);
    if (server->cache != NULL) {
        ef_cache_destroy(server->cache);
        ef_collapse_destroy(server->collapse);
    }
    ef_functions_dispose(&server->functions);
    if (server->origins != NULL) {
        for (i = 0; i != server->num_origins; ++i)
            ef_origin_dispose(server->origins + i);
        free(server->origins);
    }
    free(server->admin_token.base);
    for (i = 0; server->threads != NULL && i != server->num_threads; ++i)
        ef_metrics_thread_dispose(&server->threads[i].metrics);
    free(server->threads);
    ef_accesslog_close(&server->accesslog);
    h2o_config_dispose(&server->globalconf);
    if (server->api_hosts[0] != NULL)
        h2o_config_dispose(&server->api_globalconf);
    *server = (ef_server_t){NULL};
}

/* binding */

static int parse_address(const char *address, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *sin = (void *)ss;
    struct sockaddr_in6 *sin6 = (void *)ss;
    if (inet_pton(AF_INET, address, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        *len = sizeof(*sin);
        return 0;
    }
    if (inet_pton(AF_INET6, address, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        *len = sizeof(*sin6);
        return 0;
    }
    return -1;
}

static int open_listen_socket(struct sockaddr_storage *ss, socklen_t len, int reuseport)
{
    int fd, on = 1;

    if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (ss->ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    if ((reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0) || bind(fd, (void *)ss, len) != 0 ||
        (reuseport && listen(fd, SOMAXCONN) != 0)) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

static int bind_listener(ef_server_t *server, ef_listener_t *l)
{
    const char *address = l->is_admin ? server->conf->admin.address : l->conf->address;
    uint16_t port = l->is_admin ? server->conf->admin.port : l->conf->port;
    struct sockaddr_storage ss;
    socklen_t len;
    int probe;

    if (parse_address(address, port, &ss, &len) != 0) {
        ef_log(EF_LOG_ERROR, "cannot listen on %s: not a numeric address", l->name);
        return -1;
    }
    /* SO_REUSEPORT would let us share a port with another edgefn unawares; a plain bind first finds out */
    if ((probe = open_listen_socket(&ss, len, 0)) == -1) {
        ef_log(EF_LOG_ERROR, "cannot listen on %s: %s", l->name, strerror(errno));
        return -1;
    }
    close(probe);
    /* one socket per thread: the kernel spreads connections across them evenly */
    l->fds = h2o_mem_alloc(sizeof(l->fds[0]) * server->num_threads);
    for (size_t t = 0; t != server->num_threads; ++t)
        l->fds[t] = -1;
    for (size_t t = 0; t != server->num_threads; ++t) {
        if ((l->fds[t] = open_listen_socket(&ss, len, 1)) == -1) {
            ef_log(EF_LOG_ERROR, "cannot listen on %s: %s", l->name, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* threads */

h2o_timeout_t *ef_thread_timeout(ef_thread_t *thread, uint64_t ms)
{
    for (size_t i = 0; i != thread->timeouts.size; ++i)
        if (thread->timeouts.entries[i]->ms == ms)
            return &thread->timeouts.entries[i]->timeout;
    ef_timeout_slot_t *slot = h2o_mem_alloc(sizeof(*slot));
    slot->ms = ms;
    h2o_timeout_init(thread->ctx.loop, &slot->timeout, ms);
    h2o_vector_reserve(NULL, &thread->timeouts, thread->timeouts.size + 1);
    thread->timeouts.entries[thread->timeouts.size++] = slot;
    return &slot->timeout;
}

void ef_thread_next_request_id(ef_thread_t *thread, char *buf)
{
    static const char hex[] = "0123456789abcdef";
    /* 40 random bits per thread, then a 40-bit count: unique across threads and restarts in practice */
    uint64_t hi = thread->reqid.prefix, lo = ++thread->reqid.counter;
    for (int i = 9; i >= 0; --i, hi >>= 4)
        buf[i] = hex[hi & 15];
    for (int i = 19; i >= 10; --i, lo >>= 4)
        buf[i] = hex[lo & 15];
    buf[EF_REQUEST_ID_LEN] = '\0';
}

size_t ef_client_ip(h2o_req_t *req, char *buf)
{
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (void *)&ss);
    size_t n;

    if (len == 0)
        return 0;
    if (ss.ss_family == AF_INET) {
        const uint8_t *a = (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
        char *p = buf;
        for (int i = 0; i != 4; ++i) {
            unsigned v = a[i];
            if (v >= 100)
                *p++ = '0' + v / 100;
            if (v >= 10)
                *p++ = '0' + v / 10 % 10;
            *p++ = '0' + v % 10;
            *p++ = '.';
        }
        p[-1] = '\0';
        return p - 1 - buf;
    }
    n = h2o_socket_getnumerichost((void *)&ss, len, buf);
    return n == SIZE_MAX ? 0 : n;
}

static void on_connection_close(void *data)
{
    --((ef_thread_t *)data)->num_connections;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    h2o_accept_ctx_t *actx = listener->data;
    ef_thread_t *thread = ef_thread_from_ctx(actx->ctx);

    if (err != NULL)
        return;
    for (int i = 0; i != MAX_ACCEPTS_PER_WAKEUP; ++i) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL)
            break;
        ++thread->num_connections;
        sock->on_close.cb = on_connection_close;
        sock->on_close.data = thread;
        h2o_accept(actx, sock);
    }
}

static int make_non_persistent(h2o_req_t *req, void *unused)
{
    if (req->version != 0)
        req->http1_is_persistent = 0;
    return 0;
}

static void on_drain_timeout(h2o_timeout_entry_t *entry)
{
    ef_thread_t *thread = H2O_STRUCT_FROM_MEMBER(ef_thread_t, drain_timer, entry);
    thread->drain_expired = 1;
}

static void begin_drain(ef_thread_t *thread)
{
    ef_server_t *server = thread->server;

    thread->draining = 1;
    for (size_t i = 0; i != server->num_listeners; ++i) {
        if (thread->listeners[i] != NULL) {
            h2o_socket_close(thread->listeners[i]);
            thread->listeners[i] = NULL;
        }
    }
    h2o_context_request_shutdown(&thread->ctx);
    /* HTTP/1: h2o only makes requests parsed from now on non-persistent; the ones in flight end with
     * "connection: close" too, and idle keep-alive connections close on the next tick */
    server->globalconf.http1.callbacks.foreach_request(&thread->ctx, make_non_persistent, NULL);
    thread->ctx.http1.req_timeout.timeout = 0;
    h2o_timeout_link(thread->ctx.loop, ef_thread_timeout(thread, server->conf->drain_timeout), &thread->drain_timer);
}

static void on_shutdown_message(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    ef_thread_t *thread = H2O_STRUCT_FROM_MEMBER(ef_thread_t, shutdown_receiver, receiver);

    while (!h2o_linklist_is_empty(messages))
        h2o_linklist_unlink(messages->next);
    if (atomic_load(&stop_now))
        thread->drain_expired = 1;
    else if (!thread->draining)
        begin_drain(thread);
}

static void dispose_context(h2o_context_t *ctx)
{
    h2o_multithread_queue_t *queue = ctx->queue;

    /* h2o_context_dispose insists that every timer list be empty: its own graceful-shutdown entry included */
    h2o_timeout_unlink(&ctx->http2._graceful_shutdown_timeout);
    h2o_context_dispose(ctx);
    free(queue); /* h2o_multithread_destroy_queue closes the evloop queue but does not free it */
}

static void dispose_thread(ef_thread_t *thread)
{
    ef_server_t *server = thread->server;
    size_t i;

    for (i = 0; i != server->num_origins; ++i)
        if (server->origins[i].ops->on_thread_dispose != NULL)
            server->origins[i].ops->on_thread_dispose(server->origins + i, thread);
    free(thread->origin_state);
    ef_functions_thread_dispose(&thread->functions);
    dispose_context(&thread->api_ctx);
    ef_accesslog_buffer_dispose(&thread->accesslog);
    h2o_timeout_unlink(&thread->drain_timer);
    h2o_multithread_unregister_receiver(thread->ctx.queue, &thread->shutdown_receiver);
    ef_pipeline_thread_dispose(thread);

    /* h2o_context_dispose insists that every timer list be empty */
    for (i = 0; i != thread->timeouts.size; ++i) {
        h2o_timeout_dispose(thread->ctx.loop, &thread->timeouts.entries[i]->timeout);
        free(thread->timeouts.entries[i]);
    }
    free(thread->timeouts.entries);
    h2o_loop_t *loop = thread->ctx.loop;
    dispose_context(&thread->ctx);
    h2o_evloop_destroy(loop);
    free(thread->listeners);
}

static void *thread_main(void *arg)
{
    ef_thread_t *thread = arg;
    ef_server_t *server = thread->server;
    h2o_accept_ctx_t *actx;
    size_t i;

    h2o_context_init(&thread->ctx, h2o_evloop_create(), &server->globalconf);
    h2o_multithread_register_receiver(thread->ctx.queue, &thread->shutdown_receiver, on_shutdown_message);
    ef_pipeline_thread_init(thread);
    thread->drain_timer.cb = on_drain_timeout;
    if (getrandom(&thread->reqid.prefix, sizeof(thread->reqid.prefix), 0) != sizeof(thread->reqid.prefix))
        thread->reqid.prefix = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20) ^ thread->index;

    thread->origin_state = h2o_mem_alloc(sizeof(void *) * (server->num_origins + 1));
    for (i = 0; i != server->num_origins; ++i)
        if (server->origins[i].ops->on_thread_init != NULL)
            server->origins[i].ops->on_thread_init(server->origins + i, thread);
    ef_accesslog_buffer_init(&thread->accesslog, &server->accesslog, thread->ctx.loop, ef_thread_timeout(thread, 100));
    h2o_context_init(&thread->api_ctx, thread->ctx.loop, &server->api_globalconf);
    ef_functions_thread_init(&server->functions, &thread->functions,
                             &(ef_runtime_thread_t){&thread->api_ctx, server->api_hosts, thread->index, server->num_threads});
    ef_async_thread_init(&thread->async, thread);

    thread->listeners = h2o_mem_alloc(sizeof(thread->listeners[0]) * server->num_listeners);
    actx = alloca(sizeof(*actx) * server->num_listeners);
    for (i = 0; i != server->num_listeners; ++i) {
        ef_listener_t *l = server->listeners + i;
        actx[i] = (h2o_accept_ctx_t){&thread->ctx, l->is_admin ? server->admin_hosts : server->hosts, l->ssl_ctx};
        thread->listeners[i] = h2o_evloop_socket_create(thread->ctx.loop, l->fds[thread->index], H2O_SOCKET_FLAG_DONT_READ);
        l->fds[thread->index] = -1; /* the socket owns it now */
        thread->listeners[i]->data = actx + i;
        h2o_socket_read_start(thread->listeners[i], on_accept);
    }
    pthread_barrier_wait(&server->ready);

    while (!(thread->draining && thread->num_connections == 0) && !thread->drain_expired)
        h2o_evloop_run(thread->ctx.loop, INT32_MAX);

    ef_async_thread_stop(&thread->async);
    /* once no thread takes requests, what the functions still run is for requests that are gone: it is stopped, and
     * this thread waits until it is (a job it handed to another thread comes back, its environments are reaped) */
    atomic_fetch_sub(&threads_serving, 1);
    int quiet = 0;
    while (!thread->drain_expired && !(quiet = atomic_load(&threads_serving) == 0 &&
                                               ef_functions_thread_quiesce(&thread->functions) && ef_pipeline_quiesced(server)))
        h2o_evloop_run(thread->ctx.loop, 10);

    pthread_mutex_lock(&server->lock);
    thread->finished = 1;
    pthread_mutex_unlock(&server->lock);
    if (thread->num_connections != 0 || !quiet) {
        ef_log(EF_LOG_WARN, "thread %zu: drain-timeout reached, closing %zu connections with requests in flight", thread->index,
               thread->num_connections);
        ef_accesslog_buffer_dispose(&thread->accesslog);
        atomic_store(&abandoned, 1);
    } else {
        dispose_thread(thread);
    }
    atomic_fetch_sub(&running_threads, 1);
    return NULL;
}

int ef_server_run(ef_server_t *server)
{
    sigset_t signals;
    size_t i;
    int sig;

    for (i = 0; i != server->num_listeners; ++i)
        if (bind_listener(server, server->listeners + i) != 0)
            return -1;
    if (ef_accesslog_open(&server->accesslog, server->conf) != 0) {
        ef_log(EF_LOG_ERROR, "cannot open the access log \"%s\": %s", server->conf->access_log.path, strerror(errno));
        return -1;
    }
    char err[512];
    if (ef_functions_open_logs(&server->functions, server->conf, err, sizeof(err)) != 0) {
        ef_log(EF_LOG_ERROR, "%s", err);
        return -1;
    }
    if (ef_lazyread_init() != 0)
        ef_log(EF_LOG_WARN, "lazy read-stop is not in effect (libh2o binds its own calls); serving at a lower throughput");

    /* workers inherit this mask: only the main thread takes signals, with sigwait; writes to
     * closed sockets fail with EPIPE instead of killing the process */
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    server->threads = h2o_mem_alloc(sizeof(server->threads[0]) * server->num_threads);
    memset(server->threads, 0, sizeof(server->threads[0]) * server->num_threads);
    atomic_store(&running_threads, server->num_threads);
    atomic_store(&threads_serving, server->num_threads);
    pthread_barrier_init(&server->ready, NULL, (unsigned)server->num_threads + 1);
    pthread_mutex_init(&server->lock, NULL);
    for (i = 0; i != server->num_threads; ++i) {
        ef_thread_t *thread = server->threads + i;
        thread->server = server;
        thread->index = i;
        /* before any thread runs: a scrape on one thread reads them all */
        ef_metrics_thread_init(&thread->metrics, server);
    }
    for (i = 0; i != server->num_threads; ++i)
        h2o_multithread_create_thread(&server->threads[i].tid, NULL, thread_main, server->threads + i);
    pthread_barrier_wait(&server->ready);
    pthread_barrier_destroy(&server->ready);

    char names[1024] = "";
    for (i = 0; i != server->num_listeners; ++i)
        if (!server->listeners[i].is_admin)
            snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", names[0] != '\0' ? ", " : "",
                     server->listeners[i].name);
    ef_log(EF_LOG_INFO, "edgefn " EF_VERSION " serving %s with %zu thread%s%s%s", names, server->num_threads,
           server->num_threads == 1 ? "" : "s", server->conf->admin.enabled ? "; admin on " : "",
           server->conf->admin.enabled ? server->listeners[server->num_listeners - 1].name : "");

    const char *isolation = ef_functions_isolation(&server->functions);
    if (isolation != NULL)
        ef_log(EF_LOG_INFO, "%s", isolation);

    /* wait for a signal; then for the threads, with a second signal cutting the drain short */
    int signalled = 0;
    while (atomic_load(&running_threads) != 0) {
        struct timespec tick = {0, 100 * 1000 * 1000};
        if ((sig = sigtimedwait(&signals, NULL, &tick)) == -1)
            continue;
        if (!signalled) {
            char d[32];
            signalled = 1;
            ef_log(EF_LOG_INFO, "%s: draining, for up to %s (send it again to stop now)", strsignal(sig),
                   ef_format_duration(server->conf->drain_timeout, d, sizeof(d)));
        } else {
            if (atomic_load(&stop_now))
                continue;
            ef_log(EF_LOG_INFO, "%s again: stopping now", strsignal(sig));
            atomic_store(&stop_now, 1);
        }
        pthread_mutex_lock(&server->lock);
        for (i = 0; i != server->num_threads; ++i) {
            ef_thread_t *thread = server->threads + i;
            if (!thread->finished)
                h2o_multithread_send_message(&thread->shutdown_receiver,
                                             atomic_load(&stop_now) ? &thread->stop_message : &thread->drain_message);
        }
        pthread_mutex_unlock(&server->lock);
    }
    for (i = 0; i != server->num_threads; ++i)
        pthread_join(server->threads[i].tid, NULL);
    pthread_mutex_destroy(&server->lock);
    ef_log(EF_LOG_INFO, "stopped");
    if (atomic_load(&abandoned)) {
        /* h2o has no way to close its connections from outside; the kernel closes them as we exit,
         * and the state they hold dies with the process rather than being torn down */
        _exit(0);
    }
    return 0;
}
