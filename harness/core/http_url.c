/*
 * http_url.c — the socket address syntax (see http_url.h).
 *
 * "unix:" selects a Unix socket path (it must fit sun_path).  Otherwise
 * the text splits at its last ':' into host and port; a host in brackets
 * is IPv6, and an unbracketed host with a ':' is refused (an IPv6 address
 * without brackets is ambiguous).  The port is decimal.
 */
#include "http_url.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t n, const char *why)
{
    snprintf(err, n, "%s", why);
    return -EINVAL;
}

int lb_addr_syntax_parse(const char *text, int min_port, lb_http_url *out, char *err, size_t n)
{
    memset(out, 0, sizeof *out);
    if (!text) return fail(err, n, "missing address");
    if (!strncmp(text, "unix:", 5)) {
        size_t len = strlen(text + 5);
        if (len == 0) return fail(err, n, "empty Unix socket path after 'unix:'");
        if (len >= LB_UNIX_PATH_MAX) return fail(err, n, "Unix socket path longer than 107 bytes");
        out->is_unix = true;
        memcpy(out->unix_path, text + 5, len + 1);
        return 0;
    }
    const char *colon = strrchr(text, ':');
    if (!colon) return fail(err, n, "expected HOST:PORT, [IPV6]:PORT or unix:PATH");
    const char *host = text, *host_end = colon;
    if (*host == '[') {
        if (host_end == host || host_end[-1] != ']')
            return fail(err, n, "unclosed '[' in IPv6 address");
        host++;
        host_end--;
    } else if (memchr(text, ':', (size_t)(colon - text))) {
        return fail(err, n, "an IPv6 address needs brackets: [::1]:PORT");
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0) return fail(err, n, "missing host before ':'");
    if (hlen >= sizeof out->host) return fail(err, n, "host name too long");
    for (const char *c = host; c < host_end; c++)
        if (*c <= ' ' || strchr("/{}[]", *c)) return fail(err, n, "bad character in host");
    const char *digits = colon + 1;
    long port = -1;
    if (*digits >= '0' && *digits <= '9') {
        char *end;
        errno = 0;
        port = strtol(digits, &end, 10);
        if (*end || errno) port = -1;
    }
    if (port < min_port || port > 65535) {
        snprintf(err, n, "port must be a number from %d to 65535", min_port);
        return -EINVAL;
    }
    memcpy(out->host, host, hlen);
    out->port = (int)port;
    return 0;
}

int lb_http_url_parse(const char *text, lb_http_url *out, char *err, size_t n)
{
    char why[200];
    int rc = lb_addr_syntax_parse(text, 1, out, why, sizeof why);
    if (rc && !strncmp(why, "expected", 8))
        snprintf(err, n, "'%.200s': %s", text ? text : "", why);
    else if (rc)
        snprintf(err, n, "'%.200s': %s (expected HOST:PORT, [IPV6]:PORT or unix:PATH)",
                 text ? text : "", why);
    return rc;
}
