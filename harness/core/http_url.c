/*
 * http_url.c — checks an HTTP target's address syntax (see http_url.h);
 * the rules follow harness/run/netaddr.c's split, which has the last word.
 */
#include "http_url.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(char *err, size_t n, const char *what, const char *text)
{
    snprintf(err, n, "'%.200s': %s (expected HOST:PORT, [IPV6]:PORT or unix:PATH)", text, what);
    return -EINVAL;
}

int lb_http_url_parse(const char *text, lb_http_url *out, char *err, size_t n)
{
    memset(out, 0, sizeof *out);
    if (!strncmp(text, "unix:", 5)) {
        size_t len = strlen(text + 5);
        if (len == 0) return bad(err, n, "empty socket path", text);
        if (len >= LB_UNIX_PATH_MAX) return bad(err, n, "socket path longer than 107 bytes", text);
        out->is_unix = true;
        memcpy(out->unix_path, text + 5, len + 1);
        return 0;
    }
    const char *colon = strrchr(text, ':');
    if (!colon) return bad(err, n, "missing :PORT", text);
    const char *host = text, *host_end = colon;
    if (*host == '[') {
        if (host_end == host || host_end[-1] != ']') return bad(err, n, "'[' without ']'", text);
        host++;
        host_end--;
    } else if (memchr(text, ':', (size_t)(colon - text))) {
        return bad(err, n, "an IPv6 address needs brackets", text);
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0) return bad(err, n, "empty host", text);
    if (hlen >= sizeof out->host) return bad(err, n, "host name too long", text);
    for (const char *c = host; c < host_end; c++)
        if (*c <= ' ' || strchr("/{}[]", *c)) return bad(err, n, "bad character in host", text);
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || port < 1 || port > 65535)
        return bad(err, n, "port must be a number from 1 to 65535", text);
    memcpy(out->host, host, hlen);
    out->port = (int)port;
    return 0;
}
