/*
 * probe_test.c — probes (probe.c) over the llhttp GET (http_get.c,
 * http_response.c) and the Prometheus reader (promtext.c): against canned
 * servers in a thread of this program (a real captured pprof 404, garbage,
 * truncated, huge, silent, refused), against a non-Go target (this program
 * in a role, serving /metrics), and end to end against examples/go-seed
 * ($LEAKBENCH_GO_SEED, make test sets it): the leaky service's goroutines
 * grow by one per timed-out request and the leak report's top group is
 * the handler's send at the LEAK SITE line; the graceful one returns to
 * its baseline and reports nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/test_util.h"
#include "goleak.h"
#include "http_get.h"
#include "http_test_server.h"
#include "probe.h"
#include "promtext.h"
#include "target.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char self_exe[4096];

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------ canned server -- */

typedef struct canned {
    int listen_fd, port;
    const char *response; /* written whole after the request head; NULL: never answer */
    size_t len;
    const char *filler; /* then written `repeat` times (a huge body) */
    size_t repeat;
    pthread_t thread;
} canned;

static void *canned_main(void *arg)
{
    canned *c = arg;
    for (;;) {
        int fd = accept(c->listen_fd, NULL, NULL);
        if (fd < 0) return NULL;
        char buf[4096];
        size_t got = 0;
        while (got < sizeof buf - 1) {
            ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
            if (r <= 0) break;
            got += (size_t)r;
            buf[got] = 0;
            if (strstr(buf, "\r\n\r\n")) break;
        }
        if (c->response && send(fd, c->response, c->len, MSG_NOSIGNAL) >= 0)
            for (size_t i = 0; i < c->repeat; i++)
                if (send(fd, c->filler, strlen(c->filler), MSG_NOSIGNAL) < 0) break;
        if (!c->response) { /* silent: hold until the client gives up */
            while (recv(fd, buf, sizeof buf, 0) > 0) continue;
        }
        close(fd);
    }
}

static void canned_start(canned *c, const char *response, size_t len, const char *filler,
                         size_t repeat)
{
    c->response = response;
    c->len = len;
    c->filler = filler;
    c->repeat = repeat;
    c->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(c->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(c->listen_fd, 16), 0);
    getsockname(c->listen_fd, (struct sockaddr *)&a, &al);
    c->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&c->thread, NULL, canned_main, c), 0);
}

static void canned_stop(canned *c)
{
    shutdown(c->listen_fd, SHUT_RDWR);
    close(c->listen_fd);
    pthread_join(c->thread, NULL);
}

static int probe_port(lb_probe_kind kind, int port, const char *metric, const char *labels,
                      size_t max, lb_probe_reading *r)
{
    struct sockaddr_storage addr;
    socklen_t len;
    lb_http_loopback(port, &addr, &len);
    lb_probe_config c = {kind, NULL, metric, labels, 300, max};
    lb_probe_target t = {(struct sockaddr *)&addr, len, "127.0.0.1", 0, 0, NULL};
    return lb_probe_read(&c, &t, r);
}

static void expect_probe(const char *response, size_t repeat, size_t max, int want_rc,
                         const char *want_err)
{
    static char chunk[8192 + 16];
    if (!chunk[0]) { /* one 8 KiB chunk of a chunked body */
        int o = sprintf(chunk, "2000\r\n");
        memset(chunk + o, 'x', 8192);
        memcpy(chunk + o + 8192, "\r\n", 3);
    }
    canned c;
    canned_start(&c, response, response ? strlen(response) : 0, chunk, repeat);
    lb_probe_reading r;
    int rc = probe_port(LB_PROBE_GO_PPROF, c.port, NULL, NULL, max, &r);
    if (rc != want_rc || !strstr(r.error, want_err))
        print_error("rc %d (want %d), error \"%s\" (want \"%s\")\n", rc, want_rc, r.error,
                    want_err);
    assert_int_equal(rc, want_rc);
    assert_non_null(strstr(r.error, want_err));
    assert_true(r.cost_ms >= 0);
    lb_probe_reading_free(&r);
    canned_stop(&c);
}

