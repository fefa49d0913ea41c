/*
 * functions/event_json.c: ef_event_read_json, the event of a test run (POST /functions/NAME/test, `edgefn test
 * --event-file`) in each of its three shapes: CloudFront Functions', Lambda@Edge's and the short form. Each test
 * starts from the event a test run starts from (ef_test_run_init: GET / from 127.0.0.1 with Host: localhost, a 200
 * OK response), reads a JSON event onto it, and looks at the event as a function would see it: the hook, the method,
 * the path and query, the headers in order, the client's address, the bodies, the status. Errors must name the field
 * that is wrong, as the 400 InvalidArgument a user gets says it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "functions/event_json.h"
#include "functions/test_run.h"

struct fixture {
    h2o_mem_pool_t pool;
    ef_test_run_t run;
    ef_event_t *ev;
    ef_hook_t hook;
    char err[512];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    h2o_mem_init_pool(&fx->pool);
    ef_test_run_init(&fx->run, &fx->pool, "req-test");
    fx->ev = &fx->run.event;
    fx->hook = EF_NUM_HOOKS;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    ef_test_run_dispose(&fx->run);
    h2o_mem_clear_pool(&fx->pool);
    free(fx);
    return 0;
}

/* Reads `text` (JSON, any value) as an event; returns what ef_event_read_json returned. */
static int read_event(struct fixture *fx, const char *text)
{
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (root == NULL)
        fail_msg("the test's JSON is wrong: %s: %s", jerr.text, text);
    fx->err[0] = '\0';
    int ret = ef_event_read_json(fx->ev, root, &fx->hook, fx->err, sizeof(fx->err));
    json_decref(root);
    return ret;
}

static void read_ok(struct fixture *fx, const char *text)
{
    if (read_event(fx, text) != 0)
        fail_msg("%s: %s", text, fx->err);
}

/* The event is refused, with a message that contains each of the NULL-terminated strings that follow. */
static void read_fails(struct fixture *fx, const char *text, ...)
{
    va_list args;
    const char *sub;

    if (read_event(fx, text) == 0)
        fail_msg("accepted: %s", text);
    va_start(args, text);
    while ((sub = va_arg(args, const char *)) != NULL)
        if (strstr(fx->err, sub) == NULL)
            fail_msg("%s: the message \"%s\" does not contain \"%s\"", text, fx->err, sub);
    va_end(args);
}

static const char *str(struct fixture *fx, h2o_iovec_t v)
{
    if (v.base == NULL)
        return "(null)";
    return h2o_strdup(&fx->pool, v.base, v.len).base;
}

/* "name: value\n" for every header, in order */
static const char *dump_headers(struct fixture *fx, const h2o_headers_t *headers)
{
    size_t len = 1;
    for (size_t i = 0; i != headers->size; ++i)
        len += headers->entries[i].name->len + headers->entries[i].value.len + 3;
    char *buf = h2o_mem_alloc_pool(&fx->pool, len), *p = buf;
    *p = '\0';
    for (size_t i = 0; i != headers->size; ++i)
        p += sprintf(p, "%.*s: %.*s\n", (int)headers->entries[i].name->len, headers->entries[i].name->base,
                     (int)headers->entries[i].value.len, headers->entries[i].value.base);
    return buf;
}

/* whether each header of a name h2o has a token for is stored by that token, as h2o's parsers store it */
static void assert_tokens(const h2o_headers_t *headers)
{
    for (size_t i = 0; i != headers->size; ++i) {
        const h2o_token_t *token = h2o_lookup_token(headers->entries[i].name->base, headers->entries[i].name->len);
        if (token != NULL && headers->entries[i].name != &token->buf)
            fail_msg("header \"%.*s\" is not stored by its token", (int)headers->entries[i].name->len,
                     headers->entries[i].name->base);
    }
}

/* ---- the defaults ---- */

