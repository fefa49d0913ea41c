/*
 * `edgefn test`: runs one function once, offline, on one event, and prints what it
 * did as JSON; what CloudFront's TestFunction does, for every hook.
 */
#ifndef EF_SERVER_CMD_TEST_H
#define EF_SERVER_CMD_TEST_H

#define EF_CMD_TEST_USAGE                                                                                                          \
    "       edgefn test FUNCTION [-c FILE] --event HOOK [--request 'METHOD /path?query'] [-H 'name: value']...\n"                  \
    "                   [--event-file EVENT.json]\n"                                                                               \
    "                                   run FUNCTION once on an event and print the result as JSON\n"                              \
    "                                   (HOOK: viewer-request, origin-request, origin-response, viewer-response;\n"                \
    "                                   EVENT.json: CloudFront Functions' or Lambda@Edge's event, or {\"hook\", \"uri\", ...})\n"

/**
 * Runs the command with the arguments that follow "test" (`argv[0]` is the first of
 * them). Prints the result on stdout and problems on stderr. Returns the exit code:
 * 0 the function ran, 1 it failed or returned something invalid, 2 bad usage or config.
 */
int ef_cmd_test(int argc, char **argv);

#endif
