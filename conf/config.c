/*
 * The YAML half of edgefn's config: one libyaml document becomes one ef_conf_t.
 *
 * Every section of the file is declared as a table of keys (key, expected YAML node
 * kind, setter, offset into the C struct); walk_mapping() checks a mapping against
 * such a table and calls the setters. Adding a key means adding a row, and maybe a
 * setter. Errors are collected with their position and sorted at the end, so that
 * one run reports every problem in the order the file shows them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include "conf/config.h"
#include "conf/units.h"

#define STRUCT_FROM_MEMBER(s, m, p) ((s *)((char *)(p)-offsetof(s, m)))

/* room for a value quoted in a message; longer values are cut and end in "..." */
#define QUOTED_SIZE 512

#define MAX_PATH_PATTERN 255 /* CloudFront's limit */

#define MAX_FUNCTION_NAME 64 /* a function's name becomes a log file's name, and appears in every log line */

/* the most a Lua function may ask for, and how messages write it */
#define MAX_LUA_MEMORY (UINT64_C(1) << 30)
#define MAX_LUA_MEMORY_TEXT "1GB"
#define MAX_LUA_TIMEOUT (60 * 1000) /* ms */
#define MAX_LUA_TIMEOUT_TEXT "1m"

/* ... and a process function (nodejs, python, provided): Lambda's limits where it has them */
#define MIN_PROCESS_MEMORY (UINT64_C(128) << 20)
#define MAX_PROCESS_MEMORY (UINT64_C(10240) << 20)
#define PROCESS_MEMORY_RANGE_TEXT "128MB-10240MB"
#define MAX_PROCESS_TIMEOUT (15 * 60 * 1000) /* ms */
#define MAX_PROCESS_TIMEOUT_TEXT "15m"
#define MAX_RESERVED_CONCURRENCY 1000
#define MAX_QUEUE_TIMEOUT (60 * 1000) /* ms */
#define MAX_QUEUE_TIMEOUT_TEXT "1m"
#define MIN_IDLE_TIMEOUT 1000 /* ms */
#define MIN_IDLE_TIMEOUT_TEXT "1s"
#define MAX_IDLE_TIMEOUT (24 * 60 * 60 * 1000) /* ms */
#define MAX_IDLE_TIMEOUT_TEXT "24h"
#define MAX_BODY_LIMIT (UINT64_C(100) << 20)
#define MAX_BODY_LIMIT_TEXT "100MB"

/* the cache: the memory all behaviors share, and each behavior's policy (CloudFront's defaults and limits) */
#define DEFAULT_CACHE_MEMORY (UINT64_C(256) << 20)
#define DEFAULT_CACHE_MAX_OBJECT_SIZE (UINT64_C(10) << 20)
#define MIN_CACHE_MEMORY (UINT64_C(1) << 20)
#define MAX_CACHE_MEMORY (UINT64_C(64) << 30)
#define CACHE_MEMORY_RANGE_TEXT "1MB-64GB"
#define MIN_MAX_OBJECT_SIZE (UINT64_C(1) << 10)
#define MAX_OBJECT_SIZE_RANGE_TEXT "1KB-64GB"
#define DEFAULT_CACHE_TTL (UINT64_C(24) * 60 * 60 * 1000)           /* ms */
#define DEFAULT_CACHE_MAX_TTL (UINT64_C(365) * 24 * 60 * 60 * 1000) /* ms */
#define MAX_CACHE_TTL (UINT64_C(36500) * 24 * 60 * 60 * 1000)       /* ms; about a century, so that now + ttl cannot overflow */
#define MAX_CACHE_TTL_TEXT "36500d"
#define MAX_CACHE_KEY_NAMES 10 /* query strings, headers and cookies, each, in a cache policy */

const char *const ef_hook_names[EF_NUM_HOOKS] = {"viewer-request", "origin-request", "origin-response", "viewer-response"};

static void *xmalloc(size_t size)
{
    void *p = malloc(size);
    if (p == NULL)
        abort();
    return p;
}

static void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count, size);
    if (p == NULL)
        abort();
    return p;
}

static void *xrealloc(void *p, size_t size)
{
    if ((p = realloc(p, size)) == NULL)
        abort();
    return p;
}

static char *xstrndup(const char *s, size_t len)
{
    char *d = xmalloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

static char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

static char *xvsprintf(const char *fmt, va_list ap)
{
    va_list copy;
    int len;
    char *s;

    va_copy(copy, ap);
    len = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (len < 0)
        abort();
    s = xmalloc(len + 1);
    vsnprintf(s, len + 1, fmt, ap);
    return s;
}

static char *xsprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xsprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = xvsprintf(fmt, ap);
    va_end(ap);
    return s;
}

/* Makes room for one more entry in a vector of `elem`-sized entries. */
static void *reserve(void *entries, size_t *capacity, size_t size, size_t elem)
{
    if (size < *capacity)
        return entries;
    *capacity = *capacity == 0 ? 8 : *capacity * 2;
    return xrealloc(entries, *capacity * elem);
}

/* ---- errors ---- */

struct st_error {
    ef_conf_pos_t pos;
    size_t seq; /* keeps errors at one position in the order they were found */
    char *text;
};

/* a behavior's origin, looked up once every origin is known (origins: may come later) */
struct st_pending_origin {
    ef_conf_origin_t **slot;
    yaml_node_t *name;
};

/* a behavior's function at one hook, looked up likewise (functions: may come later too) */
struct st_pending_function {
    ef_conf_function_t **slot; /* in some behavior's functions[] */
    yaml_node_t *name;
};

struct st_parser {
    ef_conf_t *conf;
    yaml_document_t doc;
    struct {
        struct st_error *entries;
        size_t size, capacity;
    } errors;
    struct {
        struct st_pending_origin *entries;
        size_t size, capacity;
    } pending;
    struct {
        struct st_pending_function *entries;
        size_t size, capacity;
    } pending_functions;
    yaml_node_t *behaviors; /* the behaviors: sequence, to name a behavior in a late error */
    yaml_node_t *admin_listen;
};

static void append_error(ef_conf_errors_t *errors, char *text)
{
    errors->entries = reserve(errors->entries, &errors->capacity, errors->size, sizeof(errors->entries[0]));
    errors->entries[errors->size++] = text;
}

static char *format_error(const ef_conf_t *conf, ef_conf_pos_t pos, const char *fmt, va_list ap)
{
    char *message = xvsprintf(fmt, ap);
    char *text = xsprintf("%s:%u:%u: %s", conf->file != NULL ? conf->file : "(config)", pos.line, pos.column, message);
    free(message);
    return text;
}

static void report(struct st_parser *p, ef_conf_pos_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(struct st_parser *p, ef_conf_pos_t pos, const char *fmt, ...)
{
    struct st_error *e;
    va_list ap;

    p->errors.entries = reserve(p->errors.entries, &p->errors.capacity, p->errors.size, sizeof(p->errors.entries[0]));
    e = p->errors.entries + p->errors.size;
    e->pos = pos;
    e->seq = p->errors.size++;
    va_start(ap, fmt);
    e->text = format_error(p->conf, pos, fmt, ap);
    va_end(ap);
}

static int compare_errors(const void *_a, const void *_b)
{
    const struct st_error *a = _a, *b = _b;

    if (a->pos.line != b->pos.line)
        return a->pos.line < b->pos.line ? -1 : 1;
    if (a->pos.column != b->pos.column)
        return a->pos.column < b->pos.column ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Hands the errors over to the caller, ordered by position. */
static void flush_errors(struct st_parser *p, ef_conf_errors_t *errors)
{
    size_t i;

    if (p->errors.size == 0)
        return;
    qsort(p->errors.entries, p->errors.size, sizeof(p->errors.entries[0]), compare_errors);
    for (i = 0; i != p->errors.size; ++i)
        append_error(errors, p->errors.entries[i].text);
    free(p->errors.entries);
    p->errors.entries = NULL;
}

/* ---- nodes, and how messages show them ---- */

static ef_conf_pos_t pos_of(const yaml_node_t *node)
{
    return (ef_conf_pos_t){(unsigned)node->start_mark.line + 1, (unsigned)node->start_mark.column + 1};
}

static yaml_node_t *node_at(struct st_parser *p, int index)
{
    return yaml_document_get_node(&p->doc, index);
}

static const char *scalar_of(const yaml_node_t *node)
{
    return (const char *)node->data.scalar.value;
}

static int is_one_of(const char *s, const char *const *words)
{
    for (; *words != NULL; ++words)
        if (strcmp(s, *words) == 0)
            return 1;
    return 0;
}

static size_t count_items(const yaml_node_t *node)
{
    switch (node->type) {
    case YAML_SEQUENCE_NODE:
        return node->data.sequence.items.top - node->data.sequence.items.start;
    case YAML_MAPPING_NODE:
        return node->data.mapping.pairs.top - node->data.mapping.pairs.start;
    default:
        return 0;
    }
}

/* Writes `s` in double quotes into `buf` (QUOTED_SIZE bytes), escaped so that a message stays one line. */
static const char *quote(char *buf, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, max = QUOTED_SIZE - sizeof("...\"");

    buf[o++] = '"';
    for (; *s != '\0'; ++s) {
        unsigned char c = *s;
        char esc[4];
        size_t n = 0;
        if (c == '"' || c == '\\') {
            esc[n++] = '\\';
            esc[n++] = c;
        } else if (c == '\n') {
            esc[n++] = '\\';
            esc[n++] = 'n';
        } else if (c == '\t') {
            esc[n++] = '\\';
            esc[n++] = 't';
        } else if (c < 0x20 || c == 0x7f) {
            esc[n++] = '\\';
            esc[n++] = 'x';
            esc[n++] = hex[c >> 4];
            esc[n++] = hex[c & 15];
        } else {
            esc[n++] = c;
        }
        if (o + n > max) {
            /* never leave half a UTF-8 character before the "..." */
            if ((c & 0xc0) == 0x80) {
                while (o > 1 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
                    --o;
                if (o > 1 && (unsigned char)buf[o - 1] >= 0xc0)
                    --o;
            }
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(buf + o, esc, n);
        o += n;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

/* What a message says was found: "a mapping", "an empty value", "\"yes\"", ... */
static const char *describe(char *buf, const yaml_node_t *node)
{
    switch (node->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a sequence";
    case YAML_SCALAR_NODE:
        return node->data.scalar.length == 0 ? "an empty value" : quote(buf, scalar_of(node));
    default:
        return "nothing";
    }
}

static const char *kind_name(yaml_node_type_t kind)
{
    switch (kind) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a sequence";
    default:
        return "a scalar";
    }
}

/* What YAML reads as null. A null where a collection is expected counts as an empty one. */
static int is_null(const yaml_node_t *node)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};

    return node->type == YAML_SCALAR_NODE && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           is_one_of(scalar_of(node), nulls);
}

static int kind_matches(yaml_node_type_t kind, const yaml_node_t *node)
{
    return node->type == kind || (kind != YAML_SCALAR_NODE && is_null(node));
}

/* The first key of `mapping` before `pair` that is equal to its key, or NULL. */
static yaml_node_t *earlier_key(struct st_parser *p, const yaml_node_t *mapping, const yaml_node_pair_t *pair)
{
    yaml_node_t *key = node_at(p, pair->key);
    const yaml_node_pair_t *other;

    for (other = mapping->data.mapping.pairs.start; other != pair; ++other) {
        yaml_node_t *k = node_at(p, other->key);
        if (k->type == YAML_SCALAR_NODE && k->data.scalar.length == key->data.scalar.length &&
            memcmp(k->data.scalar.value, key->data.scalar.value, key->data.scalar.length) == 0)
            return k;
    }
    return NULL;
}

/* The first pair of `mapping` whose key is `name` (the one walk_mapping reads), or NULL. */
static yaml_node_pair_t *pair_named(struct st_parser *p, const yaml_node_t *mapping, const char *name)
{
    yaml_node_pair_t *pair;

    if (mapping == NULL || mapping->type != YAML_MAPPING_NODE)
        return NULL;
    for (pair = mapping->data.mapping.pairs.start; pair != mapping->data.mapping.pairs.top; ++pair) {
        yaml_node_t *key = node_at(p, pair->key);
        if (key->type == YAML_SCALAR_NODE && strcmp(scalar_of(key), name) == 0)
            return pair;
    }
    return NULL;
}

static yaml_node_t *value_named(struct st_parser *p, const yaml_node_t *mapping, const char *name)
{
    yaml_node_pair_t *pair = pair_named(p, mapping, name);

    return pair != NULL ? node_at(p, pair->value) : NULL;
}

static yaml_node_t *key_named(struct st_parser *p, const yaml_node_t *mapping, const char *name)
{
    yaml_node_pair_t *pair = pair_named(p, mapping, name);

    return pair != NULL ? node_at(p, pair->key) : NULL;
}

/* ---- numbers, addresses and paths ---- */

/* Strictly decimal digits, at least one. Saturates at UINT64_MAX, which any range check then rejects. */
static int parse_decimal(const char *s, size_t len, uint64_t *value)
{
    size_t i;

    if (len == 0)
        return -1;
    *value = 0;
    for (i = 0; i != len; ++i) {
        unsigned digit = (unsigned char)s[i] - '0';
        if (digit > 9)
            return -1;
        *value = *value > (UINT64_MAX - digit) / 10 ? UINT64_MAX : *value * 10 + digit;
    }
    return 0;
}

struct st_address {
    int family;
    unsigned char bytes[16];
};

static int parse_address(const char *s, size_t len, struct st_address *addr)
{
    char buf[INET6_ADDRSTRLEN + 1];

    memset(addr, 0, sizeof(*addr));
    if (len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, addr->bytes) == 1) {
        addr->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, addr->bytes) == 1) {
        addr->family = AF_INET6;
        return 0;
    }
    return -1;
}

static int same_endpoint(const char *a, uint16_t a_port, const char *b, uint16_t b_port)
{
    struct st_address x, y;

    return a != NULL && b != NULL && a_port == b_port && parse_address(a, strlen(a), &x) == 0 &&
           parse_address(b, strlen(b), &y) == 0 && memcmp(&x, &y, sizeof(x)) == 0;
}

/* "0.0.0.0:8080" or "[::1]:8080", as messages show a listener */
static const char *format_endpoint(char *buf, size_t size, const char *address, uint16_t port)
{
    snprintf(buf, size, strchr(address, ':') != NULL ? "[%s]:%u" : "%s:%u", address, port);
    return buf;
}

/* Parses "PORT", "ADDRESS:PORT" or "[IPV6]:PORT"; `name` starts the messages. */
static int parse_endpoint(struct st_parser *p, const char *name, yaml_node_t *node, const char *default_address, char **address,
                          uint16_t *port)
{
    const char *s = scalar_of(node), *addr = default_address, *port_str = s, *colon;
    size_t addr_len = strlen(default_address);
    struct st_address parsed;
    char buf[QUOTED_SIZE];
    uint64_t value;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':')
            goto Malformed;
        addr = s + 1;
        addr_len = close - addr;
        port_str = close + 2;
        if (parse_address(addr, addr_len, &parsed) != 0 || parsed.family != AF_INET6) {
            char *a = xstrndup(addr, addr_len);
            report(p, pos_of(node), "%s: expected a numeric IPv6 address in brackets, found %s", name, quote(buf, a));
            free(a);
            return -1;
        }
    } else if ((colon = strrchr(s, ':')) != NULL) {
        if (strchr(s, ':') != colon) {
            report(p, pos_of(node), "%s: an IPv6 address must be in brackets, like \"[::1]:8080\", found %s", name, quote(buf, s));
            return -1;
        }
        addr = s;
        addr_len = colon - s;
        port_str = colon + 1;
        if (parse_address(addr, addr_len, &parsed) != 0) {
            char *a = xstrndup(addr, addr_len);
            report(p, pos_of(node), "%s: expected a numeric IPv4 or IPv6 address, found %s", name, quote(buf, a));
            free(a);
            return -1;
        }
    }
    if (parse_decimal(port_str, strlen(port_str), &value) != 0)
        goto Malformed;
    if (value < 1 || value > 65535) {
        report(p, pos_of(node), "%s: port %s is out of range (1-65535)", name, port_str);
        return -1;
    }
    free(*address);
    *address = xstrndup(addr, addr_len);
    *port = (uint16_t)value;
    return 0;

