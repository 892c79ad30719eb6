/*
 * http_load.h — the HTTP/1.1 load engine: a scenario spec's load sent as
 * requests to a target over TCP or a Unix socket.
 *
 * The engine walks the spec's load model with loadgen.c (constant or
 * Poisson arrivals, ramping stages, or the closed model's clients and
 * think time) and sends each request, filled from the spec's request
 * templates, on a keep-alive connection: an idle one when there is one, a
 * new one while fewer than the cap are open, else the request waits for
 * the next connection to come free (that wait is part of its latency).
 * Every request has a client deadline, timeout_ms after its *scheduled*
 * arrival; when it passes the engine closes that request's connection, as
 * an HTTP client with a timeout does, so the server sees the disconnect.
 * Latency is measured from the scheduled arrival (no coordinated
 * omission) to when the kernel received the response (TCP receive
 * times; on a Unix socket, when it was read).  The lateness of each send against its schedule is
 * recorded as the engine's own: the time from the scheduled arrival to when the engine sent the
 * request — wrote it to an idle connection, started a connection for it, or queued it because the
 * cap was reached — so it measures how well the engine keeps its schedule, while waits for the
 * server (connections, answers) are in the latency.  Responses are
 * parsed with llhttp.
 *
 * Outcomes (every submitted request ends in exactly one):
 *   completed  a 2xx response;
 *   rejected   429 or 503 (backpressure);
 *   failed     any other status, a connection that could not be opened,
 *              was reset or closed before a whole response, a response
 *              llhttp rejects or one larger than max_response_bytes —
 *              counted by cause (lb_http_cause);
 *   timed_out  the deadline passed first (a request whose deadline had
 *              already passed when the engine, running late, came to
 *              send it times out there and then, without a connection:
 *              expired_unsent);
 *   cancelled  still unanswered when the run stopped (stop_ns or
 *              lb_http_load_request_stop).
 * The engine is one thread with one epoll set (sockets non-blocking,
 * edge-triggered; a timerfd for the next arrival or deadline), meant to
 * run in a process of its own so it cannot disturb the parent's sampling
 * schedule.  It reports into the run's shared page (shared.h): submitted,
 * outcome and latency like the in-process clients, and lb_http_stats.
 */
#ifndef LEAKBENCH_HTTP_LOAD_H
#define LEAKBENCH_HTTP_LOAD_H

#include "histogram.h"
#include "netaddr.h"
#include "core/spec.h"

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

/* Why a request failed. */
typedef enum lb_http_cause {
    LB_HTTP_STATUS_4XX = 0, /* a 4xx other than 429 */
    LB_HTTP_STATUS_5XX,     /* a 5xx other than 503 */
    LB_HTTP_STATUS_OTHER,   /* 1xx or 3xx */
    LB_HTTP_REFUSED,        /* connect: refused, no such socket, backlog full */
    LB_HTTP_RESET,          /* the connection was reset (ECONNRESET, EPIPE) */
    LB_HTTP_CLOSED,         /* the server closed the connection before a whole response */
    LB_HTTP_MALFORMED,      /* llhttp rejected the response */
    LB_HTTP_TOO_LARGE,      /* the response exceeded max_response_bytes */
    LB_HTTP_IO,             /* any other socket error */
    LB_HTTP_CAUSE_COUNT
} lb_http_cause;
const char *lb_http_cause_name(lb_http_cause c); /* "status_4xx", "refused", ... */

/* What the engine reports besides the outcomes (lives in the shared page). */
typedef struct lb_http_stats {
    _Atomic int active; /* set when an HTTP engine drove the run */
    _Atomic int64_t failed_by[LB_HTTP_CAUSE_COUNT];
    _Atomic int64_t connections_opened;
    _Atomic int64_t deadline_closes; /* connections closed because a deadline passed */
    _Atomic int64_t waited;          /* requests that waited for a free connection */
    _Atomic int64_t expired_unsent;  /* timed out before the engine sent them (it ran late) */
    _Atomic int64_t sleeps;          /* waits in which the loop could sleep: its wake-ups */
    lb_histogram send_lateness;      /* us, sent (see above) - scheduled arrival */
    /* How long the engine's thread was runnable but waiting for a CPU
     * during lb_http_load_run (the kernel's schedstat run delay), or -1
     * when the kernel does not say: send lateness beyond the engine's own
     * work is this wait. */
    _Atomic int64_t cpu_wait_ns;
} lb_http_stats;

/* Where the requests go, and the Host header they carry. */
typedef struct lb_http_target {
    lb_netaddr addr;
    char host[LB_NETADDR_TEXT_MAX]; /* "127.0.0.1:8080", "[::1]:80", "localhost" for Unix */
} lb_http_target;
void lb_http_target_init(lb_http_target *t, const lb_netaddr *addr);

typedef struct lb_http_load_config {
    const lb_scenario_spec *spec; /* load, service_time, timeout_ms, error_rate, payload, http */
    int rep;
    uint64_t seed; /* the repetition's seed (lb_rep_seed) */
    lb_http_target target;
    int64_t start_ns; /* CLOCK_MONOTONIC start of the load; arrivals are offsets from it */
    int64_t stop_ns;  /* cancel what is unanswered then; 0 = let every request end (<= timeout) */
    /* Called once, from lb_http_load_run, when the load's duration is over
     * (requests may still be in flight); NULL = none. */
    void (*on_load_end)(void *arg);
    void *arg;
} lb_http_load_config;

typedef struct lb_http_load lb_http_load;
struct lb_shared; /* shared.h */

/* Compiles the templates and sets up the event loop.  0, or a negative
 * errno with a message in err. */
int lb_http_load_new(const lb_http_load_config *cfg, lb_http_load **out, char *err, size_t n);
/* Runs the whole load, recording into sh; returns when every request has
 * ended.  0 or a negative errno (the event loop itself failed). */
int lb_http_load_run(lb_http_load *l, struct lb_shared *sh);
/* Makes lb_http_load_run cancel what is in flight and return; safe from a
 * signal handler or another thread. */
void lb_http_load_request_stop(lb_http_load *l);
void lb_http_load_free(lb_http_load *l);

#endif
