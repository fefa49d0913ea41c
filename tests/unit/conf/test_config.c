/*
 * conf/config.c: what a valid config becomes, and the exact words a user reads for
 * each kind of mistake. Most configs are inline; paths in them resolve against
 * EF_TEST_DATA_DIR, which holds the files they name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "conf/config.h"

#ifndef EF_TEST_DATA_DIR
#error "build with -DEF_TEST_DATA_DIR=\"<absolute path of tests/unit/conf/data>\""
#endif
#define DATA EF_TEST_DATA_DIR

/* A valid origins: and behaviors: (four lines), for configs whose mistakes are elsewhere. */
#define TAIL                                                                                                                       \
    "origins:\n"                                                                                                                   \
    "  app: { url: \"http://127.0.0.1:9000\" }\n"                                                                                  \
    "behaviors:\n"                                                                                                                 \
    "  - { path: /*, origin: app }\n"

/* A valid listen: (one line). */
#define LISTEN "listen: [8080]\n"

#define DURATION_EXPECTED "expected an integer followed by ms, s, m, h or d, like 250ms or 5s"

static int parse(ef_conf_t *conf, const char *yaml, ef_conf_errors_t *errors)
{
    return ef_conf_parse(conf, "edgefn.yaml", DATA, yaml, strlen(yaml), errors);
}

/* The errors, one per line, as `edgefn check` would print them. */
static char *join_errors(const ef_conf_errors_t *errors)
{
    size_t i, len = 1;
    char *joined;

    for (i = 0; i != errors->size; ++i)
        len += strlen(errors->entries[i]) + 1;
    joined = malloc(len);
    joined[0] = '\0';
    for (i = 0; i != errors->size; ++i) {
        strcat(joined, errors->entries[i]);
        strcat(joined, "\n");
    }
    return joined;
}

/* Parses `yaml`, which must fail with exactly `expected` (errors joined by newlines). */
static void assert_errors(const char *yaml, const char *expected)
{
    ef_conf_t conf;
    ef_conf_errors_t errors = {0};
    int ret = parse(&conf, yaml, &errors);
    char *joined = join_errors(&errors);

    assert_string_equal(joined, expected);
    assert_int_equal(ret, -1);
    free(joined);
    ef_conf_dispose(&conf);
    ef_conf_errors_dispose(&errors);
}

/* Parses `yaml`, which must be valid. */
static void parse_valid(ef_conf_t *conf, const char *yaml)
{
    ef_conf_errors_t errors = {0};
    int ret = parse(conf, yaml, &errors);
    char *joined = join_errors(&errors);

    assert_string_equal(joined, "");
    assert_int_equal(ret, 0);
    free(joined);
    ef_conf_errors_dispose(&errors);
}

/* ---- valid configs ---- */

static void test_full_config(void **state)
{
    ef_conf_t conf;
    ef_conf_errors_t errors = {0};
    ef_conf_origin_t *o;
    ef_conf_function_t *f;

    assert_int_equal(ef_conf_load(&conf, DATA "/edgefn.yaml", &errors), 0);
    assert_int_equal(errors.size, 0);
    assert_string_equal(conf.file, DATA "/edgefn.yaml");
    assert_string_equal(conf.dir, DATA);
    assert_int_equal(conf.threads, 4);

    assert_int_equal(conf.num_listen, 5);
    assert_string_equal(conf.listen[0].address, "0.0.0.0");
    assert_int_equal(conf.listen[0].port, 8080);
    assert_null(conf.listen[0].tls.certificate);
    assert_null(conf.listen[0].tls.key);
    assert_int_equal(conf.listen[0].pos.line, 4);
    assert_int_equal(conf.listen[0].pos.column, 5);
    assert_string_equal(conf.listen[1].address, "::1");
    assert_int_equal(conf.listen[1].port, 8443);
    assert_string_equal(conf.listen[1].tls.certificate, DATA "/certs/edge.crt");
    assert_string_equal(conf.listen[1].tls.key, DATA "/certs/edge.key"); /* written as ./certs/../certs/edge.key */
    assert_int_equal(conf.listen[1].tls.pos.line, 7);
    assert_int_equal(conf.listen[1].tls.pos.column, 10);
    assert_string_equal(conf.listen[2].address, "127.0.0.1");
    assert_int_equal(conf.listen[2].port, 9090);
    assert_string_equal(conf.listen[3].address, "0.0.0.0");
    assert_int_equal(conf.listen[3].port, 9091);
    assert_string_equal(conf.listen[4].address, "::");
    assert_int_equal(conf.listen[4].port, 9092);

    assert_int_equal(conf.num_origins, 4);
    o = conf.origins + 0;
    assert_string_equal(o->name, "app");
    assert_int_equal(o->pos.line, 12);
    assert_int_equal(o->pos.column, 3);
    assert_int_equal(o->kind, EF_CONF_ORIGIN_URL);
    assert_string_equal(o->url.raw, "http://127.0.0.1:9000/prefix/");
    assert_string_equal(o->url.host, "127.0.0.1");
    assert_int_equal(o->url.port, 9000);
    assert_string_equal(o->url.authority, "127.0.0.1:9000");
    assert_string_equal(o->url.prefix, "/prefix");
    assert_null(o->directory);
    assert_int_equal(o->connect_timeout, 2000);
    assert_int_equal(o->timeout, 60 * 1000);
    assert_int_equal(o->keepalive_timeout, 0);
    assert_int_equal(o->keepalive_connections, 0);
    assert_int_equal(o->preserve_host, 1);
    o = conf.origins + 1;
    assert_string_equal(o->name, "v6");
    assert_string_equal(o->url.host, "::1");
    assert_int_equal(o->url.port, 8080);
    assert_string_equal(o->url.authority, "[::1]:8080");
    assert_string_equal(o->url.prefix, "");
    assert_int_equal(o->connect_timeout, EF_CONF_DEFAULT_CONNECT_TIMEOUT);
    assert_int_equal(o->preserve_host, 0);
    o = conf.origins + 2;
    assert_string_equal(o->name, "named");
    assert_string_equal(o->url.host, "Example.com");
    assert_int_equal(o->url.port, 80);
    assert_string_equal(o->url.authority, "Example.com"); /* no port when it is 80, even if written */
    assert_string_equal(o->url.prefix, "");
    o = conf.origins + 3;
    assert_string_equal(o->name, "site");
    assert_int_equal(o->kind, EF_CONF_ORIGIN_DIRECTORY);
    assert_string_equal(o->directory, DATA "/public");
    assert_null(o->url.raw);

    assert_int_equal(conf.num_functions, 2);
    f = conf.functions + 0;
    assert_string_equal(f->name, "security-headers");
    assert_int_equal(f->pos.line, 26);
    assert_int_equal(f->pos.column, 3);
    assert_int_equal(f->runtime, EF_CONF_RUNTIME_LUA);
    assert_string_equal(f->code, DATA "/functions/security-headers.lua");
    assert_string_equal(f->code_dir, DATA "/functions");
    assert_string_equal(f->module_file, DATA "/functions/security-headers.lua");
    assert_string_equal(f->handler, "handler");
    assert_int_equal(f->memory, EF_CONF_DEFAULT_LUA_MEMORY);
    assert_int_equal(f->timeout, EF_CONF_DEFAULT_LUA_TIMEOUT);
    assert_int_equal(f->max_code_size, EF_CONF_DEFAULT_MAX_CODE_SIZE);
    f = conf.functions + 1;
    assert_string_equal(f->name, "auth");
    assert_string_equal(f->code, DATA "/functions/auth"); /* written as ./functions/auth/ */
    assert_string_equal(f->code_dir, DATA "/functions/auth");
    assert_string_equal(f->module_file, DATA "/functions/auth/lib/auth.lua");
    assert_string_equal(f->handler, "check");
    assert_int_equal(f->memory, 16 << 20);
    assert_int_equal(f->timeout, 50);
    assert_int_equal(f->max_code_size, 128 << 10);

    assert_int_equal(conf.num_behaviors, 4);
    assert_string_equal(conf.behaviors[0].path, "/api/*");
    assert_ptr_equal(conf.behaviors[0].origin, conf.origins + 0);
    assert_int_equal(conf.behaviors[0].pos.line, 37);
    assert_int_equal(conf.behaviors[0].pos.column, 5);
    assert_ptr_equal(conf.behaviors[0].functions[EF_HOOK_VIEWER_REQUEST], conf.functions + 1);
    assert_ptr_equal(conf.behaviors[0].functions[EF_HOOK_ORIGIN_REQUEST], conf.functions + 1);
    assert_null(conf.behaviors[0].functions[EF_HOOK_ORIGIN_RESPONSE]);
    assert_null(conf.behaviors[0].functions[EF_HOOK_VIEWER_RESPONSE]);
    assert_string_equal(conf.behaviors[1].path, "/images/*.jpg");
    assert_ptr_equal(conf.behaviors[1].origin, conf.origins + 1);
    assert_null(conf.behaviors[1].functions[EF_HOOK_VIEWER_REQUEST]);
    assert_null(conf.behaviors[1].functions[EF_HOOK_ORIGIN_REQUEST]);
    assert_null(conf.behaviors[1].functions[EF_HOOK_ORIGIN_RESPONSE]);
    assert_null(conf.behaviors[1].functions[EF_HOOK_VIEWER_RESPONSE]);
    assert_string_equal(conf.behaviors[2].path, "*.css");
    assert_ptr_equal(conf.behaviors[2].origin, conf.origins + 2);
    assert_ptr_equal(conf.behaviors[2].functions[EF_HOOK_ORIGIN_RESPONSE], conf.functions + 0);
    assert_string_equal(conf.behaviors[3].path, "/*");
    assert_ptr_equal(conf.behaviors[3].origin, conf.origins + 3);
    assert_ptr_equal(conf.behaviors[3].functions[EF_HOOK_VIEWER_RESPONSE], conf.functions + 0);

    assert_int_equal(conf.access_log.kind, EF_CONF_LOG_FILE);
    assert_string_equal(conf.access_log.path, DATA "/access.log");
    assert_int_equal(conf.function_logs.kind, EF_CONF_LOG_FILE);
    assert_string_equal(conf.function_logs.dir, DATA "/function-logs");
    assert_int_equal(conf.admin.enabled, 1);
    assert_int_equal(conf.admin.pos.line, 52);
    assert_string_equal(conf.admin.address, "127.0.0.1");
    assert_int_equal(conf.admin.port, 9181);
    assert_string_equal(conf.admin.token_file, DATA "/admin.token");
    assert_int_equal(conf.drain_timeout, 1500);
    assert_int_equal(conf.max_request_body, 2 << 20);

    ef_conf_dispose(&conf);
    ef_conf_errors_dispose(&errors);
}

static void test_load_relative_path(void **state)
{
    char cwd[PATH_MAX], data[PATH_MAX];
    ef_conf_t conf;
    ef_conf_errors_t errors = {0};

    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_non_null(realpath(DATA, data));
    assert_int_equal(chdir(DATA "/public"), 0);

    /* the file keeps the name it was given; its directory becomes absolute */
    assert_int_equal(ef_conf_load(&conf, "../edgefn.yaml", &errors), 0);
    assert_string_equal(conf.file, "../edgefn.yaml");
    assert_string_equal(conf.dir, data);
    assert_int_equal(strncmp(conf.origins[3].directory, data, strlen(data)), 0);
    assert_string_equal(conf.origins[3].directory + strlen(data), "/public");

    assert_int_equal(chdir(cwd), 0);
    ef_conf_dispose(&conf);
    ef_conf_errors_dispose(&errors);
}

static void test_defaults(void **state)
{
    ef_conf_t conf;

    parse_valid(&conf, LISTEN TAIL);
    assert_string_equal(conf.file, "edgefn.yaml");
    assert_string_equal(conf.dir, DATA);
    assert_int_equal(conf.threads, 0);
    assert_int_equal(conf.num_listen, 1);
    assert_string_equal(conf.listen[0].address, "0.0.0.0");
    assert_int_equal(conf.listen[0].port, 8080);
    assert_null(conf.listen[0].tls.certificate);
    assert_int_equal(conf.num_origins, 1);
    assert_int_equal(conf.origins[0].connect_timeout, EF_CONF_DEFAULT_CONNECT_TIMEOUT);
    assert_int_equal(conf.origins[0].timeout, EF_CONF_DEFAULT_TIMEOUT);
    assert_int_equal(conf.origins[0].keepalive_timeout, EF_CONF_DEFAULT_KEEPALIVE_TIMEOUT);
    assert_int_equal(conf.origins[0].keepalive_connections, EF_CONF_DEFAULT_KEEPALIVE_CONNECTIONS);
    assert_int_equal(conf.origins[0].preserve_host, 0);
    assert_string_equal(conf.origins[0].url.prefix, "");
    assert_int_equal(conf.num_functions, 0);
    assert_null(conf.functions);
    assert_null(conf.behaviors[0].functions[EF_HOOK_VIEWER_REQUEST]);
    assert_null(conf.behaviors[0].functions[EF_HOOK_ORIGIN_REQUEST]);
    assert_null(conf.behaviors[0].functions[EF_HOOK_ORIGIN_RESPONSE]);
    assert_null(conf.behaviors[0].functions[EF_HOOK_VIEWER_RESPONSE]);
    assert_int_equal(conf.access_log.kind, EF_CONF_LOG_STDERR);
    assert_null(conf.access_log.path);
    assert_int_equal(conf.function_logs.kind, EF_CONF_LOG_STDERR);
    assert_null(conf.function_logs.dir);
    assert_int_equal(conf.admin.enabled, 0);
    assert_string_equal(conf.admin.address, EF_CONF_DEFAULT_ADMIN_ADDRESS);
    assert_int_equal(conf.admin.port, EF_CONF_DEFAULT_ADMIN_PORT);
    assert_null(conf.admin.token_file);
    assert_int_equal(conf.drain_timeout, EF_CONF_DEFAULT_DRAIN_TIMEOUT);
    assert_int_equal(conf.max_request_body, EF_CONF_DEFAULT_MAX_REQUEST_BODY);
    ef_conf_dispose(&conf);
}

static void test_listen_forms(void **state)
{
    ef_conf_t conf;

    parse_valid(&conf, "listen:\n"
                       "  - 8080\n"
                       "  - \"8081\"\n"
                       "  - 127.0.0.1:9090\n"
                       "  - \"[::1]:9091\"\n"
                       "  - { port: 9092, address: \"::\" }\n"
                       "  - { port: 9093, address: 10.0.0.1 }\n"
                       "  - \"[::]:8080\"\n" /* another family than 0.0.0.0:8080, so not a duplicate */
                TAIL);
    assert_int_equal(conf.num_listen, 7);
    assert_string_equal(conf.listen[0].address, "0.0.0.0");
    assert_int_equal(conf.listen[0].port, 8080);
    assert_string_equal(conf.listen[1].address, "0.0.0.0");
    assert_int_equal(conf.listen[1].port, 8081);
    assert_string_equal(conf.listen[2].address, "127.0.0.1");
    assert_int_equal(conf.listen[2].port, 9090);
    assert_string_equal(conf.listen[3].address, "::1");
    assert_int_equal(conf.listen[3].port, 9091);
    assert_string_equal(conf.listen[4].address, "::");
    assert_int_equal(conf.listen[4].port, 9092);
    assert_string_equal(conf.listen[5].address, "10.0.0.1");
    assert_int_equal(conf.listen[5].port, 9093);
    assert_string_equal(conf.listen[6].address, "::");
    assert_int_equal(conf.listen[6].port, 8080);
    ef_conf_dispose(&conf);
}

static void test_admin_forms(void **state)
{
    ef_conf_t conf;

    parse_valid(&conf, LISTEN TAIL "admin: { listen: 9000 }\n");
    assert_int_equal(conf.admin.enabled, 1);
    assert_string_equal(conf.admin.address, "127.0.0.1"); /* a port alone stays on loopback */
    assert_int_equal(conf.admin.port, 9000);
    ef_conf_dispose(&conf);

    parse_valid(&conf, LISTEN TAIL "admin: { listen: \"0.0.0.0:9001\" }\n");
    assert_string_equal(conf.admin.address, "0.0.0.0");
    assert_int_equal(conf.admin.port, 9001);
    ef_conf_dispose(&conf);

    parse_valid(&conf, LISTEN TAIL "admin: { listen: \"[::1]:9002\" }\n");
    assert_string_equal(conf.admin.address, "::1");
    assert_int_equal(conf.admin.port, 9002);
    ef_conf_dispose(&conf);

    /* present but empty: enabled, with every default */
    parse_valid(&conf, LISTEN TAIL "admin:\n");
    assert_int_equal(conf.admin.enabled, 1);
    assert_int_equal(conf.admin.pos.line, 6);
    assert_string_equal(conf.admin.address, EF_CONF_DEFAULT_ADMIN_ADDRESS);
    assert_int_equal(conf.admin.port, EF_CONF_DEFAULT_ADMIN_PORT);
    assert_null(conf.admin.token_file);
    ef_conf_dispose(&conf);
}

