/*
 * target_run_test.c — whole runs of external targets (target_run.c) with
 * a small load of this test's own (a forked process sending requests
 * with a client timeout through http_get.c), standing in for the HTTP
 * load engine: go-seed leaky keeps what the timed-out requests left and
 * does not recover, graceful recovers and reports nothing; a target that
 * dies during the load and one the memory guard kills end the run early
 * with their reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/test_util.h"
#include "report/report_internal.h" /* the results JSON path readers */
#include "http_get.h"
#include "target_run.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ----------------------------------------------------------- the load -- */

typedef struct test_load {
    int requests, timeout_ms;
    const char *path;
    pid_t pid;
    int status;
    bool done;
} test_load;

static int load_start(void *arg, const lb_target *t)
{
    test_load *l = arg;
    l->pid = fork();
    if (l->pid < 0) return -errno;
    if (l->pid == 0) {
        /* cmocka's handlers must not run the test runner in this child */
        for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
        int timed_out = 0;
        for (int i = 0; i < l->requests; i++) {
            lb_http_response r;
            char err[256];
            int rc = lb_http_get((const struct sockaddr *)&t->addr, t->addr_len, t->host, l->path,
                                 l->timeout_ms, 4096, &r, err, sizeof err);
            if (rc == -ETIMEDOUT) timed_out++;
            if (rc == 0) lb_http_response_free(&r);
            usleep(10 * 1000);
        }
        _exit(timed_out == l->requests ? 0 : 1);
    }
    return 0;
}

static bool load_done(void *arg)
{
    test_load *l = arg;
    if (!l->done && waitpid(l->pid, &l->status, WNOHANG) == l->pid) l->done = true;
    return l->done;
}

static void load_stop(void *arg)
{
    test_load *l = arg;
    if (!l->done) {
        kill(l->pid, SIGKILL);
        waitpid(l->pid, &l->status, 0);
        l->done = true;
    }
}

/* ------------------------------------------------------------- go-seed -- */

static const char *go_seed(void)
{
    const char *p = getenv("LEAKBENCH_GO_SEED");
    return p && *p ? p : "build/go-seed/go-seed";
}

static char own[PATH_MAX];

static void run_go_seed(const char *mode, test_load *load, lb_target_run_result *out)
{
    if (access(go_seed(), X_OK) != 0) fail_msg("%s not built", go_seed());
    assert_non_null(realpath("examples/go-seed", own));
    const char *argv[] = {go_seed(),  "-mode", mode,     "-listen", "127.0.0.1:{port}",
                          "-workers", "8",     "-queue", "8",       NULL};
    lb_target_run_config c = {0};
    c.target.argv = argv;
    c.target.port = LB_TARGET_PORT_AUTO;
    c.ready = LB_READY_HTTP;
    c.ready_path = "/healthz";
    c.ready_timeout_ms = 30000;
    c.probe.kind = LB_PROBE_GO_PPROF;
    c.probe_ms = 50;
    c.sample_ms = 10;
    c.settle_ms = 2000;
    c.shutdown_grace_ms = 3000;
    c.own_dir = own;
    c.load = (lb_target_load){load_start, load_done, load_stop, load};
    assert_int_equal(lb_target_run(&c, out), 0);
    if (out->end != LB_TARGET_END_COMPLETE) print_error("%s: %s\n", mode, out->error);
    assert_int_equal(out->end, LB_TARGET_END_COMPLETE);
    assert_true(load->done && WIFEXITED(load->status) && WEXITSTATUS(load->status) == 0);
    assert_true(out->ready_ms >= 0);
    assert_true(out->baseline_tasks > 0);
    assert_true(out->series.n > 20);
    assert_true(out->probe.readings > 5);
    assert_int_equal(out->probe.failed, 0);
    assert_true(out->probe.cost_ms_median > 0);
    assert_int_equal(out->shutdown.outcome, LB_SHUTDOWN_EXITED);
    for (int p = LB_PHASE_READY; p <= LB_PHASE_EXIT; p++) assert_false(isnan(out->phases.at_s[p]));
    json_t *j = lb_target_run_json(&c, out);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "end")), "complete");
    assert_true(json_is_null(json_object_get(j, "error")));
    assert_int_equal(json_integer_value(json_object_get(j, "port")), out->port);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "argv"), 1)), "-mode");
    assert_string_equal(lb_jstr_path(j, "probe.kind"), "go_pprof");
    assert_string_equal(lb_jstr_path(j, "probe.path"), "/debug/pprof/goroutine?debug=1");
    assert_true(lb_jnum_path(j, "probe.cost_ms.median") > 0);
    assert_string_equal(lb_jstr_path(j, "guard.mechanism"), "off");
    assert_string_equal(lb_jstr_path(j, "shutdown.outcome"), "exited");
    assert_string_equal(lb_jstr_path(j, "shutdown.signal"), "SIGTERM");
    assert_near(lb_jnum_path(j, "exit.code"), 0, 0);
    assert_string_equal(lb_jstr_path(j, "exit.status"), "exited with status 0");
    json_decref(j);
}

