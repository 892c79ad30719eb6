/*
 * run_target_test.c — `leakbench run` on a target pair, end to end: the
 * go-seed example's leaky and graceful builds under a 2 s load at 200
 * requests/s.  Checks the exit status, results.json's "target" object for
 * both variants (argv, port, probe readings, guard mechanism, clean exit
 * and shutdown), the leak the leaky build keeps and the graceful one does
 * not, the logs in the run directory, and that no process of either
 * target is left afterwards (found by a marker in their environment).
 * The same pair from the command line (--leaky-cmd) gives the same
 * target objects' shape; a `leakbench serve` pair under the prometheus
 * probe gets its leak report from the server's /debug/leaks.
 */
#include "core/jsonutil.h"
#include "core/test_util.h"
#include "run/results_load.h"

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[64];
static char seed[PATH_MAX];

static int setup(void **state)
{
    (void)state;
    alarm(120);
    lb_test_make_tmpdir(tmpdir, sizeof tmpdir, "run-target");
    const char *p = getenv("LEAKBENCH_GO_SEED");
    if (!realpath(p && *p ? p : "build/go-seed/go-seed", seed)) {
        print_error("the go-seed example is not built (make build/go-seed/go-seed)\n");
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return lb_test_remove_tree(tmpdir);
}

/* Runs leakbench with argv (NULL-terminated, without the program) and
 * its output in tmpdir/log; returns the exit status. */
static int run_leakbench(const char *const *args)
{
    char log[128];
    snprintf(log, sizeof log, "%s/log", tmpdir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        const char *argv[32] = {lb_test_leakbench()};
        for (int i = 0; args[i] && i < 30; i++) argv[i + 1] = args[i];
        execv(argv[0], (char **)argv);
        _exit(127);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st)) print_error("%s\n", lb_test_slurp(log));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Processes whose environment holds marker. */
static int processes_with(const char *marker)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char path[300], buf[65536];
        snprintf(path, sizeof path, "/proc/%s/environ", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        for (size_t i = 0; i < len;) {
            if (!strcmp(buf + i, marker)) n++;
            i += strlen(buf + i) + 1;
        }
    }
    closedir(d);
    return n;
}

/* processes_with finds a process by its marker (else "nothing left"
 * would prove nothing): a sleep started with it, found, then gone. */
static void marker_is_found(const char *marker)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *const env[] = {(char *)marker, NULL};
        execle("/bin/sleep", "sleep", "30", (char *)NULL, env);
        _exit(127);
    }
    int found = 0;
    for (int i = 0; i < 200 && !found; i++) {
        usleep(10000);
        found = processes_with(marker);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(found, 1);
    assert_int_equal(processes_with(marker), 0);
}

static json_t *load_results(const char *dir)
{
    char path[256];
    json_error_t je;
    snprintf(path, sizeof path, "%s/results.json", dir);
    json_t *doc = json_load_file(path, 0, &je);
    if (!doc) print_error("%s: %s\n", path, je.text);
    assert_non_null(doc);
    return doc;
}

static void check_target(const json_t *run, const char *mode)
{
    assert_string_equal(lb_jstr(run, "status"), "completed");
    const json_t *argv = lb_jpath(run, "target.argv");
    assert_string_equal(json_string_value(json_array_get(argv, 0)), seed);
    assert_string_equal(json_string_value(json_array_get(argv, 2)), mode);
    assert_string_equal(lb_jstr_path(run, "target.end"), "complete");
    assert_true(lb_jnum_path(run, "target.port") > 0);
    assert_string_equal(lb_jstr_path(run, "target.probe.kind"), "go_pprof");
    assert_true(lb_jnum_path(run, "target.probe.readings") > 5);
    assert_near(lb_jnum_path(run, "target.probe.failed"), 0, 0);
    assert_non_null(lb_jstr_path(run, "target.guard.mechanism"));
    assert_near(lb_jnum_path(run, "target.exit.code"), 0, 0);
    assert_string_equal(lb_jstr_path(run, "target.shutdown.signal"), "SIGTERM");
    assert_string_equal(lb_jstr_path(run, "target.shutdown.outcome"), "exited");
    assert_near(lb_jnum_path(run, "target.shutdown.leftover"), 0, 0);
    /* the load engine's requests reached the target */
    assert_true(lb_jnum_path(run, "accounting.submitted") >= 50);
    assert_true(lb_jbool_path(run, "accounting.balanced") > 0);
}

