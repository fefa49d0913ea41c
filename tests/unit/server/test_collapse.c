/*
 * Request collapsing (server/collapse.c): concurrent misses for one key make one
 * fetch; what a user would notice if it went wrong is a second origin fetch, a
 * waiter never woken, a waiter woken with another key's object, or a crash when a
 * waiting client goes away.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <h2o.h>
#include "server/collapse.h"

#define S(lit) h2o_iovec_init(H2O_STRLIT(lit))

/* libh2o's loops keep recycled buffers in thread-local free lists it never empties (as server/main.c says) */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:h2o_mem_alloc_recycle\n";
}

/* one thread's loop and the receiver its waiters are woken on */
struct st_thread_t {
    h2o_loop_t *loop;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t receiver;
    ef_collapse_t *collapse;
    int woken;                  /* waiters delivered with their request still there */
    int woken_gone;             /* waiters delivered after their request went away */
    const char *bodies[8];      /* what each woken waiter got: the object's body, or "" for NULL */
    int outcomes[8];            /* and the outcome the leader gave */
    ef_cache_object_t *objs[8]; /* and the object itself */
};

static void on_woken(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    struct st_thread_t *t = H2O_STRUCT_FROM_MEMBER(struct st_thread_t, receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        ef_flight_waiter_t *w = H2O_STRUCT_FROM_MEMBER(ef_flight_waiter_t, super.link, messages->next);
        h2o_linklist_unlink(&w->super.link);
        if (w->data == NULL) {
            ++t->woken_gone;
        } else {
            t->objs[t->woken] = w->obj;
            t->outcomes[t->woken] = w->outcome;
            t->bodies[t->woken++] = w->obj != NULL ? w->obj->body.base : "";
        }
        ef_collapse_delivered(t->collapse, w);
    }
}

static void thread_init(struct st_thread_t *t, ef_collapse_t *collapse)
{
    memset(t, 0, sizeof(*t));
    t->loop = h2o_evloop_create();
    t->queue = h2o_multithread_create_queue(t->loop);
    t->collapse = collapse;
    h2o_multithread_register_receiver(t->queue, &t->receiver, on_woken);
}

static void thread_dispose(struct st_thread_t *t)
{
    h2o_multithread_unregister_receiver(t->queue, &t->receiver);
    h2o_multithread_destroy_queue(t->queue);
    free(t->queue);
    h2o_evloop_destroy(t->loop);
}

/* runs the loop until `n` waiters have been delivered (or a second has passed) */
static void run_until(struct st_thread_t *t, int n)
{
    for (int i = 0; i != 100 && t->woken + t->woken_gone < n; ++i)
        h2o_evloop_run(t->loop, 10);
}

static ef_cache_object_t *stored(ef_cache_t *cache, const char *key, const char *body)
{
    ef_cache_entry_t e;
    ef_cache_object_t *obj;
    memset(&e, 0, sizeof(e));
    e.key = h2o_iovec_init(key, strlen(key));
    e.status = 200;
    e.body = h2o_iovec_init(body, strlen(body) + 1); /* with its NUL, so tests can read it as a string */
    e.ttl_ms = 60000;
    assert_int_equal(ef_cache_insert(cache, &e, &obj), 0);
    return obj;
}

static void test_one_leader_many_waiters(void **state)
{
    ef_collapse_t *collapse = ef_collapse_create();
    ef_cache_t *cache = ef_cache_create(1 << 20, 1 << 16);
    struct st_thread_t t;
    ef_flight_waiter_t *w1 = NULL, *w2 = NULL, *w3 = NULL;
    int data;

    thread_init(&t, collapse);
    ef_flight_t *flight = ef_collapse_join(collapse, S("h\n/a\n"), &t.receiver, &data, &w1);
    assert_non_null(flight);
    assert_null(w1);
    /* the same key waits; another key leads a flight of its own */
    assert_null(ef_collapse_join(collapse, S("h\n/a\n"), &t.receiver, &data, &w1));
    assert_null(ef_collapse_join(collapse, S("h\n/a\n"), &t.receiver, &data, &w2));
    ef_flight_t *other = ef_collapse_join(collapse, S("h\n/b\n"), &t.receiver, &data, &w3);
    assert_non_null(other);
    assert_non_null(w1);
    assert_non_null(w2);

    ef_cache_object_t *obj = stored(cache, "h\n/a\n", "body a");
    ef_collapse_end(collapse, flight, obj, 7);
    assert_int_equal(ef_collapse_pending(collapse), 2);
    /* ended: the next miss of the key leads again */
    ef_flight_waiter_t *w4 = NULL;
    ef_flight_t *again = ef_collapse_join(collapse, S("h\n/a\n"), &t.receiver, &data, &w4);
    assert_non_null(again);

    run_until(&t, 2);
    assert_int_equal(t.woken, 2);
    assert_string_equal(t.bodies[0], "body a");
    assert_string_equal(t.bodies[1], "body a");
    assert_ptr_equal(t.objs[0], obj);
    assert_int_equal(t.outcomes[0], 7);
    assert_int_equal(t.outcomes[1], 7);
    assert_int_equal(ef_collapse_pending(collapse), 0);

    ef_collapse_end(collapse, again, NULL, 0);
    ef_collapse_end(collapse, other, NULL, 0);
    ef_cache_release(obj);
    ef_cache_destroy(cache); /* ASan: every waiter's reference was released */
    thread_dispose(&t);
    ef_collapse_destroy(collapse);
}

