/*
 * aa_noise_test.c — the noise an A/A run measures (ci/aa_noise.c) and
 * `compare --noise-from` using it (ci/compare.c, cli/cmd_compare.c), on
 * fixtures cut from harness/testdata/results-reps5.json (five
 * repetitions a side) with values set by hand so every figure can be
 * checked on paper: pairs (A k, B k) of peak_tasks 100/100, 100/110,
 * 100/90, 100/120 and 100/null give relative differences 0, 10/105,
 * 10/95 and 20/110 (the null pair left out): median 0.1002506, max
 * 0.1818182, max_abs 20.  And one real `run --aa leaky` of the seed pair
 * (two repetitions of 300 ms, about 8 s): both sides run the leaky twin.
 */
#include "core/test_util.h"

#include "ci/aa_noise.h"
#include "ci/compare.h"
#include "cli/cli.h"
#include "core/jsonutil.h"
#include "run/results_load.h"

#include <errno.h>
#include <string.h>

#define FIXTURE "harness/testdata/results-reps5.json"

static char tmpdir[64];
static json_t *fixture;

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(tmpdir, sizeof tmpdir, "aa-noise");
    char err[1024];
    if (lb_results_load(FIXTURE, &fixture, err, sizeof err)) {
        print_error("%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(fixture);
    return lb_test_remove_tree(tmpdir);
}

static json_t *scenario0(json_t *doc)
{
    return json_array_get(json_object_get(doc, "scenarios"), 0);
}

/* Sets metrics.KEY of every run of VARIANT: values[rep] (NAN: null), or
 * old value * factor when values is NULL; drops the summary entry so
 * medians come from the runs. */
static void set_metric(json_t *doc, const char *variant, const char *key, const double *values,
                       double factor)
{
    json_t *s = scenario0(doc), *run;
    size_t i;
    json_array_foreach(json_object_get(s, "runs"), i, run)
    {
        if (strcmp(lb_jstr(run, "variant"), variant)) continue;
        json_t *metrics = json_object_get(run, "metrics");
        double v = values ? values[json_integer_value(json_object_get(run, "rep"))]
                          : json_number_value(json_object_get(metrics, key)) * factor;
        json_object_set_new(metrics, key, isnan(v) ? json_null() : json_real(v));
    }
    json_object_del(json_object_get(json_object_get(s, "summary"), variant), key);
}

/* The fixture as an A/A run of graceful with the figures above. */
static json_t *aa_doc(const char *variant)
{
    json_t *doc = json_deep_copy(fixture);
    static const double a[5] = {100, 100, 100, 100, 100}, b[5] = {100, 110, 90, 120, NAN};
    set_metric(doc, "leaky", "peak_tasks", a, 0);
    set_metric(doc, "graceful", "peak_tasks", b, 0);
    static const double zero[5] = {0, 0, 0, 0, 0};
    set_metric(doc, "leaky", "leaked_tasks", zero, 0);
    set_metric(doc, "graceful", "leaked_tasks", zero, 0);
    assert_int_equal(lb_aa_mark(doc, variant), 0);
    return doc;
}

static void noise_of_paired_repetitions(void **state)
{
    (void)state;
    json_t *doc = aa_doc("graceful");
    const json_t *noise = json_object_get(scenario0(doc), "aa_noise");
    const json_t *peak = json_object_get(noise, "peak_tasks");
    assert_int_equal(json_integer_value(json_object_get(peak, "pairs")), 4);
    assert_near(lb_jnum(peak, "median_rel"), (10.0 / 105 + 10.0 / 95) / 2, 1e-9);
    assert_near(lb_jnum(peak, "max_rel"), 20.0 / 110, 1e-9);
    assert_near(lb_jnum(peak, "max_abs"), 20, 1e-9);
    const json_t *leaked = json_object_get(noise, "leaked_tasks");
    assert_int_equal(json_integer_value(json_object_get(leaked, "pairs")), 5);
    assert_near(lb_jnum(leaked, "max_rel"), 0, 0); /* 0 and 0: no difference */
    /* Only metrics compare judges, each with the four fields. */
    assert_null(json_object_get(noise, "peak_rss_mib"));
    assert_non_null(json_object_get(json_object_get(noise, "recovery_ms"), "max_rel"));

    assert_string_equal(lb_aa_variant(doc), "graceful");
    char err[512];
    assert_int_equal(lb_aa_check(doc, "aa.json", err, sizeof err), 0);
    assert_int_equal(lb_results_validate(doc, "aa.json", err, sizeof err), 0);
    double rel;
    int pairs;
    assert_true(lb_aa_noise_lookup(doc, "timeout_leak", "peak_tasks", &rel, &pairs));
    assert_near(rel, 20.0 / 110, 1e-9);
    assert_int_equal(pairs, 4);
    assert_false(lb_aa_noise_lookup(doc, "no_such_scenario", "peak_tasks", &rel, &pairs));

    assert_null(lb_aa_variant(fixture));
    assert_int_equal(lb_aa_check(fixture, "plain.json", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "plain.json: aa.variant: not an A/A run"));
    json_decref(doc);
}

static const lb_compare_row *row(const lb_comparison *c, const char *variant, const char *metric)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->rows[i].metric && !strcmp(c->rows[i].variant, variant) &&
            !strcmp(c->rows[i].metric->name, metric))
            return &c->rows[i];
    fail_msg("no row %s.%s", variant, metric);
    return NULL;
}

