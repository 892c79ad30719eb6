/*
 * run_output.c — the run directory's last step for `run` and `merge`
 * (run_output.h): commit or discard the staging directory, then say where
 * the files are.
 */
#include "run_output.h"
#include "cli.h"

int lb_run_output_commit(lb_rundir *rd, const char *shown_dir, const char *who,
                         bool results_written, const lb_report_result *report, bool quiet,
                         FILE *human, int exit_code)
{
    const char *dir = shown_dir;
    if (!rd->stage[0]) return exit_code;
    if (!results_written || (report && (!report->written || report->charts_unwritten))) {
        lb_rundir_discard(rd);
        fprintf(stderr,
                "leakbench %s: %s left as it was: the new run could not be written completely\n",
                who, dir);
        return exit_code;
    }
    char err[4600];
    if (lb_rundir_commit(rd, 0, err, sizeof err) != 0) {
        fprintf(stderr, "leakbench %s: %s\n", who, err);
        return LB_EXIT_ERROR;
    }
    if (!quiet) {
        fprintf(human, "\nresults: %s/results.json, %s/samples.csv\n", dir, dir);
        if (report)
            fprintf(human, "report:  %s/report.md, %s/report.html%s\n", dir, dir,
                    report->charts == LB_CHARTS_RENDERED ? ", charts in charts/" : " (no charts)");
    }
    return exit_code;
}