static void go_seed_pair_from_a_spec(void **state)
{
    (void)state;
    char spec[256], text[3 * PATH_MAX], marker[128], out[128];
    snprintf(marker, sizeof marker, "LB_RUN_TARGET_TEST=%s", tmpdir);
    snprintf(spec, sizeof spec, "%s/seed.json", tmpdir);
    snprintf(out, sizeof out, "%s/out", tmpdir);
    /* both builds carry the marker, so either is found if left behind */
    snprintf(text, sizeof text,
             "{\"name\": \"go_seed\", \"target\": {"
             "\"leaky\": {\"command\": [\"%s\", \"-mode\", \"leaky\"],"
             "  \"env\": {\"LB_RUN_TARGET_TEST\": \"%s\"}},"
             "\"graceful\": {\"command\": [\"%s\", \"-mode\", \"graceful\", \"-workers\", \"50\"],"
             "  \"env\": {\"LB_RUN_TARGET_TEST\": \"%s\"}},"
             "\"ready\": {\"http\": \"/healthz\"}, \"probe\": {\"kind\": \"go_pprof\"}},"
             "\"load\": {\"rate\": 200, \"duration_ms\": 2000},"
             "\"request\": {\"path\": \"/work?service_ms={service_ms}\"},"
             "\"service_time\": {\"dist\": \"uniform\", \"min_ms\": 20, \"max_ms\": 180},"
             "\"timeout_ms\": 80, \"settle_ms\": 1000}",
             seed, tmpdir, seed, tmpdir);
    write_text(spec, text);

    marker_is_found(marker);
    char history[160], trend[160];
    snprintf(history, sizeof history, "%s/history.jsonl", tmpdir);
    snprintf(trend, sizeof trend, "%s/trend", tmpdir);
    assert_int_equal(run_leakbench((const char *[]){"run", "-q", "--no-report", "--history",
                                                    history, "-o", out, spec, NULL}),
                     0);
    assert_int_equal(processes_with(marker), 0);
    /* the gate's other commands take a target run as they take a built-in one */
    assert_int_equal(run_leakbench((const char *[]){"compare", out, out, NULL}), 0);
    assert_int_equal(run_leakbench((const char *[]){"report", out, NULL}), 0);
    assert_int_equal(run_leakbench((const char *[]){"history", history, "-o", trend, NULL}), 0);
    char png[200];
    struct stat png_st;
    snprintf(png, sizeof png, "%s/trend.png", trend);
    assert_int_equal(stat(png, &png_st), 0);
    assert_true(png_st.st_size > 0);

    json_t *doc = load_results(out);
    assert_near(lb_jnum(doc, "schema_version"), 3, 0);
    const json_t *sc = json_array_get(json_object_get(doc, "scenarios"), 0);
    const json_t *leaky = lb_scenario_run(sc, "leaky"), *graceful = lb_scenario_run(sc, "graceful");
    assert_non_null(leaky);
    assert_non_null(graceful);
    check_target(leaky, "leaky");
    check_target(graceful, "graceful");
    /* requests slower than the 80 ms client timeout leave the leaky
     * build's goroutines behind; the graceful build's all end */
    assert_true(lb_jnum_path(leaky, "metrics.leaked_tasks") > 20);
    assert_true(lb_jnum_path(leaky, "accounting.timed_out") > 20);
    assert_near(lb_jnum_path(graceful, "metrics.leaked_tasks"), 0, 0);
    assert_true(lb_jbool_path(graceful, "metrics.recovered") > 0);
    /* the leak report points into the example's own code */
    const char *file =
        lb_jstr_path(json_array_get(lb_jpath(leaky, "leaks.groups"), 0), "site.file");
    assert_non_null(file);
    assert_non_null(strstr(file, "go-seed/main.go"));
    json_decref(doc);

    char log[256];
    struct stat stt;
    snprintf(log, sizeof log, "%s/go_seed-leaky-rep0-stderr.log", out);
    assert_int_equal(stat(log, &stt), 0);
    snprintf(log, sizeof log, "%s/go_seed-graceful-rep0-stdout.log", out);
    assert_int_equal(stat(log, &stt), 0);
}