static void go_seed_leaky_run(void **state)
{
    (void)state;
    test_load load = {20, 50, "/work?service_ms=300&payload=65536", 0, 0, false};
    lb_target_run_result r;
    run_go_seed("leaky", &load, &r);
    assert_true(r.watch.peak_tasks >= (double)r.baseline_tasks + 16);
    assert_true(isnan(r.watch.recovery_candidate_s)); /* still above the baseline: no recovery */
    assert_true(r.has_leaks);
    /* About one per timed-out request: on a loaded machine a client may
     * give up before its request reached the handler. */
    assert_true(r.leaks.groups[0].count >= 16 && r.leaks.groups[0].count <= 20);
    assert_string_equal(r.leaks.groups[0].op_name, "chan send");
    assert_non_null(strstr(r.leaks.groups[0].site.file, "examples/go-seed/main.go"));
    assert_true(r.leaks.groups[0].growth_per_s > 0);
    json_t *leaks_json = lb_leak_report_to_json(&r.leaks, NULL); /* in the test log */
    json_dumpf(leaks_json, stdout, JSON_INDENT(2));
    json_decref(leaks_json);
    lb_target_run_result_free(&r);
}

static void go_seed_graceful_run(void **state)
{
    (void)state;
    test_load load = {20, 50, "/work?service_ms=300&payload=65536", 0, 0, false};
    lb_target_run_result r;
    run_go_seed("graceful", &load, &r);
    assert_false(isnan(r.watch.recovery_candidate_s)); /* back at the baseline, and stayed */
    assert_true(r.has_leaks);
    if (r.leaks.total) {
        json_t *leaks_json = lb_leak_report_to_json(&r.leaks, NULL);
        json_dumpf(leaks_json, stdout, JSON_INDENT(2));
        json_decref(leaks_json);
    }
    assert_int_equal(r.leaks.total, 0);
    lb_target_run_result_free(&r);
}

/* ------------------------------------------------------- early ends -- */

static void dies_during_load(void **state)
{
    (void)state;
    const char *argv[] = {"sh", "-c", "sleep 0.3; exit 7", NULL};
    test_load load = {1000, 30, "/", 0, 0, false};
    lb_target_run_config c = {0};
    c.target.argv = argv;
    c.target.port = LB_TARGET_PORT_AUTO;
    c.ready = LB_READY_NONE;
    c.probe.kind = LB_PROBE_THREADS;
    c.settle_ms = 100;
    c.load = (lb_target_load){load_start, load_done, load_stop, &load};
    lb_target_run_result r;
    assert_int_equal(lb_target_run(&c, &r), 0);
    assert_int_equal(r.end, LB_TARGET_END_DIED);
    assert_non_null(strstr(r.error, "exited during load (exited with status 7)"));
    assert_true(load.done); /* the load was stopped */
    assert_int_equal(r.shutdown.outcome, LB_SHUTDOWN_ALREADY_GONE);
    assert_string_equal(lb_target_end_name(r.end), "died");
    json_t *j = lb_target_run_json(&c, &r);
    assert_string_equal(lb_jstr_path(j, "end"), "died");
    assert_non_null(strstr(lb_jstr_path(j, "error"), "exited during load"));
    assert_near(lb_jnum_path(j, "exit.code"), 7, 0);
    assert_string_equal(lb_jstr_path(j, "shutdown.outcome"), "already gone");
    assert_true(json_is_null(lb_jpath(j, "shutdown.ms")));
    assert_string_equal(lb_jstr_path(j, "probe.kind"), "threads");
    json_decref(j);
    lb_target_run_result_free(&r);
}

