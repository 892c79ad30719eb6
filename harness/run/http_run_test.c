/*
 * http_run_test.c — runs over HTTP end to end: lb_run_one with
 * "transport": "http" (the pair served by lb_serve_run in the child, the
 * load engine in its own process), and the engine against lb_serve_run
 * directly:
 *  - the seed pair at a rate where most requests outlive the deadline:
 *    the leaky service keeps about one task per timed-out request after
 *    the load, the graceful one returns to its baseline;
 *  - every deadline close is seen by the server (its request context is
 *    cancelled: /metrics counts the handler's cancelled outcome);
 *  - one run with every outcome (/work with an error rate, /status/503,
 *    /reset, a 404, requests past their deadline, requests cancelled when
 *    the run stops) balances;
 *  - the run's own server listens on loopback TCP or a Unix socket;
 *  - url targets: one that refuses and one that never answers end as
 *    counted results, their unobserved task metrics null.
 * The server runs on the coroutine scheduler; the leaky seed pair runs on
 * threads as well.
 */
#include "http_get.h"
#include "http_load.h"
#include "http_serve.h"
#include "netaddr.h"
#include "runner.h"
#include "core/test_util.h"

#include <math.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

static lb_spec load_spec(const char *json)
{
    return lb_test_load_spec("test.json", json);
}

static void run(const lb_scenario_spec *s, bool leaky, lb_run_result *out)
{
    lb_guards limits;
    lb_guards_resolve(s, 1LL << 32, &limits);
    lb_run_options opt = {0};
    assert_int_equal(lb_run_one(s, leaky, 0, &limits, &opt, out), 0);
    if (out->status != LB_RUN_COMPLETED) print_error("run: %s\n", out->error);
}

static int64_t total(const lb_accounting *a)
{
    int64_t sum = 0;
    for (int o = 0; o < LB_OUTCOME_COUNT; o++) sum += a->outcome[o];
    return sum;
}

/* ------------------------------------------------------- the seed pair -- */

/* Every request outlives its deadline (service 300-500 ms, timeout 150 ms,
 * which leaves a slow server time to start the handler's worker); %s: the
 * listener, tcp or unix, and the server's scheduler. */
static const char seed_over_http[] =
    "{\"scenario\": \"timeout_leak\", \"transport\": \"http\", \"listen\": \"%s\", "
    "\"load\": {\"rate\": 60, \"duration_ms\": 1500}, "
    "\"service_time\": {\"dist\": \"uniform\", \"min_ms\": 300, \"max_ms\": 500}, "
    "\"timeout_ms\": 150, \"settle_ms\": 600, \"shutdown_grace_ms\": 300, "
    "\"scheduler\": \"%s\", \"guards\": {\"tasks\": 5000}}";

static lb_spec seed_spec(const char *listen, const char *sched)
{
    char json[1024];
    snprintf(json, sizeof json, seed_over_http, listen, sched);
    return load_spec(json);
}

static void leaky_service_keeps_a_task_per_timed_out_request(const char *sched)
{
    lb_spec spec = seed_spec("tcp", sched);
    lb_run_result r;
    run(&spec.items[0], true, &r);
    assert_int_equal(r.status, LB_RUN_COMPLETED);
    assert_true(r.accounting.balanced);
    int64_t timed_out = r.accounting.outcome[LB_TIMED_OUT];
    assert_true(timed_out > r.accounting.submitted / 2); /* most outlive the deadline */
    /* About one leaked task per timed-out request, still there after the
     * load and the settle window. */
    double leaked = r.metrics.leaked_tasks;
    if (!(leaked >= 0.8 * (double)timed_out && leaked <= (double)timed_out + 2))
        print_error("leaked %g for %lld timed out\n", leaked, (long long)timed_out);
    assert_true(leaked >= 0.8 * (double)timed_out && leaked <= (double)timed_out + 2);
    assert_true(r.metrics.final_tasks >= r.metrics.baseline_tasks + 0.8 * (double)timed_out);
    assert_false(r.metrics.recovered);
    /* The client closed the connection of every one of them that was on
     * one (on a busy machine some can time out waiting for a connection,
     * or be past their deadline when the late engine came to send them). */
    assert_true(r.http.active);
    assert_true(r.http.deadline_closes <= timed_out);
    assert_true(r.http.deadline_closes >= timed_out - r.http.waited - r.http.expired_unsent);
    assert_int_equal((int64_t)r.http.send_lateness.count, r.accounting.submitted);
    assert_false(isnan(r.http.engine_cpu_s));
    lb_run_result_free(&r);
    lb_spec_free(&spec);
}

