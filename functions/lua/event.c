/*
 * The event as Lua sees it, in the CloudFront Functions shape, and back.
 *
 * Nothing is converted before a function asks for it. `event`, `event.request` and
 * `event.response` are tables whose __index builds a field on first access and stores
 * it; `headers` builds one header at a time. So a function that sets one header
 * costs a handful of small tables, not a copy of the request.
 *
 * On the way back, a field that was never touched is left as it is. Headers are
 * compared name by name with the request's own; only the names that changed are
 * rewritten. An absent name means "deleted" only if the function had seen it: the
 * thread keeps a bitmap over the original headers of what was handed out (`seen`).
 * multiValue follows CloudFront's rule: a changed multiValue wins; otherwise a
 * changed value replaces the first of the values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "functions/lua/lua_internal.h"

#define MAX_ITEMS 256 /* values of one header, query parameter or cookie that a function may set */

typedef ef_event_item_t item_t;
typedef ef_event_param_t pair_t;
typedef ef_event_params_t pairs_t;

static void push_iovec(lua_State *L, h2o_iovec_t v)
{
    lua_pushlstring(L, v.base != NULL ? v.base : "", v.len);
}

/* Pushes {value = items[0]...} in the shape of one header, parameter or cookie. [-0, +1] */
static void push_entry(lua_State *L, const item_t *items, size_t n, int with_attrs)
{
    lua_createtable(L, 0, n > 1 ? 2 : 1);
    push_iovec(L, items[0].value);
    lua_setfield(L, -2, "value");
    if (with_attrs && items[0].attributes.len != 0) {
        push_iovec(L, items[0].attributes);
        lua_setfield(L, -2, "attributes");
    }
    if (n > 1) {
        lua_createtable(L, (int)n, 0);
        for (size_t i = 0; i != n; ++i) {
            lua_createtable(L, 0, 2);
            push_iovec(L, items[i].value);
            lua_setfield(L, -2, "value");
            if (with_attrs && items[i].attributes.len != 0) {
                push_iovec(L, items[i].attributes);
                lua_setfield(L, -2, "attributes");
            }
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_setfield(L, -2, "multiValue");
    }
}

/* ---- name/value lists: query strings and cookies ---- */

/* Pushes {name = entry, ...}: pairs with one name become one entry (multiValue when repeated). [-0, +1] */
static void push_pairs(lua_State *L, const pairs_t *pairs, int with_attrs)
{
    item_t items[MAX_ITEMS];
    lua_createtable(L, 0, (int)pairs->size);
    for (size_t i = 0; i != pairs->size; ++i) {
        const pair_t *p = pairs->entries + i;
        size_t n = 0, j;
        for (j = 0; j != i; ++j)
            if (h2o_memis(pairs->entries[j].name.base, pairs->entries[j].name.len, p->name.base, p->name.len))
                break;
        if (j != i)
            continue; /* already done with its first occurrence */
        for (j = i; j != pairs->size && n != MAX_ITEMS; ++j)
            if (h2o_memis(pairs->entries[j].name.base, pairs->entries[j].name.len, p->name.base, p->name.len))
                items[n++] = pairs->entries[j].item;
        push_iovec(L, p->name);
        push_entry(L, items, n, with_attrs);
        lua_rawset(L, -3);
    }
}

/* ---- lazy objects ---- */

static int is_excluded(ef_lua_object_t kind, const h2o_iovec_t *name)
{
    /* CloudFront keeps cookies out of headers: they have objects of their own */
    return kind == EF_LUA_REQUEST_HEADERS ? name == &H2O_TOKEN_COOKIE->buf : name == &H2O_TOKEN_SET_COOKIE->buf;
}

static h2o_headers_t *headers_of(ef_event_t *ev, ef_lua_object_t kind)
{
    return kind == EF_LUA_REQUEST_HEADERS ? ev->request.headers : ev->response.headers;
}

static uint8_t *seen_of(ef_lua_thread_t *t, ef_lua_object_t kind)
{
    return kind == EF_LUA_REQUEST_HEADERS ? t->req_seen.seen : t->res_seen.seen;
}

static void push_object(ef_lua_thread_t *t, ef_lua_object_t kind)
{
    lua_rawgeti(t->L, LUA_REGISTRYINDEX, t->objs[kind]);
}

/*
 * Sets object[key] = value (raw) on the event object `kind`, and writes the key down, so that ef_lua_event_clear can remove it
 * without walking the table. Every key that enters an event object comes through here: the objects' __newindex, and their __index
 * and __pairs that fill them lazily. [-0, +0]
 */
static void record_set(ef_lua_thread_t *t, ef_lua_object_t kind, int key, int value)
{
    lua_State *L = t->L;
    int obj;

    key = lua_absindex(L, key);
    value = lua_absindex(L, value);
    if (t->dirty.size == t->dirty.cap) {
        t->dirty.cap = t->dirty.cap != 0 ? t->dirty.cap * 2 : 64;
        if ((t->dirty.kinds = realloc(t->dirty.kinds, t->dirty.cap)) == NULL)
            abort();
    }
    t->dirty.kinds[t->dirty.size++] = kind;
    ++t->dirty.count[kind];
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->dirty.ref);
    lua_pushvalue(L, key);
    lua_rawseti(L, -2, t->dirty.size);
    lua_pop(L, 1);
    push_object(t, kind);
    obj = lua_gettop(L);
    lua_pushvalue(L, key);
    lua_pushvalue(L, value);
    lua_rawset(L, obj);
    lua_pop(L, 1);
}

