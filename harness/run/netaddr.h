/*
 * netaddr.h — the socket addresses leakbench listens on and connects to,
 * written one way everywhere (`leakbench serve --listen`, spec targets):
 *
 *   127.0.0.1:8080   an IPv4 address and port
 *   [::1]:8080       an IPv6 address in brackets and port
 *   localhost:8080   a host name, resolved (first address) when parsed
 *   unix:/path/sock  a Unix stream socket
 *
 * Port 0 means "any free port" when listening (lb_netaddr_local tells
 * which one the kernel picked).  Parsing never blocks on DNS for numeric
 * addresses.
 */
#ifndef LEAKBENCH_NETADDR_H
#define LEAKBENCH_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct lb_netaddr {
    struct sockaddr_storage ss;
    socklen_t len;
} lb_netaddr;

#define LB_NETADDR_TEXT_MAX 128

/* Parses text into out.  0, or -EINVAL with a one-line reason in err
 * (what is wrong, not the text itself: callers prefix the option/field). */
int lb_netaddr_parse(const char *text, lb_netaddr *out, char *err, size_t errlen);

/* Formats a in the syntax above ("127.0.0.1:8080", "[::1]:80", "unix:/p"). */
void lb_netaddr_format(const lb_netaddr *a, char *out, size_t n);

bool lb_netaddr_is_unix(const lb_netaddr *a);

/*
 * A listening socket on a (SO_REUSEADDR for TCP; close-on-exec;
 * blocking): the fd, or -errno (-EADDRINUSE for a port in use or an
 * existing Unix socket path, which is never removed).
 */
int lb_netaddr_listen(const lb_netaddr *a, int backlog);

/* The address a socket is bound to (the port the kernel picked for 0). */
int lb_netaddr_local(int fd, lb_netaddr *out);

#endif
