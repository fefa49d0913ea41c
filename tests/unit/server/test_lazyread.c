/*
 * Lazy read-stop (server/lazyread.c) depends on how libh2o 2.2.5 behaves inside; these
 * tests fail if a new libh2o stops calling our replacements or changes the evloop in a
 * way the trick relies on. Registration is read from the kernel: /proc/self/fdinfo of
 * the loop's epoll descriptor lists every registered socket as "tfd: N".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <h2o.h>
#include "server/lazyread.h"

static int epoll_fd(void)
{
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *e;
    char path[300], target[64];
    int found = -1;

    while ((e = readdir(dir)) != NULL) {
        snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof(target) - 1);
        if (n > 0) {
            target[n] = '\0';
            if (strcmp(target, "anon_inode:[eventpoll]") == 0)
                found = atoi(e->d_name);
        }
    }
    closedir(dir);
    return found;
}

static int is_registered(int epfd, int fd)
{
    char path[64], line[256], want[32];
    FILE *fp;
    int found = 0;

    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
    snprintf(want, sizeof(want), "tfd: %8d", fd);
    fp = fopen(path, "r");
    while (fgets(line, sizeof(line), fp) != NULL)
        if (strncmp(line, want, strlen(want)) == 0)
            found = 1;
    fclose(fp);
    return found;
}

static int reads;

static void on_read(h2o_socket_t *sock, const char *err)
{
    ++reads;
}

struct fixture {
    h2o_evloop_t *loop;
    h2o_socket_t *sock;
    int fd;   /* the socket's */
    int peer; /* the other end */
    int epfd;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    int fds[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    f->loop = h2o_evloop_create();
    f->fd = fds[0];
    f->peer = fds[1];
    f->sock = h2o_evloop_socket_create(f->loop, f->fd, 0);
    f->epfd = epoll_fd();
    assert_int_not_equal(f->epfd, -1);
    reads = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    h2o_socket_close(f->sock);
    h2o_evloop_run(f->loop, 0);
    h2o_evloop_destroy(f->loop);
    close(f->peer);
    free(f);
    return 0;
}

static void test_replacement_is_in_effect(void **state)
{
    assert_int_equal(ef_lazyread_init(), 0);
}

static void test_stop_keeps_registration(void **state)
{
    struct fixture *f = *state;

    h2o_socket_read_start(f->sock, on_read);
    h2o_evloop_run(f->loop, 0);
    assert_true(is_registered(f->epfd, f->fd));

    /* a stop and a start with no traffic between them touch nothing in the kernel */
    h2o_socket_read_stop(f->sock);
    h2o_evloop_run(f->loop, 0);
    assert_true(is_registered(f->epfd, f->fd));
    h2o_socket_read_start(f->sock, on_read);
    h2o_evloop_run(f->loop, 0);
    assert_true(is_registered(f->epfd, f->fd));
    assert_int_equal(reads, 0);
}

static void test_data_while_stopped_is_not_read(void **state)
{
    struct fixture *f = *state;

    h2o_socket_read_start(f->sock, on_read);
    h2o_evloop_run(f->loop, 0);
    h2o_socket_read_stop(f->sock);
    assert_int_equal(write(f->peer, "hello", 5), 5);

    /* woken while stopped: nothing read into the buffer, the owner not called... */
    h2o_evloop_run(f->loop, 0);
    assert_int_equal(reads, 0);
    assert_int_equal(f->sock->input->size, 0);
    /* ...and the registration dropped when the loop next updates the kernel */
    h2o_evloop_run(f->loop, 0);
    assert_false(is_registered(f->epfd, f->fd));
    assert_false(h2o_socket_is_reading(f->sock));

    /* started again, the pending data arrives */
    h2o_socket_read_start(f->sock, on_read);
    h2o_evloop_run(f->loop, 0);
    assert_int_equal(reads, 1);
    assert_int_equal(f->sock->input->size, 5);
    assert_memory_equal(f->sock->input->bytes, "hello", 5);
}

static void test_close_while_stopped(void **state)
{
    struct fixture *f = *state;

    h2o_socket_read_start(f->sock, on_read);
    h2o_evloop_run(f->loop, 0);
    h2o_socket_read_stop(f->sock);
    shutdown(f->peer, SHUT_WR);
    h2o_evloop_run(f->loop, 0);
    assert_int_equal(reads, 0);
    /* the end of stream is reported once reading starts again */
    h2o_socket_read_start(f->sock, on_read);
    h2o_evloop_run(f->loop, 0);
    assert_int_equal(reads, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replacement_is_in_effect),
        cmocka_unit_test_setup_teardown(test_stop_keeps_registration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_while_stopped_is_not_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_while_stopped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
