/*
 * bench/lua_invoke: what one invocation of a trivial Lua function costs, through the
 * runtime interface exactly as filters/hook.c drives it (functions/runtime.h):
 * ef_lua_runtime.prepare once per function, thread_init once, then for every call an
 * event that points at the request's headers (and the response's), an invocation with
 * a completion callback, and ef_lua_runtime.invoke.
 *
 * Cases (function files in bench/lua/):
 *   a  viewer-request, returns event.request unchanged        (passthrough.lua)
 *   b  viewer-request, sets one request header               (viewer_request.lua)
 *   c  viewer-response, sets one response header             (viewer_response.lua)
 *   0  the harness alone: the same per-call set-up, no invoke (what a, b and c include)
 *
 * Every call starts from a fresh request, as a real one does: the per-request pool is
 * cleared and the headers are copied into it (5 request headers, as a browser sends;
 * 6 response headers, as nginx answers). The first call of each case is checked (the
 * status, and that the header arrived where it should); then BATCHES batches of CALLS
 * calls are timed, after WARMUP calls that are not, and the median ns per call is
 * reported, wall-clock and thread CPU time.
 *
 * Usage: lua_invoke [-c CASES] [-n CALLS] [-b BATCHES] [-w WARMUP] [-d LUA_DIR]
 *   defaults: -c 0abc -n 200000 -b 7 -w 20000 -d bench/lua of the source tree
 * For callgrind, the timed calls all run inside timed_calls(), so
 *   valgrind --tool=callgrind --toggle-collect=timed_calls lua_invoke -c b -n 20000 -b 1 -w 1000
 * counts the instructions of 20000 calls and nothing else.
 *
 * Output: one line per case,
 *   case b viewer-request sets a header: median 1234.5 ns/call wall (min ..., max ...), 1200.1 ns/call CPU; ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "functions/runtime.h"
#include "bench/stats.h"

#ifndef EF_BENCH_LUA_DIR
#define EF_BENCH_LUA_DIR "bench/lua"
#endif

#define MAX_BATCHES 101

typedef struct st_bench_case_t {
    char id;
    const char *what;
    const char *file; /* in the Lua directory; NULL for the harness alone */
    ef_hook_t hook;
    ef_conf_function_t conf;
    ef_function_t fn;
} bench_case_t;

static bench_case_t cases[] = {
    {'0', "the harness alone (no invoke)", NULL, EF_HOOK_VIEWER_REQUEST},
    {'a', "viewer-request returns event.request", "passthrough.lua", EF_HOOK_VIEWER_REQUEST},
    {'b', "viewer-request sets a request header", "viewer_request.lua", EF_HOOK_VIEWER_REQUEST},
    {'c', "viewer-response sets a response header", "viewer_response.lua", EF_HOOK_VIEWER_RESPONSE},
};
#define NUM_CASES (sizeof(cases) / sizeof(cases[0]))

static void *thread_state;
static h2o_mem_pool_t pool;
static h2o_headers_t req_headers, res_headers;
static ef_event_t event;
static ef_invocation_t inv;
static size_t num_failed;

static void on_complete(ef_invocation_t *inv)
{
    if (inv->status != EF_INVOKE_OK)
        ++num_failed;
}

static void on_log(ef_invocation_t *inv, const char *msg, size_t len)
{
    fprintf(stderr, "lua_invoke: function log: %.*s\n", (int)len, msg);
}