static void leaky_service_on_threads(void **state)
{
    (void)state;
    leaky_service_keeps_a_task_per_timed_out_request("threads");
}

static void leaky_service_on_coroutines(void **state)
{
    (void)state;
    leaky_service_keeps_a_task_per_timed_out_request("coroutines");
}

static void graceful_service_returns_to_its_baseline(void **state)
{
    (void)state;
    lb_spec spec = seed_spec("unix", "coroutines");
    lb_run_result r;
    run(&spec.items[0], false, &r);
    assert_int_equal(r.status, LB_RUN_COMPLETED);
    assert_true(r.accounting.balanced);
    assert_true(r.accounting.outcome[LB_TIMED_OUT] > r.accounting.submitted / 2);
    assert_true(r.metrics.recovered);
    assert_true(r.metrics.leaked_tasks == 0);
    assert_false(isnan(r.metrics.shutdown_ms));
    lb_run_result_free(&r);
    lb_spec_free(&spec);
}

/* ------------------------------------------ the server sees the close -- */

/* The value of a Prometheus sample line "name value" in text, or -1. */
/* GET path from t (http_get.h): its status and up to cap - 1 bytes of its
 * body; 0 or -errno. */
static int get(const lb_http_target *t, const char *path, int *status, char *body, size_t cap)
{
    lb_http_response r;
    char why[128];
    int rc = lb_http_get((const struct sockaddr *)&t->addr.ss, t->addr.len, t->host, path, 2000,
                         1 << 20, &r, why, sizeof why);
    if (rc) return rc;
    *status = r.status;
    if (body) snprintf(body, cap, "%s", r.body ? r.body : "");
    lb_http_response_free(&r);
    return 0;
}

static pid_t test_server; /* a server this test forked, killed in teardown */

static int kill_test_server(void **state)
{
    (void)state;
    if (test_server > 0) {
        kill(test_server, SIGKILL);
        waitpid(test_server, NULL, 0);
        test_server = 0;
    }
    return 0;
}

static long long metric(const char *text, const char *name)
{
    const char *p = strstr(text, name);
    while (p && p > text && p[-1] != '\n') p = strstr(p + 1, name);
    return p ? atoll(p + strlen(name)) : -1;
}