Malformed:
    report(p, pos_of(node), "%s: expected \"PORT\", \"ADDRESS:PORT\" or \"[IPV6]:PORT\", found %s", name, describe(buf, node));
    return -1;
}

/* Joins and normalises lexically: "." and empty components go, ".." removes the one before. */
static char *join_path(const char *dir, const char *path)
{
    char *joined = path[0] == '/' ? xstrdup(path) : xsprintf("%s/%s", dir, path), *out = xmalloc(strlen(joined) + 2);
    const char *s = joined;
    size_t o = 0;

    while (*s != '\0') {
        size_t len;
        while (*s == '/')
            ++s;
        len = strcspn(s, "/");
        if (len == 0 || (len == 1 && s[0] == '.')) {
            /* nothing */
        } else if (len == 2 && s[0] == '.' && s[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                --o;
            if (o > 0)
                --o;
        } else {
            out[o++] = '/';
            memcpy(out + o, s, len);
            o += len;
        }
        s += len;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    free(joined);
    return out;
}

/* ---- setters: each parses one scalar into the field it is given ---- */

typedef int (*setter_t)(struct st_parser *p, const char *name, yaml_node_t *node, void *field);

/* `alt` names what else the value may be, e.g. "\"auto\" or ". */
static int parse_integer(struct st_parser *p, const char *name, yaml_node_t *node, uint64_t min, uint64_t max, const char *alt,
                         uint64_t *value)
{
    const char *s = scalar_of(node);
    char buf[QUOTED_SIZE];

    if (parse_decimal(s, strlen(s), value) != 0) {
        report(p, pos_of(node), "%s: expected %san integer %" PRIu64 "-%" PRIu64 ", found %s", name, alt, min, max,
               describe(buf, node));
        return -1;
    }
    if (*value < min || *value > max) {
        report(p, pos_of(node), "%s: %s is out of range (%" PRIu64 "-%" PRIu64 ")", name, s, min, max);
        return -1;
    }
    return 0;
}

static int set_threads(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    uint64_t n;

    if (strcmp(scalar_of(node), "auto") == 0) {
        *(unsigned *)field = 0;
        return 0;
    }
    if (parse_integer(p, name, node, 1, 256, "\"auto\" or ", &n) != 0)
        return -1;
    *(unsigned *)field = (unsigned)n;
    return 0;
}

static int set_port(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    uint64_t n;

    if (parse_integer(p, name, node, 1, 65535, "", &n) != 0)
        return -1;
    *(uint16_t *)field = (uint16_t)n;
    return 0;
}

static int set_keepalive_connections(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    uint64_t n;

    if (parse_integer(p, name, node, 0, 100000, "", &n) != 0)
        return -1;
    *(unsigned *)field = (unsigned)n;
    return 0;
}

/* 1 or 0 for the scalar's truth, -1 when it is neither */
static int bool_of(const yaml_node_t *node)
{
    /* YAML 1.1's words, which is what libyaml users write */
    static const char *const truths[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", NULL};
    static const char *const falsehoods[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", NULL};

    if (node->type != YAML_SCALAR_NODE)
        return -1;
    if (is_one_of(scalar_of(node), truths))
        return 1;
    if (is_one_of(scalar_of(node), falsehoods))
        return 0;
    return -1;
}

static int set_bool(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    char buf[QUOTED_SIZE];
    int value;

    if ((value = bool_of(node)) == -1) {
        report(p, pos_of(node), "%s: expected true or false, found %s", name, describe(buf, node));
        return -1;
    }
    *(int *)field = value;
    return 0;
}

static int parse_duration(struct st_parser *p, const char *name, yaml_node_t *node, int positive, uint64_t *ms)
{
    char buf[QUOTED_SIZE];
    const char *why;

    if (ef_parse_duration(scalar_of(node), ms, &why) != 0) {
        report(p, pos_of(node), "%s: invalid duration %s: %s", name, quote(buf, scalar_of(node)), why);
        return -1;
    }
    if (positive && *ms == 0) {
        report(p, pos_of(node), "%s: must be greater than 0, found %s", name, quote(buf, scalar_of(node)));
        return -1;
    }
    return 0;
}

static int set_duration(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    return parse_duration(p, name, node, 0, field);
}

static int set_positive_duration(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    return parse_duration(p, name, node, 1, field);
}

static int parse_positive_size(struct st_parser *p, const char *name, yaml_node_t *node, uint64_t *bytes)
{
    char buf[QUOTED_SIZE];
    const char *why;

    if (ef_parse_size(scalar_of(node), bytes, &why) != 0) {
        report(p, pos_of(node), "%s: invalid size %s: %s", name, quote(buf, scalar_of(node)), why);
        return -1;
    }
    if (*bytes == 0) {
        report(p, pos_of(node), "%s: must be greater than 0, found %s", name, quote(buf, scalar_of(node)));
        return -1;
    }
    return 0;
}

static int set_positive_size(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    uint64_t bytes;

    if (parse_positive_size(p, name, node, &bytes) != 0)
        return -1;
    *(uint64_t *)field = bytes;
    return 0;
}

/*
 * memory: and timeout: of a function. What range applies depends on the runtime, which may come later in the mapping, so these
 * check the form only and resolve_function checks the range. A zero is never stored: it means "not given (or invalid)".
 */
static int set_function_memory(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    return set_positive_size(p, name, node, field);
}

static int set_function_timeout(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    return parse_duration(p, name, node, 1, field);
}

/* queue-timeout: 0 (fail at once, the default) to MAX_QUEUE_TIMEOUT */
static int set_queue_timeout(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    char buf[QUOTED_SIZE];
    uint64_t ms;

    if (parse_duration(p, name, node, 0, &ms) != 0)
        return -1;
    if (ms > MAX_QUEUE_TIMEOUT) {
        report(p, pos_of(node), "%s: must be at most " MAX_QUEUE_TIMEOUT_TEXT ", found %s", name, quote(buf, scalar_of(node)));
        return -1;
    }
    *(uint64_t *)field = ms;
    return 0;
}

static int set_idle_timeout(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    char buf[QUOTED_SIZE];
    uint64_t ms;

    if (parse_duration(p, name, node, 0, &ms) != 0)
        return -1;
    if (ms < MIN_IDLE_TIMEOUT || ms > MAX_IDLE_TIMEOUT) {
        report(p, pos_of(node), "%s: must be " MIN_IDLE_TIMEOUT_TEXT "-" MAX_IDLE_TIMEOUT_TEXT ", found %s", name,
               quote(buf, scalar_of(node)));
        return -1;
    }
    *(uint64_t *)field = ms;
    return 0;
}

static int set_body_limit(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    char buf[QUOTED_SIZE];
    uint64_t bytes;

    if (parse_positive_size(p, name, node, &bytes) != 0)
        return -1;
    if (bytes > MAX_BODY_LIMIT) {
        report(p, pos_of(node), "%s: must be at most " MAX_BODY_LIMIT_TEXT ", found %s", name, quote(buf, scalar_of(node)));
        return -1;
    }
    *(uint64_t *)field = bytes;
    return 0;
}

static int set_address(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    const char *s = scalar_of(node);
    struct st_address addr;
    char buf[QUOTED_SIZE];

    free(*(char **)field);
    *(char **)field = NULL; /* not the default either, or the listener would look like another one */
    if (parse_address(s, strlen(s), &addr) != 0) {
        report(p, pos_of(node),
               s[0] == '[' ? "%s: expected an IPv6 address without brackets, found %s"
                           : "%s: expected a numeric IPv4 or IPv6 address, found %s",
               name, describe(buf, node));
        return -1;
    }
    *(char **)field = xstrdup(s);
    return 0;
}

/* A path that must name a readable file: a certificate, a key, a token. */
static int set_readable_file(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    char buf[QUOTED_SIZE], *path;
    struct stat st;
    int fd, ret = -1;

    if (node->data.scalar.length == 0) {
        report(p, pos_of(node), "%s: expected a file path, found an empty value", name);
        return -1;
    }
    path = join_path(p->conf->dir, scalar_of(node));
    /* O_NONBLOCK: a FIFO given by mistake must not hang the check */
    if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
        report(p, pos_of(node), "%s: cannot read %s: %s", name, quote(buf, path), strerror(errno));
        goto Exit;
    }
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        report(p, pos_of(node), "%s: cannot read %s: %s", name, quote(buf, path), strerror(EISDIR));
        goto Exit;
    }
    free(*(char **)field);
    *(char **)field = path;
    path = NULL;
    ret = 0;
Exit:
    if (fd != -1)
        close(fd);
    free(path);
    return ret;
}

static int set_directory(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    char buf[QUOTED_SIZE], *path;
    int fd;

    if (node->data.scalar.length == 0) {
        report(p, pos_of(node), "%s: expected a directory path, found an empty value", name);
        return -1;
    }
    path = join_path(p->conf->dir, scalar_of(node));
    if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
        report(p, pos_of(node), "%s: cannot read %s: %s", name, quote(buf, path), strerror(errno));
        free(path);
        return -1;
    }
    close(fd);
    free(*(char **)field);
    *(char **)field = path;
    return 0;
}

/*
 * What a log destination shares: "stderr" and "off" (stored in *kind; returns 1), an
 * empty value (reported; -1), or a path of the kind `what` that the caller reads (0).
 */
static int parse_log_kind(struct st_parser *p, const char *name, yaml_node_t *node, ef_conf_log_kind_t *kind, const char *what)
{
    const char *s = scalar_of(node);

    if (strcmp(s, "stderr") == 0) {
        *kind = EF_CONF_LOG_STDERR;
        return 1;
    }
    if (strcmp(s, "off") == 0) {
        *kind = EF_CONF_LOG_OFF;
        return 1;
    }
    if (node->data.scalar.length == 0) {
        report(p, pos_of(node), "%s: expected \"stderr\", \"off\" or a %s path, found an empty value", name, what);
        return -1;
    }
    return 0;
}

static int set_access_log(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_t *conf = p->conf;
    const char *s = scalar_of(node);
    char buf[QUOTED_SIZE], *path = NULL, *dir = NULL;
    struct stat st;
    int fd, ret = -1;

    free(conf->access_log.path);
    conf->access_log.path = NULL;
    switch (parse_log_kind(p, name, node, &conf->access_log.kind, "file")) {
    case 1:
        return 0;
    case -1:
        return -1;
    }
    path = join_path(conf->dir, s);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        report(p, pos_of(node), "%s: %s is a directory; expected a file path", name, quote(buf, path));
        goto Exit;
    }
    /* the server creates the file; what can be checked now is that it has somewhere to go */
    dir = join_path(path, "..");
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
        report(p, pos_of(node), "%s: cannot use directory %s: %s", name, quote(buf, dir), strerror(errno));
        goto Exit;
    }
    close(fd);
    conf->access_log.kind = EF_CONF_LOG_FILE;
    conf->access_log.path = path;
    path = NULL;
    ret = 0;
Exit:
    free(path);
    free(dir);
    return ret;
}

struct st_url {
    const char *host;
    size_t host_len;
    int is_ipv6;
    uint16_t port;
    const char *prefix;
    size_t prefix_len;
};

/* http://HOST[:PORT][/PATH]; on failure `*why` says what is wrong. */
static int parse_url(const char *s, struct st_url *url, const char **why)
{
    const char *authority, *end, *colon, *c;
    uint64_t port = 80;

    if (strncasecmp(s, "http://", 7) != 0) {
        *why = "expected http://HOST[:PORT][/PATH]";
        return -1;
    }
    authority = s + 7;
    end = authority + strcspn(authority, "/?#");
    if (memchr(authority, '@', end - authority) != NULL) {
        *why = "user info (user@host) is not allowed";
        return -1;
    }
    if (authority[0] == '[') {
        struct st_address addr;
        const char *close = memchr(authority, ']', end - authority);
        if (close == NULL) {
            *why = "missing \"]\" after the IPv6 address";
            return -1;
        }
        url->host = authority + 1;
        url->host_len = close - url->host;
        url->is_ipv6 = 1;
        if (parse_address(url->host, url->host_len, &addr) != 0 || addr.family != AF_INET6) {
            *why = "invalid IPv6 address in brackets";
            return -1;
        }
        colon = close + 1;
        if (colon != end && *colon != ':') {
            *why = "expected \":PORT\" or a path after the IPv6 address";
            return -1;
        }
    } else {
        if ((colon = memchr(authority, ':', end - authority)) == NULL)
            colon = end;
        if (colon != end && memchr(colon + 1, ':', end - colon - 1) != NULL) {
            *why = "an IPv6 host must be in brackets, like http://[::1]:8080";
            return -1;
        }
        url->host = authority;
        url->host_len = colon - authority;
        url->is_ipv6 = 0;
        if (url->host_len == 0) {
            *why = "missing host";
            return -1;
        }
        for (c = url->host; c != colon; ++c) {
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' ||
                  *c == '_')) {
                *why = "invalid host name";
                return -1;
            }
        }
    }
    if (colon != end) {
        if (parse_decimal(colon + 1, end - colon - 1, &port) != 0) {
            *why = "expected a port number after \":\"";
            return -1;
        }
        if (port < 1 || port > 65535) {
            *why = "the port is out of range (1-65535)";
            return -1;
        }
    }
    url->port = (uint16_t)port;

    url->prefix = end;
    url->prefix_len = strcspn(end, "?#");
    if (end[url->prefix_len] == '?') {
        *why = "a query string is not allowed";
        return -1;
    }
    if (end[url->prefix_len] == '#') {
        *why = "a fragment is not allowed";
        return -1;
    }
    for (c = url->prefix; c != url->prefix + url->prefix_len; ++c) {
        if ((unsigned char)*c <= ' ' || *c == 0x7f) {
            *why = "the path contains whitespace or control characters";
            return -1;
        }
    }
    while (url->prefix_len != 0 && url->prefix[url->prefix_len - 1] == '/')
        --url->prefix_len;
    return 0;
}

