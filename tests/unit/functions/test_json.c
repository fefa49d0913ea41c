/*
 * functions/json.c: the strict JSON parser that reads what a process function returns.
 * Valid documents must give the values jansson gives; invalid ones must be refused
 * with jansson's message, line and column, since that is what a function's author reads
 * in the 502. Every input is parsed from a heap copy of its exact length, so that
 * AddressSanitizer sees any read past the end (the input is not NUL-terminated).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "functions/json.h"

struct fixture {
    h2o_mem_pool_t pool;
    char *input; /* the last input, an exact-size copy */
    ef_json_error_t error;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    h2o_mem_init_pool(&fx->pool);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    free(fx->input);
    h2o_mem_clear_pool(&fx->pool);
    free(fx);
    return 0;
}

/* Parses `len` bytes of `s` from an exact-size copy, which stays until the next parse (strings may point into it). */
static const ef_json_t *parsen(struct fixture *fx, const char *s, size_t len)
{
    free(fx->input);
    fx->input = malloc(len != 0 ? len : 1);
    memcpy(fx->input, s, len);
    memset(&fx->error, 0, sizeof(fx->error));
    return ef_json_parse(&fx->pool, fx->input, len, &fx->error);
}

static const ef_json_t *parse(struct fixture *fx, const char *s)
{
    const ef_json_t *v = parsen(fx, s, strlen(s));
    if (v == NULL)
        fail_msg("refused %s: %s (line %d, column %d)", s, fx->error.text, fx->error.line, fx->error.column);
    return v;
}

static void assert_str(const ef_json_t *v, const char *expected, size_t len)
{
    assert_non_null(v);
    assert_int_equal(v->type, EF_JSON_STRING);
    if (v->string.len != len || memcmp(v->string.base, expected, len) != 0)
        fail_msg("\"%.*s\" != \"%.*s\"", (int)v->string.len, v->string.base, (int)len, expected);
}

#define ASSERT_STR(v, lit) assert_str((v), (lit), sizeof(lit) - 1)

static int points_into(struct fixture *fx, h2o_iovec_t s, size_t len)
{
    return s.base >= fx->input && s.base + s.len <= fx->input + len;
}

/* ---- valid documents ---- */

static void test_nested(void **state)
{
    struct fixture *fx = *state;
    const char *doc = " {\"a\": [1, {\"b\": null}, []], \"c\" :{\"d\":[true,false, {}]},\"e\":\"\"}\r\n\t";
    const ef_json_t *root = parse(fx, doc), *v;

    assert_int_equal(root->type, EF_JSON_OBJECT);
    assert_int_equal(root->object.size, 3);
    assert_memory_equal(root->object.members[0].key.base, "a", 1);
    assert_memory_equal(root->object.members[1].key.base, "c", 1);
    assert_memory_equal(root->object.members[2].key.base, "e", 1);

    v = ef_json_get(root, "a");
    assert_true(ef_json_is_array(v));
    assert_int_equal(v->array.size, 3);
    assert_true(ef_json_is_number(v->array.items + 0));
    assert_true(v->array.items[0].is_int);
    assert_int_equal(v->array.items[0].number.i, 1);
    assert_true(ef_json_is_object(v->array.items + 1));
    assert_true(ef_json_is_null(ef_json_get(v->array.items + 1, "b")));
    assert_true(ef_json_is_array(v->array.items + 2));
    assert_int_equal(v->array.items[2].array.size, 0);

    v = ef_json_get(ef_json_get(root, "c"), "d");
    assert_int_equal(v->array.size, 3);
    assert_int_equal(v->array.items[0].type, EF_JSON_TRUE);
    assert_int_equal(v->array.items[1].type, EF_JSON_FALSE);
    assert_true(ef_json_is_bool(v->array.items + 0));
    assert_true(ef_json_is_object(v->array.items + 2));
    assert_int_equal(v->array.items[2].object.size, 0);
    ASSERT_STR(ef_json_get(root, "e"), "");

    /* absent, or not an object */
    assert_null(ef_json_get(root, "b"));
    assert_null(ef_json_get(root, "A"));
    assert_null(ef_json_get(ef_json_get(root, "a"), "b"));
    assert_null(ef_json_get(NULL, "a"));
    assert_null(ef_json_getn(root, "ab", 2));

    /* any value at the top */
    ASSERT_STR(parse(fx, "\"x\""), "x");
    assert_int_equal(parse(fx, " 42 ")->number.i, 42);
    assert_int_equal(parse(fx, "true")->type, EF_JSON_TRUE);
    assert_int_equal(parse(fx, "null")->type, EF_JSON_NULL);
    assert_int_equal(parse(fx, "[]")->array.size, 0);
}