static void test_defaults(void **state)
{
    struct fixture *fx = *state;
    /* an event that names nothing leaves the defaults, and no hook */
    read_ok(fx, "{}");
    assert_int_equal(fx->hook, EF_NUM_HOOKS);
    assert_string_equal(str(fx, fx->ev->request.method), "GET");
    assert_string_equal(str(fx, fx->ev->request.path), "/");
    assert_null(fx->ev->request.query.base);
    assert_string_equal(dump_headers(fx, fx->ev->request.headers), "host: localhost\n");
    assert_string_equal(str(fx, fx->ev->client_ip), "127.0.0.1");
    assert_null(fx->ev->request.body.base);
    assert_int_equal(fx->ev->response.status, 200);
    assert_string_equal(str(fx, fx->ev->response.reason), "OK");
    assert_false(fx->ev->response.has_body);
}

/* ---- CloudFront Functions ---- */

static void test_cf_request(void **state)
{
    struct fixture *fx = *state;
    read_ok(fx, "{\"version\": \"1.0\", \"context\": {\"eventType\": \"viewer-request\", \"requestId\": \"ignored\"},\n"
                " \"viewer\": {\"ip\": \"1.2.3.4\"},\n"
                " \"request\": {\"method\": \"POST\", \"uri\": \"/a/b.html\",\n"
                "   \"querystring\": {\"x\": {\"value\": \"1\"},\n"
                "                    \"y\": {\"value\": \"2\", \"multiValue\": [{\"value\": \"2\"}, {\"value\": \"3\"}]},\n"
                "                    \"flag\": {\"value\": \"\"}},\n"
                "   \"headers\": {\"host\": {\"value\": \"shop.example\"},\n"
                "                 \"X-Multi\": {\"multiValue\": [{\"value\": \"a\"}, {\"value\": \"b\"}]},\n"
                "                 \"user-agent\": {\"value\": \"curl/8\"}, \"x-plain\": \"v\"},\n"
                "   \"cookies\": {\"sid\": {\"value\": \"42\"},\n"
                "                 \"pref\": {\"value\": \"a\", \"multiValue\": [{\"value\": \"a\"}, {\"value\": \"b\"}]}}}}");
    assert_int_equal(fx->hook, EF_HOOK_VIEWER_REQUEST);
    assert_string_equal(str(fx, fx->ev->client_ip), "1.2.3.4");
    assert_string_equal(str(fx, fx->ev->request.method), "POST");
    assert_string_equal(str(fx, fx->ev->request.path), "/a/b.html");
    /* a multiValue is every value; names and values as they are */
    assert_string_equal(str(fx, fx->ev->request.query), "x=1&y=2&y=3&flag=");
    /* the headers replace the defaults; names in lower case; the cookies are one cookie header */
    assert_string_equal(dump_headers(fx, fx->ev->request.headers), "host: shop.example\n"
                                                                   "x-multi: a\n"
                                                                   "x-multi: b\n"
                                                                   "user-agent: curl/8\n"
                                                                   "x-plain: v\n"
                                                                   "cookie: sid=42; pref=a; pref=b\n");
    assert_tokens(fx->ev->request.headers);
    /* the response was not named: it stays */
    assert_int_equal(fx->ev->response.status, 200);
}

static void test_cf_querystring_as_string(void **state)
{
    struct fixture *fx = *state;
    read_ok(fx, "{\"request\": {\"querystring\": \"a=1&b=%20x\"}}");
    assert_string_equal(str(fx, fx->ev->request.query), "a=1&b=%20x");
    /* with its '?', as some tools copy it */
    read_ok(fx, "{\"request\": {\"querystring\": \"?c=3\"}}");
    assert_string_equal(str(fx, fx->ev->request.query), "c=3");
    /* empty, either way: no query at all */
    read_ok(fx, "{\"request\": {\"querystring\": \"\"}}");
    assert_null(fx->ev->request.query.base);
    read_ok(fx, "{\"request\": {\"querystring\": \"a=1\"}}");
    read_ok(fx, "{\"request\": {\"querystring\": {}}}");
    assert_null(fx->ev->request.query.base);
}

