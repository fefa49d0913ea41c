/*
 * The Lua quick path: Lua 5.4 inside the event loop, in a sandbox with hard limits.
 *
 * One lua_State per worker thread holds every Lua function, each compiled once and
 * its module run once, when the thread starts (module.c makes what the module built
 * read-only; a module that cannot be shared runs afresh for every invocation). An
 * invocation calls the handler with the event and reads back what it returned.
 * Nothing a function writes survives it: the globals it writes are emptied, the event
 * objects too, module-level locals are put back, shared tables are read-only, and
 * neither metatables with __gc (code that would run later, outside any budget) nor the
 * debug, io, os, package and coroutine libraries exist here.
 *
 * Limits: the allocator refuses to let an invocation grow the state by more than its
 * `memory`; on a worker thread, a timer of the thread's CPU time signals it every
 * millisecond, and when an invocation is past its `timeout` the signal sets a hook
 * that stops it at its next instruction (elsewhere, as in edgefn check, a count hook
 * looks at the clock every HOOK_COUNT instructions; a hook that runs all the time
 * makes every instruction slower). Pattern matching, which runs in C where no hook
 * reaches, charges the same clock through ef_lua_pattern_tick. A function that is
 * stopped stays stopped: the hook then fires on every instruction, and pcall and
 * xpcall re-raise, so it cannot catch its own end.
 */
#define _GNU_SOURCE /* gettid, for the watchdog */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <lualib.h>
#include "conf/units.h"
#include "functions/json.h"
#include "functions/lua/helpers.h"
#include "functions/lua/lua_internal.h"
#include "functions/lua/pattern.h"

#define HOOK_COUNT 1000            /* VM instructions between clock checks: ~10 us, well under any budget */
#define WATCHDOG_PERIOD_NS 1000000 /* the watchdog's look at the clock, every this much of the thread's CPU time */
#define MAX_LOG_LINE (16 * 1024)

/* per function, for all threads */
struct st_function_data_t {
    char *source;
    size_t len;
    size_t index; /* among the thread's slots */
    char chunkname[128];
};

static void on_count(lua_State *L, lua_Debug *ar);
static void budget_hook(ef_lua_thread_t *t);

/* the allocator: the memory budget lives here */

/* Stops the invocation: from now on every instruction raises (lua_sethook is safe anywhere, signal handlers included). */
static void stop(ef_lua_thread_t *t, ef_lua_kill_t why)
{
    if (t->killed == EF_LUA_ALIVE)
        t->killed = why;
    lua_sethook(t->L, on_count, LUA_MASKCOUNT, 1);
}

/*
 * Small blocks (tables, closures, short strings: most of what an invocation allocates)
 * come from free lists of the thread, which take a dozen instructions where malloc and
 * free take a hundred. Sanitizer builds use malloc alone, so that it sees every block.
 */
#ifndef EF_SANITIZE
static inline size_t small_class(size_t size)
{
    return (size - 1) / EF_LUA_SMALL_ALIGN;
}

static void *small_alloc(ef_lua_thread_t *t, size_t size)
{
    size_t c = small_class(size);
    struct st_ef_lua_small_block_t *b = t->small[c].head;

    if (b == NULL)
        return malloc((c + 1) * EF_LUA_SMALL_ALIGN);
    t->small[c].head = b->next;
    --t->small[c].count;
    return b;
}

static void small_free(ef_lua_thread_t *t, void *p, size_t size)
{
    size_t c = small_class(size);

    if (t->small[c].count == EF_LUA_SMALL_KEEP) {
        free(p);
        return;
    }
    ((struct st_ef_lua_small_block_t *)p)->next = t->small[c].head;
    t->small[c].head = p;
    ++t->small[c].count;
}

#endif

static void *resize(ef_lua_thread_t *t, void *ptr, size_t old, size_t nsize)
{
#ifndef EF_SANITIZE
    int old_small = ptr != NULL && old <= EF_LUA_SMALL_MAX, new_small = nsize <= EF_LUA_SMALL_MAX;

    if (nsize == 0) {
        if (old_small)
            small_free(t, ptr, old);
        else
            free(ptr);
        return NULL;
    }
    if (ptr == NULL)
        return new_small ? small_alloc(t, nsize) : malloc(nsize);
    if (old_small && new_small && small_class(old) == small_class(nsize))
        return ptr;
    if (!old_small && !new_small)
        return realloc(ptr, nsize);
    void *p = new_small ? small_alloc(t, nsize) : malloc(nsize);
    if (p != NULL) {
        memcpy(p, ptr, old < nsize ? old : nsize);
        if (old_small)
            small_free(t, ptr, old);
        else
            free(ptr);
    }
    return p;
#else
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
#endif
}

static void *on_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    ef_lua_thread_t *t = ud;
    size_t old = ptr != NULL ? osize : 0; /* without ptr, osize is the kind of object, not a size */

    if (nsize == 0) {
        resize(t, ptr, old, 0);
        t->mem.used -= old;
        return NULL;
    }
    if (nsize > old && t->mem.limit != 0 && t->mem.used + (nsize - old) > t->mem.limit) {
        /* Over the limit, garbage may be what fills it: up to twice the limit the block is granted, and a full collection
         * before the next instruction decides (on_count). Beyond that, or once stopped, the block is refused. */
        if (t->killed != EF_LUA_ALIVE || t->mem.used + (nsize - old) > t->mem.limit + (t->mem.limit - t->mem.base)) {
            stop(t, EF_LUA_KILLED_MEMORY);
            return NULL;
        }
        t->mem.over = 1;
        lua_sethook(t->L, on_count, LUA_MASKCOUNT, 1);
    }
    void *p = resize(t, ptr, old, nsize);
    if (p == NULL)
        return NULL;
    t->mem.used += nsize - old;
    if (t->mem.used > t->mem.peak && !t->mem.over) /* over the limit, the collection says what is held */
        t->mem.peak = t->mem.used;
    return p;
}