/* A fresh request (and response) in the cleared pool, and its event, as filters/hook.c builds it. */
static void new_request(const bench_case_t *bc)
{
    h2o_mem_clear_pool(&pool);
    req_headers = (h2o_headers_t){NULL};
    h2o_add_header(&pool, &req_headers, H2O_TOKEN_HOST, NULL, H2O_STRLIT("www.example.com"));
    h2o_add_header(&pool, &req_headers, H2O_TOKEN_USER_AGENT, NULL,
                   H2O_STRLIT("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"));
    h2o_add_header(&pool, &req_headers, H2O_TOKEN_ACCEPT, NULL, H2O_STRLIT("text/html,application/xhtml+xml,*/*;q=0.8"));
    h2o_add_header(&pool, &req_headers, H2O_TOKEN_ACCEPT_ENCODING, NULL, H2O_STRLIT("gzip, deflate, br"));
    h2o_add_header(&pool, &req_headers, H2O_TOKEN_ACCEPT_LANGUAGE, NULL, H2O_STRLIT("en-US,en;q=0.5"));
    event = (ef_event_t){
        .hook = bc->hook, .request_id = "0123456789abcdef", .client_ip = h2o_iovec_init(H2O_STRLIT("127.0.0.1")), .pool = &pool};
    event.request.method = h2o_iovec_init(H2O_STRLIT("GET"));
    event.request.path = h2o_iovec_init(H2O_STRLIT("/1k.bin"));
    event.request.headers = &req_headers;
    if (ef_hook_is_response(bc->hook)) {
        res_headers = (h2o_headers_t){NULL};
        h2o_add_header(&pool, &res_headers, H2O_TOKEN_SERVER, NULL, H2O_STRLIT("nginx/1.22.1"));
        h2o_add_header(&pool, &res_headers, H2O_TOKEN_DATE, NULL, H2O_STRLIT("Mon, 30 Nov 2026 09:00:00 GMT"));
        h2o_add_header(&pool, &res_headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/octet-stream"));
        h2o_add_header(&pool, &res_headers, H2O_TOKEN_LAST_MODIFIED, NULL, H2O_STRLIT("Mon, 30 Nov 2026 08:00:00 GMT"));
        h2o_add_header(&pool, &res_headers, H2O_TOKEN_ETAG, NULL, H2O_STRLIT("\"6938c2e0-400\""));
        h2o_add_header(&pool, &res_headers, H2O_TOKEN_ACCEPT_RANGES, NULL, H2O_STRLIT("bytes"));
        event.response.status = 200;
        event.response.reason = h2o_iovec_init(H2O_STRLIT("OK"));
        event.response.headers = &res_headers;
    }
}

static __attribute__((noinline)) void one_call(bench_case_t *bc)
{
    new_request(bc);
    if (bc->file == NULL)
        return;
    inv = (ef_invocation_t){
        .fn = &bc->fn, .event = &event, .thread_state = thread_state, .on_complete = on_complete, .data = bc, .log = on_log};
    bc->fn.runtime->invoke(&inv);
}

/* the calls that are timed (and that callgrind counts, with --toggle-collect=timed_calls) */
__attribute__((noinline)) void timed_calls(bench_case_t *bc, size_t n)
{
    for (size_t i = 0; i != n; ++i)
        one_call(bc);
}

static int has_header(const h2o_headers_t *headers, const char *name, const char *value)
{
    ssize_t i = h2o_find_header_by_str(headers, name, strlen(name), -1);
    return i != -1 && h2o_memis(headers->entries[i].value.base, headers->entries[i].value.len, value, strlen(value));
}

/* the first call: does the case do what it says? */
static int check_case(bench_case_t *bc)
{
    num_failed = 0;
    one_call(bc);
    if (bc->file == NULL)
        return 0;
    if (num_failed != 0) {
        fprintf(stderr, "lua_invoke: case %c: the invocation failed: %s\n", bc->id, inv.error);
        return -1;
    }
    switch (bc->id) {
    case 'a':
        if (req_headers.size != 5 || event.request_path_changed || event.outcome != EF_EVENT_CONTINUE)
            goto Wrong;
        break;
    case 'b':
        if (req_headers.size != 6 || !has_header(&req_headers, "x-hook", "1"))
            goto Wrong;
        break;
    case 'c':
        if (res_headers.size != 7 || !has_header(&res_headers, "x-hook-resp", "1") || event.response.status != 200)
            goto Wrong;
        break;
    }
    return 0;
Wrong:
    fprintf(stderr, "lua_invoke: case %c (%s): the first call did not have the expected effect\n", bc->id, bc->what);
    return -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: lua_invoke [-c CASES] [-n CALLS] [-b BATCHES] [-w WARMUP] [-d LUA_DIR]\n"
                    "  CASES: any of 0 (harness alone), a, b, c; default 0abc\n");
    exit(1);
}

