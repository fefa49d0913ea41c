/*
 * The cache store (server/cache.c): what a user of the edge cache would notice if it went
 * wrong: a hit with the wrong bytes, a purge that leaves objects behind, memory above the
 * configured budget, an object freed while a response is still being sent from it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <h2o/string_.h>
#include "server/cache.h"

#define S(lit) h2o_iovec_init(H2O_STRLIT(lit))

static ef_cache_entry_t make_entry(const char *key, const char *body, uint64_t stored_at_ms, uint64_t ttl_ms)
{
    ef_cache_entry_t e;
    memset(&e, 0, sizeof(e));
    e.key = h2o_iovec_init(key, strlen(key));
    e.status = 200;
    e.body = h2o_iovec_init(body, strlen(body));
    e.stored_at_ms = stored_at_ms;
    e.ttl_ms = ttl_ms;
    return e;
}

static int insert(ef_cache_t *cache, const char *key, const char *body)
{
    ef_cache_entry_t e = make_entry(key, body, 0, 60000);
    return ef_cache_insert(cache, &e, NULL);
}

/* 0 on a miss, else 1 and the body must be `body` (NULL: any) */
static int lookup(ef_cache_t *cache, const char *key, const char *body)
{
    ef_cache_object_t *obj = ef_cache_lookup(cache, key, strlen(key), 0);
    if (obj == NULL)
        return 0;
    if (body != NULL) {
        assert_int_equal(obj->body.len, strlen(body));
        assert_memory_equal(obj->body.base, body, strlen(body));
    }
    ef_cache_release(obj);
    return 1;
}

static ef_cache_stats_t stats_of(ef_cache_t *cache)
{
    ef_cache_stats_t st;
    ef_cache_get_stats(cache, &st);
    return st;
}

static void test_insert_lookup_replace(void **state)
{
    ef_cache_t *cache = ef_cache_create(1 << 20, 64 << 10);
    ef_cache_header_t headers[] = {{S("content-type"), S("text/html")}, {S("x-empty"), S("")}};
    ef_cache_entry_t e = make_entry("example.com\n/index.html\n", "<h1>one</h1>", 1000, 60000);
    ef_cache_object_t *obj, *old;
    char key_copy[] = "example.com\n/index.html\n";

    e.status = 203;
    e.headers = headers;
    e.num_headers = 2;
    e.etag = S("\"v1\"");
    e.last_modified = S("Mon, 30 Nov 2026 12:00:00 GMT");
    assert_int_equal(ef_cache_insert(cache, &e, NULL), 0);
    assert_int_equal(stats_of(cache).objects, 1);
    assert_int_equal(stats_of(cache).bytes, ef_cache_object_size(&e));
    assert_true(ef_cache_object_size(&e) > e.key.len + e.body.len + strlen("content-typetext/htmlx-empty") + 4 + 29);

    assert_null(ef_cache_lookup(cache, H2O_STRLIT("example.com\n/index.htm\n"), 0));
    assert_null(ef_cache_lookup(cache, H2O_STRLIT("other.com\n/index.html\n"), 0));
    /* a key that merely has the same bytes, from other memory */
    old = ef_cache_lookup(cache, key_copy, strlen(key_copy), 1000);
    assert_non_null(old);
    assert_int_equal(old->status, 203);
    assert_int_equal(old->key.len, strlen(key_copy));
    assert_memory_equal(old->key.base, key_copy, strlen(key_copy));
    assert_ptr_not_equal(old->key.base, e.key.base);
    assert_int_equal(old->num_headers, 2);
    assert_int_equal(old->headers[0].name.len, 12);
    assert_memory_equal(old->headers[0].name.base, "content-type", 12);
    assert_memory_equal(old->headers[0].value.base, "text/html", 9);
    assert_int_equal(old->headers[1].value.len, 0);
    assert_memory_equal(old->body.base, "<h1>one</h1>", 12);
    assert_memory_equal(old->etag.base, "\"v1\"", 4);
    assert_int_equal(old->last_modified.len, 29);
    assert_null(old->vary.base);
    assert_int_equal(old->stored_at_ms, 1000);
    assert_int_equal(old->ttl_ms, 60000);

    /* replacing: the next lookup sees the new object, the held one keeps its bytes */
    e = make_entry("example.com\n/index.html\n", "<h1>two, longer</h1>", 2000, 30000);
    assert_int_equal(ef_cache_insert(cache, &e, &obj), 0);
    assert_memory_equal(obj->body.base, "<h1>two, longer</h1>", 20);
    ef_cache_release(obj);
    assert_true(lookup(cache, "example.com\n/index.html\n", "<h1>two, longer</h1>"));
    assert_memory_equal(old->body.base, "<h1>one</h1>", 12);
    assert_memory_equal(old->headers[0].value.base, "text/html", 9);
    ef_cache_release(old);

    ef_cache_stats_t st = stats_of(cache);
    assert_int_equal(st.objects, 1);
    assert_int_equal(st.bytes, ef_cache_object_size(&e));
    assert_int_equal(st.inserts, 2);
    assert_int_equal(st.replaced, 1);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.misses, 2);
    ef_cache_release(NULL);
    ef_cache_destroy(cache);
}

