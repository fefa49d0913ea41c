/*
 * HTTP origins: edgefn's own HTTP/1.1 client over a per-thread keep-alive pool.
 *
 * Not h2o_http1client, because that is tied to h2o_socketpool, which checks,
 * imports and exports a pooled socket on every request (recv, two fcntl and two
 * epoll_ctl): a tenth of a plain proxy's throughput (H2O-2.2.5.md section 8). Here an
 * idle connection stays registered with its thread's loop, watched by a read
 * callback that notices when the origin closes it, and the next request simply
 * writes to it.
 *
 * A fetch: take an idle connection or connect; write the request head and entity;
 * parse the response head with picohttpparser (which libh2o exports); report it;
 * then stream the body through a double buffer: the socket reads into one buffer
 * while the consumer sends the other, and reading pauses while the receiving side
 * holds more than HIGH_WATERMARK, so a slow client slows the origin instead of
 * filling memory.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "conf/units.h"
#include "server/log.h"
#include "server/origin.h"
#include "server/server.h"

/* picohttpparser, exported by libh2o; Debian does not ship its header */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
struct phr_chunked_decoder {
    size_t bytes_left_in_chunk;
    char consume_trailer;
    char _hex_count;
    char _state;
};
int phr_parse_response(const char *buf, size_t len, int *minor_version, int *status, const char **msg, size_t *msg_len,
                       struct phr_header *headers, size_t *num_headers, size_t last_len);
ssize_t phr_decode_chunked(struct phr_chunked_decoder *decoder, char *buf, size_t *bufsz);

#define MAX_HEAD_SIZE (64 * 1024)
#define HIGH_WATERMARK (1024 * 1024)

struct st_pool_t {
    ef_origin_t *origin;
    ef_thread_t *thread;
    h2o_linklist_t idle; /* struct st_conn_t, most recently used first */
    size_t num_idle;
    h2o_timeout_t *connect_timeout;
    h2o_timeout_t *io_timeout;
    h2o_timeout_t *keepalive_timeout;
};

struct st_conn_t {
    h2o_socket_t *sock;
    struct st_pool_t *pool;
    struct st_fetch_t *fetch; /* NULL while idle */
    h2o_linklist_t link;      /* in pool->idle */
    h2o_timeout_entry_t idle_timer;
};

enum en_framing_t {
    FRAMING_NONE,
    FRAMING_LENGTH,
    FRAMING_CHUNKED,
    FRAMING_CLOSE, /* until the origin closes */
};

struct st_fetch_t {
    ef_fetch_t super;
    struct st_pool_t *pool;
    struct st_conn_t *conn;
    h2o_timeout_entry_t timer; /* connect or I/O, one at a time */
    h2o_iovec_t reqbufs[2];
    size_t num_reqbufs;
    enum en_framing_t framing;
    size_t remaining; /* FRAMING_LENGTH */
    struct phr_chunked_decoder chunked;
    size_t processed;   /* bytes at the start of the receiving buffer that are body, decoded */
    h2o_buffer_t *rest; /* the receiving buffer once the connection is let go */
    h2o_doublebuffer_t sending;
    unsigned is_head : 1;
    unsigned reused : 1;
    unsigned retried : 1;
    unsigned write_done : 1;
    unsigned got_bytes : 1;
    unsigned head_done : 1;
    unsigned keepalive : 1;
    unsigned stray_bytes : 1; /* the origin sent more than the body it announced */
    unsigned eos : 1;
    unsigned aborted : 1;
    unsigned want_body : 1;
    unsigned paused : 1;
    unsigned done : 1;
};

static void connect_new(struct st_fetch_t *f);
static void on_read(h2o_socket_t *sock, const char *err);

static const char *origin_name(struct st_fetch_t *f)
{
    return f->pool->origin->conf->name;
}

static h2o_buffer_t **receiving(struct st_fetch_t *f)
{
    return f->conn != NULL ? &f->conn->sock->input : &f->rest;
}

/* the idle pool */

static void close_conn(struct st_conn_t *conn)
{
    h2o_timeout_unlink(&conn->idle_timer);
    if (h2o_linklist_is_linked(&conn->link)) {
        h2o_linklist_unlink(&conn->link);
        --conn->pool->num_idle;
    }
    h2o_socket_close(conn->sock);
    free(conn);
}