static void test_url_forms(void **state)
{
    static const struct {
        const char *url, *host;
        uint16_t port;
        const char *authority, *prefix;
    } cases[] = {
        {"http://127.0.0.1", "127.0.0.1", 80, "127.0.0.1", ""},
        {"http://127.0.0.1/", "127.0.0.1", 80, "127.0.0.1", ""},
        {"http://example.com:8080/app", "example.com", 8080, "example.com:8080", "/app"},
        {"http://example.com/app/v1/", "example.com", 80, "example.com", "/app/v1"},
        {"http://[::1]", "::1", 80, "[::1]", ""},
        {"http://[::1]:80/x", "::1", 80, "[::1]", "/x"},
        {"http://[2001:db8::1]:9000/api//", "2001:db8::1", 9000, "[2001:db8::1]:9000", "/api"},
        {"HTTP://Backend_1.internal:1/", "Backend_1.internal", 1, "Backend_1.internal:1", ""},
    };
    size_t i;

    for (i = 0; i != sizeof(cases) / sizeof(cases[0]); ++i) {
        char yaml[512];
        ef_conf_t conf;
        snprintf(yaml, sizeof(yaml), LISTEN "origins: { o: { url: \"%s\" } }\nbehaviors: [ { path: /*, origin: o } ]\n",
                 cases[i].url);
        parse_valid(&conf, yaml);
        assert_int_equal(conf.origins[0].kind, EF_CONF_ORIGIN_URL);
        assert_string_equal(conf.origins[0].url.raw, cases[i].url);
        assert_string_equal(conf.origins[0].url.host, cases[i].host);
        assert_int_equal(conf.origins[0].url.port, cases[i].port);
        assert_string_equal(conf.origins[0].url.authority, cases[i].authority);
        assert_string_equal(conf.origins[0].url.prefix, cases[i].prefix);
        ef_conf_dispose(&conf);
    }
}

static void test_path_patterns(void **state)
{
    char yaml[2048], long_pattern[256], accented[1 + 254 * 2 + 1];
    ef_conf_t conf;
    size_t i;

    memset(long_pattern, 'a', 255);
    long_pattern[0] = '/';
    long_pattern[255] = '\0';
    /* the limit counts characters, not bytes: 255 of them here, in 509 bytes */
    accented[0] = '/';
    for (i = 0; i != 254; ++i)
        memcpy(accented + 1 + i * 2, "\xc3\xa9", 2);
    accented[sizeof(accented) - 1] = '\0';
    snprintf(yaml, sizeof(yaml),
             LISTEN "origins: { app: { url: \"http://a\" } }\n"
                    "behaviors:\n"
                    "  - { path: /api/*, origin: app }\n"
                    "  - { path: images/*, origin: app }\n"
                    "  - { path: \"*.css\", origin: app }\n"
                    "  - { path: a?c, origin: app }\n"
                    "  - { path: \"*\", origin: app }\n"
                    "  - { path: %s, origin: app }\n"
                    "  - { path: %s, origin: app }\n",
             long_pattern, accented);
    parse_valid(&conf, yaml);
    assert_int_equal(conf.num_behaviors, 7);
    assert_string_equal(conf.behaviors[0].path, "/api/*");
    assert_string_equal(conf.behaviors[1].path, "/images/*"); /* as CloudFront reads it */
    assert_string_equal(conf.behaviors[2].path, "*.css");
    assert_string_equal(conf.behaviors[3].path, "/a?c");
    assert_string_equal(conf.behaviors[4].path, "*");
    assert_string_equal(conf.behaviors[5].path, long_pattern);
    assert_string_equal(conf.behaviors[6].path, accented);
    ef_conf_dispose(&conf);
}

static void test_scalar_forms(void **state)
{
    ef_conf_t conf;

    parse_valid(&conf, LISTEN "origins:\n"
                              "  a: { url: \"http://a\", preserve-host: on }\n"
                              "  b: { url: \"http://b\", preserve-host: \"True\" }\n"
                              "  c: { url: \"http://c\", preserve-host: NO }\n"
                              "  d: { url: \"http://d\", preserve-host: off, keepalive-connections: 100000 }\n"
                              "behaviors: [ { path: /*, origin: a } ]\n"
                              "threads: auto\n"
                              "access-log: off\n"
                              "drain-timeout: 0\n"
                              "max-request-body: 1B\n");
    assert_int_equal(conf.origins[0].preserve_host, 1);
    assert_int_equal(conf.origins[1].preserve_host, 1);
    assert_int_equal(conf.origins[2].preserve_host, 0);
    assert_int_equal(conf.origins[3].preserve_host, 0);
    assert_int_equal(conf.origins[3].keepalive_connections, 100000);
    assert_int_equal(conf.threads, 0);
    assert_int_equal(conf.access_log.kind, EF_CONF_LOG_OFF);
    assert_int_equal(conf.drain_timeout, 0);
    assert_int_equal(conf.max_request_body, 1);
    ef_conf_dispose(&conf);

    parse_valid(&conf, LISTEN TAIL "threads: 256\naccess-log: stderr\n");
    assert_int_equal(conf.threads, 256);
    assert_int_equal(conf.access_log.kind, EF_CONF_LOG_STDERR);
    ef_conf_dispose(&conf);

    parse_valid(&conf, LISTEN TAIL "access-log: " DATA "/public/../logs.txt\n");
    assert_int_equal(conf.access_log.kind, EF_CONF_LOG_FILE);
    assert_string_equal(conf.access_log.path, DATA "/logs.txt");
    ef_conf_dispose(&conf);
}

static void test_anchors_and_aliases(void **state)
{
    ef_conf_t conf;

    /* one origin's settings reused through an alias: both origins get them */
    parse_valid(&conf, LISTEN "origins:\n"
                              "  a: &o { url: \"http://a\", timeout: 5s }\n"
                              "  b: *o\n"
                              "behaviors: [ { path: /*, origin: b } ]\n");
    assert_int_equal(conf.num_origins, 2);
    assert_int_equal(conf.origins[1].timeout, 5000);
    assert_ptr_equal(conf.behaviors[0].origin, conf.origins + 1);
    ef_conf_dispose(&conf);
}

/* A valid function (one line), for configs whose mistakes are elsewhere. */
#define FILE_FN "{ runtime: lua, code: functions/security-headers.lua }"

static void test_function_forms(void **state)
{
    char yaml[2048], long_name[65];
    ef_conf_t conf;
    ef_conf_function_t *f;

    memset(long_name, 'f', 64);
    long_name[64] = '\0';
    snprintf(yaml, sizeof(yaml),
             LISTEN TAIL "functions:\n"
                         "  file-default: { runtime: lua, code: functions/security-headers.lua }\n"
                         "  file_explicit: { runtime: lua, code: \"" DATA "/functions/security-headers.lua\", handler: _On_Req2 }\n"
                         "  dir-default: { runtime: lua, code: functions/auth }\n"
                         "  dir-dotted: { runtime: lua, code: functions/auth/, handler: lib.auth.check }\n"
                         "  dir-other:\n"
                         "    handler: main.handler\n" /* before the code it is resolved against */
                         "    memory: 1GB\n"
                         "    timeout: 1m\n"
                         "    max-code-size: 1B\n"
                         "    code: functions/no-index\n"
                         "    runtime: lua\n"
                         "  %s: { runtime: lua, code: functions/security-headers.lua, memory: 1B, timeout: 1ms }\n"
                         "  Fn-9: { runtime: lua, code: functions/security-headers.lua, timeout: 60000ms, memory: 1024MB }\n",
             long_name);
    parse_valid(&conf, yaml);
    assert_int_equal(conf.num_functions, 7);

    f = conf.functions + 0;
    assert_string_equal(f->name, "file-default");
    assert_int_equal(f->pos.line, 7);
    assert_int_equal(f->pos.column, 3);
    assert_int_equal(f->runtime, EF_CONF_RUNTIME_LUA);
    assert_string_equal(f->code, DATA "/functions/security-headers.lua");
    assert_string_equal(f->code_dir, DATA "/functions");
    assert_string_equal(f->module_file, DATA "/functions/security-headers.lua");
    assert_string_equal(f->handler, "handler");
    assert_int_equal(f->memory, EF_CONF_DEFAULT_LUA_MEMORY);
    assert_int_equal(f->timeout, EF_CONF_DEFAULT_LUA_TIMEOUT);
    assert_int_equal(f->max_code_size, EF_CONF_DEFAULT_MAX_CODE_SIZE);

    f = conf.functions + 1;
    assert_string_equal(f->name, "file_explicit");
    assert_string_equal(f->code, DATA "/functions/security-headers.lua");
    assert_string_equal(f->code_dir, DATA "/functions");
    assert_string_equal(f->module_file, DATA "/functions/security-headers.lua");
    assert_string_equal(f->handler, "_On_Req2");

    f = conf.functions + 2;
    assert_string_equal(f->name, "dir-default");
    assert_string_equal(f->code, DATA "/functions/auth");
    assert_string_equal(f->code_dir, DATA "/functions/auth");
    assert_string_equal(f->module_file, DATA "/functions/auth/index.lua");
    assert_string_equal(f->handler, "handler");

    f = conf.functions + 3;
    assert_string_equal(f->name, "dir-dotted");
    assert_string_equal(f->code, DATA "/functions/auth");
    assert_string_equal(f->code_dir, DATA "/functions/auth");
    assert_string_equal(f->module_file, DATA "/functions/auth/lib/auth.lua");
    assert_string_equal(f->handler, "check");

    f = conf.functions + 4;
    assert_string_equal(f->name, "dir-other");
    assert_string_equal(f->code_dir, DATA "/functions/no-index");
    assert_string_equal(f->module_file, DATA "/functions/no-index/main.lua");
    assert_string_equal(f->handler, "handler");
    assert_int_equal(f->memory, 1 << 30);
    assert_int_equal(f->timeout, 60 * 1000);
    assert_int_equal(f->max_code_size, 1);

    f = conf.functions + 5;
    assert_string_equal(f->name, long_name);
    assert_int_equal(f->memory, 1);
    assert_int_equal(f->timeout, 1);

    f = conf.functions + 6;
    assert_string_equal(f->name, "Fn-9");
    assert_int_equal(f->memory, 1 << 30);
    assert_int_equal(f->timeout, 60 * 1000);

    /* none of them is used by a behavior, which is fine: `edgefn test` runs a function on its own */
    assert_null(conf.behaviors[0].functions[EF_HOOK_VIEWER_REQUEST]);
    ef_conf_dispose(&conf);

    /* an empty functions: is no functions */
    parse_valid(&conf, LISTEN TAIL "functions: {}\n");
    assert_int_equal(conf.num_functions, 0);
    assert_null(conf.functions);
    ef_conf_dispose(&conf);
    parse_valid(&conf, LISTEN TAIL "functions:\n");
    assert_int_equal(conf.num_functions, 0);
    ef_conf_dispose(&conf);
}

static void test_function_hooks(void **state)
{
    ef_conf_t conf;
    size_t hook;

    assert_string_equal(ef_hook_names[EF_HOOK_VIEWER_REQUEST], "viewer-request");
    assert_string_equal(ef_hook_names[EF_HOOK_ORIGIN_REQUEST], "origin-request");
    assert_string_equal(ef_hook_names[EF_HOOK_ORIGIN_RESPONSE], "origin-response");
    assert_string_equal(ef_hook_names[EF_HOOK_VIEWER_RESPONSE], "viewer-response");

    /* functions come after the behaviors that name them */
    parse_valid(&conf, LISTEN "origins: { app: { url: \"http://a\" } }\n"
                              "behaviors:\n"
                              "  - path: /a\n"
                              "    origin: app\n"
                              "    viewer-request: f1\n"
                              "    origin-request: f2\n"
                              "    origin-response: f3\n"
                              "    viewer-response: f4\n"
                              "  - { path: /b, origin: app, viewer-response: f1 }\n"
                              "  - { path: /c, origin: app }\n"
                              "functions:\n"
                              "  f1: " FILE_FN "\n"
                              "  f2: { runtime: lua, code: functions/auth }\n"
                              "  f3: { runtime: lua, code: functions/no-index, handler: main.handler }\n"
                              "  f4: { runtime: lua, code: functions/auth, handler: lib.auth.check }\n"
                              "  unused: " FILE_FN "\n");
    assert_int_equal(conf.num_functions, 5);
    for (hook = 0; hook != EF_NUM_HOOKS; ++hook) {
        assert_ptr_equal(conf.behaviors[0].functions[hook], conf.functions + hook);
        assert_null(conf.behaviors[2].functions[hook]);
    }
    assert_string_equal(conf.behaviors[0].functions[EF_HOOK_ORIGIN_RESPONSE]->module_file, DATA "/functions/no-index/main.lua");
    assert_null(conf.behaviors[1].functions[EF_HOOK_VIEWER_REQUEST]);
    assert_null(conf.behaviors[1].functions[EF_HOOK_ORIGIN_REQUEST]);
    assert_null(conf.behaviors[1].functions[EF_HOOK_ORIGIN_RESPONSE]);
    assert_ptr_equal(conf.behaviors[1].functions[EF_HOOK_VIEWER_RESPONSE], conf.functions + 0);
    ef_conf_dispose(&conf);
}

static void test_nodejs_function_forms(void **state)
{
    ef_conf_t conf;
    ef_conf_function_t *f;

    parse_valid(&conf, LISTEN TAIL "functions:\n"
                                   "  default: { runtime: nodejs, code: functions/node/ }\n"
                                   "  slashed: { runtime: nodejs, code: functions/node, handler: src/app.handler }\n"
                                   "  nested: { runtime: nodejs, code: functions/node, handler: src/app.handlers.main }\n"
                                   "  mjs-first: { runtime: nodejs, code: functions/node, handler: lib/util.$check }\n"
                                   "  js-first: { runtime: nodejs, code: functions/node, handler: both.handler }\n"
                                   "  runtime-last:\n"
                                   "    memory: 2GB\n" /* more than a Lua function may have: checked once the runtime is known */
                                   "    timeout: 15m\n"
                                   "    handler: src/app.handler\n"
                                   "    code: functions/node\n"
                                   "    runtime: nodejs\n");
    assert_int_equal(conf.num_functions, 6);

    f = conf.functions + 0;
    assert_int_equal(f->runtime, EF_CONF_RUNTIME_NODEJS);
    assert_true(ef_conf_runtime_is_process(f->runtime));
    assert_string_equal(f->code, DATA "/functions/node");
    assert_string_equal(f->code_dir, DATA "/functions/node");
    assert_string_equal(f->module_file, DATA "/functions/node/index.js");
    assert_string_equal(f->handler, "index.handler");
    assert_int_equal(f->memory, EF_CONF_DEFAULT_PROCESS_MEMORY);
    assert_int_equal(f->memory, 128 << 20);
    assert_int_equal(f->timeout, 0); /* the hook's default */
    assert_int_equal(f->concurrency.reserved, EF_CONF_DEFAULT_MAX_ENVIRONMENTS);
    assert_int_equal(f->concurrency.provisioned, 0);
    assert_int_equal(f->queue_timeout, 0);
    assert_int_equal(f->idle_timeout, EF_CONF_DEFAULT_IDLE_TIMEOUT);
    assert_null(f->environment);
    assert_int_equal(f->num_environment, 0);
    assert_int_equal(f->include_body, 0);
    assert_int_equal(f->body_limit, 0);

    /* the handler is kept as written, for _HANDLER */
    f = conf.functions + 1;
    assert_string_equal(f->handler, "src/app.handler");
    assert_string_equal(f->module_file, DATA "/functions/node/src/app.mjs");
    f = conf.functions + 2;
    assert_string_equal(f->handler, "src/app.handlers.main");
    assert_string_equal(f->module_file, DATA "/functions/node/src/app.mjs");
    f = conf.functions + 3;
    assert_string_equal(f->module_file, DATA "/functions/node/lib/util.mjs"); /* util.cjs is there too */
    f = conf.functions + 4;
    assert_string_equal(f->module_file, DATA "/functions/node/both.js"); /* both.mjs is there too */
    f = conf.functions + 5;
    assert_int_equal(f->runtime, EF_CONF_RUNTIME_NODEJS);
    assert_string_equal(f->module_file, DATA "/functions/node/src/app.mjs");
    assert_int_equal(f->memory, UINT64_C(2) << 30);
    assert_int_equal(f->timeout, 15 * 60 * 1000);
    ef_conf_dispose(&conf);
}

static void test_python_function_forms(void **state)
{
    ef_conf_t conf;
    ef_conf_function_t *f;

    parse_valid(&conf, LISTEN TAIL "functions:\n"
                                   "  default: { runtime: python, code: functions/python }\n"
                                   "  dotted: { runtime: python, code: functions/python, handler: pkg.mod.handler }\n"
                                   "  slashed: { runtime: python, code: functions/python, handler: pkg/mod.handler }\n"
                                   "  package: { runtime: python, code: functions/python, handler: pkgdir.handler }\n");
    f = conf.functions + 0;
    assert_int_equal(f->runtime, EF_CONF_RUNTIME_PYTHON);
    assert_string_equal(f->code_dir, DATA "/functions/python");
    assert_string_equal(f->module_file, DATA "/functions/python/index.py");
    assert_string_equal(f->handler, "index.handler");
    assert_int_equal(f->memory, EF_CONF_DEFAULT_PROCESS_MEMORY);
    assert_int_equal(f->timeout, 0);
    assert_int_equal(f->concurrency.reserved, EF_CONF_DEFAULT_MAX_ENVIRONMENTS);
    assert_int_equal(f->idle_timeout, EF_CONF_DEFAULT_IDLE_TIMEOUT);
    f = conf.functions + 1;
    assert_string_equal(f->handler, "pkg.mod.handler");
    assert_string_equal(f->module_file, DATA "/functions/python/pkg/mod.py");
    f = conf.functions + 2;
    assert_string_equal(f->handler, "pkg/mod.handler");
    assert_string_equal(f->module_file, DATA "/functions/python/pkg/mod.py");
    f = conf.functions + 3;
    assert_string_equal(f->module_file, DATA "/functions/python/pkgdir/__init__.py");
    ef_conf_dispose(&conf);
}

static void test_provided_function_forms(void **state)
{
    ef_conf_t conf;
    ef_conf_function_t *f;

    parse_valid(&conf, LISTEN TAIL "functions:\n"
                                   "  bare: { runtime: provided, code: functions/provided }\n"
                                   "  named: { runtime: provided, code: functions/provided/, handler: \"function.sh handler\" }\n");
    f = conf.functions + 0;
    assert_int_equal(f->runtime, EF_CONF_RUNTIME_PROVIDED);
    assert_string_equal(f->code, DATA "/functions/provided");
    assert_string_equal(f->code_dir, DATA "/functions/provided");
    assert_string_equal(f->module_file, DATA "/functions/provided/bootstrap");
    assert_null(f->handler);
    assert_int_equal(f->memory, EF_CONF_DEFAULT_PROCESS_MEMORY);
    assert_int_equal(f->timeout, 0);
    assert_int_equal(f->concurrency.reserved, EF_CONF_DEFAULT_MAX_ENVIRONMENTS);
    f = conf.functions + 1;
    assert_string_equal(f->module_file, DATA "/functions/provided/bootstrap");
    assert_string_equal(f->handler, "function.sh handler"); /* the bootstrap's business */
    ef_conf_dispose(&conf);
}

