/*
 * bench/lambda_codec: what the Lambda@Edge JSON costs edgefn per invocation of a process
 * function (nodejs, python, provided), without the process: the event encoded
 * (ef_event_to_lambda_json, on the invoking thread before the job goes out) and the
 * function's result decoded back into the event (ef_event_from_lambda_json, when the
 * job comes back), exactly as functions/process/runtime.c calls them.
 *
 * The result is what bench/node/fn/index.js returns for the event: the request with
 * x-hook: 1 added, as JSON.stringify writes it (no spaces, keys in the event's order).
 *
 * Cases (viewer-request):
 *   w  the request wrk sends in bench/node.sh (GET /1k.bin, one header: host)
 *   b  a browser's request (5 headers: host, user-agent, accept, accept-encoding, accept-language)
 * For each: encode alone, decode alone (of a result prepared once), and the two together.
 * Every call starts from a fresh request, as a real one does: the per-request pool is
 * cleared and the headers are added to it (the harness, case 0, is that alone).
 *
 * Usage: lambda_codec [-c CASES] [-s STEPS] [-n CALLS] [-b BATCHES] [-w WARMUP]
 *   defaults: -c wb -s 0123 -n 100000 -b 7 -w 10000; steps: 0 harness, 1 encode, 2 decode, 3 both
 * For callgrind, the timed calls run inside timed_calls(), so
 *   valgrind --tool=callgrind --toggle-collect=timed_calls lambda_codec -c w -s 2 -n 10000 -b 1 -w 100
 * counts the instructions of 10000 decodes (each with the harness's set-up) and nothing else.
 *
 * Output: one line per case and step,
 *   case w encode: median 123.4 ns/call wall (min ..., max ...), 120.1 ns/call CPU; event 412 bytes
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "functions/event_lambda.h"
#include "bench/stats.h"

#define MAX_BATCHES 101

static h2o_mem_pool_t pool;
static h2o_headers_t headers;
static ef_event_t event;
static ef_lambda_options_t options;
static h2o_buffer_t *buf;
static char result[4096];
static size_t result_len;
static size_t num_failed;
static char last_error[256];

enum { STEP_HARNESS, STEP_ENCODE, STEP_DECODE, STEP_BOTH };
static const char *step_names[] = {"harness alone (fresh request, no JSON)", "encode", "decode", "encode + decode"};

static void new_request(char which)
{
    h2o_mem_clear_pool(&pool);
    headers = (h2o_headers_t){NULL};
    if (which == 'w') {
        h2o_add_header(&pool, &headers, H2O_TOKEN_HOST, NULL, H2O_STRLIT("127.0.0.1:30189"));
    } else {
        h2o_add_header(&pool, &headers, H2O_TOKEN_HOST, NULL, H2O_STRLIT("www.example.com"));
        h2o_add_header(&pool, &headers, H2O_TOKEN_USER_AGENT, NULL,
                       H2O_STRLIT("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"));
        h2o_add_header(&pool, &headers, H2O_TOKEN_ACCEPT, NULL, H2O_STRLIT("text/html,application/xhtml+xml,*/*;q=0.8"));
        h2o_add_header(&pool, &headers, H2O_TOKEN_ACCEPT_ENCODING, NULL, H2O_STRLIT("gzip, deflate, br"));
        h2o_add_header(&pool, &headers, H2O_TOKEN_ACCEPT_LANGUAGE, NULL, H2O_STRLIT("en-US,en;q=0.5"));
    }
    event = (ef_event_t){.hook = EF_HOOK_VIEWER_REQUEST,
                         .request_id = "a9be84c71c000003b729",
                         .client_ip = h2o_iovec_init(H2O_STRLIT("127.0.0.1")),
                         .pool = &pool};
    event.request.method = h2o_iovec_init(H2O_STRLIT("GET"));
    event.request.path = h2o_iovec_init(H2O_STRLIT("/1k.bin"));
    event.request.headers = &headers;
}

static __attribute__((noinline)) void one_call(char which, int step)
{
    new_request(which);
    if (step == STEP_ENCODE || step == STEP_BOTH) {
        buf->size = 0;
        ef_event_to_lambda_json(&buf, &event, &options);
    }
    if (step == STEP_DECODE || step == STEP_BOTH) {
        if (ef_event_from_lambda_json(&event, &options, result, result_len, last_error, sizeof(last_error)) != 0)
            ++num_failed;
    }
}

/* the calls that are timed (and that callgrind counts, with --toggle-collect=timed_calls) */
__attribute__((noinline)) void timed_calls(char which, int step, size_t n)
{
    for (size_t i = 0; i != n; ++i)
        one_call(which, step);
}

/* The result bench/node/fn/index.js gives for the event in `buf`: JSON.stringify of
 * Records[0].cf.request with headers["x-hook"] = [{key: "X-Hook", value: "1"}] appended. */
