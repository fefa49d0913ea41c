#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <h2o/linklist.h>
#include "server/cache.h"

#define MAX_SHARDS 32
#define MIN_OBJECTS_PER_SHARD 4
#define INITIAL_BUCKETS 64

/* The public part comes first so that a reference is a pointer to the whole. The links and
 * the hash are guarded by the shard's lock; the public fields never change after insert. */
struct st_item_t {
    ef_cache_object_t super;
    atomic_size_t refcnt;
    uint64_t hash;
    size_t size;
    struct st_item_t *bucket_next;
    h2o_linklist_t lru; /* most recently used at the head's next */
};

/* The counters are relaxed atomics so that ef_cache_get_stats reads them without the lock;
 * each shard has its own so that threads hitting different shards write no shared line.
 * `objects` and `bytes` mirror `count` and `used`, which only change under the lock. */
struct st_shard_t {
    pthread_mutex_t mutex;
    struct st_item_t **buckets;
    size_t num_buckets, count, used, budget;
    h2o_linklist_t lru;
    atomic_size_t objects, bytes;
    atomic_uint_fast64_t hits, stale, misses, inserts, replaced, refused, evictions, purged;
} __attribute__((aligned(64)));

struct st_ef_cache_t {
    atomic_uint_fast64_t generation; /* purges so far */
    size_t num_shards;
    size_t max_object_size;
    struct st_shard_t shards[MAX_SHARDS];
};

static void *calloc_or_abort(size_t n, size_t size)
{
    void *p = h2o_mem_alloc(n * size);
    memset(p, 0, n * size);
    return p;
}

/* FNV-1a: keys are short and hashed once per lookup; the top bits choose the shard and the
 * low bits the bucket, so the two choices are independent. */
uint64_t ef_cache_hash(const char *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i != len; ++i) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3ULL;
    }
    return h ^ (h >> 29);
}

static struct st_shard_t *shard_of(ef_cache_t *cache, uint64_t hash)
{
    return &cache->shards[(hash >> 58) & (cache->num_shards - 1)];
}

