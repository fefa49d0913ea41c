#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "functions/event_json.h"

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);
    return -1;
}

static h2o_iovec_t dup_string(h2o_mem_pool_t *pool, const json_t *s)
{
    return h2o_strdup(pool, json_string_value(s), json_string_length(s));
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* {"value": "v", "attributes": "a"} or "v" alone, as one item */
static int read_item(h2o_mem_pool_t *pool, const char *what, const char *name, json_t *v, ef_event_item_t *item, char *err,
                     size_t errlen)
{
    json_t *value, *attributes;

    if (json_is_string(v)) {
        *item = (ef_event_item_t){dup_string(pool, v)};
        return 0;
    }
    if (!json_is_object(v) || !json_is_string(value = json_object_get(v, "value")))
        return fail(err, errlen, "%s \"%s\": expected {\"value\": \"...\"}", what, name);
    *item = (ef_event_item_t){dup_string(pool, value)};
    if ((attributes = json_object_get(v, "attributes")) != NULL) {
        if (!json_is_string(attributes))
            return fail(err, errlen, "%s \"%s\": attributes must be a string, not %s", what, name, type_name(attributes));
        item->attributes = dup_string(pool, attributes);
    }
    return 0;
}

/* Reads {"name": entry, ...}, where an entry has a value or a multiValue (which wins), into `out`. */
static int read_entries(h2o_mem_pool_t *pool, const char *what, json_t *object, ef_event_params_t *out, char *err, size_t errlen)
{
    const char *name;
    json_t *entry, *multi, *v;
    size_t i;

    if (!json_is_object(object))
        return fail(err, errlen, "%ss must be an object, not %s", what, type_name(object));
    json_object_foreach(object, name, entry)
    {
        h2o_iovec_t n = h2o_strdup(pool, name, SIZE_MAX);
        ef_event_item_t item;
        /* CloudFront Functions: {"value", "multiValue": [...]}; Lambda@Edge and the short form: an array of values */
        if (json_is_array(entry) || (json_is_object(entry) && (multi = json_object_get(entry, "multiValue")) != NULL)) {
            if (json_is_array(entry))
                multi = entry;
            else if (!json_is_array(multi))
                return fail(err, errlen, "%s \"%s\": multiValue must be an array, not %s", what, name, type_name(multi));
            json_array_foreach(multi, i, v)
            {
                if (read_item(pool, what, name, v, &item, err, errlen) != 0)
                    return -1;
                ef_event_add_param(pool, out, n, item.value, item.attributes);
            }
            continue;
        }
        if (read_item(pool, what, name, entry, &item, err, errlen) != 0)
            return -1;
        ef_event_add_param(pool, out, n, item.value, item.attributes);
    }
    return 0;
}

/* Checks the values (and attributes) of cookies as header values: no CR, LF or NUL. */
static int check_cookies(const char *what, const ef_event_params_t *params, char *err, size_t errlen)
{
    for (size_t i = 0; i != params->size; ++i) {
        const ef_event_param_t *p = params->entries + i;
        if (ef_event_check_header_value(p->name, p->item.value, err, errlen) != 0 ||
            ef_event_check_header_value(p->name, p->item.attributes, err, errlen) != 0) {
            char why[200];
            snprintf(why, sizeof(why), "%s", err);
            return fail(err, errlen, "%s \"%.*s\": %s", what, (int)(p->name.len < 64 ? p->name.len : 64), p->name.base, why);
        }
    }
    return 0;
}

/* "headers": replaces every header but the cookies, which have an object of their own */
static int read_headers(h2o_mem_pool_t *pool, json_t *object, h2o_headers_t *headers, const h2o_token_t *cookie_token, char *err,
                        size_t errlen)
{
    ef_event_params_t params = {NULL};
    h2o_headers_t kept = {NULL};

    if (read_entries(pool, "header", object, &params, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i != headers->size; ++i)
        if (headers->entries[i].name == &cookie_token->buf) {
            h2o_vector_reserve(pool, &kept, kept.size + 1);
            kept.entries[kept.size++] = headers->entries[i];
        }
    *headers = kept;
    for (size_t i = 0; i != params.size; ++i) {
        ef_event_param_t *p = params.entries + i;
        h2o_strtolower(p->name.base, p->name.len);
        if (ef_event_check_header_value(p->name, p->item.value, err, errlen) != 0)
            return -1;
        ef_event_add_header(pool, headers, p->name, p->item.value);
    }
    return 0;
}

/* A body: a string, or {"data": "...", "encoding": "text" | "base64"} (CloudFront Functions and Lambda@Edge) */
static int read_body(h2o_mem_pool_t *pool, const char *what, json_t *v, h2o_iovec_t *body, char *err, size_t errlen)
{
    json_t *data = v, *encoding = NULL;

    if (json_is_object(v)) {
        data = json_object_get(v, "data");
        encoding = json_object_get(v, "encoding");
    }
    if (!json_is_string(data))
        return fail(err, errlen, "%s must be a string or {\"data\": \"...\", \"encoding\": \"text\" or \"base64\"}", what);
    if (encoding == NULL || (json_is_string(encoding) && (strcmp(json_string_value(encoding), "text") == 0))) {
        *body = dup_string(pool, data);
        return 0;
    }
    if (!json_is_string(encoding) || strcmp(json_string_value(encoding), "base64") != 0)
        return fail(err, errlen, "%s.encoding must be \"text\" or \"base64\"", what);
    if (ef_event_decode_base64(pool, h2o_iovec_init(json_string_value(data), json_string_length(data)), body) != 0)
        return fail(err, errlen, "%s.data is not base64", what);
    return 0;
}

static int read_request(ef_event_t *ev, json_t *request, char *err, size_t errlen)
{
    h2o_mem_pool_t *pool = ev->pool;
    ef_event_params_t params = {NULL};
    json_t *v;

    if (!json_is_object(request))
        return fail(err, errlen, "request must be an object, not %s", type_name(request));
    if ((v = json_object_get(request, "method")) != NULL) {
        if (!json_is_string(v) || json_string_length(v) == 0)
            return fail(err, errlen, "request.method must be a non-empty string");
        ev->request.method = dup_string(pool, v);
    }
    if ((v = json_object_get(request, "uri")) != NULL) {
        if (!json_is_string(v))
            return fail(err, errlen, "request.uri must be a string, not %s", type_name(v));
        ev->request.path = dup_string(pool, v);
        if (ef_event_check_path(ev->request.path, err, errlen) != 0)
            return -1;
    }
    if ((v = json_object_get(request, "querystring")) != NULL) {
        h2o_iovec_t q;
        if (json_is_string(v)) {
            q = dup_string(pool, v);
            if (q.len != 0 && q.base[0] == '?')
                ++q.base, --q.len;
        } else {
            if (read_entries(pool, "querystring parameter", v, &params, err, errlen) != 0)
                return -1;
            q = ef_event_join_params(pool, &params, "&");
        }
        ev->request.query = q.len != 0 ? q : h2o_iovec_init(NULL, 0);
    }
    if ((v = json_object_get(request, "headers")) != NULL &&
        read_headers(pool, v, ev->request.headers, H2O_TOKEN_COOKIE, err, errlen) != 0)
        return -1;
    if ((v = json_object_get(request, "body")) != NULL && read_body(pool, "request.body", v, &ev->request.body, err, errlen) != 0)
        return -1;
    if ((v = json_object_get(request, "cookies")) != NULL) {
        params = (ef_event_params_t){NULL};
        if (read_entries(pool, "cookie", v, &params, err, errlen) != 0 || check_cookies("cookie", &params, err, errlen) != 0)
            return -1;
        ef_event_delete_headers(ev->request.headers, H2O_TOKEN_COOKIE->buf);
        if (params.size != 0) {
            h2o_iovec_t joined = ef_event_join_params(pool, &params, "; ");
            h2o_add_header(pool, ev->request.headers, H2O_TOKEN_COOKIE, NULL, joined.base, joined.len);
        }
    }
    return 0;
}

static int read_response(ef_event_t *ev, json_t *response, char *err, size_t errlen)
{
    h2o_mem_pool_t *pool = ev->pool;
    json_t *v;

    if (!json_is_object(response))
        return fail(err, errlen, "response must be an object, not %s", type_name(response));
    if ((v = json_object_get(response, "statusCode")) != NULL || (v = json_object_get(response, "status")) != NULL) {
        /* Lambda@Edge writes the status as a string; take both */
        json_int_t status = json_is_integer(v)  ? json_integer_value(v)
                            : json_is_string(v) ? strtol(json_string_value(v), NULL, 10)
                                                : 0;
        if (status < 100 || status > 599)
            return fail(err, errlen, "response.statusCode must be an integer from 100 to 599");
        ev->response.status = (int)status;
    }
    if ((v = json_object_get(response, "statusDescription")) != NULL) {
        if (!json_is_string(v))
            return fail(err, errlen, "response.statusDescription must be a string, not %s", type_name(v));
        if (strcspn(json_string_value(v), "\r\n") != json_string_length(v))
            return fail(err, errlen, "response.statusDescription must not contain CR, LF or NUL");
        ev->response.reason = dup_string(pool, v);
    }
    if ((v = json_object_get(response, "headers")) != NULL &&
        read_headers(pool, v, ev->response.headers, H2O_TOKEN_SET_COOKIE, err, errlen) != 0)
        return -1;
    if ((v = json_object_get(response, "body")) != NULL) {
        if (read_body(pool, "response.body", v, &ev->response.body, err, errlen) != 0)
            return -1;
        ev->response.has_body = 1;
    }
    if ((v = json_object_get(response, "cookies")) != NULL) {
        ef_event_params_t params = {NULL};
        if (read_entries(pool, "cookie", v, &params, err, errlen) != 0 || check_cookies("cookie", &params, err, errlen) != 0)
            return -1;
        ef_event_delete_headers(ev->response.headers, H2O_TOKEN_SET_COOKIE->buf);
        for (size_t i = 0; i != params.size; ++i) {
            ef_event_param_t *p = params.entries + i;
            h2o_iovec_t line = p->item.attributes.len != 0
                                   ? h2o_concat(pool, p->name, h2o_iovec_init(H2O_STRLIT("=")), p->item.value,
                                                h2o_iovec_init(H2O_STRLIT("; ")), p->item.attributes)
                                   : h2o_concat(pool, p->name, h2o_iovec_init(H2O_STRLIT("=")), p->item.value);
            h2o_add_header(pool, ev->response.headers, H2O_TOKEN_SET_COOKIE, NULL, line.base, line.len);
        }
    }
    return 0;
}

/* A hook's name, as "context.eventType" (`what`) has it, into `*hook` */
static int read_hook(json_t *name, const char *what, ef_hook_t *hook, char *err, size_t errlen)
{
    for (int i = 0; i != EF_NUM_HOOKS; ++i) {
        if (json_is_string(name) && strcmp(json_string_value(name), ef_hook_names[i]) == 0) {
            *hook = i;
            return 0;
        }
    }
    if (json_is_string(name))
        return fail(err, errlen, "%s: \"%.64s\" is not a hook (viewer-request, origin-request, origin-response, viewer-response)",
                    what, json_string_value(name));
    return fail(err, errlen, "%s must be one of viewer-request, origin-request, origin-response, viewer-response", what);
}

int ef_event_read_cf_json(ef_event_t *ev, json_t *root, ef_hook_t *hook, char *err, size_t errlen)
{
    json_t *v, *type;

    if (!json_is_object(root))
        return fail(err, errlen, "the event must be a JSON object, not %s", type_name(root));
    if ((v = json_object_get(root, "context")) != NULL && (type = json_object_get(v, "eventType")) != NULL &&
        read_hook(type, "context.eventType", hook, err, errlen) != 0)
        return -1;
    if ((v = json_object_get(root, "viewer")) != NULL && (v = json_object_get(v, "ip")) != NULL) {
        if (!json_is_string(v))
            return fail(err, errlen, "viewer.ip must be a string, not %s", type_name(v));
        ev->client_ip = dup_string(ev->pool, v);
    }
    if ((v = json_object_get(root, "request")) != NULL && read_request(ev, v, err, errlen) != 0)
        return -1;
    if ((v = json_object_get(root, "response")) != NULL && read_response(ev, v, err, errlen) != 0)
        return -1;
    return 0;
}

/* {"Records": [{"cf": {"config": {"eventType"}, "request": {"clientIp", ...}, "response": {"status", ...}}}]} */
static int read_lambda(ef_event_t *ev, json_t *root, ef_hook_t *hook, char *err, size_t errlen)
{
    json_t *records = json_object_get(root, "Records"), *cf, *v;

    if (!json_is_array(records) || json_array_size(records) != 1 ||
        !json_is_object(cf = json_object_get(json_array_get(records, 0), "cf")))
        return fail(err, errlen, "Records must be an array of one record, {\"cf\": {\"config\": ..., \"request\": ...}}");
    if ((v = json_object_get(json_object_get(cf, "config"), "eventType")) != NULL &&
        read_hook(v, "Records[0].cf.config.eventType", hook, err, errlen) != 0)
        return -1;
    if ((v = json_object_get(cf, "request")) != NULL) {
        json_t *ip = json_object_get(v, "clientIp");
        if (ip != NULL) {
            if (!json_is_string(ip))
                return fail(err, errlen, "request.clientIp must be a string, not %s", type_name(ip));
            ev->client_ip = dup_string(ev->pool, ip);
        }
        if (read_request(ev, v, err, errlen) != 0)
            return -1;
    }
    if ((v = json_object_get(cf, "response")) != NULL && read_response(ev, v, err, errlen) != 0)
        return -1;
    return 0;
}

/* {"hook", "method", "uri": "/path?query", "headers": {"name": "value" or ["value", ...]}, "status", "responseHeaders"} */
static int read_short(ef_event_t *ev, json_t *root, ef_hook_t *hook, char *err, size_t errlen)
{
    json_t *request = json_object(), *response = json_object(), *v;
    int ret = -1;

    if (read_hook(json_object_get(root, "hook"), "hook", hook, err, errlen) != 0)
        goto Exit;
    if ((v = json_object_get(root, "method")) != NULL)
        json_object_set(request, "method", v);
    if ((v = json_object_get(root, "uri")) != NULL) {
        const char *q;
        if (!json_is_string(v)) {
            fail(err, errlen, "uri must be a string, not %s", type_name(v));
            goto Exit;
        }
        if ((q = memchr(json_string_value(v), '?', json_string_length(v))) != NULL) {
            json_object_set_new(request, "uri", json_stringn(json_string_value(v), q - json_string_value(v)));
            json_object_set_new(request, "querystring", json_string(q + 1));
        } else {
            json_object_set(request, "uri", v);
        }
    }
    if ((v = json_object_get(root, "headers")) != NULL)
        json_object_set(request, "headers", v);
    if ((v = json_object_get(root, "body")) != NULL)
        json_object_set(request, "body", v);
    if ((v = json_object_get(root, "status")) != NULL)
        json_object_set(response, "statusCode", v);
    if ((v = json_object_get(root, "responseHeaders")) != NULL)
        json_object_set(response, "headers", v);
    if ((v = json_object_get(root, "clientIp")) != NULL) {
        if (!json_is_string(v)) {
            fail(err, errlen, "clientIp must be a string, not %s", type_name(v));
            goto Exit;
        }
        ev->client_ip = dup_string(ev->pool, v);
    }
    /* headers given replace the defaults', but a request always has a Host: the default's unless they give one */
    ssize_t host = h2o_find_header(ev->request.headers, H2O_TOKEN_HOST, -1);
    h2o_iovec_t default_host = host != -1 ? ev->request.headers->entries[host].value : h2o_iovec_init(NULL, 0);
    if (read_request(ev, request, err, errlen) != 0 || read_response(ev, response, err, errlen) != 0)
        goto Exit;
    if (default_host.base != NULL && h2o_find_header(ev->request.headers, H2O_TOKEN_HOST, -1) == -1)
        h2o_add_header(ev->pool, ev->request.headers, H2O_TOKEN_HOST, NULL, default_host.base, default_host.len);
    ret = 0;
Exit:
    json_decref(request);
    json_decref(response);
    return ret;
}

int ef_event_read_json(ef_event_t *ev, json_t *root, ef_hook_t *hook, char *err, size_t errlen)
{
    if (!json_is_object(root))
        return fail(err, errlen, "the event must be a JSON object, not %s", type_name(root));
    if (json_object_get(root, "Records") != NULL)
        return read_lambda(ev, root, hook, err, errlen);
    if (json_object_get(root, "hook") != NULL)
        return read_short(ev, root, hook, err, errlen);
    return ef_event_read_cf_json(ev, root, hook, err, errlen);
}

/* ---- to JSON ---- */

static json_t *string_of(h2o_iovec_t v)
{
    return json_stringn_nocheck(v.base != NULL ? v.base : "", v.len);
}

static json_t *item_of(const ef_event_item_t *item)
{
    json_t *o = json_object();

    json_object_set_new(o, "value", string_of(item->value));
    if (item->attributes.len != 0)
        json_object_set_new(o, "attributes", string_of(item->attributes));
    return o;
}

/* {"name": {"value": first, "multiValue": [...] when more than one}, ...}, names in the order first met */
static json_t *entries_of(const ef_event_params_t *params)
{
    json_t *object = json_object();

    for (size_t i = 0; i != params->size; ++i) {
        const ef_event_param_t *p = params->entries + i;
        char *name = strndup(p->name.base, p->name.len);
        json_t *entry = json_object_get(object, name);
        if (entry == NULL) {
            json_object_set_new(object, name, item_of(&p->item));
        } else {
            json_t *multi = json_object_get(entry, "multiValue");
            if (multi == NULL) {
                multi = json_array();
                json_array_append_new(multi, json_deep_copy(entry));
                json_object_set_new(entry, "multiValue", multi);
            }
            json_array_append_new(multi, item_of(&p->item));
        }
        free(name);
    }
    return object;
}

static json_t *headers_of(h2o_mem_pool_t *pool, const h2o_headers_t *headers, const h2o_token_t *cookie_token)
{
    ef_event_params_t params = {NULL};

    for (size_t i = 0; i != headers->size; ++i)
        if (headers->entries[i].name != &cookie_token->buf)
            ef_event_add_param(pool, &params, *headers->entries[i].name, headers->entries[i].value, h2o_iovec_init(NULL, 0));
    return entries_of(&params);
}

json_t *ef_event_request_to_cf_json(const ef_event_t *ev)
{
    ef_event_params_t params = {NULL};
    json_t *o = json_object();

    json_object_set_new(o, "method", string_of(ev->request.method));
    json_object_set_new(o, "uri", string_of(ev->request.path));
    ef_event_parse_query(ev->pool, ev->request.query, &params);
    json_object_set_new(o, "querystring", entries_of(&params));
    json_object_set_new(o, "headers", headers_of(ev->pool, ev->request.headers, H2O_TOKEN_COOKIE));
    params = (ef_event_params_t){NULL};
    ef_event_parse_cookies(ev->pool, ev->request.headers, &params);
    json_object_set_new(o, "cookies", entries_of(&params));
    return o;
}

json_t *ef_event_response_to_cf_json(const ef_event_t *ev)
{
    ef_event_params_t params = {NULL};
    json_t *o = json_object();

    json_object_set_new(o, "statusCode", json_integer(ev->response.status));
    json_object_set_new(o, "statusDescription", string_of(ev->response.reason));
    json_object_set_new(o, "headers", headers_of(ev->pool, ev->response.headers, H2O_TOKEN_SET_COOKIE));
    ef_event_parse_set_cookies(ev->pool, ev->response.headers, &params);
    json_object_set_new(o, "cookies", entries_of(&params));
    if (ev->response.has_body) {
        json_t *body = json_object(),
               *text = json_stringn(ev->response.body.base != NULL ? ev->response.body.base : "", ev->response.body.len);
        if (text != NULL) {
            json_object_set_new(body, "encoding", json_string("text"));
            json_object_set_new(body, "data", text);
        } else {
            /* not UTF-8: as CloudFront writes bytes */
            char *b64 = h2o_mem_alloc_pool(ev->pool, h2o_base64_encode_capacity(ev->response.body.len));
            size_t len = h2o_base64_encode(b64, ev->response.body.base, ev->response.body.len, 0);
            json_object_set_new(body, "encoding", json_string("base64"));
            json_object_set_new(body, "data", json_stringn(b64, len));
        }
        json_object_set_new(o, "body", body);
    }
    return o;
}