/* After an allocation over the limit: collects, and stops the invocation if what is alive is over it still. */
static void check_memory(ef_lua_thread_t *t)
{
    t->mem.over = 0;
    lua_gc(t->L, LUA_GCCOLLECT);
    if (t->mem.used > t->mem.limit) {
        t->mem.peak = t->mem.limit;
        stop(t, EF_LUA_KILLED_MEMORY);
        return;
    }
    if (t->mem.used > t->mem.peak)
        t->mem.peak = t->mem.used;
    if (t->killed == EF_LUA_ALIVE)
        budget_hook(t);
}

/* the CPU budget, and the memory check that needs a safe point */

static void on_count(lua_State *L, lua_Debug *ar)
{
    ef_lua_thread_t *t = ef_lua_thread(L);

    if (t->mem.over && t->killed == EF_LUA_ALIVE)
        check_memory(t);
    if (t->killed == EF_LUA_ALIVE && ef_now_ns() < t->deadline)
        return;
    stop(t, EF_LUA_KILLED_CPU);
    luaL_error(L, t->killed == EF_LUA_KILLED_CPU ? "CPU budget exceeded" : "memory limit exceeded");
}

void ef_lua_pattern_tick(lua_State *L)
{
    ef_lua_thread_t *t = ef_lua_thread(L);
    if (t->deadline != 0 && (t->killed != EF_LUA_ALIVE || ef_now_ns() >= t->deadline))
        on_count(L, NULL);
}

/* the watchdog */

static __thread ef_lua_thread_t *volatile watched; /* the thread's Lua while an invocation runs, for the watchdog */
static __thread ef_lua_thread_t *own;              /* the thread's Lua, whose watchdog signals this thread */
static pthread_once_t watchdog_once = PTHREAD_ONCE_INIT;
static int watchdog_signal; /* 0 when it could not be installed: count hooks then */

/* a forked child has no timers: the thread that forked falls back to count hooks there */
static void on_fork_child(void)
{
    if (own != NULL)
        own->has_watchdog = 0;
    own = NULL; /* a state made in the child gets a watchdog of its own */
}

static void on_watchdog(int signo)
{
    ef_lua_thread_t *t = watched;
    int saved = errno;

    /* lua_sethook is safe in a signal handler: the invocation stops at its next instruction (on_count) */
    if (t != NULL && t->killed == EF_LUA_ALIVE && ef_now_ns() >= t->deadline)
        lua_sethook(t->L, on_count, LUA_MASKCOUNT, 1);
    errno = saved;
}

static void install_watchdog(void)
{
    struct sigaction sa = {.sa_handler = on_watchdog, .sa_flags = SA_RESTART};

    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGRTMIN + 4, &sa, NULL) == 0 && pthread_atfork(NULL, NULL, on_fork_child) == 0)
        watchdog_signal = SIGRTMIN + 4;
}

/* Arms the calling thread's watchdog: a signal every WATCHDOG_PERIOD_NS of its CPU time, which costs nothing when it idles. */
static void start_watchdog(ef_lua_thread_t *t)
{
    struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID};
    struct itimerspec every = {{0, WATCHDOG_PERIOD_NS}, {0, WATCHDOG_PERIOD_NS}};
    sigset_t signals;

    pthread_once(&watchdog_once, install_watchdog);
    if (watchdog_signal == 0 || own != NULL)
        return;
    /* a signal the thread blocks would never stop anything */
    sigemptyset(&signals);
    sigaddset(&signals, watchdog_signal);
    if (pthread_sigmask(SIG_UNBLOCK, &signals, NULL) != 0)
        return;
    sev.sigev_signo = watchdog_signal;
    sev._sigev_un._tid = gettid(); /* sigev_notify_thread_id, which glibc names only from 2.37 on */
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &t->watchdog) != 0)
        return;
    if (timer_settime(t->watchdog, 0, &every, NULL) != 0) {
        timer_delete(t->watchdog);
        return;
    }
    t->has_watchdog = 1;
    own = t;
}

/* The hook an invocation runs under: none when the watchdog looks after the time, a count hook otherwise. */
static void budget_hook(ef_lua_thread_t *t)
{
    if (t->has_watchdog)
        lua_sethook(t->L, NULL, 0, 0);
    else
        lua_sethook(t->L, on_count, LUA_MASKCOUNT, HOOK_COUNT);
}

/* the sandbox's own versions of base functions */

/* re-raises the error at the top of the stack when the invocation has been stopped: it cannot catch its own end */
static void rethrow_if_killed(lua_State *L, int status)
{
    if (ef_lua_thread(L)->killed != EF_LUA_ALIVE || status == LUA_ERRMEM)
        lua_error(L);
}

static int safe_pcall(lua_State *L) /* [-(n), +(1|m)] */
{
    luaL_checkany(L, 1);
    int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    if (status != LUA_OK)
        rethrow_if_killed(L, status);
    lua_pushboolean(L, status == LUA_OK);
    lua_insert(L, 1);
    return lua_gettop(L);
}

/*
 * xpcall's message handler, in front of the function's own (upvalue 1). A stop is raised from the count hook, where Lua
 * runs message handlers with hooks off: the function's handler would run without a budget, so it is not run at all.
 */
