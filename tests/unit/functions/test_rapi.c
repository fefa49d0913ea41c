/*
 * functions/process/rapi.c: the Runtime API's paths (ef_rapi_route) and the answers an
 * environment's posts get (ef_rapi_check_answer, ef_rapi_check_init_error), with the
 * statuses and error types of the real API: 202, 400 InvalidRequestID, 403
 * InvalidStateTransition, 413 RequestEntityTooLarge.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "functions/process/process.h"

#define API "/2018-06-01/runtime/"

static h2o_iovec_t iov(const char *s)
{
    return h2o_iovec_init(s, strlen(s));
}

/* the route of `method` `path`; the id it found goes to `id_out` ("" when it set none) */
static ef_rapi_route_t route(const char *method, const char *path, char *id_out, size_t id_size)
{
    static const char untouched[] = "(untouched)";
    h2o_iovec_t id = h2o_iovec_init(untouched, sizeof(untouched) - 1);
    ef_rapi_route_t r = ef_rapi_route(iov(method), iov(path), &id);

    if (id.base == untouched)
        snprintf(id_out, id_size, "%s", "");
    else
        snprintf(id_out, id_size, "%.*s", (int)id.len, id.base);
    return r;
}

static void assert_route(const char *method, const char *path, ef_rapi_route_t want, const char *want_id)
{
    char id[128];
    ef_rapi_route_t got = route(method, path, id, sizeof(id));

    if (got != want)
        fail_msg("%s %s: expected route %d, got %d", method, path, (int)want, (int)got);
    if (strcmp(id, want_id) != 0)
        fail_msg("%s %s: expected the id \"%s\", got \"%s\"", method, path, want_id, id);
}

static void test_route_next(void **state)
{
    assert_route("GET", API "invocation/next", EF_RAPI_NEXT, "");
    /* a query string is not part of the path */
    assert_route("GET", API "invocation/next?timeout=1", EF_RAPI_NEXT, "");
    assert_route("GET", API "invocation/next?", EF_RAPI_NEXT, "");
    /* the other methods */
    assert_route("POST", API "invocation/next", EF_RAPI_METHOD_NOT_ALLOWED, "");
    assert_route("PUT", API "invocation/next", EF_RAPI_METHOD_NOT_ALLOWED, "");
    assert_route("HEAD", API "invocation/next", EF_RAPI_METHOD_NOT_ALLOWED, "");
    assert_route("DELETE", API "invocation/next", EF_RAPI_METHOD_NOT_ALLOWED, "");
    /* methods are case-sensitive (RFC 9110) */
    assert_route("get", API "invocation/next", EF_RAPI_METHOD_NOT_ALLOWED, "");
    /* near misses */
    assert_route("GET", API "invocation/nextt", EF_RAPI_NOT_FOUND, "");
    assert_route("GET", API "invocation/next/", EF_RAPI_NOT_FOUND, "");
    assert_route("GET", API "invocation/next/extra", EF_RAPI_NOT_FOUND, "");
    assert_route("GET", API "invocation/nex", EF_RAPI_NOT_FOUND, "");
    assert_route("GET", API "Invocation/next", EF_RAPI_NOT_FOUND, "");
}

static void test_route_response_error(void **state)
{
    assert_route("POST", API "invocation/abc123-viewer-request/response", EF_RAPI_RESPONSE, "abc123-viewer-request");
    assert_route("POST", API "invocation/abc123-viewer-request/error", EF_RAPI_ERROR, "abc123-viewer-request");
    /* a one-character id, and an id with dots and colons */
    assert_route("POST", API "invocation/x/response", EF_RAPI_RESPONSE, "x");
    assert_route("POST", API "invocation/8f1e.2:3/error", EF_RAPI_ERROR, "8f1e.2:3");
    /* the query string is cut off, not taken into the id or the endpoint */
    assert_route("POST", API "invocation/abc/response?x=1", EF_RAPI_RESPONSE, "abc");
    assert_route("POST", API "invocation/abc/error?", EF_RAPI_ERROR, "abc");
    /* a path named like the poll is an id like any other (the state machine refuses it) */
    assert_route("POST", API "invocation/next/response", EF_RAPI_RESPONSE, "next");
    /* only POST answers; the id is not taken for another method */
    assert_route("GET", API "invocation/abc/response", EF_RAPI_METHOD_NOT_ALLOWED, "");
    assert_route("PUT", API "invocation/abc/error", EF_RAPI_METHOD_NOT_ALLOWED, "");
    assert_route("post", API "invocation/abc/response", EF_RAPI_METHOD_NOT_ALLOWED, "");
}

