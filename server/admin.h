/*
 * The admin listener: a small HTTP API on loopback for operators and for edgefn's
 * own CLI. Every endpoint requires `Authorization: Bearer TOKEN` when admin.token-file
 * is set.
 *
 *   GET /health   200 {"status":"ok"} while serving, 503 {"status":"draining"} while stopping
 */
#ifndef EF_SERVER_ADMIN_H
#define EF_SERVER_ADMIN_H

#include <h2o.h>
#include "server/server.h"

/* Makes the admin API the handler of `pathconf`. */
void ef_admin_register(h2o_pathconf_t *pathconf, ef_server_t *server);

/**
 * Reads the token from `path`: the file's content without surrounding whitespace.
 * Returns 0, or -1 with a reason in `err` (`errlen` bytes) when the file cannot be
 * read or holds no token.
 */
int ef_admin_read_token(const char *path, h2o_iovec_t *token, char *err, size_t errlen);

#endif