static void server_sees_every_deadline_close(void **state)
{
    (void)state;
    lb_spec spec = load_spec("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                             "\"load\": {\"rate\": 100, \"duration_ms\": 500}, "
                             "\"service_time\": {\"ms\": 2000}, \"timeout_ms\": 100, "
                             "\"scheduler\": \"coroutines\"}");
    lb_netaddr addr;
    char err[256];
    assert_int_equal(lb_netaddr_parse("127.0.0.1:0", &addr, err, sizeof err), 0);
    int fd = lb_netaddr_listen(&addr, 256);
    assert_true(fd >= 0);
    assert_int_equal(lb_netaddr_local(fd, &addr), 0);
    pid_t server = fork();
    assert_true(server >= 0);
    if (server == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed assertion must not orphan it */
        lb_serve_config c = {&spec.items[0], false, fd, NULL, NULL};
        _exit(lb_serve_run(&c) == 0 ? 0 : 3);
    }
    close(fd);
    test_server = server;
    lb_http_load_config cfg = {0};
    cfg.spec = &spec.items[0];
    lb_http_target_init(&cfg.target, &addr);
    int status = 0;
    while (get(&cfg.target, "/healthz", &status, NULL, 0) != 0 || status != 200) usleep(10000);
    lb_http_load *l;
    assert_int_equal(lb_http_load_new(&cfg, &l, err, sizeof err), 0);
    lb_shared *sh = lb_shared_map();
    assert_int_equal(lb_http_load_run(l, sh), 0);
    lb_http_load_free(l);
    int64_t timed_out = atomic_load(&sh->outcome[LB_TIMED_OUT]);
    assert_int_equal(timed_out, atomic_load(&sh->submitted));
    /* Each close cancelled the request's context, which the graceful
     * handler reports as cancelled; had the server missed a close, that
     * handler would have run its 2 s and completed.  (A request closed
     * before the server read it never reaches a handler.)  Wait until every
     * handler has returned. */
    static char body[16384];
    long long cancelled = -1, completed = -1, in_flight = -1;
    for (int i = 0; i < 500 && in_flight != 0; i++) {
        usleep(10000);
        assert_int_equal(get(&cfg.target, "/metrics", &status, body, sizeof body), 0);
        in_flight = metric(body, "leakbench_requests_in_flight ");
    }
    cancelled = metric(body, "leakbench_requests_total{outcome=\"cancelled\"} ");
    completed = metric(body, "leakbench_requests_total{outcome=\"completed\"} ");
    long long disconnects = metric(body, "leakbench_client_disconnects_total ");
    if (!(cancelled > timed_out / 2 && cancelled <= timed_out && completed == 0))
        print_error("%lld timed out; the server says:\n%s\n", (long long)timed_out, body);
    assert_int_equal(in_flight, 0);
    assert_int_equal(completed, 0);
    assert_true(cancelled > timed_out / 2 && cancelled <= timed_out);
    assert_int_equal(disconnects, cancelled); /* the server's own count of those closes */
    kill(server, SIGTERM);
    int ws;
    waitpid(server, &ws, 0);
    test_server = 0;
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    lb_shared_unmap(sh);
    lb_spec_free(&spec);
}

/* ----------------------------------------------------- every outcome -- */

static void every_outcome_balances_against_the_server(void **state)
{
    (void)state;
    /* Slow requests (2 s) time out at 300 ms, except those sent in the
     * last 250 ms of the load: the end of settle (50 ms) cancels them. */
    lb_spec spec = load_spec(
        "{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
        "\"load\": {\"rate\": 200, \"duration_ms\": 1000}, \"timeout_ms\": 300, "
        "\"service_time\": {\"ms\": 1}, \"error_rate\": 0.3, \"settle_ms\": 50, "
        "\"shutdown_grace_ms\": 300, \"scheduler\": \"coroutines\", \"request\": ["
        "{\"path\": \"/work?service_ms={service_ms}&error={error}&seq={seq}\", \"weight\": 4},"
        "{\"path\": \"/status/503\"}, {\"path\": \"/reset\"}, {\"path\": \"/no-such-path\"},"
        "{\"path\": \"/work?service_ms=2000&seq={seq}\", \"weight\": 2}]}");
    lb_run_result r;
    run(&spec.items[0], false, &r);
    assert_int_equal(r.status, LB_RUN_COMPLETED);
    const lb_accounting *a = &r.accounting;
    assert_true(a->balanced);
    assert_int_equal(total(a), a->submitted);
    for (int o = 0; o < LB_OUTCOME_COUNT; o++) {
        if (a->outcome[o] == 0) print_error("no %s\n", lb_outcome_name((lb_outcome)o));
        assert_true(a->outcome[o] > 0);
    }
    assert_true(r.http.failed_by[LB_HTTP_STATUS_5XX] > 0); /* error=1: 500 */
    assert_true(r.http.failed_by[LB_HTTP_STATUS_4XX] > 0); /* 404 */
    assert_true(r.http.failed_by[LB_HTTP_RESET] > 0);      /* /reset over TCP: RST */
    int64_t causes = 0;
    for (int c = 0; c < LB_HTTP_CAUSE_COUNT; c++) causes += r.http.failed_by[c];
    assert_int_equal(causes, a->outcome[LB_FAILED]);
    /* Over HTTP too, the completed requests (and only they) are recorded
     * apart from every request's latency. */
    assert_int_equal((int64_t)atomic_load(&r.metrics.latency_completed.count),
                     a->outcome[LB_COMPLETED]);
    assert_int_equal((int64_t)r.metrics.latency.count, a->submitted);
    assert_true(r.metrics.latency.max >= 300); /* a timed-out one, at its deadline */
    lb_run_result_free(&r);
    lb_spec_free(&spec);
}

