/*
 * The request pipeline: the one place that knows the order in which a request
 * meets edgefn's stages (DESIGN.md, "The request's journey"):
 *
 *   route to a behavior -> viewer-request -> cache lookup -> origin-request -> origin
 *   fetch -> origin-response -> cache store -> viewer-response -> client
 *
 * A hit goes from the lookup to viewer-response. Each stage lives in a file of its
 * own (hook.c, cache_stage.c); this one only strings them together.
 */
#ifndef EF_FILTERS_PIPELINE_H
#define EF_FILTERS_PIPELINE_H

#include <h2o.h>
#include "server/server.h"

/**
 * Makes the pipeline the handler of `pathconf`: every request there is routed to a
 * behavior of `server` and answered, by its origin or by edgefn's own error
 * response, with an x-edgefn-request-id header and an access-log line.
 */
void ef_pipeline_register(h2o_pathconf_t *pathconf, ef_server_t *server);

/**
 * For the pathconf h2o uses for what it answers itself before any handler runs
 * (413 for a body over max-request-body, 417, ...): gives those responses a
 * request id and an access-log line too.
 */
void ef_pipeline_register_fallback(h2o_pathconf_t *pathconf, ef_server_t *server);

/* Per worker thread, before it serves and after it has stopped: what the stages keep per thread. */
void ef_pipeline_thread_init(ef_thread_t *thread);
void ef_pipeline_thread_dispose(ef_thread_t *thread);

/* Whether nothing of the pipeline is still on its way between threads: a thread stops only then. */
int ef_pipeline_quiesced(ef_server_t *server);

#endif
