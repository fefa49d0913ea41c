#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "filters/cache_policy.h"
#include "filters/cache_stage.h"
#include "functions/event.h"
#include "server/log.h"
#include "server/range.h"

const h2o_iovec_t ef_xcache_names[] = {
    [EF_XCACHE_PASS] = {H2O_STRLIT("Pass")},
    [EF_XCACHE_HIT] = {H2O_STRLIT("Hit")},
    [EF_XCACHE_REFRESH_HIT] = {H2O_STRLIT("RefreshHit")},
    [EF_XCACHE_MISS] = {H2O_STRLIT("Miss")},
    [EF_XCACHE_FUNCTION] = {H2O_STRLIT("FunctionGeneratedResponse")},
    [EF_XCACHE_ERROR] = {H2O_STRLIT("Error")},
};

static const h2o_iovec_t xcache_name = {H2O_STRLIT("x-cache")};

/* How a fetch that others wait for ended: what its waiters do next (wait_over). */
enum {
    FLIGHT_STORED,      /* they are served what it stored */
    FLIGHT_STALE,       /* the origin failed a revalidation: they are served the stale object, as its leader was */
    FLIGHT_UNCACHEABLE, /* its response was not for the cache, or the origin failed: each goes to the origin */
    FLIGHT_ABANDONED,   /* its request went away before it could tell: they look again, and one of them fetches */
};

static ef_server_t *server_of(ef_exchange_t *ex)
{
    return ex->thread->server;
}

static uint64_t now_ms(ef_exchange_t *ex)
{
    return h2o_now(ex->thread->ctx.loop);
}

static int is_method(h2o_req_t *req, const char *name, size_t len)
{
    return h2o_memis(req->method.base, req->method.len, name, len);
}

static int key_has_header(const ef_conf_cache_policy_t *policy, const char *name)
{
    for (size_t i = 0; i != policy->key.num_headers; ++i)
        if (strcmp(policy->key.headers[i], name) == 0)
            return 1;
    return 0;
}

static void release_obj(ef_exchange_t *ex)
{
    ef_cache_release(ex->cache.obj);
    ex->cache.obj = NULL;
}

/* Ends the fetch this request leads, if it leads one, handing its waiters `obj` (may be NULL) and `outcome`. */
static void end_flight(ef_exchange_t *ex, ef_cache_object_t *obj, int outcome)
{
    if (ex->cache.flight != NULL) {
        ef_collapse_end(server_of(ex)->collapse, ex->cache.flight, obj, outcome);
        ex->cache.flight = NULL;
    }
}

/* The variant key a Vary of `vary` (header names) asks for, from the request's headers at lookup: -1 for "*". */
static int variant_key(ef_exchange_t *ex, h2o_iovec_t vary, h2o_iovec_t *key)
{
    h2o_headers_t res = {NULL};
    h2o_iovec_t variant;

    h2o_add_header(&ex->req->pool, &res, H2O_TOKEN_VARY, NULL, vary.base, vary.len);
    if (ef_cache_vary_key(&ex->req->pool, &res, &ex->cache.request_headers, &variant) != 0)
        return -1;
    *key = h2o_concat(&ex->req->pool, ex->cache.primary, variant);
    return 0;
}

/* serving an object */

/* If-Range (RFC 9110 13.1.5): the range is served only from the representation the viewer already has part of. */
static int if_range_holds(h2o_iovec_t v, const ef_cache_object_t *obj)
{
    if (v.len > 2 && v.base[0] == 'W' && v.base[1] == '/')
        return 0; /* a weak validator never does */
    return (obj->etag.len != 0 && h2o_memis(v.base, v.len, obj->etag.base, obj->etag.len)) ||
           (obj->last_modified.len != 0 && h2o_memis(v.base, v.len, obj->last_modified.base, obj->last_modified.len));
}