/* The bit of t->fields for a known field of the request or the response, or 0. */
static unsigned field_bit(ef_lua_object_t kind, const char *key, size_t len)
{
    static const struct {
        ef_lua_object_t kind;
        const char *name;
        unsigned bit;
    } fields[] = {
        {EF_LUA_REQUEST, "method", EF_LUA_FIELD_METHOD},           {EF_LUA_REQUEST, "uri", EF_LUA_FIELD_URI},
        {EF_LUA_REQUEST, "querystring", EF_LUA_FIELD_QUERYSTRING}, {EF_LUA_REQUEST, "cookies", EF_LUA_FIELD_COOKIES},
        {EF_LUA_RESPONSE, "statusCode", EF_LUA_FIELD_STATUS},      {EF_LUA_RESPONSE, "statusDescription", EF_LUA_FIELD_REASON},
        {EF_LUA_RESPONSE, "cookies", EF_LUA_FIELD_COOKIES},        {EF_LUA_RESPONSE, "body", EF_LUA_FIELD_BODY},
        {EF_LUA_REQUEST, "headers", EF_LUA_FIELD_HEADERS},         {EF_LUA_RESPONSE, "headers", EF_LUA_FIELD_HEADERS}};

    for (size_t i = 0; i != sizeof(fields) / sizeof(fields[0]); ++i)
        if (fields[i].kind == kind && strlen(fields[i].name) == len && memcmp(fields[i].name, key, len) == 0)
            return fields[i].bit;
    return 0;
}

/* __newindex of the event, the request and the response: a new field, written down */
static int object_newindex(lua_State *L, ef_lua_object_t kind) /* [-3, +0] */
{
    ef_lua_thread_t *t = ef_lua_thread(L);
    size_t len;

    if (lua_isnil(L, 3))
        return 0; /* absent already */
    if (lua_type(L, 2) == LUA_TSTRING) {
        const char *key = lua_tolstring(L, 2, &len);
        t->fields[kind == EF_LUA_RESPONSE] |= field_bit(kind, key, len);
    }
    record_set(t, kind, 2, 3);
    return 0;
}

static int on_event_newindex(lua_State *L)
{
    return object_newindex(L, ef_lua_thread(L)->event_kind);
}

static int on_request_newindex(lua_State *L)
{
    return object_newindex(L, EF_LUA_REQUEST);
}

static int on_response_newindex(lua_State *L)
{
    return object_newindex(L, EF_LUA_RESPONSE);
}

/* Builds header `name` from the originals, marking them seen; pushes nil when there are none or they were deleted. */
static void push_header(lua_State *L, ef_lua_object_t kind, h2o_iovec_t name)
{
    ef_lua_thread_t *t = ef_lua_thread(L);
    ef_event_t *ev = t->current->event;
    h2o_headers_t *headers = headers_of(ev, kind);
    uint8_t *seen = seen_of(t, kind);
    item_t items[MAX_ITEMS];
    size_t n = 0;

    for (size_t i = 0; i != headers->size; ++i) {
        const h2o_header_t *h = headers->entries + i;
        if (!h2o_memis(h->name->base, h->name->len, name.base, name.len) || is_excluded(kind, h->name))
            continue;
        if (seen[i]) {
            /* handed out before and not in the table now: the function deleted it */
            lua_pushnil(L);
            return;
        }
        if (n != MAX_ITEMS)
            items[n++] = (item_t){h->value, {NULL, 0}};
    }
    if (n == 0) {
        lua_pushnil(L);
        return;
    }
    for (size_t i = 0; i != headers->size; ++i)
        if (h2o_memis(headers->entries[i].name->base, headers->entries[i].name->len, name.base, name.len))
            seen[i] = 1;
    push_entry(L, items, n, 0);
}

static int headers_index(lua_State *L, ef_lua_object_t kind) /* [-0, +1] */
{
    size_t len;
    const char *name = lua_tolstring(L, 2, &len);
    if (lua_type(L, 2) != LUA_TSTRING) {
        lua_pushnil(L);
        return 1;
    }
    push_header(L, kind, h2o_iovec_init(name, len));
    if (!lua_isnil(L, -1))
        record_set(ef_lua_thread(L), kind, 2, -1);
    return 1;
}

static int on_request_headers_index(lua_State *L)
{
    return headers_index(L, EF_LUA_REQUEST_HEADERS);
}

static int on_response_headers_index(lua_State *L)
{
    return headers_index(L, EF_LUA_RESPONSE_HEADERS);
}

static int headers_newindex(lua_State *L, ef_lua_object_t kind) /* [-3, +0] */
{
    ef_lua_thread_t *t = ef_lua_thread(L);

    if (!lua_isnil(L, 3)) {
        record_set(t, kind, 2, 3);
        return 0;
    }
    if (lua_type(L, 2) == LUA_TSTRING) {
        /* deleting a header never looked at: mark its originals seen, so that absent means deleted (and count the
         * headers as touched, for apply_headers) */
        ++t->dirty.count[kind];
        h2o_headers_t *headers = headers_of(t->current->event, kind);
        uint8_t *seen = seen_of(t, kind);
        size_t len;
        const char *name = lua_tolstring(L, 2, &len);
        for (size_t i = 0; i != headers->size; ++i)
            if (h2o_memis(headers->entries[i].name->base, headers->entries[i].name->len, name, len))
                seen[i] = 1;
    }
    return 0;
}

static int on_request_headers_newindex(lua_State *L)
{
    return headers_newindex(L, EF_LUA_REQUEST_HEADERS);
}

static int on_response_headers_newindex(lua_State *L)
{
    return headers_newindex(L, EF_LUA_RESPONSE_HEADERS);
}

