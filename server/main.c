/*
 * edgefn's command line.
 *
 * Exit codes: 0 ok, 1 a failure while running (a port already taken, say), 2 bad
 * usage or a bad config.
 */
#include <stdio.h>
#include <string.h>
#include "conf/config.h"
#include "server/cmd_purge.h"
#include "server/cmd_test.h"
#include "server/server.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

#ifdef EF_SANITIZE
/* LeakSanitizer asks for this. libh2o keeps per-thread free lists of recently used
 * buffers (h2o_mem_alloc_recycle) in thread-local storage, with no call to empty
 * them: bounded caches, lost at thread exit by design, not leaks of edgefn's. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:h2o_mem_alloc_recycle\n";
}
#endif

static const char usage[] = "usage: edgefn [-c FILE]           serve, with the config in FILE (default ./edgefn.yaml)\n"
                            "       edgefn check [-c FILE]     validate the config and exit\n" EF_CMD_TEST_USAGE EF_CMD_PURGE_USAGE
                            "       edgefn --version\n"
                            "       edgefn --help\n";

static void print_errors(const ef_conf_errors_t *errors)
{
    for (size_t i = 0; i != errors->size; ++i)
        fprintf(stderr, "%s\n", errors->entries[i]);
}

/* Loads and prepares the config at `path`; on trouble prints every error and returns -1. */
static int load(const char *path, ef_conf_t *conf, ef_server_t *server)
{
    ef_conf_errors_t errors = {NULL};
    int ret = ef_conf_load(conf, path, &errors);

    /* a config that does not parse cannot be prepared; one that does is checked all the way */
    if (ret == 0)
        ret = ef_server_prepare(server, conf, &errors);
    if (ret != 0) {
        print_errors(&errors);
        fprintf(stderr, "edgefn: %s: %zu error%s\n", path, errors.size, errors.size == 1 ? "" : "s");
    }
    ef_conf_errors_dispose(&errors);
    return ret;
}

int main(int argc, char **argv)
{
    const char *path = "edgefn.yaml";
    int check = 0, i = 1, ret;
    ef_conf_t conf = {NULL};
    ef_server_t server = {NULL};

    if (i < argc && strcmp(argv[i], "test") == 0)
        return ef_cmd_test(argc - 2, argv + 2);
    if (i < argc && strcmp(argv[i], "purge") == 0)
        return ef_cmd_purge(argc - 2, argv + 2);
    if (i < argc && strcmp(argv[i], "check") == 0) {
        check = 1;
        ++i;
    }
    for (; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-v") == 0) {
            printf("edgefn %s\n", EF_VERSION);
            return EXIT_OK;
        } else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            path = argv[i] + 9;
        } else {
            fprintf(stderr, "edgefn: %s: %s\n%s", argv[i],
                    strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0 ? "needs a file name" : "unknown argument",
                    usage);
            return EXIT_USAGE;
        }
    }

    if (load(path, &conf, &server) != 0) {
        ret = EXIT_USAGE;
    } else if (check) {
        printf("%s: ok (%zu listener%s, %zu origin%s, %zu function%s, %zu behavior%s)\n", path, conf.num_listen,
               conf.num_listen == 1 ? "" : "s", conf.num_origins, conf.num_origins == 1 ? "" : "s", conf.num_functions,
               conf.num_functions == 1 ? "" : "s", conf.num_behaviors, conf.num_behaviors == 1 ? "" : "s");
        ret = EXIT_OK;
    } else {
        ret = ef_server_run(&server) == 0 ? EXIT_OK : EXIT_RUNTIME;
    }
    ef_server_dispose(&server);
    ef_conf_dispose(&conf);
    return ret;
}