static void test_route_missing_id(void **state)
{
    /* no id */
    assert_route("POST", API "invocation//response", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "invocation//error", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "invocation/", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "invocation", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "invocation/response", EF_RAPI_NOT_FOUND, "");
    /* an id and no endpoint, or an unknown one */
    assert_route("POST", API "invocation/abc", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "invocation/abc/", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "invocation/abc/responses", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "invocation/abc/respons", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "invocation/abc/response/", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "invocation/abc/response/more", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "invocation/abc/Error", EF_RAPI_NOT_FOUND, "");
    /* an unknown endpoint is 404 whatever the method */
    assert_route("GET", API "invocation/abc/status", EF_RAPI_NOT_FOUND, "");
    /* a '?' inside the id cuts the path there */
    assert_route("POST", API "invocation/ab?c/response", EF_RAPI_NOT_FOUND, "");
}

static void test_route_init_error(void **state)
{
    assert_route("POST", API "init/error", EF_RAPI_INIT_ERROR, "");
    assert_route("POST", API "init/error?x", EF_RAPI_INIT_ERROR, "");
    assert_route("GET", API "init/error", EF_RAPI_METHOD_NOT_ALLOWED, "");
    assert_route("PUT", API "init/error", EF_RAPI_METHOD_NOT_ALLOWED, "");
    assert_route("POST", API "init/error/", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "init/errors", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "init", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "init/", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "init/response", EF_RAPI_NOT_FOUND, "");
}

static void test_route_unknown_paths(void **state)
{
    assert_route("GET", "/", EF_RAPI_NOT_FOUND, "");
    assert_route("GET", "", EF_RAPI_NOT_FOUND, "");
    assert_route("GET", "/2018-06-01/runtime", EF_RAPI_NOT_FOUND, "");
    assert_route("GET", API, EF_RAPI_NOT_FOUND, "");
    assert_route("GET", API "?x=1", EF_RAPI_NOT_FOUND, "");
    assert_route("GET", "/2018-06-01/runtimes/invocation/next", EF_RAPI_NOT_FOUND, "");
    assert_route("GET", "/2018-06-02/runtime/invocation/next", EF_RAPI_NOT_FOUND, "");
    assert_route("GET", "/2020-01-01/extension/event/next", EF_RAPI_NOT_FOUND, "");
    assert_route("GET", "2018-06-01/runtime/invocation/next", EF_RAPI_NOT_FOUND, "");
    assert_route("GET", "//2018-06-01/runtime/invocation/next", EF_RAPI_NOT_FOUND, "");
    assert_route("GET",
                 API "invocation/next"
                     "#frag",
                 EF_RAPI_NOT_FOUND, "");
    assert_route("GET", "/2018-06-01/runtime?/invocation/next", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "unknown/error", EF_RAPI_NOT_FOUND, "");
    assert_route("POST", API "logs", EF_RAPI_NOT_FOUND, "");
}

