/*
 * http_test_server.h — a small HTTP/1.1 server for the load engine's tests
 * and benchmark: well-behaved and odd targets on loopback TCP or a Unix
 * socket, without a runtime.
 *
 * One acceptor thread, one thread per connection (blocking sockets, poll
 * with a stop pipe so lb_ts_stop can end every thread).  Requests are
 * parsed with llhttp; the path picks the behaviour:
 *   /work?service_ms=N...  200 after N ms (default 0), or 500 when the
 *                          query has error=1; if the client closes
 *                          meanwhile it is counted in `disconnects` and
 *                          nothing is sent
 *   /status/CODE           that status, empty body
 *   /reset                 the connection is reset (SO_LINGER 0, close)
 *   /hang                  never answers (waits for the client to close)
 *   /garbage               a line that is not HTTP, then waits
 *   /big                   200 with a 2 MiB body
 *   /eof                   200 with no Content-Length, body ended by close
 *   /once                  200 "ok", then the connection is closed without
 *                          a word (a keep-alive server closing an idle
 *                          connection)
 *   anything else          200 "ok"
 * `requests` counts requests parsed, `connections` accepted connections,
 * `max_seq` the largest seq=N query value seen (-1 if none).
 *
 * Header-only (static inline functions), for *_test.c and *_bench.c programs.
 */
#ifndef LEAKBENCH_HTTP_TEST_SERVER_H
#define LEAKBENCH_HTTP_TEST_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LB_TS_MAX_CONNS 4096

typedef struct lb_test_server {
    int listen_fd;
    int stop_pipe[2];
    bool is_unix;
    char unix_path[108];
    int port;
    pthread_t acceptor;
    pthread_mutex_t mu; /* protects threads and n (acceptor vs lb_ts_stop) */
    pthread_t threads[LB_TS_MAX_CONNS];
    int n;
    _Atomic int64_t requests, connections, disconnects, max_seq;
} lb_test_server;

typedef struct lb_ts_conn {
    lb_test_server *srv;
    int fd;
    llhttp_t parser;
    llhttp_settings_t settings;
    char url[2048];
    size_t url_len;
    bool complete;
} lb_ts_conn;

static inline int lb_ts_on_url(llhttp_t *p, const char *at, size_t len)
{
    lb_ts_conn *c = p->data;
    size_t room = sizeof c->url - 1 - c->url_len;
    if (len > room) len = room;
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    c->url[c->url_len] = 0;
    return 0;
}

static inline int lb_ts_on_complete(llhttp_t *p)
{
    ((lb_ts_conn *)p->data)->complete = true;
    return HPE_PAUSED;
}

static inline void lb_ts_write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        buf += w;
        n -= (size_t)w;
    }
}

/* Waits up to ms (-1 = forever) for input on fd; false when the client
 * closed (or the server stops), true when the time passed. */
static inline bool lb_ts_wait_quiet(lb_ts_conn *c, int ms)
{
    struct pollfd p[2] = {{c->fd, POLLIN, 0}, {c->srv->stop_pipe[0], POLLIN, 0}};
    for (;;) {
        int n = poll(p, 2, ms);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) return true;
        if (p[1].revents) return false;
        char b[256];
        ssize_t r = recv(c->fd, b, sizeof b, MSG_DONTWAIT);
        if (r <= 0 && !(r < 0 && errno == EAGAIN)) return false;
    }
}

static inline int64_t lb_ts_query_int(const char *url, const char *key, int64_t def)
{
    char pat[64];
    snprintf(pat, sizeof pat, "%s=", key);
    const char *q = strchr(url, '?');
    for (const char *p = q; p && (p = strstr(p, pat));) {
        if (p[-1] == '?' || p[-1] == '&') return strtoll(p + strlen(pat), NULL, 10);
        p += strlen(pat);
    }
    return def;
}

