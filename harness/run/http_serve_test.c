/*
 * http_serve_test.c — `leakbench serve` and lb_serve_run, end to end.
 *
 * Each test starts a server for the seed pair (timeout_leak) on port 0 in
 * a child process — the leakbench binary ($LEAKBENCH, default
 * build/leakbench) for the command, or a fork calling lb_serve_run for the
 * library API — and talks to it with a raw socket client: requests whose
 * client closes the connection before the reply leave one leaked worker
 * each behind in the leaky variant (read from /metrics, and named at the
 * scenario's LEAK SITE line by /debug/leaks) and nothing in the graceful
 * one; every route answers as documented; /metrics is valid Prometheus
 * text; SIGTERM stops the server within its grace; bad command lines exit
 * 2 with a message naming the problem.  Teardown kills whatever is left.
 * Waits poll with a deadline; nothing asserts on timing.
 */
#include "core/test_util.h"
#include "http_serve.h"
#include "netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#define WAIT_MS 10000 /* how long a poll for a condition may take */

static const char *leakbench(void)
{
    const char *p = getenv("LEAKBENCH");
    return p && *p ? p : "build/leakbench";
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ server -- */

typedef struct server {
    pid_t pid;
    int port;
    char err_log[128]; /* the server's stderr */
} server;

static server srv = {.pid = -1};
static char dir[64];

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(dir, sizeof dir, "http-serve");
    snprintf(srv.err_log, sizeof srv.err_log, "%s/stderr", dir);
    srv.pid = -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (srv.pid > 0) {
        kill(srv.pid, SIGKILL);
        waitpid(srv.pid, NULL, 0);
        srv.pid = -1;
    }
    return lb_test_remove_tree(dir);
}

/* Reads the "... listening on 127.0.0.1:PORT" line from fd: the port. */
static int read_port(int fd)
{
    char line[512];
    size_t len = 0;
    double until = now_ms() + WAIT_MS;
    while (len < sizeof line - 1 && now_ms() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t n = read(fd, line + len, 1);
        if (n <= 0) break;
        if (line[len] == '\n') break;
        len++;
    }
    line[len] = 0;
    const char *at = strstr(line, "listening on 127.0.0.1:");
    if (!at) print_error("server said: '%s'\n", line);
    assert_non_null(at);
    return atoi(at + strlen("listening on 127.0.0.1:"));
}

