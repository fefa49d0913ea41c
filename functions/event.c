#include <stdio.h>
#include <string.h>
#include "functions/event.h"

int ef_event_header_allowed(ef_hook_t hook, h2o_iovec_t name, char *why, size_t whylen)
{
    static const h2o_iovec_t hop_by_hop[] = {
        {H2O_STRLIT("connection")}, {H2O_STRLIT("keep-alive")},        {H2O_STRLIT("te")},
        {H2O_STRLIT("trailer")},    {H2O_STRLIT("transfer-encoding")}, {H2O_STRLIT("upgrade")}};
    size_t i;

    if (name.len == 0) {
        snprintf(why, whylen, "a header has an empty name");
        return 0;
    }
    for (i = 0; i != name.len; ++i) {
        /* RFC 9110 token characters, lower case as everywhere in events */
        char c = name.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL))) {
            snprintf(why, whylen, "header name \"%.*s\" is not a lower-case HTTP token", (int)(name.len < 64 ? name.len : 64),
                     name.base);
            return 0;
        }
    }
    for (i = 0; i != sizeof(hop_by_hop) / sizeof(hop_by_hop[0]); ++i)
        if (h2o_memis(name.base, name.len, hop_by_hop[i].base, hop_by_hop[i].len))
            goto HopByHop;
    if (name.len >= 6 && memcmp(name.base, "proxy-", 6) == 0)
        goto HopByHop;
    if (h2o_memis(name.base, name.len, H2O_STRLIT("content-length"))) {
        snprintf(why, whylen, "header \"content-length\" is set by edgefn from the body");
        return 0;
    }
    if (name.len >= 9 && memcmp(name.base, "x-edgefn-", 9) == 0) {
        snprintf(why, whylen, "header \"%.*s\" is edgefn's own", (int)(name.len < 64 ? name.len : 64), name.base);
        return 0;
    }
    return 1;

HopByHop:
    snprintf(why, whylen, "header \"%.*s\" is hop-by-hop: a function cannot set it (at %s)", (int)(name.len < 64 ? name.len : 64),
             name.base, ef_hook_names[hook]);
    return 0;
}

int ef_event_check_response(const ef_event_response_t *response, char *why, size_t whylen)
{
    if (response->status < 200 || response->status > 599) {
        snprintf(why, whylen, "status %d is outside 200-599", response->status);
        return -1;
    }
    if (response->has_body && response->body.len != 0 && (response->status == 204 || response->status == 304)) {
        snprintf(why, whylen, "a %d response cannot have a body", response->status);
        return -1;
    }
    for (size_t i = 0; i != response->reason.len; ++i) {
        if (response->reason.base[i] == '\r' || response->reason.base[i] == '\n' || response->reason.base[i] == '\0') {
            snprintf(why, whylen, "statusDescription contains a line break or NUL");
            return -1;
        }
    }
    return 0;
}

int ef_event_check_path(h2o_iovec_t path, char *why, size_t whylen)
{
    if (path.len == 0 || path.base[0] != '/') {
        snprintf(why, whylen, "uri \"%.*s\" does not start with '/'", (int)(path.len < 64 ? path.len : 64), path.base);
        return -1;
    }
    for (size_t i = 0; i != path.len; ++i) {
        unsigned char c = path.base[i];
        if (c <= ' ' || c == 0x7f || c == '?' || c == '#') {
            snprintf(why, whylen, "uri contains %s",
                     c == '?'   ? "'?' (set querystring instead)"
                     : c == '#' ? "'#'"
                                : "whitespace or a control character");
            return -1;
        }
    }
    return 0;
}

int ef_event_check_header_value(h2o_iovec_t name, h2o_iovec_t value, char *why, size_t whylen)
{
    for (size_t i = 0; i != value.len; ++i) {
        if (value.base[i] == '\r' || value.base[i] == '\n' || value.base[i] == '\0') {
            snprintf(why, whylen, "the value of header \"%.*s\" contains a line break or NUL", (int)(name.len < 64 ? name.len : 64),
                     name.base);
            return -1;
        }
    }
    return 0;
}

