/*
 * edgefn configuration: the plain C structs that one YAML file becomes.
 *
 * conf/ is the only part of edgefn that knows YAML; everything else reads these
 * structs. Every value is validated and defaulted by ef_conf_load, so a loaded
 * config is complete: runtime code never re-checks it.
 */
#ifndef EF_CONF_CONFIG_H
#define EF_CONF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define EF_CONF_DEFAULT_CONNECT_TIMEOUT (10 * 1000)  /* ms, CloudFront's origin connection timeout */
#define EF_CONF_DEFAULT_TIMEOUT (30 * 1000)          /* ms, CloudFront's origin response timeout */
#define EF_CONF_DEFAULT_KEEPALIVE_TIMEOUT (4 * 1000) /* ms; below the 5s idle timeout of Node.js servers, so we close first */
#define EF_CONF_DEFAULT_KEEPALIVE_CONNECTIONS 64     /* idle origin connections kept per thread */
#define EF_CONF_DEFAULT_DRAIN_TIMEOUT (30 * 1000)    /* ms */
#define EF_CONF_DEFAULT_MAX_REQUEST_BODY (100 << 20) /* bytes; h2o buffers request bodies in memory */
#define EF_CONF_DEFAULT_LUA_MEMORY (2 << 20)         /* bytes a Lua invocation may allocate */
#define EF_CONF_DEFAULT_LUA_TIMEOUT 5                /* ms a Lua invocation may run */
#define EF_CONF_DEFAULT_MAX_CODE_SIZE (64 << 10)     /* bytes of a function's source (CloudFront's is 10 KB) */
#define EF_CONF_DEFAULT_PROCESS_MEMORY (128 << 20)   /* bytes an execution environment may use (Lambda's default) */
#define EF_CONF_DEFAULT_VIEWER_TIMEOUT (5 * 1000)    /* ms a process function may run at a viewer hook (Lambda@Edge's) */
#define EF_CONF_DEFAULT_ORIGIN_TIMEOUT (30 * 1000)   /* ms a process function may run at an origin hook (Lambda@Edge's) */
#define EF_CONF_DEFAULT_MAX_ENVIRONMENTS 32          /* environments per function when concurrency.reserved is not set */
#define EF_CONF_DEFAULT_IDLE_TIMEOUT (5 * 60 * 1000) /* ms an idle environment is kept */
#define EF_CONF_DEFAULT_VIEWER_BODY_LIMIT (40 << 10) /* bytes of request body an include-body function sees at viewer-request */
#define EF_CONF_DEFAULT_ORIGIN_BODY_LIMIT (1 << 20)  /* ... and at origin-request (Lambda@Edge's limits) */
#define EF_CONF_DEFAULT_ADMIN_ADDRESS "127.0.0.1"
#define EF_CONF_DEFAULT_ADMIN_PORT 9180

/* A place in the config file, 1-based, as printed in errors. */
typedef struct st_ef_conf_pos_t {
    unsigned line;
    unsigned column;
} ef_conf_pos_t;

typedef struct st_ef_conf_listen_t {
    ef_conf_pos_t pos;
    char *address; /* numeric IPv4 or IPv6 address without brackets; "0.0.0.0" when not given */
    uint16_t port;
    struct {
        char *certificate; /* absolute path; NULL for a plain-text listener */
        char *key;         /* absolute path; set iff certificate is */
        ef_conf_pos_t pos; /* of the tls: mapping, for errors found when loading the files */
    } tls;
} ef_conf_listen_t;

typedef enum en_ef_conf_origin_kind_t {
    EF_CONF_ORIGIN_URL,
    EF_CONF_ORIGIN_DIRECTORY,
} ef_conf_origin_kind_t;

typedef struct st_ef_conf_origin_t {
    ef_conf_pos_t pos;
    char *name;
    ef_conf_origin_kind_t kind;
    struct {
        char *raw;                  /* the url as written */
        char *host;                 /* host name or numeric address, IPv6 without brackets */
        uint16_t port;              /* 80 when not given */
        char *authority;            /* what a Host header names: "host", "host:port" or "[v6]:port"; no port when it is 80 */
        char *prefix;               /* origin path prepended to every request path: "" or "/app" (never a trailing slash) */
    } url;                          /* kind == EF_CONF_ORIGIN_URL */
    char *directory;                /* kind == EF_CONF_ORIGIN_DIRECTORY: absolute path of an existing directory */
    uint64_t connect_timeout;       /* ms */
    uint64_t timeout;               /* ms: for the response to begin, and between reads of it */
    uint64_t keepalive_timeout;     /* ms an idle origin connection is kept */
    unsigned keepalive_connections; /* idle origin connections kept per thread; 0 disables keep-alive */
    int preserve_host;              /* forward the viewer's Host instead of the origin's authority */
} ef_conf_origin_t;

