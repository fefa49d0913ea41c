/*
 * functions/event.c: the rules both runtimes apply to what a function hands back, and
 * the reasons a user reads in the 502 and the function's log.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "functions/event.h"

static h2o_iovec_t iov(const char *s)
{
    return h2o_iovec_init(s, strlen(s));
}

static int allowed(ef_hook_t hook, const char *name, char *why, size_t whylen)
{
    why[0] = '\0';
    return ef_event_header_allowed(hook, iov(name), why, whylen);
}

static void test_header_allowed(void **unused)
{
    static const char *const ok[] = {"x-custom", "accept",   "cache-control", "set-cookie",       "cookie",
                                     "location", "host",     "authorization", "content-type",     "x-forwarded-for",
                                     "te-x",     "x-edgefn", "proxy",         "a!#$%&'*+-.^_`|~0"};
    char why[256];

    for (ef_hook_t hook = 0; hook != EF_NUM_HOOKS; ++hook) {
        for (size_t i = 0; i != sizeof(ok) / sizeof(ok[0]); ++i) {
            if (!allowed(hook, ok[i], why, sizeof(why)))
                fail_msg("%s refused at %s: %s", ok[i], ef_hook_names[hook], why);
        }
    }
}

static void test_header_hop_by_hop(void **unused)
{
    static const char *const hop[] = {
        "connection",       "keep-alive",         "te",    "trailer", "transfer-encoding", "upgrade", "proxy-authorization",
        "proxy-connection", "proxy-authenticate", "proxy-"};
    char why[256], expected[256];

    for (ef_hook_t hook = 0; hook != EF_NUM_HOOKS; ++hook) {
        for (size_t i = 0; i != sizeof(hop) / sizeof(hop[0]); ++i) {
            assert_false(allowed(hook, hop[i], why, sizeof(why)));
            snprintf(expected, sizeof(expected), "header \"%s\" is hop-by-hop: a function cannot set it (at %s)", hop[i],
                     ef_hook_names[hook]);
            assert_string_equal(why, expected);
        }
    }
}

static void test_header_edgefn_and_framing(void **unused)
{
    char why[256];

    assert_false(allowed(EF_HOOK_VIEWER_RESPONSE, "content-length", why, sizeof(why)));
    assert_string_equal(why, "header \"content-length\" is set by edgefn from the body");
    assert_false(allowed(EF_HOOK_VIEWER_REQUEST, "content-length", why, sizeof(why)));

    assert_false(allowed(EF_HOOK_VIEWER_REQUEST, "x-edgefn-id", why, sizeof(why)));
    assert_string_equal(why, "header \"x-edgefn-id\" is edgefn's own");
    assert_false(allowed(EF_HOOK_ORIGIN_RESPONSE, "x-edgefn-", why, sizeof(why)));
    assert_string_equal(why, "header \"x-edgefn-\" is edgefn's own");
}

static void test_header_names_must_be_lowercase_tokens(void **unused)
{
    static const char *const bad[] = {"Connection", "X-Custom", "a b", "a:b",  "a\r\nb", "a\"b", "a(b)", "a/b", "\xc3\xa9t\xc3\xa9",
                                      "a;b",        "a,b",      "a=b", "[ab]", "a@b",    "a\\b", "a{b}", "a?b"};
    char why[256], expected[256];

    for (size_t i = 0; i != sizeof(bad) / sizeof(bad[0]); ++i) {
        assert_false(allowed(EF_HOOK_VIEWER_REQUEST, bad[i], why, sizeof(why)));
        snprintf(expected, sizeof(expected), "header name \"%s\" is not a lower-case HTTP token", bad[i]);
        assert_string_equal(why, expected);
    }
    assert_false(allowed(EF_HOOK_VIEWER_REQUEST, "", why, sizeof(why)));
    assert_string_equal(why, "a header has an empty name");

    /* a long name is cut short in the reason, which still fits */
    char name[300];
    memset(name, 'A', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_false(allowed(EF_HOOK_VIEWER_REQUEST, name, why, sizeof(why)));
    assert_true(strlen(why) < 120);
    char small[16];
    assert_false(allowed(EF_HOOK_VIEWER_REQUEST, "connection", small, sizeof(small)));
    assert_int_equal(strlen(small), sizeof(small) - 1); /* truncated, terminated */
}

static void test_header_name_with_nul(void **unused)
{
    /* strchr() finds the terminating NUL of its set: a NUL must not pass for a token character */
    char why[256] = "";
    assert_false(ef_event_header_allowed(EF_HOOK_VIEWER_REQUEST, h2o_iovec_init("a\0b", 3), why, sizeof(why)));
    assert_non_null(strstr(why, "is not a lower-case HTTP token"));
    assert_false(ef_event_header_allowed(EF_HOOK_VIEWER_RESPONSE, h2o_iovec_init("\0", 1), why, sizeof(why)));
}

