/*
 * The event in the Lambda@Edge shape (functions/event_lambda.h).
 *
 * Out, the JSON is written straight into the caller's buffer: no tree, one pass over
 * the headers, strings copied in runs. Strings are sent as UTF-8; a byte that is not
 * part of a valid UTF-8 sequence goes out as \u00XX (its Latin-1 reading), so that
 * any header value survives JSON.parse and json.loads.
 *
 * Back, functions/json.c parses the result into ev->pool (one pass; a string without
 * escapes is not copied; jansson took over ten times the instructions, on every
 * invocation), and every field is compared with what was sent: only what differs is
 * checked and applied. A string comes back "unchanged" when it reads as what was sent,
 * \u00XX escapes included, so an untouched header with a Latin-1 byte is not rewritten
 * as UTF-8. Nothing is applied until everything was read and checked: on -1 the event
 * is as it was.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "functions/event_lambda.h"
#include "functions/json.h"

/* ---- to JSON ---- */

/* a cursor into the reserved tail of the caller's buffer */
struct st_writer_t {
    h2o_buffer_t **buf;
    char *p, *end;
};

static void do_reserve(struct st_writer_t *w, size_t n)
{
    if (w->p != NULL)
        (*w->buf)->size = w->p - (*w->buf)->bytes;
    h2o_iovec_t room = h2o_buffer_reserve(w->buf, n);
    if (room.base == NULL)
        h2o_fatal("no memory for a Lambda@Edge event");
    w->p = room.base;
    w->end = room.base + room.len;
}

static inline void need(struct st_writer_t *w, size_t n)
{
    if ((size_t)(w->end - w->p) < n)
        do_reserve(w, n);
}

static inline void put(struct st_writer_t *w, const void *s, size_t n)
{
    need(w, n);
    memcpy(w->p, s, n);
    w->p += n;
}

#define PUT_LIT(w, lit) put((w), H2O_STRLIT(lit))

/* whether a byte stands for itself in a JSON string: ASCII but control characters, '"' and '\' */
static inline int is_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* Appends the contents of a JSON string (without the quotes) for the bytes `s`. */
static void put_escaped(struct st_writer_t *w, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    while (p != end) {
        const unsigned char *run = p;
        size_t n;
        while (p != end) {
            if (is_plain(*p))
                ++p;
            else if (*p >= 0x80 && (n = ef_utf8_seq(p, end)) != 0)
                p += n;
            else
                break;
        }
        if (p != run)
            put(w, run, p - run);
        if (p == end)
            break;
        need(w, 6);
        *w->p++ = '\\';
        switch (*p) {
        case '"':
            *w->p++ = '"';
            break;
        case '\\':
            *w->p++ = '\\';
            break;
        case '\n':
            *w->p++ = 'n';
            break;
        case '\r':
            *w->p++ = 'r';
            break;
        case '\t':
            *w->p++ = 't';
            break;
        case '\b':
            *w->p++ = 'b';
            break;
        case '\f':
            *w->p++ = 'f';
            break;
        default: /* a control character, or a byte that is not UTF-8: the code point of its Latin-1 reading */
            memcpy(w->p, "u00", 3);
            w->p[3] = hex[*p >> 4];
            w->p[4] = hex[*p & 15];
            w->p += 5;
            break;
        }
        ++p;
    }
}

/* "string" */
static void put_string(struct st_writer_t *w, h2o_iovec_t v)
{
    need(w, 1);
    *w->p++ = '"';
    if (v.len != 0)
        put_escaped(w, v.base, v.len);
    need(w, 1);
    *w->p++ = '"';
}

/* A header's "key": its name as the viewer or origin wrote it, else Capitalised-Like-This. */
static void put_key(struct st_writer_t *w, const h2o_header_t *h)
{
    const h2o_iovec_t *name = h->name;
    size_t i;

    if (h->orig_name != NULL) {
        put_string(w, h2o_iovec_init(h->orig_name, name->len));
        return;
    }
    for (i = 0; i != name->len; ++i)
        if (!is_plain(name->base[i]))
            break;
    if (i != name->len) {
        put_string(w, *name); /* not a token: as it is */
        return;
    }
    need(w, name->len + 2);
    *w->p++ = '"';
    for (i = 0; i != name->len; ++i) {
        char c = name->base[i];
        *w->p++ = (i == 0 || name->base[i - 1] == '-') && c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
    }
    *w->p++ = '"';
}