int main(int argc, char **argv)
{
    const char *which = "0abc", *dir = EF_BENCH_LUA_DIR;
    size_t calls = 200000, batches = 7, warmup = 20000;
    ef_function_t *fns[NUM_CASES];
    size_t num_fns = 0;
    char err[1024];
    int opt;

    while ((opt = getopt(argc, argv, "c:n:b:w:d:h")) != -1) {
        switch (opt) {
        case 'c':
            which = optarg;
            break;
        case 'n':
            calls = strtoul(optarg, NULL, 10);
            break;
        case 'b':
            batches = strtoul(optarg, NULL, 10);
            break;
        case 'w':
            warmup = strtoul(optarg, NULL, 10);
            break;
        case 'd':
            dir = optarg;
            break;
        default:
            usage();
        }
    }
    if (optind != argc || calls == 0 || batches == 0 || batches > MAX_BATCHES)
        usage();

    /* prepare every function, as edgefn does at start-up (defaults of the functions: section) */
    for (size_t i = 0; i != NUM_CASES; ++i) {
        bench_case_t *bc = cases + i;
        if (bc->file == NULL)
            continue;
        char *path = malloc(strlen(dir) + strlen(bc->file) + 2);
        sprintf(path, "%s/%s", dir, bc->file);
        bc->conf = (ef_conf_function_t){.name = (char *)bc->file,
                                        .runtime = EF_CONF_RUNTIME_LUA,
                                        .code = path,
                                        .code_dir = (char *)dir,
                                        .module_file = path,
                                        .handler = "handler",
                                        .memory = 2 * 1024 * 1024,
                                        .timeout = 5,
                                        .max_code_size = 64 * 1024};
        bc->fn = (ef_function_t){.conf = &bc->conf, .runtime = &ef_lua_runtime, .log_fd = STDERR_FILENO};
        if (ef_lua_runtime.prepare(&bc->fn, err, sizeof(err)) != 0) {
            fprintf(stderr, "lua_invoke: %s: %s\n", path, err);
            return 1;
        }
        fns[num_fns++] = &bc->fn;
    }
    thread_state = ef_lua_runtime.thread_init(fns, num_fns, NULL);
    h2o_mem_init_pool(&pool);

    printf("# lua_invoke: %zu batches of %zu calls per case after %zu warm-up calls; Lua functions in %s\n", batches, calls, warmup,
           dir);
    for (const char *w = which; *w != '\0'; ++w) {
        bench_case_t *bc = NULL;
        for (size_t i = 0; i != NUM_CASES; ++i)
            if (cases[i].id == *w)
                bc = cases + i;
        if (bc == NULL)
            usage();
        if (check_case(bc) != 0)
            return 2;
        for (size_t i = 0; i != warmup; ++i)
            one_call(bc);
        double wall[MAX_BATCHES], cpu[MAX_BATCHES];
        num_failed = 0;
        for (size_t b = 0; b != batches; ++b) {
            uint64_t w0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
            timed_calls(bc, calls);
            uint64_t c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID), w1 = clock_ns(CLOCK_MONOTONIC);
            wall[b] = (double)(w1 - w0) / calls;
            cpu[b] = (double)(c1 - c0) / calls;
        }
        if (num_failed != 0) {
            fprintf(stderr, "lua_invoke: case %c: %zu invocations failed\n", bc->id, num_failed);
            return 2;
        }
        double lo = wall[0], hi = wall[0];
        for (size_t b = 1; b != batches; ++b) {
            lo = wall[b] < lo ? wall[b] : lo;
            hi = wall[b] > hi ? wall[b] : hi;
        }
        printf("case %c %s: median %.1f ns/call wall (min %.1f, max %.1f), %.1f ns/call CPU\n", bc->id, bc->what,
               median(wall, batches), lo, hi, median(cpu, batches));
        fflush(stdout);
    }

    ef_lua_runtime.thread_dispose(thread_state);
    for (size_t i = 0; i != num_fns; ++i)
        ef_lua_runtime.dispose(fns[i]);
    h2o_mem_clear_pool(&pool);
    return 0;
}