/* A Range request on a stored 200: the part asked for (206), or 416; a range to ignore leaves the whole. */
static void serve_range(ef_exchange_t *ex, const ef_cache_object_t *obj)
{
    h2o_req_t *req = ex->req;
    const h2o_headers_t *headers = &ex->cache.request_headers;
    ssize_t range = h2o_find_header(headers, H2O_TOKEN_RANGE, -1), if_range;
    uint64_t first, last;
    char buf[96];
    int n, ret;

    if (range == -1)
        return;
    if ((if_range = h2o_find_header(headers, H2O_TOKEN_IF_RANGE, -1)) != -1 &&
        !if_range_holds(headers->entries[if_range].value, obj))
        return;
    if ((ret = ef_range_parse(headers->entries[range].value, obj->body.len, &first, &last)) == 0)
        return;
    if (ret == -1) {
        n = snprintf(buf, sizeof(buf), "bytes */%zu", obj->body.len);
        req->res.status = 416;
        ex->body = h2o_iovec_init("", 0);
    } else {
        n = snprintf(buf, sizeof(buf), "bytes %" PRIu64 "-%" PRIu64 "/%zu", first, last, obj->body.len);
        req->res.status = 206;
        ex->body = h2o_iovec_init(obj->body.base + first, last - first + 1);
    }
    req->res.reason = ef_event_status_reason(req->res.status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_RANGE, NULL, h2o_strdup(&req->pool, buf, n).base, n);
}

/* Makes `obj` the response; the exchange takes over the caller's reference. */
static void serve(ef_exchange_t *ex, ef_cache_object_t *obj, ef_xcache_t status)
{
    h2o_req_t *req = ex->req;

    release_obj(ex);
    ex->cache.obj = obj;
    req->res.status = obj->status;
    req->res.reason = ef_event_status_reason(obj->status);
    req->res.headers = (h2o_headers_t){NULL};
    h2o_vector_reserve(&req->pool, &req->res.headers, obj->num_headers + 4);
    for (size_t i = 0; i != obj->num_headers; ++i)
        h2o_add_header_by_str(&req->pool, &req->res.headers, obj->headers[i].name.base, obj->headers[i].name.len, 1, NULL,
                              obj->headers[i].value.base, obj->headers[i].value.len);
    ex->has_body = 1;
    ex->body = obj->body;
    ex->cache.status = status;
    /* the viewer's conditionals as they were at lookup: a revalidation put the object's own in req->headers */
    if (ef_cache_not_modified(&ex->cache.request_headers, obj->etag, obj->last_modified)) {
        req->res.status = 304;
        req->res.reason = ef_event_status_reason(304);
        ex->body = h2o_iovec_init("", 0);
        return;
    }
    if (obj->status == 200)
        serve_range(ex, obj);
}

/* the lookup */

/* Whether a request may be answered from the cache and its response stored; if not, says why in ex->cache.reason. */
static int is_cacheable_request(ef_exchange_t *ex)
{
    h2o_req_t *req = ex->req;
    const ef_conf_cache_policy_t *policy = &ex->behavior->conf->cache;

    if (!policy->enabled)
        return 0;
    if (!(is_method(req, H2O_STRLIT("GET")) || is_method(req, H2O_STRLIT("HEAD")))) {
        ex->cache.reason = "only GET and HEAD are cached";
        return 0;
    }
    /* a response for one user is not for the next, unless the key tells users apart */
    if (h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1) != -1 && !key_has_header(policy, "authorization")) {
        ex->cache.reason = "the request carries Authorization, which the cache key does not hold";
        return 0;
    }
    return 1;
}

/* Finds the object for ex->cache.primary, through its Vary marker if it has one, and sets *key to the key it is under.
 * `again`: the request has been counted in the store's statistics already. */
static ef_cache_object_t *find(ef_exchange_t *ex, uint64_t now, int again, h2o_iovec_t *key)
{
    ef_cache_t *cache = server_of(ex)->cache;
    ef_cache_object_t *obj;

    *key = ex->cache.primary;
    obj = again ? ef_cache_lookup_again(cache, key->base, key->len) : ef_cache_lookup(cache, key->base, key->len, now);
    if (obj == NULL || obj->status != 0)
        return obj;
    /* a marker: the response varies on the headers it names */
    int ret = variant_key(ex, obj->vary, key);
    ef_cache_release(obj);
    if (ret != 0)
        return NULL;
    return again ? ef_cache_lookup_again(cache, key->base, key->len) : ef_cache_lookup(cache, key->base, key->len, now);
}

