/*
 * run_ci.c — shards, A/A runs and the results' identity for `leakbench
 * run` (run_ci.h).
 */
#include "run_ci.h"

#include "ci/aa_noise.h"
#include "cli.h"
#include "core/spec_aa.h"
#include "core/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lb_run_ci_option(lb_run_ci *ci, const char *opt, const char *arg)
{
    char shown[128];
    if (!strcmp(opt, "shard")) {
        if (lb_shard_parse(arg, &ci->shard) == 0) return 0;
        fprintf(stderr, "leakbench run: --shard: '%s' is not I/N (1 <= I <= N <= %d, e.g. 2/3)\n",
                lb_escape_controls(shown, sizeof shown, arg), LB_SHARD_MAX_COUNT);
        return -1;
    }
    if (lb_variant_known(arg, strlen(arg))) {
        ci->aa = strcmp(arg, "leaky") ? "graceful" : "leaky";
        return 0;
    }
    fprintf(stderr, "leakbench run: --aa: '%s' is not a variant (leaky or graceful)\n",
            lb_escape_controls(shown, sizeof shown, arg));
    return -1;
}

/* "shard 2/3 of catalog: 4 of 13 scenarios (a, b, c, d)" on stderr. */
static void say_shard(const lb_run_ci *ci, const lb_spec *specs, int n_specs)
{
    int total = 0, mine = 0;
    for (int i = 0; i < n_specs; i++) total += specs[i].n;
    fprintf(stderr, "leakbench run: shard %d/%d of %s:", ci->shard.index, ci->shard.count,
            ci->suite);
    for (int i = 0; i < n_specs; i++)
        for (int k = 0; k < specs[i].n; k++)
            if (lb_run_ci_selected(ci, &specs[i].items[k]))
                fprintf(stderr, "%s %s", mine++ ? "," : "", specs[i].items[k].name);
    if (mine)
        fprintf(stderr, " (%d of %d scenarios)\n", mine, total);
    else
        fprintf(stderr, " none of its %d scenarios; writing results with no scenarios\n", total);
}

int lb_run_ci_prepare(lb_run_ci *ci, lb_spec *specs, int n_specs, bool quiet)
{
    char err[256];
    if (lb_commit_detect(specs[0].path, ci->commit, sizeof ci->commit, err, sizeof err)) {
        fprintf(stderr, "leakbench run: %s\n", err);
        return LB_EXIT_USAGE;
    }
    lb_suite_name(specs, n_specs, ci->suite, sizeof ci->suite);
    if (ci->shard.count && !quiet) say_shard(ci, specs, n_specs);
    if (!ci->aa) return LB_EXIT_OK;
    int total = 0;
    for (int i = 0; i < n_specs; i++) total += specs[i].n;
    ci->aa_scenarios = calloc(total ? (size_t)total : 1, sizeof *ci->aa_scenarios);
    if (!ci->aa_scenarios) return LB_EXIT_ERROR;
    int used = 0;
    for (int i = 0; i < n_specs; i++)
        for (int k = 0; k < specs[i].n; k++)
            lb_scenario_spec_make_aa(&specs[i].items[k], !strcmp(ci->aa, "leaky"),
                                     &ci->aa_scenarios[used++]);
    return LB_EXIT_OK;
}

bool lb_run_ci_selected(const lb_run_ci *ci, const lb_scenario_spec *s)
{
    return lb_shard_contains(&ci->shard, s->name);
}

bool lb_run_ci_thresholds(const lb_run_ci *ci)
{
    return ci->aa == NULL;
}

int lb_run_ci_mark(const lb_run_ci *ci, json_t *doc, const lb_spec *specs, int n_specs)
{
    int rc = lb_shard_mark(doc, ci->suite, ci->commit, &ci->shard, specs, n_specs);
    if (!rc && ci->aa) rc = lb_aa_mark(doc, ci->aa);
    return rc;
}

void lb_run_ci_free(lb_run_ci *ci)
{
    free(ci->aa_scenarios);
    ci->aa_scenarios = NULL;
}
