/*
 * conf/units.c: the durations and sizes a config may hold, and the sentences a user
 * reads when one is wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include "conf/units.h"

#define DURATION_EXPECTED "expected an integer followed by ms, s, m, h or d, like 250ms or 5s"
#define SIZE_EXPECTED "expected an integer followed by B, KB, MB or GB, like 512KB or 100MB"

static void assert_duration(const char *s, uint64_t expected)
{
    uint64_t ms = 12345;
    const char *why = NULL;

    if (ef_parse_duration(s, &ms, &why) != 0)
        fail_msg("\"%s\" was rejected: %s", s, why);
    if (ms != expected)
        fail_msg("\"%s\" is %" PRIu64 "ms, expected %" PRIu64 "ms", s, ms, expected);
}

static void assert_bad_duration(const char *s, const char *expected_why)
{
    uint64_t ms = 12345;
    const char *why = NULL;

    if (ef_parse_duration(s, &ms, &why) == 0)
        fail_msg("\"%s\" was accepted as %" PRIu64 "ms", s, ms);
    assert_string_equal(why, expected_why);
    assert_int_equal(ms, 12345); /* untouched on failure */
}

static void assert_size(const char *s, uint64_t expected)
{
    uint64_t bytes = 12345;
    const char *why = NULL;

    if (ef_parse_size(s, &bytes, &why) != 0)
        fail_msg("\"%s\" was rejected: %s", s, why);
    if (bytes != expected)
        fail_msg("\"%s\" is %" PRIu64 " bytes, expected %" PRIu64, s, bytes, expected);
}

static void assert_bad_size(const char *s, const char *expected_why)
{
    uint64_t bytes = 12345;
    const char *why = NULL;

    if (ef_parse_size(s, &bytes, &why) == 0)
        fail_msg("\"%s\" was accepted as %" PRIu64 " bytes", s, bytes);
    assert_string_equal(why, expected_why);
    assert_int_equal(bytes, 12345);
}

static void test_duration_units(void **state)
{
    assert_duration("250ms", 250);
    assert_duration("5s", 5000);
    assert_duration("2m", 2 * 60 * 1000);
    assert_duration("3h", 3 * 60 * 60 * 1000);
    assert_duration("1d", 24 * 60 * 60 * 1000);
    assert_duration("90s", 90 * 1000);
    assert_duration("007s", 7000); /* decimal, so leading zeros are just zeros */
}

static void test_duration_zero(void **state)
{
    assert_duration("0", 0);
    assert_duration("0ms", 0);
    assert_duration("0s", 0);
    assert_duration("0d", 0);
    /* only a bare "0" may go without a unit */
    assert_bad_duration("00", "missing unit; expected ms, s, m, h or d after the number, like 5s");
}

static void test_duration_overflow(void **state)
{
    char s[64];

    assert_duration("18446744073709551615ms", UINT64_MAX);
    assert_bad_duration("18446744073709551616ms", "too large");
    assert_bad_duration("99999999999999999999999s", "too large");
    /* the number fits, the number times its unit does not */
    snprintf(s, sizeof(s), "%" PRIu64 "d", UINT64_MAX / 86400000);
    assert_duration(s, UINT64_MAX / 86400000 * 86400000);
    snprintf(s, sizeof(s), "%" PRIu64 "d", UINT64_MAX / 86400000 + 1);
    assert_bad_duration(s, "too large");
    snprintf(s, sizeof(s), "%" PRIu64 "s", UINT64_MAX / 1000 + 1);
    assert_bad_duration(s, "too large");
}

static void test_duration_bad_input(void **state)
{
    /* empty */
    assert_bad_duration("", DURATION_EXPECTED);
    /* spaces */
    assert_bad_duration("5 s", DURATION_EXPECTED);
    assert_bad_duration(" 5s", DURATION_EXPECTED);
    assert_bad_duration("5s ", "unexpected characters after the unit");
    /* sign */
    assert_bad_duration("-5s", "expected an integer without a sign, like 5s");
    assert_bad_duration("+5s", "expected an integer without a sign, like 5s");
    /* fraction */
    assert_bad_duration("1.5s", "expected an integer; use a smaller unit instead of a fraction, like 1500ms for 1.5s");
    assert_bad_duration(".5s", DURATION_EXPECTED);
    /* unknown unit; units are case-sensitive, so "5S" is a typo, not 5 seconds */
    assert_bad_duration("5sec", "unknown unit; expected ms, s, m, h or d");
    assert_bad_duration("5S", "unknown unit; expected ms, s, m, h or d");
    assert_bad_duration("5us", "unknown unit; expected ms, s, m, h or d");
    /* missing unit */
    assert_bad_duration("5", "missing unit; expected ms, s, m, h or d after the number, like 5s");
    assert_bad_duration("s", DURATION_EXPECTED);
    /* trailing junk */
    assert_bad_duration("5s5", "unexpected characters after the unit");
    assert_bad_duration("5ms!", "unexpected characters after the unit");
    assert_bad_duration("1h30m", "unexpected characters after the unit");
    assert_bad_duration("5-s", DURATION_EXPECTED);
}