/* Answers one request; false when the connection is done. */
static inline bool lb_ts_answer(lb_ts_conn *c)
{
    const char *u = c->url;
    atomic_fetch_add(&c->srv->requests, 1);
    int64_t seq = lb_ts_query_int(u, "seq", -1), max = atomic_load(&c->srv->max_seq);
    while (seq > max && !atomic_compare_exchange_weak(&c->srv->max_seq, &max, seq)) {
    }
    char head[256];
    if (!strncmp(u, "/status/", 8)) {
        int code = atoi(u + 8);
        int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", code);
        lb_ts_write_all(c->fd, head, (size_t)n);
        return true;
    }
    if (!strcmp(u, "/reset")) {
        struct linger lg = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        return false;
    }
    if (!strcmp(u, "/hang")) {
        lb_ts_wait_quiet(c, -1);
        return false;
    }
    if (!strcmp(u, "/garbage")) {
        lb_ts_write_all(c->fd, "THIS IS NOT HTTP\r\n\r\n", 20);
        lb_ts_wait_quiet(c, -1);
        return false;
    }
    if (!strcmp(u, "/big")) {
        size_t n = 2 << 20;
        char *body = calloc(1, n);
        int h = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
        lb_ts_write_all(c->fd, head, (size_t)h);
        if (body) lb_ts_write_all(c->fd, body, n);
        free(body);
        return true;
    }
    if (!strcmp(u, "/once")) {
        static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        lb_ts_write_all(c->fd, r, sizeof r - 1);
        return false;
    }
    if (!strcmp(u, "/eof")) {
        static const char r[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it";
        lb_ts_write_all(c->fd, r, sizeof r - 1);
        return false;
    }
    if (!strncmp(u, "/work", 5)) {
        int64_t ms = lb_ts_query_int(u, "service_ms", 0);
        if (ms > 0 && !lb_ts_wait_quiet(c, (int)ms)) {
            atomic_fetch_add(&c->srv->disconnects, 1);
            return false;
        }
        if (lb_ts_query_int(u, "error", 0) == 1) {
            static const char e[] = "HTTP/1.1 500 Error\r\nContent-Length: 0\r\n\r\n";
            lb_ts_write_all(c->fd, e, sizeof e - 1);
            return true;
        }
    }
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    lb_ts_write_all(c->fd, ok, sizeof ok - 1);
    return true;
}

static inline void *lb_ts_conn_main(void *arg)
{
    lb_ts_conn *c = arg;
    char buf[16384];
    llhttp_settings_init(&c->settings);
    c->settings.on_url = lb_ts_on_url;
    c->settings.on_message_complete = lb_ts_on_complete;
    llhttp_init(&c->parser, HTTP_REQUEST, &c->settings);
    c->parser.data = c;
    for (;;) {
        struct pollfd p[2] = {{c->fd, POLLIN, 0}, {c->srv->stop_pipe[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0 && errno == EINTR) continue;
        if (p[1].revents) break;
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        llhttp_errno_t e = llhttp_execute(&c->parser, buf, (size_t)n);
        if (e == HPE_PAUSED && c->complete) {
            bool more = lb_ts_answer(c);
            if (!more) break;
            c->complete = false;
            c->url_len = 0;
            c->url[0] = 0;
            llhttp_init(&c->parser, HTTP_REQUEST, &c->settings); /* no pipelining here */
            c->parser.data = c;
        } else if (e != HPE_OK) {
            break;
        }
    }
    close(c->fd);
    free(c);
    return NULL;
}

static inline void *lb_ts_accept_main(void *arg)
{
    lb_test_server *s = arg;
    for (;;) {
        struct pollfd p[2] = {{s->listen_fd, POLLIN, 0}, {s->stop_pipe[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0 && errno == EINTR) continue;
        if (p[1].revents) return NULL;
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) continue;
        lb_ts_conn *c = calloc(1, sizeof *c);
        pthread_mutex_lock(&s->mu);
        if (!c || s->n == LB_TS_MAX_CONNS) {
            pthread_mutex_unlock(&s->mu);
            close(fd);
            free(c);
            continue;
        }
        atomic_fetch_add(&s->connections, 1);
        c->srv = s;
        c->fd = fd;
        if (pthread_create(&s->threads[s->n], NULL, lb_ts_conn_main, c) == 0)
            s->n++;
        else {
            close(fd);
            free(c);
        }
        pthread_mutex_unlock(&s->mu);
    }
}

/* Starts a server on 127.0.0.1:port (0: an ephemeral port; the port is
 * in s->port) or, when unix_path is given, on that Unix socket.  0 or
 * -errno.  With backlog_only, nothing accepts: connections queue in the
 * backlog and are never answered. */
static inline int lb_ts_start_port(lb_test_server *s, const char *unix_path, int port,
                                   bool backlog_only)
{
    memset(s, 0, sizeof *s);
    atomic_store(&s->max_seq, -1);
    pthread_mutex_init(&s->mu, NULL);
    if (pipe(s->stop_pipe) < 0) return -errno;
    if (unix_path) {
        struct sockaddr_un a = {0};
        a.sun_family = AF_UNIX;
        size_t len = strlen(unix_path);
        if (len >= sizeof a.sun_path || len >= sizeof s->unix_path) return -ENAMETOOLONG;
        memcpy(a.sun_path, unix_path, len + 1);
        memcpy(s->unix_path, unix_path, len + 1);
        s->is_unix = true;
        unlink(unix_path);
        s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) < 0)
            return -errno;
    } else {
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((uint16_t)port);
        s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        socklen_t len = sizeof a;
        if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) < 0 ||
            getsockname(s->listen_fd, (struct sockaddr *)&a, &len) < 0)
            return -errno;
        s->port = ntohs(a.sin_port);
    }
    if (listen(s->listen_fd, 1024) < 0) return -errno;
    if (backlog_only) return 0;
    return -pthread_create(&s->acceptor, NULL, lb_ts_accept_main, s);
}

/* lb_ts_start_port on an ephemeral port. */
static inline int lb_ts_start(lb_test_server *s, const char *unix_path, bool backlog_only)
{
    return lb_ts_start_port(s, unix_path, 0, backlog_only);
}

/* Stops every thread and closes the listener. */
static inline void lb_ts_stop(lb_test_server *s, bool backlog_only)
{
    ssize_t w = write(s->stop_pipe[1], "x", 1);
    (void)w;
    if (!backlog_only) pthread_join(s->acceptor, NULL);
    for (int i = 0; i < s->n; i++) pthread_join(s->threads[i], NULL);
    close(s->listen_fd);
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    if (s->is_unix) unlink(s->unix_path);
    pthread_mutex_destroy(&s->mu);
}

#endif
