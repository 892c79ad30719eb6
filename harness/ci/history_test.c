/*
 * history_test.c — history lines appended from fixture results, read back
 * by `leakbench history`: the trend table's data, the Bencher BMF and
 * github-action-benchmark exports, the gnuplot chart, a scenario name
 * that tries to inject gnuplot commands, names with leading and doubled
 * quotes, malformed history lines (an unknown schema_version, a metric
 * given as a string), a metric with nothing to plot (message; the old
 * chart kept), a directory given as FILE, a 200,001-line history
 * thinned to a bounded number of points while it is read, and the chart's
 * dates and thresholds.
 */
#include "cli/cli.h"
#include "history.h"
#include "core/test_util.h"
#include "report/gnuplot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SINGLE "harness/testdata/results-single.json"

static char tmpdir[64];

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(tmpdir, sizeof tmpdir, "history");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return lb_test_remove_tree(tmpdir);
}

static json_t *fixture(const char *commit, double graceful_peak, const char *name)
{
    json_t *doc = json_load_file(SINGLE, 0, NULL);
    assert_non_null(doc);
    json_object_set_new(json_object_get(doc, "tool"), "git_revision", json_string(commit));
    json_t *s = json_array_get(json_object_get(doc, "scenarios"), 0);
    if (name) json_object_set_new(s, "name", json_string(name));
    json_object_set_new(
        json_object_get(json_object_get(json_object_get(s, "summary"), "graceful"), "peak_tasks"),
        "median", json_real(graceful_peak));
    return doc;
}

static int run_history(char **argv, int argc)
{
    const lb_command *cmd = lb_command_find("history");
    assert_non_null(cmd);
    return lb_test_call_quietly(cmd->main, argc, argv);
}

static char *slurp(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return lb_test_slurp(path);
}

static bool exists(const char *dir, const char *name)
{
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 && st.st_size > 0;
}

static int collect(const json_t *entry, int line, void *ctx)
{
    (void)line;
    return json_array_append((json_t *)ctx, (json_t *)entry);
}

/* Every entry of PATH, in order (lb_history_each into an array). */
static int load_all(const char *path, json_t **entries, char *err, size_t errlen)
{
    *entries = json_array();
    int rc = lb_history_each(path, collect, *entries, err, errlen);
    if (rc) {
        json_decref(*entries);
        *entries = NULL;
    }
    return rc;
}

/* Staging directories (trend.tmp.*) left in DIR. */
static int count_staging(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
    if (d) closedir(d);
    return n;
}

