/*
 * options.c — one message for a bad command line, in every subcommand
 * (options.h).
 *
 * How it works: getopt_long, with opterr = 0, leaves what went wrong in
 * optind and optopt.  An unknown long option or a missing value has just
 * been consumed, so the word the user typed is argv[optind - 1]; an
 * unknown short option may sit inside a cluster ("-qx"), so it is named by
 * optopt instead, and its word is argv[optind] while getopt is still
 * inside it.  Suggestions come from the long option names only: a
 * mistyped one-letter option is just another letter.
 */
#include "options.h"
#include "cli.h"
#include "core/suggest.h"
#include "core/units.h"

#include <stdbool.h>
#include <string.h>

const char *lb_cli_suggest_option(const char *typed, const struct option *longopts, char *buf,
                                  size_t n)
{
    if (!longopts || !typed) return NULL;
    const char *name = typed + strspn(typed, "-");
    size_t len = strcspn(name, "=");
    if (!len) return NULL;
    lb_suggester sg;
    lb_suggest_begin(&sg, name, len);
    for (const struct option *o = longopts; o->name; o++) {
        /* "-quiet": a long option written with one dash. */
        if (name == typed + 1 && strlen(o->name) == len && !strncmp(o->name, name, len)) {
            snprintf(buf, n, "--%s", o->name);
            return buf;
        }
        lb_suggest_try(&sg, o->name);
    }
    const char *best = lb_suggest_best(&sg);
    if (!best) return NULL;
    snprintf(buf, n, "--%s", best);
    return buf;
}

/* getopt_long takes a unique prefix ("--dur"); one that starts more than
 * one long option ("--al": --alpha, --all-metrics) is refused as '?' like
 * an unknown one.  True, with the candidates in buf, for that case. */
static bool ambiguous_prefix(const char *word, const struct option *longopts, char *buf, size_t n)
{
    if (!longopts || strncmp(word, "--", 2)) return false;
    const char *name = word + 2;
    size_t len = strcspn(name, "="), used = 0;
    int matches = 0;
    buf[0] = 0;
    for (const struct option *o = longopts; o->name && len; o++) {
        if (strncmp(o->name, name, len)) continue;
        matches++;
        if (used < n)
            used += (size_t)snprintf(buf + used, n - used, "%s--%s", used ? ", " : "", o->name);
    }
    return matches > 1;
}

int lb_cli_color_option(const char *cmd, const char *when, lb_color_mode *mode)
{
    if (!lb_color_mode_parse(when, mode)) return 0;
    char shown[128];
    fprintf(stderr, "leakbench %s: --color: '%s' is not auto, always or never\n", cmd,
            lb_escape_controls(shown, sizeof shown, when));
    return LB_EXIT_USAGE;
}

static void print_hint(FILE *err, const char *cmd)
{
    fprintf(err, "`leakbench %s --help` lists the options\n", cmd);
}

int lb_cli_unknown_option(FILE *err, const char *cmd, const char *arg,
                          const struct option *longopts)
{
    char shown[128], hint[80];
    lb_escape_controls(shown, sizeof shown, arg);
    const char *best =
        arg[0] == '-' ? lb_cli_suggest_option(arg, longopts, hint, sizeof hint) : NULL;
    if (best)
        fprintf(err, "leakbench %s: unknown %s '%s' (did you mean '%s'?)\n", cmd,
                arg[0] == '-' ? "option" : "argument", shown, best);
    else
        fprintf(err, "leakbench %s: unknown %s '%s'\n", cmd, arg[0] == '-' ? "option" : "argument",
                shown);
    print_hint(err, cmd);
    return LB_EXIT_USAGE;
}

int lb_cli_bad_option(FILE *err, const char *cmd, int c, char **argv, const struct option *longopts)
{
    const char *word = optind > 0 ? argv[optind - 1] : "";
    char shown[128];
    if (c == ':') {
        /* "--reps" at the end, or "-o" at the end. */
        fprintf(err, "leakbench %s: option '%s' needs a value\n", cmd,
                lb_escape_controls(shown, sizeof shown, word));
        print_hint(err, cmd);
        return LB_EXIT_USAGE;
    }
    if (optopt && !(word[0] == '-' && word[1] == '-')) {
        char shortopt[3] = {'-', (char)optopt, 0}, hint[80];
        /* Inside a cluster getopt has not moved past the word yet. */
        const char *cur = argv[optind];
        if (cur && cur[0] == '-' && cur[1] != '-' && strchr(cur + 1, optopt)) word = cur;
        /* "-quiet" is read as -q -u -i...: say what was probably meant. */
        if (strlen(word) > 2 && lb_cli_suggest_option(word, longopts, hint, sizeof hint)) {
            fprintf(err, "leakbench %s: unknown option '%s' in '%s' (did you mean '%s'?)\n", cmd,
                    shortopt, lb_escape_controls(shown, sizeof shown, word), hint);
            print_hint(err, cmd);
            return LB_EXIT_USAGE;
        }
        return lb_cli_unknown_option(err, cmd, shortopt, NULL);
    }
    if (optopt && word[0] == '-' && word[1] == '-') {
        /* A long option that takes no value was given one: "--quiet=1". */
        fprintf(err, "leakbench %s: option '%s' takes no value\n", cmd,
                lb_escape_controls(shown, sizeof shown, word));
        print_hint(err, cmd);
        return LB_EXIT_USAGE;
    }
    char ambiguous[200];
    if (ambiguous_prefix(word, longopts, ambiguous, sizeof ambiguous)) {
        fprintf(err, "leakbench %s: option '%s' is ambiguous (%s)\n", cmd,
                lb_escape_controls(shown, sizeof shown, word), ambiguous);
        print_hint(err, cmd);
        return LB_EXIT_USAGE;
    }
    return lb_cli_unknown_option(err, cmd, word, longopts);
}