/* graceful.peak_tasks 10% higher in every run: beyond 5%, within the
 * 18% two identical runs showed; 30% is beyond both. */
static void compare_uses_the_measured_noise(void **state)
{
    (void)state;
    json_t *next = json_deep_copy(fixture);
    set_metric(next, "graceful", "peak_tasks", NULL, 1.10);
    json_t *aa = aa_doc("graceful"), *aa_leaky = aa_doc("leaky");
    lb_compare_opts o = LB_COMPARE_DEFAULTS;
    lb_comparison c;

    assert_int_equal(lb_compare(fixture, next, &o, &c), 0);
    assert_int_equal(row(&c, "graceful", "peak_tasks")->verdict, LB_REGRESSED);
    lb_comparison_free(&c);

    o.noise_from[1] = aa;
    assert_int_equal(lb_compare(fixture, next, &o, &c), 0);
    const lb_compare_row *r = row(&c, "graceful", "peak_tasks");
    assert_int_equal(r->verdict, LB_UNCHANGED);
    assert_non_null(strstr(r->note, "within A/A noise (18.2% over 4 pairs"));
    assert_non_null(strstr(c.notes, "graceful rows: noise measured by an A/A run"));
    assert_int_equal(lb_comparison_outcome(&c), LB_COMPARE_PASS);
    lb_comparison_free(&c);

    /* An A/A run of the other variant says nothing about this one. */
    o.noise_from[1] = NULL;
    o.noise_from[0] = aa_leaky;
    assert_int_equal(lb_compare(fixture, next, &o, &c), 0);
    assert_int_equal(row(&c, "graceful", "peak_tasks")->verdict, LB_REGRESSED);
    lb_comparison_free(&c);

    json_decref(next);
    next = json_deep_copy(fixture);
    set_metric(next, "graceful", "peak_tasks", NULL, 1.30);
    o.noise_from[0] = NULL;
    o.noise_from[1] = aa;
    assert_int_equal(lb_compare(fixture, next, &o, &c), 0);
    assert_int_equal(row(&c, "graceful", "peak_tasks")->verdict, LB_REGRESSED);
    lb_comparison_free(&c);
    json_decref(next);
    json_decref(aa);
    json_decref(aa_leaky);
}

static int run_compare(char **argv, int argc)
{
    const lb_command *cmd = lb_command_find("compare");
    assert_non_null(cmd);
    return lb_test_call_quietly(cmd->main, argc, argv);
}

