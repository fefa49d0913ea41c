/*
 * Module state: a function's module runs once per worker thread, and what it built is
 * then read-only, so that invocations share it without being able to change it for
 * one another.
 *
 * After the module's top level has run, everything reachable from its globals and from
 * the upvalues of its functions is walked:
 *  - a table is frozen in place: its contents move to a hidden table behind its
 *    __index, and a write raises an error. It stays the same table, so every reference
 *    the module holds still works, and its own metatable's metamethods are kept;
 *  - an upvalue of a Lua function (a module-level local) is written down with its
 *    value, and put back after every invocation that changed it;
 *  - C closures are the sandbox's own, or the module cannot be shared (a string.gmatch
 *    iterator kept at module level, say), and then it runs afresh for every
 *    invocation instead, as all modules did before (runtime.c).
 * next, rawget and rawlen of the sandbox see through frozen tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "functions/lua/lua_internal.h"

#define MAX_DEPTH 100 /* tables and functions nested deeper than this are not walked: the module runs afresh instead */

int ef_lua_push_backing(lua_State *L, int idx)
{
    ef_lua_thread_t *t = ef_lua_thread(L);

    idx = lua_absindex(L, idx);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->frozen);
    lua_pushvalue(L, idx);
    lua_rawget(L, -2);
    lua_remove(L, -2);
    if (lua_type(L, -1) == LUA_TTABLE)
        return 1;
    lua_pop(L, 1);
    lua_pushnil(L);
    return 0;
}

static int on_frozen_newindex(lua_State *L)
{
    return luaL_error(L, "module state is read-only: a table the module built when it was loaded cannot be changed by an "
                         "invocation (build it inside the handler)");
}

static int on_frozen_len(lua_State *L) /* [-1, +1] */
{
    ef_lua_push_backing(L, 1);
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
    return 1;
}

int ef_lua_next_hidden(lua_State *L)
{
    lua_settop(L, 2);
    if (lua_next(L, lua_upvalueindex(1)) == 0) {
        lua_pushnil(L);
        return 1;
    }
    return 2;
}

