/*
 * A small strict JSON parser into a memory pool (functions/json.h).
 *
 * The parser is a loop over a stack of open arrays and objects (EF_JSON_MAX_DEPTH
 * frames), not a recursion. The values of the open containers wait on one growable
 * stack (on the C stack while small); when a container closes, its values are copied
 * into one block of the pool, so that the tree has no slack and no per-value
 * allocation. Strings are scanned 8 bytes at a time for the bytes that need a look
 * ('"', '\', control characters, non-ASCII); one without escapes is not copied.
 *
 * Errors are not reported where they are found: the fast path only says where it
 * stopped and what it expected there. From that place, a second lexer that follows
 * jansson's step by step (its look-ahead, its order of checks, its "near" text and
 * its column counting) writes the message, so that the messages are jansson's. It
 * runs only on invalid input.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "functions/json.h"

/* what the parser expected where it stopped: the message jansson gives when the token there is not that */
enum {
    EXPECT_ANY_VALUE,   /* a value: EXPECT_ITEM in an array, else EXPECT_VALUE */
    EXPECT_VALUE,       /* a value, at the top or after ':' */
    EXPECT_ITEM,        /* a value in an array (the end of the input there is "']' expected") */
    EXPECT_KEY,         /* a key, after '{' or ',' */
    EXPECT_COLON,       /* ':' after a key */
    EXPECT_OBJECT_NEXT, /* ',' or '}' */
    EXPECT_ARRAY_NEXT,  /* ',' or ']' */
    EXPECT_EOF,         /* nothing after the value */
    EXPECT_DEPTH,       /* an array or object here nests too deep */
};

struct st_frame_t {
    size_t base; /* where this container's values start on the parser's stack */
    int is_object;
};

struct st_parser_t {
    h2o_mem_pool_t *pool;
    const unsigned char *start, *end;
    ef_json_member_t *stack; /* the values of the open containers (an array's in .value) */
    size_t size, capacity;
    struct st_frame_t frames[EF_JSON_MAX_DEPTH];
    ef_json_member_t local[64];
};

static void report(ef_json_error_t *error, const unsigned char *start, const unsigned char *end, const unsigned char *at,
                   int expect);

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_ws(int c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

size_t ef_utf8_seq(const unsigned char *p, const unsigned char *end)
{
    size_t avail = end - p;
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf)
        return avail >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
        return avail >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
        return avail >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4 : 0;
    }
    return 0;
}

static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
    while (p != end && *p <= ' ' && is_ws(*p))
        ++p;
    return p;
}

/* the value of 4 hex digits at `p` (before `end`), or -1 */
static int32_t hex4(const unsigned char *p, const unsigned char *end)
{
    int32_t v = 0;

    if (end - p < 4)
        return -1;
    for (int i = 0; i != 4; ++i) {
        int c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    return v;
}

static char *put_utf8(char *d, int32_t cp)
{
    if (cp < 0x80) {
        *d++ = cp;
    } else if (cp < 0x800) {
        *d++ = 0xc0 | cp >> 6;
        *d++ = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
        *d++ = 0xe0 | cp >> 12;
        *d++ = 0x80 | (cp >> 6 & 0x3f);
        *d++ = 0x80 | (cp & 0x3f);
    } else {
        *d++ = 0xf0 | cp >> 18;
        *d++ = 0x80 | (cp >> 12 & 0x3f);
        *d++ = 0x80 | (cp >> 6 & 0x3f);
        *d++ = 0x80 | (cp & 0x3f);
    }
    return d;
}

/**
 * The rest of a string with escapes: `s` is its first byte, `p` its first backslash, all
 * before `p` checked already. Decoded into the pool; returns the end (after the quote), or
 * NULL when the string is invalid.
 */
static const unsigned char *decode_escaped(struct st_parser_t *ps, const unsigned char *s, const unsigned char *p, h2o_iovec_t *out)
{
    const unsigned char *end = ps->end, *q = p;

    /* find the closing quote first: decoded, the string is no longer than its source */
    while (q != end && *q != '"')
        q += *q == '\\' && end - q >= 2 ? 2 : 1;
    if (q == end)
        return NULL;

    char *buf = h2o_mem_alloc_pool(ps->pool, q - s), *d = buf + (p - s);
    memcpy(buf, s, p - s);
    while (p != q) {
        unsigned c = *p;
        if (c == '\\') {
            ++p; /* there is a byte after it before q: see above */
            switch (*p++) {
            case '"':
                *d++ = '"';
                break;
            case '\\':
                *d++ = '\\';
                break;
            case '/':
                *d++ = '/';
                break;
            case 'b':
                *d++ = '\b';
                break;
            case 'f':
                *d++ = '\f';
                break;
            case 'n':
                *d++ = '\n';
                break;
            case 'r':
                *d++ = '\r';
                break;
            case 't':
                *d++ = '\t';
                break;
            case 'u': {
                int32_t cp = hex4(p, q), lo;
                if (cp < 0)
                    return NULL;
                p += 4;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (q - p < 6 || p[0] != '\\' || p[1] != 'u' || (lo = hex4(p + 2, q)) < 0xdc00 || lo > 0xdfff)
                        return NULL;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                    return NULL;
                }
                d = put_utf8(d, cp);
            } break;
            default:
                return NULL;
            }
        } else if (c < 0x20) {
            return NULL;
        } else if (c < 0x80) {
            *d++ = c;
            ++p;
        } else {
            size_t n = ef_utf8_seq(p, q);
            if (n == 0)
                return NULL;
            memcpy(d, p, n);
            d += n;
            p += n;
        }
    }
    *out = h2o_iovec_init(buf, d - buf);
    return q + 1;
}

