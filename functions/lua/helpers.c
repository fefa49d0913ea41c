/*
 * The `crypto`, `base64`, `hex` and `querystring` libraries of Lua functions
 * (helpers.h has the Lua API).
 *
 * Whatever grows with the input is allocated by Lua: results in a luaL_Buffer sized
 * once, scratch in a userdata. The lua_State's allocator is where an invocation's
 * memory budget is enforced, so an input too large for the budget fails with "not
 * enough memory" instead of slipping past it through malloc. Only fixed-size scratch
 * (a digest, at most 1024 random bytes) lives on the C stack.
 *
 * The decoders validate all their input before they allocate: returning nil and a
 * message then leaves nothing behind on the stack, and no allocation is wasted on
 * input that is rejected.
 *
 * There is no mutable static state: worker threads call these at the same time, each
 * on its own lua_State.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <lauxlib.h>
#include <lua.h>
#include <mbedtls/constant_time.h>
#include <mbedtls/md.h>
#include "functions/lua/helpers.h"

#define RANDOM_MAX 1024

enum en_encoding_t { ENCODING_RAW, ENCODING_HEX, ENCODING_BASE64, ENCODING_BASE64URL };

static const char hex_lower[] = "0123456789abcdef", hex_upper[] = "0123456789ABCDEF";
static const char base64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char base64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Compares a Lua string, which may hold NULs, with a C string. */
static int name_is(const char *s, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(s, name, len) == 0;
}

/* Lengths are computed before the buffer is made; a sum that wraps would make it too short. */
static size_t add_size(lua_State *L, size_t a, size_t b)
{
    if (a > SIZE_MAX - b)
        luaL_error(L, "result too large");
    return a + b;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- base64 ---- */

static size_t base64_encoded_len(lua_State *L, size_t len, int pad)
{
    size_t groups = len / 3, rem = len % 3;

    if (groups > (SIZE_MAX - 4) / 4)
        luaL_error(L, "result too large");
    return groups * 4 + (rem == 0 ? 0 : pad ? 4 : rem + 1);
}

/* Writes base64_encoded_len(len, pad) bytes at `dst`. */
static void base64_write(char *dst, const unsigned char *src, size_t len, const char *alphabet, int pad)
{
    for (; len >= 3; src += 3, len -= 3) {
        uint32_t v = (uint32_t)src[0] << 16 | (uint32_t)src[1] << 8 | src[2];
        *dst++ = alphabet[v >> 18];
        *dst++ = alphabet[v >> 12 & 63];
        *dst++ = alphabet[v >> 6 & 63];
        *dst++ = alphabet[v & 63];
    }
    if (len != 0) {
        uint32_t v = (uint32_t)src[0] << 16 | (len == 2 ? (uint32_t)src[1] << 8 : 0);
        *dst++ = alphabet[v >> 18];
        *dst++ = alphabet[v >> 12 & 63];
        if (len == 2)
            *dst++ = alphabet[v >> 6 & 63];
        else if (pad)
            *dst++ = '=';
        if (pad)
            *dst++ = '=';
    }
}

static int base64_value(unsigned char c, const char *alphabet)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (unsigned char)alphabet[62])
        return 62;
    if (c == (unsigned char)alphabet[63])
        return 63;
    return -1;
}