static void test_cf_cookies_replace_cookie_headers(void **state)
{
    struct fixture *fx = *state;
    /* a cookie header among the headers, then the cookies: the cookies win */
    read_ok(fx, "{\"request\": {\"headers\": {\"cookie\": {\"value\": \"old=1\"}, \"accept\": {\"value\": \"*/*\"}},\n"
                "              \"cookies\": {\"new\": {\"value\": \"2\"}}}}");
    assert_string_equal(dump_headers(fx, fx->ev->request.headers), "accept: */*\ncookie: new=2\n");
    /* an empty cookies object: no cookie header at all */
    read_ok(fx, "{\"request\": {\"cookies\": {}}}");
    assert_string_equal(dump_headers(fx, fx->ev->request.headers), "accept: */*\n");
}

static void test_cf_response(void **state)
{
    struct fixture *fx = *state;
    read_ok(fx, "{\"version\": \"1.0\", \"context\": {\"eventType\": \"viewer-response\"}, \"viewer\": {\"ip\": \"2001:db8::1\"},\n"
                " \"request\": {\"method\": \"GET\", \"uri\": \"/page\", \"headers\": {\"host\": {\"value\": \"h\"}}},\n"
                " \"response\": {\"statusCode\": 404, \"statusDescription\": \"Not Found\",\n"
                "   \"headers\": {\"Content-Type\": {\"value\": \"text/plain\"},\n"
                "                 \"x-m\": {\"multiValue\": [{\"value\": \"1\"}, {\"value\": \"2\"}]}},\n"
                "   \"cookies\": {\"sid\": {\"value\": \"1\", \"attributes\": \"Path=/; Secure\"}, \"t\": {\"value\": \"x\"}},\n"
                "   \"body\": {\"data\": \"aGk=\", \"encoding\": \"base64\"}}}");
    assert_int_equal(fx->hook, EF_HOOK_VIEWER_RESPONSE);
    assert_string_equal(str(fx, fx->ev->client_ip), "2001:db8::1");
    assert_string_equal(str(fx, fx->ev->request.path), "/page");
    assert_int_equal(fx->ev->response.status, 404);
    assert_string_equal(str(fx, fx->ev->response.reason), "Not Found");
    /* each cookie is a set-cookie header, with its attributes */
    assert_string_equal(dump_headers(fx, fx->ev->response.headers), "content-type: text/plain\n"
                                                                    "x-m: 1\n"
                                                                    "x-m: 2\n"
                                                                    "set-cookie: sid=1; Path=/; Secure\n"
                                                                    "set-cookie: t=x\n");
    assert_tokens(fx->ev->response.headers);
    assert_true(fx->ev->response.has_body);
    assert_string_equal(str(fx, fx->ev->response.body), "hi");
}

static void test_cf_bodies(void **state)
{
    struct fixture *fx = *state;
    /* a request body as text, as base64 (with line breaks, as MIME writes it), or a plain string */
    read_ok(fx, "{\"request\": {\"body\": {\"data\": \"plain text\", \"encoding\": \"text\"}}}");
    assert_string_equal(str(fx, fx->ev->request.body), "plain text");
    read_ok(fx, "{\"request\": {\"body\": {\"data\": \"aGVs\\nbG8=\", \"encoding\": \"base64\"}}}");
    assert_string_equal(str(fx, fx->ev->request.body), "hello");
    read_ok(fx, "{\"request\": {\"body\": \"as is\"}}");
    assert_string_equal(str(fx, fx->ev->request.body), "as is");
    /* bytes that are not text */
    read_ok(fx, "{\"request\": {\"body\": {\"data\": \"AP8=\", \"encoding\": \"base64\"}}}");
    assert_int_equal(fx->ev->request.body.len, 2);
    assert_memory_equal(fx->ev->request.body.base, "\x00\xff", 2);
    /* a response body as text */
    read_ok(fx, "{\"response\": {\"body\": {\"data\": \"<p>\", \"encoding\": \"text\"}}}");
    assert_true(fx->ev->response.has_body);
    assert_string_equal(str(fx, fx->ev->response.body), "<p>");
}

static void test_cf_status_as_string(void **state)
{
    struct fixture *fx = *state;
    read_ok(fx, "{\"response\": {\"statusCode\": \"302\"}}");
    assert_int_equal(fx->ev->response.status, 302);
    read_ok(fx, "{\"response\": {\"status\": 503}}");
    assert_int_equal(fx->ev->response.status, 503);
}