static void go_to_origin(ef_exchange_t *ex)
{
    h2o_req_t *req = ex->req;

    /* origin-request and the fetch may change the request's headers; a Vary and the viewer's conditionals are about the
     * ones the lookup saw */
    ex->cache.request_headers.entries = h2o_mem_alloc_pool(&req->pool, sizeof(req->headers.entries[0]) * req->headers.size);
    h2o_memcpy(ex->cache.request_headers.entries, req->headers.entries, sizeof(req->headers.entries[0]) * req->headers.size);
    ex->cache.status = EF_XCACHE_MISS;
    ex->cache.on_miss(ex);
}

static void lookup(ef_exchange_t *ex, int may_wait, int again)
{
    h2o_req_t *req = ex->req;
    uint64_t now = now_ms(ex);
    ef_cache_object_t *obj;

    /* an invalidation from now on reaches what this request may store */
    ex->cache.generation = ef_cache_generation(server_of(ex)->cache);
    if ((obj = find(ex, now, again, &ex->cache.key)) != NULL) {
        if (ef_cache_object_is_fresh(obj, now)) {
            serve(ex, obj, EF_XCACHE_HIT);
            ex->cache.on_hit(ex);
            return;
        }
        if (is_method(req, H2O_STRLIT("GET")) && (obj->etag.len != 0 || obj->last_modified.len != 0)) {
            ex->cache.obj = obj;
            ex->cache.revalidating = 1;
        } else {
            ef_cache_release(obj);
        }
    }
    /* a HEAD is forwarded as it is: it brings nothing to store, and waits for no one; nor does a range, which the
     * origin cuts (its 206 is not stored) */
    if (may_wait && is_method(req, H2O_STRLIT("GET")) && h2o_find_header(&req->headers, H2O_TOKEN_RANGE, -1) == -1) {
        ex->cache.flight =
            ef_collapse_join(server_of(ex)->collapse, ex->cache.key, &ex->thread->cache_receiver, ex, &ex->cache.waiter);
        if (ex->cache.flight == NULL)
            return; /* resumed by on_waits_over */
        /* between the lookup and the join, another fetch may have stored the object and ended its flight */
        h2o_iovec_t key;
        ef_cache_object_t *stored = find(ex, now, 1, &key);
        if (stored != NULL && ef_cache_object_is_fresh(stored, now)) {
            end_flight(ex, stored, FLIGHT_STORED);
            ex->cache.revalidating = 0;
            serve(ex, stored, EF_XCACHE_HIT);
            ex->cache.on_hit(ex);
            return;
        }
        ef_cache_release(stored);
    }
    go_to_origin(ex);
}

void ef_cache_lookup_stage(ef_exchange_t *ex, void (*on_hit)(ef_exchange_t *ex), void (*on_miss)(ef_exchange_t *ex))
{
    h2o_req_t *req = ex->req;
    h2o_iovec_t path = req->path, query = {NULL};

    if (!is_cacheable_request(ex)) {
        ex->cache.status = EF_XCACHE_PASS;
        on_miss(ex);
        return;
    }
    ex->cache.on_hit = on_hit;
    ex->cache.on_miss = on_miss;
    if (req->query_at != SIZE_MAX) {
        path.len = req->query_at;
        query = h2o_iovec_init(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1);
    }
    ex->cache.primary = ef_cache_key(&req->pool, &ex->behavior->conf->cache, req->authority, path, query, &req->headers);
    /* a view of the headers, which nothing changes until the request goes to the origin (go_to_origin copies them) */
    ex->cache.request_headers = req->headers;
    lookup(ex, 1, 0);
}

