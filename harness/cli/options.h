/*
 * options.h — what every subcommand says about a command line it cannot
 * take: one line naming the problem, with "did you mean" when a misspelt
 * option is close to a real one (core/suggest.h), and one line pointing at
 * `leakbench CMD --help` — never the whole usage.
 *
 *   leakbench run: unknown option '--duraton' (did you mean '--duration'?)
 *   `leakbench run --help` lists the options
 *
 * Commands parse with getopt_long, an optstring starting with ':' and
 * opterr = 0, so getopt reports a missing value as ':' and prints nothing
 * itself.
 */
#ifndef LEAKBENCH_OPTIONS_H
#define LEAKBENCH_OPTIONS_H

#include "core/color.h"

#include <getopt.h>
#include <stdio.h>

/* After getopt_long returned c = '?' (unknown option) or ':' (missing
 * value): prints the two lines on err for command cmd and returns
 * LB_EXIT_USAGE.  longopts may be NULL. */
int lb_cli_bad_option(FILE *err, const char *cmd, int c, char **argv,
                      const struct option *longopts);

/* An argument a command does not take, for a command that reads its
 * arguments itself (`list`): the same two lines. */
int lb_cli_unknown_option(FILE *err, const char *cmd, const char *arg,
                          const struct option *longopts);

/* The closest long option to TYPED ("--duraton", "--out=x"), as
 * "--duration", or NULL when none is close (lb_suggest_best's rule).
 * Writes into buf (size n). */
const char *lb_cli_suggest_option(const char *typed, const struct option *longopts, char *buf,
                                  size_t n);

/* --color WHEN: 0 with *mode set, or LB_EXIT_USAGE after saying on
 * stderr what WHEN may be. */
int lb_cli_color_option(const char *cmd, const char *when, lb_color_mode *mode);

#endif
