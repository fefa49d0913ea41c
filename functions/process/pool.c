/*
 * Execution environments and their pool: one pool per function, on its owner thread.
 *
 * An environment is one child process. It is started on demand (bound to the job
 * that needed it, as Lambda's cold start serves the request that caused it) or ahead
 * of traffic (concurrency.provisioned), asks for events through the Runtime API,
 * and is reused while warm. Idle on-demand environments are reaped after
 * idle-timeout. At concurrency.reserved environments a job waits in the queue for up
 * to queue-timeout, then is throttled.
 *
 * An environment ends when it exits, crashes, times out (a job ran past its timeout:
 * the environment is killed, as Lambda does), or uses more memory than it may. Its
 * job, if it has one, fails at once. Whatever the environment printed is its
 * function's log stream, line by line, framed by START, END and REPORT.
 *
 * Memory is enforced by watching the environment's resident set (/proc/PID/statm)
 * every EF_PROCESS_MEMORY_TICK ms while it starts or runs a job, and killing it past
 * its limit. RLIMIT_AS cannot be used: V8 reserves far more address space than it
 * uses. (A cgroup v2 memory.max would also catch what the runtime's own children
 * use; it needs a delegated cgroup, which edgefn does not ask for yet.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "functions/process/process.h"

#define MAX_LOG_LINE (16 << 10)    /* a longer line is cut into lines of this size */
#define MEMORY_REPORT_INTERVAL 100 /* ms: how stale REPORT's Max Memory Used may be */
#define MAX_RESPAWN_DELAY 60000    /* ms between attempts to replace a provisioned environment that keeps failing */

typedef enum en_env_state_t {
    ENV_STARTING, /* has not asked for its first event yet */
    ENV_READY,    /* idle or running `job` */
    ENV_DEAD,     /* killed or exited; waiting to be reaped */
} env_state_t;

struct st_ef_process_env_t {
    h2o_linklist_t link;      /* in pool->envs */
    h2o_linklist_t idle_link; /* in pool->idle while ready and without a job */
    ef_process_pool_t *pool;
    unsigned number; /* 1, 2, ... within the pool */
    int provisioned;
    int reaped; /* waitpid has collected it */
    env_state_t state;
    pid_t pid;
    h2o_socket_t *listener; /* the Runtime API of this environment */
    h2o_socket_t *output;   /* its stdout and stderr */
    h2o_socket_t *exited;   /* a pidfd: readable once the process has exited */
    int statm_fd;
    char tmp_dir[160];
    ef_rapi_state_t rapi;
    ef_process_poll_t *poll; /* a parked poll for the next event */
    ef_process_job_t *job;   /* the job it runs, or is to run once it asks for it */
    int job_delivered;
    int invocations;         /* jobs delivered so far */
    uint64_t spawned_at;     /* ns, monotonic */
    uint64_t init_ns;        /* how long it took to ask for its first event */
    uint64_t delivered_at;   /* ns, monotonic: when the job went out */
    uint64_t max_rss;        /* bytes */
    uint64_t rss_sampled_at; /* ns, monotonic */
    char end_reason[200];    /* why edgefn ended it; "" when it ended on its own */
    h2o_timeout_entry_t idle_timer, memory_timer, init_timer;
};

struct st_ef_process_pool_t {
    ef_process_thread_t *thread;
    ef_process_function_t *pf;
    const ef_conf_function_t *conf;
    h2o_linklist_t envs;  /* all of them, dead ones until reaped */
    h2o_linklist_t idle;  /* most recently used first */
    h2o_linklist_t queue; /* jobs waiting for an environment, oldest first */
    unsigned num_alive;   /* starting or ready: counted against concurrency.reserved */
    unsigned num_provisioned;
    unsigned next_number;
    char tmp_base[128]; /* a directory for the environments' private /tmp directories */
    char **base_env;    /* the variables every environment gets, NULL-terminated */
    int shutting_down;
    unsigned respawn_delay; /* ms; grows while provisioned environments fail to start */
    h2o_timeout_entry_t respawn_timer;
};

