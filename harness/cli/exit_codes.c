/*
 * exit_codes.c — turns the outcomes that lower layers report (a report
 * render's result, a comparison's verdict) into leakbench's documented
 * exit codes (enum lb_exit in cli.h; README "Exit codes").  Only the CLI
 * knows about process exit codes, so this is the one place the mapping
 * lives.
 */
#include "cli.h"

int lb_exit_for_report(int rc, const lb_report_result *res)
{
    if (res->input_error) return LB_EXIT_USAGE;
    if (rc) return LB_EXIT_ERROR;
    if (res->charts == LB_CHARTS_NO_GNUPLOT) return LB_EXIT_NO_GNUPLOT;
    if (res->charts == LB_CHARTS_FAILED) return LB_EXIT_ERROR;
    return LB_EXIT_OK;
}

int lb_exit_for_comparison(const lb_comparison *c)
{
    switch (lb_comparison_outcome(c)) {
    case LB_COMPARE_REGRESSION: return LB_EXIT_FAIL;
    case LB_COMPARE_INCONCLUSIVE: return LB_EXIT_INCONCLUSIVE;
    case LB_COMPARE_PASS: break;
    }
    return LB_EXIT_OK;
}
