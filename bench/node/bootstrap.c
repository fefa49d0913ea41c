/*
 * bench/node.sh: a minimal `provided` runtime in C, the cheapest client of the Lambda
 * Runtime API there can be, so that edgefn's own share of a process invocation can be
 * told apart from node's (and for the cold start of `provided`).
 *
 * It does what bench/node/fn/index.js does: takes the event's Records[0].cf.request
 * and returns it with the header x-hook: 1 added. The JSON is handled as text: the
 * request object is cut out of the event by matching braces (strings skipped), and the
 * header is spliced in after `"headers":{`. One keep-alive connection; a GET of
 * .../invocation/next, then for each event one write with the POST of
 * .../invocation/ID/response and the next GET (pipelined, as edgefn's node bootstrap does).
 *
 * Build: cc -O2 -o bootstrap bootstrap.c      Run by edgefn with AWS_LAMBDA_RUNTIME_API set.
 * `bootstrap -0` exits at once: the bare start-up of this program, for the cold-start figures.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define BASE "/2018-06-01/runtime/"

static int fd = -1;
static char *in; /* what was read and not consumed */
static size_t in_len, in_cap;
static char host[256];

static void die(const char *what)
{
    fprintf(stderr, "bootstrap: %s\n", what);
    exit(1);
}

static void send_all(const char *p, size_t n)
{
    while (n != 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            die("write to the Runtime API failed");
        p += w, n -= w;
    }
}

static void send3(const char *a, size_t an, const char *b, size_t bn, const char *c, size_t cn)
{
    struct iovec iov[3] = {{(void *)a, an}, {(void *)b, bn}, {(void *)c, cn}};
    ssize_t w = writev(fd, iov, 3);
    if (w < 0)
        die("write to the Runtime API failed");
    if ((size_t)w != an + bn + cn) { /* a short write: send the rest one by one */
        for (int i = 0; i < 3; ++i) {
            size_t skip = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
            w -= skip;
            send_all((char *)iov[i].iov_base + skip, iov[i].iov_len - skip);
        }
    }
}

static void fill(void)
{
    if (in_len + 1 >= in_cap && (in = realloc(in, in_cap = in_cap ? in_cap * 2 : 65536)) == NULL)
        die("no memory");
    ssize_t r = read(fd, in + in_len, in_cap - 1 - in_len);
    if (r <= 0)
        exit(r == 0 ? 0 : 1); /* edgefn closed the connection: the environment is going away */
    in_len += r;
    in[in_len] = '\0'; /* for strstr on the head */
}

static void consume(size_t n)
{
    memmove(in, in + n, in_len - n);
    in_len -= n;
    in[in_len] = '\0';
}

/* Reads one response; *body points into `in` until the next call. Returns the status. */
static int read_response(char *id, size_t id_size, char **body, size_t *body_len)
{
    char *end;
    size_t head_len, len = 0;

    while (in == NULL || (end = memmem(in, in_len, "\r\n\r\n", 4)) == NULL)
        fill();
    head_len = end + 4 - in;
    int status = atoi(in + 9);
    id[0] = '\0';
    for (char *line = strstr(in, "\r\n") + 2; line < end; line = strstr(line, "\r\n") + 2) {
        if (strncasecmp(line, "content-length:", 15) == 0)
            len = strtoul(line + 15, NULL, 10);
        else if (strncasecmp(line, "lambda-runtime-aws-request-id:", 30) == 0) {
            char *v = line + 30, *e = strstr(v, "\r\n");
            while (*v == ' ')
                ++v;
            snprintf(id, id_size, "%.*s", (int)(e - v), v);
        }
    }
    while (in_len < head_len + len)
        fill();
    /* the body is moved to the front, so that *body stays valid while nothing more is read */
    consume(head_len);
    *body = in;
    *body_len = len;
    return status;
}

/* the end of the JSON value (object) starting at p, or NULL */
static char *match(char *p, char *end)
{
    int depth = 0;
    for (; p < end; ++p) {
        if (*p == '"') {
            for (++p; p < end && *p != '"'; ++p)
                if (*p == '\\')
                    ++p;
        } else if (*p == '{' || *p == '[') {
            ++depth;
        } else if (*p == '}' || *p == ']') {
            if (--depth == 0)
                return p + 1;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static const char hook[] = "\"x-hook\":[{\"key\":\"X-Hook\",\"value\":\"1\"}]";
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    char id[128], *body, *out = NULL, head[512];
    size_t body_len, out_cap = 0;
    struct sockaddr_in sin = {.sin_family = AF_INET};
    int one = 1;

    if (argc > 1 && strcmp(argv[1], "-0") == 0)
        return 0;
    if (api == NULL || strchr(api, ':') == NULL)
        die("AWS_LAMBDA_RUNTIME_API is not set");
    snprintf(host, sizeof(host), "%s", api);
    *strchr(host, ':') = '\0';
    sin.sin_port = htons(atoi(strchr(api, ':') + 1));
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
        die("AWS_LAMBDA_RUNTIME_API is not IPv4 ADDRESS:PORT");
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        die("cannot connect to the Runtime API");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    char next[300];
    int next_len = snprintf(next, sizeof(next), "GET " BASE "invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", api);
    send_all(next, next_len);
    for (;;) {
        if (read_response(id, sizeof(id), &body, &body_len) != 200 || id[0] == '\0')
            die("invocation/next failed");
        char *end = body + body_len, *req = memmem(body, body_len, "\"request\":", 10), *req_end, *h;
        if (req == NULL || (req_end = match(req += 10, end)) == NULL)
            die("no Records[0].cf.request in the event");
        size_t req_len = req_end - req, len = 0;
        if (out_cap < req_len + sizeof(hook) + 1 && (out = realloc(out, out_cap = req_len + sizeof(hook) + 1)) == NULL)
            die("no memory");
        if ((h = memmem(req, req_len, "\"headers\":{", 11)) != NULL) {
            h += 11;
            memcpy(out, req, h - req), len = h - req;
            memcpy(out + len, hook, sizeof(hook) - 1), len += sizeof(hook) - 1;
            if (*h != '}')
                out[len++] = ',';
            memcpy(out + len, h, req_end - h), len += req_end - h;
        } else {
            memcpy(out, req, req_len), len = req_len;
        }
        consume(body_len);
        int n = snprintf(head, sizeof(head),
                         "POST " BASE "invocation/%s/response HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\n\r\n",
                         id, api, len);
        send3(head, n, out, len, next, next_len);
        if (read_response(id, sizeof(id), &body, &body_len) != 202)
            die("invocation/ID/response was not accepted");
        consume(body_len);
    }
}