static void on_idle_read(h2o_socket_t *sock, const char *err)
{
    /* an idle origin connection that turns readable has been closed, or is talking nonsense */
    close_conn(sock->data);
}

static void on_idle_timeout(h2o_timeout_entry_t *entry)
{
    close_conn(H2O_STRUCT_FROM_MEMBER(struct st_conn_t, idle_timer, entry));
}

static struct st_conn_t *new_conn(struct st_pool_t *pool, h2o_socket_t *sock)
{
    struct st_conn_t *conn = h2o_mem_alloc(sizeof(*conn));
    *conn = (struct st_conn_t){sock, pool, NULL, {NULL}, {0}};
    conn->idle_timer.cb = on_idle_timeout;
    sock->data = conn;
    return conn;
}

static void pool_put(struct st_conn_t *conn)
{
    struct st_pool_t *pool = conn->pool;
    const ef_conf_origin_t *conf = pool->origin->conf;

    conn->fetch = NULL;
    if (conf->keepalive_connections == 0 || conf->keepalive_timeout == 0 || pool->thread->draining) {
        close_conn(conn);
        return;
    }
    h2o_socket_read_start(conn->sock, on_idle_read);
    h2o_linklist_insert(pool->idle.next, &conn->link);
    h2o_timeout_link(pool->thread->ctx.loop, pool->keepalive_timeout, &conn->idle_timer);
    if (++pool->num_idle > conf->keepalive_connections)
        close_conn(H2O_STRUCT_FROM_MEMBER(struct st_conn_t, link, pool->idle.prev));
}

static struct st_conn_t *pool_get(struct st_pool_t *pool)
{
    if (h2o_linklist_is_empty(&pool->idle))
        return NULL;
    struct st_conn_t *conn = H2O_STRUCT_FROM_MEMBER(struct st_conn_t, link, pool->idle.next);
    h2o_linklist_unlink(&conn->link);
    --pool->num_idle;
    h2o_timeout_unlink(&conn->idle_timer);
    return conn;
}

static void on_thread_init(ef_origin_t *origin, ef_thread_t *thread)
{
    struct st_pool_t *pool = h2o_mem_alloc(sizeof(*pool));
    *pool = (struct st_pool_t){origin, thread};
    h2o_linklist_init_anchor(&pool->idle);
    pool->connect_timeout = ef_thread_timeout(thread, origin->conf->connect_timeout);
    pool->io_timeout = ef_thread_timeout(thread, origin->conf->timeout);
    pool->keepalive_timeout = ef_thread_timeout(thread, origin->conf->keepalive_timeout);
    thread->origin_state[origin->index] = pool;
}

static void on_thread_dispose(ef_origin_t *origin, ef_thread_t *thread)
{
    struct st_pool_t *pool = thread->origin_state[origin->index];
    while (!h2o_linklist_is_empty(&pool->idle))
        close_conn(H2O_STRUCT_FROM_MEMBER(struct st_conn_t, link, pool->idle.next));
    free(pool);
    thread->origin_state[origin->index] = NULL;
}

/* ending a fetch */

static void let_go_of_conn(struct st_fetch_t *f, int reusable)
{
    struct st_conn_t *conn = f->conn;
    h2o_buffer_t *t;

    h2o_timeout_unlink(&f->timer);
    f->conn = NULL;
    /* the body read but not yet sent stays with the fetch; the connection leaves with an empty buffer */
    t = f->rest;
    f->rest = conn->sock->input;
    conn->sock->input = t;
    if (reusable)
        pool_put(conn);
    else
        close_conn(conn);
}