static void test_process_function_settings(void **state)
{
    ef_conf_t conf;
    ef_conf_function_t *f;

    parse_valid(&conf, LISTEN TAIL "functions:\n"
                                   "  most:\n"
                                   "    runtime: nodejs\n"
                                   "    code: functions/node\n"
                                   "    memory: 10240MB\n"
                                   "    timeout: 1ms\n"
                                   "    concurrency: { reserved: 1000, provisioned: 1000 }\n"
                                   "    queue-timeout: 1m\n"
                                   "    idle-timeout: 24h\n"
                                   "    environment:\n"
                                   "      TABLE: users\n"
                                   "      _private: \"\"\n"
                                   "      RETRIES: 3\n"
                                   "      RATIO: 1.50\n"
                                   "      DEBUG: yes\n"
                                   "      TZ: Europe/Paris\n"
                                   "      aws_region: lowercase-is-not-reserved\n"
                                   "      QUOTED: \"a: b # c\"\n"
                                   "    include-body: true\n"
                                   "    body-limit: 100MB\n"
                                   "  least:\n"
                                   "    body-limit: 1B\n"
                                   "    include-body: yes\n"
                                   "    memory: 128MB\n"
                                   "    timeout: 15m\n"
                                   "    concurrency: { reserved: 1 }\n"
                                   "    queue-timeout: 0\n"
                                   "    idle-timeout: 1s\n"
                                   "    environment: {}\n"
                                   "    code: functions/python\n"
                                   "    runtime: python\n"
                                   "  some:\n"
                                   "    runtime: provided\n"
                                   "    code: functions/provided\n"
                                   "    memory: 10GB\n"
                                   "    concurrency: { provisioned: 32 }\n" /* as many as reserved's default */
                                   "    environment:\n"
                                   "    include-body: false\n"
                                   "  empty-concurrency: { runtime: nodejs, code: functions/node, concurrency: {} }\n");
    f = conf.functions + 0;
    assert_int_equal(f->memory, UINT64_C(10240) << 20);
    assert_int_equal(f->timeout, 1);
    assert_int_equal(f->concurrency.reserved, 1000);
    assert_int_equal(f->concurrency.provisioned, 1000);
    assert_int_equal(f->queue_timeout, 60 * 1000);
    assert_int_equal(f->idle_timeout, 24 * 60 * 60 * 1000);
    assert_int_equal(f->num_environment, 8);
    assert_string_equal(f->environment[0].name, "TABLE");
    assert_string_equal(f->environment[0].value, "users");
    assert_string_equal(f->environment[1].name, "_private");
    assert_string_equal(f->environment[1].value, "");
    assert_string_equal(f->environment[2].name, "RETRIES");
    assert_string_equal(f->environment[2].value, "3");
    assert_string_equal(f->environment[3].name, "RATIO");
    assert_string_equal(f->environment[3].value, "1.50"); /* as written, not as a number */
    assert_string_equal(f->environment[4].name, "DEBUG");
    assert_string_equal(f->environment[4].value, "yes");
    assert_string_equal(f->environment[5].name, "TZ"); /* edgefn sets it, but Lambda lets a function change it */
    assert_string_equal(f->environment[5].value, "Europe/Paris");
    assert_string_equal(f->environment[6].name, "aws_region");
    assert_string_equal(f->environment[7].value, "a: b # c");
    assert_int_equal(f->include_body, 1);
    assert_int_equal(f->body_limit, 100 << 20);

    f = conf.functions + 1;
    assert_int_equal(f->runtime, EF_CONF_RUNTIME_PYTHON);
    assert_int_equal(f->body_limit, 1);
    assert_int_equal(f->include_body, 1);
    assert_int_equal(f->memory, 128 << 20);
    assert_int_equal(f->timeout, 15 * 60 * 1000);
    assert_int_equal(f->concurrency.reserved, 1);
    assert_int_equal(f->concurrency.provisioned, 0);
    assert_int_equal(f->queue_timeout, 0);
    assert_int_equal(f->idle_timeout, 1000);
    assert_null(f->environment);
    assert_int_equal(f->num_environment, 0);

    f = conf.functions + 2;
    assert_int_equal(f->memory, UINT64_C(10) << 30);
    assert_int_equal(f->concurrency.reserved, EF_CONF_DEFAULT_MAX_ENVIRONMENTS);
    assert_int_equal(f->concurrency.provisioned, 32);
    assert_int_equal(f->num_environment, 0);
    assert_int_equal(f->include_body, 0);

    f = conf.functions + 3;
    assert_int_equal(f->concurrency.reserved, EF_CONF_DEFAULT_MAX_ENVIRONMENTS);
    assert_int_equal(f->concurrency.provisioned, 0);
    ef_conf_dispose(&conf);

    /* a Lua function has none of it */
    parse_valid(&conf, LISTEN TAIL "functions: { f: " FILE_FN " }\n");
    f = conf.functions + 0;
    assert_false(ef_conf_runtime_is_process(f->runtime));
    assert_int_equal(f->concurrency.reserved, 0);
    assert_int_equal(f->idle_timeout, 0);
    assert_null(f->environment);
    ef_conf_dispose(&conf);
}

static void test_function_logs_forms(void **state)
{
    ef_conf_t conf;

    parse_valid(&conf, LISTEN TAIL "function-logs: stderr\n");
    assert_int_equal(conf.function_logs.kind, EF_CONF_LOG_STDERR);
    assert_null(conf.function_logs.dir);
    ef_conf_dispose(&conf);

    parse_valid(&conf, LISTEN TAIL "function-logs: off\n");
    assert_int_equal(conf.function_logs.kind, EF_CONF_LOG_OFF);
    assert_null(conf.function_logs.dir);
    ef_conf_dispose(&conf);

    parse_valid(&conf, LISTEN TAIL "function-logs: ./function-logs/\n");
    assert_int_equal(conf.function_logs.kind, EF_CONF_LOG_FILE);
    assert_string_equal(conf.function_logs.dir, DATA "/function-logs");
    ef_conf_dispose(&conf);

    parse_valid(&conf, LISTEN TAIL "function-logs: " DATA "/public/..\n");
    assert_int_equal(conf.function_logs.kind, EF_CONF_LOG_FILE);
    assert_string_equal(conf.function_logs.dir, DATA);
    ef_conf_dispose(&conf);
}

/* ---- invalid configs, one class of mistake each ---- */

static void test_unknown_key(void **state)
{
    assert_errors(LISTEN "origins:\n"
                         "  app:\n"
                         "    url: \"http://a\"\n"
                         "    conect-timeout: 5s\n"
                         "behaviors: [ { path: /*, origin: app } ]\n",
                  "edgefn.yaml:5:5: unknown key \"conect-timeout\" in origin \"app\"; did you mean \"connect-timeout\"?\n");
    assert_errors("listen:\n"
                  "  - prot: 8080\n" TAIL "behaviours: []\n"
                  "max_request_body: 1MB\n"
                  "varnish: {}\n"
                  "caches: {}\n",
                  "edgefn.yaml:2:5: unknown key \"prot\" in listener 1; did you mean \"port\"?\n"
                  "edgefn.yaml:2:5: missing required key \"port\" in listener 1\n"
                  "edgefn.yaml:7:1: unknown key \"behaviours\" at the top level; did you mean \"behaviors\"?\n"
                  "edgefn.yaml:8:1: unknown key \"max_request_body\" at the top level; did you mean \"max-request-body\"?\n"
                  "edgefn.yaml:9:1: unknown key \"varnish\" at the top level (expected one of: threads, listen, origins, "
                  "functions, behaviors, access-log, function-logs, function-log-format, admin, drain-timeout, max-request-body, "
                  "cache, pricing, async)\n"
                  "edgefn.yaml:10:1: unknown key \"caches\" at the top level; did you mean \"cache\"?\n");
    assert_errors(LISTEN TAIL "admin: { tokenfile: x, lsiten: 1 }\n",
                  "edgefn.yaml:6:10: unknown key \"tokenfile\" in admin; did you mean \"token-file\"?\n"
                  "edgefn.yaml:6:24: unknown key \"lsiten\" in admin; did you mean \"listen\"?\n");
    assert_errors(
        LISTEN "origins: { app: { url: \"http://a\" } }\n"
               "functions:\n"
               "  f:\n"
               "    runtime: lua\n"
               "    code: functions/security-headers.lua\n"
               "    memroy: 2MB\n"
               "    handle: main\n"
               "    env: { A: b }\n"
               "behaviors:\n"
               "  - { path: /*, origin: app, viewer_request: f, origin-reponse: f }\n"
               "function_logs: off\n",
        "edgefn.yaml:7:5: unknown key \"memroy\" in function \"f\"; did you mean \"memory\"?\n"
        "edgefn.yaml:8:5: unknown key \"handle\" in function \"f\"; did you mean \"handler\"?\n"
        "edgefn.yaml:9:5: unknown key \"env\" in function \"f\" (expected one of: runtime, code, handler, memory, "
        "timeout, max-code-size, concurrency, queue-timeout, idle-timeout, environment, include-body, body-limit, async)\n"
        "edgefn.yaml:11:30: unknown key \"viewer_request\" in behavior \"/*\"; did you mean \"viewer-request\"?\n"
        "edgefn.yaml:11:49: unknown key \"origin-reponse\" in behavior \"/*\"; did you mean \"origin-response\"?\n"
        "edgefn.yaml:12:1: unknown key \"function_logs\" at the top level; did you mean \"function-logs\"?\n");
}

static void test_wrong_node_type(void **state)
{
    assert_errors("listen: 8080\n" TAIL, "edgefn.yaml:1:9: listen: expected a sequence, found \"8080\"\n");
    assert_errors(
        "listen:\n"
        "  - port: [8080]\n"
        "  - { port: 1, tls: yes }\n"
        "  - [1, 2]\n"
        "origins: [app]\n"
        "behaviors:\n"
        "  - /*\n"
        "threads: { n: 1 }\n",
        "edgefn.yaml:2:11: port: expected a scalar, found a sequence\n"
        "edgefn.yaml:3:21: tls: expected a mapping, found \"yes\"\n"
        "edgefn.yaml:4:5: listener 3: expected a mapping or a string like \"8080\" or \"127.0.0.1:8080\", found a sequence\n"
        "edgefn.yaml:5:10: origins: expected a mapping, found a sequence\n"
        "edgefn.yaml:7:5: behavior 1: expected a mapping, found \"/*\"\n"
        "edgefn.yaml:8:10: threads: expected a scalar, found a mapping\n");
    assert_errors(LISTEN "origins:\n"
                         "  app: http://127.0.0.1:9000\n"
                         "behaviors: [ { path: /*, origin: app } ]\n",
                  "edgefn.yaml:3:8: origin \"app\": expected a mapping, found \"http://127.0.0.1:9000\"\n");
    assert_errors("- listen\n", "edgefn.yaml:1:1: expected a mapping at the top level, found a sequence\n");
}

static void test_bad_duration(void **state)
{
    assert_errors(LISTEN "origins:\n"
                         "  app:\n"
                         "    url: \"http://a\"\n"
                         "    connect-timeout: 5 s\n"
                         "    timeout: 0s\n"
                         "    keepalive-timeout: -1s\n"
                         "behaviors: [ { path: /*, origin: app } ]\n"
                         "drain-timeout: 30\n",
                  "edgefn.yaml:5:22: connect-timeout: invalid duration \"5 s\": " DURATION_EXPECTED "\n"
                  "edgefn.yaml:6:14: timeout: must be greater than 0, found \"0s\"\n"
                  "edgefn.yaml:7:24: keepalive-timeout: invalid duration \"-1s\": expected an integer without a sign, like 5s\n"
                  "edgefn.yaml:9:16: drain-timeout: invalid duration \"30\": missing unit; expected ms, s, m, h or d after the "
                  "number, like 5s\n");
}

static void test_bad_size(void **state)
{
    assert_errors(LISTEN TAIL "max-request-body: 1.5MB\n",
                  "edgefn.yaml:6:19: max-request-body: invalid size \"1.5MB\": expected an integer; use a smaller unit instead of "
                  "a fraction, like 1536KB for 1.5MB\n");
    assert_errors(LISTEN TAIL "max-request-body: 10mb\n",
                  "edgefn.yaml:6:19: max-request-body: invalid size \"10mb\": unknown unit; expected B, KB, MB or GB (or KiB, "
                  "MiB, GiB)\n");
    assert_errors(LISTEN TAIL "max-request-body: 0\n", "edgefn.yaml:6:19: max-request-body: must be greater than 0, found \"0\"\n");
}

static void test_bad_integer(void **state)
{
    assert_errors("listen:\n"
                  "  - port: 70000\n"
                  "  - port: 0\n"
                  "  - port: 80a\n"
                  "  - port: 99999999999999999999999\n"
                  "  - 65536\n"
                  "  - \"127.0.0.1:0\"\n" TAIL "threads: 257\n"
                  "admin: { listen: 123456 }\n",
                  "edgefn.yaml:2:11: port: 70000 is out of range (1-65535)\n"
                  "edgefn.yaml:3:11: port: 0 is out of range (1-65535)\n"
                  "edgefn.yaml:4:11: port: expected an integer 1-65535, found \"80a\"\n"
                  "edgefn.yaml:5:11: port: 99999999999999999999999 is out of range (1-65535)\n"
                  "edgefn.yaml:6:5: listener 5: port 65536 is out of range (1-65535)\n"
                  "edgefn.yaml:7:5: listener 6: port 0 is out of range (1-65535)\n"
                  "edgefn.yaml:12:10: threads: 257 is out of range (1-256)\n"
                  "edgefn.yaml:13:18: admin.listen: port 123456 is out of range (1-65535)\n");
    assert_errors(LISTEN "origins:\n"
                         "  app: { url: \"http://a\", keepalive-connections: 100001 }\n"
                         "  b: { url: \"http://b\", keepalive-connections: +1 }\n"
                         "behaviors: [ { path: /*, origin: app } ]\n"
                         "threads: 0\n",
                  "edgefn.yaml:3:50: keepalive-connections: 100001 is out of range (0-100000)\n"
                  "edgefn.yaml:4:48: keepalive-connections: expected an integer 0-100000, found \"+1\"\n"
                  "edgefn.yaml:6:10: threads: 0 is out of range (1-256)\n");
    assert_errors(LISTEN TAIL "threads: many\n",
                  "edgefn.yaml:6:10: threads: expected \"auto\" or an integer 1-256, found \"many\"\n");
}

static void test_bad_boolean(void **state)
{
    assert_errors(LISTEN "origins:\n"
                         "  app: { url: \"http://a\", preserve-host: maybe }\n"
                         "behaviors: [ { path: /*, origin: app } ]\n",
                  "edgefn.yaml:3:42: preserve-host: expected true or false, found \"maybe\"\n");
}

static void test_bad_address(void **state)
{
    assert_errors("listen:\n"
                  "  - { port: 1, address: localhost }\n"
                  "  - { port: 2, address: \"[::1]\" }\n"
                  "  - \"localhost:80\"\n"
                  "  - \"::1:80\"\n"
                  "  - \"[127.0.0.1]:80\"\n"
                  "  - \"[::1]\"\n"
                  "  - 1\n" /* not a duplicate of the first: its address is wrong, not missing */
                  TAIL,
                  "edgefn.yaml:2:25: address: expected a numeric IPv4 or IPv6 address, found \"localhost\"\n"
                  "edgefn.yaml:3:25: address: expected an IPv6 address without brackets, found \"[::1]\"\n"
                  "edgefn.yaml:4:5: listener 3: expected a numeric IPv4 or IPv6 address, found \"localhost\"\n"
                  "edgefn.yaml:5:5: listener 4: an IPv6 address must be in brackets, like \"[::1]:8080\", found \"::1:80\"\n"
                  "edgefn.yaml:6:5: listener 5: expected a numeric IPv6 address in brackets, found \"127.0.0.1\"\n"
                  "edgefn.yaml:7:5: listener 6: expected \"PORT\", \"ADDRESS:PORT\" or \"[IPV6]:PORT\", found \"[::1]\"\n");
}

static void test_missing_certificate(void **state)
{
    assert_errors("listen:\n"
                  "  - port: 8443\n"
                  "    tls: { certificate: certs/missing.crt, key: certs }\n" TAIL,
                  "edgefn.yaml:3:25: tls.certificate: cannot read \"" DATA "/certs/missing.crt\": No such file or directory\n"
                  "edgefn.yaml:3:49: tls.key: cannot read \"" DATA "/certs\": Is a directory\n");
}

static void test_incomplete_tls(void **state)
{
    assert_errors("listen:\n"
                  "  - port: 8443\n"
                  "    tls: { certificate: certs/edge.crt }\n"
                  "  - port: 8444\n"
                  "    tls:\n"
                  "      key: certs/edge.key\n"
                  "  - port: 8445\n"
                  "    tls: {}\n" TAIL,
                  "edgefn.yaml:3:10: missing required key \"key\" in tls\n"
                  "edgefn.yaml:6:7: missing required key \"certificate\" in tls\n"
                  "edgefn.yaml:8:10: missing required key \"certificate\" in tls\n"
                  "edgefn.yaml:8:10: missing required key \"key\" in tls\n");
}

