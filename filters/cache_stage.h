/*
 * The cache stages of the pipeline (DESIGN.md, "The request's journey"): the lookup
 * after viewer-request, and the store after origin-response.
 *
 *   lookup    GET and HEAD of a behavior with a cache policy (no Range, no
 *             Authorization unless the key holds it): a fresh object is a Hit; a
 *             stale one with validators is revalidated; a miss of a GET leads a fetch
 *             that concurrent misses of the same key wait for (server/collapse.h).
 *   fetch     a GET miss asks the origin without the viewer's conditionals, so that
 *             what comes back can be stored; a revalidation adds the object's.
 *   304       the origin confirmed a stale object: it is stored again, fresh, with the
 *             304's headers, and served (RefreshHit); origin-response does not run.
 *             An origin that fails a revalidation (5xx, or no answer) gets the stale
 *             object served instead of its error, as on CloudFront.
 *   store     after origin-response, by filters/cache_policy.c's rules: the body is
 *             copied as the origin sends it, sent to the viewer from the copies, and
 *             stored once complete (the fill, below).
 *
 * A served object's body is sent from the object itself, which the request holds a
 * reference to until it ends.
 */
#ifndef EF_FILTERS_CACHE_STAGE_H
#define EF_FILTERS_CACHE_STAGE_H

#include "filters/exchange.h"

/* The value of the x-cache header for `status`. */
extern const h2o_iovec_t ef_xcache_names[];

/**
 * The lookup stage: calls on_hit with the object's response in req->res and ex->body
 * (a 304 when the request's conditionals match), or on_miss when the request goes on to
 * the origin, either now or once the fetch it waits for has ended.
 */
void ef_cache_lookup_stage(ef_exchange_t *ex, void (*on_hit)(ef_exchange_t *ex), void (*on_miss)(ef_exchange_t *ex));

/* Just before the origin fetch: the request's conditionals are set for what the cache wants. */
void ef_cache_prepare_fetch(ef_exchange_t *ex);

/**
 * The origin's response head has come (req->res). Returns 1 if it was the 304 of a
 * revalidation, or a 5xx for a stale object that may be served stale, in which case the
 * refreshed (or stale) object is in req->res and ex->body and the fetch is not wanted
 * any more; 0 otherwise.
 */
int ef_cache_on_origin_head(ef_exchange_t *ex);

/**
 * The origin fetch failed (edgefn's 502 or 504 is about to be sent). Returns 1 if the
 * request was revalidating a stale object that may be served stale (RFC 9111: not one
 * that must be revalidated), which is then served instead, in req->res and ex->body, as
 * CloudFront serves what it has when the origin is down. Otherwise the requests waiting
 * for this fetch go to the origin themselves, and 0 is returned.
 */
int ef_cache_on_origin_error(ef_exchange_t *ex);

/* The store stage, on the response origin-response left (or one origin-request generated). */
void ef_cache_store_stage(ef_exchange_t *ex);

/**
 * The fill: while a response is being stored, the origin's body is copied as it arrives
 * and the viewer is sent the copies at its own pace, so that the origin is read at its
 * pace, not the viewer's (requests waiting for this fetch wait for the origin only).
 * Past max-object-size the store gives up; the viewer is sent the copies it has not had,
 * and then the origin's bytes as without a cache, at the viewer's pace: a fill holds at
 * most max-object-size and one piece, until its request ends.
 *
 * ef_cache_fill_body takes the origin's body bytes (instead of h2o_send) and returns 1
 * while the fill is active, 0 when they are for the pipeline to send as usual.
 * ef_cache_fill_proceed is the viewer's readiness for more, likewise.
 * ef_cache_fill_detach: the viewer is to get another body (a function replaced it);
 * returns 1 if the body is still being stored, in which case `after` is called once the
 * store is over (the viewer waits for at most one origin fetch), 0 if the fill is done
 * with and the fetch may be cancelled.
 */
int ef_cache_fill_body(ef_exchange_t *ex, h2o_iovec_t *bufs, size_t bufcnt, h2o_send_state_t state);
int ef_cache_fill_proceed(ef_exchange_t *ex);
int ef_cache_fill_detach(ef_exchange_t *ex, void (*after)(ef_exchange_t *ex));

/* Adds x-cache (and Age, on hits) to the response about to be sent. */
void ef_cache_add_headers(ef_exchange_t *ex);

/* Gives up whatever the cache stages hold for `ex`: a fetch it leads or waits for, a fill, an object. */
void ef_cache_dispose(ef_exchange_t *ex);

/* Per worker thread: the receiver of ended waits. */
void ef_cache_thread_init(ef_thread_t *thread);
void ef_cache_thread_dispose(ef_thread_t *thread);

/* Whether no ended wait is still on its way to a thread: a thread stops only then. */
int ef_cache_quiesced(ef_server_t *server);

#endif
