#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <jansson.h>
#include "conf/config.h"
#include "server/admin.h"
#include "server/cmd_purge.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

#define CONNECT_TIMEOUT_SEC 5   /* to connect and to send */
#define ANSWER_TIMEOUT_SEC 60   /* a purge goes through the whole store once: a large one takes a moment */
#define MAX_RESPONSE (64 << 20) /* 3000 paths of 4096 bytes, echoed and escaped, fit well */

struct st_options {
    const char *config;
    const char **paths;
    size_t num_paths;
};

/* The admin listener to talk to: its address as a client reaches it. */
struct st_target {
    struct sockaddr_storage ss;
    socklen_t len;
    char url[80];  /* "http://127.0.0.1:9180", for messages */
    char host[64]; /* "127.0.0.1:9180", the Host header */
};

struct st_response {
    char *buf; /* the whole response as read, NUL-terminated */
    size_t len;
    int status;
    char reason[64];
    char *body; /* into buf */
    size_t body_len;
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "edgefn purge: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage:\n" EF_CMD_PURGE_USAGE);
    return EXIT_USAGE;
}

static int parse_options(int argc, char **argv, struct st_options *opts)
{
    int options_end = 0;
    char err[128];

    *opts = (struct st_options){.config = "edgefn.yaml"};
    opts->paths = calloc(argc + 1, sizeof(opts->paths[0]));

    for (int i = 0; i < argc; ++i) {
        const char *arg = argv[i];
        if (options_end || arg[0] != '-') {
            if (ef_admin_check_invalidation_path(arg, strlen(arg), err, sizeof(err)) != 0) {
                fprintf(stderr, "edgefn purge: \"%s\" %s\n", arg, err);
                return EXIT_USAGE;
            }
            opts->paths[opts->num_paths++] = arg;
        } else if (strcmp(arg, "--") == 0) {
            options_end = 1;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs("usage:\n" EF_CMD_PURGE_USAGE, stdout);
            exit(EXIT_OK);
        } else if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0) {
            if (i + 1 == argc)
                return usage_error("%s needs a file name", arg);
            opts->config = argv[++i];
        } else if (strncmp(arg, "--config=", 9) == 0) {
            opts->config = arg + 9;
        } else {
            return usage_error("unknown option \"%s\"", arg);
        }
    }
    if (opts->num_paths == 0)
        return usage_error("%s", "which paths? Name at least one, like /index.html or /img/*");
    if (opts->num_paths > EF_ADMIN_MAX_INVALIDATION_PATHS) {
        fprintf(stderr, "edgefn purge: %zu paths are more than one request takes (%d)\n", opts->num_paths,
                EF_ADMIN_MAX_INVALIDATION_PATHS);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* The admin listener's address; one that listens on every address is reached on loopback. */
static int resolve_target(const ef_conf_t *conf, struct st_target *target)
{
    struct sockaddr_in *sin = (void *)&target->ss;
    struct sockaddr_in6 *sin6 = (void *)&target->ss;
    char addr[INET6_ADDRSTRLEN];

    memset(target, 0, sizeof(*target));
    if (inet_pton(AF_INET, conf->admin.address, &sin->sin_addr) == 1) {
        if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
            sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(conf->admin.port);
        target->len = sizeof(*sin);
        inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
        snprintf(target->host, sizeof(target->host), "%s:%u", addr, conf->admin.port);
    } else if (inet_pton(AF_INET6, conf->admin.address, &sin6->sin6_addr) == 1) {
        if (memcmp(&sin6->sin6_addr, &in6addr_any, sizeof(in6addr_any)) == 0)
            sin6->sin6_addr = in6addr_loopback;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(conf->admin.port);
        target->len = sizeof(*sin6);
        inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
        snprintf(target->host, sizeof(target->host), "[%s]:%u", addr, conf->admin.port);
    } else {
        fprintf(stderr, "edgefn purge: %s: admin.listen: \"%s\" is not a numeric address\n", conf->file, conf->admin.address);
        return -1;
    }
    snprintf(target->url, sizeof(target->url), "http://%s", target->host);
    return 0;
}

static int connect_target(const struct st_target *target)
{
    struct timeval timeout = {CONNECT_TIMEOUT_SEC, 0}, answer_timeout = {ANSWER_TIMEOUT_SEC, 0};
    int fd;

    if ((fd = socket(target->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
        goto Error;
    /* a blocking connect, send and recv give up after these (Linux applies SO_SNDTIMEO to connect) */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &answer_timeout, sizeof(answer_timeout));
    if (connect(fd, (const void *)&target->ss, target->len) != 0)
        goto Error;
    return fd;

Error:
    fprintf(stderr, "edgefn purge: cannot reach the admin listener at %s: %s (is edgefn running?)\n", target->url,
            errno == EINPROGRESS || errno == EAGAIN ? "timed out" : strerror(errno));
    if (fd != -1)
        close(fd);
    return -1;
}

static int send_all(int fd, const char *buf, size_t len)
{
    while (len != 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads to the end of the connection (the request asked for Connection: close). */
static int read_all(int fd, struct st_response *res)
{
    size_t capacity = 16384;

    res->buf = malloc(capacity + 1);
    res->len = 0;
    for (;;) {
        if (res->len == capacity) {
            if (capacity >= MAX_RESPONSE) {
                errno = EFBIG;
                return -1;
            }
            capacity *= 2;
            res->buf = realloc(res->buf, capacity + 1);
        }
        ssize_t n = recv(fd, res->buf + res->len, capacity - res->len, 0);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            return -1;
        if (n == 0)
            break;
        res->len += (size_t)n;
    }
    res->buf[res->len] = '\0';
    return 0;
}

/* Decodes a chunked body in place; returns its length, or -1 when it is malformed. */
static ssize_t decode_chunked(char *body, size_t len)
{
    char *src = body, *end = body + len, *dst = body;

    for (;;) {
        char *stop;
        unsigned long size = strtoul(src, &stop, 16);
        char *eol = memmem(src, end - src, "\r\n", 2);
        if (stop == src || eol == NULL || size > (size_t)(end - eol - 2))
            return -1;
        if (size == 0)
            return dst - body;
        memmove(dst, eol + 2, size);
        dst += size;
        src = eol + 2 + size;
        if (end - src < 2)
            return -1;
        src += 2;
    }
}

/* Splits the response into status, reason and body; returns -1 when it is not HTTP. */
static int parse_response(struct st_response *res)
{
    char *head_end = strstr(res->buf, "\r\n\r\n"), *line, *next;
    long content_length = -1;
    int chunked = 0, status_len = 0;

    /* "HTTP/1.1 200 OK" */
    if (head_end == NULL || sscanf(res->buf, "HTTP/1.%*1[01] %3d%n", &res->status, &status_len) != 1 || res->status < 100)
        return -1;
    line = res->buf + status_len + (res->buf[status_len] == ' ');
    snprintf(res->reason, sizeof(res->reason), "%.*s", (int)strcspn(line, "\r\n"), line);
    res->body = head_end + 4;
    res->body_len = res->len - (res->body - res->buf);
    for (line = strstr(res->buf, "\r\n") + 2; line < head_end; line = next + 2) {
        next = strstr(line, "\r\n");
        if (strncasecmp(line, "content-length:", 15) == 0)
            content_length = strtol(line + 15, NULL, 10);
        else if (strncasecmp(line, "transfer-encoding:", 18) == 0 && strstr(line, "chunked") != NULL &&
                 strstr(line, "chunked") < next)
            chunked = 1;
    }
    if (chunked) {
        ssize_t len = decode_chunked(res->body, res->body_len);
        if (len == -1)
            return -1;
        res->body_len = (size_t)len;
    } else if (content_length >= 0) {
        if ((size_t)content_length > res->body_len)
            return -1;
        res->body_len = (size_t)content_length;
    }
    res->body[res->body_len] = '\0';
    return 0;
}

/* POSTs the invalidation and reads the answer into `res`; prints the trouble and returns -1 when there is no answer. */
static int post_invalidation(const struct st_target *target, h2o_iovec_t token, const char *body, struct st_response *res)
{
    char head[4096 + 512]; /* ef_admin_read_token reads at most 4096 bytes of token */
    int fd, ret = -1;

    snprintf(head, sizeof(head),
             "POST /cache/invalidations HTTP/1.1\r\nHost: %s\r\nUser-Agent: edgefn-purge/" EF_VERSION
             "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n%s%.*s%s\r\n",
             target->host, strlen(body), token.len != 0 ? "Authorization: Bearer " : "", (int)token.len, token.base,
             token.len != 0 ? "\r\n" : "");
    if ((fd = connect_target(target)) == -1)
        return -1;
    if (send_all(fd, head, strlen(head)) != 0 || send_all(fd, body, strlen(body)) != 0) {
        /* the listener may have answered before taking the whole body (413): show that answer if it came */
        int err = errno;
        if (read_all(fd, res) == 0 && parse_response(res) == 0) {
            ret = 0;
            goto Exit;
        }
        fprintf(stderr, "edgefn purge: cannot send to the admin listener at %s: %s\n", target->url,
                err == EAGAIN ? "timed out" : strerror(err));
        goto Exit;
    }
    if (read_all(fd, res) != 0) {
        if (errno == EAGAIN)
            fprintf(stderr,
                    "edgefn purge: no answer from the admin listener at %s within %d seconds (the purge may still be running; "
                    "GET /cache counts what it purged)\n",
                    target->url, ANSWER_TIMEOUT_SEC);
        else
            fprintf(stderr, "edgefn purge: no answer from the admin listener at %s: %s\n", target->url, strerror(errno));
        goto Exit;
    }
    if (parse_response(res) != 0) {
        fprintf(stderr, "edgefn purge: the admin listener at %s sent something that is not an HTTP response\n", target->url);
        goto Exit;
    }
    ret = 0;
Exit:
    close(fd);
    return ret;
}

/* "edgefn purge: 400 Bad Request: MESSAGE", from the API's JSON error or edgefn's text one ("401 Unauthorized: ...") */
static void print_error(const struct st_response *res)
{
    json_t *root = json_loadb(res->body, res->body_len, 0, NULL), *message = json_object_get(root, "message");
    char status[8];

    snprintf(status, sizeof(status), "%d ", res->status);
    if (json_is_string(message))
        fprintf(stderr, "edgefn purge: %d %s: %s\n", res->status, res->reason, json_string_value(message));
    else if (strncmp(res->body, status, strlen(status)) == 0)
        fprintf(stderr, "edgefn purge: %.*s\n", (int)strcspn(res->body, "\r\n"), res->body);
    else if (res->body_len != 0)
        fprintf(stderr, "edgefn purge: %d %s: %.*s\n", res->status, res->reason, (int)strcspn(res->body, "\r\n"), res->body);
    else
        fprintf(stderr, "edgefn purge: %d %s\n", res->status, res->reason);
    json_decref(root);
}

/* "purged 3 objects: /index.html (2), /about.html (1)" */
static int print_result(const struct st_target *target, const struct st_response *res)
{
    json_t *root = json_loadb(res->body, res->body_len, 0, NULL), *purged = json_object_get(root, "purged"),
           *paths = json_object_get(root, "paths");
    int ret = EXIT_FAILED;

    if (!json_is_integer(purged) || !json_is_array(paths)) {
        fprintf(stderr, "edgefn purge: the admin listener at %s answered 200 without the count of objects purged\n", target->url);
        goto Exit;
    }
    printf("purged %" JSON_INTEGER_FORMAT " object%s:", json_integer_value(purged), json_integer_value(purged) == 1 ? "" : "s");
    for (size_t i = 0; i != json_array_size(paths); ++i) {
        json_t *entry = json_array_get(paths, i);
        printf("%s %s (%" JSON_INTEGER_FORMAT ")", i == 0 ? "" : ",", json_string_value(json_object_get(entry, "path")),
               json_integer_value(json_object_get(entry, "purged")));
    }
    printf("\n");
    ret = EXIT_OK;
Exit:
    json_decref(root);
    return ret;
}

int ef_cmd_purge(int argc, char **argv)
{
    struct st_options opts;
    ef_conf_t conf = {NULL};
    ef_conf_errors_t errors = {NULL};
    struct st_target target;
    struct st_response res = {NULL};
    h2o_iovec_t token = {NULL};
    json_t *request = NULL, *paths;
    char *body = NULL, err[512];
    int ret;

    if ((ret = parse_options(argc, argv, &opts)) != EXIT_OK)
        goto Exit;
    ret = EXIT_USAGE;
    paths = json_array();
    request = json_pack("{s:o}", "paths", paths);
    for (size_t i = 0; i != opts.num_paths; ++i) {
        json_t *path = json_string(opts.paths[i]);
        if (path == NULL) {
            fprintf(stderr, "edgefn purge: \"%s\" is not valid UTF-8\n", opts.paths[i]);
            goto Exit;
        }
        json_array_append_new(paths, path);
    }
    body = json_dumps(request, JSON_COMPACT);

    if (ef_conf_load(&conf, opts.config, &errors) != 0) {
        for (size_t i = 0; i != errors.size; ++i)
            fprintf(stderr, "%s\n", errors.entries[i]);
        fprintf(stderr, "edgefn: %s: %zu error%s\n", opts.config, errors.size, errors.size == 1 ? "" : "s");
        goto Exit;
    }
    if (!conf.admin.enabled) {
        fprintf(stderr,
                "edgefn purge: %s has no admin: section; purge asks the running edgefn through its admin listener, "
                "so enable it (admin: { listen: \"127.0.0.1:%d\" }) and restart edgefn\n",
                opts.config, EF_CONF_DEFAULT_ADMIN_PORT);
        goto Exit;
    }
    if (conf.admin.token_file != NULL && ef_admin_read_token(conf.admin.token_file, &token, err, sizeof(err)) != 0) {
        fprintf(stderr, "edgefn purge: admin.token-file: %s\n", err);
        goto Exit;
    }
    if (resolve_target(&conf, &target) != 0)
        goto Exit;
    /* edgefn would refuse it with a 413, and may close before a client that is still sending reads that */
    if (strlen(body) > conf.max_request_body) {
        fprintf(stderr,
                "edgefn purge: the request would be %zu bytes, more than max-request-body (%" PRIu64
                " bytes); purge fewer paths at a time\n",
                strlen(body), conf.max_request_body);
        goto Exit;
    }

    ret = EXIT_FAILED;
    if (post_invalidation(&target, token, body, &res) != 0)
        goto Exit;
    if (res.status != 200) {
        print_error(&res);
        goto Exit;
    }
    ret = print_result(&target, &res);

Exit:
    free(res.buf);
    free(token.base);
    free(body);
    json_decref(request);
    ef_conf_errors_dispose(&errors);
    ef_conf_dispose(&conf);
    free(opts.paths);
    return ret;
}
