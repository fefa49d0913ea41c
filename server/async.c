#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "functions/json.h"
#include "functions/registry.h"
#include "server/async.h"
#include "server/log.h"
#include "server/server.h"

#define THROTTLE_DELAY 1000 /* ms before a throttled event tries again, when async.retry-delay is longer */

typedef struct st_ef_async_event_t {
    h2o_linklist_t ready;  /* in the thread's ready list, or not linked */
    h2o_linklist_t events; /* in the thread's list of all */
    ef_async_thread_t *owner;
    size_t function;
    char id[EF_REQUEST_ID_LEN + 1];
    h2o_iovec_t payload;  /* malloc'ed */
    uint64_t enqueued_at; /* ms since the epoch */
    uint64_t retry_at;    /* ms since the epoch: when it is to run again after a failed attempt (0: now) */
    unsigned invocations; /* attempts made */
    unsigned failures;    /* of them, those that count against async.retries (not throttles) */
    h2o_timeout_entry_t retry_timer;
    /* while it runs */
    h2o_mem_pool_t pool;
    ef_direct_t run;
} ef_async_event_t;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static ef_server_t *server_of(ef_async_thread_t *async)
{
    return async->thread->server;
}

static const ef_conf_function_t *conf_of(ef_async_event_t *ev)
{
    return server_of(ev->owner)->functions.entries[ev->function].conf;
}

/* ---- the queue directory ---- */

static void queue_path(ef_async_event_t *ev, char *path, size_t len)
{
    snprintf(path, len, "%s/%s.json", server_of(ev->owner)->conf->async.queue_directory, ev->id);
}

/* Writes `len` bytes to `path` whole or not at all: a file beside it, then renamed over it. 0, or -1 with errno set. */
static int write_file(const char *path, const char *data, size_t len)
{
    char tmp[PATH_MAX + 8];
    int fd, saved;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1)
        return -1;
    for (size_t off = 0; off != len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            goto Error;
        off += n;
    }
    if (close(fd) != 0) {
        fd = -1;
        goto Error;
    }
    if (rename(tmp, path) != 0) {
        fd = -1;
        goto Error;
    }
    return 0;
Error:
    saved = errno;
    if (fd != -1)
        close(fd);
    unlink(tmp);
    errno = saved;
    return -1;
}

/* {"id", "function", "enqueuedAt", "retryAt", "invocations", "failures", "payload"}: what resumes the event after a restart */
static int persist(ef_async_event_t *ev, char *err, size_t errlen)
{
    char path[PATH_MAX], head[512];
    h2o_iovec_t file;

    if (server_of(ev->owner)->conf->async.queue_directory == NULL)
        return 0;
    int n = snprintf(head, sizeof(head),
                     "{\"id\":\"%s\",\"function\":\"%s\",\"enqueuedAt\":%" PRIu64 ",\"retryAt\":%" PRIu64
                     ",\"invocations\":%u,\"failures\":%u,"
                     "\"payload\":",
                     ev->id, conf_of(ev)->name, ev->enqueued_at, ev->retry_at, ev->invocations, ev->failures);
    file = h2o_concat(NULL, h2o_iovec_init(head, n), ev->payload, h2o_iovec_init(H2O_STRLIT("}\n")));
    queue_path(ev, path, sizeof(path));
    int ret = write_file(path, file.base, file.len);
    if (ret != 0)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    free(file.base);
    return ret;
}

static void forget(ef_async_event_t *ev)
{
    char path[PATH_MAX];

    if (server_of(ev->owner)->conf->async.queue_directory == NULL)
        return;
    queue_path(ev, path, sizeof(path));
    if (unlink(path) != 0 && errno != ENOENT)
        ef_log(EF_LOG_WARN, "async: cannot remove %s: %s", path, strerror(errno));
}

/* ---- events ---- */

static void start(ef_async_event_t *ev);

static void free_event(ef_async_event_t *ev)
{
    h2o_linklist_unlink(&ev->events);
    if (h2o_linklist_is_linked(&ev->ready))
        h2o_linklist_unlink(&ev->ready);
    h2o_timeout_unlink(&ev->retry_timer);
    atomic_fetch_sub(&server_of(ev->owner)->async_queued, 1);
    free(ev->payload.base);
    free(ev);
}

static void on_kick_timer(h2o_timeout_entry_t *entry);

/*
 * Runs ready events while there is room, at most async.concurrency of them per turn of the loop: a Lua function completes
 * within its start, and a long queue must not keep the thread from its requests. Not reentrant: a completion that comes
 * during a kick leaves the next start to it.
 */
