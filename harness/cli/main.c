/*
 * main.c — leakbench's entry point: dispatches to the subcommands that
 * registered themselves (harness/cli/cmd_*.c), prints the top-level help
 * and the version, and answers a misspelt command with one line and a
 * suggestion rather than the whole usage.
 */
#include "cli.h"
#include "core/suggest.h"
#include "run/results.h"

#include <jansson.h>
#include <llhttp.h>
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

/* The version, the commit it was built from and what it was built with:
 * what a bug report or a results file's provenance needs. */
static void print_version(void)
{
    printf("leakbench %s\n", LEAKBENCH_VERSION);
    printf("commit:      %s\n", LEAKBENCH_GIT_REVISION);
    printf("results:     schema_version %d\n", LB_RESULTS_SCHEMA_VERSION);
    printf("built with:  %s, jansson %s, llhttp %d.%d.%d\n",
#ifdef __VERSION__
           "cc " __VERSION__,
#else
           "cc",
#endif
           JANSSON_VERSION, LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH);
#if defined(__x86_64__)
    printf("coroutines:  x86-64 context switch\n");
#elif defined(__aarch64__)
    printf("coroutines:  aarch64 context switch\n");
#else
    printf("coroutines:  ucontext fallback\n");
#endif
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
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V") || !strcmp(argv[1], "version")) {
        print_version();
        return LB_EXIT_OK;
    }
    const lb_command *cmd = lb_command_find(argv[1]);
    if (cmd) return cmd->main(argc - 1, argv + 1);
    lb_suggester sg;
    lb_suggest_begin(&sg, argv[1], strlen(argv[1]));
    for (int i = 0; i < lb_command_count(); i++) lb_suggest_try(&sg, lb_command_at(i)->name);
    /* "--verison" is close to the options the top level takes. */
    if (argv[1][0] == '-') {
        lb_suggest_try(&sg, "--help");
        lb_suggest_try(&sg, "--version");
    }
    const char *hint = lb_suggest_best(&sg);
    if (hint)
        fprintf(stderr, "leakbench: unknown %s '%s' (did you mean '%s'?)\n",
                argv[1][0] == '-' ? "option" : "command", argv[1], hint);
    else
        fprintf(stderr, "leakbench: unknown command '%s'; `leakbench --help` lists them\n",
                argv[1]);
    return LB_EXIT_USAGE;
}