/* Starts `leakbench serve timeout_leak --variant V --scheduler S`. */
static void serve_start(const char *variant, const char *sched)
{
    int out[2];
    assert_int_equal(pipe(out), 0);
    srv.pid = fork();
    assert_true(srv.pid >= 0);
    if (srv.pid == 0) {
        int err = open(srv.err_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(out[1], 1);
        if (err >= 0) dup2(err, 2);
        close(out[0]);
        execl(leakbench(), leakbench(), "serve", "timeout_leak", "--variant", variant,
              "--scheduler", sched, "--listen", "127.0.0.1:0", "--grace-ms", "300", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    srv.port = read_port(out[0]);
    close(out[0]);
}

/* Sends SIGTERM and waits for the exit: the exit code, or -1 if it did not
 * exit within WAIT_MS. */
static int serve_stop(void)
{
    kill(srv.pid, SIGTERM);
    double until = now_ms() + WAIT_MS;
    int status;
    while (now_ms() < until) {
        pid_t r = waitpid(srv.pid, &status, WNOHANG);
        if (r == srv.pid) {
            srv.pid = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        sleep_ms(5);
    }
    return -1;
}

/* ------------------------------------------------------------ client -- */

static int connect_server(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_all(int fd, const char *text)
{
    size_t len = strlen(text);
    while (len) {
        ssize_t w = send(fd, text, len, MSG_NOSIGNAL);
        assert_true(w > 0);
        text += w;
        len -= (size_t)w;
    }
}

/* Reads until EOF (the requests below say Connection: close) into buf:
 * the bytes read, or -1 when the connection was reset. */
static ssize_t read_all(int fd, char *buf, size_t n)
{
    size_t len = 0;
    for (;;) {
        ssize_t r = recv(fd, buf + len, n - 1 - len, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0 || len + (size_t)r >= n - 1) {
            len += (size_t)(r > 0 ? r : 0);
            break;
        }
        len += (size_t)r;
    }
    buf[len] = 0;
    return (ssize_t)len;
}

/* GET path with Connection: close: the status code, body in body (may be
 * NULL), or -1 when the server reset the connection. */
static int http_get(const char *path, char *body, size_t n)
{
    static char resp[1 << 20];
    int fd = connect_server();
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", path);
    send_all(fd, req);
    ssize_t len = read_all(fd, resp, sizeof resp);
    close(fd);
    if (len < 0) return -1;
    int status = 0;
    if (sscanf(resp, "HTTP/1.1 %d", &status) != 1) return 0;
    const char *b = strstr(resp, "\r\n\r\n");
    if (body) snprintf(body, n, "%s", b ? b + 4 : "");
    return status;
}

/* The value of the sample `name` (with its labels, e.g.
 * leakbench_blocked_tasks{op="send"}) in a /metrics text; fails if absent. */
static double metric_in(const char *text, const char *name)
{
    size_t nl = strlen(name);
    for (const char *line = text; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL)
        if (!strncmp(line, name, nl) && line[nl] == ' ') return strtod(line + nl + 1, NULL);
    print_error("no sample %s in:\n%s\n", name, text);
    fail();
    return 0;
}

static char metrics_buf[1 << 16];

static double metric(const char *name)
{
    assert_int_equal(http_get("/metrics", metrics_buf, sizeof metrics_buf), 200);
    return metric_in(metrics_buf, name);
}

/* Polls /metrics until `name` equals want (WAIT_MS at most). */
static bool metric_becomes(const char *name, double want)
{
    double until = now_ms() + WAIT_MS;
    while (now_ms() < until) {
        if (metric(name) == want) return true;
        sleep_ms(10);
    }
    print_error("%s is %g, expected %g\n", name, metric(name), want);
    return false;
}

/* Sends a slow /work request, waits until the server has it in flight,
 * then closes the connection, as a client whose deadline passed does.
 * service_ms must outlast the wait for "in flight" on a busy machine, or
 * the request completes before the close and nothing leaks. */
static void abandon_request(int service_ms)
{
    int fd = connect_server();
    char req[256];
    snprintf(req, sizeof req,
             "GET /work?service_ms=%d&payload=4096&error=0&seq=1&rep=0 HTTP/1.1\r\nHost: t\r\n\r\n",
             service_ms);
    send_all(fd, req);
    assert_true(metric_becomes("leakbench_requests_in_flight", 1));
    close(fd);
    assert_true(metric_becomes("leakbench_requests_in_flight", 0));
}

/* ------------------------------------------------------- Prometheus -- */

/* Every line is a comment (# HELP / # TYPE) or `name{labels} value`. */
static void assert_prometheus_text(const char *text)
{
    int samples = 0;
    const char *line = text;
    while (*line) {
        const char *end = strchr(line, '\n');
        assert_non_null(end); /* every line ends with a newline */
        char buf[512];
        size_t len = (size_t)(end - line);
        assert_true(len < sizeof buf);
        memcpy(buf, line, len);
        buf[len] = 0;
        if (buf[0] == '#') {
            assert_true(!strncmp(buf, "# HELP ", 7) || !strncmp(buf, "# TYPE ", 7));
        } else {
            char *sp = strrchr(buf, ' ');
            assert_non_null(sp);
            char *num_end;
            strtod(sp + 1, &num_end);
            assert_true(*num_end == 0 && num_end != sp + 1);
            *sp = 0;
            size_t i = strspn(buf, "abcdefghijklmnopqrstuvwxyz_");
            assert_true(i > 0 && (buf[i] == 0 || (buf[i] == '{' && buf[strlen(buf) - 1] == '}')));
            samples++;
        }
        line = end + 1;
    }
    assert_true(samples > 10);
}

/* The line of scenarios/timeout_leak.c marked LEAK SITE. */
static int leak_site_line(void)
{
    FILE *f = fopen("scenarios/timeout_leak.c", "r");
    assert_non_null(f);
    char buf[512];
    int line = 0, found = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        if (strstr(buf, "LEAK SITE")) found = line;
    }
    fclose(f);
    assert_true(found > 0);
    return found;
}

/* ------------------------------------------------------------- tests -- */

static void leaky_variant_keeps_a_task_per_abandoned_request(const char *sched)
{
    serve_start("leaky", sched);
    double base = metric("leakbench_live_tasks");
    for (int i = 0; i < 3; i++) abandon_request(1000);
    assert_true(metric_becomes("leakbench_live_tasks", base + 3));
    /* The worker finishes its work and then blocks in its send forever. */
    assert_true(metric_becomes("leakbench_blocked_tasks{op=\"send\"}", 3));
    /* Still there (a connection task of an earlier /metrics request may
     * linger for a moment, so poll for the exact count). */
    assert_true(metric_becomes("leakbench_live_tasks", base + 3));
    assert_true(metric("leakbench_requests_total{outcome=\"cancelled\"}") == 3);
    assert_true(metric("leakbench_client_disconnects_total") == 3);

    static char leaks[1 << 16];
    assert_int_equal(http_get("/debug/leaks", leaks, sizeof leaks), 200);
    json_error_t je;
    json_t *j = json_loads(leaks, 0, &je);
    assert_non_null(j);
    json_t *g, *found = NULL;
    size_t i;
    json_array_foreach(json_object_get(j, "groups"), i, g)
    {
        if (!strcmp(json_string_value(json_object_get(g, "op")), "send")) found = g;
    }
    assert_non_null(found);
    json_t *site = json_object_get(found, "site");
    assert_string_equal(json_string_value(json_object_get(site, "file")),
                        "scenarios/timeout_leak.c");
    assert_int_equal(json_integer_value(json_object_get(site, "line")), leak_site_line());
    assert_int_equal(json_integer_value(json_object_get(found, "count")), 3);
    json_decref(j);

    assert_int_equal(serve_stop(), 0);
    char *err = lb_test_slurp(srv.err_log);
    assert_non_null(strstr(err, "3 tasks still live after the 300 ms grace (leaked)"));
}

static void leaky_threads(void **state)
{
    (void)state;
    leaky_variant_keeps_a_task_per_abandoned_request("threads");
}

static void leaky_coroutines(void **state)
{
    (void)state;
    leaky_variant_keeps_a_task_per_abandoned_request("coroutines");
}

static void graceful_variant_returns_to_baseline(void **state)
{
    (void)state;
    serve_start("graceful", "coroutines");
    double base = metric("leakbench_live_tasks");
    for (int i = 0; i < 3; i++) abandon_request(2000);
    assert_true(metric_becomes("leakbench_live_tasks", base));
    assert_true(metric("leakbench_requests_total{outcome=\"cancelled\"}") == 3);
    assert_int_equal(serve_stop(), 0);
    char *err = lb_test_slurp(srv.err_log);
    assert_non_null(strstr(err, "every task ended"));
}

static void routes_answer_as_documented(void **state)
{
    (void)state;
    serve_start("graceful", "threads");
    char body[256];
    assert_int_equal(
        http_get("/work?service_ms=1&payload=100&error=0&seq=7&rep=1", body, sizeof body), 200);
    assert_string_equal(body, "ok");
    assert_int_equal(http_get("/work?service_ms=1&error=1", body, sizeof body), 500);
    /* A server-side deadline: 504 when it passes during the work, or 503
     * when it passes before the graceful pool could queue the job. */
    int st = http_get("/work?service_ms=500&deadline_ms=5", body, sizeof body);
    assert_true((st == 504 && !strcmp(body, "timed_out")) ||
                (st == 503 && !strcmp(body, "rejected")));
    assert_int_equal(http_get("/work?service_ms=abc", body, sizeof body), 400);
    assert_non_null(strstr(body, "service_ms"));
    assert_int_equal(http_get("/healthz", body, sizeof body), 200);
    assert_int_equal(http_get("/status/503", NULL, 0), 503);
    assert_int_equal(http_get("/nowhere", NULL, 0), 404);
    assert_int_equal(http_get("/reset", NULL, 0), -1); /* RST, not a reply */
    assert_int_equal(http_get("/metrics", metrics_buf, sizeof metrics_buf), 200);
    assert_prometheus_text(metrics_buf);
    assert_true(metric_in(metrics_buf, "leakbench_requests_total{outcome=\"completed\"}") == 1);
    assert_true(metric_in(metrics_buf, "leakbench_requests_total{outcome=\"failed\"}") == 1);
    assert_true(metric_in(metrics_buf, "leakbench_blocked_tasks{op=\"io\"}") >= 1);
    assert_true(metric_in(metrics_buf, "leakbench_rss_bytes") > 0);

    /* Keep-alive and pipelining: two requests in one write, two replies. */
    int fd = connect_server();
    send_all(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                 "GET /work?service_ms=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    static char resp[4096];
    assert_true(read_all(fd, resp, sizeof resp) > 0);
    close(fd);
    const char *second = strstr(resp + 1, "HTTP/1.1 200 OK");
    assert_true(!strncmp(resp, "HTTP/1.1 200 OK", 15) && second);
    /* HEAD: the head alone, Content-Length as for GET. */
    fd = connect_server();
    send_all(fd, "HEAD /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_true(read_all(fd, resp, sizeof resp) > 0);
    close(fd);
    assert_non_null(strstr(resp, "Content-Length: 2\r\n"));
    assert_string_equal(strstr(resp, "\r\n\r\n"), "\r\n\r\n");
    /* Garbage is a 400 and a closed connection. */
    fd = connect_server();
    send_all(fd, "NOT HTTP AT ALL\r\n\r\n");
    assert_true(read_all(fd, resp, sizeof resp) > 0);
    close(fd);
    assert_true(!strncmp(resp, "HTTP/1.1 400", 12));
    assert_int_equal(serve_stop(), 0);
}

static void sigterm_stops_within_the_grace(void **state)
{
    (void)state;
    serve_start("graceful", "threads");
    int idle = connect_server(); /* an open keep-alive connection does not hold it up */
    double t0 = now_ms();
    int code = serve_stop();
    double took = now_ms() - t0;
    close(idle);
    assert_int_equal(code, 0);
    if (took > WAIT_MS) fail_msg("took %.0f ms", took);
}

/* A listening socket on a free loopback port, its address in bound. */
static int listen_on_free_port(lb_netaddr *bound)
{
    lb_netaddr a;
    char why[128];
    assert_int_equal(lb_netaddr_parse("127.0.0.1:0", &a, why, sizeof why), 0);
    int fd = lb_netaddr_listen(&a, 16);
    assert_true(fd >= 0);
    assert_int_equal(lb_netaddr_local(fd, bound), 0);
    return fd;
}

/* `leakbench serve ARGS...`: the exit code, its stderr in err. */
static int serve_cli(char *err, size_t n, const char *const *args)
{
    const char *argv[16] = {leakbench(), "serve"};
    int argc = 2;
    while (*args && argc < 15) argv[argc++] = *args++;
    argv[argc] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(srv.err_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(fd, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_int_equal(errno, EINTR);
    const char *text = lb_test_slurp(srv.err_log);
    size_t len = strlen(text) < n - 1 ? strlen(text) : n - 1;
    memcpy(err, text, len);
    err[len] = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void bad_command_lines_exit_2(void **state)
{
    (void)state;
    char err[4096];
    const char *unknown[] = {"no_such_pair", "--variant", "leaky", NULL};
    assert_int_equal(serve_cli(err, sizeof err, unknown), 2);
    assert_non_null(strstr(err, "unknown scenario 'no_such_pair'"));
    const char *no_variant[] = {"timeout_leak", NULL};
    assert_int_equal(serve_cli(err, sizeof err, no_variant), 2);
    assert_non_null(strstr(err, "--variant"));
    const char *bad_listen[] = {"timeout_leak", "--variant", "leaky",
                                "--listen",     "127.0.0.1", NULL};
    assert_int_equal(serve_cli(err, sizeof err, bad_listen), 2);
    assert_non_null(strstr(err, "--listen 127.0.0.1: expected HOST:PORT"));
    const char *bad_port[] = {"timeout_leak", "--variant",       "leaky",
                              "--listen",     "127.0.0.1:99999", NULL};
    assert_int_equal(serve_cli(err, sizeof err, bad_port), 2);
    assert_non_null(strstr(err, "port must be a number"));
    const char *bad_knob[] = {"timeout_leak", "--variant", "leaky", "--knob", "width=3", NULL};
    assert_int_equal(serve_cli(err, sizeof err, bad_knob), 2);
    assert_non_null(strstr(err, "has no knob 'width'"));

    /* A port in use. */
    lb_netaddr bound;
    int busy = listen_on_free_port(&bound);
    char where[LB_NETADDR_TEXT_MAX];
    lb_netaddr_format(&bound, where, sizeof where);
    const char *in_use[] = {"timeout_leak", "--variant", "leaky", "--listen", where, NULL};
    assert_int_equal(serve_cli(err, sizeof err, in_use), 2);
    assert_non_null(strstr(err, "Address already in use"));
    close(busy);
}

/* lb_serve_run in a forked child with a shared page: the runtime's
 * counters land in it, and the leak report after the grace. */
static void library_api_fills_the_shared_page(void **state)
{
    (void)state;
    lb_shared *sh = lb_shared_map();
    assert_non_null(sh);
    lb_spec spec;
    lb_spec_error e;
    assert_int_equal(lb_spec_load_string("test",
                                         "{\"scenario\": \"timeout_leak\", "
                                         "\"shutdown_grace_ms\": 200}",
                                         &spec, &e),
                     0);
    lb_netaddr bound;
    int lfd = listen_on_free_port(&bound);
    srv.port = ntohs(((struct sockaddr_in *)&bound.ss)->sin_port);
    srv.pid = fork();
    assert_true(srv.pid >= 0);
    if (srv.pid == 0) {
        lb_serve_config cfg = {
            .spec = &spec.items[0], .leaky = true, .listen_fd = lfd, .shared = sh};
        int rc = lb_serve_run(&cfg);
        if (rc) fprintf(stderr, "lb_serve_run: %s\n", rt_strerror(rc));
        _exit(rc == 0 ? 0 : 1);
    }
    close(lfd);
    abandon_request(1000);
    double until = now_ms() + WAIT_MS;
    while (atomic_load(&sh->rt.by_op[RT_OP_SEND]) != 1 && now_ms() < until) sleep_ms(10);
    assert_int_equal(atomic_load(&sh->rt.by_op[RT_OP_SEND]), 1);
    assert_int_equal(serve_stop(), 0);
    assert_int_equal(sh->leaks.total, 1);
    assert_int_equal(sh->leaks.groups[0].op, RT_OP_SEND);
    assert_int_equal(sh->leaks.groups[0].site.line, leak_site_line());
    lb_spec_free(&spec);
    lb_shared_unmap(sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(leaky_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(leaky_coroutines, setup, teardown),
        cmocka_unit_test_setup_teardown(graceful_variant_returns_to_baseline, setup, teardown),
        cmocka_unit_test_setup_teardown(routes_answer_as_documented, setup, teardown),
        cmocka_unit_test_setup_teardown(sigterm_stops_within_the_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_command_lines_exit_2, setup, teardown),
        cmocka_unit_test_setup_teardown(library_api_fills_the_shared_page, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
