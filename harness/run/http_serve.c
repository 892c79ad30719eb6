/*
 * http_serve.c — a built-in pair's variant as an HTTP/1.1 service on
 * leakbench's runtime (the contract is in http_serve.h).
 *
 * Tasks.  The main task (rt_run's) builds the pipeline, starts the accept
 * task and waits, in rt_fd_wait, on an eventfd that lb_serve_request_stop()
 * writes to; a signal task reads SIGTERM/SIGINT from a signalfd (the
 * signals are blocked in every thread) and requests the stop the same way.  The accept task accepts
 * non-blocking sockets and starts one connection task per connection.  A connection task reads into
 * its buffer, feeds llhttp (paused at every message end, so pipelined requests are handled one at a
 * time, in order), routes the request and writes the response; every wait on the socket is an
 * rt_fd_wait under the connection's context, a child of the root.
 *
 * A /work request runs variant.handle in a handler task of its own, so
 * that the connection task stays free to watch the socket, as Go's
 * net/http does with its background read: the connection task waits for
 * readability under a "watch" context that the handler cancels when it
 * returns.  Readable with data: pipelined bytes, kept for later; readable
 * with EOF or an error: the client is gone, so the request's context is
 * cancelled — the r.Context() cancellation that triggers the pattern's
 * leak — and the connection is closed without a reply.  The handler and
 * the connection task share the request (srv_job) by reference count.
 *
 * Shutdown cancels the root context: the accept task and every connection
 * task wake from their waits and close their sockets, every request
 * context is cancelled; then the main task waits for the tasks it started
 * and the variant's shutdown, bounded by the spec's grace, as child.c's
 * shutdown phase does.
 *
 * Counters are atomics in srv (no lock); the runtime's counters (live
 * tasks, by operation) are in the shared page when one is given.  Freed
 * connections are kept (up to CONN_CACHE) for the next ones: see
 * conn_get.
 */
#include "http_serve.h"

#include "child.h"
#include "leakreport.h"
#include "loadgen.h"
#include "sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <llhttp.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define CONN_BUF     (64 * 1024) /* input buffer: a request head must fit */
#define URL_MAX      8192
#define HEAD_MAX     (64 * 1024)
#define ACCEPT_PAUSE RT_MS(10) /* back-off when accept runs out of fds */
#define CONN_CACHE   32        /* freed connections kept for the next ones */
#define LINGER_MS    200       /* reading on after an error reply (conn_linger) */

/* ---------------------------------------------------------------- state -- */

typedef struct srv {
    const lb_serve_config *cfg;
    const lb_scenario_spec *spec;
    const lb_variant *variant;
    lb_env env; /* env.root is the root context */
    void *state;
    int listen_fd;
    bool accepting; /* the accept task started: it closes listen_fd */
    int stop_fd;    /* eventfd: written to request a stop */
    int signal_fd;  /* signalfd for SIGTERM/SIGINT, or -1 */
    int rc;
    /* Accept, connection and handler tasks started and not yet ended
     * (counted before rt_go, so one not yet running counts too). */
    _Atomic int64_t serving;
    _Atomic int64_t conns_open, conns_total, in_flight, requests;
    _Atomic int64_t client_gone; /* /work requests whose client left mid-handler */
    /* The gate in front of variant.handle (handler_enter): shut_down
     * closes it before variant.shutdown frees the state handle uses. */
    _Atomic bool closing;
    _Atomic int64_t handlers_inside;
    _Atomic int64_t outcome[LB_OUTCOME_COUNT];
    lb_serve_summary summary;
    /* Freed connections (conn_get / conn_put), under conn_cache_lock. */
    pthread_mutex_t conn_cache_lock;
    struct conn *conn_cache[CONN_CACHE];
    int conn_cache_len;
} srv;

static _Atomic int stop_fd_current = -1; /* srv.stop_fd while a server runs */

void lb_serve_request_stop(void)
{
    int fd = atomic_load(&stop_fd_current);
    if (fd < 0) return;
    uint64_t one = 1;
    ssize_t w = write(fd, &one, sizeof one);
    (void)w; /* an eventfd only fails when its counter would overflow */
}

static void count(_Atomic int64_t *c, int64_t d)
{
    atomic_fetch_add_explicit(c, d, memory_order_relaxed);
}

static void serving_ended(srv *s)
{
    atomic_fetch_sub_explicit(&s->serving, 1, memory_order_release);
}

/* Starts fn(arg) as a task counted in s->serving: 0 or -errno. */
static int serving_go(srv *s, const char *role, void (*fn)(void *), void *arg)
{
    count(&s->serving, 1);
    int rc = rt_go(role, fn, arg);
    if (rc) serving_ended(s);
    return rc;
}

