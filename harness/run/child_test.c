/*
 * child_test.c — the child's side of a run (child.c) through lb_run_one,
 * with a probe scenario registered by this test:
 *  - shutdown ordering: variant.shutdown() is called only after every
 *    client has returned from handle() — also with settle_ms 0, where the
 *    last clients are spawned right before the cancel — and, when a
 *    handler never returns, at the end of shutdown_grace_ms with the
 *    request reported unanswered;
 *  - the parent samples at real-time priority where it may, and is back
 *    at the normal policy after the run; the child never runs at it;
 *  - a runtime that does not start (rt_run failing in the child) is
 *    recorded as a crashed run with a clear error, and `leakbench run`
 *    exits 3 with the results still written.
 *
 * The probe records what it sees in a shared anonymous mapping made
 * before the fork, so the parent can read it after the child is gone.
 * Its handler sleeps its service time without watching the context (it
 * finishes, but not early on cancel), so with the old ordering shutdown()
 * always found requests in flight.
 */
#include "child.h"
#include "cli/cli.h"
#include "runner.h"
#include "core/test_util.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

typedef struct probe_page {
    _Atomic int64_t in_flight;              /* handle() calls running now */
    _Atomic int64_t handled;                /* handle() calls that returned */
    _Atomic int64_t shutdown_calls;         /* shutdown() calls */
    _Atomic int64_t in_flight_at_shutdown;  /* in_flight when shutdown() was called */
    _Atomic int64_t entered_after_shutdown; /* handle() calls begun after shutdown() */
    _Atomic int shutdown_done;
    _Atomic int realtime_handlers; /* handle() calls that ran at a real-time policy */
} probe_page;

static probe_page *probe;

static int probe_state; /* the probe keeps its state in the shared page */

static void *probe_setup(const lb_env *env)
{
    (void)env;
    return &probe_state;
}

/* Enters handle(): counted in flight, and flagged if shutdown ran already. */
static void probe_enter(void)
{
    if (sched_getscheduler(0) != SCHED_OTHER) atomic_fetch_add(&probe->realtime_handlers, 1);
    atomic_fetch_add(&probe->in_flight, 1);
    if (atomic_load(&probe->shutdown_done)) atomic_fetch_add(&probe->entered_after_shutdown, 1);
}

/* Finishes its service time whatever the context says. */
static lb_outcome probe_handle(void *state, lb_request *req)
{
    (void)state;
    probe_enter();
    rt_sleep(req->service_ns, NULL);
    atomic_fetch_sub(&probe->in_flight, 1);
    atomic_fetch_add(&probe->handled, 1);
    return LB_COMPLETED;
}

/* Never returns: a leaky handler stuck for good. */
static lb_outcome stuck_handle(void *state, lb_request *req)
{
    (void)state;
    (void)req;
    probe_enter();
    for (;;) rt_sleep(RT_MS(1000) * 3600, NULL);
    return LB_FAILED;
}

static void probe_shutdown(void *state)
{
    (void)state;
    atomic_store(&probe->in_flight_at_shutdown, atomic_load(&probe->in_flight));
    atomic_fetch_add(&probe->shutdown_calls, 1);
    atomic_store(&probe->shutdown_done, 1);
}

static const lb_scenario probe_scenario = {
    .name = "shutdown_probe",
    .pattern = 900,
    .title = "child_test's shutdown probe",
    .trigger = "none",
    .source = "harness/run/child_test.c",
    .description = "the handler never returns",
    .fix = "the handler finishes its service time",
    .leaky = {probe_setup, stuck_handle, probe_shutdown},
    .graceful = {probe_setup, probe_handle, probe_shutdown},
};
LB_SCENARIO(probe_scenario)

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    probe = mmap(NULL, sizeof *probe, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(probe != MAP_FAILED);
    memset(probe, 0, sizeof *probe);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    munmap(probe, sizeof *probe);
    probe = NULL;
    return 0;
}

static void run_spec(const char *text, bool leaky, lb_run_result *out)
{
    lb_spec spec;
    lb_spec_error err;
    if (lb_spec_load_string("probe.json", text, &spec, &err) != 0) {
        print_error("%s\n", err.text);
        fail();
    }
    lb_guards limits;
    lb_guards_resolve(&spec.items[0], 0, &limits);
    lb_run_options opt = {0};
    assert_int_equal(lb_run_one(&spec.items[0], leaky, 0, &limits, &opt, out), 0);
    out->spec = NULL; /* freed below */
    lb_spec_free(&spec);
}

/* Whether this process may take a real-time policy (and so may the
 * parent of a run, the same user). */
