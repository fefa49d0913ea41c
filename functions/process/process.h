/*
 * The process runtime's insides: execution environments (child processes that speak
 * the AWS Lambda Runtime API), their pools, and the jobs that run in them.
 *
 * Each function's pool lives on one worker thread, its owner, so that the pool and its
 * environments are touched by one event loop only and need no lock. A request on
 * another thread hands its job over with an h2o multithread message and gets it back
 * the same way (runtime.c). The owner serves the Runtime API to its environments
 * through h2o (api.c): each environment has a loopback listener of its own, so that a
 * connection says which environment it comes from.
 *
 *   runtime.c  the ef_runtime_t: jobs, the event as JSON, the hand-over between threads
 *   pool.c     environments: cold start, reuse, concurrency, timeouts, memory, logs
 *   api.c      the Runtime API (2018-06-01) on h2o
 *   rapi.c     its state machine and paths, without h2o (unit-tested)
 *   spawn.c    starting a child: clean signals, its environment, a private /tmp
 *
 * The program must ignore SIGPIPE (the server and `edgefn test` do): h2o writes to a
 * Runtime API connection with writev, and an environment may die at any moment.
 */
#ifndef EF_FUNCTIONS_PROCESS_H
#define EF_FUNCTIONS_PROCESS_H

#include <stdatomic.h>
#include <sys/types.h>
#include <h2o.h>
#include "functions/event_lambda.h"
#include "functions/runtime.h"

#define EF_PROCESS_MAX_PAYLOAD 6291556 /* bytes of a response a runtime may post: Lambda's 6 MB */
#define EF_PROCESS_MAX_CAPTURE (256 * 1024) /* bytes of an invocation's log lines kept for its invoker (a test, a log tail) */
#define EF_PROCESS_INIT_TIMEOUT 10000  /* ms an environment may take to ask for its first event (Lambda's 10 s) */
#define EF_PROCESS_MEMORY_TICK 10      /* ms between two looks at a busy environment's memory */
#define EF_PROCESS_ID_SIZE 64

typedef struct st_ef_process_thread_t ef_process_thread_t;
typedef struct st_ef_process_pool_t ef_process_pool_t;
typedef struct st_ef_process_env_t ef_process_env_t;

/* What the runtime keeps of a function (fn->data). */
typedef struct st_ef_process_function_t {
    ef_function_t *fn;
    char **argv;                 /* what an environment runs */
    char *arn;                   /* arn:aws:lambda:us-east-1:000000000000:function:NAME, as Lambda names functions */
    ef_process_thread_t *owner;  /* the thread its pool lives on; set by that thread's thread_init */
    ef_process_pool_t *pool;     /* owned by `owner` */
    ef_lambda_options_t options; /* for the event, but for body_limit, which depends on the hook */
} ef_process_function_t;

/*
 * One invocation of a process function. The invoking thread (`origin`) encodes the
 * event into `payload` and decodes `result`; the owner thread runs the job in an
 * environment. Fields under "owner" are the owner's while the job is there.
 */
typedef struct st_ef_process_job_t {
    h2o_multithread_message_t message; /* to the owner, then back to the origin */
    ef_process_thread_t *origin;
    ef_process_function_t *pf;
    ef_invocation_t *inv; /* the origin's; NULL once cancelled */
    atomic_int cancelled; /* set by the origin: the owner need not run it */
    h2o_buffer_t *payload;
    char id[EF_PROCESS_ID_SIZE];         /* Lambda-Runtime-Aws-Request-Id */
    char request_id[EF_PROCESS_ID_SIZE]; /* the edge request's id, for log lines */
    const char *hook_name;
    uint64_t timeout_ms;
    ef_lambda_options_t options;
    /* owner */
    h2o_linklist_t queued; /* in the pool's queue, waiting for an environment */
    h2o_timeout_entry_t timer;
    ef_process_env_t *env;
    /* the result, for the origin */
    ef_invoke_status_t status;
    char error[256];
    h2o_iovec_t result; /* malloc'ed: the JSON the function returned, or the error it posted */
    h2o_buffer_t *captured; /* when the invoker wants the job's log lines: each a uint32_t length and the bytes */
    size_t captured_dropped; /* lines past EF_PROCESS_MAX_CAPTURE */
    uint64_t duration_ns;
    uint64_t memory_bytes;
    ef_limit_t limit; /* with EF_INVOKE_LIMIT */
    int cold_start;   /* the environment's first invocation, and not a provisioned one's (as REPORT's Init Duration) */
    uint64_t init_ns; /* then: the environment's init duration */
} ef_process_job_t;

/* What a worker thread keeps for the process runtime. */
struct st_ef_process_thread_t {
    h2o_context_t *ctx;
    h2o_accept_ctx_t api_accept;     /* the Runtime API host */
    h2o_multithread_receiver_t jobs; /* jobs from other threads, to run here */
    h2o_multithread_receiver_t done; /* jobs this thread sent away, back */
    size_t num_away;                 /* jobs sent away and not back yet */
    H2O_VECTOR(ef_process_pool_t *) pools;
    H2O_VECTOR(h2o_timeout_t *) timeouts;
    h2o_linklist_t connections; /* ef_process_conn_t: Runtime API connections, each of one environment */
    int quiescing;
};

/* The thread state of the calling thread (set by thread_init; the Runtime API handler finds its thread with it). */
extern __thread ef_process_thread_t *ef_process_current_thread;

/* A timer list of `ms` of `thread`'s loop, created on first use. */
h2o_timeout_t *ef_process_timeout(ef_process_thread_t *thread, uint64_t ms);

