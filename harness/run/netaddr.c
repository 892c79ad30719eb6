/*
 * netaddr.c — parsing, formatting and listening on leakbench's socket
 * addresses (syntax in netaddr.h).
 *
 * "unix:" selects AF_UNIX (the path must fit sun_path).  Otherwise the
 * text splits at its last ':' into host and port; a host in brackets is
 * IPv6.  Numeric hosts are converted with getaddrinfo(AI_NUMERICHOST);
 * other names are resolved with getaddrinfo once, at parse time.
 */
#include "netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -EINVAL;
}

static int parse_unix(const char *path, lb_netaddr *out, char *err, size_t errlen)
{
    struct sockaddr_un *un = (struct sockaddr_un *)&out->ss;
    if (!*path) return fail(err, errlen, "empty Unix socket path after 'unix:'");
    if (strlen(path) >= sizeof un->sun_path)
        return fail(err, errlen, "Unix socket path longer than 107 bytes");
    un->sun_family = AF_UNIX;
    strcpy(un->sun_path, path);
    out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
    return 0;
}

/* Splits "host:port" or "[v6]:port" into host (no brackets) and port. */
static int split_host_port(const char *text, char *host, size_t hostlen, long *port, char *err,
                           size_t errlen)
{
    const char *colon = strrchr(text, ':');
    if (!colon) return fail(err, errlen, "expected HOST:PORT, [IPV6]:PORT or unix:PATH");
    const char *h = text, *hend = colon;
    if (*h == '[') {
        if (hend == h || hend[-1] != ']') return fail(err, errlen, "unclosed '[' in IPv6 address");
        h++;
        hend--;
    } else if (memchr(text, ':', (size_t)(colon - text))) {
        return fail(err, errlen, "an IPv6 address needs brackets: [::1]:PORT");
    }
    if (hend == h) return fail(err, errlen, "missing host before ':'");
    if ((size_t)(hend - h) >= hostlen) return fail(err, errlen, "host name too long");
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = 0;
    char *end;
    errno = 0;
    *port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || errno || *port < 0 || *port > 65535)
        return fail(err, errlen, "port must be a number from 0 to 65535");
    return 0;
}

int lb_netaddr_parse(const char *text, lb_netaddr *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!text) return fail(err, errlen, "missing address");
    if (!strncmp(text, "unix:", 5)) return parse_unix(text + 5, out, err, errlen);
    char host[256];
    long port;
    int rc = split_host_port(text, host, sizeof host, &port, err, errlen);
    if (rc) return rc;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST},
                    *res = NULL;
    int gai = getaddrinfo(host, NULL, &hints, &res);
    if (gai == EAI_NONAME) {
        hints.ai_flags = 0; /* a name: resolve it */
        gai = getaddrinfo(host, NULL, &hints, &res);
    }
    if (gai != 0 || !res) {
        snprintf(err, errlen, "cannot resolve host '%s': %s", host, gai_strerror(gai));
        return -EINVAL;
    }
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    if (out->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&out->ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)&out->ss)->sin6_port = htons((uint16_t)port);
    return 0;
}

bool lb_netaddr_is_unix(const lb_netaddr *a)
{
    return a->ss.ss_family == AF_UNIX;
}

void lb_netaddr_format(const lb_netaddr *a, char *out, size_t n)
{
    char host[INET6_ADDRSTRLEN] = "?";
    switch (a->ss.ss_family) {
    case AF_UNIX:
        snprintf(out, n, "unix:%s", ((const struct sockaddr_un *)&a->ss)->sun_path);
        return;
    case AF_INET: {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, n, "%s:%u", host, ntohs(in->sin_port));
        return;
    }
    case AF_INET6: {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, n, "[%s]:%u", host, ntohs(in6->sin6_port));
        return;
    }
    default:
        snprintf(out, n, "(unknown address family %d)", a->ss.ss_family);
    }
}

int lb_netaddr_listen(const lb_netaddr *a, int backlog)
{
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (!lb_netaddr_is_unix(a)) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0 || listen(fd, backlog) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int lb_netaddr_local(int fd, lb_netaddr *out)
{
    memset(out, 0, sizeof *out);
    out->len = sizeof out->ss;
    if (getsockname(fd, (struct sockaddr *)&out->ss, &out->len) < 0) return -errno;
    return 0;
}
