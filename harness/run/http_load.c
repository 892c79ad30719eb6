/*
 * http_load.c — the HTTP/1.1 load engine (see http_load.h).
 *
 * Requests.  Every request the engine submits gets the next sequence
 * number and a slot in a ring indexed by it; slots are taken in send
 * order and, because every request has the same timeout and is sent in
 * order of its scheduled arrival, in deadline order too.  So the earliest
 * deadline is always the ring's oldest unfinished slot (`head`), and
 * expiring deadlines is a walk from the head.  A slot is WAITING (for a
 * connection), ACTIVE (on one) or DONE; the ring grows (doubling) when it
 * is full.  A new request can only wait for a connection when none is
 * idle and the cap is reached; a connection that comes free goes to the
 * newest waiter (newest_waiter says why), found by a walk down from the
 * newest slot, and n_waiting says when there is none.
 *
 * Arrivals.  Open models take the next offset from lb_arrivals (loadgen.c)
 * and send every request whose time has come; the closed model keeps one
 * FIFO of the clients' next send times (the load start for all of them,
 * then each request's end plus think_ms), which is in time order because
 * ends are.  A client whose next send would fall at or after the load's
 * end stops, like the in-process closed clients.
 *
 * Connections.  At most `cap` sockets, each CONNECTING, BUSY (one request
 * written or being written, its response being read) or IDLE, with its
 * own llhttp parser.  Sockets are registered once, edge-triggered for
 * input and output; each epoll event carries the connection's slot and a
 * generation number, so an event for a socket closed earlier in the same
 * batch is recognised and dropped.  A response ends the request when
 * llhttp calls on_message_complete (which pauses the parser); the socket
 * is then read until it would block, so a close that came with the
 * response is seen before the connection is reused, and it goes back idle
 * only if the response allows keep-alive and nothing followed it.  Nothing
 * is pipelined and nothing is retried.
 *
 * Time.  One timerfd (absolute CLOCK_MONOTONIC) is armed for the earliest
 * of the next arrival, the head's deadline and stop_ns; it is re-armed
 * only when that moment changes.  An eventfd wakes the loop for
 * lb_http_load_request_stop.  A timerfd has no timer slack and the loop
 * does microseconds of work per wake-up, so send lateness beyond that is
 * time the thread spent runnable without a CPU; the run records that wait
 * (the kernel's schedstat run delay) beside the lateness.
 *
 * Receive times.  TCP sockets have SO_TIMESTAMPNS: every recvmsg says when
 * the kernel received what it read (CLOCK_REALTIME, turned into the
 * monotonic clock with an offset read once per loop), and a response ends
 * then, not when the loop came to read it; one that arrived after its
 * deadline times out.  Unix sockets have no receive times: their
 * responses end when read.  Because a late read then changes nothing, an
 * open load over TCP lets the loop sleep on the timer alone when it fires
 * within COALESCE_MAX_NS (may_coalesce): the responses that came meanwhile
 * are read at that wake-up, which makes one wake-up per arrival instead of
 * two per request.
 */
#include "http_load.h"

#include "loadgen.h"
#include "sampler.h"
#include "shared.h"
#include "core/request_template.h"

#include <errno.h>
#include <llhttp.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

const char *lb_http_cause_name(lb_http_cause c)
{
    static const char *const names[LB_HTTP_CAUSE_COUNT] = {
        "status_4xx", "status_5xx", "status_other", "refused", "reset",
        "closed",     "malformed",  "too_large",    "io"};
    return (unsigned)c < LB_HTTP_CAUSE_COUNT ? names[c] : "unknown";
}

/* ------------------------------------------------------------ targets -- */

void lb_http_target_init(lb_http_target *t, const lb_netaddr *addr)
{
    t->addr = *addr;
    if (lb_netaddr_is_unix(addr))
        snprintf(t->host, sizeof t->host, "localhost");
    else
        lb_netaddr_format(addr, t->host, sizeof t->host);
}

/* ------------------------------------------------------------- engine -- */

enum { R_WAITING = 1, R_ACTIVE, R_DONE };
enum { C_CLOSED = 0, C_CONNECTING, C_BUSY, C_IDLE };

typedef struct req {
    int64_t at_ns, deadline_ns;
    int state;
    int conn;
    int tpl;
    bool from_client; /* a closed-model client's request: its end schedules the next */
    lb_tpl_values vals;
} req;

typedef struct conn {
    int fd, state, index;
    uint32_t gen;
    uint64_t seq; /* the request while BUSY or CONNECTING */
    llhttp_t parser;
    struct lb_http_load *engine;
    char *out;
    size_t out_len, out_off, out_cap;
    int64_t in_bytes;
    int64_t rx_ns;     /* when the kernel received the last bytes read (0: unknown) */
    bool pending_io;   /* connecting, or a request only partly written */
    bool message_done; /* on_message_complete was called */
    bool answered;     /* the request got its outcome; draining the socket */
    bool reusable;     /* keep-alive allowed by the answered response */
} conn;

