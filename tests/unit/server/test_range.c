/*
 * Byte ranges (server/range.c), as served from cached objects and directory origins:
 * a wrong answer here is a video player given the wrong bytes, or a 416 for a range
 * that was there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "server/range.h"

/* the result of parsing `v` against `size` bytes, as "first-last", "416" or "whole" */
static const char *parse(const char *v, uint64_t size)
{
    static char buf[64];
    uint64_t first, last;
    switch (ef_range_parse(h2o_iovec_init(v, strlen(v)), size, &first, &last)) {
    case 1:
        snprintf(buf, sizeof(buf), "%llu-%llu", (unsigned long long)first, (unsigned long long)last);
        return buf;
    case -1:
        return "416";
    default:
        return "whole";
    }
}

static void test_satisfiable(void **state)
{
    assert_string_equal(parse("bytes=0-0", 10), "0-0");
    assert_string_equal(parse("bytes=2-5", 10), "2-5");
    assert_string_equal(parse("bytes=2-", 10), "2-9");
    assert_string_equal(parse("bytes=2-100", 10), "2-9"); /* a last past the end is the end */
    assert_string_equal(parse("bytes=-3", 10), "7-9");    /* the last 3 bytes */
    assert_string_equal(parse("bytes=-30", 10), "0-9");   /* more than there is: all of it */
}

static void test_unsatisfiable(void **state)
{
    assert_string_equal(parse("bytes=10-", 10), "416"); /* starts past the end */
    assert_string_equal(parse("bytes=5-2", 10), "416"); /* backwards */
    assert_string_equal(parse("bytes=-0", 10), "416");
    assert_string_equal(parse("bytes=0-", 0), "416"); /* nothing to cut from */
    assert_string_equal(parse("bytes=-1", 0), "416");
}

static void test_ignored(void **state)
{
    /* RFC 9110 lets a server answer with the whole representation; edgefn does for all of these */
    assert_string_equal(parse("bytes=0-1,4-5", 10), "whole"); /* several ranges */
    assert_string_equal(parse("items=0-1", 10), "whole");     /* another unit */
    assert_string_equal(parse("bytes=", 10), "whole");
    assert_string_equal(parse("bytes=-", 10), "whole");
    assert_string_equal(parse("bytes=a-1", 10), "whole");
    assert_string_equal(parse("bytes=1-2x", 10), "whole");
    assert_string_equal(parse("bytes= 1-2", 10), "whole");
    assert_string_equal(parse("bytes=99999999999999999999-", 10), "whole"); /* no overflow into a small number */
    assert_string_equal(parse("bytes=0-99999999999999999999", 10), "whole");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_satisfiable),
        cmocka_unit_test(test_unsatisfiable),
        cmocka_unit_test(test_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
