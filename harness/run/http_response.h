/*
 * http_response.h — one HTTP/1.1 response parsed with llhttp, fed in
 * pieces as they arrive from a socket.
 *
 * The one llhttp wrapper for responses in the harness (the probes' and
 * readiness checks' blocking GET in http_get.c is built on it; the load
 * engine can use it per connection too).  It never hand-parses HTTP: the
 * status line, headers, Content-Length, chunked bodies and keep-alive are
 * llhttp's.  The body is kept, up to a limit, or discarded.
 *
 *   lb_http_response r;
 *   lb_http_response_init(&r, 1 << 20);
 *   while ((rc = lb_http_response_feed(&r, buf, n, &used)) == 0) n = read(...);
 *   ... r.status, r.body, r.body_len, r.keep_alive ...
 *   lb_http_response_free(&r);
 */
#ifndef LEAKBENCH_HTTP_RESPONSE_H
#define LEAKBENCH_HTTP_RESPONSE_H

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct lb_http_response {
    llhttp_t parser;
    llhttp_settings_t settings;
    int status;      /* valid once the headers are complete (0 before) */
    bool complete;   /* the whole message has been parsed */
    bool keep_alive; /* the connection may carry another request */
    char *body;      /* NUL-terminated; NULL until the first body byte */
    size_t body_len;
    size_t max_body; /* bodies beyond this fail with -E2BIG; 0: discard the body */
    int error;       /* sticky: the first error feed returned */
} lb_http_response;

/* Prepares r for one response; max_body bytes of body are kept. */
void lb_http_response_init(lb_http_response *r, size_t max_body);

/*
 * Parses n more bytes.  Returns 1 when the response is complete (*used, if
 * not NULL, says how many of the n bytes belonged to it: the rest is what
 * the server sent after it), 0 when more is needed, -EBADMSG when llhttp
 * rejects the bytes (lb_http_response_reason says why), -E2BIG when the
 * body passes max_body, -ENOMEM.  After a non-zero return, feed returns
 * the same value again.
 */
int lb_http_response_feed(lb_http_response *r, const char *data, size_t n, size_t *used);

/* The connection was closed: 1 when that completes the response (a body
 * delimited by the close), -EBADMSG when the response was cut short. */
int lb_http_response_eof(lb_http_response *r);

/* llhttp's reason for the last -EBADMSG ("Invalid HTTP status code"...),
 * or "" when there was none. */
const char *lb_http_response_reason(const lb_http_response *r);

void lb_http_response_free(lb_http_response *r);

#endif