static void cli_noise_from(void **state)
{
    (void)state;
    char base[96], next_path[96], aa_path[96], aa2_path[96];
    snprintf(base, sizeof base, "%s/base.json", tmpdir);
    snprintf(next_path, sizeof next_path, "%s/new.json", tmpdir);
    snprintf(aa_path, sizeof aa_path, "%s/aa.json", tmpdir);
    snprintf(aa2_path, sizeof aa2_path, "%s/aa2.json", tmpdir);
    json_t *next = json_deep_copy(fixture), *aa = aa_doc("graceful");
    set_metric(next, "graceful", "peak_tasks", NULL, 1.10);
    assert_int_equal(json_dump_file(fixture, base, JSON_INDENT(1)), 0);
    assert_int_equal(json_dump_file(next, next_path, JSON_INDENT(1)), 0);
    assert_int_equal(json_dump_file(aa, aa_path, JSON_INDENT(1)), 0);
    assert_int_equal(json_dump_file(aa, aa2_path, JSON_INDENT(1)), 0);
    json_decref(next);
    json_decref(aa);

    char *plain[] = {"compare", base, next_path, NULL};
    assert_int_equal(run_compare(plain, 3), LB_EXIT_FAIL);
    char *measured[] = {"compare", "--noise-from", aa_path, base, next_path, NULL};
    assert_int_equal(run_compare(measured, 5), LB_EXIT_OK);
    char *not_aa[] = {"compare", "--noise-from", base, base, next_path, NULL};
    assert_int_equal(run_compare(not_aa, 5), LB_EXIT_USAGE);
    char *twice[] = {"compare", "--noise-from", aa_path,   "--noise-from",
                     aa2_path,  base,           next_path, NULL};
    assert_int_equal(run_compare(twice, 7), LB_EXIT_USAGE);
    char *missing[] = {"compare", "--noise-from", "/nonexistent/aa.json", base, next_path, NULL};
    assert_int_equal(run_compare(missing, 5), LB_EXIT_USAGE);
}

/* run --aa leaky: the graceful side runs the leaky twin too, so both
 * leak; the document is marked and measured, and the spec's thresholds
 * (which compare two different twins) are not evaluated. */
static void run_aa_runs_one_variant_on_both_sides(void **state)
{
    (void)state;
    char out[96], log[96];
    snprintf(out, sizeof out, "%s/aa", tmpdir);
    snprintf(log, sizeof log, "%s/log", tmpdir);
    const char *argv[] = {lb_test_leakbench(),
                          "run",
                          "-q",
                          "--no-report",
                          "--aa",
                          "leaky",
                          "--reps",
                          "2",
                          "--duration",
                          "300ms",
                          "-o",
                          out,
                          "scenarios/quick.json",
                          NULL};
    int code = lb_test_wait(lb_test_spawn(log, true, argv, NULL));
    if (code != 0) print_error("%s\n", lb_test_slurp(log));
    assert_int_equal(code, 0);
    json_t *doc;
    char err[1024];
    assert_int_equal(lb_results_load(out, &doc, err, sizeof err), 0);
    assert_int_equal(lb_aa_check(doc, out, err, sizeof err), 0);
    assert_string_equal(lb_aa_variant(doc), "leaky");
    assert_int_equal(json_array_size(json_object_get(doc, "thresholds")), 0);
    const json_t *run;
    size_t i;
    int runs[2] = {0, 0};
    json_array_foreach(json_object_get(scenario0(doc), "runs"), i, run)
    {
        runs[strcmp(lb_jstr(run, "variant"), "leaky") ? 1 : 0]++;
        /* quick.json's leaky twin leaks hundreds at full length; the
         * graceful twin leaks none. */
        if (!(lb_jnum_path(run, "metrics.leaked_tasks") > 0))
            print_error("%s rep %lld leaked nothing\n", lb_jstr(run, "variant"),
                        (long long)json_integer_value(json_object_get(run, "rep")));
        assert_true(lb_jnum_path(run, "metrics.leaked_tasks") > 0);
    }
    assert_int_equal(runs[0], 2);
    assert_int_equal(runs[1], 2);
    const json_t *peak = lb_jpath(scenario0(doc), "aa_noise.peak_tasks");
    assert_int_equal(json_integer_value(json_object_get(peak, "pairs")), 2);
    assert_true(json_is_number(json_object_get(peak, "max_rel")));
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(noise_of_paired_repetitions, setup, teardown),
        cmocka_unit_test_setup_teardown(compare_uses_the_measured_noise, setup, teardown),
        cmocka_unit_test_setup_teardown(cli_noise_from, setup, teardown),
        cmocka_unit_test_setup_teardown(run_aa_runs_one_variant_on_both_sides, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