void ef_event_add_param(h2o_mem_pool_t *pool, ef_event_params_t *params, h2o_iovec_t name, h2o_iovec_t value,
                        h2o_iovec_t attributes)
{
    h2o_vector_reserve(pool, params, params->size + 1);
    params->entries[params->size++] = (ef_event_param_t){name, {value, attributes}};
}

static h2o_iovec_t trim(h2o_iovec_t v)
{
    while (v.len != 0 && (v.base[0] == ' ' || v.base[0] == '\t'))
        ++v.base, --v.len;
    while (v.len != 0 && (v.base[v.len - 1] == ' ' || v.base[v.len - 1] == '\t'))
        --v.len;
    return v;
}

/* name=value, or name alone (value ""), trimmed of blanks when `trimmed` */
static void add_piece(h2o_mem_pool_t *pool, ef_event_params_t *params, h2o_iovec_t piece, h2o_iovec_t attributes, int trimmed)
{
    const char *eq = memchr(piece.base, '=', piece.len);
    h2o_iovec_t name = h2o_iovec_init(piece.base, eq != NULL ? (size_t)(eq - piece.base) : piece.len);
    h2o_iovec_t value = eq != NULL ? h2o_iovec_init(eq + 1, piece.base + piece.len - eq - 1) : h2o_iovec_init("", 0);

    if (trimmed) {
        name = trim(name);
        value = trim(value);
    }
    ef_event_add_param(pool, params, name, value, attributes);
}

void ef_event_parse_query(h2o_mem_pool_t *pool, h2o_iovec_t query, ef_event_params_t *params)
{
    const char *p = query.base, *end = query.base + query.len;

    while (p < end) {
        const char *amp = memchr(p, '&', end - p), *stop = amp != NULL ? amp : end;
        if (stop != p)
            add_piece(pool, params, h2o_iovec_init(p, stop - p), h2o_iovec_init(NULL, 0), 0);
        p = stop + 1;
    }
}

void ef_event_parse_cookies(h2o_mem_pool_t *pool, const h2o_headers_t *headers, ef_event_params_t *params)
{
    for (size_t i = 0; i != headers->size; ++i) {
        if (headers->entries[i].name != &H2O_TOKEN_COOKIE->buf)
            continue;
        h2o_iovec_t v = headers->entries[i].value;
        const char *p = v.base, *end = v.base + v.len;
        while (p < end) {
            const char *semi = memchr(p, ';', end - p), *stop = semi != NULL ? semi : end;
            h2o_iovec_t crumb = trim(h2o_iovec_init(p, stop - p));
            if (crumb.len != 0)
                add_piece(pool, params, crumb, h2o_iovec_init(NULL, 0), 1);
            p = stop + 1;
        }
    }
}

void ef_event_parse_set_cookies(h2o_mem_pool_t *pool, const h2o_headers_t *headers, ef_event_params_t *params)
{
    for (size_t i = 0; i != headers->size; ++i) {
        if (headers->entries[i].name != &H2O_TOKEN_SET_COOKIE->buf)
            continue;
        h2o_iovec_t v = headers->entries[i].value;
        const char *semi = memchr(v.base, ';', v.len);
        h2o_iovec_t first = h2o_iovec_init(v.base, semi != NULL ? (size_t)(semi - v.base) : v.len);
        h2o_iovec_t attributes = semi != NULL ? trim(h2o_iovec_init(semi + 1, v.base + v.len - semi - 1)) : h2o_iovec_init(NULL, 0);
        add_piece(pool, params, first, attributes, 1);
    }
}