/* The same kind of pair from the options alone. */
static void go_seed_pair_from_the_command_line(void **state)
{
    (void)state;
    char leaky[PATH_MAX + 64], graceful[PATH_MAX + 64], out[128];
    snprintf(leaky, sizeof leaky, "'%s' -mode leaky", seed);
    snprintf(graceful, sizeof graceful, "%s -mode graceful -workers 50", seed);
    snprintf(out, sizeof out, "%s/cmdline", tmpdir);
    assert_int_equal(
        run_leakbench((const char *[]){
            "run",         "-q",       "--no-report",    "-o",     out,
            "--leaky-cmd", leaky,      "--graceful-cmd", graceful, "--probe",
            "go_pprof",    "--ready",  "/healthz",       "--path", "/work?service_ms={service_ms}",
            "--rate",      "100",      "--duration",     "1s",     "--timeout",
            "80ms",        "--settle", "500ms",          NULL}),
        0);
    json_t *doc = load_results(out);
    const json_t *sc = json_array_get(json_object_get(doc, "scenarios"), 0);
    assert_string_equal(lb_jstr(sc, "name"), "cmdline");
    check_target(lb_scenario_run(sc, "leaky"), "leaky");
    check_target(lb_scenario_run(sc, "graceful"), "graceful");
    const json_t *as_run = json_array_get(lb_jpath(doc, "spec.scenarios"), 0);
    assert_near(lb_jnum_path(as_run, "load.rate"), 100, 0);
    assert_near(lb_jnum_path(as_run, "timeout_ms"), 80, 0);
    json_decref(doc);
}

/* A/A from the command line: one program, named once, on both sides;
 * without --aa the missing side is an error naming the option. */
static void one_program_as_both_sides_with_aa(void **state)
{
    (void)state;
    char graceful[PATH_MAX + 64], out[128], log[128];
    snprintf(graceful, sizeof graceful, "%s -mode graceful -workers 20", seed);
    snprintf(out, sizeof out, "%s/aa", tmpdir);
    const char *missing[] = {
        "run",    "-q",     "--no-report", "-o",         out,     "--graceful-cmd",
        graceful, "--rate", "50",          "--duration", "300ms", NULL};
    assert_int_equal(run_leakbench(missing), 2);
    snprintf(log, sizeof log, "%s/log", tmpdir);
    const char *err = lb_test_slurp(log);
    assert_non_null(strstr(err, "--leaky-cmd is missing"));
    assert_non_null(strstr(err, "--aa"));
    assert_int_equal(run_leakbench((const char *[]){
                         "run",        "-q",       "--no-report",    "-o",     out,
                         "--aa",       "graceful", "--graceful-cmd", graceful, "--probe",
                         "go_pprof",   "--ready",  "/healthz",       "--rate", "50",
                         "--duration", "300ms",    "--settle",       "200ms",  NULL}),
                     0);
    json_t *doc = load_results(out);
    const json_t *sc = json_array_get(json_object_get(doc, "scenarios"), 0);
    const json_t *a = lb_scenario_run(sc, "leaky"), *b = lb_scenario_run(sc, "graceful");
    const json_t *argv_a = lb_jpath(a, "target.argv"), *argv_b = lb_jpath(b, "target.argv");
    assert_true(json_equal((json_t *)argv_a, (json_t *)argv_b));
    assert_string_equal(json_string_value(json_array_get(argv_a, 2)), "graceful");
    assert_non_null(json_object_get(sc, "aa_noise"));
    json_decref(doc);
}

