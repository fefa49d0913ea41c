/*
 * The admin API's functions endpoints:
 *
 *   GET /functions                  every function: its configuration, where it is bound, its counters
 *   GET /functions/NAME             the same for one
 *   GET /functions/NAME/logs?request-id=ID&since=WHEN&limit=N
 *                                   the lines of its log stream (function-logs: DIR) that match
 *   POST /functions/NAME/test, POST /functions/NAME/invocations   (server/admin_invoke.c)
 *   GET /cost                       the ledger: per function and version, invocations, GB-seconds, and what they
 *                                   would cost at Lambda@Edge's and CloudFront Functions' prices (`pricing:`)
 *
 * The log files are read on the admin request's worker thread, at most MAX_LOG_READ bytes
 * of each day's file (its end), so an operator's search takes that thread for a moment.
 */
#define _GNU_SOURCE /* strptime, timegm */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "conf/units.h"
#include "functions/registry.h"
#include "server/admin.h"
#include "server/metrics.h"

#define MAX_LOG_READ (64 << 20) /* bytes of a day's log file searched, from its end */
#define DEFAULT_LOG_LIMIT 1000  /* lines answered when ?limit= is not given */
#define MAX_LOG_LIMIT 10000

/* A function's counters at a hook (or for its direct invocations), summed over the threads */
static json_t *counters(ef_server_t *server, size_t f, int slot, ef_function_totals_t *totals)
{
    ef_function_totals_t t;
    json_t *errors = json_object();

    ef_metrics_function_totals(server, f, slot, &t);
    for (size_t e = 0; e != EF_FUNCTION_NUM_ERRORS; ++e)
        json_object_set_new(errors, ef_function_error_names[e], json_integer((json_int_t)t.errors[e]));
    if (totals != NULL)
        *totals = t;
    return json_pack("{s:I, s:o, s:I, s:I, s:f, s:f}", "invocations", (json_int_t)t.invocations, "errors", errors, "cold_starts",
                     (json_int_t)t.cold_starts, "concurrent_executions", (json_int_t)t.running, "duration_seconds",
                     t.duration_ns / 1e9, "gb_seconds", t.mb_ms / 1024000.0);
}

