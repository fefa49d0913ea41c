/* CloudFront path patterns and first-match-wins behavior selection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "filters/route.h"

static int match(const char *pattern, const char *path)
{
    return ef_path_match(pattern, strlen(pattern), path, strlen(path));
}

static void test_literal(void **state)
{
    assert_true(match("/index.html", "/index.html"));
    assert_false(match("/index.html", "/index.htm"));
    assert_false(match("/index.html", "/index.html5"));
    assert_false(match("/Index.html", "/index.html")); /* case-sensitive, as CloudFront */
    assert_true(match("", ""));
    assert_false(match("", "/"));
}

static void test_star(void **state)
{
    assert_true(match("*", "/anything/at/all"));
    assert_true(match("*", ""));
    assert_true(match("/api/*", "/api/"));
    assert_true(match("/api/*", "/api/v1/users")); /* '*' crosses '/' */
    assert_false(match("/api/*", "/api"));
    assert_false(match("/api/*", "/apix/y"));
    assert_true(match("/images/*.jpg", "/images/a/b/c.jpg"));
    assert_false(match("/images/*.jpg", "/images/a.jpeg"));
    assert_true(match("*.css", "/a/b.min.css"));
    assert_true(match("/a*b*c", "/aXXbYYc"));
    assert_true(match("/a*b*c", "/abc"));
    assert_false(match("/a*b*c", "/aXXbYY"));
    assert_true(match("/a**", "/a"));
}

static void test_question_mark(void **state)
{
    assert_true(match("/v?/x", "/v1/x"));
    assert_true(match("/v?/x", "/v//x")); /* any one character */
    assert_false(match("/v?/x", "/v/x"));
    assert_false(match("/v?/x", "/v12/x"));
    assert_true(match("/?*", "/a"));
    assert_false(match("/?*", "/"));
}

static void test_backtracking(void **state)
{
    /* the last '*' takes over after a false start */
    assert_true(match("*/b/*.txt", "/a/b/c/b/d.txt"));
    assert_true(match("/*ab", "/aab"));
    assert_false(match("/*ab", "/aaba"));
    /* a path made to be slow for a naive matcher still answers promptly */
    char path[4096];
    memset(path, 'a', sizeof(path) - 1);
    path[sizeof(path) - 1] = '\0';
    assert_false(match("*a*a*a*a*a*b", path));
}

static ef_conf_origin_t origins_conf[2] = {{.name = "app"}, {.name = "site"}};
static ef_origin_t origins[2];

static void test_first_match_wins(void **state)
{
    ef_conf_behavior_t behaviors[] = {
        {.path = "/api/*", .origin = &origins_conf[0]},
        {.path = "/api/special", .origin = &origins_conf[1]}, /* shadowed by the line above */
        {.path = "/static/*.css", .origin = &origins_conf[1]},
        {.path = "*", .origin = &origins_conf[1]},
    };
    ef_conf_t conf = {.origins = origins_conf, .num_origins = 2, .behaviors = behaviors, .num_behaviors = 4};
    struct st_ef_routes_t *routes = ef_routes_create(&conf, origins);
    const ef_behavior_t *b;

    b = ef_routes_find(routes, "/api/special", strlen("/api/special"));
    assert_non_null(b);
    assert_string_equal(b->pattern, "/api/*");
    assert_ptr_equal(b->origin, &origins[0]);

    b = ef_routes_find(routes, "/static/x/y.css", strlen("/static/x/y.css"));
    assert_string_equal(b->pattern, "/static/*.css");
    assert_ptr_equal(b->origin, &origins[1]);

    b = ef_routes_find(routes, "/static/y.js", strlen("/static/y.js"));
    assert_string_equal(b->pattern, "*");

    ef_routes_destroy(routes);
}

static void test_no_match(void **state)
{
    ef_conf_behavior_t behaviors[] = {{.path = "/api/*", .origin = &origins_conf[0]}};
    ef_conf_t conf = {.origins = origins_conf, .num_origins = 2, .behaviors = behaviors, .num_behaviors = 1};
    struct st_ef_routes_t *routes = ef_routes_create(&conf, origins);

    assert_null(ef_routes_find(routes, "/", 1));
    assert_null(ef_routes_find(routes, "/api", 4));
    assert_non_null(ef_routes_find(routes, "/api/", 5));
    ef_routes_destroy(routes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),          cmocka_unit_test(test_star),
        cmocka_unit_test(test_question_mark),    cmocka_unit_test(test_backtracking),
        cmocka_unit_test(test_first_match_wins), cmocka_unit_test(test_no_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