/* One shard: the memory is too small for 32 shards of four max-size objects each. */
static ef_cache_t *one_shard_cache(size_t objects_of_1k)
{
    return ef_cache_create(objects_of_1k * 1024, 1024);
}

static char body_1k[1024 - 256];

static void test_evicted_object_stays_valid(void **state)
{
    ef_cache_t *cache = one_shard_cache(3);
    ef_cache_object_t *held;
    char key[32];

    memset(body_1k, 'a', sizeof(body_1k) - 1);
    assert_int_equal(insert(cache, "h\n/held\n", body_1k), 0);
    held = ef_cache_lookup(cache, H2O_STRLIT("h\n/held\n"), 0);
    assert_non_null(held);
    for (int i = 0; i != 10; ++i) {
        snprintf(key, sizeof(key), "h\n/other%d\n", i);
        assert_int_equal(insert(cache, key, body_1k), 0);
    }
    assert_false(lookup(cache, "h\n/held\n", NULL));
    assert_true(stats_of(cache).evictions >= 8);
    /* still readable (ASan would report a use after free) */
    assert_int_equal(held->body.len, sizeof(body_1k) - 1);
    for (size_t i = 0; i != held->body.len; ++i)
        assert_int_equal(held->body.base[i], 'a');
    assert_memory_equal(held->key.base, "h\n/held\n", 8);
    ef_cache_release(held);

    /* destroying the store with an object still held, then releasing it */
    held = ef_cache_lookup(cache, H2O_STRLIT("h\n/other9\n"), 0);
    assert_non_null(held);
    ef_cache_destroy(cache);
    assert_memory_equal(held->key.base, "h\n/other9\n", 10);
    ef_cache_release(held);
}

static void test_lru_order(void **state)
{
    ef_cache_t *cache = one_shard_cache(3);

    memset(body_1k, 'b', sizeof(body_1k) - 1);
    assert_int_equal(insert(cache, "h\n/a\n", body_1k), 0);
    assert_int_equal(insert(cache, "h\n/b\n", body_1k), 0);
    assert_int_equal(insert(cache, "h\n/c\n", body_1k), 0);
    assert_int_equal(stats_of(cache).objects, 3);
    /* /a is the oldest insert but the most recently looked up: /b goes first, then /c */
    assert_true(lookup(cache, "h\n/a\n", NULL));
    assert_int_equal(insert(cache, "h\n/d\n", body_1k), 0);
    assert_true(lookup(cache, "h\n/a\n", NULL));
    assert_false(lookup(cache, "h\n/b\n", NULL));
    assert_true(lookup(cache, "h\n/c\n", NULL));
    assert_true(lookup(cache, "h\n/d\n", NULL));
    assert_int_equal(insert(cache, "h\n/e\n", body_1k), 0);
    assert_false(lookup(cache, "h\n/a\n", NULL)); /* looked up before /c and /d */
    assert_true(lookup(cache, "h\n/c\n", NULL));
    assert_true(lookup(cache, "h\n/d\n", NULL));
    assert_true(lookup(cache, "h\n/e\n", NULL));
    assert_int_equal(stats_of(cache).evictions, 2);
    ef_cache_destroy(cache);
}

