/*
 * The edge cache's object store: in memory, shared by every worker thread.
 *
 * The store is split into shards by key hash, each with its own mutex, hash table and LRU
 * list; a lookup takes one shard lock for a hash probe and a list move, nothing global.
 * The memory budget is divided evenly between the shards and each shard evicts from its own
 * LRU tail. The shard count is the largest power of two up to 32 that leaves every shard
 * room for at least four objects of the maximum size (so a small budget with a large
 * max-object-size gets fewer shards, down to one, rather than refusing large objects).
 *
 * Objects are immutable once inserted and reference-counted: a lookup hands out a
 * reference that stays valid, with all its bytes, after the object has been evicted,
 * replaced or purged, until the caller releases it.
 *
 * Keys are opaque bytes to the store except for purge, which reads a key's path part.
 * The key format is "HOST" "\n" "PATH" ["?" QUERY] "\n" OTHER-PARTS...: the path part is
 * the bytes after the first '\n' up to the next '?', '\n' or the end of the key (a key
 * without '\n' is all path part).
 *
 * Vary: the caller folds the variant into the key. The store keeps a response's Vary
 * header value (as given) in the object's `vary` field so the caller can work in two
 * steps: a response with a Vary header is inserted under KEY + variant (the request's
 * values of the named headers, normalized, appended by the caller), and a marker object
 * (status 0, no body, `vary` set to the header names) under KEY. A lookup of KEY that
 * returns a marker tells the caller which headers make the variant; it then looks up
 * KEY + variant. Because the variant is appended after the path part, purge drops the
 * marker and every variant together.
 */
#ifndef EF_SERVER_CACHE_H
#define EF_SERVER_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <h2o/memory.h>

typedef struct st_ef_cache_t ef_cache_t;

typedef struct st_ef_cache_header_t {
    h2o_iovec_t name;
    h2o_iovec_t value;
} ef_cache_header_t;

/**
 * A cached response. Every field is read-only for the holder of a reference; all the
 * byte strings live in the object's own allocation and are not NUL-terminated (a missing
 * validator or vary is {NULL, 0}). `stored_at_ms` and `ttl_ms` are what the caller gave at
 * insert: the object is fresh while now - stored_at_ms < ttl_ms (see the helpers below).
 */
typedef struct st_ef_cache_object_t {
    h2o_iovec_t key;
    int status;
    ef_cache_header_t *headers;
    size_t num_headers;
    h2o_iovec_t body;
    uint64_t stored_at_ms;
    uint64_t ttl_ms;
    h2o_iovec_t etag;
    h2o_iovec_t last_modified;
    h2o_iovec_t vary;
    int must_revalidate; /* once stale, it is not to be served without the origin's confirmation */
} ef_cache_object_t;

/**
 * What ef_cache_insert copies into a new object: the same fields as ef_cache_object_t,
 * pointing into the caller's memory (nothing here is kept after the call returns).
 */
typedef ef_cache_object_t ef_cache_entry_t;

typedef struct st_ef_cache_stats_t {
    size_t objects;     /* objects resident in the store */
    size_t bytes;       /* accounted bytes of the resident objects, never above the budget */
    uint64_t hits;      /* lookups that found an object, fresh or stale */
    uint64_t stale;     /* of those, the ones that found it stale */
    uint64_t misses;    /* lookups that found nothing */
    uint64_t inserts;   /* objects stored, replacements included */
    uint64_t replaced;  /* objects dropped because an insert stored another under their key */
    uint64_t refused;   /* inserts refused as too large */
    uint64_t evictions; /* objects dropped to make room (not replacements, not purges) */
    uint64_t purged;    /* objects dropped by ef_cache_purge */
} ef_cache_stats_t;

/**
 * Creates a store bounded by `memory` accounted bytes that accepts objects of up to
 * `max_object_size` accounted bytes (also capped at one shard's budget). An object's
 * accounted size is ef_cache_object_size() of its entry: its key, header names and values,
 * body, validators and vary, plus the fixed overhead of the object and its header array.
 * Free with ef_cache_destroy.
 */
ef_cache_t *ef_cache_create(size_t memory, size_t max_object_size);

/**
 * Frees the store and drops its reference to every resident object. Objects still
 * referenced by callers stay valid until released; release them before or after, but
 * from no other thread while this runs.
 */
void ef_cache_destroy(ef_cache_t *cache);

