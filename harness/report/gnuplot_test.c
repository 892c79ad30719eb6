/*
 * gnuplot_test.c — tests for gnuplot.h against the real gnuplot.
 *
 * Quoting: a corpus of hostile strings (quotes at the start, doubled and
 * tripled, backquotes, @macros — also after an odd number of quotes, as
 * gnuplot's macro expander counts quotes on its own —, !shell lines,
 * system() calls that try to break out of the literal, newlines, control bytes, valid and invalid
 * UTF-8) is each assigned through lb_gnuplot_set_string, printed back by
 * gnuplot with `set print` and drawn as a chart title.  Every string must
 * come back as the same text (control bytes as spaces, invalid UTF-8 as
 * '?'), the chart must render, and no marker file an injected command
 * would create may exist.  detector_catches_naive_quoting shows the check
 * can fail: the same corpus entry quoted naively ('...') does create its
 * marker.
 * Launching: a script that fails (status and gnuplot's own message in the
 * reason), one that runs past its time limit (killed, -ETIMEDOUT), and a
 * PATH without gnuplot (-ENOENT).  Staging: an empty image is not moved
 * over a good one, and the staging directory is removed.
 * Needs gnuplot (the Debian package gnuplot-nox); without it the gnuplot
 * tests are skipped with a message saying so.
 */
#include "gnuplot.h"
#include "core/test_util.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

static char tmpdir[64];

static int setup(void **state)
{
    lb_test_arm_timeout(state);
    lb_test_make_tmpdir(tmpdir, sizeof tmpdir, "gnuplot");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return lb_test_remove_tree(tmpdir);
}

static void need_gnuplot(void)
{
    if (!lb_on_path("gnuplot")) {
        print_message("skip reason: gnuplot is not installed (apt-get install gnuplot-nox)\n");
        skip();
    }
}

static char *quoted(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lb_gnuplot_quote(f, s);
    fclose(f);
    return buf;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ------------------------------------------------------------ quoting -- */

static void quote_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", "''"},
        {"plain", "'plain'"},
        {"it's", "'it' . \"''\"[1:1] . 's'"},
        {"it''s", "'it' . \"''\" . 's'"},
        {"'a", "\"''\"[1:1] . 'a'"},
        {"a'''b", "'a' . \"''''\"[1:3] . 'b'"},
        {"a\nb\tc\x7f", "'a b c '"},
        {"`x` @y !z", "'`x` @y !z'"},
        {"\xc3", "'?'"},                           /* a cut-off sequence */
        {"na\xc3\xafve \xff", "'na\xc3\xafve ?'"}, /* valid kept, invalid replaced */
        {"\xed\xa0\x80", "'?\?\?'"},               /* a UTF-16 surrogate is not UTF-8 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *q = quoted(cases[i].in);
        assert_string_equal(q, cases[i].out);
        free(q);
    }
    char *q = quoted(NULL);
    assert_string_equal(q, "''");
    free(q);
}

/* What gnuplot must print back for IN: control bytes as spaces, bytes
 * that are not UTF-8 as '?', one per byte (the corpus's only non-UTF-8
 * bytes are 0xff, 0xfe and a cut-off 0xe2 0x80 at the end). */
static void expected_text(const char *in, char *out, size_t n)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 1 < n; p++) {
        if (*p < 0x20 || *p == 0x7f)
            out[o++] = ' ';
        else if (*p == 0xff || *p == 0xfe || (*p == 0xe2 && p[1] == 0x80 && !p[2]) ||
                 (*p == 0x80 && !p[1] && p[-1] == 0xe2))
            out[o++] = '?';
        else
            out[o++] = (char)*p;
    }
    out[o] = 0;
}

/* The corpus; MARK stands for a marker file's path. */
static const char *const corpus[] = {
    "it's",
    "it''s",
    "'",
    "''",
    "'''",
    "'starts with a quote",
    "ends with a quote'",
    "a''''b",
    "`touch MARK`",
    "\"`touch MARK`\"",
    "@macro",
    "@x @@ @",
    "it's @x",
    "'@x'",
    "a'b @x `touch MARK` c'd",
    "' @x ''' @y '' @x",
    "\"'\" @x",
    "!touch MARK",
    "\n!touch MARK\n",
    "x'; system(\"touch MARK\"); print '",
    "' . system('touch MARK') . '",
    "'' . system('touch MARK') . ''",
    "\" . system(\"touch MARK\") . \"",
    "\\' . system('touch MARK') . '",
    "\\",
    "\\n \\t \\\"",
    "%s %d %%",
    "{/Symbol a} ^2 _x &{y}",
    "line one\r\nset output 'MARK'",
    "\x01\x02\x1b[31mred\x7f",
    "na\xc3\xafve \xe2\x80\x94 \xe6\xbc\xa2\xe5\xad\x97 \xf0\x9f\x98\x80",
    "bad \xff\xfe bytes",
    "cut \xe2\x80",
    "",
};
#define CORPUS_N (sizeof corpus / sizeof corpus[0])

