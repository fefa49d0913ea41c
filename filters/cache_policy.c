#include <stdlib.h>
#include <string.h>
#include "filters/cache_policy.h"
#include "functions/event.h"

#define MAX_DELTA_SECONDS 2147483648LL /* RFC 9111 1.2.2: a larger delta-seconds is taken as this */

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static h2o_iovec_t trim(const char *p, const char *end)
{
    while (p != end && is_space(*p))
        ++p;
    while (end != p && is_space(end[-1]))
        --end;
    return h2o_iovec_init(p, end - p);
}

/* delta-seconds: digits only; -1 for anything else */
static int64_t parse_delta(h2o_iovec_t s)
{
    int64_t v = 0;

    if (s.len >= 2 && s.base[0] == '"' && s.base[s.len - 1] == '"') /* tolerated, as by most caches */
        s = h2o_iovec_init(s.base + 1, s.len - 2);
    if (s.len == 0)
        return -1;
    for (size_t i = 0; i != s.len; ++i) {
        if (s.base[i] < '0' || s.base[i] > '9')
            return -1;
        if (v < MAX_DELTA_SECONDS)
            v = v * 10 + (s.base[i] - '0');
    }
    return v < MAX_DELTA_SECONDS ? v : MAX_DELTA_SECONDS;
}

static void apply_directive(ef_cache_control_t *cc, h2o_iovec_t name, h2o_iovec_t value)
{
#define IS(lit) h2o_lcstris(name.base, name.len, H2O_STRLIT(lit))
    if (IS("no-store"))
        cc->no_store = 1;
    else if (IS("no-cache"))
        cc->no_cache = 1;
    else if (IS("private"))
        cc->private_ = 1;
    else if (IS("public"))
        cc->public_ = 1;
    else if (IS("must-revalidate") || IS("proxy-revalidate"))
        cc->must_revalidate = 1;
    else if (IS("max-age"))
        cc->max_age = parse_delta(value);
    else if (IS("s-maxage"))
        cc->s_maxage = parse_delta(value);
#undef IS
}

void ef_cache_control_parse(const h2o_headers_t *headers, ef_cache_control_t *cc)
{
    ssize_t i = -1;

    *cc = (ef_cache_control_t){.max_age = -1, .s_maxage = -1};
    while ((i = h2o_find_header(headers, H2O_TOKEN_CACHE_CONTROL, i)) != -1) {
        const char *p = headers->entries[i].value.base, *end = p + headers->entries[i].value.len;
        while (p < end) {
            /* one directive: name[=value], where a quoted value may hold commas */
            const char *start = p, *eq = NULL;
            int quoted = 0;
            for (; p < end && (quoted || *p != ','); ++p) {
                if (*p == '"')
                    quoted = !quoted;
                else if (*p == '=' && eq == NULL && !quoted)
                    eq = p;
            }
            h2o_iovec_t name = trim(start, eq != NULL ? eq : p), value = eq != NULL ? trim(eq + 1, p) : h2o_iovec_init("", 0);
            if (name.len != 0)
                apply_directive(cc, name, value);
            if (p < end)
                ++p; /* the comma */
        }
    }
}

static int parse_http_date(h2o_iovec_t s, time_t *t)
{
    struct tm tm;

    if (h2o_time_parse_rfc1123(s.base, s.len, &tm) != 0)
        return -1;
    *t = timegm(&tm);
    return 0;
}

static h2o_iovec_t header_value(const h2o_headers_t *headers, const h2o_token_t *token)
{
    ssize_t i = h2o_find_header(headers, token, -1);
    return i != -1 ? headers->entries[i].value : h2o_iovec_init(NULL, 0);
}

/* statuses a cache may keep without explicit freshness (RFC 9110 15.1: "heuristically cacheable") */
static int heuristically_cacheable(int status)
{
    switch (status) {
    case 200:
    case 203:
    case 204:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
        return 1;
    }
    return 0;
}

