/*
 * The request pipeline: the one place that knows the order in which a request
 * meets edgefn's stages (DESIGN.md, "The request's journey"):
 *
 *   route to a behavior -> viewer-request -> (cache) -> origin-request -> origin
 *   fetch -> origin-response -> (cache store) -> viewer-response -> client
 *
 * The function hooks and the cache arrive with later issues; each is a stage that
 * slots in here.
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

#endif