/* [-0, +(1|2), m] pushes the bytes `s` encodes in `alphabet`, or nil and a message. */
static int push_base64_decoded(lua_State *L, const char *s, size_t len, const char *alphabet, const char *what)
{
    size_t npad = 0, datalen, outlen, i;
    int last;
    char *dst;
    luaL_Buffer b;

    while (npad < len && s[len - 1 - npad] == '=')
        ++npad;
    datalen = len - npad;
    /* padding is optional, but padding that does not end a group of four is a truncated or mangled string */
    if (npad != 0 && (npad > 2 || len % 4 != 0)) {
        lua_pushnil(L);
        lua_pushfstring(L, "invalid %s: bad padding", what);
        return 2;
    }
    for (i = 0; i != datalen; ++i) {
        if (base64_value((unsigned char)s[i], alphabet) < 0) {
            /* the position, never the byte: the message may be logged, and the byte is the viewer's */
            lua_pushnil(L);
            lua_pushfstring(L, "invalid %s: bad character at position %I", what, (lua_Integer)i + 1);
            return 2;
        }
    }
    if (datalen % 4 == 1) {
        lua_pushnil(L);
        lua_pushfstring(L, "invalid %s: truncated (a length of 4n+1 characters cannot be decoded)", what);
        return 2;
    }
    /* Bits of the last character beyond the last whole byte must be zero; otherwise
     * several strings decode to the same bytes, and a string that passed a check could
     * be altered and still pass it. Every encoder writes zeros there. */
    last = datalen == 0 ? 0 : base64_value((unsigned char)s[datalen - 1], alphabet);
    if ((datalen % 4 == 2 && (last & 15) != 0) || (datalen % 4 == 3 && (last & 3) != 0)) {
        lua_pushnil(L);
        lua_pushfstring(L, "invalid %s: non-zero bits after the last byte", what);
        return 2;
    }

    outlen = datalen / 4 * 3 + (datalen % 4 == 0 ? 0 : datalen % 4 - 1);
    dst = luaL_buffinitsize(L, &b, outlen);
    for (i = 0; i + 4 <= datalen; i += 4) {
        uint32_t v = (uint32_t)base64_value((unsigned char)s[i], alphabet) << 18 |
                     (uint32_t)base64_value((unsigned char)s[i + 1], alphabet) << 12 |
                     (uint32_t)base64_value((unsigned char)s[i + 2], alphabet) << 6 |
                     (uint32_t)base64_value((unsigned char)s[i + 3], alphabet);
        *dst++ = (char)(v >> 16);
        *dst++ = (char)(v >> 8);
        *dst++ = (char)v;
    }
    if (i != datalen) {
        uint32_t v = (uint32_t)base64_value((unsigned char)s[i], alphabet) << 18 |
                     (uint32_t)base64_value((unsigned char)s[i + 1], alphabet) << 12;
        if (datalen - i == 3)
            v |= (uint32_t)base64_value((unsigned char)s[i + 2], alphabet) << 6;
        *dst++ = (char)(v >> 16);
        if (datalen - i == 3)
            *dst++ = (char)(v >> 8);
    }
    luaL_pushresultsize(&b, outlen);
    return 1;
}

/* ---- encodings shared by crypto's functions ---- */

/* [-0, +1, m] pushes `len` bytes at `src` as `encoding` has them. */
static void push_encoded(lua_State *L, const unsigned char *src, size_t len, enum en_encoding_t encoding)
{
    luaL_Buffer b;
    size_t outlen, i;
    char *dst;

    if (encoding == ENCODING_RAW) {
        lua_pushlstring(L, (const char *)src, len);
    } else if (encoding == ENCODING_HEX) {
        if (len > SIZE_MAX / 2)
            luaL_error(L, "result too large");
        outlen = len * 2;
        dst = luaL_buffinitsize(L, &b, outlen);
        for (i = 0; i != len; ++i) {
            *dst++ = hex_lower[src[i] >> 4];
            *dst++ = hex_lower[src[i] & 15];
        }
        luaL_pushresultsize(&b, outlen);
    } else {
        int url = encoding == ENCODING_BASE64URL;
        outlen = base64_encoded_len(L, len, !url);
        base64_write(luaL_buffinitsize(L, &b, outlen), src, len, url ? base64_url : base64_std, !url);
        luaL_pushresultsize(&b, outlen);
    }
}

static enum en_encoding_t check_encoding(lua_State *L, int arg, enum en_encoding_t def)
{
    static const struct {
        const char *name;
        enum en_encoding_t encoding;
    } encodings[] = {{"hex", ENCODING_HEX}, {"base64", ENCODING_BASE64}, {"base64url", ENCODING_BASE64URL}, {"raw", ENCODING_RAW}};
    const char *name;
    size_t len, i;

    if (lua_isnoneornil(L, arg))
        return def;
    name = luaL_checklstring(L, arg, &len);
    for (i = 0; i != sizeof(encodings) / sizeof(encodings[0]); ++i)
        if (name_is(name, len, encodings[i].name))
            return encodings[i].encoding;
    luaL_argerror(L, arg, lua_pushfstring(L, "unknown encoding \"%s\"", name));
    return def; /* not reached: luaL_argerror does not return */
}

/* ---- crypto ---- */