static void check_response(int status, const char *reason, const char *body, int has_body, const char *expected_why)
{
    ef_event_response_t res = {.status = status, .reason = iov(reason), .has_body = has_body};
    char why[256] = "";
    if (body != NULL)
        res.body = iov(body);
    int ret = ef_event_check_response(&res, why, sizeof(why));
    if (expected_why == NULL) {
        if (ret != 0)
            fail_msg("status %d refused: %s", status, why);
    } else {
        assert_int_equal(ret, -1);
        assert_string_equal(why, expected_why);
    }
}

static void test_check_response(void **unused)
{
    check_response(200, "OK", NULL, 0, NULL);
    check_response(200, "", "body", 1, NULL);
    check_response(599, "Custom", NULL, 0, NULL);
    check_response(301, "Moved Permanently", NULL, 0, NULL);
    check_response(204, "No Content", NULL, 0, NULL);
    check_response(304, "Not Modified", NULL, 0, NULL);
    check_response(204, "No Content", "", 1, NULL); /* an empty body is no body */

    check_response(199, "", NULL, 0, "status 199 is outside 200-599");
    check_response(600, "", NULL, 0, "status 600 is outside 200-599");
    check_response(0, "", NULL, 0, "status 0 is outside 200-599");
    check_response(-200, "", NULL, 0, "status -200 is outside 200-599");
    check_response(100, "Continue", NULL, 0, "status 100 is outside 200-599");

    check_response(204, "No Content", "x", 1, "a 204 response cannot have a body");
    check_response(304, "Not Modified", "x", 1, "a 304 response cannot have a body");

    check_response(200, "OK\r\nX-Injected: 1", NULL, 0, "statusDescription contains a line break or NUL");
    check_response(200, "a\nb", NULL, 0, "statusDescription contains a line break or NUL");
    check_response(200, "a\rb", NULL, 0, "statusDescription contains a line break or NUL");

    ef_event_response_t res = {.status = 200, .reason = h2o_iovec_init("a\0b", 3)};
    char why[256];
    assert_int_equal(ef_event_check_response(&res, why, sizeof(why)), -1);
    assert_string_equal(why, "statusDescription contains a line break or NUL");
}

static void check_path(const char *path, const char *expected_why)
{
    char why[256] = "";
    int ret = ef_event_check_path(iov(path), why, sizeof(why));
    if (expected_why == NULL) {
        if (ret != 0)
            fail_msg("path \"%s\" refused: %s", path, why);
    } else {
        assert_int_equal(ret, -1);
        assert_string_equal(why, expected_why);
    }
}

static void test_check_path(void **unused)
{
    check_path("/", NULL);
    check_path("/index.html", NULL);
    check_path("/a/b/../c%20d;x=y", NULL);
    check_path("//double", NULL);
    check_path("/\xc3\xa9", NULL); /* raw UTF-8 is not a control character */

    check_path("", "uri \"\" does not start with '/'");
    check_path("index.html", "uri \"index.html\" does not start with '/'");
    check_path("http://example.com/", "uri \"http://example.com/\" does not start with '/'");
    check_path("*", "uri \"*\" does not start with '/'");
    check_path("/a?b", "uri contains '?' (set querystring instead)");
    check_path("/a#frag", "uri contains '#'");
    check_path("/a b", "uri contains whitespace or a control character");
    check_path("/a\tb", "uri contains whitespace or a control character");
    check_path("/a\r\nHost: evil", "uri contains whitespace or a control character");
    check_path("/a\x7f", "uri contains whitespace or a control character");
    check_path("/a\x01", "uri contains whitespace or a control character");

    char why[256];
    assert_int_equal(ef_event_check_path(h2o_iovec_init("/a\0b", 4), why, sizeof(why)), -1);
    assert_string_equal(why, "uri contains whitespace or a control character");
    /* a long relative path is cut short in the reason */
    char path[300];
    memset(path, 'x', sizeof(path) - 1);
    path[sizeof(path) - 1] = '\0';
    assert_int_equal(ef_event_check_path(iov(path), why, sizeof(why)), -1);
    assert_true(strlen(why) < 120);
}