/* runtime.c: where edgefn's own runtimes (nodejs/bootstrap.js, python/bootstrap.py) are */
const char *ef_process_runtime_dir(void);
/* runtime.c: a job the owner is done with goes back to its origin (or completes there and then) */
void ef_process_job_done(ef_process_job_t *job);

/* pool.c */
ef_process_pool_t *ef_process_pool_create(ef_process_thread_t *thread, ef_process_function_t *pf);
void ef_process_pool_submit(ef_process_pool_t *pool, ef_process_job_t *job);
/* kills every environment and fails every job; returns 1 when no environment is left to reap */
int ef_process_pool_shutdown(ef_process_pool_t *pool);
void ef_process_pool_destroy(ef_process_pool_t *pool);

/* pool.c, for api.c: an environment's Runtime API events */
typedef struct st_ef_process_conn_t {
    h2o_linklist_t link; /* in ef_process_thread_t.connections */
    h2o_socket_t *sock;
    h2o_conn_t *conn;
    ef_process_env_t *env; /* NULL once the environment is gone */
} ef_process_conn_t;

/* A parked GET .../invocation/next, allocated in its request's pool. */
typedef struct st_ef_process_poll_t {
    ef_process_env_t *env; /* NULL once answered */
    h2o_req_t *req;
    ef_process_conn_t *conn;
    uint64_t parked_at; /* h2o_now of its loop */
} ef_process_poll_t;

/* GET .../invocation/next: the poll is parked until a job is delivered on it */
void ef_process_env_on_next(ef_process_env_t *env, ef_process_poll_t *poll);
/* POST .../invocation/ID/response or /error, or .../init/error (id NULL); returns the HTTP status to answer */
int ef_process_env_on_answer(ef_process_env_t *env, const char *id, size_t id_len, int is_error, h2o_iovec_t body,
                             h2o_iovec_t error_type, const char **why);
int ef_process_env_on_init_error(ef_process_env_t *env, h2o_iovec_t body, h2o_iovec_t error_type, const char **why);
/* `poll` went away (its request was disposed) before it was answered */
void ef_process_env_forget_poll(ef_process_env_t *env, ef_process_poll_t *poll);

/* api.c */
void ef_process_api_register(h2o_pathconf_t *pathconf);
/* answers a parked poll with `job`'s event; returns 0, or -1 when the poll's connection is gone (the poll is dropped) */
int ef_process_api_deliver(ef_process_poll_t *poll, ef_process_job_t *job, uint64_t deadline_ms);
/* answers a parked poll that will get no event (its environment is going away, or its connection is) */
void ef_process_api_drop(ef_process_poll_t *poll);
/* starts accepting Runtime API connections of `env` on `fd` (a listening socket) */
h2o_socket_t *ef_process_api_listen(ef_process_thread_t *thread, ef_process_env_t *env, int fd);
/* the environment a Runtime API connection belongs to (NULL once it is gone), and the connection's record in `found` */
ef_process_env_t *ef_process_env_of(ef_process_thread_t *thread, h2o_conn_t *conn, ef_process_conn_t **found);
/* `env` is gone: requests on its connections are answered 410 from now on */
void ef_process_api_forget_env(ef_process_thread_t *thread, ef_process_env_t *env);

/* rapi.c: the Runtime API's paths and answers, without h2o */
typedef enum en_ef_rapi_route_t {
    EF_RAPI_NOT_FOUND,
    EF_RAPI_METHOD_NOT_ALLOWED,
    EF_RAPI_NEXT,
    EF_RAPI_RESPONSE,
    EF_RAPI_ERROR,
    EF_RAPI_INIT_ERROR,
} ef_rapi_route_t;

/* Which endpoint `method` `path` is; for RESPONSE and ERROR, the request id in the path goes to `id`. */
ef_rapi_route_t ef_rapi_route(h2o_iovec_t method, h2o_iovec_t path, h2o_iovec_t *id);

/* The state of one environment, as far as answers go. */
typedef struct st_ef_rapi_state_t {
    char current[EF_PROCESS_ID_SIZE]; /* the id of the invocation delivered and not answered; "" when none */
    char last[EF_PROCESS_ID_SIZE];    /* the id of the last invocation answered (or given up on); "" when none */
    int initialized;                  /* it has asked for its first event */
} ef_rapi_state_t;

/**
 * What an answer (response or error) for `id` with a body of `len` bytes gets: 202
 * when it answers the current invocation, 413 when the body is over
 * EF_PROCESS_MAX_PAYLOAD, 403 when that invocation was answered already, 400 for an
 * id that is not this environment's. `why` gets the errorType the real API uses.
 */
int ef_rapi_check_answer(const ef_rapi_state_t *state, h2o_iovec_t id, size_t len, const char **why);
/* The same for init/error: 202 before the first poll, else 403. */
int ef_rapi_check_init_error(const ef_rapi_state_t *state, size_t len, const char **why);

/* spawn.c */
typedef struct st_ef_spawn_t {
    char *const *argv;
    char *const *envp;
    const char *cwd;
    const char *tmp_dir;     /* mounted on /tmp in a mount namespace of its own, when that can be done */
    const char *const *keep; /* NULL-terminated, at most 4: directories that stay where they are if under /tmp */
    int output_fd;           /* becomes stdout and stderr */
} ef_spawn_t;

/* Whether children can get a private /tmp (a mount namespace); probed once. */
int ef_spawn_private_tmp(void);
/* Starts a child in a session of its own; returns its pid, or -1 with errno set. */
pid_t ef_spawn(const ef_spawn_t *spawn);
/* Removes `dir` and what it holds. */
void ef_remove_tree(const char *dir);

#endif