static void kick(ef_async_thread_t *async)
{
    unsigned concurrency = server_of(async)->conf->async.concurrency, started = 0;

    if (async->kicking)
        return;
    async->kicking = 1;
    while (!async->stopping && async->running < concurrency && !h2o_linklist_is_empty(&async->ready)) {
        if (started++ == concurrency) {
            if (!h2o_timeout_is_linked(&async->kick_timer)) {
                async->kick_timer = (h2o_timeout_entry_t){.cb = on_kick_timer};
                h2o_timeout_link(async->thread->ctx.loop, ef_thread_timeout(async->thread, 0), &async->kick_timer);
            }
            break;
        }
        ef_async_event_t *ev = H2O_STRUCT_FROM_MEMBER(ef_async_event_t, ready, async->ready.next);
        h2o_linklist_unlink(&ev->ready);
        start(ev);
    }
    async->kicking = 0;
}

static void on_kick_timer(h2o_timeout_entry_t *entry)
{
    kick(H2O_STRUCT_FROM_MEMBER(ef_async_thread_t, kick_timer, entry));
}

/* The event is done, for good: out of the queue directory and out of memory. */
static void finish(ef_async_event_t *ev)
{
    forget(ev);
    h2o_mem_clear_pool(&ev->pool);
    free_event(ev);
}

static void on_retry_timer(h2o_timeout_entry_t *entry)
{
    ef_async_event_t *ev = H2O_STRUCT_FROM_MEMBER(ef_async_event_t, retry_timer, entry);

    h2o_linklist_insert(&ev->owner->ready, &ev->ready);
    kick(ev->owner);
}

/* The event runs again `delay` ms from now. */
static void wait_until(ef_async_event_t *ev, uint64_t delay)
{
    ev->retry_timer = (h2o_timeout_entry_t){.cb = on_retry_timer};
    h2o_timeout_link(ev->owner->thread->ctx.loop, ef_thread_timeout(ev->owner->thread, delay), &ev->retry_timer);
}

/* Lambda's destination record of an event given up, into the function's on-failure directory, or the error log.
 * Returns -1 when the record cannot be written (the event is then not to be forgotten). */