void ef_cache_decide(const ef_conf_cache_policy_t *policy, h2o_iovec_t method, int status, const h2o_headers_t *headers,
                     int authorized, time_t now, ef_cache_decision_t *out)
{
    ef_cache_control_t cc;
    int64_t explicit = -1; /* seconds, from the origin */
    uint64_t ttl;

    *out = (ef_cache_decision_t){0};
    if (!policy->enabled) {
        out->reason = "the behavior has no cache policy";
        return;
    }
    if (!(h2o_memis(method.base, method.len, H2O_STRLIT("GET")) || h2o_memis(method.base, method.len, H2O_STRLIT("HEAD")))) {
        out->reason = "only GET and HEAD are cached";
        return;
    }
    ef_cache_control_parse(headers, &cc);
    if (cc.no_store || cc.private_) {
        /* as on CloudFront: a min-ttl above 0 overrides the origin */
        if (policy->min_ttl == 0) {
            out->reason = cc.no_store ? "Cache-Control: no-store" : "Cache-Control: private";
            return;
        }
        out->store = 1;
        out->ttl = policy->min_ttl;
        out->must_revalidate = cc.no_cache || cc.must_revalidate || cc.s_maxage >= 0;
        return;
    }
    if (authorized && !(cc.public_ || cc.s_maxage >= 0 || cc.must_revalidate)) {
        out->reason = "the request carried Authorization";
        return;
    }
    if (cc.s_maxage >= 0) {
        explicit = cc.s_maxage;
    } else if (cc.max_age >= 0) {
        explicit = cc.max_age;
    } else {
        h2o_iovec_t expires = header_value(headers, H2O_TOKEN_EXPIRES), date = header_value(headers, H2O_TOKEN_DATE);
        if (expires.base != NULL) {
            time_t e, d = now;
            if (parse_http_date(expires, &e) != 0)
                explicit = 0; /* RFC 9111 5.3: an invalid date is in the past */
            else {
                if (date.base != NULL)
                    parse_http_date(date, &d);
                explicit = e > d ? e - d : 0;
            }
        }
    }
    /* RFC 9111 3: any final status the origin gives a lifetime (an error too: CloudFront caches 5xx for a while) */
    if (status == 206 || !(heuristically_cacheable(status) || (explicit >= 0 && status >= 200))) {
        out->reason = "the status is not cacheable without explicit freshness";
        return;
    }
    ttl = explicit >= 0 ? (uint64_t) explicit * 1000 : policy->default_ttl;
    if (ttl < policy->min_ttl)
        ttl = policy->min_ttl;
    if (ttl > policy->max_ttl)
        ttl = policy->max_ttl;
    out->store = 1;
    out->ttl = ttl;
    out->revalidate = cc.no_cache;
    out->must_revalidate = cc.no_cache || cc.must_revalidate || cc.s_maxage >= 0;
}

/* a growing string in a pool */
typedef H2O_VECTOR(char) buf_t;

static void append(h2o_mem_pool_t *pool, buf_t *b, const char *s, size_t len)
{
    h2o_vector_reserve(pool, b, b->size + len + 1);
    if (len == 0)
        return; /* `s` may be NULL then */
    memcpy(b->entries + b->size, s, len);
    b->size += len;
}

#define APPEND_LIT(pool, b, lit) append(pool, b, H2O_STRLIT(lit))

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_iovec(h2o_iovec_t x, h2o_iovec_t y)
{
    int c = memcmp(x.base, y.base, x.len < y.len ? x.len : y.len);
    return c != 0 ? c : (x.len > y.len) - (x.len < y.len);
}

static int cmp_param(const void *a, const void *b)
{
    const ef_event_param_t *x = a, *y = b;
    int c = cmp_iovec(x->name, y->name);
    return c != 0 ? c : cmp_iovec(x->item.value, y->item.value);
}

static int listed(char **names, size_t num, h2o_iovec_t name)
{
    for (size_t i = 0; i != num; ++i)
        if (h2o_memis(names[i], strlen(names[i]), name.base, name.len))
            return 1;
    return 0;
}

/* `names`, sorted, in `pool` */
static char **sorted(h2o_mem_pool_t *pool, char **names, size_t num)
{
    char **copy = h2o_mem_alloc_pool(pool, sizeof(copy[0]) * (num + 1));
    memcpy(copy, names, sizeof(copy[0]) * num);
    qsort(copy, num, sizeof(copy[0]), cmp_str);
    return copy;
}

/* "prefix" name "=" values joined with "," "\n", for header `name` of `headers`, if present */
static void append_header(h2o_mem_pool_t *pool, buf_t *b, const char *prefix, const h2o_headers_t *headers, const char *name)
{
    size_t len = strlen(name), n = 0;
    ssize_t i = -1;

    while ((i = h2o_find_header_by_str(headers, name, len, i)) != -1) {
        if (n++ == 0) {
            append(pool, b, prefix, strlen(prefix));
            append(pool, b, name, len);
            APPEND_LIT(pool, b, "=");
        } else {
            APPEND_LIT(pool, b, ",");
        }
        append(pool, b, headers->entries[i].value.base, headers->entries[i].value.len);
    }
    if (n != 0)
        APPEND_LIT(pool, b, "\n");
}