static void test_strings(void **state)
{
    struct fixture *fx = *state;
    const ef_json_t *v;

    /* without escapes: not copied */
    const char *plain = "[\"/index.html\", \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 and some more to go past eight bytes\"]";
    v = parse(fx, plain);
    ASSERT_STR(v->array.items + 0, "/index.html");
    ASSERT_STR(v->array.items + 1, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 and some more to go past eight bytes");
    assert_true(points_into(fx, v->array.items[0].string, strlen(plain)));
    assert_true(points_into(fx, v->array.items[1].string, strlen(plain)));

    /* escapes, short and \u (either case), surrogate pairs, NUL */
    const char *escaped = "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"caf\\u00e9 \\u20AC \\ud83d\\ude00!\", \"a\\u0000b\", "
                          "\"a long prefix without escapes, then\\n\", \"\\uDBFF\\uDFFF\\u0080\\u07ff\\u0800\\uffff\"]";
    v = parse(fx, escaped);
    ASSERT_STR(v->array.items + 0, "\"\\/\b\f\n\r\t");
    ASSERT_STR(v->array.items + 1, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80!");
    ASSERT_STR(v->array.items + 2, "a\0b");
    ASSERT_STR(v->array.items + 3, "a long prefix without escapes, then\n");
    ASSERT_STR(v->array.items + 4, "\xf4\x8f\xbf\xbf\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf");
    assert_false(points_into(fx, v->array.items[0].string, strlen(escaped)));

    /* keys are decoded like strings, NUL included (jansson refuses NUL in a key; JSON does not) */
    v = parse(fx, "{\"k\\u00e9y\": 1, \"a\\u0000b\": 2, \"\": 3}");
    assert_int_equal(v->object.size, 3);
    assert_int_equal(ef_json_get(v, "k\xc3\xa9y")->number.i, 1);
    assert_int_equal(ef_json_getn(v, "a\0b", 3)->number.i, 2);
    assert_null(ef_json_get(v, "a"));
    assert_int_equal(ef_json_get(v, "")->number.i, 3);

    /* the string type helper is exact: no prefix, no NUL cut */
    assert_true(ef_json_string_is(ef_json_get(parse(fx, "{\"a\":\"replace\"}"), "a"), "replace"));
    assert_false(ef_json_string_is(ef_json_get(parse(fx, "{\"a\":\"replace\\u0000x\"}"), "a"), "replace"));
    assert_false(ef_json_string_is(ef_json_get(parse(fx, "{\"a\":1}"), "a"), "1"));
}

static void test_numbers(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *text;
        int is_int;
        int64_t i;
        double d;
    } cases[] = {
        {"0", 1, 0, 0},
        {"-0", 1, 0, 0},
        {"7", 1, 7, 7},
        {"-12", 1, -12, -12},
        {"1e5", 0, 0, 100000},
        {"1E+2", 0, 0, 100},
        {"1e-2", 0, 0, 0.01},
        {"-0.5", 0, 0, -0.5},
        {"200.0", 0, 0, 200},
        {"3.141592653589793", 0, 0, 3.141592653589793},
        {"9223372036854775807", 1, INT64_MAX, 9223372036854775807.0},
        {"-9223372036854775808", 1, INT64_MIN, -9223372036854775808.0},
        /* beyond 64 bits: still numbers (jansson refuses them), as doubles */
        {"9223372036854775808", 0, 0, 9223372036854775808.0},
        {"-9223372036854775809", 0, 0, -9223372036854775809.0},
        {"123456789012345678901234567890", 0, 0, 123456789012345678901234567890.0},
        {"1e400", 0, 0, HUGE_VAL},
        {"1e-400", 0, 0, 0},
    };

    for (size_t i = 0; i != sizeof(cases) / sizeof(cases[0]); ++i) {
        char doc[64];
        snprintf(doc, sizeof(doc), "[%s]", cases[i].text);
        const ef_json_t *v = parse(fx, doc)->array.items;
        assert_int_equal(v->type, EF_JSON_NUMBER);
        if (v->is_int != cases[i].is_int)
            fail_msg("%s: is_int %d", cases[i].text, v->is_int);
        if (v->is_int && v->number.i != cases[i].i)
            fail_msg("%s: %lld", cases[i].text, (long long)v->number.i);
        if (ef_json_number(v) != cases[i].d)
            fail_msg("%s: %.17g", cases[i].text, ef_json_number(v));
        assert_int_equal(v->number.text.len, strlen(cases[i].text));
        assert_memory_equal(v->number.text.base, cases[i].text, v->number.text.len);
    }
    assert_true(ef_json_number(parse(fx, "\"1\"")) == 0); /* not a number */

    /* a number at the very end of the input, which is not NUL-terminated */
    assert_int_equal(parsen(fx, "1234", 3)->number.i, 123);
    assert_true(ef_json_number(parsen(fx, "1.55", 3)) == 1.5);
    assert_non_null(parsen(fx, "[1]garbage", 3));
}

/* jansson's rule: a key keeps the place of its first occurrence and takes the value of its last */
static void test_duplicate_keys(void **state)
{
    struct fixture *fx = *state;
    const ef_json_t *v = parse(fx, "{\"a\": 1, \"b\": 2, \"a\": 3, \"c\": 4, \"b\": 5}");

    assert_int_equal(v->object.size, 3);
    assert_memory_equal(v->object.members[0].key.base, "a", 1);
    assert_int_equal(v->object.members[0].value.number.i, 3);
    assert_memory_equal(v->object.members[1].key.base, "b", 1);
    assert_int_equal(v->object.members[1].value.number.i, 5);
    assert_memory_equal(v->object.members[2].key.base, "c", 1);
    assert_int_equal(ef_json_get(v, "a")->number.i, 3);

    /* many keys (a hash table rather than pairwise comparison) */
    char doc[8192], *p = doc;
    p += sprintf(p, "{");
    for (int i = 0; i != 300; ++i)
        p += sprintf(p, "%s\"k%d\": %d", i == 0 ? "" : ", ", i % 100, i);
    sprintf(p, "}");
    v = parse(fx, doc);
    assert_int_equal(v->object.size, 100);
    for (int i = 0; i != 100; ++i) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(v->object.members[i].key.len, strlen(key));
        assert_memory_equal(v->object.members[i].key.base, key, strlen(key));
        assert_int_equal(v->object.members[i].value.number.i, 200 + i);
    }
}