static int on_xpcall_error(lua_State *L) /* [-1, +1] */
{
    if (ef_lua_thread(L)->killed != EF_LUA_ALIVE)
        return 1;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int safe_xpcall(lua_State *L) /* [-(n), +(1|m)] */
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, on_xpcall_error, 1);
    lua_replace(L, 1); /* the handler below the function and its arguments */
    lua_replace(L, 2);
    int status = lua_pcall(L, n - 2, LUA_MULTRET, 1);
    if (status != LUA_OK)
        rethrow_if_killed(L, status);
    lua_pushboolean(L, status == LUA_OK);
    lua_replace(L, 1);
    return lua_gettop(L);
}

static int is_frozen(lua_State *L, int idx)
{
    ef_lua_thread_t *t = ef_lua_thread(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->frozen);
    lua_pushvalue(L, idx);
    int frozen = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    return frozen;
}

static int safe_rawset(lua_State *L) /* [-3, +1] */
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    if (is_frozen(L, 1))
        return luaL_error(L, "attempt to modify a read-only table");
    /* the event objects are emptied of what was put in them through their metamethods: nothing may go around them */
    ef_lua_thread_t *t = ef_lua_thread(L);
    for (int i = 0; i != EF_LUA_NUM_OBJECTS; ++i) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, t->objs[i]);
        int is_event = lua_rawequal(L, 1, -1);
        lua_pop(L, 1);
        if (is_event)
            return luaL_error(L, "rawset is not allowed on the event and its parts; assign to them instead");
    }
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

static int safe_setmetatable(lua_State *L) /* [-2, +1] */
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int t = lua_type(L, 2);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (t == LUA_TTABLE && lua_getfield(L, 2, "__gc") != LUA_TNIL)
        return luaL_error(L, "__gc metamethods are not allowed");
    lua_settop(L, 2);
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    if (t == LUA_TTABLE) {
        ef_lua_module_push_metatable(L, 2); /* a class the module built is read-only: a copy of its fields */
        lua_replace(L, 2);
    }
    lua_setmetatable(L, 1);
    return 1;
}

static int safe_load(lua_State *L) /* [-(1|4), +(1|2)] */
{
    int has_env = !lua_isnone(L, 4);
    const char *mode = luaL_optstring(L, 3, "t");

    if (strcmp(mode, "t") != 0)
        return luaL_error(L, "load: only text chunks can be loaded (mode \"t\")");
    lua_settop(L, 4);
    /* the base library's load, in text mode, with the invocation's _ENV as the default */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushliteral(L, "t");
    if (has_env)
        lua_pushvalue(L, 4);
    else
        lua_rawgeti(L, LUA_REGISTRYINDEX, ef_lua_thread(L)->slot->env);
    lua_call(L, 4, 2);
    if (lua_isnil(L, -2))
        return 2; /* nil, message */
    lua_pop(L, 1);
    return 1;
}

static int safe_collectgarbage(lua_State *L) /* [-(0|1), +1] */
{
    const char *opt = luaL_optstring(L, 1, "collect");
    if (strcmp(opt, "count") != 0)
        return luaL_error(L, "collectgarbage(\"%s\") is not allowed; only \"count\" is", opt);
    lua_pushnumber(L, (lua_Number)lua_gc(L, LUA_GCCOUNT, 0) + (lua_Number)lua_gc(L, LUA_GCCOUNTB, 0) / 1024);
    return 1;
}

static int ignore_randomseed(lua_State *L) /* [-n, +0] */
{
    return 0;
}

static int now(lua_State *L) /* [-0, +1] */
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)(ts.tv_nsec / 1000000) / 1000);
    return 1;
}

/* print and console.*: one line in the function's log per call */
/*
 * A line of the current invocation's log. As CloudFront Functions and Lambda do, an invocation that logs is framed by
 * START, then END and REPORT (its duration, the share of its budget and the memory it used) after its last line; one
 * that logs nothing writes nothing, which keeps the quick path free of log writes.
 */
static void invocation_log(ef_lua_thread_t *t, ef_invocation_t *inv, const char *msg, size_t len)
{
    /* a function whose log goes nowhere (function-logs: off) has no lines to frame */
    int nowhere = inv->log == ef_invocation_log && inv->fn->log_fd == -1 && inv->fn->log_cb == NULL;

    if (!t->log_started && !nowhere) {
        char start[128];
        int n = snprintf(start, sizeof(start), "START RequestId: %s-%s Version: $LATEST", inv->event->request_id,
                         ef_invocation_hook_name(inv));
        t->log_started = 1;
        inv->log(inv, start, (size_t)n);
    }
    inv->log(inv, msg, len);
}

/* END and REPORT, once the invocation is over, when it logged anything */
static void end_log(ef_lua_thread_t *t, ef_invocation_t *inv)
{
    char line[256];
    int n;

    if (!t->log_started)
        return;
    t->log_started = 0;
    n = snprintf(line, sizeof(line), "END RequestId: %s-%s", inv->event->request_id, ef_invocation_hook_name(inv));
    inv->log(inv, line, (size_t)n);
    n = snprintf(line, sizeof(line),
                 "REPORT RequestId: %s-%s\tDuration: %.3f ms\tCompute Utilization: %.0f%%\tMemory Size: %" PRIu64
                 " KB\tMax Memory Used: %" PRIu64 " KB",
                 inv->event->request_id, ef_invocation_hook_name(inv), inv->duration_ns / 1e6,
                 inv->budget_ns != 0 && inv->duration_ns < inv->budget_ns ? 100.0 * inv->duration_ns / inv->budget_ns : 100.0,
                 inv->fn->conf->memory / 1024, (inv->memory_bytes + 1023) / 1024);
    inv->log(inv, line, (size_t)n);
}

