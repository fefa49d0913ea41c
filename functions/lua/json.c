/*
 * JSON and Lua values, for Lambda's Invoke of a Lua function (POST /functions/NAME/invocations):
 * the payload becomes the handler's argument, and what the handler returns becomes the
 * answer. The same rules as the common Lua JSON libraries (cjson, dkjson): an object is a
 * table, an array a sequence, null is nil; a table whose keys are exactly 1..n is an
 * array, any other an object (number keys written as strings), and an empty table {}.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "functions/json.h"
#include "functions/lua/lua_internal.h"

void ef_lua_push_json(lua_State *L, const ef_json_t *v)
{
    luaL_checkstack(L, 3, "JSON nested too deep");
    switch (v->type) {
    case EF_JSON_NULL:
        lua_pushnil(L);
        break;
    case EF_JSON_FALSE:
    case EF_JSON_TRUE:
        lua_pushboolean(L, v->type == EF_JSON_TRUE);
        break;
    case EF_JSON_NUMBER:
        if (v->is_int)
            lua_pushinteger(L, v->number.i);
        else
            lua_pushnumber(L, ef_json_number(v));
        break;
    case EF_JSON_STRING:
        lua_pushlstring(L, v->string.base, v->string.len);
        break;
    case EF_JSON_ARRAY:
        lua_createtable(L, (int)v->array.size, 0);
        for (size_t i = 0; i != v->array.size; ++i) {
            ef_lua_push_json(L, v->array.items + i);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    case EF_JSON_OBJECT:
        lua_createtable(L, 0, (int)v->object.size);
        for (size_t i = 0; i != v->object.size; ++i) {
            const ef_json_member_t *m = v->object.members + i;
            if (m->value.type == EF_JSON_NULL)
                continue; /* t[k] = nil is no member */
            lua_pushlstring(L, m->key.base, m->key.len);
            ef_lua_push_json(L, &m->value);
            lua_rawset(L, -3);
        }
        break;
    }
}

struct st_encoder_t {
    lua_State *L;
    h2o_buffer_t **buf;
    char *why;
    size_t whylen;
    int too_large; /* the result would be more than EF_INVOKE_MAX_PAYLOAD: nothing more is written */
};

static int fail(struct st_encoder_t *e, const char *what, const char *path)
{
    snprintf(e->why, e->whylen, "%s%s%s", what, path[0] != '\0' ? " at " : "", path);
    return -1;
}

/* Whether `len` more bytes would take the result past EF_INVOKE_MAX_PAYLOAD: checked before every write, so that a
 * table that holds one long string many times (little Lua memory) cannot make a huge result (much C memory and time). */
static int too_large(struct st_encoder_t *e, size_t len)
{
    if ((*e->buf)->size + len <= EF_INVOKE_MAX_PAYLOAD)
        return 0;
    e->too_large = 1;
    return 1;
}

static void put(struct st_encoder_t *e, const char *s, size_t len)
{
    if (too_large(e, len))
        return;
    memcpy(h2o_buffer_reserve(e->buf, len).base, s, len);
    (*e->buf)->size += len;
}

/* -1 when `s` is not UTF-8 (and too_large when it does not fit: then nothing is written) */
static int put_string(struct st_encoder_t *e, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    if (too_large(e, len + 2)) /* at least that; escapes make it longer */
        return 0;
    char *d = h2o_buffer_reserve(e->buf, len * 6 + 2).base, *start = d;

    *d++ = '"';
    while (p != end) {
        unsigned char c = *p;
        if (c >= 0x80) {
            size_t n = ef_utf8_seq(p, end);
            if (n == 0)
                return -1;
            memcpy(d, p, n);
            d += n;
            p += n;
            continue;
        }
        if (c == '"' || c == '\\') {
            *d++ = '\\';
            *d++ = c;
        } else if (c == '\n') {
            *d++ = '\\';
            *d++ = 'n';
        } else if (c == '\r') {
            *d++ = '\\';
            *d++ = 'r';
        } else if (c == '\t') {
            *d++ = '\\';
            *d++ = 't';
        } else if (c < 0x20) {
            memcpy(d, "\\u00", 4);
            d[4] = hex[c >> 4];
            d[5] = hex[c & 15];
            d += 6;
        } else {
            *d++ = c;
        }
        ++p;
    }
    *d++ = '"';
    if (too_large(e, d - start))
        return 0;
    (*e->buf)->size += d - start;
    return 0;
}

