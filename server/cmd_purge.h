/*
 * `edgefn purge`: drops cached objects from a running edgefn, through its admin
 * listener (POST /cache/invalidations); what CloudFront's CreateInvalidation does.
 */
#ifndef EF_SERVER_CMD_PURGE_H
#define EF_SERVER_CMD_PURGE_H

#define EF_CMD_PURGE_USAGE                                                                                                         \
    "       edgefn purge [-c FILE] PATH...\n"                                                                                      \
    "                                   drop the cached objects that match each PATH (/index.html, /img/*) from the\n"             \
    "                                   running edgefn that serves FILE, through its admin listener\n"

/**
 * Runs the command with the arguments that follow "purge" (`argv[0]` is the first of
 * them). Prints what was purged on stdout and problems on stderr. Returns the exit
 * code: 0 purged, 1 the admin listener could not be reached or refused the request,
 * 2 bad usage, a bad path or a config without `admin:`.
 */
int ef_cmd_purge(int argc, char **argv);

#endif