static void probe_answers_404_or_garbage(void **state)
{
    (void)state;
    /* the real 404 of net/http/pprof for an unknown profile */
    char *page = strdup(lb_test_slurp("harness/testdata/pprof-404.txt"));
    expect_probe(page, 0, 0, -EPROTO, "HTTP 404: Unknown profile");
    free(page);
    expect_probe("HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\n<html>oops</html>\r\n\r\n", 0, 0,
                 -EBADMSG, "not a goroutine profile: line 1:1");
    expect_probe("\x01\x02 this is not HTTP\r\n\r\n", 0, 0, -EBADMSG, "malformed response");
    expect_probe("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\ngoroutine profile: total 3\n", 0,
                 0, -EBADMSG, "malformed response");
    expect_probe("HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\ngoroutine profile: total 3\n1 @", 0,
                 0, -EBADMSG, "the records count 1 goroutines but the header says total 3");
    /* huge: 4 MiB of chunks against a 1 MiB limit */
    expect_probe("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 512, 1 << 20, -E2BIG,
                 "larger than 1048576 bytes");
    expect_probe(NULL, 0, 0, -ETIMEDOUT, "no whole response within 300 ms");
}

static void probe_refused(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd); /* nothing listens there now */
    lb_probe_reading r;
    assert_int_equal(probe_port(LB_PROBE_PROMETHEUS, ntohs(a.sin_port), "up", NULL, 0, &r),
                     -ECONNREFUSED);
    assert_non_null(strstr(r.error, "connect: Connection refused"));
    lb_probe_reading_free(&r);
    lb_probe_config c = {LB_PROBE_PROMETHEUS, NULL, NULL, NULL, 0, 0};
    lb_probe_target t = {0};
    assert_int_equal(lb_probe_read(&c, &t, &r), -EINVAL); /* no metric named */
    lb_probe_kind k;
    assert_int_equal(lb_probe_kind_parse("go_pprof", &k), 0);
    assert_int_equal(k, LB_PROBE_GO_PPROF);
    assert_int_equal(lb_probe_kind_parse("pprof", &k), -EINVAL);
    assert_string_equal(lb_probe_kind_name(LB_PROBE_THREADS), "threads");
}

/* --------------------------------------------------------- prometheus -- */

static double prom(const char *text, const char *name, const char *labels, int want_rc,
                   const char *want_err)
{
    double v = NAN;
    char err[256] = "";
    int rc = lb_prom_read(text, strlen(text), name, labels, &v, err, sizeof err);
    if (rc != want_rc || (want_err && !strstr(err, want_err)))
        print_error("%s{%s}: rc %d, \"%s\"\n", name, labels ? labels : "", rc, err);
    assert_int_equal(rc, want_rc);
    if (want_err) assert_non_null(strstr(err, want_err));
    return v;
}

static void prometheus_text(void **state)
{
    (void)state;
    char *text = strdup(lb_test_slurp("harness/testdata/prom-go-seed.txt"));
    assert_near(prom(text, "go_goroutines", NULL, 0, NULL), 19, 0);
    assert_near(prom(text, "go_seed_requests_total", "outcome=\"abandoned\"", 0, NULL), 14, 0);
    assert_near(prom(text, "go_seed_requests_total", NULL, 0, NULL), 16, 0); /* summed */
    prom(text, "jvm_threads_current", NULL, -ENOENT, "no sample of jvm_threads_current");
    prom(text, "go_goroutines", "x=", -EBADMSG, "label selector");
    free(text);
    const char *ok =
        "# HELP a b\n\nleakbench_blocked_tasks{op=\"send\",q=\"a\\\"b\\\\\"} 3 1700000000000\r\n"
        "leakbench_blocked_tasks{op=\"recv\"} +Inf\nnodejs_active_handles_total 4.5e1\n"
        "x NaN\n";
    assert_near(prom(ok, "leakbench_blocked_tasks", "op=\"send\"", 0, NULL), 3, 0);
    assert_near(prom(ok, "leakbench_blocked_tasks", "q=\"a\\\"b\\\\\"", 0, NULL), 3, 0);
    assert_near(prom(ok, "nodejs_active_handles_total", NULL, 0, NULL), 45, 0);
    assert_true(isinf(prom(ok, "leakbench_blocked_tasks", "op=\"recv\"", 0, NULL)));
    prom("<html>Not Found</html>\n", "up", NULL, -EBADMSG, "line 1:1: expected a metric name");
    prom("up 1\nup{a=\"x} 2\n", "up", NULL, -EBADMSG, "line 2:");
    prom("up one\n", "up", NULL, -EBADMSG, "line 1:4: expected a value");
    prom("up 1 2 3\n", "up", NULL, -EBADMSG, "timestamp");
    prom("up{a=\"\\q\"} 1\n", "up", NULL, -EBADMSG, "bad escape");
    prom("up", "up", NULL, -EBADMSG, "line 1:3: expected a blank");
}