static void test_undefined_origin(void **state)
{
    assert_errors(LISTEN "behaviors:\n"
                         "  - path: /api/*\n"
                         "    origin: ap\n"
                         "  - path: /*\n"
                         "    origin: site\n"
                         "origins:\n"
                         "  app: { url: \"http://a\" }\n"
                         "  site: { directory: public }\n",
                  "edgefn.yaml:4:13: behavior \"/api/*\": origin \"ap\" is not defined (defined: app, site)\n");
}

static void test_url_and_directory(void **state)
{
    assert_errors(LISTEN "origins:\n"
                         "  both:\n"
                         "    url: \"http://a\"\n"
                         "    directory: public\n"
                         "  neither:\n"
                         "    timeout: 5s\n"
                         "  empty:\n"
                         "behaviors: [ { path: /*, origin: both } ]\n",
                  "edgefn.yaml:3:3: origin \"both\": expected exactly one of url or directory, found both\n"
                  "edgefn.yaml:6:3: origin \"neither\": expected exactly one of url or directory, found neither\n"
                  "edgefn.yaml:8:3: origin \"empty\": expected exactly one of url or directory, found neither\n");
}

static void test_bad_directory(void **state)
{
    assert_errors(LISTEN "origins:\n"
                         "  a: { directory: missing }\n"
                         "  b: { directory: certs/edge.crt }\n"
                         "  c: { directory: \"\" }\n"
                         "behaviors: [ { path: /*, origin: a } ]\n",
                  "edgefn.yaml:3:19: directory: cannot read \"" DATA "/missing\": No such file or directory\n"
                  "edgefn.yaml:4:19: directory: cannot read \"" DATA "/certs/edge.crt\": Not a directory\n"
                  "edgefn.yaml:5:19: directory: expected a directory path, found an empty value\n");
}

static void test_https_url(void **state)
{
    assert_errors(LISTEN "origins:\n"
                         "  app: { url: \"https://example.com\" }\n"
                         "behaviors: [ { path: /*, origin: app } ]\n",
                  "edgefn.yaml:3:15: url: https origins are not supported yet (only http://), found \"https://example.com\"\n");
}

static void test_bad_url(void **state)
{
    assert_errors(LISTEN "origins:\n"
                         "  a: { url: \"ftp://x\" }\n"
                         "  b: { url: \"http://\" }\n"
                         "  c: { url: \"http://user:pw@x\" }\n"
                         "  d: { url: \"http://[::1\" }\n"
                         "  e: { url: \"http://[nope]\" }\n"
                         "  f: { url: \"http://::1:80\" }\n"
                         "  g: { url: \"http://ho st\" }\n"
                         "  h: { url: \"http://x:\" }\n"
                         "  i: { url: \"http://x:70000\" }\n"
                         "  j: { url: \"http://x/a?b=1\" }\n"
                         "  k: { url: \"http://x/a#top\" }\n"
                         "  l: { url: \"http://x/a b\" }\n"
                         "  m: { url: \"\" }\n"
                         "  n: { url: \"x.example.com\" }\n"
                         "behaviors: [ { path: /*, origin: a } ]\n",
                  "edgefn.yaml:3:13: url: invalid url \"ftp://x\": expected http://HOST[:PORT][/PATH]\n"
                  "edgefn.yaml:4:13: url: invalid url \"http://\": missing host\n"
                  "edgefn.yaml:5:13: url: invalid url \"http://user:pw@x\": user info (user@host) is not allowed\n"
                  "edgefn.yaml:6:13: url: invalid url \"http://[::1\": missing \"]\" after the IPv6 address\n"
                  "edgefn.yaml:7:13: url: invalid url \"http://[nope]\": invalid IPv6 address in brackets\n"
                  "edgefn.yaml:8:13: url: invalid url \"http://::1:80\": an IPv6 host must be in brackets, like "
                  "http://[::1]:8080\n"
                  "edgefn.yaml:9:13: url: invalid url \"http://ho st\": invalid host name\n"
                  "edgefn.yaml:10:13: url: invalid url \"http://x:\": expected a port number after \":\"\n"
                  "edgefn.yaml:11:13: url: invalid url \"http://x:70000\": the port is out of range (1-65535)\n"
                  "edgefn.yaml:12:13: url: invalid url \"http://x/a?b=1\": a query string is not allowed\n"
                  "edgefn.yaml:13:13: url: invalid url \"http://x/a#top\": a fragment is not allowed\n"
                  "edgefn.yaml:14:13: url: invalid url \"http://x/a b\": the path contains whitespace or control characters\n"
                  "edgefn.yaml:15:13: url: expected an http:// url, found an empty value\n"
                  "edgefn.yaml:16:13: url: invalid url \"x.example.com\": expected http://HOST[:PORT][/PATH]\n");
}

static void test_bad_path_pattern(void **state)
{
    char yaml[1024], long_pattern[257];

    memset(long_pattern, 'a', 256);
    long_pattern[0] = '/';
    long_pattern[256] = '\0';
    snprintf(yaml, sizeof(yaml),
             LISTEN "origins: { app: { url: \"http://a\" } }\n"
                    "behaviors:\n"
                    "  - { path: \"\", origin: app }\n"
                    "  - { path: \"/a b\", origin: app }\n"
                    "  - { path: \"/a\\tb\", origin: app }\n"
                    "  - { path: %s, origin: app }\n"
                    "  - { path: /x, origin: \"\" }\n",
             long_pattern);
    assert_errors(yaml, "edgefn.yaml:4:13: path: expected a path pattern like /images/*, found an empty value\n"
                        "edgefn.yaml:5:13: path: \"/a b\" contains whitespace or control characters\n"
                        "edgefn.yaml:6:13: path: \"/a\\tb\" contains whitespace or control characters\n"
                        "edgefn.yaml:7:13: path: the pattern is 256 characters long; the maximum is 255\n"
                        "edgefn.yaml:8:25: origin: expected an origin name, found an empty value\n");
}

static void test_bad_access_log(void **state)
{
    assert_errors(LISTEN TAIL "access-log: logs/access.log\n",
                  "edgefn.yaml:6:13: access-log: cannot use directory \"" DATA "/logs\": No such file or directory\n");
    assert_errors(LISTEN TAIL "access-log: public\n",
                  "edgefn.yaml:6:13: access-log: \"" DATA "/public\" is a directory; expected a file path\n");
    assert_errors(LISTEN TAIL "access-log: \"\"\n",
                  "edgefn.yaml:6:13: access-log: expected \"stderr\", \"off\" or a file path, found an empty value\n");
}

static void test_bad_admin(void **state)
{
    assert_errors(LISTEN TAIL "admin:\n"
                              "  listen: \"localhost:9180\"\n"
                              "  token-file: missing.token\n",
                  "edgefn.yaml:7:11: admin.listen: expected a numeric IPv4 or IPv6 address, found \"localhost\"\n"
                  "edgefn.yaml:8:15: admin.token-file: cannot read \"" DATA "/missing.token\": No such file or directory\n");
}

#define RUNTIMES "expected \"lua\", \"nodejs\", \"python\" or \"provided\""

static void test_unknown_runtime(void **state)
{
    assert_errors(LISTEN TAIL "functions:\n"
                              "  a: { runtime: luajit, code: functions/security-headers.lua }\n"
                              "  b: { runtime: Lua, code: functions/security-headers.lua }\n"
                              "  c: { runtime: \"\", code: functions/security-headers.lua }\n"
                              "  d: { runtime: [lua], code: functions/security-headers.lua }\n",
                  "edgefn.yaml:7:17: runtime: " RUNTIMES ", found \"luajit\"\n"
                  "edgefn.yaml:8:17: runtime: " RUNTIMES ", found \"Lua\"\n"
                  "edgefn.yaml:9:17: runtime: " RUNTIMES ", found an empty value\n"
                  "edgefn.yaml:10:17: runtime: expected a scalar, found a sequence\n");
    /* Lambda's runtime identifiers, which someone moving a function over writes first; nothing about the rest of the function */
    assert_errors(LISTEN TAIL "functions:\n"
                              "  a: { runtime: nodejs20.x, code: functions/node, memory: 1MB }\n"
                              "  b: { runtime: node, code: functions/node }\n"
                              "  c: { runtime: python3.12, code: functions/python, handler: \"no such\" }\n"
                              "  d: { runtime: provided.al2023, code: functions/auth, concurrency: { reserved: 1 } }\n"
                              "  e: { runtime: Python, code: functions/python }\n",
                  "edgefn.yaml:7:17: runtime: " RUNTIMES ", found \"nodejs20.x\"; write \"nodejs\": edgefn runs this machine's "
                  "node, whatever its version\n"
                  "edgefn.yaml:8:17: runtime: " RUNTIMES ", found \"node\"; write \"nodejs\": edgefn runs this machine's node, "
                  "whatever its version\n"
                  "edgefn.yaml:9:17: runtime: " RUNTIMES ", found \"python3.12\"; write \"python\": edgefn runs this machine's "
                  "python3, whatever its version\n"
                  "edgefn.yaml:10:17: runtime: " RUNTIMES ", found \"provided.al2023\"; write \"provided\": edgefn runs the "
                  "function's own bootstrap\n"
                  "edgefn.yaml:11:17: runtime: " RUNTIMES ", found \"Python\"; write \"python\": edgefn runs this machine's "
                  "python3, whatever its version\n");
}

static void test_missing_function_keys(void **state)
{
    assert_errors(LISTEN TAIL "functions:\n"
                              "  a: { code: functions/security-headers.lua }\n"
                              "  b: { runtime: lua, handler: main.handler }\n"
                              "  c: {}\n"
                              "  d: functions/security-headers.lua\n"
                              "  e:\n"
                              "  f: { runtime: lua, code: functions/security-headers.lua }\n",
                  "edgefn.yaml:7:6: missing required key \"runtime\" in function \"a\"\n"
                  "edgefn.yaml:8:6: missing required key \"code\" in function \"b\"\n"
                  "edgefn.yaml:9:6: missing required key \"runtime\" in function \"c\"\n"
                  "edgefn.yaml:9:6: missing required key \"code\" in function \"c\"\n"
                  "edgefn.yaml:10:6: function \"d\": expected a mapping, found \"functions/security-headers.lua\"\n"
                  "edgefn.yaml:11:5: missing required key \"runtime\" in function \"e\"\n"
                  "edgefn.yaml:11:5: missing required key \"code\" in function \"e\"\n");
    assert_errors(LISTEN TAIL "functions: [a]\n", "edgefn.yaml:6:12: functions: expected a mapping, found a sequence\n");
}

static void test_missing_code(void **state)
{
    assert_errors(LISTEN TAIL "functions:\n"
                              "  a: { runtime: lua, code: functions/missing.lua }\n"
                              "  b: { runtime: lua, code: functions/missing/, handler: index.handler }\n"
                              "  c: { runtime: lua, code: \"\" }\n"
                              "  d: { runtime: lua, code: /dev/null }\n",
                  "edgefn.yaml:7:28: code: cannot read \"" DATA "/functions/missing.lua\": No such file or directory\n"
                  "edgefn.yaml:8:28: code: cannot read \"" DATA "/functions/missing\": No such file or directory\n"
                  "edgefn.yaml:9:28: code: expected a file or directory path, found an empty value\n"
                  "edgefn.yaml:10:28: code: \"/dev/null\" is neither a file nor a directory\n");
}

static void test_missing_handler_module(void **state)
{
    /* the default handler's module is missing: the code directory is what to look at */
    assert_errors(LISTEN TAIL "functions:\n"
                              "  a: { runtime: lua, code: functions/no-index }\n"
                              "  b: { runtime: lua, code: functions/auth, handler: lib.missing.check }\n"
                              "  c: { runtime: lua, code: functions/auth, handler: lib.handler }\n"
                              "  d: { runtime: lua, code: functions/auth, handler: auth.handler }\n",
                  "edgefn.yaml:7:28: code: cannot read \"" DATA "/functions/no-index/index.lua\", the module of the default "
                  "handler \"index.handler\": No such file or directory\n"
                  "edgefn.yaml:8:53: handler: cannot read \"" DATA "/functions/auth/lib/missing.lua\", the module of "
                  "\"lib.missing.check\": No such file or directory\n"
                  "edgefn.yaml:9:53: handler: cannot read \"" DATA "/functions/auth/lib.lua\", the module of \"lib.handler\": No "
                  "such file or directory\n"
                  "edgefn.yaml:10:53: handler: cannot read \"" DATA "/functions/auth/auth.lua\", the module of \"auth.handler\": "
                  "No such file or directory\n");
}

static void test_bad_handler(void **state)
{
    /* code is a file: the handler is a function's name */
    assert_errors(LISTEN TAIL "functions:\n"
                              "  a: { runtime: lua, code: functions/security-headers.lua, handler: index.handler }\n"
                              "  b: { runtime: lua, code: functions/security-headers.lua, handler: 1abc }\n"
                              "  c: { runtime: lua, code: functions/security-headers.lua, handler: on-request }\n"
                              "  d: { runtime: lua, code: functions/security-headers.lua, handler: end }\n"
                              "  e: { runtime: lua, code: functions/security-headers.lua, handler: \"\" }\n"
                              "  f: { runtime: lua, code: functions/security-headers.lua, handler: [x] }\n",
                  "edgefn.yaml:7:69: handler: invalid handler \"index.handler\": MODULE.FUNCTION is for a code directory; for "
                  "a file, give the function name alone, like \"handler\"\n"
                  "edgefn.yaml:8:69: handler: invalid handler \"1abc\": \"1abc\" is not a Lua identifier (letters, digits and "
                  "\"_\", not starting with a digit)\n"
                  "edgefn.yaml:9:69: handler: invalid handler \"on-request\": \"on-request\" is not a Lua identifier (letters, "
                  "digits and \"_\", not starting with a digit)\n"
                  "edgefn.yaml:10:69: handler: invalid handler \"end\": \"end\" is a reserved word in Lua\n"
                  "edgefn.yaml:11:69: handler: expected a handler like \"handler\" or \"index.handler\", found an empty value\n"
                  "edgefn.yaml:12:69: handler: expected a scalar, found a sequence\n");
    /* code is a directory: the handler is MODULE.FUNCTION */
    assert_errors(LISTEN TAIL "functions:\n"
                              "  a: { runtime: lua, code: functions/auth, handler: handler }\n"
                              "  b: { runtime: lua, code: functions/auth, handler: lib..auth.check }\n"
                              "  c: { runtime: lua, code: functions/auth, handler: .handler }\n"
                              "  d: { runtime: lua, code: functions/auth, handler: lib/auth.check }\n"
                              "  e: { runtime: lua, code: functions/auth, handler: index. }\n"
                              "  f: { runtime: lua, code: functions/auth, handler: index.2fa }\n"
                              "  g: { runtime: lua, code: functions/auth, handler: index.function }\n",
                  "edgefn.yaml:7:53: handler: invalid handler \"handler\": expected MODULE.FUNCTION for a code directory, like "
                  "\"index.handler\"\n"
                  "edgefn.yaml:8:53: handler: invalid handler \"lib..auth.check\": MODULE must be names of letters, digits, "
                  "\"-\" and \"_\" joined by dots, like \"lib.auth\"\n"
                  "edgefn.yaml:9:53: handler: invalid handler \".handler\": MODULE must be names of letters, digits, \"-\" and "
                  "\"_\" joined by dots, like \"lib.auth\"\n"
                  "edgefn.yaml:10:53: handler: invalid handler \"lib/auth.check\": MODULE must be names of letters, digits, "
                  "\"-\" and \"_\" joined by dots, like \"lib.auth\"\n"
                  "edgefn.yaml:11:53: handler: invalid handler \"index.\": \"\" is not a Lua identifier (letters, digits and "
                  "\"_\", not starting with a digit)\n"
                  "edgefn.yaml:12:53: handler: invalid handler \"index.2fa\": \"2fa\" is not a Lua identifier (letters, digits "
                  "and \"_\", not starting with a digit)\n"
                  "edgefn.yaml:13:53: handler: invalid handler \"index.function\": \"function\" is a reserved word in Lua\n");
}

static void test_bad_function_name(void **state)
{
    char yaml[1024], expected[1024], long_name[66];

    memset(long_name, 'f', 65);
    long_name[65] = '\0';
    /* reported, but still functions: behaviors naming them add no error */
    snprintf(yaml, sizeof(yaml),
             LISTEN "origins: { app: { url: \"http://a\" } }\n"
                    "behaviors: [ { path: /*, origin: app, viewer-request: \"a b\", origin-request: %s } ]\n"
                    "functions:\n"
                    "  \"a b\": " FILE_FN "\n"
                    "  ../x: " FILE_FN "\n"
                    "  caf\xc3\xa9: " FILE_FN "\n"
                    "  %s: " FILE_FN "\n"
                    "  \"\": " FILE_FN "\n"
                    "  ? [x]\n"
                    "  : " FILE_FN "\n",
             long_name, long_name);
    snprintf(expected, sizeof(expected),
             "edgefn.yaml:5:3: functions: invalid function name \"a b\": use only letters, digits, \"-\" and \"_\"\n"
             "edgefn.yaml:6:3: functions: invalid function name \"../x\": use only letters, digits, \"-\" and \"_\"\n"
             "edgefn.yaml:7:3: functions: invalid function name \"caf\xc3\xa9\": use only letters, digits, \"-\" and \"_\"\n"
             "edgefn.yaml:8:3: functions: invalid function name \"%s\": 65 characters long; the maximum is 64\n"
             "edgefn.yaml:9:3: functions: expected a function name, found an empty value\n"
             "edgefn.yaml:10:5: functions: expected a function name, found a sequence\n",
             long_name);
    assert_errors(yaml, expected);
}

static void test_duplicate_function(void **state)
{
    /* the second is not read: its own mistakes would only add noise */
    assert_errors(LISTEN "origins: { app: { url: \"http://a\" } }\n"
                         "functions:\n"
                         "  f: " FILE_FN "\n"
                         "  g: " FILE_FN "\n"
                         "  f: { runtime: nodejs }\n"
                         "behaviors: [ { path: /*, origin: app, viewer-request: f } ]\n",
                  "edgefn.yaml:6:3: duplicate function \"f\" (first defined on line 4)\n");
}