/* The four points of a request where a function may run, in the order a request meets them. */
typedef enum en_ef_hook_t {
    EF_HOOK_VIEWER_REQUEST,
    EF_HOOK_ORIGIN_REQUEST,
    EF_HOOK_ORIGIN_RESPONSE,
    EF_HOOK_VIEWER_RESPONSE,
    EF_NUM_HOOKS
} ef_hook_t;

/* "viewer-request", ... as written in configs and events */
extern const char *const ef_hook_names[EF_NUM_HOOKS];

typedef enum en_ef_conf_runtime_t {
    EF_CONF_RUNTIME_LUA,    /* in the event loop (functions/lua/) */
    EF_CONF_RUNTIME_NODEJS, /* the rest are execution environments: child processes (functions/process/) */
    EF_CONF_RUNTIME_PYTHON,
    EF_CONF_RUNTIME_PROVIDED, /* the function's own `bootstrap` */
} ef_conf_runtime_t;

/* "lua", "nodejs", "python" or "provided": the name a config gives the runtime */
const char *ef_conf_runtime_name(ef_conf_runtime_t runtime);

static inline int ef_conf_runtime_is_process(ef_conf_runtime_t runtime)
{
    return runtime != EF_CONF_RUNTIME_LUA;
}

/* One variable of a process function's `environment:` mapping. */
typedef struct st_ef_conf_env_var_t {
    char *name;
    char *value;
} ef_conf_env_var_t;

typedef struct st_ef_conf_function_t {
    ef_conf_pos_t pos;
    char *name;
    ef_conf_runtime_t runtime;
    char *code;             /* absolute path as configured: a .lua file, or a directory (always one for a process function) */
    char *code_dir;         /* absolute directory: where `require` finds Lua modules; a process function's LAMBDA_TASK_ROOT */
    char *module_file;      /* absolute path of the file that defines the handler (a provided function's bootstrap) */
    char *handler;          /* Lua: the handler's name in that file ("handler" by default); nodejs/python: as written,
                             * "index.handler" by default; provided: as written or NULL (it becomes _HANDLER) */
    uint64_t memory;        /* bytes: what a Lua invocation may allocate; what an environment may use (RSS) */
    uint64_t timeout;       /* ms an invocation may run; for a process function 0 means the hook's default
                             * (EF_CONF_DEFAULT_VIEWER_TIMEOUT or _ORIGIN_TIMEOUT) */
    uint64_t max_code_size; /* bytes of source a Lua function may have, its modules included */
    /* the rest is for process functions only */
    struct {
        unsigned reserved;    /* environments at most; EF_CONF_DEFAULT_MAX_ENVIRONMENTS when not set */
        unsigned provisioned; /* environments started before traffic; at most `reserved` */
    } concurrency;
    uint64_t queue_timeout;         /* ms a request waits for an environment once `reserved` are busy; then 503 */
    uint64_t idle_timeout;          /* ms an idle on-demand environment is kept */
    ef_conf_env_var_t *environment; /* the function's `environment:`, in the order written */
    size_t num_environment;
    int include_body;     /* the request body goes into the event (base64) */
    uint64_t body_limit;  /* bytes of body the event carries, then inputTruncated; 0 means the hook's default */
    struct {              /* `async:`, for Event invocations (POST /functions/NAME/invocations), as Lambda's EventInvokeConfig */
        unsigned retries; /* after a failed attempt, 0-2; 2 by default */
        uint64_t max_event_age; /* ms an event may wait (throttled) before it is given up; 6h by default */
        char *on_failure;       /* absolute: a directory that gets a JSON record of each event given up; NULL: none */
    } async;
} ef_conf_function_t;

/* Which query parameters a cache key holds (CloudFront's query-string setting). */
typedef enum en_ef_conf_key_query_t {
    EF_CONF_KEY_QUERY_NONE, /* the default, as on CloudFront */
    EF_CONF_KEY_QUERY_ALL,  /* every parameter (sorted by name, then value) */
    EF_CONF_KEY_QUERY_LIST, /* the ones named in `query_names` */
} ef_conf_key_query_t;

/* A behavior's cache policy (`cache:`), as CloudFront's. */
typedef struct st_ef_conf_cache_policy_t {
    int enabled;          /* the behavior has a cache: mapping; without one nothing is cached (x-cache: Pass) */
    uint64_t default_ttl; /* ms, when the origin says nothing; default 24h (CloudFront's) */
    uint64_t min_ttl;     /* ms, default 0 */
    uint64_t max_ttl;     /* ms, default 1 year (CloudFront's) */
    struct {
        ef_conf_key_query_t query; /* default none */
        char **query_names;        /* EF_CONF_KEY_QUERY_LIST; as written */
        size_t num_query_names;
        char **headers; /* lower-case names */
        size_t num_headers;
        char **cookies; /* as written (cookie names are case-sensitive) */
        size_t num_cookies;
    } key;
} ef_conf_cache_policy_t;