typedef struct tpl {
    lb_template head, body;
    bool has_body;
    double cum_weight;
} tpl;

struct lb_http_load {
    lb_http_load_config cfg;
    const lb_scenario_spec *spec;
    lb_shared *sh;
    tpl tpl[LB_MAX_REQUEST_TEMPLATES];
    int n_tpl;
    bool head_method;
    llhttp_settings_t settings;
    int ep, timer_fd, stop_fd;
    int64_t armed_ns;
    int n_pending_io;     /* connections with pending_io set */
    bool rx_timestamps;   /* the target's sockets carry kernel receive times (TCP) */
    int64_t real_to_mono; /* CLOCK_MONOTONIC - CLOCK_REALTIME, read each loop */
    bool stopping;
    bool load_over; /* on_load_end was called */

    conn *conns;
    int cap, open;
    int *idle, n_idle;
    int *free_slots, n_free;

    req *ring;
    uint64_t ring_cap, head, issued;
    int64_t n_waiting; /* requests in R_WAITING */
    int64_t unfinished;

    /* arrivals */
    lb_arrivals arrivals;
    int64_t next_open_ns; /* -1: no more open arrivals */
    int64_t *due;         /* closed model: the clients' next send times, a FIFO */
    uint64_t due_cap, due_head, due_tail;
    int64_t load_end_ns;
    lb_rng draw_rng, pick_rng;

