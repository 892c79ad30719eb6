/*
 * run_gate_test.c — `leakbench run` as CI uses it, end to end with the
 * real binary ($LEAKBENCH, set by `make test`) on scenarios/quick.json
 * shortened to half a second of load: a failing threshold makes the run
 * exit 1 and shows up as a JUnit failure carrying the numbers; a
 * threshold typo and a missing baseline stop the run before anything
 * runs (exit 2); --save-baseline, --baseline and --history work together.
 * In-process: the results writer, the gate and the report all read the
 * one document they are handed (a doctored fixture no run could have
 * built shows up in every output), never a rebuilt or re-read one.
 */
#include "cli.h"
#include "run_gate.h"
#include "core/test_util.h"
#include "report/report.h"
#include "run/results.h"
#include "run/results_load.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char tmpdir[64];
static const char *leakbench;

static int setup(void **state)
{
    (void)state;
    alarm(240);
    leakbench = lb_test_leakbench();
    lb_test_make_tmpdir(tmpdir, sizeof tmpdir, "gate");
    lb_test_use_baseline_dir(tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return lb_test_remove_tree(tmpdir);
}

/* Runs leakbench with args (NULL-terminated); stderr goes to err_path. */
static int run(const char *err_path, const char *const *args)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(fd, 2);
        dup2(devnull, 1);
        const char *argv[32] = {leakbench};
        for (int i = 0; args[i] && i < 30; i++) argv[i + 1] = args[i];
        execv(leakbench, (char *const *)argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *slurp(const char *path)
{
    static char buf[1 << 17];
    FILE *f = fopen(path, "r");
    if (!f) return strcpy(buf, "");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* quick.json with its thresholds replaced by thresholds_json. */
static void write_spec(const char *path, const char *thresholds_json)
{
    json_t *spec = json_load_file("scenarios/quick.json", 0, NULL);
    assert_non_null(spec);
    json_t *t = json_loads(thresholds_json, 0, NULL);
    assert_non_null(t);
    json_object_set_new(spec, "thresholds", t);
    assert_int_equal(json_dump_file(spec, path, JSON_INDENT(2)), 0);
    json_decref(spec);
}

static void failing_threshold_fails_the_run(void **state)
{
    (void)state;
    char spec[128], out[128], junit[160], err[160];
    snprintf(spec, sizeof spec, "%s/spec.json", tmpdir);
    snprintf(out, sizeof out, "%s/run", tmpdir);
    snprintf(junit, sizeof junit, "%s/junit.xml", tmpdir);
    snprintf(err, sizeof err, "%s/stderr", tmpdir);
    write_spec(spec, "{\"graceful.leaked_tasks\": \"== 0\", \"graceful.peak_tasks\": \"< 1\"}");
    const char *args[] = {"run",        "--quiet", "--no-report", "--color", "always",
                          "--duration", "500ms",   "-o",          out,       "--junit",
                          junit,        spec,      NULL};
    assert_int_equal(run(err, args), LB_EXIT_FAIL);
    char *text = slurp(err);
    /* metric value op bound, with the unit; in red with --color always */
    const char *line = strstr(text, "\033[1;31mthreshold failed\033[0m: timeout_leak: "
                                    "graceful.peak_tasks ");
    assert_non_null(line);
    assert_non_null(strstr(line, " tasks, not < 1 tasks\n"));

    char results[160];
    snprintf(results, sizeof results, "%s/results.json", out);
    json_t *doc = json_load_file(results, 0, NULL);
    assert_non_null(doc);
    json_t *list = json_object_get(doc, "thresholds");
    assert_int_equal(json_array_size(list), 2);
    size_t i;
    json_t *t;
    int failed = 0;
    json_array_foreach(list, i, t)
    {
        assert_true(json_is_number(json_object_get(t, "value")));
        failed += !strcmp(json_string_value(json_object_get(t, "verdict")), "fail");
    }
    assert_int_equal(failed, 1);
    json_decref(doc);

    text = slurp(junit);
    assert_non_null(strstr(text, "tests=\"2\" failures=\"1\""));
    assert_non_null(strstr(text, "name=\"graceful.peak_tasks &lt; 1\""));
    assert_non_null(strstr(text, "bound: 1&#10;"));
    int lint = lb_test_xmllint(junit); /* -1: xmllint not installed */
    if (lint >= 0) assert_int_equal(lint, 0);
}

static void bad_gate_input_runs_nothing(void **state)
{
    (void)state;
    char spec[128], out[128], err[160];
    snprintf(spec, sizeof spec, "%s/typo.json", tmpdir);
    snprintf(out, sizeof out, "%s/never", tmpdir);
    snprintf(err, sizeof err, "%s/stderr", tmpdir);
    write_spec(spec, "{\"graceful.leaked_taks\": \"== 0\"}");
    const char *args[] = {"run", "--quiet", "-o", out, spec, NULL};
    assert_int_equal(run(err, args), LB_EXIT_USAGE);
    assert_non_null(strstr(slurp(err), "$.thresholds[\"graceful.leaked_taks\"]: key "
                                       "\"graceful.leaked_taks\", character 10: unknown metric"));
    struct stat st;
    assert_int_equal(stat(out, &st), -1);

    const char *args2[] = {
        "run", "--quiet", "-o", out, "--baseline", "missing", "scenarios/quick.json", NULL};
    assert_int_equal(run(err, args2), LB_EXIT_USAGE);
    assert_non_null(strstr(slurp(err), "--save-baseline missing"));
    assert_int_equal(stat(out, &st), -1);

    const char *args3[] = {
        "run", "--quiet", "-o", out, "--save-baseline", "../up", "scenarios/quick.json", NULL};
    assert_int_equal(run(err, args3), LB_EXIT_USAGE);
    assert_int_equal(stat(out, &st), -1);
}

static void baseline_and_history(void **state)
{
    (void)state;
    char out[128], err[160], hist[160], base[160];
    snprintf(out, sizeof out, "%s/run", tmpdir);
    snprintf(err, sizeof err, "%s/stderr", tmpdir);
    snprintf(hist, sizeof hist, "%s/history.jsonl", tmpdir);
    snprintf(base, sizeof base, "%s/baselines/ci.json", tmpdir);
    /* quick.json's own thresholds need its full load; this test is about
     * the plumbing, so it runs half a second without them. */
    char spec[128];
    snprintf(spec, sizeof spec, "%s/nothresholds.json", tmpdir);
    write_spec(spec, "{}");
    const char *args[] = {"run", "--quiet",         "--no-report", "--duration", "500ms", "-o",
                          out,   "--save-baseline", "ci",          "--history",  hist,    spec,
                          NULL};
    assert_int_equal(run(err, args), LB_EXIT_OK);
    struct stat st;
    assert_int_equal(stat(base, &st), 0);
    /* A second run against the first as baseline. */
    const char *args2[] = {"run",        "--quiet", "--no-report", "--duration", "500ms", "-o", out,
                           "--baseline", "ci",      "--history",   hist,         spec,    NULL};
    int rc = run(err, args2);
    /* Two real runs: a gated metric may legitimately differ beyond noise on a
     * loaded machine; what must hold is a verdict, not an error. */
    assert_true(rc == LB_EXIT_OK || rc == LB_EXIT_FAIL || rc == LB_EXIT_INCONCLUSIVE);
    if (rc != LB_EXIT_OK)
        assert_non_null(strstr(slurp(err), "leakbench compare: base baseline ci"));
    char *text = slurp(hist);
    int lines = 0;
    for (char *p = text; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, 2);
    assert_non_null(strstr(text, "\"schema\":\"leakbench-history\""));
}

/* The writer, the gate (thresholds printed, JUnit, history, baseline)
 * and the report take the document itself: a marker put into it, which
 * no build from run results could produce, reaches every output. */
static void every_step_reads_the_document_it_is_given(void **state)
{
    (void)state;
    char err[1024], dir[128], hist[160], junit[160];
    json_t *doc;
    if (lb_results_load("harness/testdata/results-small.json", &doc, err, sizeof err))
        fail_msg("%s", err);
    json_object_set_new(json_object_get(doc, "tool"), "version", json_string("doc-marker-7"));
    json_object_set_new(doc, "thresholds",
                        json_pack("[{s:s, s:s, s:s, s:f, s:f, s:s, s:s, s:i}]", "scenario",
                                  "timeout_leak", "metric", "graceful.peak_tasks", "expr",
                                  "<= 1 (marker)", "value", 31.0, "bound", 1.0, "verdict", "fail",
                                  "reason", "marker reason", "n", 1));
    snprintf(dir, sizeof dir, "%s/run", tmpdir);
    snprintf(hist, sizeof hist, "%s/history.jsonl", tmpdir);
    snprintf(junit, sizeof junit, "%s/junit.xml", tmpdir);

    assert_int_equal(lb_results_write(dir, doc, err, sizeof err), 0);
    char path[200];
    snprintf(path, sizeof path, "%s/results.json", dir);
    assert_non_null(strstr(slurp(path), "doc-marker-7"));

    lb_gate_options o = {.junit = junit, .history = hist, .save_baseline = "marked"};
    FILE *devnull = fopen("/dev/null", "w");
    int saved = dup(2), null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, 2); /* the failing threshold is printed on stderr */
    int code = lb_gate_finish(&o, doc, true, true, devnull);
    dup2(saved, 2);
    close(saved);
    close(null_fd);
    fclose(devnull);
    assert_int_equal(code, LB_EXIT_FAIL);
    assert_non_null(strstr(slurp(junit), "marker reason"));
    assert_non_null(strstr(slurp(hist), "doc-marker-7"));
    snprintf(path, sizeof path, "%s/baselines/marked.json", tmpdir);
    assert_non_null(strstr(slurp(path), "doc-marker-7"));

    lb_report_opts ro = {.charts = false};
    lb_report_result res;
    assert_int_equal(lb_report_render(doc, dir, &ro, &res), 0);
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *md = slurp(path);
    assert_non_null(strstr(md, "doc-marker-7"));
    assert_non_null(strstr(md, "1 (marker)"));
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(failing_threshold_fails_the_run, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_gate_input_runs_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(baseline_and_history, setup, teardown),
        cmocka_unit_test_setup_teardown(every_step_reads_the_document_it_is_given, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