static void test_check_header_value(void **unused)
{
    char why[256];

    assert_int_equal(ef_event_check_header_value(iov("x-a"), iov("plain value"), why, sizeof(why)), 0);
    assert_int_equal(ef_event_check_header_value(iov("x-a"), iov(""), why, sizeof(why)), 0);
    assert_int_equal(ef_event_check_header_value(iov("x-a"), iov("tab\there \xc3\xa9"), why, sizeof(why)), 0);

    static const char *const bad[] = {"a\r\nx-injected: 1", "a\nb", "a\rb", "\n", "trailing\r\n"};
    for (size_t i = 0; i != sizeof(bad) / sizeof(bad[0]); ++i) {
        why[0] = '\0';
        assert_int_equal(ef_event_check_header_value(iov("x-a"), iov(bad[i]), why, sizeof(why)), -1);
        assert_string_equal(why, "the value of header \"x-a\" contains a line break or NUL");
    }
    assert_int_equal(ef_event_check_header_value(iov("set-cookie"), h2o_iovec_init("a\0b", 3), why, sizeof(why)), -1);
    assert_string_equal(why, "the value of header \"set-cookie\" contains a line break or NUL");
}

/* "name=value[; attributes]|..." for each param */
static const char *dump_params(h2o_mem_pool_t *pool, const ef_event_params_t *params)
{
    char *buf = h2o_mem_alloc_pool(pool, 4096), *p = buf;
    *p = '\0';
    for (size_t i = 0; i != params->size; ++i) {
        const ef_event_param_t *e = params->entries + i;
        p += sprintf(p, "%.*s=%.*s", (int)e->name.len, e->name.base, (int)e->item.value.len, e->item.value.base);
        if (e->item.attributes.len != 0)
            p += sprintf(p, "[%.*s]", (int)e->item.attributes.len, e->item.attributes.base);
        *p++ = '|';
        *p = '\0';
    }
    return buf;
}

static void test_parse_query(void **unused)
{
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    ef_event_params_t params = {NULL};

    ef_event_parse_query(&pool, iov("a=1&b=&c&&a=2&d=x=y&e=%20+"), &params);
    assert_string_equal(dump_params(&pool, &params), "a=1|b=|c=|a=2|d=x=y|e=%20+|"); /* as written: nothing decoded */
    h2o_iovec_t joined = ef_event_join_params(&pool, &params, "&");
    assert_int_equal(joined.len, strlen("a=1&b=&c=&a=2&d=x=y&e=%20+"));
    assert_memory_equal(joined.base, "a=1&b=&c=&a=2&d=x=y&e=%20+", joined.len);

    params = (ef_event_params_t){NULL};
    ef_event_parse_query(&pool, h2o_iovec_init(NULL, 0), &params);
    assert_int_equal(params.size, 0);
    assert_int_equal(ef_event_join_params(&pool, &params, "&").len, 0);
    h2o_mem_clear_pool(&pool);
}

static void test_parse_cookies(void **unused)
{
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    h2o_headers_t headers = {NULL};
    ef_event_params_t params = {NULL};

    h2o_add_header(&pool, &headers, H2O_TOKEN_COOKIE, NULL, H2O_STRLIT("a=1; b = 2 ;;c"));
    h2o_add_header(&pool, &headers, H2O_TOKEN_ACCEPT, NULL, H2O_STRLIT("x=y"));
    h2o_add_header(&pool, &headers, H2O_TOKEN_COOKIE, NULL, H2O_STRLIT("a=3"));
    h2o_add_header(&pool, &headers, H2O_TOKEN_SET_COOKIE, NULL, H2O_STRLIT("sid=abc; Path=/; HttpOnly"));
    h2o_add_header(&pool, &headers, H2O_TOKEN_SET_COOKIE, NULL, H2O_STRLIT("theme=dark"));
    h2o_add_header(&pool, &headers, H2O_TOKEN_SET_COOKIE, NULL, H2O_STRLIT(" lang = en ;  Secure "));

    ef_event_parse_cookies(&pool, &headers, &params);
    assert_string_equal(dump_params(&pool, &params), "a=1|b=2|c=|a=3|");
    h2o_iovec_t joined = ef_event_join_params(&pool, &params, "; ");
    assert_int_equal(joined.len, strlen("a=1; b=2; c=; a=3"));
    assert_memory_equal(joined.base, "a=1; b=2; c=; a=3", joined.len);

    params = (ef_event_params_t){NULL};
    ef_event_parse_set_cookies(&pool, &headers, &params);
    assert_string_equal(dump_params(&pool, &params), "sid=abc[Path=/; HttpOnly]|theme=dark|lang=en[Secure]|");
    h2o_mem_clear_pool(&pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_allowed),
        cmocka_unit_test(test_header_hop_by_hop),
        cmocka_unit_test(test_header_edgefn_and_framing),
        cmocka_unit_test(test_header_names_must_be_lowercase_tokens),
        cmocka_unit_test(test_header_name_with_nul),
        cmocka_unit_test(test_check_response),
        cmocka_unit_test(test_check_path),
        cmocka_unit_test(test_check_header_value),
        cmocka_unit_test(test_parse_query),
        cmocka_unit_test(test_parse_cookies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