/* CORPUS[i] with MARK replaced by the marker's path. */
static void corpus_string(size_t i, const char *marker, char *out, size_t n)
{
    const char *s = corpus[i], *m;
    size_t o = 0;
    while ((m = strstr(s, "MARK"))) {
        o += (size_t)snprintf(out + o, n - o, "%.*s%s", (int)(m - s), s, marker);
        s = m + 4;
    }
    snprintf(out + o, n - o, "%s", s);
}

/* Runs a script assigning S (with QUOTE) and printing and drawing it;
 * returns lb_gnuplot_run's result and leaves the printed text in
 * DIR/printed.txt. */
static int gnuplot_with_string(const char *dir, const char *s, void (*quote)(FILE *, const char *),
                               char *msg, size_t msglen)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    /* x and y are string variables, so an @x that the macro expander
     * reached would show as EXPANDED in the printed text. */
    fputs("set encoding utf8\nx = 'EXPANDED'\ny = 'EXPANDED'\ns = ", f);
    quote(f, s);
    fputs("\nset print 'printed.txt'\nprint s\nunset print\n"
          "set terminal pngcairo size 400,200 noenhanced\nset output 'title.png'\n"
          "set title s noenhanced\nplot x title s\nunset output\n",
          f);
    fclose(f);
    write_file(dir, "s.gp", buf);
    free(buf);
    return lb_gnuplot_run(dir, "s.gp", 30, msg, msglen);
}

static void hostile_corpus_renders_as_text(void **state)
{
    (void)state;
    need_gnuplot();
    char marker[128], s[512], want[512], msg[1024], path[256];
    snprintf(marker, sizeof marker, "%s/INJECTED", tmpdir);
    for (size_t i = 0; i < CORPUS_N; i++) {
        corpus_string(i, marker, s, sizeof s);
        int rc = gnuplot_with_string(tmpdir, s, lb_gnuplot_quote, msg, sizeof msg);
        if (rc) fail_msg("corpus[%zu]: gnuplot failed: %s", i, msg);
        if (exists(marker)) fail_msg("corpus[%zu] executed a command: %s exists", i, marker);
        snprintf(path, sizeof path, "%s/printed.txt", tmpdir);
        expected_text(s, want, sizeof want);
        strcat(want, "\n");
        assert_string_equal(lb_test_slurp(path), want);
        snprintf(path, sizeof path, "%s/title.png", tmpdir);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size > 0);
        unlink(path);
    }
    /* A long string of nothing but quotes and text. */
    char *longs = malloc(20001);
    for (int i = 0; i < 20000; i++) longs[i] = i % 3 ? '\'' : 'a';
    longs[20000] = 0;
    assert_int_equal(gnuplot_with_string(tmpdir, longs, lb_gnuplot_quote, msg, sizeof msg), 0);
    snprintf(path, sizeof path, "%s/printed.txt", tmpdir);
    char *printed = lb_test_slurp(path);
    assert_int_equal(strlen(printed), 20001);
    assert_memory_equal(printed, longs, 20000);
    free(longs);
}

static void naive_quote(FILE *f, const char *s)
{
    fprintf(f, "'%s'", s);
}

/* The detector above is real: quoting naively lets the same corpus entry
 * run its command. */
static void detector_catches_naive_quoting(void **state)
{
    (void)state;
    need_gnuplot();
    char marker[128], s[512], msg[1024];
    snprintf(marker, sizeof marker, "%s/INJECTED", tmpdir);
    size_t i = 0;
    while (i < CORPUS_N && strcmp(corpus[i], "' . system('touch MARK') . '")) i++;
    assert_true(i < CORPUS_N);
    corpus_string(i, marker, s, sizeof s);
    gnuplot_with_string(tmpdir, s, naive_quote, msg, sizeof msg);
    assert_true(exists(marker));
    /* And gnuplot 5.4 rejects the old doubling rule ('it''''s'). */
    assert_int_equal(gnuplot_with_string(tmpdir, "it''''s", naive_quote, msg, sizeof msg), -ECHILD);
}

/* ---------------------------------------------------------- launching -- */

static void failure_reason_has_gnuplots_message(void **state)
{
    (void)state;
    need_gnuplot();
    char msg[1024];
    write_file(tmpdir, "bad.gp", "print 1\nthis is not a gnuplot command\n");
    assert_int_equal(lb_gnuplot_run(tmpdir, "bad.gp", 30, msg, sizeof msg), -ECHILD);
    assert_non_null(strstr(msg, "gnuplot exited with status 1"));
    assert_non_null(strstr(msg, "bad.gp"));
    assert_non_null(strstr(msg, "line 2"));
}