static void fail(struct st_fetch_t *f, ef_origin_error_t kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The fetch fails before a response head: a 504 for a timeout, else a 502, with the cause in words. */
static void fail(struct st_fetch_t *f, ef_origin_error_t kind, const char *fmt, ...)
{
    char cause[512];
    va_list args;

    va_start(args, fmt);
    vsnprintf(cause, sizeof(cause), fmt, args);
    va_end(args);

    if (f->conn != NULL)
        let_go_of_conn(f, 0);
    f->done = 1;
    f->super.error = kind;
    f->super.cb->on_head(&f->super, kind == EF_ORIGIN_ERROR_TIMEOUT ? 504 : 502,
                         h2o_strdup(&f->super.req->pool, cause, SIZE_MAX).base);
}

static void fail_connect(struct st_fetch_t *f, int err)
{
    ef_origin_t *origin = f->pool->origin;
    if (err == ECONNREFUSED)
        fail(f, EF_ORIGIN_ERROR_REFUSED, "origin \"%s\" refused the connection (%s)", origin->conf->name, origin->http.addrstr);
    else
        fail(f, EF_ORIGIN_ERROR_REFUSED, "cannot connect to origin \"%s\" (%s): %s", origin->conf->name, origin->http.addrstr,
             strerror(err));
}

static void deliver(struct st_fetch_t *f)
{
    h2o_buffer_t **recv = receiving(f);
    h2o_iovec_t buf;
    int final;

    if (!f->want_body || f->sending.bytes_inflight != 0)
        return;
    if (f->aborted) {
        f->want_body = 0;
        f->done = 1;
        f->super.cb->on_body(&f->super, NULL, 0, H2O_SEND_STATE_ERROR);
        return;
    }
    buf = h2o_doublebuffer_prepare(&f->sending, recv, f->super.req->preferred_chunk_size);
    f->processed = (*recv)->size;
    final = f->eos && (*recv)->size == 0 && f->sending.buf->size == f->sending.bytes_inflight;
    if (buf.len == 0 && !final)
        return;
    f->want_body = 0;
    if (final)
        f->done = 1;
    f->super.cb->on_body(&f->super, &buf, buf.len != 0, final ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void abort_body(struct st_fetch_t *f, const char *why)
{
    ef_log(EF_LOG_WARN, "request %s: origin \"%s\" %s; the response to %.*s was cut short", f->super.request_id, origin_name(f),
           why, (int)f->super.req->path.len, f->super.req->path.base);
    if (f->conn != NULL)
        let_go_of_conn(f, 0);
    f->aborted = 1;
    deliver(f);
}

/* timers */

static void on_connect_timeout(h2o_timeout_entry_t *entry)
{
    struct st_fetch_t *f = H2O_STRUCT_FROM_MEMBER(struct st_fetch_t, timer, entry);
    char d[32];
    fail(f, EF_ORIGIN_ERROR_TIMEOUT, "connecting to origin \"%s\" (%s) timed out after %s", origin_name(f),
         f->pool->origin->http.addrstr, ef_format_duration(f->pool->origin->conf->connect_timeout, d, sizeof(d)));
}

static void on_io_timeout(h2o_timeout_entry_t *entry)
{
    struct st_fetch_t *f = H2O_STRUCT_FROM_MEMBER(struct st_fetch_t, timer, entry);
    char d[32], why[128];

    ef_format_duration(f->pool->origin->conf->timeout, d, sizeof(d));
    if (!f->head_done) {
        fail(f, EF_ORIGIN_ERROR_TIMEOUT, "origin \"%s\" did not respond within %s", origin_name(f), d);
    } else {
        snprintf(why, sizeof(why), "sent nothing for %s in the middle of a body", d);
        abort_body(f, why);
    }
}

static void link_timer(struct st_fetch_t *f, h2o_timeout_t *timeout, h2o_timeout_cb cb)
{
    h2o_timeout_unlink(&f->timer);
    f->timer.cb = cb;
    h2o_timeout_link(f->pool->thread->ctx.loop, timeout, &f->timer);
}

/* the request */

static int is_idempotent(h2o_iovec_t method)
{
    static const h2o_iovec_t list[] = {{H2O_STRLIT("GET")}, {H2O_STRLIT("HEAD")},   {H2O_STRLIT("OPTIONS")},
                                       {H2O_STRLIT("PUT")}, {H2O_STRLIT("DELETE")}, {H2O_STRLIT("TRACE")}};
    for (size_t i = 0; i != sizeof(list) / sizeof(list[0]); ++i)
        if (h2o_memis(method.base, method.len, list[i].base, list[i].len))
            return 1;
    return 0;
}

/* Reads the options of a Connection header: close, keep-alive, and whether it names headers to drop. */
static void read_connection(h2o_iovec_t v, int *close, int *keepalive, int *names)
{
    const char *p = v.base, *end = v.base + v.len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            ++p;
        const char *tok = p;
        while (p < end && *p != ',' && *p != ' ' && *p != '\t')
            ++p;
        if (p == tok)
            continue;
        if (h2o_lcstris(tok, p - tok, H2O_STRLIT("close")))
            *close = 1;
        else if (h2o_lcstris(tok, p - tok, H2O_STRLIT("keep-alive")))
            *keepalive = 1;
        else
            *names = 1;
    }
}

/* whether `name` is one of the comma-separated tokens of a Connection header */
static int is_listed(h2o_iovec_t list, const h2o_iovec_t *name)
{
    const char *p = list.base, *end = list.base + list.len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            ++p;
        const char *tok = p;
        while (p < end && *p != ',' && *p != ' ' && *p != '\t')
            ++p;
        if (p != tok && h2o_lcstris(tok, p - tok, name->base, name->len))
            return 1;
    }
    return 0;
}

#define APPEND(s, l)                                                                                                               \
    do {                                                                                                                           \
        memcpy(dst, (s), (l));                                                                                                     \
        dst += (l);                                                                                                                \
    } while (0)
#define APPEND_STRLIT(lit) APPEND((lit), sizeof(lit) - 1)

static void build_request(struct st_fetch_t *f)
{
    h2o_req_t *req = f->super.req;
    const ef_conf_origin_t *conf = f->pool->origin->conf;
    h2o_iovec_t authority = conf->preserve_host ? req->authority : h2o_iovec_init(conf->url.authority, strlen(conf->url.authority));
    h2o_iovec_t xff = {NULL}, via = {NULL}, connection = {NULL}, cookie = {NULL};
    size_t prefix_len = strlen(conf->url.prefix), cap, i;
    char ip[NI_MAXHOST], *head, *dst;
    size_t iplen = ef_client_ip(req, ip);

    cap = req->method.len + prefix_len + req->path.len + authority.len + iplen + 256;
    for (i = 0; i != req->headers.size; ++i) {
        const h2o_header_t *h = req->headers.entries + i;
        cap += h->name->len + h->value.len + 4;
        if (h->name == &H2O_TOKEN_CONNECTION->buf) {
            int close = 0, keepalive = 0, names = 0;
            read_connection(h->value, &close, &keepalive, &names);
            if (names)
                connection = h->value; /* only then are there headers to look for */
        }
    }
    dst = head = h2o_mem_alloc_pool(&req->pool, cap);

    APPEND(req->method.base, req->method.len);
    *dst++ = ' ';
    APPEND(conf->url.prefix, prefix_len);
    APPEND(req->path.base, req->path.len);
    APPEND_STRLIT(" HTTP/1.1\r\nhost: ");
    APPEND(authority.base, authority.len);
    APPEND_STRLIT("\r\n");

    for (i = 0; i != req->headers.size; ++i) {
        const h2o_header_t *h = req->headers.entries + i;
        if (h2o_iovec_is_token(h->name)) {
            const h2o_token_t *token = (const h2o_token_t *)h->name;
            if (token->proxy_should_drop_for_req || token == H2O_TOKEN_HOST || token == H2O_TOKEN_CONTENT_LENGTH ||
                token == H2O_TOKEN_EXPECT)
                continue;
            if (token == H2O_TOKEN_X_FORWARDED_FOR) {
                xff = h->value;
                continue;
            }
            if (token == H2O_TOKEN_VIA) {
                via = h->value;
                continue;
            }
            if (token == H2O_TOKEN_COOKIE) {
                /* HTTP/2 splits cookies into one field per crumb; HTTP/1.1 wants one line */
                if (cookie.base == NULL) {
                    cookie = h->value;
                } else {
                    h2o_iovec_t joined = h2o_concat(&req->pool, cookie, h2o_iovec_init(H2O_STRLIT("; ")), h->value);
                    cookie = joined;
                }
                continue;
            }
        } else if (h2o_memis(h->name->base, h->name->len, H2O_STRLIT("x-forwarded-proto")) ||
                   h2o_memis(h->name->base, h->name->len, H2O_STRLIT(EF_HEADER_FORWARDED_PROTO)) ||
                   h2o_memis(h->name->base, h->name->len, H2O_STRLIT("proxy-connection"))) {
            continue;
        }
        if (connection.base != NULL && is_listed(connection, h->name))
            continue;
        APPEND(h->orig_name != NULL ? h->orig_name : h->name->base, h->name->len);
        APPEND_STRLIT(": ");
        APPEND(h->value.base, h->value.len);
        APPEND_STRLIT("\r\n");
    }
    if (cookie.base != NULL) {
        /* may be longer than the crumbs it joins, so it gets its own buffer */
        h2o_iovec_t line =
            h2o_concat(&req->pool, h2o_iovec_init(H2O_STRLIT("cookie: ")), cookie, h2o_iovec_init(H2O_STRLIT("\r\n")));
        size_t off = dst - head;
        char *bigger = h2o_mem_alloc_pool(&req->pool, cap + line.len);
        memcpy(bigger, head, off);
        head = bigger;
        dst = head + off;
        APPEND(line.base, line.len);
    }
    if (iplen != 0) {
        APPEND_STRLIT("x-forwarded-for: ");
        if (xff.base != NULL) {
            APPEND(xff.base, xff.len);
            APPEND_STRLIT(", ");
        }
        APPEND(ip, iplen);
        APPEND_STRLIT("\r\n");
    } else if (xff.base != NULL) {
        APPEND_STRLIT("x-forwarded-for: ");
        APPEND(xff.base, xff.len);
        APPEND_STRLIT("\r\n");
    }
    if (req->scheme == &H2O_URL_SCHEME_HTTPS)
        APPEND_STRLIT("x-forwarded-proto: https\r\nvia: ");
    else
        APPEND_STRLIT("x-forwarded-proto: http\r\nvia: ");
    if (via.base != NULL) {
        APPEND(via.base, via.len);
        APPEND_STRLIT(", ");
    }
    if (req->version >= 0x200)
        APPEND_STRLIT("2 edgefn\r\n");
    else if (req->version == 0x100)
        APPEND_STRLIT("1.0 edgefn\r\n");
    else
        APPEND_STRLIT("1.1 edgefn\r\n");
    if (req->entity.base != NULL) {
        dst += sprintf(dst, "content-length: %zu\r\n", req->entity.len);
    } else if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")) ||
               h2o_memis(req->method.base, req->method.len, H2O_STRLIT("PUT"))) {
        APPEND_STRLIT("content-length: 0\r\n");
    }
    if (conf->keepalive_connections == 0)
        APPEND_STRLIT("connection: close\r\n");
    APPEND_STRLIT("\r\n");

    f->reqbufs[0] = h2o_iovec_init(head, dst - head);
    f->num_reqbufs = 1;
    if (req->entity.len != 0)
        f->reqbufs[f->num_reqbufs++] = req->entity;
}