/* A string; `p` is after its opening quote. Returns the end (after the closing quote), or NULL when the string is invalid. */
static inline const unsigned char *parse_string(struct st_parser_t *ps, const unsigned char *p, h2o_iovec_t *out)
{
    const unsigned char *s = p, *end = ps->end;

    for (;;) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* The lowest byte of the 8 that is '"', '\', < 0x20 or >= 0x80 gets its high bit set in `t` (the
         * subtractions can only set bits above a byte that is one of those). */
        while (end - p >= 8) {
            uint64_t x, t;
            memcpy(&x, p, 8);
            t = (x - 0x2020202020202020) | ((x ^ 0x2222222222222222) - 0x0101010101010101) |
                ((x ^ 0x5c5c5c5c5c5c5c5c) - 0x0101010101010101) | x;
            t &= 0x8080808080808080;
            if (t != 0) {
                p += __builtin_ctzll(t) >> 3;
                goto Special;
            }
            p += 8;
        }
#endif
        while (p != end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            ++p;
        if (p == end)
            return NULL;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    Special:
#endif
        if (*p == '"') {
            *out = h2o_iovec_init((char *)s, p - s);
            return p + 1;
        }
        if (*p >= 0x80) {
            size_t n = ef_utf8_seq(p, end);
            if (n == 0)
                return NULL;
            p += n;
        } else if (*p == '\\') {
            return decode_escaped(ps, s, p, out);
        } else {
            return NULL; /* a control character */
        }
    }
}

/* A number at `p`; returns its end, or NULL when it does not follow the grammar. */
static const unsigned char *parse_number(const unsigned char *p, const unsigned char *end, ef_json_t *v)
{
    const unsigned char *s = p, *digits;
    uint64_t u = 0;
    int neg = 0, is_int = 1;

    if (*p == '-') {
        neg = 1;
        if (++p == end)
            return NULL;
    }
    digits = p;
    if (*p == '0') {
        if (++p != end && is_digit(*p))
            return NULL; /* a leading zero */
    } else if (is_digit(*p)) {
        do
            u = u * 10 + (*p++ - '0'); /* wraps beyond 19 digits, which are not an int64 anyway */
        while (p != end && is_digit(*p));
    } else {
        return NULL;
    }
    if (p - digits > 19 || u > (uint64_t)INT64_MAX + neg)
        is_int = 0;
    if (p != end && *p == '.') {
        if (++p == end || !is_digit(*p))
            return NULL;
        while (++p != end && is_digit(*p))
            ;
        is_int = 0;
    }
    if (p != end && (*p | 0x20) == 'e') {
        if (++p != end && (*p == '+' || *p == '-'))
            ++p;
        if (p == end || !is_digit(*p))
            return NULL;
        while (++p != end && is_digit(*p))
            ;
        is_int = 0;
    }
    v->type = EF_JSON_NUMBER;
    v->is_int = is_int;
    v->number.text = h2o_iovec_init((char *)s, p - s);
    v->number.i = is_int ? (int64_t)(neg ? 0 - u : u) : 0;
    return p;
}