static int on_frozen_pairs(lua_State *L) /* [-1, +3] */
{
    ef_lua_push_backing(L, 1);
    lua_pushcclosure(L, ef_lua_next_hidden, 1);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* next, rawget and rawlen of the sandbox: the base library's (upvalue 1), on the backing table of a frozen one */
static int through_frozen(lua_State *L) /* [-n, +m] */
{
    if (lua_type(L, 1) == LUA_TTABLE && ef_lua_push_backing(L, 1))
        lua_replace(L, 1);
    else
        lua_pop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

void ef_lua_module_push_metatable(lua_State *L, int idx)
{
    ef_lua_thread_t *t = ef_lua_thread(L);

    idx = lua_absindex(L, idx);
    if (!ef_lua_push_backing(L, idx)) {
        lua_pop(L, 1);
        lua_pushvalue(L, idx);
        return;
    }
    /* Lua reads metamethods raw from a metatable, and a frozen table's fields are behind its __index: what is set as a
     * metatable is a copy of them, made once, out of reach; getmetatable() answers the frozen table itself */
    int backing = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->metatables);
    lua_pushvalue(L, idx);
    if (lua_rawget(L, -2) == LUA_TTABLE) {
        lua_replace(L, backing);
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    lua_createtable(L, 0, 4);
    lua_pushnil(L);
    while (lua_next(L, backing) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    if (lua_getfield(L, -1, "__metatable") == LUA_TNIL) {
        lua_pushvalue(L, idx);
        lua_setfield(L, -3, "__metatable");
    }
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4); /* cached */
    lua_replace(L, backing);
    lua_pop(L, 1);
}

void ef_lua_module_open(ef_lua_thread_t *t, int sandbox)
{
    static const char *const names[] = {"next", "rawget", "rawlen", NULL};
    lua_State *L = t->L;

    sandbox = lua_absindex(L, sandbox);
    for (const char *const *n = names; *n != NULL; ++n) {
        lua_getfield(L, sandbox, *n);
        lua_pushcclosure(L, through_frozen, 1);
        lua_setfield(L, sandbox, *n);
    }

    /* the C closures a module may keep: the sandbox's own, in its globals and in its libraries' hidden tables */
    lua_newtable(L);
    int set = lua_gettop(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, set);
    lua_pushnil(L);
    while (lua_next(L, sandbox) != 0) {
        if (lua_type(L, -1) == LUA_TTABLE && lua_getmetatable(L, -1)) {
            if (lua_getfield(L, -1, "__index") == LUA_TTABLE) {
                lua_pushnil(L);
                while (lua_next(L, -2) != 0) {
                    if (lua_iscfunction(L, -1)) {
                        lua_pushboolean(L, 1);
                        lua_rawset(L, set);
                    } else {
                        lua_pop(L, 1);
                    }
                }
            }
            lua_pop(L, 2);
        } else if (lua_iscfunction(L, -1)) {
            lua_pushvalue(L, -1);
            lua_pushboolean(L, 1);
            lua_rawset(L, set);
        }
        lua_pop(L, 1);
    }
    t->sandbox_fns = luaL_ref(L, LUA_REGISTRYINDEX);

    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    t->metatables = luaL_ref(L, LUA_REGISTRYINDEX);
}

struct st_walk_t {
    ef_lua_thread_t *t;
    ef_lua_slot_t *slot;
    int visited;       /* stack index: what has been walked */
    int globals;       /* stack index: the module's globals, which functions see through the proxy instead */
    int proxy;         /* stack index: the globals of invocations */
    void *env_upvalue; /* lua_upvalueid of the module's _ENV */
};

static int walk(struct st_walk_t *w, int idx, int depth);

/* Pushes t[key], raw, where t is the table at `idx` or, when that is frozen, its backing table. [-0, +1] */
static int rawget_through(lua_State *L, int idx, const char *key)
{
    int from = ef_lua_push_backing(L, idx) ? lua_gettop(L) : lua_absindex(L, idx);

    lua_pushstring(L, key);
    int type = lua_rawget(L, from);
    lua_remove(L, -2); /* what push_backing pushed */
    return type;
}

/*
 * Moves the table's contents behind its __index and makes writes raise; the table
 * itself stays what it is. Its own metatable (a class, say) keeps its metamethods, and
 * lookups that miss still go to that metatable's __index.
 */
static void freeze_table(struct st_walk_t *w, int idx)
{
    lua_State *L = w->t->L;
    int backing, mt;

    lua_newtable(L);
    backing = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, backing);
    }
    ef_lua_clear_table(L, idx);

    /* the backing table is read-only too: a __index function of the module's is handed it */
    lua_createtable(L, 0, 3);
    int bmt = lua_gettop(L);
    lua_pushcfunction(L, on_frozen_newindex);
    lua_setfield(L, bmt, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, bmt, "__metatable");

    lua_createtable(L, 0, 6);
    mt = lua_gettop(L);
    if (lua_getmetatable(L, idx)) {
        int old = lua_gettop(L), fields = old;
        /* a metatable frozen before (one class, many instances) has its fields in its backing table */
        if (ef_lua_push_backing(L, old))
            fields = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, fields) != 0) {
            const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
            int target = mt;
            if (strcmp(key, "__newindex") == 0 || strcmp(key, "__metatable") == 0) {
                lua_pop(L, 1);
                continue;
            }
            if (strcmp(key, "__index") == 0 || strcmp(key, "__mode") == 0)
                target = bmt;
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, target);
        }
        /* getmetatable() still answers what it did: the metatable, or its __metatable */
        lua_settop(L, old);
        if (rawget_through(L, old, "__metatable") == LUA_TNIL) {
            lua_pop(L, 1);
            lua_pushvalue(L, old);
        }
        lua_setfield(L, mt, "__metatable");
        lua_pop(L, 1);
    } else {
        lua_pushboolean(L, 0);
        lua_setfield(L, mt, "__metatable");
    }
    lua_pushvalue(L, backing);
    lua_setfield(L, mt, "__index");
    lua_pushcfunction(L, on_frozen_newindex);
    lua_setfield(L, mt, "__newindex");
    if (lua_getfield(L, mt, "__len") == LUA_TNIL) {
        lua_pushcfunction(L, on_frozen_len);
        lua_setfield(L, mt, "__len");
    }
    lua_pop(L, 1);
    if (lua_getfield(L, mt, "__pairs") == LUA_TNIL) {
        lua_pushcfunction(L, on_frozen_pairs);
        lua_setfield(L, mt, "__pairs");
    }
    lua_pop(L, 1);
    lua_setmetatable(L, idx);
    lua_setmetatable(L, backing); /* bmt */

    lua_rawgeti(L, LUA_REGISTRYINDEX, w->t->frozen);
    lua_pushvalue(L, idx);
    lua_pushvalue(L, backing);
    lua_rawset(L, -3);
    lua_pushvalue(L, backing);
    lua_pushboolean(L, 1); /* out of rawset's reach, and not a frozen table to see through */
    lua_rawset(L, -3);
    lua_pop(L, 2);
}