static void test_cf_each_hook(void **state)
{
    struct fixture *fx = *state;
    char text[128];
    for (int i = 0; i != EF_NUM_HOOKS; ++i) {
        fx->hook = EF_NUM_HOOKS;
        snprintf(text, sizeof(text), "{\"context\": {\"eventType\": \"%s\"}}", ef_hook_names[i]);
        read_ok(fx, text);
        assert_int_equal(fx->hook, i);
    }
}

/* ---- Lambda@Edge ---- */

static void test_lambda_request(void **state)
{
    struct fixture *fx = *state;
    read_ok(
        fx,
        "{\"Records\": [{\"cf\": {\n"
        "  \"config\": {\"distributionDomainName\": \"d111111abcdef8.cloudfront.net\", \"distributionId\": \"EDFDVBD6EXAMPLE\",\n"
        "             \"eventType\": \"origin-request\", \"requestId\": "
        "\"4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==\"},\n"
        "  \"request\": {\"clientIp\": \"203.0.113.178\", \"method\": \"PUT\", \"uri\": \"/upload\",\n"
        "              \"querystring\": \"size=LARGE&tag=a&tag=b\",\n"
        "              \"headers\": {\"host\": [{\"key\": \"Host\", \"value\": \"d111111abcdef8.cloudfront.net\"}],\n"
        "                          \"user-agent\": [{\"key\": \"User-Agent\", \"value\": \"curl/7.66.0\"}],\n"
        "                          \"x-multi\": [{\"key\": \"X-Multi\", \"value\": \"a\"}, {\"key\": \"X-Multi\", \"value\": "
        "\"b\"}],\n"
        "                          \"cookie\": [{\"key\": \"Cookie\", \"value\": \"sid=42\"}]},\n"
        "              \"body\": {\"inputTruncated\": false, \"action\": \"read-only\", \"encoding\": \"base64\",\n"
        "                       \"data\": \"aGVsbG8=\"}}}}]}");
    assert_int_equal(fx->hook, EF_HOOK_ORIGIN_REQUEST);
    assert_string_equal(str(fx, fx->ev->client_ip), "203.0.113.178");
    assert_string_equal(str(fx, fx->ev->request.method), "PUT");
    assert_string_equal(str(fx, fx->ev->request.path), "/upload");
    assert_string_equal(str(fx, fx->ev->request.query), "size=LARGE&tag=a&tag=b");
    assert_string_equal(dump_headers(fx, fx->ev->request.headers), "host: d111111abcdef8.cloudfront.net\n"
                                                                   "user-agent: curl/7.66.0\n"
                                                                   "x-multi: a\n"
                                                                   "x-multi: b\n"
                                                                   "cookie: sid=42\n");
    assert_tokens(fx->ev->request.headers);
    assert_string_equal(str(fx, fx->ev->request.body), "hello");
    /* a text body; without an eventType, the hook is left unknown */
    fx->hook = EF_NUM_HOOKS;
    read_ok(fx, "{\"Records\": [{\"cf\": {\"request\": {\"body\": {\"data\": \"x=1\", \"encoding\": \"text\"}}}}]}");
    assert_string_equal(str(fx, fx->ev->request.body), "x=1");
    assert_int_equal(fx->hook, EF_NUM_HOOKS);
}