static int log_line(lua_State *L, const char *level) /* [-n, +0] */
{
    ef_lua_thread_t *t = ef_lua_thread(L);
    int n = lua_gettop(L);
    luaL_Buffer b;

    luaL_buffinit(L, &b);
    if (level != NULL) {
        luaL_addstring(&b, level);
        luaL_addchar(&b, ' ');
    }
    for (int i = 1; i <= n; ++i) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL); /* calls __tostring, under the budget */
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    if (t->current != NULL) {
        if (len > MAX_LOG_LINE) {
            char tail[64];
            int tl = snprintf(tail, sizeof(tail), " ... (%zu more bytes not logged)", len - MAX_LOG_LINE);
            lua_pushlstring(L, msg, MAX_LOG_LINE);
            lua_pushlstring(L, tail, tl);
            lua_concat(L, 2);
            msg = lua_tolstring(L, -1, &len);
        }
        invocation_log(t, t->current, msg, len);
    }
    return 0;
}

static int lua_print(lua_State *L)
{
    return log_line(L, NULL);
}

static int console_log(lua_State *L)
{
    return log_line(L, NULL);
}

static int console_warn(lua_State *L)
{
    return log_line(L, "WARN");
}

static int console_error(lua_State *L)
{
    return log_line(L, "ERROR");
}

/* require: modules from the function's own code directory, run in the caller's _ENV */

static int read_file(const char *path, char **data, size_t *len, size_t max, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    struct stat st;

    if (fp == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        fclose(fp);
        return -1;
    }
    if ((size_t)st.st_size > max) {
        char a[32], b[32];
        snprintf(a, sizeof(a), "%zu bytes", (size_t)st.st_size);
        snprintf(b, sizeof(b), "%zu bytes", max);
        snprintf(err, errlen, "%s is %s, over max-code-size (%s)", path, a, b);
        fclose(fp);
        return -1;
    }
    *len = (size_t)st.st_size;
    if ((*data = malloc(*len + 1)) == NULL)
        abort();
    if (fread(*data, 1, *len, fp) != *len) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        free(*data);
        *data = NULL;
        fclose(fp);
        return -1;
    }
    (*data)[*len] = '\0';
    fclose(fp);
    return 0;
}

static int safe_require(lua_State *L) /* [-1, +1] */
{
    ef_lua_slot_t *slot = ef_lua_thread(L)->slot;
    size_t namelen;
    const char *name = luaL_checklstring(L, 1, &namelen);
    char path[4096], err[512];

    /* letters, digits, '_', '-' and dots between parts: nothing can leave the code directory */
    for (size_t i = 0; i != namelen; ++i) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              (c == '.' && i != 0 && i + 1 != namelen && name[i + 1] != '.')))
            return luaL_error(L, "require: invalid module name \"%s\"", name);
    }
    if (namelen == 0)
        return luaL_error(L, "require: empty module name");

    /* once per invocation: a module's result is the invocation's, like everything else */
    ef_lua_thread_t *t = ef_lua_thread(L);
    if (t->loaded == LUA_NOREF) {
        lua_newtable(L);
        t->loaded = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->loaded);
    if (lua_getfield(L, -1, name) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    /* one a shared module loaded when it started, read-only since */
    if (slot->loaded != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, slot->loaded);
        if (lua_getfield(L, -1, name) != LUA_TNIL)
            return 1;
        lua_pop(L, 2);
    }

    /* compiled once per thread */
    lua_rawgeti(L, LUA_REGISTRYINDEX, slot->modules);
    if (lua_getfield(L, -1, name) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        char *src;
        size_t len;
        snprintf(path, sizeof(path), "%s/", slot->fn->conf->code_dir);
        for (size_t i = 0, o = strlen(path); i != namelen && o + 5 < sizeof(path); ++i)
            path[o++] = name[i] == '.' ? '/' : name[i], path[o] = '\0';
        strncat(path, ".lua", sizeof(path) - strlen(path) - 1);
        size_t budget = slot->fn->conf->max_code_size > slot->code_bytes ? slot->fn->conf->max_code_size - slot->code_bytes : 0;
        if (read_file(path, &src, &len, budget, err, sizeof(err)) != 0)
            return luaL_error(L, "require \"%s\": %s", name, err);
        slot->code_bytes += len;
        const char *base = strrchr(path, '/');
        lua_pushfstring(L, "@%s", base != NULL ? base + 1 : path);
        int status = luaL_loadbufferx(L, src, len, lua_tostring(L, -1), "t");
        free(src);
        if (status != LUA_OK)
            return lua_error(L);
        lua_remove(L, -2);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, name);
    }
    /* run it in the function's _ENV */
    lua_rawgeti(L, LUA_REGISTRYINDEX, slot->env);
    lua_setupvalue(L, -2, 1);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -4, name); /* into the invocation's loaded table */
    return 1;
}

/* read-only views of shared tables */

static int on_readonly_newindex(lua_State *L)
{
    return luaL_error(L, "attempt to modify a read-only table");
}

static int on_readonly_pairs(lua_State *L) /* [-1, +3] */
{
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__index");
    lua_pushcclosure(L, ef_lua_next_hidden, 1);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* Replaces the table at the top of the stack with a read-only proxy of it. [-1, +1] */
static void make_readonly(ef_lua_thread_t *t)
{
    lua_State *L = t->L;
    lua_newtable(L);          /* proxy */
    lua_createtable(L, 0, 4); /* its metatable */
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, on_readonly_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, on_readonly_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    /* both the proxy and what it shows are out of rawset's reach */
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->frozen);
    lua_pushvalue(L, -2);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pushvalue(L, -3);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    lua_remove(L, -2);
}

static void add_library(ef_lua_thread_t *t, const char *name, lua_CFunction open)
{
    luaL_requiref(t->L, name, open, 0);
    make_readonly(t);
    lua_setfield(t->L, -2, name);
}

