/*
 * cli.h — leakbench's subcommands and exit codes.
 *
 * Each subcommand lives in its own file (harness/cli/cmd_<name>.c) and
 * registers itself with LB_COMMAND, so main.c never changes when one is
 * added.  A command gets argv with argv[0] set to its own name and returns
 * one of the exit codes below, which are part of the interface and
 * documented in README.md.
 */
#ifndef LEAKBENCH_CLI_H
#define LEAKBENCH_CLI_H

#include "ci/compare.h"
#include "report/report.h"

enum lb_exit {
    LB_EXIT_OK = 0,           /* success: every threshold passed, no regression */
    LB_EXIT_FAIL = 1,         /* a threshold failed, or compare found a regression */
    LB_EXIT_USAGE = 2,        /* bad command line, or invalid spec/results file */
    LB_EXIT_ERROR = 3,        /* a run could not be carried out (fork, I/O, crash) */
    LB_EXIT_INCONCLUSIVE = 4, /* compare: differences within noise / not significant */
    LB_EXIT_NO_GNUPLOT = 5,   /* results and report.md written, charts skipped */
    LB_EXIT_INTERRUPTED = 130 /* SIGINT/TERM/HUP/PIPE: children killed, partial results marked */
};

/* Lower layers report outcomes, never exit codes; these map them
 * (harness/cli/exit_codes.c). */
/* `report` and the report step of `run`: 0 written, 2 invalid input,
 * 3 I/O or gnuplot failure, 5 charts skipped because gnuplot is missing. */
int lb_exit_for_report(int rc, const lb_report_result *res);
/* `compare` and `run --baseline`: 0 pass, 1 regression, 4 inconclusive. */
int lb_exit_for_comparison(const lb_comparison *c);

typedef struct lb_command {
    const char *name;
    const char *summary; /* one line for `leakbench --help` */
    int (*main)(int argc, char **argv);
} lb_command;

/* The registry (harness/cli/cli.c). */
void lb_command_register(const lb_command *c);
int lb_command_count(void);
const lb_command *lb_command_at(int i); /* in registration order; NULL if out of range */
const lb_command *lb_command_find(const char *name); /* NULL if unknown */
#define LB_COMMAND(var)                                                                            \
    static void __attribute__((constructor)) lb_register_cmd_##var(void)                           \
    {                                                                                              \
        lb_command_register(&var);                                                                 \
    }

#endif