static void append_and_plot(void **state)
{
    (void)state;
    char hist[128], out[128], err[512];
    snprintf(hist, sizeof hist, "%s/sub/history.jsonl", tmpdir);
    snprintf(out, sizeof out, "%s/out", tmpdir);
    double peaks[] = {120, 118, 240};
    const char *commits[] = {"aaaaaaa111", "bbbbbbb222", "ccccccc333"};
    for (int i = 0; i < 3; i++) {
        json_t *doc = fixture(commits[i], peaks[i], NULL);
        assert_int_equal(lb_history_append(hist, doc, err, sizeof err), 0);
        json_decref(doc);
    }
    json_t *entries;
    assert_int_equal(load_all(hist, &entries, err, sizeof err), 0);
    assert_int_equal(json_array_size(entries), 3);
    json_t *last = json_array_get(entries, 2);
    assert_string_equal(json_string_value(json_object_get(last, "commit")), "ccccccc333");
    assert_string_equal(json_string_value(json_object_get(last, "date")), "2026-11-25T15:01:00Z");
    json_t *g = json_object_get(json_object_get(json_object_get(last, "metrics"), "timeout_leak"),
                                "graceful");
    assert_near(json_number_value(json_object_get(g, "peak_tasks")), 240, 0);
    assert_near(json_number_value(json_object_get(g, "recovered")), 1, 0);
    assert_true(json_is_null(json_object_get(
        json_object_get(json_object_get(json_object_get(last, "metrics"), "timeout_leak"), "leaky"),
        "recovery_ms")));
    json_decref(entries);

    char *argv[] = {"history", hist, "--metric", "graceful.peak_tasks", "-o", out, NULL};
    int rc = run_history(argv, 6);
    bool have_gnuplot = access("/usr/bin/gnuplot", X_OK) == 0;
    assert_int_equal(rc, have_gnuplot ? LB_EXIT_OK : LB_EXIT_NO_GNUPLOT);
    char *dat = slurp(out, "trend.dat");
    /* run, commit, date, tic label, the value, the threshold (none here);
     * the three runs share a date, so the axis counts runs. */
    assert_non_null(strstr(dat, "1 aaaaaaa111 1795618860 \"aaaaaaa111\" 120 ?\n"
                                "2 bbbbbbb222 1795618860 \"bbbbbbb222\" 118 ?\n"
                                "3 ccccccc333 1795618860 \"ccccccc333\" 240 ?\n"));
    assert_non_null(strstr(slurp(out, "trend.gp"), "by_date = 0\n"));
    if (have_gnuplot) {
        assert_true(exists(out, "trend.png"));
        assert_true(exists(out, "trend.svg"));
    }

    /* Bencher Metric Format: {"SCENARIO/VARIANT": {"METRIC": {"value": v}}} */
    json_t *bmf = json_loads(slurp(out, "bmf.json"), 0, NULL);
    assert_non_null(bmf);
    json_t *bench = json_object_get(bmf, "timeout_leak/graceful");
    assert_near(json_number_value(json_object_get(json_object_get(bench, "peak_tasks"), "value")),
                240, 0);
    assert_null(json_object_get(json_object_get(bmf, "timeout_leak/leaky"), "recovery_ms"));
    const char *bname;
    json_t *measures;
    json_object_foreach(bmf, bname, measures)
    {
        const char *mname;
        json_t *metric;
        json_object_foreach(measures, mname, metric)
            assert_true(json_is_number(json_object_get(metric, "value")));
    }
    json_decref(bmf);

    /* github-action-benchmark: arrays of {name, unit, value, extra}. */
    json_t *smaller = json_loads(slurp(out, "benchmark-smaller.json"), 0, NULL);
    json_t *bigger = json_loads(slurp(out, "benchmark-bigger.json"), 0, NULL);
    assert_true(json_is_array(smaller) && json_array_size(smaller) > 10);
    bool found = false;
    size_t i;
    json_t *e;
    json_array_foreach(smaller, i, e)
    {
        assert_true(json_is_string(json_object_get(e, "name")));
        assert_true(json_is_string(json_object_get(e, "unit")));
        assert_true(json_is_number(json_object_get(e, "value")));
        if (!strcmp(json_string_value(json_object_get(e, "name")),
                    "timeout_leak/graceful peak_tasks")) {
            found = true;
            assert_near(json_number_value(json_object_get(e, "value")), 240, 0);
            assert_string_equal(json_string_value(json_object_get(e, "unit")), "tasks");
        }
        assert_null(strstr(json_string_value(json_object_get(e, "name")), "throughput"));
    }
    assert_true(found);
    found = false;
    json_array_foreach(bigger, i, e) if (!strcmp(json_string_value(json_object_get(e, "name")),
                                                 "timeout_leak/graceful throughput_rps")) found =
        true;
    assert_true(found);
    json_decref(smaller);
    json_decref(bigger);
}

/* A scenario name full of gnuplot syntax stays a string. */
static void gnuplot_injection(void **state)
{
    (void)state;
    char hist[128], out[128], err[512], marker[160];
    snprintf(hist, sizeof hist, "%s/h.jsonl", tmpdir);
    snprintf(out, sizeof out, "%s/o", tmpdir);
    snprintf(marker, sizeof marker, "%s/PWNED", tmpdir);
    char name[400];
    snprintf(name, sizeof name, "x'; system('touch %s'); print '\n!touch %s", marker, marker);
    json_t *doc = fixture("abc", 120, name);
    assert_int_equal(lb_history_append(hist, doc, err, sizeof err), 0);
    json_decref(doc);
    char *argv[] = {"history", hist, "-o", out, NULL};
    int rc = run_history(argv, 4);
    assert_true(rc == LB_EXIT_OK || rc == LB_EXIT_NO_GNUPLOT);
    assert_int_equal(access(marker, F_OK), -1);
    char *gp = slurp(out, "trend.gp");
    assert_non_null(
        strstr(gp, "series1 = 'x' . \"''\"[1:1] . '; system(' . \"''\"[1:1] . 'touch "));
    assert_non_null(strstr(gp, "has_series1 = 1\n"));
    assert_non_null(strstr(gp, "load 'plots/trend.gp'\n"));
    assert_null(strstr(slurp(out, "plots/trend.gp"), "x'"));
    assert_null(strstr(gp, "\n!touch"));
}