    char rbuf[65536];
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void add(_Atomic int64_t *c, int64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

#define RING(l, seq) (&(l)->ring[(seq) & ((l)->ring_cap - 1)])

/* --------------------------------------------------------- llhttp glue -- */

static int on_headers_complete(llhttp_t *p)
{
    conn *c = p->data;
    return c->engine->head_method ? 1 : 0; /* a response to HEAD has no body */
}

static int on_message_complete(llhttp_t *p)
{
    conn *c = p->data;
    c->message_done = true;
    return HPE_PAUSED;
}

/* ----------------------------------------------------------- templates -- */

/* The request line and headers as one template: everything but the body
 * and its Content-Length, which depend on the body's expansion. */
static int head_text(const lb_request_spec *r, const char *host, char **out)
{
    size_t n = strlen(r->method) + strlen(r->path) + strlen(host) + 64;
    for (int i = 0; i < r->n_headers; i++)
        n += strlen(r->header_name[i]) + strlen(r->header_value[i]) + 4;
    char *s = malloc(n);
    if (!s) return -ENOMEM;
    /* The host goes in as template text: a formatted address has no braces. */
    size_t used =
        (size_t)snprintf(s, n, "%s %s HTTP/1.1\r\nHost: %s\r\n", r->method, r->path, host);
    for (int i = 0; i < r->n_headers; i++)
        used += (size_t)snprintf(s + used, n - used, "%s: %s\r\n", r->header_name[i],
                                 r->header_value[i]);
    *out = s;
    return 0;
}

static int compile_templates(lb_http_load *l, char *err, size_t n)
{
    const lb_http_spec *h = &l->spec->http;
    lb_request_spec def = {
        (char *)LB_HTTP_DEFAULT_METHOD, (char *)LB_HTTP_DEFAULT_PATH, NULL, 0, {0}, {0}, 1};
    int count = h->n_requests > 0 ? h->n_requests : 1;
    double total = 0;
    for (int i = 0; i < count; i++) {
        const lb_request_spec *r = h->n_requests > 0 ? &h->requests[i] : &def;
        char *text = NULL;
        if (head_text(r, l->cfg.target.host, &text)) return -ENOMEM;
        lb_tpl_error te;
        int rc = lb_template_compile(text, &l->tpl[i].head, &te);
        free(text);
        if (rc == 0 && r->body) rc = lb_template_compile(r->body, &l->tpl[i].body, &te);
        if (rc) {
            /* The spec loader checked these: only memory can fail here. */
            snprintf(err, n, "request template %d: %s", i,
                     rc == -ENOMEM ? "out of memory" : te.text);
            return rc;
        }
        l->tpl[i].has_body = r->body != NULL;
        total += r->weight > 0 ? r->weight : 1;
        l->tpl[i].cum_weight = total;
        if (!strcmp(r->method, "HEAD")) l->head_method = true;
        l->n_tpl = i + 1;
    }
    for (int i = 0; i < count; i++) l->tpl[i].cum_weight /= total;
    return 0;
}

static int pick_template(lb_http_load *l)
{
    if (l->n_tpl == 1) return 0;
    double u = lb_rng_uniform(&l->pick_rng);
    for (int i = 0; i < l->n_tpl - 1; i++)
        if (u < l->tpl[i].cum_weight) return i;
    return l->n_tpl - 1;
}

static int reserve(conn *c, size_t need)
{
    if (need <= c->out_cap) return 0;
    size_t cap = c->out_cap ? c->out_cap : 512;
    while (cap < need) cap *= 2;
    char *p = realloc(c->out, cap);
    if (!p) return -ENOMEM;
    c->out = p;
    c->out_cap = cap;
    return 0;
}

/* Fills c->out with request r's bytes. */
static int build_request(lb_http_load *l, conn *c, const req *r)
{
    const tpl *t = &l->tpl[r->tpl];
    for (;;) {
        size_t head = lb_template_expand(&t->head, &r->vals, c->out, c->out_cap);
        size_t body = t->has_body ? lb_template_expand(&t->body, &r->vals, NULL, 0) : 0;
        char cl[48];
        size_t cl_len =
            t->has_body ? (size_t)snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", body) : 0;
        size_t need = head + cl_len + 2 + body;
        if (need <= c->out_cap) {
            memcpy(c->out + head, cl, cl_len);
            memcpy(c->out + head + cl_len, "\r\n", 2);
            if (t->has_body)
                lb_template_expand(&t->body, &r->vals, c->out + head + cl_len + 2, body);
            c->out_len = need;
            c->out_off = 0;
            return 0;
        }
        if (reserve(c, need)) return -ENOMEM;
    }
}

/* ------------------------------------------------------------ requests -- */

static void schedule_client(lb_http_load *l, int64_t at_ns);
static void give_connection(lb_http_load *l, conn *c);
static void close_conn(lb_http_load *l, conn *c);

/* Moves request r to state, keeping count of the waiting ones. */
static void set_state(lb_http_load *l, req *r, int state)
{
    l->n_waiting += (state == R_WAITING) - (r->state == R_WAITING);
    r->state = state;
}

static void advance_head(lb_http_load *l)
{
    while (l->head < l->issued && RING(l, l->head)->state == R_DONE) l->head++;
}

/* Ends request seq with its outcome (cause for a failure) at end_ns: its
 * latency runs from the scheduled arrival to then. */
static void finish_at(lb_http_load *l, uint64_t seq, lb_outcome outcome, lb_http_cause cause,
                      int64_t end_ns)
{
    req *r = RING(l, seq);
    set_state(l, r, R_DONE);
    r->conn = -1;
    l->unfinished--;
    if (outcome == LB_FAILED) add(&l->sh->http.failed_by[cause], 1);
    lb_shared_record_request(l->sh, outcome,
                             end_ns > r->at_ns ? (uint64_t)(end_ns - r->at_ns) / 1000 : 0);
    if (r->from_client && outcome != LB_CANCELLED)
        schedule_client(l, mono_ns() + (int64_t)(l->spec->think_ms * 1e6));
    advance_head(l);
}

/* The same, ending now. */
static void finish(lb_http_load *l, uint64_t seq, lb_outcome outcome, lb_http_cause cause)
{
    finish_at(l, seq, outcome, cause, mono_ns());
}

/* Connection c starts or stops having I/O the loop must not put off (a
 * connect in progress, a request not yet written whole). */
static void set_pending_io(lb_http_load *l, conn *c, bool pending)
{
    if (c->pending_io == pending) return;
    c->pending_io = pending;
    l->n_pending_io += pending ? 1 : -1;
}

static lb_http_cause cause_of_errno(int e, bool connecting)
{
    if (e == ECONNREFUSED || e == ENOENT || (connecting && e == EAGAIN)) return LB_HTTP_REFUSED;
    if (e == ECONNRESET || e == EPIPE) return LB_HTTP_RESET;
    return LB_HTTP_IO;
}

/* The request on c failed: it ends, and the connection is closed. */
static void fail_conn(lb_http_load *l, conn *c, lb_http_cause cause)
{
    if (!c->answered && (c->state == C_BUSY || c->state == C_CONNECTING))
        finish(l, c->seq, LB_FAILED, cause);
    close_conn(l, c);
}

/* Writes what is left of c's request; on EAGAIN the next EPOLLOUT edge
 * resumes.  false when c was closed. */
static bool flush(lb_http_load *l, conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_pending_io(l, c, true);
            return true;
        }
        fail_conn(l, c, cause_of_errno(errno, false));
        return false;
    }
    set_pending_io(l, c, false);
    return true;
}

/* Puts request seq on connection c (idle or connecting) and starts it. */
static void start_on(lb_http_load *l, conn *c, uint64_t seq)
{
    req *r = RING(l, seq);
    set_state(l, r, R_ACTIVE);
    r->conn = c->index;
    c->seq = seq;
    c->answered = c->message_done = c->reusable = false;
    c->in_bytes = 0;
    c->rx_ns = 0;
    llhttp_init(&c->parser, HTTP_RESPONSE, &l->settings);
    c->parser.data = c;
    if (build_request(l, c, r)) {
        fail_conn(l, c, LB_HTTP_IO);
        return;
    }
    if (c->state == C_IDLE) {
        c->state = C_BUSY;
        flush(l, c);
    }
}