static int headers_pairs(lua_State *L, ef_lua_object_t kind) /* [-1, +3] */
{
    /* iterating needs every header: build those not handed out yet, then iterate the table itself */
    ef_lua_thread_t *t = ef_lua_thread(L);
    h2o_headers_t *headers = headers_of(t->current->event, kind);
    uint8_t *seen = seen_of(t, kind);

    for (size_t i = 0; i != headers->size; ++i) {
        const h2o_header_t *h = headers->entries + i;
        if (seen[i] || is_excluded(kind, h->name))
            continue;
        push_iovec(L, *h->name);
        push_header(L, kind, *h->name);
        record_set(t, kind, -2, -1);
        lua_pop(L, 2);
    }
    lua_getglobal(L, "next"); /* the real next, from the real globals */
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static int on_request_headers_pairs(lua_State *L)
{
    return headers_pairs(L, EF_LUA_REQUEST_HEADERS);
}

static int on_response_headers_pairs(lua_State *L)
{
    return headers_pairs(L, EF_LUA_RESPONSE_HEADERS);
}

static int is_key(lua_State *L, const char *key, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(key, lit, len) == 0;
}

/* event.request.* */
static int on_request_index(lua_State *L) /* [-0, +1] */
{
    ef_lua_thread_t *t = ef_lua_thread(L);
    ef_event_t *ev = t->current->event;
    size_t len;
    const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : NULL;

    if (key == NULL) {
        lua_pushnil(L);
        return 1;
    }
    if (is_key(L, key, len, "method")) {
        push_iovec(L, ev->request.method);
    } else if (is_key(L, key, len, "uri")) {
        push_iovec(L, ev->request.path);
    } else if (is_key(L, key, len, "querystring")) {
        pairs_t pairs = {NULL};
        ef_event_parse_query(ev->pool, ev->request.query, &pairs);
        push_pairs(L, &pairs, 0);
    } else if (is_key(L, key, len, "cookies")) {
        pairs_t pairs = {NULL};
        ef_event_parse_cookies(ev->pool, ev->request.headers, &pairs);
        push_pairs(L, &pairs, 0);
    } else {
        lua_pushnil(L);
        return 1;
    }
    t->fields[0] |= field_bit(EF_LUA_REQUEST, key, len);
    record_set(t, EF_LUA_REQUEST, 2, -1);
    return 1;
}

/* event.response.* */
static int on_response_index(lua_State *L) /* [-0, +1] */
{
    ef_lua_thread_t *t = ef_lua_thread(L);
    ef_event_t *ev = t->current->event;
    size_t len;
    const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : NULL;

    if (key == NULL) {
        lua_pushnil(L);
        return 1;
    }
    if (is_key(L, key, len, "statusCode")) {
        lua_pushinteger(L, ev->response.status);
    } else if (is_key(L, key, len, "statusDescription")) {
        push_iovec(L, ev->response.reason);
    } else if (is_key(L, key, len, "cookies")) {
        pairs_t pairs = {NULL};
        ef_event_parse_set_cookies(ev->pool, ev->response.headers, &pairs);
        push_pairs(L, &pairs, 1);
    } else {
        lua_pushnil(L); /* no `body`: like CloudFront, a function does not see the origin's body */
        return 1;
    }
    t->fields[1] |= field_bit(EF_LUA_RESPONSE, key, len);
    record_set(t, EF_LUA_RESPONSE, 2, -1);
    return 1;
}

/* event.* */
static int on_event_index(lua_State *L) /* [-0, +1] */
{
    ef_lua_thread_t *t = ef_lua_thread(L);
    ef_event_t *ev = t->current->event;
    size_t len;
    const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : NULL;

    if (key == NULL) {
        lua_pushnil(L);
        return 1;
    }
    if (is_key(L, key, len, "context")) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, ef_hook_names[ev->hook]);
        lua_setfield(L, -2, "eventType");
        lua_pushstring(L, ev->request_id);
        lua_setfield(L, -2, "requestId");
    } else if (is_key(L, key, len, "viewer")) {
        lua_createtable(L, 0, 1);
        push_iovec(L, ev->client_ip);
        lua_setfield(L, -2, "ip");
    } else {
        lua_pushnil(L);
        return 1;
    }
    record_set(t, t->event_kind, 2, -1);
    return 1;
}

/*
 * The objects are empty tables behind metatables. What every invocation starts with
 * (event.version, event.request, request.headers, response.headers) sits in a table
 * that is each object's __index, out of the function's reach, so that it is found
 * without a call and never needs restoring; what is missing there comes from a C
 * __index of that table's own, which fills the object lazily (record_set).
 */
