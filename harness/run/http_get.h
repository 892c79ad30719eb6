/*
 * http_get.h — one blocking HTTP/1.1 GET with a deadline: how the probes
 * and the readiness check ask a target something.
 *
 * Opens a TCP connection, sends "GET PATH HTTP/1.1" with
 * "Connection: close", and reads the response through http_response.c
 * (llhttp) until it is whole, the body passes its limit, or the deadline
 * passes — connect, send and receive together never take longer than
 * timeout_ms.  The caller's thread blocks (poll on one socket); nothing is
 * left open on any return.
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

#endif
