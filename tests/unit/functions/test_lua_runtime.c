/*
 * functions/lua/runtime.c and functions/lua/event.c, driven the way the pipeline drives
 * them (filters/hook.c, functions/registry.c): prepare each function, thread_init one
 * state for them, build an ef_event_t on a pool over h2o headers, invoke, and look at
 * what came back: the status, the event as the pipeline would apply it, inv->error and
 * the lines the function logged.
 *
 * Each test writes its Lua functions into a directory of its own (under a mkdtemp'd
 * root), so that chunk names, and so error messages, read "fn.lua:2: ...". A code
 * directory with modules lives in EF_TEST_DATA_DIR.
 */
#define _GNU_SOURCE /* nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "functions/lua/lua_internal.h"
#include "functions/runtime.h"

#ifndef EF_TEST_DATA_DIR
#error "build with -DEF_TEST_DATA_DIR=\"<absolute path of tests/unit/functions/data>\""
#endif

#define STRINGIFY(x) #x
#define TOSTRING(x) STRINGIFY(x)
#define KB 1024
#define MB (1024 * 1024)
#define MAX_LINES 64

/* CPU bombs spend their whole budget: keep it small. Healthy code runs in well under 1 ms. */
#define BOMB_TIMEOUT_MS 20
#define BOMB_TIMEOUT_TEXT "20ms"
/* functions that only convert: generous, so that a loaded machine cannot make them flaky */
#define CALM_TIMEOUT_MS 1000

static char root[1024];

/* ---- functions and the thread state that runs them ---- */

typedef struct st_runner_t {
    char dir[PATH_MAX];
    size_t num_fns;
    struct {
        ef_conf_function_t conf;
        ef_function_t fn;
    } fns[4];
    void *state;
} runner_t;

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

static runner_t *new_runner(void)
{
    runner_t *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    snprintf(r->dir, sizeof(r->dir), "%s/fnXXXXXX", root);
    assert_non_null(mkdtemp(r->dir));
    return r;
}

/* Fills a conf the way conf/config.c does for `code: DIR/FILE` with the given limits. */
static ef_function_t *define(runner_t *r, const char *name, const char *code_dir, const char *module_file, const char *handler,
                             uint64_t memory, uint64_t timeout, uint64_t max_code_size)
{
    assert_true(r->num_fns < sizeof(r->fns) / sizeof(r->fns[0]));
    ef_conf_function_t *conf = &r->fns[r->num_fns].conf;
    ef_function_t *fn = &r->fns[r->num_fns].fn;
    ++r->num_fns;
    conf->name = strdup(name);
    conf->runtime = EF_CONF_RUNTIME_LUA;
    conf->code = strdup(module_file);
    conf->code_dir = strdup(code_dir);
    conf->module_file = strdup(module_file);
    conf->handler = strdup(handler);
    conf->memory = memory;
    conf->timeout = timeout;
    conf->max_code_size = max_code_size;
    *fn = (ef_function_t){.conf = conf, .runtime = &ef_lua_runtime, .log_fd = -1};
    return fn;
}

/* Writes `code` as DIR/NAME.lua and prepares it, which must succeed. */
static ef_function_t *add_fn_limits(runner_t *r, const char *name, const char *code, uint64_t memory, uint64_t timeout)
{
    char file[256], path[PATH_MAX + 260], err[1024] = "";
    snprintf(file, sizeof(file), "%s.lua", name);
    write_file(r->dir, file, code);
    snprintf(path, sizeof(path), "%s/%s", r->dir, file);
    ef_function_t *fn = define(r, name, r->dir, path, "handler", memory, timeout, 64 * KB);
    if (ef_lua_runtime.prepare(fn, err, sizeof(err)) != 0)
        fail_msg("prepare of %s failed: %s", name, err);
    return fn;
}

static ef_function_t *add_fn(runner_t *r, const char *name, const char *code)
{
    return add_fn_limits(r, name, code, 2 * MB, CALM_TIMEOUT_MS);
}

