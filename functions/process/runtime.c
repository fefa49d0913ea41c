/*
 * The process runtime (nodejs, python, provided): ef_process_runtime.
 *
 * An invocation becomes a job. The invoking thread encodes the event as Lambda@Edge
 * JSON and hands the job to the thread that owns the function's pool (itself, or
 * another worker through an h2o multithread message); the owner runs it in an
 * environment (pool.c) and hands it back; the invoking thread reads the result into
 * the event and completes the invocation. Encoding and decoding stay on the invoking
 * thread, since the event points into its request.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "functions/process/process.h"

#ifndef EF_RUNTIME_DIR
#define EF_RUNTIME_DIR "/usr/local/lib/edgefn/runtimes"
#endif

__thread ef_process_thread_t *ef_process_current_thread;

/* jobs made and not completed, on every thread: at shutdown a thread waits for 0, so that no job is left in a queue */
static atomic_size_t jobs_in_flight;

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static char runtime_dir[PATH_MAX - 128];

static void find_runtime_dir(void)
{
    char exe[PATH_MAX - 256], *slash;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    const char *env = getenv("EDGEFN_RUNTIME_DIR");

    if (env != NULL && env[0] != '\0') {
        snprintf(runtime_dir, sizeof(runtime_dir), "%s", env);
        return;
    }
    if (n > 0) {
        exe[n] = '\0';
        if ((slash = strrchr(exe, '/')) != NULL)
            *slash = '\0';
        /* the build tree has them next to the binary; an installation, under PREFIX/lib/edgefn */
        snprintf(runtime_dir, sizeof(runtime_dir), "%s/runtimes", exe);
        if (is_dir(runtime_dir))
            return;
        snprintf(runtime_dir, sizeof(runtime_dir), "%s/../lib/edgefn/runtimes", exe);
        if (is_dir(runtime_dir))
            return;
    }
    snprintf(runtime_dir, sizeof(runtime_dir), "%s", EF_RUNTIME_DIR);
}

const char *ef_process_runtime_dir(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, find_runtime_dir);
    return runtime_dir;
}

/* `name` on PATH (or `preferred` when it is executable), as an absolute path in `buf`; 0 or -1 */
static int find_program(const char *preferred, const char *name, char *buf, size_t len)
{
    const char *path = getenv("PATH"), *p, *end;

    if (preferred != NULL && access(preferred, X_OK) == 0) {
        snprintf(buf, len, "%s", preferred);
        return 0;
    }
    for (p = path != NULL ? path : "/usr/local/bin:/usr/bin:/bin"; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
        if ((end = strchr(p, ':')) == NULL)
            end = p + strlen(p);
        if (end == p)
            continue;
        snprintf(buf, len, "%.*s/%s", (int)(end - p), p, name);
        if (access(buf, X_OK) == 0)
            return 0;
    }
    return -1;
}

