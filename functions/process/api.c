/*
 * The AWS Lambda Runtime API (2018-06-01), served by h2o to the execution
 * environments, each on a loopback listener of its own.
 *
 * A poll for the next event is an h2o request left unanswered until a job is
 * delivered on it. HTTP/1 does not read while a request is in progress, so a runtime
 * that gave up on its poll is noticed only when an event is about to go out: a peek
 * at the socket then tells whether its connection is still there, and a job is never
 * written into a connection that is gone (ef_process_api_deliver).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "functions/process/process.h"

#define POLL_CHECK_AFTER 100 /* ms a poll waits before its connection is checked at delivery */

static void send_json(h2o_req_t *req, int status, const char *reason, const char *body)
{
    req->res.status = status;
    req->res.reason = reason;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    req->res.content_length = strlen(body); /* runtime clients read by length; h2o_send_inline would chunk */
    h2o_send_inline(req, body, strlen(body));
}

static void send_error(h2o_req_t *req, int status, const char *reason, const char *type, const char *message)
{
    char body[512];
    snprintf(body, sizeof(body), "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", message, type);
    send_json(req, status, reason, body);
}

static void send_answer_status(h2o_req_t *req, int status, const char *why)
{
    switch (status) {
    case 202:
        send_json(req, 202, "Accepted", "{\"status\":\"OK\"}");
        break;
    case 400:
        send_error(req, 400, "Bad Request", why, "Invalid request ID");
        break;
    case 403:
        send_error(req, 403, "Forbidden", why,
                   "Invalid state transition (an answer that came already, or an init error after the first poll)");
        break;
    case 413: {
        char msg[128];
        snprintf(msg, sizeof(msg), "Exceeded maximum allowed payload size (%d bytes).", EF_PROCESS_MAX_PAYLOAD);
        send_error(req, 413, "Payload Too Large", why, msg);
    } break;
    default:
        send_error(req, status, "Error", why, "The environment is gone");
        break;
    }
}

static h2o_iovec_t error_type_of(h2o_req_t *req)
{
    static const char name[] = "lambda-runtime-function-error-type";
    ssize_t i = h2o_find_header_by_str(&req->headers, name, sizeof(name) - 1, -1);
    return i != -1 ? req->headers.entries[i].value : h2o_iovec_init(NULL, 0);
}

/* the request of a poll went away (HTTP/2 would say so; for HTTP/1 it is the environment's end) */
static void on_poll_dispose(void *p)
{
    ef_process_poll_t *poll = p;
    if (poll->env != NULL)
        ef_process_env_forget_poll(poll->env, poll);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    ef_process_thread_t *thread = ef_process_current_thread;
    ef_process_conn_t *conn;
    ef_process_env_t *env = thread != NULL ? ef_process_env_of(thread, req->conn, &conn) : NULL;
    h2o_iovec_t id = {NULL}, body = req->entity.base != NULL ? req->entity : h2o_iovec_init("", 0);
    const char *why = NULL;
    int status;

    if (env == NULL) {
        send_error(req, 410, "Gone", "Runtime.EnvironmentGone", "This environment has been shut down");
        return 0;
    }
    ef_rapi_route_t route = ef_rapi_route(req->method, req->path, &id);

    switch (route) {
    case EF_RAPI_NEXT: {
        ef_process_poll_t *poll = h2o_mem_alloc_shared(&req->pool, sizeof(*poll), on_poll_dispose);
        *poll = (ef_process_poll_t){env, req, conn, h2o_now(req->conn->ctx->loop)};
        ef_process_env_on_next(env, poll);
        return 0;
    }
    case EF_RAPI_RESPONSE:
    case EF_RAPI_ERROR:
        status = ef_process_env_on_answer(env, id.base, id.len, route == EF_RAPI_ERROR, body, error_type_of(req), &why);
        send_answer_status(req, status, why);
        return 0;
    case EF_RAPI_INIT_ERROR:
        status = ef_process_env_on_init_error(env, body, error_type_of(req), &why);
        send_answer_status(req, status, why);
        return 0;
    case EF_RAPI_METHOD_NOT_ALLOWED:
        send_error(req, 405, "Method Not Allowed", "MethodNotAllowed", "Method not allowed on this path");
        return 0;
    case EF_RAPI_NOT_FOUND:
        break;
    }
    send_error(req, 404, "Not Found", "NotFound", "No such Runtime API endpoint (this is the 2018-06-01 API)");
    return 0;
}

void ef_process_api_register(h2o_pathconf_t *pathconf)
{
    h2o_handler_t *handler = h2o_create_handler(pathconf, sizeof(*handler));
    handler->on_req = on_req;
}