/* ----------------------------------------------------------- connection -- */

/* conn_start zeroes everything before `in` and leaves the two buffers,
 * 72 KiB that are always written before they are read, uncleared: so every
 * other field must come before them.  (in_off and in_len once sat after
 * `in`: a connection whose memory malloc recycled started with the old
 * occupant's bytes as its offsets, and conn_compact or recv wrote far
 * outside the buffer — the serve crash of issue 11.) */
typedef struct conn {
    srv *s;
    int fd;
    rt_ctx *ctx; /* child of the root: ends when the server stops */
    llhttp_t parser;
    llhttp_settings_t settings;
    lb_rng rng;            /* defaults for /work parameters the request leaves out */
    size_t in_off, in_len; /* unparsed input is in[in_off, in_len) */
    /* The message being parsed (reset by on_message_begin). */
    size_t url_len, head_bytes;
    bool url_too_long, head_too_large, message_done, keep_alive;
    bool head_method; /* HEAD: answers carry no body */
    /* The buffers, last (see above). */
    char in[CONN_BUF];
    char url[URL_MAX];
} conn;
_Static_assert(offsetof(conn, url) == offsetof(conn, in) + CONN_BUF &&
                   sizeof(conn) - (offsetof(conn, url) + URL_MAX) < _Alignof(conn),
               "conn: the buffers must be its last members (conn_start clears what precedes them)");

static int on_message_begin(llhttp_t *p)
{
    conn *c = p->data;
    c->url_len = c->head_bytes = 0;
    c->url_too_long = c->head_too_large = c->message_done = false;
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    conn *c = p->data;
    if (c->url_len + len >= URL_MAX) {
        c->url_too_long = true;
        return HPE_USER;
    }
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    c->url[c->url_len] = 0;
    return 0;
}

static int on_header_bytes(llhttp_t *p, const char *at, size_t len)
{
    (void)at;
    conn *c = p->data;
    c->head_bytes += len;
    if (c->head_bytes > HEAD_MAX) {
        c->head_too_large = true;
        return HPE_USER;
    }
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    conn *c = p->data;
    c->keep_alive = llhttp_should_keep_alive(p);
    c->head_method = llhttp_get_method(p) == HTTP_HEAD;
    c->message_done = true;
    return HPE_PAUSED; /* one request at a time: resumed after the reply */
}

static void conn_init_parser(conn *c)
{
    llhttp_settings_init(&c->settings);
    c->settings.on_message_begin = on_message_begin;
    c->settings.on_url = on_url;
    c->settings.on_header_field = on_header_bytes;
    c->settings.on_header_value = on_header_bytes;
    c->settings.on_message_complete = on_message_complete;
    llhttp_init(&c->parser, HTTP_REQUEST, &c->settings);
    c->parser.data = c;
}

/* Moves unparsed input to the front of the buffer. */
static void conn_compact(conn *c)
{
    if (c->in_off == 0) return;
    memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
    c->in_len -= c->in_off;
    c->in_off = 0;
}

/* Reads what the socket has into the buffer: >0 bytes read, 0 EOF,
 * -EAGAIN nothing yet, -ENOBUFS buffer full, other -errno. */
static ssize_t conn_fill(conn *c)
{
    conn_compact(c);
    if (c->in_len == sizeof c->in) return -ENOBUFS;
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
        if (n >= 0) {
            c->in_len += (size_t)n;
            return n;
        }
        if (errno != EINTR) return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

enum req_status {
    REQ_READY,          /* a whole request is parsed */
    REQ_GONE,           /* EOF, a socket error or the server stopping */
    REQ_BAD,            /* malformed: 400 */
    REQ_URL_TOO_LONG,   /* 414 */
    REQ_HEAD_TOO_LARGE, /* 431 */
};

/* Parses buffered input, reading more as needed, until one request is
 * complete. */
static enum req_status conn_read_request(conn *c)
{
    for (;;) {
        if (c->in_off < c->in_len) {
            const char *at = c->in + c->in_off;
            llhttp_errno_t e = llhttp_execute(&c->parser, at, c->in_len - c->in_off);
            if (e == HPE_PAUSED && c->message_done) {
                c->in_off = (size_t)(llhttp_get_error_pos(&c->parser) - c->in);
                llhttp_resume(&c->parser);
                return REQ_READY;
            }
            if (e != HPE_OK)
                return c->url_too_long     ? REQ_URL_TOO_LONG
                       : c->head_too_large ? REQ_HEAD_TOO_LARGE
                                           : REQ_BAD;
            c->in_off = c->in_len = 0; /* llhttp consumed all of it */
        }
        ssize_t n = conn_fill(c);
        if (n > 0) continue;
        if (n == -EAGAIN) {
            if (rt_fd_wait(c->fd, RT_FD_READ, c->ctx) < 0) return REQ_GONE;
            continue;
        }
        return n == -ENOBUFS ? REQ_HEAD_TOO_LARGE : REQ_GONE;
    }
}

/* Sends every byte of iov (modified), waiting for room: 0 or -errno. */
static int conn_send(conn *c, struct iovec *iov, int n)
{
    while (n > 0) {
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) return -errno;
            int rc = rt_fd_wait(c->fd, RT_FD_WRITE, c->ctx);
            if (rc < 0) return rc;
            continue;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

static const char *status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Unknown";
    }
}