h2o_iovec_t ef_event_join_params(h2o_mem_pool_t *pool, const ef_event_params_t *params, const char *sep)
{
    size_t len = 0, seplen = strlen(sep);

    for (size_t i = 0; i != params->size; ++i)
        len += params->entries[i].name.len + 1 + params->entries[i].item.value.len + seplen;
    char *buf = h2o_mem_alloc_pool(pool, len + 1), *p = buf;
    for (size_t i = 0; i != params->size; ++i) {
        if (i != 0) {
            memcpy(p, sep, seplen);
            p += seplen;
        }
        memcpy(p, params->entries[i].name.base, params->entries[i].name.len);
        p += params->entries[i].name.len;
        *p++ = '=';
        memcpy(p, params->entries[i].item.value.base, params->entries[i].item.value.len);
        p += params->entries[i].item.value.len;
    }
    return h2o_iovec_init(buf, p - buf);
}

const char *ef_event_status_reason(int status)
{
    static const struct {
        int status;
        const char *reason;
    } reasons[] = {{200, "OK"},
                   {201, "Created"},
                   {202, "Accepted"},
                   {203, "Non-Authoritative Information"},
                   {204, "No Content"},
                   {206, "Partial Content"},
                   {300, "Multiple Choices"},
                   {301, "Moved Permanently"},
                   {302, "Found"},
                   {303, "See Other"},
                   {304, "Not Modified"},
                   {307, "Temporary Redirect"},
                   {308, "Permanent Redirect"},
                   {400, "Bad Request"},
                   {401, "Unauthorized"},
                   {403, "Forbidden"},
                   {404, "Not Found"},
                   {405, "Method Not Allowed"},
                   {406, "Not Acceptable"},
                   {408, "Request Timeout"},
                   {409, "Conflict"},
                   {410, "Gone"},
                   {412, "Precondition Failed"},
                   {413, "Payload Too Large"},
                   {414, "URI Too Long"},
                   {415, "Unsupported Media Type"},
                   {416, "Range Not Satisfiable"},
                   {422, "Unprocessable Content"},
                   {429, "Too Many Requests"},
                   {500, "Internal Server Error"},
                   {501, "Not Implemented"},
                   {502, "Bad Gateway"},
                   {503, "Service Unavailable"},
                   {504, "Gateway Timeout"}};

    for (size_t i = 0; i != sizeof(reasons) / sizeof(reasons[0]); ++i)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "";
}

void ef_event_add_header(h2o_mem_pool_t *pool, h2o_headers_t *headers, h2o_iovec_t name, h2o_iovec_t value)
{
    const h2o_token_t *token = h2o_lookup_token(name.base, name.len);

    if (token != NULL)
        h2o_add_header(pool, headers, token, NULL, value.base, value.len);
    else
        h2o_add_header_by_str(pool, headers, name.base, name.len, 0, NULL, value.base, value.len);
}

void ef_event_delete_headers(h2o_headers_t *headers, h2o_iovec_t name)
{
    ssize_t i;

    while ((i = h2o_find_header_by_str(headers, name.base, name.len, -1)) != -1)
        h2o_delete_header(headers, i);
}

int ef_event_decode_base64(h2o_mem_pool_t *pool, h2o_iovec_t src, h2o_iovec_t *out)
{
    char *dst = h2o_mem_alloc_pool(pool, src.len / 4 * 3 + 3), *d = dst;
    uint32_t acc = 0;
    size_t n = 0, pad = 0;

    for (size_t i = 0; i != src.len; ++i) {
        unsigned char c = src.base[i];
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+' || c == '-')
            v = 62;
        else if (c == '/' || c == '_')
            v = 63;
        else if (c == '=') {
            ++pad;
            continue;
        } else if (c == '\r' || c == '\n') {
            continue;
        } else {
            return -1;
        }
        if (pad != 0)
            return -1; /* data after padding */
        acc = acc << 6 | v;
        if (++n % 4 == 0) {
            *d++ = acc >> 16;
            *d++ = acc >> 8;
            *d++ = acc;
        }
    }
    switch (n % 4) {
    case 1:
        return -1;
    case 2:
        *d++ = acc >> 4;
        break;
    case 3:
        *d++ = acc >> 10;
        *d++ = acc >> 2;
        break;
    }
    if (pad > 2 || (pad != 0 && (n + pad) % 4 != 0))
        return -1;
    *out = h2o_iovec_init(dst, d - dst);
    return 0;
}