/* a path that is not NUL-terminated: only its length counts */
static void test_route_not_nul_terminated(void **state)
{
    char buf[] = API "invocation/abc/responseXXXX";
    h2o_iovec_t id = {NULL};

    assert_int_equal(ef_rapi_route(iov("POST"), h2o_iovec_init(buf, strlen(buf) - 4), &id), EF_RAPI_RESPONSE);
    assert_int_equal(id.len, 3);
    assert_memory_equal(id.base, "abc", 3);
    assert_int_equal(ef_rapi_route(iov("GETX"), h2o_iovec_init(API "invocation/nextX", strlen(API "invocation/next")), &id),
                     EF_RAPI_METHOD_NOT_ALLOWED);
    assert_int_equal(
        ef_rapi_route(h2o_iovec_init("GETX", 3), h2o_iovec_init(API "invocation/nextX", strlen(API "invocation/next")), &id),
        EF_RAPI_NEXT);
}

static ef_rapi_state_t make_state(const char *current, const char *last, int initialized)
{
    ef_rapi_state_t s;

    memset(&s, 0, sizeof(s));
    snprintf(s.current, sizeof(s.current), "%s", current);
    snprintf(s.last, sizeof(s.last), "%s", last);
    s.initialized = initialized;
    return s;
}

static void assert_answer(const ef_rapi_state_t *s, const char *id, size_t len, int want, const char *want_why)
{
    const char *why = NULL;
    int got = ef_rapi_check_answer(s, iov(id), len, &why);

    if (got != want)
        fail_msg("answer for \"%s\" (%zu bytes), current \"%s\", last \"%s\": expected %d, got %d", id, len, s->current, s->last,
                 want, got);
    if (want_why != NULL && (why == NULL || strcmp(why, want_why) != 0))
        fail_msg("answer for \"%s\": expected %s, got %s", id, want_why, why != NULL ? why : "(null)");
}

static void test_answer_current(void **state)
{
    ef_rapi_state_t s = make_state("req1-viewer-request", "", 1);

    assert_answer(&s, "req1-viewer-request", 0, 202, NULL);
    assert_answer(&s, "req1-viewer-request", 100, 202, NULL);
    /* 6 MB (6291556 bytes) is the most, as on Lambda */
    assert_int_equal(EF_PROCESS_MAX_PAYLOAD, 6291556);
    assert_answer(&s, "req1-viewer-request", EF_PROCESS_MAX_PAYLOAD, 202, NULL);
    assert_answer(&s, "req1-viewer-request", EF_PROCESS_MAX_PAYLOAD + 1, 413, "RequestEntityTooLarge");
    assert_answer(&s, "req1-viewer-request", SIZE_MAX, 413, "RequestEntityTooLarge");
}

static void test_answer_last(void **state)
{
    /* answered, nothing delivered since */
    ef_rapi_state_t s = make_state("", "req1-viewer-request", 1);
    assert_answer(&s, "req1-viewer-request", 10, 403, "InvalidStateTransition");
    assert_answer(&s, "req1-viewer-request", EF_PROCESS_MAX_PAYLOAD + 1, 403, "InvalidStateTransition");

    /* answered, and the next one delivered */
    s = make_state("req2-origin-request", "req1-viewer-request", 1);
    assert_answer(&s, "req1-viewer-request", 10, 403, "InvalidStateTransition");
    assert_answer(&s, "req2-origin-request", 10, 202, NULL);
}

static void test_answer_unknown(void **state)
{
    ef_rapi_state_t s = make_state("req2", "req1", 1);

    assert_answer(&s, "req3", 10, 400, "InvalidRequestID");
    assert_answer(&s, "", 10, 400, "InvalidRequestID");
    /* ids compare whole: a prefix or an extension of the current or last id is another id */
    assert_answer(&s, "req", 10, 400, "InvalidRequestID");
    assert_answer(&s, "req22", 10, 400, "InvalidRequestID");
    assert_answer(&s, "req11", 10, 400, "InvalidRequestID");
    assert_answer(&s, "REQ2", 10, 400, "InvalidRequestID");
    /* the id is checked before the size */
    assert_answer(&s, "req3", EF_PROCESS_MAX_PAYLOAD + 1, 400, "InvalidRequestID");

    /* nothing delivered and nothing answered yet: every id is unknown, the empty one too */
    s = make_state("", "", 1);
    assert_answer(&s, "req1", 10, 400, "InvalidRequestID");
    assert_answer(&s, "", 0, 400, "InvalidRequestID");
    s = make_state("", "", 0);
    assert_answer(&s, "", 0, 400, "InvalidRequestID");
}

