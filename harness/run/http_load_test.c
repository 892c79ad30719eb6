/*
 * http_load_test.c — the HTTP load engine (http_load.c), its request
 * templates (core/request_template.c), target addresses (core/http_url.c)
 * and spec fields, against the small server of http_test_server.h:
 *  - templates expand every placeholder and reject unknown ones with
 *    their position; URLs in every accepted form;
 *  - keep-alive reuse over TCP and a Unix socket, the connection cap and
 *    the wait for a free connection, the closed model;
 *  - deadlines close the connection (the server sees the disconnect); a
 *    request already past its deadline when sent takes no connection;
 *  - a response read late (the loop stalled) ends at its kernel receive
 *    time, and one received after its deadline times out; responses cost
 *    no wake-up of their own at 2,000 requests/s;
 *  - every outcome in one run (2xx, 429/503, 5xx, reset, hang past the
 *    deadline, stop) with the accounting balanced;
 *  - odd targets: nothing listening, a socket path that does not exist,
 *    a backlog nobody accepts from, garbage, a response over the limit, a
 *    body ended by close — each a counted, named result, none hanging.
 * No timing assertions: a hang is caught by each test's alarm.
 */
#include "http_load.h"
#include "http_test_server.h"
#include "metrics.h"
#include "shared.h"
#include "core/http_url.h"
#include "core/request_template.h"
#include "core/test_util.h"

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ----------------------------------------------------------- helpers -- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t outcome(lb_shared *sh, lb_outcome o)
{
    return atomic_load(&sh->outcome[o]);
}

static int64_t failed_by(lb_shared *sh, lb_http_cause c)
{
    return atomic_load(&sh->http.failed_by[c]);
}

static void assert_balanced(lb_shared *sh)
{
    int64_t sum = 0;
    for (int o = 0; o < LB_OUTCOME_COUNT; o++) sum += outcome(sh, (lb_outcome)o);
    assert_int_equal(sum, atomic_load(&sh->submitted));
    int64_t causes = 0;
    for (int c = 0; c < LB_HTTP_CAUSE_COUNT; c++) causes += failed_by(sh, (lb_http_cause)c);
    assert_int_equal(causes, outcome(sh, LB_FAILED));
    assert_int_equal((int64_t)atomic_load(&sh->latency.count), atomic_load(&sh->submitted));
}

/* A spec from JSON text (timeout_leak over HTTP unless it says otherwise). */
static lb_spec load_spec(const char *json)
{
    return lb_test_load_spec("test.json", json);
}

/* Runs the first scenario of json against url to the end, its load
 * starting at start_ns (stop_after_ms after the start cancels what is
 * left; 0 = never), calling on_load_end(arg) in the engine's loop when
 * the load's duration is over (NULL: nothing). */
static lb_shared *run_engine(const char *json, const char *url, double stop_after_ms,
                             int64_t start_ns, void (*on_load_end)(void *), void *arg)
{
    lb_spec spec = load_spec(json);
    lb_netaddr addr;
    char err[256];
    assert_int_equal(lb_netaddr_parse(url, &addr, err, sizeof err), 0);
    lb_http_load_config cfg = {0};
    cfg.spec = &spec.items[0];
    cfg.seed = spec.items[0].seed;
    lb_http_target_init(&cfg.target, &addr);
    cfg.start_ns = start_ns;
    cfg.on_load_end = on_load_end;
    cfg.arg = arg;
    if (stop_after_ms > 0) cfg.stop_ns = cfg.start_ns + (int64_t)(stop_after_ms * 1e6);
    lb_http_load *l;
    int rc = lb_http_load_new(&cfg, &l, err, sizeof err);
    if (rc) print_error("%s\n", err);
    assert_int_equal(rc, 0);
    lb_shared *sh = lb_shared_map();
    assert_non_null(sh);
    assert_int_equal(lb_http_load_run(l, sh), 0);
    lb_http_load_free(l);
    lb_spec_free(&spec);
    assert_balanced(sh);
    return sh;
}

static lb_shared *run_against_from(const char *json, const char *url, double stop_after_ms,
                                   int64_t start_ns)
{
    return run_engine(json, url, stop_after_ms, start_ns, NULL, NULL);
}