void ef_lua_event_init(ef_lua_thread_t *t)
{
    static const struct {
        lua_CFunction index, newindex, pairs;
    } mts[EF_LUA_NUM_OBJECTS] = {
        [EF_LUA_EVENT] = {on_event_index, on_event_newindex},
        [EF_LUA_RESPONSE_EVENT] = {on_event_index, on_event_newindex},
        [EF_LUA_REQUEST] = {on_request_index, on_request_newindex},
        [EF_LUA_RESPONSE] = {on_response_index, on_response_newindex},
        [EF_LUA_REQUEST_HEADERS] = {on_request_headers_index, on_request_headers_newindex, on_request_headers_pairs},
        [EF_LUA_RESPONSE_HEADERS] = {on_response_headers_index, on_response_headers_newindex, on_response_headers_pairs},
    };
    lua_State *L = t->L;
    int i;

    lua_createtable(L, 64, 0);
    t->dirty.ref = luaL_ref(L, LUA_REGISTRYINDEX);
    for (i = 0; i != EF_LUA_NUM_OBJECTS; ++i) {
        lua_createtable(L, 0, 4);
        t->obj_ptrs[i] = lua_topointer(L, -1); /* tables do not move */
        t->objs[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    for (i = 0; i != EF_LUA_NUM_OBJECTS; ++i) {
        push_object(t, i);
        lua_createtable(L, 0, 4); /* its metatable */
        if (i == EF_LUA_REQUEST_HEADERS || i == EF_LUA_RESPONSE_HEADERS) {
            lua_pushcfunction(L, mts[i].index);
        } else {
            lua_createtable(L, 0, 2); /* the links */
            lua_createtable(L, 0, 1);
            lua_pushcfunction(L, mts[i].index);
            lua_setfield(L, -2, "__index");
            lua_setmetatable(L, -2);
            if (i == EF_LUA_EVENT || i == EF_LUA_RESPONSE_EVENT) {
                lua_pushliteral(L, "1.0");
                lua_setfield(L, -2, "version");
                push_object(t, EF_LUA_REQUEST);
                lua_setfield(L, -2, "request");
                if (i == EF_LUA_RESPONSE_EVENT) {
                    push_object(t, EF_LUA_RESPONSE);
                    lua_setfield(L, -2, "response");
                }
            } else {
                push_object(t, i == EF_LUA_REQUEST ? EF_LUA_REQUEST_HEADERS : EF_LUA_RESPONSE_HEADERS);
                lua_setfield(L, -2, "headers");
            }
        }
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, mts[i].newindex);
        lua_setfield(L, -2, "__newindex");
        if (mts[i].pairs != NULL) {
            lua_pushcfunction(L, mts[i].pairs);
            lua_setfield(L, -2, "__pairs");
        }
        /* shared by every invocation: a function may neither see nor change them */
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_setmetatable(L, -2);
        lua_pop(L, 1);
    }
}

void ef_lua_push_event(ef_lua_thread_t *t)
{
    ef_event_t *ev = t->current->event;
    size_t nreq = ev->request.headers != NULL ? ev->request.headers->size : 0;
    size_t nres = ev->response.headers != NULL ? ev->response.headers->size : 0;

#define RESET(s, n)                                                                                                                \
    do {                                                                                                                           \
        if ((n) > (s).cap) {                                                                                                       \
            free((s).seen);                                                                                                        \
            (s).cap = (n) < 32 ? 32 : (n);                                                                                         \
            if (((s).seen = malloc((s).cap)) == NULL)                                                                              \
                abort();                                                                                                           \
        }                                                                                                                          \
        if ((s).seen != NULL)                                                                                                      \
            memset((s).seen, 0, (n));                                                                                              \
    } while (0)
    RESET(t->req_seen, nreq);
    RESET(t->res_seen, nres);
#undef RESET
    t->fields[0] = t->fields[1] = 0;

    t->event_kind = ef_hook_is_response(ev->hook) ? EF_LUA_RESPONSE_EVENT : EF_LUA_EVENT;
    push_object(t, t->event_kind);
}

void ef_lua_clear_table(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        /* clearing the field just visited keeps the traversal valid */
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, idx);
    }
}

void ef_lua_event_clear(ef_lua_thread_t *t)
{
    lua_State *L = t->L;

    lua_rawgeti(L, LUA_REGISTRYINDEX, t->dirty.ref);
    for (int i = 0; i != t->dirty.size; ++i) {
        push_object(t, t->dirty.kinds[i]);
        lua_rawgeti(L, -2, i + 1);
        lua_pushnil(L);
        lua_rawset(L, -3);
        lua_pop(L, 1);
        /* the key is not kept alive by the list */
        lua_pushnil(L);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pop(L, 1);
    t->dirty.size = 0;
    memset(t->dirty.count, 0, sizeof(t->dirty.count));
}

/* ---- back from Lua ---- */

#define INVALID(...)                                                                                                               \
    do {                                                                                                                           \
        snprintf(why, whylen, __VA_ARGS__);                                                                                        \
        return -1;                                                                                                                 \
    } while (0)

/* Whether the value at `idx` is the event object `kind`. */
static int is_object(ef_lua_thread_t *t, int idx, ef_lua_object_t kind)
{
    return lua_topointer(t->L, idx) == t->obj_ptrs[kind];
}

static h2o_iovec_t dup_value(lua_State *L, h2o_mem_pool_t *pool, int idx)
{
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    return h2o_strdup(pool, s, len);
}

/* reads a field: raw for our own objects (an absent field was never touched), through metamethods otherwise */
static int get_field(lua_State *L, int idx, const char *key, int raw)
{
    if (raw) {
        lua_pushstring(L, key);
        return lua_rawget(L, idx);
    }
    return lua_getfield(L, idx, key);
}

/* The headers of our own request or response (`raw`): the object `kind` unless the function put another table there. */
static int get_headers(ef_lua_thread_t *t, int idx, int raw, ef_lua_object_t kind)
{
    if (raw && (t->fields[kind == EF_LUA_RESPONSE_HEADERS] & EF_LUA_FIELD_HEADERS) == 0) {
        push_object(t, kind);
        return LUA_TTABLE;
    }
    return get_field(t->L, idx, "headers", raw);
}

/* get_field for a known field (EF_LUA_FIELD_*) of our own object, which is there only if the function read or set it */
static int get_known_field(lua_State *L, int idx, const char *key, int raw, unsigned present, unsigned bit)
{
    if (raw && (present & bit) == 0) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    return get_field(L, idx, key, raw);
}

static int is_string(lua_State *L, int idx)
{
    int type = lua_type(L, idx);
    return type == LUA_TSTRING || type == LUA_TNUMBER;
}

static int same_items(const item_t *a, size_t na, const item_t *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i != na; ++i)
        if (!h2o_memis(a[i].value.base, a[i].value.len, b[i].value.base, b[i].value.len) ||
            !h2o_memis(a[i].attributes.base, a[i].attributes.len, b[i].attributes.base, b[i].attributes.len))
            return 0;
    return 1;
}

/* what an entry is, in messages: header "x-foo" */
#define WHAT_FMT "%s \"%.*s\""
#define WHAT_ARGS(kind, name) kind, (int)((name).len < 64 ? (name).len : 64), (name).base

/* the `kind` of the entries of a response's cookies, the only ones with attributes (compared by address) */
static const char set_cookie_kind[] = "cookie";

