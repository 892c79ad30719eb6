/*
 * results_load_test.c — the one results loader (results_load.h): each kind
 * of bad input gets one message naming the file and the position (line:col
 * for JSON syntax, the JSON path for a wrong type, the version found and
 * the version read for another schema version; a missing file; a directory
 * without results.json; a device), and `leakbench report` and `leakbench compare`
 * print exactly that message and exit 2.  The commands run in-process
 * (their stderr captured in a file), so nothing here needs $LEAKBENCH.
 * Good input: the fixtures and a run directory load; the completed
 * requests' latency histogram is optional and checked when present; a saved baseline
 * (sample rows dropped) still loads; compare alone insists on unique
 * scenario names.  Run from the repository root (make test does).
 */
#include "results_load.h"
#include "results.h"
#include "cli/cli.h"
#include "core/jsonutil.h"
#include "core/test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURE "harness/testdata/results-small.json"

static char tmpdir[64];

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(tmpdir, sizeof tmpdir, "results-load");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return lb_test_remove_tree(tmpdir);
}

static json_t *fixture(void)
{
    json_t *doc = json_load_file(FIXTURE, 0, NULL);
    if (!doc) fail_msg("cannot load %s (run from the repository root)", FIXTURE);
    return doc;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Runs subcommand NAME with ARGS (NULL-terminated) in-process; its stderr,
 * minus the "leakbench NAME: " prefix and the newline, goes to msg. */
static int run_command(const char *name, const char *const *args, char *msg, size_t len)
{
    char *argv[8] = {(char *)name};
    int argc = 1;
    for (; args[argc - 1] && argc < 7; argc++) argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;
    char errfile[128];
    snprintf(errfile, sizeof errfile, "%s/stderr", tmpdir);
    fflush(stderr);
    int saved = dup(2), fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
    const lb_command *cmd = lb_command_find(name);
    assert_non_null(cmd);
    int rc = lb_test_call_quietly(cmd->main, argc, argv);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "leakbench %s: ", name);
    const char *text = lb_test_slurp(errfile);
    if (strncmp(text, prefix, strlen(prefix))) fail_msg("%s printed \"%s\"", name, text);
    snprintf(msg, len, "%s", text + strlen(prefix));
    msg[strcspn(msg, "\n")] = 0;
    return rc;
}

/* PATH fails to load with a message containing EXPECT, and both commands
 * print that very message and exit 2. */
static void expect_bad(const char *path, int want_rc, const char *expect)
{
    char err[1024], msg[1024];
    json_t *doc = (json_t *)1;
    int rc = lb_results_load(path, &doc, err, sizeof err);
    if (rc != want_rc || doc) fail_msg("%s: rc %d (want %d): %s", path, rc, want_rc, err);
    if (!strstr(err, expect)) fail_msg("\"%s\" lacks \"%s\"", err, expect);

    char out[128];
    snprintf(out, sizeof out, "%s/never", tmpdir);
    const char *report_args[] = {path, "-o", out, "--no-charts", NULL};
    assert_int_equal(run_command("report", report_args, msg, sizeof msg), LB_EXIT_USAGE);
    assert_string_equal(msg, err);
    struct stat st;
    assert_int_equal(stat(out, &st), -1); /* nothing written */

    const char *compare_args[] = {path, FIXTURE, NULL};
    assert_int_equal(run_command("compare", compare_args, msg, sizeof msg), LB_EXIT_USAGE);
    assert_string_equal(msg, err);
}

static void syntax_error_has_line_and_column(void **state)
{
    (void)state;
    char path[128], expect[200];
    snprintf(path, sizeof path, "%s/truncated.json", tmpdir);
    write_text(path,
               "{\"schema\": \"leakbench-results\",\n \"schema_version\": 1,\n \"scenarios\": [");
    snprintf(expect, sizeof expect, "%s:3:", path);
    expect_bad(path, -EINVAL, expect);
    write_text(path, "{\"schema\": \"leakbench-results\", \"schema\": \"twice\"}");
    expect_bad(path, -EINVAL, "invalid JSON: duplicate object key");
}