static int set_url(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_origin_t *origin = STRUCT_FROM_MEMBER(ef_conf_origin_t, url, field);
    const char *s = scalar_of(node), *why;
    char buf[QUOTED_SIZE], *host;
    struct st_url url;

    if (node->data.scalar.length == 0) {
        report(p, pos_of(node), "%s: expected an http:// url, found an empty value", name);
        return -1;
    }
    if (strncasecmp(s, "https://", 8) == 0) {
        report(p, pos_of(node), "%s: https origins are not supported yet (only http://), found %s", name, quote(buf, s));
        return -1;
    }
    if (parse_url(s, &url, &why) != 0) {
        report(p, pos_of(node), "%s: invalid url %s: %s", name, quote(buf, s), why);
        return -1;
    }
    free(origin->url.raw);
    free(origin->url.host);
    free(origin->url.authority);
    free(origin->url.prefix);
    origin->url.raw = xstrdup(s);
    origin->url.host = host = xstrndup(url.host, url.host_len);
    origin->url.port = url.port;
    if (url.port == 80)
        origin->url.authority = xsprintf(url.is_ipv6 ? "[%s]" : "%s", host);
    else
        origin->url.authority = xsprintf(url.is_ipv6 ? "[%s]:%u" : "%s:%u", host, url.port);
    origin->url.prefix = xstrndup(url.prefix, url.prefix_len);
    return 0;
}

static size_t count_characters(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; ++s)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static int set_path_pattern(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    const char *s = scalar_of(node), *c;
    char buf[QUOTED_SIZE];
    size_t len;

    if (node->data.scalar.length == 0) {
        report(p, pos_of(node), "%s: expected a path pattern like /images/*, found an empty value", name);
        return -1;
    }
    if ((len = count_characters(s)) > MAX_PATH_PATTERN) {
        report(p, pos_of(node), "%s: the pattern is %zu characters long; the maximum is %d", name, len, MAX_PATH_PATTERN);
        return -1;
    }
    for (c = s; *c != '\0'; ++c) {
        if ((unsigned char)*c <= ' ' || *c == 0x7f) {
            report(p, pos_of(node), "%s: %s contains whitespace or control characters", name, quote(buf, s));
            return -1;
        }
    }
    free(*(char **)field);
    /* as CloudFront does, a pattern without a leading slash means one with it */
    *(char **)field = s[0] == '/' || s[0] == '*' ? xstrdup(s) : xsprintf("/%s", s);
    return 0;
}

static int set_behavior_origin(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    struct st_pending_origin *pending;

    if (node->data.scalar.length == 0) {
        report(p, pos_of(node), "%s: expected an origin name, found an empty value", name);
        return -1;
    }
    p->pending.entries = reserve(p->pending.entries, &p->pending.capacity, p->pending.size, sizeof(p->pending.entries[0]));
    pending = p->pending.entries + p->pending.size++;
    pending->slot = field;
    pending->name = node;
    return 0;
}

/* viewer-request: and the other hooks of a behavior */
static int set_behavior_function(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    struct st_pending_function *pending;

    if (node->data.scalar.length == 0) {
        report(p, pos_of(node), "%s: expected a function name, found an empty value", name);
        return -1;
    }
    p->pending_functions.entries = reserve(p->pending_functions.entries, &p->pending_functions.capacity, p->pending_functions.size,
                                           sizeof(p->pending_functions.entries[0]));
    pending = p->pending_functions.entries + p->pending_functions.size++;
    pending->slot = field;
    pending->name = node;
    return 0;
}

struct st_runtime {
    const char *name;
    ef_conf_runtime_t runtime;
    const char *prefix; /* of values that mean this runtime, like Lambda's "nodejs20.x", which get `hint` */
    const char *hint;
};

static const struct st_runtime runtimes[] = {
    {"lua", EF_CONF_RUNTIME_LUA},
    {"nodejs", EF_CONF_RUNTIME_NODEJS, "node", "write \"nodejs\": edgefn runs this machine's node, whatever its version"},
    {"python", EF_CONF_RUNTIME_PYTHON, "python", "write \"python\": edgefn runs this machine's python3, whatever its version"},
    {"provided", EF_CONF_RUNTIME_PROVIDED, "provided", "write \"provided\": edgefn runs the function's own bootstrap"},
    {NULL}};

static const struct st_runtime *find_runtime(const char *name)
{
    const struct st_runtime *r;

    for (r = runtimes; r->name != NULL; ++r)
        if (strcmp(r->name, name) == 0)
            return r;
    return NULL;
}

const char *ef_conf_runtime_name(ef_conf_runtime_t runtime)
{
    const struct st_runtime *r;

    for (r = runtimes; r->name != NULL; ++r)
        if (r->runtime == runtime)
            return r->name;
    return "?";
}

static int set_runtime(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    const struct st_runtime *r = find_runtime(scalar_of(node));
    const char *hint = "";
    char buf[QUOTED_SIZE];

    if (r == NULL) {
        /* "node" and Lambda's identifiers ("nodejs20.x", "python3.12", "provided.al2023") */
        for (r = runtimes; r->name != NULL; ++r)
            if (r->prefix != NULL && strncasecmp(scalar_of(node), r->prefix, strlen(r->prefix)) == 0)
                hint = r->hint;
        report(p, pos_of(node), "%s: expected \"lua\", \"nodejs\", \"python\" or \"provided\", found %s%s%s", name,
               describe(buf, node), *hint != '\0' ? "; " : "", hint);
        return -1;
    }
    *(ef_conf_runtime_t *)field = r->runtime;
    return 0;
}

/* code: a file, whose directory then holds the modules it requires, or a directory of modules */
static int set_code(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_function_t *fn = STRUCT_FROM_MEMBER(ef_conf_function_t, code, field);
    char buf[QUOTED_SIZE], *path;
    struct stat st;
    int fd, ret = -1;

    if (node->data.scalar.length == 0) {
        report(p, pos_of(node), "%s: expected a file or directory path, found an empty value", name);
        return -1;
    }
    path = join_path(p->conf->dir, scalar_of(node));
    /* O_NONBLOCK: a FIFO given by mistake must not hang the check */
    if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
        report(p, pos_of(node), "%s: cannot read %s: %s", name, quote(buf, path), strerror(errno));
        goto Exit;
    }
    if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
        report(p, pos_of(node), "%s: %s is neither a file nor a directory", name, quote(buf, path));
        goto Exit;
    }
    free(fn->code);
    free(fn->code_dir);
    fn->code_dir = S_ISDIR(st.st_mode) ? xstrdup(path) : join_path(path, "..");
    fn->code = path;
    path = NULL;
    ret = 0;
Exit:
    if (fd != -1)
        close(fd);
    free(path);
    return ret;
}

/* handler: kept as written; what it means depends on code, which may come after it (see resolve_lua_handler) */
static int set_handler(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    if (node->data.scalar.length == 0) {
        report(p, pos_of(node), "%s: expected a handler like \"handler\" or \"index.handler\", found an empty value", name);
        return -1;
    }
    free(*(char **)field);
    *(char **)field = xstrdup(scalar_of(node));
    return 0;
}

/* function-log-format: text (Lambda's lines, with edgefn's prefix) or json */
static int set_function_log_format(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    char buf[QUOTED_SIZE];

    if (strcmp(scalar_of(node), "text") == 0 || strcmp(scalar_of(node), "json") == 0) {
        *(int *)field = strcmp(scalar_of(node), "json") == 0;
        return 0;
    }
    report(p, pos_of(node), "%s: expected \"text\" or \"json\", found %s", name, describe(buf, node));
    return -1;
}

static int set_function_logs(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_t *conf = p->conf;
    const char *s = scalar_of(node);
    char buf[QUOTED_SIZE], *dir;
    int fd;

    free(conf->function_logs.dir);
    conf->function_logs.dir = NULL;
    switch (parse_log_kind(p, name, node, &conf->function_logs.kind, "directory")) {
    case 1:
        return 0;
    case -1:
        return -1;
    }
    /* the server creates a file per function in it; the directory itself must be there */
    dir = join_path(conf->dir, s);
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
        report(p, pos_of(node), "%s: cannot use directory %s: %s", name, quote(buf, dir), strerror(errno));
        free(dir);
        return -1;
    }
    close(fd);
    conf->function_logs.kind = EF_CONF_LOG_FILE;
    conf->function_logs.dir = dir;
    return 0;
}

/* ---- sections ---- */

struct st_key {
    const char *name;
    yaml_node_type_t kind;
    setter_t set;
    size_t offset; /* of the field, in the struct the section fills */
    int required;
};

struct st_section {
    const char *prefix; /* of key names in messages, e.g. "tls." */
    const struct st_key *keys;
};

#define REQUIRED 1

/* a key whose setter takes more than one kind of node, and says itself what it expected */
#define ANY_NODE YAML_NO_NODE

/* Optimal string alignment distance: typos are mostly one edit or a transposition away. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j, d[33][33];

    if (la > 32 || lb > 32)
        return SIZE_MAX;
    for (i = 0; i <= la; ++i)
        d[i][0] = i;
    for (j = 0; j <= lb; ++j)
        d[0][j] = j;
    for (i = 1; i <= la; ++i) {
        for (j = 1; j <= lb; ++j) {
            size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

static void report_unknown_key(struct st_parser *p, yaml_node_t *key, const struct st_section *section, const char *where)
{
    const struct st_key *k, *closest = NULL;
    size_t best = SIZE_MAX, o = 0;
    char buf[QUOTED_SIZE], known[QUOTED_SIZE];

    for (k = section->keys; k->name != NULL; ++k) {
        size_t d = edit_distance(scalar_of(key), k->name);
        if (d <= (strlen(k->name) <= 4 ? 1 : 2) && d < best) {
            best = d;
            closest = k;
        }
    }
    if (closest != NULL) {
        report(p, pos_of(key), "unknown key %s %s; did you mean \"%s\"?", quote(buf, scalar_of(key)), where, closest->name);
        return;
    }
    for (k = section->keys; k->name != NULL && o < sizeof(known); ++k)
        o += snprintf(known + o, sizeof(known) - o, "%s%s", k == section->keys ? "" : ", ", k->name);
    report(p, pos_of(key), "unknown key %s %s (expected one of: %s)", quote(buf, scalar_of(key)), where, known);
}

static uint64_t key_bit(const struct st_section *section, const char *name)
{
    const struct st_key *k;

    for (k = section->keys; k->name != NULL; ++k)
        if (strcmp(k->name, name) == 0)
            return UINT64_C(1) << (k - section->keys);
    return 0;
}

/*
 * Checks `node` (a mapping, or a null meaning an empty one) against `section` and
 * sets each key's field in `base`. `where` ends messages about keys: "in origin
 * \"app\"". Returns the keys that were given, as bits in table order.
 */
static uint64_t walk_mapping(struct st_parser *p, yaml_node_t *node, const struct st_section *section, const char *where,
                             void *base)
{
    const struct st_key *k;
    yaml_node_pair_t *pair;
    char buf[QUOTED_SIZE], name[64];
    uint64_t seen = 0;

    if (node->type == YAML_MAPPING_NODE) {
        for (pair = node->data.mapping.pairs.start; pair != node->data.mapping.pairs.top; ++pair) {
            yaml_node_t *key = node_at(p, pair->key), *value = node_at(p, pair->value), *first;
            if (key->type != YAML_SCALAR_NODE) {
                report(p, pos_of(key), "expected a key name %s, found %s", where, describe(buf, key));
                continue;
            }
            if ((first = earlier_key(p, node, pair)) != NULL) {
                report(p, pos_of(key), "duplicate key %s %s (first defined on line %u)", quote(buf, scalar_of(key)), where,
                       pos_of(first).line);
                continue;
            }
            for (k = section->keys; k->name != NULL; ++k)
                if (strcmp(k->name, scalar_of(key)) == 0)
                    break;
            if (k->name == NULL) {
                report_unknown_key(p, key, section, where);
                continue;
            }
            seen |= UINT64_C(1) << (k - section->keys);
            snprintf(name, sizeof(name), "%s%s", section->prefix, k->name);
            if (k->kind != ANY_NODE && !kind_matches(k->kind, value)) {
                report(p, pos_of(value), "%s: expected %s, found %s", name, kind_name(k->kind), describe(buf, value));
                continue;
            }
            if (value->type == YAML_SCALAR_NODE && strlen(scalar_of(value)) != value->data.scalar.length) {
                report(p, pos_of(value), "%s: must not contain a NUL character", name);
                continue;
            }
            k->set(p, name, value, (char *)base + k->offset);
        }
    }
    for (k = section->keys; k->name != NULL; ++k)
        if (k->required && (seen & (UINT64_C(1) << (k - section->keys))) == 0)
            report(p, pos_of(node), "missing required key \"%s\" %s", k->name, where);
    return seen;
}

/* tls: of a listener */

#define TLS_OFFSET(m) (offsetof(ef_conf_listen_t, tls.m) - offsetof(ef_conf_listen_t, tls))

static const struct st_key tls_keys[] = {{"certificate", YAML_SCALAR_NODE, set_readable_file, TLS_OFFSET(certificate), REQUIRED},
                                         {"key", YAML_SCALAR_NODE, set_readable_file, TLS_OFFSET(key), REQUIRED},
                                         {NULL}};
static const struct st_section tls_section = {"tls.", tls_keys};

static int set_tls(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_listen_t *listen = STRUCT_FROM_MEMBER(ef_conf_listen_t, tls, field);

    listen->tls.pos = pos_of(node);
    walk_mapping(p, node, &tls_section, "in tls", field);
    return 0;
}

/* an item of listen: */

static const struct st_key listen_keys[] = {{"port", YAML_SCALAR_NODE, set_port, offsetof(ef_conf_listen_t, port), REQUIRED},
                                            {"address", YAML_SCALAR_NODE, set_address, offsetof(ef_conf_listen_t, address)},
                                            {"tls", YAML_MAPPING_NODE, set_tls, offsetof(ef_conf_listen_t, tls)},
                                            {NULL}};
static const struct st_section listen_section = {"", listen_keys};