static void test_lambda_response(void **state)
{
    struct fixture *fx = *state;
    read_ok(fx, "{\"Records\": [{\"cf\": {\"config\": {\"eventType\": \"origin-response\"},\n"
                "  \"request\": {\"clientIp\": \"198.51.100.1\", \"method\": \"GET\", \"uri\": \"/x\", \"querystring\": \"\",\n"
                "              \"headers\": {\"host\": [{\"key\": \"Host\", \"value\": \"h\"}]}},\n"
                "  \"response\": {\"status\": \"404\", \"statusDescription\": \"Not Found\",\n"
                "               \"headers\": {\"content-type\": [{\"key\": \"Content-Type\", \"value\": \"text/plain\"}],\n"
                "                           \"set-cookie\": [{\"key\": \"Set-Cookie\", \"value\": \"a=1; Path=/\"},\n"
                "                                            {\"key\": \"Set-Cookie\", \"value\": \"b=2\"}]}}}}]}");
    assert_int_equal(fx->hook, EF_HOOK_ORIGIN_RESPONSE);
    assert_string_equal(str(fx, fx->ev->client_ip), "198.51.100.1");
    assert_null(fx->ev->request.query.base);
    assert_int_equal(fx->ev->response.status, 404);
    assert_string_equal(str(fx, fx->ev->response.reason), "Not Found");
    assert_string_equal(dump_headers(fx, fx->ev->response.headers), "content-type: text/plain\n"
                                                                    "set-cookie: a=1; Path=/\n"
                                                                    "set-cookie: b=2\n");
    assert_tokens(fx->ev->response.headers);
    /* the status as a number too */
    read_ok(fx, "{\"Records\": [{\"cf\": {\"config\": {\"eventType\": \"viewer-response\"}, \"response\": {\"status\": 301}}}]}");
    assert_int_equal(fx->hook, EF_HOOK_VIEWER_RESPONSE);
    assert_int_equal(fx->ev->response.status, 301);
}

/* ---- the short form ---- */

static void test_short_request(void **state)
{
    struct fixture *fx = *state;
    read_ok(fx,
            "{\"hook\": \"viewer-request\", \"method\": \"DELETE\", \"uri\": \"/path/to?x=1&y=2\",\n"
            " \"headers\": {\"host\": \"shop.example\", \"accept\": \"text/html\", \"x-m\": [\"a\", \"b\"], \"X-Upper\": \"U\"},\n"
            " \"clientIp\": \"10.0.0.1\", \"body\": \"payload\"}");
    assert_int_equal(fx->hook, EF_HOOK_VIEWER_REQUEST);
    assert_string_equal(str(fx, fx->ev->request.method), "DELETE");
    assert_string_equal(str(fx, fx->ev->request.path), "/path/to");
    assert_string_equal(str(fx, fx->ev->request.query), "x=1&y=2");
    assert_string_equal(dump_headers(fx, fx->ev->request.headers), "host: shop.example\n"
                                                                   "accept: text/html\n"
                                                                   "x-m: a\n"
                                                                   "x-m: b\n"
                                                                   "x-upper: U\n");
    assert_tokens(fx->ev->request.headers);
    assert_string_equal(str(fx, fx->ev->client_ip), "10.0.0.1");
    assert_string_equal(str(fx, fx->ev->request.body), "payload");
    /* the response is left as it was */
    assert_int_equal(fx->ev->response.status, 200);
    assert_string_equal(dump_headers(fx, fx->ev->response.headers), "");
}

static void test_short_defaults(void **state)
{
    struct fixture *fx = *state;
    /* only the hook: GET / with Host: localhost */
    read_ok(fx, "{\"hook\": \"origin-request\"}");
    assert_int_equal(fx->hook, EF_HOOK_ORIGIN_REQUEST);
    assert_string_equal(str(fx, fx->ev->request.method), "GET");
    assert_string_equal(str(fx, fx->ev->request.path), "/");
    assert_null(fx->ev->request.query.base);
    assert_string_equal(dump_headers(fx, fx->ev->request.headers), "host: localhost\n");
    /* a uri with an empty query: none */
    read_ok(fx, "{\"hook\": \"origin-request\", \"uri\": \"/p?\"}");
    assert_string_equal(str(fx, fx->ev->request.path), "/p");
    assert_null(fx->ev->request.query.base);
}

/* "host "localhost" by default" (issue6-api.md), "also when other headers are given" (admin-test.t) */
static void test_short_host_stays_with_other_headers(void **state)
{
    struct fixture *fx = *state;
    read_ok(fx, "{\"hook\": \"viewer-request\", \"uri\": \"/h\", \"headers\": {\"accept\": \"text/html\"}}");
    const char *headers = dump_headers(fx, fx->ev->request.headers);
    if (fx->ev->request.headers->size != 2 || strstr(headers, "host: localhost\n") == NULL ||
        strstr(headers, "accept: text/html\n") == NULL)
        fail_msg("expected Host: localhost and Accept: text/html, got:\n%s", headers);
    assert_tokens(fx->ev->request.headers);
    /* a host given is the host */
    read_ok(fx, "{\"hook\": \"viewer-request\", \"headers\": {\"Host\": \"shop.example\", \"accept\": \"*/*\"}}");
    assert_string_equal(dump_headers(fx, fx->ev->request.headers), "host: shop.example\naccept: */*\n");
}