/* Reads one item, {value = ..., attributes = ...} or a plain string, at `idx`, of the entry `name` of a `kind`. */
static int read_item(lua_State *L, h2o_mem_pool_t *pool, int idx, const char *kind, h2o_iovec_t name, item_t *item, char *why,
                     size_t whylen)
{
    if (is_string(L, idx)) {
        *item = (item_t){dup_value(L, pool, idx), {NULL, 0}};
        return 0;
    }
    if (!lua_istable(L, idx))
        INVALID(WHAT_FMT ": expected {value = \"...\"}, got %s", WHAT_ARGS(kind, name), luaL_typename(L, idx));
    lua_getfield(L, idx, "value");
    if (!is_string(L, -1))
        INVALID(WHAT_FMT ": value must be a string, got %s", WHAT_ARGS(kind, name), luaL_typename(L, -1));
    item->value = dup_value(L, pool, -1);
    lua_pop(L, 1);
    item->attributes = h2o_iovec_init(NULL, 0);
    if (kind != set_cookie_kind)
        return 0;
    if (lua_getfield(L, idx, "attributes") != LUA_TNIL) {
        if (!is_string(L, -1))
            INVALID(WHAT_FMT ": attributes must be a string, got %s", WHAT_ARGS(kind, name), luaL_typename(L, -1));
        item->attributes = dup_value(L, pool, -1);
    }
    lua_pop(L, 1);
    return 0;
}

/**
 * The values an entry (at `idx`) stands for, given the originals: CloudFront's rule. A
 * changed multiValue wins; else a changed value replaces the first original. nil or
 * false: none (deleted). Returns the number of items, stored in `*items` (allocated in
 * `pool`), or -1 when invalid.
 */
