/*
 * Request collapsing: the cache fetches in flight, server-wide, so that concurrent
 * misses for one key make one origin fetch.
 *
 * The first miss for a key leads: it registers a flight and fetches. A miss that
 * finds a flight for its key joins it as a waiter and waits. When the leader ends
 * its flight it hands every waiter its own reference to what it stored (or NULL:
 * the fetch failed or was not cacheable, so go to the origin yourself), by an h2o
 * multithread message to the waiter's own thread, where the waiter resumes. The leader
 * also says how its fetch ended, in an `outcome` of its own definition.
 *
 * Waiters are served once the leader's response is complete and stored, not
 * streamed as it arrives: a waiter may be on another thread, and a stored object is
 * immutable and shared without copies or locks, whereas a response in flight lives
 * in the leader's request and thread. Objects are capped at max-object-size, so the
 * wait is at most one origin fetch of one such object.
 *
 * The table is one mutex and a hash; it is touched on misses only, never on a hit.
 */
#ifndef EF_SERVER_COLLAPSE_H
#define EF_SERVER_COLLAPSE_H

#include <h2o.h>
#include "server/cache.h"

typedef struct st_ef_collapse_t ef_collapse_t;
typedef struct st_ef_flight_t ef_flight_t;

/**
 * A request waiting for another's fetch. `super` carries it to `receiver` (its thread's);
 * the receiver's callback reads `data` (NULL when the request went away meanwhile) and
 * `obj`, then calls ef_collapse_delivered.
 */
typedef struct st_ef_flight_waiter_t {
    h2o_multithread_message_t super;
    h2o_multithread_receiver_t *receiver;
    struct st_ef_flight_waiter_t *next; /* in its flight, while waiting */
    ef_flight_t *flight;                /* NULL once sent */
    void *data;
    ef_cache_object_t *obj; /* what the leader stored (a reference of the waiter's own), or NULL */
    int outcome;            /* how the leader's fetch ended, as it said */
} ef_flight_waiter_t;

ef_collapse_t *ef_collapse_create(void);

/* Frees the table; no flight may be open and no message pending. */
void ef_collapse_destroy(ef_collapse_t *collapse);

/**
 * If a flight for `key` is open, queues a new waiter on it for `receiver` with `data`,
 * stores it in *waiter and returns NULL. Otherwise opens a flight for `key` that the
 * caller leads and must end with ef_collapse_end, and returns it.
 */
ef_flight_t *ef_collapse_join(ef_collapse_t *collapse, h2o_iovec_t key, h2o_multithread_receiver_t *receiver, void *data,
                              ef_flight_waiter_t **waiter);

/**
 * Ends a flight: every waiter is sent to its receiver with a reference to `obj` of its
 * own (`obj` may be NULL; the caller keeps its reference) and `outcome`. Frees the flight.
 */
void ef_collapse_end(ef_collapse_t *collapse, ef_flight_t *flight, ef_cache_object_t *obj, int outcome);

/**
 * A waiter's request goes away. If the waiter is still queued it is removed and freed;
 * if it has been sent, its message is on its way and it is only marked (data = NULL),
 * to be freed when its receiver gets it.
 */
void ef_collapse_leave(ef_collapse_t *collapse, ef_flight_waiter_t *waiter);

/* The receiver's callback is done with `waiter`: releases its object and frees it. */
void ef_collapse_delivered(ef_collapse_t *collapse, ef_flight_waiter_t *waiter);

/* Waiters sent and not yet delivered: a thread may stop only when this is 0. */
size_t ef_collapse_pending(ef_collapse_t *collapse);

#endif