#undef APPEND
#undef APPEND_STRLIT

/* the response */

static int parse_content_length(h2o_iovec_t v, size_t *out)
{
    size_t n = 0, i = 0;
    for (; i != v.len && v.base[i] == ' '; ++i)
        ;
    if (i == v.len)
        return -1;
    for (; i != v.len && v.base[i] >= '0' && v.base[i] <= '9'; ++i) {
        if (n > (SIZE_MAX - 9) / 10)
            return -1;
        n = n * 10 + (v.base[i] - '0');
    }
    for (; i != v.len && v.base[i] == ' '; ++i)
        ;
    if (i != v.len)
        return -1;
    *out = n;
    return 0;
}

/* Moves newly read bytes into the body: decodes chunks in place, counts against the length. */
static int take_body(struct st_fetch_t *f)
{
    h2o_buffer_t *in = f->conn->sock->input;
    size_t avail = in->size - f->processed;

    switch (f->framing) {
    case FRAMING_NONE:
        if (avail != 0) {
            in->size = f->processed;
            f->stray_bytes = 1;
        }
        f->eos = 1;
        break;
    case FRAMING_LENGTH:
        if (avail >= f->remaining) {
            if (avail > f->remaining)
                f->stray_bytes = 1;
            in->size = f->processed + f->remaining;
            f->remaining = 0;
            f->eos = 1;
        } else {
            f->remaining -= avail;
        }
        break;
    case FRAMING_CHUNKED: {
        size_t bufsz = avail;
        ssize_t ret = phr_decode_chunked(&f->chunked, in->bytes + f->processed, &bufsz);
        if (ret == -1)
            return -1;
        in->size = f->processed + bufsz;
        if (ret >= 0) {
            if (ret > 0)
                f->stray_bytes = 1;
            f->eos = 1;
        }
    } break;
    case FRAMING_CLOSE:
        break;
    }
    f->processed = in->size;
    return 0;
}

