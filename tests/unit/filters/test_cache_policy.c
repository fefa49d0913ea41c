/* The cache's rules (filters/cache_policy.c): freshness and its clamps, what is not cached, keys, Vary, 304s. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "filters/cache_policy.h"

static h2o_mem_pool_t pool;

static int setup(void **state)
{
    h2o_mem_init_pool(&pool);
    return 0;
}

static int teardown(void **state)
{
    h2o_mem_clear_pool(&pool);
    return 0;
}

/* headers from "name: value" strings, NULL-terminated */
static h2o_headers_t make_headers(const char *first, ...)
{
    h2o_headers_t headers = {NULL};
    va_list args;

    va_start(args, first);
    for (const char *h = first; h != NULL; h = va_arg(args, const char *)) {
        const char *colon = strchr(h, ':');
        h2o_iovec_t name = h2o_strdup(&pool, h, colon - h);
        h2o_strtolower(name.base, name.len);
        const h2o_token_t *token = h2o_lookup_token(name.base, name.len);
        const char *value = colon + 1;
        while (*value == ' ')
            ++value;
        if (token != NULL)
            h2o_add_header(&pool, &headers, token, NULL, value, strlen(value));
        else
            h2o_add_header_by_str(&pool, &headers, name.base, name.len, 0, NULL, value, strlen(value));
    }
    va_end(args);
    return headers;
}

static ef_conf_cache_policy_t policy(uint64_t def, uint64_t min, uint64_t max)
{
    return (ef_conf_cache_policy_t){.enabled = 1, .default_ttl = def, .min_ttl = min, .max_ttl = max};
}

#define GET h2o_iovec_init(H2O_STRLIT("GET"))
#define NOW 1764500000 /* 2025-11-30T10:53:20Z */

static ef_cache_decision_t decide(ef_conf_cache_policy_t p, int status, h2o_headers_t h)
{
    ef_cache_decision_t d;
    ef_cache_decide(&p, GET, status, &h, 0, NOW, &d);
    return d;
}

static void test_cache_control_parse(void **state)
{
    h2o_headers_t h =
        make_headers("cache-control: public, Max-Age=60", "cache-control: s-maxage=\"30\", no-cache=\"set-cookie, x\"", NULL);
    ef_cache_control_t cc;

    ef_cache_control_parse(&h, &cc);
    assert_true(cc.public_);
    assert_true(cc.no_cache); /* a quoted list with a comma is one directive */
    assert_false(cc.no_store);
    assert_int_equal(cc.max_age, 60);
    assert_int_equal(cc.s_maxage, 30);

    h = make_headers("cache-control: max-age=abc, private, must-revalidate", NULL);
    ef_cache_control_parse(&h, &cc);
    assert_int_equal(cc.max_age, -1);
    assert_true(cc.private_);
    assert_true(cc.must_revalidate);

    h = make_headers("cache-control: max-age=99999999999999999999", NULL);
    ef_cache_control_parse(&h, &cc);
    assert_int_equal(cc.max_age, 2147483648LL);
}

static void test_freshness_order_and_clamps(void **state)
{
    ef_cache_decision_t d;

    /* nothing from the origin: default-ttl */
    d = decide(policy(60000, 0, 86400000), 200, make_headers("content-type: text/html", NULL));
    assert_true(d.store);
    assert_int_equal(d.ttl, 60000);
    /* s-maxage over max-age over Expires */
    d = decide(policy(60000, 0, 86400000), 200,
               make_headers("cache-control: max-age=10, s-maxage=20", "expires: Sun, 30 Nov 2025 11:53:20 GMT", NULL));
    assert_int_equal(d.ttl, 20000);
    d = decide(policy(60000, 0, 86400000), 200,
               make_headers("cache-control: max-age=10", "expires: Sun, 30 Nov 2025 11:53:20 GMT", NULL));
    assert_int_equal(d.ttl, 10000);
    /* Expires against Date, else against now */
    d = decide(policy(60000, 0, 86400000), 200,
               make_headers("date: Sun, 30 Nov 2025 10:53:20 GMT", "expires: Sun, 30 Nov 2025 11:53:20 GMT", NULL));
    assert_int_equal(d.ttl, 3600000);
    d = decide(policy(60000, 0, 86400000), 200, make_headers("expires: Sun, 30 Nov 2025 10:54:20 GMT", NULL));
    assert_int_equal(d.ttl, 60000);
    /* an invalid or past Expires is already stale */
    d = decide(policy(60000, 0, 86400000), 200, make_headers("expires: 0", NULL));
    assert_true(d.store);
    assert_int_equal(d.ttl, 0);
    /* clamps */
    d = decide(policy(60000, 5000, 86400000), 200, make_headers("cache-control: max-age=1", NULL));
    assert_int_equal(d.ttl, 5000);
    d = decide(policy(60000, 0, 30000), 200, make_headers("cache-control: max-age=3600", NULL));
    assert_int_equal(d.ttl, 30000);
    d = decide(policy(600000, 0, 30000), 200, make_headers(NULL));
    assert_int_equal(d.ttl, 30000);
}