static int prepare(ef_function_t *fn, char *err, size_t errlen)
{
    const ef_conf_function_t *conf = fn->conf;
    ef_process_function_t *pf = h2o_mem_alloc(sizeof(*pf));
    char program[PATH_MAX], script[PATH_MAX];

    *pf = (ef_process_function_t){.fn = fn, .options = {.include_body = conf->include_body}};
    ef_spawn_private_tmp(); /* probed here, before any worker thread starts environments */
    pf->argv = calloc(5, sizeof(pf->argv[0]));
    if (asprintf(&pf->arn, "arn:aws:lambda:us-east-1:000000000000:function:%s", conf->name) == -1)
        h2o_fatal("no memory");
    fn->data = pf;
    switch (conf->runtime) {
    case EF_CONF_RUNTIME_NODEJS:
        if (find_program(NULL, "node", program, sizeof(program)) != 0) {
            snprintf(err, errlen, "a nodejs function needs node, which is not on PATH");
            return -1;
        }
        snprintf(script, sizeof(script), "%s/nodejs/bootstrap.js", ef_process_runtime_dir());
        pf->argv[0] = strdup(program);
        /* no --max-old-space-size, as Lambda gives: with it node 20 cannot use its start-up snapshot, and starts 11 ms
         * slower; a function that wants V8's heap bounded sets NODE_OPTIONS in its environment */
        pf->argv[1] = strdup(script);
        break;
    case EF_CONF_RUNTIME_PYTHON:
        /* /usr/bin/python3 itself: a version manager's shim on PATH starts 4x slower */
        if (find_program("/usr/bin/python3", "python3", program, sizeof(program)) != 0) {
            snprintf(err, errlen, "a python function needs python3, which is not on PATH");
            return -1;
        }
        snprintf(script, sizeof(script), "%s/python/bootstrap.py", ef_process_runtime_dir());
        pf->argv[0] = strdup(program);
        pf->argv[1] = strdup("-S"); /* site is imported only if the function needs it; the runtime line-buffers output */
        pf->argv[2] = strdup(script);
        break;
    default:
        pf->argv[0] = strdup(conf->module_file);
        break;
    }
    if (conf->runtime != EF_CONF_RUNTIME_PROVIDED && access(script, R_OK) != 0) {
        snprintf(err, errlen, "edgefn's %s runtime is missing: %s: %s (set EDGEFN_RUNTIME_DIR to where it is installed)",
                 conf->runtime == EF_CONF_RUNTIME_NODEJS ? "nodejs" : "python", script, strerror(errno));
        return -1;
    }
    return 0;
}

static void dispose(ef_function_t *fn)
{
    ef_process_function_t *pf = fn->data;

    if (pf == NULL)
        return;
    for (size_t i = 0; pf->argv[i] != NULL; ++i)
        free(pf->argv[i]);
    free(pf->argv);
    free(pf->arn);
    free(pf);
    fn->data = NULL;
}

h2o_timeout_t *ef_process_timeout(ef_process_thread_t *thread, uint64_t ms)
{
    for (size_t i = 0; i != thread->timeouts.size; ++i)
        if (thread->timeouts.entries[i]->timeout == ms)
            return thread->timeouts.entries[i];
    h2o_timeout_t *t = h2o_mem_alloc(sizeof(*t));
    h2o_timeout_init(thread->ctx->loop, t, ms);
    h2o_vector_reserve(NULL, &thread->timeouts, thread->timeouts.size + 1);
    thread->timeouts.entries[thread->timeouts.size++] = t;
    return t;
}

static void free_job(ef_process_job_t *job)
{
    h2o_buffer_dispose(&job->payload);
    if (job->captured != NULL)
        h2o_buffer_dispose(&job->captured);
    free(job->result.base);
    free(job);
}

/* The lines the environment logged for the job, to inv->logged. */
static void hand_over_lines(ef_invocation_t *inv, ef_process_job_t *job)
{
    for (size_t off = 0; off + sizeof(uint32_t) <= job->captured->size;) {
        uint32_t n;
        memcpy(&n, job->captured->bytes + off, sizeof(n));
        inv->logged(inv, job->captured->bytes + off + sizeof(n), n);
        off += sizeof(n) + n;
    }
    if (job->captured_dropped != 0) {
        char line[128];
        int n = snprintf(line, sizeof(line), "(%zu more lines, past the %d KB kept for the invoker: the log stream has them)",
                         job->captured_dropped, EF_PROCESS_MAX_CAPTURE / 1024);
        inv->logged(inv, line, n);
    }
}