/* Returns 0 when the head was parsed into req->res, 1 when more bytes are needed, -1 (after failing the fetch) on garbage. */
static int take_head(struct st_fetch_t *f)
{
    h2o_req_t *req = f->super.req;
    h2o_buffer_t **in = &f->conn->sock->input;
    struct phr_header headers[H2O_MAX_HEADERS];
    size_t num_headers, i, content_length = SIZE_MAX;
    const char *msg;
    size_t msg_len;
    int minor, status, headlen, chunked = 0, conn_close = 0, conn_keepalive = 0;
    h2o_iovec_t connection = {NULL};

Again:
    num_headers = H2O_MAX_HEADERS;
    headlen = phr_parse_response((*in)->bytes, (*in)->size, &minor, &status, &msg, &msg_len, headers, &num_headers, 0);
    if (headlen == -2) {
        if ((*in)->size < MAX_HEAD_SIZE)
            return 1;
        fail(f, EF_ORIGIN_ERROR_INVALID, "origin \"%s\" sent a response head larger than %d KB", origin_name(f),
             MAX_HEAD_SIZE / 1024);
        return -1;
    }
    if (headlen < 0 || status < 100 || status > 999) {
        fail(f, EF_ORIGIN_ERROR_INVALID, "origin \"%s\" sent an invalid response", origin_name(f));
        return -1;
    }
    if (status < 200) {
        if (status == 101) {
            fail(f, EF_ORIGIN_ERROR_INVALID, "origin \"%s\" switched protocols, which edgefn does not proxy", origin_name(f));
            return -1;
        }
        /* 100 Continue, 103 Early Hints: informational, the real head follows */
        h2o_buffer_consume(in, headlen);
        goto Again;
    }

    /* the head is copied once; names and values point into the copy */
    char *copy = h2o_mem_alloc_pool(&req->pool, headlen);
    memcpy(copy, (*in)->bytes, headlen);
#define IN_COPY(p) (copy + ((p) - (*in)->bytes))

    req->res.status = status;
    copy[IN_COPY(msg) - copy + msg_len] = '\0';
    req->res.reason = IN_COPY(msg);
    for (i = 0; i != num_headers; ++i) {
        if (headers[i].name == NULL) {
            fail(f, EF_ORIGIN_ERROR_INVALID, "origin \"%s\" sent an obsolete folded header line", origin_name(f));
            return -1;
        }
        char *name = IN_COPY(headers[i].name);
        h2o_iovec_t value = h2o_iovec_init(IN_COPY(headers[i].value), headers[i].value_len);
        h2o_strtolower(name, headers[i].name_len);
        const h2o_token_t *token = h2o_lookup_token(name, headers[i].name_len);
        if (token != NULL) {
            if (token == H2O_TOKEN_CONTENT_LENGTH) {
                size_t v;
                if (parse_content_length(value, &v) != 0 || (content_length != SIZE_MAX && content_length != v)) {
                    fail(f, EF_ORIGIN_ERROR_INVALID, "origin \"%s\" sent an invalid content-length", origin_name(f));
                    return -1;
                }
                content_length = v;
                continue;
            }
            if (token == H2O_TOKEN_TRANSFER_ENCODING) {
                chunked = value.len >= 7 && h2o_lcstris(value.base + value.len - 7, 7, H2O_STRLIT("chunked"));
                if (!chunked) {
                    fail(f, EF_ORIGIN_ERROR_INVALID, "origin \"%s\" sent an unsupported transfer-encoding", origin_name(f));
                    return -1;
                }
                continue;
            }
            if (token == H2O_TOKEN_CONNECTION) {
                int names = 0;
                read_connection(value, &conn_close, &conn_keepalive, &names);
                if (names)
                    connection = value; /* only then are there headers to look for */
                continue;
            }
            /* hop-by-hop, for the hop from the origin to us (Proxy-Authenticate answers us, not the viewer) */
            if (token->proxy_should_drop_for_res || token == H2O_TOKEN_PROXY_AUTHENTICATE)
                continue;
            h2o_add_header(&req->pool, &req->res.headers, token, NULL, value.base, value.len);
        } else {
            /* trailers are consumed with the chunked encoding, so their announcement goes too */
            if (h2o_memis(name, headers[i].name_len, H2O_STRLIT("proxy-connection")) ||
                h2o_memis(name, headers[i].name_len, H2O_STRLIT("trailer")))
                continue;
            h2o_add_header_by_str(&req->pool, &req->res.headers, name, headers[i].name_len, 0, NULL, value.base, value.len);
        }
    }
#undef IN_COPY
    if (connection.base != NULL) {
        /* drop what the origin's Connection header names: those were for the hop to us */
        for (i = 0; i != req->res.headers.size;) {
            if (is_listed(connection, req->res.headers.entries[i].name))
                h2o_delete_header(&req->res.headers, i);
            else
                ++i;
        }
    }

    f->keepalive = minor >= 1 ? !conn_close : conn_keepalive && !conn_close;
    if (f->is_head || status == 204 || status == 304) {
        f->framing = FRAMING_NONE;
        req->res.content_length = f->is_head ? content_length : SIZE_MAX;
    } else if (chunked) {
        f->framing = FRAMING_CHUNKED;
        f->chunked.consume_trailer = 1;
        if (content_length != SIZE_MAX)
            f->keepalive = 0; /* both framings given: RFC 9112 says trust chunked and close */
    } else if (content_length != SIZE_MAX) {
        f->framing = FRAMING_LENGTH;
        f->remaining = content_length;
        req->res.content_length = content_length;
    } else {
        f->framing = FRAMING_CLOSE;
        f->keepalive = 0;
    }
    f->super.upstream_status = status;
    f->head_done = 1;
    h2o_buffer_consume(in, headlen);
    f->processed = 0;
    return 0;
}

