/*
 * options_test.c — a bad command line gets one line naming the problem,
 * with "did you mean" for a misspelt option, and a hint pointing at
 * --help, never the whole usage: the message functions in-process, and
 * every subcommand (and the top level) through the built binary.
 */
#include "options.h"
#include "cli.h"
#include "core/test_util.h"

#include <string.h>

static const struct option opts[] = {
    {"duration", required_argument, NULL, 'd'}, {"quiet", no_argument, NULL, 'q'},
    {"alpha", required_argument, NULL, 'a'},    {"all-metrics", no_argument, NULL, 'A'},
    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
};

static void suggestions_come_from_the_long_options(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(lb_cli_suggest_option("--duraton", opts, buf, sizeof buf), "--duration");
    assert_string_equal(lb_cli_suggest_option("--quite=1", opts, buf, sizeof buf), "--quiet");
    assert_string_equal(lb_cli_suggest_option("-quiet", opts, buf, sizeof buf), "--quiet");
    assert_null(lb_cli_suggest_option("--frobnicate", opts, buf, sizeof buf));
    assert_null(lb_cli_suggest_option("--", opts, buf, sizeof buf));
    assert_null(lb_cli_suggest_option("--x", NULL, buf, sizeof buf));
}

/* Parses argv with opts the way the commands do; the message on a
 * memory stream. */
static int parse(char *out, size_t n, char **argv)
{
    int argc = 0;
    while (argv[argc]) argc++;
    FILE *f = fmemopen(out, n, "w");
    assert_non_null(f);
    optind = 0; /* glibc: 0 also forgets a cluster a previous case left half read */
    opterr = 0;
    int c, rc = 0;
    while ((c = getopt_long(argc, argv, ":d:qh", opts, NULL)) != -1)
        if (c == '?' || c == ':') {
            rc = lb_cli_bad_option(f, "run", c, argv, opts);
            break;
        }
    fclose(f);
    return rc;
}

static void each_mistake_is_one_line_and_a_hint(void **state)
{
    (void)state;
    char out[512];
    static const char *hint = "`leakbench run --help` lists the options\n";
    char want[512];
    struct {
        char *argv[4];
        const char *line;
    } cases[] = {
        {{"run", "--duraton", "5s", NULL},
         "unknown option '--duraton' (did you mean '--duration'?)"},
        {{"run", "--frobnicate", NULL}, "unknown option '--frobnicate'"},
        {{"run", "-qx", NULL}, "unknown option '-x'"},
        {{"run", "-quiet", NULL}, "unknown option '-u' in '-quiet' (did you mean '--quiet'?)"},
        {{"run", "--duration", NULL}, "option '--duration' needs a value"},
        {{"run", "-d", NULL}, "option '-d' needs a value"},
        {{"run", "--quiet=1", NULL}, "option '--quiet=1' takes no value"},
        {{"run", "--al", NULL}, "option '--al' is ambiguous (--alpha, --all-metrics)"},
        {{"run", "--dur\x1b[2J", NULL}, "unknown option '--dur\\x1b[2J'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(out, 0, sizeof out);
        assert_int_equal(parse(out, sizeof out, cases[i].argv), LB_EXIT_USAGE);
        snprintf(want, sizeof want, "leakbench run: %s\n%s", cases[i].line, hint);
        assert_string_equal(out, want);
    }
    /* Not an option: an argument a command does not take. */
    FILE *f = fmemopen(out, sizeof out, "w");
    assert_int_equal(lb_cli_unknown_option(f, "list", "extra", opts), LB_EXIT_USAGE);
    fclose(f);
    assert_string_equal(out, "leakbench list: unknown argument 'extra'\n"
                             "`leakbench list --help` lists the options\n");
}

static void every_command_suggests_its_options(void **state)
{
    (void)state;
    static const struct {
        const char *args, *want;
    } cases[] = {
        {"run --duraton 5s x.json", "leakbench run: unknown option '--duraton' (did you mean "
                                    "'--duration'?)\n`leakbench run --help` lists the options\n"},
        {"report --outptu d x", "leakbench report: unknown option '--outptu' (did you mean "
                                "'--output'?)\n`leakbench report --help` lists the options\n"},
        {"compare --nosie 0.1 a b", "leakbench compare: unknown option '--nosie' (did you mean "
                                    "'--noise'?)\n`leakbench compare --help` lists the options\n"},
        {"history --metirc x f", "leakbench history: unknown option '--metirc' (did you mean "
                                 "'--metric'?)\n`leakbench history --help` lists the options\n"},
        {"serve --lisen :0 timeout_leak",
         "leakbench serve: unknown option '--lisen' (did you mean '--listen'?)\n"
         "`leakbench serve --help` lists the options\n"},
        {"list --verbsoe", "leakbench list: unknown option '--verbsoe' (did you mean "
                           "'--verbose'?)\n`leakbench list --help` lists the options\n"},
        {"merge --outptu d a.json", "leakbench merge: unknown option '--outptu' (did you mean "
                                    "'--output'?)\n`leakbench merge --help` lists the options\n"},
        {"--verison", "leakbench: unknown option '--verison' (did you mean '--version'?)\n"},
    };
    char out[4096];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(lb_test_leakbench_output(cases[i].args, out, sizeof out), LB_EXIT_USAGE);
        assert_string_equal(out, cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(suggestions_come_from_the_long_options, lb_test_arm_timeout),
        cmocka_unit_test_setup(each_mistake_is_one_line_and_a_hint, lb_test_arm_timeout),
        cmocka_unit_test_setup(every_command_suggests_its_options, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