h2o_iovec_t ef_cache_key(h2o_mem_pool_t *pool, const ef_conf_cache_policy_t *policy, h2o_iovec_t host, h2o_iovec_t path,
                         h2o_iovec_t query, const h2o_headers_t *headers)
{
    buf_t b = {NULL};
    size_t i;

    h2o_vector_reserve(pool, &b, host.len + path.len + query.len + 64);
    append(pool, &b, host.base, host.len);
    h2o_strtolower(b.entries, b.size);
    APPEND_LIT(pool, &b, "\n");
    append(pool, &b, path.base, path.len);

    if (policy->key.query != EF_CONF_KEY_QUERY_NONE && query.base != NULL && query.len != 0) {
        ef_event_params_t params = {NULL};
        size_t kept = 0;
        ef_event_parse_query(pool, query, &params);
        if (params.size > 1)
            qsort(params.entries, params.size, sizeof(params.entries[0]), cmp_param);
        for (i = 0; i != params.size; ++i) {
            ef_event_param_t *p = params.entries + i;
            if (policy->key.query == EF_CONF_KEY_QUERY_LIST &&
                !listed(policy->key.query_names, policy->key.num_query_names, p->name))
                continue;
            append(pool, &b, kept++ == 0 ? "?" : "&", 1);
            append(pool, &b, p->name.base, p->name.len);
            APPEND_LIT(pool, &b, "=");
            append(pool, &b, p->item.value.base, p->item.value.len);
        }
    }
    APPEND_LIT(pool, &b, "\n");

    if (policy->key.num_headers != 0) {
        char **names = sorted(pool, policy->key.headers, policy->key.num_headers);
        for (i = 0; i != policy->key.num_headers; ++i)
            append_header(pool, &b, "h:", headers, names[i]);
    }
    if (policy->key.num_cookies != 0) {
        char **names = sorted(pool, policy->key.cookies, policy->key.num_cookies);
        ef_event_params_t cookies = {NULL};
        ef_event_parse_cookies(pool, headers, &cookies);
        for (i = 0; i != policy->key.num_cookies; ++i) {
            for (size_t j = 0; j != cookies.size; ++j) {
                if (!h2o_memis(cookies.entries[j].name.base, cookies.entries[j].name.len, names[i], strlen(names[i])))
                    continue;
                APPEND_LIT(pool, &b, "c:");
                append(pool, &b, names[i], strlen(names[i]));
                APPEND_LIT(pool, &b, "=");
                append(pool, &b, cookies.entries[j].item.value.base, cookies.entries[j].item.value.len);
                APPEND_LIT(pool, &b, "\n");
                break;
            }
        }
    }
    return h2o_iovec_init(b.entries, b.size);
}

int ef_cache_vary_key(h2o_mem_pool_t *pool, const h2o_headers_t *response_headers, const h2o_headers_t *request_headers,
                      h2o_iovec_t *key)
{
    H2O_VECTOR(char *) names = {NULL};
    buf_t b = {NULL};
    ssize_t i = -1;

    while ((i = h2o_find_header(response_headers, H2O_TOKEN_VARY, i)) != -1) {
        const char *p = response_headers->entries[i].value.base, *end = p + response_headers->entries[i].value.len;
        while (p < end) {
            const char *comma = memchr(p, ',', end - p);
            h2o_iovec_t name = trim(p, comma != NULL ? comma : end);
            p = comma != NULL ? comma + 1 : end;
            if (name.len == 0)
                continue;
            if (name.len == 1 && name.base[0] == '*')
                return -1;
            char *lower = h2o_mem_alloc_pool(pool, name.len + 1);
            memcpy(lower, name.base, name.len);
            lower[name.len] = '\0';
            h2o_strtolower(lower, name.len);
            h2o_vector_reserve(pool, &names, names.size + 1);
            names.entries[names.size++] = lower;
        }
    }
    if (names.size > 1)
        qsort(names.entries, names.size, sizeof(names.entries[0]), cmp_str);
    for (size_t j = 0; j != names.size; ++j) {
        if (j != 0 && strcmp(names.entries[j], names.entries[j - 1]) == 0)
            continue;
        size_t before = b.size;
        append_header(pool, &b, "v:", request_headers, names.entries[j]);
        if (b.size == before) { /* absent is a value of its own, unlike empty */
            APPEND_LIT(pool, &b, "v:");
            append(pool, &b, names.entries[j], strlen(names.entries[j]));
            APPEND_LIT(pool, &b, "\n");
        }
    }
    *key = h2o_iovec_init(b.entries, b.size);
    return 0;
}

/* an entity tag without its weakness: W/"x" and "x" compare equal in If-None-Match */
static h2o_iovec_t opaque_tag(h2o_iovec_t tag)
{
    if (tag.len >= 2 && tag.base[0] == 'W' && tag.base[1] == '/')
        return h2o_iovec_init(tag.base + 2, tag.len - 2);
    return tag;
}

int ef_cache_not_modified(const h2o_headers_t *request_headers, h2o_iovec_t etag, h2o_iovec_t last_modified)
{
    h2o_iovec_t inm = header_value(request_headers, H2O_TOKEN_IF_NONE_MATCH),
                ims = header_value(request_headers, H2O_TOKEN_IF_MODIFIED_SINCE);

    if (inm.base != NULL) {
        /* it decides alone, If-Modified-Since or not (RFC 9110 13.1.3) */
        const char *p = inm.base, *end = p + inm.len;
        if (etag.len == 0)
            return 0;
        while (p < end) {
            const char *comma = memchr(p, ',', end - p);
            h2o_iovec_t tag = trim(p, comma != NULL ? comma : end);
            p = comma != NULL ? comma + 1 : end;
            if ((tag.len == 1 && tag.base[0] == '*') || cmp_iovec(opaque_tag(tag), opaque_tag(etag)) == 0)
                return 1;
        }
        return 0;
    }
    if (ims.base != NULL && last_modified.len != 0) {
        time_t since, modified;
        if (parse_http_date(ims, &since) == 0 && parse_http_date(last_modified, &modified) == 0)
            return modified <= since;
    }
    return 0;
}
