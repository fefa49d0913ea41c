/*
 * The Lua runtime's insides, shared by its two halves: runtime.c (the sandbox, the
 * limits, an invocation's life) and event.c (the event as Lua tables and back).
 */
#ifndef EF_FUNCTIONS_LUA_INTERNAL_H
#define EF_FUNCTIONS_LUA_INTERNAL_H

#include <lua.h>
#include <lauxlib.h>
#include "functions/runtime.h"

/* What a thread knows of one Lua function. */
typedef struct st_ef_lua_slot_t {
    ef_function_t *fn;
    int chunk;         /* registry ref of the compiled module_file */
    int modules;       /* registry ref of the table of modules `require` has loaded */
    size_t code_bytes; /* source read so far, modules included, against max-code-size */
} ef_lua_slot_t;

typedef enum en_ef_lua_kill_t {
    EF_LUA_ALIVE,
    EF_LUA_KILLED_CPU,
    EF_LUA_KILLED_MEMORY,
} ef_lua_kill_t;

/* A worker thread's Lua: one state for all the thread's Lua functions. */
typedef struct st_ef_lua_thread_t {
    lua_State *L;
    struct {
        size_t used;  /* bytes allocated now */
        size_t base;  /* `used` when the current invocation began */
        size_t limit; /* 0, or the most `used` may hold, garbage collected, during the current invocation */
        size_t peak;
        int over; /* an allocation went over the limit: a collection decides at the next instruction */
    } mem;
    ef_lua_slot_t *slots;
    size_t num_slots;
    int env_mt; /* registry ref: the metatable of every invocation's _ENV */
    int frozen; /* registry ref: weak-keyed set of the shared read-only tables */
    int mts[6]; /* registry refs of the metatables of the event objects, by ef_lua_object_t */
    /* the current invocation */
    ef_invocation_t *current;
    ef_lua_slot_t *slot;
    uint64_t deadline; /* CLOCK_MONOTONIC ns */
    ef_lua_kill_t killed;
    int env; /* stack index of the invocation's _ENV */
    /* event bookkeeping: which original headers a function has seen, so that an absent
     * name means "deleted" for those and "untouched" for the rest (see event.c) */
    struct {
        uint8_t *seen;
        size_t cap;
    } req_seen, res_seen;
} ef_lua_thread_t;

typedef enum en_ef_lua_object_t {
    EF_LUA_EVENT,
    EF_LUA_REQUEST,
    EF_LUA_RESPONSE,
    EF_LUA_REQUEST_HEADERS,
    EF_LUA_RESPONSE_HEADERS,
    EF_LUA_NUM_OBJECTS,
} ef_lua_object_t;

static inline ef_lua_thread_t *ef_lua_thread(lua_State *L)
{
    return *(ef_lua_thread_t **)lua_getextraspace(L);
}

/* Creates the event objects' metatables in the registry; at thread start. */
void ef_lua_event_init(ef_lua_thread_t *t);

/* Pushes the (lazy) event table for t->current->event. [-0, +1] */
void ef_lua_push_event(ef_lua_thread_t *t);

/**
 * Reads what the handler returned (at the top of the stack) into t->current->event:
 * the changed request, or a response. Returns 0, or -1 with the reason it is invalid
 * in `why` (the function's fault: 502). Runs inside a protected call: Lua errors
 * raised here are memory or budget failures. [-0, +0]
 */
int ef_lua_apply_result(ef_lua_thread_t *t, int idx, char *why, size_t whylen);

#endif