static void test_undefined_function(void **state)
{
    assert_errors(LISTEN "origins: { app: { url: \"http://a\" } }\n"
                         "behaviors:\n"
                         "  - path: /api/*\n"
                         "    origin: app\n"
                         "    viewer-request: auth\n"
                         "    origin-request: auth\n"
                         "    origin-response: Security-Headers\n"
                         "    viewer-response: security_headers\n"
                         "  - { path: /*, origin: app, viewer-request: \"\", viewer-response: redirect }\n"
                         "functions:\n"
                         "  security-headers: " FILE_FN "\n"
                         "  redirect: " FILE_FN "\n",
                  "edgefn.yaml:6:21: behavior \"/api/*\": viewer-request function \"auth\" is not defined (defined: "
                  "security-headers, redirect)\n"
                  "edgefn.yaml:7:21: behavior \"/api/*\": origin-request function \"auth\" is not defined (defined: "
                  "security-headers, redirect)\n"
                  "edgefn.yaml:8:22: behavior \"/api/*\": origin-response function \"Security-Headers\" is not defined (defined: "
                  "security-headers, redirect)\n"
                  "edgefn.yaml:9:22: behavior \"/api/*\": viewer-response function \"security_headers\" is not defined "
                  "(defined: security-headers, redirect)\n"
                  "edgefn.yaml:10:46: viewer-request: expected a function name, found an empty value\n");
    assert_errors(LISTEN "origins: { app: { url: \"http://a\" } }\n"
                         "behaviors:\n"
                         "  - { path: /api/*, origin: app, origin-response: auth }\n"
                         "  - { origin: app, viewer-response: auth }\n",
                  "edgefn.yaml:4:51: behavior \"/api/*\": origin-response function \"auth\" is not defined (no functions are "
                  "defined)\n"
                  "edgefn.yaml:5:5: missing required key \"path\" in behavior 2\n"
                  "edgefn.yaml:5:37: behavior 2: viewer-response function \"auth\" is not defined (no functions are defined)\n");
    assert_errors(LISTEN TAIL "functions: {}\n"
                              "behaviors: [ { path: /*, origin: app, origin-request: auth } ]\n",
                  "edgefn.yaml:7:1: duplicate key \"behaviors\" at the top level (first defined on line 4)\n");
    assert_errors(LISTEN "origins: { app: { url: \"http://a\" } }\n"
                         "functions: {}\n"
                         "behaviors: [ { path: /*, origin: app, origin-request: auth } ]\n",
                  "edgefn.yaml:4:55: behavior \"/*\": origin-request function \"auth\" is not defined (no functions are "
                  "defined)\n");
}

static void test_bad_function_limits(void **state)
{
    assert_errors(LISTEN TAIL "functions:\n"
                              "  a: { runtime: lua, code: functions/security-headers.lua, memory: 0 }\n"
                              "  b: { runtime: lua, code: functions/security-headers.lua, memory: 2GB }\n"
                              "  c: { runtime: lua, code: functions/security-headers.lua, memory: 1025MB }\n"
                              "  d: { runtime: lua, code: functions/security-headers.lua, memory: 2mb }\n"
                              "  e: { runtime: lua, code: functions/security-headers.lua, timeout: 0ms }\n"
                              "  f: { runtime: lua, code: functions/security-headers.lua, timeout: 61s }\n"
                              "  g: { runtime: lua, code: functions/security-headers.lua, timeout: 5 }\n"
                              "  h: { runtime: lua, code: functions/security-headers.lua, max-code-size: 0KB }\n"
                              "  i: { runtime: lua, code: functions/security-headers.lua, max-code-size: 1.5KB }\n",
                  "edgefn.yaml:7:68: memory: must be greater than 0, found \"0\"\n"
                  "edgefn.yaml:8:68: memory: must be at most 1GB, found \"2GB\"\n"
                  "edgefn.yaml:9:68: memory: must be at most 1GB, found \"1025MB\"\n"
                  "edgefn.yaml:10:68: memory: invalid size \"2mb\": unknown unit; expected B, KB, MB or GB (or KiB, MiB, GiB)\n"
                  "edgefn.yaml:11:69: timeout: must be greater than 0, found \"0ms\"\n"
                  "edgefn.yaml:12:69: timeout: must be at most 1m, found \"61s\"\n"
                  "edgefn.yaml:13:69: timeout: invalid duration \"5\": missing unit; expected ms, s, m, h or d after the number, "
                  "like 5s\n"
                  "edgefn.yaml:14:75: max-code-size: must be greater than 0, found \"0KB\"\n"
                  "edgefn.yaml:15:75: max-code-size: invalid size \"1.5KB\": expected an integer; use a smaller unit instead of a "
                  "fraction, like 1536KB for 1.5MB\n");
}

static void test_process_code_is_a_directory(void **state)
{
    /* the code of a process function is its LAMBDA_TASK_ROOT; nothing is said about a handler that has no directory to be in */
    assert_errors(LISTEN TAIL "functions:\n"
                              "  a: { runtime: nodejs, code: functions/security-headers.lua }\n"
                              "  b: { runtime: python, code: functions/security-headers.lua, handler: \"no such\" }\n"
                              "  c: { runtime: provided, code: functions/provided/bootstrap }\n"
                              "  d: { runtime: nodejs, code: functions/missing }\n",
                  "edgefn.yaml:7:31: code: a nodejs function's code must be a directory (its LAMBDA_TASK_ROOT), found the file "
                  "\"" DATA "/functions/security-headers.lua\"\n"
                  "edgefn.yaml:8:31: code: a python function's code must be a directory (its LAMBDA_TASK_ROOT), found the file "
                  "\"" DATA "/functions/security-headers.lua\"\n"
                  "edgefn.yaml:9:33: code: a provided function's code must be a directory (its LAMBDA_TASK_ROOT), found the file "
                  "\"" DATA "/functions/provided/bootstrap\"\n"
                  "edgefn.yaml:10:31: code: cannot read \"" DATA "/functions/missing\": No such file or directory\n");
}

static void test_missing_process_module(void **state)
{
    /* every file looked for is named; the default handler's is the code's fault */
    assert_errors(LISTEN TAIL "functions:\n"
                              "  a: { runtime: nodejs, code: functions/auth }\n"
                              "  b: { runtime: nodejs, code: functions/node, handler: src/index.handler }\n"
                              "  c: { runtime: nodejs, code: functions/node, handler: dir.handler }\n"
                              "  d: { runtime: python, code: functions/node }\n"
                              "  e: { runtime: python, code: functions/python, handler: pkg.missing.handler }\n"
                              /* split as Lambda does, this is export js.handler of index.js, which exists: no error */
                              "  f: { runtime: nodejs, code: functions/node, handler: index.js.handler }\n",
                  "edgefn.yaml:7:31: code: cannot find the module of the default handler \"index.handler\": looked for \"" DATA
                  "/functions/auth/index.js\", \"" DATA "/functions/auth/index.mjs\" and \"" DATA "/functions/auth/index.cjs\"\n"
                  "edgefn.yaml:8:56: handler: cannot find the module of \"src/index.handler\": looked for \"" DATA
                  "/functions/node/src/index.js\", \"" DATA "/functions/node/src/index.mjs\" and \"" DATA
                  "/functions/node/src/index.cjs\"\n"
                  "edgefn.yaml:9:56: handler: cannot read \"" DATA "/functions/node/dir.js\", the module of \"dir.handler\": Is a "
                  "directory\n"
                  "edgefn.yaml:10:31: code: cannot find the module of the default handler \"index.handler\": looked for \"" DATA
                  "/functions/node/index.py\" and \"" DATA "/functions/node/index/__init__.py\"\n"
                  "edgefn.yaml:11:58: handler: cannot find the module of \"pkg.missing.handler\": looked for \"" DATA
                  "/functions/python/pkg/missing.py\" and \"" DATA "/functions/python/pkg/missing/__init__.py\"\n");
}

static void test_bad_process_handler(void **state)
{
    assert_errors(LISTEN TAIL "functions:\n"
                              "  a: { runtime: nodejs, code: functions/node, handler: handler }\n"
                              "  b: { runtime: nodejs, code: functions/node, handler: src/handler }\n"
                              "  c: { runtime: nodejs, code: functions/node, handler: ../node/index.handler }\n"
                              "  d: { runtime: nodejs, code: functions/node, handler: /abs/index.handler }\n"
                              "  e: { runtime: nodejs, code: functions/node, handler: src//app.handler }\n"
                              "  f: { runtime: nodejs, code: functions/node, handler: \"my app.handler\" }\n"
                              "  g: { runtime: nodejs, code: functions/node, handler: index. }\n"
                              "  h: { runtime: nodejs, code: functions/node, handler: index.2fa }\n"
                              "  i: { runtime: nodejs, code: functions/node, handler: index.a..b }\n"
                              "  j: { runtime: nodejs, code: functions/node, handler: .handler }\n"
                              "  k: { runtime: nodejs, code: functions/node, handler: \"\" }\n",
                  "edgefn.yaml:7:56: handler: invalid handler \"handler\": expected MODULE.EXPORT, like \"index.handler\" or "
                  "\"src/app.handler\"\n"
                  "edgefn.yaml:8:56: handler: invalid handler \"src/handler\": expected MODULE.EXPORT, like \"index.handler\" or "
                  "\"src/app.handler\"\n"
                  "edgefn.yaml:9:56: handler: invalid handler \"../node/index.handler\": MODULE must be a path inside the code "
                  "directory: names of letters, digits, \"-\", \"_\" and \".\" joined by \"/\", like \"src/app\"\n"
                  "edgefn.yaml:10:56: handler: invalid handler \"/abs/index.handler\": MODULE must be a path inside the code "
                  "directory: names of letters, digits, \"-\", \"_\" and \".\" joined by \"/\", like \"src/app\"\n"
                  "edgefn.yaml:11:56: handler: invalid handler \"src//app.handler\": MODULE must be a path inside the code "
                  "directory: names of letters, digits, \"-\", \"_\" and \".\" joined by \"/\", like \"src/app\"\n"
                  "edgefn.yaml:12:56: handler: invalid handler \"my app.handler\": MODULE must be a path inside the code "
                  "directory: names of letters, digits, \"-\", \"_\" and \".\" joined by \"/\", like \"src/app\"\n"
                  "edgefn.yaml:13:56: handler: invalid handler \"index.\": EXPORT must be JavaScript names (letters, digits, \"_\" "
                  "and \"$\", not starting with a digit) joined by dots, like \"handler\"\n"
                  "edgefn.yaml:14:56: handler: invalid handler \"index.2fa\": EXPORT must be JavaScript names (letters, digits, "
                  "\"_\" and \"$\", not starting with a digit) joined by dots, like \"handler\"\n"
                  "edgefn.yaml:15:56: handler: invalid handler \"index.a..b\": EXPORT must be JavaScript names (letters, digits, "
                  "\"_\" and \"$\", not starting with a digit) joined by dots, like \"handler\"\n"
                  "edgefn.yaml:16:56: handler: invalid handler \".handler\": MODULE must be a path inside the code directory: "
                  "names of letters, digits, \"-\", \"_\" and \".\" joined by \"/\", like \"src/app\"\n"
                  "edgefn.yaml:17:56: handler: expected a handler like \"handler\" or \"index.handler\", found an empty value\n");
    assert_errors(LISTEN TAIL "functions:\n"
                              "  a: { runtime: python, code: functions/python, handler: handler }\n"
                              "  b: { runtime: python, code: functions/python, handler: pkg..mod.handler }\n"
                              "  c: { runtime: python, code: functions/python, handler: ../pkg.handler }\n"
                              "  d: { runtime: python, code: functions/python, handler: index.2fa }\n"
                              "  e: { runtime: python, code: functions/python, handler: index.on-request }\n"
                              "  f: { runtime: python, code: functions/python, handler: index. }\n"
                              "  g: { runtime: python, code: functions/python, handler: .handler }\n",
                  "edgefn.yaml:7:58: handler: invalid handler \"handler\": expected MODULE.FUNCTION, like \"index.handler\" or "
                  "\"pkg.module.handler\"\n"
                  "edgefn.yaml:8:58: handler: invalid handler \"pkg..mod.handler\": MODULE must be names of letters, digits, \"-\" "
                  "and \"_\" joined by dots (or slashes), like \"pkg.module\"\n"
                  "edgefn.yaml:9:58: handler: invalid handler \"../pkg.handler\": MODULE must be names of letters, digits, \"-\" "
                  "and \"_\" joined by dots (or slashes), like \"pkg.module\"\n"
                  "edgefn.yaml:10:58: handler: invalid handler \"index.2fa\": FUNCTION must be a Python name (letters, digits and "
                  "\"_\", not starting with a digit), like \"handler\"\n"
                  "edgefn.yaml:11:58: handler: invalid handler \"index.on-request\": FUNCTION must be a Python name (letters, "
                  "digits and \"_\", not starting with a digit), like \"handler\"\n"
                  "edgefn.yaml:12:58: handler: invalid handler \"index.\": FUNCTION must be a Python name (letters, digits and "
                  "\"_\", not starting with a digit), like \"handler\"\n"
                  "edgefn.yaml:13:58: handler: invalid handler \".handler\": MODULE must be names of letters, digits, \"-\" and "
                  "\"_\" joined by dots (or slashes), like \"pkg.module\"\n");
}

static void test_bad_bootstrap(void **state)
{
    assert_errors(LISTEN TAIL "functions:\n"
                              "  a: { runtime: provided, code: functions/auth }\n"
                              "  b: { runtime: provided, code: functions/provided-noexec, handler: x }\n"
                              "  c: { runtime: provided, code: functions/provided-dir }\n",
                  "edgefn.yaml:7:33: code: provided function: \"" DATA "/functions/auth/bootstrap\" is missing (the code "
                  "directory of a provided function must hold an executable bootstrap, the runtime edgefn starts)\n"
                  "edgefn.yaml:8:33: code: provided function: \"" DATA "/functions/provided-noexec/bootstrap\" is not executable "
                  "(chmod +x it)\n"
                  "edgefn.yaml:9:33: code: provided function: \"" DATA "/functions/provided-dir/bootstrap\" is not a file\n");
}

static void test_bad_process_limits(void **state)
{
    assert_errors(LISTEN TAIL "functions:\n"
                              "  a: { runtime: nodejs, code: functions/node, memory: 127MB }\n"
                              "  b: { runtime: nodejs, code: functions/node, memory: 10241MB }\n"
                              "  c: { runtime: python, code: functions/python, memory: 11GB }\n"
                              "  d: { runtime: nodejs, code: functions/node, memory: 200000KB }\n"
                              "  e: { runtime: nodejs, code: functions/node, memory: 0 }\n"
                              "  f: { runtime: nodejs, code: functions/node, timeout: 901s }\n"
                              "  g: { runtime: nodejs, code: functions/node, timeout: 0ms }\n"
                              "  h: { runtime: nodejs, code: functions/node, queue-timeout: 61s }\n"
                              "  i: { runtime: nodejs, code: functions/node, queue-timeout: -1s }\n"
                              "  j: { runtime: nodejs, code: functions/node, idle-timeout: 999ms }\n"
                              "  k: { runtime: nodejs, code: functions/node, idle-timeout: 25h }\n"
                              "  l: { runtime: nodejs, code: functions/node, idle-timeout: 0 }\n"
                              "  m: { runtime: nodejs, code: functions/node, include-body: 1 }\n"
                              "  n: { runtime: nodejs, code: functions/node, include-body: true, body-limit: 0 }\n"
                              "  o: { runtime: nodejs, code: functions/node, include-body: true, body-limit: 101MB }\n"
                              "  p: { runtime: nodejs, code: functions/node, body-limit: 1KB }\n"
                              "  q: { runtime: nodejs, code: functions/node, body-limit: 1KB, include-body: false }\n"
                              "  r:\n"
                              "    memory: 64MB\n"
                              "    timeout: 1h\n"
                              "    runtime: provided\n"
                              "    code: functions/provided\n",
                  "edgefn.yaml:7:55: memory: must be 128MB-10240MB for a nodejs function (Lambda's range), found \"127MB\"\n"
                  "edgefn.yaml:8:55: memory: must be 128MB-10240MB for a nodejs function (Lambda's range), found \"10241MB\"\n"
                  "edgefn.yaml:9:57: memory: must be 128MB-10240MB for a python function (Lambda's range), found \"11GB\"\n"
                  "edgefn.yaml:10:55: memory: must be a whole number of MB for a nodejs function (Lambda counts it in MB), found "
                  "\"200000KB\"\n"
                  "edgefn.yaml:11:55: memory: must be greater than 0, found \"0\"\n"
                  "edgefn.yaml:12:56: timeout: must be at most 15m for a nodejs function (Lambda's maximum), found \"901s\"\n"
                  "edgefn.yaml:13:56: timeout: must be greater than 0, found \"0ms\"\n"
                  "edgefn.yaml:14:62: queue-timeout: must be at most 1m, found \"61s\"\n"
                  "edgefn.yaml:15:62: queue-timeout: invalid duration \"-1s\": expected an integer without a sign, like 5s\n"
                  "edgefn.yaml:16:61: idle-timeout: must be 1s-24h, found \"999ms\"\n"
                  "edgefn.yaml:17:61: idle-timeout: must be 1s-24h, found \"25h\"\n"
                  "edgefn.yaml:18:61: idle-timeout: must be 1s-24h, found \"0\"\n"
                  "edgefn.yaml:19:61: include-body: expected true or false, found \"1\"\n"
                  "edgefn.yaml:20:79: body-limit: must be greater than 0, found \"0\"\n"
                  "edgefn.yaml:21:79: body-limit: must be at most 100MB, found \"101MB\"\n"
                  "edgefn.yaml:22:47: body-limit: has no effect without include-body: true\n"
                  "edgefn.yaml:23:47: body-limit: has no effect without include-body: true\n"
                  "edgefn.yaml:25:13: memory: must be 128MB-10240MB for a provided function (Lambda's range), found \"64MB\"\n"
                  "edgefn.yaml:26:14: timeout: must be at most 15m for a provided function (Lambda's maximum), found \"1h\"\n");
}