/* A quote at the start of a name or doubled in it (gnuplot 5.4 rejects
 * such names in a naively quoted literal) still gives a chart. */
static void quotes_in_names_still_plot(void **state)
{
    (void)state;
    if (!lb_on_path("gnuplot")) {
        print_message("skip reason: gnuplot is not installed (apt-get install gnuplot-nox)\n");
        skip();
    }
    char hist[128], out[128], err[512];
    snprintf(hist, sizeof hist, "%s/h.jsonl", tmpdir);
    snprintf(out, sizeof out, "%s/o", tmpdir);
    const char *names[] = {"'quoted'", "it''s"};
    for (int i = 0; i < 2; i++) {
        json_t *doc = fixture("abc", 100 + i, names[i]);
        assert_int_equal(lb_history_append(hist, doc, err, sizeof err), 0);
        json_decref(doc);
    }
    char *argv[] = {"history", hist, "-o", out, NULL};
    assert_int_equal(run_history(argv, 4), LB_EXIT_OK);
    assert_true(exists(out, "trend.png"));
    assert_true(exists(out, "trend.svg"));
}

/* Runs `history ARGV` with stderr kept in a buffer (the next call
 * overwrites it); returns the exit code. */
static int run_history_stderr(char **argv, int argc, char **stderr_text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/stderr.txt", tmpdir);
    fflush(stderr);
    int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
    int rc = run_history(argv, argc);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    *stderr_text = lb_test_slurp(path);
    return rc;
}

/* A metric null on every line: a clear message, the data and exports
 * written, and the previous good chart left as it was. */
static void nothing_to_plot_keeps_the_old_chart(void **state)
{
    (void)state;
    char hist[128], out[128], err[512], path[256];
    snprintf(hist, sizeof hist, "%s/h.jsonl", tmpdir);
    snprintf(out, sizeof out, "%s/o", tmpdir);
    json_t *doc = fixture("abc", 120, NULL);
    assert_int_equal(lb_history_append(hist, doc, err, sizeof err), 0);
    json_decref(doc);
    mkdir(out, 0755);
    snprintf(path, sizeof path, "%s/trend.png", out);
    FILE *f = fopen(path, "w");
    fputs("GOOD CHART", f);
    fclose(f);
    /* The fixture's leaky variant never recovers: recovery_ms is null. */
    char *argv[] = {"history", hist, "--metric", "leaky.recovery_ms", "-o", out, NULL};
    char *text;
    assert_int_equal(run_history_stderr(argv, 6, &text), LB_EXIT_OK);
    assert_non_null(strstr(text, "nothing to plot: leaky.recovery_ms is null or missing in every"));
    assert_string_equal(lb_test_slurp(path), "GOOD CHART");
    assert_true(exists(out, "trend.dat"));
    assert_true(exists(out, "bmf.json"));
    assert_int_equal(count_staging(out), 0);
}

static void directory_is_refused(void **state)
{
    (void)state;
    char *argv[] = {"history", tmpdir, "-o", tmpdir, NULL};
    char *text;
    assert_int_equal(run_history_stderr(argv, 4, &text), LB_EXIT_USAGE);
    assert_non_null(strstr(text, ": Is a directory"));
}

/* A history far longer than the chart's points is thinned while it is
 * read: bounded points, the newest run kept, and gnuplot draws it. */
