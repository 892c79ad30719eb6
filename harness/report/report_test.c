/*
 * report_test.c — tests for `leakbench report` (report.h, plot.c,
 * report_md.c, report_html.c, cmd_report.c).
 *
 * Rendering uses the hand-written fixture harness/testdata/results-small.json
 * (a synthetic results file in the schema_version 2 shape, not a
 * measurement).  Covered: a full render and a byte-identical re-render,
 * also of what `run` rendered from its in-memory document;
 * the gnuplot/Markdown/HTML injection attempt through a scenario's name
 * and texts; a PATH without gnuplot (library, `report` and a short
 * `run` of scenarios/quick.json: exit code 5, report.md written); a
 * gnuplot script that fails (exit 3, no images moved into place); invalid
 * results files (exit 2, message names file and position, nothing
 * written); the formatters and escapers.  Run from the repository root
 * (make test does); the CLI tests run $LEAKBENCH (default build/leakbench)
 * and fail when it cannot be run.  Every test runs under a 60 s alarm.
 */
#include "gnuplot.h"
#include "report_internal.h"
#include "table.h"
#include "cli/cli.h"
#include "core/test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIXTURE "harness/testdata/results-small.json"

/* ------------------------------------------------------------ helpers -- */

static int setup(void **state)
{
    (void)state;
    alarm(60);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alarm(0);
    return 0;
}

static void make_tmpdir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/lb-report-test.XXXXXX");
    assert_non_null(mkdtemp(buf));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static bool exists(const char *dir, const char *rel)
{
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return stat(path, &st) == 0;
}

static char *slurp(const char *dir, const char *rel)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, m);
    fclose(m);
    fclose(f);
    return buf;
}

/* Names in DIR that contain NEEDLE (temporary files left behind). */
static int count_entries_containing(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, needle)) n++;
    closedir(d);
    return n;
}

/* Writes DOC to DIR/NAME and returns the path in buf. */
static void write_json(const json_t *doc, const char *dir, const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", dir, name);
    assert_int_equal(json_dump_file(doc, buf, JSON_COMPACT), 0);
}

static json_t *load_fixture(void)
{
    json_error_t err;
    json_t *doc = json_load_file(FIXTURE, 0, &err);
    if (!doc) fail_msg("cannot load %s: %s (run from the repository root)", FIXTURE, err.text);
    return doc;
}

/* Runs the leakbench binary (lb_test_leakbench) with ARGS (NULL-terminated),
 * PATH set to PATH_ENV if not NULL, stderr captured into ERRBUF.  Returns
 * the exit status. */
static int run_cli(const char *path_env, char *errbuf, size_t errlen, const char *const *args)
{
    const char *bin = lb_test_leakbench();
    char errfile[] = "/tmp/lb-report-test-err.XXXXXX";
    int fd = mkstemp(errfile);
    assert_true(fd >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd, 2);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        if (path_env) setenv("PATH", path_env, 1);
        char *argv[16];
        int i = 0;
        argv[i++] = (char *)bin;
        for (; args[i - 1] && i < 15; i++) argv[i] = (char *)args[i - 1];
        argv[i] = NULL;
        execv(bin, argv);
        _exit(126);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    ssize_t got = pread(fd, errbuf, errlen - 1, 0);
    errbuf[got > 0 ? got : 0] = 0;
    close(fd);
    unlink(errfile);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* -------------------------------------------------------------- tests -- */

static void test_render_fixture(void **state)
{
    (void)state;
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    lb_report_opts opts = {.charts = true};
    lb_report_result res;
    int rc = lb_report_render_file(FIXTURE, dir, &opts, &res);
    assert_int_equal(rc, 0);
    assert_false(res.input_error);
    assert_int_equal(res.charts, LB_CHARTS_RENDERED);
    assert_int_equal(res.n_charts, 5);
    assert_int_equal(lb_exit_for_report(rc, &res), LB_EXIT_OK);

    static const char *const kinds[] = {"tasks", "rss", "states", "latency", "summary"};
    for (int k = 0; k < 5; k++) {
        char rel[128];
        snprintf(rel, sizeof rel, "charts/timeout_leak-%s.png", kinds[k]);
        assert_true(exists(dir, rel));
        snprintf(rel, sizeof rel, "charts/timeout_leak-%s.svg", kinds[k]);
        assert_true(exists(dir, rel));
    }
    assert_true(exists(dir, "charts/charts.gp"));
    assert_true(exists(dir, "charts/plots/tasks.gp"));
    assert_true(exists(dir, "charts/data/timeout_leak-leaky.dat"));

    char *md = slurp(dir, "report.md");
    assert_non_null(md);
    /* The before/after table in the seed's shape, from the fixture's numbers. */
    assert_non_null(strstr(md, "| Metric | Before fix (leaky) | After fix (graceful) |"));
    assert_non_null(strstr(md, "| Peak tasks | 887 (unbounded: +300 tasks/s) | 17 (controlled) |"));
    assert_non_null(strstr(md, "| Memory (RSS) | 63.2 MiB (rising) | 3.46 MiB (stable) |"));
    assert_non_null(strstr(md, "| Recovery time | restart required"));
    assert_non_null(strstr(md, "| 41.5 ms |"));
    assert_non_null(strstr(md, "| leaky rep 0 | 3,000 | 2,100 | 900 |"));
    assert_non_null(strstr(md, "leaky\\_worker (scenarios/timeout\\_leak.c:42)"));
    assert_non_null(strstr(md, "![Live tasks over time](charts/timeout_leak-tasks.png)"));
    assert_non_null(strstr(md, "## Environment"));
    free(md);

    char *html = slurp(dir, "report.html");
    assert_non_null(html);
    assert_non_null(strstr(html, "<svg"));
    assert_null(strstr(html, "<?xml"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "src=\"")); /* self-contained: nothing loaded from elsewhere */
    assert_non_null(strstr(html, "id=\"c1-gnuplot_canvas\""));
    assert_non_null(strstr(html, "id=\"c5-gnuplot_canvas\""));
    assert_non_null(strstr(html, "<td>63.2 MiB (rising)</td>"));
    free(html);

    /* Nothing temporary left behind. */
    assert_int_equal(count_entries_containing(dir, ".tmp"), 0);
    assert_int_equal(count_entries_containing(dir, "charts.tmp"), 0);
    rm_tree(dir);
}

static void test_rerender_is_identical(void **state)
{
    (void)state;
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    lb_report_opts opts = {.charts = true};
    lb_report_result res;
    assert_int_equal(lb_report_render_file(FIXTURE, dir, &opts, &res), 0);
    char *md1 = slurp(dir, "report.md"), *gp1 = slurp(dir, "charts/charts.gp");
    /* Re-render over the existing output, from the copy of results.json
     * a run directory would hold. */
    json_t *doc = load_fixture();
    char results[256];
    write_json(doc, dir, "results.json", results, sizeof results);
    json_decref(doc);
    assert_int_equal(lb_report_render_file(results, dir, &opts, &res), 0);
    assert_int_equal(res.charts, LB_CHARTS_RENDERED);
    char *md2 = slurp(dir, "report.md"), *gp2 = slurp(dir, "charts/charts.gp");
    assert_string_equal(md1, md2);
    assert_string_equal(gp1, gp2);
    free(md1);
    free(md2);
    free(gp1);
    free(gp2);
    rm_tree(dir);
}

/* A leaky run stopped by a guard: the table says so instead of claiming a
 * peak or a leftover, and the chart marks the kill. */
static void test_guard_killed_run(void **state)
{
    (void)state;
    char dir[64], results[256];
    make_tmpdir(dir, sizeof dir);
    json_t *doc = load_fixture();
    json_t *leaky = json_array_get(
        json_object_get(json_array_get(json_object_get(doc, "scenarios"), 0), "runs"), 0);
    json_object_set_new(leaky, "status", json_string("guard_killed"));
    json_object_set_new(leaky, "guard",
                        json_pack("{s:s, s:f, s:i, s:i}", "kind", "tasks", "at_s", 1.5, "value",
                                  500, "limit", 480));
    write_json(doc, dir, "results.json", results, sizeof results);
    json_decref(doc);
    lb_report_result res;
    assert_int_equal(lb_report_render_file(results, dir, NULL, &res), 0);
    assert_int_equal(res.charts, LB_CHARTS_RENDERED);
    char *md = slurp(dir, "report.md");
    assert_non_null(strstr(md, "| Peak tasks | ≥ 887 (killed by the tasks guard) |"));
    assert_non_null(strstr(md, "| Recovery time | restart required (killed by the tasks guard) |"));
    assert_non_null(
        strstr(md, "| Guard | tasks limit at 1.5 s (500 tasks &gt; 480 tasks) | none fired |"));
    assert_non_null(strstr(
        md,
        "**Leaky runs:** rep 0 guard\\_killed (killed by the tasks guard at 1.5 s, 500 tasks)"));
    free(md);
    char *gp = slurp(dir, "charts/charts.gp");
    assert_non_null(strstr(gp, "has_kill = 1\n"));
    assert_non_null(strstr(gp, "kill_text = 'killed by tasks guard at 1.5 s (500 tasks)'"));
    assert_non_null(strstr(gp, "has_end_note = 0\n"));
    assert_non_null(strstr(gp, "tasks_guard = 480\n"));
    free(gp);
    rm_tree(dir);
}

/* What the terminal prints for SCENARIO (lb_table_print), after DOC's
 * intro (lb_table_print_intro) when DOC is not NULL; free() it. */
static char *terminal_text(const json_t *doc, const json_t *scenario)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    if (doc) assert_int_equal(lb_table_print_intro(f, doc, 0), 0);
    assert_int_equal(lb_table_print(f, scenario, false, 0), 0);
    fclose(f);
    return buf;
}

