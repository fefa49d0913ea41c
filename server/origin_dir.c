/*
 * Directory origins: a local directory served the way an S3 bucket or nginx's
 * static files would be, behind the same fetch interface as HTTP origins, so that
 * hooks, the cache and the logs see one kind of response.
 *
 * Files are read on the event loop, one chunk per proceed, which suits files in the
 * page cache (the demo site, assets); a directory on a slow disk would stall the
 * thread while a chunk is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "server/errors.h"
#include "server/origin.h"
#include "server/range.h"

#define CHUNK_SIZE (64 * 1024)

struct st_fetch_t {
    ef_fetch_t super;
    int fd;
    off_t offset;    /* of the next byte to send */
    off_t remaining; /* bytes still to send */
    char *buf;
    h2o_iovec_t inline_body; /* for generated answers: 301, 404, 405, 416 */
    unsigned done : 1;
};

static void close_file(struct st_fetch_t *f)
{
    if (f->fd != -1) {
        close(f->fd);
        f->fd = -1;
    }
}

static void do_proceed(ef_fetch_t *_f)
{
    struct st_fetch_t *f = (void *)_f;
    h2o_iovec_t buf;
    ssize_t n;

    if (f->done)
        return;
    if (f->fd == -1) {
        /* an inline body, or none */
        f->done = 1;
        buf = f->inline_body;
        f->super.cb->on_body(&f->super, &buf, buf.len != 0, H2O_SEND_STATE_FINAL);
        return;
    }
    size_t want = f->remaining < CHUNK_SIZE ? (size_t)f->remaining : CHUNK_SIZE;
    if (f->buf == NULL)
        f->buf = h2o_mem_alloc_pool(&f->super.req->pool, want);
    while ((n = pread(f->fd, f->buf, want, f->offset)) == -1 && errno == EINTR)
        ;
    if (n <= 0) {
        /* the file shrank or broke under us: the length already went out, so the response is cut */
        f->done = 1;
        close_file(f);
        f->super.cb->on_body(&f->super, NULL, 0, H2O_SEND_STATE_ERROR);
        return;
    }
    f->offset += n;
    f->remaining -= n;
    if (f->remaining == 0) {
        f->done = 1;
        close_file(f);
    }
    buf = h2o_iovec_init(f->buf, (size_t)n);
    f->super.cb->on_body(&f->super, &buf, 1, f->done ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void do_cancel(ef_fetch_t *_f)
{
    struct st_fetch_t *f = (void *)_f;
    f->done = 1;
    close_file(f);
}

static void on_dispose(void *f)
{
    close_file(f);
}

/* Answers by itself; a `cause` gives the answer edgefn's error body, NULL no body. */
static void answer(struct st_fetch_t *f, int status, const char *reason, const char *cause)
{
    h2o_req_t *req = f->super.req;

    req->res.status = status;
    req->res.reason = reason;
    if (cause != NULL) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/plain; charset=utf-8"));
        f->inline_body = ef_error_body(req, status, reason, cause, f->super.request_id);
        req->res.content_length = f->inline_body.len;
    }
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        f->inline_body = h2o_iovec_init(NULL, 0);
    f->super.upstream_status = status;
    f->super.cb->on_head(&f->super, 0, NULL);
}

static h2o_iovec_t find_header(h2o_req_t *req, const h2o_token_t *token)
{
    ssize_t i = h2o_find_header(&req->headers, token, -1);
    return i == -1 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
}

static int etag_matches(h2o_iovec_t list, h2o_iovec_t etag)
{
    /* If-None-Match: a comma-separated list of (possibly weak) tags, or "*" */
    const char *p = list.base, *end = list.base + list.len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ','))
            ++p;
        if (p < end && *p == '*')
            return 1;
        if (end - p >= 2 && p[0] == 'W' && p[1] == '/')
            p += 2;
        const char *tag = p;
        while (p < end && *p != ',')
            ++p;
        const char *tag_end = p;
        while (tag_end > tag && tag_end[-1] == ' ')
            --tag_end;
        if (h2o_memis(tag, tag_end - tag, etag.base, etag.len))
            return 1;
    }
    return 0;
}

static int not_modified(h2o_req_t *req, h2o_iovec_t etag, time_t mtime)
{
    h2o_iovec_t inm = find_header(req, H2O_TOKEN_IF_NONE_MATCH), ims;
    struct tm tm;

    if (inm.base != NULL)
        return etag_matches(inm, etag);
    if ((ims = find_header(req, H2O_TOKEN_IF_MODIFIED_SINCE)).base != NULL && h2o_time_parse_rfc1123(ims.base, ims.len, &tm) == 0)
        return timegm(&tm) >= mtime;
    return 0;
}

