#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include "server/origin.h"

const char *const ef_origin_error_names[EF_ORIGIN_NUM_ERRORS] = {"refused", "timeout", "reset", "invalid"};

static int init_http(ef_origin_t *origin, char *err, size_t errlen)
{
    const ef_conf_origin_t *conf = origin->conf;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV}, *res;
    char port[8], host[INET6_ADDRSTRLEN];
    int ret;

    /* Resolved once, at start-up: a name that changes address needs a restart. */
    snprintf(port, sizeof(port), "%u", conf->url.port);
    if ((ret = getaddrinfo(conf->url.host, port, &hints, &res)) != 0) {
        snprintf(err, errlen, "cannot resolve \"%s\": %s", conf->url.host, gai_strerror(ret));
        return -1;
    }
    memcpy(&origin->http.addr, res->ai_addr, res->ai_addrlen);
    origin->http.addrlen = res->ai_addrlen;
    freeaddrinfo(res);

    if (origin->http.addr.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&origin->http.addr)->sin6_addr, host, sizeof(host));
        snprintf(origin->http.addrstr, sizeof(origin->http.addrstr), "[%s]:%u", host, conf->url.port);
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&origin->http.addr)->sin_addr, host, sizeof(host));
        snprintf(origin->http.addrstr, sizeof(origin->http.addrstr), "%s:%u", host, conf->url.port);
    }
    return 0;
}

int ef_origin_init(ef_origin_t *origin, const ef_conf_origin_t *conf, size_t index, char *err, size_t errlen)
{
    *origin = (ef_origin_t){.conf = conf, .index = index};
    switch (conf->kind) {
    case EF_CONF_ORIGIN_URL:
        origin->ops = &ef_origin_http_ops;
        return init_http(origin, err, errlen);
    case EF_CONF_ORIGIN_DIRECTORY:
        origin->ops = &ef_origin_dir_ops;
        origin->dir.mimemap = h2o_mimemap_create();
        return 0;
    }
    snprintf(err, errlen, "unknown kind of origin");
    return -1;
}

void ef_origin_dispose(ef_origin_t *origin)
{
    if (origin->conf != NULL && origin->conf->kind == EF_CONF_ORIGIN_DIRECTORY && origin->dir.mimemap != NULL)
        h2o_mem_release_shared(origin->dir.mimemap);
    origin->conf = NULL;
}

void *ef_fetch_alloc(h2o_req_t *req, const char *request_id, size_t size, const ef_fetch_ops_t *ops, void (*dispose)(void *),
                     const ef_fetch_callbacks_t *cb, void *data)
{
    ef_fetch_t *fetch = h2o_mem_alloc_shared(&req->pool, size, dispose);
    memset(fetch, 0, size);
    *fetch = (ef_fetch_t){ops, cb, data, req, request_id, 0};
    return fetch;
}
