#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <jansson.h>
#include "conf/config.h"
#include "functions/registry.h"
#include "functions/test_run.h"
#include "server/cmd_test.h"
#include "server/server.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

struct st_options {
    const char *function;
    const char *config;
    int hook; /* -1 until known */
    const char *request;
    const char *event_file;
    const char **headers; /* "name: value", as given */
    size_t num_headers;
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "edgefn test: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage:\n" EF_CMD_TEST_USAGE);
    return EXIT_USAGE;
}

static int parse_hook(const char *s)
{
    for (int i = 0; i != EF_NUM_HOOKS; ++i)
        if (strcmp(s, ef_hook_names[i]) == 0)
            return i;
    return -1;
}

static int parse_options(int argc, char **argv, struct st_options *opts)
{
    *opts = (struct st_options){.config = "edgefn.yaml", .hook = -1};
    opts->headers = calloc(argc + 1, sizeof(opts->headers[0]));

    for (int i = 0; i < argc; ++i) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs("usage:\n" EF_CMD_TEST_USAGE, stdout);
            exit(EXIT_OK);
        }
        if (arg[0] != '-') {
            if (opts->function != NULL)
                return usage_error("unexpected argument \"%s\" (one function at a time)", arg);
            opts->function = arg;
            continue;
        }
        if (value == NULL)
            return usage_error("%s needs a value", arg);
        ++i;
        if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0) {
            opts->config = value;
        } else if (strcmp(arg, "--event") == 0) {
            if ((opts->hook = parse_hook(value)) == -1)
                return usage_error(
                    "--event: \"%s\" is not a hook (viewer-request, origin-request, origin-response, viewer-response)", value);
        } else if (strcmp(arg, "--request") == 0) {
            opts->request = value;
        } else if (strcmp(arg, "-H") == 0 || strcmp(arg, "--header") == 0) {
            const char *colon = strchr(value, ':');
            if (colon == NULL || colon == value)
                return usage_error("-H: expected 'name: value', got \"%s\"", value);
            opts->headers[opts->num_headers++] = value;
        } else if (strcmp(arg, "--event-file") == 0) {
            opts->event_file = value;
        } else {
            return usage_error("unknown option \"%s\"", arg);
        }
    }
    if (opts->function == NULL)
        return usage_error("%s", "which function? Name one of the config's functions");
    return EXIT_OK;
}

/* --request 'POST /path?query', or the path alone */
static int apply_request_line(ef_event_t *ev, const char *line)
{
    const char *target = line, *space = strchr(line, ' ');

    if (space != NULL) {
        ev->request.method = h2o_strdup(ev->pool, line, space - line);
        for (target = space; *target == ' '; ++target)
            ;
    }
    if (target[0] != '/')
        return usage_error("--request: expected 'METHOD /path?query' or '/path?query', got \"%s\"", line);
    const char *q = strchr(target, '?');
    ev->request.path = h2o_strdup(ev->pool, target, q != NULL ? (size_t)(q - target) : SIZE_MAX);
    ev->request.query = q != NULL && q[1] != '\0' ? h2o_strdup(ev->pool, q + 1, SIZE_MAX) : h2o_iovec_init(NULL, 0);
    return EXIT_OK;
}

/* -H 'name: value': the first -H of a name replaces that header, the next ones add values */
static void apply_headers(ef_event_t *ev, const struct st_options *opts)
{
    for (size_t i = 0; i != opts->num_headers; ++i) {
        const char *h = opts->headers[i], *colon = strchr(h, ':'), *value = colon + 1;
        h2o_iovec_t name = h2o_strdup(ev->pool, h, colon - h);
        size_t j;
        h2o_strtolower(name.base, name.len);
        while (*value == ' ' || *value == '\t')
            ++value;
        for (j = 0; j != i; ++j)
            if (strncasecmp(opts->headers[j], h, name.len + 1) == 0)
                break;
        if (j == i)
            ef_event_delete_headers(ev->request.headers, name);
        ef_event_add_header(ev->pool, ev->request.headers, name, h2o_iovec_init(value, strlen(value)));
    }
}

static int build_event(ef_test_run_t *run, struct st_options *opts)
{
    char err[512];

    if (opts->event_file != NULL) {
        json_error_t jerr;
        json_t *root = json_load_file(opts->event_file, 0, &jerr);
        if (root == NULL) {
            fprintf(stderr, "edgefn test: %s:%d:%d: %s\n", opts->event_file, jerr.line, jerr.column, jerr.text);
            return EXIT_USAGE;
        }
        int ret = ef_test_run_read_event(run, root, err, sizeof(err));
        json_decref(root);
        if (ret != 0) {
            fprintf(stderr, "edgefn test: %s: %s\n", opts->event_file, err);
            return EXIT_USAGE;
        }
    }
    if (opts->hook != -1)
        run->event.hook = opts->hook;
    if (run->event.hook == EF_NUM_HOOKS)
        return usage_error(
            "%s", "--event is required (or the event file's hook: context.eventType, Records[0].cf.config.eventType or hook)");
    if (opts->request != NULL && apply_request_line(&run->event, opts->request) != EXIT_OK)
        return EXIT_USAGE;
    apply_headers(&run->event, opts);
    return EXIT_OK;
}