/* A request's wait for another's fetch is over: it is served what that fetch stored, or goes on by itself. */
static void wait_over(ef_exchange_t *ex, ef_cache_object_t *obj, int outcome)
{
    ex->cache.waiter = NULL;
    ef_count(&ef_behavior_metrics(ex)->collapsed, 1);
    if (obj != NULL) {
        h2o_iovec_t key = ex->cache.key;
        if (obj->vary.len != 0 && variant_key(ex, obj->vary, &key) != 0)
            key = h2o_iovec_init(NULL, 0);
        /* just fetched: served even if its ttl is 0; unless it is another variant than this request's */
        if (h2o_memis(key.base, key.len, obj->key.base, obj->key.len)) {
            if (outcome == FLIGHT_STALE)
                ex->cache.reason = "the origin failed a revalidation: the stale object was served";
            serve(ex, ef_cache_retain(obj), outcome == FLIGHT_STALE ? EF_XCACHE_REFRESH_HIT : EF_XCACHE_HIT);
            ex->cache.on_hit(ex);
            return;
        }
    }
    release_obj(ex);
    ex->cache.revalidating = 0;
    /* the fetch's request went away: look again, and wait again (once) for whichever request fetches now */
    if (outcome == FLIGHT_ABANDONED && !ex->cache.waited_again) {
        ex->cache.waited_again = 1;
        lookup(ex, 1, 1);
        return;
    }
    /* the fetch failed or was not cacheable: to the origin without waiting again */
    lookup(ex, 0, 1);
}

static void on_waits_over(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    ef_thread_t *thread = H2O_STRUCT_FROM_MEMBER(ef_thread_t, cache_receiver, receiver);

    while (!h2o_linklist_is_empty(messages)) {
        ef_flight_waiter_t *w = H2O_STRUCT_FROM_MEMBER(ef_flight_waiter_t, super.link, messages->next);
        h2o_linklist_unlink(&w->super.link);
        if (w->data != NULL)
            wait_over(w->data, w->obj, w->outcome);
        ef_collapse_delivered(thread->server->collapse, w);
    }
}

/* the fetch */

void ef_cache_prepare_fetch(ef_exchange_t *ex)
{
    h2o_req_t *req = ex->req;
    ef_cache_object_t *obj = ex->cache.obj;
    ssize_t i;

    if (ex->cache.status != EF_XCACHE_MISS || !is_method(req, H2O_STRLIT("GET")))
        return;
    /* the viewer's validators are answered from what is stored; the origin is asked for the whole object */
    while ((i = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, -1)) != -1)
        h2o_delete_header(&req->headers, i);
    while ((i = h2o_find_header(&req->headers, H2O_TOKEN_IF_MODIFIED_SINCE, -1)) != -1)
        h2o_delete_header(&req->headers, i);
    if (!ex->cache.revalidating)
        return;
    if (obj->etag.len != 0)
        h2o_add_header(&req->pool, &req->headers, H2O_TOKEN_IF_NONE_MATCH, NULL, obj->etag.base, obj->etag.len);
    if (obj->last_modified.len != 0)
        h2o_add_header(&req->pool, &req->headers, H2O_TOKEN_IF_MODIFIED_SINCE, NULL, obj->last_modified.base,
                       obj->last_modified.len);
}

/* storing */

/* Seconds of the origin's Age header, 0 without one. */
static uint64_t origin_age(const h2o_headers_t *headers)
{
    ssize_t i = h2o_find_header(headers, H2O_TOKEN_AGE, -1);
    uint64_t age = 0;

    if (i == -1)
        return 0;
    h2o_iovec_t v = headers->entries[i].value;
    for (size_t j = 0; j != v.len && v.base[j] >= '0' && v.base[j] <= '9' && age < UINT32_MAX; ++j)
        age = age * 10 + (v.base[j] - '0');
    return age;
}

/* `name`'s values joined with ", " (in the pool), or {NULL, 0} */
static h2o_iovec_t joined_value(h2o_mem_pool_t *pool, const h2o_headers_t *headers, const h2o_token_t *name)
{
    h2o_iovec_t v = {NULL};
    for (ssize_t i = -1; (i = h2o_find_header(headers, name, i)) != -1;)
        v = v.base == NULL ? headers->entries[i].value
                           : h2o_concat(pool, v, h2o_iovec_init(H2O_STRLIT(", ")), headers->entries[i].value);
    return v;
}

/* Fills `entry` from a response's status and headers, to be stored under ex->cache.key as `decision` says, fresh from
 * `now` less the age the origin gave it. The body is the caller's to give. */