/* No line of TEXT is wider than WIDTH columns, but for a single word
 * and, unless TABLES, the lines of a table (not fitted when the output is
 * not a terminal). */
static void assert_lines_fit(const char *text, int width, bool tables)
{
    for (const char *line = text; *line;) {
        size_t n = strcspn(line, "\n");
        int cols = 0;
        for (size_t i = 0; i < n; i++) cols += ((unsigned char)line[i] & 0xC0) != 0x80;
        bool one_word = !memchr(line + strspn(line, " "), ' ', n - strspn(line, " "));
        if (cols > width && !one_word && (tables || line[0] != '|'))
            fail_msg("%d columns (> %d): %.*s", cols, width, (int)n, line);
        line += n + (line[n] == '\n');
    }
}

/* The spec's and the suite's "description" (results spec.descriptions and
 * scenarios[].spec.description) are shown: report.md, report.html and the
 * terminal. */
static void test_descriptions_are_shown(void **state)
{
    (void)state;
    char dir[64], results[256];
    make_tmpdir(dir, sizeof dir);
    json_t *doc = load_fixture();
    json_t *scenario = json_array_get(json_object_get(doc, "scenarios"), 0);
    json_object_set_new(scenario, "spec",
                        json_pack("{s:s}", "description", "Entry: the seed at 300/s <b>"));
    json_object_set_new(json_object_get(doc, "spec"), "descriptions",
                        json_pack("[s]", "Nightly suite: every pattern"));
    write_json(doc, dir, "results.json", results, sizeof results);
    lb_report_opts opts = {.charts = false};
    lb_report_result res;
    assert_int_equal(lb_report_render_file(results, dir, &opts, &res), 0);
    char *md = slurp(dir, "report.md");
    assert_non_null(strstr(md, "\nNightly suite: every pattern\n"));
    assert_non_null(strstr(md, "- **Description:** Entry: the seed at 300/s &lt;b&gt;\n"));
    free(md);
    char *html = slurp(dir, "report.html");
    assert_non_null(strstr(html, "Nightly suite: every pattern"));
    assert_non_null(strstr(html, "Entry: the seed at 300/s &lt;b&gt;"));
    free(html);
    char *buf = terminal_text(doc, scenario);
    assert_non_null(strstr(buf, "Nightly suite: every pattern\n"));
    assert_non_null(strstr(buf, "1 repetition\n\nEntry: the seed at 300/s <b>\n\n| Metric"));
    free(buf);
    /* On a terminal the suite's description wraps at its width too. */
    json_object_set_new(json_object_get(doc, "spec"), "descriptions",
                        json_pack("[s]", "The leak catalogue: a leaky and a graceful twin for "
                                         "every pattern of the leak catalogue (README), each "
                                         "under the load knob that triggers it."));
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(lb_table_print_intro(f, doc, 60), 0);
    fclose(f);
    assert_lines_fit(buf, 60, true);
    assert_non_null(strstr(buf, "The leak catalogue: a leaky and a graceful twin for every\n"));
    free(buf);
    json_decref(doc);
    rm_tree(dir);
}

