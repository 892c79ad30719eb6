/*
 * target_failures_test.c — `leakbench run` on a spec's `target` pair when the
 * targets misbehave, end to end with the real binary ($LEAKBENCH) and the
 * fixture program ($LEAKBENCH_TARGET_FIXTURE, harness/run/target_fixture.c):
 * a target that exits at once, one that never gets ready (listening but
 * never answering, or never listening), one that ignores SIGTERM, one that
 * forks a server and exits, one that floods stdout, one that exceeds the
 * memory guard, and probes that answer 404 or garbage.  For each: the
 * documented result in results.json (the run's `target` object: `end`,
 * `error`, `exit`, `shutdown`, `guard`, `probe`), the exit code, the
 * target's log tail in the message, and no process of the target alive
 * afterwards.  Then leakbench itself SIGINTed, SIGTERMed and SIGKILLed in
 * the middle of a run: the target's processes (and leakbench's own) gone
 * within a second of the signal.  Then the good path of the make test
 * gate: examples/go-seed/gate.json's pair with a shorter load, whose leak
 * report must point at the leaky handler's send line (the `LEAK SITE`
 * line of examples/go-seed/main.go, found in the source, not written
 * here).  (`leakbench serve` as a target under the prometheus probe is
 * run_target_test.c's.)
 *
 * "No process left" is checked by a marker: every target's environment
 * (the spec's `env`) holds LBFIX_MARKER=lbfix-PID-N, unique to the test,
 * which forked children inherit; /proc/PID/environ of every process is
 * searched for it.  leakbench's own processes (the load process, the
 * keeper) carry the spec's path, also unique to the test, in their
 * command line.
 */