/* A non-Go target: this program serving /metrics in a role. */
static void prometheus_probe_of_a_c_target(void **state)
{
    (void)state;
    const char *argv[] = {self_exe, NULL};
    const char *env[] = {"LB_PROBE_TEST_ROLE=metrics", NULL};
    lb_target_config c = {0};
    c.argv = argv;
    c.env = env;
    c.port = LB_TARGET_PORT_AUTO;
    lb_target t;
    char err[256];
    assert_int_equal(lb_target_start(&c, &t, err, sizeof err), 0);
    assert_int_equal(
        lb_target_wait_ready(&t, LB_READY_HTTP, "/metrics", 10000, NULL, err, sizeof err), 0);
    lb_probe_config pc = {LB_PROBE_PROMETHEUS, NULL, "test_live_tasks", "kind=\"worker\"", 0, 0};
    lb_probe_target pt = {(struct sockaddr *)&t.addr, t.addr_len, t.host, t.pid, t.pid, NULL};
    lb_probe_reading r;
    assert_int_equal(lb_probe_read(&pc, &pt, &r), 0);
    assert_near(r.tasks, 7, 0);
    assert_int_equal(r.http_status, 200);
    lb_probe_reading_free(&r);
    lb_probe_config tc = {LB_PROBE_THREADS, NULL, NULL, NULL, 0, 0};
    assert_int_equal(lb_probe_read(&tc, &pt, &r), 0);
    assert_true(r.tasks >= 1);
    lb_probe_reading_free(&r);
    lb_target_shutdown sd;
    assert_int_equal(lb_target_stop(&t, SIGTERM, 2000, &sd), 0);
    assert_int_equal(sd.outcome, LB_SHUTDOWN_EXITED);
}

/* LB_PROBE_TEST_ROLE=metrics: a tiny HTTP server on $PORT. */
static int serve_metrics(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    a.sin_port = htons((uint16_t)atoi(getenv("PORT") ? getenv("PORT") : "0"));
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 16)) return 1;
    const char *body = "# TYPE test_live_tasks gauge\ntest_live_tasks{kind=\"worker\"} 7\n"
                       "test_live_tasks{kind=\"io\"} 2\n";
    char resp[512];
    snprintf(resp, sizeof resp,
             "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n%s",
             strlen(body), body);
    for (;;) {
        int c = accept(fd, NULL, NULL);
        if (c < 0) continue;
        char buf[4096];
        ssize_t r = recv(c, buf, sizeof buf, 0);
        if (r > 0) send(c, resp, strlen(resp), MSG_NOSIGNAL);
        close(c);
    }
}

/* ------------------------------------------------------------ go-seed -- */

static const char *go_seed(void)
{
    const char *p = getenv("LEAKBENCH_GO_SEED");
    return p && *p ? p : "build/go-seed/go-seed";
}

static int leak_site_line(void)
{
    int line = -1;
    if (lb_test_marker_lines("examples/go-seed/main.go", "LEAK SITE", &line, 1) != 1)
        fail_msg("no single LEAK SITE marker in examples/go-seed/main.go");
    return line;
}

/* The probe's connection to the Go service, kept between readings as the
 * runner keeps it: a connection per reading is a goroutine of its own on
 * the server, and one still closing from the last reading counts as one
 * more than the baseline (seen at a load average of 400). */
static lb_http_conn probe_conn = {-1};

static void start_go_seed(lb_target *t, const char *mode)
{
    lb_http_conn_close(&probe_conn); /* a new service, a new connection */
    if (access(go_seed(), X_OK) != 0)
        fail_msg("%s not built (make build/go-seed/go-seed)", go_seed());
    const char *argv[] = {go_seed(),  "-mode", mode,     "-listen", "127.0.0.1:{port}",
                          "-workers", "8",     "-queue", "8",       NULL};
    lb_target_config c = {0};
    c.argv = argv;
    c.port = LB_TARGET_PORT_AUTO;
    char err[256];
    assert_int_equal(lb_target_start(&c, t, err, sizeof err), 0);
    int rc = lb_target_wait_ready(t, LB_READY_HTTP, "/healthz", 30000, NULL, err, sizeof err);
    if (rc) print_error("%s\n", err);
    assert_int_equal(rc, 0);
}

