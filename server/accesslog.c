#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "server/accesslog.h"
#include "server/log.h"
#include "server/server.h"

#define FLUSH_AT (48 * 1024)
#define MAX_LINE (16 * 1024) /* longer fields are cut, never the line's JSON */

int ef_accesslog_open(ef_accesslog_t *log, const ef_conf_t *conf)
{
    switch (conf->access_log.kind) {
    case EF_CONF_LOG_OFF:
        log->fd = -1;
        return 0;
    case EF_CONF_LOG_STDERR:
        log->fd = STDERR_FILENO;
        return 0;
    case EF_CONF_LOG_FILE:
        log->fd = open(conf->access_log.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        return log->fd == -1 ? -1 : 0;
    }
    return -1;
}

void ef_accesslog_close(ef_accesslog_t *log)
{
    if (log->fd > STDERR_FILENO)
        close(log->fd);
    log->fd = -1;
}

static void flush(ef_accesslog_buffer_t *buf)
{
    size_t off = 0;

    h2o_timeout_unlink(&buf->flush_timer);
    while (off < buf->size) {
        ssize_t n = write(buf->log->fd, buf->bytes + off, buf->size - off);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            ef_log(EF_LOG_ERROR, "access log: write failed: %s; %zu bytes of it lost", strerror(errno), buf->size - off);
            break;
        }
        off += (size_t)n;
    }
    buf->size = 0;
}

static void on_flush_timeout(h2o_timeout_entry_t *entry)
{
    flush(H2O_STRUCT_FROM_MEMBER(ef_accesslog_buffer_t, flush_timer, entry));
}

void ef_accesslog_buffer_init(ef_accesslog_buffer_t *buf, ef_accesslog_t *log, h2o_loop_t *loop, h2o_timeout_t *flush_timeout)
{
    *buf = (ef_accesslog_buffer_t){log, loop, flush_timeout, {0}, NULL, 0};
    buf->flush_timer.cb = on_flush_timeout;
    if (log->fd != -1)
        buf->bytes = h2o_mem_alloc(FLUSH_AT + MAX_LINE);
}

void ef_accesslog_buffer_dispose(ef_accesslog_buffer_t *buf)
{
    if (buf->bytes != NULL) {
        flush(buf);
        free(buf->bytes);
        buf->bytes = NULL;
    }
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Whether none of the 8 bytes of `x` needs more than a copy: no control character, '"', '\\' or byte above 0x7f (a
 * word at a time: the bytes of a line are almost all plain ASCII). It may say no for a plain word, never yes for one
 * that is not. */
static inline int is_plain8(uint64_t x)
{
    uint64_t quote = x ^ (ONES * '"'), backslash = x ^ (ONES * '\\');
    uint64_t special = ((x - ONES * 0x20) & ~x) | ((quote - ONES) & ~quote) | ((backslash - ONES) & ~backslash) | x;
    return (special & HIGHS) == 0;
}

/* Whether the `len` bytes at `s` are all plain (is_plain8), a word at a time: the last word overlaps the one before it,
 * or, for fewer than 8 bytes, is padded with spaces. */
static inline int is_plain(const char *s, size_t len)
{
    uint64_t word = ONES * ' ';
    size_t i;

    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&word, s + i, 8);
        if (!is_plain8(word))
            return 0;
    }
    if (i == len)
        return 1;
    if (len >= 8)
        memcpy(&word, s + len - 8, 8);
    else
        memcpy(&word, s, len);
    return is_plain8(word);
}

/* Appends `s` as the body of a JSON string, valid UTF-8 kept, anything else escaped; stops before `end`. */
static char *append_escaped(char *dst, const char *end, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *e = p + len;

    /* the common case: plain ASCII that fits, copied as it is */
    if (dst < end && len < (size_t)(end - dst) && is_plain(s, len)) {
        memcpy(dst, s, len);
        return dst + len;
    }
    while (p < e && dst < end - 6) {
        unsigned c = *p;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *dst++ = (char)c;
            ++p;
        } else if (c == '"' || c == '\\') {
            *dst++ = '\\';
            *dst++ = (char)c;
            ++p;
        } else if (c < 0x20) {
            memcpy(dst, "\\u00", 4);
            dst[4] = hex[c >> 4];
            dst[5] = hex[c & 15];
            dst += 6;
            ++p;
        } else {
            /* a multi-byte UTF-8 sequence is copied if well-formed; a stray byte becomes U+FFFD */
            size_t n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
            size_t i = 1;
            for (; n != 0 && i < n && p + i < e && (p[i] & 0xc0) == 0x80; ++i)
                ;
            if (n != 0 && i == n) {
                memcpy(dst, p, n);
                dst += n;
                p += n;
            } else {
                memcpy(dst, "\\ufffd", 6);
                dst += 6;
                ++p;
            }
        }
    }
    return dst;
}

/* Literal bytes; the line's fixed parts */
#define APPEND_LIT(dst, lit) (memcpy((dst), (lit), sizeof(lit) - 1), (dst) + sizeof(lit) - 1)

static char *append_cstr(char *dst, const char *s)
{
    size_t len = strlen(s);
    memcpy(dst, s, len);
    return dst + len;
}

/* A number without printf, which costs a line more than all the rest of it */
static char *append_uint(char *dst, uint64_t v)
{
    return dst + ef_format_uint(dst, v);
}