/* Opens a connection in a free slot for request seq. */
static void open_for(lb_http_load *l, uint64_t seq)
{
    conn *c = &l->conns[l->free_slots[--l->n_free]];
    const lb_http_target *t = &l->cfg.target;
    c->state = C_CONNECTING;
    set_pending_io(l, c, true);
    c->gen++;
    l->open++;
    c->fd = socket(t->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    c->seq = seq;
    c->answered = false;
    if (c->fd < 0) {
        int e = errno;
        set_state(l, RING(l, seq), R_ACTIVE);
        fail_conn(l, c, cause_of_errno(e, true));
        return;
    }
    add(&l->sh->http.connections_opened, 1);
    if (t->addr.ss.ss_family != AF_UNIX) {
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        /* Without receive times a late read would change latencies: read
         * as they come (no coalescing) and end responses when read. */
        if (setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0)
            l->rx_timestamps = false;
    }
    struct epoll_event ev = {EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                             {.u64 = ((uint64_t)c->gen << 32) | (uint32_t)c->index}};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        int e = errno;
        set_state(l, RING(l, seq), R_ACTIVE);
        fail_conn(l, c, cause_of_errno(e, true));
        return;
    }
    int rc = connect(c->fd, (const struct sockaddr *)&t->addr.ss, t->addr.len);
    if (rc < 0 && errno != EINPROGRESS) {
        int e = errno;
        set_state(l, RING(l, seq), R_ACTIVE);
        fail_conn(l, c, cause_of_errno(e, true));
        return;
    }
    start_on(l, c, seq);
    if (rc == 0 && c->state == C_CONNECTING) {
        c->state = C_BUSY;
        flush(l, c);
    }
}

static void close_conn(lb_http_load *l, conn *c)
{
    if (c->state == C_CLOSED) return;
    if (c->state == C_IDLE) {
        for (int i = 0; i < l->n_idle; i++)
            if (l->idle[i] == c->index) {
                l->idle[i] = l->idle[--l->n_idle];
                break;
            }
    }
    if (c->fd >= 0) close(c->fd); /* closing removes it from the epoll set */
    c->fd = -1;
    c->state = C_CLOSED;
    set_pending_io(l, c, false);
    c->gen++;
    l->open--;
    l->free_slots[l->n_free++] = c->index;
    /* A waiting request gets this connection's place in serve_waiters,
     * called from the loop: opening here could fail and close again,
     * recursing once per waiter. */
}

/* The newest request waiting for a connection, or false.  Newest first:
 * after a stall the oldest waiters have too little of their deadline left
 * to be answered, and serving them first gave every freed connection to a
 * request that timed out on it a moment later, so the engine never
 * recovered (README, "The engine"); the older ones time out at their
 * deadlines as they would have. */
static bool newest_waiter(lb_http_load *l, uint64_t *seq)
{
    if (l->n_waiting == 0) return false;
    for (uint64_t s = l->issued; s-- > l->head;)
        if (RING(l, s)->state == R_WAITING) {
            *seq = s;
            return true;
        }
    return false;
}

/* c is free again: the newest waiting request gets it, else it idles. */
static void give_connection(lb_http_load *l, conn *c)
{
    uint64_t seq;
    c->state = C_IDLE;
    if (newest_waiter(l, &seq)) {
        start_on(l, c, seq);
        return;
    }
    l->idle[l->n_idle++] = c->index;
}

/* Opens connections for waiting requests while there is room. */
static void serve_waiters(lb_http_load *l)
{
    uint64_t seq;
    while (l->open < l->cap && newest_waiter(l, &seq)) {
        set_state(l, RING(l, seq), R_ACTIVE);
        open_for(l, seq);
    }
}

static int grow_ring(lb_http_load *l)
{
    uint64_t cap = l->ring_cap * 2;
    req *ring = malloc(cap * sizeof *ring);
    if (!ring) return -ENOMEM;
    for (uint64_t s = l->head; s < l->issued; s++) ring[s & (cap - 1)] = *RING(l, s);
    free(l->ring);
    l->ring = ring;
    l->ring_cap = cap;
    return 0;
}