static void grow(struct st_parser_t *ps)
{
    ps->capacity *= 2;
    if (ps->stack == ps->local) {
        ps->stack = h2o_mem_alloc(ps->capacity * sizeof(*ps->stack));
        memcpy(ps->stack, ps->local, sizeof(ps->local));
    } else {
        ps->stack = h2o_mem_realloc(ps->stack, ps->capacity * sizeof(*ps->stack));
    }
}

static inline ef_json_member_t *push(struct st_parser_t *ps)
{
    if (ps->size == ps->capacity)
        grow(ps);
    return ps->stack + ps->size++;
}

static int same_key(const ef_json_member_t *a, const ef_json_member_t *b)
{
    return a->key.len == b->key.len &&
           (a->key.len == 0 || (a->key.base[0] == b->key.base[0] && memcmp(a->key.base, b->key.base, a->key.len) == 0));
}

static uint32_t hash_key(h2o_iovec_t key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i != key.len; ++i)
        h = (h ^ (unsigned char)key.base[i]) * 16777619u;
    return h;
}

/* Merges members with the same key as jansson does (the place of the first, the value of the last); returns how many remain. */
static size_t dedupe(ef_json_member_t *m, size_t n)
{
    size_t out = 1;

    if (n < 2)
        return n;
    if (n <= 16) {
        for (size_t i = 1; i != n; ++i) {
            size_t j;
            for (j = 0; j != out; ++j)
                if (same_key(m + j, m + i))
                    break;
            if (j != out)
                m[j].value = m[i].value;
            else if (out++ != i)
                m[out - 1] = m[i];
        }
        return out;
    }

    /* many: an open-addressed table of (index + 1) by key hash */
    size_t cap = 32;
    while (cap < n * 2)
        cap *= 2;
    uint32_t *slots = h2o_mem_alloc(cap * sizeof(*slots));
    memset(slots, 0, cap * sizeof(*slots));
    out = 0;
    for (size_t i = 0; i != n; ++i) {
        size_t at = hash_key(m[i].key) & (cap - 1);
        while (slots[at] != 0 && !same_key(m + slots[at] - 1, m + i))
            at = (at + 1) & (cap - 1);
        if (slots[at] != 0) {
            m[slots[at] - 1].value = m[i].value;
        } else {
            m[out] = m[i];
            slots[at] = (uint32_t)++out;
        }
    }
    free(slots);
    return out;
}