static int connection_alive(ef_process_conn_t *conn)
{
    char c;
    ssize_t n;

    while ((n = recv(h2o_socket_get_fd(conn->sock), &c, 1, MSG_PEEK | MSG_DONTWAIT)) == -1 && errno == EINTR)
        ;
    /* data waiting (a pipelined request) or nothing yet: alive; end of stream or an error: gone */
    return n > 0 || (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

int ef_process_api_deliver(ef_process_poll_t *poll, ef_process_job_t *job, uint64_t deadline_ms)
{
    h2o_req_t *req = poll->req;
    char deadline[24], trace[96];
    struct timespec now;

    /* a poll that has just come is on a live connection; one that waited may have been given up on (a runtime client
     * that timed out and asked again elsewhere): a peek at its socket tells, before the event is written into it */
    if (h2o_now(req->conn->ctx->loop) - poll->parked_at > POLL_CHECK_AFTER && !connection_alive(poll->conn)) {
        ef_process_api_drop(poll);
        return -1;
    }
    poll->env = NULL;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(deadline, sizeof(deadline), "%" PRIu64, deadline_ms);
    snprintf(trace, sizeof(trace), "Root=1-%08lx-%.24s;Parent=%.16s;Sampled=0", (unsigned long)now.tv_sec,
             "000000000000000000000000", "0000000000000000");
    memcpy(trace + 14, job->id, strlen(job->id) < 24 ? strlen(job->id) : 24);

    req->res.status = 200;
    req->res.reason = "OK";
    h2o_mem_pool_t *pool = &req->pool;
    h2o_headers_t *h = &req->res.headers;
    h2o_add_header(pool, h, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    h2o_add_header_by_str(pool, h, H2O_STRLIT("lambda-runtime-aws-request-id"), 0, "Lambda-Runtime-Aws-Request-Id",
                          h2o_strdup(pool, job->id, SIZE_MAX).base, strlen(job->id));
    h2o_add_header_by_str(pool, h, H2O_STRLIT("lambda-runtime-deadline-ms"), 0, "Lambda-Runtime-Deadline-Ms",
                          h2o_strdup(pool, deadline, SIZE_MAX).base, strlen(deadline));
    h2o_add_header_by_str(pool, h, H2O_STRLIT("lambda-runtime-invoked-function-arn"), 0, "Lambda-Runtime-Invoked-Function-Arn",
                          job->pf->arn, strlen(job->pf->arn));
    h2o_add_header_by_str(pool, h, H2O_STRLIT("lambda-runtime-trace-id"), 0, "Lambda-Runtime-Trace-Id",
                          h2o_strdup(pool, trace, SIZE_MAX).base, strlen(trace));
    req->res.content_length = job->payload->size;
    h2o_send_inline(req, job->payload->bytes, job->payload->size);
    return 0;
}

void ef_process_api_drop(ef_process_poll_t *poll)
{
    poll->env = NULL;
    send_error(poll->req, 410, "Gone", "Runtime.EnvironmentGone", "This environment is shutting down");
}

static void on_connection_close(void *data)
{
    ef_process_conn_t *conn = data;
    h2o_linklist_unlink(&conn->link);
    free(conn);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    ef_process_thread_t *thread = ef_process_current_thread;
    h2o_socket_t *sock;

    if (err != NULL)
        return;
    while ((sock = h2o_evloop_socket_accept(listener)) != NULL) {
        ef_process_conn_t *conn = h2o_mem_alloc(sizeof(*conn));
        *conn = (ef_process_conn_t){.sock = sock, .env = listener->data};
        sock->on_close.cb = on_connection_close;
        sock->on_close.data = conn;
        h2o_linklist_insert(&thread->connections, &conn->link);
        h2o_accept(&thread->api_accept, sock);
        conn->conn = sock->data; /* HTTP/1 without TLS: the connection is made before h2o_accept returns */
    }
}

h2o_socket_t *ef_process_api_listen(ef_process_thread_t *thread, ef_process_env_t *env, int fd)
{
    h2o_socket_t *listener = h2o_evloop_socket_create(thread->ctx->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    listener->data = env;
    h2o_socket_read_start(listener, on_accept);
    return listener;
}

void ef_process_api_forget_env(ef_process_thread_t *thread, ef_process_env_t *env)
{
    for (h2o_linklist_t *l = thread->connections.next; l != &thread->connections; l = l->next) {
        ef_process_conn_t *conn = H2O_STRUCT_FROM_MEMBER(ef_process_conn_t, link, l);
        if (conn->env == env)
            conn->env = NULL;
    }
}

ef_process_env_t *ef_process_env_of(ef_process_thread_t *thread, h2o_conn_t *conn, ef_process_conn_t **found)
{
    for (h2o_linklist_t *l = thread->connections.next; l != &thread->connections; l = l->next) {
        ef_process_conn_t *c = H2O_STRUCT_FROM_MEMBER(ef_process_conn_t, link, l);
        if (c->conn == conn) {
            *found = c;
            return c->env;
        }
    }
    return NULL;
}