static void test_bad_concurrency(void **state)
{
    assert_errors(LISTEN TAIL "functions:\n"
                              "  a: { runtime: nodejs, code: functions/node, concurrency: { reserved: 0 } }\n"
                              "  b: { runtime: nodejs, code: functions/node, concurrency: { reserved: 1001, provisioned: 1001 } }\n"
                              "  c: { runtime: nodejs, code: functions/node, concurrency: { reserved: many, provisioned: -1 } }\n"
                              "  d: { runtime: nodejs, code: functions/node, concurrency: { reserved: 4, provisioned: 5 } }\n"
                              "  e: { runtime: nodejs, code: functions/node, concurrency: { provisioned: 33 } }\n"
                              "  f: { runtime: nodejs, code: functions/node, concurrency: { reserverd: 4, max: 1 } }\n"
                              "  g: { runtime: nodejs, code: functions/node, concurrency: 4 }\n"
                              "  h:\n"
                              "    concurrency:\n"
                              "      provisioned: 2\n"
                              "      reserved: 1\n"
                              "    runtime: python\n"
                              "    code: functions/python\n",
                  "edgefn.yaml:7:72: concurrency.reserved: 0 is out of range (1-1000)\n"
                  "edgefn.yaml:8:72: concurrency.reserved: 1001 is out of range (1-1000)\n"
                  "edgefn.yaml:8:91: concurrency.provisioned: 1001 is out of range (0-1000)\n"
                  "edgefn.yaml:9:72: concurrency.reserved: expected an integer 1-1000, found \"many\"\n"
                  "edgefn.yaml:9:91: concurrency.provisioned: expected an integer 0-1000, found \"-1\"\n"
                  "edgefn.yaml:10:88: concurrency.provisioned: 5 is more than concurrency.reserved, 4; provisioned environments "
                  "count against the reserved ones\n"
                  "edgefn.yaml:11:75: concurrency.provisioned: 33 is more than concurrency.reserved, 32 (the default); "
                  "provisioned environments count against the reserved ones\n"
                  "edgefn.yaml:12:62: unknown key \"reserverd\" in concurrency; did you mean \"reserved\"?\n"
                  "edgefn.yaml:12:76: unknown key \"max\" in concurrency (expected one of: reserved, provisioned)\n"
                  "edgefn.yaml:13:60: concurrency: expected a mapping, found \"4\"\n"
                  "edgefn.yaml:16:20: concurrency.provisioned: 2 is more than concurrency.reserved, 1; provisioned environments "
                  "count against the reserved ones\n");
}

static void test_bad_environment(void **state)
{
    assert_errors(LISTEN TAIL "functions:\n"
                              "  f:\n"
                              "    runtime: nodejs\n"
                              "    code: functions/node\n"
                              "    environment:\n"
                              "      1ST: a\n"
                              "      MY-VAR: a\n"
                              "      \"MY VAR\": a\n"
                              "      \"\": a\n"
                              "      ? [A]\n"
                              "      : a\n"
                              "      AWS_REGION: eu-west-1\n"
                              "      _HANDLER: index.handler\n"
                              "      LAMBDA_TASK_ROOT: /var/task\n"
                              "      AWS_SECRET_ACCESS_KEY: x\n"
                              "      GOOD: a\n"
                              "      GOOD: b\n"
                              "      LIST: [a, b]\n"
                              "      MAP: { a: b }\n"
                              "      NOTHING:\n"
                              "      TILDE: ~\n"
                              "      NUL: \"a\\0b\"\n"
                              "      LAST: ok\n",
                  "edgefn.yaml:11:7: environment: invalid variable name \"1ST\": use letters, digits and \"_\", not starting with "
                  "a digit\n"
                  "edgefn.yaml:12:7: environment: invalid variable name \"MY-VAR\": use letters, digits and \"_\", not starting "
                  "with a digit\n"
                  "edgefn.yaml:13:7: environment: invalid variable name \"MY VAR\": use letters, digits and \"_\", not starting "
                  "with a digit\n"
                  "edgefn.yaml:14:7: environment: expected a variable name, found an empty value\n"
                  "edgefn.yaml:15:9: environment: expected a variable name, found a sequence\n"
                  "edgefn.yaml:17:7: environment: AWS_REGION is reserved: edgefn sets it, as Lambda does\n"
                  "edgefn.yaml:18:7: environment: _HANDLER is reserved: edgefn sets it, as Lambda does\n"
                  "edgefn.yaml:19:7: environment: LAMBDA_TASK_ROOT is reserved: edgefn sets it, as Lambda does\n"
                  "edgefn.yaml:20:7: environment: AWS_SECRET_ACCESS_KEY is reserved: edgefn sets it, as Lambda does\n"
                  "edgefn.yaml:22:7: duplicate variable \"GOOD\" in environment (first defined on line 21)\n"
                  "edgefn.yaml:23:13: environment.LIST: expected a scalar, found a sequence\n"
                  "edgefn.yaml:24:12: environment.MAP: expected a scalar, found a mapping\n"
                  "edgefn.yaml:25:15: environment.NOTHING: expected a value, found null; write \"\" for an empty string\n"
                  "edgefn.yaml:26:14: environment.TILDE: expected a value, found null; write \"\" for an empty string\n"
                  "edgefn.yaml:27:12: environment.NUL: must not contain a NUL character\n");
    assert_errors(LISTEN TAIL "functions:\n"
                              "  f: { runtime: python, code: functions/python, environment: [A=b] }\n",
                  "edgefn.yaml:7:62: environment: expected a mapping, found a sequence\n");
}

static void test_keys_of_the_other_kind(void **state)
{
    /* said at the key, whichever comes first, the key or the runtime */
    assert_errors(LISTEN TAIL "functions:\n"
                              "  lua:\n"
                              "    concurrency: { reserved: 2 }\n"
                              "    queue-timeout: 1s\n"
                              "    idle-timeout: 1m\n"
                              "    environment: { A: b }\n"
                              "    include-body: true\n"
                              "    body-limit: 1KB\n"
                              "    runtime: lua\n"
                              "    code: functions/security-headers.lua\n"
                              "    max-code-size: 1KB\n"
                              "  node: { runtime: nodejs, code: functions/node, max-code-size: 1KB }\n"
                              "  python: { max-code-size: 1KB, runtime: python, code: functions/python }\n"
                              "  provided: { runtime: provided, code: functions/provided, max-code-size: 1KB }\n",
                  "edgefn.yaml:8:5: concurrency: applies to nodejs, python and provided functions only, not lua\n"
                  "edgefn.yaml:9:5: queue-timeout: applies to nodejs, python and provided functions only, not lua\n"
                  "edgefn.yaml:10:5: idle-timeout: applies to nodejs, python and provided functions only, not lua\n"
                  "edgefn.yaml:11:5: environment: applies to nodejs, python and provided functions only, not lua\n"
                  "edgefn.yaml:12:5: include-body: applies to nodejs, python and provided functions only, not lua\n"
                  "edgefn.yaml:13:5: body-limit: applies to nodejs, python and provided functions only, not lua\n"
                  "edgefn.yaml:17:50: max-code-size: applies to lua functions only, not nodejs\n"
                  "edgefn.yaml:18:13: max-code-size: applies to lua functions only, not python\n"
                  "edgefn.yaml:19:60: max-code-size: applies to lua functions only, not provided\n");
}

static void test_bad_function_logs(void **state)
{
    assert_errors(LISTEN TAIL "function-logs: logs\n",
                  "edgefn.yaml:6:16: function-logs: cannot use directory \"" DATA "/logs\": No such file or directory\n");
    assert_errors(LISTEN TAIL "function-logs: admin.token\n",
                  "edgefn.yaml:6:16: function-logs: cannot use directory \"" DATA "/admin.token\": Not a directory\n");
    assert_errors(LISTEN TAIL "function-logs: \"\"\n",
                  "edgefn.yaml:6:16: function-logs: expected \"stderr\", \"off\" or a directory path, found an empty value\n");
    assert_errors(LISTEN TAIL "function-logs: { dir: logs }\n",
                  "edgefn.yaml:6:16: function-logs: expected a scalar, found a mapping\n");
}

static void test_missing_required_keys(void **state)
{
    assert_errors("threads: 2\n", "edgefn.yaml:1:1: missing required key \"listen\" at the top level\n"
                                  "edgefn.yaml:1:1: missing required key \"origins\" at the top level\n"
                                  "edgefn.yaml:1:1: missing required key \"behaviors\" at the top level\n");
    assert_errors("listen:\n"
                  "  - address: 127.0.0.1\n"
                  "origins: { app: { url: \"http://a\" } }\n"
                  "behaviors:\n"
                  "  - path: /*\n"
                  "  - origin: app\n",
                  "edgefn.yaml:2:5: missing required key \"port\" in listener 1\n"
                  "edgefn.yaml:5:5: missing required key \"origin\" in behavior \"/*\"\n"
                  "edgefn.yaml:6:5: missing required key \"path\" in behavior 2\n");
    /* without origins, behaviors naming one add nothing to the missing key */
    assert_errors(LISTEN "behaviors: [ { path: /*, origin: app } ]\n",
                  "edgefn.yaml:1:1: missing required key \"origins\" at the top level\n");
}

static void test_empty_sections(void **state)
{
    assert_errors("listen: []\n"
                  "origins: {}\n"
                  "behaviors: []\n",
                  "edgefn.yaml:1:9: listen: at least one listener is required\n"
                  "edgefn.yaml:2:10: origins: at least one origin is required\n"
                  "edgefn.yaml:3:12: behaviors: at least one behavior is required\n");
    /* a key with no value reads as an empty collection */
    assert_errors("listen:\n"
                  "origins:\n"
                  "behaviors: ~\n",
                  "edgefn.yaml:1:8: listen: at least one listener is required\n"
                  "edgefn.yaml:2:9: origins: at least one origin is required\n"
                  "edgefn.yaml:3:12: behaviors: at least one behavior is required\n");
}

static void test_duplicate_key(void **state)
{
    assert_errors(LISTEN "origins:\n"
                         "  app:\n"
                         "    url: \"http://a\"\n"
                         "    timeout: 5s\n"
                         "    timeout: 6s\n"
                         "  app: { url: \"http://b\" }\n"
                         "behaviors: [ { path: /*, origin: app, path: /x } ]\n"
                         "listen: [9090]\n",
                  "edgefn.yaml:6:5: duplicate key \"timeout\" in origin \"app\" (first defined on line 5)\n"
                  "edgefn.yaml:7:3: duplicate origin \"app\" (first defined on line 3)\n"
                  "edgefn.yaml:8:39: duplicate key \"path\" in behavior \"/*\" (first defined on line 8)\n"
                  "edgefn.yaml:9:1: duplicate key \"listen\" at the top level (first defined on line 1)\n");
}

static void test_duplicate_listener(void **state)
{
    assert_errors("listen:\n"
                  "  - port: 8080\n"
                  "  - \"0.0.0.0:8080\"\n"
                  "  - \"[::1]:80\"\n"
                  "  - { port: 80, address: \"0:0::1\" }\n"
                  "  - 127.0.0.1:9180\n" TAIL "admin: { listen: 9180 }\n",
                  "edgefn.yaml:3:5: duplicate listener 0.0.0.0:8080 (first defined on line 2)\n"
                  "edgefn.yaml:5:5: duplicate listener [0:0::1]:80 (first defined on line 4)\n"
                  "edgefn.yaml:11:18: admin.listen: 127.0.0.1:9180 is already used by the listener on line 6\n");
}

static void test_yaml_syntax_error(void **state)
{
    /* reported once, and nothing after it: the rest of the file cannot be trusted */
    assert_errors("listen:\n"
                  "  - port: 70000\n"
                  " origins: x\n" TAIL,
                  "edgefn.yaml:3:2: YAML syntax error: did not find expected key (while parsing a block mapping at line 1)\n");
    assert_errors("listen: [8080\n" TAIL, "edgefn.yaml:2:8: YAML syntax error: did not find expected ',' or ']' (while parsing a "
                                          "flow sequence at line 1)\n");
    assert_errors("origins:\n"
                  "\tapp: {}\n",
                  "edgefn.yaml:2:1: YAML syntax error: found character that cannot start any token (while scanning for the next "
                  "token at line 2); YAML does not allow tabs for indentation\n");
    assert_errors("threads: \"4\n", "edgefn.yaml:2:1: YAML syntax error: found unexpected end of stream (while scanning a quoted "
                                    "scalar at line 1)\n");
    assert_errors("listen: *ports\n", "edgefn.yaml:1:9: YAML syntax error: found undefined alias\n");
    assert_errors("threads: 1\nlisten: [\xff]\n", "edgefn.yaml:2:10: YAML syntax error: invalid leading UTF-8 octet\n");
}

static void test_not_one_document(void **state)
{
    assert_errors("", "edgefn.yaml:1:1: the config is empty; expected a mapping with listen, origins and behaviors\n");
    assert_errors("# nothing but a comment\n",
                  "edgefn.yaml:1:1: the config is empty; expected a mapping with listen, origins and behaviors\n");
    assert_errors(LISTEN TAIL "---\n" LISTEN, "edgefn.yaml:7:1: expected one YAML document, found a second one\n");
}

static void test_unreadable_file(void **state)
{
    ef_conf_t conf;
    ef_conf_errors_t errors = {0};

    assert_int_equal(ef_conf_load(&conf, DATA "/missing.yaml", &errors), -1);
    assert_int_equal(errors.size, 1);
    assert_string_equal(errors.entries[0], DATA "/missing.yaml: cannot read: No such file or directory");
    ef_conf_dispose(&conf);

    assert_int_equal(ef_conf_load(&conf, DATA "/public", &errors), -1);
    assert_int_equal(errors.size, 2);
    assert_string_equal(errors.entries[1], DATA "/public: cannot read: Is a directory");
    ef_conf_dispose(&conf);
    ef_conf_errors_dispose(&errors);
}

static void test_several_errors_in_order(void **state)
{
    /* found in another order than they are written: behaviors come before the origins they name */
    assert_errors("behaviors:\n"
                  "  - path: /api/*\n"
                  "    origin: ap\n"
                  "  - path: \"a b\"\n"
                  "    origin: app\n"
                  "listen:\n"
                  "  - port: 70000\n"
                  "    tls: { certificate: certs/missing.crt, key: certs/missing.key }\n"
                  "origins:\n"
                  "  app:\n"
                  "    url: https://example.com\n"
                  "    conect-timeout: 5s\n"
                  "    timeout: 5 s\n"
                  "threads: 0\n"
                  "drain-timeout: 1.5s\n",
                  "edgefn.yaml:3:13: behavior \"/api/*\": origin \"ap\" is not defined (defined: app)\n"
                  "edgefn.yaml:4:11: path: \"a b\" contains whitespace or control characters\n"
                  "edgefn.yaml:7:11: port: 70000 is out of range (1-65535)\n"
                  "edgefn.yaml:8:25: tls.certificate: cannot read \"" DATA "/certs/missing.crt\": No such file or directory\n"
                  "edgefn.yaml:8:49: tls.key: cannot read \"" DATA "/certs/missing.key\": No such file or directory\n"
                  "edgefn.yaml:11:10: url: https origins are not supported yet (only http://), found \"https://example.com\"\n"
                  "edgefn.yaml:12:5: unknown key \"conect-timeout\" in origin \"app\"; did you mean \"connect-timeout\"?\n"
                  "edgefn.yaml:13:14: timeout: invalid duration \"5 s\": " DURATION_EXPECTED "\n"
                  "edgefn.yaml:14:10: threads: 0 is out of range (1-256)\n"
                  "edgefn.yaml:15:16: drain-timeout: invalid duration \"1.5s\": expected an integer; use a smaller unit instead of "
                  "a fraction, like 1500ms for 1.5s\n");
}

static void test_quoting_in_messages(void **state)
{
    /* what the user wrote is shown on one line, escaped, and cut when very long */
    char yaml[1024], expected[1024], value[601];

    memset(value, 'x', 600);
    value[600] = '\0';
    snprintf(yaml, sizeof(yaml), LISTEN TAIL "drain-timeout: \"a\\\"b\\nc\"\nthreads: %s\n", value);
    snprintf(expected, sizeof(expected),
             "edgefn.yaml:6:16: drain-timeout: invalid duration \"a\\\"b\\nc\": " DURATION_EXPECTED "\n"
             "edgefn.yaml:7:10: threads: expected \"auto\" or an integer 1-256, found \"%.*s...\"\n",
             512 - 6, value);
    assert_errors(yaml, expected);
}

static void test_conf_error(void **state)
{
    ef_conf_t conf;
    ef_conf_errors_t errors = {0};

    parse_valid(&conf, "listen:\n"
                       "  - port: 8443\n"
                       "    tls: { certificate: certs/edge.crt, key: certs/edge.key }\n" TAIL);
    ef_conf_error(&errors, &conf, conf.listen[0].tls.pos, "tls: the key \"%s\" does not belong to the certificate", "k");
    ef_conf_error(&errors, &conf, (ef_conf_pos_t){1, 1}, "second");
    assert_int_equal(errors.size, 2);
    assert_string_equal(errors.entries[0], "edgefn.yaml:3:10: tls: the key \"k\" does not belong to the certificate");
    assert_string_equal(errors.entries[1], "edgefn.yaml:1:1: second");
    ef_conf_dispose(&conf);
    ef_conf_errors_dispose(&errors);
    assert_null(errors.entries);
    assert_int_equal(errors.size, 0);
}