static void test_not_cached(void **state)
{
    ef_conf_cache_policy_t p = policy(60000, 0, 86400000);
    ef_cache_decision_t d;

    d = decide(p, 200, make_headers("cache-control: no-store", NULL));
    assert_false(d.store);
    assert_string_equal(d.reason, "Cache-Control: no-store");
    d = decide(p, 200, make_headers("cache-control: private, max-age=60", NULL));
    assert_false(d.store);
    /* CloudFront: a min-ttl above 0 wins over no-store and private */
    d = decide(policy(60000, 2000, 86400000), 200, make_headers("cache-control: no-store", NULL));
    assert_true(d.store);
    assert_int_equal(d.ttl, 2000);
    /* no-cache: stored, revalidated before each use */
    d = decide(p, 200, make_headers("cache-control: no-cache", NULL));
    assert_true(d.store);
    assert_true(d.revalidate);
    assert_true(d.must_revalidate);
    /* what may not be served stale when the origin fails (RFC 9111 5.2.2), and what may */
    assert_true(decide(p, 200, make_headers("cache-control: max-age=60, must-revalidate", NULL)).must_revalidate);
    assert_true(decide(p, 200, make_headers("cache-control: max-age=60, Proxy-Revalidate", NULL)).must_revalidate);
    assert_true(decide(p, 200, make_headers("cache-control: s-maxage=60", NULL)).must_revalidate);
    assert_false(decide(p, 200, make_headers("cache-control: max-age=60", NULL)).must_revalidate);
    assert_false(decide(p, 200, make_headers(NULL)).must_revalidate);
    /* methods */
    ef_cache_decide(&p, h2o_iovec_init(H2O_STRLIT("POST")), 200, &(h2o_headers_t){NULL}, 0, NOW, &d);
    assert_false(d.store);
    ef_cache_decide(&p, h2o_iovec_init(H2O_STRLIT("HEAD")), 200, &(h2o_headers_t){NULL}, 0, NOW, &d);
    assert_true(d.store);
    /* a behavior without cache: */
    ef_conf_cache_policy_t off = {0};
    ef_cache_decide(&off, GET, 200, &(h2o_headers_t){NULL}, 0, NOW, &d);
    assert_false(d.store);
    /* Authorization: only when the origin allows it */
    h2o_headers_t h = make_headers("cache-control: max-age=60", NULL);
    ef_cache_decide(&p, GET, 200, &h, 1, NOW, &d);
    assert_false(d.store);
    h = make_headers("cache-control: public, max-age=60", NULL);
    ef_cache_decide(&p, GET, 200, &h, 1, NOW, &d);
    assert_true(d.store);
}

static void test_statuses(void **state)
{
    ef_conf_cache_policy_t p = policy(60000, 0, 86400000);
    static const int heuristic[] = {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501};

    for (size_t i = 0; i != sizeof(heuristic) / sizeof(heuristic[0]); ++i)
        assert_true(decide(p, heuristic[i], make_headers(NULL)).store);
    /* others need explicit freshness */
    assert_false(decide(p, 302, make_headers(NULL)).store);
    assert_true(decide(p, 302, make_headers("cache-control: max-age=5", NULL)).store);
    assert_false(decide(p, 500, make_headers(NULL)).store);
    /* an error the origin gives a lifetime is kept for it (RFC 9111; CloudFront caches 5xx too) */
    assert_true(decide(p, 503, make_headers("cache-control: max-age=5", NULL)).store);
    /* partial content is never stored whole */
    assert_false(decide(p, 206, make_headers("cache-control: max-age=5", NULL)).store);
}

static h2o_iovec_t key_of(ef_conf_cache_policy_t *p, const char *host, const char *path, const char *query, h2o_headers_t h)
{
    return ef_cache_key(&pool, p, h2o_iovec_init(host, strlen(host)), h2o_iovec_init(path, strlen(path)),
                        query != NULL ? h2o_iovec_init(query, strlen(query)) : h2o_iovec_init(NULL, 0), &h);
}

#define assert_key(k, lit)                                                                                                         \
    do {                                                                                                                           \
        h2o_iovec_t k_ = (k);                                                                                                      \
        assert_int_equal(k_.len, strlen(lit));                                                                                     \
        assert_memory_equal(k_.base, lit, k_.len);                                                                                 \
    } while (0)