/* after body bytes arrived: finish, or pause a producer that runs ahead of the client, then pass bytes on */
static void progress(struct st_fetch_t *f)
{
    if (f->eos) {
        let_go_of_conn(f, f->keepalive && f->write_done && !f->stray_bytes);
    } else if (!f->paused && (*receiving(f))->size >= HIGH_WATERMARK) {
        f->paused = 1;
        h2o_timeout_unlink(&f->timer);
        h2o_socket_read_stop(f->conn->sock);
    }
    deliver(f);
}

static int can_retry(struct st_fetch_t *f)
{
    return f->reused && !f->retried && !f->got_bytes && is_idempotent(f->super.req->method);
}

static void retry(struct st_fetch_t *f)
{
    /* a kept-alive connection the origin had already given up on: once more, on a new one */
    let_go_of_conn(f, 0);
    f->retried = 1;
    f->reused = 0;
    f->write_done = 0;
    connect_new(f);
}

static void on_read_error(struct st_fetch_t *f, const char *err)
{
    int reset = err != h2o_socket_error_closed;

    if (!f->head_done) {
        if (can_retry(f)) {
            retry(f);
        } else if (f->got_bytes) {
            fail(f, EF_ORIGIN_ERROR_RESET, "origin \"%s\" %s the connection in the middle of its response head", origin_name(f),
                 reset ? "reset" : "closed");
        } else {
            fail(f, EF_ORIGIN_ERROR_RESET, "origin \"%s\" %s the connection without responding", origin_name(f),
                 reset ? "reset" : "closed");
        }
        return;
    }
    if (f->framing == FRAMING_CLOSE && !reset) {
        f->eos = 1;
        let_go_of_conn(f, 0);
        deliver(f);
        return;
    }
    abort_body(f, reset ? "reset the connection in the middle of a body" : "closed the connection in the middle of a body");
}