static const mbedtls_md_info_t *check_algorithm(lua_State *L, int arg)
{
    static const struct {
        const char *name;
        mbedtls_md_type_t type;
    } algorithms[] = {{"sha256", MBEDTLS_MD_SHA256},
                      {"sha1", MBEDTLS_MD_SHA1},
                      {"md5", MBEDTLS_MD_MD5},
                      {"sha384", MBEDTLS_MD_SHA384},
                      {"sha512", MBEDTLS_MD_SHA512}};
    size_t len, i;
    const char *name = luaL_checklstring(L, arg, &len);

    for (i = 0; i != sizeof(algorithms) / sizeof(algorithms[0]); ++i) {
        if (name_is(name, len, algorithms[i].name)) {
            const mbedtls_md_info_t *md = mbedtls_md_info_from_type(algorithms[i].type);
            /* NULL only with an mbed TLS built without the algorithm */
            if (md == NULL)
                luaL_argerror(L, arg, lua_pushfstring(L, "algorithm \"%s\" is not available", name));
            return md;
        }
    }
    luaL_argerror(L, arg, lua_pushfstring(L, "unknown algorithm \"%s\"", name));
    return NULL; /* not reached */
}

/* crypto.hash(alg, data [, encoding]) [-0, +1, v] */
static int crypto_hash(lua_State *L)
{
    const mbedtls_md_info_t *md = check_algorithm(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    enum en_encoding_t encoding = check_encoding(L, 3, ENCODING_HEX);
    unsigned char digest[MBEDTLS_MD_MAX_SIZE];

    if (mbedtls_md(md, (const unsigned char *)data, len, digest) != 0)
        return luaL_error(L, "hash failed");
    push_encoded(L, digest, mbedtls_md_get_size(md), encoding);
    return 1;
}

/* crypto.hmac(alg, key, data [, encoding]) [-0, +1, v] */
static int crypto_hmac(lua_State *L)
{
    const mbedtls_md_info_t *md = check_algorithm(L, 1);
    size_t keylen, len;
    const char *key = luaL_checklstring(L, 2, &keylen), *data = luaL_checklstring(L, 3, &len);
    enum en_encoding_t encoding = check_encoding(L, 4, ENCODING_HEX);
    unsigned char mac[MBEDTLS_MD_MAX_SIZE];

    /* mbedtls_md_hmac mallocs its context, but that is a fixed size and freed before it returns */
    if (mbedtls_md_hmac(md, (const unsigned char *)key, keylen, (const unsigned char *)data, len, mac) != 0)
        return luaL_error(L, "hmac failed");
    push_encoded(L, mac, mbedtls_md_get_size(md), encoding);
    return 1;
}

/* crypto.random(n [, encoding]) [-0, +1, v] */
static int crypto_random(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    enum en_encoding_t encoding;
    unsigned char bytes[RANDOM_MAX];
    size_t got = 0;

    if (n < 1 || n > RANDOM_MAX)
        luaL_argerror(L, 1, lua_pushfstring(L, "must be between 1 and %d", RANDOM_MAX));
    encoding = check_encoding(L, 2, ENCODING_RAW);

    /* The kernel rather than a CTR_DRBG of our own: getrandom(2) is already a CSPRNG,
     * needs no state (a DRBG would need one per lua_State, seeded, reseeded, and made
     * safe across fork), and costs one system call of at most 1024 bytes per call.
     * Flags 0 block only until the kernel's pool is first initialized, at boot. A read
     * of more than 256 bytes may come back short if a signal arrives, hence the loop. */
    while (got < (size_t)n) {
        ssize_t r = getrandom(bytes + got, (size_t)n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return luaL_error(L, "cannot read random bytes from the kernel (errno %d)", errno);
        }
        got += (size_t)r;
    }
    push_encoded(L, bytes, (size_t)n, encoding);
    return 1;
}

/* crypto.equals(a, b) [-0, +1, v] */
static int crypto_equals(lua_State *L)
{
    size_t alen, blen;
    const char *a = luaL_checklstring(L, 1, &alen), *b = luaL_checklstring(L, 2, &blen);

    /* mbed TLS's comparison, not a loop of our own that a compiler may learn to cut short */
    lua_pushboolean(L, alen == blen && mbedtls_ct_memcmp(a, b, alen) == 0);
    return 1;
}

int ef_lua_open_crypto(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"hash", crypto_hash}, {"hmac", crypto_hmac}, {"random", crypto_random}, {"equals", crypto_equals}, {NULL, NULL}};
    luaL_newlib(L, funcs);
    return 1;
}

/* ---- base64 ---- */