/* `us` microseconds as milliseconds with three decimals */
static char *append_ms(char *dst, uint64_t us)
{
    dst = append_uint(dst, us / 1000);
    *dst++ = '.';
    *dst++ = '0' + us / 100 % 10;
    *dst++ = '0' + us / 10 % 10;
    *dst++ = '0' + us % 10;
    return dst;
}

/* ,"KEY":"value" (or null when `s` is NULL); `key` is the literal ,"KEY": of `keylen` bytes (APPEND_STRING) */
#define APPEND_STRING(dst, end, key, s, len) append_string((dst), (end), ",\"" key "\":", sizeof(",\"" key "\":") - 1, (s), (len))

static inline __attribute__((always_inline)) char *append_string(char *dst, const char *end, const char *key, size_t keylen,
                                                                 const char *s, size_t len)
{
    memcpy(dst, key, keylen);
    dst += keylen;
    if (s == NULL) {
        memcpy(dst, "null", 4);
        return dst + 4;
    }
    *dst++ = '"';
    dst = append_escaped(dst, end - 1, s, len);
    *dst++ = '"';
    return dst;
}

static h2o_iovec_t find_header(h2o_req_t *req, const h2o_token_t *token)
{
    ssize_t i = h2o_find_header(&req->headers, token, -1);
    return i == -1 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
}

void ef_accesslog_write(ef_accesslog_buffer_t *buf, const ef_access_entry_t *entry)
{
    h2o_req_t *req = entry->req;
    char *dst, *end, ip[NI_MAXHOST];
    size_t iplen;

    if (buf->bytes == NULL)
        return;
    iplen = ef_client_ip(req, ip);

    dst = buf->bytes + buf->size;
    end = dst + MAX_LINE - 1024; /* the keys, numbers and closing brace fit in what is left */
    memcpy(dst, "{\"time\":\"", 9);
    dst += 9;
    dst += ef_log_timestamp(dst);
    *dst++ = '"';
    dst = APPEND_STRING(dst, end, "request_id", entry->request_id, strlen(entry->request_id));
    dst = APPEND_STRING(dst, end, "client_ip", iplen != 0 ? ip : NULL, iplen);
    dst = APPEND_STRING(dst, end, "method", req->input.method.base, req->input.method.len);
    dst = APPEND_STRING(dst, end, "uri", req->input.path.base, req->input.path.len);
    dst = APPEND_LIT(dst, ",\"protocol\":\"");
    dst = append_cstr(dst, req->version >= 0x200 ? "HTTP/2\"" : req->version == 0x101 ? "HTTP/1.1\"" : "HTTP/1.0\"");
    dst = APPEND_STRING(dst, end, "host", req->input.authority.base, req->input.authority.len);
    dst = APPEND_LIT(dst, ",\"status\":");
    dst = append_uint(dst, (uint64_t)entry->status);
    dst = APPEND_LIT(dst, ",\"bytes\":");
    dst = append_uint(dst, req->bytes_sent);
    dst = APPEND_LIT(dst, ",\"duration_ms\":");
    dst = append_ms(dst, entry->duration_us);
    dst = APPEND_STRING(dst, end, "behavior", entry->behavior, entry->behavior != NULL ? strlen(entry->behavior) : 0);
    dst = APPEND_STRING(dst, end, "origin", entry->origin, entry->origin != NULL ? strlen(entry->origin) : 0);
    dst = APPEND_STRING(dst, end, "cache", entry->cache, entry->cache != NULL ? strlen(entry->cache) : 0);
    if (entry->cache_reason != NULL)
        dst = APPEND_STRING(dst, end, "cache_reason", entry->cache_reason, strlen(entry->cache_reason));
    dst = APPEND_LIT(dst, ",\"upstream_status\":");
    if (entry->upstream_status != 0)
        dst = append_uint(dst, (uint64_t)entry->upstream_status);
    else
        dst = APPEND_LIT(dst, "null");
    dst = APPEND_LIT(dst, ",\"functions\":[");
    for (size_t i = 0; i != entry->num_functions; ++i) {
        const ef_access_function_t *f = entry->functions + i;
        if (i != 0)
            *dst++ = ',';
        dst = APPEND_LIT(dst, "{\"hook\":\"");
        dst = append_cstr(dst, f->hook);
        *dst++ = '"';
        dst = APPEND_STRING(dst, end, "function", f->function, strlen(f->function));
        dst = APPEND_LIT(dst, ",\"duration_ms\":");
        dst = append_ms(dst, f->duration_us);
        dst = APPEND_LIT(dst, ",\"outcome\":\"");
        dst = append_cstr(dst, f->outcome);
        dst = APPEND_LIT(dst, "\"}");
    }
    *dst++ = ']';
    h2o_iovec_t ua = find_header(req, H2O_TOKEN_USER_AGENT), referer = find_header(req, H2O_TOKEN_REFERER);
    dst = APPEND_STRING(dst, end, "user_agent", ua.base, ua.len);
    dst = APPEND_STRING(dst, end, "referer", referer.base, referer.len);
    memcpy(dst, "}\n", 2);
    dst += 2;

    if (buf->size == 0)
        h2o_timeout_link(buf->loop, buf->flush_timeout, &buf->flush_timer);
    buf->size = (size_t)(dst - buf->bytes);
    if (buf->size >= FLUSH_AT)
        flush(buf);
}