/* The same, starting now. */
static lb_shared *run_against(const char *json, const char *url, double stop_after_ms)
{
    return run_against_from(json, url, stop_after_ms, now_ns());
}

static char url_buf[256];
static const char *tcp_url(const lb_test_server *s)
{
    snprintf(url_buf, sizeof url_buf, "127.0.0.1:%d", s->port);
    return url_buf;
}

/* ---------------------------------------------------------- templates -- */

static void template_fills_every_placeholder(void **state)
{
    (void)state;
    lb_template t;
    lb_tpl_error e;
    assert_int_equal(lb_template_compile("/w?s={service_ms}&u={service_us}&p={payload_bytes}&e="
                                         "{error}&q={seq}&r={rep}&t={timeout_ms}&{{x}}",
                                         &t, &e),
                     0);
    lb_tpl_values v = {{12, 12345, 65536, 1, 7, 2, 50}};
    char buf[256];
    size_t n = lb_template_expand(&t, &v, buf, sizeof buf);
    assert_true(n < sizeof buf);
    buf[n] = 0;
    assert_string_equal(buf, "/w?s=12&u=12345&p=65536&e=1&q=7&r=2&t=50&{x}");
    /* Too small a buffer: the length still comes back, for a retry. */
    assert_int_equal(lb_template_expand(&t, &v, buf, 4), n);
    lb_template_free(&t);
}

static void template_errors_name_the_position(void **state)
{
    (void)state;
    lb_template t;
    lb_tpl_error e;
    assert_int_equal(lb_template_compile("/work?x={sequence}", &t, &e), -EINVAL);
    assert_int_equal(e.pos, 9);
    assert_non_null(strstr(e.text, "unknown placeholder '{sequence}'"));
    assert_non_null(strstr(e.text, "{seq}"));
    assert_int_equal(lb_template_compile("/a{seq", &t, &e), -EINVAL);
    assert_int_equal(e.pos, 3);
    assert_int_equal(lb_template_compile("/a}b", &t, &e), -EINVAL);
    assert_int_equal(e.pos, 3);
}