static void start(runner_t *r)
{
    ef_function_t *fns[4];
    for (size_t i = 0; i != r->num_fns; ++i)
        fns[i] = &r->fns[i].fn;
    r->state = ef_lua_runtime.thread_init(fns, r->num_fns, NULL);
    assert_non_null(r->state);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void dispose_runner(runner_t *r)
{
    if (r->state != NULL)
        ef_lua_runtime.thread_dispose(r->state);
    for (size_t i = 0; i != r->num_fns; ++i) {
        ef_lua_runtime.dispose(&r->fns[i].fn);
        free(r->fns[i].conf.name);
        free(r->fns[i].conf.code);
        free(r->fns[i].conf.code_dir);
        free(r->fns[i].conf.module_file);
        free(r->fns[i].conf.handler);
    }
    nftw(r->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(r);
}

/* A runner with one function, "fn", from fn.lua. */
static runner_t *start_one(const char *code)
{
    runner_t *r = new_runner();
    add_fn(r, "fn", code);
    start(r);
    return r;
}

/* ---- one invocation ---- */

typedef struct st_call_t {
    h2o_mem_pool_t pool;
    h2o_headers_t req_headers, res_headers;
    ef_event_t ev;
    ef_invocation_t inv;
    int completed;
    size_t num_lines;
    char *lines[MAX_LINES];
    size_t num_frames;   /* START, END and REPORT lines */
    char frames[3][256]; /* the first three */
} call_t;

static void on_complete(ef_invocation_t *inv)
{
    call_t *c = inv->data;
    ++c->completed;
}

static int is_frame(const char *msg, size_t len)
{
    return (len >= 6 && memcmp(msg, "START ", 6) == 0) || (len >= 4 && memcmp(msg, "END ", 4) == 0) ||
           (len >= 7 && memcmp(msg, "REPORT ", 7) == 0);
}

/* The lines a call logged, without the START, END and REPORT that frame them (test_log_frame checks those). */
static void on_log(ef_invocation_t *inv, const char *msg, size_t len)
{
    call_t *c = inv->data;
    if (is_frame(msg, len)) {
        ++c->num_frames;
        if (c->num_frames <= 3)
            snprintf(c->frames[c->num_frames - 1], sizeof(c->frames[0]), "%.*s", (int)len, msg);
        return;
    }
    if (c->num_lines == MAX_LINES)
        return;
    c->lines[c->num_lines] = malloc(len + 1);
    memcpy(c->lines[c->num_lines], msg, len);
    c->lines[c->num_lines][len] = '\0';
    ++c->num_lines;
}

/* An event for `hook` on "METHOD TARGET" (TARGET may have a query); at the response hooks, a 200 "OK". */
static void call_init(call_t *c, ef_hook_t hook, const char *method, const char *target)
{
    memset(c, 0, sizeof(*c));
    h2o_mem_init_pool(&c->pool);
    c->ev =
        (ef_event_t){.hook = hook, .request_id = "req-1", .client_ip = h2o_iovec_init(H2O_STRLIT("192.0.2.7")), .pool = &c->pool};
    c->ev.request.method = h2o_iovec_init(method, strlen(method));
    const char *q = strchr(target, '?');
    if (q != NULL) {
        c->ev.request.path = h2o_iovec_init(target, q - target);
        c->ev.request.query = h2o_iovec_init(q + 1, strlen(q + 1));
    } else {
        c->ev.request.path = h2o_iovec_init(target, strlen(target));
    }
    c->ev.request.headers = &c->req_headers;
    if (ef_hook_is_response(hook)) {
        c->ev.response.status = 200;
        c->ev.response.reason = h2o_iovec_init(H2O_STRLIT("OK"));
        c->ev.response.headers = &c->res_headers;
    }
}

/* As h2o's parsers store them: a token when the name is one, else the (lowercase) name itself. */
static void add_header(call_t *c, h2o_headers_t *headers, const char *name, const char *value)
{
    const h2o_token_t *token = h2o_lookup_token(name, strlen(name));
    if (token != NULL)
        h2o_add_header(&c->pool, headers, token, NULL, value, strlen(value));
    else
        h2o_add_header_by_str(&c->pool, headers, name, strlen(name), 0, NULL, value, strlen(value));
}

static void req_header(call_t *c, const char *name, const char *value)
{
    add_header(c, &c->req_headers, name, value);
}

static void res_header(call_t *c, const char *name, const char *value)
{
    add_header(c, &c->res_headers, name, value);
}

/* Invokes the function; no cmocka assertions here, as this also runs in guarded children. */
static void call_invoke(runner_t *r, size_t fn_index, call_t *c)
{
    c->completed = 0;
    c->inv = (ef_invocation_t){.fn = &r->fns[fn_index].fn,
                               .event = &c->ev,
                               .thread_state = r->state,
                               .on_complete = on_complete,
                               .data = c,
                               .log = on_log};
    ef_lua_runtime.invoke(&c->inv);
}

static ef_invoke_status_t call_run(runner_t *r, size_t fn_index, call_t *c)
{
    call_invoke(r, fn_index, c);
    assert_int_equal(c->completed, 1); /* the Lua runtime completes before invoke returns */
    return c->inv.status;
}

static void call_dispose(call_t *c)
{
    for (size_t i = 0; i != c->num_lines; ++i)
        free(c->lines[i]);
    h2o_mem_clear_pool(&c->pool);
}

/* "name: value\n" for each header, in order */
static const char *dump_headers(call_t *c, const h2o_headers_t *headers)
{
    size_t len = 1;
    for (size_t i = 0; i != headers->size; ++i)
        len += headers->entries[i].name->len + headers->entries[i].value.len + 3;
    char *buf = h2o_mem_alloc_pool(&c->pool, len), *p = buf;
    for (size_t i = 0; i != headers->size; ++i)
        p += sprintf(p, "%.*s: %.*s\n", (int)headers->entries[i].name->len, headers->entries[i].name->base,
                     (int)headers->entries[i].value.len, headers->entries[i].value.base);
    *p = '\0';
    return buf;
}

static int header_name_after(const h2o_header_t *a, const h2o_header_t *b)
{
    size_t n = a->name->len < b->name->len ? a->name->len : b->name->len;
    int cmp = memcmp(a->name->base, b->name->base, n);
    return cmp > 0 || (cmp == 0 && a->name->len > b->name->len);
}

/* dump_headers sorted by name: a function's changes are appended in no set order, but the values of one name keep theirs */
static const char *sorted_headers(call_t *c, const h2o_headers_t *headers)
{
    h2o_headers_t sorted = {NULL};
    h2o_vector_reserve(&c->pool, &sorted, headers->size + 1);
    for (size_t i = 0; i != headers->size; ++i) {
        size_t j = i;
        while (j != 0 && header_name_after(&sorted.entries[j - 1], &headers->entries[i])) {
            sorted.entries[j] = sorted.entries[j - 1];
            --j;
        }
        sorted.entries[j] = headers->entries[i];
    }
    sorted.size = headers->size;
    return dump_headers(c, &sorted);
}

static const char *str(call_t *c, h2o_iovec_t v)
{
    if (v.base == NULL)
        return "(null)";
    return h2o_strdup(&c->pool, v.base, v.len).base;
}

static void dump_call(call_t *c)
{
    print_message("status %d, error \"%s\"\n", (int)c->inv.status, c->inv.error);
    for (size_t i = 0; i != c->num_lines; ++i)
        print_message("log[%zu]: %s\n", i, c->lines[i]);
}

#define assert_status(c, expected)                                                                                                 \
    do {                                                                                                                           \
        if ((c)->inv.status != (expected))                                                                                         \
            dump_call(c);                                                                                                          \
        assert_int_equal((c)->inv.status, (expected));                                                                             \
    } while (0)

static int has_substring(const char *s, const char *sub)
{
    return s != NULL && strstr(s, sub) != NULL;
}

#define assert_contains(s, sub)                                                                                                    \
    do {                                                                                                                           \
        if (!has_substring((s), (sub)))                                                                                            \
            fail_msg("\"%s\" does not contain \"%s\"", (s), (sub));                                                                \
    } while (0)

/* the index of the first log line containing `sub`, or -1 */
static int find_line(call_t *c, const char *sub)
{
    for (size_t i = 0; i != c->num_lines; ++i)
        if (strstr(c->lines[i], sub) != NULL)
            return (int)i;
    return -1;
}

#define assert_logged(c, sub)                                                                                                      \
    do {                                                                                                                           \
        if (find_line((c), (sub)) < 0) {                                                                                           \
            dump_call(c);                                                                                                          \
            fail_msg("no log line contains \"%s\"", (sub));                                                                        \
        }                                                                                                                          \
    } while (0)

/* Runs `code` once at viewer-request on GET /; it must answer with a generated response; returns its body. */
static const char *answer(runner_t *r, call_t *c)
{
    call_init(c, EF_HOOK_VIEWER_REQUEST, "GET", "/");
    call_run(r, 0, c);
    assert_status(c, EF_INVOKE_OK);
    assert_int_equal(c->ev.outcome, EF_EVENT_RESPOND);
    assert_true(c->ev.response.has_body);
    return str(c, c->ev.response.body);
}

/* One function, one viewer-request invocation on GET /, expecting a generated 200 whose body is `expected`. */
static void assert_answers(const char *code, const char *expected)
{
    runner_t *r = start_one(code);
    call_t c;
    assert_string_equal(answer(r, &c), expected);
    call_dispose(&c);
    dispose_runner(r);
}

/* One function, one viewer-request invocation on GET /, which must fail (503) with an error containing `error`. */
static void assert_fails(const char *code, const char *error)
{
    runner_t *r = start_one(code);
    call_t c;
    call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/");
    call_run(r, 0, &c);
    assert_status(&c, EF_INVOKE_FAILED);
    assert_contains(c.inv.error, error);
    call_dispose(&c);
    dispose_runner(r);
}

/* ---- 1. the event, into Lua ---- */

static void test_read_request(void **unused)
{
    runner_t *r =
        start_one("function handler(event)\n"
                  "  local r = event.request\n"
                  "  print(event.version, event.context.eventType, event.context.requestId, event.viewer.ip, event.response)\n"
                  "  print(r.method, r.uri)\n"
                  "  local q = r.querystring\n"
                  "  print(q.x.value, #q.x.multiValue, q.x.multiValue[1].value, q.x.multiValue[2].value,\n"
                  "        q.y.value, q.y.multiValue, q.flag.value, q.nope)\n"
                  "  local h = r.headers\n"
                  "  print(h.host.value, h.host.multiValue, h['x-multi'].value, #h['x-multi'].multiValue,\n"
                  "        h['x-multi'].multiValue[1].value, h['x-multi'].multiValue[2].value, h.cookie, h.Host, h.absent)\n"
                  "  local c = r.cookies\n"
                  "  print(c.a.value, #c.a.multiValue, c.a.multiValue[1].value, c.a.multiValue[2].value, c.b.value,\n"
                  "        c.b.multiValue)\n"
                  "  local names = {}\n"
                  "  for k in pairs(h) do names[#names + 1] = k end\n"
                  "  table.sort(names)\n"
                  "  print(table.concat(names, ','))\n"
                  "  return r\n"
                  "end\n");
    call_t c;
    call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/path/a?x=1&y=2&x=3&flag");
    req_header(&c, "host", "example.com");
    req_header(&c, "accept", "text/html");
    req_header(&c, "x-multi", "a");
    req_header(&c, "x-multi", "b");
    req_header(&c, "cookie", "a=1; b=2");
    req_header(&c, "cookie", "a=3");
    req_header(&c, "user-agent", "curl/8");
    h2o_header_t *entries = c.req_headers.entries;
    size_t size = c.req_headers.size;
    const char *before = dump_headers(&c, &c.req_headers);

    call_run(r, 0, &c);
    assert_status(&c, EF_INVOKE_OK);
    assert_int_equal(c.num_lines, 6);
    assert_string_equal(c.lines[0], "1.0\tviewer-request\treq-1\t192.0.2.7\tnil");
    assert_string_equal(c.lines[1], "GET\t/path/a");
    assert_string_equal(c.lines[2], "1\t2\t1\t3\t2\tnil\t\tnil");
    assert_string_equal(c.lines[3], "example.com\tnil\ta\t2\ta\tb\tnil\tnil\tnil");
    assert_string_equal(c.lines[4], "1\t2\t1\t3\t2\tnil");
    assert_string_equal(c.lines[5], "accept,host,user-agent,x-multi"); /* cookies are not headers */

    /* everything was read, nothing changed: the request comes back as it was */
    assert_int_equal(c.ev.outcome, EF_EVENT_CONTINUE);
    assert_false(c.ev.request_path_changed);
    assert_ptr_equal(c.req_headers.entries, entries);
    assert_int_equal(c.req_headers.size, size);
    assert_string_equal(dump_headers(&c, &c.req_headers), before);
    call_dispose(&c);
    dispose_runner(r);
}

static void test_read_response(void **unused)
{
    runner_t *r = start_one(
        "function handler(event)\n"
        "  local res = event.response\n"
        "  print(event.context.eventType, res.statusCode, math.type(res.statusCode), res.statusDescription)\n"
        "  local h = res.headers\n"
        "  print(h['content-type'].value, h['x-multi'].value, #h['x-multi'].multiValue, h['x-multi'].multiValue[2].value,\n"
        "        h['set-cookie'])\n"
        "  local c = res.cookies\n"
        "  print(c.sid.value, c.sid.attributes, #c.sid.multiValue, c.sid.multiValue[1].attributes,\n"
        "        c.sid.multiValue[2].value, c.sid.multiValue[2].attributes, c.theme.value, c.theme.attributes)\n"
        "  print(event.request.method, event.request.uri, event.request.headers.host.value, res.body)\n"
        "  return res\n"
        "end\n");
    call_t c;
    call_init(&c, EF_HOOK_ORIGIN_RESPONSE, "GET", "/r");
    req_header(&c, "host", "example.com");
    c.ev.response.status = 404;
    c.ev.response.reason = h2o_iovec_init(H2O_STRLIT("Not Found"));
    const char *reason = c.ev.response.reason.base;
    res_header(&c, "content-type", "text/plain");
    res_header(&c, "x-multi", "1");
    res_header(&c, "x-multi", "2");
    res_header(&c, "set-cookie", "sid=abc; Path=/; HttpOnly");
    res_header(&c, "set-cookie", "theme=dark");
    res_header(&c, "set-cookie", "sid=def; Secure");
    const char *before = dump_headers(&c, &c.res_headers);

    call_run(r, 0, &c);
    assert_status(&c, EF_INVOKE_OK);
    assert_int_equal(c.num_lines, 4);
    assert_string_equal(c.lines[0], "origin-response\t404\tinteger\tNot Found");
    assert_string_equal(c.lines[1], "text/plain\t1\t2\t2\tnil");
    assert_string_equal(c.lines[2], "abc\tPath=/; HttpOnly\t2\tPath=/; HttpOnly\tdef\tSecure\tdark\tnil");
    assert_string_equal(c.lines[3], "GET\t/r\texample.com\tnil"); /* like CloudFront: the origin's body is not shown */

    /* returned as it was: nothing changes */
    assert_int_equal(c.ev.response.status, 404);
    assert_string_equal(str(&c, c.ev.response.reason), reason);
    assert_false(c.ev.response.has_body);
    assert_string_equal(dump_headers(&c, &c.res_headers), before);
    call_dispose(&c);
    dispose_runner(r);
}

static void test_event_type_at_each_hook(void **unused)
{
    runner_t *r = start_one("function handler(event)\n"
                            "  print(event.context.eventType, event.context.requestId, event.viewer.ip, event.response ~= nil)\n"
                            "  return event.response or event.request\n"
                            "end\n");
    static const char *const expected[] = {"viewer-request\treq-1\t192.0.2.7\tfalse", "origin-request\treq-1\t192.0.2.7\tfalse",
                                           "origin-response\treq-1\t192.0.2.7\ttrue", "viewer-response\treq-1\t192.0.2.7\ttrue"};
    for (ef_hook_t hook = EF_HOOK_VIEWER_REQUEST; hook != EF_NUM_HOOKS; ++hook) {
        call_t c;
        call_init(&c, hook, "GET", "/");
        call_run(r, 0, &c);
        assert_status(&c, EF_INVOKE_OK);
        assert_int_equal(c.num_lines, 1);
        assert_string_equal(c.lines[0], expected[hook]);
        assert_int_equal(c.ev.outcome, EF_EVENT_CONTINUE);
        call_dispose(&c);
    }
    dispose_runner(r);
}

static void test_untouched_request_comes_back_unchanged(void **unused)
{
    /* a function that looks at nothing, and one that reads every header by pairs() */
    runner_t *r = new_runner();
    add_fn(r, "nothing", "function handler(event) return event.request end\n");
    add_fn(r, "reader",
           "function handler(event)\n"
           "  local n = 0\n"
           "  for k, v in pairs(event.request.headers) do n = n + 1 end\n"
           "  local _ = event.request.querystring, event.request.cookies, event.request.uri\n"
           "  return event.request\n"
           "end\n");
    start(r);
    for (size_t i = 0; i != 2; ++i) {
        call_t c;
        call_init(&c, i == 0 ? EF_HOOK_VIEWER_REQUEST : EF_HOOK_ORIGIN_REQUEST, "POST", "/a%20b/c?q=1&q=2&r");
        req_header(&c, "host", "example.com");
        req_header(&c, "x-multi", "1");
        req_header(&c, "cookie", "a=1");
        req_header(&c, "x-multi", "2");
        h2o_header_t *entries = c.req_headers.entries;
        h2o_header_t copy[4];
        memcpy(copy, entries, sizeof(copy));
        h2o_iovec_t path = c.ev.request.path, query = c.ev.request.query;

        call_run(r, i, &c);
        assert_status(&c, EF_INVOKE_OK);
        assert_int_equal(c.ev.outcome, EF_EVENT_CONTINUE);
        assert_false(c.ev.request_path_changed);
        assert_ptr_equal(c.ev.request.path.base, path.base);
        assert_int_equal(c.ev.request.path.len, path.len);
        assert_ptr_equal(c.ev.request.query.base, query.base);
        assert_int_equal(c.ev.request.query.len, query.len);
        /* the very same header entries, same order, same strings */
        assert_ptr_equal(c.req_headers.entries, entries);
        assert_int_equal(c.req_headers.size, 4);
        assert_memory_equal(c.req_headers.entries, copy, sizeof(copy));
        call_dispose(&c);
    }
    dispose_runner(r);
}

/* ---- 1. the event, back from Lua ---- */

/* Runs `code` at viewer-request on a typical request; the request must come back (OK, CONTINUE). */
static void run_request_change(const char *code, call_t *c, const char *target)
{
    runner_t *r = start_one(code);
    call_init(c, EF_HOOK_VIEWER_REQUEST, "GET", target);
    req_header(c, "host", "example.com");
    req_header(c, "accept", "text/html");
    req_header(c, "x-multi", "a");
    req_header(c, "cookie", "a=1; b=2");
    req_header(c, "x-multi", "b");
    req_header(c, "user-agent", "curl/8");
    call_run(r, 0, c);
    assert_status(c, EF_INVOKE_OK);
    assert_int_equal(c->ev.outcome, EF_EVENT_CONTINUE);
    dispose_runner(r);
}

static void test_change_uri(void **unused)
{
    call_t c;
    run_request_change("function handler(event)\n"
                       "  event.request.uri = event.request.uri .. 'index.html'\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/docs/?lang=en");
    assert_true(c.ev.request_path_changed);
    assert_string_equal(str(&c, c.ev.request.path), "/docs/index.html");
    assert_string_equal(str(&c, c.ev.request.query), "lang=en");
    call_dispose(&c);

    /* set to what it was: not a change */
    run_request_change("function handler(event)\n"
                       "  event.request.uri = '/docs/'\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/docs/");
    assert_false(c.ev.request_path_changed);
    call_dispose(&c);
}

static void test_change_querystring_as_table(void **unused)
{
    call_t c;
    /* a new table; values that cannot stand in a query are percent-encoded; names sorted */
    run_request_change("function handler(event)\n"
                       "  event.request.querystring = {b = {value = 'x y'}, a = {value = '1'}, m = {value = '1', multiValue = "
                       "{{value = '1'}, {value = '2'}}}}\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/p?old=1");
    assert_true(c.ev.request_path_changed);
    assert_string_equal(str(&c, c.ev.request.path), "/p");
    assert_string_equal(str(&c, c.ev.request.query), "a=1&b=x%20y&m=1&m=2");
    call_dispose(&c);

    /* in place: a changed value replaces the first of several (CloudFront's rule), a new one is added, one deleted */
    run_request_change("function handler(event)\n"
                       "  local q = event.request.querystring\n"
                       "  q.x.value = '9'\n"
                       "  q.z = {value = 'new'}\n"
                       "  q.y = nil\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/p?x=1&y=2&x=3");
    assert_true(c.ev.request_path_changed);
    assert_string_equal(str(&c, c.ev.request.query), "x=9&x=3&z=new");
    call_dispose(&c);

    /* a changed multiValue wins over the value */
    run_request_change("function handler(event)\n"
                       "  local q = event.request.querystring\n"
                       "  q.x.multiValue = {{value = '7'}}\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/p?x=1&x=3");
    assert_string_equal(str(&c, c.ev.request.query), "x=7");
    call_dispose(&c);

    /* an empty table: no query at all */
    run_request_change("function handler(event)\n"
                       "  event.request.querystring = {}\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/p?x=1");
    assert_true(c.ev.request_path_changed);
    assert_null(c.ev.request.query.base);
    call_dispose(&c);

    /* read and returned as it was: no change */
    run_request_change("function handler(event)\n"
                       "  local q = event.request.querystring\n"
                       "  q.x.value = q.x.value\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/p?x=1&y=2");
    assert_false(c.ev.request_path_changed);
    assert_string_equal(str(&c, c.ev.request.query), "x=1&y=2");
    call_dispose(&c);
}

static void test_change_querystring_as_string(void **unused)
{
    call_t c;
    run_request_change("function handler(event)\n"
                       "  event.request.querystring = 'a=b c&d=e'\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/p?x=1");
    assert_true(c.ev.request_path_changed);
    assert_string_equal(str(&c, c.ev.request.query), "a=b%20c&d=e");
    call_dispose(&c);

    /* a leading '?' is not part of it */
    run_request_change("function handler(event)\n"
                       "  event.request.querystring = '?k=v'\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/p");
    assert_true(c.ev.request_path_changed);
    assert_string_equal(str(&c, c.ev.request.query), "k=v");
    call_dispose(&c);

    /* an empty string removes the query */
    run_request_change("function handler(event)\n"
                       "  event.request.querystring = ''\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/p?x=1");
    assert_true(c.ev.request_path_changed);
    assert_null(c.ev.request.query.base);
    call_dispose(&c);
}

static void test_change_headers(void **unused)
{
    call_t c;
    /* add, change, delete (one seen before, one never looked at) */
    run_request_change("function handler(event)\n"
                       "  local h = event.request.headers\n"
                       "  h['x-new'] = {value = 'added'}\n"
                       "  h.accept.value = 'application/json'\n"
                       "  local ua = h['user-agent']\n"
                       "  h['user-agent'] = nil\n"
                       "  h.host = nil\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/");
    assert_false(c.ev.request_path_changed);
    assert_string_equal(sorted_headers(&c, &c.req_headers), "accept: application/json\n"
                                                            "cookie: a=1; b=2\n"
                                                            "x-multi: a\n"
                                                            "x-multi: b\n"
                                                            "x-new: added\n");
    call_dispose(&c);

    /* multiValue: a new list replaces all values; a changed value replaces the first only */
    run_request_change("function handler(event)\n"
                       "  local h = event.request.headers\n"
                       "  h['x-multi'].value = 'z'\n"
                       "  h['x-list'] = {value = 'ignored', multiValue = {{value = 'p'}, {value = 'q'}, {value = 'r'}}}\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/");
    assert_string_equal(sorted_headers(&c, &c.req_headers), "accept: text/html\n"
                                                            "cookie: a=1; b=2\n"
                                                            "host: example.com\n"
                                                            "user-agent: curl/8\n"
                                                            "x-list: p\n"
                                                            "x-list: q\n"
                                                            "x-list: r\n"
                                                            "x-multi: z\n"
                                                            "x-multi: b\n");
    call_dispose(&c);

    run_request_change("function handler(event)\n"
                       "  local h = event.request.headers\n"
                       "  h['x-multi'].multiValue = {{value = 'one'}}\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/");
    assert_string_equal(sorted_headers(&c, &c.req_headers), "accept: text/html\n"
                                                            "cookie: a=1; b=2\n"
                                                            "host: example.com\n"
                                                            "user-agent: curl/8\n"
                                                            "x-multi: one\n");
    call_dispose(&c);

    /* a whole new table replaces the headers, cookies aside */
    run_request_change("function handler(event)\n"
                       "  event.request.headers = {host = {value = 'other.example'}, ['x-a'] = {value = '1'}}\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/");
    const char *dump = dump_headers(&c, &c.req_headers);
    assert_contains(dump, "host: other.example\n");
    assert_contains(dump, "x-a: 1\n");
    assert_contains(dump, "cookie: a=1; b=2\n");
    assert_false(has_substring(dump, "accept"));
    assert_false(has_substring(dump, "x-multi"));
    assert_false(has_substring(dump, "user-agent"));
    assert_int_equal(c.req_headers.size, 3);
    call_dispose(&c);
}

static void test_change_request_cookies(void **unused)
{
    call_t c;
    run_request_change("function handler(event)\n"
                       "  local c = event.request.cookies\n"
                       "  c.a = nil\n"
                       "  c.b.value = '20'\n"
                       "  c.c = {value = '3'}\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/");
    assert_string_equal(sorted_headers(&c, &c.req_headers), "accept: text/html\n"
                                                            "cookie: b=20; c=3\n"
                                                            "host: example.com\n"
                                                            "user-agent: curl/8\n"
                                                            "x-multi: a\n"
                                                            "x-multi: b\n");
    call_dispose(&c);

    /* all deleted: no cookie header left */
    run_request_change("function handler(event)\n"
                       "  event.request.cookies = {}\n"
                       "  return event.request\n"
                       "end\n",
                       &c, "/");
    assert_false(has_substring(dump_headers(&c, &c.req_headers), "cookie"));
    call_dispose(&c);
}

/* Runs `code` at `hook` on a 200 OK with two cookies; the function must return OK. */
static void run_response_change(const char *code, ef_hook_t hook, call_t *c)
{
    runner_t *r = start_one(code);
    call_init(c, hook, "GET", "/");
    res_header(c, "content-type", "text/html");
    res_header(c, "set-cookie", "sid=abc; Path=/; HttpOnly");
    res_header(c, "x-multi", "1");
    res_header(c, "set-cookie", "theme=dark");
    call_run(r, 0, c);
    assert_status(c, EF_INVOKE_OK);
    assert_int_equal(c->ev.outcome, EF_EVENT_CONTINUE);
    dispose_runner(r);
}

static void test_change_response_headers_and_cookies(void **unused)
{
    call_t c;
    run_response_change("function handler(event)\n"
                        "  local res = event.response\n"
                        "  res.headers['strict-transport-security'] = {value = 'max-age=63072000'}\n"
                        "  res.headers['content-type'].value = 'text/plain'\n"
                        "  res.headers['x-multi'] = nil\n"
                        "  res.cookies.lang = {value = 'en', attributes = 'Path=/; Secure; SameSite=Lax'}\n"
                        "  res.cookies.theme = nil\n"
                        "  return res\n"
                        "end\n",
                        EF_HOOK_VIEWER_RESPONSE, &c);
    assert_int_equal(c.ev.response.status, 200);
    assert_false(c.ev.response.has_body);
    const char *dump = dump_headers(&c, &c.res_headers);
    assert_contains(dump, "strict-transport-security: max-age=63072000\n");
    assert_contains(dump, "content-type: text/plain\n");
    assert_false(has_substring(dump, "x-multi"));
    assert_false(has_substring(dump, "theme"));
    /* the untouched cookie keeps its attributes; the new one has its own */
    assert_contains(dump, "set-cookie: sid=abc; Path=/; HttpOnly\n");
    assert_contains(dump, "set-cookie: lang=en; Path=/; Secure; SameSite=Lax\n");
    assert_int_equal(c.res_headers.size, 4);
    call_dispose(&c);

    /* a cookie's attributes changed in place */
    run_response_change("function handler(event)\n"
                        "  event.response.cookies.sid.attributes = 'Path=/app'\n"
                        "  return event.response\n"
                        "end\n",
                        EF_HOOK_ORIGIN_RESPONSE, &c);
    dump = dump_headers(&c, &c.res_headers);
    assert_contains(dump, "set-cookie: sid=abc; Path=/app\n");
    assert_contains(dump, "set-cookie: theme=dark\n");
    assert_false(has_substring(dump, "HttpOnly"));
    call_dispose(&c);
}

static void test_change_status(void **unused)
{
    call_t c;
    /* status and description */
    run_response_change("function handler(event)\n"
                        "  event.response.statusCode = 418\n"
                        "  event.response.statusDescription = \"I'm a teapot\"\n"
                        "  return event.response\n"
                        "end\n",
                        EF_HOOK_ORIGIN_RESPONSE, &c);
    assert_int_equal(c.ev.response.status, 418);
    assert_string_equal(str(&c, c.ev.response.reason), "I'm a teapot");
    call_dispose(&c);

    /* the status alone: the standard description follows */
    run_response_change("function handler(event)\n"
                        "  event.response.statusCode = 404\n"
                        "  return event.response\n"
                        "end\n",
                        EF_HOOK_VIEWER_RESPONSE, &c);
    assert_int_equal(c.ev.response.status, 404);
    assert_string_equal(str(&c, c.ev.response.reason), "Not Found");
    call_dispose(&c);

    /* the description alone */
    run_response_change("function handler(event)\n"
                        "  event.response.statusDescription = 'Fine'\n"
                        "  return event.response\n"
                        "end\n",
                        EF_HOOK_VIEWER_RESPONSE, &c);
    assert_int_equal(c.ev.response.status, 200);
    assert_string_equal(str(&c, c.ev.response.reason), "Fine");
    call_dispose(&c);

    /* a new table at a response hook replaces status and description, keeps the headers */
    run_response_change("function handler(event)\n"
                        "  return {statusCode = 503}\n"
                        "end\n",
                        EF_HOOK_ORIGIN_RESPONSE, &c);
    assert_int_equal(c.ev.response.status, 503);
    assert_string_equal(str(&c, c.ev.response.reason), "Service Unavailable");
    assert_contains(dump_headers(&c, &c.res_headers), "content-type: text/html\n");
    call_dispose(&c);
}

static void test_change_body(void **unused)
{
    call_t c;
    run_response_change("function handler(event)\n"
                        "  event.response.body = 'replaced'\n"
                        "  return event.response\n"
                        "end\n",
                        EF_HOOK_ORIGIN_RESPONSE, &c);
    assert_true(c.ev.response.has_body);
    assert_string_equal(str(&c, c.ev.response.body), "replaced");
    call_dispose(&c);

    run_response_change("function handler(event)\n"
                        "  event.response.body = {encoding = 'base64', data = 'aGVsbG8gd29ybGQ='}\n"
                        "  return event.response\n"
                        "end\n",
                        EF_HOOK_VIEWER_RESPONSE, &c);
    assert_true(c.ev.response.has_body);
    assert_string_equal(str(&c, c.ev.response.body), "hello world");
    call_dispose(&c);

    /* the standard alphabet ('+', '/') and binary bytes */
    run_response_change("function handler(event)\n"
                        "  event.response.body = {encoding = 'base64', data = '+/8A'}\n"
                        "  return event.response\n"
                        "end\n",
                        EF_HOOK_VIEWER_RESPONSE, &c);
    assert_int_equal(c.ev.response.body.len, 3);
    assert_memory_equal(c.ev.response.body.base, "\xfb\xff\x00", 3);
    call_dispose(&c);

    run_response_change("function handler(event)\n"
                        "  event.response.body = {encoding = 'text', data = 'plain'}\n"
                        "  return event.response\n"
                        "end\n",
                        EF_HOOK_VIEWER_RESPONSE, &c);
    assert_string_equal(str(&c, c.ev.response.body), "plain");
    call_dispose(&c);

    /* data without an encoding is text */
    run_response_change("function handler(event)\n"
                        "  event.response.body = {data = 'a\\0b'}\n"
                        "  return event.response\n"
                        "end\n",
                        EF_HOOK_VIEWER_RESPONSE, &c);
    assert_int_equal(c.ev.response.body.len, 3);
    assert_memory_equal(c.ev.response.body.base, "a\0b", 3);
    call_dispose(&c);
}

static void test_generated_response(void **unused)
{
    for (ef_hook_t hook = EF_HOOK_VIEWER_REQUEST; hook <= EF_HOOK_ORIGIN_REQUEST; ++hook) {
        runner_t *r = start_one("function handler(event)\n"
                                "  return {\n"
                                "    statusCode = 301,\n"
                                "    headers = {location = {value = 'https://example.com' .. event.request.uri},\n"
                                "               ['cache-control'] = {value = 'max-age=60'}},\n"
                                "    cookies = {seen = {value = '1', attributes = 'Max-Age=60'}},\n"
                                "    body = 'moved',\n"
                                "  }\n"
                                "end\n");
        call_t c;
        call_init(&c, hook, "GET", "/old");
        req_header(&c, "host", "example.com");
        const char *before = dump_headers(&c, &c.req_headers);
        call_run(r, 0, &c);
        assert_status(&c, EF_INVOKE_OK);
        assert_int_equal(c.ev.outcome, EF_EVENT_RESPOND);
        assert_int_equal(c.ev.response.status, 301);
        assert_string_equal(str(&c, c.ev.response.reason), "Moved Permanently");
        assert_non_null(c.ev.response.headers);
        const char *dump = dump_headers(&c, c.ev.response.headers);
        assert_contains(dump, "location: https://example.com/old\n");
        assert_contains(dump, "cache-control: max-age=60\n");
        assert_contains(dump, "set-cookie: seen=1; Max-Age=60\n");
        assert_int_equal(c.ev.response.headers->size, 3);
        assert_true(c.ev.response.has_body);
        assert_string_equal(str(&c, c.ev.response.body), "moved");
        /* the request is not touched */
        assert_false(c.ev.request_path_changed);
        assert_string_equal(dump_headers(&c, &c.req_headers), before);
        call_dispose(&c);
        dispose_runner(r);
    }

    /* a description of its own, a base64 body */
    assert_answers("function handler(event)\n"
                   "  return {statusCode = 401, statusDescription = 'Who are you', body = {encoding = 'base64', data = 'bm8='}}\n"
                   "end\n",
                   "no");
    runner_t *r = start_one("function handler(event) return {statusCode = 299} end\n");
    call_t c;
    call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/");
    call_run(r, 0, &c);
    assert_status(&c, EF_INVOKE_OK);
    assert_int_equal(c.ev.outcome, EF_EVENT_RESPOND);
    assert_int_equal(c.ev.response.status, 299);
    assert_false(c.ev.response.has_body);
    assert_int_equal(c.ev.response.headers->size, 0);
    call_dispose(&c);
    dispose_runner(r);
}

/* ---- 2. what a function may not return ---- */

/* Runs `code` at `hook`; it must be invalid (502) with a reason containing `why`, which is also logged. */
static void assert_invalid_at(ef_hook_t hook, const char *code, const char *why)
{
    runner_t *r = start_one(code);
    call_t c;
    call_init(&c, hook, "GET", "/");
    req_header(&c, "host", "example.com");
    req_header(&c, "proxy-authorization", "Basic eA==");
    res_header(&c, "content-type", "text/html");
    call_run(r, 0, &c);
    assert_status(&c, EF_INVOKE_INVALID);
    assert_contains(c.inv.error, why);
    assert_logged(&c, "invalid return value: ");
    assert_logged(&c, why);
    call_dispose(&c);
    dispose_runner(r);
}

static void assert_invalid(const char *code, const char *why)
{
    assert_invalid_at(EF_HOOK_VIEWER_REQUEST, code, why);
}

static void test_invalid_not_a_table(void **unused)
{
    assert_invalid("function handler(event) return 'hello' end\n", "the handler returned string");
    assert_invalid("function handler(event) end\n", "the handler returned nil");
    assert_invalid("function handler(event) return 200 end\n", "the handler returned number");
    assert_invalid_at(EF_HOOK_VIEWER_RESPONSE, "function handler(event) return true end\n", "the handler returned boolean");
}

static void test_invalid_status(void **unused)
{
    assert_invalid("function handler(event) return {statusCode = 600} end\n", "statusCode 600 is outside 200-599");
    assert_invalid("function handler(event) return {statusCode = 199} end\n", "statusCode 199 is outside 200-599");
    assert_invalid("function handler(event) return {statusCode = 0} end\n", "statusCode 0 is outside 200-599");
    assert_invalid("function handler(event) return {statusCode = 200.5} end\n", "statusCode must be an integer, got a fraction");
    assert_invalid("function handler(event) return {statusCode = '200'} end\n", "statusCode must be an integer, got string");
    assert_invalid_at(EF_HOOK_VIEWER_RESPONSE,
                      "function handler(event) event.response.statusCode = 1000; return event.response end\n",
                      "statusCode 1000 is outside 200-599");
    assert_invalid_at(EF_HOOK_ORIGIN_RESPONSE,
                      "function handler(event) event.response.statusCode = 201.25; return event.response end\n",
                      "statusCode must be an integer");
    assert_invalid("function handler(event) return {statusCode = 200, statusDescription = 'a\\r\\nb'} end\n",
                   "statusDescription contains a line break");
}

static void test_invalid_body(void **unused)
{
    assert_invalid("function handler(event) return {statusCode = 204, body = 'x'} end\n", "a 204 response cannot have a body");
    assert_invalid("function handler(event) return {statusCode = 304, body = {data = 'x'}} end\n",
                   "a 304 response cannot have a body");
    assert_invalid_at(EF_HOOK_VIEWER_RESPONSE,
                      "function handler(event)\n"
                      "  event.response.statusCode = 204\n"
                      "  event.response.body = 'x'\n"
                      "  return event.response\n"
                      "end\n",
                      "a 204 response cannot have a body");
    assert_invalid("function handler(event) return {statusCode = 200, body = {encoding = 'gzip', data = 'x'}} end\n",
                   "body.encoding must be \"text\" or \"base64\", got \"gzip\"");
    assert_invalid("function handler(event) return {statusCode = 200, body = {encoding = 'base64', data = '!!!'}} end\n",
                   "body.data is not valid base64");
    assert_invalid("function handler(event) return {statusCode = 200, body = {encoding = 'base64'}} end\n",
                   "body.data must be a string, got nil");
    assert_invalid("function handler(event) return {statusCode = 200, body = 42} end\n", "body must be a string or");
    assert_invalid("function handler(event) return {statusCode = 200, body = {encoding = 1, data = 'x'}} end\n",
                   "body.encoding must be");
}

static void test_invalid_method_change(void **unused)
{
    assert_invalid("function handler(event) event.request.method = 'POST'; return event.request end\n",
                   "method is read-only (changed from GET to POST)");
    /* also in a table of the function's own */
    assert_invalid("function handler(event) return {method = 'DELETE', uri = '/'} end\n", "method is read-only");
    /* writing the same method is no change */
    assert_answers("function handler(event)\n"
                   "  event.request.method = 'GET'\n"
                   "  return {statusCode = 200, body = event.request.method}\n"
                   "end\n",
                   "GET");
}

static void test_invalid_headers(void **unused)
{
    static const char *const names[] = {"connection",       "transfer-encoding",   "upgrade", "keep-alive",
                                        "proxy-connection", "proxy-authorization", "te",      "trailer",
                                        "x-edgefn-id",      "content-length"};
    char code[512], why[128];

    for (size_t i = 0; i != sizeof(names) / sizeof(names[0]); ++i) {
        snprintf(why, sizeof(why), "header \"%s\"", names[i]);
        /* set on the request, at both request hooks */
        snprintf(code, sizeof(code),
                 "function handler(event) event.request.headers['%s'] = {value = '1'}; return event.request end\n", names[i]);
        assert_invalid_at(EF_HOOK_VIEWER_REQUEST, code, why);
        assert_invalid_at(EF_HOOK_ORIGIN_REQUEST, code, why);
        /* set on a response, at both response hooks */
        snprintf(code, sizeof(code),
                 "function handler(event) event.response.headers['%s'] = {value = '1'}; return event.response end\n", names[i]);
        assert_invalid_at(EF_HOOK_ORIGIN_RESPONSE, code, why);
        assert_invalid_at(EF_HOOK_VIEWER_RESPONSE, code, why);
        /* in a generated response */
        snprintf(code, sizeof(code), "function handler(event) return {statusCode = 200, headers = {['%s'] = {value = '1'}}} end\n",
                 names[i]);
        assert_invalid_at(EF_HOOK_VIEWER_REQUEST, code, why);
    }
    /* the reason says why */
    assert_invalid("function handler(event) event.request.headers.connection = {value = 'close'}; return event.request end\n",
                   "header \"connection\" is hop-by-hop: a function cannot set it (at viewer-request)");
    assert_invalid("function handler(event) event.request.headers['content-length'] = {value = '5'}; return event.request end\n",
                   "header \"content-length\" is set by edgefn from the body");
    assert_invalid("function handler(event) event.request.headers['x-edgefn-trace'] = {value = '1'}; return event.request end\n",
                   "header \"x-edgefn-trace\" is edgefn's own");
    /* deleting one is touching it too */
    assert_invalid("function handler(event) event.request.headers['proxy-authorization'] = nil; return event.request end\n",
                   "header \"proxy-authorization\" is hop-by-hop");
    /* names must be lowercase tokens */
    assert_invalid("function handler(event) event.request.headers['X-Upper'] = {value = '1'}; return event.request end\n",
                   "header name \"X-Upper\" is not a lower-case HTTP token");
    assert_invalid("function handler(event) event.request.headers['bad name'] = {value = '1'}; return event.request end\n",
                   "header name \"bad name\" is not a lower-case HTTP token");
    assert_invalid("function handler(event) event.request.headers['a:b'] = {value = '1'}; return event.request end\n",
                   "is not a lower-case HTTP token");
}

static void test_invalid_header_name_with_nul(void **unused)
{
    /* a NUL in a name would reach the origin or the viewer */
    assert_invalid("function handler(event) event.request.headers['x-a\\0b'] = {value = '1'}; return event.request end\n",
                   "is not a lower-case HTTP token");
    assert_invalid_at(EF_HOOK_VIEWER_RESPONSE,
                      "function handler(event) event.response.headers['\\0'] = {value = '1'}; return event.response end\n",
                      "is not a lower-case HTTP token");
}

static void test_invalid_header_values(void **unused)
{
    assert_invalid(
        "function handler(event) event.request.headers['x-a'] = {value = 'a\\r\\nx-injected: 1'}; return event.request end\n",
        "the value of header \"x-a\" contains a line break");
    assert_invalid("function handler(event) event.request.headers['x-a'] = {value = 'a\\nb'}; return event.request end\n",
                   "the value of header \"x-a\" contains a line break");
    assert_invalid("function handler(event)\n"
                   "  event.request.headers['x-a'] = {value = 'ok', multiValue = {{value = 'ok'}, {value = 'b\\rc'}}}\n"
                   "  return event.request\n"
                   "end\n",
                   "the value of header \"x-a\" contains a line break");
    assert_invalid_at(EF_HOOK_VIEWER_RESPONSE,
                      "function handler(event) event.response.headers['x-a'] = {value = 'a\\r\\n'}; return event.response end\n",
                      "the value of header \"x-a\" contains a line break");
    assert_invalid_at(EF_HOOK_VIEWER_RESPONSE,
                      "function handler(event)\n"
                      "  event.response.cookies.c = {value = 'v', attributes = 'Path=/\\r\\nx: y'}\n"
                      "  return event.response\n"
                      "end\n",
                      "the value of header \"set-cookie\" contains a line break");
    assert_invalid("function handler(event) event.request.cookies.c = {value = 'v\\nw'}; return event.request end\n",
                   "the value of header \"cookie\" contains a line break");
    assert_invalid("function handler(event) event.request.headers['x-a'] = {value = {}}; return event.request end\n",
                   "header \"x-a\": value must be a string, got table");
}

static void test_invalid_uri(void **unused)
{
    assert_invalid("function handler(event) event.request.uri = 'index.html'; return event.request end\n",
                   "uri \"index.html\" does not start with '/'");
    assert_invalid("function handler(event) event.request.uri = ''; return event.request end\n", "does not start with '/'");
    assert_invalid("function handler(event) event.request.uri = 'http://evil.example/'; return event.request end\n",
                   "does not start with '/'");
    assert_invalid("function handler(event) event.request.uri = '/a?b=c'; return event.request end\n", "uri contains '?'");
    assert_invalid("function handler(event) event.request.uri = '/a b'; return event.request end\n",
                   "uri contains whitespace or a control character");
    assert_invalid("function handler(event) event.request.uri = 42; return event.request end\n",
                   "uri must be a string, got number");
}

static void test_invalid_response_hook_returns_request(void **unused)
{
    assert_invalid_at(EF_HOOK_ORIGIN_RESPONSE, "function handler(event) return event.request end\n",
                      "at origin-response a function must return a response (a table with statusCode), not the request");
    assert_invalid_at(EF_HOOK_VIEWER_RESPONSE, "function handler(event) return event.request end\n",
                      "at viewer-response a function must return a response (a table with statusCode), not the request");
    assert_invalid_at(EF_HOOK_VIEWER_RESPONSE, "function handler(event) return {} end\n", "must return a response");
}

/* ---- 3. the sandbox ---- */

static void test_sandbox_no_io_os(void **unused)
{
    assert_fails("function handler(event) return io.open('/etc/passwd') end\n", "global 'io'");
    assert_fails("function handler(event) return os.execute('touch /tmp/edgefn-escaped') end\n", "global 'os'");
    assert_fails("function handler(event) return os.getenv('HOME') end\n", "global 'os'");
    assert_answers("function handler(event)\n"
                   "  return {statusCode = 200, body = table.concat({type(io), type(os), type(debug), type(package),\n"
                   "    type(coroutine), type(dofile), type(loadfile), type(_G), type(require), type(load)}, ' ')}\n"
                   "end\n",
                   "nil nil nil nil nil nil nil nil function function");
}

static void test_sandbox_require(void **unused)
{
    /* a system module is not there to be found; names that would leave the code directory are refused */
    assert_fails("function handler(event) return require('os') end\n", "require \"os\": cannot read");
    assert_fails("function handler(event) return require('io') end\n", "require \"io\": cannot read");
    assert_fails("function handler(event) return require('debug') end\n", "require \"debug\": cannot read");
    assert_fails("function handler(event) return require('../x') end\n", "require: invalid module name \"../x\"");
    assert_fails("function handler(event) return require('/etc/passwd') end\n", "require: invalid module name \"/etc/passwd\"");
    assert_fails("function handler(event) return require('a..b') end\n", "invalid module name");
    assert_fails("function handler(event) return require('.hidden') end\n", "invalid module name");
    assert_fails("function handler(event) return require('x\\0y') end\n", "invalid module name");
    assert_fails("function handler(event) return require('') end\n", "empty module name");
}

static void test_sandbox_require_modules(void **unused)
{
    /* the function's own modules: from its directory, dotted names in subdirectories, once per invocation, fresh each time */
    runner_t *r = new_runner();
    char sub[PATH_MAX + 8];
    snprintf(sub, sizeof(sub), "%s/lib", r->dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    write_file(sub, "counter.lua",
               "local n = 0\n"
               "local M = {}\n"
               "function M.next() n = n + 1; return n end\n"
               "return M\n");
    write_file(r->dir, "plain.lua", "greeting = 'hi'\n"); /* returns nothing: require gives true */
    add_fn(r, "fn",
           "local c = require('lib.counter')\n"
           "function handler(event)\n"
           "  local again = require('lib.counter')\n"
           "  local p = require('plain')\n"
           "  return {statusCode = 200, body = table.concat({c.next(), again.next(), tostring(c == again), tostring(p),\n"
           "    greeting}, ' ')}\n"
           "end\n");
    start(r);
    for (int i = 0; i != 2; ++i) {
        call_t c;
        assert_string_equal(answer(r, &c), "1 2 true true hi");
        call_dispose(&c);
    }
    dispose_runner(r);
}

static void test_sandbox_code_directory(void **unused)
{
    /* a directory function from the data dir: index.lua requiring lib/util.lua */
    runner_t *r = new_runner();
    ef_function_t *fn = define(r, "dir", EF_TEST_DATA_DIR "/dirfn", EF_TEST_DATA_DIR "/dirfn/index.lua", "handler", 2 * MB,
                               CALM_TIMEOUT_MS, 64 * KB);
    char err[1024] = "";
    if (ef_lua_runtime.prepare(fn, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    start(r);
    call_t c;
    call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/Some/Path");
    call_run(r, 0, &c);
    assert_status(&c, EF_INVOKE_OK);
    assert_int_equal(c.ev.outcome, EF_EVENT_CONTINUE);
    assert_true(c.ev.request_path_changed);
    assert_string_equal(str(&c, c.ev.request.path), "/some/path");
    call_dispose(&c);
    dispose_runner(r);
}

static void test_sandbox_load(void **unused)
{
    /* string.dump is gone, so there is no bytecode to make */
    assert_answers("function handler(event)\n"
                   "  return {statusCode = 200, body = type(string.dump) .. ' ' .. type(('').dump)}\n"
                   "end\n",
                   "nil nil");
    /* binary modes are refused outright */
    assert_fails("function handler(event) return load('return 1', 'x', 'b') end\n", "only text chunks can be loaded");
    assert_fails("function handler(event) return load('return 1', 'x', 'bt') end\n", "only text chunks can be loaded");
    /* a binary chunk in text mode: load says no, as a value the function can see */
    assert_answers("function handler(event)\n"
                   "  local f, err = load('\\27LuaT\\0\\25\\147\\r\\n\\26\\n\\4\\8\\8xV')\n"
                   "  return {statusCode = 200, body = tostring(f) .. ': ' .. err}\n"
                   "end\n",
                   "nil: attempt to load a binary chunk (mode is 't')");
    /* through a reader function too */
    assert_answers("function handler(event)\n"
                   "  local parts = {'\\27Lua', 'T\\0'}\n"
                   "  local i = 0\n"
                   "  local f, err = load(function() i = i + 1; return parts[i] end)\n"
                   "  return {statusCode = 200, body = tostring(f) .. ': ' .. err}\n"
                   "end\n",
                   "nil: attempt to load a binary chunk (mode is 't')");
    /* text chunks run in the invocation's own environment: still no io, and their globals are the invocation's */
    assert_answers("function handler(event)\n"
                   "  load('x = 5')()\n"
                   "  return {statusCode = 200, body = tostring(load('return io')()) .. ' ' .. x}\n"
                   "end\n",
                   "nil 5");
    /* an explicit env of nil is no way out either */
    assert_fails("function handler(event) return load('return io', 'c', 't', nil)() end\n", "attempt to index a nil value");
}

static void test_sandbox_collectgarbage(void **unused)
{
    static const char *const opts[] = {"collect",    "stop",        "restart",      "step",     "setpause",
                                       "setstepmul", "incremental", "generational", "isrunning"};
    char code[256], why[128];
    for (size_t i = 0; i != sizeof(opts) / sizeof(opts[0]); ++i) {
        snprintf(code, sizeof(code), "function handler(event) collectgarbage('%s') return event.request end\n", opts[i]);
        snprintf(why, sizeof(why), "collectgarbage(\"%s\") is not allowed", opts[i]);
        assert_fails(code, why);
    }
    assert_fails("function handler(event) collectgarbage() return event.request end\n",
                 "collectgarbage(\"collect\") is not allowed");
    /* counting is harmless */
    assert_answers("function handler(event) return {statusCode = 200, body = type(collectgarbage('count'))} end\n", "number");
}

static void test_sandbox_library_tables_read_only(void **unused)
{
    assert_fails("function handler(event) string.upper = nil return event.request end\n", "attempt to modify a read-only table");
    assert_fails("function handler(event) string.evil = 1 return event.request end\n", "attempt to modify a read-only table");
    assert_fails("function handler(event) math.pi = 3 return event.request end\n", "attempt to modify a read-only table");
    assert_fails("function handler(event) table.insert = print return event.request end\n", "attempt to modify a read-only table");
    assert_fails("function handler(event) console.log = nil return event.request end\n", "attempt to modify a read-only table");
    assert_fails("function handler(event) crypto.hash = nil return event.request end\n", "attempt to modify a read-only table");
    /* rawset goes no further */
    assert_fails("function handler(event) rawset(string, 'upper', 1) return event.request end\n",
                 "attempt to modify a read-only table");
    assert_fails("function handler(event) rawset(math, 'floor', 1) return event.request end\n",
                 "attempt to modify a read-only table");
    assert_fails("function handler(event) rawset(base64, 'encode', 1) return event.request end\n",
                 "attempt to modify a read-only table");
    /* nor setmetatable: the proxies' metatables are protected */
    assert_fails("function handler(event) setmetatable(string, {}) return event.request end\n",
                 "cannot change a protected metatable");
    /* the proxies show nothing raw, but iterate and read normally */
    assert_answers(
        "function handler(event)\n"
        "  local n = 0\n"
        "  for k, v in pairs(string) do n = n + 1 end\n"
        "  return {statusCode = 200, body = tostring(rawget(string, 'upper')) .. ' ' .. tostring(next(string)) .. ' ' ..\n"
        "    tostring(n > 10) .. ' ' .. tostring(getmetatable(string)) .. ' ' .. string.upper('ok')}\n"
        "end\n",
        "nil nil true false OK");
}

static void test_sandbox_string_metatable(void **unused)
{
    runner_t *r = new_runner();
    add_fn(r, "tamper",
           "function handler(event)\n"
           "  local op = event.request.uri\n"
           "  if op == '/get' then return {statusCode = 200, body = tostring(getmetatable(''))} end\n"
           "  if op == '/index' then getmetatable('').__index = {upper = function() return 'pwned' end} end\n"
           "  if op == '/set' then setmetatable('', {}) end\n"
           "  if op == '/method' then local s = ''; s.upper = nil end\n"
           "  return {statusCode = 200, body = ('ok'):upper()}\n"
           "end\n");
    start(r);
    static const struct {
        const char *path;
        ef_invoke_status_t status;
        const char *out;
    } steps[] = {
        {"/get", EF_INVOKE_OK, "false"},
        {"/index", EF_INVOKE_FAILED, "attempt to index a boolean value"},
        {"/set", EF_INVOKE_FAILED, "bad argument #1 to 'setmetatable' (table expected, got string)"},
        {"/method", EF_INVOKE_FAILED, "attempt to index a string value"},
        {"/", EF_INVOKE_OK, "OK"}, /* strings still work, as they did */
    };
    for (size_t i = 0; i != sizeof(steps) / sizeof(steps[0]); ++i) {
        call_t c;
        call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", steps[i].path);
        call_run(r, 0, &c);
        assert_status(&c, steps[i].status);
        if (steps[i].status == EF_INVOKE_OK)
            assert_string_equal(str(&c, c.ev.response.body), steps[i].out);
        else
            assert_contains(c.inv.error, steps[i].out);
        call_dispose(&c);
    }
    dispose_runner(r);
}

static void on_warn(void *ud, const char *msg, int tocont)
{
    *(int *)ud += 1;
}

static void test_sandbox_gc_metamethods(void **unused)
{
    assert_fails("function handler(event) setmetatable({}, {__gc = function() end}) return event.request end\n",
                 "__gc metamethods are not allowed");
    assert_fails("function handler(event) setmetatable({}, {__gc = true}) return event.request end\n",
                 "__gc metamethods are not allowed");
    /* __gc found through __index counts as __gc */
    assert_fails("function handler(event)\n"
                 "  setmetatable({}, setmetatable({}, {__index = {__gc = function() end}}))\n"
                 "  return event.request\n"
                 "end\n",
                 "__gc metamethods are not allowed");

    /* __gc added after setmetatable never makes the object finalizable: after a full collection, nothing has run.
     * A finalizer that errors shows as a warning, which the test catches. */
    runner_t *r = start_one("function handler(event)\n"
                            "  local mt = {}\n"
                            "  for i = 1, 100 do setmetatable({}, mt) end\n"
                            "  mt.__gc = function() error('finalizer ran') end\n"
                            "  return {statusCode = 200, body = 'ok'}\n"
                            "end\n");
    lua_State *L = ((ef_lua_thread_t *)r->state)->L;
    int warnings = 0;
    lua_setwarnf(L, on_warn, &warnings);
    call_t c;
    assert_string_equal(answer(r, &c), "ok");
    call_dispose(&c);
    lua_gc(L, LUA_GCCOLLECT);
    lua_gc(L, LUA_GCCOLLECT);
    assert_int_equal(warnings, 0);
    /* the control: a real finalizer that errors is noticed */
    assert_int_equal(luaL_dostring(L, "setmetatable({}, {__gc = function() error('control') end})"), LUA_OK);
    lua_gc(L, LUA_GCCOLLECT);
    assert_true(warnings > 0);
    dispose_runner(r);
}

static void test_sandbox_event_metatables(void **unused)
{
    assert_answers(
        "function handler(event)\n"
        "  return {statusCode = 200, body = tostring(getmetatable(event)) .. ' ' .. tostring(getmetatable(event.request))\n"
        "    .. ' ' .. tostring(getmetatable(event.request.headers))}\n"
        "end\n",
        "false false false");
    assert_fails("function handler(event) setmetatable(event.request, {}) return event.request end\n",
                 "cannot change a protected metatable");
    assert_fails("function handler(event) setmetatable(event, nil) return event.request end\n",
                 "cannot change a protected metatable");
    assert_fails("function handler(event) setmetatable(event.request.headers, {__index = function() return 1 end}) end\n",
                 "cannot change a protected metatable");
    /* the event objects are reused, emptied of what went in through their metamethods: rawset may not go around them */
    assert_fails("function handler(event) rawset(event.request, 'method', 'PUT') return event.request end\n",
                 "rawset is not allowed on the event");
    assert_fails("function handler(event) rawset(event.request.headers, 'x-a', {value = '1'}) return event.request end\n",
                 "rawset is not allowed on the event");
    /* a method written by assignment is caught */
    assert_invalid("function handler(event) event.request.method = 'PUT' return event.request end\n", "method is read-only");
    /* a request table of the function's own with a metatable that lies is read through it, and checked the same */
    assert_invalid("function handler(event)\n"
                   "  return setmetatable({}, {__index = function(t, k) if k == 'uri' then return 'relative' end end})\n"
                   "end\n",
                   "does not start with '/'");
}

static void test_sandbox_nothing_survives_an_invocation(void **unused)
{
    runner_t *r = new_runner();
    add_fn(r, "globals",
           "top = (top or 0) + 1\n"
           "local n = 0\n"
           "function handler(event)\n"
           "  n = n + 1\n"
           "  count = (count or 0) + 1\n"
           "  _ENV.print = nil\n"
           "  tostring = function() return 'hijacked' end\n"
           "  return {statusCode = 200, body = top .. ' ' .. n .. ' ' .. count}\n"
           "end\n");
    add_fn(r, "other",
           "function handler(event)\n"
           "  print('print still works')\n"
           "  return {statusCode = 200, body = tostring(count) .. ' ' .. tostring(top) .. ' ' .. tostring(1)}\n"
           "end\n");
    start(r);
    for (int i = 0; i != 3; ++i) {
        call_t c;
        assert_string_equal(answer(r, &c), "1 1 1");
        call_dispose(&c);
    }
    call_t c;
    call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/");
    call_run(r, 1, &c);
    assert_status(&c, EF_INVOKE_OK);
    assert_string_equal(str(&c, c.ev.response.body), "nil nil 1");
    assert_int_equal(c.num_lines, 1);
    assert_string_equal(c.lines[0], "print still works");
    call_dispose(&c);
    dispose_runner(r);
}

/* Answers of `calls` invocations of one function, joined by "|". */
static const char *answers(runner_t *r, int calls, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i != calls; ++i) {
        call_t c;
        const char *a = answer(r, &c);
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i == 0 ? "" : "|", a);
        call_dispose(&c);
    }
    return buf;
}

static void test_module_runs_once_and_is_read_only(void **unused)
{
    char buf[512];
    /* the top level runs once per thread: a value it computed is the same in every invocation */
    runner_t *r = start_one("local loaded = crypto.random(8, 'hex')\n"
                            "function handler(event) return {statusCode = 200, body = loaded} end\n");
    answers(r, 3, buf, sizeof(buf));
    assert_int_equal(strlen(buf), 3 * 16 + 2);
    assert_memory_equal(buf, buf + 17, 16);
    assert_memory_equal(buf, buf + 34, 16);
    dispose_runner(r);

    /* what it built reads as it did: fields, #, ipairs, pairs, next, rawget, rawlen, table.concat, unpack, nesting */
    r = start_one("local CONFIG = {name = 'x', list = {'a', 'b', 'c'}, nested = {deep = {value = 7}}}\n"
                  "function handler(event)\n"
                  "  local keys = {}\n"
                  "  for k in pairs(CONFIG) do keys[#keys + 1] = k end\n"
                  "  table.sort(keys)\n"
                  "  local n = 0\n"
                  "  for i, v in ipairs(CONFIG.list) do n = n + i end\n"
                  "  return {statusCode = 200, body = table.concat({CONFIG.name, #CONFIG.list, n, table.concat(keys, ','),\n"
                  "    table.concat(CONFIG.list, ''), select('#', table.unpack(CONFIG.list)), tostring(next(CONFIG) ~= nil),\n"
                  "    rawget(CONFIG, 'name'), rawlen(CONFIG.list), CONFIG.nested.deep.value}, ' ')}\n"
                  "end\n");
    assert_string_equal(answers(r, 2, buf, sizeof(buf)),
                        "x 3 6 list,name,nested abc 3 true x 3 7|x 3 6 list,name,nested abc 3 true x 3 7");
    dispose_runner(r);

    /* and cannot be changed by an invocation: assignment, table.insert, rawset, setmetatable, a nested table */
    static const char *const writes[] = {"CONFIG.name = 'y'", "table.insert(CONFIG.list, 'd')", "rawset(CONFIG, 'k', 1)",
                                         "CONFIG.nested.deep.value = 8",
                                         "table.sort(CONFIG.list, function(a, b) return a > b end)"};
    for (size_t i = 0; i != sizeof(writes) / sizeof(writes[0]); ++i) {
        char code[512];
        snprintf(code, sizeof(code),
                 "local CONFIG = {name = 'x', list = {'a', 'b', 'c'}, nested = {deep = {value = 7}}}\n"
                 "function handler(event) %s return event.request end\n",
                 writes[i]);
        runner_t *w = start_one(code);
        call_t c;
        call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/");
        call_run(w, 0, &c);
        assert_status(&c, EF_INVOKE_FAILED);
        if (!has_substring(c.inv.error, "read-only"))
            fail_msg("%s: %s", writes[i], c.inv.error);
        call_dispose(&c);
        dispose_runner(w);
    }
    assert_fails("local T = {}\nfunction handler(event) setmetatable(T, {}) end\n", "protected metatable");
}

static void test_module_locals_and_globals_are_put_back(void **unused)
{
    char buf[256];
    /* a module-level local changed by an invocation (a counter, a table replaced, a cache filled) is put back */
    runner_t *r = start_one("local n, cache, seen = 0, nil, {}\n"
                            "function handler(event)\n"
                            "  n = n + 1\n"
                            "  local was = cache\n"
                            "  cache = cache or {}\n"
                            "  seen = {event.request.uri}\n"
                            "  return {statusCode = 200, body = n .. ' ' .. tostring(was) .. ' ' .. #seen}\n"
                            "end\n");
    assert_string_equal(answers(r, 3, buf, sizeof(buf)), "1 nil 1|1 nil 1|1 nil 1");
    dispose_runner(r);

    /* globals: an invocation's own; one the module defined reads as it did, even after an invocation assigned it */
    r = start_one("LIMIT = 10\n"
                  "function handler(event)\n"
                  "  local before = LIMIT\n"
                  "  LIMIT = LIMIT + 1\n"
                  "  scratch = (scratch or 0) + 1\n"
                  "  return {statusCode = 200, body = before .. ' ' .. LIMIT .. ' ' .. scratch}\n"
                  "end\n");
    assert_string_equal(answers(r, 2, buf, sizeof(buf)), "10 11 1|10 11 1");
    dispose_runner(r);

    /* functions load() made at the top level write to the invocation's globals too */
    r = start_one("local bump = load('counter = (counter or 0) + 1 return counter')\n"
                  "function handler(event) return {statusCode = 200, body = tostring(bump())} end\n");
    assert_string_equal(answers(r, 2, buf, sizeof(buf)), "1|1");
    dispose_runner(r);
}

static void test_module_classes(void **unused)
{
    char buf[256];
    /* a class built at the top level: instances made there and in invocations work, getmetatable answers the class */
    runner_t *r =
        start_one("local Point = {}\n"
                  "Point.__index = Point\n"
                  "Point.__tostring = function(p) return '(' .. p.x .. ',' .. p.y .. ')' end\n"
                  "Point.__eq = function(a, b) return a.x == b.x and a.y == b.y end\n"
                  "function Point.new(x, y) return setmetatable({x = x, y = y}, Point) end\n"
                  "function Point:sum() return self.x + self.y end\n"
                  "local origin = Point.new(0, 0)\n"
                  "function handler(event)\n"
                  "  local p = Point.new(1, 2)\n"
                  "  p.x = 3\n"
                  "  return {statusCode = 200, body = table.concat({tostring(p), p:sum(), tostring(origin), origin:sum(),\n"
                  "    tostring(getmetatable(p) == Point), tostring(getmetatable(origin) == Point),\n"
                  "    tostring(p == Point.new(3, 2))}, ' ')}\n"
                  "end\n");
    assert_string_equal(answers(r, 2, buf, sizeof(buf)), "(3,2) 5 (0,0) 0 true true true|(3,2) 5 (0,0) 0 true true true");
    dispose_runner(r);
    /* a module-level __index function is handed the frozen table's contents: read-only too, so a cache it fills in one
     * invocation cannot be read in the next */
    assert_fails("local squares = setmetatable({}, {__index = function(t, k) rawset(t, k, k * k) return k * k end})\n"
                 "function handler(event) return {statusCode = 200, body = tostring(squares[3])} end\n",
                 "read-only");
    assert_fails("local squares = setmetatable({}, {__index = function(t, k) t[k] = k * k return k * k end})\n"
                 "function handler(event) return {statusCode = 200, body = tostring(squares[3])} end\n",
                 "read-only");
    /* the class itself stays read-only, through an instance too */
    assert_fails("local C = {}\nC.__index = C\nlocal obj = setmetatable({}, C)\n"
                 "function handler(event) getmetatable(obj).evil = true end\n",
                 "read-only");
}

static void test_module_that_cannot_be_shared_runs_every_time(void **unused)
{
    char buf[256];
    /* an iterator kept at the top level holds state no table can freeze: the module runs afresh for every invocation */
    runner_t *r = start_one("local words = string.gmatch('a b c', '%a')\n"
                            "local loaded = crypto.random(4, 'hex')\n"
                            "local cache = {}\n"
                            "function handler(event)\n"
                            "  cache[#cache + 1] = words()\n"
                            "  return {statusCode = 200, body = table.concat(cache) .. ' ' .. loaded}\n"
                            "end\n");
    answers(r, 2, buf, sizeof(buf));
    /* "a <id1>|a <id2>": the same first word, and the top level ran again */
    assert_int_equal(strlen(buf), 2 * (2 + 8) + 1);
    assert_memory_equal(buf, "a ", 2);
    assert_memory_equal(buf + 11, "a ", 2);
    assert_memory_not_equal(buf + 2, buf + 13, 8);
    dispose_runner(r);
}

static void test_sandbox_random_is_not_predictable(void **unused)
{
    /* the generator is the thread's: a seed set in one invocation must not make the next one's numbers predictable */
    runner_t *r = start_one("function handler(event)\n"
                            "  math.randomseed(42)\n"
                            "  return {statusCode = 200, body = tostring(math.random(1 << 40))}\n"
                            "end\n");
    call_t c1, c2;
    const char *a = answer(r, &c1), *b = answer(r, &c2);
    if (strcmp(a, b) == 0)
        fail_msg("two invocations seeded with 42 drew the same number, %s", a);
    call_dispose(&c1);
    call_dispose(&c2);
    dispose_runner(r);
}

static void test_sandbox_no_coroutines(void **unused)
{
    assert_fails("function handler(event) local co = coroutine.create(function() end) end\n", "global 'coroutine'");
    assert_fails("function handler(event) coroutine.wrap(function() while true do end end)() end\n", "global 'coroutine'");
}

/* ---- 4. limits ---- */

/* After a bomb, the same function on the same state: pcall, a loop longer than one hook period, some memory. */
#define HEALTHY                                                                                                                    \
    "  local ok, err = pcall(error, 'caught')\n"                                                                                   \
    "  local s = string.rep('x', 100000)\n"                                                                                        \
    "  local n = 0\n"                                                                                                              \
    "  for i = 1, 20000 do n = n + i end\n"                                                                                        \
    "  return {statusCode = 200, body = tostring(ok) .. ' ' .. err .. ' ' .. #s .. ' ' .. n}\n"
#define HEALTHY_BODY "false caught 100000 200010000"

/* What a guarded child saw of a bomb (call 0) and the two healthy calls after it; shared with the parent. */
struct st_bomb_result_t {
    int completed[3];
    ef_invoke_status_t status[3];
    ef_event_outcome_t outcome[3];
    char error[3][256];
    char body[3][64];
    uint64_t budget_ns[3], duration_ns[3];
    size_t num_lines; /* of the bomb */
    int error_logged; /* a line of the bomb's log contains its inv.error */
    char log[4096];   /* the bomb's log lines, for failure messages */
};

static void run_bomb(runner_t *r, struct st_bomb_result_t *res)
{
    for (int i = 0, tries = 0; i != 3; ++i) {
        call_t c;
        call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", i == 0 ? "/bomb" : "/");
        call_invoke(r, 0, &c);
        /* the budget is wall-clock time: a healthy call (microseconds of work) stopped by it was preempted for the whole
         * budget on a saturated machine, not poisoned; it gets another go (a poisoned state fails every time) */
        if (i != 0 && c.inv.status == EF_INVOKE_LIMIT && c.inv.limit == EF_LIMIT_TIMEOUT && ++tries <= 5) {
            call_dispose(&c);
            --i;
            continue;
        }
        res->completed[i] = c.completed;
        res->status[i] = c.inv.status;
        res->outcome[i] = c.ev.outcome;
        memcpy(res->error[i], c.inv.error, sizeof(res->error[i]));
        if (c.ev.response.has_body)
            snprintf(res->body[i], sizeof(res->body[i]), "%.*s", (int)c.ev.response.body.len, c.ev.response.body.base);
        res->budget_ns[i] = c.inv.budget_ns;
        res->duration_ns[i] = c.inv.duration_ns;
        if (i == 0) {
            res->num_lines = c.num_lines;
            res->error_logged = c.inv.error[0] != '\0' && find_line(&c, c.inv.error) >= 0;
            for (size_t j = 0; j != c.num_lines; ++j)
                snprintf(res->log + strlen(res->log), sizeof(res->log) - strlen(res->log), "%s%s", j != 0 ? " | " : "", c.lines[j]);
        }
        call_dispose(&c);
    }
}

#define WATCHDOG_SECONDS 5
#define OVERSHOOT_NS 250000000ull

/**
 * `bomb` (Lua statements) runs on /bomb; otherwise the function is healthy. The bomb must fail with an error containing
 * `error`, and the next two invocations on the same state must work. All three run in a child that is killed after
 * WATCHDOG_SECONDS, so that a budget that is not enforced fails the test instead of hanging it.
 */
static void assert_bomb_with(const char *bomb, uint64_t memory, uint64_t timeout_ms, const char *error)
{
    char code[4096];
    snprintf(code, sizeof(code),
             "function handler(event)\n"
             "  if event.request.uri == '/bomb' then\n"
             "%s\n"
             "  end\n" HEALTHY "end\n",
             bomb);
    runner_t *r = new_runner();
    add_fn_limits(r, "fn", code, memory, timeout_ms);
    start(r);

    struct st_bomb_result_t *res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(res != MAP_FAILED);
    memset(res, 0, sizeof(*res));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(WATCHDOG_SECONDS);
        run_bomb(r, res);
        _exit(0);
    }
    int wstatus;
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    if (WIFSIGNALED(wstatus))
        fail_msg("bomb \"%s\": %s (signal %d)", bomb,
                 WTERMSIG(wstatus) == SIGALRM ? "the invocation did not end within " TOSTRING(WATCHDOG_SECONDS) " s"
                                              : "the process crashed",
                 WTERMSIG(wstatus));
    assert_true(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);

    assert_int_equal(res->completed[0], 1);
    /* a limit (CPU, memory) stops a function; anything else it raised is its own error */
    ef_invoke_status_t expected = strstr(error, "exceeded") != NULL ? EF_INVOKE_LIMIT : EF_INVOKE_FAILED;
    if (res->status[0] != expected || !has_substring(res->error[0], error))
        fail_msg("bomb \"%s\": status %d, error \"%s\", expected %d with \"%s\"; log: %s", bomb, (int)res->status[0], (int)expected,
                 res->error[0], error, res->log);
    assert_int_equal(res->budget_ns[0], timeout_ms * 1000000ull);
    /* stopped soon after its budget ran out (with room for a busy machine) */
    if (res->duration_ns[0] > res->budget_ns[0] + OVERSHOOT_NS)
        fail_msg("bomb \"%s\": stopped after %.1f ms, with a budget of %llu ms", bomb, res->duration_ns[0] / 1e6,
                 (unsigned long long)timeout_ms);
    /* the function's log says why */
    if (!res->error_logged)
        fail_msg("bomb \"%s\": the log does not say \"%s\": %s", bomb, res->error[0], res->log);

    /* the state is not poisoned: twice, to be sure */
    for (int i = 1; i != 3; ++i) {
        assert_int_equal(res->completed[i], 1);
        if (res->status[i] != EF_INVOKE_OK)
            fail_msg("bomb \"%s\": invocation %d after it: status %d, error \"%s\"", bomb, i, (int)res->status[i], res->error[i]);
        assert_int_equal(res->outcome[i], EF_EVENT_RESPOND);
        assert_string_equal(res->body[i], HEALTHY_BODY);
        assert_true(res->duration_ns[i] < res->budget_ns[i]);
    }
    munmap(res, sizeof(*res));
    dispose_runner(r);
}

#define CPU_ERROR "CPU budget of " BOMB_TIMEOUT_TEXT " exceeded"
#define MEMORY_ERROR "memory limit of 2048 KB exceeded"

/* memory bombs get CPU to spare, so that it is the memory limit that stops them */
#define MEMORY_BOMB_TIMEOUT_MS 1000 /* a sanitizer build on a busy machine needs it */

static void assert_cpu_bomb(const char *bomb)
{
    assert_bomb_with(bomb, 2 * MB, BOMB_TIMEOUT_MS, CPU_ERROR);
}

static void assert_memory_bomb(const char *bomb)
{
    assert_bomb_with(bomb, 2 * MB, MEMORY_BOMB_TIMEOUT_MS, MEMORY_ERROR);
}

static void test_limit_memory_string_rep(void **unused)
{
    assert_memory_bomb("local s = string.rep('x', 1 << 30)");
    assert_memory_bomb("local s = ('x'):rep(1500 * 1024 * 1024)");
    assert_memory_bomb("local s = string.rep('abc', 1000000, ',')");
}

static void test_limit_memory_pcall_cannot_catch(void **unused)
{
    /* an allocation that grows the Lua heap (tables, the stack, new strings) */
    assert_memory_bomb("local ok = pcall(function() local t = {} while true do t[#t + 1] = {} end end)\n"
                       "return {statusCode = 200, body = 'survived'}");
    /* a buffer of the string library (string.rep, table.concat, string.format, gsub) */
    assert_memory_bomb("pcall(string.rep, 'x', 1 << 30)\n"
                       "return {statusCode = 200, body = 'survived'}");
    assert_memory_bomb("for i = 1, 100 do pcall(string.rep, 'x', 1 << 30) end\n"
                       "return {statusCode = 200, body = 'survived'}");
    assert_memory_bomb("local t = {} for i = 1, 1000 do t[i] = string.rep('x', 1000) end\n"
                       "local ok = pcall(table.concat, t, string.rep(',', 1000))\n"
                       "return {statusCode = 200, body = 'survived'}");
}

static void test_limit_memory_growth(void **unused)
{
    assert_memory_bomb("local t = {} for i = 1, 1e9 do t[i] = i end");
    assert_memory_bomb("local t = {} while true do t[#t + 1] = {} end");
    assert_memory_bomb("local t = {} local i = 0 while true do i = i + 1 t['k' .. i] = i end");
    assert_memory_bomb("local s = 'x' while true do s = s .. s end");
    assert_memory_bomb("local parts = {} for i = 1, 1e9 do parts[i] = 'xxxxxxxxxxxxxxxx' .. i end");
    /* the memory is the function's own: another limit, another message */
    assert_bomb_with("local t = {} while true do t[#t + 1] = {} end", 4 * MB, MEMORY_BOMB_TIMEOUT_MS,
                     "memory limit of 4096 KB exceeded");
}

/* Runs `code` (a whole module) on GET / with `memory` bytes, three times on one state; each must answer `body`. */
static void assert_fits(const char *code, uint64_t memory, const char *body)
{
    runner_t *r = new_runner();
    add_fn_limits(r, "fn", code, memory, CALM_TIMEOUT_MS);
    start(r);
    for (int i = 0; i != 3; ++i) {
        call_t c;
        call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/");
        call_run(r, 0, &c);
        assert_status(&c, EF_INVOKE_OK);
        assert_string_equal(str(&c, c.ev.response.body), body);
        assert_true(c.inv.memory_bytes <= memory);
        call_dispose(&c);
    }
    dispose_runner(r);
}

/* 2.4 MB of strings that live long enough to be old, then dropped: garbage a minor collection does not free */
#define OLD_GARBAGE                                                                                                                \
    "  local keep = {}\n"                                                                                                          \
    "  for i = 1, 6 do keep[i] = string.rep('k', 400000) end\n"                                                                    \
    "  keep = nil\n"

static void test_limit_memory_garbage_is_not_counted(void **unused)
{
    /* lots allocated, little alive at once */
    assert_fits("function handler(event)\n"
                "  local n = 0\n"
                "  for i = 1, 40 do n = n + #string.rep('x', 300000) end\n"
                "  return {statusCode = 200, body = tostring(n)}\n"
                "end\n",
                2 * MB, "12000000");
    /* with old garbage about, 1.6 MB of table or 1.5 MB of string fit in 4 MB: Lua's emergency collection frees it */
    assert_fits("function handler(event)\n" OLD_GARBAGE "  local t = {}\n"
                "  for i = 1, 100000 do t[i] = i end\n"
                "  return {statusCode = 200, body = tostring(#t)}\n"
                "end\n",
                4 * MB, "100000");
    assert_fits("function handler(event)\n" OLD_GARBAGE "  local s = string.rep('b', 750000) .. string.rep('c', 750000)\n"
                "  return {statusCode = 200, body = tostring(#s)}\n"
                "end\n",
                4 * MB, "1500000");
}

static void test_limit_memory_garbage_is_not_counted_in_buffers(void **unused)
{
    /* The same for the string library's buffers (string.rep, table.concat, string.format, gsub), which Lua's
     * auxiliary library allocates without an emergency collection and retry. 1.9 MB of string.rep (a 1.9 MB buffer,
     * then the 1.9 MB string) fits in 4 MB on its own: */
    assert_fits("function handler(event)\n"
                "  local s = string.rep('b', 1900000)\n"
                "  return {statusCode = 200, body = tostring(#s)}\n"
                "end\n",
                4 * MB, "1900000");
    /* and after garbage, too */
    assert_fits("function handler(event)\n" OLD_GARBAGE "  local s = string.rep('b', 1900000)\n"
                "  return {statusCode = 200, body = tostring(#s)}\n"
                "end\n",
                4 * MB, "1900000");
}

static void test_limit_cpu(void **unused)
{
    assert_cpu_bomb("while true do end");
    assert_cpu_bomb("local n = 0 for i = 1, math.maxinteger do n = n + 1 end");
    /* inside pcall, repeatedly */
    assert_cpu_bomb("pcall(function() while true do end end)\n"
                    "return {statusCode = 200, body = 'survived'}");
    assert_cpu_bomb("for i = 1, 1000 do pcall(function() while true do end end) end\n"
                    "return {statusCode = 200, body = 'survived'}");
    assert_cpu_bomb("while true do pcall(error, 'x') end");
    /* xpcall whose function loops (for loops in its handler, see test_limit_cpu_xpcall_handler) */
    assert_cpu_bomb("xpcall(function() while true do end end, function(e) return e end)\n"
                    "return {statusCode = 200, body = 'survived'}");
    /* a loop in a metamethod, in __tostring called by print, in a sort comparator */
    assert_cpu_bomb("local t = setmetatable({}, {__index = function() while true do end end}) local x = t.x");
    assert_cpu_bomb("print(setmetatable({}, {__tostring = function() while true do end end}))");
    assert_cpu_bomb("local t = {} for i = 1, 100 do t[i] = i end table.sort(t, function(a, b) while true do end end)");
    /* in a to-be-closed variable's __close, run while the error unwinds, and on a normal exit */
    assert_cpu_bomb("local x <close> = setmetatable({}, {__close = function() while true do end end}) while true do end");
    assert_cpu_bomb("do local x <close> = setmetatable({}, {__close = function() while true do end end}) end");
    /* in code given to load */
    assert_cpu_bomb("load('while true do end')()");
    /* tail calls forever */
    assert_cpu_bomb("local function f() return f() end f()");
    /* a pcall tree that would outlive the universe */
    assert_cpu_bomb("local function f() pcall(f) pcall(f) end f()");
}

/*
 * The bombs above run in a child process, where a thread state made before the fork
 * has no watchdog timer and falls back to count hooks. Here the state is made in the
 * child, as a worker thread makes its own: only the watchdog's signal can stop the loop
 * (there is no count hook then), so a broken watchdog hangs the child until its alarm.
 */
static void test_limit_cpu_watchdog(void **unused)
{
    runner_t *r = new_runner();
    add_fn_limits(r, "fn", "function handler(event) while true do end end\n", 2 * MB, BOMB_TIMEOUT_MS);
    struct st_bomb_result_t *res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(res != MAP_FAILED);
    memset(res, 0, sizeof(*res));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(WATCHDOG_SECONDS);
        start(r);
        call_t c;
        call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/");
        call_invoke(r, 0, &c);
        res->completed[0] = c.completed;
        res->status[0] = c.inv.status;
        memcpy(res->error[0], c.inv.error, sizeof(res->error[0]));
        res->duration_ns[0] = c.inv.duration_ns;
        _exit(0);
    }
    int wstatus;
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    if (WIFSIGNALED(wstatus))
        fail_msg("the watchdog did not stop the loop (signal %d)", WTERMSIG(wstatus));
    assert_int_equal(res->completed[0], 1);
    assert_int_equal(res->status[0], EF_INVOKE_LIMIT);
    assert_string_equal(res->error[0], CPU_ERROR);
    if (res->duration_ns[0] > BOMB_TIMEOUT_MS * 1000000ull + OVERSHOOT_NS)
        fail_msg("stopped after %.1f ms, with a budget of %d ms", res->duration_ns[0] / 1e6, BOMB_TIMEOUT_MS);
    munmap(res, sizeof(*res));
    dispose_runner(r);
}

static void test_limit_kill_is_final(void **unused)
{
    /* returning straight from a call that caught the kill: no Lua instruction runs after it, yet it is a failure */
    assert_cpu_bomb("return pcall(function() while true do end end)");
    assert_cpu_bomb("return xpcall(function() while true do end end, function(e) return e end)");
    /* load() runs a reader function in a protected parser of its own, which catches any error raised in it */
    assert_cpu_bomb("return load(function() while true do end end)");
    assert_memory_bomb("return load(function() local t = {} while true do t[#t + 1] = {} end end)");
}

static void test_limit_cpu_xpcall_handler(void **unused)
{
    /* xpcall's message handler runs when the budget is spent: it must not run on unbudgeted */
    assert_cpu_bomb("xpcall(function() while true do end end, function(e) for i = 1, 1e8 do end return e end)\n"
                    "return {statusCode = 200, body = 'survived'}");
    assert_cpu_bomb("xpcall(function() error('x') end, function(e) while true do end end)\n"
                    "return {statusCode = 200, body = 'survived'}");
    assert_cpu_bomb("xpcall(function() while true do end end, function(e) while true do end end)\n"
                    "return {statusCode = 200, body = 'survived'}");
}

static void test_limit_cpu_runaway_pattern(void **unused)
{
    assert_cpu_bomb("local s = string.rep('a', 100000) string.find(s, '.-.-.-.-.-x')");
    assert_cpu_bomb("local s = string.rep('a', 100000) pcall(string.match, s, '(.-)(.-)(.-)(.-)b')\n"
                    "return {statusCode = 200, body = 'survived'}");
    assert_cpu_bomb("local s = string.rep('a', 50000) string.gsub(s, '.-.-.-x', 'y')");
    assert_cpu_bomb("local s = string.rep('a', 50000) for m in string.gmatch(s, '.-.-.-.-x') do end");
}

static void test_limit_deep_recursion(void **unused)
{
    /* Lua recursion: the stack grows until the memory limit or Lua's own limit stops it */
    runner_t *r = new_runner();
    add_fn_limits(r, "fn",
                  "local function f(n) return 1 + f(n + 1) end\n"
                  "local function g(n) if n == 0 then return 0 end return 1 + g(n - 1) end\n"
                  "function handler(event)\n"
                  "  if event.request.uri == '/bomb' then f(1) end\n"
                  "  return {statusCode = 200, body = tostring(g(1000))}\n"
                  "end\n",
                  2 * MB, MEMORY_BOMB_TIMEOUT_MS);
    start(r);
    call_t c;
    call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/bomb");
    call_run(r, 0, &c);
    assert_status(&c, has_substring(c.inv.error, MEMORY_ERROR) ? EF_INVOKE_LIMIT : EF_INVOKE_FAILED);
    if (!has_substring(c.inv.error, MEMORY_ERROR) && !has_substring(c.inv.error, "stack overflow"))
        fail_msg("unexpected error: %s", c.inv.error);
    call_dispose(&c);
    for (int i = 0; i != 2; ++i) {
        call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/");
        call_run(r, 0, &c);
        assert_status(&c, EF_INVOKE_OK);
        assert_string_equal(str(&c, c.ev.response.body), "1000");
        call_dispose(&c);
    }
    dispose_runner(r);

    /* recursion through C (gsub calling back into Lua): the C stack limit */
    assert_bomb_with("local function f(s) return (s:gsub('.', f)) end f('ab')", 2 * MB, BOMB_TIMEOUT_MS, "stack overflow");
    /* through pcall: the error is caught at each level, and the function still ends normally */
    assert_answers("local depth = 0\n"
                   "local function f() depth = depth + 1 pcall(f) end\n"
                   "function handler(event) f() return {statusCode = 200, body = tostring(depth > 100)} end\n",
                   "true");
}

static void test_limit_code_size(void **unused)
{
    runner_t *r = new_runner();
    char big[2048], path[PATH_MAX + 16], err[1024] = "";
    /* 1 KB of comment, then a handler */
    memset(big, '-', 1024);
    snprintf(big + 1024, sizeof(big) - 1024, "\nfunction handler(event) return event.request end\n");
    write_file(r->dir, "big.lua", big);
    snprintf(path, sizeof(path), "%s/big.lua", r->dir);
    ef_function_t *fn = define(r, "big", r->dir, path, "handler", 2 * MB, CALM_TIMEOUT_MS, 1000);
    assert_int_equal(ef_lua_runtime.prepare(fn, err, sizeof(err)), -1);
    char expected[128];
    snprintf(expected, sizeof(expected), "big.lua is %zu bytes, over max-code-size (1000 bytes)", strlen(big));
    assert_contains(err, expected);

    /* exactly at the limit: fine */
    fn = define(r, "big2", r->dir, path, "handler", 2 * MB, CALM_TIMEOUT_MS, strlen(big));
    if (ef_lua_runtime.prepare(fn, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    dispose_runner(r);

    /* modules count too: 200 bytes of main + a 1 KB module over a 1000-byte limit fails at the require */
    r = new_runner();
    write_file(r->dir, "mod.lua", big);
    write_file(r->dir, "main.lua",
               "function handler(event)\n"
               "  require('mod')\n"
               "  return {statusCode = 200}\n"
               "end\n");
    snprintf(path, sizeof(path), "%s/main.lua", r->dir);
    fn = define(r, "main", r->dir, path, "handler", 2 * MB, CALM_TIMEOUT_MS, 1000);
    if (ef_lua_runtime.prepare(fn, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    start(r);
    call_t c;
    call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/");
    call_run(r, 0, &c);
    assert_status(&c, EF_INVOKE_FAILED);
    assert_contains(c.inv.error, "over max-code-size");
    call_dispose(&c);
    dispose_runner(r);
}

static void test_prepare_errors(void **unused)
{
    runner_t *r = new_runner();
    char path[PATH_MAX + 16], err[1024];
    static const struct {
        const char *code, *err;
        uint64_t timeout_ms;
    } cases[] = {
        {"function handler(event) return event.request\n", "bad.lua:2: 'end' expected (to close 'function' at line 1)",
         BOMB_TIMEOUT_MS},
        {"function other(event) end\n", "bad.lua does not define a function \"handler\" (it is nil)", BOMB_TIMEOUT_MS},
        {"handler = 42\n", "bad.lua does not define a function \"handler\" (it is number)", BOMB_TIMEOUT_MS},
        {"error('at load')\n", "bad.lua:1: at load", BOMB_TIMEOUT_MS},
        {"while true do end\n", "its module's top level exceeds the CPU budget", BOMB_TIMEOUT_MS},
        /* time enough to fill the memory, even in a sanitizer build */
        {"local t = {} while true do t[#t + 1] = {} end\n", "its module's top level exceeds the memory limit",
         MEMORY_BOMB_TIMEOUT_MS},
    };
    snprintf(path, sizeof(path), "%s/bad.lua", r->dir);
    for (size_t i = 0; i != sizeof(cases) / sizeof(cases[0]); ++i) {
        write_file(r->dir, "bad.lua", cases[i].code);
        ef_function_t *fn = define(r, "bad", r->dir, path, "handler", 2 * MB, cases[i].timeout_ms, 64 * KB);
        err[0] = '\0';
        assert_int_equal(ef_lua_runtime.prepare(fn, err, sizeof(err)), -1);
        assert_contains(err, cases[i].err);
        ef_lua_runtime.dispose(fn);
        free(r->fns[0].conf.name);
        free(r->fns[0].conf.code);
        free(r->fns[0].conf.code_dir);
        free(r->fns[0].conf.module_file);
        free(r->fns[0].conf.handler);
        r->num_fns = 0;
    }
    /* a file that does not exist */
    snprintf(path, sizeof(path), "%s/missing.lua", r->dir);
    ef_function_t *fn = define(r, "missing", r->dir, path, "handler", 2 * MB, BOMB_TIMEOUT_MS, 64 * KB);
    assert_int_equal(ef_lua_runtime.prepare(fn, err, sizeof(err)), -1);
    assert_contains(err, "missing.lua: No such file or directory");
    dispose_runner(r);
}

static void test_error_values(void **unused)
{
    static const struct {
        const char *raise, *error;
    } cases[] = {
        {"error({code = 1})", "(error object is a table value)"},
        {"error(nil)", "(error object is a nil value)"},
        {"error()", "(error object is a nil value)"},
        {"error(true)", "(error object is a boolean value)"},
        {"error(print)", "(error object is a function value)"},
        /* __tostring is not called: it could loop, or raise again */
        {"error(setmetatable({}, {__tostring = function() return 'custom' end}))", "(error object is a table value)"},
        {"error(setmetatable({}, {__tostring = function() while true do end end}))", "(error object is a table value)"},
        {"error(42)", "42"},
        {"error('plain', 0)", "plain"},
        {"error('where')", "fn.lua:3: where"},
        {"local x = nil; x.y = 1", "fn.lua:3: attempt to index a nil value (local 'x')"},
    };
    char bomb[256];
    for (size_t i = 0; i != sizeof(cases) / sizeof(cases[0]); ++i) {
        snprintf(bomb, sizeof(bomb), "    %s", cases[i].raise);
        assert_bomb_with(bomb, 2 * MB, BOMB_TIMEOUT_MS, cases[i].error);
    }
    /* the error is one line; the log has the traceback */
    runner_t *r = start_one("function handler(event)\n"
                            "  error({})\n"
                            "end\n");
    call_t c;
    call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/");
    call_run(r, 0, &c);
    assert_status(&c, EF_INVOKE_FAILED);
    assert_string_equal(c.inv.error, "(error object is a table value)");
    assert_logged(&c, "stack traceback:");
    call_dispose(&c);
    dispose_runner(r);
}

static void test_budget_is_per_invocation(void **unused)
{
    /* ten calls of a quarter of the budget each: none fails, as each has a budget of its own */
    runner_t *r = new_runner();
    add_fn_limits(r, "fn",
                  "function handler(event)\n"
                  "  local start = now()\n"
                  "  while now() - start < 0.005 do end\n"
                  "  return {statusCode = 200, body = 'ok'}\n"
                  "end\n",
                  2 * MB, BOMB_TIMEOUT_MS);
    start(r);
    for (int i = 0; i != 10; ++i) {
        call_t c;
        call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/");
        call_run(r, 0, &c);
        assert_status(&c, EF_INVOKE_OK);
        assert_true(c.inv.duration_ns >= 3000000ull);
        call_dispose(&c);
    }
    dispose_runner(r);
}

/* ---- 5. logging ---- */

static void test_logging(void **unused)
{
    runner_t *r = start_one("function handler(event)\n"
                            "  print('a', 1, nil, true, 2.5)\n"
                            "  console.log('one arg')\n"
                            "  console.info('x', 'y')\n"
                            "  console.warn('careful', 3)\n"
                            "  console.error('bad')\n"
                            "  print()\n"
                            "  print('multi\\nline')\n"
                            "  print(setmetatable({}, {__tostring = function() return 'custom' end}))\n"
                            "  return event.request\n"
                            "end\n");
    call_t c;
    call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/");
    call_run(r, 0, &c);
    assert_status(&c, EF_INVOKE_OK);
    assert_int_equal(c.num_lines, 8);
    assert_string_equal(c.lines[0], "a\t1\tnil\ttrue\t2.5");
    assert_string_equal(c.lines[1], "one arg");
    assert_string_equal(c.lines[2], "x\ty");
    assert_string_equal(c.lines[3], "WARN careful\t3");
    assert_string_equal(c.lines[4], "ERROR bad");
    assert_string_equal(c.lines[5], "");
    assert_string_equal(c.lines[6], "multi\nline"); /* one call, one line: ef_function_log escapes the break */
    assert_string_equal(c.lines[7], "custom");
    call_dispose(&c);
    dispose_runner(r);
}

static void test_log_frame(void **unused)
{
    /* an invocation that logs is framed by START, then END and REPORT; one that logs nothing writes nothing */
    runner_t *r = start_one("function handler(event)\n"
                            "  if event.request.uri == '/quiet' then return event.request end\n"
                            "  console.log('one') console.log('two')\n"
                            "  return event.request\n"
                            "end\n");
    call_t c;
    call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/loud");
    call_invoke(r, 0, &c);
    assert_int_equal(c.num_lines, 2);
    assert_int_equal(c.num_frames, 3);
    assert_string_equal(c.frames[0], "START RequestId: req-1-viewer-request Version: $LATEST");
    assert_string_equal(c.frames[1], "END RequestId: req-1-viewer-request");
    if (!has_substring(c.frames[2], "REPORT RequestId: req-1-viewer-request\tDuration: ") ||
        !has_substring(c.frames[2], " ms\tCompute Utilization: ") ||
        !has_substring(c.frames[2], "%\tMemory Size: 2048 KB\tMax Memory Used: "))
        fail_msg("REPORT line: %s", c.frames[2]);
    call_dispose(&c);
    call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/quiet");
    call_invoke(r, 0, &c);
    assert_int_equal(c.num_lines, 0);
    assert_int_equal(c.num_frames, 0);
    call_dispose(&c);
    dispose_runner(r);
}

static void test_logging_long_line(void **unused)
{
    runner_t *r = start_one("function handler(event)\n"
                            "  print(string.rep('x', 100000))\n"
                            "  return event.request\n"
                            "end\n");
    call_t c;
    call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/");
    call_run(r, 0, &c);
    assert_status(&c, EF_INVOKE_OK);
    assert_int_equal(c.num_lines, 1);
    assert_true(strlen(c.lines[0]) < 20000);
    assert_contains(c.lines[0], "more bytes not logged");
    call_dispose(&c);
    dispose_runner(r);
}

static void test_logging_traceback(void **unused)
{
    runner_t *r = start_one("local function helper(x)\n"
                            "  error('boom: ' .. x)\n"
                            "end\n"
                            "function handler(event)\n"
                            "  print('before')\n"
                            "  helper('y')\n"
                            "  print('after')\n"
                            "  return event.request\n"
                            "end\n");
    call_t c;
    call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/");
    call_run(r, 0, &c);
    assert_status(&c, EF_INVOKE_FAILED);
    assert_string_equal(c.inv.error, "fn.lua:2: boom: y"); /* one line, for the 503 */
    assert_int_equal(c.num_lines, 2);
    assert_string_equal(c.lines[0], "before");
    /* the whole traceback, as one log line */
    static const char head[] = "fn.lua:2: boom: y\nstack traceback:\n";
    assert_true(strncmp(c.lines[1], head, strlen(head)) == 0);
    assert_contains(c.lines[1], "fn.lua:2: in upvalue 'helper'");
    assert_contains(c.lines[1], "fn.lua:6: in ");
    call_dispose(&c);

    dispose_runner(r);

    /* a budget kill logs the limit and where it was */
    r = new_runner();
    add_fn_limits(r, "fn",
                  "local function spin()\n"
                  "  while true do end\n"
                  "end\n"
                  "function handler(event) spin() end\n",
                  2 * MB, BOMB_TIMEOUT_MS);
    start(r);
    call_init(&c, EF_HOOK_VIEWER_REQUEST, "GET", "/");
    call_run(r, 0, &c);
    assert_status(&c, EF_INVOKE_LIMIT);
    assert_string_equal(c.inv.error, CPU_ERROR);
    assert_int_equal(c.num_lines, 1);
    /* "CPU budget of 20ms exceeded (stopped after 20.012 ms)\nstack traceback:\n\tfn.lua:2: in ..." */
    assert_true(strncmp(c.lines[0], CPU_ERROR " (stopped after ", strlen(CPU_ERROR) + 16) == 0);
    assert_contains(c.lines[0], "stack traceback:");
    assert_contains(c.lines[0], "fn.lua:2:");
    call_dispose(&c);
    dispose_runner(r);
}

/* ---- the module's shape ---- */

static void test_module_returning_handler(void **unused)
{
    /* a module may also hand its handler back in a table, instead of defining a global */
    assert_answers("local M = {}\n"
                   "function M.handler(event) return {statusCode = 200, body = 'from the table'} end\n"
                   "return M\n",
                   "from the table");
}

/* ---- 6. direct invocations (Lambda's Invoke: POST /functions/NAME/invocations) ---- */

/* A direct invocation's event, as server/admin_invoke.c builds one: a request id and a pool, and empty headers. */
static void direct_init(call_t *c)
{
    memset(c, 0, sizeof(*c));
    h2o_mem_init_pool(&c->pool);
    c->ev = (ef_event_t){.request_id = "req-direct", .pool = &c->pool};
    c->ev.request.headers = &c->req_headers;
    c->ev.response.headers = &c->res_headers;
}

/* Invokes function `fn_index` with `payload` (JSON text, copied into the pool as the admin API reads a body); no cmocka
 * assertions, as this also runs in guarded children. */
static void direct_invoke(runner_t *r, size_t fn_index, call_t *c, const char *payload)
{
    c->completed = 0;
    c->inv = (ef_invocation_t){.fn = &r->fns[fn_index].fn,
                               .event = &c->ev,
                               .thread_state = r->state,
                               .on_complete = on_complete,
                               .data = c,
                               .log = on_log,
                               .payload = h2o_strdup(&c->pool, payload, strlen(payload))};
    ef_lua_runtime.invoke(&c->inv);
}

static ef_invoke_status_t direct_run(runner_t *r, size_t fn_index, call_t *c, const char *payload)
{
    direct_invoke(r, fn_index, c, payload);
    assert_int_equal(c->completed, 1);
    return c->inv.status;
}

/* inv.result as a C string, or NULL when there is none */
static const char *result_of(call_t *c)
{
    return c->inv.result.base != NULL ? str(c, c->inv.result) : NULL;
}

/* Runs `code` (a whole module) directly on `payload`: it must succeed, with a result of exactly `expected`. */
static void assert_direct_returns(const char *code, const char *payload, const char *expected)
{
    runner_t *r = start_one(code);
    call_t c;
    direct_init(&c);
    direct_run(r, 0, &c, payload);
    assert_status(&c, EF_INVOKE_OK);
    if (c.inv.result.base == NULL || strcmp(result_of(&c), expected) != 0)
        fail_msg("%s-> on %s: result %.200s, expected %s", code, payload, c.inv.result.base != NULL ? result_of(&c) : "(none)",
                 expected);
    call_dispose(&c);
    dispose_runner(r);
}

/* Parses a result that must be JSON (with jansson, which checks UTF-8 and the grammar). The caller decrefs it. */
static json_t *parse_result(call_t *c)
{
    json_error_t jerr;
    assert_non_null(c->inv.result.base);
    json_t *v = json_loadb(c->inv.result.base, c->inv.result.len, JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        fail_msg("the result is not JSON (%s): %s", jerr.text, result_of(c));
    return v;
}

/* The same for a result whose object keys come in no set order: compared as JSON values with `expected`. */
static void assert_direct_returns_json(const char *code, const char *payload, const char *expected)
{
    runner_t *r = start_one(code);
    call_t c;
    direct_init(&c);
    direct_run(r, 0, &c, payload);
    assert_status(&c, EF_INVOKE_OK);
    json_t *got = parse_result(&c), *want = json_loads(expected, JSON_DECODE_ANY, NULL);
    assert_non_null(want);
    if (!json_equal(got, want))
        fail_msg("%s-> result %s, expected %s", code, result_of(&c), expected);
    json_decref(got);
    json_decref(want);
    call_dispose(&c);
    dispose_runner(r);
}

/* Runs `code` directly on {}: what it returns cannot be JSON, so the invocation is invalid (502) with `error`. */
static void assert_direct_invalid_with(const char *code, uint64_t memory, const char *error)
{
    runner_t *r = new_runner();
    add_fn_limits(r, "fn", code, memory, CALM_TIMEOUT_MS);
    start(r);
    call_t c;
    direct_init(&c);
    direct_run(r, 0, &c, "{}");
    if (c.inv.status != EF_INVOKE_INVALID || !has_substring(c.inv.error, error))
        fail_msg("%s-> status %d, error \"%s\", result %.200s; expected invalid with \"%s\"", code, (int)c.inv.status, c.inv.error,
                 c.inv.result.base != NULL ? result_of(&c) : "(none)", error);
    /* no half-written JSON is left behind: the API answers Runtime.MarshalError itself */
    assert_null(c.inv.result.base);
    /* and the function's log says what was wrong */
    char line[300];
    snprintf(line, sizeof(line), "invalid return value: %s", c.inv.error);
    assert_logged(&c, line);
    call_dispose(&c);
    dispose_runner(r);
}

static void assert_direct_invalid(const char *code, const char *error)
{
    assert_direct_invalid_with(code, 2 * MB, error);
}

static void test_direct_payload_to_lua(void **unused)
{
    /* the handler is given the payload as Lua values, and answers with what it made of them */
    static const char code[] =
        "function handler(e)\n"
        "  local keys = {}\n"
        "  for k in pairs(e) do keys[#keys + 1] = k end\n"
        "  table.sort(keys)\n"
        "  return table.concat({\n"
        "    table.concat(keys, ','),\n"
        "    e.name, #e.name, utf8.len(e.name),\n"
        "    math.type(e.n), e.n + 1, math.type(e.neg), e.neg,\n"
        "    math.type(e.f), e.f * 2, math.type(e.whole), math.type(e.exp), e.exp, math.type(e.max), e.max,\n"
        "    math.type(e.huge),\n"
        "    tostring(e.ok), tostring(e.no), tostring(e.gone), tostring(rawget(e, 'gone')),\n"
        "    #e.list, e.list[1], e.list[2], e.list[3].three, e.list[4][1],\n"
        "    tostring(e.nested.deep.x[1]), tostring(next(e.nested.empty)), tostring(next(e.nested.nothing)),\n"
        "    e.esc, #e.nul,\n"
        "  }, '|')\n"
        "end\n";
    static const char payload[] =
        "{\"name\": \"caf\\u00e9 \\ud83d\\ude00\", \"n\": 42, \"neg\": -7, \"f\": 1.5, \"whole\": 2.0, \"exp\": 1e2,\n"
        " \"max\": 9223372036854775807, \"huge\": 9223372036854775808,\n"
        " \"ok\": true, \"no\": false, \"gone\": null,\n"
        " \"list\": [1, \"two\", {\"three\": 3, \"dropped\": null}, [4]],\n"
        " \"nested\": {\"deep\": {\"x\": [true]}, \"empty\": {}, \"nothing\": []},\n"
        " \"esc\": \"a\\\"b\\\\c\\nd\\t/\", \"nul\": \"a\\u0000b\"}";
    runner_t *r = start_one(code);
    call_t c;
    direct_init(&c);
    direct_run(r, 0, &c, payload);
    assert_status(&c, EF_INVOKE_OK);
    json_t *got = parse_result(&c);
    assert_true(json_is_string(got));
    assert_string_equal(json_string_value(got), "esc,exp,f,huge,list,max,n,name,neg,nested,no,nul,ok,whole"
                                                "|caf\xc3\xa9 \xf0\x9f\x98\x80|10|6"
                                                "|integer|43|integer|-7"
                                                "|float|3.0|float|float|100.0|integer|9223372036854775807"
                                                "|float"
                                                "|true|false|nil|nil"
                                                "|4|1|two|3|4"
                                                "|true|nil|nil"
                                                "|a\"b\\c\nd\t/|3");
    json_decref(got);
    call_dispose(&c);

    /* a null in an array is a hole; and what is not an object arrives as it is */
    static const struct {
        const char *payload, *expected;
    } cases[] = {
        {"[1, null, 3]", "\"table 1 nil 3\""}, {"\"text\"", "\"string text\""}, {"7", "\"number 7\""},
        {"-0.25", "\"number -0.25\""},         {"true", "\"boolean true\""},    {"null", "\"nil nil\""},
    };
    dispose_runner(r);
    r = start_one("function handler(e)\n"
                  "  if type(e) == 'table' then return 'table ' .. e[1] .. ' ' .. tostring(e[2]) .. ' ' .. e[3] end\n"
                  "  return type(e) .. ' ' .. tostring(e)\n"
                  "end\n");
    for (size_t i = 0; i != sizeof(cases) / sizeof(cases[0]); ++i) {
        direct_init(&c);
        direct_run(r, 0, &c, cases[i].payload);
        assert_status(&c, EF_INVOKE_OK);
        if (strcmp(result_of(&c), cases[i].expected) != 0)
            fail_msg("payload %s: result %s, expected %s", cases[i].payload, result_of(&c), cases[i].expected);
        call_dispose(&c);
    }
    dispose_runner(r);
}

static void test_direct_payload_round_trip(void **unused)
{
    /* what the handler is given and gives back unchanged comes back as the same JSON */
    static const char *const payloads[] = {
        "{\"a\":1,\"b\":[true,false,\"x\"],\"c\":{\"d\":{\"e\":[1,[2,[3]]]}},\"s\":\"caf\\u00e9\"}",
        "[1,2,3]",
        "[{\"k\":\"v\"},[],{}]",
        "\"\\u0001 \\\"quoted\\\"\"",
        "-12",
        "0.5",
    };
    runner_t *r = start_one("function handler(e) return e end\n");
    for (size_t i = 0; i != sizeof(payloads) / sizeof(payloads[0]); ++i) {
        call_t c;
        direct_init(&c);
        direct_run(r, 0, &c, payloads[i]);
        assert_status(&c, EF_INVOKE_OK);
        json_t *got = parse_result(&c), *want = json_loads(payloads[i], JSON_DECODE_ANY, NULL);
        assert_non_null(want);
        /* an empty array is an empty table, which is {} (as cjson and dkjson write it) */
        if (i == 2) {
            json_decref(want);
            want = json_loads("[{\"k\":\"v\"},{},{}]", 0, NULL);
        }
        if (!json_equal(got, want))
            fail_msg("payload %s came back as %s", payloads[i], result_of(&c));
        json_decref(got);
        json_decref(want);
        call_dispose(&c);
    }
    dispose_runner(r);
}

static void test_direct_result_json(void **unused)
{
    static const struct {
        const char *ret, *expected;
    } cases[] = {
        /* arrays: the keys 1..n exactly */
        {"{1, 2, 3}", "[1,2,3]"},
        {"{'x', {true, false}, {k = 'v'}, {{}}}", "[\"x\",[true,false],{\"k\":\"v\"},[{}]]"},
        {"{[1] = 'a', [2] = 'b'}", "[\"a\",\"b\"]"},
        /* an empty table, nil */
        {"{}", "{}"},
        {"{a = {}}", "{\"a\":{}}"},
        {"nil", "null"},
        {"{nil}", "{}"},
        /* objects: number keys as strings */
        {"{[10] = true}", "{\"10\":true}"},
        {"{[0] = 'z'}", "{\"0\":\"z\"}"},
        {"{[-1] = 'n'}", "{\"-1\":\"n\"}"},
        {"{[1.5] = 'x'}", "{\"1.5\":\"x\"}"},
        {"{[2] = 'only'}", "{\"2\":\"only\"}"},
        {"{key = 'v'}", "{\"key\":\"v\"}"},
        /* numbers: integers as integers, floats as floats */
        {"42", "42"},
        {"-7", "-7"},
        {"0", "0"},
        {"math.maxinteger", "9223372036854775807"},
        {"math.mininteger", "-9223372036854775808"},
        {"1.5", "1.5"},
        {"-0.25", "-0.25"},
        {"2^53", "9007199254740992"},
        {"{7 // 2, 7 / 2}", "[3,3.5]"},
        /* booleans, the first of several values */
        {"true", "true"},
        {"false", "false"},
        {"1, 2", "1"},
        /* strings: quotes, backslashes and control characters escaped, UTF-8 and DEL as they are */
        {"'say \"hi\" \\\\ / \\n\\r\\t\\0\\1\\31\\127 caf\\u{e9} \\u{1F600}'",
         "\"say \\\"hi\\\" \\\\ / \\n\\r\\t\\u0000\\u0001\\u001f\x7f caf\xc3\xa9 \xf0\x9f\x98\x80\""},
        {"''", "\"\""},
        {"{['a\"b\\n'] = 1}", "{\"a\\\"b\\n\":1}"},
    };
    char code[512];
    for (size_t i = 0; i != sizeof(cases) / sizeof(cases[0]); ++i) {
        snprintf(code, sizeof(code), "function handler(e) return %s end\n", cases[i].ret);
        assert_direct_returns(code, "{}", cases[i].expected);
    }
    /* a handler that returns nothing at all */
    assert_direct_returns("function handler(e) end\n", "{}", "null");
    /* tables that are not 1..n are objects, keys in no set order */
    assert_direct_returns_json("function handler(e) return {[1] = 'a', [2] = 'b', [4] = 'd'} end\n", "{}",
                               "{\"1\":\"a\",\"2\":\"b\",\"4\":\"d\"}");
    assert_direct_returns_json("function handler(e) return {1, 2, x = 3} end\n", "{}", "{\"1\":1,\"2\":2,\"x\":3}");
    assert_direct_returns_json("function handler(e) local t = {1, 2, 3} t[2] = nil return t end\n", "{}", "{\"1\":1,\"3\":3}");
    assert_direct_returns_json("function handler(e)\n"
                               "  return {status = 'ok', count = #e.items, items = e.items, first = e.items[1].id,\n"
                               "          total = e.items[1].price + e.items[2].price}\n"
                               "end\n",
                               "{\"items\": [{\"id\": \"a\", \"price\": 2}, {\"id\": \"b\", \"price\": 3.5}]}",
                               "{\"status\":\"ok\",\"count\":2,\"items\":[{\"id\":\"a\",\"price\":2},{\"id\":\"b\",\"price\":3.5}],"
                               "\"first\":\"a\",\"total\":5.5}");
    /* 64 tables deep is as deep as JSON goes here, and is fine */
    char expected[200];
    memset(expected, '[', 63);
    memcpy(expected + 63, "{}", 2);
    memset(expected + 65, ']', 63);
    expected[128] = '\0';
    assert_direct_returns("function handler(e)\n"
                          "  local t = {} local cur = t\n"
                          "  for i = 1, 63 do cur[1] = {} cur = cur[1] end\n"
                          "  return t\n"
                          "end\n",
                          "{}", expected);
}

/* Floats are written as JavaScript and Python write them (and cjson, dkjson, which print %.14g): the shortest text that
 * reads back as the same number, not 17 digits of binary noise. */
static void test_direct_result_float_shortest(void **unused)
{
    static const struct {
        const char *ret, *expected;
    } cases[] = {
        {"0.1", "0.1"},
        {"{price = 19.99}", "{\"price\":19.99}"},
        {"0.1 + 0.2", "0.30000000000000004"}, /* not 0.3: it is not that number */
        {"1e300", "1e+300"},
        {"3.14", "3.14"},
    };
    char code[256], wrong[1024] = "";
    for (size_t i = 0; i != sizeof(cases) / sizeof(cases[0]); ++i) {
        snprintf(code, sizeof(code), "function handler(e) return %s end\n", cases[i].ret);
        runner_t *r = start_one(code);
        call_t c;
        direct_init(&c);
        direct_run(r, 0, &c, "{}");
        assert_status(&c, EF_INVOKE_OK);
        if (strcmp(result_of(&c), cases[i].expected) != 0)
            snprintf(wrong + strlen(wrong), sizeof(wrong) - strlen(wrong), "\n  return %s: %s, expected %s", cases[i].ret,
                     result_of(&c), cases[i].expected);
        call_dispose(&c);
        dispose_runner(r);
    }
    if (wrong[0] != '\0')
        fail_msg("floats written with more digits than they need:%s", wrong);
}

static void test_direct_result_invalid(void **unused)
{
    /* what JSON cannot hold, and where it is */
    assert_direct_invalid("function handler(e) return function() end end\n", "a function (JSON cannot hold one)");
    assert_direct_invalid("function handler(e) return {f = print} end\n", "a function (JSON cannot hold one) at f");
    assert_direct_invalid("function handler(e) return {list = {1, 2, print}} end\n",
                          "a function (JSON cannot hold one) at list[3]");
    assert_direct_invalid("function handler(e) return {a = {b = {c = string.gmatch('x', 'x')}}} end\n", "at a.b.c");
    /* tables that hold themselves */
    assert_direct_invalid("function handler(e) local t = {} t.self = t return t end\n", "tables nested more than 64 deep");
    assert_direct_invalid("function handler(e) local t = {} t[1] = t return t end\n", "tables nested more than 64 deep");
    assert_direct_invalid("function handler(e) local a, b = {}, {} a.b = b b.a = a return {a} end\n",
                          "tables nested more than 64 deep");
    /* 65 deep, without a cycle */
    assert_direct_invalid("function handler(e)\n"
                          "  local t = {} local cur = t\n"
                          "  for i = 1, 64 do cur[1] = {} cur = cur[1] end\n"
                          "  return t\n"
                          "end\n",
                          "tables nested more than 64 deep");
    /* strings and keys that are not UTF-8: a stray byte, a cut sequence, an overlong form, a surrogate */
    assert_direct_invalid("function handler(e) return {s = 'ab\\255'} end\n", "a string that is not UTF-8 at s");
    assert_direct_invalid("function handler(e) return 'caf\\xc3' end\n", "a string that is not UTF-8");
    assert_direct_invalid("function handler(e) return {'\\xc0\\x80'} end\n", "a string that is not UTF-8 at [1]");
    assert_direct_invalid("function handler(e) return {x = '\\xed\\xa0\\x80'} end\n", "a string that is not UTF-8 at x");
    assert_direct_invalid("function handler(e) return {['\\255'] = 1} end\n", "a key that is not UTF-8");
    /* numbers JSON has no word for */
    assert_direct_invalid("function handler(e) return 0/0 end\n", "a number that is not finite");
    assert_direct_invalid("function handler(e) return {x = 0/0} end\n",
                          "a number that is not finite (JSON has no NaN or infinity) at x");
    assert_direct_invalid("function handler(e) return {math.huge} end\n",
                          "a number that is not finite (JSON has no NaN or infinity) at [1]");
    assert_direct_invalid("function handler(e) return {n = -math.huge} end\n", "a number that is not finite");
    /* keys that are neither strings nor numbers */
    assert_direct_invalid("function handler(e) return {[true] = 1} end\n", "a table key that is not a string or a number");
    assert_direct_invalid("function handler(e) return {x = {[{}] = 1}} end\n", "a table key that is not a string or a number at x");
    /* a result larger than Lambda's 6 MB, from a table of 1 MB strings */
    assert_direct_invalid_with("function handler(e)\n"
                               "  local s = string.rep('x', 1024 * 1024)\n"
                               "  return {s, s, s, s, s, s, s}\n"
                               "end\n",
                               16 * MB, "a result of more than 6 MB");
}

/* The 6 MB limit holds for any result, not only for one that is a table. */
static void test_direct_result_too_large_string(void **unused)
{
    assert_direct_invalid_with("function handler(e) return string.rep('x', 7 * 1024 * 1024) end\n", 32 * MB,
                               "a result of more than 6 MB");
}

static void test_direct_result_many_references(void **unused)
{
    /* 100,000 references to one 1 MB string take little Lua memory and would encode to 100 GB: the encoder stops at 6 MB,
     * at once (within the invocation's budget, which the encoder, C code, cannot be stopped by) */
    runner_t *r = new_runner();
    add_fn_limits(r, "fn",
                  "function handler(e)\n"
                  "  local s, t = string.rep('x', 1024 * 1024), {}\n"
                  "  for i = 1, 100000 do t[i] = s end\n"
                  "  return t\n"
                  "end\n",
                  8 * MB, CALM_TIMEOUT_MS);
    start(r);
    call_t c;
    direct_init(&c);
    assert_int_equal(direct_run(r, 0, &c, "{}"), EF_INVOKE_INVALID);
    assert_true(has_substring(c.inv.error, "a result of more than 6 MB"));
    assert_null(c.inv.result.base);
    if (c.inv.duration_ns > CALM_TIMEOUT_MS * 1000000ull)
        fail_msg("encoding took %.1f ms", c.inv.duration_ns / 1e6);
    call_dispose(&c);
    dispose_runner(r);
}

static void test_direct_frozen_module_table(void **unused)
{
    /* what the module's top level built is shared and read-only (module.c moves a frozen table's fields elsewhere): returned
     * as it is, or inside a table of the invocation's, it encodes with its contents, each time */
    runner_t *r = start_one("local Point = {}\n"
                            "Point.__index = Point\n"
                            "function Point.new(x, y) return setmetatable({x = x, y = y}, Point) end\n"
                            "local CONFIG = {name = 'cfg', list = {'a', 'b'}, nested = {deep = {value = 7}}, empty = {},\n"
                            "                origin = Point.new(0, 1)}\n"
                            "local LIST = {10, 20, 30}\n"
                            "local EMPTY = {}\n"
                            "function handler(e)\n"
                            "  if e.what == 'config' then return CONFIG end\n"
                            "  if e.what == 'list' then return LIST end\n"
                            "  if e.what == 'empty' then return EMPTY end\n"
                            "  if e.what == 'frozen' then return {pcall(function() CONFIG.name = 'y' end)} end\n"
                            "  return {config = CONFIG.nested, list = LIST, n = #LIST}\n"
                            "end\n");
    static const struct {
        const char *payload, *expected;
    } cases[] = {
        {"{\"what\":\"config\"}", "{\"name\":\"cfg\",\"list\":[\"a\",\"b\"],\"nested\":{\"deep\":{\"value\":7}},\"empty\":{},"
                                  "\"origin\":{\"x\":0,\"y\":1}}"},
        {"{\"what\":\"list\"}", "[10,20,30]"},
        {"{\"what\":\"empty\"}", "{}"},
        {"{\"what\":\"mixed\"}", "{\"config\":{\"deep\":{\"value\":7}},\"list\":[10,20,30],\"n\":3}"},
        {"{\"what\":\"config\"}", NULL}, /* again, the same */
    };
    for (size_t i = 0; i != sizeof(cases) / sizeof(cases[0]); ++i) {
        call_t c;
        direct_init(&c);
        direct_run(r, 0, &c, cases[i].payload);
        assert_status(&c, EF_INVOKE_OK);
        json_t *got = parse_result(&c),
               *want = json_loads(cases[i].expected != NULL ? cases[i].expected : cases[0].expected, JSON_DECODE_ANY, NULL);
        assert_non_null(want);
        if (!json_equal(got, want))
            fail_msg("%s: result %s", cases[i].payload, result_of(&c));
        json_decref(got);
        json_decref(want);
        call_dispose(&c);
    }
    /* the module was shared indeed: its table is read-only */
    call_t c;
    direct_init(&c);
    direct_run(r, 0, &c, "{\"what\":\"frozen\"}");
    assert_status(&c, EF_INVOKE_OK);
    assert_memory_equal(result_of(&c), "[false,\"", 8);
    assert_contains(result_of(&c), "read-only");
    call_dispose(&c);
    dispose_runner(r);
}

static void test_direct_module_not_shared(void **unused)
{
    /* a module that cannot be shared runs afresh for each invocation: direct ones too */
    runner_t *r = start_one("local words = string.gmatch('a b c', '%a')\n"
                            "local seen = {}\n"
                            "function handler(e)\n"
                            "  seen[#seen + 1] = words() .. e.n\n"
                            "  return seen\n"
                            "end\n");
    for (int i = 0; i != 2; ++i) {
        call_t c;
        direct_init(&c);
        direct_run(r, 0, &c, i == 0 ? "{\"n\":1}" : "{\"n\":2}");
        assert_status(&c, EF_INVOKE_OK);
        assert_string_equal(result_of(&c), i == 0 ? "[\"a1\"]" : "[\"a2\"]");
        call_dispose(&c);
    }
    dispose_runner(r);
}

static void test_direct_error(void **unused)
{
    runner_t *r = start_one("local function helper(x)\n"
                            "  error('boom: ' .. x)\n"
                            "end\n"
                            "function handler(e)\n"
                            "  print('before')\n"
                            "  helper(e.what)\n"
                            "  return 'not reached'\n"
                            "end\n");
    call_t c;
    direct_init(&c);
    direct_run(r, 0, &c, "{\"what\": \"y\"}");
    assert_status(&c, EF_INVOKE_FAILED);
    assert_string_equal(c.inv.error, "fn.lua:2: boom: y");
    /* the error as Lambda reports it to the invoker */
    json_t *res = parse_result(&c), *trace;
    assert_true(json_is_object(res));
    assert_int_equal(json_object_size(res), 3);
    assert_string_equal(json_string_value(json_object_get(res, "errorType")), "LuaError");
    assert_string_equal(json_string_value(json_object_get(res, "errorMessage")), "fn.lua:2: boom: y");
    trace = json_object_get(res, "stackTrace");
    assert_true(json_is_array(trace));
    /* the traceback's lines, one an entry, without the header, the tabs, or edgefn's own last frame */
    size_t i, helper_at = SIZE_MAX, handler_at = SIZE_MAX;
    json_t *line;
    json_array_foreach(trace, i, line)
    {
        const char *s = json_string_value(line);
        assert_non_null(s);
        if (s[0] == '\t' || s[0] == '\0' || strchr(s, '\n') != NULL || strcmp(s, "stack traceback:") == 0 ||
            strcmp(s, "[C]: in ?") == 0)
            fail_msg("stackTrace[%zu] is \"%s\": %s", i, s, result_of(&c));
        if (strstr(s, "fn.lua:2: in ") != NULL && strstr(s, "helper") != NULL)
            helper_at = i;
        if (strstr(s, "fn.lua:6: in ") != NULL)
            handler_at = i;
    }
    if (helper_at == SIZE_MAX || handler_at == SIZE_MAX || helper_at > handler_at)
        fail_msg("the stack trace lacks the helper's or the handler's frame, innermost first: %s", result_of(&c));
    json_decref(res);
    /* the log has the line before it and the traceback */
    assert_int_equal(c.num_lines, 2);
    assert_string_equal(c.lines[0], "before");
    static const char head[] = "fn.lua:2: boom: y\nstack traceback:\n";
    assert_true(strncmp(c.lines[1], head, strlen(head)) == 0);
    call_dispose(&c);
    dispose_runner(r);

    /* errors that are not strings, and messages that are not UTF-8 or hold characters JSON escapes */
    static const struct {
        const char *raise, *message;
    } cases[] = {
        {"error({code = 1})", "(error object is a table value)"},
        {"error(nil)", "(error object is a nil value)"},
        {"error(42)", "42"},
        {"error('say \"no\"\\tnow', 0)", "say \"no\"\tnow"},
        {"error('bad \\255 byte', 0)", "(a message that is not UTF-8: the function's log has it)"},
        {"local x = nil; x.y = 1", "fn.lua:1: attempt to index a nil value (local 'x')"},
    };
    char code[256];
    for (size_t k = 0; k != sizeof(cases) / sizeof(cases[0]); ++k) {
        snprintf(code, sizeof(code), "function handler(e) %s end\n", cases[k].raise);
        r = start_one(code);
        direct_init(&c);
        direct_run(r, 0, &c, "{}");
        assert_status(&c, EF_INVOKE_FAILED);
        res = parse_result(&c);
        assert_string_equal(json_string_value(json_object_get(res, "errorType")), "LuaError");
        if (!json_is_string(json_object_get(res, "errorMessage")) ||
            strcmp(json_string_value(json_object_get(res, "errorMessage")), cases[k].message) != 0)
            fail_msg("%s: result %s, expected the message \"%s\"", cases[k].raise, result_of(&c), cases[k].message);
        assert_true(json_is_array(json_object_get(res, "stackTrace")));
        json_decref(res);
        call_dispose(&c);
        dispose_runner(r);
    }
}

/* What a guarded child saw of direct invocations; shared with the parent. */
struct st_direct_result_t {
    int completed[3];
    ef_invoke_status_t status[3];
    ef_limit_t limit[3];
    char error[3][256];
    char result[3][64]; /* "(none)" when result.base is NULL */
    size_t num_lines[3];
    char log[4096]; /* the first one's log lines */
};

/**
 * Runs `code` directly three times, on payloads[0..2], in a child killed after WATCHDOG_SECONDS (a limit that is not
 * enforced fails the test instead of hanging it), and returns what it saw (munmap it).
 */
static struct st_direct_result_t *run_direct_guarded(const char *code, uint64_t memory, uint64_t timeout_ms,
                                                     const char *const payloads[3])
{
    runner_t *r = new_runner();
    add_fn_limits(r, "fn", code, memory, timeout_ms);
    start(r);
    struct st_direct_result_t *res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(res != MAP_FAILED);
    memset(res, 0, sizeof(*res));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(WATCHDOG_SECONDS);
        for (int i = 0; i != 3; ++i) {
            call_t c;
            direct_init(&c);
            direct_invoke(r, 0, &c, payloads[i]);
            res->completed[i] = c.completed;
            res->status[i] = c.inv.status;
            res->limit[i] = c.inv.limit;
            memcpy(res->error[i], c.inv.error, sizeof(res->error[i]));
            snprintf(res->result[i], sizeof(res->result[i]), "%.*s", c.inv.result.base != NULL ? (int)c.inv.result.len : 6,
                     c.inv.result.base != NULL ? c.inv.result.base : "(none)");
            res->num_lines[i] = c.num_lines;
            for (size_t j = 0; i == 0 && j != c.num_lines; ++j)
                snprintf(res->log + strlen(res->log), sizeof(res->log) - strlen(res->log), "%s%s", j != 0 ? " | " : "", c.lines[j]);
            call_dispose(&c);
        }
        _exit(0);
    }
    int wstatus;
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    if (WIFSIGNALED(wstatus))
        fail_msg("%s: %s (signal %d)", code,
                 WTERMSIG(wstatus) == SIGALRM ? "the invocations did not end within " TOSTRING(WATCHDOG_SECONDS) " s"
                                              : "the process crashed",
                 WTERMSIG(wstatus));
    assert_true(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
    dispose_runner(r);
    return res;
}

/* The first invocation is stopped by a limit with `error`, and leaves no result; the two after it work. */
static void assert_direct_limit(const char *code, uint64_t memory, uint64_t timeout_ms, const char *first_payload, ef_limit_t limit,
                                const char *error)
{
    const char *const payloads[3] = {first_payload, "{\"n\": 1}", "{\"n\": 2}"};
    struct st_direct_result_t *res = run_direct_guarded(code, memory, timeout_ms, payloads);
    assert_int_equal(res->completed[0], 1);
    if (res->status[0] != EF_INVOKE_LIMIT || res->limit[0] != limit || strcmp(res->error[0], error) != 0)
        fail_msg("%s: status %d, limit %d, error \"%s\"; expected %d, %d, \"%s\"; log: %s", code, (int)res->status[0],
                 (int)res->limit[0], res->error[0], (int)EF_INVOKE_LIMIT, (int)limit, error, res->log);
    /* the API reports a limit itself (Sandbox.Timedout, Runtime.OutOfMemory): the runtime leaves no result */
    assert_string_equal(res->result[0], "(none)");
    if (strstr(res->log, error) == NULL)
        fail_msg("%s: the log does not say \"%s\": %s", code, error, res->log);
    for (int i = 1; i != 3; ++i) {
        assert_int_equal(res->completed[i], 1);
        if (res->status[i] != EF_INVOKE_OK)
            fail_msg("%s: invocation %d after it: status %d, error \"%s\"", code, i, (int)res->status[i], res->error[i]);
        assert_string_equal(res->result[i], i == 1 ? "\"ok 1\"" : "\"ok 2\"");
    }
    munmap(res, sizeof(*res));
}

#define DIRECT_HEALTHY "  return 'ok ' .. e.n\n"

static void test_direct_limits(void **unused)
{
    /* the CPU budget */
    assert_direct_limit("function handler(e)\n"
                        "  if e.bomb then while true do end end\n" DIRECT_HEALTHY "end\n",
                        2 * MB, BOMB_TIMEOUT_MS, "{\"bomb\": true}", EF_LIMIT_TIMEOUT, CPU_ERROR);
    assert_direct_limit("function handler(e)\n"
                        "  if e.bomb then pcall(function() while true do end end) return 'survived' end\n" DIRECT_HEALTHY "end\n",
                        2 * MB, BOMB_TIMEOUT_MS, "{\"bomb\": true}", EF_LIMIT_TIMEOUT, CPU_ERROR);
    /* the memory limit, in the handler */
    assert_direct_limit("function handler(e)\n"
                        "  if e.bomb then local t = {} while true do t[#t + 1] = {} end end\n" DIRECT_HEALTHY "end\n",
                        2 * MB, MEMORY_BOMB_TIMEOUT_MS, "{\"bomb\": true}", EF_LIMIT_MEMORY, MEMORY_ERROR);
    assert_direct_limit("function handler(e)\n"
                        "  if e.bomb then return {pcall(string.rep, 'x', 1 << 30)} end\n" DIRECT_HEALTHY "end\n",
                        2 * MB, MEMORY_BOMB_TIMEOUT_MS, "{\"bomb\": true}", EF_LIMIT_MEMORY, MEMORY_ERROR);

    /* and what the payload takes counts: 3 MB of it does not fit in 2 MB */
    size_t big = 3 * MB;
    char *payload = malloc(big + 16);
    assert_non_null(payload);
    strcpy(payload, "{\"s\":\"");
    memset(payload + 6, 'x', big);
    strcpy(payload + 6 + big, "\"}");
    assert_direct_limit("function handler(e)\n" DIRECT_HEALTHY "end\n", 2 * MB, MEMORY_BOMB_TIMEOUT_MS, payload, EF_LIMIT_MEMORY,
                        MEMORY_ERROR);
    free(payload);
}

static void test_direct_logging(void **unused)
{
    runner_t *r = start_one("function handler(e)\n"
                            "  print('got', e.n, e.s)\n"
                            "  console.warn('careful')\n"
                            "  return e.n + 1\n"
                            "end\n");
    call_t c;
    direct_init(&c);
    direct_run(r, 0, &c, "{\"n\": 1, \"s\": \"x\"}");
    assert_status(&c, EF_INVOKE_OK);
    assert_string_equal(result_of(&c), "2");
    assert_int_equal(c.num_lines, 2);
    assert_string_equal(c.lines[0], "got\t1\tx");
    assert_string_equal(c.lines[1], "WARN careful");
    /* its lines and metrics name the hook "invoke" */
    assert_string_equal(ef_invocation_hook_name(&c.inv), "invoke");
    call_dispose(&c);

    /* through the default log: the function's stream, with the hook "invoke" and the request id */
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/logXXXXXX", root);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    r->fns[0].fn.log_fd = fd;
    direct_init(&c);
    c.inv = (ef_invocation_t){.fn = &r->fns[0].fn,
                              .event = &c.ev,
                              .thread_state = r->state,
                              .on_complete = on_complete,
                              .data = &c,
                              .log = ef_invocation_log,
                              .payload = h2o_iovec_init(H2O_STRLIT("{\"n\": 41, \"s\": \"y\"}"))};
    ef_lua_runtime.invoke(&c.inv);
    assert_int_equal(c.completed, 1);
    assert_status(&c, EF_INVOKE_OK);
    assert_string_equal(result_of(&c), "42");
    r->fns[0].fn.log_fd = -1;
    char buf[1024];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_contains(buf, " fn:$LATEST invoke req-direct got\t41\ty\n");
    assert_contains(buf, " fn:$LATEST invoke req-direct WARN careful\n");
    call_dispose(&c);
    dispose_runner(r);
}

static int group_setup(void **unused)
{
    snprintf(root, sizeof(root), "%s/edgefn-test-lua-XXXXXX", getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(root) != NULL ? 0 : -1;
}

static int group_teardown(void **unused)
{
    nftw(root, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_request),
        cmocka_unit_test(test_read_response),
        cmocka_unit_test(test_event_type_at_each_hook),
        cmocka_unit_test(test_untouched_request_comes_back_unchanged),
        cmocka_unit_test(test_change_uri),
        cmocka_unit_test(test_change_querystring_as_table),
        cmocka_unit_test(test_change_querystring_as_string),
        cmocka_unit_test(test_change_headers),
        cmocka_unit_test(test_change_request_cookies),
        cmocka_unit_test(test_change_response_headers_and_cookies),
        cmocka_unit_test(test_change_status),
        cmocka_unit_test(test_change_body),
        cmocka_unit_test(test_generated_response),
        cmocka_unit_test(test_invalid_not_a_table),
        cmocka_unit_test(test_invalid_status),
        cmocka_unit_test(test_invalid_body),
        cmocka_unit_test(test_invalid_method_change),
        cmocka_unit_test(test_invalid_headers),
        cmocka_unit_test(test_invalid_header_name_with_nul),
        cmocka_unit_test(test_invalid_header_values),
        cmocka_unit_test(test_invalid_uri),
        cmocka_unit_test(test_invalid_response_hook_returns_request),
        cmocka_unit_test(test_sandbox_no_io_os),
        cmocka_unit_test(test_sandbox_require),
        cmocka_unit_test(test_sandbox_require_modules),
        cmocka_unit_test(test_sandbox_code_directory),
        cmocka_unit_test(test_sandbox_load),
        cmocka_unit_test(test_sandbox_collectgarbage),
        cmocka_unit_test(test_sandbox_library_tables_read_only),
        cmocka_unit_test(test_sandbox_string_metatable),
        cmocka_unit_test(test_sandbox_gc_metamethods),
        cmocka_unit_test(test_sandbox_event_metatables),
        cmocka_unit_test(test_sandbox_nothing_survives_an_invocation),
        cmocka_unit_test(test_module_runs_once_and_is_read_only),
        cmocka_unit_test(test_module_locals_and_globals_are_put_back),
        cmocka_unit_test(test_module_classes),
        cmocka_unit_test(test_module_that_cannot_be_shared_runs_every_time),
        cmocka_unit_test(test_sandbox_random_is_not_predictable),
        cmocka_unit_test(test_sandbox_no_coroutines),
        cmocka_unit_test(test_limit_memory_string_rep),
        cmocka_unit_test(test_limit_memory_pcall_cannot_catch),
        cmocka_unit_test(test_limit_memory_growth),
        cmocka_unit_test(test_limit_memory_garbage_is_not_counted),
        cmocka_unit_test(test_limit_memory_garbage_is_not_counted_in_buffers),
        cmocka_unit_test(test_limit_cpu),
        cmocka_unit_test(test_limit_cpu_watchdog),
        cmocka_unit_test(test_limit_kill_is_final),
        cmocka_unit_test(test_limit_cpu_xpcall_handler),
        cmocka_unit_test(test_limit_cpu_runaway_pattern),
        cmocka_unit_test(test_limit_deep_recursion),
        cmocka_unit_test(test_limit_code_size),
        cmocka_unit_test(test_prepare_errors),
        cmocka_unit_test(test_error_values),
        cmocka_unit_test(test_budget_is_per_invocation),
        cmocka_unit_test(test_logging),
        cmocka_unit_test(test_log_frame),
        cmocka_unit_test(test_logging_long_line),
        cmocka_unit_test(test_logging_traceback),
        cmocka_unit_test(test_module_returning_handler),
        cmocka_unit_test(test_direct_payload_to_lua),
        cmocka_unit_test(test_direct_payload_round_trip),
        cmocka_unit_test(test_direct_result_json),
        cmocka_unit_test(test_direct_result_float_shortest),
        cmocka_unit_test(test_direct_result_invalid),
        cmocka_unit_test(test_direct_result_too_large_string),
        cmocka_unit_test(test_direct_result_many_references),
        cmocka_unit_test(test_direct_frozen_module_table),
        cmocka_unit_test(test_direct_module_not_shared),
        cmocka_unit_test(test_direct_error),
        cmocka_unit_test(test_direct_limits),
        cmocka_unit_test(test_direct_logging),
    };
    if (getenv("EF_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("EF_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
