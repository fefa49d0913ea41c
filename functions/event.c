#include <stdio.h>
#include <string.h>
#include "functions/event.h"

int ef_event_header_allowed(ef_hook_t hook, h2o_iovec_t name, char *why, size_t whylen)
{
    static const h2o_iovec_t hop_by_hop[] = {{H2O_STRLIT("connection")}, {H2O_STRLIT("keep-alive")},
                                             {H2O_STRLIT("te")},         {H2O_STRLIT("trailer")},
                                             {H2O_STRLIT("transfer-encoding")}, {H2O_STRLIT("upgrade")}};
    size_t i;

    if (name.len == 0) {
        snprintf(why, whylen, "a header has an empty name");
        return 0;
    }
    for (i = 0; i != name.len; ++i) {
        /* RFC 9110 token characters, lower case as everywhere in events */
        char c = name.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c) != NULL)) {
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
    snprintf(why, whylen, "header \"%.*s\" is hop-by-hop and cannot be set by a %s function", (int)(name.len < 64 ? name.len : 64),
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
            snprintf(why, whylen, "uri contains %s", c == '?' ? "'?' (set querystring instead)" : c == '#' ? "'#'" : "whitespace or a control character");
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