/**
 * Looks `key` up and returns a new reference to the object stored under it (the caller
 * must ef_cache_release it), or NULL on a miss. Stale objects are returned too: the
 * caller tells them apart with ef_cache_object_is_fresh(obj, now_ms) and reads their
 * age with ef_cache_object_age_ms. A hit makes the object the most recently used of its
 * shard. `now_ms` only serves the statistics (stale hits are counted).
 */
ef_cache_object_t *ef_cache_lookup(ef_cache_t *cache, const char *key, size_t key_len, uint64_t now_ms);

/* The same, but not counted in the statistics: a second look on behalf of a request already counted. */
ef_cache_object_t *ef_cache_lookup_again(ef_cache_t *cache, const char *key, size_t key_len);

/**
 * Copies `entry` into a new object and stores it under entry->key, replacing the object
 * stored under that key if any, and evicting least recently used objects of its shard
 * until it fits. Returns 0, or -1 when the object is larger than the maximum object size
 * (nothing is stored, nothing is evicted). When `ref` is not NULL and the insert succeeds,
 * *ref receives a reference to the new object, which the caller must release (for
 * serving the waiters of a collapsed fetch from what was stored).
 */
int ef_cache_insert(ef_cache_t *cache, const ef_cache_entry_t *entry, ef_cache_object_t **ref);

/**
 * The same, with the body given in pieces (`parts`, which the new object holds one after
 * the other; entry->body is ignored): a body collected as it streamed is copied once.
 */
int ef_cache_insert_parts(ef_cache_t *cache, const ef_cache_entry_t *entry, const h2o_iovec_t *parts, size_t num_parts,
                          ef_cache_object_t **ref);

/** Takes another reference to `obj` (NULL is ignored) and returns it. */
ef_cache_object_t *ef_cache_retain(ef_cache_object_t *obj);

/**
 * Drops one reference to an object returned by ef_cache_lookup or ef_cache_insert; the
 * object is freed when the store and every caller have released it. NULL is ignored.
 */
void ef_cache_release(ef_cache_object_t *obj);

/**
 * Drops the objects that match a CloudFront invalidation path and returns how many were
 * dropped. A pattern ending in '*' matches every key whose "PATH?QUERY" part (from after
 * the first '\n' to the next '\n') starts with the bytes before the '*': /img/ then '*'
 * drops everything under /img/, a lone '*' drops everything. A pattern containing '?'
 * matches the keys whose "PATH?QUERY" part equals it. Any other pattern matches every key
 * whose path part (up to '?') equals it, whatever the host, query or variant. An empty
 * pattern matches nothing. Takes each shard lock in turn, never two at once.
 */
size_t ef_cache_purge(ef_cache_t *cache, const char *pattern, size_t pattern_len);

/**
 * The same for several patterns at once, in one pass over the store whatever their number
 * (exact paths are looked up in a hash table; those ending in '*' are checked one by one).
 * An object that several patterns match is dropped once and counted, in counts[i] (when
 * `counts` is not NULL; it has room for `num_patterns`), for the first of them. Returns
 * the total dropped.
 */
size_t ef_cache_purge_paths(ef_cache_t *cache, const h2o_iovec_t *patterns, size_t num_patterns, size_t *counts);

/**
 * The number of purges so far (ef_cache_purge, ef_cache_purge_paths). A caller that fetches
 * for the store reads it before, and does not insert what it fetched if it changed meanwhile:
 * an invalidation reaches what was fetched before it.
 */
uint64_t ef_cache_generation(ef_cache_t *cache);

/**
 * Fills `stats` with the store's counters, summed over the shards without locking (each
 * counter is read atomically; the sum is not one instant's snapshot while others write).
 */
void ef_cache_get_stats(ef_cache_t *cache, ef_cache_stats_t *stats);

/**
 * Returns the accounted size of an object made from `entry`: what counts against the
 * budget and the maximum object size.
 */
size_t ef_cache_object_size(const ef_cache_entry_t *entry);

/** The hash the store files `key` under (FNV-1a), for tables that sit beside it. */
uint64_t ef_cache_hash(const char *key, size_t len);

/** Returns the object's age at `now_ms` in milliseconds (0 if now_ms is before stored_at_ms). */
static inline uint64_t ef_cache_object_age_ms(const ef_cache_object_t *obj, uint64_t now_ms)
{
    return now_ms > obj->stored_at_ms ? now_ms - obj->stored_at_ms : 0;
}

/** Returns 1 if the object is still fresh at `now_ms` (age below its ttl), else 0. */
static inline int ef_cache_object_is_fresh(const ef_cache_object_t *obj, uint64_t now_ms)
{
    return ef_cache_object_age_ms(obj, now_ms) < obj->ttl_ms;
}

#endif