static int give_up(ef_async_event_t *ev, const char *condition, h2o_iovec_t error)
{
    const ef_conf_function_t *conf = conf_of(ev);
    char path[PATH_MAX], ts[32], head[1024];
    uint64_t now = now_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;

    if (conf->async.on_failure == NULL) {
        ef_log(
            EF_LOG_WARN,
            "async: function \"%s\": event %s dropped after %u invocation%s (%s; set async.on-failure to keep such events): %.*s",
            conf->name, ev->id, ev->invocations, ev->invocations == 1 ? "" : "s", condition,
            (int)(error.len < 300 ? error.len : 300), error.base);
        return 0;
    }
    gmtime_r(&secs, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    int n = snprintf(head, sizeof(head),
                     "{\"version\":\"1.0\",\"timestamp\":\"%s.%03dZ\",\"requestContext\":{\"requestId\":\"%s\","
                     "\"functionArn\":\"arn:aws:lambda:us-east-1:000000000000:function:%s:$LATEST\",\"condition\":\"%s\","
                     "\"approximateInvokeCount\":%u},\"requestPayload\":",
                     ts, (int)(now % 1000), ev->id, conf->name, condition, ev->invocations);
    h2o_iovec_t record = h2o_concat(
        NULL, h2o_iovec_init(head, n), ev->payload,
        h2o_iovec_init(H2O_STRLIT(",\"responseContext\":{\"statusCode\":200,\"executedVersion\":\"$LATEST\",\"functionError\":"
                                  "\"Unhandled\"},\"responsePayload\":")),
        error, h2o_iovec_init(H2O_STRLIT("}\n")));
    snprintf(path, sizeof(path), "%s/%s.json", conf->async.on_failure, ev->id);
    int ret = write_file(path, record.base, record.len);
    if (ret != 0)
        ef_log(EF_LOG_ERROR, "async: function \"%s\": event %s given up (%s), and its record cannot be written: %s: %s%s",
               conf->name, ev->id, condition, path, strerror(errno),
               server_of(ev->owner)->conf->async.queue_directory != NULL ? " (the event stays in the queue directory)" : "");
    free(record.base);
    return ret;
}

static void on_complete(ef_invocation_t *inv)
{
    ef_async_event_t *ev = inv->data;
    ef_async_thread_t *async = ev->owner;
    ef_server_t *server = server_of(async);
    const ef_conf_function_t *conf = conf_of(ev);
    char err[PATH_MAX + 64];

    ef_direct_done(&ev->run);
    --async->running;
    if (inv->status == EF_INVOKE_OK) {
        finish(ev);
        goto Exit;
    }
    int throttled = inv->status == EF_INVOKE_LIMIT && inv->limit == EF_LIMIT_THROTTLE;
    if (!throttled)
        ++ev->failures;
    if (ev->failures > conf->async.retries || now_ms() - ev->enqueued_at >= conf->async.max_event_age) {
        if (give_up(ev, ev->failures > conf->async.retries ? "RetriesExhausted" : "EventAgeExceeded",
                    ef_invoke_error_body(inv, &ev->pool)) != 0) {
            h2o_mem_clear_pool(&ev->pool);
            free_event(ev); /* its file stays, for an operator (or the next start) */
        } else {
            finish(ev);
        }
        goto Exit;
    }
    h2o_mem_clear_pool(&ev->pool);
    uint64_t delay = throttled
                         ? (server->conf->async.retry_delay < THROTTLE_DELAY ? server->conf->async.retry_delay : THROTTLE_DELAY)
                         : server->conf->async.retry_delay << (ev->failures - 1);
    ev->retry_at = now_ms() + delay;
    if (persist(ev, err, sizeof(err)) != 0)
        ef_log(EF_LOG_WARN, "async: function \"%s\": event %s: %s", conf->name, ev->id, err);
    wait_until(ev, delay);
Exit:
    kick(async);
}

static void start(ef_async_event_t *ev)
{
    ef_async_thread_t *async = ev->owner;
    ef_server_t *server = server_of(async);
    ef_function_t *fn = server->functions.entries + ev->function;
    char err[PATH_MAX + 64];

    /* counted as it starts: one that is running when edgefn stops has had this attempt */
    ++ev->invocations;
    if (persist(ev, err, sizeof(err)) != 0)
        ef_log(EF_LOG_WARN, "async: function \"%s\": event %s: %s", fn->conf->name, ev->id, err);

    ++async->running;
    ef_direct_start(&ev->run, async->thread, ev->function, &ev->pool, ev->id, ev->payload, on_complete, ev, NULL, NULL);
}

static ef_async_event_t *new_event(ef_async_thread_t *async, size_t f, h2o_iovec_t payload, const char *id)
{
    ef_async_event_t *ev = h2o_mem_alloc(sizeof(*ev));

    *ev = (ef_async_event_t){.owner = async, .function = f, .enqueued_at = now_ms()};
    snprintf(ev->id, sizeof(ev->id), "%s", id);
    ev->payload = h2o_strdup(NULL, payload.base, payload.len);
    h2o_mem_init_pool(&ev->pool);
    h2o_linklist_insert(&async->events, &ev->events);
    atomic_fetch_add(&server_of(async)->async_queued, 1);
    return ev;
}

int ef_async_enqueue(ef_async_thread_t *async, size_t f, h2o_iovec_t payload, const char *id, char *err, size_t errlen)
{
    ef_server_t *server = server_of(async);
    size_t queued = atomic_load(&server->async_queued);

    if (queued >= server->conf->async.max_queued) {
        snprintf(err, errlen, "the queue of Event invocations is full (async.max-queued: %u)", server->conf->async.max_queued);
        return EF_ASYNC_FULL;
    }
    ef_async_event_t *ev = new_event(async, f, payload, id);
    if (persist(ev, err, errlen) != 0) {
        ef_log(EF_LOG_ERROR, "async: function \"%s\": event %s refused: %s", conf_of(ev)->name, id, err);
        free_event(ev);
        return EF_ASYNC_NOT_SAVED;
    }
    h2o_linklist_insert(&async->ready, &ev->ready);
    kick(async);
    return 0;
}

/* ---- resuming a persisted queue ---- */

static int read_file(const char *path, char **data, size_t *len)
{
    FILE *fp = fopen(path, "re");
    long size;

    if (fp == NULL)
        return -1;
    if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        return -1;
    }
    *data = h2o_mem_alloc(size + 1);
    *len = fread(*data, 1, size, fp);
    (*data)[*len] = '\0';
    fclose(fp);
    return 0;
}

/* 20 lowercase hexadecimal digits, as ef_thread_next_request_id writes them */
static int is_request_id(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; ++i)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == EF_REQUEST_ID_LEN;
}