static int set_listen(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_t *conf = p->conf;
    char label[64], where[80], buf[QUOTED_SIZE], endpoint[INET6_ADDRSTRLEN + 16];
    size_t i, j;

    if ((conf->num_listen = count_items(node)) == 0) {
        report(p, pos_of(node), "%s: at least one listener is required", name);
        return -1;
    }
    conf->listen = xcalloc(conf->num_listen, sizeof(conf->listen[0]));
    for (i = 0; i != conf->num_listen; ++i) {
        ef_conf_listen_t *listen = conf->listen + i;
        yaml_node_t *item = node_at(p, node->data.sequence.items.start[i]);
        listen->pos = pos_of(item);
        listen->address = xstrdup("0.0.0.0");
        snprintf(label, sizeof(label), "listener %zu", i + 1);
        switch (item->type) {
        case YAML_SCALAR_NODE:
            parse_endpoint(p, label, item, "0.0.0.0", &listen->address, &listen->port);
            break;
        case YAML_MAPPING_NODE:
            snprintf(where, sizeof(where), "in %s", label);
            walk_mapping(p, item, &listen_section, where, listen);
            break;
        default:
            report(p, pos_of(item), "%s: expected a mapping or a string like \"8080\" or \"127.0.0.1:8080\", found %s", label,
                   describe(buf, item));
            break;
        }
    }

    for (i = 1; i != conf->num_listen; ++i) {
        for (j = 0; j != i; ++j) {
            if (conf->listen[i].port != 0 &&
                same_endpoint(conf->listen[i].address, conf->listen[i].port, conf->listen[j].address, conf->listen[j].port)) {
                report(p, conf->listen[i].pos, "duplicate listener %s (first defined on line %u)",
                       format_endpoint(endpoint, sizeof(endpoint), conf->listen[i].address, conf->listen[i].port),
                       conf->listen[j].pos.line);
                break;
            }
        }
    }
    return 0;
}

/* an item of origins: */

static const struct st_key origin_keys[] = {
    {"url", YAML_SCALAR_NODE, set_url, offsetof(ef_conf_origin_t, url)},
    {"directory", YAML_SCALAR_NODE, set_directory, offsetof(ef_conf_origin_t, directory)},
    {"connect-timeout", YAML_SCALAR_NODE, set_positive_duration, offsetof(ef_conf_origin_t, connect_timeout)},
    {"timeout", YAML_SCALAR_NODE, set_positive_duration, offsetof(ef_conf_origin_t, timeout)},
    {"keepalive-timeout", YAML_SCALAR_NODE, set_duration, offsetof(ef_conf_origin_t, keepalive_timeout)},
    {"keepalive-connections", YAML_SCALAR_NODE, set_keepalive_connections, offsetof(ef_conf_origin_t, keepalive_connections)},
    {"preserve-host", YAML_SCALAR_NODE, set_bool, offsetof(ef_conf_origin_t, preserve_host)},
    {NULL}};
static const struct st_section origin_section = {"", origin_keys};

static void init_origin(ef_conf_origin_t *origin, const char *name, ef_conf_pos_t pos)
{
    origin->pos = pos;
    origin->name = xstrdup(name);
    origin->kind = EF_CONF_ORIGIN_URL;
    origin->connect_timeout = EF_CONF_DEFAULT_CONNECT_TIMEOUT;
    origin->timeout = EF_CONF_DEFAULT_TIMEOUT;
    origin->keepalive_timeout = EF_CONF_DEFAULT_KEEPALIVE_TIMEOUT;
    origin->keepalive_connections = EF_CONF_DEFAULT_KEEPALIVE_CONNECTIONS;
}

static int set_origins(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_t *conf = p->conf;
    yaml_node_pair_t *pair;
    char buf[QUOTED_SIZE], buf2[QUOTED_SIZE], where[QUOTED_SIZE + 16];

    if (count_items(node) == 0) {
        report(p, pos_of(node), "%s: at least one origin is required", name);
        return -1;
    }
    conf->origins = xcalloc(count_items(node), sizeof(conf->origins[0]));
    for (pair = node->data.mapping.pairs.start; pair != node->data.mapping.pairs.top; ++pair) {
        yaml_node_t *key = node_at(p, pair->key), *value = node_at(p, pair->value), *first;
        ef_conf_origin_t *origin;
        uint64_t seen;
        int has_url, has_directory;
        if (key->type != YAML_SCALAR_NODE || key->data.scalar.length == 0) {
            report(p, pos_of(key), "%s: expected an origin name, found %s", name, describe(buf, key));
            continue;
        }
        if ((first = earlier_key(p, node, pair)) != NULL) {
            report(p, pos_of(key), "duplicate origin %s (first defined on line %u)", quote(buf, scalar_of(key)),
                   pos_of(first).line);
            continue;
        }
        origin = conf->origins + conf->num_origins++;
        init_origin(origin, scalar_of(key), pos_of(key));
        if (!kind_matches(YAML_MAPPING_NODE, value)) {
            report(p, pos_of(value), "origin %s: expected a mapping, found %s", quote(buf, origin->name), describe(buf2, value));
            continue;
        }
        snprintf(where, sizeof(where), "in origin %s", quote(buf, origin->name));
        seen = walk_mapping(p, value, &origin_section, where, origin);
        has_url = (seen & key_bit(&origin_section, "url")) != 0;
        has_directory = (seen & key_bit(&origin_section, "directory")) != 0;
        if (has_url == has_directory)
            report(p, origin->pos, "origin %s: expected exactly one of url or directory, found %s", quote(buf, origin->name),
                   has_url ? "both" : "neither");
        origin->kind = has_directory ? EF_CONF_ORIGIN_DIRECTORY : EF_CONF_ORIGIN_URL;
    }
    return 0;
}

/* concurrency: of a process function */

static int set_reserved(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    uint64_t n;

    if (parse_integer(p, name, node, 1, MAX_RESERVED_CONCURRENCY, "", &n) != 0)
        return -1;
    *(unsigned *)field = (unsigned)n;
    return 0;
}

static int set_provisioned(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    uint64_t n;

    if (parse_integer(p, name, node, 0, MAX_RESERVED_CONCURRENCY, "", &n) != 0)
        return -1;
    *(unsigned *)field = (unsigned)n;
    return 0;
}

#define CONCURRENCY_OFFSET(m) (offsetof(ef_conf_function_t, concurrency.m) - offsetof(ef_conf_function_t, concurrency))

static const struct st_key concurrency_keys[] = {
    {"reserved", YAML_SCALAR_NODE, set_reserved, CONCURRENCY_OFFSET(reserved)},
    {"provisioned", YAML_SCALAR_NODE, set_provisioned, CONCURRENCY_OFFSET(provisioned)},
    {NULL}};
static const struct st_section concurrency_section = {"concurrency.", concurrency_keys};

static int set_concurrency(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_function_t *fn = STRUCT_FROM_MEMBER(ef_conf_function_t, concurrency, field);
    uint64_t seen = walk_mapping(p, node, &concurrency_section, "in concurrency", field);
    int reserved_given = (seen & key_bit(&concurrency_section, "reserved")) != 0;
    unsigned reserved = reserved_given ? fn->concurrency.reserved : EF_CONF_DEFAULT_MAX_ENVIRONMENTS;

    /* a reserved: that is given but invalid (left 0) is reported already */
    if (reserved != 0 && fn->concurrency.provisioned > reserved) {
        report(p, pos_of(value_named(p, node, "provisioned")),
               "concurrency.provisioned: %u is more than concurrency.reserved, %u%s; provisioned environments count against the "
               "reserved ones",
               fn->concurrency.provisioned, reserved, reserved_given ? "" : " (the default)");
        return -1;
    }
    return 0;
}

/* environment: of a process function, NAME: value, in the order written */

/* what Lambda reserves: edgefn sets them, or they would let a function pose as something it is not */
static const char *const reserved_variables[] = {"_HANDLER",
                                                 "_X_AMZN_TRACE_ID",
                                                 "AWS_DEFAULT_REGION",
                                                 "AWS_REGION",
                                                 "AWS_EXECUTION_ENV",
                                                 "AWS_LAMBDA_FUNCTION_NAME",
                                                 "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                                                 "AWS_LAMBDA_FUNCTION_VERSION",
                                                 "AWS_LAMBDA_INITIALIZATION_TYPE",
                                                 "AWS_LAMBDA_LOG_GROUP_NAME",
                                                 "AWS_LAMBDA_LOG_STREAM_NAME",
                                                 "AWS_LAMBDA_RUNTIME_API",
                                                 "LAMBDA_TASK_ROOT",
                                                 "LAMBDA_RUNTIME_DIR",
                                                 "AWS_ACCESS_KEY",
                                                 "AWS_ACCESS_KEY_ID",
                                                 "AWS_SECRET_ACCESS_KEY",
                                                 "AWS_SESSION_TOKEN",
                                                 NULL};

/* Whether the `len` bytes at `s` are letters, digits and '_', not starting with a digit: a variable's or a Python name. */
static int is_identifier(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i != len; ++i) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i != 0 && c >= '0' && c <= '9')))
            return 0;
    }
    return len != 0;
}

static void free_environment(ef_conf_function_t *fn)
{
    size_t i;

    for (i = 0; i != fn->num_environment; ++i) {
        free(fn->environment[i].name);
        free(fn->environment[i].value);
    }
    free(fn->environment);
    fn->environment = NULL;
    fn->num_environment = 0;
}

/* Reports what is wrong with one NAME: value of environment:, or returns 0. */
static int check_variable(struct st_parser *p, const char *name, yaml_node_t *mapping, yaml_node_pair_t *pair)
{
    yaml_node_t *key = node_at(p, pair->key), *value = node_at(p, pair->value), *first;
    char buf[QUOTED_SIZE];
    const char *var;

    if (key->type != YAML_SCALAR_NODE || key->data.scalar.length == 0) {
        report(p, pos_of(key), "%s: expected a variable name, found %s", name, describe(buf, key));
        return -1;
    }
    var = scalar_of(key);
    if ((first = earlier_key(p, mapping, pair)) != NULL) {
        report(p, pos_of(key), "duplicate variable %s in %s (first defined on line %u)", quote(buf, var), name, pos_of(first).line);
        return -1;
    }
    if (!is_identifier(var, key->data.scalar.length)) {
        report(p, pos_of(key), "%s: invalid variable name %s: use letters, digits and \"_\", not starting with a digit", name,
               quote(buf, var));
        return -1;
    }
    if (is_one_of(var, reserved_variables)) {
        report(p, pos_of(key), "%s: %s is reserved: edgefn sets it, as Lambda does", name, var);
        return -1;
    }
    if (value->type != YAML_SCALAR_NODE) {
        report(p, pos_of(value), "%s.%s: expected a scalar, found %s", name, var, describe(buf, value));
        return -1;
    }
    if (is_null(value)) {
        /* `NAME:` alone is most likely a value forgotten; an empty string is said so */
        report(p, pos_of(value), "%s.%s: expected a value, found null; write \"\" for an empty string", name, var);
        return -1;
    }
    if (strlen(scalar_of(value)) != value->data.scalar.length) {
        report(p, pos_of(value), "%s.%s: must not contain a NUL character", name, var);
        return -1;
    }
    return 0;
}

static int set_environment(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_function_t *fn = STRUCT_FROM_MEMBER(ef_conf_function_t, environment, field);
    yaml_node_pair_t *pair;
    int ret = 0;

    free_environment(fn);
    /* a null or {} is none */
    if (count_items(node) == 0)
        return 0;
    fn->environment = xcalloc(count_items(node), sizeof(fn->environment[0]));
    for (pair = node->data.mapping.pairs.start; pair != node->data.mapping.pairs.top; ++pair) {
        yaml_node_t *value = node_at(p, pair->value);
        ef_conf_env_var_t *var;
        if (check_variable(p, name, node, pair) != 0) {
            ret = -1;
            continue;
        }
        /* a number or a boolean is kept as written: 1.0 stays "1.0", yes stays "yes" */
        var = fn->environment + fn->num_environment++;
        var->name = xstrdup(scalar_of(node_at(p, pair->key)));
        var->value = xstrndup(scalar_of(value), value->data.scalar.length);
    }
    return ret;
}

/* a directory edgefn writes files in: it must exist and be writable */
static int set_writable_directory(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    char buf[QUOTED_SIZE];

    if (set_directory(p, name, node, field) != 0)
        return -1;
    if (access(*(char **)field, W_OK) != 0) {
        report(p, pos_of(node), "%s: cannot write in %s: %s", name, quote(buf, *(char **)field), strerror(errno));
        free(*(char **)field);
        *(char **)field = NULL;
        return -1;
    }
    return 0;
}

static int set_async_retries(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    uint64_t n;

    if (parse_integer(p, name, node, 0, 2, "", &n) != 0)
        return -1;
    *(unsigned *)field = (unsigned)n;
    return 0;
}

static int set_max_event_age(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    char buf[QUOTED_SIZE];

    if (parse_duration(p, name, node, 1, field) != 0)
        return -1;
    /* Lambda's range: 60 s to 6 h; a shorter one is allowed here, for tests */
    if (*(uint64_t *)field > 6 * 3600 * 1000) {
        report(p, pos_of(node), "%s: at most 6h (Lambda's most), found %s", name, quote(buf, scalar_of(node)));
        return -1;
    }
    return 0;
}

#define FUNCTION_ASYNC_OFFSET(m) (offsetof(ef_conf_function_t, async.m) - offsetof(ef_conf_function_t, async))

static const struct st_key function_async_keys[] = {
    {"retries", YAML_SCALAR_NODE, set_async_retries, FUNCTION_ASYNC_OFFSET(retries)},
    {"max-event-age", YAML_SCALAR_NODE, set_max_event_age, FUNCTION_ASYNC_OFFSET(max_event_age)},
    {"on-failure", YAML_SCALAR_NODE, set_writable_directory, FUNCTION_ASYNC_OFFSET(on_failure)},
    {NULL}};
static const struct st_section function_async_section = {"async.", function_async_keys};

static int set_function_async(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    walk_mapping(p, node, &function_async_section, "in async", field);
    return 0;
}

/* an item of functions: */

static const struct st_key function_keys[] = {
    {"runtime", YAML_SCALAR_NODE, set_runtime, offsetof(ef_conf_function_t, runtime), REQUIRED},
    {"code", YAML_SCALAR_NODE, set_code, offsetof(ef_conf_function_t, code), REQUIRED},
    {"handler", YAML_SCALAR_NODE, set_handler, offsetof(ef_conf_function_t, handler)},
    {"memory", YAML_SCALAR_NODE, set_function_memory, offsetof(ef_conf_function_t, memory)},
    {"timeout", YAML_SCALAR_NODE, set_function_timeout, offsetof(ef_conf_function_t, timeout)},
    {"max-code-size", YAML_SCALAR_NODE, set_positive_size, offsetof(ef_conf_function_t, max_code_size)},
    {"concurrency", YAML_MAPPING_NODE, set_concurrency, offsetof(ef_conf_function_t, concurrency)},
    {"queue-timeout", YAML_SCALAR_NODE, set_queue_timeout, offsetof(ef_conf_function_t, queue_timeout)},
    {"idle-timeout", YAML_SCALAR_NODE, set_idle_timeout, offsetof(ef_conf_function_t, idle_timeout)},
    {"environment", YAML_MAPPING_NODE, set_environment, offsetof(ef_conf_function_t, environment)},
    {"include-body", YAML_SCALAR_NODE, set_bool, offsetof(ef_conf_function_t, include_body)},
    {"body-limit", YAML_SCALAR_NODE, set_body_limit, offsetof(ef_conf_function_t, body_limit)},
    {"async", YAML_MAPPING_NODE, set_function_async, offsetof(ef_conf_function_t, async)},
    {NULL}};