static int walk_table(struct st_walk_t *w, int idx, int depth)
{
    lua_State *L = w->t->L;
    int old, backing;

    /* the sandbox's read-only libraries */
    lua_rawgeti(L, LUA_REGISTRYINDEX, w->t->frozen);
    lua_pushvalue(L, idx);
    int frozen = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    if (frozen)
        return 0;
    /* the metatable is module state too, walked once its fields are copied */
    if (!lua_getmetatable(L, idx))
        lua_pushnil(L);
    old = lua_gettop(L);
    freeze_table(w, idx);
    if (!lua_isnil(L, old) && walk(w, old, depth + 1) != 0)
        return -1;
    ef_lua_push_backing(L, idx);
    backing = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, backing) != 0) {
        if (walk(w, lua_gettop(L) - 1, depth + 1) != 0 || walk(w, lua_gettop(L), depth + 1) != 0)
            return -1;
        lua_pop(L, 1);
    }
    lua_settop(L, old - 1);
    return 0;
}

/* A Lua function's upvalues: the module's _ENV is left alone; any other is written down, and what it holds walked. */
static int walk_function(struct st_walk_t *w, int idx, int depth)
{
    lua_State *L = w->t->L;

    for (int i = 1; lua_getupvalue(L, idx, i) != NULL; ++i) {
        void *id = lua_upvalueid(L, idx, i);
        if (id == w->env_upvalue) {
            lua_pop(L, 1);
            continue;
        }
        if (lua_rawequal(L, -1, w->globals)) {
            /* a function that load() made at the top level, with the module's globals as its own: it gets the proxy too */
            lua_pop(L, 1);
            lua_pushvalue(L, w->proxy);
            lua_setupvalue(L, idx, i);
            lua_pushvalue(L, w->proxy);
        }
        /* each module-level local once, however many functions share it */
        lua_pushlightuserdata(L, id);
        if (lua_rawget(L, w->visited) == LUA_TNIL) {
            lua_pop(L, 1);
            lua_pushlightuserdata(L, id);
            lua_pushboolean(L, 1);
            lua_rawset(L, w->visited);
            ef_lua_slot_t *slot = w->slot;
            if (slot->num_upvalues == slot->cap_upvalues) {
                slot->cap_upvalues = slot->cap_upvalues != 0 ? slot->cap_upvalues * 2 : 8;
                if ((slot->upvalues = realloc(slot->upvalues, sizeof(slot->upvalues[0]) * slot->cap_upvalues)) == NULL)
                    abort();
            }
            lua_rawgeti(L, LUA_REGISTRYINDEX, slot->state);
            lua_pushvalue(L, idx);
            lua_rawseti(L, -2, (lua_Integer)slot->num_upvalues * 2 + 1);
            lua_pushvalue(L, -2); /* the upvalue's value */
            lua_rawseti(L, -2, (lua_Integer)slot->num_upvalues * 2 + 2);
            lua_pop(L, 1);
            slot->upvalues[slot->num_upvalues++] = i;
        } else {
            lua_pop(L, 1);
        }
        if (walk(w, lua_gettop(L), depth + 1) != 0)
            return -1;
        lua_pop(L, 1);
    }
    return 0;
}