static void make_entry(ef_exchange_t *ex, ef_cache_entry_t *entry, int status, const h2o_headers_t *headers,
                       const ef_cache_decision_t *decision, uint64_t now)
{
    h2o_mem_pool_t *pool = &ex->req->pool;
    uint64_t age = origin_age(headers) * 1000;

    *entry = (ef_cache_entry_t){.key = ex->cache.key,
                                .status = status,
                                .ttl_ms = decision->revalidate ? 0 : decision->ttl,
                                .stored_at_ms = now > age ? now - age : 0,
                                .must_revalidate = decision->must_revalidate};
    entry->headers = h2o_mem_alloc_pool(pool, sizeof(entry->headers[0]) * headers->size);
    for (size_t i = 0; i != headers->size; ++i) {
        const h2o_header_t *h = headers->entries + i;
        if (h->name == &H2O_TOKEN_AGE->buf)
            continue; /* a hit's Age is edgefn's to say */
        entry->headers[entry->num_headers++] = (ef_cache_header_t){*h->name, h->value};
    }
    entry->etag = joined_value(pool, headers, H2O_TOKEN_ETAG);
    entry->last_modified = joined_value(pool, headers, H2O_TOKEN_LAST_MODIFIED);
    entry->vary = joined_value(pool, headers, H2O_TOKEN_VARY);
}

/**
 * Stores `entry` with the body in `parts` (and, when it varies, the marker that says on what), unless an invalidation
 * came since the lookup: what was fetched before it is not to be kept after it. Returns the stored object (a
 * reference for the caller), or NULL with the reason in ex->cache.reason.
 */
static ef_cache_object_t *insert(ef_exchange_t *ex, const ef_cache_entry_t *entry, const h2o_iovec_t *parts, size_t num_parts)
{
    ef_cache_t *cache = server_of(ex)->cache;
    ef_cache_object_t *obj;

    if (ef_cache_generation(cache) != ex->cache.generation) {
        ex->cache.reason = "an invalidation came while it was being fetched";
        return NULL;
    }
    if (ef_cache_insert_parts(cache, entry, parts, num_parts, &obj) != 0) {
        ex->cache.reason = "larger than max-object-size";
        return NULL;
    }
    if (entry->vary.len != 0) {
        ef_cache_entry_t marker = {
            .key = ex->cache.primary, .stored_at_ms = entry->stored_at_ms, .ttl_ms = entry->ttl_ms, .vary = entry->vary};
        ef_cache_insert(cache, &marker, NULL);
    }
    return obj;
}

/* Stores ex->cache.entry with the body in `parts`, and hands the result to the requests waiting for it. */
static void store(ef_exchange_t *ex, const h2o_iovec_t *parts, size_t num_parts)
{
    ef_cache_object_t *obj = insert(ex, &ex->cache.entry, parts, num_parts);
    int outcome = FLIGHT_STORED;

    if (obj == NULL) /* after an invalidation, the waiters fetch anew rather than take what this fetch got before it */
        outcome = ef_cache_generation(server_of(ex)->cache) != ex->cache.generation ? FLIGHT_ABANDONED : FLIGHT_UNCACHEABLE;
    end_flight(ex, obj, outcome);
    ef_cache_release(obj);
}

static void pass(ef_exchange_t *ex, const char *why)
{
    ex->cache.reason = why;
    ex->cache.status = EF_XCACHE_PASS;
    end_flight(ex, NULL, FLIGHT_UNCACHEABLE);
}

/* revalidation */

/* Whether the stale object may be served because the origin failed to answer about it (RFC 9111 4.2.4: not when it must
 * be revalidated); if so, serves it, as CloudFront does, rather than the error. */
static int serve_stale(ef_exchange_t *ex)
{
    if (ex->cache.obj->must_revalidate)
        return 0;
    ex->cache.reason = "the origin failed a revalidation: the stale object was served";
    end_flight(ex, ex->cache.obj, FLIGHT_STALE);
    serve(ex, ef_cache_retain(ex->cache.obj), EF_XCACHE_REFRESH_HIT);
    return 1;
}