static void test_short_response(void **state)
{
    struct fixture *fx = *state;
    read_ok(fx, "{\"hook\": \"viewer-response\", \"uri\": \"/r\", \"status\": 404,\n"
                " \"responseHeaders\": {\"content-type\": \"text/plain\", \"set-cookie\": [\"a=1; Path=/\", \"b=2\"]}}");
    assert_int_equal(fx->hook, EF_HOOK_VIEWER_RESPONSE);
    assert_string_equal(str(fx, fx->ev->request.path), "/r");
    assert_int_equal(fx->ev->response.status, 404);
    assert_string_equal(dump_headers(fx, fx->ev->response.headers), "content-type: text/plain\n"
                                                                    "set-cookie: a=1; Path=/\n"
                                                                    "set-cookie: b=2\n");
    assert_tokens(fx->ev->response.headers);
    /* the status as a string */
    read_ok(fx, "{\"hook\": \"origin-response\", \"status\": \"502\"}");
    assert_int_equal(fx->hook, EF_HOOK_ORIGIN_RESPONSE);
    assert_int_equal(fx->ev->response.status, 502);
}

/* ---- errors ---- */

static void test_error_not_an_object(void **state)
{
    struct fixture *fx = *state;
    read_fails(fx, "[]", "must be a JSON object", "an array", NULL);
    read_fails(fx, "\"viewer-request\"", "must be a JSON object", "a string", NULL);
    read_fails(fx, "42", "must be a JSON object", "a number", NULL);
    read_fails(fx, "null", "must be a JSON object", NULL);
}

static void test_error_unknown_hook(void **state)
{
    struct fixture *fx = *state;
    /* each shape names its own field, and says what is allowed */
    read_fails(fx, "{\"context\": {\"eventType\": \"viewer-requests\"}}", "context.eventType", "viewer-request", NULL);
    read_fails(fx, "{\"context\": {\"eventType\": 1}}", "context.eventType", "viewer-request", NULL);
    read_fails(fx, "{\"Records\": [{\"cf\": {\"config\": {\"eventType\": \"invoke\"}}}]}", "Records[0].cf.config.eventType",
               "origin-request", NULL);
    read_fails(fx, "{\"hook\": \"nope\"}", "hook", "nope", "viewer-response", NULL);
    read_fails(fx, "{\"hook\": null}", "hook", "viewer-request", NULL);
    read_fails(fx, "{\"hook\": \"Viewer-Request\"}", "hook", "origin-response", NULL);
    /* nothing is read from an event whose hook is wrong */
    read_fails(fx, "{\"hook\": \"nope\", \"uri\": \"/changed\"}", "hook", NULL);
    assert_string_equal(str(fx, fx->ev->request.path), "/");
    assert_int_equal(fx->hook, EF_NUM_HOOKS);
}

static void test_error_records(void **state)
{
    struct fixture *fx = *state;
    static const char *const bad[] = {
        "{\"Records\": []}",
        "{\"Records\": {\"cf\": {}}}",
        "{\"Records\": [{\"cf\": {}}, {\"cf\": {}}]}",
        "{\"Records\": [{\"nocf\": {}}]}",
        "{\"Records\": [{\"cf\": []}]}",
        "{\"Records\": [\"cf\"]}",
        "{\"Records\": null}",
    };
    for (size_t i = 0; i != sizeof(bad) / sizeof(bad[0]); ++i)
        read_fails(fx, bad[i], "Records must be an array of one record", NULL);
    read_fails(fx, "{\"Records\": [{\"cf\": {\"request\": {\"clientIp\": 7}}}]}", "clientIp", NULL);
    read_fails(fx, "{\"Records\": [{\"cf\": {\"request\": []}}]}", "request must be an object", NULL);
}