static void test_memory_bound(void **state)
{
    size_t budget = 256 << 10, max_seen = 0;
    ef_cache_t *cache = ef_cache_create(budget, 2048);
    static char body[2048];
    char key[64];
    unsigned seed = 1;

    memset(body, 'x', sizeof(body) - 1);
    for (int i = 0; i != 20000; ++i) {
        snprintf(key, sizeof(key), "example.com\n/item/%d\n", i);
        ef_cache_entry_t e = make_entry(key, body + rand_r(&seed) % 1500 + 300, 0, 1000);
        assert_int_equal(ef_cache_insert(cache, &e, NULL), 0);
        ef_cache_stats_t st = stats_of(cache);
        assert_true(st.bytes <= budget);
        if (st.bytes > max_seen)
            max_seen = st.bytes;
    }
    ef_cache_stats_t st = stats_of(cache);
    /* the budget is used, not just respected */
    assert_true(max_seen > budget * 3 / 4);
    assert_true(st.objects > 100);
    assert_int_equal(st.inserts, 20000);
    assert_int_equal(st.objects + st.evictions, 20000);
    assert_true(lookup(cache, "example.com\n/item/19999\n", NULL));
    assert_false(lookup(cache, "example.com\n/item/0\n", NULL));
    ef_cache_destroy(cache);
}

static void test_max_object_size(void **state)
{
    ef_cache_t *cache = ef_cache_create(1 << 20, 1000);
    ef_cache_entry_t e = make_entry("h\n/big\n", "", 0, 1000);
    static char body[4096];

    memset(body, 'z', sizeof(body) - 1);
    e.body = h2o_iovec_init(body, 1000 - ef_cache_object_size(&e));
    assert_int_equal(ef_cache_object_size(&e), 1000);
    assert_int_equal(ef_cache_insert(cache, &e, NULL), 0);
    assert_true(lookup(cache, "h\n/big\n", NULL));

    ef_cache_object_t *ref = (void *)1;
    e.key = S("h\n/bigger\n");
    assert_int_equal(ef_cache_insert(cache, &e, &ref), -1);
    assert_ptr_equal(ref, (void *)1);
    assert_false(lookup(cache, "h\n/bigger\n", NULL));
    /* a refused replacement leaves the stored object alone */
    e.key = S("h\n/big\n");
    e.body.len += 1;
    assert_int_equal(ef_cache_insert(cache, &e, NULL), -1);
    assert_true(lookup(cache, "h\n/big\n", NULL));
    ef_cache_stats_t st = stats_of(cache);
    assert_int_equal(st.refused, 2);
    assert_int_equal(st.objects, 1);
    ef_cache_destroy(cache);

    /* a max-object-size above the whole budget is capped at it */
    cache = ef_cache_create(4096, 1 << 20);
    e.body = h2o_iovec_init(body, 0);
    e.body.len = 4096 - ef_cache_object_size(&e);
    assert_true(e.body.len < sizeof(body));
    assert_int_equal(ef_cache_insert(cache, &e, NULL), 0);
    e.body.len += 1;
    assert_int_equal(ef_cache_insert(cache, &e, NULL), -1);
    assert_true(stats_of(cache).bytes <= 4096);
    ef_cache_destroy(cache);
}