/* The spec's syntax check accepts what netaddr.c parses, and only that. */
static void urls_in_every_form(void **state)
{
    (void)state;
    static const char *const good[] = {"127.0.0.1:8080", "localhost:81", "[::1]:9",
                                       "unix:/tmp/s.sock"};
    static const char *const bad[] = {"localhost", "h:70000", "h:0",     "http://h:1",
                                      "h:1/path",  "::1:80",  "[::1:80", "unix:"};
    lb_http_url u;
    lb_netaddr a;
    char err[256];
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        assert_int_equal(lb_http_url_parse(good[i], &u, err, sizeof err), 0);
        assert_int_equal(lb_netaddr_parse(good[i], &a, err, sizeof err), 0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (lb_http_url_parse(bad[i], &u, err, sizeof err) != -EINVAL)
            print_error("accepted %s\n", bad[i]);
        assert_int_equal(lb_http_url_parse(bad[i], &u, err, sizeof err), -EINVAL);
    }
    assert_int_equal(lb_http_url_parse("[::1]:9", &u, err, sizeof err), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(lb_http_url_parse("localhost", &u, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "expected HOST:PORT, [IPV6]:PORT or unix:PATH"));
}

/* --------------------------------------------------------------- spec -- */

static void spec_error(const char *json, const char *want)
{
    lb_spec spec;
    lb_spec_error err;
    assert_int_equal(lb_spec_load_string("t.json", json, &spec, &err), -EINVAL);
    if (!strstr(err.text, want)) print_error("got: %s\nwanted: %s\n", err.text, want);
    assert_non_null(strstr(err.text, want));
}

static void spec_fields_are_validated_with_positions(void **state)
{
    (void)state;
    spec_error("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
               "\"request\": {\"path\": \"/w?a={seq}&b={sequence}\"}}",
               "t.json: $.request.path: character 14: unknown placeholder '{sequence}'");
    spec_error("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
               "\"request\": [{\"path\": \"/a\"}, {\"headers\": {\"X-A\": \"{nope}\"}}]}",
               "$.request[1].headers.X-A: character 1: unknown placeholder '{nope}'");
    spec_error("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
               "\"request\": {\"headers\": {\"X-A\": \"a\\r\\nEvil: 1\"}}}",
               "$.request.headers.X-A: character 2: a line break is not allowed here");
    spec_error("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
               "\"request\": {\"headers\": {\"Content-Length\": \"3\"}}}",
               "$.request.headers.Content-Length: set by the load engine");
    spec_error("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
               "\"request\": {\"path\": \"work\"}}",
               "$.request.path: must start with '/'");
    spec_error("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
               "\"request\": {\"body\": \"{x\"}}",
               "$.request.body: character 1: '{' without '}'");
    spec_error("{\"scenario\": \"timeout_leak\", \"load\": {\"connections\": 4}}",
               "$.load.connections: only allowed with \"transport\": \"http\"");
    spec_error("{\"scenario\": \"timeout_leak\", \"url\": \"127.0.0.1:1\"}",
               "$.url: only allowed with \"transport\": \"http\"");
    spec_error("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", \"url\": "
               "\"127.0.0.1:1\", \"listen\": \"unix\"}",
               "$.listen: not allowed with url");
    spec_error("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", \"url\": \"nohost\"}",
               "$.url: 'nohost': expected HOST:PORT, [IPV6]:PORT or unix:PATH");
    spec_error("{\"scenario\": \"timeout_leak\", \"transport\": \"smtp\"}",
               "$.transport: unknown transport 'smtp'");
    spec_error("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", \"load\": "
               "{\"connections\": 0}}",
               "$.load.connections: 0 is out of range");
    /* A suite's defaults are checked where they are written. */
    spec_error("{\"defaults\": {\"request\": {\"path\": \"/{bad}\"}}, \"scenarios\": "
               "[{\"scenario\": \"timeout_leak\", \"transport\": \"http\"}]}",
               "$.defaults.request.path: character 2: unknown placeholder '{bad}'");

    lb_spec spec = load_spec(
        "{\"scenario\": \"timeout_leak\", \"transport\": \"http\", \"listen\": \"unix\", "
        "\"load\": {\"rate\": 10, \"connections\": 8}, \"max_response_bytes\": 4096, "
        "\"request\": {\"method\": \"POST\", \"path\": \"/p/{seq}\", \"headers\": {\"X-Rep\": "
        "\"{rep}\"}, \"body\": \"ms={service_ms}\", \"weight\": 2}}");
    const lb_scenario_spec *s = &spec.items[0];
    assert_int_equal(s->http.transport, LB_TRANSPORT_HTTP);
    assert_int_equal(s->http.listen, LB_LISTEN_UNIX);
    assert_int_equal(lb_http_connections(s), 8);
    assert_int_equal(s->http.max_response_bytes, 4096);
    assert_int_equal(s->http.n_requests, 1);
    assert_string_equal(s->http.requests[0].method, "POST");
    assert_string_equal(s->http.requests[0].header_value[0], "{rep}");
    json_t *j = lb_scenario_spec_to_json(s);
    assert_string_equal(json_string_value(json_object_get(j, "transport")), "http");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "load"), "connections")),
                     8);
    json_decref(j);
    lb_spec_free(&spec);
}

/* ------------------------------------------------------------- engine -- */

static void completes_over_keepalive_tcp(void **state)
{
    (void)state;
    lb_test_server srv;
    assert_int_equal(lb_ts_start(&srv, NULL, false), 0);
    lb_shared *sh = run_against("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                                "\"load\": {\"rate\": 400, \"duration_ms\": 500}, "
                                "\"service_time\": {\"ms\": 0}, \"timeout_ms\": 2000}",
                                tcp_url(&srv), 0);
    int64_t n = atomic_load(&sh->submitted);
    assert_int_equal(n, 200); /* 400/s for 0.5 s, evenly spaced */
    assert_int_equal(outcome(sh, LB_COMPLETED), n);
    assert_int_equal((int64_t)atomic_load(&sh->http.send_lateness.count), n);
    /* Keep-alive: connections are reused (how many open depends on how
     * fast the server answers; the cap test bounds them exactly). */
    assert_true(atomic_load(&sh->http.connections_opened) < n);
    lb_ts_stop(&srv, false);
    assert_int_equal(atomic_load(&srv.requests), n);
    assert_int_equal(atomic_load(&srv.max_seq), n - 1); /* {seq} counts from 0 */
    lb_shared_unmap(sh);
}