/* Submits one request scheduled at at_ns. */
static int submit(lb_http_load *l, int64_t at_ns, bool from_client)
{
    if (l->issued - l->head == l->ring_cap && grow_ring(l)) return -ENOMEM;
    uint64_t seq = l->issued++;
    req *r = RING(l, seq);
    lb_request_draw d;
    lb_request_draw_next(l->spec, &l->draw_rng, &d);
    r->at_ns = at_ns;
    r->deadline_ns = at_ns + (int64_t)(l->spec->timeout_ms * 1e6);
    r->conn = -1;
    r->from_client = from_client;
    r->tpl = pick_template(l);
    r->vals.v[LB_TPL_SERVICE_MS] = llround((double)d.service_ns / 1e6);
    r->vals.v[LB_TPL_SERVICE_US] = llround((double)d.service_ns / 1e3);
    r->vals.v[LB_TPL_PAYLOAD_BYTES] = (int64_t)d.payload_bytes;
    r->vals.v[LB_TPL_ERROR] = d.inject_error;
    r->vals.v[LB_TPL_SEQ] = (int64_t)seq;
    r->vals.v[LB_TPL_REP] = l->cfg.rep;
    r->vals.v[LB_TPL_TIMEOUT_MS] = llround(l->spec->timeout_ms);
    l->unfinished++;
    add(&l->sh->submitted, 1);
    int64_t now = mono_ns();
    lb_hist_record_us(&l->sh->http.send_lateness, now > at_ns ? (uint64_t)(now - at_ns) / 1000 : 0);
    /* Its deadline passed before the engine got to send it (the engine
     * ran late: a stall of the machine).  A client with a timeout gives up
     * before it connects, so it times out here without taking a
     * connection, rather than on one opened or taken only to be closed a
     * moment later by expire (each a deadline close and a reconnect).  The
     * stop's rule is expire's: deadlines count only up to stop_ns. */
    int64_t deadline_now = l->cfg.stop_ns > 0 && l->cfg.stop_ns < now ? l->cfg.stop_ns : now;
    if (r->deadline_ns <= deadline_now) {
        add(&l->sh->http.expired_unsent, 1);
        finish(l, seq, LB_TIMED_OUT, 0);
        return 0;
    }
    if (l->n_idle > 0) {
        set_state(l, r, R_ACTIVE);
        start_on(l, &l->conns[l->idle[--l->n_idle]], seq);
    } else if (l->open < l->cap) {
        set_state(l, r, R_ACTIVE);
        open_for(l, seq);
    } else {
        set_state(l, r, R_WAITING);
        add(&l->sh->http.waited, 1);
    }
    return 0;
}

/* ------------------------------------------------------------ arrivals -- */

static void next_open_arrival(lb_http_load *l)
{
    double at_ms;
    l->next_open_ns =
        lb_arrivals_next(&l->arrivals, &at_ms) ? l->cfg.start_ns + (int64_t)(at_ms * 1e6) : -1;
}

static void schedule_client(lb_http_load *l, int64_t at_ns)
{
    if (at_ns < l->cfg.start_ns) at_ns = l->cfg.start_ns;
    if (at_ns >= l->load_end_ns) return; /* this client is done */
    l->due[l->due_tail++ & (l->due_cap - 1)] = at_ns;
}

/* The next send time, or -1 when the load has no more arrivals. */
static int64_t next_arrival(const lb_http_load *l)
{
    if (l->spec->model != LB_LOAD_CLOSED) return l->next_open_ns;
    return l->due_head < l->due_tail ? l->due[l->due_head & (l->due_cap - 1)] : -1;
}

static int send_due(lb_http_load *l, int64_t now)
{
    for (;;) {
        int64_t at = next_arrival(l);
        if (at < 0 || at > now) return 0;
        bool closed = l->spec->model == LB_LOAD_CLOSED;
        if (closed)
            l->due_head++;
        else
            next_open_arrival(l);
        int rc = submit(l, at, closed);
        if (rc) return rc;
    }
}

static void expire(lb_http_load *l, int64_t now)
{
    while (l->head < l->issued) {
        req *r = RING(l, l->head);
        if (r->state != R_DONE && r->deadline_ns > now) return;
        if (r->state == R_WAITING) {
            finish(l, l->head, LB_TIMED_OUT, 0);
        } else if (r->state == R_ACTIVE) {
            conn *c = &l->conns[r->conn];
            uint64_t seq = l->head;
            c->answered = true; /* the close below must not count it again */
            add(&l->sh->http.deadline_closes, 1);
            finish(l, seq, LB_TIMED_OUT, 0);
            close_conn(l, c);
        }
        advance_head(l);
    }
}

static void cancel_all(lb_http_load *l)
{
    for (uint64_t s = l->head; s < l->issued; s++) {
        req *r = RING(l, s);
        if (r->state == R_DONE) continue;
        finish(l, s, LB_CANCELLED, 0);
    }
    for (int i = 0; i < l->cap; i++) {
        conn *c = &l->conns[i];
        if (c->state == C_CLOSED) continue;
        c->answered = true;
        if (c->fd >= 0) close(c->fd);
        c->fd = -1;
        c->state = C_CLOSED;
        set_pending_io(l, c, false);
    }
    l->open = l->n_idle = 0;
}

/* ------------------------------------------------------------ sockets -- */