/* A run whose load generator fell behind (results "load.behind"): the
 * before/after table says so under it, and the variant's verdicts are not
 * "restart required" or "unbounded" as if the pipeline were at fault;
 * a tasks guard is still the pipeline's verdict. */
static void test_generator_behind_is_not_the_pipelines_fault(void **state)
{
    (void)state;
    json_t *doc = load_fixture();
    json_t *scenario = json_array_get(json_object_get(doc, "scenarios"), 0);
    json_t *runs = json_object_get(scenario, "runs");
    for (size_t i = 0; i < json_array_size(runs); i++) {
        json_t *run = json_array_get(runs, i);
        bool leaky = !strcmp(json_string_value(json_object_get(run, "variant")), "leaky");
        json_object_set_new(run, "load",
                            json_pack("{s:i, s:i, s:i, s:f, s:f, s:{s:f, s:f, s:f}, s:b}",
                                      "scheduled", 2000000, "submitted", 1670000, "on_time", 20000,
                                      "on_time_ratio", 0.01, "late_after_ms", 100.0, "lateness_ms",
                                      "p50", 700.0, "p99", 1400.0, "max", 1500.0, "behind", 1));
        if (leaky) continue;
        /* The graceful twin never recovered: it would be "restart required". */
        json_object_set_new(json_object_get(run, "metrics"), "recovered", json_false());
        json_object_set_new(run, "status", json_string("guard_killed"));
        json_object_set_new(run, "guard",
                            json_pack("{s:s, s:f, s:f, s:f}", "kind", "wall", "at_s", 33.0, "value",
                                      33000.0, "limit", 32000.0));
    }
    json_object_set_new(json_object_get(json_object_get(scenario, "summary"), "graceful"),
                        "recovered_runs", json_integer(0));
    char *buf = terminal_text(NULL, scenario);
    /* the verdict cards ask the same question as the table */
    lb_scenario_verdict verdict;
    lb_verdicts_build(doc, &verdict, 1);
    assert_string_equal(verdict.side[1].recovery, "n/a (the load generator fell behind)");
    assert_false(verdict.side[1].restart_required);
    json_decref(doc);
    if (!strstr(buf, "n/a (the load generator fell behind)")) print_error("%s", buf);
    assert_non_null(strstr(buf, "| Recovery time | "));
    assert_non_null(strstr(buf, "n/a (the load generator fell behind)"));
    assert_null(strstr(buf, "restart required"));
    assert_lines_fit(buf, 100, false); /* "warning: " and the note's first line included */
    for (char *c = buf; *c; c++)       /* the note is wrapped at 100 columns */
        if (*c == '\n') *c = ' ';
    assert_non_null(strstr(buf,
                           "warning: The load generator could not keep the schedule in 1 of 1 "
                           "graceful run (the first: 1,670,000 of 2,000,000 arrivals "
                           "submitted, 1.0% within 100 ms of their time, lateness p99 1.4 s)"));
    assert_non_null(strstr(buf, "in 1 of 1 leaky run"));
    free(buf);
}

/* An interrupted run that never reached the graceful twin: the report
 * says so, and every chart still draws with one variant. */
static void test_interrupted_one_variant(void **state)
{
    (void)state;
    char dir[64], results[256];
    make_tmpdir(dir, sizeof dir);
    json_t *doc = load_fixture();
    json_object_set_new(doc, "status", json_string("interrupted"));
    json_t *runs = json_object_get(json_array_get(json_object_get(doc, "scenarios"), 0), "runs");
    json_array_remove(runs, 1);
    json_object_set_new(json_array_get(runs, 0), "status", json_string("interrupted"));
    write_json(doc, dir, "results.json", results, sizeof results);
    json_decref(doc);
    lb_report_result res;
    int rc = lb_report_render_file(results, dir, NULL, &res);
    if (rc) fail_msg("render failed: %s", res.message);
    assert_int_equal(res.charts, LB_CHARTS_RENDERED);
    assert_int_equal(res.n_charts, 5);
    char *md = slurp(dir, "report.md");
    assert_non_null(strstr(md, "> **Warning:** This run was interrupted"));
    assert_non_null(strstr(md, "| Peak tasks | 887 (unbounded: +300 tasks/s) | not run |"));
    assert_non_null(strstr(md, "| Recovery time | n/a (the run was interrupted) | not run |"));
    free(md);
    rm_tree(dir);
}

/* Without a leak group's growth rate the table shows the run's own
 * task_slope_per_s (computed at run time, Theil-Sen), not a slope of its
 * own. */
static void test_growth_from_task_slope(void **state)
{
    (void)state;
    char dir[64], results[256];
    make_tmpdir(dir, sizeof dir);
    json_t *doc = load_fixture();
    json_t *leaky = json_array_get(
        json_object_get(json_array_get(json_object_get(doc, "scenarios"), 0), "runs"), 0);
    json_t *groups = json_object_get(json_object_get(leaky, "leaks"), "groups");
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g) json_object_set_new(g, "growth_per_s", json_null());
    json_object_set_new(json_object_get(leaky, "metrics"), "task_slope_per_s", json_real(123.4));
    write_json(doc, dir, "results.json", results, sizeof results);
    json_decref(doc);
    lb_report_opts opts = {.charts = false};
    lb_report_result res;
    int rc = lb_report_render_file(results, dir, &opts, &res);
    if (rc) fail_msg("render failed: %s", res.message);
    char *md = slurp(dir, "report.md");
    assert_non_null(strstr(md, "| Peak tasks | 887 (unbounded: +123 tasks/s) |"));
    free(md);
    rm_tree(dir);
}