/* Builds the table every _ENV reads through; leaves nothing on the stack. */
static void build_sandbox(ef_lua_thread_t *t)
{
    lua_State *L = t->L;
    static const char *const base_names[] = {"assert",   "error", "ipairs",   "next",   "pairs",  "select",       "tonumber",
                                             "tostring", "type",  "rawequal", "rawget", "rawlen", "getmetatable", NULL};

    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    t->frozen = luaL_ref(L, LUA_REGISTRYINDEX);

    /* the base library fills the real globals, which no function ever sees */
    luaL_requiref(L, "_G", luaopen_base, 0);
    lua_newtable(L); /* the sandbox's globals */
    for (const char *const *n = base_names; *n != NULL; ++n) {
        lua_getfield(L, -2, *n);
        lua_setfield(L, -2, *n);
    }
    lua_getfield(L, -2, "_VERSION");
    lua_setfield(L, -2, "_VERSION");
    lua_pushcfunction(L, safe_pcall);
    lua_setfield(L, -2, "pcall");
    lua_pushcfunction(L, safe_xpcall);
    lua_setfield(L, -2, "xpcall");
    lua_pushcfunction(L, safe_rawset);
    lua_setfield(L, -2, "rawset");
    lua_pushcfunction(L, safe_setmetatable);
    lua_setfield(L, -2, "setmetatable");
    lua_getfield(L, -2, "load");
    lua_pushcclosure(L, safe_load, 1);
    lua_setfield(L, -2, "load");
    lua_pushcfunction(L, safe_collectgarbage);
    lua_setfield(L, -2, "collectgarbage");
    lua_pushcfunction(L, lua_print);
    lua_setfield(L, -2, "print");
    lua_pushcfunction(L, safe_require);
    lua_setfield(L, -2, "require");
    lua_pushcfunction(L, now);
    lua_setfield(L, -2, "now");
    lua_remove(L, -2); /* the real globals */

    /* string: without dump, with budgeted patterns, and its metatable out of reach */
    luaL_requiref(L, "string", luaopen_string, 0);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    ef_lua_pattern_install(L, lua_gettop(L));
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);
    make_readonly(t);
    lua_setfield(L, -2, "string");

    add_library(t, "table", luaopen_table);
    /* math: randomseed does nothing, since the generator's state is the thread's: a function that seeded it would make the
     * numbers of every later invocation predictable. The state is seeded at random when the thread starts. */
    luaL_requiref(L, "math", luaopen_math, 0);
    lua_pushcfunction(L, ignore_randomseed);
    lua_setfield(L, -2, "randomseed");
    make_readonly(t);
    lua_setfield(L, -2, "math");
    add_library(t, "utf8", luaopen_utf8);
    add_library(t, "crypto", ef_lua_open_crypto);
    add_library(t, "base64", ef_lua_open_base64);
    add_library(t, "hex", ef_lua_open_hex);
    add_library(t, "querystring", ef_lua_open_querystring);
    static const luaL_Reg console[] = {
        {"log", console_log}, {"info", console_log}, {"warn", console_warn}, {"error", console_error}, {NULL, NULL}};
    luaL_newlib(L, console);
    make_readonly(t);
    lua_setfield(L, -2, "console");

    ef_lua_module_open(t, -1);

    /* every function's _ENV: its own table, reading through to the sandbox */
    lua_createtable(L, 0, 2);
    lua_insert(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    t->env_mt = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* the runtime */

static int compile(ef_lua_thread_t *t, ef_lua_slot_t *slot, char *err, size_t errlen)
{
    struct st_function_data_t *data = slot->fn->data;
    lua_State *L = t->L;

    if (luaL_loadbufferx(L, data->source, data->len, data->chunkname, "t") != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    /* the function's globals, reading through to the sandbox; the module's _ENV for good */
    lua_createtable(L, 0, 4);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->env_mt);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setupvalue(L, -3, 1);
    slot->env = luaL_ref(L, LUA_REGISTRYINDEX);
    slot->chunk = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    slot->modules = luaL_ref(L, LUA_REGISTRYINDEX);
    slot->loaded = LUA_NOREF;
    slot->code_bytes = data->len;
    return 0;
}

static void thread_dispose(void *state)
{
    ef_lua_thread_t *t = state;
    if (t == NULL)
        return;
    if (t->has_watchdog)
        timer_delete(t->watchdog);
    if (own == t)
        own = NULL;
    if (t->L != NULL)
        lua_close(t->L);
    for (size_t c = 0; c != EF_LUA_SMALL_CLASSES; ++c) {
        struct st_ef_lua_small_block_t *b, *next;
        for (b = t->small[c].head; b != NULL; b = next) {
            next = b->next;
            free(b);
        }
    }
    for (size_t i = 0; i != t->num_slots; ++i)
        free(t->slots[i].upvalues);
    free(t->slots);
    free(t->dirty.kinds);
    free(t->req_seen.seen);
    free(t->res_seen.seen);
    free(t);
}

static ef_lua_thread_t *new_thread(size_t num_slots)
{
    ef_lua_thread_t *t = calloc(1, sizeof(*t));

    if (t == NULL || (t->slots = calloc(num_slots + 1, sizeof(t->slots[0]))) == NULL)
        abort();
    if ((t->L = lua_newstate(on_alloc, t)) == NULL)
        abort();
    *(ef_lua_thread_t **)lua_getextraspace(t->L) = t;
    t->loaded = LUA_NOREF;
    /* most of what an invocation allocates dies with it: the generational collector's case */
    lua_gc(t->L, LUA_GCGEN, 0, 0);
    build_sandbox(t);
    ef_lua_event_init(t);
    t->num_slots = num_slots;
    return t;
}

/* a shared module's globals written by an invocation: kept in the proxy until the invocation ends */
static int on_env_newindex(lua_State *L) /* [-3, +0] */
{
    ef_lua_thread_t *t = ef_lua_thread(L);

    t->env_written = 1;
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 0;
}

/* Runs the slot's module, finds its handler and freezes what it built, in protected mode; sets slot->shared. [-0, +0] */
static int share_module(lua_State *L)
{
    ef_lua_thread_t *t = ef_lua_thread(L);
    ef_lua_slot_t *slot = t->slot;
    const char *name = slot->fn->conf->handler;
    int result, handler, proxy, globals;

    lua_rawgeti(L, LUA_REGISTRYINDEX, slot->chunk);
    lua_call(L, 0, 1);
    result = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, slot->env);
    globals = lua_gettop(L);
    if (!(lua_istable(L, result) && lua_getfield(L, result, name) == LUA_TFUNCTION)) {
        lua_settop(L, globals);
        if (lua_getfield(L, globals, name) != LUA_TFUNCTION)
            return 0; /* invocations report it */
    }
    handler = lua_gettop(L);

    /* the globals of invocations: empty, reading through to the module's, written to for one invocation */
    lua_createtable(L, 0, 0);
    proxy = lua_gettop(L);
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, globals);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, on_env_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, proxy);
    if (t->loaded != LUA_NOREF)
        lua_rawgeti(L, LUA_REGISTRYINDEX, t->loaded);
    else
        lua_pushnil(L);
    if (ef_lua_module_freeze(t, slot, globals, proxy, handler, result, -1) != 0)
        return 0;
    lua_pop(L, 1);

    /* from now on the module's functions see the proxy as _ENV (they share the chunk's upvalue) */
    lua_rawgeti(L, LUA_REGISTRYINDEX, slot->chunk);
    lua_pushvalue(L, proxy);
    lua_setupvalue(L, -2, 1);
    lua_pop(L, 1);
    /* rawset may not go around the proxy's __newindex, nor load() hand it out as a table to change later */
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->frozen);
    lua_pushvalue(L, proxy);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    lua_pushvalue(L, handler);
    slot->handler = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, proxy);
    luaL_unref(L, LUA_REGISTRYINDEX, slot->env);
    slot->env = luaL_ref(L, LUA_REGISTRYINDEX);
    slot->shared = 1;
    return 0;
}

