/*
 * http_url.h — where an HTTP target listens, as a spec names it.
 *
 * The syntax of harness/run/netaddr.h, which parses (and resolves) the
 * same text when a run connects: "HOST:PORT" (a name or an IPv4 address),
 * "[IPV6]:PORT" and "unix:PATH".  This is the syntax alone, for the spec
 * loader: core/ cannot call run/, and `leakbench validate` must not wait
 * for DNS.  A target's port is 1-65535 (0 means "any" only when
 * listening).
 */
#ifndef LEAKBENCH_HTTP_URL_H
#define LEAKBENCH_HTTP_URL_H

#include <stdbool.h>
#include <stddef.h>

#define LB_UNIX_PATH_MAX 108 /* sizeof sockaddr_un.sun_path */

typedef struct lb_http_url {
    bool is_unix;
    char host[256];                   /* without brackets */
    int port;                         /* 1-65535 */
    char unix_path[LB_UNIX_PATH_MAX]; /* NUL-terminated */
} lb_http_url;

/* 0, or -EINVAL with a message in err (n bytes). */
int lb_http_url_parse(const char *text, lb_http_url *out, char *err, size_t n);

#endif