static const struct st_section function_section = {"", function_keys};

/* the keys that only one kind of function has */
static const char *const lua_only_keys[] = {"max-code-size", NULL};
static const char *const process_only_keys[] = {
    "concurrency", "queue-timeout", "idle-timeout", "environment", "include-body", "body-limit", NULL};

static void init_function(ef_conf_function_t *fn, const char *name, ef_conf_pos_t pos)
{
    fn->pos = pos;
    fn->name = xstrdup(name);
    fn->runtime = EF_CONF_RUNTIME_LUA;
    /* memory, timeout and the process functions' settings stay 0 until resolve_function knows the runtime */
    fn->max_code_size = EF_CONF_DEFAULT_MAX_CODE_SIZE;
    fn->async.retries = 2;
    fn->async.max_event_age = 6 * 3600 * 1000;
}

/* Reports a name that cannot be a log file's name: 1-64 of A-Z, a-z, 0-9, '-' and '_'. */
static void check_function_name(struct st_parser *p, const char *name, yaml_node_t *key)
{
    const char *s = scalar_of(key);
    char buf[QUOTED_SIZE];
    size_t i;

    for (i = 0; i != key->data.scalar.length; ++i) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            report(p, pos_of(key), "%s: invalid function name %s: use only letters, digits, \"-\" and \"_\"", name, quote(buf, s));
            return;
        }
    }
    if (key->data.scalar.length > MAX_FUNCTION_NAME)
        report(p, pos_of(key), "%s: invalid function name %s: %zu characters long; the maximum is %d", name, quote(buf, s),
               key->data.scalar.length, MAX_FUNCTION_NAME);
}

/* NULL when the `len` bytes at `s` can name a Lua function; otherwise why not, in `buf` (QUOTED_SIZE + 64 bytes) */
static const char *lua_identifier_problem(char *buf, const char *s, size_t len)
{
    static const char *const reserved[] = {"and",      "break",  "do",   "else", "elseif", "end",   "false", "for",
                                           "function", "goto",   "if",   "in",   "local",  "nil",   "not",   "or",
                                           "repeat",   "return", "then", "true", "until",  "while", NULL};
    char quoted[QUOTED_SIZE], *word = xstrndup(s, len);
    const char *why = NULL;
    size_t i;

    for (i = 0; i != len; ++i) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i != 0 && c >= '0' && c <= '9')))
            break;
    }
    if (len == 0 || i != len) {
        snprintf(buf, QUOTED_SIZE + 64, "%s is not a Lua identifier (letters, digits and \"_\", not starting with a digit)",
                 quote(quoted, word));
        why = buf;
    } else if (is_one_of(word, reserved)) {
        snprintf(buf, QUOTED_SIZE + 64, "%s is a reserved word in Lua", quote(quoted, word));
        why = buf;
    }
    free(word);
    return why;
}

/* Whether the `len` bytes at `s` are a module name: names of letters, digits, '-' and '_', joined by any of `seps`. */
static int is_module_name(const char *s, size_t len, const char *seps)
{
    size_t i, part = 0;

    for (i = 0; i != len; ++i) {
        char c = s[i];
        if (strchr(seps, c) != NULL) {
            if (part == 0)
                return 0;
            part = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
            ++part;
        } else {
            return 0;
        }
    }
    return part != 0;
}

/*
 * With code and runtime known, checks a Lua function's handler (or its default) and finds the file that defines it. For a file,
 * the handler is a function's name in it; for a directory, MODULE.FUNCTION, and DIR/MODULE.lua must exist.
 */
static void resolve_lua_handler(struct st_parser *p, ef_conf_function_t *fn, yaml_node_t *mapping)
{
    yaml_node_t *handler = value_named(p, mapping, "handler");
    const char *s, *dot, *why = NULL;
    char buf[QUOTED_SIZE], buf2[QUOTED_SIZE], whybuf[QUOTED_SIZE + 64], *rel = NULL, *path = NULL, *c;
    struct stat st;
    int fd = -1, is_dir;

    /* a missing or invalid code or handler is reported already; anything said here would only repeat it */
    if (fn->code == NULL || (handler != NULL && fn->handler == NULL))
        return;
    is_dir = strcmp(fn->code, fn->code_dir) == 0; /* set_code makes them one for a directory */
    s = fn->handler != NULL ? fn->handler : is_dir ? "index.handler" : "handler";
    dot = strrchr(s, '.');

    if (!is_dir) {
        if (dot != NULL)
            why = "MODULE.FUNCTION is for a code directory; for a file, give the function name alone, like \"handler\"";
        else
            why = lua_identifier_problem(whybuf, s, strlen(s));
        if (why != NULL) {
            report(p, pos_of(handler), "handler: invalid handler %s: %s", quote(buf, s), why);
            return;
        }
        fn->module_file = xstrdup(fn->code);
    } else {
        if (dot == NULL)
            why = "expected MODULE.FUNCTION for a code directory, like \"index.handler\"";
        else if (!is_module_name(s, dot - s, "."))
            why = "MODULE must be names of letters, digits, \"-\" and \"_\" joined by dots, like \"lib.auth\"";
        else
            why = lua_identifier_problem(whybuf, dot + 1, strlen(dot + 1));
        if (why != NULL) {
            report(p, pos_of(handler), "handler: invalid handler %s: %s", quote(buf, s), why);
            return;
        }
        /* "lib.auth.check" is function check of DIR/lib/auth.lua, which Lua's require would find as "lib.auth" */
        rel = xsprintf("%.*s.lua", (int)(dot - s), s);
        for (c = rel; c != rel + (dot - s); ++c)
            if (*c == '.')
                *c = '/';
        path = join_path(fn->code, rel);
        if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1 || (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))) {
            /* with no handler written, the default is what is missing, so the code is what to point at */
            if (handler != NULL)
                report(p, pos_of(handler), "handler: cannot read %s, the module of %s: %s", quote(buf, path), quote(buf2, s),
                       strerror(fd == -1 ? errno : EISDIR));
            else
                report(p, pos_of(value_named(p, mapping, "code")), "code: cannot read %s, the module of the default handler %s: %s",
                       quote(buf, path), quote(buf2, s), strerror(fd == -1 ? errno : EISDIR));
            goto Exit;
        }
        fn->module_file = path;
        path = NULL;
    }
    /* what is left is the function's name alone; `s` may be fn->handler itself, so it is copied before that is freed */
    path = xstrdup(dot != NULL ? dot + 1 : s);
    free(fn->handler);
    fn->handler = path;
    path = NULL;
Exit:
    if (fd != -1)
        close(fd);
    free(rel);
    free(path);
}

/* Whether the `len` bytes at `s` are a relative path of names of letters, digits, '-', '_' and '.', none of them "." or "..". */
static int is_module_path(const char *s, size_t len)
{
    size_t i, start = 0;

    for (i = 0; i <= len; ++i) {
        char c = i != len ? s[i] : '/';
        if (c == '/') {
            size_t part = i - start;
            if (part == 0 || (part == 1 && s[start] == '.') || (part == 2 && s[start] == '.' && s[start + 1] == '.'))
                return 0;
            start = i + 1;
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                     c == '.')) {
            return 0;
        }
    }
    return 1;
}

/* Whether `s` is JavaScript names joined by dots, as Lambda's Node runtime resolves "handler" or "handlers.main". */
static int is_js_export(const char *s)
{
    size_t part = 0;

    for (;; ++s) {
        char c = *s;
        if (c == '.' || c == '\0') {
            if (part == 0)
                return 0;
            if (c == '\0')
                return 1;
            part = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' ||
                   (part != 0 && c >= '0' && c <= '9')) {
            ++part;
        } else {
            return 0;
        }
    }
}

/*
 * Finds the module of a handler: the first of `n` candidate files that exists. Reports when none does, or when one exists but
 * cannot be read, at the handler, or at the code when the handler is the default one. Returns the path found, or NULL.
 */