static void completes_over_unix_socket(void **state)
{
    (void)state;
    char dir[64], path[128], url[160];
    lb_test_make_tmpdir(dir, sizeof dir, "http-load");
    snprintf(path, sizeof path, "%s/s.sock", dir);
    snprintf(url, sizeof url, "unix:%s", path);
    lb_test_server srv;
    assert_int_equal(lb_ts_start(&srv, path, false), 0);
    lb_shared *sh = run_against("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                                "\"load\": {\"model\": \"poisson\", \"rate\": 300, "
                                "\"duration_ms\": 300}, \"timeout_ms\": 2000, "
                                "\"service_time\": {\"ms\": 1}}",
                                url, 0);
    assert_true(atomic_load(&sh->submitted) > 0);
    assert_int_equal(outcome(sh, LB_COMPLETED), atomic_load(&sh->submitted));
    lb_ts_stop(&srv, false);
    lb_shared_unmap(sh);
    assert_int_equal(lb_test_remove_tree(dir), 0);
}

static void connection_cap_makes_requests_wait(void **state)
{
    (void)state;
    lb_test_server srv;
    assert_int_equal(lb_ts_start(&srv, NULL, false), 0);
    lb_shared *sh = run_against("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                                "\"load\": {\"rate\": 200, \"duration_ms\": 300, "
                                "\"connections\": 2}, \"service_time\": {\"ms\": 20}, "
                                "\"timeout_ms\": 5000}",
                                tcp_url(&srv), 0);
    assert_int_equal(outcome(sh, LB_COMPLETED), atomic_load(&sh->submitted));
    assert_true(atomic_load(&sh->http.connections_opened) <= 2);
    assert_true(atomic_load(&sh->http.waited) > 0);
    /* The wait is part of the latency: 60 requests through 2 connections
     * at 20 ms each take at least 600 ms for the last one. */
    assert_true(atomic_load(&sh->latency.max_us) >= 300000);
    lb_ts_stop(&srv, false);
    lb_shared_unmap(sh);
}

static void closed_model_keeps_one_request_per_client(void **state)
{
    (void)state;
    lb_test_server srv;
    assert_int_equal(lb_ts_start(&srv, NULL, false), 0);
    lb_shared *sh = run_against("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                                "\"load\": {\"model\": \"closed\", \"clients\": 4, "
                                "\"think_ms\": 1, \"duration_ms\": 300}, "
                                "\"service_time\": {\"ms\": 2}, \"timeout_ms\": 2000}",
                                tcp_url(&srv), 0);
    assert_true(atomic_load(&sh->submitted) >= 4);
    assert_int_equal(outcome(sh, LB_COMPLETED), atomic_load(&sh->submitted));
    assert_true(atomic_load(&sh->http.connections_opened) <= 4);
    assert_int_equal(atomic_load(&sh->http.waited), 0);
    lb_ts_stop(&srv, false);
    lb_shared_unmap(sh);
}

static void deadline_closes_the_connection(void **state)
{
    (void)state;
    lb_test_server srv;
    assert_int_equal(lb_ts_start(&srv, NULL, false), 0);
    lb_shared *sh = run_against("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                                "\"load\": {\"rate\": 100, \"duration_ms\": 300}, "
                                "\"service_time\": {\"ms\": 400}, \"timeout_ms\": 50}",
                                tcp_url(&srv), 0);
    int64_t n = atomic_load(&sh->submitted);
    assert_int_equal(outcome(sh, LB_TIMED_OUT), n);
    /* Each on its connection, unless the engine came to it after its
     * deadline (a stall of the machine longer than the 50 ms timeout). */
    assert_int_equal(atomic_load(&sh->http.deadline_closes) + atomic_load(&sh->http.expired_unsent),
                     n);
    /* The server noticed the close of every request it was working on (a
     * request closed before the server read it is not one of them). */
    for (int i = 0; i < 500 && atomic_load(&srv.disconnects) < atomic_load(&srv.requests); i++)
        usleep(10000);
    lb_ts_stop(&srv, false);
    assert_true(atomic_load(&srv.requests) > 0);
    assert_int_equal(atomic_load(&srv.disconnects), atomic_load(&srv.requests));
    lb_shared_unmap(sh);
}