static void test_error_headers(void **state)
{
    struct fixture *fx = *state;
    /* not an object, in each shape */
    read_fails(fx, "{\"request\": {\"headers\": [1]}}", "headers must be an object", "an array", NULL);
    read_fails(fx, "{\"Records\": [{\"cf\": {\"request\": {\"headers\": \"host: h\"}}}]}", "headers must be an object", NULL);
    read_fails(fx, "{\"hook\": \"viewer-request\", \"headers\": [1]}", "headers must be an object", NULL);
    read_fails(fx, "{\"hook\": \"viewer-response\", \"responseHeaders\": 5}", "headers must be an object", NULL);
    read_fails(fx, "{\"response\": {\"headers\": null}}", "headers must be an object", NULL);
    /* an entry that is no value */
    read_fails(fx, "{\"request\": {\"headers\": {\"x-a\": {\"val\": \"1\"}}}}", "header \"x-a\"", NULL);
    read_fails(fx, "{\"request\": {\"headers\": {\"x-a\": 5}}}", "header \"x-a\"", NULL);
    read_fails(fx, "{\"request\": {\"headers\": {\"x-a\": {\"multiValue\": {\"value\": \"1\"}}}}}", "header \"x-a\"",
               "multiValue must be an array", NULL);
    read_fails(fx, "{\"hook\": \"viewer-request\", \"headers\": {\"x-a\": [\"1\", 2]}}", "header \"x-a\"", NULL);
    /* a value with a line break or a NUL, in each shape */
    read_fails(fx, "{\"request\": {\"headers\": {\"x-bad\": {\"value\": \"a\\r\\nInjected: 1\"}}}}", "header \"x-bad\"",
               "line break", NULL);
    read_fails(fx,
               "{\"Records\": [{\"cf\": {\"request\": {\"headers\": {\"x-bad\": [{\"key\": \"X-Bad\", \"value\": \"a\\nb\"}]}}}}]}",
               "header \"x-bad\"", "line break", NULL);
    read_fails(fx, "{\"hook\": \"viewer-request\", \"headers\": {\"X-Bad\": [\"ok\", \"a\\rb\"]}}", "header \"x-bad\"",
               "line break", NULL);
    read_fails(fx, "{\"hook\": \"viewer-response\", \"responseHeaders\": {\"x-bad\": \"a\\nb\"}}", "header \"x-bad\"", NULL);
    read_fails(fx, "{\"response\": {\"headers\": {\"x-bad\": {\"value\": \"a\\nb\"}}}}", "header \"x-bad\"", NULL);
}

static void test_error_bodies(void **state)
{
    struct fixture *fx = *state;
    read_fails(fx, "{\"request\": {\"body\": {\"data\": \"!!!!\", \"encoding\": \"base64\"}}}", "request.body.data is not base64",
               NULL);
    read_fails(fx, "{\"request\": {\"body\": {\"data\": \"a\", \"encoding\": \"base64\"}}}", "request.body.data is not base64",
               NULL);
    read_fails(fx, "{\"Records\": [{\"cf\": {\"request\": {\"body\": {\"data\": \"aGk=aGk=\", \"encoding\": \"base64\"}}}}]}",
               "request.body.data is not base64", NULL);
    read_fails(fx, "{\"response\": {\"body\": {\"data\": \"%%%\", \"encoding\": \"base64\"}}}", "response.body.data is not base64",
               NULL);
    read_fails(fx, "{\"request\": {\"body\": {\"data\": \"x\", \"encoding\": \"gzip\"}}}", "request.body.encoding", NULL);
    read_fails(fx, "{\"request\": {\"body\": {\"encoding\": \"text\"}}}", "request.body must be a string", NULL);
    read_fails(fx, "{\"request\": {\"body\": 5}}", "request.body", NULL);
}