/* on the invoking thread: the job is back */
static void complete(ef_process_job_t *job)
{
    ef_invocation_t *inv = job->inv;
    char why[256];

    atomic_fetch_sub(&jobs_in_flight, 1);
    if (inv == NULL) { /* cancelled: the request is gone */
        free_job(job);
        return;
    }
    inv->runtime_data = NULL;
    inv->status = job->status;
    inv->duration_ns = job->duration_ns;
    inv->budget_ns = job->timeout_ms * 1000000;
    inv->memory_bytes = job->memory_bytes;
    inv->limit = job->limit;
    inv->cold_start = job->cold_start;
    inv->init_ns = job->init_ns;
    snprintf(inv->error, sizeof(inv->error), "%s", job->error);
    if (job->captured != NULL)
        hand_over_lines(inv, job);
    if (inv->payload.base != NULL) {
        if (job->result.base != NULL)
            inv->result = h2o_strdup(inv->event->pool, job->result.base, job->result.len);
    } else if (job->status == EF_INVOKE_OK &&
               ef_event_from_lambda_json(inv->event, &job->options, job->result.base, job->result.len, why, sizeof(why)) != 0) {
        char line[320];
        int n = snprintf(line, sizeof(line), "Invalid result: %s", why);
        inv->log(inv, line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
        inv->status = EF_INVOKE_INVALID;
        snprintf(inv->error, sizeof(inv->error), "%s", why);
    }
    free_job(job);
    inv->on_complete(inv);
}

void ef_process_job_done(ef_process_job_t *job)
{
    if (job->origin == ef_process_current_thread)
        complete(job);
    else
        h2o_multithread_send_message(&job->origin->done, &job->message);
}

static void on_jobs(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    while (!h2o_linklist_is_empty(messages)) {
        ef_process_job_t *job = H2O_STRUCT_FROM_MEMBER(ef_process_job_t, message.link, messages->next);
        h2o_linklist_unlink(&job->message.link);
        ef_process_pool_submit(job->pf->pool, job);
    }
}

static void on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    ef_process_thread_t *thread = H2O_STRUCT_FROM_MEMBER(ef_process_thread_t, done, receiver);

    while (!h2o_linklist_is_empty(messages)) {
        ef_process_job_t *job = H2O_STRUCT_FROM_MEMBER(ef_process_job_t, message.link, messages->next);
        h2o_linklist_unlink(&job->message.link);
        --thread->num_away;
        complete(job);
    }
}

static h2o_iovec_t host_of(const ef_event_t *ev)
{
    ssize_t i = h2o_find_header(ev->request.headers, H2O_TOKEN_HOST, -1);
    return i != -1 ? ev->request.headers->entries[i].value : h2o_iovec_init(H2O_STRLIT("localhost"));
}

static void invoke(ef_invocation_t *inv)
{
    ef_process_function_t *pf = inv->fn->data;
    ef_process_thread_t *thread = inv->thread_state;
    const ef_conf_function_t *conf = pf->fn->conf;
    ef_event_t *ev = inv->event;
    ef_process_job_t *job = h2o_mem_alloc(sizeof(*job));
    int viewer = inv->payload.base == NULL && (ev->hook == EF_HOOK_VIEWER_REQUEST || ev->hook == EF_HOOK_VIEWER_RESPONSE);

    *job = (ef_process_job_t){.origin = thread, .pf = pf, .inv = inv, .hook_name = ef_invocation_hook_name(inv)};
    atomic_init(&job->cancelled, 0);
    snprintf(job->id, sizeof(job->id), "%s-%s", ev->request_id, job->hook_name);
    snprintf(job->request_id, sizeof(job->request_id), "%s", ev->request_id);
    h2o_buffer_init(&job->payload, &h2o_socket_buffer_prototype);
    if (inv->logged != NULL)
        h2o_buffer_init(&job->captured, &h2o_socket_buffer_prototype);
    if (inv->payload.base != NULL) {
        /* Lambda's Invoke: the payload as it is, with the timeout of a function at no viewer hook */
        job->timeout_ms = conf->timeout != 0 ? conf->timeout : EF_CONF_DEFAULT_ORIGIN_TIMEOUT;
        memcpy(h2o_buffer_reserve(&job->payload, inv->payload.len).base, inv->payload.base, inv->payload.len);
        job->payload->size += inv->payload.len;
    } else {
        job->timeout_ms = conf->timeout != 0 ? conf->timeout
                          : viewer           ? EF_CONF_DEFAULT_VIEWER_TIMEOUT
                                             : EF_CONF_DEFAULT_ORIGIN_TIMEOUT;
        job->options = pf->options;
        job->options.body_limit = conf->body_limit != 0                ? conf->body_limit
                                  : ev->hook == EF_HOOK_VIEWER_REQUEST ? EF_CONF_DEFAULT_VIEWER_BODY_LIMIT
                                                                       : EF_CONF_DEFAULT_ORIGIN_BODY_LIMIT;
        job->options.distribution_domain = host_of(ev);
        ef_event_to_lambda_json(&job->payload, ev, &job->options);
    }
    inv->runtime_data = job;
    atomic_fetch_add(&jobs_in_flight, 1);

    if (pf->owner == thread) {
        ef_process_pool_submit(pf->pool, job);
    } else {
        ++thread->num_away;
        h2o_multithread_send_message(&pf->owner->jobs, &job->message);
    }
}