static void memory_guard_ends_the_run(void **state)
{
    (void)state;
    /* tail keeps the last GiB it read: all of it, as it grows */
    const char *argv[] = {"sh", "-c", "cat /dev/zero | tail -c 1G", NULL};
    lb_target_run_config c = {0};
    c.target.argv = argv;
    c.target.port = LB_TARGET_PORT_NONE;
    c.target.memory_limit_bytes = 48 << 20;
    c.ready = LB_READY_NONE;
    c.probe.kind = LB_PROBE_NONE;
    c.settle_ms = 60000;
    c.wall_ms = 30000;
    lb_target_run_result r;
    assert_int_equal(lb_target_run(&c, &r), 0);
    if (r.end != LB_TARGET_END_GUARD)
        print_error("end %s: %s\n", lb_target_end_name(r.end), r.error);
    assert_int_equal(r.end, LB_TARGET_END_GUARD);
    assert_true(r.guard != LB_GUARD_OFF);
    assert_non_null(strstr(r.guard_reason, "48.0 MiB"));
    assert_int_equal(r.baseline_tasks, -1); /* probe none: no live-task reading */
    json_t *j = lb_target_run_json(&c, &r);
    assert_true(lb_jbool_path(j, "guard.fired") > 0);
    assert_non_null(strstr(lb_jstr_path(j, "guard.reason"), "48.0 MiB"));
    /* The kernel kills the biggest process (tail); sh may exit on its own
     * (128 + 9) before the guard's SIGKILL of the group reaches it. */
    const char *sig = lb_jstr_path(j, "exit.signal");
    assert_true((sig && strcmp(sig, "SIGKILL") == 0) || lb_jnum_path(j, "exit.code") == 137);
    assert_true(json_is_null(lb_jpath(j, "baseline_tasks")));
    assert_true(json_is_null(lb_jpath(j, "port")));
    json_decref(j);
    lb_target_run_result_free(&r);
}

static void never_ready_ends_the_run(void **state)
{
    (void)state;
    const char *argv[] = {"sleep", "30", NULL};
    lb_target_run_config c = {0};
    c.target.argv = argv;
    c.target.port = LB_TARGET_PORT_AUTO;
    c.ready = LB_READY_TCP;
    c.ready_timeout_ms = 200;
    c.shutdown_grace_ms = 1000;
    lb_target_run_result r;
    assert_int_equal(lb_target_run(&c, &r), 0);
    assert_int_equal(r.end, LB_TARGET_END_NOT_READY);
    assert_non_null(strstr(r.error, "not ready after 200 ms"));
    assert_true(isnan(r.ready_ms));
    assert_int_equal(r.shutdown.outcome, LB_SHUTDOWN_EXITED);
    lb_target_run_result_free(&r);
    const char *bad[] = {"/nonexistent/x", NULL};
    c.target.argv = bad;
    assert_int_equal(lb_target_run(&c, &r), 0);
    assert_int_equal(r.end, LB_TARGET_END_START_FAILED);
    lb_target_run_result_free(&r);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(go_seed_leaky_run, lb_test_arm_timeout),
        cmocka_unit_test_setup(go_seed_graceful_run, lb_test_arm_timeout),
        cmocka_unit_test_setup(dies_during_load, lb_test_arm_timeout),
        cmocka_unit_test_setup(memory_guard_ends_the_run, lb_test_arm_timeout),
        cmocka_unit_test_setup(never_ready_ends_the_run, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