/* One file of the queue directory back into the queue; 0, or -1 with why in `err` (the file is then left alone). */
static int resume_file(ef_async_thread_t *async, const char *path, char *err, size_t errlen)
{
    ef_server_t *server = server_of(async);
    char *data;
    size_t len, f;
    json_error_t jerr;
    json_t *root, *payload;
    const char *id, *name;

    if (read_file(path, &data, &len) != 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    root = json_loadb(data, len, 0, &jerr);
    free(data);
    if (root == NULL) {
        snprintf(err, errlen, "not JSON: %s", jerr.text);
        return -1;
    }
    int ret = -1;
    if (json_unpack_ex(root, &jerr, 0, "{s:s, s:s, s:o}", "id", &id, "function", &name, "payload", &payload) != 0) {
        snprintf(err, errlen, "not a queued event (%s)", jerr.text);
        goto Exit;
    }
    /* the id names the file that is removed once the event is done: it must be this one's */
    const char *base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
    if (!is_request_id(id) || strncmp(base, id, EF_REQUEST_ID_LEN) != 0) {
        snprintf(err, errlen, "its id \"%.40s\" is not its file's name", id);
        goto Exit;
    }
    for (f = 0; f != server->functions.size; ++f)
        if (strcmp(server->functions.entries[f].conf->name, name) == 0)
            break;
    if (f == server->functions.size) {
        snprintf(err, errlen, "an event for function \"%.64s\", which the config does not have", name);
        goto Exit;
    }
    char *text = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);
    ef_async_event_t *ev = new_event(async, f, h2o_iovec_init(text, strlen(text)), id);
    free(text);
    json_t *v;
    if ((v = json_object_get(root, "enqueuedAt")) != NULL && json_is_integer(v))
        ev->enqueued_at = json_integer_value(v);
    if ((v = json_object_get(root, "invocations")) != NULL && json_is_integer(v))
        ev->invocations = (unsigned)json_integer_value(v);
    if ((v = json_object_get(root, "failures")) != NULL && json_is_integer(v))
        ev->failures = (unsigned)json_integer_value(v);
    if ((v = json_object_get(root, "retryAt")) != NULL && json_is_integer(v))
        ev->retry_at = json_integer_value(v);
    /* it keeps its schedule: a restart does not hasten a retry (there is a timer list per distinct delay: 100 ms steps) */
    uint64_t now = now_ms();
    if (ev->retry_at > now)
        wait_until(ev, (ev->retry_at - now + 99) / 100 * 100);
    else
        h2o_linklist_insert(&async->ready, &ev->ready);
    ret = 0;
Exit:
    json_decref(root);
    return ret;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_event_file(const struct dirent *d)
{
    size_t len = strlen(d->d_name);
    return len == EF_REQUEST_ID_LEN + 5 && strcmp(d->d_name + EF_REQUEST_ID_LEN, ".json") == 0 && d->d_name[0] != '.';
}

static void resume(ef_async_thread_t *async)
{
    const char *dir = server_of(async)->conf->async.queue_directory;
    struct dirent **names;
    char path[PATH_MAX], err[256];
    size_t resumed = 0;
    int n;

    if ((n = scandir(dir, &names, is_event_file, by_name)) == -1) {
        ef_log(EF_LOG_ERROR, "async: cannot read the queue directory %s: %s", dir, strerror(errno));
        return;
    }
    for (int i = 0; i != n; ++i) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        if (resume_file(async, path, err, sizeof(err)) == 0)
            ++resumed;
        else
            ef_log(EF_LOG_WARN, "async: %s: %s; left as it is", path, err);
        free(names[i]);
    }
    free(names);
    if (resumed != 0)
        ef_log(EF_LOG_INFO, "async: resumed %zu queued event%s from %s", resumed, resumed == 1 ? "" : "s", dir);
}

void ef_async_thread_init(ef_async_thread_t *async, ef_thread_t *thread)
{
    *async = (ef_async_thread_t){.thread = thread};
    h2o_linklist_init_anchor(&async->ready);
    h2o_linklist_init_anchor(&async->events);
    if (thread->index == 0 && thread->server->conf->async.queue_directory != NULL) {
        resume(async);
        /* they run once the loop does: then every thread's runtimes are up (a process function's pool may be another's) */
        async->kick_timer = (h2o_timeout_entry_t){.cb = on_kick_timer};
        h2o_timeout_link(thread->ctx.loop, ef_thread_timeout(thread, 0), &async->kick_timer);
    }
}

void ef_async_thread_stop(ef_async_thread_t *async)
{
    size_t left = 0;

    async->stopping = 1;
    h2o_timeout_unlink(&async->kick_timer);
    while (!h2o_linklist_is_empty(&async->events)) {
        ef_async_event_t *ev = H2O_STRUCT_FROM_MEMBER(ef_async_event_t, events, async->events.next);
        if (ev->run.running) {
            ef_direct_cancel(&ev->run);
            --async->running;
        }
        h2o_mem_clear_pool(&ev->pool);
        free_event(ev);
        ++left;
    }
    if (left == 0)
        return;
    const char *dir = async->thread->server->conf->async.queue_directory;
    if (dir != NULL)
        ef_log(EF_LOG_INFO, "async: thread %zu: %zu queued event%s kept in %s for the next start", async->thread->index, left,
               left == 1 ? "" : "s", dir);
    else
        ef_log(EF_LOG_WARN, "async: thread %zu: %zu queued event%s lost (set async.queue-directory to keep them across restarts)",
               async->thread->index, left, left == 1 ? "" : "s");
}

