/*
 * main.c — leakbench's entry point: dispatches to the subcommands that
 * registered themselves (harness/cli/cmd_*.c) and prints the top-level help.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: leakbench COMMAND [options] [args]\n\n"
                 "Runs leaky and graceful twins of concurrent pipelines under the same\n"
                 "load and measures what the leak costs.\n\ncommands:\n");
    for (int i = 0; i < lb_command_count(); i++)
        fprintf(out, "  %-10s %s\n", lb_command_at(i)->name, lb_command_at(i)->summary);
    fprintf(out, "\n`leakbench COMMAND --help` describes a command's options.\n"
                 "Exit codes: 0 ok, 1 threshold failed or regression, 2 usage or input\n"
                 "error, 3 run error, 4 inconclusive comparison, 5 charts skipped (no\n"
                 "gnuplot), 130 interrupted.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return LB_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return LB_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("leakbench %s\n", LEAKBENCH_VERSION);
        return LB_EXIT_OK;
    }
    const lb_command *cmd = lb_command_find(argv[1]);
    if (cmd) return cmd->main(argc - 1, argv + 1);
    fprintf(stderr, "leakbench: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return LB_EXIT_USAGE;
}