const ef_json_t *ef_json_parse(h2o_mem_pool_t *pool, const char *json, size_t len, ef_json_error_t *error)
{
    struct st_parser_t ps;
    const unsigned char *p = (const unsigned char *)json, *end = p + len, *tok;
    size_t depth = 0;
    ef_json_t v, *root = NULL;
    int expect;

    ps.pool = pool;
    ps.start = p;
    ps.end = end;
    ps.stack = ps.local;
    ps.size = 0;
    ps.capacity = sizeof(ps.local) / sizeof(ps.local[0]);

Value:
    p = skip_ws(p, end);
    tok = p;
    expect = EXPECT_ANY_VALUE;
    if (p == end)
        goto Fail;
    switch (*p) {
    case '"':
        v.type = EF_JSON_STRING;
        if ((p = parse_string(&ps, p + 1, &v.string)) == NULL)
            goto Fail;
        break;
    case '{':
    case '[':
        if (depth == EF_JSON_MAX_DEPTH) {
            expect = EXPECT_DEPTH;
            goto Fail;
        }
        ps.frames[depth].base = ps.size;
        ps.frames[depth].is_object = *p == '{';
        p = skip_ws(p + 1, end);
        if (p != end && *p == (ps.frames[depth].is_object ? '}' : ']')) {
            ++p;
            if (ps.frames[depth].is_object) {
                v.type = EF_JSON_OBJECT;
                v.object.members = NULL;
                v.object.size = 0;
            } else {
                v.type = EF_JSON_ARRAY;
                v.array.items = NULL;
                v.array.size = 0;
            }
            break;
        }
        if (ps.frames[depth++].is_object)
            goto Key;
        goto Value;
    case 't':
        if (end - p < 4 || memcmp(p, "true", 4) != 0 || (end - p > 4 && is_alpha(p[4])))
            goto Fail; /* jansson reads a run of letters as one token */
        v.type = EF_JSON_TRUE;
        p += 4;
        break;
    case 'f':
        if (end - p < 5 || memcmp(p, "false", 5) != 0 || (end - p > 5 && is_alpha(p[5])))
            goto Fail;
        v.type = EF_JSON_FALSE;
        p += 5;
        break;
    case 'n':
        if (end - p < 4 || memcmp(p, "null", 4) != 0 || (end - p > 4 && is_alpha(p[4])))
            goto Fail;
        v.type = EF_JSON_NULL;
        p += 4;
        break;
    default:
        if ((p = parse_number(p, end, &v)) == NULL)
            goto Fail;
        break;
    }

Emit:
    /* `v` is complete: it goes to the container it is in */
    if (depth == 0)
        goto Done;
    p = skip_ws(p, end);
    tok = p;
    if (ps.frames[depth - 1].is_object) {
        ps.stack[ps.size - 1].value = v; /* its key is there already */
        expect = EXPECT_OBJECT_NEXT;
        if (p == end)
            goto Fail;
        if (*p == ',') {
            ++p;
            goto Key;
        }
        if (*p != '}')
            goto Fail;
        ++p;
        struct st_frame_t *f = ps.frames + --depth;
        size_t n = dedupe(ps.stack + f->base, ps.size - f->base);
        v.type = EF_JSON_OBJECT;
        v.object.members = h2o_mem_alloc_pool(pool, n * sizeof(*v.object.members));
        v.object.size = n;
        memcpy(v.object.members, ps.stack + f->base, n * sizeof(*v.object.members));
        ps.size = f->base;
    } else {
        push(&ps)->value = v;
        expect = EXPECT_ARRAY_NEXT;
        if (p == end)
            goto Fail;
        if (*p == ',') {
            ++p;
            goto Value;
        }
        if (*p != ']')
            goto Fail;
        ++p;
        struct st_frame_t *f = ps.frames + --depth;
        size_t n = ps.size - f->base;
        v.type = EF_JSON_ARRAY;
        v.array.items = h2o_mem_alloc_pool(pool, n * sizeof(*v.array.items));
        v.array.size = n;
        for (size_t i = 0; i != n; ++i)
            v.array.items[i] = ps.stack[f->base + i].value;
        ps.size = f->base;
    }
    goto Emit;

Key:
    p = skip_ws(p, end);
    tok = p;
    expect = EXPECT_KEY;
    if (p == end || *p != '"')
        goto Fail;
    if ((p = parse_string(&ps, p + 1, &push(&ps)->key)) == NULL)
        goto Fail;
    p = skip_ws(p, end);
    if (p == end || *p != ':') {
        tok = p;
        expect = EXPECT_COLON;
        goto Fail;
    }
    ++p;
    goto Value;

Done:
    p = skip_ws(p, end);
    if (p != end) {
        tok = p;
        expect = EXPECT_EOF;
        goto Fail;
    }
    root = h2o_mem_alloc_pool(pool, sizeof(*root));
    *root = v;
    goto Exit;

Fail:
    if (expect == EXPECT_ANY_VALUE)
        expect = depth != 0 && !ps.frames[depth - 1].is_object ? EXPECT_ITEM : EXPECT_VALUE;
    if (error != NULL)
        report(error, ps.start, end, tok, expect);
Exit:
    if (ps.stack != ps.local)
        free(ps.stack);
    return root;
}