static int same_name(const h2o_iovec_t *a, const h2o_iovec_t *b)
{
    return a == b || h2o_memis(a->base, a->len, b->base, b->len);
}

/* {"name": [{"key": "Name", "value": "v"}, ...], ...}: every value of a name in one array, names in the order first met */
static void put_headers(struct st_writer_t *w, const h2o_headers_t *headers)
{
    int first = 1;

    PUT_LIT(w, "{");
    for (size_t i = 0; headers != NULL && i != headers->size; ++i) {
        const h2o_iovec_t *name = headers->entries[i].name;
        size_t j;
        for (j = 0; j != i; ++j)
            if (same_name(headers->entries[j].name, name))
                break;
        if (j != i)
            continue; /* in the array of its first occurrence */
        if (!first)
            PUT_LIT(w, ",");
        first = 0;
        put_string(w, *name);
        PUT_LIT(w, ":[");
        for (j = i; j != headers->size; ++j) {
            if (!same_name(headers->entries[j].name, name))
                continue;
            if (j != i)
                PUT_LIT(w, ",");
            PUT_LIT(w, "{\"key\":");
            put_key(w, headers->entries + j);
            PUT_LIT(w, ",\"value\":");
            put_string(w, headers->entries[j].value);
            PUT_LIT(w, "}");
        }
        PUT_LIT(w, "]");
    }
    PUT_LIT(w, "}");
}

static void put_body(struct st_writer_t *w, h2o_iovec_t body, size_t limit)
{
    size_t len = body.len < limit ? body.len : limit;

    PUT_LIT(w, "\"body\":{\"inputTruncated\":");
    if (body.len > limit)
        PUT_LIT(w, "true");
    else
        PUT_LIT(w, "false");
    PUT_LIT(w, ",\"action\":\"read-only\",\"encoding\":\"base64\",\"data\":\"");
    need(w, h2o_base64_encode_capacity(len) + 1);
    w->p += h2o_base64_encode(w->p, body.base, len, 0);
    *w->p++ = '"';
    PUT_LIT(w, "}");
}

/* A guess at the event's size, so that the buffer is grown once or not at all. */
static size_t size_hint(const ef_event_t *ev, const ef_lambda_options_t *opts)
{
    size_t n = 512 + opts->distribution_domain.len + ev->client_ip.len + ev->request.path.len + ev->request.query.len;

    for (size_t i = 0; ev->request.headers != NULL && i != ev->request.headers->size; ++i)
        n += ev->request.headers->entries[i].name->len * 2 + ev->request.headers->entries[i].value.len + 32;
    if (ef_hook_is_response(ev->hook)) {
        for (size_t i = 0; ev->response.headers != NULL && i != ev->response.headers->size; ++i)
            n += ev->response.headers->entries[i].name->len * 2 + ev->response.headers->entries[i].value.len + 32;
    } else if (opts->include_body) {
        n += h2o_base64_encode_capacity(ev->request.body.len < opts->body_limit ? ev->request.body.len : opts->body_limit);
    }
    return n;
}

