#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "functions/json.h"
#include "functions/process/process.h"
#include "functions/registry.h"

static const ef_runtime_t *runtime_of(ef_conf_runtime_t kind)
{
    switch (kind) {
    case EF_CONF_RUNTIME_LUA:
        return &ef_lua_runtime;
    case EF_CONF_RUNTIME_NODEJS:
    case EF_CONF_RUNTIME_PYTHON:
    case EF_CONF_RUNTIME_PROVIDED:
        return &ef_process_runtime;
    }
    return NULL;
}

int ef_function_init(ef_function_t *fn, const ef_conf_function_t *conf, char *err, size_t errlen)
{
    *fn = (ef_function_t){conf, runtime_of(conf->runtime), STDERR_FILENO};
    return fn->runtime->prepare(fn, err, errlen);
}

void ef_function_dispose(ef_function_t *fn)
{
    if (fn->runtime != NULL)
        fn->runtime->dispose(fn);
    if (fn->log_fd > STDERR_FILENO)
        close(fn->log_fd);
    fn->runtime = NULL;
    fn->log_fd = -1;
}

int ef_functions_prepare(ef_functions_t *fns, const ef_conf_t *conf, ef_conf_errors_t *errors)
{
    size_t num_errors = errors->size;
    char err[1024];

    fns->size = conf->num_functions;
    fns->entries = calloc(fns->size + 1, sizeof(fns->entries[0]));
    if (fns->entries == NULL)
        abort();
    for (size_t i = 0; i != fns->size; ++i)
        if (ef_function_init(fns->entries + i, conf->functions + i, err, sizeof(err)) != 0)
            ef_conf_error(errors, conf, conf->functions[i].pos, "function \"%s\": %s", conf->functions[i].name, err);
    return errors->size == num_errors ? 0 : -1;
}

static int today(void)
{
    return (int)(time(NULL) / 86400);
}

void ef_function_log_path(const ef_function_t *fn, int day, char *path, size_t len)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(path, len, "%s/%s-%04d-%02d-%02d.log", fn->log_dir, fn->conf->name, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static int open_log_file(const ef_function_t *fn, int day, char *path, size_t len)
{
    ef_function_log_path(fn, day, path, len);
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

/* A new day: the stream moves to that day's file, in place (dup2), so that no thread ever writes to a closed descriptor. */
static void roll_log(const ef_function_t *fn, int day)
{
    ef_function_t *mut = (ef_function_t *)fn;
    int expected = atomic_load(&mut->log_day), fd;
    char path[4096];

    if (expected == day || !atomic_compare_exchange_strong(&mut->log_day, &expected, day))
        return; /* another thread moved it */
    if ((fd = open_log_file(fn, day, path, sizeof(path))) == -1)
        return; /* yesterday's file it is, then */
    dup2(fd, fn->log_fd);
    close(fd);
}

int ef_functions_open_logs(ef_functions_t *fns, const ef_conf_t *conf, char *err, size_t errlen)
{
    for (size_t i = 0; i != fns->size; ++i) {
        ef_function_t *fn = fns->entries + i;
        fn->log_json = conf->function_logs.json;
        switch (conf->function_logs.kind) {
        case EF_CONF_LOG_STDERR:
            fn->log_fd = STDERR_FILENO;
            break;
        case EF_CONF_LOG_OFF:
            fn->log_fd = -1;
            break;
        case EF_CONF_LOG_FILE: {
            char path[4096];
            fn->log_dir = conf->function_logs.dir;
            atomic_store(&fn->log_day, today());
            if ((fn->log_fd = open_log_file(fn, atomic_load(&fn->log_day), path, sizeof(path))) == -1) {
                snprintf(err, errlen, "cannot open the log of function \"%s\" (%s): %s", fn->conf->name, path, strerror(errno));
                return -1;
            }
        } break;
        }
    }
    return 0;
}

void ef_functions_dispose(ef_functions_t *fns)
{
    if (fns->entries == NULL)
        return;
    for (size_t i = 0; i != fns->size; ++i)
        ef_function_dispose(fns->entries + i);
    free(fns->entries);
    *fns = (ef_functions_t){NULL};
}

/* The state of `runtime` for its functions among `fns`, or NULL when it has none. */
static void *runtime_thread_init(const ef_runtime_t *runtime, ef_functions_t *fns, const ef_runtime_thread_t *rt)
{
    ef_function_t **mine = alloca(sizeof(mine[0]) * (fns->size + 1));
    size_t num_mine = 0;

    for (size_t i = 0; i != fns->size; ++i)
        if (fns->entries[i].runtime == runtime)
            mine[num_mine++] = fns->entries + i;
    return num_mine != 0 ? runtime->thread_init(mine, num_mine, rt) : NULL;
}

#define STR(x) #x
#define XSTR(x) STR(x)
#define MEMORY_WATCH "; memory limits watch resident memory every " XSTR(EF_PROCESS_MEMORY_TICK) " ms"

const char *ef_functions_isolation(const ef_functions_t *fns)
{
    for (size_t i = 0; i != fns->size; ++i)
        if (fns->entries[i].runtime == &ef_process_runtime)
            return ef_spawn_private_tmp() ? "execution environments get a private /tmp (a mount namespace)" MEMORY_WATCH
                                          : "execution environments get a /tmp directory of their own as TMPDIR only (mount "
                                            "namespaces need root)" MEMORY_WATCH;
    return NULL;
}

void ef_functions_register_runtime_api(h2o_pathconf_t *pathconf)
{
    ef_process_api_register(pathconf);
}

void ef_functions_thread_init(ef_functions_t *fns, ef_functions_thread_t *thread, const ef_runtime_thread_t *rt)
{
    thread->lua = runtime_thread_init(&ef_lua_runtime, fns, rt);
    thread->process = runtime_thread_init(&ef_process_runtime, fns, rt);
}

int ef_functions_thread_quiesce(ef_functions_thread_t *thread)
{
    return thread->process == NULL || ef_process_runtime.thread_quiesce(thread->process);
}

void ef_functions_thread_dispose(ef_functions_thread_t *thread)
{
    if (thread->lua != NULL)
        ef_lua_runtime.thread_dispose(thread->lua);
    if (thread->process != NULL)
        ef_process_runtime.thread_dispose(thread->process);
    thread->lua = NULL;
    thread->process = NULL;
}

void ef_function_log(const ef_function_t *fn, ef_hook_t hook, const char *request_id, const char *msg, size_t len)
{
    ef_function_log_as(fn, ef_hook_names[hook], request_id, msg, len);
}

/* `s` as the inside of a JSON string: quotes, backslashes and control characters escaped, a byte that is not part of
 * valid UTF-8 written as U+FFFD (so that the line stays JSON), other bytes as they are; at most 6 bytes per byte of `s` */
static char *json_escape(char *p, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i != len; ++i) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t n = ef_utf8_seq((const unsigned char *)s + i, (const unsigned char *)s + len);
            if (n == 0) {
                memcpy(p, "\\ufffd", 6);
                p += 6;
            } else {
                memcpy(p, s + i, n);
                p += n;
                i += n - 1;
            }
        } else if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = c;
        } else if (c == '\n') {
            *p++ = '\\';
            *p++ = 'n';
        } else if (c == '\t') {
            *p++ = '\\';
            *p++ = 't';
        } else if (c < 0x20 || c == 0x7f) {
            p += sprintf(p, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
        } else {
            *p++ = c;
        }
    }
    return p;
}