static void test_size_units(void **state)
{
    assert_size("512B", 512);
    assert_size("1KB", 1024);
    assert_size("1KiB", 1024);
    assert_size("2MB", 2 << 20);
    assert_size("2MiB", 2 << 20);
    assert_size("3GB", UINT64_C(3) << 30);
    assert_size("3GiB", UINT64_C(3) << 30);
    assert_size("100MB", 100 << 20);
}

static void test_size_zero(void **state)
{
    assert_size("0", 0);
    assert_size("0B", 0);
    assert_size("0GB", 0);
}

static void test_size_overflow(void **state)
{
    assert_size("18446744073709551615B", UINT64_MAX);
    assert_bad_size("18446744073709551616B", "too large");
    assert_size("17179869183GB", UINT64_C(17179869183) << 30);
    assert_bad_size("17179869184GB", "too large"); /* 2^34 GB is 2^64 bytes */
}

static void test_size_bad_input(void **state)
{
    assert_bad_size("", SIZE_EXPECTED);
    assert_bad_size("1 MB", SIZE_EXPECTED);
    assert_bad_size("-1MB", "expected an integer without a sign, like 100MB");
    assert_bad_size("1.5MB", "expected an integer; use a smaller unit instead of a fraction, like 1536KB for 1.5MB");
    assert_bad_size("10mb", "unknown unit; expected B, KB, MB or GB (or KiB, MiB, GiB)");
    assert_bad_size("10M", "unknown unit; expected B, KB, MB or GB (or KiB, MiB, GiB)");
    assert_bad_size("10TB", "unknown unit; expected B, KB, MB or GB (or KiB, MiB, GiB)");
    assert_bad_size("10", "missing unit; expected B, KB, MB or GB after the number, like 100MB");
    assert_bad_size("10MB/s", "unexpected characters after the unit");
    assert_bad_size("MB", SIZE_EXPECTED);
}

static void test_format_duration(void **state)
{
    static const struct {
        uint64_t ms;
        const char *text;
    } cases[] = {
        {0, "0"},
        {1, "1ms"},
        {250, "250ms"},
        {1000, "1s"},
        {1500, "1500ms"},
        {90 * 1000, "90s"},
        {2 * 60 * 1000, "2m"},
        {60 * 60 * 1000, "1h"},
        {25 * 60 * 60 * 1000, "25h"},
        {24 * 60 * 60 * 1000, "1d"},
        {UINT64_C(365) * 24 * 60 * 60 * 1000, "365d"},
        {UINT64_MAX, "18446744073709551615ms"},
    };
    char buf[32];
    size_t i;

    for (i = 0; i != sizeof(cases) / sizeof(cases[0]); ++i) {
        uint64_t back = 12345;
        const char *why = NULL;
        assert_ptr_equal(ef_format_duration(cases[i].ms, buf, sizeof(buf)), buf);
        assert_string_equal(buf, cases[i].text);
        /* and it reads back as the same duration */
        assert_int_equal(ef_parse_duration(buf, &back, &why), 0);
        assert_true(back == cases[i].ms);
    }
}

static void test_format_duration_small_buffer(void **state)
{
    char buf[4];

    /* a buffer too small gets a terminated prefix, never an overrun */
    assert_string_equal(ef_format_duration(1500, buf, sizeof(buf)), "150");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_units),    cmocka_unit_test(test_duration_zero),
        cmocka_unit_test(test_duration_overflow), cmocka_unit_test(test_duration_bad_input),
        cmocka_unit_test(test_size_units),        cmocka_unit_test(test_size_zero),
        cmocka_unit_test(test_size_overflow),     cmocka_unit_test(test_size_bad_input),
        cmocka_unit_test(test_format_duration),   cmocka_unit_test(test_format_duration_small_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