static void wrong_type_names_the_json_path(void **state)
{
    (void)state;
    char path[128], expect[300];
    snprintf(path, sizeof path, "%s/results.json", tmpdir);
    json_t *doc = fixture();
    json_t *run1 = json_array_get(
        json_object_get(json_array_get(json_object_get(doc, "scenarios"), 0), "runs"), 1);
    json_object_set_new(json_object_get(run1, "metrics"), "peak_tasks", json_string("5000"));
    assert_int_equal(json_dump_file(doc, path, 0), 0);
    json_decref(doc);
    snprintf(expect, sizeof expect,
             "%s: scenarios[0].runs[1].metrics.peak_tasks: expected a number or null, got a "
             "string",
             path);
    expect_bad(path, -EINVAL, expect);

    doc = fixture();
    json_object_set_new(json_array_get(json_object_get(doc, "scenarios"), 0), "summary",
                        json_pack("{s:{s:{s:s}}}", "leaky", "peak_tasks", "median", "many"));
    assert_int_equal(json_dump_file(doc, path, 0), 0);
    json_decref(doc);
    expect_bad(path, -EINVAL,
               "scenarios[0].summary.leaky.peak_tasks.median: expected a number or null, got a "
               "string");
}

/* metrics.latency_completed_ms is optional (the fixtures, written before
 * it, lack it and load); when present, its buckets are [lo_ms, hi_ms,
 * count] in ascending order, and anything else is named by its path. */
