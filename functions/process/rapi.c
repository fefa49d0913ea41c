/*
 * The Runtime API's paths and the answers it gives, apart from h2o so that they can
 * be tested alone. The statuses and error types are the real API's (as AWS's runtime
 * interface emulator gives them).
 */
#include <string.h>
#include "functions/process/process.h"

#define PREFIX "/2018-06-01/runtime/"

static int is(h2o_iovec_t s, const char *lit)
{
    return h2o_memis(s.base, s.len, lit, strlen(lit));
}

ef_rapi_route_t ef_rapi_route(h2o_iovec_t method, h2o_iovec_t path, h2o_iovec_t *id)
{
    int get = is(method, "GET"), post = is(method, "POST");
    const char *rest, *slash, *end;

    if (path.len < sizeof(PREFIX) - 1 || memcmp(path.base, PREFIX, sizeof(PREFIX) - 1) != 0)
        return EF_RAPI_NOT_FOUND;
    rest = path.base + sizeof(PREFIX) - 1;
    end = path.base + path.len;
    if ((slash = memchr(rest, '?', end - rest)) != NULL)
        end = slash;
    h2o_iovec_t tail = h2o_iovec_init(rest, end - rest);
    if (is(tail, "invocation/next"))
        return get ? EF_RAPI_NEXT : EF_RAPI_METHOD_NOT_ALLOWED;
    if (is(tail, "init/error"))
        return post ? EF_RAPI_INIT_ERROR : EF_RAPI_METHOD_NOT_ALLOWED;
    if (tail.len > sizeof("invocation/") - 1 && memcmp(tail.base, "invocation/", sizeof("invocation/") - 1) == 0) {
        const char *idp = tail.base + sizeof("invocation/") - 1;
        if ((slash = memchr(idp, '/', end - idp)) == NULL || slash == idp)
            return EF_RAPI_NOT_FOUND;
        h2o_iovec_t what = h2o_iovec_init(slash + 1, end - slash - 1);
        ef_rapi_route_t route;
        if (is(what, "response"))
            route = EF_RAPI_RESPONSE;
        else if (is(what, "error"))
            route = EF_RAPI_ERROR;
        else
            return EF_RAPI_NOT_FOUND;
        if (!post)
            return EF_RAPI_METHOD_NOT_ALLOWED;
        *id = h2o_iovec_init(idp, slash - idp);
        return route;
    }
    return EF_RAPI_NOT_FOUND;
}

int ef_rapi_check_answer(const ef_rapi_state_t *state, h2o_iovec_t id, size_t len, const char **why)
{
    if (state->current[0] != '\0' && is(id, state->current)) {
        if (len > EF_PROCESS_MAX_PAYLOAD) {
            *why = "RequestEntityTooLarge";
            return 413;
        }
        return 202;
    }
    if (state->last[0] != '\0' && is(id, state->last)) {
        *why = "InvalidStateTransition";
        return 403;
    }
    *why = "InvalidRequestID";
    return 400;
}

int ef_rapi_check_init_error(const ef_rapi_state_t *state, size_t len, const char **why)
{
    if (state->initialized) {
        *why = "InvalidStateTransition";
        return 403;
    }
    if (len > EF_PROCESS_MAX_PAYLOAD) {
        *why = "RequestEntityTooLarge";
        return 413;
    }
    return 202;
}