/* Writes one response; c->keep_alive false adds "Connection: close", a
 * HEAD request gets the head alone.  0 or -errno. */
static int conn_respond(conn *c, int status, const char *type, const char *body, size_t len)
{
    char head[256];
    int h = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n", status,
                     status_text(status), type, len, c->keep_alive ? "" : "Connection: close\r\n");
    struct iovec iov[2] = {{head, (size_t)h}, {(void *)body, len}};
    return conn_send(c, iov, len && !c->head_method ? 2 : 1);
}

static int conn_respond_text(conn *c, int status, const char *text)
{
    return conn_respond(c, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* After an error reply to input it could not parse, the client may still
 * be sending, and closing a socket with unread input makes the kernel
 * send a reset that can destroy the reply before the client reads it.
 * So close the writing side (FIN after the reply) and read what comes,
 * for LINGER_MS at most, before the caller closes (Go's net/http does
 * the same: closeWriteAndWait). */
static void conn_linger(conn *c)
{
    shutdown(c->fd, SHUT_WR);
    rt_ctx *until = rt_ctx_with_timeout(c->ctx, RT_MS(LINGER_MS));
    char sink[4096];
    for (;;) {
        ssize_t n = recv(c->fd, sink, sizeof sink, 0);
        if (n > 0 || (n < 0 && errno == EINTR)) continue;
        if (n == 0 || errno != EAGAIN || !until) break;
        if (rt_fd_wait(c->fd, RT_FD_READ, until) < 0) break;
    }
    rt_ctx_release(until);
}

/* Closes with a TCP reset instead of a FIN (SO_LINGER 0). */
static void conn_reset(conn *c)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

/* ----------------------------------------------------------------- /work -- */

typedef struct work_params {
    double service_ms;
    int64_t payload;
    bool error;
    uint64_t seq, rep;
    double deadline_ms; /* < 0: none */
    bool has_service, has_payload, has_error, has_seq;
} work_params;

/* Stores one name=value pair of the /work query in w: 0, 1 for a name
 * that is not a /work parameter (ignored), -EINVAL for a bad value. */
static int work_param(work_params *w, const char *name, const char *val)
{
    char *end;
    errno = 0;
    double v = strtod(val, &end);
    bool ok = *val && !*end && !errno && isfinite(v) && v >= 0;
    if (!strcmp(name, "service_ms")) {
        w->service_ms = v;
        w->has_service = true;
    } else if (!strcmp(name, "payload")) {
        ok = ok && v <= (double)(1 << 30); /* the spec's payload_bytes limit */
        w->payload = (int64_t)v;
        w->has_payload = true;
    } else if (!strcmp(name, "error")) {
        ok = ok && (v == 0 || v == 1);
        w->error = v == 1;
        w->has_error = true;
    } else if (!strcmp(name, "seq")) {
        w->seq = (uint64_t)v;
        w->has_seq = true;
    } else if (!strcmp(name, "rep")) {
        w->rep = (uint64_t)v;
    } else if (!strcmp(name, "deadline_ms")) {
        w->deadline_ms = v;
    } else {
        return 1; /* cache busters, tags: not ours */
    }
    return ok ? 0 : -EINVAL;
}

/* Parses the query of /work (may be NULL): 0, or -EINVAL with the name of
 * the offending parameter in bad. */
static int parse_work_query(const char *q, work_params *w, char *bad, size_t badlen)
{
    *w = (work_params){.deadline_ms = -1};
    while (q && *q) {
        const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
        const char *eq = memchr(q, '=', (size_t)(end - q));
        const char *name_end = eq ? eq : end;
        char name[32] = "", val[64] = "";
        if ((size_t)(name_end - q) < sizeof name) memcpy(name, q, (size_t)(name_end - q));
        if (eq && (size_t)(end - eq - 1) < sizeof val) memcpy(val, eq + 1, (size_t)(end - eq - 1));
        if (work_param(w, name, val) < 0) {
            snprintf(bad, badlen, "%s", name);
            return -EINVAL;
        }
        q = amp ? amp + 1 : end;
    }
    return 0;
}

/* A request shared by its connection task and its handler task. */
typedef struct srv_job {
    _Atomic int refs; /* connection + handler */
    srv *s;
    lb_request req;
    rt_ctx *watch; /* cancelled by the handler when handle() returned */
    _Atomic bool finished;
    lb_outcome outcome; /* valid once finished */
} srv_job;

static void job_unref(srv_job *j)
{
    if (atomic_fetch_sub(&j->refs, 1) != 1) return;
    rt_ctx_release(j->req.ctx);
    rt_ctx_release(j->watch);
    free(j);
}

/* Lets a handler into variant.handle unless the server is shutting down
 * (then the request ends cancelled without running).  Sequentially
 * consistent on both sides: shut_down stores `closing` and then reads
 * `handlers_inside`, a handler adds itself and then reads `closing`, so
 * either the handler backs out or shut_down waits for it. */
static bool handler_enter(srv *s)
{
    atomic_fetch_add(&s->handlers_inside, 1);
    if (!atomic_load(&s->closing)) return true;
    atomic_fetch_sub(&s->handlers_inside, 1);
    return false;
}

static void handler_task(void *arg)
{
    srv_job *j = arg;
    srv *s = j->s;
    lb_outcome o = LB_CANCELLED;
    if (handler_enter(s)) {
        o = s->variant->handle(s->state, &j->req);
        atomic_fetch_sub(&s->handlers_inside, 1);
    }
    if ((unsigned)o >= LB_OUTCOME_COUNT) o = LB_FAILED;
    rt_ctx_cancel(j->req.ctx); /* as a built-in client does once handle returned */
    j->outcome = o;
    atomic_store_explicit(&j->finished, true, memory_order_release);
    count(&s->outcome[o], 1);
    count(&s->in_flight, -1);
    rt_ctx_cancel(j->watch); /* wakes the connection task */
    job_unref(j);
    serving_ended(s);
}

static srv_job *job_new(conn *c, const work_params *w)
{
    srv *s = c->s;
    const lb_scenario_spec *sp = s->spec;
    srv_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    atomic_init(&j->refs, 2);
    j->s = s;
    lb_request *r = &j->req;
    r->id = w->has_seq ? w->seq : (uint64_t)atomic_load(&s->requests);
    r->arrival = rt_now();
    double ms = w->has_service ? w->service_ms : lb_dist_draw_ms(&sp->service, &c->rng);
    r->service_ns = (int64_t)(ms * 1e6);
    r->timeout_ns = (int64_t)((w->deadline_ms >= 0 ? w->deadline_ms : sp->timeout_ms) * 1e6);
    r->inject_error = w->has_error ? w->error : lb_rng_uniform(&c->rng) < sp->error_rate;
    r->payload_bytes = (size_t)(w->has_payload ? w->payload : sp->payload_bytes);
    lb_rng seq_rng;
    lb_rng_seed(&seq_rng, sp->seed ^ (r->id * 0x9e3779b97f4a7c15ULL) ^ (w->rep << 48));
    r->rand = lb_rng_next(&seq_rng);
    r->ctx = w->deadline_ms >= 0
                 ? rt_ctx_with_deadline(c->ctx, r->arrival + (rt_time)(w->deadline_ms * 1e6))
                 : rt_ctx_with_cancel(c->ctx);
    j->watch = rt_ctx_with_cancel(c->ctx);
    if (!r->ctx || !j->watch) {
        rt_ctx_release(r->ctx);
        rt_ctx_release(j->watch);
        free(j);
        return NULL;
    }
    return j;
}

enum watch_end { WATCH_FINISHED, WATCH_CLIENT_GONE, WATCH_STOPPING };

/* Watches the socket while the handler runs: readable with data keeps
 * the (pipelined) bytes; EOF or an error means the client is gone. */
static enum watch_end conn_watch(conn *c, srv_job *j)
{
    for (;;) {
        if (atomic_load_explicit(&j->finished, memory_order_acquire)) return WATCH_FINISHED;
        int rc = conn_fill(c);
        if (rc == 0 || (rc < 0 && rc != -EAGAIN && rc != -ENOBUFS)) return WATCH_CLIENT_GONE;
        if (rc > 0) continue;
        /* Nothing to read (or no room to read into: then wait for the
         * handler alone, and look at the socket again afterwards). */
        rc = rc == -EAGAIN ? rt_fd_wait(c->fd, RT_FD_READ, j->watch)
                           : rt_sleep(RT_FOREVER, j->watch);
        if (rc < 0 && !atomic_load_explicit(&j->finished, memory_order_acquire))
            return WATCH_STOPPING; /* the watch ended without the handler: the root did */
    }
}

static int outcome_status(lb_outcome o)
{
    switch (o) {
    case LB_COMPLETED:
        return 200;
    case LB_REJECTED:
        return 503;
    case LB_TIMED_OUT:
        return 504;
    default:
        return 500;
    }
}

/* Runs one /work request: 0 to go on with the connection, -1 to close.
 * A handler cancelled with the client still there means the server is
 * stopping: like a client gone, that gets no reply. */
static int serve_work(conn *c, const char *query)
{
    srv *s = c->s;
    work_params w;
    char bad[32];
    if (parse_work_query(query, &w, bad, sizeof bad)) {
        char msg[128];
        snprintf(msg, sizeof msg, "bad query parameter '%s': expected a non-negative number\n",
                 bad);
        return conn_respond_text(c, 400, msg) ? -1 : 0;
    }
    srv_job *j = job_new(c, &w);
    if (!j) return conn_respond_text(c, 500, "out of memory\n") ? -1 : 0;
    count(&s->requests, 1);
    count(&s->in_flight, 1);
    if (serving_go(s, "http-handler", handler_task, j)) {
        count(&s->in_flight, -1);
        count(&s->outcome[LB_FAILED], 1);
        job_unref(j);
        job_unref(j);
        return conn_respond_text(c, 500, "cannot start a handler task\n") ? -1 : 0;
    }
    enum watch_end end = conn_watch(c, j);
    int rc = -1;
    if (end == WATCH_FINISHED && j->outcome != LB_CANCELLED) {
        int status = outcome_status(j->outcome);
        const char *body = status == 200 ? "ok" : lb_outcome_name(j->outcome);
        rc = conn_respond_text(c, status, body) ? -1 : 0;
    } else if (end == WATCH_CLIENT_GONE) {
        rt_ctx_cancel(j->req.ctx); /* r.Context() is done: the client went away */
        count(&s->client_gone, 1);
    }
    job_unref(j);
    return rc;
}

/* -------------------------------------------------- /metrics, /debug/leaks -- */

static void metric_header(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The Prometheus text exposition of the server's state, malloc'd. */
static char *metrics_text(srv *s, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f) return NULL;
    rt_counters *rc = rt_counters_get();
    fprintf(f,
            "# HELP leakbench_info The pair and variant served.\n# TYPE leakbench_info gauge\n"
            "leakbench_info{scenario=\"%s\",variant=\"%s\",scheduler=\"%s\"} 1\n",
            s->spec->scenario->name, s->cfg->leaky ? "leaky" : "graceful",
            rt_sched_name(s->spec->scheduler));
    metric_header(f, "leakbench_live_tasks", "gauge", "Tasks spawned and not yet returned.");
    fprintf(f, "leakbench_live_tasks %lld\n", (long long)atomic_load(&rc->live_tasks));
    metric_header(f, "leakbench_blocked_tasks", "gauge",
                  "Live tasks by the operation they are blocked in (running: not blocked).");
    for (int op = 0; op < RT_OP_COUNT; op++)
        fprintf(f, "leakbench_blocked_tasks{op=\"%s\"} %lld\n", rt_op_name((rt_op)op),
                (long long)atomic_load(&rc->by_op[op]));
    metric_header(f, "leakbench_tasks_spawned_total", "counter", "Tasks spawned so far.");
    fprintf(f, "leakbench_tasks_spawned_total %lld\n", (long long)atomic_load(&rc->spawned_total));
    metric_header(f, "leakbench_requests_total", "counter",
                  "/work requests whose handler returned, by outcome.");
    for (int o = 0; o < LB_OUTCOME_COUNT; o++)
        fprintf(f, "leakbench_requests_total{outcome=\"%s\"} %lld\n",
                lb_outcome_name((lb_outcome)o), (long long)atomic_load(&s->outcome[o]));
    metric_header(f, "leakbench_requests_in_flight", "gauge",
                  "/work requests whose handler has not returned yet.");
    fprintf(f, "leakbench_requests_in_flight %lld\n", (long long)atomic_load(&s->in_flight));
    metric_header(f, "leakbench_client_disconnects_total", "counter",
                  "/work requests whose client closed its connection while the handler ran "
                  "(their context was cancelled).");
    fprintf(f, "leakbench_client_disconnects_total %lld\n",
            (long long)atomic_load(&s->client_gone));
    metric_header(f, "leakbench_connections_open", "gauge", "Open client connections.");
    fprintf(f, "leakbench_connections_open %lld\n", (long long)atomic_load(&s->conns_open));
    metric_header(f, "leakbench_connections_total", "counter", "Connections accepted.");
    fprintf(f, "leakbench_connections_total %lld\n", (long long)atomic_load(&s->conns_total));
    lb_proc proc;
    lb_sample sample = {0};
    if (lb_proc_open(&proc, getpid()) == 0) {
        if (lb_proc_read(&proc, &sample, false) == 0) {
            metric_header(f, "leakbench_rss_bytes", "gauge", "Resident memory of the process.");
            fprintf(f, "leakbench_rss_bytes %lld\n", (long long)sample.rss_bytes);
            metric_header(f, "leakbench_os_threads", "gauge", "OS threads of the process.");
            fprintf(f, "leakbench_os_threads %lld\n", (long long)sample.threads);
        }
        lb_proc_close(&proc);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The leak snapshot as the "leaks" object of results.json, malloc'd. */
static char *leaks_json(srv *s, size_t *len)
{
    lb_leak_report *r = malloc(sizeof *r); /* ~20 KB: not on a task stack */
    if (!r || lb_leak_snapshot(r)) {
        free(r);
        return NULL;
    }
    json_t *j = lb_leak_report_to_json(r, s->spec->scenario);
    free(r);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text) *len = strlen(text);
    return text;
}

/* Answers 200 with a generated body (NULL: 500): 0 or -errno. */
static int respond_generated(conn *c, char *(*make)(srv *, size_t *), const char *type)
{
    size_t len = 0;
    char *body = make(c->s, &len);
    if (!body) return conn_respond_text(c, 500, "out of memory\n");
    int rc = conn_respond(c, 200, type, body, len);
    free(body);
    return rc;
}

/* --------------------------------------------------------------- routes -- */

/* Answers the parsed request: 0 to go on with the connection, -1 to close. */
static int conn_route(conn *c)
{
    char *query = strchr(c->url, '?');
    if (query) *query++ = 0;
    const char *path = c->url;
    if (!strcmp(path, "/work")) return serve_work(c, query);
    if (!strcmp(path, "/metrics"))
        return respond_generated(c, metrics_text, "text/plain; version=0.0.4; charset=utf-8") ? -1
                                                                                              : 0;
    if (!strcmp(path, "/debug/leaks"))
        return respond_generated(c, leaks_json, "application/json") ? -1 : 0;
    if (!strcmp(path, "/healthz")) return conn_respond_text(c, 200, "ok") ? -1 : 0;
    if (!strcmp(path, "/status/503")) return conn_respond_text(c, 503, "unavailable") ? -1 : 0;
    if (!strcmp(path, "/reset")) {
        conn_reset(c);
        return -1;
    }
    return conn_respond_text(c, 404, "not found\n") ? -1 : 0;
}

static void conn_serve(conn *c)
{
    for (;;) {
        enum req_status st = conn_read_request(c);
        if (st == REQ_GONE) return;
        if (st != REQ_READY) {
            c->keep_alive = false;
            int status = st == REQ_URL_TOO_LONG ? 414 : st == REQ_HEAD_TOO_LARGE ? 431 : 400;
            const char *reason = st == REQ_BAD ? llhttp_get_error_reason(&c->parser) : NULL;
            char msg[160];
            if (reason)
                snprintf(msg, sizeof msg, "malformed request: %s\n", reason);
            else
                snprintf(msg, sizeof msg, "%s\n", status_text(status));
            if (conn_respond_text(c, status, msg) == 0) conn_linger(c);
            return;
        }
        if (conn_route(c) < 0 || !c->keep_alive) return;
    }
}

/* A connection's memory: a freed one if any, else malloc'd.  A conn is
 * 72 KiB, which malloc takes from the top of the heap and gives back to
 * the kernel when it is freed there, so without the cache every new
 * connection faulted its pages in afresh: 13% of the server's CPU (perf)
 * in a benchmark run whose deadline closes made the client reconnect
 * 15,000 times in 10 s.  A handful of mutex operations per connection. */
static conn *conn_get(srv *s)
{
    pthread_mutex_lock(&s->conn_cache_lock);
    conn *c = s->conn_cache_len > 0 ? s->conn_cache[--s->conn_cache_len] : NULL;
    pthread_mutex_unlock(&s->conn_cache_lock);
    return c ? c : malloc(sizeof *c);
}

static void conn_put(srv *s, conn *c)
{
    pthread_mutex_lock(&s->conn_cache_lock);
    if (c && s->conn_cache_len < CONN_CACHE) {
        s->conn_cache[s->conn_cache_len++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&s->conn_cache_lock);
    free(c);
}

static void conn_task(void *arg)
{
    conn *c = arg;
    srv *s = c->s;
    conn_serve(c);
    rt_fd_close(c->fd);
    rt_ctx_release(c->ctx);
    conn_put(s, c);
    count(&s->conns_open, -1);
    serving_ended(s);
}

static void conn_start(srv *s, int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails on Unix sockets: fine */
    conn *c = conn_get(s);
    if (c) {
        memset(c, 0, offsetof(conn, in)); /* every field but the two buffers */
        c->s = s;
        c->fd = fd;
        c->ctx = rt_ctx_with_cancel(s->env.root);
        lb_rng_seed(&c->rng, s->spec->seed ^ ((uint64_t)atomic_load(&s->conns_total) << 32));
        conn_init_parser(c);
    }
    count(&s->conns_total, 1);
    count(&s->conns_open, 1);
    if (!c || !c->ctx || serving_go(s, "http-conn", conn_task, c)) {
        if (c) rt_ctx_release(c->ctx);
        conn_put(s, c);
        close(fd);
        count(&s->conns_open, -1);
    }
}

static void accept_task(void *arg)
{
    srv *s = arg;
    for (;;) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            conn_start(s, fd);
            continue;
        }
        int e = errno;
        if (e == EINTR || e == ECONNABORTED) continue;
        int rc;
        if (e == EAGAIN || e == EWOULDBLOCK)
            rc = rt_fd_wait(s->listen_fd, RT_FD_READ, s->env.root);
        else if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM)
            rc = rt_sleep(ACCEPT_PAUSE, s->env.root); /* out of fds: back off */
        else
            break;
        if (rc < 0) break; /* the server is stopping */
    }
    rt_fd_close(s->listen_fd);
    serving_ended(s);
}

/* ------------------------------------------------------------ lifecycle -- */

/* Turns SIGTERM/SIGINT into stop requests: read from the signalfd. */
static void signal_task(void *arg)
{
    srv *s = arg;
    for (;;) {
        struct signalfd_siginfo si;
        ssize_t n = read(s->signal_fd, &si, sizeof si);
        if (n == (ssize_t)sizeof si) {
            lb_serve_request_stop();
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n >= 0 || errno != EAGAIN) break;
        if (rt_fd_wait(s->signal_fd, RT_FD_READ, s->env.root) < 0) break; /* stopping */
    }
    serving_ended(s);
}

/* The stop signals, blocked in every thread and read through a signalfd. */
typedef struct stop_signals {
    sigset_t set;  /* SIGTERM, SIGINT, less any the process ignores */
    sigset_t mask; /* the caller's mask, restored on return */
    int fd;        /* signalfd, or -1 when both are ignored */
} stop_signals;

/* Blocks SIGTERM and SIGINT (a signal the process ignores stays ignored)
 * in the calling thread before the runtime starts, so every runtime
 * thread inherits the block and none can take the default action, and
 * opens a signalfd for them: 0 or -errno. */
static int stop_signals_open(stop_signals *ss)
{
    static const int sigs[2] = {SIGTERM, SIGINT};
    sigemptyset(&ss->set);
    int n = 0;
    for (int i = 0; i < 2; i++) {
        struct sigaction cur;
        sigaction(sigs[i], NULL, &cur);
        if (cur.sa_handler == SIG_IGN) continue;
        sigaddset(&ss->set, sigs[i]);
        n++;
    }
    pthread_sigmask(SIG_BLOCK, &ss->set, &ss->mask);
    ss->fd = n ? signalfd(-1, &ss->set, SFD_NONBLOCK | SFD_CLOEXEC) : -1;
    if (n && ss->fd < 0) {
        int e = errno;
        pthread_sigmask(SIG_SETMASK, &ss->mask, NULL);
        return -e;
    }
    return 0;
}

/* Consumes the stop signals still pending (the stop they ask for has
 * happened), closes the signalfd and restores the caller's mask. */
static void stop_signals_close(stop_signals *ss)
{
    if (ss->fd >= 0) {
        struct signalfd_siginfo si;
        while (read(ss->fd, &si, sizeof si) == (ssize_t)sizeof si) {
        }
        close(ss->fd);
    }
    pthread_sigmask(SIG_SETMASK, &ss->mask, NULL);
}

/* Waits for a stop request on the eventfd. */
static void wait_for_stop(srv *s)
{
    for (;;) {
        uint64_t n;
        if (read(s->stop_fd, &n, sizeof n) == (ssize_t)sizeof n) return;
        if (errno != EAGAIN && errno != EINTR) return;
        rt_fd_wait(s->stop_fd, RT_FD_READ, NULL);
    }
}

/* Cancels the root and waits, up to the grace, for the tasks we started,
 * then for variant.shutdown and every task but this one (child.c's
 * shutdown phase).  Handler tasks that have not entered variant.handle
 * yet never will (the gate closes first): variant.shutdown frees the state
 * handle uses, so it runs only once no handler is inside; when some still
 * are at the end of the grace it does not run, and the tasks left say so. */
static void shut_down(srv *s)
{
    rt_time cancel_at = rt_now();
    atomic_store(&s->closing, true);
    rt_ctx_cancel(s->env.root);
    rt_time give_up = cancel_at + (rt_time)(s->spec->shutdown_grace_ms * 1e6);
    while (atomic_load_explicit(&s->serving, memory_order_acquire) > 0 && rt_now() < give_up)
        rt_sleep(RT_MS(1), NULL); /* handler tasks are serving tasks too */
    if (atomic_load(&s->handlers_inside) == 0) s->variant->shutdown(s->state);
    while (rt_live_tasks() > 1 && rt_now() < give_up) rt_sleep(RT_MS(1), NULL);
    lb_serve_summary *sum = &s->summary;
    sum->tasks_left = rt_live_tasks() - 1;
    sum->drained = sum->tasks_left == 0;
    sum->shutdown_ms = (double)(rt_now() - cancel_at) / 1e6;
    sum->requests = atomic_load(&s->requests);
    for (int o = 0; o < LB_OUTCOME_COUNT; o++) sum->outcome[o] = atomic_load(&s->outcome[o]);
    sum->connections = atomic_load(&s->conns_total);
    if (s->cfg->shared) lb_leak_snapshot(&s->cfg->shared->leaks);
}

static void serve_main(void *arg)
{
    srv *s = arg;
    s->env.root = rt_ctx_with_cancel(rt_ctx_background());
    s->state = s->env.root ? s->variant->setup(&s->env) : NULL;
    if (!s->state) {
        s->rc = s->env.root ? -EIO : -ENOMEM;
        rt_ctx_release(s->env.root);
        return;
    }
    if (s->signal_fd >= 0 && serving_go(s, "http-signals", signal_task, s)) {
        s->rc = -ENOMEM;
    } else if (serving_go(s, "http-accept", accept_task, s)) {
        s->rc = -ENOMEM;
    } else {
        s->accepting = true; /* the accept task owns the listening socket now */
        wait_for_stop(s);
    }
    shut_down(s);
    rt_ctx_release(s->env.root);
}

int lb_serve_run(const lb_serve_config *c)
{
    if (!c || !c->spec || !c->spec->scenario || c->listen_fd < 0) {
        if (c && c->listen_fd >= 0) close(c->listen_fd);
        return -EINVAL;
    }
    srv *s = calloc(1, sizeof *s);
    int stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int fl = fcntl(c->listen_fd, F_GETFL);
    if (!s || stop_fd < 0 || fl < 0 || fcntl(c->listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        int rc = !s ? -ENOMEM : stop_fd < 0 ? -errno : -EINVAL;
        free(s);
        if (stop_fd >= 0) close(stop_fd);
        close(c->listen_fd);
        return rc;
    }
    pthread_mutex_init(&s->conn_cache_lock, NULL);
    s->cfg = c;
    s->spec = c->spec;
    s->variant = c->leaky ? &c->spec->scenario->leaky : &c->spec->scenario->graceful;
    s->listen_fd = c->listen_fd;
    s->stop_fd = stop_fd;
    lb_env_from_spec(c->spec, c->spec->seed, &s->env);

    stop_signals sigs;
    int rc = stop_signals_open(&sigs);
    if (rc) {
        free(s);
        close(stop_fd);
        close(c->listen_fd);
        return rc;
    }
    s->signal_fd = sigs.fd;
    atomic_store(&stop_fd_current, stop_fd);
    rt_config cfg = {.sched = c->spec->scheduler,
                     .counters = c->shared ? &c->shared->rt : NULL,
                     .seed = c->spec->seed};
    rc = rt_run(&cfg, serve_main, s);
    atomic_store(&stop_fd_current, -1);
    stop_signals_close(&sigs);
    close(stop_fd);
    if (!s->accepting) close(s->listen_fd); /* no accept task ever owned it */
    if (rc == 0) rc = s->rc;
    if (rc == 0 && c->summary) *c->summary = s->summary;
    /* s stays allocated when tasks were left: they may still point at it. */
    if (s->summary.drained) {
        for (int i = 0; i < s->conn_cache_len; i++) free(s->conn_cache[i]);
        pthread_mutex_destroy(&s->conn_cache_lock);
        free(s);
    }
    return rc;
}
