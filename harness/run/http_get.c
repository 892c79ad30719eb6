/*
 * http_get.c — a blocking GET with one deadline over connect, send and
 * receive.
 *
 * How it works: a non-blocking socket, connect() and then poll() for
 * writability until the deadline (the connect's result from SO_ERROR),
 * the request written in a loop that polls when the socket is full, then
 * recv() into a stack buffer fed to lb_http_response_feed until it
 * reports the response whole or an error; every poll waits only what is
 * left of timeout_ms.  EOF before the end is lb_http_response_eof's call
 * (a close-delimited body is complete; anything else is cut short).
 * Over a kept connection, a send that fails or a close or reset before
 * the first byte of the response means the server closed it while idle:
 * the GET is retried once on a new connection.
 */
#include "http_get.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lb_http_loopback(int port, struct sockaddr_storage *addr, socklen_t *len)
{
    struct sockaddr_in *in = (struct sockaddr_in *)addr;
    memset(addr, 0, sizeof *addr);
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *len = sizeof *in;
}

/* Waits for events on fd until deadline: 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) return -ETIMEDOUT;
        struct pollfd p = {fd, events, 0};
        int rc = poll(&p, 1, (int)left);
        if (rc > 0) return 0;
        if (rc == 0) return -ETIMEDOUT;
        if (errno != EINTR) return -errno;
    }
}

static int connect_by(int fd, const struct sockaddr *addr, socklen_t len, int64_t deadline)
{
    if (connect(fd, addr, len) == 0) return 0;
    if (errno != EINPROGRESS && errno != EINTR) return -errno;
    int rc = wait_fd(fd, POLLOUT, deadline);
    if (rc < 0) return rc;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) return -errno;
    return soerr ? -soerr : 0;
}

static int send_all(int fd, const char *buf, size_t n, int64_t deadline)
{
    while (n) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w > 0) {
            buf += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -errno;
        int rc = wait_fd(fd, POLLOUT, deadline);
        if (rc < 0) return rc;
    }
    return 0;
}

/* Reads until the response is whole: 0 or a negative errno; -ECONNABORTED
 * when the connection was closed or reset before the response's first byte. */
static int receive(int fd, lb_http_response *r, int64_t deadline)
{
    char buf[16384];
    bool any = false;
    for (;;) {
        ssize_t got = recv(fd, buf, sizeof buf, 0);
        if (got > 0) {
            any = true;
            int rc = lb_http_response_feed(r, buf, (size_t)got, NULL);
            if (rc == 1) return 0;
            if (rc < 0) return rc;
            continue;
        }
        if (got == 0 && !any) return -ECONNABORTED;
        if (got == 0) return lb_http_response_eof(r) == 1 ? 0 : -EBADMSG;
        if (errno == EINTR) continue;
        if (errno == ECONNRESET && !any) return -ECONNABORTED;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return -errno;
        int rc = wait_fd(fd, POLLIN, deadline);
        if (rc < 0) return rc;
    }
}

void lb_http_conn_close(lb_http_conn *c)
{
    if (c && c->fd >= 0) close(c->fd);
    if (c) c->fd = -1;
}

/* One exchange on fd (opened here when *fd < 0): 0 or a negative errno;
 * *step names the step that failed. */
static int exchange(int *fd, const struct sockaddr *addr, socklen_t addr_len, const char *req,
                    size_t len, int64_t deadline, lb_http_response *out, const char **step)
{
    int rc = 0;
    *step = "connect";
    if (*fd < 0) {
        *fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        rc = *fd < 0 ? -errno : connect_by(*fd, addr, addr_len, deadline);
    }
    if (rc == 0) {
        *step = "send";
        rc = send_all(*fd, req, len, deadline);
    }
    if (rc == 0) {
        *step = "receive";
        rc = receive(*fd, out, deadline);
    }
    return rc;
}

int lb_http_get_on(lb_http_conn *c, const struct sockaddr *addr, socklen_t addr_len,
                   const char *host, const char *path, int timeout_ms, size_t max_body,
                   lb_http_response *out, char *err, size_t n)
{
    int64_t deadline = now_ms() + timeout_ms;
    lb_http_response_init(out, max_body);
    const char *step = "connect";
    char req[2048];
    int len = snprintf(req, sizeof req,
                       "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: leakbench\r\n"
                       "Accept: */*\r\n%s\r\n",
                       path, host, c ? "" : "Connection: close\r\n");
    if (len < 0 || (size_t)len >= sizeof req) {
        snprintf(err, n, "the path and host are too long for a request (%d bytes)", len);
        lb_http_conn_close(c);
        return -EINVAL;
    }
    int fd = c ? c->fd : -1;
    bool reused = fd >= 0;
    int rc = exchange(&fd, addr, addr_len, req, (size_t)len, deadline, out, &step);
    if (reused && (rc == -ECONNABORTED || rc == -EPIPE || rc == -ECONNRESET)) {
        close(fd); /* closed by the server while idle: once more, on a new one */
        fd = -1;
        lb_http_response_free(out);
        lb_http_response_init(out, max_body);
        rc = exchange(&fd, addr, addr_len, req, (size_t)len, deadline, out, &step);
    }
    if (rc == -ECONNABORTED) rc = lb_http_response_eof(out) == 1 ? 0 : -EBADMSG;
    if (c && rc == 0 && out->keep_alive) {
        c->fd = fd;
    } else {
        if (fd >= 0) close(fd);
        if (c) c->fd = -1;
    }
    if (rc == 0) return 0;
    if (rc == -ETIMEDOUT)
        snprintf(err, n, "GET %s: no whole response within %d ms (%s)", path, timeout_ms, step);
    else if (rc == -EBADMSG)
        snprintf(err, n, "GET %s: malformed response (%s)", path,
                 *lb_http_response_reason(out) ? lb_http_response_reason(out)
                                               : "the connection closed before its end");
    else if (rc == -E2BIG)
        snprintf(err, n, "GET %s: response body larger than %zu bytes", path, max_body);
    else
        snprintf(err, n, "GET %s: %s: %s", path, step, strerror(-rc));
    lb_http_response_free(out);
    return rc;
}

int lb_http_get(const struct sockaddr *addr, socklen_t addr_len, const char *host, const char *path,
                int timeout_ms, size_t max_body, lb_http_response *out, char *err, size_t n)
{
    return lb_http_get_on(NULL, addr, addr_len, host, path, timeout_ms, max_body, out, err, n);
}
