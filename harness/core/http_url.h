/*
 * http_url.h — where an HTTP target listens, as a spec names it.
 *
 * Accepted forms: "HOST:PORT" or "http://HOST:PORT" (an optional trailing
 * "/"; HOST a name, an IPv4 address or a bracketed IPv6 address such as
 * "[::1]:8080") and "unix:PATH" or an absolute PATH for a Unix socket.
 * This is syntax only: the name is resolved when a run connects
 * (harness/run/http_load.c), so `leakbench validate` never touches the
 * network.
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