const ef_json_t *ef_json_getn(const ef_json_t *object, const char *key, size_t keylen)
{
    if (object == NULL || object->type != EF_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i != object->object.size; ++i) {
        const ef_json_member_t *m = object->object.members + i;
        if (m->key.len == keylen && memcmp(m->key.base, key, keylen) == 0)
            return &m->value;
    }
    return NULL;
}

double ef_json_number(const ef_json_t *v)
{
    char local[64], *buf;
    double d;

    if (!ef_json_is_number(v))
        return 0;
    if (v->is_int)
        return (double)v->number.i;
    buf = v->number.text.len < sizeof(local) ? local : h2o_mem_alloc(v->number.text.len + 1);
    memcpy(buf, v->number.text.base, v->number.text.len);
    buf[v->number.text.len] = '\0';
    /* strtod reads the locale's decimal point (as jansson, which does the same) */
    const char *point = localeconv()->decimal_point;
    char *dot;
    if (point[0] != '.' && point[0] != '\0' && point[1] == '\0' && (dot = strchr(buf, '.')) != NULL)
        *dot = point[0];
    d = strtod(buf, NULL);
    if (buf != local)
        free(buf);
    return d;
}

/* ---- errors, as jansson 2.14 reports them (its src/load.c) ---- */

enum { J_EOF, J_PUNCT, J_STRING, J_NUMBER, J_LITERAL, J_INVALID, J_ERROR };

#define J_END -1          /* the end of the input, jansson's EOF */
#define J_BAD -2          /* a byte that is not UTF-8, jansson's STREAM_STATE_ERROR */
#define J_NON_ASCII 0x100 /* any character beyond ASCII, read whole */

/* jansson's lexer, on the input as it is: its stream position, its "saved text" (always a run of the input) */
struct st_jlex_t {
    const unsigned char *start, *end;
    const unsigned char *pos, *prev; /* prev: before the last character read, for one unget */
    const unsigned char *saved, *saved_end;
    int failed, stream_failed;
    char msg[160];
    const unsigned char *err_saved, *err_saved_end, *err_pos;
};