static bool realtime_allowed(void)
{
    struct sched_param p = {.sched_priority = 1};
    if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &p) != 0) return false;
    p.sched_priority = 0;
    sched_setscheduler(0, SCHED_OTHER, &p);
    return true;
}

/* ----------------------------------------------------- shutdown order -- */

/* 200 requests/s of 30 ms each: about six in flight at any moment, and
 * with settle_ms 0 the cancel comes right after the last arrival. */
#define OPEN_NO_SETTLE                                                                             \
    "{\"scenario\": \"shutdown_probe\", \"load\": {\"rate\": 200, \"duration_ms\": 300},"          \
    " \"service_time\": {\"dist\": \"fixed\", \"ms\": 30}, \"timeout_ms\": 1000,"                  \
    " \"settle_ms\": 0, \"shutdown_grace_ms\": 2000, \"sample_ms\": 5}"

static void shutdown_waits_for_every_handler_open_load(void **state)
{
    (void)state;
    lb_run_result r;
    run_spec(OPEN_NO_SETTLE, false, &r);
    assert_int_equal(r.status, LB_RUN_COMPLETED);
    assert_int_equal(atomic_load(&probe->shutdown_calls), 1);
    assert_int_equal(atomic_load(&probe->in_flight_at_shutdown), 0);
    assert_int_equal(atomic_load(&probe->entered_after_shutdown), 0);
    assert_true(r.accounting.submitted >= 50);
    assert_int_equal(r.accounting.outcome[LB_COMPLETED], r.accounting.submitted);
    assert_int_equal(atomic_load(&probe->handled), r.accounting.submitted);
    assert_true(r.accounting.balanced);
    /* The shutdown time still runs from the cancel until only the main
     * task is left: it includes the wait for the last handlers (one
     * service time at most), and is well inside the grace period. */
    assert_false(isnan(r.metrics.shutdown_ms));
    assert_true(r.metrics.shutdown_ms > 0 && r.metrics.shutdown_ms < 1000);
    /* The parent sampled at real-time priority wherever it may, and is
     * back at the normal policy after the run; the child never had it. */
    assert_int_equal(sched_getscheduler(0), SCHED_OTHER);
    assert_int_equal(r.sampler.realtime, realtime_allowed()); /* (this resets the policy) */
    assert_int_equal(atomic_load(&probe->realtime_handlers), 0);
    lb_run_result_free(&r);
}

static void shutdown_waits_for_every_handler_closed_load(void **state)
{
    (void)state;
    lb_run_result r;
    run_spec("{\"scenario\": \"shutdown_probe\", \"load\": {\"model\": \"closed\", \"clients\": 6,"
             " \"duration_ms\": 300}, \"service_time\": {\"dist\": \"fixed\", \"ms\": 30},"
             " \"timeout_ms\": 1000, \"settle_ms\": 0, \"shutdown_grace_ms\": 2000,"
             " \"sample_ms\": 5}",
             false, &r);
    assert_int_equal(r.status, LB_RUN_COMPLETED);
    assert_int_equal(atomic_load(&probe->shutdown_calls), 1);
    assert_int_equal(atomic_load(&probe->in_flight_at_shutdown), 0);
    assert_int_equal(atomic_load(&probe->entered_after_shutdown), 0);
    assert_true(r.accounting.submitted >= 30);
    assert_int_equal(r.accounting.outcome[LB_COMPLETED], r.accounting.submitted);
    assert_true(r.accounting.balanced);
    lb_run_result_free(&r);
}

static void a_handler_that_never_returns_delays_shutdown_by_the_grace_only(void **state)
{
    (void)state;
    lb_run_result r;
    run_spec("{\"scenario\": \"shutdown_probe\", \"load\": {\"rate\": 50, \"duration_ms\": 100},"
             " \"timeout_ms\": 1000, \"settle_ms\": 0, \"shutdown_grace_ms\": 300,"
             " \"sample_ms\": 5}",
             true, &r);
    assert_int_equal(r.status, LB_RUN_COMPLETED);
    /* shutdown() still ran, once, with the stuck handlers inside. */
    assert_int_equal(atomic_load(&probe->shutdown_calls), 1);
    int64_t stuck = atomic_load(&probe->in_flight_at_shutdown);
    assert_true(stuck >= 1);
    assert_int_equal(r.accounting.unanswered, stuck);
    assert_int_equal(r.accounting.submitted, stuck);
    /* Never "shut down": tasks are left. */
    assert_true(isnan(r.metrics.shutdown_ms));
    /* The exit phase follows the cancel by the grace period, not more
     * than a sample or two of slack (the bound holds). */
    double waited = r.phases.at_s[LB_PHASE_EXIT] - r.phases.at_s[LB_PHASE_SHUTDOWN];
    assert_true(waited >= 0.3 && waited < 0.3 + 0.5);
    lb_run_result_free(&r);
}