int ef_cache_on_origin_error(ef_exchange_t *ex)
{
    if (ex->cache.revalidating && serve_stale(ex))
        return 1;
    end_flight(ex, NULL, FLIGHT_UNCACHEABLE);
    release_obj(ex);
    return 0;
}

int ef_cache_on_origin_head(ef_exchange_t *ex)
{
    h2o_req_t *req = ex->req;
    ef_cache_object_t *stale = ex->cache.obj;
    ef_cache_decision_t decision;
    uint64_t now = now_ms(ex);

    if (!ex->cache.revalidating)
        return 0;
    if (req->res.status >= 500)
        return serve_stale(ex);
    if (req->res.status != 304)
        return 0;

    /* RFC 9111 4.3.4: the stored headers, updated with those the 304 carries */
    h2o_headers_t merged = {NULL};
    h2o_vector_reserve(&req->pool, &merged, stale->num_headers + req->res.headers.size);
    for (size_t i = 0; i != stale->num_headers; ++i) {
        const ef_cache_header_t *h = stale->headers + i;
        if (h2o_find_header_by_str(&req->res.headers, h->name.base, h->name.len, -1) == -1)
            h2o_add_header_by_str(&req->pool, &merged, h->name.base, h->name.len, 1, NULL, h->value.base, h->value.len);
    }
    for (size_t i = 0; i != req->res.headers.size; ++i)
        merged.entries[merged.size++] = req->res.headers.entries[i];

    ef_cache_decide(&ex->behavior->conf->cache, h2o_iovec_init(H2O_STRLIT("GET")), stale->status, &merged,
                    h2o_find_header(&ex->cache.request_headers, H2O_TOKEN_AUTHORIZATION, -1) != -1, (time_t)(now / 1000),
                    &decision);
    ef_cache_object_t *obj = NULL;
    if (decision.store) {
        ef_cache_entry_t entry;
        make_entry(ex, &entry, stale->status, &merged, &decision, now);
        entry.key = stale->key;
        obj = insert(ex, &entry, &stale->body, 1);
    }
    end_flight(ex, obj != NULL ? obj : stale, FLIGHT_STORED);
    serve(ex, obj != NULL ? obj : ef_cache_retain(stale), EF_XCACHE_REFRESH_HIT);
    return 1;
}

/* the fill */

struct st_ef_fill_chunk_t {
    struct st_ef_fill_chunk_t *next;
    h2o_iovec_t data;
};

/* The store gives up on this body: the requests waiting for it are told `outcome`. The viewer is still sent what was
 * copied, then the rest at its own pace (fill_send_next). */
static void stop_storing(ef_exchange_t *ex, const char *why, int outcome)
{
    if (!ex->cache.storing)
        return;
    ex->cache.storing = 0;
    ex->cache.reason = why;
    end_flight(ex, NULL, outcome);
}

/* The whole body is in: it is stored from its pieces. */
static void store_fill(ef_exchange_t *ex)
{
    H2O_VECTOR(h2o_iovec_t) parts = {NULL};

    for (struct st_ef_fill_chunk_t *c = ex->cache.fill.head; c != NULL; c = c->next) {
        h2o_vector_reserve(&ex->req->pool, &parts, parts.size + 1);
        parts.entries[parts.size++] = c->data;
    }
    ex->cache.storing = 0;
    store(ex, parts.entries, parts.size);
}

/* Asks the origin for more while the body is being stored. In a loop rather than recursively: a fetch may deliver the next
 * piece from within the asking. */
static void fill_read(ef_exchange_t *ex)
{
    ex->cache.fill.reading = 1;
    do {
        ex->cache.fill.more = 0;
        ef_fetch_proceed(ex->fetch);
    } while (ex->cache.fill.more && ex->cache.storing && !ex->cache.fill.eos && !ex->cache.fill.failed);
    ex->cache.fill.reading = 0;
}

/* Sends the viewer the next copied piece, or the end; or, with nothing to send, waits. Once nothing is stored any more and
 * every copy is sent, the fill steps aside: the origin's bytes go to the viewer as they do without a cache, at the
 * viewer's pace, and are no longer copied. The request may be gone when this returns. */