static void test_injection_attempt(void **state)
{
    (void)state;
    char dir[64], out[128], evil[1024], results[256], pwned[4][160];
    make_tmpdir(dir, sizeof dir);
    for (int i = 0; i < 4; i++) snprintf(pwned[i], sizeof pwned[i], "%s/pwned%d", dir, i);
    snprintf(evil, sizeof evil,
             "x'; system(\"touch %s\"); print '\n!touch %s\n`touch %s` @evil_macro "
             "\"; system(\"touch %s\") ; \" <script>alert(1)</script> | cell | [link](http://x) "
             "*bold* # \\ end",
             pwned[0], pwned[1], pwned[2], pwned[3]);
    json_t *doc = load_fixture();
    json_t *scenario = json_array_get(json_object_get(doc, "scenarios"), 0);
    json_object_set_new(scenario, "name", json_string(evil));
    json_object_set_new(scenario, "title", json_string(evil));
    json_object_set_new(scenario, "description", json_string(evil));
    json_t *group = json_array_get(
        json_object_get(
            json_object_get(json_array_get(json_object_get(scenario, "runs"), 0), "leaks"),
            "groups"),
        0);
    json_object_set_new(group, "hint", json_string(evil));
    write_json(doc, dir, "evil.json", results, sizeof results);
    json_decref(doc);

    snprintf(out, sizeof out, "%s/out", dir);
    lb_report_opts opts = {.charts = true};
    lb_report_result res;
    int rc = lb_report_render_file(results, out, &opts, &res);
    /* Nothing was executed (with the escaping removed, gnuplot does create
     * pwned0..2 before it stops at the broken script) ... */
    for (int i = 0; i < 4; i++) {
        struct stat st;
        if (stat(pwned[i], &st) == 0) fail_msg("injection executed: %s exists", pwned[i]);
    }
    assert_int_equal(rc, 0);
    /* ... and every chart still rendered, under a sanitised file name. */
    assert_int_equal(res.charts, LB_CHARTS_RENDERED);
    assert_int_equal(res.n_charts, 5);
    char base[160];
    json_t *check = json_load_file(results, 0, NULL);
    lb_chart_base(base, sizeof base, check, 0, 0);
    json_decref(check);
    for (const char *p = base; *p; p++)
        assert_non_null(
            strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", *p));
    char rel[256];
    snprintf(rel, sizeof rel, "charts/%s.png", base);
    assert_true(exists(out, rel));

    /* The script holds the text only as a quoted literal on one line. */
    char *gp = slurp(out, "charts/charts.gp");
    assert_non_null(gp);
    for (char *line = gp; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        assert_false(line[0] == '!');
        assert_false(!strncmp(line, "system", 6));
        assert_false(line[0] == '`');
        line = nl ? nl + 1 : NULL;
    }
    free(gp);

    char *html = slurp(out, "report.html");
    assert_null(strstr(html, "<script"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    free(html);
    char *md = slurp(out, "report.md");
    assert_null(strstr(md, "<script"));
    assert_null(strstr(md, "[link](http"));
    assert_null(strstr(md, "| cell |"));
    free(md);
    rm_tree(dir);
}

static void test_missing_gnuplot(void **state)
{
    (void)state;
    char dir[64], empty[128], out[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(empty, sizeof empty, "%s/empty-path", dir);
    assert_int_equal(mkdir(empty, 0755), 0);
    snprintf(out, sizeof out, "%s/out", dir);

    char *saved = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    setenv("PATH", empty, 1);
    assert_false(lb_on_path("gnuplot"));
    lb_report_opts opts = {.charts = true};
    lb_report_result res;
    int rc = lb_report_render_file(FIXTURE, out, &opts, &res);
    setenv("PATH", saved, 1);
    free(saved);

    assert_int_equal(rc, 0);
    assert_int_equal(res.charts, LB_CHARTS_NO_GNUPLOT);
    assert_int_equal(lb_exit_for_report(rc, &res), LB_EXIT_NO_GNUPLOT);
    assert_non_null(strstr(res.message, "gnuplot is not on PATH"));
    assert_true(exists(out, "report.md"));
    assert_true(exists(out, "report.html"));
    assert_true(exists(out, "charts/charts.gp")); /* can be drawn later */
    assert_false(exists(out, "charts/timeout_leak-tasks.png"));
    char *md = slurp(out, "report.md");
    assert_non_null(strstr(md, "gnuplot is not on PATH"));
    assert_non_null(strstr(md, "| Peak tasks | 887"));
    assert_null(strstr(md, "]("));
    free(md);
    rm_tree(out);

    /* The same through the command line: exit status 5, a clear message. */
    char err[2048];
    const char *args[] = {"report", FIXTURE, "-o", out, NULL};
    int code = run_cli(empty, err, sizeof err, args);
    assert_int_equal(code, LB_EXIT_NO_GNUPLOT);
    assert_non_null(strstr(err, "gnuplot is not on PATH"));
    assert_true(exists(out, "report.md"));
    rm_tree(dir);
}

/* `leakbench run` renders the report at the end; without gnuplot it still
 * writes results.json and report.md, skips the charts and exits 5. */
static void test_run_without_gnuplot(void **state)
{
    (void)state;
    char dir[64], empty[128], out[128], err[4096];
    make_tmpdir(dir, sizeof dir);
    snprintf(empty, sizeof empty, "%s/empty-path", dir);
    assert_int_equal(mkdir(empty, 0755), 0);
    snprintf(out, sizeof out, "%s/run", dir);
    const char *args[] = {"run", "-q", "--duration",           "300ms",
                          "-o",  out,  "scenarios/quick.json", NULL};
    int code = run_cli(empty, err, sizeof err, args);
    if (code != LB_EXIT_NO_GNUPLOT) fail_msg("leakbench run exited %d: %s", code, err);
    assert_non_null(strstr(err, "gnuplot is not on PATH"));
    assert_true(exists(out, "results.json"));
    assert_true(exists(out, "report.md"));
    assert_true(exists(out, "report.html"));
    assert_true(exists(out, "charts/charts.gp"));
    assert_false(exists(out, "charts/timeout_leak-tasks.png"));
    char *md = slurp(out, "report.md");
    assert_non_null(strstr(md, "| Peak tasks |"));
    /* `run` rendered from the document in memory; `report` renders the
     * same bytes from the results.json it wrote. */
    char *html = slurp(out, "report.html"), *gp = slurp(out, "charts/charts.gp");
    char *data = slurp(out, "charts/data/timeout_leak-leaky.dat");
    assert_non_null(data);
    const char *again[] = {"report", out, NULL};
    assert_int_equal(run_cli(empty, err, sizeof err, again), LB_EXIT_NO_GNUPLOT);
    char *md2 = slurp(out, "report.md"), *html2 = slurp(out, "report.html");
    char *gp2 = slurp(out, "charts/charts.gp"),
         *data2 = slurp(out, "charts/data/timeout_leak-leaky.dat");
    assert_string_equal(md, md2);
    assert_string_equal(html, html2);
    assert_string_equal(gp, gp2);
    assert_string_equal(data, data2);
    free(md);
    free(md2);
    free(html);
    free(html2);
    free(gp);
    free(gp2);
    free(data);
    free(data2);
    rm_tree(dir);
}

static void test_gnuplot_failure_moves_no_images(void **state)
{
    (void)state;
    char dir[64], tdir[128], out[128], path[256];
    make_tmpdir(dir, sizeof dir);
    snprintf(tdir, sizeof tdir, "%s/plots", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    assert_int_equal(mkdir(tdir, 0755), 0);
    char real[4096];
    assert_int_equal(lb_gnuplot_templates_dir(real, sizeof real), 0);
    static const char *const names[] = {"style.gp",  "phases.gp",  "tasks.gp",  "rss.gp",
                                        "states.gp", "latency.gp", "summary.gp"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *text = slurp(real, names[i]);
        assert_non_null(text);
        if (!strcmp(names[i], "rss.gp")) {
            free(text);
            text = strdup("this is not a gnuplot command\n");
        }
        snprintf(path, sizeof path, "%s/%s", tdir, names[i]);
        FILE *f = fopen(path, "w");
        fputs(text, f);
        fclose(f);
        free(text);
    }
    setenv("LEAKBENCH_PLOTS_DIR", tdir, 1);
    lb_report_opts opts = {.charts = true};
    lb_report_result res;
    int rc = lb_report_render_file(FIXTURE, out, &opts, &res);
    unsetenv("LEAKBENCH_PLOTS_DIR");
    assert_true(rc < 0);
    assert_int_equal(res.charts, LB_CHARTS_FAILED);
    assert_int_equal(lb_exit_for_report(rc, &res), LB_EXIT_ERROR);
    assert_non_null(strstr(res.message, "gnuplot exited with status"));
    /* tasks.png was drawn before the failure, but is not moved into place. */
    assert_false(exists(out, "charts/timeout_leak-tasks.png"));
    assert_true(exists(out, "report.md"));
    assert_int_equal(count_entries_containing(out, "charts.tmp"), 0);
    rm_tree(dir);
}

static void test_invalid_results(void **state)
{
    (void)state;
    static const struct {
        const char *what; /* how the fixture is broken */
        const char *text; /* a whole file instead, when not NULL */
        const char *expect;
    } cases[] = {
        {"truncated", "{\"schema\": \"leakbench-results\",\n  \"schema_version\": ", ":2:"},
        {"not json", "hello", ":1:"},
        {"schema", NULL, "schema: \"not-leakbench\" is not a leakbench results file"},
        {"version", NULL, "schema_version: version 4 is not supported"},
        {"version 1", NULL,
         "schema_version: version 1 was written by an older leakbench; version 2 renamed the "
         "*_rss_mb metrics *_rss_mib (MiB)"},
        {"peak string", NULL,
         "scenarios[0].runs[0].metrics.peak_tasks: expected a number or null, got a string"},
        {"variant", NULL, "scenarios[0].runs[1].variant: \"medium\" is not one of"},
        {"no runs", NULL, "scenarios[0].runs: required field is missing"},
        {"short row", NULL, "scenarios[0].runs[0].samples.rows[3]: has 2 values, but there are"},
        {"time backwards", NULL,
         "scenarios[0].runs[1].samples.rows[5]: column \"t_s\": time "
         "goes backwards"},
        {"bad phase", NULL,
         "scenarios[0].runs[0].samples.rows[0]: column \"phase\": expected a phase name, got an "
         "integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[64], path[256], out[128];
        make_tmpdir(dir, sizeof dir);
        snprintf(out, sizeof out, "%s/out", dir);
        if (cases[i].text) {
            snprintf(path, sizeof path, "%s/results.json", dir);
            FILE *f = fopen(path, "w");
            fputs(cases[i].text, f);
            fclose(f);
        } else {
            json_t *doc = load_fixture();
            json_t *s0 = json_array_get(json_object_get(doc, "scenarios"), 0);
            json_t *runs = json_object_get(s0, "runs");
            json_t *r0 = json_array_get(runs, 0), *r1 = json_array_get(runs, 1);
            json_t *rows0 = json_object_get(json_object_get(r0, "samples"), "rows");
            json_t *rows1 = json_object_get(json_object_get(r1, "samples"), "rows");
            const char *w = cases[i].what;
            if (!strcmp(w, "schema"))
                json_object_set_new(doc, "schema", json_string("not-leakbench"));
            else if (!strcmp(w, "version"))
                json_object_set_new(doc, "schema_version", json_integer(4));
            else if (!strcmp(w, "version 1"))
                json_object_set_new(doc, "schema_version", json_integer(1));
            else if (!strcmp(w, "peak string"))
                json_object_set_new(json_object_get(r0, "metrics"), "peak_tasks",
                                    json_string("5000"));
            else if (!strcmp(w, "variant"))
                json_object_set_new(r1, "variant", json_string("medium"));
            else if (!strcmp(w, "no runs"))
                json_object_del(s0, "runs");
            else if (!strcmp(w, "short row"))
                json_array_set_new(rows0, 3, json_pack("[f,s]", 0.3, "load"));
            else if (!strcmp(w, "time backwards"))
                json_array_set_new(json_array_get(rows1, 5), 0, json_real(0.01));
            else if (!strcmp(w, "bad phase"))
                json_array_set_new(json_array_get(rows0, 0), 1, json_integer(42));
            write_json(doc, dir, "results.json", path, sizeof path);
            json_decref(doc);
        }
        lb_report_opts opts = {.charts = true};
        lb_report_result res;
        int rc = lb_report_render_file(path, out, &opts, &res);
        if (rc != -EINVAL || !res.input_error)
            fail_msg("case '%s': rc %d, input_error %d", cases[i].what, rc, res.input_error);
        assert_int_equal(lb_exit_for_report(rc, &res), LB_EXIT_USAGE);
        if (!strstr(res.message, path) || !strstr(res.message, cases[i].expect))
            fail_msg("case '%s': message \"%s\" lacks \"%s\" or the path", cases[i].what,
                     res.message, cases[i].expect);
        /* Nothing written: the output directory was not even created. */
        assert_false(exists(out, ""));
        rm_tree(dir);
    }

    /* A file that does not exist. */
    lb_report_result res;
    int rc =
        lb_report_render_file("/nonexistent/results.json", "/tmp/lb-never-created", NULL, &res);
    assert_int_equal(lb_exit_for_report(rc, &res), LB_EXIT_USAGE);
    assert_non_null(strstr(res.message, "/nonexistent/results.json: cannot read"));
    assert_false(exists("/tmp/lb-never-created", ""));
}

static void test_cli_usage_and_errors(void **state)
{
    (void)state;
    char err[2048];
    const char *no_args[] = {"report", NULL};
    int code = run_cli(NULL, err, sizeof err, no_args);
    assert_int_equal(code, LB_EXIT_USAGE);
    assert_non_null(strstr(err, "usage: leakbench report"));

    const char *missing[] = {"report", "/nonexistent/results.json", NULL};
    assert_int_equal(run_cli(NULL, err, sizeof err, missing), LB_EXIT_USAGE);
    assert_non_null(strstr(err, "/nonexistent/results.json: cannot read"));

    char dir[64], out[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/out", dir);
    const char *ok[] = {"report", FIXTURE, "-o", out, NULL};
    assert_int_equal(run_cli(NULL, err, sizeof err, ok), LB_EXIT_OK);
    assert_true(exists(out, "charts/timeout_leak-summary.png"));
    assert_true(exists(out, "report.html"));

    /* --no-charts: the report says so; data and script are there, no images. */
    char nocharts[160];
    snprintf(nocharts, sizeof nocharts, "%s/nocharts", dir);
    const char *no_charts[] = {"report", FIXTURE, "-o", nocharts, "--no-charts", NULL};
    assert_int_equal(run_cli(NULL, err, sizeof err, no_charts), LB_EXIT_OK);
    assert_true(exists(nocharts, "charts/charts.gp"));
    assert_false(exists(nocharts, "charts/timeout_leak-tasks.png"));
    char *nc_md = slurp(nocharts, "report.md");
    assert_non_null(strstr(nc_md, "> **Warning:** charts not drawn (--no-charts)"));
    free(nc_md);

    /* Given a run directory, it re-renders from DIR/results.json in place. */
    json_t *doc = load_fixture();
    char results[256];
    write_json(doc, out, "results.json", results, sizeof results);
    json_decref(doc);
    assert_int_equal(unlink(results), 0);
    const char *no_results[] = {"report", out, NULL};
    assert_int_equal(run_cli(NULL, err, sizeof err, no_results), LB_EXIT_USAGE);
    assert_non_null(strstr(err, "is a directory without a results.json"));
    doc = load_fixture();
    write_json(doc, out, "results.json", results, sizeof results);
    json_decref(doc);
    char report_md[200];
    snprintf(report_md, sizeof report_md, "%s/report.md", out);
    assert_int_equal(unlink(report_md), 0);
    assert_int_equal(run_cli(NULL, err, sizeof err, no_results), LB_EXIT_OK);
    assert_true(exists(out, "report.md"));

    /* A directory without results.json is an input error, not a crash. */
    lb_report_result res;
    char elsewhere[160];
    snprintf(elsewhere, sizeof elsewhere, "%s/never", dir);
    int rc = lb_report_render_file(nocharts, elsewhere, NULL, &res);
    assert_int_equal(lb_exit_for_report(rc, &res), LB_EXIT_USAGE);
    assert_non_null(strstr(res.message, "is a directory without a results.json"));
    assert_false(exists(elsewhere, ""));
    rm_tree(dir);
}

static void test_slugs_and_escaping(void **state)
{
    (void)state;
    char b[64];
    /* Numbers: core/units_test.c. */
    lb_slug(b, sizeof b, "timeout_leak");
    assert_string_equal(b, "timeout_leak");
    lb_slug(b, sizeof b, "../a b;`x`");
    assert_string_equal(b, "___a_b__x_");
    lb_slug(b, sizeof b, "");
    assert_string_equal(b, "_");

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lb_escape_md(f, "1. a|b <i> *c* [d](e) 63.2");
    fclose(f);
    assert_string_equal(buf, "1\\. a\\|b &lt;i&gt; \\*c\\* \\[d\\](e) 63.2");
    free(buf);
    /* A UTF-8 sequence cut off by truncation is dropped, a whole one kept. */
    f = open_memstream(&buf, &len);
    lb_escape_html(f, "a\xe2\x80\x94"
                      "b\xe2\x80");
    fclose(f);
    assert_string_equal(buf, "a\xe2\x80\x94"
                             "b");
    free(buf);
    f = open_memstream(&buf, &len);
    lb_escape_html(f, "<a href=\"x\">'&'</a>");
    fclose(f);
    assert_string_equal(buf, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    free(buf);
}

/* ------------------------------------------- terminal and Markdown -- */

/* The table rows of a rendering: cells with padding trimmed and Markdown's
 * escapes (\_ \[ &gt; ...) undone, the separator row left out.  Returns
 * the row count; cells[r][c] are malloc'd. */
#define MAX_ROWS 32
#define MAX_COLS 8
static int table_cells(const char *text, char *cells[MAX_ROWS][MAX_COLS], int *ncols)
{
    int rows = 0;
    for (const char *line = text; line && *line && rows < MAX_ROWS;) {
        const char *end = strchr(line, '\n');
        if (!end) end = line + strlen(line);
        if (line[0] == '|' && line[1] != '-' && strncmp(line, "|---", 4)) {
            int c = 0;
            const char *p = line + 1;
            while (p < end && c < MAX_COLS) {
                const char *bar = p;
                while (bar < end && !(*bar == '|' && bar[-1] != '\\')) bar++;
                if (bar >= end) break;
                char *cell = malloc((size_t)(bar - p) + 1);
                size_t o = 0;
                for (const char *q = p; q < bar; q++) {
                    if (*q == '\\' && q + 1 < bar)
                        q++;
                    else if (!strncmp(q, "&gt;", 4)) {
                        cell[o++] = '>';
                        q += 3;
                        continue;
                    } else if (!strncmp(q, "&lt;", 4)) {
                        cell[o++] = '<';
                        q += 3;
                        continue;
                    } else if (!strncmp(q, "&amp;", 5)) {
                        cell[o++] = '&';
                        q += 4;
                        continue;
                    }
                    cell[o++] = *q;
                }
                while (o && cell[o - 1] == ' ') o--;
                cell[o] = 0;
                size_t lead = strspn(cell, " ");
                memmove(cell, cell + lead, o - lead + 1);
                cells[rows][c++] = cell;
                p = bar + 1;
            }
            *ncols = c;
            rows++;
        }
        line = *end ? end + 1 : end;
    }
    return rows;
}

static char *render_before_after(const json_t *scenario, const lb_doc_ops *ops, bool details)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    lb_doc d = {.ops = ops, .out = f, .out_dir = "."};
    lb_view_before_after(&d, scenario, details);
    fclose(f);
    assert_int_equal(d.err, 0);
    return buf;
}

/* The terminal's before/after table is report.md's, cell for cell: the
 * same header and six headline rows (report.md adds detail rows after
 * them), for one repetition and for five (medians with [min..max]). */
static void test_terminal_and_markdown_agree(void **state)
{
    (void)state;
    static const char *const fixtures[] = {FIXTURE, "harness/testdata/results-reps5.json"};
    for (size_t fi = 0; fi < sizeof fixtures / sizeof fixtures[0]; fi++) {
        json_error_t jerr;
        json_t *doc = json_load_file(fixtures[fi], 0, &jerr);
        assert_non_null(doc);
        const json_t *scenario = json_array_get(json_object_get(doc, "scenarios"), 0);
        char *text = render_before_after(scenario, &lb_doc_text, false);
        char *md = render_before_after(scenario, &lb_doc_markdown, true);
        char *tc[MAX_ROWS][MAX_COLS], *mc[MAX_ROWS][MAX_COLS];
        int tcols = 0, mcols = 0;
        int trows = table_cells(text, tc, &tcols), mrows = table_cells(md, mc, &mcols);
        assert_int_equal(trows, 7); /* header + six headline rows */
        assert_true(mrows > trows); /* the report adds detail rows */
        assert_int_equal(tcols, 3);
        assert_int_equal(mcols, 3);
        for (int r = 0; r < trows; r++)
            for (int c = 0; c < 3; c++) {
                if (strcmp(tc[r][c], mc[r][c]))
                    fail_msg("%s row %d col %d: terminal '%s', markdown '%s'", fixtures[fi], r, c,
                             tc[r][c], mc[r][c]);
            }
        if (fi == 1) assert_non_null(strstr(text, "[")); /* five repetitions: ranges */
        for (int r = 0; r < trows; r++)
            for (int c = 0; c < tcols; c++) free(tc[r][c]);
        for (int r = 0; r < mrows; r++)
            for (int c = 0; c < mcols; c++) free(mc[r][c]);
        free(text);
        free(md);
        json_decref(doc);
    }
}

/* The whole terminal view: heading, table, accounting, leak report. */
static void test_terminal_view(void **state)
{
    (void)state;
    json_t *doc = load_fixture();
    char *buf = terminal_text(NULL, json_array_get(json_object_get(doc, "scenarios"), 0));
    json_decref(doc);
    assert_non_null(strstr(buf, "\ntimeout_leak — pattern 1, timeout leak (the seed); threads "
                                "scheduler, 1 repetition\n\n| Metric        | Before fix (leaky)"));
    assert_non_null(strstr(buf, "| Memory (RSS)  | 63.2 MiB (rising)"));
    assert_null(strstr(buf, "Latency p50")); /* detail rows are the report's */
    assert_non_null(strstr(buf, "| leaky rep 0    |     3,000 |     2,100 |"));
    assert_non_null(strstr(buf, "  #1 870 × send in leaky_worker (scenarios/timeout_leak.c:42)\n"));
    assert_non_null(strstr(buf, "      Memory held: 54.4 MiB\n"));
    /* The hint is wrapped at 100 columns under its first word. */
    assert_non_null(strstr(buf, "      Hint: pattern 1 (timeout leak): the worker sends on"));
    assert_non_null(strstr(buf, "\n            "));
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        int width = 0;
        for (char *c = line; *c; c++) width += ((unsigned char)*c & 0xC0) != 0x80;
        if (line[0] != '|' && width > 100) fail_msg("%d columns: %s", width, line);
    }
    free(buf);
}

/* On a narrow terminal the hints wrap at its width (60 here; never under
 * 40), under the first word of their value, and the tables fit it too
 * (at 40, the before/after table is one line per row). */
static void test_terminal_view_wraps_at_the_width(void **state)
{
    (void)state;
    json_t *doc = load_fixture();
    const json_t *scenario = json_array_get(json_object_get(doc, "scenarios"), 0);
    static const int widths[][2] = {{60, 60}, {80, 80}, {20, 40}};
    for (size_t k = 0; k < sizeof widths / sizeof widths[0]; k++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_int_equal(lb_table_print(f, scenario, false, widths[k][0]), 0);
        fclose(f);
        assert_non_null(strstr(buf, "      Hint: pattern 1 "));
        /* 40 columns are too few for three columns: a line per row. */
        assert_non_null(strstr(buf, widths[k][1] >= 60 ? "| Metric " : "  Peak tasks: "));
        int widest = 0;
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
            int width = 0;
            for (char *c = line; *c; c++) width += ((unsigned char)*c & 0xC0) != 0x80;
            /* A word longer than the room left is never split. */
            bool one_word = !strchr(line + strspn(line, " "), ' ');
            if (width > widths[k][1] && !one_word)
                fail_msg("%d columns at %d: %s", width, widths[k][1], line);
            if (line[0] != '|' && width > widest) widest = width;
        }
        assert_true(widest > widths[k][1] - 15); /* it does use the width */
        free(buf);
    }
    json_decref(doc);
}

/* The rows of a pipe table whose cells wrap onto continuation lines
 * (their first cell empty), each cell's lines joined with a space: the
 * table as it reads unwrapped.  Frees what it joins; returns the rows. */
static int joined_rows(char *cells[MAX_ROWS][MAX_COLS], int rows, int ncols)
{
    int out = 0;
    for (int r = 0; r < rows; r++) {
        if (out > 0 && !cells[r][0][0]) {
            for (int c = 0; c < ncols; c++) {
                if (cells[r][c][0]) {
                    char *prev = cells[out - 1][c];
                    size_t n = strlen(prev) + strlen(cells[r][c]) + 2;
                    char *both = malloc(n);
                    assert_non_null(both);
                    snprintf(both, n, "%s%s%s", prev, prev[0] ? " " : "", cells[r][c]);
                    free(prev);
                    cells[out - 1][c] = both;
                }
                free(cells[r][c]);
            }
            continue;
        }
        for (int c = 0; c < ncols; c++) cells[out][c] = cells[r][c];
        out++;
    }
    return out;
}

/* The terminal's tables at a given width: the before/after table's cells
 * wrap inside their columns so that no line is wider than the terminal
 * (80 columns: the "restart required (not at baseline ...)" cell takes two
 * lines); a table that cannot fit even so (the accounting's eight columns)
 * is one line per run; every figure is still there, and at 100 and 120
 * columns the tables are as they always were, one line per row. */
static void test_terminal_tables_fit_the_width(void **state)
{
    (void)state;
    json_t *doc = json_load_file("harness/testdata/results-single.json", 0, NULL);
    assert_non_null(doc);
    const json_t *scenario = json_array_get(json_object_get(doc, "scenarios"), 0);
    static const int widths[] = {80, 100, 120};
    char *text[3];
    for (size_t k = 0; k < 3; k++) {
        size_t len = 0;
        FILE *f = open_memstream(&text[k], &len);
        assert_int_equal(lb_table_print(f, scenario, false, widths[k]), 0);
        fclose(f);
        char *copy = strdup(text[k]);
        for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
            int width = 0;
            for (char *c = line; *c; c++) width += ((unsigned char)*c & 0xC0) != 0x80;
            bool one_word = !strchr(line + strspn(line, " "), ' ');
            if (width > widths[k] && !one_word)
                fail_msg("%d columns at %d: %s", width, widths[k], line);
        }
        free(copy);
    }
    /* 80: the recovery cell wraps inside its column, the row keeps its label. */
    assert_non_null(strstr(text[0], "| Recovery time | restart required"));
    assert_non_null(strstr(text[0], "\n|               | "));
    /* 80: the accounting is one line per run, each figure after its header. */
    assert_non_null(strstr(text[0], "  leaky rep 0: Submitted "));
    assert_null(strstr(text[0], "| Run "));
    /* 100 and 120: the natural tables, a line per row. */
    for (size_t k = 1; k < 3; k++) {
        assert_null(strstr(text[k], "\n|               | "));
        assert_non_null(strstr(text[k], "| Run "));
        assert_string_equal(text[k], text[1]);
    }
    /* The before/after table at 80 columns, its wrapped cells joined, is
     * the 100-column table cell for cell. */
    char *narrow[MAX_ROWS][MAX_COLS], *wide[MAX_ROWS][MAX_COLS];
    int ncols = 0, wcols = 0;
    char *acct80 = strstr(text[0], "Request accounting"),
         *acct100 = strstr(text[1], "Request accounting");
    assert_non_null(acct80);
    assert_non_null(acct100);
    *acct80 = *acct100 = 0;
    int rows = table_cells(text[0], narrow, &ncols);
    rows = joined_rows(narrow, rows, ncols);
    int wrows = table_cells(text[1], wide, &wcols);
    assert_int_equal(rows, 7);
    assert_int_equal(wrows, 7);
    assert_int_equal(ncols, wcols);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < ncols; c++) {
            assert_string_equal(narrow[r][c], wide[r][c]);
            free(narrow[r][c]);
            free(wide[r][c]);
        }
    /* Every accounting figure of the 100-column table is in the stacked
     * lines, after its header. */
    *acct100 = 'R';
    *acct80 = 'R';
    char *acct[MAX_ROWS][MAX_COLS];
    int arows = table_cells(strstr(text[1], "| Run "), acct, &ncols);
    assert_int_equal(arows, 3);
    for (int r = 1; r < arows; r++) {
        char want[128];
        snprintf(want, sizeof want, "  %s: %s %s · ", acct[r][0], acct[0][1], acct[r][1]);
        assert_non_null(strstr(text[0], want));
        for (int c = 2; c < ncols; c++) {
            snprintf(want, sizeof want, "%s %s", acct[0][c], acct[r][c]);
            if (!strstr(acct80, want)) fail_msg("80 columns lack \"%s\"", want);
        }
    }
    for (int r = 0; r < arows; r++)
        for (int c = 0; c < ncols; c++) free(acct[r][c]);
    if (getenv("LEAKBENCH_SHOW")) print_message("%s\n", text[0]);
    for (size_t k = 0; k < 3; k++) free(text[k]);
    json_decref(doc);
}

/* With colour the twins' names in table headings and row labels are in
 * their chart colours, and the columns still line up (widths ignore the
 * escapes); without it not one escape is printed. */
static void test_terminal_view_colour(void **state)
{
    (void)state;
    json_t *doc = load_fixture();
    const json_t *scenario = json_array_get(json_object_get(doc, "scenarios"), 0);
    char *plain = NULL, *painted = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&plain, &len);
    assert_int_equal(lb_table_print(f, scenario, false, 0), 0);
    fclose(f);
    f = open_memstream(&painted, &len);
    assert_int_equal(lb_table_print(f, scenario, true, 0), 0);
    fclose(f);
    json_decref(doc);
    assert_null(strchr(plain, '\033'));
    assert_non_null(strstr(painted, "| Metric        | \033[31mBefore fix (leaky)\033[0m"));
    assert_non_null(strstr(painted, "\033[34mAfter fix (graceful)\033[0m"));
    assert_non_null(strstr(painted, "| \033[31mleaky rep 0\033[0m    |     3,000 |"));
    /* Take the escapes out again: the plain text, byte for byte. */
    char *o = painted;
    for (const char *p = painted; *p;)
        if (*p == '\033')
            p += strspn(p + 1, "[0123456789;") + 2;
        else
            *o++ = *p++;
    *o = 0;
    assert_string_equal(painted, plain);
    free(plain);
    free(painted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_slugs_and_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_render_fixture, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rerender_is_identical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminal_and_markdown_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminal_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminal_view_colour, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminal_view_wraps_at_the_width, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminal_tables_fit_the_width, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guard_killed_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptions_are_shown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generator_behind_is_not_the_pipelines_fault, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_interrupted_one_variant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth_from_task_slope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injection_attempt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_gnuplot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_without_gnuplot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gnuplot_failure_moves_no_images, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_usage_and_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