static void test_errors_are_appended(void **state)
{
    ef_conf_t conf;
    ef_conf_errors_t errors = {0};

    /* a second run adds to what is there, and returns -1 only for its own errors */
    assert_int_equal(parse(&conf, "threads: 0\n" LISTEN TAIL, &errors), -1);
    ef_conf_dispose(&conf);
    assert_int_equal(parse(&conf, LISTEN TAIL, &errors), 0);
    ef_conf_dispose(&conf);
    assert_int_equal(errors.size, 1);
    assert_string_equal(errors.entries[0], "edgefn.yaml:1:10: threads: 0 is out of range (1-256)");
    ef_conf_errors_dispose(&errors);
}

/* ---- the cache ---- */

#define DAY (UINT64_C(24) * 60 * 60 * 1000)

static void test_cache_defaults(void **state)
{
    ef_conf_t conf;
    const ef_conf_cache_policy_t *c;

    /* no cache: anywhere: the top level's defaults, and a behavior that caches nothing but has a complete policy */
    parse_valid(&conf, LISTEN TAIL);
    assert_int_equal(conf.cache.memory, UINT64_C(256) << 20);
    assert_int_equal(conf.cache.max_object_size, UINT64_C(10) << 20);
    c = &conf.behaviors[0].cache;
    assert_int_equal(c->enabled, 0);
    assert_int_equal(c->default_ttl, DAY);
    assert_int_equal(c->min_ttl, 0);
    assert_int_equal(c->max_ttl, 365 * DAY);
    assert_int_equal(c->key.query, EF_CONF_KEY_QUERY_NONE);
    assert_null(c->key.query_names);
    assert_int_equal(c->key.num_query_names, 0);
    assert_null(c->key.headers);
    assert_int_equal(c->key.num_headers, 0);
    assert_null(c->key.cookies);
    assert_int_equal(c->key.num_cookies, 0);
    ef_conf_dispose(&conf);

    /* cache: {}, cache: with no value, and key: {}: a cache with every default; so is an empty top-level cache: */
    parse_valid(&conf, LISTEN "origins: { app: { url: \"http://a\" } }\n"
                              "cache: {}\n"
                              "behaviors:\n"
                              "  - { path: /a, origin: app, cache: {} }\n"
                              "  - path: /b\n"
                              "    origin: app\n"
                              "    cache:\n"
                              "  - { path: /c, origin: app, cache: { key: {} } }\n"
                              "  - { path: /d, origin: app, cache: { key: } }\n"
                              "  - { path: /*, origin: app }\n");
    assert_int_equal(conf.cache.memory, UINT64_C(256) << 20);
    assert_int_equal(conf.cache.max_object_size, UINT64_C(10) << 20);
    assert_int_equal(conf.num_behaviors, 5);
    for (size_t i = 0; i != 5; ++i) {
        c = &conf.behaviors[i].cache;
        assert_int_equal(c->enabled, i != 4);
        assert_int_equal(c->default_ttl, DAY);
        assert_int_equal(c->min_ttl, 0);
        assert_int_equal(c->max_ttl, 365 * DAY);
        assert_int_equal(c->key.query, EF_CONF_KEY_QUERY_NONE);
        assert_int_equal(c->key.num_query_names, 0);
        assert_int_equal(c->key.num_headers, 0);
        assert_int_equal(c->key.num_cookies, 0);
    }
    ef_conf_dispose(&conf);
}

static void test_cache_forms(void **state)
{
    ef_conf_t conf;
    const ef_conf_cache_policy_t *c;

    parse_valid(&conf, LISTEN "origins: { site: { url: \"http://a\" } }\n"
                              "cache:\n"
                              "  memory: 64MB\n"
                              "  max-object-size: 512KB\n"
                              "behaviors:\n"
                              "  - path: /img/*\n"
                              "    origin: site\n"
                              "    cache:\n"
                              "      default-ttl: 60s\n"
                              "      min-ttl: 0\n"
                              "      max-ttl: 1d\n"
                              "      key:\n"
                              "        query: all\n"
                              "        headers: [accept-language, X-Device, \"Accept-Encoding\"]\n"
                              "        cookies: [session, Session, __Host-id]\n"
                              "  - path: /api/*\n"
                              "    origin: site\n"
                              "    cache:\n"
                              "      min-ttl: 5m\n"
                              "      key:\n"
                              "        query: [page, Page, \"a.b[]\", \"%41\"]\n"
                              "  - { path: /none, origin: site, cache: { key: { query: none } } }\n"
                              "  - { path: /empty, origin: site, cache: { key: { query: [], headers: [], cookies: } } }\n"
                              "  - { path: /null, origin: site, cache: { key: { query: } } }\n"
                              "  - { path: /*, origin: site, cache: { default-ttl: 0, min-ttl: 0s, max-ttl: 0ms } }\n");
    assert_int_equal(conf.cache.memory, UINT64_C(64) << 20);
    assert_int_equal(conf.cache.max_object_size, UINT64_C(512) << 10);

    c = &conf.behaviors[0].cache;
    assert_int_equal(c->enabled, 1);
    assert_int_equal(c->default_ttl, 60 * 1000);
    assert_int_equal(c->min_ttl, 0);
    assert_int_equal(c->max_ttl, DAY);
    assert_int_equal(c->key.query, EF_CONF_KEY_QUERY_ALL);
    assert_null(c->key.query_names);
    assert_int_equal(c->key.num_query_names, 0);
    /* header names are stored lower-case, cookie names as written: they are case-sensitive */
    assert_int_equal(c->key.num_headers, 3);
    assert_string_equal(c->key.headers[0], "accept-language");
    assert_string_equal(c->key.headers[1], "x-device");
    assert_string_equal(c->key.headers[2], "accept-encoding");
    assert_int_equal(c->key.num_cookies, 3);
    assert_string_equal(c->key.cookies[0], "session");
    assert_string_equal(c->key.cookies[1], "Session");
    assert_string_equal(c->key.cookies[2], "__Host-id");

    c = &conf.behaviors[1].cache;
    assert_int_equal(c->enabled, 1);
    assert_int_equal(c->default_ttl, DAY);
    assert_int_equal(c->min_ttl, 5 * 60 * 1000);
    assert_int_equal(c->max_ttl, 365 * DAY);
    assert_int_equal(c->key.query, EF_CONF_KEY_QUERY_LIST);
    /* query parameter names as written, case and all */
    assert_int_equal(c->key.num_query_names, 4);
    assert_string_equal(c->key.query_names[0], "page");
    assert_string_equal(c->key.query_names[1], "Page");
    assert_string_equal(c->key.query_names[2], "a.b[]");
    assert_string_equal(c->key.query_names[3], "%41");
    assert_int_equal(c->key.num_headers, 0);
    assert_int_equal(c->key.num_cookies, 0);

    assert_int_equal(conf.behaviors[2].cache.key.query, EF_CONF_KEY_QUERY_NONE);
    /* [] and an empty value are no names */
    c = &conf.behaviors[3].cache;
    assert_int_equal(c->key.query, EF_CONF_KEY_QUERY_NONE);
    assert_null(c->key.query_names);
    assert_null(c->key.headers);
    assert_null(c->key.cookies);
    assert_int_equal(conf.behaviors[4].cache.key.query, EF_CONF_KEY_QUERY_NONE);

    /* 0 everywhere: cached, and always revalidated */
    c = &conf.behaviors[5].cache;
    assert_int_equal(c->enabled, 1);
    assert_int_equal(c->default_ttl, 0);
    assert_int_equal(c->min_ttl, 0);
    assert_int_equal(c->max_ttl, 0);
    ef_conf_dispose(&conf);

    /* the limits themselves are fine: memory 1MB-64GB, max-object-size 1KB up to memory, ttls up to 36500d, 10 names */
    parse_valid(&conf, LISTEN "origins: { app: { url: \"http://a\" } }\n"
                              "cache: { memory: 1MB, max-object-size: 1MB }\n"
                              "behaviors:\n"
                              "  - path: /*\n"
                              "    origin: app\n"
                              "    cache:\n"
                              "      default-ttl: 36500d\n"
                              "      min-ttl: 36500d\n"
                              "      max-ttl: 36500d\n"
                              "      key:\n"
                              "        query: [a, b, c, d, e, f, g, h, i, j]\n"
                              "        headers: [a, b, c, d, e, f, g, h, i, \"!#$%&'*+-.^_`|~09AZaz\"]\n"
                              "        cookies: [a, b, c, d, e, f, g, h, i, j]\n");
    assert_int_equal(conf.cache.memory, UINT64_C(1) << 20);
    assert_int_equal(conf.cache.max_object_size, UINT64_C(1) << 20);
    c = &conf.behaviors[0].cache;
    assert_int_equal(c->default_ttl, 36500 * DAY);
    assert_int_equal(c->min_ttl, 36500 * DAY);
    assert_int_equal(c->max_ttl, 36500 * DAY);
    assert_int_equal(c->key.num_query_names, 10);
    assert_int_equal(c->key.num_headers, 10);
    assert_string_equal(c->key.headers[9], "!#$%&'*+-.^_`|~09azaz");
    assert_int_equal(c->key.num_cookies, 10);
    ef_conf_dispose(&conf);

    parse_valid(&conf, LISTEN TAIL "cache: { memory: 64GB, max-object-size: 1KB }\n");
    assert_int_equal(conf.cache.memory, UINT64_C(64) << 30);
    assert_int_equal(conf.cache.max_object_size, UINT64_C(1) << 10);
    ef_conf_dispose(&conf);

    parse_valid(&conf, LISTEN TAIL "cache:\n");
    assert_int_equal(conf.cache.memory, UINT64_C(256) << 20);
    assert_int_equal(conf.cache.max_object_size, UINT64_C(10) << 20);
    ef_conf_dispose(&conf);

    /* max-object-size may come first, and equal the default memory */
    parse_valid(&conf, LISTEN TAIL "cache:\n  max-object-size: 256MB\n");
    assert_int_equal(conf.cache.memory, UINT64_C(256) << 20);
    assert_int_equal(conf.cache.max_object_size, UINT64_C(256) << 20);
    ef_conf_dispose(&conf);
    parse_valid(&conf, LISTEN TAIL "cache: { max-object-size: 2MB, memory: 2MB }\n");
    assert_int_equal(conf.cache.memory, UINT64_C(2) << 20);
    assert_int_equal(conf.cache.max_object_size, UINT64_C(2) << 20);
    ef_conf_dispose(&conf);
}

static void test_bad_cache_memory(void **state)
{
    assert_errors(LISTEN TAIL "cache: 256MB\n", "edgefn.yaml:6:8: cache: expected a mapping, found \"256MB\"\n");
    assert_errors(LISTEN TAIL "cache:\n"
                              "  memory: 512KB\n"
                              "  max-object-size: 1023B\n"
                              "  default-ttl: 1d\n",
                  "edgefn.yaml:7:11: cache.memory: must be 1MB-64GB, found \"512KB\"\n"
                  "edgefn.yaml:8:20: cache.max-object-size: must be 1KB-64GB, found \"1023B\"\n"
                  "edgefn.yaml:9:3: unknown key \"default-ttl\" in cache (expected one of: memory, max-object-size)\n");
    assert_errors(LISTEN TAIL "cache: { memory: 65GB, max-object-size: 65GB }\n",
                  "edgefn.yaml:6:18: cache.memory: must be 1MB-64GB, found \"65GB\"\n"
                  "edgefn.yaml:6:41: cache.max-object-size: must be 1KB-64GB, found \"65GB\"\n");
    assert_errors(LISTEN TAIL "cache: { memory: 0, max-object-size: 1 MB, memroy: 1MB }\n",
                  "edgefn.yaml:6:18: cache.memory: must be greater than 0, found \"0\"\n"
                  "edgefn.yaml:6:38: cache.max-object-size: invalid size \"1 MB\": expected an integer followed by B, KB, MB or "
                  "GB, like 512KB or 100MB\n"
                  "edgefn.yaml:6:44: unknown key \"memroy\" in cache; did you mean \"memory\"?\n");
    assert_errors(LISTEN TAIL "cache: { memory: [1MB], max-object-size: {} }\n",
                  "edgefn.yaml:6:18: cache.memory: expected a scalar, found a sequence\n"
                  "edgefn.yaml:6:42: cache.max-object-size: expected a scalar, found a mapping\n");
}

static void test_bad_max_object_size(void **state)
{
    /* above memory, given before or after it, or above the default memory */
    assert_errors(LISTEN TAIL "cache:\n"
                              "  memory: 1MB\n"
                              "  max-object-size: 2MB\n",
                  "edgefn.yaml:8:20: cache.max-object-size: 2MB is more than cache.memory, 1MB\n");
    assert_errors(LISTEN TAIL "cache: { max-object-size: 1025KB, memory: 1MB }\n",
                  "edgefn.yaml:6:27: cache.max-object-size: 1025KB is more than cache.memory, 1MB\n");
    assert_errors(LISTEN TAIL "cache: { max-object-size: 257MB }\n",
                  "edgefn.yaml:6:27: cache.max-object-size: 257MB is more than cache.memory, 256MB (the default)\n");
    /* a memory below the default max-object-size says so at the memory */
    assert_errors(LISTEN TAIL "cache: { memory: 4MB }\n",
                  "edgefn.yaml:6:18: cache.memory: 4MB is less than cache.max-object-size, 10MB (the default)\n");
    /* an invalid memory is not compared with anything */
    assert_errors(LISTEN TAIL "cache: { memory: 1TB, max-object-size: 1GB }\n",
                  "edgefn.yaml:6:18: cache.memory: invalid size \"1TB\": unknown unit; expected B, KB, MB or GB (or KiB, MiB, "
                  "GiB)\n");
    assert_errors(LISTEN TAIL "cache: { memory: 0, max-object-size: 1GB }\n",
                  "edgefn.yaml:6:18: cache.memory: must be greater than 0, found \"0\"\n");
}

/* a config whose one behavior has `cache` (the text of a flow mapping) on line 4, from column 37 */
#define CACHE_BEHAVIOR(cache)                                                                                                      \
    LISTEN "origins: { app: { url: \"http://a\" } }\nbehaviors:\n  - { path: /*, origin: app, cache: " cache " }\n"

static void test_bad_cache_ttl(void **state)
{
    assert_errors(CACHE_BEHAVIOR("yes"), "edgefn.yaml:4:37: cache: expected a mapping, found \"yes\"\n");
    assert_errors(LISTEN "origins: { app: { url: \"http://a\" } }\n"
                         "behaviors:\n"
                         "  - path: /img/*\n"
                         "    origin: app\n"
                         "    cache:\n"
                         "      default-ttl: 60\n"
                         "      min-ttl: -1s\n"
                         "      max-ttl: 36501d\n"
                         "      max-age: 1d\n"
                         "      memory: 1MB\n",
                  "edgefn.yaml:7:20: cache.default-ttl: invalid duration \"60\": missing unit; expected ms, s, m, h or d after "
                  "the number, like 5s\n"
                  "edgefn.yaml:8:16: cache.min-ttl: invalid duration \"-1s\": expected an integer without a sign, like 5s\n"
                  "edgefn.yaml:9:16: cache.max-ttl: must be at most 36500d, found \"36501d\"\n"
                  "edgefn.yaml:10:7: unknown key \"max-age\" in cache of behavior \"/img/*\" (expected one of: default-ttl, "
                  "min-ttl, max-ttl, key)\n"
                  "edgefn.yaml:11:7: unknown key \"memory\" in cache of behavior \"/img/*\" (expected one of: default-ttl, "
                  "min-ttl, max-ttl, key)\n");
    assert_errors(CACHE_BEHAVIOR("{ default-ttl: [1s], min-ttl: {}, key: all }"),
                  "edgefn.yaml:4:52: cache.default-ttl: expected a scalar, found a sequence\n"
                  "edgefn.yaml:4:67: cache.min-ttl: expected a scalar, found a mapping\n"
                  "edgefn.yaml:4:76: cache.key: expected a mapping, found \"all\"\n");
}

static void test_bad_ttl_order(void **state)
{
    /* min-ttl <= default-ttl <= max-ttl, each given or not */
    assert_errors(CACHE_BEHAVIOR("{ default-ttl: 60s, min-ttl: 2m }"),
                  "edgefn.yaml:4:66: cache.min-ttl: 2m is more than cache.default-ttl, 60s\n");
    assert_errors(CACHE_BEHAVIOR("{ min-ttl: 2d }"), "edgefn.yaml:4:48: cache.min-ttl: 2d is more than cache.default-ttl, 1d (the "
                                                     "default)\n");
    assert_errors(CACHE_BEHAVIOR("{ default-ttl: 2d, max-ttl: 1d }"),
                  "edgefn.yaml:4:52: cache.default-ttl: 2d is more than cache.max-ttl, 1d\n");
    assert_errors(CACHE_BEHAVIOR("{ default-ttl: 366d }"),
                  "edgefn.yaml:4:52: cache.default-ttl: 366d is more than cache.max-ttl, 365d (the default)\n");
    assert_errors(CACHE_BEHAVIOR("{ max-ttl: 1h }"),
                  "edgefn.yaml:4:48: cache.max-ttl: 1h is less than cache.default-ttl, 1d (the default)\n");
    /* all three out of order: both pairs are reported */
    assert_errors(CACHE_BEHAVIOR("{ max-ttl: 1s, default-ttl: 2s, min-ttl: 3s }"),
                  "edgefn.yaml:4:65: cache.default-ttl: 2s is more than cache.max-ttl, 1s\n"
                  "edgefn.yaml:4:78: cache.min-ttl: 3s is more than cache.default-ttl, 2s\n");
    /* a ttl that is invalid is reported once, and compared with nothing */
    assert_errors(CACHE_BEHAVIOR("{ max-ttl: 1h, default-ttl: soon, min-ttl: 2d }"),
                  "edgefn.yaml:4:65: cache.default-ttl: invalid duration \"soon\": " DURATION_EXPECTED "\n");
    assert_errors(CACHE_BEHAVIOR("{ max-ttl: forever, min-ttl: 2d }"),
                  "edgefn.yaml:4:48: cache.max-ttl: invalid duration \"forever\": " DURATION_EXPECTED "\n"
                  "edgefn.yaml:4:66: cache.min-ttl: 2d is more than cache.default-ttl, 1d (the default)\n");
    /* block style: at the value of the key that is out of order */
    assert_errors(LISTEN "origins: { app: { url: \"http://a\" } }\n"
                         "behaviors:\n"
                         "  - path: /a\n"
                         "    origin: app\n"
                         "    cache:\n"
                         "      max-ttl: 10m\n"
                         "      default-ttl: 1h\n"
                         "  - path: /b\n"
                         "    origin: app\n"
                         "    cache:\n"
                         "      min-ttl: 1h\n"
                         "      default-ttl: 10m\n",
                  "edgefn.yaml:8:20: cache.default-ttl: 1h is more than cache.max-ttl, 10m\n"
                  "edgefn.yaml:12:16: cache.min-ttl: 1h is more than cache.default-ttl, 10m\n");
}