/* examples/go-seed, absolute: the own-code directory of its frames. */
static const char *own_dir(void)
{
    static char dir[PATH_MAX];
    if (!dir[0]) assert_non_null(realpath("examples/go-seed", dir));
    return dir;
}

static lb_probe_target probe_target(lb_target *t)
{
    lb_probe_target pt = {
        (struct sockaddr *)&t->addr, t->addr_len, t->host, t->pid, t->pid, NULL, &probe_conn};
    return pt;
}

static double goroutines(lb_target *t, lb_go_series *series, double t_s)
{
    lb_probe_config c = {LB_PROBE_GO_PPROF, NULL, NULL, NULL, 2000, 0};
    lb_probe_target pt = probe_target(t);
    lb_probe_reading r;
    int rc = lb_probe_read(&c, &pt, &r);
    if (rc) print_error("%s\n", r.error);
    assert_int_equal(rc, 0);
    if (series) assert_int_equal(lb_go_series_add(series, &r.profile, t_s, own_dir()), 0);
    double n = r.tasks;
    lb_probe_reading_free(&r);
    return n;
}

/* n requests that outlive their 50 ms client deadline. */
static void time_out_requests(lb_target *t, int n)
{
    for (int i = 0; i < n; i++) {
        lb_http_response resp;
        char err[256];
        assert_int_equal(lb_http_get((struct sockaddr *)&t->addr, t->addr_len, t->host,
                                     "/work?service_ms=300&payload=65536", 50, 1024, &resp, err,
                                     sizeof err),
                         -ETIMEDOUT);
    }
}

static void final_report(lb_target *t, const lb_go_series *series, lb_leak_report *rep)
{
    lb_probe_config c = {LB_PROBE_GO_PPROF, LB_PROBE_GO_PPROF_FULL_PATH, NULL, NULL, 2000, 0};
    lb_probe_target pt = probe_target(t);
    lb_probe_reading r;
    assert_int_equal(lb_probe_read(&c, &pt, &r), 0);
    assert_int_equal(r.profile.debug, 2);
    assert_int_equal(lb_go_leak_report(&r.profile, series, own_dir(), rep), 0);
    lb_probe_reading_free(&r);
}

static void go_seed_leaky_grows_and_points_at_the_send(void **state)
{
    (void)state;
    lb_target t;
    start_go_seed(&t, "leaky");
    lb_go_series series = {0};
    double base = goroutines(&t, &series, 0);
    time_out_requests(&t, 10);
    /* Each stranded goroutine finishes its 300 ms of work, then blocks:
     * about one per timed-out request (on a loaded machine a client may
     * give up before its request reached the handler). */
    double n = base, end = now_ms() + 10000;
    while (n < base + 8 && now_ms() < end) {
        usleep(20 * 1000);
        n = goroutines(&t, NULL, 0);
    }
    if (n < base + 8) print_error("goroutines %g, baseline %g\n", n, base);
    assert_true(n >= base + 8);
    usleep(500 * 1000);
    assert_true(goroutines(&t, &series, 2.0) >= base + 8); /* and they stay */
    lb_leak_report rep;
    final_report(&t, &series, &rep);
    assert_true(rep.n_groups >= 1);
    const lb_leak_group *g = &rep.groups[0];
    assert_true(g->count >= 8 && g->count <= 10);
    assert_string_equal(g->op_name, "chan send");
    assert_non_null(strstr(g->site.file, "examples/go-seed/main.go"));
    assert_int_equal(g->site.line, leak_site_line());
    assert_true(g->growth_per_s > 0);
    json_t *leaks_json = lb_leak_report_to_json(&rep, NULL); /* in the test log */
    json_dumpf(leaks_json, stdout, JSON_INDENT(2));
    json_decref(leaks_json);
    lb_go_series_free(&series);
    lb_target_shutdown sd;
    assert_int_equal(lb_target_stop(&t, SIGTERM, 3000, &sd), 0);
    assert_int_equal(sd.outcome, LB_SHUTDOWN_EXITED);
    assert_true(WIFEXITED(sd.main_status) && WEXITSTATUS(sd.main_status) == 0);
}