void ef_event_to_lambda_json(h2o_buffer_t **buf, const ef_event_t *ev, const ef_lambda_options_t *opts)
{
    struct st_writer_t w = {buf};

    do_reserve(&w, size_hint(ev, opts));
    PUT_LIT(&w, "{\"Records\":[{\"cf\":{\"config\":{\"distributionDomainName\":");
    put_string(&w, opts->distribution_domain);
    PUT_LIT(&w, ",\"distributionId\":\"EDGEFN\",\"eventType\":\"");
    put(&w, ef_hook_names[ev->hook], strlen(ef_hook_names[ev->hook]));
    PUT_LIT(&w, "\",\"requestId\":");
    put_string(&w, ev->request_id != NULL ? h2o_iovec_init(ev->request_id, strlen(ev->request_id)) : h2o_iovec_init("", 0));

    PUT_LIT(&w, "},\"request\":{\"clientIp\":");
    put_string(&w, ev->client_ip);
    PUT_LIT(&w, ",\"headers\":");
    put_headers(&w, ev->request.headers);
    PUT_LIT(&w, ",\"method\":");
    put_string(&w, ev->request.method);
    PUT_LIT(&w, ",\"querystring\":");
    put_string(&w, ev->request.query);
    PUT_LIT(&w, ",\"uri\":");
    put_string(&w, ev->request.path);
    if (!ef_hook_is_response(ev->hook) && opts->include_body) {
        PUT_LIT(&w, ",");
        put_body(&w, ev->request.body, opts->body_limit);
    }
    PUT_LIT(&w, "}");

    if (ef_hook_is_response(ev->hook)) {
        char status[16];
        const char *reason = ev->response.reason.len != 0 ? NULL : ef_event_status_reason(ev->response.status);
        PUT_LIT(&w, ",\"response\":{\"headers\":");
        put_headers(&w, ev->response.headers);
        PUT_LIT(&w, ",\"status\":\"");
        put(&w, status, snprintf(status, sizeof(status), "%d", ev->response.status));
        PUT_LIT(&w, "\",\"statusDescription\":");
        put_string(&w, reason != NULL ? h2o_iovec_init(reason, strlen(reason)) : ev->response.reason);
        PUT_LIT(&w, "}");
    }
    PUT_LIT(&w, "}}]}");
    (*buf)->size = w.p - (*buf)->bytes;
}

/* ---- back from JSON ---- */

#define INVALID(...)                                                                                                               \
    do {                                                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                                                        \
        return -1;                                                                                                                 \
    } while (0)

/* a header name in messages: "%.*s" */
#define NAME_ARGS(name, len) (int)((len) < 64 ? (len) : 64), (name)