static void on_read(h2o_socket_t *sock, const char *err)
{
    struct st_conn_t *conn = sock->data;
    struct st_fetch_t *f = conn->fetch;

    if (err != NULL) {
        on_read_error(f, err);
        return;
    }
    if (sock->input->size == 0)
        return;
    f->got_bytes = 1;
    link_timer(f, f->pool->io_timeout, on_io_timeout);

    if (!f->head_done) {
        if (take_head(f) != 0)
            return;
        if (take_body(f) != 0) {
            fail(f, EF_ORIGIN_ERROR_INVALID, "origin \"%s\" sent malformed chunked encoding", origin_name(f));
            return;
        }
        if (f->eos)
            let_go_of_conn(f, f->keepalive && f->write_done && !f->stray_bytes);
        f->super.cb->on_head(&f->super, 0, NULL);
        if (f->done || f->conn == NULL)
            return;
        progress(f);
        return;
    }
    if (take_body(f) != 0) {
        abort_body(f, "sent malformed chunked encoding");
        return;
    }
    progress(f);
}

static void on_write_complete(h2o_socket_t *sock, const char *err)
{
    struct st_fetch_t *f = ((struct st_conn_t *)sock->data)->fetch;

    if (err != NULL) {
        if (!f->head_done)
            on_read_error(f, h2o_socket_error_io);
        /* a head already in means the origin answered without reading all we sent; on_read copes */
        return;
    }
    f->write_done = 1;
}