static int walk(struct st_walk_t *w, int idx, int depth)
{
    lua_State *L = w->t->L;
    int type = lua_type(L, idx);

    idx = lua_absindex(L, idx);
    if (type != LUA_TTABLE && type != LUA_TFUNCTION)
        return type == LUA_TUSERDATA || type == LUA_TTHREAD || type == LUA_TLIGHTUSERDATA ? -1 : 0;
    if (depth > MAX_DEPTH || !lua_checkstack(L, 16))
        return -1;
    lua_pushvalue(L, idx);
    if (lua_rawget(L, w->visited) != LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, w->visited);

    if (type == LUA_TTABLE)
        return walk_table(w, idx, depth);
    if (!lua_iscfunction(L, idx))
        return walk_function(w, idx, depth);
    /* a C function: stateless unless it has upvalues, and then it must be one of the sandbox's */
    if (lua_getupvalue(L, idx, 1) == NULL)
        return 0;
    lua_pop(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, w->t->sandbox_fns);
    lua_pushvalue(L, idx);
    int ours = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    return ours ? 0 : -1;
}

int ef_lua_module_freeze(ef_lua_thread_t *t, ef_lua_slot_t *slot, int globals, int proxy, int handler, int result, int loaded)
{
    lua_State *L = t->L;
    struct st_walk_t w = {t, slot};
    int top = lua_gettop(L), ret = -1;

    w.globals = lua_absindex(L, globals);
    w.proxy = lua_absindex(L, proxy);
    handler = lua_absindex(L, handler);
    result = lua_absindex(L, result);
    loaded = lua_absindex(L, loaded);
    lua_rawgeti(L, LUA_REGISTRYINDEX, slot->chunk);
    w.env_upvalue = lua_upvalueid(L, -1, 1);
    lua_newtable(L);
    w.visited = lua_gettop(L);
    lua_newtable(L);
    slot->state = luaL_ref(L, LUA_REGISTRYINDEX);
    slot->num_upvalues = 0;

    /* the globals table itself is out of reach from now on (invocations write to the proxy), and the proxy is emptied after
     * each invocation: neither is frozen, what the globals hold is */
    lua_pushvalue(L, w.globals);
    lua_pushboolean(L, 1);
    lua_rawset(L, w.visited);
    lua_pushvalue(L, w.proxy);
    lua_pushboolean(L, 1);
    lua_rawset(L, w.visited);
    lua_pushnil(L);
    while (lua_next(L, w.globals) != 0) {
        if (walk(&w, -2, 0) != 0 || walk(&w, -1, 0) != 0)
            goto Exit;
        lua_pop(L, 1);
    }
    if (walk(&w, handler, 0) != 0 || walk(&w, result, 0) != 0 || walk(&w, loaded, 0) != 0)
        goto Exit;
    ret = 0;
Exit:
    lua_settop(L, top);
    return ret;
}

void ef_lua_module_restore(ef_lua_thread_t *t, ef_lua_slot_t *slot)
{
    lua_State *L = t->L;

    if (slot->num_upvalues == 0)
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, slot->state);
    for (size_t i = 0; i != slot->num_upvalues; ++i) {
        lua_rawgeti(L, -1, (lua_Integer)i * 2 + 1); /* the function */
        lua_getupvalue(L, -1, slot->upvalues[i]);
        lua_rawgeti(L, -3, (lua_Integer)i * 2 + 2); /* the value the module left */
        if (!lua_rawequal(L, -1, -2)) {
            lua_setupvalue(L, -3, slot->upvalues[i]);
            lua_pop(L, 2);
        } else {
            lua_pop(L, 3);
        }
    }
    lua_pop(L, 1);
}