/*
 * Runs the slot's module once, under its limits, and shares it when it can (module.c).
 * Otherwise, or when it fails, the module runs afresh for every invocation, which then
 * reports what fails.
 */
static void try_sharing(ef_lua_thread_t *t, ef_lua_slot_t *slot)
{
    lua_State *L = t->L;
    const ef_conf_function_t *conf = slot->fn->conf;
    int top = lua_gettop(L);

    t->slot = slot;
    t->killed = EF_LUA_ALIVE;
    t->deadline = ef_now_ns() + conf->timeout * 1000000;
    t->mem.base = t->mem.peak = t->mem.used;
    t->mem.over = 0;
    t->mem.limit = t->mem.used + conf->memory;
    budget_hook(t);
    watched = t;
    lua_pushcfunction(L, share_module);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK || t->killed != EF_LUA_ALIVE)
        slot->shared = 0;
    watched = NULL;
    lua_sethook(L, NULL, 0, 0);
    t->mem.limit = 0;
    t->deadline = 0;
    lua_settop(L, top);
    if (!slot->shared) {
        /* what the module's one run left in its globals goes: every invocation runs it again */
        lua_rawgeti(L, LUA_REGISTRYINDEX, slot->env);
        ef_lua_clear_table(L, -1);
        lua_pop(L, 1);
    }
    if (t->loaded != LUA_NOREF) {
        /* a shared module's modules stay what require() answers */
        if (slot->shared)
            slot->loaded = t->loaded;
        else
            luaL_unref(L, LUA_REGISTRYINDEX, t->loaded);
        t->loaded = LUA_NOREF;
    }
    t->slot = NULL;
}

static void *thread_init(ef_function_t **fns, size_t num_fns, const ef_runtime_thread_t *thread)
{
    ef_lua_thread_t *t = new_thread(num_fns);
    char err[1024];

    start_watchdog(t);
    for (size_t i = 0; i != num_fns; ++i) {
        t->slots[i].fn = fns[i];
        ((struct st_function_data_t *)fns[i]->data)->index = i;
        if (compile(t, t->slots + i, err, sizeof(err)) != 0) {
            /* prepare compiled the same source: only memory could fail here */
            fprintf(stderr, "edgefn: cannot compile function \"%s\": %s\n", fns[i]->conf->name, err);
            abort();
        }
        try_sharing(t, t->slots + i);
    }
    return t;
}

/* the message handler of an invocation: a traceback, without calling a non-string error's __tostring */
static int on_error(lua_State *L) /* [-1, +1] */
{
    const char *msg = lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER ? lua_tostring(L, 1) : NULL;
    if (msg == NULL)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/*
 * Runs the slot's module, which defines its globals afresh, and pushes its handler: a
 * global function of the module, or a field of the table the module returns, as in
 * `local M = {} function M.handler(event) ... end return M`. Raises when there is none.
 * [-0, +1]
 */
static void push_handler(lua_State *L, ef_lua_thread_t *t)
{
    const char *name = t->slot->fn->conf->handler;
    int base = lua_gettop(L);

    lua_rawgeti(L, LUA_REGISTRYINDEX, t->slot->chunk);
    lua_call(L, 0, 1);
    if (lua_istable(L, -1) && lua_getfield(L, -1, name) == LUA_TFUNCTION) {
        lua_remove(L, -2);
        return;
    }
    lua_settop(L, base);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->slot->env);
    if (lua_getfield(L, -1, name) != LUA_TFUNCTION)
        luaL_error(L, "%s does not define a function \"%s\" (it is %s)",
                   ((struct st_function_data_t *)t->slot->fn->data)->chunkname + 1, name, luaL_typename(L, -1));
    lua_remove(L, -2);
}