static void cancel(ef_invocation_t *inv)
{
    ef_process_job_t *job = inv->runtime_data;

    /* the owner finishes with it as soon as it can (it is not started, or its result is dropped); `complete` frees it */
    job->inv = NULL;
    atomic_store(&job->cancelled, 1);
    inv->runtime_data = NULL;
}

static void *thread_init(ef_function_t **fns, size_t num_fns, const ef_runtime_thread_t *rt)
{
    ef_process_thread_t *thread = h2o_mem_alloc(sizeof(*thread));

    *thread = (ef_process_thread_t){.ctx = rt->ctx, .api_accept = {rt->ctx, rt->api_hosts}};
    h2o_linklist_init_anchor(&thread->connections);
    h2o_multithread_register_receiver(rt->ctx->queue, &thread->jobs, on_jobs);
    h2o_multithread_register_receiver(rt->ctx->queue, &thread->done, on_done);
    ef_process_current_thread = thread;
    /* the pools are spread over the threads, in the order of the config */
    for (size_t i = 0; i != num_fns; ++i) {
        ef_process_function_t *pf = fns[i]->data;
        if (i % rt->num_threads != rt->index)
            continue;
        pf->owner = thread;
        pf->pool = ef_process_pool_create(thread, pf);
        h2o_vector_reserve(NULL, &thread->pools, thread->pools.size + 1);
        thread->pools.entries[thread->pools.size++] = pf->pool;
    }
    return thread;
}

static int thread_quiesce(void *state)
{
    ef_process_thread_t *thread = state;
    int idle = 1;

    thread->quiescing = 1;
    for (size_t i = 0; i != thread->pools.size; ++i)
        if (!ef_process_pool_shutdown(thread->pools.entries[i]))
            idle = 0;
    return idle && thread->num_away == 0 && atomic_load(&jobs_in_flight) == 0 && h2o_linklist_is_empty(&thread->connections);
}

static void thread_dispose(void *state)
{
    ef_process_thread_t *thread = state;

    for (size_t i = 0; i != thread->pools.size; ++i)
        ef_process_pool_destroy(thread->pools.entries[i]);
    free(thread->pools.entries);
    /* Runtime API connections still open belong to processes that are gone */
    while (!h2o_linklist_is_empty(&thread->connections)) {
        ef_process_conn_t *conn = H2O_STRUCT_FROM_MEMBER(ef_process_conn_t, link, thread->connections.next);
        h2o_linklist_unlink(&conn->link);
        conn->sock->on_close.cb = NULL;
        free(conn);
    }
    h2o_multithread_unregister_receiver(thread->ctx->queue, &thread->jobs);
    h2o_multithread_unregister_receiver(thread->ctx->queue, &thread->done);
    for (size_t i = 0; i != thread->timeouts.size; ++i) {
        h2o_timeout_dispose(thread->ctx->loop, thread->timeouts.entries[i]);
        free(thread->timeouts.entries[i]);
    }
    free(thread->timeouts.entries);
    if (ef_process_current_thread == thread)
        ef_process_current_thread = NULL;
    free(thread);
}

const ef_runtime_t ef_process_runtime = {"process", prepare, thread_init, thread_quiesce, thread_dispose, invoke, cancel, dispose};