static void test_failed_fetch_sends_waiters_on(void **state)
{
    ef_collapse_t *collapse = ef_collapse_create();
    struct st_thread_t t;
    ef_flight_waiter_t *w = NULL;
    int data;

    thread_init(&t, collapse);
    ef_flight_t *flight = ef_collapse_join(collapse, S("k"), &t.receiver, &data, &w);
    assert_null(ef_collapse_join(collapse, S("k"), &t.receiver, &data, &w));
    ef_collapse_end(collapse, flight, NULL, 3);
    run_until(&t, 1);
    assert_int_equal(t.woken, 1);
    assert_string_equal(t.bodies[0], ""); /* NULL: go to the origin yourself */
    assert_int_equal(t.outcomes[0], 3);
    thread_dispose(&t);
    ef_collapse_destroy(collapse);
}

static void test_waiter_leaves(void **state)
{
    ef_collapse_t *collapse = ef_collapse_create();
    struct st_thread_t t;
    ef_flight_waiter_t *first = NULL, *middle = NULL, *last = NULL, *late = NULL;
    int data;

    thread_init(&t, collapse);
    ef_flight_t *flight = ef_collapse_join(collapse, S("k"), &t.receiver, &data, &first);
    ef_collapse_join(collapse, S("k"), &t.receiver, &data, &first);
    ef_collapse_join(collapse, S("k"), &t.receiver, &data, &middle);
    ef_collapse_join(collapse, S("k"), &t.receiver, &data, &last);
    ef_collapse_join(collapse, S("k"), &t.receiver, &data, &late);
    /* leaving while queued: gone at once, never delivered (the last one too: the tail is kept right) */
    ef_collapse_leave(collapse, middle);
    ef_collapse_leave(collapse, late);
    ef_flight_waiter_t *after = NULL;
    ef_collapse_join(collapse, S("k"), &t.receiver, &data, &after);

    ef_collapse_end(collapse, flight, NULL, 3);
    /* leaving once sent: the message is on its way; it arrives marked, and is freed there */
    ef_collapse_leave(collapse, last);
    run_until(&t, 3);
    assert_int_equal(t.woken, 2); /* first and after */
    assert_int_equal(t.woken_gone, 1);
    assert_int_equal(ef_collapse_pending(collapse), 0);
    thread_dispose(&t);
    ef_collapse_destroy(collapse);
}

/* a waiter on another thread is woken on its own loop */
struct st_remote_t {
    struct st_thread_t t;
    ef_collapse_t *collapse;
    pthread_barrier_t joined;
};

static void *remote_main(void *arg)
{
    struct st_remote_t *r = arg;
    ef_flight_waiter_t *w = NULL;
    int data;

    thread_init(&r->t, r->collapse);
    assert_null(ef_collapse_join(r->collapse, S("k"), &r->t.receiver, &data, &w));
    pthread_barrier_wait(&r->joined);
    run_until(&r->t, 1);
    return NULL;
}

static void test_waiter_on_another_thread(void **state)
{
    ef_collapse_t *collapse = ef_collapse_create();
    ef_cache_t *cache = ef_cache_create(1 << 20, 1 << 16);
    struct st_remote_t r = {.collapse = collapse};
    ef_flight_waiter_t *w = NULL;
    pthread_t tid;
    int data;

    ef_flight_t *flight = ef_collapse_join(collapse, S("k"), NULL, &data, &w);
    pthread_barrier_init(&r.joined, NULL, 2);
    pthread_create(&tid, NULL, remote_main, &r);
    pthread_barrier_wait(&r.joined);
    ef_cache_object_t *obj = stored(cache, "k", "from the leader");
    ef_collapse_end(collapse, flight, obj, 7);
    pthread_join(tid, NULL);
    assert_int_equal(r.t.woken, 1);
    assert_string_equal(r.t.bodies[0], "from the leader");
    ef_cache_release(obj);
    ef_cache_destroy(cache);
    thread_dispose(&r.t);
    pthread_barrier_destroy(&r.joined);
    ef_collapse_destroy(collapse);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_leader_many_waiters),
        cmocka_unit_test(test_failed_fetch_sends_waiters_on),
        cmocka_unit_test(test_waiter_leaves),
        cmocka_unit_test(test_waiter_on_another_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