static void go_seed_graceful_returns_to_baseline(void **state)
{
    (void)state;
    lb_target t;
    start_go_seed(&t, "graceful");
    lb_go_series series = {0};
    double base = goroutines(&t, &series, 0);
    time_out_requests(&t, 10);
    double n = -1, end = now_ms() + 10000;
    do {
        usleep(20 * 1000);
        n = goroutines(&t, NULL, 0);
    } while (n > base && now_ms() < end);
    assert_true(n <= base);
    assert_true(goroutines(&t, &series, 2.0) <= base);
    lb_leak_report rep;
    final_report(&t, &series, &rep);
    if (rep.total) {
        json_t *leaks_json = lb_leak_report_to_json(&rep, NULL);
        json_dumpf(leaks_json, stdout, JSON_INDENT(2));
        json_decref(leaks_json);
    }
    assert_int_equal(rep.total, 0);
    lb_go_series_free(&series);
    lb_target_shutdown sd;
    assert_int_equal(lb_target_stop(&t, SIGTERM, 3000, &sd), 0);
    assert_int_equal(sd.outcome, LB_SHUTDOWN_EXITED);
}

/* Readings over one lb_http_conn share a connection; one the server has
 * closed while idle is reopened once, without an error; a response that
 * says Connection: close leaves nothing kept. */
static void probe_readings_share_one_connection(void **state)
{
    (void)state;
    lb_test_server srv;
    assert_int_equal(lb_ts_start(&srv, NULL, false), 0);
    struct sockaddr_storage addr;
    socklen_t len;
    lb_http_loopback(srv.port, &addr, &len);
    lb_http_conn conn = LB_HTTP_CONN_INIT;
    lb_http_response resp;
    char err[256];
    const struct sockaddr *sa = (const struct sockaddr *)&addr;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(
            lb_http_get_on(&conn, sa, len, "127.0.0.1", "/", 2000, 64, &resp, err, sizeof err), 0);
        assert_int_equal(resp.status, 200);
        lb_http_response_free(&resp);
        assert_true(conn.fd >= 0);
    }
    assert_int_equal(atomic_load(&srv.connections), 1);
    assert_int_equal(atomic_load(&srv.requests), 5);
    /* /once answers, then the server closes: the next GET finds the kept
     * connection dead and goes again on a new one. */
    assert_int_equal(
        lb_http_get_on(&conn, sa, len, "127.0.0.1", "/once", 2000, 64, &resp, err, sizeof err), 0);
    lb_http_response_free(&resp);
    usleep(20 * 1000); /* let the close arrive */
    assert_int_equal(
        lb_http_get_on(&conn, sa, len, "127.0.0.1", "/", 2000, 64, &resp, err, sizeof err), 0);
    assert_int_equal(resp.status, 200);
    lb_http_response_free(&resp);
    assert_int_equal(atomic_load(&srv.connections), 2);
    /* A close-delimited response: nothing to keep. */
    assert_int_equal(
        lb_http_get_on(&conn, sa, len, "127.0.0.1", "/eof", 2000, 64, &resp, err, sizeof err), 0);
    assert_string_equal(resp.body, "all of it");
    lb_http_response_free(&resp);
    assert_int_equal(conn.fd, -1);
    /* Without a conn, every GET is its own connection. */
    int64_t before = atomic_load(&srv.connections);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(lb_http_get(sa, len, "127.0.0.1", "/", 2000, 64, &resp, err, sizeof err),
                         0);
        lb_http_response_free(&resp);
    }
    assert_int_equal(atomic_load(&srv.connections), before + 2);
    lb_http_conn_close(&conn);
    lb_ts_stop(&srv, false);
}

int main(void)
{
    const char *role = getenv("LB_PROBE_TEST_ROLE");
    if (role && strcmp(role, "metrics") == 0) return serve_metrics();
    signal(SIGPIPE, SIG_IGN);
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0) return 1;
    self_exe[n] = 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(probe_answers_404_or_garbage, lb_test_arm_timeout),
        cmocka_unit_test_setup(probe_refused, lb_test_arm_timeout),
        cmocka_unit_test_setup(probe_readings_share_one_connection, lb_test_arm_timeout),
        cmocka_unit_test_setup(prometheus_text, lb_test_arm_timeout),
        cmocka_unit_test_setup(prometheus_probe_of_a_c_target, lb_test_arm_timeout),
        cmocka_unit_test_setup(go_seed_leaky_grows_and_points_at_the_send, lb_test_arm_timeout),
        cmocka_unit_test_setup(go_seed_graceful_returns_to_baseline, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