/* an id that is not NUL-terminated: only its length counts */
static void test_answer_id_length(void **state)
{
    ef_rapi_state_t s = make_state("abc", "xyz", 1);
    const char *why = NULL;

    assert_int_equal(ef_rapi_check_answer(&s, h2o_iovec_init("abcdef", 3), 1, &why), 202);
    assert_int_equal(ef_rapi_check_answer(&s, h2o_iovec_init("xyz/response", 3), 1, &why), 403);
    assert_int_equal(ef_rapi_check_answer(&s, h2o_iovec_init("abc", 2), 1, &why), 400);
}

/* the sequence an environment goes through: deliver, answer, answer again, the next one */
static void test_answer_sequence(void **state)
{
    ef_rapi_state_t s = make_state("", "", 1);

    snprintf(s.current, sizeof(s.current), "%s", "id-1");
    assert_answer(&s, "id-0", 2, 400, "InvalidRequestID");
    assert_answer(&s, "id-1", 2, 202, NULL);
    /* what pool.c does once the job is finished */
    snprintf(s.last, sizeof(s.last), "%s", s.current);
    s.current[0] = '\0';
    assert_answer(&s, "id-1", 2, 403, "InvalidStateTransition");
    snprintf(s.current, sizeof(s.current), "%s", "id-2");
    assert_answer(&s, "id-1", 2, 403, "InvalidStateTransition");
    assert_answer(&s, "id-2", EF_PROCESS_MAX_PAYLOAD + 1, 413, "RequestEntityTooLarge");
    assert_answer(&s, "id-2", 2, 202, NULL);
}

static void assert_init_error(const ef_rapi_state_t *s, size_t len, int want, const char *want_why)
{
    const char *why = NULL;
    int got = ef_rapi_check_init_error(s, len, &why);

    if (got != want)
        fail_msg("init/error of %zu bytes, initialized %d: expected %d, got %d", len, s->initialized, want, got);
    if (want_why != NULL && (why == NULL || strcmp(why, want_why) != 0))
        fail_msg("init/error of %zu bytes: expected %s, got %s", len, want_why, why != NULL ? why : "(null)");
}

static void test_init_error(void **state)
{
    /* before the first poll */
    ef_rapi_state_t s = make_state("", "", 0);
    assert_init_error(&s, 0, 202, NULL);
    assert_init_error(&s, 200, 202, NULL);
    assert_init_error(&s, EF_PROCESS_MAX_PAYLOAD, 202, NULL);
    assert_init_error(&s, EF_PROCESS_MAX_PAYLOAD + 1, 413, "RequestEntityTooLarge");

    /* after it: too late, whatever the size */
    s = make_state("", "", 1);
    assert_init_error(&s, 10, 403, "InvalidStateTransition");
    assert_init_error(&s, EF_PROCESS_MAX_PAYLOAD + 1, 403, "InvalidStateTransition");
    s = make_state("id-1", "id-0", 1);
    assert_init_error(&s, 10, 403, "InvalidStateTransition");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_next),          cmocka_unit_test(test_route_response_error),
        cmocka_unit_test(test_route_missing_id),    cmocka_unit_test(test_route_init_error),
        cmocka_unit_test(test_route_unknown_paths), cmocka_unit_test(test_route_not_nul_terminated),
        cmocka_unit_test(test_answer_current),      cmocka_unit_test(test_answer_last),
        cmocka_unit_test(test_answer_unknown),      cmocka_unit_test(test_answer_id_length),
        cmocka_unit_test(test_answer_sequence),     cmocka_unit_test(test_init_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