static void test_key(void **state)
{
    ef_conf_cache_policy_t p = policy(60000, 0, 86400000);
    char *qnames[] = {"v", "lang"}, *hnames[] = {"x-device", "accept-language"}, *cnames[] = {"session", "ab"};

    /* query: none by default; host lower-cased */
    assert_key(key_of(&p, "Example.COM", "/a/b", "x=1", make_headers(NULL)), "example.com\n/a/b\n");
    /* all: sorted, so that the order of the query does not matter */
    p.key.query = EF_CONF_KEY_QUERY_ALL;
    assert_key(key_of(&p, "h", "/p", "b=2&a=1&a=0", make_headers(NULL)), "h\n/p?a=0&a=1&b=2\n");
    assert_key(key_of(&p, "h", "/p", "a=0&b=2&a=1", make_headers(NULL)), "h\n/p?a=0&a=1&b=2\n");
    assert_key(key_of(&p, "h", "/p", "", make_headers(NULL)), "h\n/p\n");
    /* a list: only those */
    p.key.query = EF_CONF_KEY_QUERY_LIST;
    p.key.query_names = qnames;
    p.key.num_query_names = 2;
    assert_key(key_of(&p, "h", "/p", "utm=x&v=3&lang=fr", make_headers(NULL)), "h\n/p?lang=fr&v=3\n");
    assert_key(key_of(&p, "h", "/p", "utm=x", make_headers(NULL)), "h\n/p\n");
    /* headers and cookies, sorted by name; absent ones leave no line */
    p.key.headers = hnames;
    p.key.num_headers = 2;
    p.key.cookies = cnames;
    p.key.num_cookies = 2;
    assert_key(key_of(&p, "h", "/p", NULL,
                      make_headers("x-device: mobile", "accept-language: fr", "accept-language: en",
                                   "cookie: other=1; session=abc; ab=B", NULL)),
               "h\n/p\nh:accept-language=fr,en\nh:x-device=mobile\nc:ab=B\nc:session=abc\n");
    assert_key(key_of(&p, "h", "/p", NULL, make_headers("x-device: mobile", NULL)), "h\n/p\nh:x-device=mobile\n");
}

static void test_vary(void **state)
{
    h2o_headers_t res = make_headers("vary: Accept-Encoding, accept-language", "vary: accept-encoding", NULL);
    h2o_iovec_t key;

    assert_int_equal(ef_cache_vary_key(&pool, &res, &(h2o_headers_t){NULL}, &key), 0);
    assert_key(key, "v:accept-encoding\nv:accept-language\n");
    h2o_headers_t req = make_headers("accept-encoding: gzip", "accept-language: fr", NULL);
    assert_int_equal(ef_cache_vary_key(&pool, &res, &req, &key), 0);
    assert_key(key, "v:accept-encoding=gzip\nv:accept-language=fr\n");
    /* an empty value is not an absent header */
    req = make_headers("accept-encoding: ", NULL);
    assert_int_equal(ef_cache_vary_key(&pool, &res, &req, &key), 0);
    assert_key(key, "v:accept-encoding=\nv:accept-language\n");
    /* none, and * */
    assert_int_equal(ef_cache_vary_key(&pool, &(h2o_headers_t){NULL}, &req, &key), 0);
    assert_int_equal(key.len, 0);
    res = make_headers("vary: accept, *", NULL);
    assert_int_equal(ef_cache_vary_key(&pool, &res, &req, &key), -1);
}

/* the address of a headers vector made by make_headers, for one call */
#define H(...) (&(h2o_headers_t[]){make_headers(__VA_ARGS__)}[0])

static void test_not_modified(void **state)
{
    h2o_iovec_t etag = h2o_iovec_init(H2O_STRLIT("\"v1\"")), lm = h2o_iovec_init(H2O_STRLIT("Sun, 30 Nov 2025 10:00:00 GMT")),
                none = {NULL};

    assert_true(ef_cache_not_modified(H("if-none-match: \"v0\", \"v1\"", NULL), etag, lm));
    assert_true(ef_cache_not_modified(H("if-none-match: W/\"v1\"", NULL), etag, lm));
    assert_true(ef_cache_not_modified(H("if-none-match: *", NULL), etag, lm));
    assert_false(ef_cache_not_modified(H("if-none-match: \"v2\"", NULL), etag, lm));
    /* If-None-Match decides alone */
    assert_false(
        ef_cache_not_modified(H("if-none-match: \"v2\"", "if-modified-since: Sun, 30 Nov 2025 11:00:00 GMT", NULL), etag, lm));
    assert_false(ef_cache_not_modified(H("if-none-match: \"v1\"", NULL), none, lm));
    /* If-Modified-Since */
    assert_true(ef_cache_not_modified(H("if-modified-since: Sun, 30 Nov 2025 11:00:00 GMT", NULL), etag, lm));
    assert_true(ef_cache_not_modified(H("if-modified-since: Sun, 30 Nov 2025 10:00:00 GMT", NULL), etag, lm));
    assert_false(ef_cache_not_modified(H("if-modified-since: Sun, 30 Nov 2025 09:59:59 GMT", NULL), etag, lm));
    assert_false(ef_cache_not_modified(H("if-modified-since: yesterday", NULL), etag, lm));
    assert_false(ef_cache_not_modified(H("if-modified-since: Sun, 30 Nov 2025 11:00:00 GMT", NULL), etag, none));
    /* an unconditional request */
    assert_false(ef_cache_not_modified(&(h2o_headers_t){NULL}, etag, lm));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cache_control_parse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_freshness_order_and_clamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_cached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_modified, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