static int do_base64_encode(lua_State *L, const char *alphabet, int pad)
{
    size_t len, outlen;
    const char *s = luaL_checklstring(L, 1, &len);
    luaL_Buffer b;

    outlen = base64_encoded_len(L, len, pad);
    base64_write(luaL_buffinitsize(L, &b, outlen), (const unsigned char *)s, len, alphabet, pad);
    luaL_pushresultsize(&b, outlen);
    return 1;
}

/* base64.encode(s) [-0, +1, v] */
static int base64_encode(lua_State *L)
{
    return do_base64_encode(L, base64_std, 1);
}

/* base64.urlencode(s) [-0, +1, v] */
static int base64_urlencode(lua_State *L)
{
    return do_base64_encode(L, base64_url, 0);
}

/* base64.decode(s) [-0, +(1|2), v] */
static int base64_decode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    return push_base64_decoded(L, s, len, base64_std, "base64");
}

/* base64.urldecode(s) [-0, +(1|2), v] */
static int base64_urldecode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    return push_base64_decoded(L, s, len, base64_url, "base64url");
}

int ef_lua_open_base64(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"encode", base64_encode},
                                     {"decode", base64_decode},
                                     {"urlencode", base64_urlencode},
                                     {"urldecode", base64_urldecode},
                                     {NULL, NULL}};
    luaL_newlib(L, funcs);
    return 1;
}

/* ---- hex ---- */

/* hex.encode(s) [-0, +1, v] */
static int hex_encode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    push_encoded(L, (const unsigned char *)s, len, ENCODING_HEX);
    return 1;
}

/* hex.decode(s) [-0, +(1|2), v] */
static int hex_decode(lua_State *L)
{
    size_t len, i;
    const char *s = luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    char *dst;

    if (len % 2 != 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "invalid hex: odd length");
        return 2;
    }
    for (i = 0; i != len; ++i) {
        if (hex_value((unsigned char)s[i]) < 0) {
            lua_pushnil(L);
            lua_pushfstring(L, "invalid hex: bad digit at position %I", (lua_Integer)i + 1);
            return 2;
        }
    }
    dst = luaL_buffinitsize(L, &b, len / 2);
    for (i = 0; i != len; i += 2)
        *dst++ = (char)(hex_value((unsigned char)s[i]) << 4 | hex_value((unsigned char)s[i + 1]));
    luaL_pushresultsize(&b, len / 2);
    return 1;
}

int ef_lua_open_hex(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"encode", hex_encode}, {"decode", hex_decode}, {NULL, NULL}};
    luaL_newlib(L, funcs);
    return 1;
}

/* ---- querystring ---- */

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
           c == '~';
}

static size_t escaped_len(lua_State *L, const char *s, size_t len)
{
    size_t n = len, i;

    for (i = 0; i != len; ++i)
        if (!is_unreserved((unsigned char)s[i]))
            n = add_size(L, n, 2);
    return n;
}

/* Writes escaped_len(s, len) bytes at `dst`; returns the end. */
static char *write_escaped(char *dst, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i != len; ++i) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c)) {
            *dst++ = (char)c;
        } else {
            *dst++ = '%';
            *dst++ = hex_upper[c >> 4];
            *dst++ = hex_upper[c & 15];
        }
    }
    return dst;
}

/* [-0, +1, m] pushes `s` unescaped as querystring.unescape does */
static void push_unescaped(lua_State *L, const char *s, size_t len)
{
    luaL_Buffer b;
    char *dst = luaL_buffinitsize(L, &b, len), *start = dst; /* never longer than the input */
    size_t i;

    for (i = 0; i != len; ++i) {
        int hi, lo;
        if (s[i] == '+') {
            *dst++ = ' ';
        } else if (s[i] == '%' && len - i > 2 && (hi = hex_value((unsigned char)s[i + 1])) >= 0 &&
                   (lo = hex_value((unsigned char)s[i + 2])) >= 0) {
            *dst++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *dst++ = s[i];
        }
    }
    luaL_pushresultsize(&b, (size_t)(dst - start));
}

/* [-2, +0, m] sets key (at -2) to value (at -1) in the parse result at `t`, or adds the value to those the key has */
static void add_param(lua_State *L, int t)
{
    lua_pushvalue(L, -2);
    switch (lua_rawget(L, t)) {
    case LUA_TNIL:
        lua_pop(L, 1);
        lua_rawset(L, t);
        break;
    case LUA_TSTRING: /* the second value: key, value, first */
        lua_createtable(L, 2, 0);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 1);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 2);
        lua_rawset(L, t);
        break;
    default: /* a third or later: key, value, array */
        lua_insert(L, -2);
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        lua_pop(L, 2);
        break;
    }
}