static char *find_module(struct st_parser *p, yaml_node_t *mapping, const char *s, char **paths, size_t n)
{
    yaml_node_t *handler = value_named(p, mapping, "handler");
    yaml_node_t *at = handler != NULL ? handler : value_named(p, mapping, "code");
    const char *key = handler != NULL ? "handler" : "code", *whose = handler != NULL ? "" : "the default handler ";
    char buf[QUOTED_SIZE], buf2[QUOTED_SIZE], *list, *next;
    struct stat st;
    size_t i;
    int fd, err;

    for (i = 0; i != n; ++i) {
        if ((fd = open(paths[i], O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
            err = errno;
        } else {
            err = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) ? EISDIR : 0;
            close(fd);
        }
        if (err == 0)
            return xstrdup(paths[i]);
        if (err != ENOENT && err != ENOTDIR) {
            /* there, but not usable: that is the mistake to show */
            report(p, pos_of(at), "%s: cannot read %s, the module of %s%s: %s", key, quote(buf, paths[i]), whose, quote(buf2, s),
                   strerror(err));
            return NULL;
        }
    }
    list = xstrdup(quote(buf, paths[0]));
    for (i = 1; i != n; ++i) {
        next = xsprintf("%s%s%s", list, i + 1 == n ? " and " : ", ", quote(buf, paths[i]));
        free(list);
        list = next;
    }
    report(p, pos_of(at), "%s: cannot find the module of %s%s: looked for %s", key, whose, quote(buf, s), list);
    free(list);
    return NULL;
}

/*
 * A nodejs function's handler is MODULE.EXPORT, split as Lambda's Node runtime does: MODULE runs up to the first dot after the
 * last slash ("src/app.handler" is export handler of module src/app), and is DIR/MODULE.js, .mjs or .cjs, the first found.
 */
static void resolve_nodejs_handler(struct st_parser *p, ef_conf_function_t *fn, yaml_node_t *mapping)
{
    static const char *const extensions[] = {".js", ".mjs", ".cjs"};
    yaml_node_t *handler = value_named(p, mapping, "handler");
    const char *s, *base, *dot, *why = NULL;
    char buf[QUOTED_SIZE], *module, *paths[3];
    size_t i;

    if (handler != NULL && fn->handler == NULL)
        return;
    if (fn->handler == NULL)
        fn->handler = xstrdup("index.handler");
    s = fn->handler;
    base = strrchr(s, '/') != NULL ? strrchr(s, '/') + 1 : s;
    if ((dot = strchr(base, '.')) == NULL)
        why = "expected MODULE.EXPORT, like \"index.handler\" or \"src/app.handler\"";
    else if (!is_module_path(s, dot - s))
        why = "MODULE must be a path inside the code directory: names of letters, digits, \"-\", \"_\" and \".\" joined by "
              "\"/\", like \"src/app\"";
    else if (!is_js_export(dot + 1))
        why = "EXPORT must be JavaScript names (letters, digits, \"_\" and \"$\", not starting with a digit) joined by dots, like "
              "\"handler\"";
    if (why != NULL) {
        report(p, pos_of(handler), "handler: invalid handler %s: %s", quote(buf, s), why);
        return;
    }
    module = xstrndup(s, dot - s);
    for (i = 0; i != 3; ++i) {
        char *rel = xsprintf("%s%s", module, extensions[i]);
        paths[i] = join_path(fn->code, rel);
        free(rel);
    }
    fn->module_file = find_module(p, mapping, s, paths, 3);
    for (i = 0; i != 3; ++i)
        free(paths[i]);
    free(module);
}

/*
 * A python function's handler is MODULE.FUNCTION, split at the last dot as Lambda's Python runtime does; MODULE is dotted (or
 * slashed: Lambda turns "/" into "."), and is DIR/pkg/mod.py, or the package DIR/pkg/mod/__init__.py.
 */
static void resolve_python_handler(struct st_parser *p, ef_conf_function_t *fn, yaml_node_t *mapping)
{
    yaml_node_t *handler = value_named(p, mapping, "handler");
    const char *s, *dot, *why = NULL;
    char buf[QUOTED_SIZE], *module, *c, *rel, *paths[2];

    if (handler != NULL && fn->handler == NULL)
        return;
    if (fn->handler == NULL)
        fn->handler = xstrdup("index.handler");
    s = fn->handler;
    if ((dot = strrchr(s, '.')) == NULL)
        why = "expected MODULE.FUNCTION, like \"index.handler\" or \"pkg.module.handler\"";
    else if (!is_module_name(s, dot - s, "./"))
        why = "MODULE must be names of letters, digits, \"-\" and \"_\" joined by dots (or slashes), like \"pkg.module\"";
    else if (!is_identifier(dot + 1, strlen(dot + 1)))
        why = "FUNCTION must be a Python name (letters, digits and \"_\", not starting with a digit), like \"handler\"";
    if (why != NULL) {
        report(p, pos_of(handler), "handler: invalid handler %s: %s", quote(buf, s), why);
        return;
    }
    module = xstrndup(s, dot - s);
    for (c = module; *c != '\0'; ++c)
        if (*c == '.')
            *c = '/';
    rel = xsprintf("%s.py", module);
    paths[0] = join_path(fn->code, rel);
    free(rel);
    rel = xsprintf("%s/__init__.py", module);
    paths[1] = join_path(fn->code, rel);
    free(rel);
    fn->module_file = find_module(p, mapping, s, paths, 2);
    free(paths[0]);
    free(paths[1]);
    free(module);
}

/* A provided function's runtime is its code directory's bootstrap, which must be an executable file; its handler is free-form. */
static void resolve_bootstrap(struct st_parser *p, ef_conf_function_t *fn, yaml_node_t *mapping)
{
    ef_conf_pos_t pos = pos_of(value_named(p, mapping, "code"));
    char buf[QUOTED_SIZE], *path = join_path(fn->code, "bootstrap");
    struct stat st;

    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            report(p, pos,
                   "code: provided function: %s is missing (the code directory of a provided function must hold an "
                   "executable bootstrap, the runtime edgefn starts)",
                   quote(buf, path));
        else
            report(p, pos, "code: provided function: cannot read %s: %s", quote(buf, path), strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        report(p, pos, "code: provided function: %s is not a file", quote(buf, path));
    } else if (access(path, X_OK) != 0) {
        report(p, pos, "code: provided function: %s is not executable (chmod +x it)", quote(buf, path));
    } else {
        fn->module_file = path;
        return;
    }
    free(path);
}

/* Reports each of `keys` that `seen` holds, as not for a `runtime` function. */
static void report_other_keys(struct st_parser *p, yaml_node_t *mapping, uint64_t seen, const char *const *keys, const char *which,
                              const char *runtime)
{
    for (; *keys != NULL; ++keys)
        if ((seen & key_bit(&function_section, *keys)) != 0)
            report(p, pos_of(key_named(p, mapping, *keys)), "%s: applies to %s functions only, not %s", *keys, which, runtime);
}

/* The found "..." of a message about the value of `key`, which was given. */
static const char *found_value(struct st_parser *p, char *buf, yaml_node_t *mapping, const char *key)
{
    return quote(buf, scalar_of(value_named(p, mapping, key)));
}

static void resolve_lua_function(struct st_parser *p, ef_conf_function_t *fn, yaml_node_t *mapping, uint64_t seen)
{
    char buf[QUOTED_SIZE];

    report_other_keys(p, mapping, seen, process_only_keys, "nodejs, python and provided", "lua");
    /* 0 is "not given", or invalid and reported */
    if (fn->memory == 0)
        fn->memory = EF_CONF_DEFAULT_LUA_MEMORY;
    else if (fn->memory > MAX_LUA_MEMORY)
        report(p, pos_of(value_named(p, mapping, "memory")), "memory: must be at most " MAX_LUA_MEMORY_TEXT ", found %s",
               found_value(p, buf, mapping, "memory"));
    if (fn->timeout == 0)
        fn->timeout = EF_CONF_DEFAULT_LUA_TIMEOUT;
    else if (fn->timeout > MAX_LUA_TIMEOUT)
        report(p, pos_of(value_named(p, mapping, "timeout")), "timeout: must be at most " MAX_LUA_TIMEOUT_TEXT ", found %s",
               found_value(p, buf, mapping, "timeout"));
    resolve_lua_handler(p, fn, mapping);
}

static void resolve_process_function(struct st_parser *p, ef_conf_function_t *fn, yaml_node_t *mapping, uint64_t seen)
{
    const char *runtime = ef_conf_runtime_name(fn->runtime);
    yaml_node_t *include_body;
    char buf[QUOTED_SIZE];

    report_other_keys(p, mapping, seen, lua_only_keys, "lua", runtime);
    if (fn->code != NULL && strcmp(fn->code, fn->code_dir) != 0) {
        /* set_code makes them one for a directory */
        report(p, pos_of(value_named(p, mapping, "code")),
               "code: a %s function's code must be a directory (its LAMBDA_TASK_ROOT), found the file %s", runtime,
               quote(buf, fn->code));
    } else if (fn->code != NULL) {
        switch (fn->runtime) {
        case EF_CONF_RUNTIME_NODEJS:
            resolve_nodejs_handler(p, fn, mapping);
            break;
        case EF_CONF_RUNTIME_PYTHON:
            resolve_python_handler(p, fn, mapping);
            break;
        default:
            resolve_bootstrap(p, fn, mapping);
            break;
        }
    }
    if (fn->memory == 0)
        fn->memory = EF_CONF_DEFAULT_PROCESS_MEMORY;
    else if (fn->memory < MIN_PROCESS_MEMORY || fn->memory > MAX_PROCESS_MEMORY)
        report(p, pos_of(value_named(p, mapping, "memory")),
               "memory: must be " PROCESS_MEMORY_RANGE_TEXT " for a %s function (Lambda's range), found %s", runtime,
               found_value(p, buf, mapping, "memory"));
    else if (fn->memory % (1 << 20) != 0)
        report(p, pos_of(value_named(p, mapping, "memory")),
               "memory: must be a whole number of MB for a %s function (Lambda counts it in MB), found %s", runtime,
               found_value(p, buf, mapping, "memory"));
    /* a timeout of 0 stays: the hook's default */
    if (fn->timeout > MAX_PROCESS_TIMEOUT)
        report(p, pos_of(value_named(p, mapping, "timeout")),
               "timeout: must be at most " MAX_PROCESS_TIMEOUT_TEXT " for a %s function (Lambda's maximum), found %s", runtime,
               found_value(p, buf, mapping, "timeout"));
    if (fn->concurrency.reserved == 0)
        fn->concurrency.reserved = EF_CONF_DEFAULT_MAX_ENVIRONMENTS;
    if (fn->idle_timeout == 0)
        fn->idle_timeout = EF_CONF_DEFAULT_IDLE_TIMEOUT;
    if ((seen & key_bit(&function_section, "body-limit")) != 0 &&
        ((include_body = value_named(p, mapping, "include-body")) == NULL || bool_of(include_body) == 0))
        report(p, pos_of(key_named(p, mapping, "body-limit")), "body-limit: has no effect without include-body: true");
}

/* With the whole mapping read: what depends on the runtime, which may have come after what it governs. */
static void resolve_function(struct st_parser *p, ef_conf_function_t *fn, yaml_node_t *mapping, uint64_t seen)
{
    yaml_node_t *runtime = value_named(p, mapping, "runtime");

    if (runtime == NULL || runtime->type != YAML_SCALAR_NODE || strlen(scalar_of(runtime)) != runtime->data.scalar.length ||
        find_runtime(scalar_of(runtime)) == NULL) {
        /* reported already; the limits and the handler mean nothing without it */
        if (fn->memory == 0)
            fn->memory = EF_CONF_DEFAULT_LUA_MEMORY;
        if (fn->timeout == 0)
            fn->timeout = EF_CONF_DEFAULT_LUA_TIMEOUT;
        return;
    }
    if (ef_conf_runtime_is_process(fn->runtime))
        resolve_process_function(p, fn, mapping, seen);
    else
        resolve_lua_function(p, fn, mapping, seen);
}

static int set_functions(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_t *conf = p->conf;
    yaml_node_pair_t *pair;
    char buf[QUOTED_SIZE], buf2[QUOTED_SIZE], where[QUOTED_SIZE + 16];

    /* unlike origins, none is fine: a config may serve without functions */
    if (count_items(node) == 0)
        return 0;
    conf->functions = xcalloc(count_items(node), sizeof(conf->functions[0]));
    for (pair = node->data.mapping.pairs.start; pair != node->data.mapping.pairs.top; ++pair) {
        yaml_node_t *key = node_at(p, pair->key), *value = node_at(p, pair->value), *first;
        ef_conf_function_t *fn;
        if (key->type != YAML_SCALAR_NODE || key->data.scalar.length == 0) {
            report(p, pos_of(key), "%s: expected a function name, found %s", name, describe(buf, key));
            continue;
        }
        if ((first = earlier_key(p, node, pair)) != NULL) {
            report(p, pos_of(key), "duplicate function %s (first defined on line %u)", quote(buf, scalar_of(key)),
                   pos_of(first).line);
            continue;
        }
        /* a bad name is still a function: the rest of it is checked, and behaviors naming it are not wrong */
        check_function_name(p, name, key);
        fn = conf->functions + conf->num_functions++;
        init_function(fn, scalar_of(key), pos_of(key));
        if (!kind_matches(YAML_MAPPING_NODE, value)) {
            report(p, pos_of(value), "function %s: expected a mapping, found %s", quote(buf, fn->name), describe(buf2, value));
            continue;
        }
        snprintf(where, sizeof(where), "in function %s", quote(buf, fn->name));
        resolve_function(p, fn, value, walk_mapping(p, value, &function_section, where, fn));
    }
    return 0;
}

/* cache: of a behavior, and its key: */

static const char *behavior_label(struct st_parser *p, char *buf, yaml_node_t *item, size_t index);

/* "in cache of behavior \"/img\"", for messages about keys of the cache: (or `sub`: ".key") of `behavior` */
static const char *cache_where(struct st_parser *p, char *buf, ef_conf_behavior_t *behavior, const char *sub)
{
    char label[QUOTED_SIZE + 16];
    size_t index = behavior - p->conf->behaviors;

    behavior_label(p, label, node_at(p, p->behaviors->data.sequence.items.start[index]), index);
    snprintf(buf, QUOTED_SIZE + 48, "in cache%s of %s", sub, label);
    return buf;
}

static void free_names(char ***names, size_t *num)
{
    size_t i;

    for (i = 0; i != *num; ++i)
        free((*names)[i]);
    free(*names);
    *names = NULL;
    *num = 0;
}

static void free_cache_key(ef_conf_cache_policy_t *cache)
{
    free_names(&cache->key.query_names, &cache->key.num_query_names);
    free_names(&cache->key.headers, &cache->key.num_headers);
    free_names(&cache->key.cookies, &cache->key.num_cookies);
}

/* RFC 9110's token: what a header's name is made of, and a cookie's (RFC 6265) */
static int is_token(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i != len; ++i) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL)))
            return 0;
    }
    return len != 0;
}

/* A query parameter's name as it appears before the "=", undecoded (cache keys compare names as written): no separators, spaces or
 * controls. */
static int is_query_name(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i != len; ++i) {
        unsigned char c = s[i];
        if (c <= ' ' || c == 0x7f || c == '&' || c == '=' || c == '#')
            return 0;
    }
    return len != 0;
}

struct st_name_kind {
    const char *what; /* "header", ... in messages */
    int (*is_valid)(const char *s, size_t len);
    const char *rule; /* what a valid name is, for messages */
    int ignore_case;  /* names are compared, and stored, lower-case */
};

static const struct st_name_kind header_names = {"header", is_token, "letters, digits and !#$%&'*+-.^_`|~ (an HTTP token)", 1};
static const struct st_name_kind cookie_names = {"cookie", is_token, "letters, digits and !#$%&'*+-.^_`|~ (an HTTP token)", 0};
static const struct st_name_kind query_names = {"query parameter", is_query_name,
                                                "no spaces, control characters, \"&\", \"=\" or \"#\"", 0};

/* The names of a sequence, checked as `kind` says, into `*names` (which it replaces). Returns 0, or -1 when one was reported. */
static int parse_names(struct st_parser *p, const char *name, yaml_node_t *node, const struct st_name_kind *kind, char ***names,
                       size_t *num)
{
    char buf[QUOTED_SIZE];
    size_t i, j, n = count_items(node);
    int ret = 0;

    free_names(names, num);
    if (n == 0)
        return 0;
    if (n > MAX_CACHE_KEY_NAMES) {
        report(p, pos_of(node), "%s: at most %d names, found %zu (CloudFront's limit)", name, MAX_CACHE_KEY_NAMES, n);
        ret = -1;
    }
    *names = xcalloc(n, sizeof((*names)[0]));
    for (i = 0; i != n; ++i) {
        yaml_node_t *item = node_at(p, node->data.sequence.items.start[i]);
        const char *s = scalar_of(item);
        char *stored;
        if (item->type != YAML_SCALAR_NODE || item->data.scalar.length == 0) {
            report(p, pos_of(item), "%s: expected a %s name, found %s", name, kind->what, describe(buf, item));
            ret = -1;
            continue;
        }
        if (strlen(s) != item->data.scalar.length) {
            report(p, pos_of(item), "%s: must not contain a NUL character", name);
            ret = -1;
            continue;
        }
        if (!kind->is_valid(s, item->data.scalar.length)) {
            report(p, pos_of(item), "%s: invalid %s name %s: use %s", name, kind->what, quote(buf, s), kind->rule);
            ret = -1;
            continue;
        }
        for (j = 0; j != i; ++j) {
            yaml_node_t *earlier = node_at(p, node->data.sequence.items.start[j]);
            if (earlier->type == YAML_SCALAR_NODE &&
                (kind->ignore_case ? strcasecmp(scalar_of(earlier), s) : strcmp(scalar_of(earlier), s)) == 0)
                break;
        }
        if (j != i) {
            ef_conf_pos_t first = pos_of(node_at(p, node->data.sequence.items.start[j]));
            report(p, pos_of(item), "%s: duplicate %s %s (first listed on line %u, column %u)", name, kind->what, quote(buf, s),
                   first.line, first.column);
            ret = -1;
            continue;
        }
        stored = xstrdup(s);
        if (kind->ignore_case) {
            char *c;
            for (c = stored; *c != '\0'; ++c)
                if (*c >= 'A' && *c <= 'Z')
                    *c += 'a' - 'A';
        }
        (*names)[(*num)++] = stored;
    }
    return ret;
}

#define CACHE_KEY_OFFSET(m) (offsetof(ef_conf_cache_policy_t, key.m) - offsetof(ef_conf_cache_policy_t, key))

/* query: all, none, or a list of names; [] is none */
static int set_cache_key_query(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_cache_policy_t *cache = STRUCT_FROM_MEMBER(ef_conf_cache_policy_t, key.query, field);
    char buf[QUOTED_SIZE];
    int ret;

    free_names(&cache->key.query_names, &cache->key.num_query_names);
    if (node->type == YAML_SCALAR_NODE && !is_null(node)) {
        if (strcmp(scalar_of(node), "all") == 0) {
            cache->key.query = EF_CONF_KEY_QUERY_ALL;
        } else if (strcmp(scalar_of(node), "none") == 0) {
            cache->key.query = EF_CONF_KEY_QUERY_NONE;
        } else {
            report(p, pos_of(node), "%s: expected \"all\", \"none\" or a sequence of names, found %s", name, describe(buf, node));
            return -1;
        }
        return 0;
    }
    if (node->type == YAML_MAPPING_NODE) {
        report(p, pos_of(node), "%s: expected \"all\", \"none\" or a sequence of names, found a mapping", name);
        return -1;
    }
    /* a sequence, or a null: an empty one */
    ret = parse_names(p, name, node, &query_names, &cache->key.query_names, &cache->key.num_query_names);
    cache->key.query = cache->key.num_query_names != 0 ? EF_CONF_KEY_QUERY_LIST : EF_CONF_KEY_QUERY_NONE;
    return ret;
}

static int set_cache_key_headers(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_cache_policy_t *cache = STRUCT_FROM_MEMBER(ef_conf_cache_policy_t, key.headers, field);

    return parse_names(p, name, node, &header_names, &cache->key.headers, &cache->key.num_headers);
}

static int set_cache_key_cookies(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_cache_policy_t *cache = STRUCT_FROM_MEMBER(ef_conf_cache_policy_t, key.cookies, field);

    return parse_names(p, name, node, &cookie_names, &cache->key.cookies, &cache->key.num_cookies);
}

static const struct st_key cache_key_keys[] = {{"query", ANY_NODE, set_cache_key_query, CACHE_KEY_OFFSET(query)},
                                               {"headers", YAML_SEQUENCE_NODE, set_cache_key_headers, CACHE_KEY_OFFSET(headers)},
                                               {"cookies", YAML_SEQUENCE_NODE, set_cache_key_cookies, CACHE_KEY_OFFSET(cookies)},
                                               {NULL}};
static const struct st_section cache_key_section = {"cache.key.", cache_key_keys};

static int set_cache_key(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_behavior_t *behavior = STRUCT_FROM_MEMBER(ef_conf_behavior_t, cache.key, field);
    char where[QUOTED_SIZE + 48];

    walk_mapping(p, node, &cache_key_section, cache_where(p, where, behavior, ".key"), field);
    return 0;
}