/* -------------------------------------------------------- url targets -- */

static void url_targets_that_refuse_or_never_answer(void **state)
{
    (void)state;
    /* A port bound but not listening: connections are refused, and
     * nobody else can take the port while the socket is held. */
    lb_netaddr addr;
    char err[256], text[LB_NETADDR_TEXT_MAX], json[1024];
    assert_int_equal(lb_netaddr_parse("127.0.0.1:0", &addr, err, sizeof err), 0);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr.ss, addr.len), 0);
    assert_int_equal(lb_netaddr_local(fd, &addr), 0);
    lb_netaddr_format(&addr, text, sizeof text);
    snprintf(json, sizeof json,
             "{\"scenario\": \"timeout_leak\", \"transport\": \"http\", \"url\": \"%s\", "
             "\"load\": {\"rate\": 100, \"duration_ms\": 300}, \"timeout_ms\": 5000, "
             "\"settle_ms\": 1000}",
             text);
    lb_spec spec = load_spec(json);
    lb_run_result r;
    run(&spec.items[0], true, &r);
    assert_int_equal(r.status, LB_RUN_COMPLETED);
    assert_true(r.accounting.balanced);
    assert_true(r.accounting.submitted > 0);
    assert_int_equal(r.http.failed_by[LB_HTTP_REFUSED], r.accounting.submitted);
    assert_true(isnan(r.metrics.peak_tasks)); /* not observed, not zero */
    assert_false(r.has_leaks);
    close(fd);
    lb_run_result_free(&r);
    lb_spec_free(&spec);

    /* A listener nobody accepts from: every request times out. */
    assert_int_equal(lb_netaddr_parse("127.0.0.1:0", &addr, err, sizeof err), 0);
    fd = lb_netaddr_listen(&addr, 1024);
    assert_int_equal(lb_netaddr_local(fd, &addr), 0);
    lb_netaddr_format(&addr, text, sizeof text);
    snprintf(json, sizeof json,
             "{\"scenario\": \"timeout_leak\", \"transport\": \"http\", \"url\": \"%s\", "
             "\"load\": {\"rate\": 100, \"duration_ms\": 300}, \"timeout_ms\": 80, "
             "\"settle_ms\": 200}",
             text);
    spec = load_spec(json);
    run(&spec.items[0], true, &r);
    assert_int_equal(r.status, LB_RUN_COMPLETED);
    assert_true(r.accounting.balanced);
    assert_int_equal(r.accounting.outcome[LB_TIMED_OUT], r.accounting.submitted);
    close(fd);
    lb_run_result_free(&r);
    lb_spec_free(&spec);

    /* A url whose host does not resolve: a crashed run that says why. */
    spec = load_spec("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", \"url\": "
                     "\"no-such-host.invalid:80\", \"load\": {\"duration_ms\": 100}}");
    run(&spec.items[0], true, &r);
    assert_int_equal(r.status, LB_RUN_CRASHED);
    assert_non_null(strstr(r.error, "url 'no-such-host.invalid:80'"));
    lb_run_result_free(&r);
    lb_spec_free(&spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(leaky_service_on_threads, lb_test_arm_timeout),
        cmocka_unit_test_setup(leaky_service_on_coroutines, lb_test_arm_timeout),
        cmocka_unit_test_setup(graceful_service_returns_to_its_baseline, lb_test_arm_timeout),
        cmocka_unit_test_setup_teardown(server_sees_every_deadline_close, lb_test_arm_timeout,
                                        kill_test_server),
        cmocka_unit_test_setup(every_outcome_balances_against_the_server, lb_test_arm_timeout),
        cmocka_unit_test_setup(url_targets_that_refuse_or_never_answer, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