static int read_entry(lua_State *L, h2o_mem_pool_t *pool, int idx, const char *kind, h2o_iovec_t name, const item_t *orig,
                      size_t norig, item_t **items, char *why, size_t whylen)
{
    size_t cap = norig != 0 ? norig : 1;
    int n = 0;

    idx = lua_absindex(L, idx);
    if (lua_isnil(L, idx) || (lua_isboolean(L, idx) && !lua_toboolean(L, idx)))
        return 0;
    if (!lua_istable(L, idx)) {
        *items = h2o_mem_alloc_pool(pool, sizeof(**items));
        return read_item(L, pool, idx, kind, name, *items, why, whylen) == 0 ? 1 : -1;
    }
    if (lua_getfield(L, idx, "multiValue") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            INVALID(WHAT_FMT ": multiValue must be an array, got %s", WHAT_ARGS(kind, name), luaL_typename(L, -1));
        lua_Integer len = luaL_len(L, -1);
        if (len > MAX_ITEMS)
            INVALID(WHAT_FMT ": more than %d values", WHAT_ARGS(kind, name), MAX_ITEMS);
        if ((size_t)len > cap)
            cap = (size_t)len;
        *items = h2o_mem_alloc_pool(pool, sizeof(**items) * cap);
        for (lua_Integer i = 1; i <= len; ++i) {
            lua_geti(L, -1, i);
            if (read_item(L, pool, lua_gettop(L), kind, name, *items + n, why, whylen) != 0)
                return -1;
            ++n;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        if (n != 0 && !same_items(*items, n, orig, norig))
            return n;
    } else {
        lua_pop(L, 1);
        *items = h2o_mem_alloc_pool(pool, sizeof(**items) * cap);
    }
    /* the value, with the originals after the first */
    if (read_item(L, pool, idx, kind, name, *items, why, whylen) != 0)
        return -1;
    n = 1;
    for (size_t i = 1; i < norig; ++i)
        (*items)[n++] = orig[i];
    return n;
}

static size_t originals_of(const h2o_headers_t *headers, h2o_iovec_t name, item_t *orig)
{
    size_t n = 0;
    for (size_t i = 0; i != headers->size && n != MAX_ITEMS; ++i)
        if (h2o_memis(headers->entries[i].name->base, headers->entries[i].name->len, name.base, name.len))
            orig[n++] = (item_t){headers->entries[i].value, {NULL, 0}};
    return n;
}

typedef struct st_change_t {
    h2o_iovec_t name;
    item_t *items;
    size_t n;
    int keep; /* a table replacing all headers left out one a function may not touch: it stays */
} change_t;

typedef H2O_VECTOR(change_t) changes_t;

/**
 * Applies a headers table (at `idx`) to `headers`. `lazy`: it is our own object, whose
 * absent names are either untouched or (when seen) deleted; otherwise it replaces all.
 */
/* The change the entry at -1 (named by the string at -2) makes to `headers`, added to `changes` unless there is none. */
static int read_change(lua_State *L, ef_event_t *ev, h2o_headers_t *headers, int lazy, changes_t *changes, char *why, size_t whylen)
{
    item_t orig[MAX_ITEMS], *items = NULL;
    size_t len;
    const char *s = lua_tolstring(L, -2, &len);
    h2o_iovec_t name = h2o_iovec_init(s, len);
    size_t norig = originals_of(headers, name, orig);
    int n = read_entry(L, ev->pool, -1, "header", name, orig, norig, &items, why, whylen);

    if (n < 0)
        return -1;
    if (lazy && same_items(items, n, orig, norig))
        return 0;
    h2o_vector_reserve(ev->pool, changes, changes->size + 1);
    changes->entries[changes->size++] = (change_t){h2o_strdup(ev->pool, s, len), items, (size_t)n, 0};
    return 0;
}

/**
 * Applies a headers table (at `idx`) to `headers`. `lazy`: it is our own object, whose
 * absent names are either untouched or (when seen) deleted, and whose present names
 * are in the dirty list; otherwise it replaces all.
 */
static int apply_headers(ef_lua_thread_t *t, ef_lua_object_t kind, h2o_headers_t *headers, const uint8_t *seen, int idx, int lazy,
                         char *why, size_t whylen)
{
    lua_State *L = t->L;
    ef_event_t *ev = t->current->event;
    changes_t changes = {NULL};
    size_t i;

    idx = lua_absindex(L, idx);
    if (lazy) {
        /* what the function read or set is all there can be; nothing, and it changed nothing */
        if (t->dirty.count[kind] == 0)
            return 0;
        lua_rawgeti(L, LUA_REGISTRYINDEX, t->dirty.ref);
        for (int d = 0; d != t->dirty.size; ++d) {
            if (t->dirty.kinds[d] != kind)
                continue;
            lua_rawgeti(L, -1, d + 1);
            lua_pushvalue(L, -1);
            lua_rawget(L, idx);
            if (lua_type(L, -2) != LUA_TSTRING)
                INVALID("header names must be strings, got %s", luaL_typename(L, -2));
            if (read_change(L, ev, headers, 1, &changes, why, whylen) != 0)
                return -1;
            lua_pop(L, 2);
        }
        lua_pop(L, 1);
    } else {
        lua_pushnil(L);
        while (lua_next(L, idx) != 0) {
            if (lua_type(L, -2) != LUA_TSTRING)
                INVALID("header names must be strings, got %s", luaL_typename(L, -2));
            if (read_change(L, ev, headers, 0, &changes, why, whylen) != 0)
                return -1;
            lua_pop(L, 1);
        }
    }
    /* deletions: names handed out, or all of them when the table replaces the headers */
    for (i = 0; i != headers->size; ++i) {
        const h2o_header_t *h = headers->entries + i;
        if (lazy ? !seen[i] : is_excluded(kind, h->name))
            continue;
        lua_pushlstring(L, h->name->base, h->name->len);
        int present = lua_rawget(L, idx) != LUA_TNIL;
        lua_pop(L, 1);
        if (present)
            continue;
        size_t j;
        for (j = 0; j != changes.size; ++j)
            if (h2o_memis(changes.entries[j].name.base, changes.entries[j].name.len, h->name->base, h->name->len))
                break;
        if (j == changes.size) {
            h2o_vector_reserve(ev->pool, &changes, changes.size + 1);
            changes.entries[changes.size++] = (change_t){*h->name, NULL, 0, 0};
        }
    }
    /* check everything before changing anything */
    for (i = 0; i != changes.size; ++i) {
        change_t *c = changes.entries + i;
        if (!ef_event_header_allowed(ev->hook, c->name, why, whylen)) {
            if (lazy || c->n != 0)
                return -1;
            c->keep = 1;
            continue;
        }
        for (size_t j = 0; j != c->n; ++j)
            if (ef_event_check_header_value(c->name, c->items[j].value, why, whylen) != 0)
                return -1;
    }
    for (i = 0; i != changes.size; ++i) {
        change_t *c = changes.entries + i;
        if (c->keep)
            continue;
        ef_event_delete_headers(headers, c->name);
        for (size_t j = 0; j != c->n; ++j)
            ef_event_add_header(ev->pool, headers, c->name, c->items[j].value);
    }
    return 0;
}

static int cmp_pairs(const void *_a, const void *_b)
{
    const pair_t *a = _a, *b = _b;
    size_t n = a->name.len < b->name.len ? a->name.len : b->name.len;
    int c = memcmp(a->name.base, b->name.base, n);
    return c != 0 ? c : (a->name.len > b->name.len) - (a->name.len < b->name.len);
}

static void sort_pairs(pairs_t *pairs)
{
    /* by name, keeping each name's values in order: insertion sort is stable, and lists are short */
    for (size_t i = 1; i < pairs->size; ++i) {
        pair_t p = pairs->entries[i];
        size_t j = i;
        while (j != 0 && cmp_pairs(pairs->entries + j - 1, &p) > 0) {
            pairs->entries[j] = pairs->entries[j - 1];
            --j;
        }
        pairs->entries[j] = p;
    }
}

static int same_pairs(const pairs_t *a, const pairs_t *b)
{
    if (a->size != b->size)
        return 0;
    for (size_t i = 0; i != a->size; ++i)
        if (cmp_pairs(a->entries + i, b->entries + i) != 0 || !same_items(&a->entries[i].item, 1, &b->entries[i].item, 1))
            return 0;
    return 1;
}

/**
 * Reads a table of entries (querystring or cookies) at `idx` into `out`, sorted by
 * name, given the original pairs (sorted) for CloudFront's multiValue rule.
 */
static int read_pairs(lua_State *L, h2o_mem_pool_t *pool, int idx, const char *what, const pairs_t *orig, pairs_t *out, char *why,
                      size_t whylen)
{
    item_t origitems[MAX_ITEMS], *items;

    if (!lua_istable(L, idx))
        INVALID("%s must be a table, got %s", what, luaL_typename(L, idx));
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING)
            INVALID("%s: names must be strings, got %s", what, luaL_typename(L, -2));
        h2o_iovec_t name = dup_value(L, pool, -2);
        size_t norig = 0;
        for (size_t i = 0; i != orig->size && norig != MAX_ITEMS; ++i)
            if (h2o_memis(orig->entries[i].name.base, orig->entries[i].name.len, name.base, name.len))
                origitems[norig++] = orig->entries[i].item;
        int n = read_entry(L, pool, -1, what, name, origitems, norig, &items, why, whylen);
        if (n < 0)
            return -1;
        for (int i = 0; i != n; ++i)
            ef_event_add_param(pool, out, name, items[i].value, items[i].attributes);
        lua_pop(L, 1);
    }
    sort_pairs(out);
    return 0;
}

/* Percent-encodes what cannot stand in a query string; parameters are otherwise kept as they were written. */
static h2o_iovec_t encode_query(h2o_mem_pool_t *pool, h2o_iovec_t q)
{
    static const char hex[] = "0123456789ABCDEF";
    char *buf = h2o_mem_alloc_pool(pool, q.len * 3 + 1), *p = buf;
    for (size_t i = 0; i != q.len; ++i) {
        unsigned char c = q.base[i];
        if (c <= ' ' || c >= 0x7f || c == '#') {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        } else {
            *p++ = c;
        }
    }
    return h2o_iovec_init(buf, p - buf);
}