/* The response on c is whole: the request ends with its status. */
static void answered(lb_http_load *l, conn *c)
{
    int status = llhttp_get_status_code(&c->parser);
    lb_outcome o = LB_FAILED;
    lb_http_cause cause = LB_HTTP_STATUS_OTHER;
    if (status >= 200 && status < 300)
        o = LB_COMPLETED;
    else if (status == 429 || status == 503)
        o = LB_REJECTED;
    else if (status >= 400 && status < 500)
        cause = LB_HTTP_STATUS_4XX;
    else if (status >= 500)
        cause = LB_HTTP_STATUS_5XX;
    c->answered = true;
    c->reusable = llhttp_should_keep_alive(&c->parser);
    /* It ends when the kernel received its last bytes, however late the
     * loop came to read them (a starved engine does not add its own delay
     * to the server's latency); without a receive time, now. */
    int64_t now = mono_ns();
    int64_t end = c->rx_ns > 0 && c->rx_ns < now ? c->rx_ns : now;
    const req *r = RING(l, c->seq);
    bool deadline_counts = l->cfg.stop_ns <= 0 || r->deadline_ns <= l->cfg.stop_ns;
    if (end > r->deadline_ns && deadline_counts) {
        /* It came after the deadline, which the loop only saw now: the
         * client had given up and closed, as expire would have. */
        add(&l->sh->http.deadline_closes, 1);
        c->reusable = false;
        finish_at(l, c->seq, LB_TIMED_OUT, 0, r->deadline_ns);
        return;
    }
    finish_at(l, c->seq, o, cause, end);
}

/* recv on c that also takes the kernel's receive time of what it read
 * (SO_TIMESTAMPNS, on TCP) into c->rx_ns. */
static ssize_t recv_stamped(lb_http_load *l, conn *c)
{
    if (!l->rx_timestamps) return recv(c->fd, l->rbuf, sizeof l->rbuf, 0);
    struct iovec iov = {l->rbuf, sizeof l->rbuf};
    union {
        char buf[CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } control;
    struct msghdr m = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
    ssize_t n = recvmsg(c->fd, &m, 0);
    if (n <= 0) return n;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS) continue;
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(cm), sizeof ts);
        c->rx_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec + l->real_to_mono;
    }
    return n;
}

/* Reads c until it would block.  Input on a connection without a request
 * (an idle one, or one whose response is done) closes it quietly. */
static void read_conn(lb_http_load *l, conn *c, uint32_t events)
{
    uint32_t gen = c->gen;
    for (;;) {
        ssize_t n = recv_stamped(l, c);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n < 0) {
            fail_conn(l, c, cause_of_errno(errno, false));
            return;
        }
        if (n == 0) {
            if (c->state == C_BUSY && !c->answered) {
                /* A body delimited by the close ends here; anything else is cut short. */
                llhttp_errno_t e = llhttp_finish(&c->parser);
                if ((e == HPE_OK || e == HPE_PAUSED) && c->message_done) {
                    answered(l, c);
                    close_conn(l, c);
                    return;
                }
                fail_conn(l, c, LB_HTTP_CLOSED);
                return;
            }
            close_conn(l, c);
            return;
        }
        if (c->state != C_BUSY || c->answered) {
            close_conn(l, c); /* bytes nobody asked for */
            return;
        }
        c->in_bytes += n;
        if (c->in_bytes > l->spec->http.max_response_bytes) {
            fail_conn(l, c, LB_HTTP_TOO_LARGE);
            return;
        }
        llhttp_errno_t e = llhttp_execute(&c->parser, l->rbuf, (size_t)n);
        if (e == HPE_PAUSED && c->message_done) {
            size_t used = (size_t)(llhttp_get_error_pos(&c->parser) - l->rbuf);
            answered(l, c);
            if (used < (size_t)n) c->reusable = false; /* something followed the response */
            if (c->gen != gen) return;
            /* A short read whose event did not say the peer closed has
             * emptied the socket, and anything arriving later (a close
             * included) raises a new edge: no read to EAGAIN needed.
             * Otherwise drain, to see a close that came with the reply. */
            if (c->reusable && (size_t)n < sizeof l->rbuf &&
                !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
                break;
            continue;
        }
        if (e != HPE_OK) {
            fail_conn(l, c, LB_HTTP_MALFORMED);
            return;
        }
    }
    if (c->state == C_BUSY && c->answered) {
        if (c->reusable)
            give_connection(l, c);
        else
            close_conn(l, c);
    }
}

