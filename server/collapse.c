#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "server/collapse.h"

#define NUM_BUCKETS 256 /* flights are as many as concurrent distinct misses: few */

struct st_ef_flight_t {
    ef_flight_t *bucket_next;
    uint64_t hash;
    h2o_iovec_t key; /* a copy */
    ef_flight_waiter_t *waiters, **waiters_tail;
};

struct st_ef_collapse_t {
    pthread_mutex_t mutex;
    ef_flight_t *buckets[NUM_BUCKETS];
    atomic_size_t pending;
};

ef_collapse_t *ef_collapse_create(void)
{
    ef_collapse_t *collapse = h2o_mem_alloc(sizeof(*collapse));
    memset(collapse, 0, sizeof(*collapse));
    pthread_mutex_init(&collapse->mutex, NULL);
    return collapse;
}

void ef_collapse_destroy(ef_collapse_t *collapse)
{
    pthread_mutex_destroy(&collapse->mutex);
    free(collapse);
}

static ef_flight_t **find(ef_collapse_t *collapse, uint64_t hash, h2o_iovec_t key)
{
    ef_flight_t **slot = &collapse->buckets[hash % NUM_BUCKETS];
    for (; *slot != NULL; slot = &(*slot)->bucket_next)
        if ((*slot)->hash == hash && h2o_memis((*slot)->key.base, (*slot)->key.len, key.base, key.len))
            break;
    return slot;
}

ef_flight_t *ef_collapse_join(ef_collapse_t *collapse, h2o_iovec_t key, h2o_multithread_receiver_t *receiver, void *data,
                              ef_flight_waiter_t **waiter)
{
    uint64_t hash = ef_cache_hash(key.base, key.len);
    ef_flight_t **slot, *flight;

    pthread_mutex_lock(&collapse->mutex);
    if ((flight = *(slot = find(collapse, hash, key))) != NULL) {
        ef_flight_waiter_t *w = h2o_mem_alloc(sizeof(*w));
        *w = (ef_flight_waiter_t){.receiver = receiver, .flight = flight, .data = data};
        *flight->waiters_tail = w;
        flight->waiters_tail = &w->next;
        pthread_mutex_unlock(&collapse->mutex);
        *waiter = w;
        return NULL;
    }
    flight = h2o_mem_alloc(sizeof(*flight) + key.len);
    *flight = (ef_flight_t){.hash = hash, .key = h2o_iovec_init((char *)(flight + 1), key.len)};
    memcpy(flight->key.base, key.base, key.len);
    flight->waiters_tail = &flight->waiters;
    *slot = flight;
    pthread_mutex_unlock(&collapse->mutex);
    return flight;
}

void ef_collapse_end(ef_collapse_t *collapse, ef_flight_t *flight, ef_cache_object_t *obj, int outcome)
{
    ef_flight_waiter_t *w, *next;

    pthread_mutex_lock(&collapse->mutex);
    ef_flight_t **slot = find(collapse, flight->hash, flight->key);
    *slot = flight->bucket_next;
    w = flight->waiters;
    for (ef_flight_waiter_t *p = w; p != NULL; p = p->next) {
        p->flight = NULL;
        p->obj = ef_cache_retain(obj);
        p->outcome = outcome;
        atomic_fetch_add(&collapse->pending, 1);
    }
    pthread_mutex_unlock(&collapse->mutex);
    free(flight);

    /* once sent, a waiter belongs to its receiver, which may free it at once */
    for (; w != NULL; w = next) {
        next = w->next;
        h2o_multithread_send_message(w->receiver, &w->super);
    }
}

void ef_collapse_leave(ef_collapse_t *collapse, ef_flight_waiter_t *waiter)
{
    pthread_mutex_lock(&collapse->mutex);
    ef_flight_t *flight = waiter->flight;
    if (flight != NULL) {
        ef_flight_waiter_t **p = &flight->waiters;
        while (*p != waiter)
            p = &(*p)->next;
        if ((*p = waiter->next) == NULL)
            flight->waiters_tail = p;
    } else {
        waiter->data = NULL;
    }
    pthread_mutex_unlock(&collapse->mutex);
    if (flight != NULL)
        free(waiter);
}

void ef_collapse_delivered(ef_collapse_t *collapse, ef_flight_waiter_t *waiter)
{
    ef_cache_release(waiter->obj);
    free(waiter);
    atomic_fetch_sub(&collapse->pending, 1);
}

size_t ef_collapse_pending(ef_collapse_t *collapse)
{
    return atomic_load(&collapse->pending);
}