static void fill_send_next(ef_exchange_t *ex)
{
    struct st_ef_fill_chunk_t *c = ex->cache.fill.unsent;

    ex->cache.fill.waiting = 0;
    if (c != NULL) {
        ex->cache.fill.unsent = c->next;
        int last = c->next == NULL && ex->cache.fill.eos;
        h2o_send(ex->req, &c->data, 1, last ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
    } else if (ex->cache.fill.eos) {
        h2o_send(ex->req, NULL, 0, H2O_SEND_STATE_FINAL);
    } else if (ex->cache.fill.failed) {
        h2o_send(ex->req, NULL, 0, H2O_SEND_STATE_ERROR);
    } else if (!ex->cache.storing) {
        ex->cache.fill.active = 0;
        ef_fetch_proceed(ex->fetch);
    } else {
        ex->cache.fill.waiting = 1;
    }
}

int ef_cache_fill_body(ef_exchange_t *ex, h2o_iovec_t *bufs, size_t bufcnt, h2o_send_state_t state)
{
    if (!ex->cache.fill.active)
        return 0;
    if (state == H2O_SEND_STATE_ERROR) {
        ex->cache.fill.failed = 1;
        stop_storing(ex, "the origin failed in the middle of the body", FLIGHT_UNCACHEABLE);
    } else {
        size_t len = 0;
        for (size_t i = 0; i != bufcnt; ++i)
            len += bufs[i].len;
        if (len != 0) {
            struct st_ef_fill_chunk_t *c = h2o_mem_alloc_pool(&ex->req->pool, sizeof(*c) + len);
            *c = (struct st_ef_fill_chunk_t){NULL, h2o_iovec_init((char *)(c + 1), 0)};
            for (size_t i = 0; i != bufcnt; ++i) {
                memcpy(c->data.base + c->data.len, bufs[i].base, bufs[i].len);
                c->data.len += bufs[i].len;
            }
            *ex->cache.fill.tail = c;
            ex->cache.fill.tail = &c->next;
            if (ex->cache.fill.unsent == NULL)
                ex->cache.fill.unsent = c;
            ex->cache.fill.size += len;
            if (ex->cache.fill.size > server_of(ex)->conf->cache.max_object_size)
                stop_storing(ex, "larger than max-object-size", FLIGHT_UNCACHEABLE);
        }
        if (state == H2O_SEND_STATE_FINAL) {
            ex->cache.fill.eos = 1;
            if (ex->cache.storing)
                store_fill(ex);
        }
    }
    if (ex->cache.fill.reading) {
        ex->cache.fill.more = 1; /* delivered from within fill_read's asking: its loop asks again */
        return 1;
    }
    if (ex->cache.storing && !ex->cache.fill.eos && !ex->cache.fill.failed)
        fill_read(ex);
    /* last, since either may end the request: a viewer that waits for the store gets its response now that the store is
     * over; a viewer being sent the copies gets the next */
    if (ex->cache.fill.after != NULL) {
        if (!ex->cache.storing) {
            void (*after)(ef_exchange_t *) = ex->cache.fill.after;
            ex->cache.fill.after = NULL;
            after(ex);
        }
    } else if (ex->cache.fill.waiting) {
        fill_send_next(ex);
    }
    return 1;
}

int ef_cache_fill_proceed(ef_exchange_t *ex)
{
    if (!ex->cache.fill.active)
        return 0;
    fill_send_next(ex);
    return 1;
}

int ef_cache_fill_detach(ef_exchange_t *ex, void (*after)(ef_exchange_t *ex))
{
    if (!ex->cache.fill.active || !ex->cache.storing) {
        ex->cache.fill.active = 0;
        return 0;
    }
    ex->cache.fill.after = after;
    return 1;
}

/* the store stage */

void ef_cache_store_stage(ef_exchange_t *ex)
{
    h2o_req_t *req = ex->req;
    const ef_conf_cache_policy_t *policy = &ex->behavior->conf->cache;
    ef_cache_decision_t decision;
    uint64_t now = now_ms(ex);

    if (ex->cache.status != EF_XCACHE_MISS)
        return;
    if (!is_method(req, H2O_STRLIT("GET"))) {
        end_flight(ex, NULL, FLIGHT_UNCACHEABLE);
        return; /* a HEAD miss: there is no body to store */
    }
    ef_cache_decide(policy, req->method, req->res.status, &req->res.headers,
                    h2o_find_header(&ex->cache.request_headers, H2O_TOKEN_AUTHORIZATION, -1) != -1, (time_t)(now / 1000),
                    &decision);
    if (!decision.store) {
        pass(ex, decision.reason);
        return;
    }
    if (h2o_find_header(&req->res.headers, H2O_TOKEN_SET_COOKIE, -1) != -1) {
        pass(ex, "the response sets a cookie");
        return;
    }
    if ((decision.revalidate || decision.ttl == 0) && h2o_find_header(&req->res.headers, H2O_TOKEN_ETAG, -1) == -1 &&
        h2o_find_header(&req->res.headers, H2O_TOKEN_LAST_MODIFIED, -1) == -1) {
        pass(ex, "its ttl is 0 and it has no validator to revalidate it with");
        return;
    }
    if (h2o_find_header(&req->res.headers, H2O_TOKEN_VARY, -1) != -1) {
        h2o_iovec_t vary = joined_value(&req->pool, &req->res.headers, H2O_TOKEN_VARY);
        if (variant_key(ex, vary, &ex->cache.key) != 0) {
            pass(ex, "Vary: *");
            return;
        }
    } else {
        /* no longer varying: it replaces a marker the lookup may have found */
        ex->cache.key = ex->cache.primary;
    }
    make_entry(ex, &ex->cache.entry, req->res.status, &req->res.headers, &decision, now);

    if (ex->has_body) {
        /* a body a function gave: it is all here */
        store(ex, &ex->body, 1);
        return;
    }
    if (req->res.content_length != SIZE_MAX && req->res.content_length > server_of(ex)->conf->cache.max_object_size) {
        pass(ex, "larger than max-object-size");
        return;
    }
    ex->cache.storing = 1;
    ex->cache.fill.active = 1;
    ex->cache.fill.tail = &ex->cache.fill.head;
    /* the origin is read from now on, whatever viewer-response takes */
    fill_read(ex);
}

/* the response */

void ef_cache_add_headers(ef_exchange_t *ex)
{
    h2o_req_t *req = ex->req;

    if ((ex->cache.status == EF_XCACHE_HIT || ex->cache.status == EF_XCACHE_REFRESH_HIT) && ex->cache.obj != NULL) {
        char *age = h2o_mem_alloc_pool(&req->pool, sizeof(H2O_UINT64_LONGEST_STR));
        size_t len = ef_format_uint(age, ef_cache_object_age_ms(ex->cache.obj, now_ms(ex)) / 1000);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_AGE, NULL, age, len);
    }
    h2o_vector_reserve(&req->pool, &req->res.headers, req->res.headers.size + 1);
    req->res.headers.entries[req->res.headers.size++] =
        (h2o_header_t){.name = (h2o_iovec_t *)&xcache_name, .value = ef_xcache_names[ex->cache.status]};
}

void ef_cache_dispose(ef_exchange_t *ex)
{
    if (ex->cache.waiter != NULL) {
        ef_collapse_leave(server_of(ex)->collapse, ex->cache.waiter);
        ex->cache.waiter = NULL;
    }
    stop_storing(ex, "the request ended before the body was complete", FLIGHT_ABANDONED);
    end_flight(ex, NULL, FLIGHT_ABANDONED);
    release_obj(ex);
}

/* threads */

void ef_cache_thread_init(ef_thread_t *thread)
{
    h2o_multithread_register_receiver(thread->ctx.queue, &thread->cache_receiver, on_waits_over);
}

void ef_cache_thread_dispose(ef_thread_t *thread)
{
    h2o_multithread_unregister_receiver(thread->ctx.queue, &thread->cache_receiver);
}

int ef_cache_quiesced(ef_server_t *server)
{
    return server->collapse == NULL || ef_collapse_pending(server->collapse) == 0;
}