static ef_fetch_t *do_fetch(ef_origin_t *origin, h2o_req_t *req, const char *request_id, const ef_fetch_callbacks_t *cb, void *data)
{
    static const ef_fetch_ops_t ops = {do_proceed, do_cancel};
    struct st_fetch_t *f = ef_fetch_alloc(req, request_id, sizeof(*f), &ops, on_dispose, cb, data);
    const char *dir = origin->conf->directory;
    size_t dirlen = strlen(dir), pathlen = req->path_normalized.len;
    int is_dir_path = req->path_normalized.base[pathlen - 1] == '/';
    struct stat st;
    char *fspath;

    f->fd = -1;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, HEAD"));
        answer(f, 405, "Method Not Allowed", "a directory origin serves only GET and HEAD");
        return &f->super;
    }

    /* path_normalized has no "." or ".." segments and no %-escapes left, so it stays inside dir */
    fspath = h2o_mem_alloc_pool(&req->pool, dirlen + pathlen + sizeof("index.html"));
    memcpy(fspath, dir, dirlen);
    memcpy(fspath + dirlen, req->path_normalized.base, pathlen);
    strcpy(fspath + dirlen + pathlen, is_dir_path ? "index.html" : "");
    if (memchr(req->path_normalized.base, '\0', pathlen) != NULL || (f->fd = open(fspath, O_RDONLY | O_CLOEXEC)) == -1 ||
        fstat(f->fd, &st) != 0) {
        int err = errno;
        close_file(f);
        char cause[300];
        snprintf(cause, sizeof(cause), "%s %.*s in origin \"%s\"", err == EACCES ? "no permission to read" : "no file",
                 (int)(pathlen < 200 ? pathlen : 200), req->path_normalized.base, origin->conf->name);
        if (err == EACCES)
            answer(f, 403, "Forbidden", cause);
        else
            answer(f, 404, "Not Found", cause);
        return &f->super;
    }
    if (S_ISDIR(st.st_mode)) {
        /* "/docs" names a directory: send the client to "/docs/", as web servers do */
        close_file(f);
        h2o_iovec_t location =
            req->query_at != SIZE_MAX
                ? h2o_concat(&req->pool, h2o_iovec_init(req->path.base, req->query_at), h2o_iovec_init(H2O_STRLIT("/")),
                             h2o_iovec_init(req->path.base + req->query_at, req->path.len - req->query_at))
                : h2o_concat(&req->pool, req->path, h2o_iovec_init(H2O_STRLIT("/")));
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, location.base, location.len);
        char cause[300];
        snprintf(cause, sizeof(cause), "%.*s is a directory; see %.*s/", (int)(pathlen < 140 ? pathlen : 140),
                 req->path_normalized.base, (int)(pathlen < 140 ? pathlen : 140), req->path_normalized.base);
        answer(f, 301, "Moved Permanently", cause);
        return &f->super;
    }
    if (!S_ISREG(st.st_mode)) {
        close_file(f);
        answer(f, 404, "Not Found", "not a regular file");
        return &f->super;
    }

    char etagbuf[64], lmbuf[H2O_TIMESTR_RFC1123_LEN + 1];
    struct tm gmt;
    h2o_iovec_t etag = h2o_strdup(
        &req->pool, etagbuf,
        (size_t)snprintf(etagbuf, sizeof(etagbuf), "\"%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st.st_mtime, (uint64_t)st.st_size));
    gmtime_r(&st.st_mtime, &gmt);
    h2o_time2str_rfc1123(lmbuf, &gmt);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, etag.base, etag.len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LAST_MODIFIED, NULL, h2o_strdup(&req->pool, lmbuf, SIZE_MAX).base,
                   H2O_TIMESTR_RFC1123_LEN);

    if (not_modified(req, etag, st.st_mtime)) {
        close_file(f);
        answer(f, 304, "Not Modified", NULL);
        return &f->super;
    }

    h2o_iovec_t ext = h2o_get_filext(fspath, strlen(fspath));
    h2o_mimemap_type_t *type = h2o_mimemap_get_type_by_extension(origin->dir.mimemap, ext);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type->data.mimetype.base, type->data.mimetype.len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCEPT_RANGES, NULL, H2O_STRLIT("bytes"));

    uint64_t first = 0, last = st.st_size - 1;
    h2o_iovec_t range = find_header(req, H2O_TOKEN_RANGE), if_range = find_header(req, H2O_TOKEN_IF_RANGE);
    int ranged = 0;
    if (range.base != NULL && (if_range.base == NULL || h2o_memis(if_range.base, if_range.len, etag.base, etag.len) ||
                               h2o_memis(if_range.base, if_range.len, lmbuf, H2O_TIMESTR_RFC1123_LEN)))
        ranged = ef_range_parse(range, st.st_size, &first, &last);
    if (ranged == -1) {
        char cr[64];
        close_file(f);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_RANGE, NULL,
                       h2o_strdup(&req->pool, cr, (size_t)snprintf(cr, sizeof(cr), "bytes */%" PRIu64, (uint64_t)st.st_size)).base,
                       strlen(cr));
        answer(f, 416, "Range Not Satisfiable", "the range starts past the end of the file");
        return &f->super;
    }
    if (ranged == 1) {
        char cr[96];
        int n = snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, (uint64_t)first, (uint64_t)last,
                         (uint64_t)st.st_size);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_RANGE, NULL, h2o_strdup(&req->pool, cr, n).base, n);
        req->res.status = 206;
        req->res.reason = "Partial Content";
    } else {
        req->res.status = 200;
        req->res.reason = "OK";
    }
    f->offset = first;
    f->remaining = st.st_size == 0 ? 0 : last - first + 1;
    req->res.content_length = (size_t)f->remaining;
    if (f->remaining == 0 || h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        close_file(f);
    f->super.upstream_status = req->res.status;
    cb->on_head(&f->super, 0, NULL);
    return &f->super;
}

const ef_origin_ops_t ef_origin_dir_ops = {NULL, NULL, do_fetch};