static void long_history_is_thinned(void **state)
{
    (void)state;
    char hist[128], out[128], err[512];
    snprintf(hist, sizeof hist, "%s/long.jsonl", tmpdir);
    snprintf(out, sizeof out, "%s/o", tmpdir);
    const size_t runs = 200001;
    FILE *f = fopen(hist, "w");
    assert_non_null(f);
    for (size_t i = 0; i < runs; i++)
        fprintf(f,
                "{\"schema\":\"leakbench-history\",\"schema_version\":1,\"commit\":\"%zx\","
                "\"metrics\":{\"s\":{\"graceful\":{\"peak_tasks\":%zu}}}}\n",
                i, i % 1000);
    fclose(f);
    lb_history_trend t;
    assert_int_equal(
        lb_history_trend_load(&t, hist, "graceful", "peak_tasks", NULL, err, sizeof err), 0);
    assert_int_equal(t.runs, runs);
    assert_true(t.n_points <= LB_HISTORY_MAX_POINTS + 1);
    assert_true(t.n_points > LB_HISTORY_MAX_POINTS / 2);
    assert_int_equal(t.points[0].run, 1);
    assert_int_equal(t.points[t.n_points - 1].run, runs); /* the newest */
    assert_near(t.points[t.n_points - 1].value[0], (runs - 1) % 1000, 0);
    for (size_t i = 1; i + 1 < t.n_points; i++)
        assert_int_equal(t.points[i].run - t.points[i - 1].run, t.stride);
    lb_history_trend_free(&t);
    if (lb_on_path("gnuplot")) {
        char *argv[] = {"history", hist, "-o", out, NULL};
        assert_int_equal(run_history(argv, 4), LB_EXIT_OK);
        assert_true(exists(out, "trend.png"));
    }
}