static void test_purge(void **state)
{
    ef_cache_t *cache = ef_cache_create(1 << 20, 4096);
    static const char *keys[] = {
        "example.com\n/img/a.png\n",
        "example.com\n/img/b.png?v=1\n",
        "other.org\n/img/c/d.jpg\naccept-encoding=gzip\n",
        "example.com\n/index.html\n",
        "example.com\n/index.html?lang=fr\n",
        "example.com\n/index.html\nvary:accept-language=fr\n",
        "example.com\n/imgx\n",
        "example.com\n/about\n",
        "example.com\n/index.html.bak\n",
    };
    size_t n = sizeof(keys) / sizeof(keys[0]);

    for (size_t i = 0; i != n; ++i)
        assert_int_equal(insert(cache, keys[i], keys[i]), 0);
    assert_int_equal(ef_cache_purge(cache, H2O_STRLIT("/nothing")), 0);
    assert_int_equal(ef_cache_purge(cache, H2O_STRLIT("/about?x=1")), 0);
    assert_int_equal(ef_cache_purge(cache, H2O_STRLIT("/img")), 0);
    assert_int_equal(ef_cache_purge(cache, "", 0), 0);

    /* exact: every host, query and variant of the path, not its longer siblings */
    assert_int_equal(ef_cache_purge(cache, H2O_STRLIT("/index.html")), 3);
    assert_false(lookup(cache, keys[3], NULL));
    assert_false(lookup(cache, keys[4], NULL));
    assert_false(lookup(cache, keys[5], NULL));
    assert_true(lookup(cache, keys[8], keys[8]));
    assert_int_equal(ef_cache_purge(cache, H2O_STRLIT("/index.html")), 0);

    /* wildcard: a prefix of PATH?QUERY */
    assert_int_equal(ef_cache_purge(cache, H2O_STRLIT("/img/*")), 3);
    assert_false(lookup(cache, keys[0], NULL));
    assert_false(lookup(cache, keys[1], NULL));
    assert_false(lookup(cache, keys[2], NULL));
    assert_true(lookup(cache, keys[6], keys[6]));
    assert_true(lookup(cache, keys[7], keys[7]));

    /* exact with a query string matches that query only */
    assert_int_equal(insert(cache, "example.com\n/s?q=1\n", "1"), 0);
    assert_int_equal(insert(cache, "example.com\n/s?q=2\n", "2"), 0);
    assert_int_equal(ef_cache_purge(cache, H2O_STRLIT("/s?q=1")), 1);
    assert_true(lookup(cache, "example.com\n/s?q=2\n", "2"));

    ef_cache_stats_t st = stats_of(cache);
    assert_int_equal(st.objects, 4);
    assert_int_equal(st.purged, 7);
    assert_int_equal(ef_cache_purge(cache, H2O_STRLIT("/*")), 4);
    st = stats_of(cache);
    assert_int_equal(st.objects, 0);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.purged, 11);
    ef_cache_destroy(cache);
}

/* A body given in pieces is stored as one, and accounted (and refused) by its whole size. */
static void test_insert_parts(void **state)
{
    ef_cache_t *cache = ef_cache_create(1 << 20, 1024);
    ef_cache_entry_t e = make_entry("h\n/parts\n", "ignored", 0, 60000);
    h2o_iovec_t parts[] = {S("one "), S(""), S("two "), S("three")};
    ef_cache_object_t *obj = NULL;

    assert_int_equal(ef_cache_insert_parts(cache, &e, parts, 4, &obj), 0);
    assert_int_equal(obj->body.len, 13);
    assert_memory_equal(obj->body.base, "one two three", 13);
    ef_cache_release(obj);
    assert_true(lookup(cache, "h\n/parts\n", NULL));
    e.body = h2o_iovec_init("", 0);
    assert_int_equal(ef_cache_object_size(&e) + 13, stats_of(cache).bytes);

    char big[600];
    memset(big, 'x', sizeof(big));
    h2o_iovec_t halves[] = {h2o_iovec_init(big, sizeof(big)), h2o_iovec_init(big, sizeof(big))};
    e.key = S("h\n/big\n");
    assert_int_equal(ef_cache_insert_parts(cache, &e, halves, 1, NULL), 0);
    assert_int_equal(ef_cache_insert_parts(cache, &e, halves, 2, NULL), -1); /* 1200 bytes of body: over 1024 */
    ef_cache_destroy(cache);
}

