/*
 * http_url.h — the one syntax of a socket address as leakbench's users
 * write it: "HOST:PORT" (a name or an IPv4 address), "[IPV6]:PORT" and
 * "unix:PATH".
 *
 * This is the syntax alone, with no DNS: the spec loader checks a target's
 * `url` with it (`leakbench validate` must not wait for a resolver), and
 * harness/run/netaddr.c splits the same text with it before resolving the
 * host and building a sockaddr.  A target's port is 1-65535; 0 ("any free
 * port") is allowed only where the caller listens.
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

/* Splits text into out.  min_port is 1 for an address to connect to, 0
 * where port 0 means "any free port".  0, or -EINVAL with the reason alone
 * in err (n bytes; what is wrong, not the text: callers prefix the field
 * or option). */
int lb_addr_syntax_parse(const char *text, int min_port, lb_http_url *out, char *err, size_t n);

/* A target's address (min_port 1); the message quotes the text and says
 * which forms are expected. */
int lb_http_url_parse(const char *text, lb_http_url *out, char *err, size_t n);

#endif