static int apply_request(lua_State *L, ef_lua_thread_t *t, int idx, int orig, char *why, size_t whylen)
{
    ef_event_t *ev = t->current->event;

    if (get_known_field(L, idx, "method", orig, t->fields[0], EF_LUA_FIELD_METHOD) != LUA_TNIL) {
        if (!is_string(L, -1))
            INVALID("method must be a string, got %s", luaL_typename(L, -1));
        size_t len;
        const char *m = lua_tolstring(L, -1, &len);
        if (!h2o_memis(m, len, ev->request.method.base, ev->request.method.len))
            INVALID("method is read-only (changed from %.*s to %.*s)", (int)ev->request.method.len, ev->request.method.base,
                    (int)(len < 32 ? len : 32), m);
    }
    lua_pop(L, 1);

    if (get_known_field(L, idx, "uri", orig, t->fields[0], EF_LUA_FIELD_URI) != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TSTRING)
            INVALID("uri must be a string, got %s", luaL_typename(L, -1));
        size_t len;
        const char *uri = lua_tolstring(L, -1, &len);
        if (!h2o_memis(uri, len, ev->request.path.base, ev->request.path.len)) {
            h2o_iovec_t path = h2o_strdup(ev->pool, uri, len);
            if (ef_event_check_path(path, why, whylen) != 0)
                return -1;
            ev->request.path = path;
            ev->request_path_changed = 1;
        }
    }
    lua_pop(L, 1);

    int type = get_known_field(L, idx, "querystring", orig, t->fields[0], EF_LUA_FIELD_QUERYSTRING);
    if (type == LUA_TSTRING) {
        size_t len;
        const char *q = lua_tolstring(L, -1, &len);
        if (len != 0 && q[0] == '?')
            ++q, --len;
        h2o_iovec_t query = encode_query(ev->pool, h2o_iovec_init(q, len));
        if (!h2o_memis(query.base, query.len, ev->request.query.base, ev->request.query.len)) {
            ev->request.query = query.len != 0 ? query : h2o_iovec_init(NULL, 0);
            ev->request_path_changed = 1;
        }
    } else if (type != LUA_TNIL) {
        pairs_t before = {NULL}, after = {NULL};
        ef_event_parse_query(ev->pool, ev->request.query, &before);
        sort_pairs(&before);
        if (read_pairs(L, ev->pool, -1, "querystring", &before, &after, why, whylen) != 0)
            return -1;
        if (!same_pairs(&before, &after)) {
            h2o_iovec_t query = encode_query(ev->pool, ef_event_join_params(ev->pool, &after, "&"));
            ev->request.query = query.len != 0 ? query : h2o_iovec_init(NULL, 0);
            ev->request_path_changed = 1;
        }
    }
    lua_pop(L, 1);

    if (get_headers(t, idx, orig, EF_LUA_REQUEST_HEADERS) != LUA_TNIL) {
        if (!lua_istable(L, -1))
            INVALID("headers must be a table, got %s", luaL_typename(L, -1));
        int lazy = is_object(t, -1, EF_LUA_REQUEST_HEADERS);
        if (apply_headers(t, EF_LUA_REQUEST_HEADERS, ev->request.headers, t->req_seen.seen, -1, lazy, why, whylen) != 0)
            return -1;
    }
    lua_pop(L, 1);

    if (get_known_field(L, idx, "cookies", orig, t->fields[0], EF_LUA_FIELD_COOKIES) != LUA_TNIL) {
        pairs_t before = {NULL}, after = {NULL};
        ef_event_parse_cookies(ev->pool, ev->request.headers, &before);
        sort_pairs(&before);
        if (read_pairs(L, ev->pool, -1, "cookie", &before, &after, why, whylen) != 0)
            return -1;
        if (!same_pairs(&before, &after)) {
            h2o_iovec_t v = ef_event_join_params(ev->pool, &after, "; ");
            if (ef_event_check_header_value(h2o_iovec_init(H2O_STRLIT("cookie")), v, why, whylen) != 0)
                return -1;
            ef_event_delete_headers(ev->request.headers, h2o_iovec_init(H2O_STRLIT("cookie")));
            if (v.len != 0)
                h2o_add_header(ev->pool, ev->request.headers, H2O_TOKEN_COOKIE, NULL, v.base, v.len);
        }
    }
    lua_pop(L, 1);
    return 0;
}

static int apply_body(lua_State *L, ef_event_t *ev, int idx, char *why, size_t whylen)
{
    if (lua_type(L, idx) == LUA_TSTRING) {
        ev->response.body = dup_value(L, ev->pool, idx);
        ev->response.has_body = 1;
        return 0;
    }
    if (!lua_istable(L, idx))
        INVALID("body must be a string or {data = ..., encoding = \"text\"|\"base64\"}, got %s", luaL_typename(L, idx));
    const char *encoding = "text";
    if (lua_getfield(L, idx, "encoding") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TSTRING)
            INVALID("body.encoding must be \"text\" or \"base64\", got %s", luaL_typename(L, -1));
        encoding = lua_tostring(L, -1);
    }
    if (strcmp(encoding, "text") != 0 && strcmp(encoding, "base64") != 0)
        INVALID("body.encoding must be \"text\" or \"base64\", got \"%.32s\"", encoding);
    int base64 = encoding[0] == 'b';
    lua_pop(L, 1);
    if (lua_getfield(L, idx, "data") != LUA_TSTRING)
        INVALID("body.data must be a string, got %s", luaL_typename(L, -1));
    h2o_iovec_t data = dup_value(L, ev->pool, -1);
    lua_pop(L, 1);
    if (base64) {
        h2o_iovec_t decoded = h2o_decode_base64url(ev->pool, data.base, data.len);
        if (decoded.base == NULL) {
            /* h2o decodes the URL alphabet; map the standard one onto it */
            char *copy = h2o_mem_alloc_pool(ev->pool, data.len);
            size_t n = 0;
            for (size_t i = 0; i != data.len; ++i) {
                char c = data.base[i];
                if (c == '=' || c == '\n' || c == '\r')
                    continue;
                copy[n++] = c == '+' ? '-' : c == '/' ? '_' : c;
            }
            decoded = h2o_decode_base64url(ev->pool, copy, n);
        }
        if (decoded.base == NULL)
            INVALID("body.data is not valid base64");
        data = decoded;
    }
    ev->response.body = data;
    ev->response.has_body = 1;
    return 0;
}