/* default-ttl, min-ttl and max-ttl: 0 is fine (not cached, or always revalidated) */
static int set_ttl(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    char buf[QUOTED_SIZE];
    uint64_t ms;

    if (parse_duration(p, name, node, 0, &ms) != 0)
        return -1;
    if (ms > MAX_CACHE_TTL) {
        report(p, pos_of(node), "%s: must be at most " MAX_CACHE_TTL_TEXT ", found %s", name, quote(buf, scalar_of(node)));
        return -1;
    }
    *(uint64_t *)field = ms;
    return 0;
}

#define CACHE_OFFSET(m) (offsetof(ef_conf_cache_policy_t, m))

static const struct st_key cache_policy_keys[] = {{"default-ttl", YAML_SCALAR_NODE, set_ttl, CACHE_OFFSET(default_ttl)},
                                                  {"min-ttl", YAML_SCALAR_NODE, set_ttl, CACHE_OFFSET(min_ttl)},
                                                  {"max-ttl", YAML_SCALAR_NODE, set_ttl, CACHE_OFFSET(max_ttl)},
                                                  {"key", YAML_MAPPING_NODE, set_cache_key, CACHE_OFFSET(key)},
                                                  {NULL}};
static const struct st_section cache_policy_section = {"cache.", cache_policy_keys};

/* A behavior without cache: caches nothing, but its policy is complete all the same. */
static void init_cache_policy(ef_conf_cache_policy_t *cache)
{
    cache->enabled = 0;
    cache->default_ttl = DEFAULT_CACHE_TTL;
    cache->min_ttl = 0;
    cache->max_ttl = DEFAULT_CACHE_MAX_TTL;
    cache->key.query = EF_CONF_KEY_QUERY_NONE;
}

/* How a message shows a ttl: as written, or the default's value and that it is the default. */
static const char *ttl_text(struct st_parser *p, char *buf, size_t size, yaml_node_t *mapping, const char *key, uint64_t ms)
{
    yaml_node_t *value = value_named(p, mapping, key);
    char formatted[32];

    if (value != NULL)
        snprintf(buf, size, "%s", scalar_of(value));
    else
        snprintf(buf, size, "%s (the default)", ef_format_duration(ms, formatted, sizeof(formatted)));
    return buf;
}

/* Checks that min-ttl <= default-ttl <= max-ttl. A ttl given but invalid is UINT64_MAX here, and reported already: it is skipped.
 */
static void check_ttl_order(struct st_parser *p, ef_conf_cache_policy_t *cache, yaml_node_t *node)
{
    char a[QUOTED_SIZE], b[QUOTED_SIZE];

    if (cache->min_ttl != UINT64_MAX && cache->default_ttl != UINT64_MAX && cache->min_ttl > cache->default_ttl)
        /* min-ttl was given: its default, 0, is below any default-ttl */
        report(p, pos_of(value_named(p, node, "min-ttl")), "cache.min-ttl: %s is more than cache.default-ttl, %s",
               ttl_text(p, a, sizeof(a), node, "min-ttl", cache->min_ttl),
               ttl_text(p, b, sizeof(b), node, "default-ttl", cache->default_ttl));
    if (cache->default_ttl != UINT64_MAX && cache->max_ttl != UINT64_MAX && cache->default_ttl > cache->max_ttl) {
        if (value_named(p, node, "default-ttl") != NULL)
            report(p, pos_of(value_named(p, node, "default-ttl")), "cache.default-ttl: %s is more than cache.max-ttl, %s",
                   ttl_text(p, a, sizeof(a), node, "default-ttl", cache->default_ttl),
                   ttl_text(p, b, sizeof(b), node, "max-ttl", cache->max_ttl));
        else
            report(p, pos_of(value_named(p, node, "max-ttl")), "cache.max-ttl: %s is less than cache.default-ttl, %s",
                   ttl_text(p, a, sizeof(a), node, "max-ttl", cache->max_ttl),
                   ttl_text(p, b, sizeof(b), node, "default-ttl", cache->default_ttl));
    }
}

static int set_behavior_cache(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_behavior_t *behavior = STRUCT_FROM_MEMBER(ef_conf_behavior_t, cache, field);
    static const struct {
        const char *key;
        size_t offset;
        uint64_t value;
    } ttls[] = {{"default-ttl", CACHE_OFFSET(default_ttl), DEFAULT_CACHE_TTL},
                {"min-ttl", CACHE_OFFSET(min_ttl), 0},
                {"max-ttl", CACHE_OFFSET(max_ttl), DEFAULT_CACHE_MAX_TTL}};
    ef_conf_cache_policy_t *cache = field;
    char where[QUOTED_SIZE + 48];
    size_t i;

#define TTL_FIELD(i) ((uint64_t *)((char *)cache + ttls[i].offset))
    /* a null or {} is a cache with every default */
    cache->enabled = 1;
    /* UINT64_MAX, which no ttl may be, marks the ttls left unset: not given, or invalid */
    cache->default_ttl = cache->min_ttl = cache->max_ttl = UINT64_MAX;
    walk_mapping(p, node, &cache_policy_section, cache_where(p, where, behavior, ""), cache);
    /* the ones not given are compared as their defaults; an invalid one is not compared at all */
    for (i = 0; i != sizeof(ttls) / sizeof(ttls[0]); ++i)
        if (*TTL_FIELD(i) == UINT64_MAX && value_named(p, node, ttls[i].key) == NULL)
            *TTL_FIELD(i) = ttls[i].value;
    check_ttl_order(p, cache, node);
    for (i = 0; i != sizeof(ttls) / sizeof(ttls[0]); ++i)
        if (*TTL_FIELD(i) == UINT64_MAX)
            *TTL_FIELD(i) = ttls[i].value;
    return 0;
#undef TTL_FIELD
}

/* an item of behaviors: */

static const struct st_key behavior_keys[] = {
    {"path", YAML_SCALAR_NODE, set_path_pattern, offsetof(ef_conf_behavior_t, path), REQUIRED},
    {"origin", YAML_SCALAR_NODE, set_behavior_origin, offsetof(ef_conf_behavior_t, origin), REQUIRED},
    {"viewer-request", YAML_SCALAR_NODE, set_behavior_function, offsetof(ef_conf_behavior_t, functions[EF_HOOK_VIEWER_REQUEST])},
    {"origin-request", YAML_SCALAR_NODE, set_behavior_function, offsetof(ef_conf_behavior_t, functions[EF_HOOK_ORIGIN_REQUEST])},
    {"origin-response", YAML_SCALAR_NODE, set_behavior_function, offsetof(ef_conf_behavior_t, functions[EF_HOOK_ORIGIN_RESPONSE])},
    {"viewer-response", YAML_SCALAR_NODE, set_behavior_function, offsetof(ef_conf_behavior_t, functions[EF_HOOK_VIEWER_RESPONSE])},
    {"cache", YAML_MAPPING_NODE, set_behavior_cache, offsetof(ef_conf_behavior_t, cache)},
    {NULL}};
static const struct st_section behavior_section = {"", behavior_keys};

/* How messages name the `index`th behavior: by its path as written, or by number when it has none. */
static const char *behavior_label(struct st_parser *p, char *buf, yaml_node_t *item, size_t index)
{
    char quoted[QUOTED_SIZE];
    yaml_node_pair_t *pair;

    if (item->type == YAML_MAPPING_NODE) {
        for (pair = item->data.mapping.pairs.start; pair != item->data.mapping.pairs.top; ++pair) {
            yaml_node_t *key = node_at(p, pair->key), *value = node_at(p, pair->value);
            if (key->type == YAML_SCALAR_NODE && strcmp(scalar_of(key), "path") == 0 && value->type == YAML_SCALAR_NODE &&
                value->data.scalar.length != 0) {
                snprintf(buf, QUOTED_SIZE + 16, "behavior %s", quote(quoted, scalar_of(value)));
                return buf;
            }
        }
    }
    snprintf(buf, QUOTED_SIZE + 16, "behavior %zu", index + 1);
    return buf;
}

static int set_behaviors(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_t *conf = p->conf;
    char label[QUOTED_SIZE + 16], where[QUOTED_SIZE + 20], buf[QUOTED_SIZE];
    size_t i;

    if ((conf->num_behaviors = count_items(node)) == 0) {
        report(p, pos_of(node), "%s: at least one behavior is required", name);
        return -1;
    }
    p->behaviors = node;
    conf->behaviors = xcalloc(conf->num_behaviors, sizeof(conf->behaviors[0]));
    for (i = 0; i != conf->num_behaviors; ++i)
        init_cache_policy(&conf->behaviors[i].cache);
    for (i = 0; i != conf->num_behaviors; ++i) {
        yaml_node_t *item = node_at(p, node->data.sequence.items.start[i]);
        conf->behaviors[i].pos = pos_of(item);
        behavior_label(p, label, item, i);
        if (item->type != YAML_MAPPING_NODE) {
            report(p, pos_of(item), "%s: expected a mapping, found %s", label, describe(buf, item));
            continue;
        }
        snprintf(where, sizeof(where), "in %s", label);
        walk_mapping(p, item, &behavior_section, where, conf->behaviors + i);
    }
    return 0;
}

/* admin: */

static int set_admin_listen(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    p->admin_listen = node;
    return parse_endpoint(p, name, node, EF_CONF_DEFAULT_ADMIN_ADDRESS, field, &p->conf->admin.port);
}

static const struct st_key admin_keys[] = {
    {"listen", YAML_SCALAR_NODE, set_admin_listen, offsetof(ef_conf_t, admin.address)},
    {"token-file", YAML_SCALAR_NODE, set_readable_file, offsetof(ef_conf_t, admin.token_file)},
    {NULL}};
static const struct st_section admin_section = {"admin.", admin_keys};

static int set_admin(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    p->conf->admin.enabled = 1;
    p->conf->admin.pos = pos_of(node);
    walk_mapping(p, node, &admin_section, "in admin", p->conf);
    return 0;
}

/* cache: at the top level, the memory that every behavior's cache shares */

static int set_cache_memory(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    char buf[QUOTED_SIZE];
    uint64_t bytes;

    if (parse_positive_size(p, name, node, &bytes) != 0)
        return -1;
    if (bytes < MIN_CACHE_MEMORY || bytes > MAX_CACHE_MEMORY) {
        report(p, pos_of(node), "%s: must be " CACHE_MEMORY_RANGE_TEXT ", found %s", name, quote(buf, scalar_of(node)));
        return -1;
    }
    *(uint64_t *)field = bytes;
    return 0;
}

/* the upper bound that matters is cache.memory, which may come later: set_cache compares them */
static int set_max_object_size(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    char buf[QUOTED_SIZE];
    uint64_t bytes;

    if (parse_positive_size(p, name, node, &bytes) != 0)
        return -1;
    if (bytes < MIN_MAX_OBJECT_SIZE || bytes > MAX_CACHE_MEMORY) {
        report(p, pos_of(node), "%s: must be " MAX_OBJECT_SIZE_RANGE_TEXT ", found %s", name, quote(buf, scalar_of(node)));
        return -1;
    }
    *(uint64_t *)field = bytes;
    return 0;
}

/* a price in US dollars: a non-negative number */
static int set_price(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    const char *s = scalar_of(node);
    char *end, buf[QUOTED_SIZE];
    double v = strtod(s, &end);

    if (*s == '\0' || *end != '\0' || !(v >= 0) || v > 1e6) {
        report(p, pos_of(node), "%s: expected a price in US dollars (a number such as 0.0000006), found %s", name,
               describe(buf, node));
        return -1;
    }
    *(double *)field = v;
    return 0;
}

static const struct st_key pricing_keys[] = {
    {"lambda-edge-request", YAML_SCALAR_NODE, set_price, offsetof(ef_conf_t, pricing.lambda_edge_request)},
    {"lambda-edge-gb-second", YAML_SCALAR_NODE, set_price, offsetof(ef_conf_t, pricing.lambda_edge_gb_second)},
    {"cloudfront-functions-invocation", YAML_SCALAR_NODE, set_price, offsetof(ef_conf_t, pricing.cloudfront_functions_invocation)},
    {NULL}};
static const struct st_section pricing_section = {"pricing.", pricing_keys};

static int set_pricing(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    walk_mapping(p, node, &pricing_section, "in pricing", p->conf);
    return 0;
}

static int set_async_concurrency(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    uint64_t n;

    if (parse_integer(p, name, node, 1, 1024, "", &n) != 0)
        return -1;
    *(unsigned *)field = (unsigned)n;
    return 0;
}

static int set_max_queued(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    uint64_t n;

    if (parse_integer(p, name, node, 1, 10000000, "", &n) != 0)
        return -1;
    *(unsigned *)field = (unsigned)n;
    return 0;
}

static const struct st_key async_keys[] = {
    {"queue-directory", YAML_SCALAR_NODE, set_writable_directory, offsetof(ef_conf_t, async.queue_directory)},
    {"retry-delay", YAML_SCALAR_NODE, set_positive_duration, offsetof(ef_conf_t, async.retry_delay)},
    {"concurrency", YAML_SCALAR_NODE, set_async_concurrency, offsetof(ef_conf_t, async.concurrency)},
    {"max-queued", YAML_SCALAR_NODE, set_max_queued, offsetof(ef_conf_t, async.max_queued)},
    {NULL}};
static const struct st_section async_section = {"async.", async_keys};

static int set_async(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    walk_mapping(p, node, &async_section, "in async", p->conf);
    return 0;
}

static const struct st_key cache_keys[] = {
    {"memory", YAML_SCALAR_NODE, set_cache_memory, offsetof(ef_conf_t, cache.memory)},
    {"max-object-size", YAML_SCALAR_NODE, set_max_object_size, offsetof(ef_conf_t, cache.max_object_size)},
    {NULL}};
static const struct st_section cache_section = {"cache.", cache_keys};

static int set_cache(struct st_parser *p, const char *name, yaml_node_t *node, void *field)
{
    ef_conf_t *conf = p->conf;
    yaml_node_t *memory, *max_object_size;

    /* 0, which neither may be, marks a value given but invalid: it is reported already, and not compared */
    conf->cache.memory = conf->cache.max_object_size = 0;
    walk_mapping(p, node, &cache_section, "in cache", conf);
    memory = value_named(p, node, "memory");
    max_object_size = value_named(p, node, "max-object-size");
    if (memory == NULL)
        conf->cache.memory = DEFAULT_CACHE_MEMORY;
    if (max_object_size == NULL)
        conf->cache.max_object_size = DEFAULT_CACHE_MAX_OBJECT_SIZE;
    if (conf->cache.memory != 0 && conf->cache.max_object_size > conf->cache.memory) {
        if (max_object_size != NULL)
            report(p, pos_of(max_object_size), "cache.max-object-size: %s is more than cache.memory, %s",
                   scalar_of(max_object_size), memory != NULL ? scalar_of(memory) : "256MB (the default)");
        else
            report(p, pos_of(memory), "cache.memory: %s is less than cache.max-object-size, 10MB (the default)", scalar_of(memory));
    }
    if (conf->cache.memory == 0)
        conf->cache.memory = DEFAULT_CACHE_MEMORY;
    if (conf->cache.max_object_size == 0)
        conf->cache.max_object_size = DEFAULT_CACHE_MAX_OBJECT_SIZE;
    return 0;
}