static void jerror(struct st_jlex_t *lx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* jansson's error_set: the first error stays */
static void jerror(struct st_jlex_t *lx, const char *fmt, ...)
{
    va_list args;

    if (lx->failed)
        return;
    lx->failed = 1;
    va_start(args, fmt);
    vsnprintf(lx->msg, sizeof(lx->msg), fmt, args);
    va_end(args);
    lx->err_saved = lx->saved;
    lx->err_saved_end = lx->saved_end;
    lx->err_pos = lx->pos;
}

/* stream_get: a character (a UTF-8 sequence as one), J_END, or J_BAD */
static int jget(struct st_jlex_t *lx)
{
    lx->prev = lx->pos;
    if (lx->pos == lx->end)
        return J_END;
    int c = *lx->pos;
    if (c < 0x80) {
        ++lx->pos;
        return c;
    }
    size_t n = ef_utf8_seq(lx->pos, lx->end);
    if (n == 0) {
        lx->stream_failed = !lx->failed;
        jerror(lx, "unable to decode byte 0x%x", c);
        return J_BAD;
    }
    lx->pos += n;
    return J_NON_ASCII;
}

static void junget(struct st_jlex_t *lx, int c)
{
    if (c != J_END && c != J_BAD)
        lx->pos = lx->prev;
}

static int jget_save(struct st_jlex_t *lx)
{
    int c = jget(lx);
    if (c != J_END && c != J_BAD)
        lx->saved_end = lx->pos;
    return c;
}

static void junget_unsave(struct st_jlex_t *lx, int c)
{
    if (c != J_END && c != J_BAD)
        lx->saved_end = lx->pos = lx->prev;
}

static int j_isxdigit(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* jansson fails an escape on the first byte of a character: of a UTF-8 sequence, it has read and saved only that */
static void invalid_escape(struct st_jlex_t *lx, int c)
{
    if (c == J_NON_ASCII)
        lx->pos = lx->saved_end = lx->prev + 1;
    jerror(lx, "invalid escape");
}

/* lex_scan_string, `"` read */
static int jlex_string(struct st_jlex_t *lx)
{
    int c = jget_save(lx);

    while (c != '"') {
        if (c == J_BAD)
            return J_ERROR;
        if (c == J_END) {
            jerror(lx, "premature end of input");
            return J_ERROR;
        }
        if (c >= 0 && c <= 0x1f) {
            junget_unsave(lx, c);
            if (c == '\n')
                jerror(lx, "unexpected newline");
            else
                jerror(lx, "control character 0x%x", c);
            return J_ERROR;
        }
        if (c == '\\') {
            c = jget_save(lx);
            if (c == 'u') {
                c = jget_save(lx);
                for (int i = 0; i != 4; ++i) {
                    if (!j_isxdigit(c)) {
                        invalid_escape(lx, c);
                        return J_ERROR;
                    }
                    c = jget_save(lx);
                }
            } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
                c = jget_save(lx);
            } else {
                invalid_escape(lx, c);
                return J_ERROR;
            }
        } else {
            c = jget_save(lx);
        }
    }

    /* then the surrogates, over the whole string */
    for (const unsigned char *p = lx->saved + 1; *p != '"';) {
        if (*p++ != '\\')
            continue;
        if (*p++ != 'u')
            continue;
        int32_t value = hex4(p, lx->end), value2;
        p += 4;
        if (value >= 0xd800 && value <= 0xdbff) {
            if (p[0] == '\\' && p[1] == 'u') {
                value2 = hex4(p + 2, lx->end);
                p += 6;
                if (value2 < 0xdc00 || value2 > 0xdfff) {
                    jerror(lx, "invalid Unicode '\\u%04X\\u%04X'", (unsigned)value, (unsigned)value2);
                    return J_ERROR;
                }
            } else {
                jerror(lx, "invalid Unicode '\\u%04X'", (unsigned)value);
                return J_ERROR;
            }
        } else if (value >= 0xdc00 && value <= 0xdfff) {
            jerror(lx, "invalid Unicode '\\u%04X'", (unsigned)value);
            return J_ERROR;
        }
    }
    return J_STRING;
}

/* lex_scan_number, its first character `c` read and saved */
static int jlex_number(struct st_jlex_t *lx, int c)
{
    int is_int = 1;

    if (c == '-')
        c = jget_save(lx);
    if (c == '0') {
        c = jget_save(lx);
        if (is_digit(c)) {
            junget_unsave(lx, c);
            return J_INVALID;
        }
    } else if (is_digit(c)) {
        do
            c = jget_save(lx);
        while (is_digit(c));
    } else {
        junget_unsave(lx, c);
        return lx->failed ? J_ERROR : J_INVALID;
    }
    if (c == '.') {
        is_int = 0;
        c = jget(lx);
        if (!is_digit(c)) {
            junget(lx, c);
            return lx->failed ? J_ERROR : J_INVALID;
        }
        lx->saved_end = lx->pos;
        do
            c = jget_save(lx);
        while (is_digit(c));
    }
    if (c == 'E' || c == 'e') {
        is_int = 0;
        c = jget_save(lx);
        if (c == '+' || c == '-')
            c = jget_save(lx);
        if (!is_digit(c)) {
            junget_unsave(lx, c);
            return lx->failed ? J_ERROR : J_INVALID;
        }
        do
            c = jget_save(lx);
        while (is_digit(c));
    }
    junget_unsave(lx, c);
    if (lx->failed)
        return J_ERROR;

    /* what strtoll and strtod make of it */
    size_t len = lx->saved_end - lx->saved;
    char *text = h2o_mem_alloc(len + 1);
    memcpy(text, lx->saved, len);
    text[len] = '\0';
    errno = 0;
    if (is_int) {
        long long n = strtoll(text, NULL, 10);
        if (errno == ERANGE)
            jerror(lx, "%s", n < 0 ? "too big negative integer" : "too big integer");
    } else {
        double d = strtod(text, NULL);
        if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
            jerror(lx, "%s", "real number overflow");
    }
    free(text);
    return lx->failed ? J_ERROR : J_NUMBER;
}

/* lex_scan: the next token from lx->pos */
static int jlex_scan(struct st_jlex_t *lx)
{
    int c;

    do
        c = jget(lx);
    while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    lx->saved = lx->saved_end = lx->prev;
    if (c == J_END)
        return J_EOF;
    if (c == J_BAD)
        return J_ERROR;
    lx->saved_end = lx->pos;
    if (c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',')
        return J_PUNCT;
    if (c == '"')
        return jlex_string(lx);
    if (is_digit(c) || c == '-')
        return jlex_number(lx, c);
    if (is_alpha(c)) {
        do
            c = jget_save(lx);
        while (is_alpha(c));
        junget_unsave(lx, c);
        if (lx->failed)
            return J_ERROR;
        size_t len = lx->saved_end - lx->saved;
        return h2o_memis(lx->saved, len, "true", 4) || h2o_memis(lx->saved, len, "false", 5) || h2o_memis(lx->saved, len, "null", 4)
                   ? J_LITERAL
                   : J_INVALID;
    }
    return J_INVALID; /* any other character, a UTF-8 sequence whole */
}

/* jansson's error_set: the message, with the saved text as context, at the stream's position */
static void set_error(ef_json_error_t *error, const unsigned char *start, const char *msg, const unsigned char *saved,
                      const unsigned char *saved_end, const unsigned char *pos, int stream_failed)
{
    size_t saved_len = saved_end - saved, shown = saved_len != 0 ? strnlen((const char *)saved, saved_len) : 0;

    if (shown != 0) {
        if (saved_len <= 20)
            snprintf(error->text, sizeof(error->text), "%s near '%.*s'", msg, (int)shown, saved);
        else
            snprintf(error->text, sizeof(error->text), "%s", msg);
    } else if (stream_failed) {
        snprintf(error->text, sizeof(error->text), "%s", msg); /* no context for UTF-8 errors */
    } else {
        snprintf(error->text, sizeof(error->text), "%s near end of file", msg);
    }

    /* lines end at '\n'; a column counts characters, not the continuation bytes of UTF-8 sequences */
    error->line = 1;
    error->column = 0;
    for (const unsigned char *p = start; p != pos; ++p) {
        if (*p == '\n') {
            ++error->line;
            error->column = 0;
        } else if ((*p & 0xc0) != 0x80) {
            ++error->column;
        }
    }
    error->position = pos - start;
}

/* The parser stopped at `at`, expecting `expect` there: the message jansson gives for this input. */
static void report(ef_json_error_t *error, const unsigned char *start, const unsigned char *end, const unsigned char *at,
                   int expect)
{
    struct st_jlex_t lx = {start, end, at, at};
    const char *msg = NULL;

    /* jansson reads one character past a number or a word: a byte there that is not UTF-8 fails that token */
    if (at != start && at != end && *at >= 0x80 && ef_utf8_seq(at, end) == 0 && (is_digit(at[-1]) || is_alpha(at[-1]))) {
        while (lx.pos != start &&
               (is_digit(lx.pos[-1]) || is_alpha(lx.pos[-1]) || lx.pos[-1] == '.' || lx.pos[-1] == '+' || lx.pos[-1] == '-'))
            --lx.pos;
    }

    int token = jlex_scan(&lx);
    if (token == J_ERROR) {
        set_error(error, start, lx.msg, lx.err_saved, lx.err_saved_end, lx.err_pos, lx.stream_failed);
        return;
    }
    switch (expect) {
    case EXPECT_VALUE:
        msg = token == J_INVALID ? "invalid token" : "unexpected token";
        break;
    case EXPECT_ITEM:
        msg = token == J_EOF ? "']' expected" : token == J_INVALID ? "invalid token" : "unexpected token";
        break;
    case EXPECT_KEY:
        msg = "string or '}' expected";
        break;
    case EXPECT_COLON:
        msg = "':' expected";
        break;
    case EXPECT_OBJECT_NEXT:
        msg = "'}' expected";
        break;
    case EXPECT_ARRAY_NEXT:
        msg = "']' expected";
        break;
    case EXPECT_EOF:
        msg = "end of file expected";
        break;
    default:
        msg = "maximum parsing depth reached";
        break;
    }
    set_error(error, start, msg, lx.saved, lx.saved_end, lx.pos, 0);
}