static int make_result(void)
{
    static const char hook[] = ",\"x-hook\":[{\"key\":\"X-Hook\",\"value\":\"1\"}]";
    const char *json = buf->bytes, *end = json + buf->size, *req, *hdrs, *p;
    int depth = 0;

    if ((req = memmem(json, buf->size, "\"request\":", 10)) == NULL)
        return -1;
    req += 10;
    if ((hdrs = memmem(req, end - req, "\"headers\":{", 11)) == NULL)
        return -1;
    /* the end of the headers object, and of the request object */
    const char *hdrs_end = NULL, *req_end = NULL;
    for (p = req; p < end; ++p) {
        if (*p == '"') {
            for (++p; p < end && *p != '"'; ++p)
                if (*p == '\\')
                    ++p;
        } else if (*p == '{' || *p == '[') {
            ++depth;
        } else if (*p == '}' || *p == ']') {
            --depth;
            if (p > hdrs && hdrs_end == NULL && depth == 1)
                hdrs_end = p;
            if (depth == 0) {
                req_end = p + 1;
                break;
            }
        }
    }
    if (hdrs_end == NULL || req_end == NULL || (size_t)(req_end - req) + sizeof(hook) > sizeof(result))
        return -1;
    result_len = 0;
    memcpy(result, req, hdrs_end - req), result_len += hdrs_end - req;
    memcpy(result + result_len, hook, sizeof(hook) - 1), result_len += sizeof(hook) - 1;
    memcpy(result + result_len, hdrs_end, req_end - hdrs_end), result_len += req_end - hdrs_end;
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: lambda_codec [-c CASES] [-s STEPS] [-n CALLS] [-b BATCHES] [-w WARMUP]\n"
                    "  CASES: any of w (wrk's request, 1 header), b (a browser's, 5 headers); default wb\n"
                    "  STEPS: any of 0 (harness alone), 1 (encode), 2 (decode), 3 (both); default 0123\n");
    exit(1);
}

int main(int argc, char **argv)
{
    const char *which = "wb", *steps = "0123";
    size_t calls = 100000, batches = 7, warmup = 10000;
    int opt;

    while ((opt = getopt(argc, argv, "c:s:n:b:w:h")) != -1) {
        switch (opt) {
        case 'c':
            which = optarg;
            break;
        case 's':
            steps = optarg;
            break;
        case 'n':
            calls = strtoul(optarg, NULL, 10);
            break;
        case 'b':
            batches = strtoul(optarg, NULL, 10);
            break;
        case 'w':
            warmup = strtoul(optarg, NULL, 10);
            break;
        default:
            usage();
        }
    }
    if (optind != argc || calls == 0 || batches == 0 || batches > MAX_BATCHES)
        usage();
    h2o_mem_init_pool(&pool);
    h2o_buffer_init(&buf, &h2o_socket_buffer_prototype);
    options = (ef_lambda_options_t){.distribution_domain = h2o_iovec_init(H2O_STRLIT("127.0.0.1:30189"))};

    printf("# lambda_codec: %zu batches of %zu calls per case and step after %zu warm-up calls\n", batches, calls, warmup);
    for (const char *w = which; *w != '\0'; ++w) {
        if (*w != 'w' && *w != 'b')
            usage();
        /* the event, and the result the node function gives for it; check that decoding applies it */
        new_request(*w);
        buf->size = 0;
        ef_event_to_lambda_json(&buf, &event, &options);
        size_t event_len = buf->size;
        if (make_result() != 0) {
            fprintf(stderr, "lambda_codec: case %c: no request object in the event: %.*s\n", *w, (int)buf->size, buf->bytes);
            return 2;
        }
        size_t before = headers.size;
        if (ef_event_from_lambda_json(&event, &options, result, result_len, last_error, sizeof(last_error)) != 0) {
            fprintf(stderr, "lambda_codec: case %c: the result is refused: %s\n%.*s\n", *w, last_error, (int)result_len, result);
            return 2;
        }
        ssize_t i = h2o_find_header_by_str(&headers, H2O_STRLIT("x-hook"), -1);
        if (headers.size != before + 1 || i == -1 ||
            !h2o_memis(headers.entries[i].value.base, headers.entries[i].value.len, H2O_STRLIT("1"))) {
            fprintf(stderr, "lambda_codec: case %c: decoding the result did not add x-hook: 1\n", *w);
            return 2;
        }
        for (int step = STEP_HARNESS; step <= STEP_BOTH; ++step) {
            if (strchr(steps, '0' + step) == NULL)
                continue;
            for (size_t k = 0; k != warmup; ++k)
                one_call(*w, step);
            double wall[MAX_BATCHES], cpu[MAX_BATCHES];
            num_failed = 0;
            for (size_t b = 0; b != batches; ++b) {
                uint64_t w0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
                timed_calls(*w, step, calls);
                uint64_t c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID), w1 = clock_ns(CLOCK_MONOTONIC);
                wall[b] = (double)(w1 - w0) / calls;
                cpu[b] = (double)(c1 - c0) / calls;
            }
            if (num_failed != 0) {
                fprintf(stderr, "lambda_codec: case %c %s: %zu decodes failed: %s\n", *w, step_names[step], num_failed, last_error);
                return 2;
            }
            double lo = wall[0], hi = wall[0];
            for (size_t b = 1; b != batches; ++b) {
                lo = wall[b] < lo ? wall[b] : lo;
                hi = wall[b] > hi ? wall[b] : hi;
            }
            printf(
                "case %c %s: median %.1f ns/call wall (min %.1f, max %.1f), %.1f ns/call CPU; event %zu bytes, result %zu bytes\n",
                *w, step_names[step], median(wall, batches), lo, hi, median(cpu, batches), event_len, result_len);
            fflush(stdout);
        }
    }
    h2o_buffer_dispose(&buf);
    h2o_mem_clear_pool(&pool);
    return 0;
}