/* Stalls the engine's loop for 600 ms, as a machine that gives the
 * engine no CPU would. */
static void stall_engine(void *arg)
{
    (void)arg;
    usleep(600 * 1000);
}

/* One request at 0 ms that the server answers after service_ms, while the
 * engine's loop stalls from the load's end at 40 ms until 640 ms. */
static lb_shared *one_request_read_late(int service_ms, int timeout_ms, lb_test_server *srv)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
             "\"load\": {\"rate\": 25, \"duration_ms\": 40}, "
             "\"service_time\": {\"ms\": %d}, \"timeout_ms\": %d}",
             service_ms, timeout_ms);
    assert_int_equal(lb_ts_start(srv, NULL, false), 0);
    lb_shared *sh = run_engine(json, tcp_url(srv), 0, now_ns(), stall_engine, NULL);
    lb_ts_stop(srv, false);
    assert_int_equal(atomic_load(&sh->submitted), 1);
    return sh;
}

/* A response that arrived while the engine was stalled ends when the
 * kernel received it (SO_TIMESTAMPNS), not when the late loop read it:
 * answered after 100 ms, its latency read at the end of the stall would
 * be over 640 ms. */
static void latency_ends_when_the_response_arrived(void **state)
{
    (void)state;
    lb_test_server srv;
    lb_shared *sh = one_request_read_late(100, 5000, &srv);
    assert_int_equal(outcome(sh, LB_COMPLETED), 1);
    lb_latency lat = lb_latency_of(&sh->latency);
    if (!(lat.max >= 100 && lat.max < 400)) print_error("latency %.3f ms\n", lat.max);
    assert_true(lat.max >= 100 && lat.max < 400);
    lb_shared_unmap(sh);
}

/* A response that arrived after its deadline times out even when the
 * stalled loop reads it before it expires the request: the client had
 * given up at the deadline (80 ms) and the answer came at 200 ms. */
static void response_after_the_deadline_times_out(void **state)
{
    (void)state;
    lb_test_server srv;
    lb_shared *sh = one_request_read_late(200, 80, &srv);
    assert_int_equal(outcome(sh, LB_TIMED_OUT), 1);
    assert_int_equal(atomic_load(&sh->http.deadline_closes), 1);
    lb_shared_unmap(sh);
}

/* Twice the load that the connection cap can carry (2 connections, 20 ms
 * answers, 200 requests/s): a freed connection goes to the newest
 * waiting request, which still has most of its 100 ms, so about the cap's
 * worth completes (2 / 20 ms = half of them: 201-203 of 400 when this was
 * measured).  Served oldest first, every one of them had waited nearly
 * its whole deadline and 16 of 400 completed. */
static void overload_serves_the_newest_waiters(void **state)
{
    (void)state;
    lb_test_server srv;
    assert_int_equal(lb_ts_start(&srv, NULL, false), 0);
    lb_shared *sh = run_against("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                                "\"load\": {\"rate\": 200, \"duration_ms\": 2000, "
                                "\"connections\": 2}, \"service_time\": {\"ms\": 20}, "
                                "\"timeout_ms\": 100}",
                                tcp_url(&srv), 0);
    lb_ts_stop(&srv, false);
    int64_t n = atomic_load(&sh->submitted), done = outcome(sh, LB_COMPLETED);
    if (done < n * 3 / 10) print_error("%lld of %lld completed\n", (long long)done, (long long)n);
    assert_true(atomic_load(&sh->http.connections_opened) <=
                2 + atomic_load(&sh->http.deadline_closes));
    assert_true(done >= n * 3 / 10);
    lb_shared_unmap(sh);
}