/* every line of the function's (its own here): what an environment prints, its START, END and REPORT lines */
static void on_function_log(const ef_function_t *fn, const char *msg, size_t len)
{
    ef_test_run_log(fn->log_data, msg, len);
}

/* An event loop for a process runtime: its environments and the Runtime API they are served. */
struct st_loop {
    h2o_globalconf_t globalconf;
    h2o_hostconf_t *api_hosts[2];
    h2o_context_t ctx;
};

static void init_loop(struct st_loop *loop)
{
    h2o_config_init(&loop->globalconf);
    loop->api_hosts[0] = h2o_config_register_host(&loop->globalconf, h2o_iovec_init(H2O_STRLIT("runtime-api")), 65535);
    loop->api_hosts[1] = NULL;
    ef_functions_register_runtime_api(h2o_config_register_path(loop->api_hosts[0], "/", 0));
    h2o_context_init(&loop->ctx, h2o_evloop_create(), &loop->globalconf);
}

static void dispose_loop(struct st_loop *loop)
{
    h2o_loop_t *evloop = loop->ctx.loop;
    h2o_multithread_queue_t *queue = loop->ctx.queue;

    h2o_timeout_unlink(&loop->ctx.http2._graceful_shutdown_timeout);
    h2o_context_dispose(&loop->ctx);
    free(queue);
    h2o_evloop_destroy(evloop);
    h2o_config_dispose(&loop->globalconf);
}

static void on_done(ef_test_run_t *run)
{
    *(int *)run->data = 1;
}

static int run_function(ef_conf_function_t *conf, struct st_options *opts)
{
    ef_function_t fn, *fns[1] = {&fn};
    h2o_mem_pool_t pool;
    char id[EF_REQUEST_ID_LEN + 1], err[1024];
    uint8_t rnd[EF_REQUEST_ID_LEN / 2];
    ef_test_run_t run;
    int done = 0, ret;

    if (ef_function_init(&fn, conf, err, sizeof(err)) != 0) {
        fprintf(stderr, "edgefn test: %s: function \"%s\": %s\n", opts->config, conf->name, err);
        ef_function_dispose(&fn);
        return EXIT_USAGE;
    }
    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
        memset(rnd, 0, sizeof(rnd));
    for (size_t i = 0; i != sizeof(rnd); ++i)
        sprintf(id + i * 2, "%02x", rnd[i]);
    h2o_mem_init_pool(&pool);
    ef_test_run_init(&run, &pool, id);
    run.data = &done;
    fn.log_fd = -1; /* the lines go to the report */
    fn.log_cb = on_function_log;
    fn.log_data = &run;

    if ((ret = build_event(&run, opts)) == EXIT_OK) {
        struct st_loop loop;
        /* an environment that ends mid-write (it is killed once the report is out) must not take us with it */
        signal(SIGPIPE, SIG_IGN);
        init_loop(&loop);
        void *state = fn.runtime->thread_init(fns, 1, &(ef_runtime_thread_t){&loop.ctx, loop.api_hosts, 0, 1});
        ef_test_run_start(&run, &fn, state, on_done);
        /* the Lua runtime completes within invoke; a process runtime starts an environment and completes from the loop */
        while (!done)
            h2o_evloop_run(loop.ctx.loop, INT32_MAX);
        json_t *out = ef_test_run_report(&run);
        json_dumpf(out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        fputc('\n', stdout);
        json_decref(out);
        if (fn.runtime->thread_quiesce != NULL)
            while (!fn.runtime->thread_quiesce(state))
                h2o_evloop_run(loop.ctx.loop, 10);
        fn.runtime->thread_dispose(state);
        dispose_loop(&loop);
        ret = run.inv.status == EF_INVOKE_OK ? EXIT_OK : EXIT_FAILED;
    }
    ef_test_run_dispose(&run);
    h2o_mem_clear_pool(&pool);
    ef_function_dispose(&fn);
    return ret;
}

int ef_cmd_test(int argc, char **argv)
{
    struct st_options opts;
    ef_conf_t conf = {NULL};
    ef_conf_errors_t errors = {NULL};
    int ret;

    if ((ret = parse_options(argc, argv, &opts)) != EXIT_OK)
        goto Exit;
    if (ef_conf_load(&conf, opts.config, &errors) != 0) {
        for (size_t i = 0; i != errors.size; ++i)
            fprintf(stderr, "%s\n", errors.entries[i]);
        fprintf(stderr, "edgefn: %s: %zu error%s\n", opts.config, errors.size, errors.size == 1 ? "" : "s");
        ret = EXIT_USAGE;
        goto Exit;
    }
    for (size_t i = 0; i != conf.num_functions; ++i) {
        if (strcmp(conf.functions[i].name, opts.function) == 0) {
            ret = run_function(conf.functions + i, &opts);
            goto Exit;
        }
    }
    fprintf(stderr, "edgefn test: %s has no function \"%s\"", opts.config, opts.function);
    for (size_t i = 0; i != conf.num_functions; ++i)
        fprintf(stderr, "%s%s", i == 0 ? " (it has: " : ", ", conf.functions[i].name);
    fprintf(stderr, "%s\n", conf.num_functions != 0 ? ")" : " (it has none)");
    ret = EXIT_USAGE;
Exit:
    ef_conf_errors_dispose(&errors);
    ef_conf_dispose(&conf);
    free(opts.headers);
    return ret;
}