static void completed_latency_is_optional_and_checked(void **state)
{
    (void)state;
    json_t *doc = fixture();
    json_t *run0 = json_array_get(
        json_object_get(json_array_get(json_object_get(doc, "scenarios"), 0), "runs"), 0);
    json_t *metrics = json_object_get(run0, "metrics");
    assert_null(json_object_get(metrics, "latency_completed_ms"));
    char err[1024];
    assert_int_equal(lb_results_validate(doc, "old.json", err, sizeof err), 0);
    static const struct {
        const char *buckets, *expect;
    } cases[] = {
        {"[[0.096, 0.104, 2], [2.432, 2.56, 1]]", NULL},
        {"[[0.096, 0.104]]", "buckets[0]: expected [lo_ms, hi_ms, count]"},
        {"[[0.104, 0.096, 1]]", "buckets[0]: expected 0 <= lo_ms < hi_ms"},
        {"[[2.432, 2.56, 1], [0.096, 0.104, 2]]", "buckets[1]: buckets out of order"},
        {"[[0.096, 0.104, 1.5]]", "buckets[0]: count: expected a whole number >= 0"},
        {"[[0.096, \"x\", 1]]", "buckets[0][1]: expected a number, got a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *buckets = json_loads(cases[i].buckets, 0, NULL);
        assert_non_null(buckets);
        json_object_set_new(metrics, "latency_completed_ms",
                            json_pack("{s:i, s:o}", "count", 3, "buckets", buckets));
        int rc = lb_results_validate(doc, "new.json", err, sizeof err);
        if (!cases[i].expect) {
            if (rc) fail_msg("%s", err);
            continue;
        }
        assert_int_equal(rc, -EINVAL);
        char want[256];
        snprintf(want, sizeof want,
                 "new.json: scenarios[0].runs[0].metrics.latency_completed_ms.%s", cases[i].expect);
        if (strncmp(err, want, strlen(want))) fail_msg("\"%s\" does not start \"%s\"", err, want);
    }
    json_object_set_new(metrics, "latency_completed_ms", json_pack("{s:i}", "count", 3));
    assert_int_equal(lb_results_validate(doc, "new.json", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "latency_completed_ms.buckets: required field is missing"));
    json_decref(doc);
}

/* Another version is named as such, whatever else differs in the file. */
static void unknown_version_names_both_versions(void **state)
{
    (void)state;
    char path[128], expect[512];
    snprintf(path, sizeof path, "%s/v99.json", tmpdir);
    write_text(path, "{\"schema\": \"leakbench-results\", \"schema_version\": 99, \"runs\": 3}");
    snprintf(expect, sizeof expect,
             "%s: schema_version: version 99 is not supported (this leakbench reads versions 2 and "
             "%d)",
             path, LB_RESULTS_SCHEMA_VERSION);
    expect_bad(path, -EINVAL, expect);
    write_text(path, "{\"schema\": \"leakbench-results\", \"schema_version\": 1}");
    snprintf(expect, sizeof expect, "%s: schema_version: %s", path, LB_RESULTS_V1_NOTE);
    expect_bad(path, -EINVAL, expect);
    write_text(path, "{\"schema\": \"other-tool\", \"schema_version\": 1}");
    expect_bad(path, -EINVAL,
               "schema: \"other-tool\" is not a leakbench results file (expected "
               "\"leakbench-results\")");
    write_text(path, "{\"schema_version\": 1}");
    expect_bad(path, -EINVAL,
               "schema: expected \"leakbench-results\", got nothing (is this a leakbench results "
               "file?)");
    write_text(path, "[]");
    expect_bad(path, -EINVAL, "v99.json: (top level): expected an object, got an array");
}

static void missing_file_and_directory(void **state)
{
    (void)state;
    char path[128], expect[300];
    snprintf(path, sizeof path, "%s/absent.json", tmpdir);
    snprintf(expect, sizeof expect, "%s: cannot read: No such file or directory", path);
    expect_bad(path, -ENOENT, expect);

    /* Read through the one input reader: a device is refused, not read. */
    expect_bad("/dev/null", -EINVAL,
               "/dev/null: cannot read: it is a character device, not a file");

    snprintf(path, sizeof path, "%s/rundir", tmpdir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(expect, sizeof expect,
             "%s: is a directory without a results.json (expected a results file or a run "
             "directory)",
             path);
    expect_bad(path, -EISDIR, expect);

    /* With its results.json, the run directory loads. */
    char file[160];
    snprintf(file, sizeof file, "%s/results.json", path);
    json_t *doc = fixture();
    assert_int_equal(json_dump_file(doc, file, 0), 0);
    json_decref(doc);
    char err[512];
    assert_int_equal(lb_results_load(path, &doc, err, sizeof err), 0);
    assert_string_equal(lb_jstr_path(doc, "tool.version"), "fixture");
    json_decref(doc);
}

/* Every fixture loads; a saved baseline without sample rows loads; only
 * compare needs unique scenario names (run may run one scenario twice). */
static void good_inputs(void **state)
{
    (void)state;
    static const char *const files[] = {FIXTURE, "harness/testdata/results-single.json",
                                        "harness/testdata/results-reps5.json"};
    char err[1024], path[128];
    json_t *doc;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (lb_results_load(files[i], &doc, err, sizeof err)) fail_msg("%s", err);
        json_decref(doc);
    }
    doc = fixture();
    json_t *scenarios = json_object_get(doc, "scenarios");
    json_object_del(
        json_object_get(json_array_get(json_object_get(json_array_get(scenarios, 0), "runs"), 0),
                        "samples"),
        "rows");
    json_array_append_new(scenarios, json_deep_copy(json_array_get(scenarios, 0)));
    assert_int_equal(lb_results_validate(doc, "twice.json", err, sizeof err), 0);
    assert_int_equal(lb_results_check_unique_names(doc, "twice.json", err, sizeof err), -EINVAL);
    assert_string_equal(err, "twice.json: scenarios[1].name: \"timeout_leak\" appears twice (also "
                             "scenarios[0]), so scenarios cannot be matched by name");
    snprintf(path, sizeof path, "%s/twice.json", tmpdir);
    assert_int_equal(json_dump_file(doc, path, 0), 0);
    json_decref(doc);
    char msg[1024];
    const char *compare_args[] = {FIXTURE, path, NULL};
    assert_int_equal(run_command("compare", compare_args, msg, sizeof msg), LB_EXIT_USAGE);
    assert_non_null(strstr(msg, "appears twice"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(syntax_error_has_line_and_column, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_type_names_the_json_path, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_version_names_both_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_file_and_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(good_inputs, setup, teardown),
        cmocka_unit_test_setup_teardown(completed_latency_is_optional_and_checked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