/* At 2,000 requests/s over TCP the loop sleeps about once per arrival:
 * the responses, read when the next arrival's timer fires, cost no
 * wake-up of their own (without that it would sleep about twice per
 * request: 3,046 and 3,861 sleeps for 2,000 requests when this was
 * measured).  Counts, not times: a late engine only sleeps less. */
static void responses_cost_no_wakeup_of_their_own(void **state)
{
    (void)state;
    lb_test_server srv;
    assert_int_equal(lb_ts_start(&srv, NULL, false), 0);
    lb_shared *sh = run_against("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                                "\"load\": {\"rate\": 2000, \"duration_ms\": 1000}, "
                                "\"service_time\": {\"ms\": 1}, \"timeout_ms\": 1000}",
                                tcp_url(&srv), 0);
    lb_ts_stop(&srv, false);
    int64_t n = atomic_load(&sh->submitted), sleeps = atomic_load(&sh->http.sleeps);
    assert_true(n >= 1900);
    if (sleeps > n * 5 / 4)
        print_error("%lld sleeps for %lld requests\n", (long long)sleeps, (long long)n);
    assert_true(sleeps <= n * 5 / 4);
    lb_shared_unmap(sh);
}

/* An engine that comes to a request after its deadline (as after a stall
 * of the machine) times it out without a connection: no connection is
 * opened or taken only to be closed as a deadline close.  Here the load
 * started 3 s ago, so the requests scheduled in its first 2 s (41, every
 * 50 ms from 0 to 2,000 ms) are past their 1 s deadline when sent. */
static void requests_past_their_deadline_take_no_connection(void **state)
{
    (void)state;
    lb_test_server srv;
    assert_int_equal(lb_ts_start(&srv, NULL, false), 0);
    lb_shared *sh = run_against_from("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                                     "\"load\": {\"rate\": 20, \"duration_ms\": 4000}, "
                                     "\"service_time\": {\"ms\": 0}, \"timeout_ms\": 1000}",
                                     tcp_url(&srv), 0, now_ns() - 3000000000LL);
    lb_ts_stop(&srv, false);
    assert_true(atomic_load(&sh->http.expired_unsent) >= 41);
    assert_true(outcome(sh, LB_TIMED_OUT) >= atomic_load(&sh->http.expired_unsent));
    assert_int_equal(atomic_load(&sh->http.deadline_closes), 0);
    /* Those sent late but in time were answered, over the connections the
     * expired ones did not open. */
    assert_true(outcome(sh, LB_COMPLETED) > 0);
    assert_int_equal(outcome(sh, LB_COMPLETED) + outcome(sh, LB_TIMED_OUT),
                     atomic_load(&sh->submitted));
    assert_true(atomic_load(&srv.requests) <=
                atomic_load(&sh->submitted) - atomic_load(&sh->http.expired_unsent));
    lb_shared_unmap(sh);
}

static void every_outcome_in_one_run_balances(void **state)
{
    (void)state;
    lb_test_server srv;
    assert_int_equal(lb_ts_start(&srv, NULL, false), 0);
    /* The hangs time out at 200 ms, except those sent in the last 100 ms
     * of the load: the stop at 700 ms cancels them. */
    lb_shared *sh = run_against(
        "{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
        "\"load\": {\"rate\": 300, \"duration_ms\": 600}, \"timeout_ms\": 200, "
        "\"service_time\": {\"ms\": 0}, \"error_rate\": 0.3, \"request\": ["
        "{\"path\": \"/work?error={error}\", \"weight\": 4},"
        "{\"path\": \"/status/503\"}, {\"path\": \"/status/429\"}, {\"path\": \"/status/404\"},"
        "{\"path\": \"/reset\"}, {\"path\": \"/hang\"}]}",
        tcp_url(&srv), 700);
    assert_true(outcome(sh, LB_COMPLETED) > 0);
    assert_true(outcome(sh, LB_REJECTED) > 0);
    assert_true(outcome(sh, LB_TIMED_OUT) > 0);
    assert_true(outcome(sh, LB_CANCELLED) > 0);
    assert_true(failed_by(sh, LB_HTTP_STATUS_5XX) > 0); /* error=1 answered 500 */
    assert_true(failed_by(sh, LB_HTTP_STATUS_4XX) > 0);
    assert_true(failed_by(sh, LB_HTTP_RESET) > 0);
    assert_int_equal(failed_by(sh, LB_HTTP_MALFORMED), 0);
    lb_ts_stop(&srv, false);
    lb_shared_unmap(sh);
}