/* An invalidation of many paths: one pass, each object counted for the first path that matches it. */
static void test_purge_paths(void **state)
{
    ef_cache_t *cache = ef_cache_create(64 << 20, 4096);
    char key[64];

    for (int i = 0; i != 20000; ++i) {
        snprintf(key, sizeof(key), "h\n/%s/%d%s\n", i % 2 ? "img" : "doc", i, i % 3 == 0 ? "?v=1" : "");
        assert_int_equal(insert(cache, key, "x"), 0);
    }
    h2o_iovec_t paths[3003];
    size_t counts[3003], n = 0;
    char bufs[3000][32];
    /* 3000 exact paths: /doc/0, /doc/2, ... (some of them stored with a query, which an exact path covers) */
    for (int i = 0; i != 3000; ++i)
        paths[n++] = h2o_iovec_init(bufs[i], snprintf(bufs[i], sizeof(bufs[i]), "/doc/%d", i * 2));
    paths[n++] = S("/img/1*"); /* 1, 11, 13, ..., 19999: 1 + 5 + 50 + 500 + 5000 */
    paths[n++] = S("/img/3?v=1"); /* already matched by nothing else: 3 is stored with ?v=1 */
    paths[n++] = S("/doc/0");     /* a repeat: counted for its first appearance */

    clock_t start = clock();
    size_t total = ef_cache_purge_paths(cache, paths, n, counts);
    double secs = (double)(clock() - start) / CLOCKS_PER_SEC;
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[2999], 1);
    assert_int_equal(counts[3000], 5556);
    assert_int_equal(counts[3001], 1);
    assert_int_equal(counts[3002], 0);
    assert_int_equal(total, 3000 + 5556 + 1);
    assert_false(lookup(cache, "h\n/doc/0?v=1\n", NULL));
    assert_false(lookup(cache, "h\n/img/3?v=1\n", NULL));
    assert_true(lookup(cache, "h\n/doc/6000?v=1\n", "x"));
    assert_true(lookup(cache, "h\n/img/23\n", "x"));
    assert_int_equal(stats_of(cache).objects, 20000 - total);
    /* one pass, not one per path: 3000 passes over 20000 objects would take seconds */
    assert_true(secs < 1.0);
    ef_cache_destroy(cache);
}

static void test_stale_objects_are_returned(void **state)
{
    ef_cache_t *cache = ef_cache_create(1 << 20, 4096);
    ef_cache_entry_t e = make_entry("h\n/stale\n", "body", 10000, 500);
    ef_cache_object_t *obj;

    e.etag = S("W/\"abc\"");
    assert_int_equal(ef_cache_insert(cache, &e, NULL), 0);

    obj = ef_cache_lookup(cache, H2O_STRLIT("h\n/stale\n"), 10200);
    assert_non_null(obj);
    assert_true(ef_cache_object_is_fresh(obj, 10200));
    assert_int_equal(ef_cache_object_age_ms(obj, 10200), 200);
    ef_cache_release(obj);

    obj = ef_cache_lookup(cache, H2O_STRLIT("h\n/stale\n"), 10500);
    assert_non_null(obj);
    assert_false(ef_cache_object_is_fresh(obj, 10500));
    assert_int_equal(ef_cache_object_age_ms(obj, 12345), 2345);
    assert_int_equal(ef_cache_object_age_ms(obj, 9000), 0); /* clock went back */
    assert_memory_equal(obj->etag.base, "W/\"abc\"", 7);
    ef_cache_release(obj);

    ef_cache_stats_t st = stats_of(cache);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.stale, 1);
    ef_cache_destroy(cache);
}

/* Stress: every object's body is its key repeated, so a reader can tell a torn or freed
 * object from a good one. */
#define STRESS_KEYS 300
#define STRESS_THREADS 4

struct stress_thread {
    pthread_t tid;
    ef_cache_t *cache;
    unsigned seed;
    uint64_t lookups, inserts, refused, purges, purged;
};

static atomic_int stress_stop;

static void *stress_main(void *arg)
{
    struct stress_thread *t = arg;
    ef_cache_object_t *held[8] = {NULL};
    char key[64], body[4096];

    while (!stress_stop) {
        int k = rand_r(&t->seed) % STRESS_KEYS, op = rand_r(&t->seed) % 1000;
        size_t klen = (size_t)snprintf(key, sizeof(key), "h%d\n/dir%d/obj%d\n", k % 3, k % 5, k);
        if (op < 600) {
            ef_cache_object_t *obj = ef_cache_lookup(t->cache, key, klen, 0);
            ++t->lookups;
            if (obj != NULL) {
                assert_int_equal(obj->key.len, klen);
                assert_memory_equal(obj->key.base, key, klen);
                for (size_t i = 0; i < obj->body.len; i += klen)
                    assert_memory_equal(obj->body.base + i, key, obj->body.len - i < klen ? obj->body.len - i : klen);
                /* keep some references for a while, as a slow client would */
                int slot = rand_r(&t->seed) % 8;
                ef_cache_release(held[slot]);
                held[slot] = obj;
            }
        } else if (op < 997) {
            size_t len = rand_r(&t->seed) % 3200;
            for (size_t i = 0; i < len; i += klen)
                memcpy(body + i, key, len - i < klen ? len - i : klen);
            ef_cache_header_t hdr = {S("x-key"), h2o_iovec_init(key, klen)};
            ef_cache_entry_t e = make_entry(key, "", 0, 1000);
            e.body = h2o_iovec_init(body, len);
            e.headers = &hdr;
            e.num_headers = 1;
            if (ef_cache_insert(t->cache, &e, NULL) == 0)
                ++t->inserts;
            else
                ++t->refused;
        } else {
            snprintf(key, sizeof(key), "/dir%d/*", k % 5);
            t->purged += ef_cache_purge(t->cache, key, strlen(key));
            ++t->purges;
        }
    }
    for (int i = 0; i != 8; ++i)
        ef_cache_release(held[i]);
    return NULL;
}