static json_t *describe(ef_server_t *server, size_t f)
{
    const ef_conf_t *conf = server->conf;
    const ef_conf_function_t *fc = server->functions.entries[f].conf;
    json_t *obj = json_object(), *bound = json_array(), *hooks = json_object();

    json_object_set_new(obj, "name", json_string(fc->name));
    json_object_set_new(obj, "runtime", json_string(ef_conf_runtime_name(fc->runtime)));
    json_object_set_new(obj, "code", json_string(fc->code));
    json_object_set_new(obj, "handler", fc->handler != NULL ? json_string(fc->handler) : json_null());
    json_object_set_new(obj, "memory", json_integer((json_int_t)fc->memory));
    /* a process function's 0 is its hook's default */
    json_object_set_new(obj, "timeout_ms", fc->timeout != 0 ? json_integer((json_int_t)fc->timeout) : json_null());
    if (ef_conf_runtime_is_process(fc->runtime)) {
        json_object_set_new(obj, "concurrency",
                            json_pack("{s:I, s:I}", "reserved", (json_int_t)fc->concurrency.reserved, "provisioned",
                                      (json_int_t)fc->concurrency.provisioned));
        ef_function_t *fn = server->functions.entries + f;
        json_object_set_new(obj, "provisioned_environments", json_integer(atomic_load(&fn->provisioned_environments)));
        json_object_set_new(obj, "environments",
                            json_pack("{s:I, s:I, s:I}", "starting", (json_int_t)atomic_load(&fn->environments.starting), "idle",
                                      (json_int_t)atomic_load(&fn->environments.idle), "busy",
                                      (json_int_t)atomic_load(&fn->environments.busy)));
    }
    for (size_t b = 0; b != conf->num_behaviors; ++b) {
        for (int hook = 0; hook != EF_NUM_HOOKS; ++hook) {
            if (conf->behaviors[b].functions[hook] != fc)
                continue;
            json_array_append_new(bound, json_pack("{s:s, s:s}", "behavior", conf->behaviors[b].path, "hook", ef_hook_names[hook]));
            if (json_object_get(hooks, ef_hook_names[hook]) == NULL)
                json_object_set_new(hooks, ef_hook_names[hook], counters(server, f, hook, NULL));
        }
    }
    ef_function_totals_t invoked;
    json_t *direct = counters(server, f, EF_METRICS_INVOKE, &invoked);
    if (invoked.invocations + invoked.running != 0)
        json_object_set_new(hooks, ef_metrics_slot_name(EF_METRICS_INVOKE), direct);
    else
        json_decref(direct);
    json_object_set_new(obj, "bound", bound);
    json_object_set_new(obj, "hooks", hooks);
    return obj;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A query parameter's value, percent-decoded, in the pool; {NULL, 0} when absent. */
static h2o_iovec_t query_param(h2o_req_t *req, const char *name)
{
    if (req->query_at == SIZE_MAX)
        return h2o_iovec_init(NULL, 0);
    const char *p = req->path.base + req->query_at + 1, *end = req->path.base + req->path.len;
    size_t name_len = strlen(name);
    while (p < end) {
        const char *amp = memchr(p, '&', end - p), *pend = amp != NULL ? amp : end, *eq = memchr(p, '=', pend - p);
        if (eq != NULL && (size_t)(eq - p) == name_len && memcmp(p, name, name_len) == 0) {
            char *v = h2o_mem_alloc_pool(&req->pool, pend - eq);
            size_t n = 0;
            for (const char *q = eq + 1; q < pend; ++q) {
                int hi, lo;
                if (*q == '%' && pend - q > 2 && (hi = hex_digit(q[1])) != -1 && (lo = hex_digit(q[2])) != -1) {
                    v[n++] = (char)(hi << 4 | lo);
                    q += 2;
                } else {
                    v[n++] = *q == '+' ? ' ' : *q;
                }
            }
            v[n] = '\0';
            return h2o_iovec_init(v, n);
        }
        p = pend + 1;
    }
    return h2o_iovec_init(NULL, 0);
}

/* `since` as the log lines' own timestamp ("2026-11-30T14:00:00.000Z"), from that form (or a prefix of it) or from a
 * duration before now ("15m"); -1 with a message when it is neither. */
static int parse_since(h2o_iovec_t v, char *ts, size_t tslen, time_t *start, char *msg, size_t msglen)
{
    uint64_t ms;
    const char *why;
    struct tm tm = {0};

    if (ef_parse_duration(v.base, &ms, &why) == 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        time_t t = now.tv_sec - (time_t)(ms / 1000);
        gmtime_r(&t, &tm);
        strftime(ts, tslen, "%Y-%m-%dT%H:%M:%S", &tm);
        *start = t;
        return 0;
    }
    const char *end = strptime(v.base, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL || (*end != '\0' && *end != '.' && *end != 'Z')) {
        snprintf(msg, msglen, "since=%.100s is neither a time like 2026-11-30T14:00:00Z (UTC) nor a duration like 15m", v.base);
        return -1;
    }
    snprintf(ts, tslen, "%.*s", (int)(strlen(v.base) - (v.base[strlen(v.base) - 1] == 'Z')), v.base);
    *start = timegm(&tm);
    return 0;
}

/* A line's timestamp: its start in text, its "time" in JSON ({"time":"...). */
static const char *line_time(const char *line)
{
    return strncmp(line, "{\"time\":\"", 9) == 0 ? line + 9 : line;
}

/* Whether a log line is of request `id`: its fourth field (text) or its request_id (JSON) is the id, or the id and a
 * suffix ("-viewer-request"). */
static int line_has_request(const char *line, const char *id, size_t idlen)
{
    const char *p = line;

    if (line[0] == '{') {
        if ((p = strstr(line, ",\"request_id\":\"")) == NULL)
            return 0;
        p += 15;
        return strncmp(p, id, idlen) == 0 && (p[idlen] == '"' || p[idlen] == '-');
    }
    for (int field = 0; field != 3; ++field) {
        if ((p = strchr(p, ' ')) == NULL)
            return 0;
        ++p;
    }
    return strncmp(p, id, idlen) == 0 && (p[idlen] == ' ' || p[idlen] == '-');
}

static void on_logs(ef_server_t *server, h2o_req_t *req, const char *id, const ef_function_t *fn)
{
    h2o_iovec_t rid = query_param(req, "request-id"), since = query_param(req, "since"), limit_v = query_param(req, "limit");
    char msg[300], ts[64] = "";
    time_t start = time(NULL);
    long limit = DEFAULT_LOG_LIMIT;

    if (fn->log_dir == NULL) {
        snprintf(msg, sizeof(msg), "function \"%s\" logs to %s, not to files: set function-logs: DIR to search its log",
                 fn->conf->name, fn->log_fd == -1 ? "nothing (function-logs: off)" : "stderr");
        ef_admin_send_error(req, id, 404, "Not Found", "NoLogFile", msg);
        return;
    }
    if (since.base != NULL && parse_since(since, ts, sizeof(ts), &start, msg, sizeof(msg)) != 0) {
        ef_admin_send_error(req, id, 400, "Bad Request", "InvalidArgument", msg);
        return;
    }
    if (limit_v.base != NULL) {
        char *end;
        limit = strtol(limit_v.base, &end, 10);
        if (*end != '\0' || limit < 1 || limit > MAX_LOG_LIMIT) {
            snprintf(msg, sizeof(msg), "limit=%.50s is not a number of lines from 1 to %d", limit_v.base, MAX_LOG_LIMIT);
            ef_admin_send_error(req, id, 400, "Bad Request", "InvalidArgument", msg);
            return;
        }
    }

    /* the day files from since's day to today, oldest first; the newest `limit` matches are kept */
    json_t *lines = json_array();
    int truncated = 0;
    char *line = NULL;
    size_t cap = 0;
    for (long day = start / 86400; day <= time(NULL) / 86400; ++day) {
        char path[4096];
        ef_function_log_path(fn, (int)day, path, sizeof(path));
        FILE *fp = fopen(path, "r");
        if (fp == NULL)
            continue;
        if (fseeko(fp, 0, SEEK_END) == 0 && ftello(fp) > MAX_LOG_READ) {
            fseeko(fp, -(off_t)MAX_LOG_READ, SEEK_END);
            getline(&line, &cap, fp); /* a partial line */
            truncated = 1;
        } else {
            fseeko(fp, 0, SEEK_SET);
        }
        ssize_t n;
        while ((n = getline(&line, &cap, fp)) > 0) {
            if (line[n - 1] == '\n')
                line[--n] = '\0';
            if (ts[0] != '\0' && strncmp(line_time(line), ts, strlen(ts)) < 0)
                continue;
            if (rid.base != NULL && !line_has_request(line, rid.base, rid.len))
                continue;
            json_t *s = json_stringn_nocheck(line, (size_t)n);
            if (json_array_size(lines) == (size_t)limit) {
                json_array_remove(lines, 0);
                truncated = 1;
            }
            json_array_append_new(lines, s);
        }
        fclose(fp);
    }
    free(line);
    ef_admin_send_json_value(req, id,
                             json_pack("{s:s, s:o, s:b}", "function", fn->conf->name, "lines", lines, "truncated", truncated), 0);
}

/* GET /cost: since start, per function (all its hooks) */
static void on_cost(ef_server_t *server, h2o_req_t *req, const char *id)
{
    const ef_conf_t *conf = server->conf;
    json_t *functions = json_array();
    double total_le = 0, total_cff = 0;

    for (size_t f = 0; f != server->functions.size; ++f) {
        const ef_function_t *fn = server->functions.entries + f;
        uint64_t invocations = 0, mb_ms = 0;
        for (int slot = 0; slot != EF_METRICS_FUNCTION_SLOTS; ++slot) {
            ef_function_totals_t t;
            ef_metrics_function_totals(server, f, slot, &t);
            invocations += t.invocations;
            mb_ms += t.mb_ms;
        }
        double gb_s = mb_ms / 1024000.0;
        double le = invocations * conf->pricing.lambda_edge_request + gb_s * conf->pricing.lambda_edge_gb_second;
        double cff = invocations * conf->pricing.cloudfront_functions_invocation;
        total_le += le;
        total_cff += cff;
        json_array_append_new(functions,
                              json_pack("{s:s, s:s, s:s, s:I, s:f, s:f, s:f}", "function", fn->conf->name, "version", "$LATEST",
                                        "runtime", ef_conf_runtime_name(fn->conf->runtime), "invocations", (json_int_t)invocations,
                                        "gb_seconds", gb_s, "lambda_edge_usd", le, "cloudfront_functions_usd", cff));
    }
    ef_admin_send_json_value(req, id,
                             json_pack("{s:o, s:{s:f, s:f}, s:{s:f, s:f, s:f}}", "functions", functions, "total", "lambda_edge_usd",
                                       total_le, "cloudfront_functions_usd", total_cff, "prices", "lambda_edge_request",
                                       conf->pricing.lambda_edge_request, "lambda_edge_gb_second",
                                       conf->pricing.lambda_edge_gb_second, "cloudfront_functions_invocation",
                                       conf->pricing.cloudfront_functions_invocation),
                             0);
}

int ef_admin_functions(ef_server_t *server, h2o_req_t *req, const char *id)
{
    h2o_iovec_t path = req->path_normalized;
    char msg[400];

    if (h2o_memis(path.base, path.len, H2O_STRLIT("/cost"))) {
        if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")))
            ef_admin_send_method_not_allowed(req, id, "GET");
        else
            on_cost(server, req, id);
        return 1;
    }

    if (!(h2o_memis(path.base, path.len, H2O_STRLIT("/functions")) || (path.len > 11 && memcmp(path.base, "/functions/", 11) == 0)))
        return 0;
    int is_get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"));
    if (path.len <= 11) {
        if (!is_get) {
            ef_admin_send_method_not_allowed(req, id, "GET");
            return 1;
        }
        json_t *all = json_array();
        for (size_t f = 0; f != server->functions.size; ++f)
            json_array_append_new(all, describe(server, f));
        ef_admin_send_json_value(req, id, json_pack("{s:o}", "functions", all), 0);
        return 1;
    }
    h2o_iovec_t name = h2o_iovec_init(path.base + 11, path.len - 11), rest = {NULL};
    const char *slash = memchr(name.base, '/', name.len);
    if (slash != NULL) {
        rest = h2o_iovec_init(slash, name.base + name.len - slash);
        name.len = slash - name.base;
    }
    for (size_t f = 0; f != server->functions.size; ++f) {
        const ef_function_t *fn = server->functions.entries + f;
        if (!h2o_memis(name.base, name.len, fn->conf->name, strlen(fn->conf->name)))
            continue;
        if (h2o_memis(rest.base, rest.len, H2O_STRLIT("/test")) || h2o_memis(rest.base, rest.len, H2O_STRLIT("/invocations"))) {
            ef_admin_run_function(server, req, id, f, rest.len == 5);
        } else if (!is_get && (rest.base == NULL || h2o_memis(rest.base, rest.len, H2O_STRLIT("/")) ||
                               h2o_memis(rest.base, rest.len, H2O_STRLIT("/logs")))) {
            ef_admin_send_method_not_allowed(req, id, "GET");
        } else if (rest.base == NULL || h2o_memis(rest.base, rest.len, H2O_STRLIT("/"))) {
            ef_admin_send_json_value(req, id, describe(server, f), 0);
        } else if (h2o_memis(rest.base, rest.len, H2O_STRLIT("/logs"))) {
            on_logs(server, req, id, fn);
        } else {
            snprintf(msg, sizeof(msg),
                     "no admin endpoint %.200s: a function has /functions/NAME, /functions/NAME/logs, /functions/NAME/test and "
                     "/functions/NAME/invocations",
                     h2o_strdup(&req->pool, path.base, path.len).base);
            ef_admin_send_error(req, id, 404, "Not Found", "NotFound", msg);
        }
        return 1;
    }
    snprintf(msg, sizeof(msg), "no function \"%.*s\" in the config", (int)(name.len < 100 ? name.len : 100), name.base);
    ef_admin_send_error(req, id, 404, "Not Found", "NoSuchFunction", msg);
    return 1;
}