typedef struct engine_thread {
    lb_http_load *engine;
    lb_shared *sh;
    int rc;
} engine_thread;

static void *engine_thread_main(void *arg)
{
    engine_thread *t = arg;
    t->rc = lb_http_load_run(t->engine, t->sh);
    return NULL;
}

static void stop_from_another_thread_cancels(void **state)
{
    (void)state;
    lb_test_server srv;
    assert_int_equal(lb_ts_start(&srv, NULL, true), 0); /* never answers */
    lb_spec spec = load_spec("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                             "\"load\": {\"rate\": 100, \"duration_ms\": 60000}, "
                             "\"timeout_ms\": 60000}");
    lb_http_load_config cfg = {0};
    cfg.spec = &spec.items[0];
    lb_netaddr addr;
    char err[256];
    assert_int_equal(lb_netaddr_parse(tcp_url(&srv), &addr, err, sizeof err), 0);
    lb_http_target_init(&cfg.target, &addr);
    engine_thread t = {NULL, lb_shared_map(), -1};
    assert_non_null(t.sh);
    assert_int_equal(lb_http_load_new(&cfg, &t.engine, err, sizeof err), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, engine_thread_main, &t), 0);
    while (atomic_load(&t.sh->submitted) < 10) usleep(1000);
    lb_http_load_request_stop(t.engine);
    pthread_join(th, NULL);
    assert_int_equal(t.rc, 0);
    assert_balanced(t.sh);
    assert_true(outcome(t.sh, LB_CANCELLED) >= 10);
    assert_int_equal(outcome(t.sh, LB_CANCELLED), atomic_load(&t.sh->submitted));
    lb_http_load_free(t.engine);
    lb_shared_unmap(t.sh);
    lb_spec_free(&spec);
    lb_ts_stop(&srv, true);
}

/* ------------------------------------------------------- odd targets -- */

static void refused_connections_fail_as_refused(void **state)
{
    (void)state;
    /* A port bound but not listening: connections are refused, and nobody
     * else can take the port while the socket is held. */
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", ntohs(a.sin_port));
    lb_shared *sh =
        run_against("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                    "\"load\": {\"rate\": 200, \"duration_ms\": 200}, \"timeout_ms\": 5000}",
                    url, 0);
    close(fd);
    assert_true(atomic_load(&sh->submitted) > 0);
    assert_int_equal(failed_by(sh, LB_HTTP_REFUSED), atomic_load(&sh->submitted));
    lb_shared_unmap(sh);
    sh = run_against("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                     "\"load\": {\"rate\": 200, \"duration_ms\": 200}, \"timeout_ms\": 5000}",
                     "unix:/nonexistent/leakbench.sock", 0);
    assert_int_equal(failed_by(sh, LB_HTTP_REFUSED), atomic_load(&sh->submitted));
    lb_shared_unmap(sh);
}

static void target_that_never_answers_times_out(void **state)
{
    (void)state;
    lb_test_server srv;
    assert_int_equal(lb_ts_start(&srv, NULL, true), 0); /* a backlog nobody accepts from */
    lb_shared *sh = run_against("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                                "\"load\": {\"rate\": 100, \"duration_ms\": 300}, "
                                "\"timeout_ms\": 100}",
                                tcp_url(&srv), 0);
    assert_int_equal(outcome(sh, LB_TIMED_OUT), atomic_load(&sh->submitted));
    lb_ts_stop(&srv, true);
    lb_shared_unmap(sh);
    /* An accepted connection that never gets a byte back: the same. */
    assert_int_equal(lb_ts_start(&srv, NULL, false), 0);
    sh = run_against("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                     "\"load\": {\"rate\": 100, \"duration_ms\": 300}, \"timeout_ms\": 100, "
                     "\"request\": {\"path\": \"/hang\"}}",
                     tcp_url(&srv), 0);
    assert_int_equal(outcome(sh, LB_TIMED_OUT), atomic_load(&sh->submitted));
    lb_ts_stop(&srv, false);
    lb_shared_unmap(sh);
}

