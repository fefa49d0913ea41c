/*
 * The Lua runtime's insides, shared by its two halves: runtime.c (the sandbox, the
 * limits, an invocation's life) and event.c (the event as Lua tables and back).
 *
 * Nothing an invocation needs is allocated for it if it can be reused: a function's
 * globals table and the event objects belong to the thread, and are emptied after
 * every invocation, so that no trace of one request is left for the next.
 */
#ifndef EF_FUNCTIONS_LUA_INTERNAL_H
#define EF_FUNCTIONS_LUA_INTERNAL_H

#include <time.h>
#include <lua.h>
#include <lauxlib.h>
#include "functions/runtime.h"

/*
 * What a thread knows of one Lua function. Its module is either shared (it ran once, at
 * thread start, and what it built is read-only: module.c) or runs afresh for every
 * invocation, when what it built cannot be made read-only.
 */
typedef struct st_ef_lua_slot_t {
    ef_function_t *fn;
    int chunk;         /* registry ref of the compiled module_file */
    int env;           /* registry ref of the globals invocations write: emptied after each */
    int modules;       /* registry ref of the table of modules `require` has compiled */
    size_t code_bytes; /* source read so far, modules included, against max-code-size */
    /* a shared module */
    int shared;
    int handler;   /* registry ref of the handler */
    int loaded;    /* registry ref of the modules its top level required, or LUA_NOREF */
    int state;     /* registry ref of an array: function, value, function, value... of the upvalues below */
    int *upvalues; /* which upvalue of that function: the module-level locals, put back after each invocation */
    size_t num_upvalues, cap_upvalues;
} ef_lua_slot_t;

typedef enum en_ef_lua_kill_t {
    EF_LUA_ALIVE,
    EF_LUA_KILLED_CPU,
    EF_LUA_KILLED_MEMORY,
} ef_lua_kill_t;

typedef enum en_ef_lua_object_t {
    EF_LUA_EVENT,          /* at the request hooks */
    EF_LUA_RESPONSE_EVENT, /* at the response hooks: with event.response */
    EF_LUA_REQUEST,
    EF_LUA_RESPONSE,
    EF_LUA_REQUEST_HEADERS,
    EF_LUA_RESPONSE_HEADERS,
    EF_LUA_NUM_OBJECTS,
} ef_lua_object_t;

/* The fields of the request and the response a function has read or set, which are all there is to apply back. */
enum {
    EF_LUA_FIELD_METHOD = 1,
    EF_LUA_FIELD_URI = 2,
    EF_LUA_FIELD_QUERYSTRING = 4,
    EF_LUA_FIELD_COOKIES = 8,
    EF_LUA_FIELD_STATUS = 16,
    EF_LUA_FIELD_REASON = 32,
    EF_LUA_FIELD_BODY = 64,
    EF_LUA_FIELD_HEADERS = 128, /* the function put a table of its own in place of the headers */
};

/* the thread's free lists of small blocks (runtime.c): classes of 16, 32, ... 128 bytes, each keeping at most KEEP */
#define EF_LUA_SMALL_ALIGN 16
#define EF_LUA_SMALL_CLASSES 8
#define EF_LUA_SMALL_MAX (EF_LUA_SMALL_ALIGN * EF_LUA_SMALL_CLASSES)
#define EF_LUA_SMALL_KEEP 4096

struct st_ef_lua_small_block_t {
    struct st_ef_lua_small_block_t *next;
};

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
    struct {
        struct st_ef_lua_small_block_t *head;
        size_t count;
    } small[EF_LUA_SMALL_CLASSES];
    ef_lua_slot_t *slots;
    size_t num_slots;
    int env_mt;       /* registry ref: the metatable of every function's _ENV */
    int sandbox_fns;  /* registry ref: set of the sandbox's C functions, which a shared module may keep */
    int env_written;  /* the current invocation wrote a global of a shared module */
    int metatables;   /* registry ref: frozen table -> the copy of its fields that setmetatable() sets instead */
    timer_t watchdog; /* a timer of the thread's CPU time, which signals it (runtime.c) */
    int has_watchdog;
    int frozen;                               /* registry ref: weak-keyed set of the shared read-only tables */
    int objs[EF_LUA_NUM_OBJECTS];             /* registry refs of the event objects (event.c) */
    const void *obj_ptrs[EF_LUA_NUM_OBJECTS]; /* and their addresses, for telling them apart without a call */
    struct {
        int ref;                       /* registry ref of an array of the keys that entered the event objects */
        uint8_t *kinds;                /* the object each went into */
        int size, cap;                 /* keys in the list, and room in `kinds` */
        int count[EF_LUA_NUM_OBJECTS]; /* keys in the list per object, and deletions of headers never read */
    } dirty;
    unsigned fields[2];         /* EF_LUA_FIELD_* present in the request [0] and the response [1] */
    ef_lua_object_t event_kind; /* EF_LUA_EVENT or EF_LUA_RESPONSE_EVENT: the current invocation's */
    /* the current invocation */
    ef_invocation_t *current;
    ef_lua_slot_t *slot;
    uint64_t deadline; /* CLOCK_MONOTONIC ns; 0 between invocations */
    h2o_buffer_t *result; /* a direct invocation's result being written (freed after the invocation, also on an error) */
    int log_started;      /* the current invocation has logged its START line */
    ef_lua_kill_t killed;
    int loaded;          /* registry ref of the modules `require` returned in this invocation, or LUA_NOREF */
    const char *invalid; /* why the result is invalid (it points at `why`), or NULL */
    char why[256];
    /* event bookkeeping: which original headers a function has seen, so that an absent
     * name means "deleted" for those and "untouched" for the rest (see event.c) */
    struct {
        uint8_t *seen;
        size_t cap;
    } req_seen, res_seen;
} ef_lua_thread_t;

