/*
 * http_get.h — one blocking HTTP/1.1 GET with a deadline: how the probes
 * and the readiness check ask a target something.
 *
 * Opens a TCP connection, sends "GET PATH HTTP/1.1", and reads the
 * response through http_response.c (llhttp) until it is whole, the body
 * passes its limit, or the deadline passes — connect, send and receive
 * together never take longer than timeout_ms.  The caller's thread blocks
 * (poll on one socket).
 *
 * lb_http_get sends "Connection: close" and leaves nothing open.
 * lb_http_get_on keeps the connection in an lb_http_conn for the next GET
 * when the server allows it (keep-alive), the way a probe that reads a
 * target every few ms should: a new connection per reading is itself a
 * task in the target (Go serves each connection in its own goroutine)
 * that can still be closing at the next reading.  A kept connection that
 * the server has closed meanwhile is reopened once, transparently.
 */
#ifndef LEAKBENCH_HTTP_GET_H
#define LEAKBENCH_HTTP_GET_H

#include "http_response.h"

#include <stdint.h>
#include <sys/socket.h>

/* A loopback address (127.0.0.1:port) for lb_http_get. */
void lb_http_loopback(int port, struct sockaddr_storage *addr, socklen_t *len);

/*
 * GETs path from addr; host is the Host header.  On 0 *out holds the
 * whole response (any status: the caller judges it) and must be freed
 * with lb_http_response_free; on error it is freed already.  Errors:
 * -ETIMEDOUT (the deadline passed), -ECONNREFUSED and other connect or
 * socket errors as -errno, -EBADMSG (llhttp rejected the response, or the
 * server closed before the end of it), -E2BIG (the body passed max_body),
 * -ENOMEM; err (n bytes) says which, in words.
 */
int lb_http_get(const struct sockaddr *addr, socklen_t addr_len, const char *host, const char *path,
                int timeout_ms, size_t max_body, lb_http_response *out, char *err, size_t n);

/* A connection kept between GETs to one address; fd -1 when none is open. */
typedef struct lb_http_conn {
    int fd;
} lb_http_conn;
#define LB_HTTP_CONN_INIT ((lb_http_conn){-1})
void lb_http_conn_close(lb_http_conn *c);

/* lb_http_get over c (NULL: as lb_http_get).  On any error c is closed. */
int lb_http_get_on(lb_http_conn *c, const struct sockaddr *addr, socklen_t addr_len,
                   const char *host, const char *path, int timeout_ms, size_t max_body,
                   lb_http_response *out, char *err, size_t n);

#endif