/* ----------------------------------------------- runtime start failure -- */

/*
 * rt_run in the child must fail.  No spec reaches an rt_config that
 * rt_run rejects (the spec loader validates the scheduler, and -ENOSYS
 * needs a build without coroutines), so the test provokes the runtime's
 * other start failure: a runtime is already running in this process
 * (rt_run -> -EBUSY).  fork() copies that state into the run's child, so
 * the child's rt_run fails exactly as a failed scheduler start would.
 */
static atomic_bool hold_runtime;
static atomic_bool runtime_started;

static void idle_main(void *arg)
{
    (void)arg;
    atomic_store(&runtime_started, true);
    while (atomic_load(&hold_runtime)) rt_sleep(RT_MS(1), NULL);
}

static void *runtime_thread(void *arg)
{
    (void)arg;
    rt_config cfg = {0};
    intptr_t rc = rt_run(&cfg, idle_main, NULL);
    return (void *)rc;
}

static pthread_t start_busy_runtime(void)
{
    atomic_store(&hold_runtime, true);
    atomic_store(&runtime_started, false);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, runtime_thread, NULL), 0);
    while (!atomic_load(&runtime_started)) usleep(1000);
    return t;
}

static void stop_busy_runtime(pthread_t t)
{
    atomic_store(&hold_runtime, false);
    void *rc;
    pthread_join(t, &rc);
    assert_int_equal((intptr_t)rc, 0);
}

static void runtime_start_failure_is_a_crashed_run(void **state)
{
    (void)state;
    pthread_t t = start_busy_runtime();
    lb_run_result r;
    run_spec(OPEN_NO_SETTLE, false, &r);
    stop_busy_runtime(t);
    assert_int_equal(r.status, LB_RUN_CRASHED);
    assert_int_equal(r.exit_code, LB_CHILD_EXIT_FAILED);
    assert_int_equal(r.exit_signal, 0);
    assert_string_equal(r.error, "the runtime did not start (rt_run: busy: tasks still use it)");
    assert_false(r.has_leaks);
    assert_int_equal(r.accounting.submitted, 0);
    assert_int_equal(atomic_load(&probe->shutdown_calls), 0);
    lb_run_result_free(&r);
}

static void runtime_start_failure_exits_3_with_results_written(void **state)
{
    (void)state;
    char dir[64];
    lb_test_make_tmpdir(dir, sizeof dir, "child");
    char spec[96], out[96];
    snprintf(spec, sizeof spec, "%s/probe.json", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    FILE *f = fopen(spec, "w");
    assert_non_null(f);
    fputs(OPEN_NO_SETTLE, f);
    fclose(f);

    const lb_command *run = lb_command_find("run");
    assert_non_null(run);
    char *argv[] = {"run", "-q", "--no-report", "-o", out, spec, NULL};
    pthread_t t = start_busy_runtime();
    int rc = run->main(6, argv);
    stop_busy_runtime(t);
    assert_int_equal(rc, LB_EXIT_ERROR);

    char path[128];
    snprintf(path, sizeof path, "%s/results.json", out);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j) print_error("%s: %s\n", path, e.text);
    assert_non_null(j);
    json_t *runs = json_object_get(json_array_get(json_object_get(j, "scenarios"), 0), "runs");
    assert_int_equal(json_array_size(runs), 2); /* both twins tried */
    for (size_t i = 0; i < 2; i++) {
        json_t *r = json_array_get(runs, i);
        assert_string_equal(json_string_value(json_object_get(r, "status")), "crashed");
        const char *error = json_string_value(json_object_get(r, "error"));
        assert_non_null(error);
        assert_non_null(strstr(error, "the runtime did not start (rt_run: "));
    }
    json_decref(j);
    snprintf(path, sizeof path, "%s/samples.csv", out);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(lb_test_remove_tree(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(shutdown_waits_for_every_handler_open_load, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(shutdown_waits_for_every_handler_closed_load, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            a_handler_that_never_returns_delays_shutdown_by_the_grace_only, setup, teardown),
        cmocka_unit_test_setup_teardown(runtime_start_failure_is_a_crashed_run, setup, teardown),
        cmocka_unit_test_setup_teardown(runtime_start_failure_exits_3_with_results_written, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