/* Lambda's Invoke: the handler (on the stack) is given the payload, and what it returns is the result, as JSON. [-1, +1] */
static void run_direct(ef_lua_thread_t *t)
{
    lua_State *L = t->L;
    ef_invocation_t *inv = t->current;
    const ef_json_t *payload = ef_json_parse(inv->event->pool, inv->payload.base, inv->payload.len, NULL);

    if (payload == NULL) { /* the admin API has checked it */
        snprintf(t->why, sizeof(t->why), "the payload is not JSON");
        t->invalid = t->why;
        return;
    }
    ef_lua_push_json(L, payload);
    lua_call(L, 1, 1);
    /* on the thread, not here: a memory error while it is written jumps past this function (clear_invocation frees it) */
    h2o_buffer_init(&t->result, &h2o_socket_buffer_prototype);
    if (ef_lua_to_json(L, -1, &t->result, t->why, sizeof(t->why)) != 0)
        t->invalid = t->why;
    else
        inv->result = h2o_strdup(inv->event->pool, t->result->bytes, t->result->size);
}

/* Runs the invocation in protected mode. [-0, +0] */
static int run(lua_State *L)
{
    ef_lua_thread_t *t = ef_lua_thread(L);

    if (t->slot->shared)
        lua_rawgeti(L, LUA_REGISTRYINDEX, t->slot->handler);
    else
        push_handler(L, t);
    if (t->current->payload.base != NULL) {
        run_direct(t);
        return 0;
    }
    ef_lua_push_event(t);
    lua_call(L, 1, 1);
    if (ef_lua_apply_result(t, -1, t->why, sizeof(t->why)) != 0)
        t->invalid = t->why;
    return 0;
}

/* Loads the module and finds its handler, in protected mode, for prepare. [-0, +0] */
static int check_module(lua_State *L)
{
    push_handler(L, ef_lua_thread(L));
    return 0;
}

/* Empties what the invocation left: the event objects, the function's globals, what `require` returned. */
static void clear_invocation(ef_lua_thread_t *t)
{
    lua_State *L = t->L;

    ef_lua_event_clear(t);
    if (t->result != NULL)
        h2o_buffer_dispose(&t->result);
    if (!t->slot->shared || t->env_written) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, t->slot->env);
        ef_lua_clear_table(L, -1);
        lua_pop(L, 1);
        t->env_written = 0;
    }
    if (t->slot->shared)
        ef_lua_module_restore(t, t->slot);
    if (t->loaded != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, t->loaded);
        t->loaded = LUA_NOREF;
    }
    t->invalid = NULL;
}

/* `n` bytes of an error message as a JSON string (a message of bytes that are not UTF-8 is replaced: it is in the log) */
static json_t *message_string(const char *msg, size_t n)
{
    json_t *s = json_stringn(msg, n);
    return s != NULL ? s : json_string("(a message that is not UTF-8: the function's log has it)");
}

/* {"errorType": "LuaError", "errorMessage": the error's first line, "stackTrace": the traceback's lines}, as Lambda
 * reports a function's error to its invoker */
static h2o_iovec_t error_result(h2o_mem_pool_t *pool, const char *msg, size_t len)
{
    json_t *out = json_object(), *trace = json_array();
    const char *end = msg + len, *nl = memchr(msg, '\n', len), *p;
    h2o_iovec_t result;

    json_object_set_new(out, "errorType", json_string("LuaError"));
    json_object_set_new(out, "errorMessage", message_string(msg, nl != NULL ? (size_t)(nl - msg) : len));
    for (p = nl; p != NULL && p < end; p = nl) {
        const char *line = p + 1;
        while (line < end && *line == '\t')
            ++line;
        nl = memchr(line, '\n', end - line);
        size_t n = (nl != NULL ? nl : end) - line;
        if (n != 0 && !(n == 16 && memcmp(line, "stack traceback:", 16) == 0))
            json_array_append_new(trace, message_string(line, n));
    }
    json_object_set_new(out, "stackTrace", trace);
    char *s = json_dumps(out, JSON_COMPACT | JSON_ENSURE_ASCII);
    result = h2o_strdup(pool, s, strlen(s));
    free(s);
    json_decref(out);
    return result;
}

