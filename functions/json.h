/*
 * A small strict JSON parser (RFC 8259) for the request path: what a process function
 * returns is parsed once per invocation into a read-only tree in the request's memory
 * pool. One pass (a string with escapes is read twice: to size it, then to decode it),
 * no recursion, no malloc per value: an array's items and an object's members are each
 * one contiguous block in the pool, and a string without escapes points into the input
 * instead of being copied.
 *
 * Strict: the input must be valid UTF-8 (no overlongs, surrogates or code points above
 * U+10FFFF), escapes must be valid (a \u surrogate must be half of a pair), numbers
 * follow the grammar (no leading zeros, '+', NaN or Infinity), nothing may follow the
 * value but whitespace, and arrays and objects nest at most EF_JSON_MAX_DEPTH deep.
 * \u0000 is allowed, in keys too: strings carry their length.
 *
 * Error messages are jansson's (2.14), with its line and column, so that a function
 * author reads the same text whichever parser read the result. Where the two differ in
 * what they accept: ef_json accepts integers beyond 64 bits, numbers beyond a double's
 * range and NUL in keys (all valid JSON; jansson refuses them), and refuses nesting
 * deeper than 64 (jansson: 2048).
 *
 * Duplicate keys are resolved as jansson does: the member keeps the place of the key's
 * first occurrence and the value of its last, so an object's keys are unique.
 */
#ifndef EF_FUNCTIONS_JSON_H
#define EF_FUNCTIONS_JSON_H

#include <stdint.h>
#include <string.h>
#include <h2o/memory.h>

#define EF_JSON_MAX_DEPTH 64

typedef enum en_ef_json_type_t {
    EF_JSON_NULL,
    EF_JSON_FALSE,
    EF_JSON_TRUE,
    EF_JSON_NUMBER,
    EF_JSON_STRING,
    EF_JSON_ARRAY,
    EF_JSON_OBJECT,
} ef_json_type_t;

typedef struct st_ef_json_t ef_json_t;
typedef struct st_ef_json_member_t ef_json_member_t;

struct st_ef_json_t {
    ef_json_type_t type;
    uint8_t is_int; /* NUMBER: written without fraction or exponent, and within int64_t: the value is number.i */
    union {
        h2o_iovec_t string; /* STRING: the decoded UTF-8 bytes (may contain NUL; not NUL-terminated) */
        struct {
            h2o_iovec_t text; /* as written in the input, e.g. "-1.5e3" */
            int64_t i;        /* when is_int */
        } number;
        struct {
            ef_json_t *items;
            size_t size;
        } array;
        struct {
            ef_json_member_t *members; /* in the order of the input; keys unique */
            size_t size;
        } object;
    };
};

struct st_ef_json_member_t {
    h2o_iovec_t key; /* decoded like a string */
    ef_json_t value;
};

typedef struct st_ef_json_error_t {
    char text[160];  /* what is wrong, as jansson says it: "end of file expected near 'x'" */
    int line;        /* where the parser stopped, from 1 */
    int column;      /* in characters (UTF-8 sequences) from the start of the line, from 1 */
    size_t position; /* the same place in bytes from the start of the input */
} ef_json_error_t;

/**
 * Parses the `len` bytes of JSON at `json` (any value at the top, not only an object or
 * an array; the bytes need not be NUL-terminated) into a tree allocated in `pool`, which
 * owns it: nothing is to be freed but the pool. Strings without escapes point into
 * `json`, which must therefore outlive the tree. Returns the root, or NULL when the
 * input is not valid JSON, with why and where in `*error` (which may be NULL).
 */
const ef_json_t *ef_json_parse(h2o_mem_pool_t *pool, const char *json, size_t len, ef_json_error_t *error);

/**
 * The value of member `key` (`keylen` bytes) of `object`, or NULL when there is none or
 * `object` is NULL or not an object. A linear scan: objects in results are small.
 */
const ef_json_t *ef_json_getn(const ef_json_t *object, const char *key, size_t keylen);

/**
 * The length of the valid UTF-8 sequence of two or more bytes at `p` (before `end`), or 0
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
 */
size_t ef_utf8_seq(const unsigned char *p, const unsigned char *end);

/* ef_json_getn with a NUL-terminated key */
static inline const ef_json_t *ef_json_get(const ef_json_t *object, const char *key)
{
    return ef_json_getn(object, key, strlen(key));
}

/**
 * The value of a NUMBER as a double: exact for is_int, else what strtod makes of its
 * text in the C locale (±HUGE_VAL when out of range). 0 for anything but a number.
 */
double ef_json_number(const ef_json_t *v);

/* Whether `v` (which may be NULL) is of a type. */
static inline int ef_json_is(const ef_json_t *v, ef_json_type_t type)
{
    return v != NULL && v->type == type;
}

static inline int ef_json_is_null(const ef_json_t *v)
{
    return ef_json_is(v, EF_JSON_NULL);
}

static inline int ef_json_is_bool(const ef_json_t *v)
{
    return v != NULL && (v->type == EF_JSON_TRUE || v->type == EF_JSON_FALSE);
}

static inline int ef_json_is_number(const ef_json_t *v)
{
    return ef_json_is(v, EF_JSON_NUMBER);
}

static inline int ef_json_is_string(const ef_json_t *v)
{
    return ef_json_is(v, EF_JSON_STRING);
}

static inline int ef_json_is_array(const ef_json_t *v)
{
    return ef_json_is(v, EF_JSON_ARRAY);
}

static inline int ef_json_is_object(const ef_json_t *v)
{
    return ef_json_is(v, EF_JSON_OBJECT);
}

/* Whether `v` is a STRING of exactly the bytes of the NUL-terminated `s`. */
static inline int ef_json_string_is(const ef_json_t *v, const char *s)
{
    return ef_json_is_string(v) && h2o_memis(v->string.base, v->string.len, s, strlen(s));
}

#endif
