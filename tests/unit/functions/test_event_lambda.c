/*
 * functions/event_lambda.c: the event a process function (nodejs, python, provided) is
 * sent in the Lambda@Edge shape, and how what it returns is read back. The encoded
 * event is parsed back with jansson (strictly: valid UTF-8) and its values checked;
 * results are built the way a function builds them, by changing the event it got.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "functions/event_lambda.h"

struct fixture {
    h2o_mem_pool_t pool;
    h2o_headers_t req_headers, res_headers;
    ef_event_t ev;
    ef_lambda_options_t opts;
    h2o_buffer_t *buf;
    json_t *root; /* the last event encoded, parsed */
    char err[512];
};

static h2o_iovec_t iov(const char *s)
{
    return h2o_iovec_init(s, strlen(s));
}

/* GET /index.html?a=1&b=2 from 203.0.113.178, with headers of every kind */
static void init_event(struct fixture *fx, ef_hook_t hook)
{
    h2o_mem_pool_t *pool = &fx->pool;

    fx->req_headers = (h2o_headers_t){NULL};
    fx->res_headers = (h2o_headers_t){NULL};
    h2o_add_header(pool, &fx->req_headers, H2O_TOKEN_HOST, "Host", H2O_STRLIT("example.org"));
    h2o_add_header(pool, &fx->req_headers, H2O_TOKEN_USER_AGENT, NULL, H2O_STRLIT("curl/8.0"));
    h2o_add_header_by_str(pool, &fx->req_headers, H2O_STRLIT("x-multi"), 0, NULL, H2O_STRLIT("one"));
    h2o_add_header(pool, &fx->req_headers, H2O_TOKEN_ACCEPT, "ACCEPT", H2O_STRLIT("*/*"));
    h2o_add_header_by_str(pool, &fx->req_headers, H2O_STRLIT("x-multi"), 0, NULL, H2O_STRLIT("two"));
    h2o_add_header(pool, &fx->req_headers, H2O_TOKEN_COOKIE, NULL, H2O_STRLIT("a=1; b=2"));
    fx->ev = (ef_event_t){.hook = hook,
                          .request_id = "req-0001",
                          .client_ip = iov("203.0.113.178"),
                          .pool = pool,
                          .request = {.method = iov("GET"),
                                      .path = iov("/index.html"),
                                      .query = iov("a=1&b=2"),
                                      .headers = &fx->req_headers,
                                      .body = {NULL}},
                          .outcome = EF_EVENT_CONTINUE};
    if (ef_hook_is_response(hook)) {
        h2o_add_header(pool, &fx->res_headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/html"));
        h2o_add_header(pool, &fx->res_headers, H2O_TOKEN_SET_COOKIE, NULL, H2O_STRLIT("sid=1; Path=/"));
        h2o_add_header(pool, &fx->res_headers, H2O_TOKEN_SET_COOKIE, NULL, H2O_STRLIT("theme=dark"));
        h2o_add_header(pool, &fx->res_headers, H2O_TOKEN_CONTENT_LENGTH, NULL, H2O_STRLIT("12"));
        fx->ev.response = (ef_event_response_t){.status = 200, .reason = {NULL}, .headers = &fx->res_headers};
    }
    fx->opts = (ef_lambda_options_t){.distribution_domain = iov("localhost:8080"), .include_body = 0, .body_limit = 40 << 10};
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    h2o_mem_init_pool(&fx->pool);
    h2o_buffer_init(&fx->buf, &h2o_socket_buffer_prototype);
    init_event(fx, EF_HOOK_VIEWER_REQUEST);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (fx->root != NULL)
        json_decref(fx->root);
    h2o_buffer_dispose(&fx->buf);
    h2o_mem_clear_pool(&fx->pool);
    free(fx);
    return 0;
}

/* Encodes the event and parses it back; the JSON must be valid (UTF-8 included). Returns Records[0].cf. */
static json_t *encode(struct fixture *fx)
{
    json_error_t error;

    if (fx->root != NULL)
        json_decref(fx->root);
    h2o_buffer_consume(&fx->buf, fx->buf->size);
    ef_event_to_lambda_json(&fx->buf, &fx->ev, &fx->opts);
    fx->root = json_loadb(fx->buf->bytes, fx->buf->size, JSON_ALLOW_NUL, &error);
    if (fx->root == NULL)
        fail_msg("invalid JSON: %s at column %d: %.*s", error.text, error.column, (int)fx->buf->size, fx->buf->bytes);
    json_t *records = json_object_get(fx->root, "Records");
    assert_true(json_is_array(records));
    assert_int_equal(json_array_size(records), 1);
    json_t *cf = json_object_get(json_array_get(records, 0), "cf");
    assert_true(json_is_object(cf));
    return cf;
}

/* the string at a path of keys (NULL-terminated), asserted to be one */
static const char *str_at(json_t *v, ...)
{
    va_list args;
    const char *key;

    va_start(args, v);
    while ((key = va_arg(args, const char *)) != NULL) {
        v = json_object_get(v, key);
        if (v == NULL)
            fail_msg("no \"%s\"", key);
    }
    va_end(args);
    if (!json_is_string(v))
        fail_msg("not a string");
    return json_string_value(v);
}

static json_t *request_of(struct fixture *fx)
{
    return json_object_get(encode(fx), "request");
}

/* "name: value\n" for every header, in order */
static const char *dump_headers(struct fixture *fx, const h2o_headers_t *headers)
{
    char *buf = h2o_mem_alloc_pool(&fx->pool, 8192), *p = buf;
    *p = '\0';
    for (size_t i = 0; i != headers->size; ++i)
        p += sprintf(p, "%.*s: %.*s\n", (int)headers->entries[i].name->len, headers->entries[i].name->base,
                     (int)headers->entries[i].value.len, headers->entries[i].value.base);
    return buf;
}

/* Decodes `s`, where ' stands for " (write \u0027 for a quote). */
static int decode(struct fixture *fx, const char *s)
{
    char *json = h2o_mem_alloc_pool(&fx->pool, strlen(s) + 1);
    for (size_t i = 0; i <= strlen(s); ++i)
        json[i] = s[i] == '\'' ? '"' : s[i];
    fx->err[0] = '\0';
    return ef_event_from_lambda_json(&fx->ev, &fx->opts, json, strlen(json), fx->err, sizeof(fx->err));
}

/* Decodes a result as a function would return it: `v` serialized (and released). */
static int decode_json(struct fixture *fx, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(s);
    fx->err[0] = '\0';
    int ret = ef_event_from_lambda_json(&fx->ev, &fx->opts, s, strlen(s), fx->err, sizeof(fx->err));
    free(s);
    return ret;
}

static void assert_invalid(struct fixture *fx, int ret, const char *expected)
{
    if (ret != -1)
        fail_msg("accepted; expected: %s", expected);
    if (strcmp(fx->err, expected) != 0)
        fail_msg("got \"%s\"\nexpected \"%s\"", fx->err, expected);
}

static void assert_iov(h2o_iovec_t v, const char *expected)
{
    if (v.len != strlen(expected) || (v.len != 0 && memcmp(v.base, expected, v.len) != 0))
        fail_msg("\"%.*s\" != \"%s\"", (int)v.len, v.base, expected);
}

/* a header item {"key": key, "value": value} */
static json_t *item(const char *key, const char *value)
{
    return key != NULL ? json_pack("{s:s, s:s}", "key", key, "value", value) : json_pack("{s:s}", "value", value);
}

/* ---- encoding ---- */

static void test_encode_request(void **state)
{
    struct fixture *fx = *state;
    json_t *cf = encode(fx);

    assert_string_equal(str_at(cf, "config", "distributionDomainName", NULL), "localhost:8080");
    assert_string_equal(str_at(cf, "config", "distributionId", NULL), "EDGEFN");
    assert_string_equal(str_at(cf, "config", "eventType", NULL), "viewer-request");
    assert_string_equal(str_at(cf, "config", "requestId", NULL), "req-0001");
    assert_string_equal(str_at(cf, "request", "clientIp", NULL), "203.0.113.178");
    assert_string_equal(str_at(cf, "request", "method", NULL), "GET");
    assert_string_equal(str_at(cf, "request", "uri", NULL), "/index.html");
    assert_string_equal(str_at(cf, "request", "querystring", NULL), "a=1&b=2");
    assert_null(json_object_get(cf, "response"));
    assert_null(json_object_get(json_object_get(cf, "request"), "body"));
    assert_null(json_object_get(json_object_get(cf, "request"), "origin"));

    fx->ev.request.query = h2o_iovec_init(NULL, 0);
    fx->ev.request_id = NULL;
    cf = encode(fx);
    assert_string_equal(str_at(cf, "request", "querystring", NULL), "");
    assert_string_equal(str_at(cf, "config", "requestId", NULL), "");
}

static void test_encode_headers(void **state)
{
    struct fixture *fx = *state;
    h2o_add_header_by_str(&fx->pool, &fx->req_headers, H2O_STRLIT("x-amz-cf-id"), 0, NULL, H2O_STRLIT("abc"));
    h2o_add_header(&fx->pool, &fx->req_headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/plain"));
    json_t *headers = json_object_get(request_of(fx), "headers");

    /* one entry per name, lowercase, every value in order (x-multi was interleaved with accept) */
    assert_int_equal(json_object_size(headers), 7);
    const char *order[] = {"host", "user-agent", "x-multi", "accept", "cookie", "x-amz-cf-id", "content-type"};
    void *it = json_object_iter(headers);
    for (size_t i = 0; i != 7; ++i, it = json_object_iter_next(headers, it))
        assert_string_equal(json_object_iter_key(it), order[i]);

    json_t *multi = json_object_get(headers, "x-multi");
    assert_int_equal(json_array_size(multi), 2);
    assert_string_equal(str_at(json_array_get(multi, 0), "key", NULL), "X-Multi");
    assert_string_equal(str_at(json_array_get(multi, 0), "value", NULL), "one");
    assert_string_equal(str_at(json_array_get(multi, 1), "key", NULL), "X-Multi");
    assert_string_equal(str_at(json_array_get(multi, 1), "value", NULL), "two");
    assert_int_equal(json_object_size(json_array_get(multi, 0)), 2);

    /* key: the name as received when h2o kept it, else capitalised word by word */
    assert_string_equal(str_at(json_array_get(json_object_get(headers, "host"), 0), "key", NULL), "Host");
    assert_string_equal(str_at(json_array_get(json_object_get(headers, "accept"), 0), "key", NULL), "ACCEPT");
    assert_string_equal(str_at(json_array_get(json_object_get(headers, "user-agent"), 0), "key", NULL), "User-Agent");
    assert_string_equal(str_at(json_array_get(json_object_get(headers, "x-amz-cf-id"), 0), "key", NULL), "X-Amz-Cf-Id");
    assert_string_equal(str_at(json_array_get(json_object_get(headers, "content-type"), 0), "key", NULL), "Content-Type");
    assert_string_equal(str_at(json_array_get(json_object_get(headers, "cookie"), 0), "value", NULL), "a=1; b=2");

    /* no headers at all */
    fx->req_headers = (h2o_headers_t){NULL};
    headers = json_object_get(request_of(fx), "headers");
    assert_true(json_is_object(headers));
    assert_int_equal(json_object_size(headers), 0);
}

static void test_encode_event_types(void **state)
{
    struct fixture *fx = *state;

    for (ef_hook_t hook = 0; hook != EF_NUM_HOOKS; ++hook) {
        init_event(fx, hook);
        json_t *cf = encode(fx);
        assert_string_equal(str_at(cf, "config", "eventType", NULL), ef_hook_names[hook]);
        assert_string_equal(str_at(cf, "request", "uri", NULL), "/index.html"); /* the request is there at every hook */
        json_t *response = json_object_get(cf, "response");
        if (!ef_hook_is_response(hook)) {
            assert_null(response);
            continue;
        }
        /* the status as a string, and the standard reason when there is none */
        assert_string_equal(str_at(response, "status", NULL), "200");
        assert_string_equal(str_at(response, "statusDescription", NULL), "OK");
        json_t *headers = json_object_get(response, "headers");
        assert_int_equal(json_object_size(headers), 3);
        json_t *set_cookie = json_object_get(headers, "set-cookie");
        assert_int_equal(json_array_size(set_cookie), 2);
        assert_string_equal(str_at(json_array_get(set_cookie, 0), "key", NULL), "Set-Cookie");
        assert_string_equal(str_at(json_array_get(set_cookie, 0), "value", NULL), "sid=1; Path=/");
        assert_string_equal(str_at(json_array_get(set_cookie, 1), "value", NULL), "theme=dark");
        assert_string_equal(str_at(json_array_get(json_object_get(headers, "content-length"), 0), "key", NULL), "Content-Length");
    }

    fx->ev.response.status = 404;
    fx->ev.response.reason = iov("Nothing Here");
    json_t *cf = encode(fx);
    assert_string_equal(str_at(cf, "response", "status", NULL), "404");
    assert_string_equal(str_at(cf, "response", "statusDescription", NULL), "Nothing Here");
    fx->ev.response.status = 599;
    fx->ev.response.reason = h2o_iovec_init(NULL, 0);
    cf = encode(fx);
    assert_string_equal(str_at(cf, "response", "status", NULL), "599");
    assert_string_equal(str_at(cf, "response", "statusDescription", NULL), ""); /* no standard reason */
}

/* request.body's data, decoded (h2o decodes the URL alphabet, unpadded) */
static const char *body_data(struct fixture *fx, json_t *body)
{
    const char *data = str_at(body, "data", NULL);
    char *url = h2o_mem_alloc_pool(&fx->pool, strlen(data) + 1), *p = url;
    for (const char *q = data; *q != '\0'; ++q)
        if (*q != '=')
            *p++ = *q == '+' ? '-' : *q == '/' ? '_' : *q;
    h2o_iovec_t decoded = h2o_decode_base64url(&fx->pool, url, p - url);
    assert_non_null(decoded.base);
    char *s = h2o_mem_alloc_pool(&fx->pool, decoded.len + 1);
    memcpy(s, decoded.base, decoded.len);
    s[decoded.len] = '\0';
    return s;
}

static void test_encode_body(void **state)
{
    struct fixture *fx = *state;
    json_t *body;

    fx->ev.request.body = iov("hello, world?>>");         /* ?>> makes '/' and '+' in base64 */
    assert_null(json_object_get(request_of(fx), "body")); /* not without include-body */

    fx->opts.include_body = 1;
    body = json_object_get(request_of(fx), "body");
    assert_true(json_is_false(json_object_get(body, "inputTruncated")));
    assert_string_equal(str_at(body, "action", NULL), "read-only");
    assert_string_equal(str_at(body, "encoding", NULL), "base64");
    assert_string_equal(str_at(body, "data", NULL), "aGVsbG8sIHdvcmxkPz4+"); /* standard alphabet, padded */
    assert_int_equal(json_object_size(body), 4);

    fx->opts.body_limit = 5;
    body = json_object_get(request_of(fx), "body");
    assert_true(json_is_true(json_object_get(body, "inputTruncated")));
    assert_string_equal(str_at(body, "data", NULL), "aGVsbG8=");
    assert_string_equal(body_data(fx, body), "hello");

    fx->opts.body_limit = strlen("hello, world?>>"); /* exactly the limit: all of it */
    body = json_object_get(request_of(fx), "body");
    assert_true(json_is_false(json_object_get(body, "inputTruncated")));
    assert_string_equal(str_at(body, "data", NULL), "aGVsbG8sIHdvcmxkPz4+");

    /* a binary body */
    static const char bin[] = {0, 1, (char)0xff, (char)0xfe, '"', '\\'};
    fx->ev.request.body = h2o_iovec_init(bin, sizeof(bin));
    body = json_object_get(request_of(fx), "body");
    assert_string_equal(str_at(body, "data", NULL), "AAH//iJc");

    /* no body: empty data */
    fx->ev.request.body = h2o_iovec_init(NULL, 0);
    body = json_object_get(request_of(fx), "body");
    assert_true(json_is_false(json_object_get(body, "inputTruncated")));
    assert_string_equal(str_at(body, "data", NULL), "");

    /* a large one, truncated at 1 MB */
    size_t big = (1 << 20) + 100;
    char *data = h2o_mem_alloc_pool(&fx->pool, big);
    memset(data, 'x', big);
    fx->ev.hook = EF_HOOK_ORIGIN_REQUEST;
    fx->ev.request.body = h2o_iovec_init(data, big);
    fx->opts.body_limit = 1 << 20;
    body = json_object_get(request_of(fx), "body");
    assert_true(json_is_true(json_object_get(body, "inputTruncated")));
    assert_int_equal(strlen(str_at(body, "data", NULL)), h2o_base64_encode_capacity(1 << 20) - 1);

    /* never at the response hooks */
    init_event(fx, EF_HOOK_ORIGIN_RESPONSE);
    fx->opts.include_body = 1;
    fx->ev.request.body = iov("hello");
    assert_null(json_object_get(request_of(fx), "body"));
}

static void test_encode_escapes(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *name, *value, *expected;
    } cases[] = {
        {"x-quote", "say \"hi\" \\ bye", "say \"hi\" \\ bye"},
        {"x-ctl", "a\tb\x01\x1f\x7f/", "a\tb\x01\x1f\x7f/"},
        {"x-utf8", "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"}, /* é € 😀 kept */
        {"x-latin1", "caf\xe9", "caf\xc3\xa9"},                                                         /* byte E9 -> U+00E9 */
        {"x-bad", "\xff\xfe", "\xc3\xbf\xc3\xbe"},
        {"x-cut", "\xe2\x82", "\xc3\xa2\xc2\x82"},                   /* a sequence cut short */
        {"x-overlong", "\xc0\xaf", "\xc3\x80\xc2\xaf"},              /* an overlong '/' */
        {"x-surrogate", "\xed\xa0\x80", "\xc3\xad\xc2\xa0\xc2\x80"}, /* U+D800 in UTF-8 */
        {"x-too-big", "\xf4\x90\x80\x80", "\xc3\xb4\xc2\x90\xc2\x80\xc2\x80"},
    };

    fx->req_headers = (h2o_headers_t){NULL};
    for (size_t i = 0; i != sizeof(cases) / sizeof(cases[0]); ++i)
        h2o_add_header_by_str(&fx->pool, &fx->req_headers, cases[i].name, strlen(cases[i].name), 0, NULL, cases[i].value,
                              strlen(cases[i].value));
    h2o_add_header_by_str(&fx->pool, &fx->req_headers, H2O_STRLIT("x-nul"), 0, NULL, "a\0b\nc\r", 6);
    fx->ev.request.path = iov("/\xe9t\xe9");
    fx->ev.client_ip = iov("\"::1\"");
    fx->ev.request_id = "id\\\"";

    json_t *cf = encode(fx);
    json_t *headers = json_object_get(json_object_get(cf, "request"), "headers");
    for (size_t i = 0; i != sizeof(cases) / sizeof(cases[0]); ++i) {
        const char *got = str_at(json_array_get(json_object_get(headers, cases[i].name), 0), "value", NULL);
        if (strcmp(got, cases[i].expected) != 0)
            fail_msg("%s: got \"%s\"", cases[i].name, got);
    }
    json_t *nul = json_object_get(json_array_get(json_object_get(headers, "x-nul"), 0), "value");
    assert_int_equal(json_string_length(nul), 6);
    assert_memory_equal(json_string_value(nul), "a\0b\nc\r", 6);
    assert_string_equal(str_at(cf, "request", "uri", NULL), "/\xc3\xa9t\xc3\xa9");
    assert_string_equal(str_at(cf, "request", "clientIp", NULL), "\"::1\"");
    assert_string_equal(str_at(cf, "config", "requestId", NULL), "id\\\"");

    /* the escapes themselves: short ones where JSON has them, \u00XX otherwise */
    h2o_iovec_t out = h2o_iovec_init(fx->buf->bytes, fx->buf->size);
    assert_non_null(memmem(out.base, out.len, H2O_STRLIT("\"a\\tb\\u0001\\u001f\x7f/\"")));
    assert_non_null(memmem(out.base, out.len, H2O_STRLIT("\"caf\\u00e9\"")));
    assert_non_null(memmem(out.base, out.len, H2O_STRLIT("\"a\\u0000b\\nc\\r\"")));
    assert_non_null(memmem(out.base, out.len, H2O_STRLIT("\"say \\\"hi\\\" \\\\ bye\"")));
}

static void test_encode_appends(void **state)
{
    struct fixture *fx = *state;

    /* to what the buffer holds already, and as large as it takes */
    h2o_iovec_t room = h2o_buffer_reserve(&fx->buf, 5);
    memcpy(room.base, "HEAD:", 5);
    fx->buf->size += 5;
    size_t big = 200 << 10;
    char *value = h2o_mem_alloc_pool(&fx->pool, big);
    for (size_t i = 0; i != big; ++i)
        value[i] = i % 3 == 0 ? '"' : i % 3 == 1 ? '\x01' : 'a'; /* 4x when escaped */
    h2o_add_header_by_str(&fx->pool, &fx->req_headers, H2O_STRLIT("x-big"), 0, NULL, value, big);
    ef_event_to_lambda_json(&fx->buf, &fx->ev, &fx->opts);
    assert_memory_equal(fx->buf->bytes, "HEAD:", 5);

    json_error_t error;
    json_t *root = json_loadb(fx->buf->bytes + 5, fx->buf->size - 5, 0, &error);
    if (root == NULL)
        fail_msg("invalid JSON: %s", error.text);
    json_t *cf = json_object_get(json_array_get(json_object_get(root, "Records"), 0), "cf");
    json_t *v = json_array_get(json_object_get(json_object_get(json_object_get(cf, "request"), "headers"), "x-big"), 0);
    assert_int_equal(json_string_length(json_object_get(v, "value")), big);
    assert_memory_equal(json_string_value(json_object_get(v, "value")), value, big);
    json_decref(root);
}

/* ---- decoding: the request ---- */

static void test_decode_unchanged(void **state)
{
    struct fixture *fx = *state;

    /* with a Latin-1 byte and a control character, which come back as \u00XX */
    h2o_add_header_by_str(&fx->pool, &fx->req_headers, H2O_STRLIT("x-latin1"), 0, NULL, H2O_STRLIT("caf\xe9\x01"));
    fx->ev.request.path = iov("/caf\xe9");
    h2o_header_t *entries = fx->req_headers.entries;
    size_t size = fx->req_headers.size;
    const char *before = dump_headers(fx, &fx->req_headers);

    json_t *request = json_incref(request_of(fx));
    assert_int_equal(decode_json(fx, request), 0);
    json_decref(request);
    assert_string_equal(fx->err, "");
    assert_ptr_equal(fx->req_headers.entries, entries); /* not one header rewritten */
    assert_int_equal(fx->req_headers.size, size);
    assert_string_equal(dump_headers(fx, &fx->req_headers), before);
    assert_iov(fx->ev.request.path, "/caf\xe9");
    assert_iov(fx->ev.request.query, "a=1&b=2");
    assert_iov(fx->ev.request.method, "GET");
    assert_false(fx->ev.request_path_changed);
    assert_false(fx->ev.request_body_changed);
    assert_int_equal(fx->ev.outcome, EF_EVENT_CONTINUE);

    /* a request with nothing in it changes nothing either; nor one without headers, or with keys left out */
    assert_int_equal(decode(fx, "{}"), 0);
    assert_int_equal(decode(fx, "{'uri': '/caf\\u00e9', 'headers': {'host': [{'value': 'example.org'}], 'user-agent': "
                                "[{'key': 'USER-agent', 'value': 'curl/8.0'}], 'x-multi': [{'value': 'one'}, {'value': "
                                "'two'}], 'accept': [{'value': '*/*'}], 'cookie': [{'value': 'a=1; b=2'}], 'x-latin1': "
                                "[{'value': 'caf\\u00e9\\u0001'}]}}"),
                     0);
    assert_string_equal(dump_headers(fx, &fx->req_headers), before);
    assert_ptr_equal(fx->req_headers.entries, entries);
    assert_false(fx->ev.request_path_changed);
}

static void test_decode_uri_querystring(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(decode(fx, "{'uri': '/other.html', 'querystring': 'a=1&b=2'}"), 0);
    assert_iov(fx->ev.request.path, "/other.html");
    assert_iov(fx->ev.request.query, "a=1&b=2");
    assert_true(fx->ev.request_path_changed);

    init_event(fx, EF_HOOK_ORIGIN_REQUEST);
    assert_int_equal(decode(fx, "{'querystring': 'x=%20y&z'}"), 0);
    assert_iov(fx->ev.request.path, "/index.html");
    assert_iov(fx->ev.request.query, "x=%20y&z");
    assert_true(fx->ev.request_path_changed);

    init_event(fx, EF_HOOK_VIEWER_REQUEST);
    assert_int_equal(decode(fx, "{'querystring': ''}"), 0);
    assert_null(fx->ev.request.query.base); /* none */
    assert_int_equal(fx->ev.request.query.len, 0);
    assert_true(fx->ev.request_path_changed);

    init_event(fx, EF_HOOK_VIEWER_REQUEST);
    assert_int_equal(decode(fx, "{'querystring': '?a=1&b=2'}"), 0); /* a leading '?' is not part of it */
    assert_false(fx->ev.request_path_changed);
    assert_int_equal(decode(fx, "{'querystring': 'q=caf\\u00e9'}"), 0);
    assert_iov(fx->ev.request.query, "q=caf%C3%A9");

    init_event(fx, EF_HOOK_VIEWER_REQUEST);
    assert_invalid(fx, decode(fx, "{'uri': '/a#b'}"), "request.uri contains '#'");
    assert_invalid(fx, decode(fx, "{'uri': 'index.html'}"), "request.uri \"index.html\" does not start with '/'");
    assert_invalid(fx, decode(fx, "{'uri': '/a?b=1'}"), "request.uri contains '?' (set querystring instead)");
    assert_invalid(fx, decode(fx, "{'uri': '/a\\r\\nX: 1'}"), "request.uri contains whitespace or a control character");
    assert_invalid(fx, decode(fx, "{'uri': 42}"), "request.uri must be a string, got number");
    assert_invalid(fx, decode(fx, "{'uri': null}"), "request.uri must be a string, got null");
    assert_invalid(fx, decode(fx, "{'querystring': 'a=1#frag'}"), "request.querystring contains '#'");
    assert_invalid(fx, decode(fx, "{'querystring': 'a=1 2'}"), "request.querystring contains whitespace or a control character");
    assert_invalid(fx, decode(fx, "{'querystring': 'a=\\n'}"), "request.querystring contains whitespace or a control character");
    assert_invalid(fx, decode(fx, "{'querystring': {'a': '1'}}"), "request.querystring must be a string, got object");
    /* nothing was changed by the results refused */
    assert_iov(fx->ev.request.path, "/index.html");
    assert_iov(fx->ev.request.query, "a=1&b=2");
    assert_false(fx->ev.request_path_changed);
}

static void test_decode_headers(void **state)
{
    struct fixture *fx = *state;
    json_t *request = json_incref(request_of(fx)), *headers = json_object_get(request, "headers");

    /* add, change, remove, and give a name several values; a key is optional */
    json_object_set_new(headers, "x-new", json_pack("[o]", item("X-New", "fresh")));
    json_object_set_new(headers, "user-agent", json_pack("[o]", item(NULL, "edge/1.0")));
    json_object_del(headers, "accept");
    json_object_set_new(headers, "x-multi", json_pack("[o, o, o]", item("x-multi", "one"), item("X-MULTI", "2"), item(NULL, "3")));
    assert_int_equal(decode_json(fx, request), 0);
    json_decref(request);
    /* unchanged names stay where they were; changed ones go last, in the result's order */
    assert_string_equal(dump_headers(fx, &fx->req_headers), "host: example.org\n"
                                                            "cookie: a=1; b=2\n"
                                                            "user-agent: edge/1.0\n"
                                                            "x-multi: one\n"
                                                            "x-multi: 2\n"
                                                            "x-multi: 3\n"
                                                            "x-new: fresh\n");
    /* known names are h2o's tokens again, so that h2o and edgefn recognise them */
    ssize_t i = h2o_find_header(&fx->req_headers, H2O_TOKEN_USER_AGENT, -1);
    assert_true(i >= 0);
    assert_false(fx->ev.request_path_changed);

    /* an empty array or null removes */
    assert_int_equal(decode(fx, "{'headers': {'host': [{'value': 'example.org'}], 'cookie': [], 'x-new': null}}"), 0);
    assert_string_equal(dump_headers(fx, &fx->req_headers), "host: example.org\n");

    init_event(fx, EF_HOOK_VIEWER_REQUEST);
    assert_invalid(fx, decode(fx, "{'headers': {'x-a': [{'key': 'X-A', 'value': 1}]}}"),
                   "request.headers[\"x-a\"][0].value must be a string, got number");
    assert_invalid(fx, decode(fx, "{'headers': {'x-a': [{'value': 'a'}, {'key': 'X-A'}]}}"),
                   "request.headers[\"x-a\"][1].value must be a string, got nothing");
    assert_invalid(fx, decode(fx, "{'headers': {'x-a': [{'key': 'X-B', 'value': 'v'}]}}"),
                   "request.headers[\"x-a\"][0].key \"X-B\" is not the header's name");
    assert_invalid(fx, decode(fx, "{'headers': {'x-a': [{'key': 7, 'value': 'v'}]}}"),
                   "request.headers[\"x-a\"][0].key must be a string, got number");
    assert_invalid(fx, decode(fx, "{'headers': {'x-a': {'key': 'X-A', 'value': 'v'}}}"),
                   "request.headers[\"x-a\"] must be an array of {\"key\": ..., \"value\": ...}, got object");
    assert_invalid(fx, decode(fx, "{'headers': {'x-a': ['v']}}"),
                   "request.headers[\"x-a\"][0] must be an object {\"key\": ..., \"value\": ...}, got string");
    assert_invalid(fx, decode(fx, "{'headers': [1]}"), "request.headers must be an object, got array");
    assert_invalid(fx, decode(fx, "{'headers': null}"), "request.headers must be an object, got null");
    assert_invalid(fx, decode(fx, "{'headers': {'x-a': [{'value': 'a\\r\\nx-injected: 1'}]}}"),
                   "request.headers[\"x-a\"][0].value: the value of header \"x-a\" contains a line break or NUL");
    assert_invalid(fx, decode(fx, "{'headers': {'x-a': [{'value': 'a\\u0000'}]}}"),
                   "request.headers[\"x-a\"][0].value: the value of header \"x-a\" contains a line break or NUL");
    assert_invalid(fx, decode(fx, "{'headers': {'X-A': [{'value': 'v'}]}}"),
                   "request.headers[\"X-A\"]: header name \"X-A\" is not a lower-case HTTP token");
    assert_invalid(fx, decode(fx, "{'headers': {'x a': [{'value': 'v'}]}}"),
                   "request.headers[\"x a\"]: header name \"x a\" is not a lower-case HTTP token");
    /* refused results change nothing, not even what they got right before the error */
    assert_invalid(fx, decode(fx, "{'uri': '/new', 'headers': {'x-ok': [{'value': 'v'}], 'x-a': [{'value': 1}]}}"),
                   "request.headers[\"x-a\"][0].value must be a string, got number");
    assert_int_equal(h2o_find_header_by_str(&fx->req_headers, H2O_STRLIT("x-ok"), -1), -1);
    assert_iov(fx->ev.request.path, "/index.html");
    assert_false(fx->ev.request_path_changed);
}

static void test_decode_read_only(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(decode(fx, "{'method': 'GET', 'clientIp': '203.0.113.178'}"), 0);
    assert_invalid(fx, decode(fx, "{'method': 'POST'}"), "request.method is read-only (changed from \"GET\" to \"POST\")");
    assert_invalid(fx, decode(fx, "{'method': 'get'}"), "request.method is read-only (changed from \"GET\" to \"get\")");
    assert_invalid(fx, decode(fx, "{'method': null}"), "request.method must be a string, got null");
    assert_invalid(fx, decode(fx, "{'clientIp': '10.0.0.1'}"),
                   "request.clientIp is read-only (changed from \"203.0.113.178\" to \"10.0.0.1\")");
    assert_invalid(fx, decode(fx, "{'clientIp': 1}"), "request.clientIp must be a string, got number");
    assert_iov(fx->ev.request.method, "GET");
    assert_iov(fx->ev.client_ip, "203.0.113.178");
}

static void test_decode_disallowed_headers(void **state)
{
    struct fixture *fx = *state;

    assert_invalid(fx, decode(fx, "{'headers': {'transfer-encoding': [{'value': 'chunked'}]}}"),
                   "request.headers[\"transfer-encoding\"]: header \"transfer-encoding\" is hop-by-hop: a function cannot set it "
                   "(at viewer-request)");
    assert_invalid(fx, decode(fx, "{'headers': {'connection': [{'value': 'close'}]}}"),
                   "request.headers[\"connection\"]: header \"connection\" is hop-by-hop: a function cannot set it (at "
                   "viewer-request)");
    assert_invalid(fx, decode(fx, "{'headers': {'x-edgefn-route': [{'value': 'x'}]}}"),
                   "request.headers[\"x-edgefn-route\"]: header \"x-edgefn-route\" is edgefn's own");

    /* content-length: sent, it may come back as it was, but not changed or removed */
    init_event(fx, EF_HOOK_ORIGIN_REQUEST);
    fx->ev.request.method = iov("POST");
    h2o_add_header(&fx->pool, &fx->req_headers, H2O_TOKEN_CONTENT_LENGTH, NULL, H2O_STRLIT("5"));
    json_t *request = json_incref(request_of(fx));
    assert_int_equal(decode_json(fx, request), 0);
    json_object_set_new(json_object_get(request, "headers"), "content-length", json_pack("[o]", item("Content-Length", "6")));
    assert_invalid(fx, decode_json(fx, request),
                   "request.headers[\"content-length\"]: header \"content-length\" is set by edgefn from the body");
    json_object_del(json_object_get(request, "headers"), "content-length");
    assert_invalid(fx, decode_json(fx, request),
                   "request.headers[\"content-length\"]: header \"content-length\" is set by edgefn from the body");
    json_decref(request);
    assert_true(h2o_find_header(&fx->req_headers, H2O_TOKEN_CONTENT_LENGTH, -1) >= 0);

    /* and in responses */
    init_event(fx, EF_HOOK_VIEWER_RESPONSE);
    json_t *response = json_incref(json_object_get(encode(fx), "response"));
    json_object_set_new(json_object_get(response, "headers"), "content-length", json_pack("[o]", item(NULL, "99")));
    assert_invalid(fx, decode_json(fx, response),
                   "response.headers[\"content-length\"]: header \"content-length\" is set by edgefn from the body");
    json_object_del(json_object_get(response, "headers"), "content-length");
    json_object_set_new(json_object_get(response, "headers"), "transfer-encoding", json_pack("[o]", item(NULL, "chunked")));
    assert_invalid(fx, decode_json(fx, response),
                   "response.headers[\"transfer-encoding\"]: header \"transfer-encoding\" is hop-by-hop: a function cannot set "
                   "it (at viewer-response)");
    json_decref(response);
}

static void test_decode_origin_refused(void **state)
{
    struct fixture *fx = *state;

    init_event(fx, EF_HOOK_ORIGIN_REQUEST);
    json_t *request = json_incref(request_of(fx));
    json_object_set_new(request, "origin",
                        json_pack("{s:{s:s, s:i, s:s}}", "custom", "domainName", "example.com", "port", 443, "protocol", "https"));
    assert_invalid(fx, decode_json(fx, request),
                   "request.origin: changing the origin is not supported (edgefn's behaviors choose it)");
    json_decref(request);
    assert_invalid(fx, decode(fx, "{'origin': {}}"),
                   "request.origin: changing the origin is not supported (edgefn's behaviors choose it)");
    assert_int_equal(decode(fx, "{'origin': null}"), 0);
}

static void test_decode_body(void **state)
{
    struct fixture *fx = *state;

    init_event(fx, EF_HOOK_ORIGIN_REQUEST);
    fx->opts.include_body = 1;
    fx->ev.request.method = iov("POST");
    fx->ev.request.body = iov("original");

    /* read-only, as sent: nothing */
    json_t *request = json_incref(request_of(fx));
    assert_int_equal(decode_json(fx, request), 0);
    assert_false(fx->ev.request_body_changed);
    assert_iov(fx->ev.request.body, "original");

    /* replaced, as a Lambda@Edge function does it */
    json_t *body = json_object_get(request, "body");
    json_object_set_new(body, "action", json_string("replace"));
    json_object_set_new(body, "data", json_string("bmV3IGJvZHk="));
    assert_int_equal(decode_json(fx, request), 0);
    assert_true(fx->ev.request_body_changed);
    assert_iov(fx->ev.request.body, "new body");
    json_decref(request);

    init_event(fx, EF_HOOK_ORIGIN_REQUEST);
    fx->opts.include_body = 1;
    assert_int_equal(decode(fx, "{'body': {'action': 'replace', 'encoding': 'text', 'data': 'caf\\u00e9 \\u0000'}}"), 0);
    assert_true(fx->ev.request_body_changed);
    assert_int_equal(fx->ev.request.body.len, 7);
    assert_memory_equal(fx->ev.request.body.base, "caf\xc3\xa9 \0", 7);
    assert_int_equal(decode(fx, "{'body': {'action': 'replace', 'encoding': 'base64', 'data': ''}}"), 0);
    assert_int_equal(fx->ev.request.body.len, 0);
    assert_int_equal(decode(fx, "{'body': {'action': 'replace', 'encoding': 'base64', 'data': 'AAH//iJc'}}"), 0);
    assert_memory_equal(fx->ev.request.body.base, "\0\1\xff\xfe\"\\", 6);
    assert_int_equal(decode(fx, "{'body': {'action': 'replace', 'encoding': 'base64', 'data': 'AAH__iJc'}}"), 0); /* URL alphabet */
    assert_memory_equal(fx->ev.request.body.base, "\0\1\xff\xfe\"\\", 6);
    assert_int_equal(decode(fx, "{'body': {'action': 'replace', 'encoding': 'base64', 'data': 'aGVsbG8'}}"), 0); /* unpadded */
    assert_iov(fx->ev.request.body, "hello");
    assert_int_equal(decode(fx, "{'body': {'action': 'replace', 'encoding': 'base64', 'data': 'aGVs\\r\\nbA=='}}"), 0);
    assert_iov(fx->ev.request.body, "hell");

    init_event(fx, EF_HOOK_ORIGIN_REQUEST);
    fx->opts.include_body = 1;
    assert_invalid(fx, decode(fx, "{'body': {'action': 'replace', 'encoding': 'base64', 'data': 'not base64!'}}"),
                   "request.body.data is not valid base64");
    assert_invalid(fx, decode(fx, "{'body': {'action': 'replace', 'encoding': 'base64', 'data': 'aGVsbG8==='}}"),
                   "request.body.data is not valid base64");
    assert_invalid(fx, decode(fx, "{'body': {'action': 'replace', 'encoding': 'base64', 'data': 'aGVsb'}}"),
                   "request.body.data is not valid base64");
    assert_invalid(fx, decode(fx, "{'body': {'action': 'replace', 'encoding': 'base64', 'data': 'aG=Vs'}}"),
                   "request.body.data is not valid base64");
    assert_invalid(fx, decode(fx, "{'body': {'action': 'replace', 'encoding': 'gzip', 'data': ''}}"),
                   "request.body.encoding must be \"base64\" or \"text\", got \"gzip\"");
    assert_invalid(fx, decode(fx, "{'body': {'action': 'replace', 'data': ''}}"),
                   "request.body.encoding must be \"base64\" or \"text\", got nothing");
    assert_invalid(fx, decode(fx, "{'body': {'action': 'replace', 'encoding': 'text'}}"),
                   "request.body.data must be a string, got nothing");
    assert_invalid(fx, decode(fx, "{'body': {'action': 'replace', 'encoding': 'text', 'data': 5}}"),
                   "request.body.data must be a string, got number");
    assert_invalid(fx, decode(fx, "{'body': {'action': 'rewrite'}}"),
                   "request.body.action must be \"read-only\" or \"replace\", got \"rewrite\"");
    assert_invalid(fx, decode(fx, "{'body': 'text'}"),
                   "request.body must be an object {\"action\": ..., \"encoding\": ..., \"data\": ...}, got string");
    assert_false(fx->ev.request_body_changed);

    /* without include-body: no body to replace */
    fx->opts.include_body = 0;
    assert_int_equal(decode(fx, "{'uri': '/x'}"), 0);
    assert_int_equal(decode(fx, "{'body': {'action': 'read-only', 'data': ''}}"), 0);
    assert_invalid(fx, decode(fx, "{'body': {'action': 'replace', 'encoding': 'text', 'data': 'x'}}"),
                   "request.body: replacing the body needs `include-body: true` in the function's configuration");
    assert_false(fx->ev.request_body_changed);
}

/* ---- decoding: responses ---- */

static void test_decode_generated_response(void **state)
{
    struct fixture *fx = *state;

    assert_int_equal(decode(fx, "{'status': '302', 'headers': {'location': [{'key': 'Location', 'value': 'https://example.org/'}],"
                                " 'cache-control': [{'value': 'max-age=60'}]}}"),
                     0);
    assert_int_equal(fx->ev.outcome, EF_EVENT_RESPOND);
    assert_int_equal(fx->ev.response.status, 302);
    assert_iov(fx->ev.response.reason, "Found");
    assert_false(fx->ev.response.has_body);
    assert_non_null(fx->ev.response.headers);
    assert_ptr_not_equal(fx->ev.response.headers, &fx->req_headers);
    assert_string_equal(dump_headers(fx, fx->ev.response.headers), "location: https://example.org/\ncache-control: max-age=60\n");
    assert_iov(fx->ev.request.path, "/index.html"); /* the request is left alone */
    assert_int_equal(fx->req_headers.size, 6);

    init_event(fx, EF_HOOK_ORIGIN_REQUEST);
    assert_int_equal(decode(fx, "{'status': 403, 'statusDescription': 'Go Away', 'body': '<h1>no</h1>', 'bodyEncoding': 'text'}"),
                     0);
    assert_int_equal(fx->ev.outcome, EF_EVENT_RESPOND);
    assert_int_equal(fx->ev.response.status, 403);
    assert_iov(fx->ev.response.reason, "Go Away");
    assert_true(fx->ev.response.has_body);
    assert_iov(fx->ev.response.body, "<h1>no</h1>");
    assert_int_equal(fx->ev.response.headers->size, 0);

    init_event(fx, EF_HOOK_VIEWER_REQUEST);
    assert_int_equal(decode(fx, "{'status': '200', 'body': 'AAH//iJc', 'bodyEncoding': 'base64'}"), 0);
    assert_int_equal(fx->ev.response.body.len, 6);
    assert_memory_equal(fx->ev.response.body.base, "\0\1\xff\xfe\"\\", 6);
    assert_int_equal(decode(fx, "{'status': '200', 'body': 'plain'}"), 0); /* text by default */
    assert_iov(fx->ev.response.body, "plain");
    assert_int_equal(decode(fx, "{'status': 599}"), 0);
    assert_iov(fx->ev.response.reason, "");
    assert_int_equal(decode(fx, "{'status': 204, 'body': ''}"), 0);

    init_event(fx, EF_HOOK_VIEWER_REQUEST);
    assert_invalid(fx, decode(fx, "{'status': 199}"), "response.status 199 is outside 200-599");
    assert_invalid(fx, decode(fx, "{'status': '600'}"), "response.status 600 is outside 200-599");
    assert_invalid(fx, decode(fx, "{'status': '9999999999'}"),
                   "response.status must be a number (\"200\" or 200), got \"9999999999\"");
    assert_invalid(fx, decode(fx, "{'status': '20x'}"), "response.status must be a number (\"200\" or 200), got \"20x\"");
    assert_invalid(fx, decode(fx, "{'status': ''}"), "response.status must be a number (\"200\" or 200), got \"\"");
    assert_invalid(fx, decode(fx, "{'status': 200.5}"), "response.status must be an integer, got 200.5");
    assert_invalid(fx, decode(fx, "{'status': null}"), "response.status must be a number (\"200\" or 200), got null");
    assert_invalid(fx, decode(fx, "{'status': true}"), "response.status must be a number (\"200\" or 200), got boolean");
    assert_invalid(fx, decode(fx, "{'status': 200, 'body': 'not base64!', 'bodyEncoding': 'base64'}"),
                   "response.body is not valid base64");
    assert_invalid(fx, decode(fx, "{'status': 200, 'body': 'x', 'bodyEncoding': 'utf8'}"),
                   "response.bodyEncoding must be \"text\" or \"base64\", got \"utf8\"");
    assert_invalid(fx, decode(fx, "{'status': 200, 'body': {'data': 'x'}}"), "response.body must be a string, got object");
    assert_invalid(fx, decode(fx, "{'status': 204, 'body': 'x'}"), "response: a 204 response cannot have a body");
    assert_invalid(fx, decode(fx, "{'status': 200, 'statusDescription': 'OK\\r\\nX: 1'}"),
                   "response: statusDescription contains a line break or NUL");
    assert_invalid(fx, decode(fx, "{'status': 200, 'statusDescription': 404}"),
                   "response.statusDescription must be a string, got number");
    assert_invalid(fx, decode(fx, "{'status': 200, 'headers': {'content-length': [{'value': '1'}]}}"),
                   "response.headers[\"content-length\"]: header \"content-length\" is set by edgefn from the body");
    assert_invalid(fx, decode(fx, "{'status': 200, 'headers': {'x-a': [{'value': 'a\\nb'}]}}"),
                   "response.headers[\"x-a\"][0].value: the value of header \"x-a\" contains a line break or NUL");
    /* a response refused is not answered with */
    assert_int_equal(fx->ev.outcome, EF_EVENT_CONTINUE);
    assert_int_equal(fx->ev.response.status, 0);
}

static void test_decode_response_hook(void **state)
{
    struct fixture *fx = *state;

    /* as sent: nothing changes */
    init_event(fx, EF_HOOK_ORIGIN_RESPONSE);
    const char *before = dump_headers(fx, &fx->res_headers);
    json_t *response = json_incref(json_object_get(encode(fx), "response"));
    assert_int_equal(decode_json(fx, response), 0);
    assert_int_equal(fx->ev.response.status, 200);
    assert_null(fx->ev.response.reason.base); /* still none: edgefn writes the standard one */
    assert_false(fx->ev.response.has_body);
    assert_string_equal(dump_headers(fx, &fx->res_headers), before);
    assert_int_equal(fx->ev.outcome, EF_EVENT_CONTINUE);

    /* a new status keeping the old description gets its own; headers changed in place */
    json_object_set_new(response, "status", json_string("404"));
    json_object_set_new(json_object_get(response, "headers"), "x-cache", json_pack("[o]", item("X-Cache", "MISS")));
    json_object_set_new(json_object_get(response, "headers"), "set-cookie", json_pack("[o]", item("Set-Cookie", "sid=2")));
    assert_int_equal(decode_json(fx, response), 0);
    json_decref(response);
    assert_int_equal(fx->ev.response.status, 404);
    assert_iov(fx->ev.response.reason, "Not Found");
    assert_ptr_equal(fx->ev.response.headers, &fx->res_headers);
    assert_string_equal(dump_headers(fx, &fx->res_headers), "content-type: text/html\n"
                                                            "content-length: 12\n"
                                                            "set-cookie: sid=2\n"
                                                            "x-cache: MISS\n");
    assert_int_equal(fx->ev.outcome, EF_EVENT_CONTINUE);

    init_event(fx, EF_HOOK_VIEWER_RESPONSE);
    assert_int_equal(decode(fx, "{'status': 500, 'statusDescription': 'Oops', 'body': 'b3VjaA==', 'bodyEncoding': 'base64'}"), 0);
    assert_int_equal(fx->ev.response.status, 500);
    assert_iov(fx->ev.response.reason, "Oops");
    assert_true(fx->ev.response.has_body);
    assert_iov(fx->ev.response.body, "ouch");
    assert_int_equal(fx->res_headers.size, 4); /* no headers object: unchanged */
    assert_int_equal(decode(fx, "{'status': '500', 'statusDescription': 'Oops', 'headers': {'content-length': [{'value': '12'}]}}"),
                     0);
    assert_string_equal(dump_headers(fx, &fx->res_headers), "content-length: 12\n"); /* the others removed */

    init_event(fx, EF_HOOK_VIEWER_RESPONSE);
    assert_invalid(fx, decode(fx, "{'uri': '/index.html', 'headers': {}}"),
                   "at viewer-response a function must return a response (an object with status), not the request");
    assert_invalid(fx, decode(fx, "{'status': '404', 'headers': {'x-a': [{'value': 1}]}}"),
                   "response.headers[\"x-a\"][0].value must be a string, got number");
    assert_invalid(fx, decode(fx, "{'status': 'OK'}"), "response.status must be a number (\"200\" or 200), got \"OK\"");
    assert_invalid(fx, decode(fx, "{'status': 304, 'body': 'x'}"), "response: a 304 response cannot have a body");
    assert_int_equal(fx->ev.response.status, 200); /* refused: untouched */
    assert_int_equal(fx->res_headers.size, 4);
    assert_false(fx->ev.response.has_body);
    assert_invalid(fx, decode(fx, "{'Records': [{'cf': {}}]}"),
                   "the handler returned the whole event; return event.Records[0].cf.response");
}

static void test_decode_not_an_object(void **state)
{
    struct fixture *fx = *state;

    assert_invalid(fx, decode(fx, "null"), "the handler returned null; expected the request, or a response (an object)");
    assert_invalid(fx, decode(fx, "'x'"), "the handler returned a string; expected the request, or a response (an object)");
    assert_invalid(fx, decode(fx, "1"), "the handler returned a number; expected the request, or a response (an object)");
    assert_invalid(fx, decode(fx, "[]"), "the handler returned an array; expected the request, or a response (an object)");
    assert_invalid(fx, decode(fx, "true"), "the handler returned a boolean; expected the request, or a response (an object)");
    assert_invalid(fx, decode(fx, ""), "the handler returned nothing; expected the request, or a response (an object)");
    assert_invalid(fx, decode(fx, " \n"), "the handler returned nothing; expected the request, or a response (an object)");
    assert_invalid(fx, decode(fx, "{'Records': []}"),
                   "the handler returned the whole event; return event.Records[0].cf.request (or a response)");
    assert_int_equal(ef_event_from_lambda_json(&fx->ev, &fx->opts, "{\"uri\":", 7, fx->err, sizeof(fx->err)), -1);
    assert_non_null(strstr(fx->err, "the handler's result is not valid JSON: "));
    assert_int_equal(decode(fx, "{} x"), -1);
    assert_non_null(strstr(fx->err, "the handler's result is not valid JSON: end of file expected near 'x' (line 1, column 4)"));
    assert_int_equal(ef_event_from_lambda_json(&fx->ev, &fx->opts, "{\"uri\":\"/\xff\"}", strlen("{\"uri\":\"/\xff\"}"), fx->err,
                                               sizeof(fx->err)),
                     -1);
    assert_non_null(strstr(fx->err, "the handler's result is not valid JSON: "));
    /* only the given length is read */
    assert_int_equal(ef_event_from_lambda_json(&fx->ev, &fx->opts, "{\"uri\":\"/a\"}garbage", 12, fx->err, sizeof(fx->err)), 0);
    assert_iov(fx->ev.request.path, "/a");

    init_event(fx, EF_HOOK_ORIGIN_RESPONSE);
    assert_invalid(fx, decode(fx, "null"), "the handler returned null; expected the response (an object)");
    assert_invalid(fx, decode(fx, ""), "the handler returned nothing; expected the response (an object)");

    /* a long error is cut short, and terminated */
    char small[24];
    assert_int_equal(ef_event_from_lambda_json(&fx->ev, &fx->opts, "null", 4, small, sizeof(small)), -1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* The parser's details as a function author meets them: duplicate keys, numbers, the words of a syntax error. */
static void test_decode_json_details(void **state)
{
    struct fixture *fx = *state;

    /* a name given twice: the place of the first, the values of the last (as JSON.parse and jansson) */
    assert_int_equal(decode(fx, "{'headers': {'x-new': [{'value': '1'}], 'x-other': [{'value': 'o'}], 'x-new': [{'value': '2'}], "
                                "'host': [{'value': 'example.org'}]}, 'uri': '/a', 'uri': '/b'}"),
                     0);
    assert_string_equal(dump_headers(fx, &fx->req_headers), "host: example.org\nx-new: 2\nx-other: o\n");
    assert_iov(fx->ev.request.path, "/b");

    /* a status is an integer, written as one */
    init_event(fx, EF_HOOK_VIEWER_REQUEST);
    assert_int_equal(decode(fx, "{'status': 404}"), 0);
    assert_int_equal(fx->ev.response.status, 404);
    assert_invalid(fx, decode(fx, "{'status': 200.0}"), "response.status must be an integer, got 200");
    assert_invalid(fx, decode(fx, "{'status': 2e2}"), "response.status must be an integer, got 200");
    assert_invalid(fx, decode(fx, "{'status': -0}"), "response.status 0 is outside 200-599");
    assert_invalid(fx, decode(fx, "{'status': -9223372036854775808}"), "response.status -9223372036854775808 is outside 200-599");

    /* syntax errors: where, and near what; nothing is applied */
    init_event(fx, EF_HOOK_VIEWER_REQUEST);
    assert_invalid(fx, decode(fx, "{'uri': '/a',}"),
                   "the handler's result is not valid JSON: string or '}' expected near '}' (line 1, column 14)");
    assert_invalid(fx, decode(fx, "{'uri': '/a'\n 'querystring': ''}"),
                   "the handler's result is not valid JSON: '}' expected near '\"querystring\"' (line 2, column 14)");
    assert_invalid(fx, decode(fx, "{\n  'uri': '/caf\xc3\xa9\x01'\n}"),
                   "the handler's result is not valid JSON: control character 0x1 near '\"/caf\xc3\xa9' (line 2, column 15)");
    assert_invalid(fx, decode(fx, "{'uri': '\\ud800'}"),
                   "the handler's result is not valid JSON: invalid Unicode '\\uD800' near '\"\\ud800\"' (line 1, column 16)");
    assert_invalid(fx, decode(fx, "{'uri': undefined}"),
                   "the handler's result is not valid JSON: invalid token near 'undefined' (line 1, column 17)");
    assert_invalid(fx, decode(fx, "{'status': 01}"),
                   "the handler's result is not valid JSON: invalid token near '0' (line 1, column 12)");
    assert_invalid(fx, decode(fx, "{'status': NaN}"),
                   "the handler's result is not valid JSON: invalid token near 'NaN' (line 1, column 14)");
    assert_int_equal(fx->ev.outcome, EF_EVENT_CONTINUE);
    assert_iov(fx->ev.request.path, "/index.html");
}

/* Where ef_json reads JSON that jansson refused (integers beyond 64 bits, NUL in keys) or refuses what it read (nesting beyond 64).
 */
static void test_decode_json_beyond_jansson(void **state)
{
    struct fixture *fx = *state;

    assert_invalid(fx, decode(fx, "{'status': 99999999999999999999}"), "response.status must be an integer, got 1e+20");
    assert_invalid(fx, decode(fx, "{'headers': {'x-a\\u0000': [{'value': 'v'}]}}"),
                   "request.headers[\"x-a\"]: header name \"x-a\" is not a lower-case HTTP token");
    assert_int_equal(decode(fx, "{'uri\\u0000': 1}"), 0); /* not "uri" */
    assert_false(fx->ev.request_path_changed);

    /* {'x': [[...]]}: 64 levels in all are fine, 65 are not */
    for (int levels = 64; levels <= 65; ++levels) {
        char deep[256], *p = deep;
        p += sprintf(p, "{'x': ");
        for (int i = 1; i != levels; ++i)
            *p++ = '[';
        for (int i = 1; i != levels; ++i)
            *p++ = ']';
        strcpy(p, "}");
        if (levels == 64)
            assert_int_equal(decode(fx, deep), 0);
        else
            assert_invalid(fx, decode(fx, deep),
                           "the handler's result is not valid JSON: maximum parsing depth reached near '[' (line 1, column 70)");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_encode_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encode_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encode_event_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encode_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encode_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encode_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_uri_querystring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_disallowed_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_origin_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_generated_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_response_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_not_an_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_json_details, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_json_beyond_jansson, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