static int apply_response(lua_State *L, ef_lua_thread_t *t, int idx, int orig, int generated, char *why, size_t whylen)
{
    ef_event_t *ev = t->current->event;
    int status_changed = 0;

    if (generated) {
        ev->response = (ef_event_response_t){0};
        ev->response.headers = h2o_mem_alloc_pool(ev->pool, sizeof(*ev->response.headers));
        *ev->response.headers = (h2o_headers_t){NULL};
        ev->outcome = EF_EVENT_RESPOND;
    }
    if (get_known_field(L, idx, "statusCode", orig, t->fields[1], EF_LUA_FIELD_STATUS) != LUA_TNIL) {
        int isnum;
        lua_Integer status = lua_tointegerx(L, -1, &isnum);
        if (!isnum || lua_type(L, -1) != LUA_TNUMBER)
            INVALID("statusCode must be an integer, got %s", lua_type(L, -1) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, -1));
        if (status < 200 || status > 599)
            INVALID("statusCode %lld is outside 200-599", (long long)status);
        status_changed = (int)status != ev->response.status;
        ev->response.status = (int)status;
    }
    lua_pop(L, 1);

    if (get_known_field(L, idx, "statusDescription", orig, t->fields[1], EF_LUA_FIELD_REASON) != LUA_TNIL) {
        if (!is_string(L, -1))
            INVALID("statusDescription must be a string, got %s", luaL_typename(L, -1));
        ev->response.reason = dup_value(L, ev->pool, -1);
    } else if (status_changed) {
        const char *r = ef_event_status_reason(ev->response.status);
        ev->response.reason = h2o_iovec_init(r, strlen(r));
    }
    lua_pop(L, 1);

    if (get_headers(t, idx, orig, EF_LUA_RESPONSE_HEADERS) != LUA_TNIL) {
        if (!lua_istable(L, -1))
            INVALID("headers must be a table, got %s", luaL_typename(L, -1));
        int lazy = !generated && is_object(t, -1, EF_LUA_RESPONSE_HEADERS);
        if (apply_headers(t, EF_LUA_RESPONSE_HEADERS, ev->response.headers, t->res_seen.seen, -1, lazy, why, whylen) != 0)
            return -1;
    }
    lua_pop(L, 1);

    if (get_known_field(L, idx, "cookies", orig, t->fields[1], EF_LUA_FIELD_COOKIES) != LUA_TNIL) {
        pairs_t before = {NULL}, after = {NULL};
        ef_event_parse_set_cookies(ev->pool, ev->response.headers, &before);
        sort_pairs(&before);
        if (read_pairs(L, ev->pool, -1, set_cookie_kind, &before, &after, why, whylen) != 0)
            return -1;
        if (!same_pairs(&before, &after)) {
            ef_event_delete_headers(ev->response.headers, h2o_iovec_init(H2O_STRLIT("set-cookie")));
            for (size_t i = 0; i != after.size; ++i) {
                pair_t *p = after.entries + i;
                h2o_iovec_t v = p->item.attributes.len != 0
                                    ? h2o_concat(ev->pool, p->name, h2o_iovec_init(H2O_STRLIT("=")), p->item.value,
                                                 h2o_iovec_init(H2O_STRLIT("; ")), p->item.attributes)
                                    : h2o_concat(ev->pool, p->name, h2o_iovec_init(H2O_STRLIT("=")), p->item.value);
                if (ef_event_check_header_value(h2o_iovec_init(H2O_STRLIT("set-cookie")), v, why, whylen) != 0)
                    return -1;
                h2o_add_header(ev->pool, ev->response.headers, H2O_TOKEN_SET_COOKIE, NULL, v.base, v.len);
            }
        }
    }
    lua_pop(L, 1);

    if (get_known_field(L, idx, "body", orig, t->fields[1], EF_LUA_FIELD_BODY) != LUA_TNIL &&
        apply_body(L, ev, lua_gettop(L), why, whylen) != 0)
        return -1;
    lua_pop(L, 1);

    if (generated && ev->response.status == 0)
        INVALID("a response needs a statusCode");
    return ef_event_check_response(&ev->response, why, whylen);
}

int ef_lua_apply_result(ef_lua_thread_t *t, int idx, char *why, size_t whylen)
{
    lua_State *L = t->L;
    ef_event_t *ev = t->current->event;
    int is_request = 0, is_response = 0, has_status;

    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx))
        INVALID("the handler returned %s; expected the request, or a response (a table)", luaL_typename(L, idx));
    /* our own request or response object: untouched fields can be read raw as absent */
    is_request = is_object(t, idx, EF_LUA_REQUEST);
    is_response = ef_hook_is_response(ev->hook) && is_object(t, idx, EF_LUA_RESPONSE);

    if (is_request) {
        has_status = 0;
    } else if (is_response) {
        has_status = 1;
    } else {
        has_status = lua_getfield(L, idx, "statusCode") != LUA_TNIL;
        lua_pop(L, 1);
    }

    int ret;
    if (ef_hook_is_response(ev->hook)) {
        if (!has_status)
            INVALID("at %s a function must return a response (a table with statusCode), not the request", ef_hook_names[ev->hook]);
        ret = apply_response(L, t, idx, is_response, 0, why, whylen);
    } else if (has_status) {
        ret = apply_response(L, t, idx, 0, 1, why, whylen);
    } else {
        ret = apply_request(L, t, idx, is_request, why, whylen);
    }
    return ret;
}