/* querystring.parse(s) [-0, +1, v] */
static int qs_parse(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len), *end = s + len;

    lua_settop(L, 1); /* the result is at 2 */
    lua_newtable(L);
    if (s != end && *s == '?')
        ++s;
    while (s != end) {
        const char *amp = memchr(s, '&', (size_t)(end - s)), *piece_end = amp != NULL ? amp : end;
        if (piece_end != s) {
            const char *eq = memchr(s, '=', (size_t)(piece_end - s));
            if (eq != NULL) {
                push_unescaped(L, s, (size_t)(eq - s));
                push_unescaped(L, eq + 1, (size_t)(piece_end - eq - 1));
            } else {
                push_unescaped(L, s, (size_t)(piece_end - s));
                lua_pushliteral(L, "");
            }
            add_param(L, 2);
        }
        if (amp == NULL)
            break;
        s = amp + 1;
    }
    return 1;
}

/* The text a scalar value stands for in a query string: a string's bytes, a number
 * as tostring writes it (into `num`), or "true"/"false". NULL for other types. */
static const char *scalar_text(lua_State *L, int idx, char *num, size_t numsize, size_t *len)
{
    const char *s;

    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        return lua_tolstring(L, idx, len);
    case LUA_TNUMBER:
        /* converted on a copy: lua_tolstring turns the slot itself into a string */
        lua_pushvalue(L, idx);
        s = lua_tolstring(L, -1, len);
        assert(*len < numsize); /* Lua writes numbers in at most 44 bytes */
        memcpy(num, s, *len);
        lua_pop(L, 1);
        return num;
    case LUA_TBOOLEAN:
        *len = lua_toboolean(L, idx) ? 4 : 5;
        return lua_toboolean(L, idx) ? "true" : "false";
    default:
        return NULL;
    }
}

struct st_qs_key_t {
    const char *s;
    size_t len;
};

static int compare_keys(const void *pa, const void *pb)
{
    const struct st_qs_key_t *a = pa, *b = pb;
    int r = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);
    return r != 0 ? r : a->len < b->len ? -1 : a->len > b->len;
}

#define EXPECTED_VALUES "expected a string, number, boolean or an array of them"
#define PLAIN_TABLES_ONLY "has __index or __pairs; stringify reads plain tables only"

/* Tables are read raw, so that no Lua code runs while we hold pointers into them. A
 * table whose contents come from metamethods (a proxy, or defaults through __index)
 * would read as holding less than it shows, and a function would sign or cache a
 * query string missing parameters without knowing it: such tables are refused. */
static int has_metacontent(lua_State *L, int idx)
{
    int type = luaL_getmetafield(L, idx, "__index");

    if (type == LUA_TNIL)
        type = luaL_getmetafield(L, idx, "__pairs");
    if (type == LUA_TNIL)
        return 0;
    lua_pop(L, 1);
    return 1;
}

/* [-0, +0, v] checks the value at the top of the stack, set for `key`, and adds the length of its pairs to `*total` and
 * their number to `*npairs`. Raises the error stringify gives for a value it cannot write. */
static void measure_value(lua_State *L, const struct st_qs_key_t *key, size_t *total, size_t *npairs)
{
    size_t keylen = escaped_len(L, key->s, key->len), len, n, count = 0, j;
    char num[64];
    const char *text;

    if (lua_type(L, -1) != LUA_TTABLE) {
        if ((text = scalar_text(L, -1, num, sizeof(num), &len)) == NULL)
            luaL_argerror(L, 1, lua_pushfstring(L, "value for key \"%s\" is a %s; " EXPECTED_VALUES, key->s, luaL_typename(L, -1)));
        *total = add_size(L, *total, add_size(L, add_size(L, keylen, 1), escaped_len(L, text, len)));
        ++*npairs;
        return;
    }

    if (has_metacontent(L, -1))
        luaL_argerror(L, 1, lua_pushfstring(L, "value for key \"%s\" " PLAIN_TABLES_ONLY, key->s));
    /* an array: exactly the keys 1..n, none of them nil */
    n = lua_rawlen(L, -1);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        ++count;
        lua_pop(L, 1);
    }
    if (count != n)
        luaL_argerror(L, 1, lua_pushfstring(L, "value for key \"%s\" is a table that is not an array", key->s));
    for (j = 1; j <= n; ++j) {
        lua_rawgeti(L, -1, (lua_Integer)j);
        if ((text = scalar_text(L, -1, num, sizeof(num), &len)) == NULL)
            luaL_argerror(L, 1,
                          lua_pushfstring(L, "value for key \"%s\" has a %s at index %I; " EXPECTED_VALUES, key->s,
                                          luaL_typename(L, -1), (lua_Integer)j));
        *total = add_size(L, *total, add_size(L, add_size(L, keylen, 1), escaped_len(L, text, len)));
        ++*npairs;
        lua_pop(L, 1);
    }
}