static void test_error_other_fields(void **state)
{
    struct fixture *fx = *state;
    read_fails(fx, "{\"request\": \"GET /\"}", "request must be an object", NULL);
    read_fails(fx, "{\"response\": []}", "response must be an object", NULL);
    read_fails(fx, "{\"request\": {\"method\": \"\"}}", "request.method", NULL);
    read_fails(fx, "{\"request\": {\"method\": 1}}", "request.method", NULL);
    read_fails(fx, "{\"request\": {\"uri\": 1}}", "request.uri", NULL);
    read_fails(fx, "{\"request\": {\"uri\": \"no-slash\"}}", "uri", "'/'", NULL);
    read_fails(fx, "{\"request\": {\"uri\": \"/a b\"}}", "uri", NULL);
    read_fails(fx, "{\"hook\": \"viewer-request\", \"uri\": 5}", "uri must be a string", NULL);
    read_fails(fx, "{\"hook\": \"viewer-request\", \"uri\": \"/a#frag\"}", "uri", NULL);
    read_fails(fx, "{\"request\": {\"querystring\": 5}}", "querystring", NULL);
    read_fails(fx, "{\"request\": {\"querystring\": {\"a\": {\"value\": 1}}}}", "querystring parameter \"a\"", NULL);
    read_fails(fx, "{\"request\": {\"cookies\": []}}", "cookies must be an object", NULL);
    read_fails(fx, "{\"request\": {\"cookies\": {\"sid\": 42}}}", "cookie \"sid\"", NULL);
    read_fails(fx, "{\"response\": {\"cookies\": {\"sid\": {\"value\": \"1\", \"attributes\": 5}}}}", "cookie \"sid\"",
               "attributes", NULL);
    read_fails(fx, "{\"viewer\": {\"ip\": 1234}}", "viewer.ip", NULL);
    read_fails(fx, "{\"hook\": \"viewer-request\", \"clientIp\": []}", "clientIp", NULL);
    /* a status that is none */
    read_fails(fx, "{\"response\": {\"statusCode\": 99}}", "statusCode", "100 to 599", NULL);
    read_fails(fx, "{\"response\": {\"statusCode\": 600}}", "statusCode", NULL);
    read_fails(fx, "{\"response\": {\"statusCode\": \"OK\"}}", "statusCode", NULL);
    read_fails(fx, "{\"response\": {\"statusCode\": true}}", "statusCode", NULL);
    read_fails(fx, "{\"Records\": [{\"cf\": {\"response\": {\"status\": \"abc\"}}}]}", "status", NULL);
    read_fails(fx, "{\"hook\": \"viewer-response\", \"status\": 1000}", "status", NULL);
    read_fails(fx, "{\"response\": {\"statusDescription\": 5}}", "statusDescription", NULL);
}

/* What ends up in a header value is checked the same whichever field it came from: a cookie becomes a cookie or set-cookie
 * header, a status description the status line. */
static void test_error_line_breaks_outside_headers(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *event, *field;
    } cases[] = {
        {"{\"request\": {\"cookies\": {\"sid\": {\"value\": \"1\\r\\nInjected: 1\"}}}}", "cookie"},
        {"{\"request\": {\"cookies\": {\"sid\": \"1\\nx\"}}}", "cookie"},
        {"{\"response\": {\"cookies\": {\"sid\": {\"value\": \"1\\r\\nInjected: 1\"}}}}", "cookie"},
        {"{\"response\": {\"cookies\": {\"sid\": {\"value\": \"1\", \"attributes\": \"Path=/\\r\\nInjected: 1\"}}}}", "cookie"},
        {"{\"response\": {\"statusDescription\": \"OK\\r\\nInjected: 1\"}}", "statusDescription"},
    };
    char wrong[2048] = "";
    for (size_t i = 0; i != sizeof(cases) / sizeof(cases[0]); ++i) {
        int ret = read_event(fx, cases[i].event);
        if (ret == 0 || strstr(fx->err, cases[i].field) == NULL)
            snprintf(wrong + strlen(wrong), sizeof(wrong) - strlen(wrong), "\n  %s: %s", cases[i].event,
                     ret == 0 ? "accepted" : fx->err);
    }
    if (wrong[0] != '\0')
        fail_msg("line breaks that are not refused, or a message that does not name the field:%s", wrong);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cf_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cf_querystring_as_string, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cf_cookies_replace_cookie_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cf_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cf_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cf_status_as_string, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cf_each_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lambda_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lambda_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_host_stays_with_other_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_not_an_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_unknown_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_other_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_line_breaks_outside_headers, setup, teardown),
    };
    if (getenv("EF_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("EF_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