static const char *type_of(const ef_json_t *v)
{
    if (v == NULL)
        return "nothing";
    switch (v->type) {
    case EF_JSON_OBJECT:
        return "object";
    case EF_JSON_ARRAY:
        return "array";
    case EF_JSON_STRING:
        return "string";
    case EF_JSON_NUMBER:
        return "number";
    case EF_JSON_TRUE:
    case EF_JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

static const char *a_type_of(const ef_json_t *v)
{
    switch (v->type) {
    case EF_JSON_ARRAY:
        return "an array";
    case EF_JSON_STRING:
        return "a string";
    case EF_JSON_NUMBER:
        return "a number";
    case EF_JSON_TRUE:
    case EF_JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* a string's bytes (`s` is a STRING) */
static h2o_iovec_t string_of(const ef_json_t *s)
{
    return s->string;
}

/* a header's values: item `k` of array `values` has a string "value" (checked by read_values) */
static h2o_iovec_t value_at(const ef_json_t *values, size_t k)
{
    return string_of(ef_json_get(values->array.items + k, "value"));
}

/* Whether `s` (UTF-8, from the result) reads as `sent` did in the event: equal bytes, or \u00XX where `sent` had a non-UTF-8 byte.
 */
static int same_as_sent(h2o_iovec_t sent, h2o_iovec_t s)
{
    if (sent.len == s.len && (s.len == 0 || memcmp(sent.base, s.base, s.len) == 0))
        return 1;
    const unsigned char *p = (const unsigned char *)sent.base, *end = p + sent.len;
    const unsigned char *q = (const unsigned char *)s.base, *qend = q + s.len;
    while (p != end) {
        size_t n = *p < 0x80 ? 1 : ef_utf8_seq(p, end);
        if (n != 0) {
            if ((size_t)(qend - q) < n || memcmp(p, q, n) != 0)
                return 0;
            p += n;
            q += n;
        } else {
            if (qend - q < 2 || q[0] != (0xc0 | *p >> 6) || q[1] != (0x80 | (*p & 0x3f)))
                return 0;
            ++p;
            q += 2;
        }
    }
    return q == qend;
}

/* A string member of `obj` (NULL when absent, or null when `null_is_absent`); -1 when it is something else. */
static int get_string(const ef_json_t *obj, const char *what, const char *key, int null_is_absent, const ef_json_t **out, char *err,
                      size_t errlen)
{
    const ef_json_t *v = ef_json_get(obj, key);

    *out = NULL;
    if (v == NULL || (null_is_absent && ef_json_is_null(v)))
        return 0;
    if (!ef_json_is_string(v))
        INVALID("%s.%s must be a string, got %s", what, key, type_of(v));
    *out = v;
    return 0;
}

static int decode_body(h2o_mem_pool_t *pool, const char *what, const ef_json_t *data, int base64, h2o_iovec_t *out, char *err,
                       size_t errlen)
{
    h2o_iovec_t v = string_of(data);

    if (!base64) {
        *out = h2o_strdup(pool, v.base, v.len);
        return 0;
    }
    if (ef_event_decode_base64(pool, v, out) != 0)
        INVALID("%s is not valid base64", what);
    return 0;
}

/* ---- headers ---- */

/* What the result does to one header name: its values now (none: removed). */
struct st_change_t {
    h2o_iovec_t name;
    const ef_json_t *values; /* the array, or NULL */
    size_t n;
};

typedef H2O_VECTOR(struct st_change_t) changes_t;

/* Whether `key` is `name` but for the case of ASCII letters (as h2o_tolower on both; equal bytes first: most are). */
static int same_name_ci(h2o_iovec_t key, const char *name, size_t namelen)
{
    if (key.len != namelen)
        return 0;
    for (size_t k = 0; k != namelen; ++k) {
        unsigned char a = key.base[k], b = name[k];
        if (a != b && ((a ^ b) != 0x20 || (a | 0x20) < 'a' || (a | 0x20) > 'z'))
            return 0;
    }
    return 1;
}

/* Checks the shape of `arr`, the values of header `name` in the result, and returns their number; -1 when invalid. */
static ssize_t read_values(const char *what, const char *name, size_t namelen, const ef_json_t *arr, char *err, size_t errlen)
{
    const ef_json_t *v;

    if (ef_json_is_null(arr))
        return 0; /* like a Lua nil: removed */
    if (!ef_json_is_array(arr))
        INVALID("%s.headers[\"%.*s\"] must be an array of {\"key\": ..., \"value\": ...}, got %s", what, NAME_ARGS(name, namelen),
                type_of(arr));
    for (size_t i = 0; i != arr->array.size; ++i) {
        const ef_json_t *item = arr->array.items + i;
        if (!ef_json_is_object(item))
            INVALID("%s.headers[\"%.*s\"][%zu] must be an object {\"key\": ..., \"value\": ...}, got %s", what,
                    NAME_ARGS(name, namelen), i, type_of(item));
        if (!ef_json_is_string(v = ef_json_get(item, "value")))
            INVALID("%s.headers[\"%.*s\"][%zu].value must be a string, got %s", what, NAME_ARGS(name, namelen), i, type_of(v));
        if ((v = ef_json_get(item, "key")) != NULL && !ef_json_is_null(v)) {
            if (!ef_json_is_string(v))
                INVALID("%s.headers[\"%.*s\"][%zu].key must be a string, got %s", what, NAME_ARGS(name, namelen), i, type_of(v));
            h2o_iovec_t key = string_of(v);
            if (!same_name_ci(key, name, namelen))
                INVALID("%s.headers[\"%.*s\"][%zu].key \"%.*s\" is not the header's name", what, NAME_ARGS(name, namelen), i,
                        NAME_ARGS(key.base, key.len));
        }
    }
    return (ssize_t)arr->array.size;
}

/* Whether the `n` values in `arr` are those of `name` in `headers`, in order; the headers of that name are marked in `returned`. */
static int same_values(const h2o_headers_t *headers, const char *name, size_t namelen, const ef_json_t *arr, size_t n,
                       uint8_t *returned)
{
    size_t k = 0;
    int same = 1;

    for (size_t i = 0; headers != NULL && i != headers->size; ++i) {
        const h2o_header_t *h = headers->entries + i;
        if (!h2o_memis(h->name->base, h->name->len, name, namelen))
            continue;
        returned[i] = 1;
        if (same && (k == n || !same_as_sent(h->value, value_at(arr, k))))
            same = 0;
        ++k;
    }
    return same && k == n;
}

/**
 * Reads the headers object `obj` of the result against `headers` as sent (NULL: none):
 * the names whose values differ (added, changed, removed) go into `changes`, each
 * checked against the rules of ev->hook.
 */
static int read_headers(ef_event_t *ev, const char *what, const h2o_headers_t *headers, const ef_json_t *obj, changes_t *changes,
                        char *err, size_t errlen)
{
    size_t nsent = headers != NULL ? headers->size : 0;
    uint8_t local[64], *returned = nsent <= sizeof(local) ? local : h2o_mem_alloc_pool(ev->pool, nsent);
    char why[256];

    if (!ef_json_is_object(obj))
        INVALID("%s.headers must be an object, got %s", what, type_of(obj));
    memset(returned, 0, nsent);
    for (size_t m = 0; m != obj->object.size; ++m) {
        const char *name = obj->object.members[m].key.base;
        size_t namelen = obj->object.members[m].key.len;
        const ef_json_t *arr = &obj->object.members[m].value;
        ssize_t n = read_values(what, name, namelen, arr, err, errlen);
        if (n < 0)
            return -1;
        if (same_values(headers, name, namelen, arr, n, returned))
            continue;
        h2o_vector_reserve(ev->pool, changes, changes->size + 1);
        changes->entries[changes->size++] = (struct st_change_t){h2o_iovec_init(name, namelen), n != 0 ? arr : NULL, n};
    }
    /* names sent and not returned: removed (once, where the name first was) */
    for (size_t i = 0; i != nsent; ++i) {
        if (returned[i])
            continue;
        const h2o_iovec_t *hname = headers->entries[i].name;
        size_t j;
        for (j = 0; j != i; ++j)
            if (!returned[j] && same_name(headers->entries[j].name, hname))
                break;
        if (j != i)
            continue;
        h2o_vector_reserve(ev->pool, changes, changes->size + 1);
        changes->entries[changes->size++] = (struct st_change_t){*hname, NULL, 0};
    }

    for (size_t i = 0; i != changes->size; ++i) {
        struct st_change_t *c = changes->entries + i;
        if (!ef_event_header_allowed(ev->hook, c->name, why, sizeof(why)))
            INVALID("%s.headers[\"%.*s\"]: %s", what, NAME_ARGS(c->name.base, c->name.len), why);
        for (size_t k = 0; k != c->n; ++k) {
            h2o_iovec_t v = value_at(c->values, k);
            if (ef_event_check_header_value(c->name, v, why, sizeof(why)) != 0)
                INVALID("%s.headers[\"%.*s\"][%zu].value: %s", what, NAME_ARGS(c->name.base, c->name.len), k, why);
        }
    }
    return 0;
}

/* Applies checked changes: each name changed is rewritten with its new values, at the end; the others stay as they are. */
static void apply_headers(ef_event_t *ev, h2o_headers_t *headers, const changes_t *changes)
{
    for (size_t i = 0; i != changes->size; ++i) {
        const struct st_change_t *c = changes->entries + i;
        ef_event_delete_headers(headers, c->name);
        if (c->n == 0)
            continue;
        h2o_iovec_t name = h2o_strdup(ev->pool, c->name.base, c->name.len);
        for (size_t k = 0; k != c->n; ++k) {
            h2o_iovec_t v = value_at(c->values, k);
            ef_event_add_header(ev->pool, headers, name, h2o_strdup(ev->pool, v.base, v.len));
        }
    }
}

/* ---- request ---- */

/* A querystring as a function set it: without '?'; '#', blanks and control characters refused; other bytes %-encoded. */
static int read_query(h2o_mem_pool_t *pool, h2o_iovec_t q, h2o_iovec_t *out, char *err, size_t errlen)
{
    static const char hex[] = "0123456789ABCDEF";
    char *buf = h2o_mem_alloc_pool(pool, q.len * 3 + 1), *p = buf;

    for (size_t i = 0; i != q.len; ++i) {
        unsigned char c = q.base[i];
        if (c == '#')
            INVALID("request.querystring contains '#'");
        if (c <= ' ' || c == 0x7f)
            INVALID("request.querystring contains whitespace or a control character");
        if (c >= 0x80) {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        } else {
            *p++ = c;
        }
    }
    *out = p != buf ? h2o_iovec_init(buf, p - buf) : h2o_iovec_init(NULL, 0);
    return 0;
}

/* method and clientIp: must come back as they were sent, if at all */
static int check_read_only(const ef_json_t *request, const char *key, h2o_iovec_t sent, char *err, size_t errlen)
{
    const ef_json_t *v;

    if (get_string(request, "request", key, 0, &v, err, errlen) != 0)
        return -1;
    if (v != NULL && !same_as_sent(sent, string_of(v))) {
        h2o_iovec_t now = string_of(v);
        INVALID("request.%s is read-only (changed from \"%.*s\" to \"%.*s\")", key, NAME_ARGS(sent.base, sent.len),
                NAME_ARGS(now.base, now.len));
    }
    return 0;
}

/* request.body: with action "replace", the new body in `*body` (`*replaced` set) */
static int read_request_body(ef_event_t *ev, const ef_lambda_options_t *opts, const ef_json_t *request, h2o_iovec_t *body,
                             int *replaced, char *err, size_t errlen)
{
    const ef_json_t *b = ef_json_get(request, "body"), *action, *encoding, *data;

    if (b == NULL || ef_json_is_null(b))
        return 0;
    if (!ef_json_is_object(b))
        INVALID("request.body must be an object {\"action\": ..., \"encoding\": ..., \"data\": ...}, got %s", type_of(b));
    if (get_string(b, "request.body", "action", 1, &action, err, errlen) != 0)
        return -1;
    if (action == NULL || ef_json_string_is(action, "read-only"))
        return 0;
    if (!ef_json_string_is(action, "replace"))
        INVALID("request.body.action must be \"read-only\" or \"replace\", got \"%.*s\"",
                NAME_ARGS(action->string.base, action->string.len));
    if (!opts->include_body)
        INVALID("request.body: replacing the body needs `include-body: true` in the function's configuration");
    if (!ef_json_is_string(encoding = ef_json_get(b, "encoding")))
        INVALID("request.body.encoding must be \"base64\" or \"text\", got %s", type_of(encoding));
    if (!ef_json_string_is(encoding, "base64") && !ef_json_string_is(encoding, "text"))
        INVALID("request.body.encoding must be \"base64\" or \"text\", got \"%.*s\"",
                NAME_ARGS(encoding->string.base, encoding->string.len));
    if (get_string(b, "request.body", "data", 0, &data, err, errlen) != 0)
        return -1;
    if (data == NULL)
        INVALID("request.body.data must be a string, got nothing");
    if (decode_body(ev->pool, "request.body.data", data, encoding->string.base[0] == 'b', body, err, errlen) != 0)
        return -1;
    *replaced = 1;
    return 0;
}

static int read_request(ef_event_t *ev, const ef_lambda_options_t *opts, const ef_json_t *request, char *err, size_t errlen)
{
    h2o_iovec_t path = ev->request.path, query = ev->request.query, body = {NULL};
    int path_changed = 0, body_replaced = 0;
    changes_t changes = {NULL};
    const ef_json_t *v;
    char why[256];

    if (check_read_only(request, "method", ev->request.method, err, errlen) != 0 ||
        check_read_only(request, "clientIp", ev->client_ip, err, errlen) != 0)
        return -1;
    if ((v = ef_json_get(request, "origin")) != NULL && !ef_json_is_null(v))
        INVALID("request.origin: changing the origin is not supported (edgefn's behaviors choose it)");

    if (get_string(request, "request", "uri", 0, &v, err, errlen) != 0)
        return -1;
    if (v != NULL && !same_as_sent(ev->request.path, string_of(v))) {
        path = h2o_strdup(ev->pool, v->string.base, v->string.len);
        if (ef_event_check_path(path, why, sizeof(why)) != 0)
            INVALID("request.%s", why);
        path_changed = 1;
    }

    if (get_string(request, "request", "querystring", 0, &v, err, errlen) != 0)
        return -1;
    if (v != NULL) {
        h2o_iovec_t q = string_of(v);
        if (q.len != 0 && q.base[0] == '?')
            ++q.base, --q.len;
        if (!same_as_sent(ev->request.query, q)) {
            if (read_query(ev->pool, q, &query, err, errlen) != 0)
                return -1;
            path_changed = 1;
        }
    }

    if (read_request_body(ev, opts, request, &body, &body_replaced, err, errlen) != 0)
        return -1;

    if ((v = ef_json_get(request, "headers")) != NULL) {
        if (read_headers(ev, "request", ev->request.headers, v, &changes, err, errlen) != 0)
            return -1;
        if (changes.size != 0 && ev->request.headers == NULL) {
            ev->request.headers = h2o_mem_alloc_pool(ev->pool, sizeof(*ev->request.headers));
            *ev->request.headers = (h2o_headers_t){NULL};
        }
        apply_headers(ev, ev->request.headers, &changes);
    }
    if (path_changed) {
        ev->request.path = path;
        ev->request.query = query;
        ev->request_path_changed = 1;
    }
    if (body_replaced) {
        ev->request.body = body;
        ev->request_body_changed = 1;
    }
    return 0;
}

/* ---- response ---- */

static int read_status(const ef_json_t *v, int *status, char *err, size_t errlen)
{
    long long n = 0;

    if (ef_json_is_number(v) && v->is_int) {
        n = v->number.i;
    } else if (ef_json_is_string(v)) {
        h2o_iovec_t s = string_of(v);
        size_t i;
        for (i = 0; i != s.len && i != 9 && s.base[i] >= '0' && s.base[i] <= '9'; ++i)
            n = n * 10 + (s.base[i] - '0');
        if (i == 0 || i != s.len)
            INVALID("response.status must be a number (\"200\" or 200), got \"%.*s\"", NAME_ARGS(s.base, s.len));
    } else if (ef_json_is_number(v)) {
        INVALID("response.status must be an integer, got %g", ef_json_number(v));
    } else {
        INVALID("response.status must be a number (\"200\" or 200), got %s", type_of(v));
    }
    if (n < 200 || n > 599)
        INVALID("response.status %lld is outside 200-599", n);
    *status = (int)n;
    return 0;
}

/* body and bodyEncoding: a body in `*res` when there is one */
static int read_response_body(ef_event_t *ev, const ef_json_t *response, ef_event_response_t *res, char *err, size_t errlen)
{
    const ef_json_t *body, *encoding;
    int base64 = 0;

    if (get_string(response, "response", "body", 1, &body, err, errlen) != 0 ||
        get_string(response, "response", "bodyEncoding", 1, &encoding, err, errlen) != 0)
        return -1;
    if (encoding != NULL) {
        if (ef_json_string_is(encoding, "base64"))
            base64 = 1;
        else if (!ef_json_string_is(encoding, "text"))
            INVALID("response.bodyEncoding must be \"text\" or \"base64\", got \"%.*s\"",
                    NAME_ARGS(encoding->string.base, encoding->string.len));
    }
    if (body == NULL)
        return 0;
    if (decode_body(ev->pool, "response.body", body, base64, &res->body, err, errlen) != 0)
        return -1;
    res->has_body = 1;
    return 0;
}

/**
 * A response: at a response hook, the one sent (`generated` 0), whose unchanged parts
 * stay; at a request hook, one the function generated, from nothing.
 */
static int read_response(ef_event_t *ev, const ef_json_t *response, int generated, char *err, size_t errlen)
{
    ef_event_response_t res = ev->response;
    changes_t changes = {NULL};
    const ef_json_t *reason;
    char why[256];

    if (generated) {
        res = (ef_event_response_t){0};
        res.headers = h2o_mem_alloc_pool(ev->pool, sizeof(*res.headers));
        *res.headers = (h2o_headers_t){NULL};
    }
    if (read_status(ef_json_get(response, "status"), &res.status, err, errlen) != 0)
        return -1;
    if (get_string(response, "response", "statusDescription", 1, &reason, err, errlen) != 0)
        return -1;
    if (generated) {
        if (reason != NULL) {
            res.reason = h2o_strdup(ev->pool, reason->string.base, reason->string.len);
        } else {
            const char *r = ef_event_status_reason(res.status);
            res.reason = h2o_iovec_init(r, strlen(r));
        }
    } else {
        const char *r = ev->response.reason.len != 0 ? NULL : ef_event_status_reason(ev->response.status);
        h2o_iovec_t sent = r != NULL ? h2o_iovec_init(r, strlen(r)) : ev->response.reason;
        if (reason != NULL && !same_as_sent(sent, string_of(reason))) {
            res.reason = h2o_strdup(ev->pool, reason->string.base, reason->string.len);
        } else if (res.status != ev->response.status) {
            /* a new status with the old description: the new status's own */
            r = ef_event_status_reason(res.status);
            res.reason = h2o_iovec_init(r, strlen(r));
        }
    }
    if (read_response_body(ev, response, &res, err, errlen) != 0)
        return -1;
    if (ef_event_check_response(&res, why, sizeof(why)) != 0)
        INVALID("response: %s", why);

    const ef_json_t *headers = ef_json_get(response, "headers");
    if (headers != NULL) {
        if (read_headers(ev, "response", generated ? NULL : ev->response.headers, headers, &changes, err, errlen) != 0)
            return -1;
        if (changes.size != 0 && res.headers == NULL) {
            res.headers = h2o_mem_alloc_pool(ev->pool, sizeof(*res.headers));
            *res.headers = (h2o_headers_t){NULL};
        }
        apply_headers(ev, res.headers, &changes);
    }
    ev->response = res;
    if (generated)
        ev->outcome = EF_EVENT_RESPOND;
    return 0;
}

/* ---- the result ---- */

static int read_result(ef_event_t *ev, const ef_lambda_options_t *opts, const ef_json_t *root, char *err, size_t errlen)
{
    int at_response = ef_hook_is_response(ev->hook);

    if (!ef_json_is_object(root))
        INVALID("the handler returned %s; expected %s (an object)", a_type_of(root),
                at_response ? "the response" : "the request, or a response");
    if (ef_json_get(root, "Records") != NULL)
        INVALID("the handler returned the whole event; return event.Records[0].cf.%s%s", at_response ? "response" : "request",
                at_response ? "" : " (or a response)");
    if (at_response) {
        if (ef_json_get(root, "status") == NULL)
            INVALID("at %s a function must return a response (an object with status), not the request", ef_hook_names[ev->hook]);
        return read_response(ev, root, 0, err, errlen);
    }
    if (ef_json_get(root, "status") != NULL)
        return read_response(ev, root, 1, err, errlen);
    return read_request(ev, opts, root, err, errlen);
}

int ef_event_from_lambda_json(ef_event_t *ev, const ef_lambda_options_t *opts, const char *json, size_t len, char *err,
                              size_t errlen)
{
    ef_json_error_t error;
    const ef_json_t *root;
    size_t i;

    for (i = 0; i != len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\r' || json[i] == '\n'); ++i)
        ;
    if (i == len)
        INVALID("the handler returned nothing; expected %s (an object)",
                ef_hook_is_response(ev->hook) ? "the response" : "the request, or a response");
    if ((root = ef_json_parse(ev->pool, json, len, &error)) == NULL)
        INVALID("the handler's result is not valid JSON: %s (line %d, column %d)", error.text, error.line, error.column);
    return read_result(ev, opts, root, err, errlen);
}
