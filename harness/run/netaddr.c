/*
 * netaddr.c — parsing, formatting and listening on leakbench's socket
 * addresses (syntax in netaddr.h).
 *
 * The text is split by core/http_url.c, the one address syntax (port 0
 * allowed: "any free port" when listening).  Numeric hosts are converted
 * with getaddrinfo(AI_NUMERICHOST); other names are resolved with
 * getaddrinfo once, at parse time.
 */
#include "netaddr.h"

#include "core/http_url.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

int lb_netaddr_parse(const char *text, lb_netaddr *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    lb_http_url parts;
    int rc = lb_addr_syntax_parse(text, 0, &parts, err, errlen);
    if (rc) return rc;
    if (parts.is_unix) {
        struct sockaddr_un *un = (struct sockaddr_un *)&out->ss;
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, parts.unix_path);
        out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(un->sun_path) + 1);
        return 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST},
                    *res = NULL;
    int gai = getaddrinfo(parts.host, NULL, &hints, &res);
    if (gai == EAI_NONAME) {
        hints.ai_flags = 0; /* a name: resolve it */
        gai = getaddrinfo(parts.host, NULL, &hints, &res);
    }
    if (gai != 0 || !res) {
        snprintf(err, errlen, "cannot resolve host '%s': %s", parts.host, gai_strerror(gai));
        return -EINVAL;
    }
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    if (out->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&out->ss)->sin_port = htons((uint16_t)parts.port);
    else
        ((struct sockaddr_in6 *)&out->ss)->sin6_port = htons((uint16_t)parts.port);
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
