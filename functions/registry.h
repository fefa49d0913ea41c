/*
 * The functions a config declares, each bound to its runtime, and the per-thread
 * state their runtimes keep.
 */
#ifndef EF_FUNCTIONS_REGISTRY_H
#define EF_FUNCTIONS_REGISTRY_H

#include "conf/config.h"
#include "functions/runtime.h"

typedef struct st_ef_functions_t {
    ef_function_t *entries; /* indexed like conf->functions */
    size_t size;
} ef_functions_t;

/* What a worker thread keeps for the functions: one state per runtime. */
typedef struct st_ef_functions_thread_t {
    void *lua;
    void *process;
} ef_functions_thread_t;

/**
 * Binds `fn` to the runtime of `conf` and prepares it (reads and compiles its code),
 * with its log stream on stderr. Returns 0, or -1 with the reason in `err`; release
 * with ef_function_dispose in both cases.
 */
int ef_function_init(ef_function_t *fn, const ef_conf_function_t *conf, char *err, size_t errlen);
void ef_function_dispose(ef_function_t *fn);

/**
 * Binds every function of `conf` to its runtime and prepares it (reads and compiles
 * its code). Problems go to `errors` at the function's position in the config.
 * Returns 0 or -1; release with ef_functions_dispose in both cases.
 */
int ef_functions_prepare(ef_functions_t *fns, const ef_conf_t *conf, ef_conf_errors_t *errors);

/**
 * Opens the log streams `conf->function_logs` names (stderr, nothing, or DIR/NAME.log
 * appended to). Returns 0, or -1 with a message in `err`.
 */
int ef_functions_open_logs(ef_functions_t *fns, const ef_conf_t *conf, char *err, size_t errlen);

void ef_functions_dispose(ef_functions_t *fns);

/* The file of `fn`'s log stream on `day` (days since the epoch, UTC), when it logs to a directory: DIR/NAME-YYYY-MM-DD.log */
void ef_function_log_path(const ef_function_t *fn, int day, char *path, size_t len);

/**
 * What isolates execution environments on this machine, for the start-up log: how /tmp is made private and how
 * memory is limited. NULL when `fns` has no process function.
 */
const char *ef_functions_isolation(const ef_functions_t *fns);

/* Serves the Lambda Runtime API (to execution environments) at `pathconf`; ef_runtime_thread_t.api_hosts has its host. */
void ef_functions_register_runtime_api(h2o_pathconf_t *pathconf);

/* The function for `fn_conf`, an entry of conf->functions. */
static inline ef_function_t *ef_functions_get(ef_functions_t *fns, const ef_conf_t *conf, const ef_conf_function_t *fn_conf)
{
    return fns->entries + (fn_conf - conf->functions);
}

/* Creates and releases a worker thread's runtime states; call on that thread. */
void ef_functions_thread_init(ef_functions_t *fns, ef_functions_thread_t *thread, const ef_runtime_thread_t *rt);
void ef_functions_thread_dispose(ef_functions_thread_t *thread);

/**
 * Once no thread takes requests any more: stops what still runs for requests that are gone. Call again and again
 * (running the loop in between) until it returns 1; then nothing of this thread's is in flight.
 */
int ef_functions_thread_quiesce(ef_functions_thread_t *thread);

/* The state `fn`'s runtime keeps on the thread. */
static inline void *ef_functions_thread_state(ef_functions_thread_t *thread, const ef_function_t *fn)
{
    return fn->runtime == &ef_lua_runtime ? thread->lua : thread->process;
}

#endif