static void test_large_and_deep(void **state)
{
    struct fixture *fx = *state;
    size_t cap = 1 << 20;
    char *doc = malloc(cap), *p = doc;

    /* more values than the parser's first stack holds, in nested containers */
    p += sprintf(p, "[");
    for (int i = 0; i != 2000; ++i)
        p += sprintf(p, "%s{\"i\": %d, \"a\": [%d, %d, \"%d\"]}", i == 0 ? "" : ",", i, i, -i, i);
    p += sprintf(p, "]");
    const ef_json_t *v = parse(fx, doc);
    assert_int_equal(v->array.size, 2000);
    for (int i = 0; i != 2000; ++i) {
        const ef_json_t *item = v->array.items + i, *a = ef_json_get(item, "a");
        assert_int_equal(ef_json_get(item, "i")->number.i, i);
        assert_int_equal(a->array.size, 3);
        assert_int_equal(a->array.items[1].number.i, -i);
    }

    /* 64 levels of arrays and objects are fine; 65 are not */
    p = doc;
    for (int i = 0; i != 32; ++i)
        p += sprintf(p, "[{\"k\":");
    p += sprintf(p, "1");
    for (int i = 0; i != 32; ++i)
        p += sprintf(p, "}]");
    v = parse(fx, doc);
    for (int i = 0; i != 32; ++i)
        v = ef_json_get(v->array.items, "k");
    assert_int_equal(v->number.i, 1);

    memset(doc, '[', 64);
    memset(doc + 64, ']', 64);
    assert_non_null(parsen(fx, doc, 128));
    memset(doc, '[', 65);
    memset(doc + 65, ']', 65);
    assert_null(parsen(fx, doc, 130));
    assert_string_equal(fx->error.text, "maximum parsing depth reached near '['");
    assert_int_equal(fx->error.column, 65);
    free(doc);
}

/* ---- invalid documents: refused with jansson's words ---- */