static void env_log(ef_process_env_t *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Keeps a copy of a line for the job's invoker, when it asked for them (ef_invocation_t.logged): a length, then the bytes. */
static void capture(ef_process_job_t *job, const char *msg, size_t len)
{
    uint32_t n = (uint32_t)len;

    if (job == NULL || job->captured == NULL)
        return;
    if (job->captured->size + sizeof(n) + len > EF_PROCESS_MAX_CAPTURE) {
        job->captured_dropped += 1;
        return;
    }
    char *dst = h2o_buffer_reserve(&job->captured, sizeof(n) + len).base;
    memcpy(dst, &n, sizeof(n));
    memcpy(dst + sizeof(n), msg, len);
    job->captured->size += sizeof(n) + len;
}

/* A line of the function's log for `job` (which its environment may not have been given yet). */
static void job_log(ef_process_pool_t *pool, ef_process_job_t *job, const char *msg, size_t len)
{
    ef_function_log_as(pool->pf->fn, job->hook_name, job->request_id, msg, len);
    capture(job, msg, len);
}

/* A line of the function's log, attributed to the job the environment runs (if it runs one); a job that waits for its
 * environment to start gets a copy too (what the function prints while it initializes, as Lambda's log tail has). */
static void env_log_line(ef_process_env_t *env, const char *msg, size_t len)
{
    ef_process_job_t *job = env->job_delivered ? env->job : NULL;
    ef_function_log_as(env->pool->pf->fn, job != NULL ? job->hook_name : "-", job != NULL ? job->request_id : "-", msg, len);
    capture(env->job, msg, len);
}

/* Whether the function's log goes anywhere: when it does not, lines are not even formatted. */
static int env_logs(ef_process_env_t *env)
{
    const ef_function_t *fn = env->pool->pf->fn;
    return fn->log_fd != -1 || fn->log_cb != NULL || (env->job != NULL && env->job->captured != NULL);
}

static void env_log(ef_process_env_t *env, const char *fmt, ...)
{
    char buf[1024];
    va_list args;
    int n;

    if (!env_logs(env))
        return;
    va_start(args, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, args);
    va_end(args);
    env_log_line(env, buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* what the environment printed: complete lines go to the log; with `flush`, the rest too */
static void drain_output(ef_process_env_t *env, int flush)
{
    h2o_buffer_t *in;
    char *nl;

    if (env->output == NULL)
        return;
    in = env->output->input;
    /* what is in the socket but not read yet (the runtime printed, then answered on another socket) */
    for (;;) {
        h2o_iovec_t room = h2o_buffer_reserve(&env->output->input, 8192);
        ssize_t n = read(h2o_socket_get_fd(env->output), room.base, room.len);
        if (n <= 0)
            break;
        env->output->input->size += n;
    }
    in = env->output->input;
    while (in->size != 0) {
        size_t len;
        if ((nl = memchr(in->bytes, '\n', in->size)) != NULL) {
            len = nl - in->bytes;
        } else if (flush || in->size >= MAX_LOG_LINE) {
            len = in->size < MAX_LOG_LINE ? in->size : MAX_LOG_LINE;
        } else {
            break;
        }
        if (len > MAX_LOG_LINE)
            len = MAX_LOG_LINE, nl = NULL;
        env_log_line(env, in->bytes, len != 0 && in->bytes[len - 1] == '\r' ? len - 1 : len);
        h2o_buffer_consume(&env->output->input, len + (nl != NULL));
        in = env->output->input;
    }
}

static void on_output(h2o_socket_t *sock, const char *err)
{
    ef_process_env_t *env = sock->data;

    drain_output(env, err != NULL);
    if (err != NULL) {
        h2o_socket_close(sock);
        env->output = NULL;
    }
}

static uint64_t sample_rss(ef_process_env_t *env)
{
    char buf[128];
    ssize_t n;
    unsigned long size, resident;

    if (env->statm_fd == -1 || (n = pread(env->statm_fd, buf, sizeof(buf) - 1, 0)) <= 0)
        return env->max_rss;
    buf[n] = '\0';
    if (sscanf(buf, "%lu %lu", &size, &resident) != 2)
        return env->max_rss;
    uint64_t rss = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
    env->rss_sampled_at = ef_now_ns();
    if (rss > env->max_rss)
        env->max_rss = rss;
    return rss;
}

static void link_timer(ef_process_env_t *env, h2o_timeout_entry_t *entry, uint64_t ms)
{
    h2o_timeout_unlink(entry);
    h2o_timeout_link(env->pool->thread->ctx->loop, ef_process_timeout(env->pool->thread, ms), entry);
}

static void finish_job(ef_process_env_t *env, ef_invoke_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void env_free(ef_process_env_t *env);
static void kill_env(ef_process_env_t *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The job of `env` is over: its log gets END and REPORT, and its origin the result. */
static void finish_job(ef_process_env_t *env, ef_invoke_status_t status, const char *fmt, ...)
{
    ef_process_job_t *job = env->job;
    ef_process_pool_t *pool = env->pool;
    va_list args;

    h2o_timeout_unlink(&job->timer);
    h2o_timeout_unlink(&env->memory_timer);
    job->status = status;
    if (fmt != NULL) {
        va_start(args, fmt);
        vsnprintf(job->error, sizeof(job->error), fmt, args);
        va_end(args);
    }
    if (env->job_delivered) {
        uint64_t duration = ef_now_ns() - env->delivered_at;
        job->cold_start = env->invocations == 1 && !env->provisioned;
        job->init_ns = env->init_ns;
        char init[64] = "";
        /* Max Memory Used: a look at most every MEMORY_REPORT_INTERVAL (the memory watch looks more often during long
         * invocations); each look is a read of /proc */
        if (env->state != ENV_DEAD && env->rss_sampled_at + MEMORY_REPORT_INTERVAL * 1000000 <= env->delivered_at + duration)
            sample_rss(env);
        if (env_logs(env))
            drain_output(env, 0);
        if (env->invocations == 1 && !env->provisioned)
            snprintf(init, sizeof(init), "\tInit Duration: %.2f ms", env->init_ns / 1e6);
        env_log(env, "END RequestId: %s", job->id);
        env_log(env,
                "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %" PRIu64 " ms\tMemory Size: %" PRIu64
                " MB\tMax Memory Used: %" PRIu64 " MB%s",
                job->id, duration / 1e6, (duration + 999999) / 1000000, pool->conf->memory >> 20,
                (env->max_rss + (1 << 20) - 1) >> 20, init);
        job->duration_ns = duration;
        job->memory_bytes = env->max_rss;
        snprintf(env->rapi.last, sizeof(env->rapi.last), "%s", env->rapi.current);
        env->rapi.current[0] = '\0';
    }
    env->job = NULL;
    env->job_delivered = 0;
    job->env = NULL;
    /* the environment first: what the job's completion does next (another hook of the request) may want it */
    if (env->state == ENV_READY)
        env_free(env);
    ef_process_job_done(job);
}

static void on_job_timeout(h2o_timeout_entry_t *entry);

/* A job's timeout runs from when a ready environment takes it: one that never asks for it cannot hold it forever. */
static void start_job_timer(ef_process_env_t *env, ef_process_job_t *job)
{
    if (h2o_timeout_is_linked(&job->timer))
        return;
    job->timer = (h2o_timeout_entry_t){.cb = on_job_timeout};
    link_timer(env, &job->timer, job->timeout_ms);
}

static void deliver(ef_process_env_t *env)
{
    ef_process_job_t *job = env->job;
    ef_process_poll_t *poll = env->poll;
    struct timespec real;

    if (atomic_load(&job->cancelled)) {
        /* nobody waits for it: the environment has better things to do */
        h2o_timeout_unlink(&job->timer);
        env->job = NULL;
        job->env = NULL;
        job->status = EF_INVOKE_FAILED;
        ef_process_job_done(job);
        env_free(env);
        return;
    }
    env->poll = NULL;
    start_job_timer(env, job);
    clock_gettime(CLOCK_REALTIME, &real);
    if (ef_process_api_deliver(poll, job, (uint64_t)real.tv_sec * 1000 + real.tv_nsec / 1000000 + job->timeout_ms) != 0)
        return; /* its connection is gone; the job goes out on the next poll */
    env->job_delivered = 1;
    env->invocations++;
    env->delivered_at = ef_now_ns();
    snprintf(env->rapi.current, sizeof(env->rapi.current), "%s", job->id);
    env_log(env, "START RequestId: %s Version: $LATEST", job->id);
    link_timer(env, &env->memory_timer, EF_PROCESS_MEMORY_TICK);
}

/* Counts the pool's environments by state where other threads read them (GET /functions/NAME, GET /metrics). */
static void publish_states(ef_process_pool_t *pool)
{
    unsigned starting = 0, idle = 0, busy = 0;

    for (h2o_linklist_t *l = pool->envs.next; l != &pool->envs; l = l->next) {
        ef_process_env_t *env = H2O_STRUCT_FROM_MEMBER(ef_process_env_t, link, l);
        if (env->state == ENV_STARTING)
            ++starting;
        else if (env->state == ENV_READY && h2o_linklist_is_linked(&env->idle_link))
            ++idle;
        else if (env->state == ENV_READY)
            ++busy;
    }
    ef_function_t *fn = pool->pf->fn;
    atomic_store(&fn->environments.starting, starting);
    atomic_store(&fn->environments.idle, idle);
    atomic_store(&fn->environments.busy, busy);
}

static void assign(ef_process_env_t *env, ef_process_job_t *job)
{
    env->job = job;
    job->env = env;
    h2o_timeout_unlink(&env->idle_timer);
    if (h2o_linklist_is_linked(&env->idle_link))
        h2o_linklist_unlink(&env->idle_link);
    if (env->state == ENV_READY) /* one that is starting has its init timeout */
        start_job_timer(env, job);
    publish_states(env->pool);
    if (env->poll != NULL)
        deliver(env);
}

/* `env` is ready and has no job: it takes the oldest waiting one, or waits itself */
static void env_free(ef_process_env_t *env)
{
    ef_process_pool_t *pool = env->pool;

    while (!h2o_linklist_is_empty(&pool->queue)) {
        ef_process_job_t *job = H2O_STRUCT_FROM_MEMBER(ef_process_job_t, queued, pool->queue.next);
        h2o_linklist_unlink(&job->queued);
        h2o_timeout_unlink(&job->timer);
        if (atomic_load(&job->cancelled)) {
            job->status = EF_INVOKE_FAILED;
            ef_process_job_done(job);
            continue;
        }
        assign(env, job);
        return;
    }
    h2o_linklist_insert(&pool->idle, &env->idle_link); /* after the sentinel: first */
    if (!env->provisioned)
        link_timer(env, &env->idle_timer, pool->conf->idle_timeout);
    publish_states(pool);
}

static void on_job_timeout(h2o_timeout_entry_t *entry)
{
    ef_process_job_t *job = H2O_STRUCT_FROM_MEMBER(ef_process_job_t, timer, entry);
    ef_process_env_t *env = job->env;

    if (env_logs(env)) { /* the job's, delivered or not */
        char msg[64];
        int n = snprintf(msg, sizeof(msg), "Task timed out after %" PRIu64 " ms", job->timeout_ms);
        job_log(env->pool, job, msg, n);
    }
    kill_env(env, "it ran past its timeout of %" PRIu64 " ms", job->timeout_ms);
    job->limit = EF_LIMIT_TIMEOUT;
    finish_job(env, EF_INVOKE_LIMIT, "timed out after %" PRIu64 " ms", job->timeout_ms);
}

static void on_queue_timeout(h2o_timeout_entry_t *entry)
{
    ef_process_job_t *job = H2O_STRUCT_FROM_MEMBER(ef_process_job_t, timer, entry);
    ef_process_pool_t *pool = job->pf->pool;

    h2o_linklist_unlink(&job->queued);
    job->status = EF_INVOKE_LIMIT;
    job->limit = EF_LIMIT_THROTTLE;
    snprintf(job->error, sizeof(job->error),
             "throttled: all %u environments (concurrency.reserved) stayed busy for the queue-timeout of %" PRIu64 " ms",
             pool->conf->concurrency.reserved, pool->conf->queue_timeout);
    ef_process_job_done(job);
}

static void on_memory_tick(h2o_timeout_entry_t *entry)
{
    ef_process_env_t *env = H2O_STRUCT_FROM_MEMBER(ef_process_env_t, memory_timer, entry);
    uint64_t limit = env->pool->conf->memory, rss = sample_rss(env);

    if (rss <= limit) {
        link_timer(env, entry, EF_PROCESS_MEMORY_TICK);
        return;
    }
    env_log(env, "Runtime killed: out of memory: %" PRIu64 " MB used of %" PRIu64 " MB", (rss + (1 << 20) - 1) >> 20, limit >> 20);
    kill_env(env, "it ran out of memory (%" PRIu64 " MB used of %" PRIu64 " MB)", (rss + (1 << 20) - 1) >> 20, limit >> 20);
    if (env->job != NULL) {
        env->job->limit = EF_LIMIT_MEMORY;
        finish_job(env, EF_INVOKE_LIMIT, "out of memory: the environment used %" PRIu64 " MB of its %" PRIu64 " MB",
                   (rss + (1 << 20) - 1) >> 20, limit >> 20);
    }
}

static void on_init_timeout(h2o_timeout_entry_t *entry)
{
    ef_process_env_t *env = H2O_STRUCT_FROM_MEMBER(ef_process_env_t, init_timer, entry);

    env_log(env, "INIT_REPORT Init Duration: %d ms Phase: init Status: timeout", EF_PROCESS_INIT_TIMEOUT);
    kill_env(env, "it did not ask for an event within %d ms of starting", EF_PROCESS_INIT_TIMEOUT);
    if (env->job != NULL) {
        env->job->limit = EF_LIMIT_TIMEOUT;
        finish_job(env, EF_INVOKE_LIMIT, "the environment did not start within %d ms", EF_PROCESS_INIT_TIMEOUT);
    }
}

static void on_idle_timeout(h2o_timeout_entry_t *entry)
{
    ef_process_env_t *env = H2O_STRUCT_FROM_MEMBER(ef_process_env_t, idle_timer, entry);
    kill_env(env, "it was idle for %" PRIu64 " ms", env->pool->conf->idle_timeout);
}

static void spawn_provisioned(ef_process_pool_t *pool);

static void describe_status(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "status %d", status);
}

static void start_for_queue(ef_process_pool_t *pool);

/* The process has exited with `status`: whatever it held fails, and it is reaped. */
static void env_exited(ef_process_env_t *env, int status)
{
    ef_process_pool_t *pool = env->pool;
    char how[96];
    int was_alive = env->state != ENV_DEAD, was_starting = env->state == ENV_STARTING;

    describe_status(status, how, sizeof(how));
    drain_output(env, 1);
    if (was_alive) {
        env_log(env, "Runtime exited with error: %s (Runtime.ExitError)", how);
        kill_env(env, NULL);
    }
    if (env->job != NULL) {
        if (env->job_delivered)
            finish_job(env, EF_INVOKE_LIMIT, "the runtime exited during the invocation (%s)", how);
        else if (was_starting)
            finish_job(env, EF_INVOKE_LIMIT, "the environment failed to start: the runtime exited (%s)", how);
        else
            finish_job(env, EF_INVOKE_LIMIT, "the runtime exited before it took the invocation (%s)", how);
    }

    if (env->end_reason[0] != '\0')
        env_log(env, "Environment %u ended: %s", env->number, env->end_reason);

    /* reap */
    h2o_linklist_unlink(&env->link);
    h2o_socket_close(env->exited);
    if (env->output != NULL)
        h2o_socket_close(env->output);
    if (env->statm_fd != -1)
        close(env->statm_fd);
    ef_remove_tree(env->tmp_dir);
    if (env->provisioned && !pool->shutting_down) {
        atomic_store(&pool->pf->fn->provisioned_environments, --pool->num_provisioned);
        if (was_starting || env->invocations == 0) {
            /* it failed to start: try again, later and later */
            pool->respawn_delay = pool->respawn_delay == 0 ? 1000 : pool->respawn_delay * 2;
            if (pool->respawn_delay > MAX_RESPAWN_DELAY)
                pool->respawn_delay = MAX_RESPAWN_DELAY;
            h2o_timeout_unlink(&pool->respawn_timer);
            h2o_timeout_link(pool->thread->ctx->loop, ef_process_timeout(pool->thread, pool->respawn_delay), &pool->respawn_timer);
        } else {
            spawn_provisioned(pool);
        }
    } else if (env->provisioned) {
        atomic_store(&pool->pf->fn->provisioned_environments, --pool->num_provisioned);
    }
    free(env);
    start_for_queue(pool);
}

static void on_process_exit(h2o_socket_t *sock, const char *err)
{
    ef_process_env_t *env = sock->data;
    int status;

    /* what it started goes with it, while its pid (a zombie's) still names its session */
    kill(-env->pid, SIGKILL);
    if (waitpid(env->pid, &status, WNOHANG) == env->pid) {
        env->reaped = 1;
        env_exited(env, status);
    }
}

/* Ends `env` (if it is alive): it is killed, stops counting against the pool's limits, and is reaped once it has exited. */
static void kill_env(ef_process_env_t *env, const char *fmt, ...)
{
    va_list args;

    if (env->state == ENV_DEAD)
        return;
    if (fmt != NULL) {
        va_start(args, fmt);
        vsnprintf(env->end_reason, sizeof(env->end_reason), fmt, args);
        va_end(args);
    }
    env->state = ENV_DEAD;
    if (!env->reaped) {           /* a reaped pid may be someone else's by now */
        kill(-env->pid, SIGKILL); /* its session: what it started goes too */
        kill(env->pid, SIGKILL);
    }
    --env->pool->num_alive;
    if (h2o_linklist_is_linked(&env->idle_link))
        h2o_linklist_unlink(&env->idle_link);
    publish_states(env->pool);
    h2o_timeout_unlink(&env->idle_timer);
    h2o_timeout_unlink(&env->init_timer);
    h2o_timeout_unlink(&env->memory_timer);
    if (env->listener != NULL) {
        h2o_socket_close(env->listener);
        env->listener = NULL;
    }
    if (env->poll != NULL) {
        ef_process_api_drop(env->poll);
        env->poll = NULL;
    }
    ef_process_api_forget_env(env->pool->thread, env);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list args;
    char *s;

    va_start(args, fmt);
    if (vasprintf(&s, fmt, args) == -1)
        h2o_fatal("no memory");
    va_end(args);
    return s;
}

static int listen_loopback(uint16_t *port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    int fd;

    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
        return -1;
    if (bind(fd, (void *)&sin, sizeof(sin)) != 0 || listen(fd, 16) != 0 || getsockname(fd, (void *)&sin, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sin.sin_port);
    return fd;
}

static ef_process_env_t *spawn_env(ef_process_pool_t *pool, ef_process_job_t *job, char *err, size_t errlen)
{
    int provisioned = job == NULL;
    ef_process_function_t *pf = pool->pf;
    ef_process_env_t *env = h2o_mem_alloc(sizeof(*env));
    int lfd = -1, out[2] = {-1, -1}, pidfd = -1, private_tmp = ef_spawn_private_tmp();
    uint16_t port;
    char *vars[8], stream[96];
    size_t num_base = 0, num_vars = 0;
    struct timespec real;
    struct tm tm;

    *env = (ef_process_env_t){.pool = pool, .number = ++pool->next_number, .provisioned = provisioned, .statm_fd = -1};
    env->idle_timer.cb = on_idle_timeout;
    env->memory_timer.cb = on_memory_tick;
    env->init_timer.cb = on_init_timeout;
    snprintf(env->tmp_dir, sizeof(env->tmp_dir), "%s/%u", pool->tmp_base, env->number);
    if (mkdir(env->tmp_dir, 0700) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", env->tmp_dir, strerror(errno));
        goto Error;
    }
    if ((lfd = listen_loopback(&port)) == -1) {
        snprintf(err, errlen, "cannot listen on the loopback: %s", strerror(errno));
        goto Error;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out) != 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        goto Error;
    }

    /* the variables of this environment after the pool's */
    clock_gettime(CLOCK_REALTIME, &real);
    gmtime_r(&real.tv_sec, &tm);
    snprintf(stream, sizeof(stream), "%04d/%02d/%02d/[$LATEST]%08" PRIx64 "%08x", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             (uint64_t)real.tv_nsec ^ ((uint64_t)getpid() << 8), env->number);
    vars[num_vars++] = xasprintf("AWS_LAMBDA_RUNTIME_API=127.0.0.1:%u", port);
    vars[num_vars++] = xasprintf("AWS_LAMBDA_INITIALIZATION_TYPE=%s", provisioned ? "provisioned-concurrency" : "on-demand");
    vars[num_vars++] = xasprintf("AWS_LAMBDA_LOG_STREAM_NAME=%s", stream);
    vars[num_vars++] = xasprintf("TMPDIR=%s", private_tmp ? "/tmp" : env->tmp_dir);
    while (pool->base_env[num_base] != NULL)
        ++num_base;
    char **envp = alloca(sizeof(envp[0]) * (num_base + num_vars + 1));
    memcpy(envp, pool->base_env, sizeof(envp[0]) * num_base);
    memcpy(envp + num_base, vars, sizeof(envp[0]) * num_vars);
    envp[num_base + num_vars] = NULL;

    env->spawned_at = ef_now_ns();
    const char *keep[] = {pool->conf->code_dir, ef_process_runtime_dir(), NULL};
    env->pid = ef_spawn(&(ef_spawn_t){pf->argv, envp, pool->conf->code_dir, env->tmp_dir, keep, out[1]});
    int spawn_errno = errno;
    for (size_t i = 0; i != num_vars; ++i)
        free(vars[i]);
    close(out[1]);
    out[1] = -1;
    if (env->pid == -1) {
        snprintf(err, errlen, "cannot start a process: %s", strerror(spawn_errno));
        goto Error;
    }
    if ((pidfd = (int)syscall(SYS_pidfd_open, env->pid, 0)) == -1) {
        snprintf(err, errlen, "pidfd_open: %s", strerror(errno));
        kill(env->pid, SIGKILL);
        waitpid(env->pid, NULL, 0);
        goto Error;
    }
    char statm[64];
    snprintf(statm, sizeof(statm), "/proc/%d/statm", (int)env->pid);
    env->statm_fd = open(statm, O_RDONLY | O_CLOEXEC);

    h2o_loop_t *loop = pool->thread->ctx->loop;
    env->exited = h2o_evloop_socket_create(loop, pidfd, 0);
    env->exited->data = env;
    h2o_socket_read_start(env->exited, on_process_exit);
    env->output = h2o_evloop_socket_create(loop, out[0], 0);
    env->output->data = env;
    h2o_socket_read_start(env->output, on_output);
    env->listener = ef_process_api_listen(pool->thread, env, lfd);
    h2o_linklist_insert(&pool->envs, &env->link);
    ++pool->num_alive;
    if (provisioned)
        atomic_store(&pool->pf->fn->provisioned_environments, ++pool->num_provisioned);
    if (job != NULL) { /* it runs once the environment asks for it */
        env->job = job;
        job->env = env;
    }
    publish_states(pool);
    env_log(env, "INIT_START Runtime Version: %s\tEnvironment: %u (%s)", ef_conf_runtime_name(pool->pf->fn->conf->runtime),
            env->number, provisioned ? "provisioned-concurrency" : "on-demand");
    link_timer(env, &env->init_timer, EF_PROCESS_INIT_TIMEOUT);
    link_timer(env, &env->memory_timer, EF_PROCESS_MEMORY_TICK);
    return env;

Error:
    if (lfd != -1)
        close(lfd);
    if (out[0] != -1)
        close(out[0]);
    if (out[1] != -1)
        close(out[1]);
    rmdir(env->tmp_dir);
    free(env);
    return NULL;
}

static void spawn_provisioned(ef_process_pool_t *pool)
{
    char err[512];

    while (!pool->shutting_down && pool->num_provisioned < pool->conf->concurrency.provisioned) {
        if (spawn_env(pool, NULL, err, sizeof(err)) == NULL) {
            ef_function_log_as(pool->pf->fn, "-", "-", err, strlen(err));
            break;
        }
    }
}

static void on_respawn(h2o_timeout_entry_t *entry)
{
    spawn_provisioned(H2O_STRUCT_FROM_MEMBER(ef_process_pool_t, respawn_timer, entry));
}

void ef_process_env_on_next(ef_process_env_t *env, ef_process_poll_t *poll)
{
    if (env->state == ENV_DEAD) {
        ef_process_api_drop(poll);
        return;
    }
    if (env->poll != NULL) /* it gave up on that one and asks again */
        ef_process_api_drop(env->poll);
    env->poll = poll;
    if (env->state == ENV_STARTING) {
        env->state = ENV_READY;
        publish_states(env->pool);
        env->rapi.initialized = 1;
        env->init_ns = ef_now_ns() - env->spawned_at;
        h2o_timeout_unlink(&env->init_timer);
        h2o_timeout_unlink(&env->memory_timer);
        if (env->provisioned)
            env->pool->respawn_delay = 0;
        if (env->job == NULL) {
            env_free(env);
            return;
        }
    }
    if (env->job != NULL && !env->job_delivered)
        deliver(env);
}

void ef_process_env_forget_poll(ef_process_env_t *env, ef_process_poll_t *poll)
{
    if (env->poll == poll)
        env->poll = NULL;
}

/* "Type: message" of an error a runtime posted ({"errorMessage": ..., "errorType": ...}) */
static void describe_error(h2o_iovec_t body, h2o_iovec_t type_header, char *buf, size_t len)
{
    json_t *root = json_loadb(body.base, body.len, 0, NULL);
    const char *type = json_string_value(json_object_get(root, "errorType")),
               *message = json_string_value(json_object_get(root, "errorMessage"));

    if (type == NULL && type_header.base != NULL)
        snprintf(buf, len, "%.*s: %s", (int)type_header.len, type_header.base, message != NULL ? message : "");
    else if (type != NULL || message != NULL)
        snprintf(buf, len, "%s: %s", type != NULL ? type : "Error", message != NULL ? message : "");
    else
        snprintf(buf, len, "%.*s", (int)(body.len < 200 ? body.len : 200), body.base);
    json_decref(root);
}

static void keep_result(ef_process_job_t *job, h2o_iovec_t body)
{
    job->result.base = h2o_mem_alloc(body.len + 1);
    memcpy(job->result.base, body.base, body.len);
    job->result.base[body.len] = '\0';
    job->result.len = body.len;
}

int ef_process_env_on_answer(ef_process_env_t *env, const char *id, size_t id_len, int is_error, h2o_iovec_t body,
                             h2o_iovec_t error_type, const char **why)
{
    ef_process_job_t *job = env->job;
    int status = ef_rapi_check_answer(&env->rapi, h2o_iovec_init(id, id_len), body.len, why);
    char desc[256];

    if (status == 400 || status == 403 || job == NULL || !env->job_delivered)
        return status == 202 ? 400 : status;
    if (status == 413) {
        finish_job(env, EF_INVOKE_INVALID, "the result is %zu bytes; the most a function may return is %d", body.len,
                   EF_PROCESS_MAX_PAYLOAD);
    } else if (is_error) {
        describe_error(body, error_type, desc, sizeof(desc));
        /* edgefn's runtimes print a handler's error themselves, as AWS's do; a bootstrap of the function's own may not */
        if (env->pool->conf->runtime == EF_CONF_RUNTIME_PROVIDED)
            env_log(env, "Invoke Error: %s", desc);
        keep_result(job, body); /* the error as the function reported it, for a direct invocation */
        finish_job(env, EF_INVOKE_FAILED, "%s", desc);
    } else {
        keep_result(job, body);
        finish_job(env, EF_INVOKE_OK, NULL);
    }
    return status;
}

int ef_process_env_on_init_error(ef_process_env_t *env, h2o_iovec_t body, h2o_iovec_t error_type, const char **why)
{
    int status = ef_rapi_check_init_error(&env->rapi, body.len, why);
    char desc[256];

    if (status != 202)
        return status;
    describe_error(body, error_type, desc, sizeof(desc));
    env_log(env, "INIT_REPORT Init Duration: %.2f ms Phase: init Status: error Error Type: %s",
            (ef_now_ns() - env->spawned_at) / 1e6, desc);
    env->rapi.initialized = 1;
    kill_env(env, "its initialization failed");
    /* the viewer learns the kind of failure; what the function said may not be for it, and is in the log */
    if (env->job != NULL) {
        keep_result(env->job, body); /* the error as the runtime reported it, for a direct invocation */
        finish_job(env, EF_INVOKE_LIMIT, "the function failed to initialize (%.*s; its log has the error)", (int)strcspn(desc, ":"),
                   desc);
    }
    return status;
}

static int sets_variable(const ef_conf_function_t *conf, const char *name)
{
    for (size_t i = 0; i != conf->num_environment; ++i)
        if (strcmp(conf->environment[i].name, name) == 0)
            return 1;
    return 0;
}

ef_process_pool_t *ef_process_pool_create(ef_process_thread_t *thread, ef_process_function_t *pf)
{
    ef_process_pool_t *pool = h2o_mem_alloc(sizeof(*pool));
    const ef_conf_function_t *conf = pf->fn->conf;
    H2O_VECTOR(char *) env = {NULL};

    *pool = (ef_process_pool_t){.thread = thread, .pf = pf, .conf = conf};
    h2o_linklist_init_anchor(&pool->envs);
    h2o_linklist_init_anchor(&pool->idle);
    h2o_linklist_init_anchor(&pool->queue);
    pool->respawn_timer.cb = on_respawn;
    snprintf(pool->tmp_base, sizeof(pool->tmp_base), "/tmp/edgefn-%s.XXXXXX", conf->name);
    if (mkdtemp(pool->tmp_base) == NULL) {
        /* without it environments cannot start; each attempt says why in the function's log */
        snprintf(pool->tmp_base, sizeof(pool->tmp_base), "/tmp/edgefn-%s.unavailable", conf->name);
    }

#define ADD(...)                                                                                                                   \
    do {                                                                                                                           \
        h2o_vector_reserve(NULL, &env, env.size + 2);                                                                              \
        env.entries[env.size++] = xasprintf(__VA_ARGS__);                                                                          \
    } while (0)
    if (conf->handler != NULL)
        ADD("_HANDLER=%s", conf->handler);
    ADD("LAMBDA_TASK_ROOT=%s", conf->code_dir);
    ADD("LAMBDA_RUNTIME_DIR=%s", ef_process_runtime_dir());
    ADD("AWS_LAMBDA_FUNCTION_NAME=%s", conf->name);
    ADD("AWS_LAMBDA_FUNCTION_VERSION=$LATEST");
    ADD("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%" PRIu64, conf->memory >> 20);
    ADD("AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/us-east-1.%s", conf->name);
    ADD("AWS_REGION=us-east-1");
    ADD("AWS_DEFAULT_REGION=us-east-1");
    ADD("AWS_EXECUTION_ENV=AWS_Lambda_%s", ef_conf_runtime_name(conf->runtime));
    /* the function's own TZ, LANG or PATH wins, as on Lambda */
    if (!sets_variable(conf, "TZ"))
        ADD("TZ=:UTC");
    if (!sets_variable(conf, "LANG"))
        ADD("LANG=en_US.UTF-8");
    if (!sets_variable(conf, "PATH"))
        ADD("PATH=/usr/local/bin:/usr/bin:/bin");
    for (size_t i = 0; i != conf->num_environment; ++i)
        ADD("%s=%s", conf->environment[i].name, conf->environment[i].value);
#undef ADD
    env.entries[env.size] = NULL;
    pool->base_env = env.entries;

    spawn_provisioned(pool);
    return pool;
}

/* An environment ended while jobs wait: they may start new ones. */
static void start_for_queue(ef_process_pool_t *pool)
{
    while (!pool->shutting_down && !h2o_linklist_is_empty(&pool->queue) && pool->num_alive < pool->conf->concurrency.reserved) {
        ef_process_job_t *job = H2O_STRUCT_FROM_MEMBER(ef_process_job_t, queued, pool->queue.next);
        h2o_linklist_unlink(&job->queued);
        h2o_timeout_unlink(&job->timer);
        ef_process_pool_submit(pool, job);
    }
}

void ef_process_pool_submit(ef_process_pool_t *pool, ef_process_job_t *job)
{
    char err[512];

    if (pool->shutting_down || atomic_load(&job->cancelled)) {
        job->status = EF_INVOKE_LIMIT;
        snprintf(job->error, sizeof(job->error), "the server is shutting down");
        ef_process_job_done(job);
        return;
    }
    if (!h2o_linklist_is_empty(&pool->idle)) {
        assign(H2O_STRUCT_FROM_MEMBER(ef_process_env_t, idle_link, pool->idle.next), job);
        return;
    }
    /* one that is starting with nothing to do (a provisioned one, at start-up) takes it as soon as it is ready */
    for (h2o_linklist_t *l = pool->envs.next; l != &pool->envs; l = l->next) {
        ef_process_env_t *env = H2O_STRUCT_FROM_MEMBER(ef_process_env_t, link, l);
        if (env->state == ENV_STARTING && env->job == NULL) {
            assign(env, job);
            return;
        }
    }
    if (pool->num_alive < pool->conf->concurrency.reserved) {
        if (spawn_env(pool, job, err, sizeof(err)) == NULL) {
            job_log(pool, job, err, strlen(err));
            job->status = EF_INVOKE_LIMIT;
            snprintf(job->error, sizeof(job->error), "cannot start an environment: %.200s", err);
            ef_process_job_done(job);
            return;
        }
        return;
    }
    if (pool->conf->queue_timeout == 0) {
        job->status = EF_INVOKE_LIMIT;
        job->limit = EF_LIMIT_THROTTLE;
        snprintf(job->error, sizeof(job->error), "throttled: all %u environments (concurrency.reserved) are busy",
                 pool->conf->concurrency.reserved);
        ef_process_job_done(job);
        return;
    }
    h2o_linklist_insert(&pool->queue, &job->queued);
    job->timer = (h2o_timeout_entry_t){.cb = on_queue_timeout};
    h2o_timeout_link(pool->thread->ctx->loop, ef_process_timeout(pool->thread, pool->conf->queue_timeout), &job->timer);
}

int ef_process_pool_shutdown(ef_process_pool_t *pool)
{
    pool->shutting_down = 1;
    h2o_timeout_unlink(&pool->respawn_timer);
    while (!h2o_linklist_is_empty(&pool->queue)) {
        ef_process_job_t *job = H2O_STRUCT_FROM_MEMBER(ef_process_job_t, queued, pool->queue.next);
        h2o_linklist_unlink(&job->queued);
        h2o_timeout_unlink(&job->timer);
        job->status = EF_INVOKE_LIMIT;
        snprintf(job->error, sizeof(job->error), "the server is shutting down");
        ef_process_job_done(job);
    }
    for (h2o_linklist_t *l = pool->envs.next; l != &pool->envs; l = l->next) {
        ef_process_env_t *env = H2O_STRUCT_FROM_MEMBER(ef_process_env_t, link, l);
        kill_env(env, "the server is shutting down");
        if (env->job != NULL)
            finish_job(env, EF_INVOKE_LIMIT, "the server is shutting down");
    }
    return h2o_linklist_is_empty(&pool->envs);
}

void ef_process_pool_destroy(ef_process_pool_t *pool)
{
    /* environments that did not exit in time are killed and reaped here, blocking: the server is stopping */
    while (!h2o_linklist_is_empty(&pool->envs)) {
        ef_process_env_t *env = H2O_STRUCT_FROM_MEMBER(ef_process_env_t, link, pool->envs.next);
        int status = 0;
        kill_env(env, NULL);
        waitpid(env->pid, &status, 0);
        env->reaped = 1;
        env_exited(env, status);
    }
    rmdir(pool->tmp_base);
    for (size_t i = 0; pool->base_env[i] != NULL; ++i)
        free(pool->base_env[i]);
    free(pool->base_env);
    free(pool);
}