static void time_limit_kills(void **state)
{
    (void)state;
    need_gnuplot();
    char msg[1024];
    write_file(tmpdir, "slow.gp", "pause 30\n");
    assert_int_equal(lb_gnuplot_run(tmpdir, "slow.gp", 1, msg, sizeof msg), -ETIMEDOUT);
    assert_non_null(strstr(msg, "did not finish within 1 s"));
}

static void missing_gnuplot(void **state)
{
    (void)state;
    char msg[1024], *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    write_file(tmpdir, "ok.gp", "print 1\n");
    setenv("PATH", "/nonexistent", 1);
    assert_false(lb_on_path("gnuplot"));
    int rc = lb_gnuplot_run(tmpdir, "ok.gp", 30, msg, sizeof msg);
    if (old) setenv("PATH", old, 1);
    free(old);
    assert_int_equal(rc, -ENOENT);
    assert_non_null(strstr(msg, "cannot run gnuplot"));
}

/* ------------------------------------------------------------ staging -- */

/* The first and the last bytes of a PNG: the signature and an IEND chunk
 * (write_file writes up to the first NUL: none inside these). */
#define PNG           "\x89PNG\r\n\x1a\n...IEND\xae\x42\x60\x82"
#define PNG_CUT_SHORT "\x89PNG\r\n\x1a\n...IDAT\x01\x02"

static void empty_or_cut_short_image_never_replaces_a_good_one(void **state)
{
    (void)state;
    char dest[128], path[256];
    snprintf(dest, sizeof dest, "%s/dest", tmpdir);
    assert_int_equal(mkdir(dest, 0755), 0);
    write_file(dest, "chart.png", "GOOD");
    lb_gnuplot_stage stage;
    assert_int_equal(lb_gnuplot_stage_open(&stage, dest, "charts"), 0);
    assert_int_equal(lb_gnuplot_stage_mkdir(&stage, "data"), 0);
    assert_int_equal(lb_gnuplot_stage_write(&stage, "data/x.dat", "1 2\n", 4), 0);
    assert_int_equal(lb_gnuplot_stage_expect(&stage, "chart.png"), 0);
    assert_int_equal(lb_gnuplot_stage_expect(&stage, "other.png"), 0);
    assert_int_equal(lb_gnuplot_stage_expect(&stage, "cut.png"), 0);
    assert_int_equal(lb_gnuplot_stage_expect(&stage, "cut.svg"), 0);
    assert_int_equal(lb_gnuplot_stage_expect(&stage, "whole.svg"), 0);
    write_file(stage.dir, "chart.png", "");              /* rendered empty (a full disk) */
    write_file(stage.dir, "other.png", PNG);             /* rendered */
    write_file(stage.dir, "cut.png", PNG_CUT_SHORT);     /* a full disk, gnuplot exiting 0 */
    write_file(stage.dir, "cut.svg", "<svg><g></g>");    /* the same */
    write_file(stage.dir, "whole.svg", "<svg></svg>\n"); /* rendered */
    char staging[4096];
    snprintf(staging, sizeof staging, "%s", stage.dir);
    int moved = -1;
    assert_int_equal(lb_gnuplot_stage_finish(&stage, dest, LB_GNUPLOT_KEEP_ALL, &moved), 0);
    assert_int_equal(moved, 2);
    snprintf(path, sizeof path, "%s/chart.png", dest);
    assert_string_equal(lb_test_slurp(path), "GOOD");
    snprintf(path, sizeof path, "%s/other.png", dest);
    assert_true(exists(path));
    snprintf(path, sizeof path, "%s/whole.svg", dest);
    assert_true(exists(path));
    snprintf(path, sizeof path, "%s/cut.png", dest);
    assert_false(exists(path));
    snprintf(path, sizeof path, "%s/cut.svg", dest);
    assert_false(exists(path));
    snprintf(path, sizeof path, "%s/data/x.dat", dest);
    assert_string_equal(lb_test_slurp(path), "1 2\n");
    assert_false(exists(staging));

    /* Inputs only: images stay out even when they rendered. */
    assert_int_equal(lb_gnuplot_stage_open(&stage, dest, "charts"), 0);
    assert_int_equal(lb_gnuplot_stage_expect(&stage, "third.png"), 0);
    write_file(stage.dir, "third.png", PNG);
    snprintf(staging, sizeof staging, "%s", stage.dir);
    assert_int_equal(lb_gnuplot_stage_finish(&stage, dest, LB_GNUPLOT_KEEP_INPUTS, &moved), 0);
    assert_int_equal(moved, 0);
    snprintf(path, sizeof path, "%s/third.png", dest);
    assert_false(exists(path));
    assert_false(exists(staging));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(quote_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(hostile_corpus_renders_as_text, setup, teardown),
        cmocka_unit_test_setup_teardown(detector_catches_naive_quoting, setup, teardown),
        cmocka_unit_test_setup_teardown(failure_reason_has_gnuplots_message, setup, teardown),
        cmocka_unit_test_setup_teardown(time_limit_kills, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_gnuplot, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_or_cut_short_image_never_replaces_a_good_one, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