/* ---- direct invocations ---- */

static ef_function_metrics_t *direct_metrics(ef_direct_t *d)
{
    return ef_metrics_function(&d->thread->metrics, d->function, EF_METRICS_INVOKE);
}

void ef_direct_start(ef_direct_t *d, ef_thread_t *thread, size_t f, h2o_mem_pool_t *pool, const char *request_id,
                     h2o_iovec_t payload, void (*on_complete)(ef_invocation_t *), void *data,
                     void (*log)(ef_invocation_t *, const char *, size_t), void (*logged)(ef_invocation_t *, const char *, size_t))
{
    ef_function_t *fn = thread->server->functions.entries + f;

    *d = (ef_direct_t){.thread = thread, .function = f, .running = 1};
    d->event = (ef_event_t){.request_id = request_id, .pool = pool};
    d->event.request.headers = &d->headers[0];
    d->event.response.headers = &d->headers[1];
    d->inv = (ef_invocation_t){.fn = fn,
                               .event = &d->event,
                               .thread_state = ef_functions_thread_state(&thread->functions, fn),
                               .on_complete = on_complete,
                               .data = data,
                               .log = log != NULL ? log : ef_invocation_log,
                               .logged = logged,
                               .payload = payload};
    ef_count(&direct_metrics(d)->started, 1);
    fn->runtime->invoke(&d->inv);
}

void ef_direct_done(ef_direct_t *d)
{
    d->running = 0;
    ef_metrics_count_invocation(direct_metrics(d), &d->inv);
}

void ef_direct_cancel(ef_direct_t *d)
{
    if (!d->running)
        return;
    d->running = 0;
    ef_count(&direct_metrics(d)->ended, 1);
    d->inv.fn->runtime->cancel(&d->inv);
}

/* ---- the error of a direct invocation ---- */

h2o_iovec_t ef_invoke_error_body(const ef_invocation_t *inv, h2o_mem_pool_t *pool)
{
    const char *type = "Runtime.HandlerError";
    json_t *out, *message;
    char *s;

    if (inv->status != EF_INVOKE_INVALID && inv->result.base != NULL) {
        /* as the function's runtime reported it: what the handler raised, or its initialization; a runtime of the
         * function's own may post anything, which is given as the message */
        if (inv->result.len != 0 && ef_json_parse(pool, inv->result.base, inv->result.len, NULL) != NULL)
            return inv->result;
        message = json_stringn(inv->result.base, inv->result.len);
        out = json_pack("{s:s, s:o}", "errorType", "Runtime.Unknown", "errorMessage",
                        message != NULL ? message : json_string("(an error that is not UTF-8: the function's log has it)"));
        goto Dump;
    }
    switch (inv->status) {
    case EF_INVOKE_INVALID:
        type = inv->fn->runtime == &ef_lua_runtime ? "Runtime.MarshalError" : "Function.ResponseSizeTooLarge";
        break;
    case EF_INVOKE_LIMIT:
        type = inv->limit == EF_LIMIT_TIMEOUT    ? "Sandbox.Timedout"
               : inv->limit == EF_LIMIT_MEMORY   ? "Runtime.OutOfMemory"
               : inv->limit == EF_LIMIT_THROTTLE ? "TooManyRequestsException"
                                                 : "Runtime.ExitError";
        break;
    default:
        break;
    }
    if (inv->status == EF_INVOKE_LIMIT && inv->limit == EF_LIMIT_TIMEOUT && inv->fn->runtime != &ef_lua_runtime) {
        char task[80]; /* as the function's log and Lambda say it */
        snprintf(task, sizeof(task), "Task timed out after %" PRIu64 " ms", inv->budget_ns / 1000000);
        message = json_string(task);
    } else if ((message = json_string(inv->error)) == NULL)
        message = json_string("(an error message that is not UTF-8: the function's log has it)");
    out = json_pack("{s:s, s:o}", "errorType", type, "errorMessage", message);
Dump:
    s = json_dumps(out, JSON_COMPACT);
    h2o_iovec_t body = h2o_strdup(pool, s, strlen(s));
    free(s);
    json_decref(out);
    return body;
}