static void write_lines(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void unknown_version_and_string_metric(void **state)
{
    (void)state;
    char hist[128], err[512];
    snprintf(hist, sizeof hist, "%s/v.jsonl", tmpdir);
    write_lines(hist, "{\"schema\":\"leakbench-history\",\"schema_version\":7,\"metrics\":{}}\n");
    lb_history_trend t;
    assert_int_equal(
        lb_history_trend_load(&t, hist, "graceful", "peak_tasks", NULL, err, sizeof err), -EINVAL);
    lb_history_trend_free(&t);
    assert_non_null(strstr(err, "v.jsonl:1: schema_version"));
    write_lines(hist, "{\"schema\":\"leakbench-history\",\"schema_version\":1,\"metrics\":{}}\n"
                      "{\"schema\":\"leakbench-history\",\"metrics\":{\"s\":{\"graceful\":"
                      "{\"peak_tasks\":\"12\"}}}}\n");
    assert_int_equal(
        lb_history_trend_load(&t, hist, "graceful", "peak_tasks", NULL, err, sizeof err), -EINVAL);
    lb_history_trend_free(&t);
    assert_string_equal(strstr(err, "v.jsonl:2:"),
                        "v.jsonl:2: metrics.s.graceful.peak_tasks: expected a number or null");
}

static void bad_history_lines(void **state)
{
    (void)state;
    char hist[128], err[512];
    snprintf(hist, sizeof hist, "%s/bad.jsonl", tmpdir);
    json_t *doc = fixture("abc", 120, NULL);
    assert_int_equal(lb_history_append(hist, doc, err, sizeof err), 0);
    json_decref(doc);
    FILE *f = fopen(hist, "a");
    fputs("{\"schema\": \"leakbench-history\", \"metrics\": {\n", f);
    fclose(f);
    json_t *entries;
    assert_int_equal(load_all(hist, &entries, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "bad.jsonl:2:"));
    char out[128];
    snprintf(out, sizeof out, "%s/never", tmpdir);
    char *argv[] = {"history", hist, "-o", out, NULL};
    assert_int_equal(run_history(argv, 4), LB_EXIT_USAGE);
    assert_int_equal(access(out, F_OK), -1); /* nothing written */

    f = fopen(hist, "w");
    fputs("[1, 2]\n", f);
    fclose(f);
    assert_int_equal(load_all(hist, &entries, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "bad.jsonl:1: not a leakbench history line"));

    char *argv2[] = {"history", hist, "--metric", "graceful.peak_taks", NULL};
    assert_int_equal(run_history(argv2, 4), LB_EXIT_USAGE);

    /* A line written before the MiB metrics were renamed says so. */
    f = fopen(hist, "w");
    fputs("{\"schema\": \"leakbench-history\", \"metrics\": {\"abc\": {\"graceful\": "
          "{\"peak_tasks\": 3, \"peak_rss_mb\": 1.5}}}}\n",
          f);
    fclose(f);
    assert_int_equal(load_all(hist, &entries, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "bad.jsonl:1: metrics.abc.graceful.peak_rss_mb: peak_rss_mb was "
                                "renamed peak_rss_mib (MiB)"));
    char *argv3[] = {"history", hist, "--metric", "graceful.peak_rss_mb", NULL};
    assert_int_equal(run_history(argv3, 4), LB_EXIT_USAGE);
}

/* --detect over commits: a history whose graceful peak steps from ~120 to
 * ~180 at run 13 (with noise and one wild outlier before it) reports one
 * change point at run 13, writes it to changes.json and marks it on the
 * chart; a history of noise alone reports none. */
static void detect_finds_the_step_not_the_outlier(void **state)
{
    (void)state;
    char hist[128], flat[128], out[128], err[512];
    snprintf(hist, sizeof hist, "%s/step.jsonl", tmpdir);
    snprintf(flat, sizeof flat, "%s/flat.jsonl", tmpdir);
    snprintf(out, sizeof out, "%s/out", tmpdir);
    static const double noise[] = {2, -3, 1, 0,  -1, 3, -2, 2, 0, -3,
                                   1, -1, 2, -2, 0,  3, -1, 1, 0, -2};
    for (int i = 0; i < 20; i++) {
        char commit[16];
        snprintf(commit, sizeof commit, "c%02d", i + 1);
        double step = (i < 12 ? 120 : 180) + noise[i];
        if (i == 5) step = 400; /* one wild run: not a change point */
        json_t *doc = fixture(commit, step, NULL);
        assert_int_equal(lb_history_append(hist, doc, err, sizeof err), 0);
        json_decref(doc);
        doc = fixture(commit, 120 + noise[i], NULL);
        assert_int_equal(lb_history_append(flat, doc, err, sizeof err), 0);
        json_decref(doc);
    }
    char *argv[] = {"history", hist, "--detect", "-o", out, NULL};
    int code = run_history(argv, 5);
    assert_true(code == LB_EXIT_OK || code == LB_EXIT_NO_GNUPLOT);
    char path[256];
    snprintf(path, sizeof path, "%s/changes.json", out);
    json_t *changes = json_load_file(path, 0, NULL);
    assert_non_null(changes);
    json_t *steps = json_object_get(
        json_object_get(json_object_get(changes, "series"), "timeout_leak"), "steps");
    assert_int_equal(json_array_size(steps), 1);
    json_t *step = json_array_get(steps, 0);
    assert_int_equal(json_integer_value(json_object_get(step, "run")), 13);
    assert_string_equal(json_string_value(json_object_get(step, "commit")), "c13");
    assert_true(json_number_value(json_object_get(step, "change")) > 0.4);
    json_decref(changes);
    char *gp = slurp(out, "trend.gp");
    assert_non_null(strstr(gp, "step_x1 = 12.5\nstep_text1 = 'step +50%'\nn_steps = 1\n"));

    char *argv2[] = {"history", flat, "--detect", "-o", out, NULL};
    code = run_history(argv2, 5);
    assert_true(code == LB_EXIT_OK || code == LB_EXIT_NO_GNUPLOT);
    changes = json_load_file(path, 0, NULL);
    assert_non_null(changes);
    steps = json_object_get(json_object_get(json_object_get(changes, "series"), "timeout_leak"),
                            "steps");
    assert_int_equal(json_array_size(steps), 0);
    json_decref(changes);
    gp = slurp(out, "trend.gp");
    assert_non_null(strstr(gp, "n_steps = 0\n"));
}

/* The chart in the report's style (plots/style.gp loaded by
 * plots/trend.gp, both staged beside it), the runs' dates on the x axis
 * once they span some time, and each scenario's threshold on the metric,
 * recorded in its history entry, drawn as a line that follows it from run
 * to run; a scenario without one gets none. */
static void trend_has_dates_and_thresholds(void **state)
{
    (void)state;
    char hist[128], out[128], err[512];
    snprintf(hist, sizeof hist, "%s/h.jsonl", tmpdir);
    snprintf(out, sizeof out, "%s/out", tmpdir);
    static const char *const dates[] = {"2026-11-20T10:00:00Z", "2026-11-21T10:00:00Z",
                                        "2026-11-23T12:30:00Z"};
    for (int i = 0; i < 3; i++) {
        json_t *doc = fixture("abc", 100 + i, NULL);
        json_object_set_new(doc, "finished_at", json_string(dates[i]));
        json_object_set_new(doc, "thresholds",
                            json_pack("[{s:s, s:s, s:s, s:f, s:f, s:s}, {s:s, s:s, s:s, s:f, s:f, "
                                      "s:s}]",
                                      "scenario", "timeout_leak", "metric", "graceful.peak_tasks",
                                      "expr", i < 2 ? "<= 150" : "<= 120", "value", 100.0 + i,
                                      "bound", i < 2 ? 150.0 : 120.0, "verdict", "pass", "scenario",
                                      "timeout_leak", "metric", "leaky.peak_tasks", "expr", "> 10",
                                      "value", 5012.0, "bound", 10.0, "verdict", "pass"));
        assert_int_equal(lb_history_append(hist, doc, err, sizeof err), 0);
        json_decref(doc);
    }
    json_t *entries;
    assert_int_equal(load_all(hist, &entries, err, sizeof err), 0);
    json_t *bounds = json_object_get(json_array_get(entries, 2), "thresholds");
    assert_int_equal(json_array_size(bounds), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(bounds, 0), "expr")),
                        "<= 120");
    json_decref(entries);

    char *argv[] = {"history", hist, "-o", out, NULL};
    int rc = run_history(argv, 4);
    assert_true(rc == LB_EXIT_OK || rc == LB_EXIT_NO_GNUPLOT);
    assert_non_null(strstr(slurp(out, "trend.dat"),
                           "1 abc 1795168800 \"11-20 10:00\\nabc\" 100 150\n"
                           "2 abc 1795255200 \"11-21 10:00\\nabc\" 101 150\n"
                           "3 abc 1795437000 \"11-23 12:30\\nabc\" 102 120\n"));
    const char *gp = slurp(out, "trend.gp");
    assert_non_null(strstr(gp, "has_series1 = 1\nhas_bound1 = 1\n"));
    assert_non_null(strstr(gp, "bound1_text = 'timeout_leak: threshold <= 120'\n"));
    assert_non_null(strstr(gp, "by_date = 1\nspan_s = 268200\ntic_labels = 1\n"));
    assert_non_null(strstr(slurp(out, "plots/trend.gp"), "load 'plots/style.gp'"));
    assert_non_null(strstr(slurp(out, "plots/style.gp"), "set linetype 1 lc rgb '#d62728'"));
    if (rc == LB_EXIT_OK) assert_true(exists(out, "trend.png"));

    /* The leaky side has a threshold too; a metric without one has none. */
    char *argv2[] = {"history", hist, "--metric", "leaky.recovered", "-o", out, NULL};
    rc = run_history(argv2, 6);
    assert_true(rc == LB_EXIT_OK || rc == LB_EXIT_NO_GNUPLOT);
    assert_non_null(strstr(slurp(out, "trend.gp"), "has_bound1 = 0\n"));
}