typedef struct st_ef_conf_behavior_t {
    ef_conf_pos_t pos;
    char *path;                                  /* path pattern, always starting with '/' or '*' */
    ef_conf_origin_t *origin;                    /* points into ef_conf_t.origins */
    ef_conf_function_t *functions[EF_NUM_HOOKS]; /* points into ef_conf_t.functions; NULL for no function */
    ef_conf_cache_policy_t cache;
} ef_conf_behavior_t;

typedef enum en_ef_conf_log_kind_t {
    EF_CONF_LOG_STDERR,
    EF_CONF_LOG_OFF,
    EF_CONF_LOG_FILE,
} ef_conf_log_kind_t;

typedef struct st_ef_conf_t {
    char *file;       /* the path as given to ef_conf_load */
    char *dir;        /* absolute directory that relative paths in the file are resolved against */
    unsigned threads; /* worker threads; 0 means "auto": one per CPU this process may run on */
    ef_conf_listen_t *listen;
    size_t num_listen;
    ef_conf_origin_t *origins;
    size_t num_origins;
    ef_conf_behavior_t *behaviors; /* in the order written: the first match wins */
    size_t num_behaviors;
    ef_conf_function_t *functions;
    size_t num_functions;
    struct {
        ef_conf_log_kind_t kind; /* stderr (default), off, or EF_CONF_LOG_FILE: one file per function in `dir` */
        char *dir;               /* absolute; an existing directory */
        int json;                /* function-log-format: json (one JSON object a line); text by default */
    } function_logs;
    struct {                                    /* `pricing:`, in US dollars, for GET /cost; AWS's list prices by default */
        double lambda_edge_request;             /* per request: 0.0000006 */
        double lambda_edge_gb_second;           /* per GB-second: 0.00005001 */
        double cloudfront_functions_invocation; /* per invocation: 0.0000001 */
    } pricing;
    struct {                   /* `async:`, the queue of Event invocations */
        char *queue_directory; /* absolute: where queued events are kept, to be resumed after a restart; NULL: in memory */
        uint64_t retry_delay;  /* ms before the first retry, doubled before the second; 1 minute by default (Lambda's) */
        unsigned concurrency;  /* events run at once, per worker thread; 16 by default */
        unsigned max_queued;   /* events waiting at most, in all; past it an Event invocation is refused (429) */
    } async;
    struct {
        ef_conf_log_kind_t kind;
        char *path; /* absolute; kind == EF_CONF_LOG_FILE */
    } access_log;
    struct {
        int enabled; /* the admin: section is present */
        ef_conf_pos_t pos;
        char *address;
        uint16_t port;
        char *token_file; /* absolute path, or NULL when no token is required */
    } admin;
    uint64_t drain_timeout;    /* ms to finish in-flight requests on shutdown */
    uint64_t max_request_body; /* bytes */
    struct {
        uint64_t memory;          /* bytes all cached objects may take, together; default 256MB */
        uint64_t max_object_size; /* bytes; a larger response is passed through, not cached; default 10MB */
    } cache;
} ef_conf_t;

/* One error, already formatted as "file:line:column: message". */
typedef struct st_ef_conf_errors_t {
    char **entries;
    size_t size;
    size_t capacity;
} ef_conf_errors_t;

/**
 * Reads, validates and defaults the config at `path` into `conf`. Every problem found
 * is appended to `errors` as "file:line:column: message", ordered by position; the
 * parser keeps going after an error so that one run reports them all. Returns 0 when
 * there were none, -1 otherwise; in both cases `conf` must be released with
 * ef_conf_dispose, and `errors` with ef_conf_errors_dispose.
 */
int ef_conf_load(ef_conf_t *conf, const char *path, ef_conf_errors_t *errors);

/**
 * Like ef_conf_load, but parses `len` bytes of `text` as if read from a file named
 * `name` in directory `dir` (which relative paths resolve against).
 */
int ef_conf_parse(ef_conf_t *conf, const char *name, const char *dir, const char *text, size_t len, ef_conf_errors_t *errors);

/* Frees everything ef_conf_load allocated; `conf` may then be reused. */
void ef_conf_dispose(ef_conf_t *conf);

/**
 * Appends an error at `pos` of `conf`'s file. For checks made after loading (a
 * certificate that does not match its key, say), so that they read like the rest.
 */
void ef_conf_error(ef_conf_errors_t *errors, const ef_conf_t *conf, ef_conf_pos_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void ef_conf_errors_dispose(ef_conf_errors_t *errors);

#endif