static void test_stress(void **state)
{
    size_t budget = 512 << 10;
    ef_cache_t *cache = ef_cache_create(budget, 3000);
    struct stress_thread threads[STRESS_THREADS];
    uint64_t lookups = 0, inserts = 0, refused = 0, purges = 0, purged = 0;
    struct timespec second = {1, 0};

    stress_stop = 0;
    for (int i = 0; i != STRESS_THREADS; ++i) {
        memset(&threads[i], 0, sizeof(threads[i]));
        threads[i].cache = cache;
        threads[i].seed = i + 1;
        assert_int_equal(pthread_create(&threads[i].tid, NULL, stress_main, &threads[i]), 0);
    }
    nanosleep(&second, NULL);
    stress_stop = 1;
    for (int i = 0; i != STRESS_THREADS; ++i) {
        pthread_join(threads[i].tid, NULL);
        lookups += threads[i].lookups;
        inserts += threads[i].inserts;
        refused += threads[i].refused;
        purges += threads[i].purges;
        purged += threads[i].purged;
    }

    ef_cache_stats_t st = stats_of(cache);
    print_message("stress: %llu lookups (%llu hits), %llu inserts, %llu refused, %llu purges (%llu objects), %llu evictions\n",
                  (unsigned long long)lookups, (unsigned long long)st.hits, (unsigned long long)inserts,
                  (unsigned long long)refused, (unsigned long long)purges, (unsigned long long)purged,
                  (unsigned long long)st.evictions);
    assert_true(lookups > 1000 && inserts > 1000 && purges > 10);
    assert_true(st.hits > 0 && st.misses > 0 && refused > 0 && st.evictions > 0);
    assert_int_equal(st.hits + st.misses, lookups);
    assert_int_equal(st.inserts, inserts);
    assert_int_equal(st.refused, refused);
    assert_int_equal(st.purged, purged);
    assert_int_equal(st.inserts, st.objects + st.replaced + st.evictions + st.purged);
    assert_true(st.bytes <= budget);
    assert_true(st.objects <= STRESS_KEYS);

    /* every resident object can be found and purged; then nothing is accounted */
    size_t found = 0;
    char key[64];
    for (int k = 0; k != STRESS_KEYS; ++k) {
        int klen = snprintf(key, sizeof(key), "h%d\n/dir%d/obj%d\n", k % 3, k % 5, k);
        found += lookup(cache, key, NULL);
        (void)klen;
    }
    assert_int_equal(found, st.objects);
    assert_int_equal(ef_cache_purge(cache, H2O_STRLIT("*")), st.objects);
    st = stats_of(cache);
    assert_int_equal(st.objects, 0);
    assert_int_equal(st.bytes, 0);
    ef_cache_destroy(cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_lookup_replace),
        cmocka_unit_test(test_evicted_object_stays_valid),
        cmocka_unit_test(test_lru_order),
        cmocka_unit_test(test_memory_bound),
        cmocka_unit_test(test_max_object_size),
        cmocka_unit_test(test_purge),
        cmocka_unit_test(test_purge_paths),
        cmocka_unit_test(test_insert_parts),
        cmocka_unit_test(test_stale_objects_are_returned),
        cmocka_unit_test(test_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