/* Writes "key=text" for the value at the top of the stack, preceded by '&' unless it is the first pair. */
static char *write_pair(lua_State *L, char *dst, int *first, const struct st_qs_key_t *key)
{
    char num[64];
    size_t len;
    const char *text = scalar_text(L, -1, num, sizeof(num), &len);

    if (!*first)
        *dst++ = '&';
    *first = 0;
    dst = write_escaped(dst, key->s, key->len);
    *dst++ = '=';
    return write_escaped(dst, text, len);
}

/* querystring.stringify(t) [-0, +1, v] */
static int qs_stringify(lua_State *L)
{
    struct st_qs_key_t *keys;
    size_t nkeys = 0, total = 0, npairs = 0, i, j, n;
    luaL_Buffer b;
    char *start, *dst;
    int first = 1;

    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    if (has_metacontent(L, 1))
        luaL_argerror(L, 1, "table " PLAIN_TABLES_ONLY);

    /* everything is checked and measured before anything is written, so the result is allocated once */
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        struct st_qs_key_t key;
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_argerror(L, 1, lua_pushfstring(L, "key of type %s; keys must be strings", luaL_typename(L, -2)));
        key.s = lua_tolstring(L, -2, &key.len);
        measure_value(L, &key, &total, &npairs);
        lua_pop(L, 1);
        ++nkeys;
    }
    if (npairs != 0)
        total = add_size(L, total, npairs - 1); /* the '&'s */

    /* The keys' bytes stay where they are: they are keys of t, which is on the stack
     * and which no Lua code can change before we return, so they are neither collected
     * nor moved. The array of pointers is a userdata, so Lua's allocator counts it. */
    keys = lua_newuserdatauv(L, nkeys * sizeof(*keys), 0);
    i = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        keys[i].s = lua_tolstring(L, -2, &keys[i].len);
        ++i;
        lua_pop(L, 1);
    }
    qsort(keys, nkeys, sizeof(*keys), compare_keys);

    /* Between here and luaL_pushresultsize nothing but the writes below touches the
     * buffer, and every push is popped again: the stack discipline luaL_Buffer needs. */
    start = dst = luaL_buffinitsize(L, &b, total);
    for (i = 0; i != nkeys; ++i) {
        lua_pushlstring(L, keys[i].s, keys[i].len);
        if (lua_rawget(L, 1) == LUA_TTABLE) {
            n = lua_rawlen(L, -1);
            for (j = 1; j <= n; ++j) {
                lua_rawgeti(L, -1, (lua_Integer)j);
                dst = write_pair(L, dst, &first, &keys[i]);
                lua_pop(L, 1);
            }
        } else {
            dst = write_pair(L, dst, &first, &keys[i]);
        }
        lua_pop(L, 1);
    }
    assert((size_t)(dst - start) == total);
    luaL_pushresultsize(&b, (size_t)(dst - start));
    return 1;
}

/* querystring.escape(s) [-0, +1, v] */
static int qs_escape(lua_State *L)
{
    size_t len, outlen;
    const char *s = luaL_checklstring(L, 1, &len);
    luaL_Buffer b;

    outlen = escaped_len(L, s, len);
    write_escaped(luaL_buffinitsize(L, &b, outlen), s, len);
    luaL_pushresultsize(&b, outlen);
    return 1;
}

/* querystring.unescape(s) [-0, +1, v] */
static int qs_unescape(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    push_unescaped(L, s, len);
    return 1;
}

int ef_lua_open_querystring(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"parse", qs_parse}, {"stringify", qs_stringify}, {"escape", qs_escape}, {"unescape", qs_unescape}, {NULL, NULL}};
    luaL_newlib(L, funcs);
    return 1;
}