/* Whether the table at `idx` has exactly the keys 1..n (n >= 1): then its length. */
static size_t sequence_length(lua_State *L, int idx)
{
    size_t n = lua_rawlen(L, idx), count = 0;

    if (n == 0)
        return 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || (size_t)lua_tointeger(L, -1) > n) {
            lua_pop(L, 1);
            return 0;
        }
        ++count;
    }
    return count == n ? n : 0;
}

static int encode(struct st_encoder_t *e, int idx, int depth, const char *path);

static int encode_table(struct st_encoder_t *e, int idx, int depth, const char *path)
{
    lua_State *L = e->L;
    char sub[128];
    size_t n;

    if (depth == EF_JSON_MAX_DEPTH)
        return fail(e, "tables nested more than 64 deep (a table that holds itself?)", path);
    luaL_checkstack(L, 4, "tables nested too deep");
    /* a table of a shared module is frozen: its fields are in its backing table */
    if (ef_lua_push_backing(L, idx))
        idx = lua_gettop(L);
    if ((n = sequence_length(L, idx)) != 0) {
        put(e, "[", 1);
        for (size_t i = 1; i <= n; ++i) {
            if (i != 1)
                put(e, ",", 1);
            lua_rawgeti(L, idx, (lua_Integer)i);
            snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
            if (encode(e, lua_gettop(L), depth + 1, sub) != 0)
                return -1;
            lua_pop(L, 1);
        }
        put(e, "]", 1);
    } else {
        int first = 1;
        put(e, "{", 1);
        lua_pushnil(L);
        while (lua_next(L, idx) != 0) {
            size_t klen;
            const char *key;
            int value = lua_gettop(L);
            if (lua_type(L, -2) == LUA_TSTRING) {
                key = lua_tolstring(L, -2, &klen);
            } else if (lua_type(L, -2) == LUA_TNUMBER) {
                lua_pushvalue(L, -2); /* converted on a copy: lua_next needs the key as it is */
                key = lua_tolstring(L, -1, &klen);
            } else {
                return fail(e, "a table key that is not a string or a number", path);
            }
            if (!first)
                put(e, ",", 1);
            first = 0;
            if (put_string(e, key, klen) != 0)
                return fail(e, "a key that is not UTF-8", path);
            put(e, ":", 1);
            snprintf(sub, sizeof(sub), "%s%s%.*s", path, path[0] != '\0' ? "." : "", (int)(klen < 40 ? klen : 40), key);
            if (encode(e, value, depth + 1, sub) != 0)
                return -1;
            lua_settop(L, value - 1); /* the key stays, for lua_next */
        }
        put(e, "}", 1);
    }
    return e->too_large ? fail(e, "a result of more than 6 MB", "") : 0;
}

static int encode(struct st_encoder_t *e, int idx, int depth, const char *path)
{
    lua_State *L = e->L;
    char num[64];
    size_t len;
    const char *s;
    int top = lua_gettop(L);

    if (e->too_large)
        return fail(e, "a result of more than 6 MB", "");
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        put(e, "null", 4);
        return 0;
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx))
            put(e, "true", 4);
        else
            put(e, "false", 5);
        return 0;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            len = snprintf(num, sizeof(num), "%lld", (long long)lua_tointeger(L, idx));
        } else {
            double d = lua_tonumber(L, idx);
            if (!isfinite(d))
                return fail(e, "a number that is not finite (JSON has no NaN or infinity)", path);
            /* the shortest form that reads back as the same double, as JavaScript and Python write it: 0.1, not
             * 0.10000000000000001 */
            for (int precision = 15; precision <= 17; ++precision) {
                len = snprintf(num, sizeof(num), "%.*g", precision, d);
                if (strtod(num, NULL) == d)
                    break;
            }
        }
        put(e, num, len);
        return 0;
    case LUA_TSTRING:
        s = lua_tolstring(L, idx, &len);
        if (put_string(e, s, len) != 0)
            return fail(e, "a string that is not UTF-8", path);
        return 0;
    case LUA_TTABLE: {
        int ret = encode_table(e, idx, depth, path);
        lua_settop(L, top);
        return ret;
    }
    default:
        snprintf(num, sizeof(num), "a %s (JSON cannot hold one)", lua_typename(L, lua_type(L, idx)));
        return fail(e, num, path);
    }
}

int ef_lua_to_json(lua_State *L, int idx, h2o_buffer_t **buf, char *why, size_t whylen)
{
    struct st_encoder_t e = {L, buf, why, whylen};
    int top = lua_gettop(L), ret;

    ret = encode(&e, lua_absindex(L, idx), 0, "");
    lua_settop(L, top);
    if (ret == 0 && e.too_large) /* a long string alone, say */
        ret = fail(&e, "a result of more than 6 MB", "");
    return ret;
}