static void test_invalid(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *doc;
        const char *text;
        int line, column;
        size_t len; /* 0: strlen(doc) */
    } cases[] = {
        /* structure */
        {"", "unexpected token near end of file", 1, 0},
        {" \n ", "unexpected token near end of file", 2, 1},
        {"[1,]", "unexpected token near ']'", 1, 4},
        {"{\"a\":1,}", "string or '}' expected near '}'", 1, 8},
        {"{,}", "string or '}' expected near ','", 1, 2},
        {"[", "']' expected near end of file", 1, 1},
        {"[1,2,3", "']' expected near end of file", 1, 6},
        {"[1 2]", "']' expected near '2'", 1, 4},
        {"{\"a\"", "':' expected near end of file", 1, 4},
        {"{\"a\" 1}", "':' expected near '1'", 1, 6},
        {"{\"a\":1", "'}' expected near end of file", 1, 6},
        {"{\"a\":}", "unexpected token near '}'", 1, 6},
        {"{\"uri\":", "unexpected token near end of file", 1, 7},
        {"{1:2}", "string or '}' expected near '1'", 1, 2},
        /* trailing garbage */
        {"{} x", "end of file expected near 'x'", 1, 4},
        {"{} xyz", "end of file expected near 'xyz'", 1, 6},
        {"  [1] ]", "end of file expected near ']'", 1, 7},
        {"1 2", "end of file expected near '2'", 1, 3},
        {"\"a\"\"b\"", "end of file expected near '\"b\"'", 1, 6},
        /* words */
        {"nul", "invalid token near 'nul'", 1, 3},
        {"truex", "invalid token near 'truex'", 1, 5},
        {"[True]", "invalid token near 'True'", 1, 5},
        {"[NaN]", "invalid token near 'NaN'", 1, 4},
        {"[-Infinity]", "invalid token near '-'", 1, 2},
        {"{\"a\":[1,2,{\"b\":nulll}]}", "invalid token near 'nulll'", 1, 20},
        {"[\n\n  x]", "invalid token near 'x'", 3, 3},
        /* numbers */
        {"[01]", "invalid token near '0'", 1, 2},
        {"[-01]", "invalid token near '-0'", 1, 3},
        {"[00]", "invalid token near '0'", 1, 2},
        {"[-]", "invalid token near '-'", 1, 2},
        {"[+1]", "invalid token near '+'", 1, 2},
        {"[.5]", "invalid token near '.'", 1, 2},
        {"[1.]", "invalid token near '1.'", 1, 3},
        {"[1.x]", "invalid token near '1.'", 1, 3},
        {"[1e]", "invalid token near '1e'", 1, 3},
        {"[1e+]", "invalid token near '1e+'", 1, 4},
        {"[1.2.3]", "']' expected near '.'", 1, 5},
        {"[0x10]", "']' expected near 'x'", 1, 3},
        /* quotes, comments */
        {"{'a':1}", "string or '}' expected near '''", 1, 2},
        {"{\"a\":'x'}", "invalid token near '''", 1, 6},
        {"// c\n{}", "invalid token near '/'", 1, 1},
        {"/* c */ {}", "invalid token near '/'", 1, 1},
        {"\xef\xbb\xbf{}", "invalid token near '\xef\xbb\xbf'", 1, 1}, /* a byte order mark */
        {"[\xc3\xa9]", "invalid token near '\xc3\xa9'", 1, 2},
        {"[1\xc3\xa9]", "']' expected near '\xc3\xa9'", 1, 3},
        /* strings */
        {"\"abc", "premature end of input near '\"abc'", 1, 4},
        {"[\"a\x01\"]", "control character 0x1 near '\"a'", 1, 3},
        {"[\"a\x1f\"]", "control character 0x1f near '\"a'", 1, 3},
        {"[\"a\tb\"]", "control character 0x9 near '\"a'", 1, 3},
        {"[\"a\nb\"]", "unexpected newline near '\"a'", 1, 3},
        {"[\"abcdefghijklmnopqr\x01\"]", "control character 0x1 near '\"abcdefghijklmnopqr'", 1, 20},
        {"[\"abcdefghijklmnopqrstuvwxyz\x01\"]", "control character 0x1", 1, 28}, /* no context beyond 20 bytes */
        {"{\"a\":1 \"b\x01\"}", "control character 0x1 near '\"b'", 1, 9},
        {"[\"\\q\"]", "invalid escape near '\"\\q'", 1, 4},
        {"[\"\\x41\"]", "invalid escape near '\"\\x'", 1, 4},
        {"[\"\\u12g4\"]", "invalid escape near '\"\\u12g'", 1, 7},
        {"[\"\\u12\"]", "invalid escape near '\"\\u12\"'", 1, 7},
        {"[\"\\\xc3\xa9\"]", "invalid escape near '\"\\\xc3'", 1, 4},
        {"[\"\\u", "invalid escape near '\"\\u'", 1, 4},
        /* lone surrogates */
        {"[\"\\uD800\"]", "invalid Unicode '\\uD800' near '\"\\uD800\"'", 1, 9},
        {"[\"\\udbff x\"]", "invalid Unicode '\\uDBFF' near '\"\\udbff x\"'", 1, 11},
        {"[\"\\uDC00\"]", "invalid Unicode '\\uDC00' near '\"\\uDC00\"'", 1, 9},
        {"[\"\\uD800\\u0041\"]", "invalid Unicode '\\uD800\\u0041' near '\"\\uD800\\u0041\"'", 1, 15},
        {"[\"\\uD800\\uD800\"]", "invalid Unicode '\\uD800\\uD800' near '\"\\uD800\\uD800\"'", 1, 15},
        {"[\"\\uD800\\n\"]", "invalid Unicode '\\uD800' near '\"\\uD800\\n\"'", 1, 11},
        {"[\"\\ude00\\ud83d\"]", "invalid Unicode '\\uDE00' near '\"\\ude00\\ud83d\"'", 1, 15},
        /* invalid UTF-8: in strings, out of them, and read ahead after a number or a word */
        {"\"\xc0\xaf\"", "unable to decode byte 0xc0 near '\"'", 1, 1},             /* overlong '/' */
        {"\"\xe0\x80\x80\"", "unable to decode byte 0xe0 near '\"'", 1, 1},         /* overlong NUL */
        {"\"\xed\xa0\x80\"", "unable to decode byte 0xed near '\"'", 1, 1},         /* U+D800 */
        {"\"\xf4\x90\x80\x80\"", "unable to decode byte 0xf4 near '\"'", 1, 1},     /* > U+10FFFF */
        {"\"\xf8\x88\x80\x80\x80\"", "unable to decode byte 0xf8 near '\"'", 1, 1}, /* 5 bytes */
        {"\"\xe2\x82\"", "unable to decode byte 0xe2 near '\"'", 1, 1},             /* truncated */
        {"\"ab\xe2\x82", "unable to decode byte 0xe2 near '\"ab'", 1, 3},           /* truncated by the end */
        {"\"a\x80\"", "unable to decode byte 0x80 near '\"a'", 1, 2},               /* a lone continuation byte */
        {"\"\xc3\xa9\xff\"", "unable to decode byte 0xff near '\"\xc3\xa9'", 1, 2},
        {"\xff", "unable to decode byte 0xff", 1, 0},
        {"[1,2]\xff", "unable to decode byte 0xff", 1, 5},
        {"[\"a\"\xff]", "unable to decode byte 0xff", 1, 4},
        {"[1\xff]", "unable to decode byte 0xff near '1'", 1, 2},
        {"[1.\xff]", "unable to decode byte 0xff near '1.'", 1, 3},
        {"[-1.5e3\xff]", "unable to decode byte 0xff near '-1.5e3'", 1, 7},
        {"[tru\xff]", "unable to decode byte 0xff near 'tru'", 1, 4},
        {"[true\xff]", "unable to decode byte 0xff near 'true'", 1, 5},
        /* NUL bytes */
        {"[\"a\0\"]", "control character 0x0 near '\"a'", 1, 3, 6},
        {"[\0]", "invalid token near end of file", 1, 2, 3}, /* jansson prints the NUL as an empty text */
        /* lines and columns count characters */
        {"{\"\xc3\xa9\":\n  \"\xe2\x82\xac\",\n  x}", "string or '}' expected near 'x'", 3, 3},
        {"\"\xc3\xa9\n\"", "unexpected newline near '\"\xc3\xa9'", 1, 2},
    };
    for (size_t i = 0; i != sizeof(cases) / sizeof(cases[0]); ++i) {
        const char *doc = cases[i].doc;
        size_t len = cases[i].len != 0 ? cases[i].len : strlen(doc);
        if (parsen(fx, doc, len) != NULL)
            fail_msg("accepted: %s", doc);
        if (strcmp(fx->error.text, cases[i].text) != 0 || fx->error.line != cases[i].line || fx->error.column != cases[i].column)
            fail_msg("%s\ngot      %s (line %d, column %d)\nexpected %s (line %d, column %d)", doc, fx->error.text, fx->error.line,
                     fx->error.column, cases[i].text, cases[i].line, cases[i].column);
        /* and these are jansson's words indeed */
        json_error_t jerr;
        json_t *j = json_loadb(doc, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (j != NULL)
            fail_msg("jansson accepts %s", doc);
        if (strcmp(jerr.text, fx->error.text) != 0 || jerr.line != fx->error.line || jerr.column != fx->error.column ||
            (size_t)jerr.position != fx->error.position)
            fail_msg("%s\njansson: %s (line %d, column %d, position %d)\nef_json: %s (line %d, column %d, position %zu)", doc,
                     jerr.text, jerr.line, jerr.column, jerr.position, fx->error.text, fx->error.line, fx->error.column,
                     fx->error.position);
    }

    /* no error wanted: only NULL */
    assert_null(ef_json_parse(&fx->pool, "[1,]", 4, NULL));
}

