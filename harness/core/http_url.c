/*
 * http_url.c — splits an HTTP target's address (see http_url.h).
 */
#include "http_url.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(char *err, size_t n, const char *what, const char *text)
{
    snprintf(err, n, "'%.200s': %s (expected HOST:PORT, http://HOST:PORT, unix:PATH or /PATH)",
             text, what);
    return -EINVAL;
}

int lb_http_url_parse(const char *text, lb_http_url *out, char *err, size_t n)
{
    memset(out, 0, sizeof *out);
    const char *p = text;
    if (!strncmp(p, "unix:", 5) || p[0] == '/') {
        if (p[0] != '/') p += 5;
        size_t len = strlen(p);
        if (len == 0) return bad(err, n, "empty socket path", text);
        if (len >= LB_UNIX_PATH_MAX) return bad(err, n, "socket path longer than 107 bytes", text);
        out->is_unix = true;
        memcpy(out->unix_path, p, len + 1);
        return 0;
    }
    if (!strncmp(p, "http://", 7))
        p += 7;
    else if (strstr(p, "://"))
        return bad(err, n, "only http:// is supported", text);
    const char *host = p, *host_end, *colon;
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end) return bad(err, n, "'[' without ']'", text);
        colon = host_end + 1;
        if (*colon != ':') return bad(err, n, "missing :PORT", text);
    } else {
        colon = strrchr(p, ':');
        if (!colon) return bad(err, n, "missing :PORT", text);
        host_end = colon;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0) return bad(err, n, "empty host", text);
    if (hlen >= sizeof out->host) return bad(err, n, "host name too long", text);
    for (const char *c = host; c < host_end; c++)
        if (*c <= ' ' || *c == '/' || *c == '{' || *c == '}' || (*c == ':' && *p != '['))
            return bad(err, n, "bad character in host", text);
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || (*end && strcmp(end, "/")) || port < 1 || port > 65535)
        return bad(err, n, "port must be 1-65535 (and a path other than / is not supported)", text);
    memcpy(out->host, host, hlen);
    out->port = (int)port;
    return 0;
}
