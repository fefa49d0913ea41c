/*
 * Lazy read-stop for h2o sockets.
 *
 * libh2o's HTTP/1 server stops reading a connection after parsing each request and
 * starts again after the response: an epoll_ctl DEL and an ADD per request, about a
 * tenth of a plain proxy's throughput (H2O-2.2.5.md section 8). With lazy read-stop,
 * h2o_socket_read_stop leaves the socket registered and only marks it: no read(2)
 * happens and the owner's callback is not called while it is stopped. If the socket
 * becomes readable meanwhile, the registration is really dropped then, once; a
 * socket that sees no traffic while stopped costs no system call at all.
 */
#ifndef EF_SERVER_LAZYREAD_H
#define EF_SERVER_LAZYREAD_H

/**
 * Resolves libh2o's own h2o_socket_read_start/_stop and makes sure that the library
 * calls ours (they replace the library's through its PLT). Returns 0, or -1 when
 * the replacement is not in effect (a library built with -Bsymbolic, or a static
 * one), in which case sockets behave exactly as libh2o makes them, only slower.
 * Call once at start-up, to learn whether the replacement is in effect.
 */
int ef_lazyread_init(void);

#endif