void ef_function_log_as(const ef_function_t *fn, const char *hook, const char *request_id, const char *msg, size_t len)
{
    char stackbuf[4096], *line = stackbuf, *p;
    size_t cap = 200 + strlen(fn->conf->name) * 6 + strlen(request_id) + len * 6;
    struct timespec now;
    struct tm tm;

    if (fn->log_cb != NULL) {
        fn->log_cb(fn, msg, len);
        return;
    }
    if (fn->log_fd == -1)
        return;
    if (cap > sizeof(stackbuf) && (line = malloc(cap)) == NULL)
        abort();
    clock_gettime(CLOCK_REALTIME, &now);
    if (fn->log_dir != NULL && now.tv_sec / 86400 != atomic_load(&fn->log_day))
        roll_log(fn, (int)(now.tv_sec / 86400));
    gmtime_r(&now.tv_sec, &tm);
    if (fn->log_json) {
        /* {"time", "function", "version", "hook", "request_id", "message"}: one object a line */
        p = line + sprintf(line, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"function\":\"", tm.tm_year + 1900,
                           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);
        p = json_escape(p, fn->conf->name, strlen(fn->conf->name));
        p += sprintf(p, "\",\"version\":\"$LATEST\",\"hook\":\"%s\",\"request_id\":\"%s\",\"message\":\"", hook, request_id);
        p = json_escape(p, msg, len);
        p += sprintf(p, "\"}\n");
        goto Write;
    }
    p = line + sprintf(line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s:$LATEST %s %s ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000, fn->conf->name, hook, request_id);
    /* one call, one line: line breaks in the message are written as \n */
    for (size_t i = 0; i != len; ++i) {
        if (msg[i] == '\n') {
            *p++ = '\\';
            *p++ = 'n';
        } else if (msg[i] == '\r') {
            *p++ = '\\';
            *p++ = 'r';
        } else {
            *p++ = msg[i];
        }
    }
    *p++ = '\n';
Write:
    for (size_t off = 0; off < (size_t)(p - line);) {
        ssize_t n = write(fn->log_fd, line + off, (p - line) - off);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += n;
    }
    if (line != stackbuf)
        free(line);
}

void ef_invocation_log(ef_invocation_t *inv, const char *msg, size_t len)
{
    ef_function_log_as(inv->fn, ef_invocation_hook_name(inv), inv->event->request_id, msg, len);
}