#include "cli.h"
#include "core/jsonutil.h"
#include "core/test_util.h"
#include "run/results_load.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[64];
static const char *leakbench, *fixture;
static char marker[80]; /* LBFIX_MARKER=..., in every target's environment */
static char spec_path[128], out_dir[128], err_path[128];

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int setup(void **state)
{
    (void)state;
    alarm(120);
    static int n;
    leakbench = lb_test_leakbench();
    const char *f = getenv("LEAKBENCH_TARGET_FIXTURE");
    fixture = f && *f ? f : "build/rel/harness/run/target_fixture";
    lb_test_make_tmpdir(tmpdir, sizeof tmpdir, "run-target");
    snprintf(marker, sizeof marker, "LBFIX_MARKER=lbfix-%d-%d", (int)getpid(), n++);
    snprintf(spec_path, sizeof spec_path, "%s/spec.json", tmpdir);
    snprintf(out_dir, sizeof out_dir, "%s/run", tmpdir);
    snprintf(err_path, sizeof err_path, "%s/stderr", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return lb_test_remove_tree(tmpdir);
}

/* ---------------------------------------------------------- processes -- */

/* Processes of the test's targets, and of the leakbench it runs.  /proc's
 * listing can leave out a live process for an instant (target.c's
 * members() says when), so each count is the largest of three scans: a
 * miss must not pass for "gone". */
#define SCANS 3

static int targets_alive(void)
{
    int most = 0;
    for (int i = 0; i < SCANS; i++) {
        int n = lb_test_processes_with("environ", marker, false);
        most = n > most ? n : most;
    }
    return most;
}

static int leakbench_alive(void)
{
    int most = 0;
    for (int i = 0; i < SCANS; i++) {
        int n = lb_test_processes_with("cmdline", spec_path, true);
        most = n > most ? n : most;
    }
    return most;
}

/* True once no process of the targets or of leakbench is left, polling
 * until deadline_ms. */
static bool all_gone_by(double deadline_ms)
{
    for (;;) {
        if (targets_alive() == 0 && leakbench_alive() == 0) return true;
        if (now_ms() > deadline_ms) return false;
        usleep(5000);
    }
}

static void assert_nothing_left(void)
{
    int targets = targets_alive(), ours = leakbench_alive();
    if (targets || ours)
        print_error("left running: %d target process(es), %d of leakbench's\n", targets, ours);
    assert_int_equal(targets + ours, 0);
}

/* ------------------------------------------------------------- specs -- */

/* A variant running command (consumed), the marker in its environment. */
static json_t *marked_variant(json_t *command)
{
    const char *eq = strchr(marker, '=');
    return json_pack("{s:o, s:{s:s}}", "command", command, "env", "LBFIX_MARKER", eq + 1);
}

/* A variant: the fixture in mode, with its argument (or NULL). */
static json_t *fixture_variant(const char *mode, const char *arg)
{
    json_t *cmd = json_pack("[s, s]", fixture, mode);
    if (arg) json_array_append_new(cmd, json_string(arg));
    return marked_variant(cmd);
}

/* A target pair with a short, light load; the caller adjusts it. */
static json_t *target_spec(json_t *leaky, json_t *graceful)
{
    json_t *spec = json_pack(
        "{s:s, s:{s:o, s:o, s:s, s:{s:s, s:i}, s:{s:s, s:i}, s:{s:s, s:i}},"
        " s:{s:s, s:f, s:i, s:i}, s:{s:s}, s:i, s:i, s:i, s:i}",
        "name", "fixture", "target", "leaky", leaky, "graceful", graceful, "port", "auto", "ready",
        "http", "/healthz", "timeout_ms", 5000, "probe", "kind", "threads", "interval_ms", 50,
        "shutdown", "signal", "SIGTERM", "grace_ms", 2000, "load", "model", "constant", "rate",
        40.0, "duration_ms", 500, "connections", 8, "request", "path", "/work?service_ms=5",
        "timeout_ms", 200, "settle_ms", 300, "sample_ms", 10, "payload_bytes", 0);
    assert_non_null(spec);
    return spec;
}

/* target.<key> of the spec (a common key) replaced by value. */
static void set_common(json_t *spec, const char *key, json_t *value)
{
    json_object_set_new(json_object_get(spec, "target"), key, value);
}

/* target.<variant>.<key> (a per-variant override). */
static void set_variant(json_t *spec, const char *variant, const char *key, json_t *value)
{
    json_object_set_new(json_object_get(json_object_get(spec, "target"), variant), key, value);
}

/* ------------------------------------------------------------ running -- */

static pid_t start_leakbench(const char *const *extra)
{
    const char *argv[24] = {leakbench, "run", "--quiet", "--no-report", "-o", out_dir};
    int argc = 6;
    for (int i = 0; extra && extra[i] && argc < 22; i++) argv[argc++] = extra[i];
    argv[argc++] = spec_path;
    argv[argc] = NULL;
    return lb_test_spawn(err_path, true, argv, NULL); /* --quiet: stderr only */
}

/* The exit code of pid, or 128 + the signal that ended it (leakbench
 * SIGKILLed on purpose). */
static int wait_exit_code(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_int_equal(errno, EINTR);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Writes spec (consumed), runs `leakbench run` on it and returns the exit
 * code; afterwards no process of the run may be left. */
static int run_spec(json_t *spec, const char *const *extra)
{
    assert_int_equal(json_dump_file(spec, spec_path, JSON_INDENT(2)), 0);
    json_decref(spec);
    int code = wait_exit_code(start_leakbench(extra));
    assert_nothing_left();
    return code;
}

/* report.md of the run, rendered by `leakbench report` (no charts). */
static const char *report_md(void)
{
    char dir[192], md[224], log[224];
    snprintf(dir, sizeof dir, "%s/report", out_dir);
    snprintf(log, sizeof log, "%s/report.log", tmpdir);
    const char *argv[] = {leakbench, "report", "--no-charts", out_dir, "-o", dir, NULL};
    assert_int_equal(lb_test_wait(lb_test_spawn(log, true, argv, NULL)), LB_EXIT_OK);
    snprintf(md, sizeof md, "%s/report.md", dir);
    return lb_test_slurp(md);
}

/* What leakbench printed on stderr. */
static const char *stderr_text(void)
{
    return lb_test_slurp(err_path);
}

/* results.json of the run, through the one loader (so v3 target runs must
 * load as report and compare would read them). */
static json_t *load_results(void)
{
    json_t *doc;
    char err[1024];
    if (lb_results_load(out_dir, &doc, err, sizeof err))
        fail_msg("%s\nleakbench said:\n%s", err, stderr_text());
    return doc;
}

/* The first scenario's run of variant. */
static const json_t *run_of(const json_t *doc, const char *variant)
{
    const json_t *run =
        lb_scenario_run(json_array_get(json_object_get(doc, "scenarios"), 0), variant);
    if (!run) fail_msg("results.json has no %s run", variant);
    return run;
}

/* A field of the run's target object by dotted path ("shutdown.outcome"). */
static const json_t *target_field(const json_t *run, const char *path)
{
    const json_t *v = json_object_get(run, "target");
    if (!v)
        fail_msg("the %s run has no target object",
                 json_string_value(json_object_get(run, "variant")));
    return lb_jpath(v, path);
}

static const char *target_str(const json_t *run, const char *path)
{
    const json_t *v = target_field(run, path);
    if (!json_is_string(v)) fail_msg("target.%s is not a string", path);
    return json_string_value(v);
}

static void assert_target_str(const json_t *run, const char *path, const char *expected)
{
    const char *got = target_str(run, path);
    if (strcmp(got, expected))
        fail_msg("%s run: target.%s is \"%s\", expected \"%s\"",
                 json_string_value(json_object_get(run, "variant")), path, got, expected);
}

static void assert_contains(const char *what, const char *text, const char *needle)
{
    if (!text) fail_msg("%s is missing (expected it to contain \"%s\")", what, needle);
    if (!strstr(text, needle)) fail_msg("%s does not contain \"%s\":\n%s", what, needle, text);
}

/* The run failed because of its target: status target_failed, and its
 * error (also printed) holds the reason and the tail of the target's
 * stderr. */
static void assert_target_failed(const json_t *run, const char *reason, const char *log_line)
{
    assert_string_equal(json_string_value(json_object_get(run, "status")), "target_failed");
    const char *error = json_string_value(json_object_get(run, "error"));
    assert_contains("the run's error", error, reason);
    assert_contains("the run's error (the log tail)", error, log_line);
    assert_contains("target.error", target_str(run, "error"), reason);
    assert_contains("leakbench's stderr", stderr_text(), log_line);
}

/* The variant ran through: ready, load, settle, and stopped by SIGTERM
 * with its exit status 0 (the fixture's serving modes exit 0 on SIGTERM). */
static void assert_ran_and_exited(const json_t *run)
{
    assert_target_str(run, "end", "complete");
    assert_true(json_is_null(target_field(run, "error")));
    assert_target_str(run, "shutdown.outcome", "exited");
    assert_target_str(run, "shutdown.signal", "SIGTERM");
    assert_int_equal(json_integer_value(target_field(run, "exit.code")), 0);
    assert_int_equal(json_integer_value(target_field(run, "shutdown.leftover")), 0);
}

/* ------------------------------------------------------------- tests -- */

static void exits_at_once(void **state)
{
    (void)state;
    json_t *spec = target_spec(fixture_variant("exit", "3"), fixture_variant("serve", NULL));
    int code = run_spec(spec, NULL);
    json_t *doc = load_results();
    const json_t *leaky = run_of(doc, "leaky");
    assert_target_str(leaky, "end", "not ready");
    assert_target_failed(leaky, "exited before it was ready (exited with status 3)",
                         "target_fixture: exit: exiting with status 3");
    assert_int_equal(json_integer_value(target_field(leaky, "exit.code")), 3);
    assert_target_str(leaky, "shutdown.outcome", "already gone");
    assert_true(json_is_null(target_field(leaky, "shutdown.ms")));
    assert_ran_and_exited(run_of(doc, "graceful"));
    assert_int_equal(code, LB_EXIT_ERROR);
    json_decref(doc);
}

/* Listening but never answering /healthz (leaky), never listening at all
 * with a TCP readiness check (graceful). */
static void never_ready(void **state)
{
    (void)state;
    json_t *spec = target_spec(fixture_variant("silent", NULL), fixture_variant("sleep", NULL));
    set_common(spec, "ready", json_pack("{s:s, s:i}", "http", "/healthz", "timeout_ms", 600));
    set_variant(spec, "graceful", "ready", json_pack("{s:b, s:i}", "tcp", 1, "timeout_ms", 600));
    int code = run_spec(spec, NULL);
    json_t *doc = load_results();
    const char *variants[] = {"leaky", "graceful"};
    const char *logs[] = {"target_fixture: silent: listening on 127.0.0.1:",
                          "target_fixture: sleep: never listening"};
    for (int i = 0; i < 2; i++) {
        const json_t *run = run_of(doc, variants[i]);
        assert_target_str(run, "end", "not ready");
        assert_target_failed(run, "not ready after 600 ms", logs[i]);
        assert_target_str(run, "shutdown.outcome", "exited");
        assert_target_str(run, "exit.signal", "SIGTERM");
        assert_true(json_is_null(target_field(run, "baseline_tasks")));
    }
    assert_int_equal(code, LB_EXIT_ERROR);
    json_decref(doc);
}

static void ignores_sigterm(void **state)
{
    (void)state;
    json_t *spec =
        target_spec(fixture_variant("ignore-term", NULL), fixture_variant("serve", NULL));
    /* the leaky variant's own shutdown replaces the common one */
    set_variant(spec, "leaky", "shutdown",
                json_pack("{s:s, s:i}", "signal", "SIGTERM", "grace_ms", 300));
    int code = run_spec(spec, NULL);
    json_t *doc = load_results();
    const json_t *leaky = run_of(doc, "leaky");
    assert_target_str(leaky, "end", "complete");
    assert_target_str(leaky, "shutdown.outcome", "killed after the grace");
    assert_target_str(leaky, "exit.signal", "SIGKILL");
    assert_true(json_number_value(target_field(leaky, "shutdown.ms")) >= 300);
    assert_int_equal(json_integer_value(target_field(leaky, "shutdown.grace_ms")), 300);
    const json_t *graceful = run_of(doc, "graceful");
    assert_ran_and_exited(graceful);
    assert_int_equal(json_integer_value(target_field(graceful, "shutdown.grace_ms")), 2000);
    assert_int_equal(code, LB_EXIT_OK);
    assert_contains("report.md", report_md(), "| Shutdown | killed after the 300 ms grace |");
    json_decref(doc);
}

/* The started process exits at once; the server it forked is the target
 * from then on: it is found, sampled, probed, and stopped. */
static void forks_a_server_and_exits(void **state)
{
    (void)state;
    json_t *spec = target_spec(fixture_variant("fork-serve", NULL), fixture_variant("serve", NULL));
    int code = run_spec(spec, NULL);
    json_t *doc = load_results();
    const json_t *leaky = run_of(doc, "leaky");
    assert_target_str(leaky, "end", "complete");
    assert_target_str(leaky, "exit.status", "exited with status 0");
    assert_target_str(leaky, "shutdown.outcome", "exited");
    const json_t *m = json_object_get(leaky, "metrics");
    assert_true(json_number_value(json_object_get(m, "peak_threads")) >= 1);
    assert_true(json_number_value(json_object_get(m, "peak_rss_bytes")) > 0);
    assert_true(json_integer_value(target_field(leaky, "probe.readings")) > 0);
    assert_int_equal(json_integer_value(target_field(leaky, "probe.failed")), 0);
    assert_ran_and_exited(run_of(doc, "graceful"));
    assert_int_equal(code, LB_EXIT_OK);
    json_decref(doc);
}

/* 32 MiB on stdout before it listens: the run goes on, and the log keeps
 * exactly the last MiB under a line saying how much was dropped. */
static void floods_stdout(void **state)
{
    (void)state;
    const long long flood = 32 << 20, written = flood + (long long)strlen("\nFLOOD-END\n");
    char arg[32];
    snprintf(arg, sizeof arg, "%lld", flood);
    json_t *spec = target_spec(fixture_variant("flood", arg), fixture_variant("serve", NULL));
    /* what the keeper takes to copy it varies with the machine's load */
    set_variant(spec, "leaky", "ready",
                json_pack("{s:s, s:i}", "http", "/healthz", "timeout_ms", 60000));
    int code = run_spec(spec, NULL);
    json_t *doc = load_results();
    assert_ran_and_exited(run_of(doc, "leaky"));
    assert_int_equal(code, LB_EXIT_OK);
    char log[192];
    snprintf(log, sizeof log, "%s/fixture-leaky-rep0-stdout.log", out_dir);
    FILE *f = fopen(log, "r");
    if (!f) fail_msg("no %s", log);
    char head[128];
    assert_non_null(fgets(head, sizeof head, f));
    char expected[128];
    snprintf(expected, sizeof expected,
             "[leakbench: %lld earlier bytes dropped; the last 1048576 bytes follow]\n",
             written - (1 << 20));
    assert_string_equal(head, expected);
    char *tail = malloc((1 << 20) + 1);
    assert_non_null(tail);
    size_t n = fread(tail, 1, (1 << 20) + 1, f);
    fclose(f);
    assert_int_equal(n, 1 << 20); /* the whole cap, nothing more */
    assert_memory_equal(tail + n - 11, "\nFLOOD-END\n", 11);
    assert_int_equal(tail[0], 'f');
    free(tail);
    json_decref(doc);
}

/* The leaky fixture allocates 1 MiB/ms from the first request of the
 * load on (its second request: the first is the readiness check),
 * through a 64 MiB guard. */
static void exceeds_the_memory_guard(void **state)
{
    (void)state;
    json_t *spec = target_spec(fixture_variant("hog", "2"), fixture_variant("serve", NULL));
    json_object_set_new(spec, "guards", json_pack("{s:i}", "memory_bytes", 64 << 20));
    json_object_set_new(json_object_get(spec, "load"), "duration_ms", json_integer(3000));
    int code = run_spec(spec, NULL);
    json_t *doc = load_results();
    const json_t *leaky = run_of(doc, "leaky");
    assert_target_str(leaky, "end", "memory guard");
    assert_true(json_is_true(target_field(leaky, "guard.fired")));
    const char *mech = target_str(leaky, "guard.mechanism");
    const char *reason = target_str(leaky, "guard.reason");
    if (!strcmp(mech, "rss polling")) {
        assert_contains("guard.reason", reason, "> limit 64.0 MiB (rss polling)");
    } else {
        assert_true(!strcmp(mech, "cgroup v1") || !strcmp(mech, "cgroup v2"));
        assert_contains("guard.reason", reason, "OOM kill (limit 64.0 MiB)");
    }
    assert_target_str(leaky, "exit.signal", "SIGKILL");
    assert_string_equal(json_string_value(json_object_get(leaky, "status")), "guard_killed");
    const json_t *graceful = run_of(doc, "graceful");
    assert_ran_and_exited(graceful);
    assert_true(json_is_false(target_field(graceful, "guard.fired")));
    assert_string_equal(target_str(graceful, "guard.mechanism"), mech);
    assert_int_equal(code, LB_EXIT_OK); /* a fired guard is a result */
    json_decref(doc);
}

/* A prometheus probe whose path answers 404 (leaky) or a line that is
 * not HTTP (graceful): every reading fails with its reason, never a
 * number; the run itself goes through. */
static void probe_answers_404_or_garbage(void **state)
{
    (void)state;
    json_t *spec = target_spec(fixture_variant("serve", NULL), fixture_variant("serve", NULL));
    set_common(spec, "probe",
               json_pack("{s:s, s:s, s:s, s:i}", "kind", "prometheus", "metric", "live_tasks",
                         "path", "/status/404", "interval_ms", 50));
    set_variant(spec, "graceful", "probe",
                json_pack("{s:s, s:s, s:s, s:i}", "kind", "prometheus", "metric", "live_tasks",
                          "path", "/garbage", "interval_ms", 50));
    int code = run_spec(spec, NULL);
    json_t *doc = load_results();
    const char *variants[] = {"leaky", "graceful"};
    const char *reasons[] = {"GET /status/404: HTTP 404", "GET /garbage: "};
    for (int i = 0; i < 2; i++) {
        const json_t *run = run_of(doc, variants[i]);
        assert_ran_and_exited(run);
        json_int_t readings = json_integer_value(target_field(run, "probe.readings"));
        assert_true(readings > 0);
        assert_int_equal(json_integer_value(target_field(run, "probe.failed")), readings);
        assert_contains("probe.last_error", target_str(run, "probe.last_error"), reasons[i]);
        assert_true(json_is_null(target_field(run, "baseline_tasks")));
        assert_true(json_is_null(json_object_get(json_object_get(run, "metrics"), "peak_tasks")));
    }
    assert_int_equal(code, LB_EXIT_OK);
    /* nothing was measured, so nothing is blamed */
    const char *md = report_md();
    assert_contains("report.md", md,
                    "| Recovery time | n/a (no live-task reading) | n/a (no live-task reading) |");
    assert_null(strstr(md, "restart required"));
    json_decref(doc);
}

/* ------------------------------------------------ leakbench vanishes -- */

/* leakbench on a pair with a minute of load, sent sig once the first
 * target serves.  Interrupted (SIGINT, SIGTERM), leakbench stops its
 * target itself and exits within 10 s: no process of the target may
 * outlive it.  SIGKILLed, it can do nothing; its keeper notices and kills
 * the target: every process of the target, and leakbench's own, gone
 * within 3 s of the signal.  (These bounds were 1 s after the signal in
 * both cases; at a load average of 400 an ASan leakbench took longer than
 * that to wind down, correctly.) */
static void leakbench_gets(int sig)
{
    json_t *spec = target_spec(fixture_variant("serve", NULL), fixture_variant("serve", NULL));
    json_object_set_new(json_object_get(spec, "load"), "duration_ms", json_integer(60000));
    assert_int_equal(json_dump_file(spec, spec_path, JSON_INDENT(2)), 0);
    json_decref(spec);
    pid_t lb = start_leakbench(NULL);
    double end = now_ms() + 10000;
    while (targets_alive() == 0 && now_ms() < end) usleep(10000);
    if (targets_alive() != 1) {
        kill(lb, SIGKILL);
        wait_exit_code(lb);
        fail_msg("%d target processes after 10 s; leakbench said:\n%s", targets_alive(),
                 stderr_text());
    }
    usleep(500 * 1000); /* into the load phase */
    double sent = now_ms();
    assert_int_equal(kill(lb, sig), 0);
    int code = lb_test_wait_within(lb, 10000);
    if (code < 0) {
        kill(lb, SIGKILL);
        wait_exit_code(lb);
        all_gone_by(now_ms() + 5000);
        fail_msg("leakbench still running 10 s after %s", strsignal(sig));
    }
    bool gone = all_gone_by(sig == SIGKILL ? sent + 3000 : now_ms());
    if (!gone) {
        print_error("after %s: %d target process(es) and %d of leakbench's still there %s\n",
                    strsignal(sig), targets_alive(), leakbench_alive(),
                    sig == SIGKILL ? "3 s later" : "when leakbench had exited");
        all_gone_by(now_ms() + 5000); /* do not leave them to the next test */
        fail();
    }
    if (sig == SIGKILL) {
        assert_int_equal(code, 128 + SIGKILL);
        return;
    }
    assert_int_equal(code, LB_EXIT_INTERRUPTED);
    json_t *doc = load_results();
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "interrupted");
    json_decref(doc);
}

static void leakbench_gets_sigint(void **state)
{
    (void)state;
    leakbench_gets(SIGINT);
}

static void leakbench_gets_sigterm(void **state)
{
    (void)state;
    leakbench_gets(SIGTERM);
}

static void leakbench_is_sigkilled(void **state)
{
    (void)state;
    leakbench_gets(SIGKILL);
}

/* ---------------------------------------------------------- good paths -- */

/* examples/go-seed/gate.json (the make test gate) with a one-second load:
 * the leaky service's top leak group is its handler goroutine's send, at
 * the line of main.go marked LEAK SITE. */
static void go_seed_leak_report_points_at_the_send(void **state)
{
    (void)state;
    const char *go_seed = getenv("LEAKBENCH_GO_SEED");
    if (!go_seed || !*go_seed) go_seed = "build/go-seed/go-seed";
    if (access(go_seed, X_OK) != 0) fail_msg("%s is not built (make builds it)", go_seed);
    json_t *spec = json_load_file("examples/go-seed/gate.json", 0, NULL);
    assert_non_null(spec);
    const char *variants[] = {"leaky", "graceful"};
    for (int i = 0; i < 2; i++) { /* the binary under test, and the marker */
        json_t *variant = json_object_get(json_object_get(spec, "target"), variants[i]);
        json_t *cmd = json_object_get(variant, "command");
        assert_true(json_is_array(cmd));
        json_array_set_new(cmd, 0, json_string(go_seed));
        json_t *env = json_object_get(variant, "env");
        if (!env) json_object_set_new(variant, "env", env = json_object());
        json_object_set_new(env, "LBFIX_MARKER", json_string(strchr(marker, '=') + 1));
    }
    const char *extra[] = {"--duration", "1s", NULL};
    int code = run_spec(spec, extra);
    json_t *doc = load_results();
    int lines[2];
    assert_int_equal(lb_test_marker_lines("examples/go-seed/main.go", "LEAK SITE", lines, 2), 1);
    const json_t *leaky = run_of(doc, "leaky");
    assert_target_str(leaky, "end", "complete");
    const json_t *groups = json_object_get(json_object_get(leaky, "leaks"), "groups");
    assert_true(json_array_size(groups) >= 1);
    const json_t *top = json_array_get(groups, 0);
    const json_t *site = json_object_get(top, "site");
    const char *file = json_string_value(json_object_get(site, "file"));
    assert_non_null(file);
    size_t flen = strlen(file), slen = strlen("examples/go-seed/main.go");
    if (flen < slen || strcmp(file + flen - slen, "examples/go-seed/main.go"))
        fail_msg("top leak group's site is %s, not examples/go-seed/main.go", file);
    assert_int_equal(json_integer_value(json_object_get(site, "line")), lines[0]);
    assert_string_equal(json_string_value(json_object_get(top, "op")), "chan send");
    json_int_t timed_out =
        json_integer_value(json_object_get(json_object_get(leaky, "accounting"), "timed_out"));
    assert_true(timed_out > 0);
    assert_true(json_integer_value(json_object_get(top, "count")) >= timed_out / 2);
    /* the graceful service leaves nothing at that site */
    const json_t *ggroups =
        json_object_get(json_object_get(run_of(doc, "graceful"), "leaks"), "groups");
    size_t i;
    const json_t *g;
    json_array_foreach(ggroups, i, g)
    {
        const json_t *gs = json_object_get(g, "site");
        assert_false(json_integer_value(json_object_get(gs, "line")) == lines[0] &&
                     strstr(json_string_value(json_object_get(gs, "file")), "go-seed/main.go"));
    }
    /* Its thresholds are for the gate's full load (make test's gate-go-seed):
     * here they may fail, but the run must have been carried out. */
    assert_true(code == LB_EXIT_OK || code == LB_EXIT_FAIL);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(exits_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(never_ready, setup, teardown),
        cmocka_unit_test_setup_teardown(ignores_sigterm, setup, teardown),
        cmocka_unit_test_setup_teardown(forks_a_server_and_exits, setup, teardown),
        cmocka_unit_test_setup_teardown(floods_stdout, setup, teardown),
        cmocka_unit_test_setup_teardown(exceeds_the_memory_guard, setup, teardown),
        cmocka_unit_test_setup_teardown(probe_answers_404_or_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(leakbench_gets_sigint, setup, teardown),
        cmocka_unit_test_setup_teardown(leakbench_gets_sigterm, setup, teardown),
        cmocka_unit_test_setup_teardown(leakbench_is_sigkilled, setup, teardown),
        cmocka_unit_test_setup_teardown(go_seed_leak_report_points_at_the_send, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