/* An entry's commit is the commit under test when the results carry one
 * (run and merge write "commit"), else leakbench's own revision. */
static void entry_commit_is_the_commit_under_test(void **state)
{
    (void)state;
    json_t *doc = json_load_file(SINGLE, 0, NULL);
    assert_non_null(doc);
    json_t *entry = lb_history_entry(doc);
    assert_string_equal(
        json_string_value(json_object_get(entry, "commit")),
        json_string_value(json_object_get(json_object_get(doc, "tool"), "git_revision")));
    json_decref(entry);
    json_object_set_new(doc, "commit", json_string("feedface"));
    entry = lb_history_entry(doc);
    assert_string_equal(json_string_value(json_object_get(entry, "commit")), "feedface");
    json_decref(entry);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(append_and_plot, setup, teardown),
        cmocka_unit_test_setup_teardown(gnuplot_injection, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_history_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(quotes_in_names_still_plot, setup, teardown),
        cmocka_unit_test_setup_teardown(nothing_to_plot_keeps_the_old_chart, setup, teardown),
        cmocka_unit_test_setup_teardown(directory_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(long_history_is_thinned, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_version_and_string_metric, setup, teardown),
        cmocka_unit_test_setup_teardown(detect_finds_the_step_not_the_outlier, setup, teardown),
        cmocka_unit_test_setup_teardown(entry_commit_is_the_commit_under_test, setup, teardown),
        cmocka_unit_test_setup_teardown(trend_has_dates_and_thresholds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