/* A `leakbench serve` pair under the prometheus probe: live tasks from
 * its /metrics, the leak report from its /debug/leaks (what grew since
 * ready), pointing into the built-in pair's own source. */
static void leakbench_serve_pair(void **state)
{
    (void)state;
    char spec[256], text[3 * PATH_MAX], out[128], bin[PATH_MAX];
    assert_non_null(realpath(lb_test_leakbench(), bin));
    snprintf(spec, sizeof spec, "%s/serve.json", tmpdir);
    snprintf(out, sizeof out, "%s/serve", tmpdir);
    snprintf(text, sizeof text,
             "{\"name\": \"serve\", \"target\": {"
             "\"leaky\": {\"command\": [\"%s\", \"serve\", \"timeout_leak\", \"--variant\","
             "  \"leaky\", \"--listen\", \"127.0.0.1:{port}\"]},"
             "\"graceful\": {\"command\": [\"%s\", \"serve\", \"timeout_leak\", \"--variant\","
             "  \"graceful\", \"--listen\", \"127.0.0.1:{port}\"]},"
             "\"ready\": {\"http\": \"/healthz\"},"
             "\"probe\": {\"kind\": \"prometheus\", \"metric\": \"leakbench_live_tasks\"}},"
             "\"load\": {\"rate\": 100, \"duration_ms\": 1000},"
             "\"service_time\": {\"dist\": \"uniform\", \"min_ms\": 20, \"max_ms\": 180},"
             "\"timeout_ms\": 80, \"settle_ms\": 1000}",
             bin, bin);
    write_text(spec, text);
    assert_int_equal(
        run_leakbench((const char *[]){"run", "-q", "--no-report", "-o", out, spec, NULL}), 0);
    json_t *doc = load_results(out);
    const json_t *sc = json_array_get(json_object_get(doc, "scenarios"), 0);
    const json_t *leaky = lb_scenario_run(sc, "leaky"), *graceful = lb_scenario_run(sc, "graceful");
    assert_string_equal(lb_jstr_path(leaky, "target.probe.kind"), "prometheus");
    double leaked = lb_jnum_path(leaky, "metrics.leaked_tasks");
    double total = lb_jnum_path(leaky, "leaks.total");
    assert_true(leaked > 20);
    /* One snapshot and one probe reading, a few ms apart at the end of a
     * settle long enough for every request to have ended: the same tasks,
     * give or take a connection task the server was still closing. */
    if (fabs(total - leaked) > 3) print_error("leaked_tasks %g, leaks.total %g\n", leaked, total);
    assert_true(fabs(total - leaked) <= 3);
    const json_t *top = json_array_get(lb_jpath(leaky, "leaks.groups"), 0);
    assert_string_equal(lb_jstr(top, "op"), "send");
    assert_string_equal(lb_jstr_path(top, "site.file"), "scenarios/timeout_leak.c");
    /* the server's own tasks were there at ready: not in the report */
    if (lb_jnum_path(graceful, "leaks.total") != 0) {
        char *dump = json_dumps(lb_jpath(graceful, "leaks"), JSON_COMPACT);
        print_error("graceful leaks: %.3000s\n", dump ? dump : "?");
        free(dump);
    }
    assert_near(lb_jnum_path(graceful, "leaks.total"), 0, 0);
    assert_int_equal(json_array_size(lb_jpath(graceful, "leaks.groups")), 0);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(go_seed_pair_from_a_spec, setup, teardown),
        cmocka_unit_test_setup_teardown(go_seed_pair_from_the_command_line, setup, teardown),
        cmocka_unit_test_setup_teardown(one_program_as_both_sides_with_aa, setup, teardown),
        cmocka_unit_test_setup_teardown(leakbench_serve_pair, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
