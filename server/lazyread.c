/*
 * Replaces h2o_socket_read_stop and h2o_socket_read_start; see lazyread.h for why.
 *
 * A stopped socket keeps its epoll registration; its read callback becomes
 * on_lazy_wakeup and H2O_SOCKET_FLAG_DONT_READ is set, so that if epoll reports it
 * readable, the evloop calls on_lazy_wakeup without reading anything into
 * sock->input (which an HTTP/1 request's headers still point into). on_lazy_wakeup
 * then stops the socket for real. Starting a lazily stopped socket clears the flag
 * and finds the registration still in place: no epoll_ctl.
 *
 * This leans on three facts of libh2o 2.2.5's evloop, checked by
 * tests/unit/server/test_lazyread.c: the library calls these two functions through
 * its PLT, a socket's epoll interest follows h2o_socket_is_reading() (a non-NULL read
 * callback), and DONT_READ makes the loop notify without reading.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <h2o.h>
#include "server/lazyread.h"

static void (*real_read_start)(h2o_socket_t *sock, h2o_socket_cb cb);
static void (*real_read_stop)(h2o_socket_t *sock);

static void resolve(void)
{
    /* RTLD_NEXT: the definitions after ours in lookup order, i.e. libh2o's */
    real_read_start = (void (*)(h2o_socket_t *, h2o_socket_cb))dlsym(RTLD_NEXT, "h2o_socket_read_start");
    real_read_stop = (void (*)(h2o_socket_t *))dlsym(RTLD_NEXT, "h2o_socket_read_stop");
    if (real_read_start == NULL || real_read_stop == NULL)
        h2o_fatal("edgefn: libh2o-evloop does not define h2o_socket_read_start/stop");
}

static void on_lazy_wakeup(h2o_socket_t *sock, const char *err)
{
    /* readable while stopped: drop the registration now, as a real stop would have */
    h2o_socket_dont_read(sock, 0);
    real_read_stop(sock);
}

void h2o_socket_read_stop(h2o_socket_t *sock)
{
    if (sock->_cb.read == NULL || sock->_cb.read == on_lazy_wakeup)
        return;
    if (real_read_stop == NULL)
        resolve();
    sock->_cb.read = on_lazy_wakeup;
    h2o_socket_dont_read(sock, 1);
}

void h2o_socket_read_start(h2o_socket_t *sock, h2o_socket_cb cb)
{
    if (real_read_start == NULL)
        resolve();
    if (sock->_cb.read == on_lazy_wakeup)
        h2o_socket_dont_read(sock, 0);
    real_read_start(sock, cb);
}

int ef_lazyread_init(void)
{
    resolve();
    /* the library resolves its calls in the global scope; if that finds libh2o's own
     * definition, our executable does not export ours and only our own calls are lazy */
    return dlsym(RTLD_DEFAULT, "h2o_socket_read_stop") == (void *)h2o_socket_read_stop ? 0 : -1;
}