static void invoke(ef_invocation_t *inv)
{
    ef_lua_thread_t *t = inv->thread_state;
    lua_State *L = t->L;
    const ef_conf_function_t *conf = inv->fn->conf;
    int top = lua_gettop(L), status;
    uint64_t start = ef_now_ns();
    size_t mem_start = t->mem.used;
    char d[32];

    t->current = inv;
    t->slot = t->slots + ((struct st_function_data_t *)inv->fn->data)->index;
    t->killed = EF_LUA_ALIVE;
    t->deadline = start + conf->timeout * 1000000;
    t->mem.base = t->mem.peak = mem_start;
    t->mem.over = 0;
    t->mem.limit = mem_start + conf->memory;
    budget_hook(t);
    watched = t;

    lua_pushcfunction(L, on_error);
    lua_pushcfunction(L, run);
    status = lua_pcall(L, 0, 0, top + 1);
    if (t->mem.over && t->killed == EF_LUA_ALIVE)
        check_memory(t); /* the last allocation went over the limit, with no instruction after it */

    watched = NULL; /* before the hook goes: a late signal sets none */
    lua_sethook(L, NULL, 0, 0);
    t->mem.limit = 0; /* what follows is ours */
    t->deadline = 0;
    inv->duration_ns = ef_now_ns() - start;
    inv->budget_ns = conf->timeout * 1000000;
    inv->memory_bytes = t->mem.peak - mem_start;

    /* a stop caught where no Lua code runs after it to raise it again (load's reader, say) is a failure all the same */
    if (status != LUA_OK || t->killed != EF_LUA_ALIVE) {
        inv->status = t->killed != EF_LUA_ALIVE || status == LUA_ERRMEM ? EF_INVOKE_LIMIT : EF_INVOKE_FAILED;
        inv->limit = t->killed == EF_LUA_KILLED_CPU ? EF_LIMIT_TIMEOUT : EF_LIMIT_MEMORY;
        if (t->killed == EF_LUA_KILLED_CPU) {
            snprintf(inv->error, sizeof(inv->error), "CPU budget of %s exceeded", ef_format_duration(conf->timeout, d, sizeof(d)));
        } else if (t->killed == EF_LUA_KILLED_MEMORY || status == LUA_ERRMEM) {
            snprintf(inv->error, sizeof(inv->error), "memory limit of %zu KB exceeded", (size_t)(conf->memory / 1024));
        } else {
            size_t len;
            const char *msg = lua_tolstring(L, -1, &len);
            if (msg == NULL)
                msg = "error in the error handler", len = strlen(msg);
            snprintf(inv->error, sizeof(inv->error), "%.*s", (int)strcspn(msg, "\n"), msg);
            /* the whole traceback, but for its last frame: edgefn's own, which calls the handler */
            if (len >= 11 && memcmp(msg + len - 11, "\n\t[C]: in ?", 11) == 0)
                len -= 11;
            invocation_log(t, inv, msg, len);
            if (inv->payload.base != NULL)
                inv->result = error_result(inv->event->pool, msg, len);
        }
        if (t->killed != EF_LUA_ALIVE || status == LUA_ERRMEM) {
            /* how long it ran, and where it was when it was stopped (the traceback, without the error's own line) */
            const char *trace = status != LUA_OK ? lua_tostring(L, -1) : NULL, *nl = trace != NULL ? strchr(trace, '\n') : NULL;
            char ran[64];
            snprintf(ran, sizeof(ran), " (stopped after %.3f ms)", (double)inv->duration_ns / 1e6);
            lua_pushfstring(L, "%s%s%s", inv->error, ran, nl != NULL ? nl : "");
            invocation_log(t, inv, lua_tostring(L, -1), lua_rawlen(L, -1));
        }
    } else if (t->invalid != NULL) {
        inv->status = EF_INVOKE_INVALID;
        snprintf(inv->error, sizeof(inv->error), "%s", t->invalid);
        char line[300];
        int n = snprintf(line, sizeof(line), "invalid return value: %s", inv->error);
        invocation_log(t, inv, line, (size_t)n);
    } else {
        inv->status = EF_INVOKE_OK;
    }
    end_log(t, inv);

    lua_settop(L, top);
    clear_invocation(t);
    t->current = NULL;
    t->slot = NULL;
    inv->on_complete(inv);
}

static void cancel(ef_invocation_t *inv)
{
    /* a Lua invocation is over before invoke returns: nothing is ever pending */
}

static int prepare(ef_function_t *fn, char *err, size_t errlen)
{
    struct st_function_data_t *data = calloc(1, sizeof(*data));
    const char *base;

    if (data == NULL)
        abort();
    fn->data = data;
    base = strrchr(fn->conf->module_file, '/');
    snprintf(data->chunkname, sizeof(data->chunkname), "@%s", base != NULL ? base + 1 : fn->conf->module_file);
    if (read_file(fn->conf->module_file, &data->source, &data->len, fn->conf->max_code_size, err, errlen) != 0)
        return -1;

    /* compile it, and run its module once in a sandbox of its own, so that `edgefn check`
     * reports a syntax error or a missing handler rather than the first request */
    ef_lua_thread_t *t = new_thread(1);
    int ret = -1;
    lua_State *L = t->L;
    ef_lua_slot_t *slot = t->slots;
    slot->fn = fn;
    t->slot = slot;
    if (compile(t, slot, err, errlen) != 0) {
        thread_dispose(t);
        return -1;
    }
    t->deadline = ef_now_ns() + fn->conf->timeout * 1000000;
    t->mem.base = t->mem.used;
    t->mem.limit = t->mem.used + fn->conf->memory;
    budget_hook(t);
    lua_pushcfunction(L, check_module);
    if (lua_pcall(L, 0, 0, 0) == LUA_OK && t->killed == EF_LUA_ALIVE) {
        ret = 0;
    } else {
        const char *msg = lua_tostring(L, -1);
        snprintf(err, errlen, "%s",
                 t->killed == EF_LUA_KILLED_CPU      ? "its module's top level exceeds the CPU budget"
                 : t->killed == EF_LUA_KILLED_MEMORY ? "its module's top level exceeds the memory limit"
                 : msg != NULL                       ? msg
                                                     : "its module's top level raised a non-string error");
    }
    lua_sethook(L, NULL, 0, 0);
    t->mem.limit = 0;
    thread_dispose(t);
    return ret;
}

static void dispose(ef_function_t *fn)
{
    struct st_function_data_t *data = fn->data;
    if (data == NULL)
        return;
    free(data->source);
    free(data);
    fn->data = NULL;
}

const ef_runtime_t ef_lua_runtime = {"lua", prepare, thread_init, NULL, thread_dispose, invoke, cancel, dispose};