static void on_conn_event(lb_http_load *l, conn *c, uint32_t events)
{
    uint32_t gen = c->gen;
    if (c->state == C_CONNECTING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
        if (err) {
            fail_conn(l, c, cause_of_errno(err, true));
            return;
        }
        c->state = C_BUSY;
        if (!flush(l, c)) return;
    } else if (c->state == C_BUSY && (events & EPOLLOUT) && c->out_off < c->out_len) {
        if (!flush(l, c)) return;
    }
    if (c->gen == gen && c->state != C_CONNECTING &&
        (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        read_conn(l, c, events);
}

/* --------------------------------------------------------------- loop -- */

/* This thread's time spent runnable but waiting for a CPU so far, or -1. */
static int64_t cpu_wait_so_far_ns(void)
{
    int64_t run, wait;
    return lb_thread_schedstat(&run, &wait) == 0 ? wait : -1;
}

#define ID_TIMER UINT64_MAX
#define ID_STOP  (UINT64_MAX - 1)

/* Makes sure the timer fires by at_ns (0: nothing to wait for).  A timer
 * armed earlier than needed is left alone: it wakes the loop early, which
 * then re-arms it, so the common case (the head's deadline moving later as
 * requests end) costs no system call. */
static int arm_timer(lb_http_load *l, int64_t at_ns)
{
    if (at_ns <= 0 || (l->armed_ns > 0 && l->armed_ns <= at_ns)) return 0;
    struct itimerspec its = {{0, 0}, {at_ns / 1000000000LL, at_ns % 1000000000LL}};
    if (timerfd_settime(l->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) return -errno;
    l->armed_ns = at_ns;
    return 0;
}

/* Whether the loop may wait for its timer alone, reading the sockets
 * only when it fires (at most COALESCE_MAX_NS later): an open load whose
 * sockets give receive times, so a late read changes no latency, and
 * nothing that a late read would hold up — no request waiting for a
 * connection, no connect or write in progress.  At thousands of requests
 * a second this is one wake-up per arrival instead of one per arrival and
 * one per response; on machines where a wake-up costs tens of
 * microseconds (README, "The engine") that is most of the engine's CPU. */
#define COALESCE_MAX_NS 1000000LL
static bool may_coalesce(const lb_http_load *l, int64_t now, int64_t wake)
{
    return l->rx_timestamps && l->spec->model != LB_LOAD_CLOSED && wake > now &&
           wake - now <= COALESCE_MAX_NS && l->n_pending_io == 0 && l->n_waiting == 0;
}

/* Sleeps until the timer fires or a stop is requested; the loop then
 * collects the sockets' events without waiting. */
static void wait_for_timer(lb_http_load *l)
{
    struct pollfd fds[2] = {{l->timer_fd, POLLIN, 0}, {l->stop_fd, POLLIN, 0}};
    while (poll(fds, 2, -1) < 0 && errno == EINTR) {
    }
}

static int64_t earliest(int64_t a, int64_t b)
{
    if (a <= 0) return b;
    if (b <= 0) return a;
    return a < b ? a : b;
}

int lb_http_load_run(lb_http_load *l, lb_shared *sh)
{
    l->sh = sh;
    atomic_store(&sh->http.active, 1);
    int64_t wait_at_start = cpu_wait_so_far_ns();
    if (l->spec->model == LB_LOAD_CLOSED)
        for (int i = 0; i < l->spec->clients; i++) schedule_client(l, l->cfg.start_ns);
    else
        next_open_arrival(l);
    struct epoll_event events[256];
    int rc = 0;
    for (;;) {
        int64_t now = mono_ns();
        if (l->rx_timestamps) {
            struct timespec real;
            clock_gettime(CLOCK_REALTIME, &real);
            l->real_to_mono = now - ((int64_t)real.tv_sec * 1000000000LL + real.tv_nsec);
        }
        if ((rc = send_due(l, now))) break;
        /* A loop that wakes late must not time out what the stop, which
         * came first, cancels: deadlines count only up to stop_ns. */
        expire(l, l->cfg.stop_ns > 0 && l->cfg.stop_ns < now ? l->cfg.stop_ns : now);
        serve_waiters(l);
        if (!l->load_over && now >= l->load_end_ns) {
            l->load_over = true;
            if (l->cfg.on_load_end) l->cfg.on_load_end(l->cfg.arg);
        }
        if (l->stopping || (l->cfg.stop_ns > 0 && now >= l->cfg.stop_ns)) {
            cancel_all(l);
            break;
        }
        int64_t arrival = next_arrival(l);
        if (arrival < 0 && l->unfinished == 0 && l->load_over) break;
        int64_t deadline = l->head < l->issued ? RING(l, l->head)->deadline_ns : 0;
        int64_t wake = earliest(earliest(arrival, deadline), l->cfg.stop_ns);
        if (!l->load_over) wake = earliest(wake, l->load_end_ns);
        int timeout = -1;
        if (wake > 0 && wake <= now)
            timeout = 0;
        else if ((rc = arm_timer(l, wake)))
            break;
        if (timeout != 0) add(&l->sh->http.sleeps, 1);
        if (timeout != 0 && may_coalesce(l, now, wake)) {
            wait_for_timer(l);
            timeout = 0;
        }
        int n = epoll_wait(l->ep, events, 256, timeout);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        for (int i = 0; i < n; i++) {
            uint64_t id = events[i].data.u64;
            if (id == ID_TIMER) {
                uint64_t ticks;
                if (read(l->timer_fd, &ticks, sizeof ticks) < 0) {
                    /* EAGAIN: re-armed before it was read */
                }
                l->armed_ns = 0;
                continue;
            }
            if (id == ID_STOP) {
                l->stopping = true; /* acted on at the top of the loop */
                continue;
            }
            conn *c = &l->conns[(uint32_t)id];
            if ((uint32_t)(id >> 32) != c->gen || c->state == C_CLOSED) continue; /* stale */
            on_conn_event(l, c, events[i].events);
        }
    }
    if (rc) cancel_all(l);
    int64_t wait_at_end = cpu_wait_so_far_ns();
    atomic_store(&sh->http.cpu_wait_ns,
                 wait_at_start >= 0 && wait_at_end >= 0 ? wait_at_end - wait_at_start : -1);
    return rc;
}

void lb_http_load_request_stop(lb_http_load *l)
{
    uint64_t one = 1;
    ssize_t n = write(l->stop_fd, &one, sizeof one);
    (void)n;
}

/* Enough descriptors for the connection cap (raises the soft limit). */
static void raise_fd_limit(int need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)need) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)need ? rl.rlim_max : (rlim_t)need;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int lb_http_load_new(const lb_http_load_config *cfg, lb_http_load **out, char *err, size_t n)
{
    *out = NULL;
    lb_http_load *l = calloc(1, sizeof *l);
    if (!l) goto nomem;
    l->cfg = *cfg;
    l->spec = cfg->spec;
    l->ep = l->timer_fd = l->stop_fd = -1;
    if (l->cfg.start_ns == 0) l->cfg.start_ns = mono_ns();
    l->load_end_ns = l->cfg.start_ns + (int64_t)(l->spec->duration_ms * 1e6);
    l->cap = lb_http_connections(l->spec);
    l->rx_timestamps = cfg->target.addr.ss.ss_family != AF_UNIX;
    l->conns = calloc((size_t)l->cap, sizeof *l->conns);
    l->idle = calloc((size_t)l->cap, sizeof *l->idle);
    l->free_slots = calloc((size_t)l->cap, sizeof *l->free_slots);
    l->ring_cap = 1024;
    l->ring = calloc(l->ring_cap, sizeof *l->ring);
    l->due_cap = 1;
    while (l->due_cap < (uint64_t)l->spec->clients) l->due_cap *= 2;
    l->due = calloc(l->due_cap, sizeof *l->due);
    if (!l->conns || !l->idle || !l->free_slots || !l->ring || !l->due) goto nomem;
    for (int i = 0; i < l->cap; i++) {
        l->conns[i].fd = -1;
        l->conns[i].index = i;
        l->conns[i].engine = l;
        l->free_slots[l->n_free++] = l->cap - 1 - i;
    }
    llhttp_settings_init(&l->settings);
    l->settings.on_headers_complete = on_headers_complete;
    l->settings.on_message_complete = on_message_complete;
    int rc = compile_templates(l, err, n);
    if (rc) {
        lb_http_load_free(l);
        return rc;
    }
    lb_arrivals_init(&l->arrivals, l->spec, cfg->seed);
    lb_rng_seed(&l->draw_rng, lb_request_draw_seed(cfg->seed));
    lb_rng_seed(&l->pick_rng, cfg->seed ^ 0x74656d706c617465ULL); /* "template" */
    raise_fd_limit(l->cap + 64);
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    l->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->ep < 0 || l->timer_fd < 0 || l->stop_fd < 0) {
        rc = -errno;
        snprintf(err, n, "cannot set up the event loop: %s", strerror(-rc));
        lb_http_load_free(l);
        return rc;
    }
    struct epoll_event te = {EPOLLIN, {.u64 = ID_TIMER}}, se = {EPOLLIN, {.u64 = ID_STOP}};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->timer_fd, &te) < 0 ||
        epoll_ctl(l->ep, EPOLL_CTL_ADD, l->stop_fd, &se) < 0) {
        rc = -errno;
        snprintf(err, n, "cannot set up the event loop: %s", strerror(-rc));
        lb_http_load_free(l);
        return rc;
    }
    *out = l;
    return 0;
nomem:
    snprintf(err, n, "out of memory");
    lb_http_load_free(l);
    return -ENOMEM;
}

void lb_http_load_free(lb_http_load *l)
{
    if (!l) return;
    for (int i = 0; l->conns && i < l->cap; i++) {
        if (l->conns[i].fd >= 0) close(l->conns[i].fd);
        free(l->conns[i].out);
    }
    for (int i = 0; i < l->n_tpl; i++) {
        lb_template_free(&l->tpl[i].head);
        lb_template_free(&l->tpl[i].body);
    }
    if (l->ep >= 0) close(l->ep);
    if (l->timer_fd >= 0) close(l->timer_fd);
    if (l->stop_fd >= 0) close(l->stop_fd);
    free(l->conns);
    free(l->idle);
    free(l->free_slots);
    free(l->ring);
    free(l->due);
    free(l);
}