static void send_request(struct st_fetch_t *f)
{
    f->conn->fetch = f;
    h2o_socket_read_start(f->conn->sock, on_read);
    h2o_socket_write(f->conn->sock, f->reqbufs, f->num_reqbufs, on_write_complete);
    link_timer(f, f->pool->io_timeout, on_io_timeout);
}

static void on_connect(h2o_socket_t *sock, const char *err)
{
    struct st_fetch_t *f = ((struct st_conn_t *)sock->data)->fetch;
    int so_err = 0;
    socklen_t l = sizeof(so_err);

    h2o_timeout_unlink(&f->timer);
    if (err == NULL && getsockopt(h2o_socket_get_fd(sock), SOL_SOCKET, SO_ERROR, &so_err, &l) != 0)
        so_err = errno;
    if (err != NULL || so_err != 0) {
        let_go_of_conn(f, 0);
        fail_connect(f, so_err != 0 ? so_err : ECONNRESET);
        return;
    }
    send_request(f);
}

static void connect_new(struct st_fetch_t *f)
{
    ef_origin_t *origin = f->pool->origin;
    int fd, on = 1;

    /* connect ourselves rather than through h2o_socket_connect, to learn why a connect failed */
    if ((fd = socket(origin->http.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
        fail(f, EF_ORIGIN_ERROR_REFUSED, "cannot create a socket for origin \"%s\": %s", origin->conf->name, strerror(errno));
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    if (connect(fd, (struct sockaddr *)&origin->http.addr, origin->http.addrlen) != 0 && errno != EINPROGRESS) {
        int err = errno;
        close(fd);
        fail_connect(f, err);
        return;
    }
    f->conn = new_conn(f->pool, h2o_evloop_socket_create(f->pool->thread->ctx.loop, fd, 0));
    f->conn->fetch = f;
    h2o_socket_notify_write(f->conn->sock, on_connect);
    link_timer(f, f->pool->connect_timeout, on_connect_timeout);
}

/* the fetch interface */

static void do_proceed(ef_fetch_t *_f)
{
    struct st_fetch_t *f = (void *)_f;

    if (f->sending.bytes_inflight != 0)
        h2o_doublebuffer_consume(&f->sending);
    f->want_body = 1;
    deliver(f);
    if (f->paused && f->conn != NULL && (*receiving(f))->size < HIGH_WATERMARK) {
        f->paused = 0;
        h2o_socket_read_start(f->conn->sock, on_read);
        link_timer(f, f->pool->io_timeout, on_io_timeout);
    }
}

static void do_cancel(ef_fetch_t *_f)
{
    struct st_fetch_t *f = (void *)_f;

    f->done = 1;
    h2o_timeout_unlink(&f->timer);
    if (f->conn != NULL)
        let_go_of_conn(f, 0);
}

static void on_dispose(void *_f)
{
    struct st_fetch_t *f = _f;

    do_cancel(&f->super);
    h2o_doublebuffer_dispose(&f->sending);
    h2o_buffer_dispose(&f->rest);
}

static ef_fetch_t *do_fetch(ef_origin_t *origin, h2o_req_t *req, const char *request_id, const ef_fetch_callbacks_t *cb, void *data)
{
    static const ef_fetch_ops_t ops = {do_proceed, do_cancel};
    struct st_fetch_t *f = ef_fetch_alloc(req, request_id, sizeof(*f), &ops, on_dispose, cb, data);
    ef_thread_t *thread = ef_thread_from_ctx(req->conn->ctx);

    f->pool = thread->origin_state[origin->index];
    h2o_buffer_init(&f->rest, &h2o_socket_buffer_prototype);
    h2o_doublebuffer_init(&f->sending, &h2o_socket_buffer_prototype);
    f->is_head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    build_request(f);

    if ((f->conn = pool_get(f->pool)) != NULL) {
        f->reused = 1;
        send_request(f);
    } else {
        connect_new(f);
    }
    return &f->super;
}

const ef_origin_ops_t ef_origin_http_ops = {on_thread_init, on_thread_dispose, do_fetch};