static inline ef_lua_thread_t *ef_lua_thread(lua_State *L)
{
    return *(ef_lua_thread_t **)lua_getextraspace(L);
}

/*
 * next() over the table in upvalue 1: the iterator that __pairs of a read-only table
 * hands out, which keeps the table behind it out of reach. [-2, +(1|2)]
 */
int ef_lua_next_hidden(lua_State *L);

/* Pushes the backing table of the frozen table at `idx` and returns 1; for another value pushes nil and returns 0. [-0, +1] */
int ef_lua_push_backing(lua_State *L, int idx);

/**
 * Lambda's Invoke for Lua: pushes a JSON value (ef_json_t) as Lua values (an object as a table, an array as a
 * sequence, null as nil). Raises memory errors only. [-0, +1]
 */
struct st_ef_json_t;
void ef_lua_push_json(lua_State *L, const struct st_ef_json_t *v);

/**
 * Writes the value at `idx` as JSON into `*buf` (a table with the keys 1..n is an array, any other table an object,
 * nil is null). Returns 0, or -1 with why it cannot be JSON in `why` (a function, a cycle, a string that is not
 * UTF-8, a number that is not finite, more than EF_INVOKE_MAX_PAYLOAD bytes). [-0, +0]
 */
int ef_lua_to_json(lua_State *L, int idx, h2o_buffer_t **buf, char *why, size_t whylen);

/* Makes the sandbox's next, rawget and rawlen see through frozen tables, and notes the sandbox's C functions. */
void ef_lua_module_open(ef_lua_thread_t *t, int sandbox);

/**
 * Freezes what a module built, which is reachable from `globals` (its globals table),
 * `handler`, `result` (what its top level returned) and `loaded` (what its require()
 * calls returned, or nil), and writes its module-level locals down in the slot;
 * functions that had `globals` as their _ENV get `proxy`. Returns 0, or -1 when
 * something there cannot be shared (then the module must run afresh for every
 * invocation). [-0, +0]
 */
int ef_lua_module_freeze(ef_lua_thread_t *t, ef_lua_slot_t *slot, int globals, int proxy, int handler, int result, int loaded);

/* Pushes what setmetatable() should set for the table at `idx`: itself, or, for a frozen one, a copy of its fields. [-0, +1] */
void ef_lua_module_push_metatable(lua_State *L, int idx);

/* Puts back the module-level locals an invocation changed. [-0, +0] */
void ef_lua_module_restore(ef_lua_thread_t *t, ef_lua_slot_t *slot);

/* Creates the event objects, which every invocation of the thread reuses; at thread start. */
void ef_lua_event_init(ef_lua_thread_t *t);

/* Pushes the (lazy) event table for t->current->event. [-0, +1] */
void ef_lua_push_event(ef_lua_thread_t *t);

/* Empties the event objects of what an invocation put in them. Raises no error. [-0, +0] */
void ef_lua_event_clear(ef_lua_thread_t *t);

/* Empties the table at `idx` (raw: no metamethod runs). Raises no error. [-0, +0] */
void ef_lua_clear_table(lua_State *L, int idx);

/**
 * Reads what the handler returned (at `idx`) into t->current->event: the changed
 * request, or a response. Returns 0, or -1 with the reason it is invalid in `why`
 * (the function's fault: 502). Runs inside a protected call: Lua errors raised here
 * are memory or budget failures. [-0, +0]
 */
int ef_lua_apply_result(ef_lua_thread_t *t, int idx, char *why, size_t whylen);

#endif