static void test_bad_cache_key(void **state)
{
    assert_errors(CACHE_BEHAVIOR("{ key: { query: some, headers: accept, cookies: { a: b }, vary: [x] } }"),
                  "edgefn.yaml:4:53: cache.key.query: expected \"all\", \"none\" or a sequence of names, found \"some\"\n"
                  "edgefn.yaml:4:68: cache.key.headers: expected a sequence, found \"accept\"\n"
                  "edgefn.yaml:4:85: cache.key.cookies: expected a sequence, found a mapping\n"
                  "edgefn.yaml:4:95: unknown key \"vary\" in cache.key of behavior \"/*\" (expected one of: query, headers, "
                  "cookies)\n");
    assert_errors(CACHE_BEHAVIOR("{ key: { query: { a: 1 }, Query: all, header: [a] } }"),
                  "edgefn.yaml:4:53: cache.key.query: expected \"all\", \"none\" or a sequence of names, found a mapping\n"
                  "edgefn.yaml:4:63: unknown key \"Query\" in cache.key of behavior \"/*\"; did you mean \"query\"?\n"
                  "edgefn.yaml:4:75: unknown key \"header\" in cache.key of behavior \"/*\"; did you mean \"headers\"?\n");
    /* "All" and "NONE" are names only in lower case */
    assert_errors(CACHE_BEHAVIOR("{ key: { query: All } }"),
                  "edgefn.yaml:4:53: cache.key.query: expected \"all\", \"none\" or a sequence of names, found \"All\"\n");
}

static void test_bad_cache_key_names(void **state)
{
    assert_errors(LISTEN "origins: { app: { url: \"http://a\" } }\n"
                         "behaviors:\n"
                         "  - path: /*\n"
                         "    origin: app\n"
                         "    cache:\n"
                         "      key:\n"
                         "        headers: [Accept, \"x device\", \"\", [a], X-Device, accept, \"x:y\", \"\\u00e9\"]\n"
                         "        cookies:\n"
                         "          - session\n"
                         "          - Session\n"
                         "          - \"a=b\"\n"
                         "          -\n"
                         "          - { a: b }\n"
                         "          - session\n"
                         "        query: [a, \"b c\", \"d&e\", \"f=g\", \"h#\", \"\", A, a, \"\\t\"]\n",
                  "edgefn.yaml:8:27: cache.key.headers: invalid header name \"x device\": use letters, digits and "
                  "!#$%&'*+-.^_`|~ (an HTTP token)\n"
                  "edgefn.yaml:8:39: cache.key.headers: expected a header name, found an empty value\n"
                  "edgefn.yaml:8:43: cache.key.headers: expected a header name, found a sequence\n"
                  "edgefn.yaml:8:58: cache.key.headers: duplicate header \"accept\" (first listed on line 8, column 19)\n"
                  "edgefn.yaml:8:66: cache.key.headers: invalid header name \"x:y\": use letters, digits and !#$%&'*+-.^_`|~ "
                  "(an HTTP token)\n"
                  "edgefn.yaml:8:73: cache.key.headers: invalid header name \"\xc3\xa9\": use letters, digits and "
                  "!#$%&'*+-.^_`|~ (an HTTP token)\n"
                  "edgefn.yaml:12:13: cache.key.cookies: invalid cookie name \"a=b\": use letters, digits and !#$%&'*+-.^_`|~ "
                  "(an HTTP token)\n"
                  "edgefn.yaml:13:12: cache.key.cookies: expected a cookie name, found an empty value\n"
                  "edgefn.yaml:14:13: cache.key.cookies: expected a cookie name, found a mapping\n"
                  "edgefn.yaml:15:13: cache.key.cookies: duplicate cookie \"session\" (first listed on line 10, column 13)\n"
                  "edgefn.yaml:16:20: cache.key.query: invalid query parameter name \"b c\": use no spaces, control "
                  "characters, \"&\", \"=\" or \"#\"\n"
                  "edgefn.yaml:16:27: cache.key.query: invalid query parameter name \"d&e\": use no spaces, control "
                  "characters, \"&\", \"=\" or \"#\"\n"
                  "edgefn.yaml:16:34: cache.key.query: invalid query parameter name \"f=g\": use no spaces, control "
                  "characters, \"&\", \"=\" or \"#\"\n"
                  "edgefn.yaml:16:41: cache.key.query: invalid query parameter name \"h#\": use no spaces, control "
                  "characters, \"&\", \"=\" or \"#\"\n"
                  "edgefn.yaml:16:47: cache.key.query: expected a query parameter name, found an empty value\n"
                  "edgefn.yaml:16:54: cache.key.query: duplicate query parameter \"a\" (first listed on line 16, column 17)\n"
                  "edgefn.yaml:16:57: cache.key.query: invalid query parameter name \"\\t\": use no spaces, control "
                  "characters, \"&\", \"=\" or \"#\"\n");
    /* more than 10 (CloudFront's limit), said once at the list; the names are checked all the same */
    assert_errors(CACHE_BEHAVIOR("{ key: { headers: [a, b, c, d, e, f, g, h, i, j, k, a] } }"),
                  "edgefn.yaml:4:55: cache.key.headers: at most 10 names, found 12 (CloudFront's limit)\n"
                  "edgefn.yaml:4:89: cache.key.headers: duplicate header \"a\" (first listed on line 4, column 56)\n");
    assert_errors(
        CACHE_BEHAVIOR("{ key: { cookies: [a, b, c, d, e, f, g, h, i, j, k], query: [a, b, c, d, e, f, g, h, i, j, k] } }"),
        "edgefn.yaml:4:55: cache.key.cookies: at most 10 names, found 11 (CloudFront's limit)\n"
        "edgefn.yaml:4:97: cache.key.query: at most 10 names, found 11 (CloudFront's limit)\n");
    assert_errors(CACHE_BEHAVIOR("{ key: { query: [\"a\\0b\"] } }"),
                  "edgefn.yaml:4:54: cache.key.query: must not contain a NUL character\n");
}

static void test_cache_errors_in_several_behaviors(void **state)
{
    /* each behavior's messages name it; the top-level section's and the behaviors' are in file order */
    assert_errors(LISTEN "origins: { app: { url: \"http://a\" } }\n"
                         "behaviors:\n"
                         "  - { path: /a, origin: app, cache: { ttl: 1s } }\n"
                         "  - { origin: app, cache: { key: { cookie: [a] } } }\n"
                         "  - { path: /c, origin: app, cache: { key: { query: [x, x] } } }\n"
                         "cache: { memory: 1KB }\n",
                  "edgefn.yaml:4:39: unknown key \"ttl\" in cache of behavior \"/a\" (expected one of: default-ttl, min-ttl, "
                  "max-ttl, key)\n"
                  "edgefn.yaml:5:5: missing required key \"path\" in behavior 2\n"
                  "edgefn.yaml:5:36: unknown key \"cookie\" in cache.key of behavior 2; did you mean \"cookies\"?\n"
                  "edgefn.yaml:6:57: cache.key.query: duplicate query parameter \"x\" (first listed on line 6, column 54)\n"
                  "edgefn.yaml:7:18: cache.memory: must be 1MB-64GB, found \"1KB\"\n");
}

static void test_async(void **state)
{
    ef_conf_t conf;

    /* the defaults: Lambda's */
    parse_valid(&conf, LISTEN TAIL "functions: { f: { runtime: lua, code: functions/security-headers.lua } }\n");
    assert_null(conf.async.queue_directory);
    assert_int_equal(conf.async.retry_delay, 60 * 1000);
    assert_int_equal(conf.async.concurrency, 16);
    assert_int_equal(conf.async.max_queued, 100000);
    assert_int_equal(conf.functions[0].async.retries, 2);
    assert_int_equal(conf.functions[0].async.max_event_age, 6 * 3600 * 1000);
    assert_null(conf.functions[0].async.on_failure);
    ef_conf_dispose(&conf);

    parse_valid(&conf, LISTEN TAIL "async: { queue-directory: function-logs, retry-delay: 250ms, concurrency: 4, max-queued: 10 }\n"
                                   "functions:\n"
                                   "  f:\n"
                                   "    runtime: lua\n"
                                   "    code: functions/security-headers.lua\n"
                                   "    async: { retries: 0, max-event-age: 90s, on-failure: function-logs/ }\n");
    assert_string_equal(conf.async.queue_directory, DATA "/function-logs");
    assert_int_equal(conf.async.retry_delay, 250);
    assert_int_equal(conf.async.concurrency, 4);
    assert_int_equal(conf.async.max_queued, 10);
    assert_int_equal(conf.functions[0].async.retries, 0);
    assert_int_equal(conf.functions[0].async.max_event_age, 90 * 1000);
    assert_string_equal(conf.functions[0].async.on_failure, DATA "/function-logs");
    ef_conf_dispose(&conf);

    assert_errors(LISTEN TAIL "async: { queue-directory: nowhere, retry-delay: 0, concurrency: 0, max-queued: -1, retries: 2 }\n",
                  "edgefn.yaml:6:27: async.queue-directory: cannot read \"" DATA "/nowhere\": No such file or directory\n"
                  "edgefn.yaml:6:49: async.retry-delay: must be greater than 0, found \"0\"\n"
                  "edgefn.yaml:6:65: async.concurrency: 0 is out of range (1-1024)\n"
                  "edgefn.yaml:6:80: async.max-queued: expected an integer 1-10000000, found \"-1\"\n"
                  "edgefn.yaml:6:84: unknown key \"retries\" in async (expected one of: queue-directory, retry-delay, "
                  "concurrency, max-queued)\n");
    assert_errors(LISTEN TAIL "functions:\n"
                              "  f:\n"
                              "    runtime: lua\n"
                              "    code: functions/security-headers.lua\n"
                              "    async: { retries: 3, max-event-age: 7h, on-failure: nowhere }\n",
                  "edgefn.yaml:10:23: async.retries: 3 is out of range (0-2)\n"
                  "edgefn.yaml:10:41: async.max-event-age: at most 6h (Lambda's most), found \"7h\"\n"
                  "edgefn.yaml:10:57: async.on-failure: cannot read \"" DATA "/nowhere\": No such file or directory\n");
}

static void test_dispose(void **state)
{
    ef_conf_t conf;
    ef_conf_errors_t errors;

    /* zeroed, twice, and after a failed load: nothing to free is fine, and ASan sees no leak */
    memset(&conf, 0, sizeof(conf));
    ef_conf_dispose(&conf);
    ef_conf_dispose(&conf);
    memset(&errors, 0, sizeof(errors));
    ef_conf_errors_dispose(&errors);
    assert_int_equal(parse(&conf, "listen: [1, 1]\norigins: { a: { url: \"http://a\" }, b: x }\nbehaviors: [ 1 ]\n", &errors), -1);
    ef_conf_dispose(&conf);
    assert_null(conf.listen);
    assert_null(conf.file);
    /* functions that fail at every stage, with what each had allocated by then */
    assert_int_equal(parse(&conf,
                           LISTEN TAIL
                           "functions:\n"
                           "  a: { runtime: lua, code: functions/auth, handler: lib.missing.check, memory: 0 }\n"
                           "  b: { runtime: nodejs, code: functions/auth, handler: x }\n"
                           "  c: { runtime: lua, code: functions/security-headers.lua, handler: a.b }\n"
                           "  d: { runtime: nodejs, code: functions/node, environment: { A: b, 1B: c, C: d }, memory: 1MB }\n"
                           "  e: { runtime: python, code: functions/python, environment: { A: b }, handler: x.y }\n"
                           "  f: { runtime: provided, code: functions/provided-noexec, environment: { A: [b] } }\n"
                           "  g: { runtime: lua, code: functions/security-headers.lua, environment: { A: b } }\n"
                           "  a: { runtime: lua }\n"
                           "function-logs: missing\n",
                           &errors),
                     -1);
    ef_conf_dispose(&conf);
    assert_null(conf.functions);
    assert_int_equal(conf.num_functions, 0);
    assert_null(conf.function_logs.dir);
    ef_conf_errors_dispose(&errors);
    /* cache key lists, whole, cut short by a bad name, and given twice (the second is reported, not read) */
    assert_int_equal(
        parse(&conf,
              LISTEN "origins: { app: { url: \"http://a\" } }\n"
                     "behaviors:\n"
                     "  - { path: /a, origin: app, cache: { key: { query: [a, b], headers: [A, b], cookies: [c] } } }\n"
                     "  - { path: /b, origin: app, cache: { key: { query: [a, a], headers: [x, \"y z\"], cookies: [c, {}] } } }\n"
                     "  - { path: /c, origin: app, cache: { key: { query: [a], query: [b] } } }\n"
                     "  - { path: /d, origin: app, cache: { key: { query: [a], headers: [b] }, key: {} } }\n"
                     "  - { path: /e, origin: app, cache: { key: { query: [a] } }, cache: {} }\n"
                     "  - { path: /f, origin: app, cache: { key: { query: [a, b, c, d, e, f, g, h, i, j, k] } } }\n",
              &errors),
        -1);
    assert_int_equal(conf.behaviors[0].cache.key.num_query_names, 2);
    assert_int_equal(conf.behaviors[1].cache.key.num_query_names, 1);
    assert_int_equal(conf.behaviors[1].cache.key.num_headers, 1);
    assert_int_equal(conf.behaviors[1].cache.key.num_cookies, 1);
    assert_int_equal(conf.behaviors[5].cache.key.num_query_names, 11);
    ef_conf_dispose(&conf);
    assert_null(conf.behaviors);
    ef_conf_errors_dispose(&errors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_config),
        cmocka_unit_test(test_load_relative_path),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_listen_forms),
        cmocka_unit_test(test_admin_forms),
        cmocka_unit_test(test_url_forms),
        cmocka_unit_test(test_path_patterns),
        cmocka_unit_test(test_scalar_forms),
        cmocka_unit_test(test_anchors_and_aliases),
        cmocka_unit_test(test_function_forms),
        cmocka_unit_test(test_function_hooks),
        cmocka_unit_test(test_nodejs_function_forms),
        cmocka_unit_test(test_python_function_forms),
        cmocka_unit_test(test_provided_function_forms),
        cmocka_unit_test(test_process_function_settings),
        cmocka_unit_test(test_function_logs_forms),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_wrong_node_type),
        cmocka_unit_test(test_bad_duration),
        cmocka_unit_test(test_bad_size),
        cmocka_unit_test(test_bad_integer),
        cmocka_unit_test(test_bad_boolean),
        cmocka_unit_test(test_bad_address),
        cmocka_unit_test(test_missing_certificate),
        cmocka_unit_test(test_incomplete_tls),
        cmocka_unit_test(test_undefined_origin),
        cmocka_unit_test(test_url_and_directory),
        cmocka_unit_test(test_bad_directory),
        cmocka_unit_test(test_https_url),
        cmocka_unit_test(test_bad_url),
        cmocka_unit_test(test_bad_path_pattern),
        cmocka_unit_test(test_bad_access_log),
        cmocka_unit_test(test_bad_admin),
        cmocka_unit_test(test_unknown_runtime),
        cmocka_unit_test(test_missing_function_keys),
        cmocka_unit_test(test_missing_code),
        cmocka_unit_test(test_missing_handler_module),
        cmocka_unit_test(test_bad_handler),
        cmocka_unit_test(test_bad_function_name),
        cmocka_unit_test(test_duplicate_function),
        cmocka_unit_test(test_undefined_function),
        cmocka_unit_test(test_bad_function_limits),
        cmocka_unit_test(test_process_code_is_a_directory),
        cmocka_unit_test(test_missing_process_module),
        cmocka_unit_test(test_bad_process_handler),
        cmocka_unit_test(test_bad_bootstrap),
        cmocka_unit_test(test_bad_process_limits),
        cmocka_unit_test(test_bad_concurrency),
        cmocka_unit_test(test_bad_environment),
        cmocka_unit_test(test_keys_of_the_other_kind),
        cmocka_unit_test(test_bad_function_logs),
        cmocka_unit_test(test_missing_required_keys),
        cmocka_unit_test(test_empty_sections),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_duplicate_listener),
        cmocka_unit_test(test_yaml_syntax_error),
        cmocka_unit_test(test_not_one_document),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_several_errors_in_order),
        cmocka_unit_test(test_quoting_in_messages),
        cmocka_unit_test(test_conf_error),
        cmocka_unit_test(test_errors_are_appended),
        cmocka_unit_test(test_cache_defaults),
        cmocka_unit_test(test_cache_forms),
        cmocka_unit_test(test_bad_cache_memory),
        cmocka_unit_test(test_bad_max_object_size),
        cmocka_unit_test(test_bad_cache_ttl),
        cmocka_unit_test(test_bad_ttl_order),
        cmocka_unit_test(test_bad_cache_key),
        cmocka_unit_test(test_bad_cache_key_names),
        cmocka_unit_test(test_cache_errors_in_several_behaviors),
        cmocka_unit_test(test_async),
        cmocka_unit_test(test_dispose),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