/* the top level; listen, origins, functions and behaviors fill an array and its count, so their setters work on the conf itself */

static const struct st_key top_keys[] = {
    {"threads", YAML_SCALAR_NODE, set_threads, offsetof(ef_conf_t, threads)},
    {"listen", YAML_SEQUENCE_NODE, set_listen, offsetof(ef_conf_t, listen), REQUIRED},
    {"origins", YAML_MAPPING_NODE, set_origins, offsetof(ef_conf_t, origins), REQUIRED},
    {"functions", YAML_MAPPING_NODE, set_functions, offsetof(ef_conf_t, functions)},
    {"behaviors", YAML_SEQUENCE_NODE, set_behaviors, offsetof(ef_conf_t, behaviors), REQUIRED},
    {"access-log", YAML_SCALAR_NODE, set_access_log, offsetof(ef_conf_t, access_log)},
    {"function-logs", YAML_SCALAR_NODE, set_function_logs, offsetof(ef_conf_t, function_logs)},
    {"function-log-format", YAML_SCALAR_NODE, set_function_log_format, offsetof(ef_conf_t, function_logs.json)},
    {"admin", YAML_MAPPING_NODE, set_admin, offsetof(ef_conf_t, admin)},
    {"drain-timeout", YAML_SCALAR_NODE, set_duration, offsetof(ef_conf_t, drain_timeout)},
    {"max-request-body", YAML_SCALAR_NODE, set_positive_size, offsetof(ef_conf_t, max_request_body)},
    {"cache", YAML_MAPPING_NODE, set_cache, offsetof(ef_conf_t, cache)},
    {"pricing", YAML_MAPPING_NODE, set_pricing, offsetof(ef_conf_t, pricing)},
    {"async", YAML_MAPPING_NODE, set_async, offsetof(ef_conf_t, async)},
    {NULL}};
static const struct st_section top_section = {"", top_keys};

/* ---- checks that need the whole file ---- */

/* "a, b, c": the names of `num` entries of `size` bytes each, whose name is the char * at `name_offset`. */
static char *join_names(const void *entries, size_t num, size_t size, size_t name_offset)
{
    char *joined;
    size_t i, len;

#define NAME_AT(i) (*(char *const *)((const char *)entries + (i)*size + name_offset))
    for (len = 1, i = 0; i != num; ++i)
        len += strlen(NAME_AT(i)) + 2;
    joined = xmalloc(len);
    for (len = 0, i = 0; i != num; ++i)
        len += sprintf(joined + len, "%s%s", i == 0 ? "" : ", ", NAME_AT(i));
    joined[len] = '\0';
#undef NAME_AT
    return joined;
}

static void resolve_origins(struct st_parser *p)
{
    ef_conf_t *conf = p->conf;
    char label[QUOTED_SIZE + 16], buf[QUOTED_SIZE], *defined;
    size_t i, j;

    /* with no origins, "origins" is missing or empty, which is reported already */
    if (conf->num_origins == 0)
        return;
    defined = join_names(conf->origins, conf->num_origins, sizeof(conf->origins[0]), offsetof(ef_conf_origin_t, name));

    for (i = 0; i != p->pending.size; ++i) {
        struct st_pending_origin *pending = p->pending.entries + i;
        for (j = 0; j != conf->num_origins; ++j)
            if (strcmp(conf->origins[j].name, scalar_of(pending->name)) == 0)
                break;
        if (j != conf->num_origins) {
            *pending->slot = conf->origins + j;
        } else {
            size_t index = STRUCT_FROM_MEMBER(ef_conf_behavior_t, origin, pending->slot) - conf->behaviors;
            behavior_label(p, label, node_at(p, p->behaviors->data.sequence.items.start[index]), index);
            report(p, pos_of(pending->name), "%s: origin %s is not defined (defined: %s)", label,
                   quote(buf, scalar_of(pending->name)), defined);
        }
    }
    free(defined);
}

static void resolve_functions(struct st_parser *p)
{
    ef_conf_t *conf = p->conf;
    char label[QUOTED_SIZE + 16], buf[QUOTED_SIZE], *defined;
    size_t i, j;

    defined = join_names(conf->functions, conf->num_functions, sizeof(conf->functions[0]), offsetof(ef_conf_function_t, name));
    for (i = 0; i != p->pending_functions.size; ++i) {
        struct st_pending_function *pending = p->pending_functions.entries + i;
        size_t index, hook;
        for (j = 0; j != conf->num_functions; ++j)
            if (strcmp(conf->functions[j].name, scalar_of(pending->name)) == 0)
                break;
        if (j != conf->num_functions) {
            *pending->slot = conf->functions + j;
            continue;
        }
        index = ((char *)pending->slot - (char *)conf->behaviors) / sizeof(conf->behaviors[0]);
        hook = pending->slot - conf->behaviors[index].functions;
        behavior_label(p, label, node_at(p, p->behaviors->data.sequence.items.start[index]), index);
        if (conf->num_functions == 0)
            report(p, pos_of(pending->name), "%s: %s function %s is not defined (no functions are defined)", label,
                   ef_hook_names[hook], quote(buf, scalar_of(pending->name)));
        else
            report(p, pos_of(pending->name), "%s: %s function %s is not defined (defined: %s)", label, ef_hook_names[hook],
                   quote(buf, scalar_of(pending->name)), defined);
    }
    free(defined);
}

static void check_admin_listen(struct st_parser *p)
{
    ef_conf_t *conf = p->conf;
    char endpoint[INET6_ADDRSTRLEN + 16];
    size_t i;

    if (p->admin_listen == NULL)
        return;
    for (i = 0; i != conf->num_listen; ++i) {
        if (same_endpoint(conf->admin.address, conf->admin.port, conf->listen[i].address, conf->listen[i].port)) {
            report(p, pos_of(p->admin_listen), "admin.listen: %s is already used by the listener on line %u",
                   format_endpoint(endpoint, sizeof(endpoint), conf->admin.address, conf->admin.port), conf->listen[i].pos.line);
            return;
        }
    }
}

/* ---- loading ---- */

/* The byte at `pos` of `text`, or NUL; columns count characters, so this is exact only on ASCII lines. */
static char byte_at(const char *text, size_t len, ef_conf_pos_t pos)
{
    const char *line = text, *end = text + len;
    unsigned n;

    for (n = 1; n < pos.line; ++n) {
        if ((line = memchr(line, '\n', end - line)) == NULL)
            return '\0';
        ++line;
    }
    return pos.column - 1 < (size_t)(end - line) ? line[pos.column - 1] : '\0';
}

static void report_syntax_error(struct st_parser *p, yaml_parser_t *parser, const char *text, size_t len)
{
    ef_conf_pos_t pos = {(unsigned)parser->problem_mark.line + 1, (unsigned)parser->problem_mark.column + 1};
    const char *hint = "";
    size_t i;

    if (parser->error == YAML_MEMORY_ERROR)
        abort();
    if (parser->error == YAML_READER_ERROR) {
        /* the reader knows only the byte offset */
        pos = (ef_conf_pos_t){1, 1};
        for (i = 0; i != parser->problem_offset && i != len; ++i) {
            if (text[i] == '\n') {
                ++pos.line;
                pos.column = 1;
            } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
                ++pos.column;
            }
        }
    } else if (byte_at(text, len, pos) == '\t') {
        /* libyaml's words for the most common YAML mistake do not say what it is */
        hint = "; YAML does not allow tabs for indentation";
    }
    if (parser->context != NULL)
        report(p, pos, "YAML syntax error: %s (%s at line %u)%s", parser->problem, parser->context,
               (unsigned)parser->context_mark.line + 1, hint);
    else
        report(p, pos, "YAML syntax error: %s%s", parser->problem != NULL ? parser->problem : "unknown error", hint);
}

/* Loads the one document of `text` into p->doc; a syntax error is reported and ends parsing. */
static int load_document(struct st_parser *p, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t next;
    yaml_node_t *root;
    int ret = -1;

    if (!yaml_parser_initialize(&parser))
        abort();
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &p->doc)) {
        report_syntax_error(p, &parser, text, len);
        goto Exit;
    }
    /* what follows the document must be read too, or a broken tail would go unnoticed */
    if (!yaml_parser_load(&parser, &next)) {
        report_syntax_error(p, &parser, text, len);
        yaml_document_delete(&p->doc);
        goto Exit;
    }
    if ((root = yaml_document_get_root_node(&next)) != NULL) {
        report(p, pos_of(root), "expected one YAML document, found a second one");
        yaml_document_delete(&next);
        yaml_document_delete(&p->doc);
        goto Exit;
    }
    yaml_document_delete(&next);
    ret = 0;
Exit:
    yaml_parser_delete(&parser);
    return ret;
}

static void init_conf(ef_conf_t *conf, const char *file, char *dir)
{
    memset(conf, 0, sizeof(*conf));
    conf->file = xstrdup(file);
    conf->dir = dir;
    conf->threads = 0;
    conf->access_log.kind = EF_CONF_LOG_STDERR;
    conf->function_logs.kind = EF_CONF_LOG_STDERR;
    conf->admin.address = xstrdup(EF_CONF_DEFAULT_ADMIN_ADDRESS);
    conf->admin.port = EF_CONF_DEFAULT_ADMIN_PORT;
    conf->drain_timeout = EF_CONF_DEFAULT_DRAIN_TIMEOUT;
    conf->max_request_body = EF_CONF_DEFAULT_MAX_REQUEST_BODY;
    conf->cache.memory = DEFAULT_CACHE_MEMORY;
    conf->cache.max_object_size = DEFAULT_CACHE_MAX_OBJECT_SIZE;
    /* AWS's list prices (us-east-1) */
    conf->pricing.lambda_edge_request = 0.0000006;
    conf->pricing.lambda_edge_gb_second = 0.00005001;
    conf->pricing.cloudfront_functions_invocation = 0.0000001;
    conf->async.retry_delay = 60 * 1000;
    conf->async.concurrency = 16;
    conf->async.max_queued = 100000;
}

/* `path` made absolute against the working directory. */
static char *absolute_path(const char *path)
{
    char *cwd = getcwd(NULL, 0), *abs = join_path(cwd != NULL ? cwd : "/", path);

    free(cwd);
    return abs;
}

static int parse(ef_conf_t *conf, const char *text, size_t len, ef_conf_errors_t *errors)
{
    struct st_parser p = {conf};
    yaml_node_t *root;
    char buf[QUOTED_SIZE];
    int ret;

    if (load_document(&p, text, len) == 0) {
        if ((root = yaml_document_get_root_node(&p.doc)) == NULL) {
            report(&p, (ef_conf_pos_t){1, 1}, "the config is empty; expected a mapping with listen, origins and behaviors");
        } else if (root->type != YAML_MAPPING_NODE) {
            report(&p, pos_of(root), "expected a mapping at the top level, found %s", describe(buf, root));
        } else {
            walk_mapping(&p, root, &top_section, "at the top level", conf);
            resolve_origins(&p);
            resolve_functions(&p);
            check_admin_listen(&p);
        }
        yaml_document_delete(&p.doc);
    }
    ret = p.errors.size == 0 ? 0 : -1;
    flush_errors(&p, errors);
    free(p.pending.entries);
    free(p.pending_functions.entries);
    return ret;
}

static int read_file(const char *path, char **text, size_t *len)
{
    size_t capacity = 8192;
    ssize_t r;
    int fd, saved_errno, ret = -1;

    *text = NULL;
    *len = 0;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
        return -1;
    *text = xmalloc(capacity);
    while ((r = read(fd, *text + *len, capacity - *len)) != 0) {
        if (r == -1) {
            if (errno == EINTR)
                continue;
            goto Exit;
        }
        if ((*len += r) == capacity)
            *text = xrealloc(*text, capacity *= 2);
    }
    ret = 0;
Exit:
    saved_errno = errno;
    close(fd);
    errno = saved_errno;
    return ret;
}

int ef_conf_load(ef_conf_t *conf, const char *path, ef_conf_errors_t *errors)
{
    char *file = absolute_path(path), *text = NULL;
    size_t len;
    int ret = -1;

    init_conf(conf, path, join_path(file, ".."));
    free(file);
    if (read_file(path, &text, &len) != 0) {
        append_error(errors, xsprintf("%s: cannot read: %s", path, strerror(errno)));
        goto Exit;
    }
    ret = parse(conf, text, len, errors);
Exit:
    free(text);
    return ret;
}

int ef_conf_parse(ef_conf_t *conf, const char *name, const char *dir, const char *text, size_t len, ef_conf_errors_t *errors)
{
    init_conf(conf, name, absolute_path(dir != NULL ? dir : "."));
    return parse(conf, text, len, errors);
}

void ef_conf_dispose(ef_conf_t *conf)
{
    size_t i;

    for (i = 0; i != conf->num_listen; ++i) {
        free(conf->listen[i].address);
        free(conf->listen[i].tls.certificate);
        free(conf->listen[i].tls.key);
    }
    free(conf->listen);
    for (i = 0; i != conf->num_origins; ++i) {
        free(conf->origins[i].name);
        free(conf->origins[i].url.raw);
        free(conf->origins[i].url.host);
        free(conf->origins[i].url.authority);
        free(conf->origins[i].url.prefix);
        free(conf->origins[i].directory);
    }
    free(conf->origins);
    for (i = 0; i != conf->num_behaviors; ++i) {
        free(conf->behaviors[i].path);
        free_cache_key(&conf->behaviors[i].cache);
    }
    free(conf->behaviors);
    for (i = 0; i != conf->num_functions; ++i) {
        free(conf->functions[i].name);
        free(conf->functions[i].code);
        free(conf->functions[i].code_dir);
        free(conf->functions[i].module_file);
        free(conf->functions[i].handler);
        free_environment(conf->functions + i);
        free(conf->functions[i].async.on_failure);
    }
    free(conf->functions);
    free(conf->function_logs.dir);
    free(conf->access_log.path);
    free(conf->async.queue_directory);
    free(conf->admin.address);
    free(conf->admin.token_file);
    free(conf->file);
    free(conf->dir);
    memset(conf, 0, sizeof(*conf));
}

void ef_conf_error(ef_conf_errors_t *errors, const ef_conf_t *conf, ef_conf_pos_t pos, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    append_error(errors, format_error(conf, pos, fmt, ap));
    va_end(ap);
}

void ef_conf_errors_dispose(ef_conf_errors_t *errors)
{
    size_t i;

    for (i = 0; i != errors->size; ++i)
        free(errors->entries[i]);
    free(errors->entries);
    memset(errors, 0, sizeof(*errors));
}