static void garbage_and_oversized_responses_fail_by_cause(void **state)
{
    (void)state;
    lb_test_server srv;
    assert_int_equal(lb_ts_start(&srv, NULL, false), 0);
    lb_shared *sh = run_against("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                                "\"load\": {\"rate\": 100, \"duration_ms\": 200}, "
                                "\"timeout_ms\": 2000, \"request\": {\"path\": \"/garbage\"}}",
                                tcp_url(&srv), 0);
    assert_int_equal(failed_by(sh, LB_HTTP_MALFORMED), atomic_load(&sh->submitted));
    lb_shared_unmap(sh);
    sh = run_against("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                     "\"load\": {\"rate\": 50, \"duration_ms\": 200}, \"timeout_ms\": 2000, "
                     "\"max_response_bytes\": 65536, \"request\": {\"path\": \"/big\"}}",
                     tcp_url(&srv), 0);
    assert_int_equal(failed_by(sh, LB_HTTP_TOO_LARGE), atomic_load(&sh->submitted));
    lb_shared_unmap(sh);
    /* Under the limit the same response completes; a body ended by the
     * server's close is a whole response too. */
    sh = run_against("{\"scenario\": \"timeout_leak\", \"transport\": \"http\", "
                     "\"load\": {\"rate\": 20, \"duration_ms\": 200}, \"timeout_ms\": 5000, "
                     "\"max_response_bytes\": 4194304, \"request\": [{\"path\": \"/big\"}, "
                     "{\"path\": \"/eof\"}]}",
                     tcp_url(&srv), 0);
    assert_int_equal(outcome(sh, LB_COMPLETED), atomic_load(&sh->submitted));
    lb_shared_unmap(sh);
    lb_ts_stop(&srv, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(template_fills_every_placeholder, lb_test_arm_timeout),
        cmocka_unit_test_setup(template_errors_name_the_position, lb_test_arm_timeout),
        cmocka_unit_test_setup(urls_in_every_form, lb_test_arm_timeout),
        cmocka_unit_test_setup(spec_fields_are_validated_with_positions, lb_test_arm_timeout),
        cmocka_unit_test_setup(completes_over_keepalive_tcp, lb_test_arm_timeout),
        cmocka_unit_test_setup(completes_over_unix_socket, lb_test_arm_timeout),
        cmocka_unit_test_setup(connection_cap_makes_requests_wait, lb_test_arm_timeout),
        cmocka_unit_test_setup(closed_model_keeps_one_request_per_client, lb_test_arm_timeout),
        cmocka_unit_test_setup(deadline_closes_the_connection, lb_test_arm_timeout),
        cmocka_unit_test_setup(requests_past_their_deadline_take_no_connection,
                               lb_test_arm_timeout),
        cmocka_unit_test_setup(latency_ends_when_the_response_arrived, lb_test_arm_timeout),
        cmocka_unit_test_setup(response_after_the_deadline_times_out, lb_test_arm_timeout),
        cmocka_unit_test_setup(responses_cost_no_wakeup_of_their_own, lb_test_arm_timeout),
        cmocka_unit_test_setup(overload_serves_the_newest_waiters, lb_test_arm_timeout),
        cmocka_unit_test_setup(every_outcome_in_one_run_balances, lb_test_arm_timeout),
        cmocka_unit_test_setup(stop_from_another_thread_cancels, lb_test_arm_timeout),
        cmocka_unit_test_setup(refused_connections_fail_as_refused, lb_test_arm_timeout),
        cmocka_unit_test_setup(target_that_never_answers_times_out, lb_test_arm_timeout),
        cmocka_unit_test_setup(garbage_and_oversized_responses_fail_by_cause, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