static void counter_add(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

ef_cache_t *ef_cache_create(size_t memory, size_t max_object_size)
{
    ef_cache_t *cache;

    /* the shards are cache-line aligned so that threads on different shards share no line */
    if (posix_memalign((void **)&cache, 64, sizeof(*cache)) != 0)
        h2o_fatal("no memory");
    memset(cache, 0, sizeof(*cache));

    cache->num_shards = MAX_SHARDS;
    while (cache->num_shards > 1 && memory / cache->num_shards / MIN_OBJECTS_PER_SHARD < max_object_size)
        cache->num_shards /= 2;
    cache->max_object_size = max_object_size;
    if (cache->max_object_size > memory / cache->num_shards)
        cache->max_object_size = memory / cache->num_shards;

    for (size_t i = 0; i != cache->num_shards; ++i) {
        struct st_shard_t *shard = &cache->shards[i];
        pthread_mutex_init(&shard->mutex, NULL);
        shard->num_buckets = INITIAL_BUCKETS;
        shard->buckets = calloc_or_abort(shard->num_buckets, sizeof(*shard->buckets));
        shard->budget = memory / cache->num_shards;
        h2o_linklist_init_anchor(&shard->lru);
    }
    return cache;
}

void ef_cache_release(ef_cache_object_t *obj)
{
    struct st_item_t *item = (void *)obj;

    if (item == NULL)
        return;
    if (atomic_fetch_sub_explicit(&item->refcnt, 1, memory_order_acq_rel) == 1)
        free(item);
}

static void retain(struct st_item_t *item)
{
    atomic_fetch_add_explicit(&item->refcnt, 1, memory_order_relaxed);
}

ef_cache_object_t *ef_cache_retain(ef_cache_object_t *obj)
{
    if (obj != NULL)
        retain((struct st_item_t *)obj);
    return obj;
}

void ef_cache_destroy(ef_cache_t *cache)
{
    for (size_t i = 0; i != cache->num_shards; ++i) {
        struct st_shard_t *shard = &cache->shards[i];
        while (!h2o_linklist_is_empty(&shard->lru)) {
            struct st_item_t *item = H2O_STRUCT_FROM_MEMBER(struct st_item_t, lru, shard->lru.next);
            h2o_linklist_unlink(&item->lru);
            ef_cache_release(&item->super);
        }
        free(shard->buckets);
        pthread_mutex_destroy(&shard->mutex);
    }
    free(cache);
}

static struct st_item_t **find_slot(struct st_shard_t *shard, uint64_t hash, const char *key, size_t len)
{
    struct st_item_t **slot = &shard->buckets[hash & (shard->num_buckets - 1)];
    for (; *slot != NULL; slot = &(*slot)->bucket_next) {
        struct st_item_t *item = *slot;
        if (item->hash == hash && item->super.key.len == len && (len == 0 || memcmp(item->super.key.base, key, len) == 0))
            break;
    }
    return slot;
}

static void grow_buckets(struct st_shard_t *shard)
{
    size_t num = shard->num_buckets * 2;
    struct st_item_t **buckets = calloc_or_abort(num, sizeof(*buckets));

    for (size_t i = 0; i != shard->num_buckets; ++i) {
        struct st_item_t *item, *next;
        for (item = shard->buckets[i]; item != NULL; item = next) {
            next = item->bucket_next;
            item->bucket_next = buckets[item->hash & (num - 1)];
            buckets[item->hash & (num - 1)] = item;
        }
    }
    free(shard->buckets);
    shard->buckets = buckets;
    shard->num_buckets = num;
}

/* Takes the item out of the shard and chains it on `dropped` through its (now unused)
 * bucket link, so the store's reference is released after the lock is let go. */
static void unlink_item(struct st_shard_t *shard, struct st_item_t **slot, struct st_item_t **dropped)
{
    struct st_item_t *item = *slot;

    *slot = item->bucket_next;
    h2o_linklist_unlink(&item->lru);
    shard->count -= 1;
    shard->used -= item->size;
    atomic_store_explicit(&shard->objects, shard->count, memory_order_relaxed);
    atomic_store_explicit(&shard->bytes, shard->used, memory_order_relaxed);
    item->bucket_next = *dropped;
    *dropped = item;
}

static void release_chain(struct st_item_t *item)
{
    while (item != NULL) {
        struct st_item_t *next = item->bucket_next;
        ef_cache_release(&item->super);
        item = next;
    }
}

/* Finds and retains the item under `key`, making it its shard's most recently used; NULL if there is none. */
static struct st_item_t *find_item(ef_cache_t *cache, const char *key, size_t key_len, struct st_shard_t **shard)
{
    uint64_t hash = ef_cache_hash(key, key_len);
    struct st_item_t *item;

    *shard = shard_of(cache, hash);
    pthread_mutex_lock(&(*shard)->mutex);
    if ((item = *find_slot(*shard, hash, key, key_len)) != NULL) {
        retain(item);
        h2o_linklist_unlink(&item->lru);
        h2o_linklist_insert((*shard)->lru.next, &item->lru);
    }
    pthread_mutex_unlock(&(*shard)->mutex);
    return item;
}

ef_cache_object_t *ef_cache_lookup(ef_cache_t *cache, const char *key, size_t key_len, uint64_t now_ms)
{
    struct st_shard_t *shard;
    struct st_item_t *item = find_item(cache, key, key_len, &shard);

    if (item == NULL) {
        counter_add(&shard->misses, 1);
        return NULL;
    }
    counter_add(&shard->hits, 1);
    if (!ef_cache_object_is_fresh(&item->super, now_ms))
        counter_add(&shard->stale, 1);
    return &item->super;
}

ef_cache_object_t *ef_cache_lookup_again(ef_cache_t *cache, const char *key, size_t key_len)
{
    struct st_shard_t *shard;
    struct st_item_t *item = find_item(cache, key, key_len, &shard);
    return item != NULL ? &item->super : NULL;
}

static size_t headers_bytes(const ef_cache_entry_t *entry)
{
    size_t n = 0;
    for (size_t i = 0; i != entry->num_headers; ++i)
        n += entry->headers[i].name.len + entry->headers[i].value.len;
    return n;
}

size_t ef_cache_object_size(const ef_cache_entry_t *entry)
{
    return sizeof(struct st_item_t) + entry->num_headers * sizeof(ef_cache_header_t) + entry->key.len + headers_bytes(entry) +
           entry->body.len + entry->etag.len + entry->last_modified.len + entry->vary.len;
}

static h2o_iovec_t copy_bytes(char **dst, h2o_iovec_t src)
{
    h2o_iovec_t v = {NULL, 0};
    if (src.base == NULL)
        return v;
    v.base = *dst;
    v.len = src.len;
    if (src.len != 0)
        memcpy(*dst, src.base, src.len);
    *dst += src.len;
    return v;
}

/* The body's pieces, one after the other. */
static h2o_iovec_t copy_parts(char **dst, const h2o_iovec_t *parts, size_t num_parts)
{
    if (num_parts == 1)
        return copy_bytes(dst, parts[0]);
    h2o_iovec_t v = {*dst, 0};
    for (size_t i = 0; i != num_parts; ++i)
        v.len += copy_bytes(dst, parts[i]).len;
    return v;
}

/* One allocation: the item, its header array, then every byte string; the body from `parts`. */
static struct st_item_t *new_item(const ef_cache_entry_t *entry, const h2o_iovec_t *parts, size_t num_parts, size_t size,
                                  uint64_t hash)
{
    struct st_item_t *item = h2o_mem_alloc(size);
    ef_cache_object_t *obj = &item->super;
    char *p;

    *obj = *entry;
    obj->headers = (void *)(item + 1);
    p = (char *)(obj->headers + entry->num_headers);
    for (size_t i = 0; i != entry->num_headers; ++i) {
        obj->headers[i].name = copy_bytes(&p, entry->headers[i].name);
        obj->headers[i].value = copy_bytes(&p, entry->headers[i].value);
    }
    obj->key = copy_bytes(&p, entry->key);
    obj->body = copy_parts(&p, parts, num_parts);
    obj->etag = copy_bytes(&p, entry->etag);
    obj->last_modified = copy_bytes(&p, entry->last_modified);
    obj->vary = copy_bytes(&p, entry->vary);
    if (obj->key.base == NULL)
        obj->key.base = p;
    if (obj->num_headers == 0)
        obj->headers = NULL;
    atomic_init(&item->refcnt, 1);
    item->hash = hash;
    item->size = size;
    item->bucket_next = NULL;
    item->lru = (h2o_linklist_t){NULL, NULL};
    return item;
}

int ef_cache_insert(ef_cache_t *cache, const ef_cache_entry_t *entry, ef_cache_object_t **ref)
{
    return ef_cache_insert_parts(cache, entry, &entry->body, 1, ref);
}

int ef_cache_insert_parts(ef_cache_t *cache, const ef_cache_entry_t *_entry, const h2o_iovec_t *parts, size_t num_parts,
                          ef_cache_object_t **ref)
{
    ef_cache_entry_t entry_ = *_entry, *entry = &entry_;
    entry->body.len = 0;
    for (size_t i = 0; i != num_parts; ++i)
        entry->body.len += parts[i].len;
    uint64_t hash = ef_cache_hash(entry->key.base, entry->key.len);
    struct st_shard_t *shard = shard_of(cache, hash);
    size_t size = ef_cache_object_size(entry);
    struct st_item_t *item, **slot, *dropped = NULL;
    uint64_t evicted = 0;

    if (size > cache->max_object_size) {
        counter_add(&shard->refused, 1);
        return -1;
    }
    item = new_item(entry, parts, num_parts, size, hash);
    if (ref != NULL) {
        retain(item);
        *ref = &item->super;
    }

    pthread_mutex_lock(&shard->mutex);
    if (*(slot = find_slot(shard, hash, entry->key.base, entry->key.len)) != NULL) {
        unlink_item(shard, slot, &dropped);
        counter_add(&shard->replaced, 1);
    }
    while (shard->used + size > shard->budget) {
        struct st_item_t *victim = H2O_STRUCT_FROM_MEMBER(struct st_item_t, lru, shard->lru.prev);
        unlink_item(shard, find_slot(shard, victim->hash, victim->super.key.base, victim->super.key.len), &dropped);
        ++evicted;
    }
    if (shard->count >= shard->num_buckets)
        grow_buckets(shard);
    slot = &shard->buckets[hash & (shard->num_buckets - 1)];
    item->bucket_next = *slot;
    *slot = item;
    h2o_linklist_insert(shard->lru.next, &item->lru);
    shard->count += 1;
    shard->used += size;
    atomic_store_explicit(&shard->objects, shard->count, memory_order_relaxed);
    atomic_store_explicit(&shard->bytes, shard->used, memory_order_relaxed);
    counter_add(&shard->inserts, 1);
    if (evicted != 0)
        counter_add(&shard->evictions, evicted);
    pthread_mutex_unlock(&shard->mutex);

    release_chain(dropped);
    return 0;
}

/* The "PATH?QUERY" part of a key: after the first '\n', up to the next '\n'. */
static h2o_iovec_t path_part(h2o_iovec_t key)
{
    const char *start = memchr(key.base, '\n', key.len), *end;

    start = start != NULL ? start + 1 : key.base;
    end = memchr(start, '\n', key.base + key.len - start);
    if (end == NULL)
        end = key.base + key.len;
    return h2o_iovec_init(start, end - start);
}

/* A batch of invalidation paths, ready for one pass over the store: the exact ones in a hash table (open addressing,
 * holding indices into `patterns`), the ones ending in '*' in a list, checked one by one (CloudFront allows 15 of those
 * in progress; exact paths may be thousands). */
struct st_purge_t {
    const h2o_iovec_t *patterns;
    size_t *exact, exact_mask;
    size_t *prefixes, num_prefixes;
};

#define NO_PATTERN SIZE_MAX

static size_t *find_exact(struct st_purge_t *p, const char *s, size_t len)
{
    size_t i = ef_cache_hash(s, len) & p->exact_mask;
    while (p->exact[i] != NO_PATTERN && !h2o_memis(p->patterns[p->exact[i]].base, p->patterns[p->exact[i]].len, s, len))
        i = (i + 1) & p->exact_mask;
    return &p->exact[i];
}

static void purge_init(struct st_purge_t *p, const h2o_iovec_t *patterns, size_t n)
{
    size_t size = 16;
    while (size < n * 2)
        size *= 2;
    *p = (struct st_purge_t){patterns, h2o_mem_alloc(sizeof(size_t) * size), size - 1, h2o_mem_alloc(sizeof(size_t) * (n + 1))};
    for (size_t i = 0; i != size; ++i)
        p->exact[i] = NO_PATTERN;
    for (size_t i = 0; i != n; ++i) {
        if (patterns[i].len == 0)
            continue;
        if (patterns[i].base[patterns[i].len - 1] == '*') {
            p->prefixes[p->num_prefixes++] = i;
        } else {
            size_t *slot = find_exact(p, patterns[i].base, patterns[i].len);
            if (*slot == NO_PATTERN) /* a repeated path counts for its first appearance */
                *slot = i;
        }
    }
}

/* The index of the first pattern that matches `key`, or NO_PATTERN. A pattern with '?' must equal the key's "PATH?QUERY"
 * part; one without must equal its path; one ending in '*' must be a prefix of the "PATH?QUERY" part. */
static size_t purge_match(struct st_purge_t *p, h2o_iovec_t key)
{
    h2o_iovec_t part = path_part(key);
    const char *q = memchr(part.base, '?', part.len);
    size_t match = *find_exact(p, part.base, q != NULL ? (size_t)(q - part.base) : part.len);

    if (q != NULL) {
        size_t with_query = *find_exact(p, part.base, part.len);
        if (with_query < match)
            match = with_query;
    }
    for (size_t i = 0; i != p->num_prefixes && p->prefixes[i] < match; ++i) {
        h2o_iovec_t pat = p->patterns[p->prefixes[i]];
        if (part.len >= pat.len - 1 && memcmp(part.base, pat.base, pat.len - 1) == 0)
            match = p->prefixes[i];
    }
    return match;
}

size_t ef_cache_purge_paths(ef_cache_t *cache, const h2o_iovec_t *patterns, size_t num_patterns, size_t *counts)
{
    struct st_purge_t p;
    size_t total = 0;

    /* before any object goes: a fetch that looked up before this purge then does not store what it got */
    atomic_fetch_add(&cache->generation, 1);
    purge_init(&p, patterns, num_patterns);
    if (counts != NULL)
        memset(counts, 0, sizeof(counts[0]) * num_patterns);
    for (size_t i = 0; i != cache->num_shards; ++i) {
        struct st_shard_t *shard = &cache->shards[i];
        struct st_item_t *dropped = NULL;
        size_t n = 0, match;
        pthread_mutex_lock(&shard->mutex);
        for (size_t b = 0; b != shard->num_buckets; ++b) {
            struct st_item_t **slot = &shard->buckets[b];
            while (*slot != NULL) {
                if ((match = purge_match(&p, (*slot)->super.key)) != NO_PATTERN) {
                    unlink_item(shard, slot, &dropped);
                    ++n;
                    if (counts != NULL)
                        ++counts[match];
                } else {
                    slot = &(*slot)->bucket_next;
                }
            }
        }
        if (n != 0)
            counter_add(&shard->purged, n);
        pthread_mutex_unlock(&shard->mutex);
        release_chain(dropped);
        total += n;
    }
    free(p.exact);
    free(p.prefixes);
    return total;
}

size_t ef_cache_purge(ef_cache_t *cache, const char *pattern, size_t pattern_len)
{
    h2o_iovec_t p = h2o_iovec_init(pattern, pattern_len);
    return ef_cache_purge_paths(cache, &p, 1, NULL);
}

uint64_t ef_cache_generation(ef_cache_t *cache)
{
    return atomic_load(&cache->generation);
}

void ef_cache_get_stats(ef_cache_t *cache, ef_cache_stats_t *stats)
{
    memset(stats, 0, sizeof(*stats));
    for (size_t i = 0; i != cache->num_shards; ++i) {
        struct st_shard_t *shard = &cache->shards[i];
        stats->objects += atomic_load_explicit(&shard->objects, memory_order_relaxed);
        stats->bytes += atomic_load_explicit(&shard->bytes, memory_order_relaxed);
        stats->hits += atomic_load_explicit(&shard->hits, memory_order_relaxed);
        stats->stale += atomic_load_explicit(&shard->stale, memory_order_relaxed);
        stats->misses += atomic_load_explicit(&shard->misses, memory_order_relaxed);
        stats->inserts += atomic_load_explicit(&shard->inserts, memory_order_relaxed);
        stats->replaced += atomic_load_explicit(&shard->replaced, memory_order_relaxed);
        stats->refused += atomic_load_explicit(&shard->refused, memory_order_relaxed);
        stats->evictions += atomic_load_explicit(&shard->evictions, memory_order_relaxed);
        stats->purged += atomic_load_explicit(&shard->purged, memory_order_relaxed);
    }
}