/* ---- against jansson ---- */

static uint64_t rnd_state = 0x9e3779b97f4a7c15;

static uint32_t rnd(uint32_t n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return (uint32_t)(rnd_state >> 11) % n;
}

struct out {
    char *p, *end;
};

static void out_put(struct out *o, const char *s, size_t n)
{
    assert_true((size_t)(o->end - o->p) > n);
    memcpy(o->p, s, n);
    o->p += n;
}

static void out_printf(struct out *o, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(o->p, o->end - o->p, fmt, args);
    va_end(args);
    assert_true(n >= 0 && n < o->end - o->p);
    o->p += n;
}

static void gen_ws(struct out *o)
{
    static const char *ws[] = {"", "", "", " ", "\n", "\t", "\r\n  "};
    const char *s = ws[rnd(sizeof(ws) / sizeof(ws[0]))];
    out_put(o, s, strlen(s));
}

/* a random code point, written raw (UTF-8) or as a \u escape (surrogate pairs beyond the BMP); in a key, not NUL (jansson refuses
 * it) */
static void gen_char(struct out *o, int key)
{
    static const uint32_t ranges[][2] = {{0x20, 0x7e},    {0, 0x1f},        {0x80, 0x7ff},
                                         {0x800, 0xd7ff}, {0xe000, 0xffff}, {0x10000, 0x10ffff}};
    uint32_t r = rnd(10) < 6 ? 0 : 1 + rnd(5);
    uint32_t cp = ranges[r][0] + rnd(ranges[r][1] - ranges[r][0] + 1);
    if (key && cp == 0)
        cp = 'z';
    int escape = cp < 0x20 || cp == '"' || cp == '\\' || rnd(4) == 0;

    if (escape) {
        static const char *short_escapes[] = {"\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"};
        if (cp == '"' && rnd(2) == 0) {
            out_put(o, "\\\"", 2);
        } else if (rnd(8) == 0) {
            const char *s = short_escapes[rnd(8)];
            out_put(o, s, 2);
        } else if (cp >= 0x10000) {
            cp -= 0x10000;
            out_printf(o, rnd(2) ? "\\u%04x\\u%04x" : "\\u%04X\\u%04X", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
        } else {
            out_printf(o, rnd(2) ? "\\u%04x" : "\\u%04X", cp);
        }
        return;
    }
    char buf[4];
    size_t n;
    if (cp < 0x80) {
        buf[0] = cp, n = 1;
    } else if (cp < 0x800) {
        buf[0] = 0xc0 | cp >> 6, buf[1] = 0x80 | (cp & 0x3f), n = 2;
    } else if (cp < 0x10000) {
        buf[0] = 0xe0 | cp >> 12, buf[1] = 0x80 | (cp >> 6 & 0x3f), buf[2] = 0x80 | (cp & 0x3f), n = 3;
    } else {
        buf[0] = 0xf0 | cp >> 18, buf[1] = 0x80 | (cp >> 12 & 0x3f), buf[2] = 0x80 | (cp >> 6 & 0x3f), buf[3] = 0x80 | (cp & 0x3f);
        n = 4;
    }
    out_put(o, buf, n);
}

static void gen_string(struct out *o, int key)
{
    size_t len = key ? rnd(4) : rnd(4) == 0 ? rnd(60) : rnd(12);

    out_put(o, "\"", 1);
    for (size_t i = 0; i != len; ++i) {
        if (key && rnd(3) != 0)
            out_printf(o, "%c", 'a' + rnd(3)); /* few distinct keys: duplicates */
        else
            gen_char(o, key);
    }
    out_put(o, "\"", 1);
}

static void gen_number(struct out *o)
{
    switch (rnd(6)) {
    case 0:
        out_printf(o, "%d", (int)rnd(10));
        break;
    case 1:
        out_printf(o, "-%u", rnd(1000000));
        break;
    case 2:
        out_printf(o, "%lld", (long long)(((uint64_t)rnd(1u << 31) << 32 | rnd(1u << 31)) * (rnd(2) ? 1 : -1)));
        break;
    case 3:
        out_printf(o, "%s%u.%0*u", rnd(2) ? "-" : "", rnd(1000), (int)(1 + rnd(6)), rnd(100000));
        break;
    case 4:
        out_printf(o, "%u%s%c%s%u", rnd(100), rnd(2) ? ".5" : "", rnd(2) ? 'e' : 'E',
                   rnd(3) == 0 ? "+"
                   : rnd(2)    ? "-"
                               : "",
                   rnd(300));
        break;
    default:
        out_printf(o, "%.17g", (rnd(2) ? 1 : -1) * (double)rnd(1u << 30) / (1 + rnd(1000)));
        break;
    }
}

static void gen_value(struct out *o, int depth)
{
    uint32_t kind = depth > 5 ? rnd(5) : rnd(8);

    gen_ws(o);
    switch (kind) {
    case 0:
        out_put(o, "null", 4);
        break;
    case 1:
        if (rnd(2))
            out_put(o, "true", 4);
        else
            out_put(o, "false", 5);
        break;
    case 2:
    case 3:
        gen_string(o, 0);
        break;
    case 4:
        gen_number(o);
        break;
    case 5: {
        size_t n = rnd(6);
        out_put(o, "[", 1);
        for (size_t i = 0; i != n; ++i) {
            if (i != 0)
                out_put(o, ",", 1);
            gen_value(o, depth + 1);
        }
        gen_ws(o);
        out_put(o, "]", 1);
    } break;
    default: {
        size_t n = rnd(7);
        out_put(o, "{", 1);
        for (size_t i = 0; i != n; ++i) {
            if (i != 0)
                out_put(o, ",", 1);
            gen_ws(o);
            gen_string(o, 1);
            gen_ws(o);
            out_put(o, ":", 1);
            gen_value(o, depth + 1);
        }
        gen_ws(o);
        out_put(o, "}", 1);
    } break;
    }
    gen_ws(o);
}

/* Whether `e` holds what jansson read into `j`; on a difference, says where in `why`. */
static int same_value(const json_t *j, const ef_json_t *e, char *why, size_t whylen)
{
    switch (json_typeof(j)) {
    case JSON_NULL:
        return ef_json_is_null(e) || (snprintf(why, whylen, "not null"), 0);
    case JSON_TRUE:
        return e->type == EF_JSON_TRUE || (snprintf(why, whylen, "not true"), 0);
    case JSON_FALSE:
        return e->type == EF_JSON_FALSE || (snprintf(why, whylen, "not false"), 0);
    case JSON_INTEGER:
        if (!ef_json_is_number(e) || !e->is_int || e->number.i != json_integer_value(j))
            return snprintf(why, whylen, "integer %lld", (long long)json_integer_value(j)), 0;
        return 1;
    case JSON_REAL:
        if (!ef_json_is_number(e) || e->is_int || ef_json_number(e) != json_real_value(j))
            return snprintf(why, whylen, "real %.17g, got %.17g", json_real_value(j), ef_json_number(e)), 0;
        return 1;
    case JSON_STRING:
        if (!ef_json_is_string(e) || e->string.len != json_string_length(j) ||
            memcmp(e->string.base, json_string_value(j), e->string.len) != 0)
            return snprintf(why, whylen, "string \"%s\"", json_string_value(j)), 0;
        return 1;
    case JSON_ARRAY:
        if (!ef_json_is_array(e) || e->array.size != json_array_size(j))
            return snprintf(why, whylen, "array of %zu", json_array_size(j)), 0;
        for (size_t i = 0; i != e->array.size; ++i)
            if (!same_value(json_array_get(j, i), e->array.items + i, why, whylen))
                return 0;
        return 1;
    case JSON_OBJECT: {
        if (!ef_json_is_object(e) || e->object.size != json_object_size(j))
            return snprintf(why, whylen, "object of %zu", json_object_size(j)), 0;
        /* the same members in the same order */
        size_t i = 0;
        for (void *it = json_object_iter((json_t *)j); it != NULL; it = json_object_iter_next((json_t *)j, it), ++i) {
            const char *key = json_object_iter_key(it);
            const ef_json_member_t *m = e->object.members + i;
            if (m->key.len != json_object_iter_key_len(it) || memcmp(m->key.base, key, m->key.len) != 0)
                return snprintf(why, whylen, "key %zu \"%s\"", i, key), 0;
            if (ef_json_getn(e, key, m->key.len) != &m->value)
                return snprintf(why, whylen, "lookup of \"%s\"", key), 0;
            if (!same_value(json_object_iter_value(it), &m->value, why, whylen))
                return 0;
        }
        return 1;
    }
    }
    return 0;
}

static void test_against_jansson(void **state)
{
    struct fixture *fx = *state;
    static char buf[1 << 16];
    size_t valid = 0;

    for (int round = 0; round != 500; ++round) {
        struct out o = {buf, buf + sizeof(buf)};
        gen_value(&o, 0);
        size_t len = o.p - buf;
        json_error_t jerr;
        json_t *j = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        const ef_json_t *e = parsen(fx, buf, len);
        if (j == NULL)
            fail_msg("jansson refuses %.*s: %s", (int)len, buf, jerr.text);
        if (e == NULL)
            fail_msg("refused %.*s: %s", (int)len, buf, fx->error.text);
        char why[256];
        if (!same_value(j, e, why, sizeof(why)))
            fail_msg("%.*s\ndiffers: %s", (int)len, buf, why);
        json_decref(j);
        ++valid;

        /* then broken: a byte changed, inserted or removed, or the end cut; same verdict, same message */
        static const char bytes[] = "{}[]:,\"\\ \n0123456789-+.eEtrufalsnux\x01\x7f\xc3\xa9\xff\xe2\x82\xed\xa0";
        for (int k = 0; k != 8; ++k) {
            char *m = buf + len + 1;
            size_t mlen = len, at = rnd(len + 1);
            memcpy(m, buf, len);
            switch (rnd(4)) {
            case 0:
                if (at < mlen)
                    m[at] = bytes[rnd(sizeof(bytes) - 1)];
                break;
            case 1:
                memmove(m + at + 1, m + at, mlen - at);
                m[at] = bytes[rnd(sizeof(bytes) - 1)];
                ++mlen;
                break;
            case 2:
                if (at < mlen) {
                    memmove(m + at, m + at + 1, mlen - at - 1);
                    --mlen;
                }
                break;
            default:
                mlen = at;
                break;
            }
            j = json_loadb(m, mlen, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
            e = parsen(fx, m, mlen);
            if (j != NULL && e != NULL) {
                if (!same_value(j, e, why, sizeof(why)))
                    fail_msg("%.*s\ndiffers: %s", (int)mlen, m, why);
            } else if (j == NULL && e == NULL) {
                if (strcmp(jerr.text, fx->error.text) != 0 || jerr.line != fx->error.line || jerr.column != fx->error.column ||
                    (size_t)jerr.position != fx->error.position)
                    fail_msg("%.*s\njansson: %s (%d:%d)\nef_json: %s (%d:%d)", (int)mlen, m, jerr.text, jerr.line, jerr.column,
                             fx->error.text, fx->error.line, fx->error.column);
            } else if (!(j == NULL && (strstr(jerr.text, "too big") != NULL || strstr(jerr.text, "overflow") != NULL ||
                                       strstr(jerr.text, "NUL byte in object key") != NULL))) {
                /* only where the two are documented to differ */
                fail_msg("%.*s\njansson: %s\nef_json: %s", (int)mlen, m, j != NULL ? "valid" : jerr.text,
                         e != NULL ? "valid" : fx->error.text);
            }
            if (j != NULL)
                json_decref(j);
        }
    }
    assert_int_equal(valid, 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_and_deep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_against_jansson, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
