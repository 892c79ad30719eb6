/*
 * words_test.c — shell-like word splitting without expansion (words.c):
 * blanks, both quotes, backslashes inside and outside quotes, empty
 * quoted words, nothing expanded, and every error with its position.
 */
#include "test_util.h"
#include "words.h"

#include <string.h>

static void expect_words(const char *text, const char *const *want, int n_want)
{
    char *w[16];
    int n = -1;
    char err[128] = "";
    int rc = lb_split_words(text, w, 16, &n, err, sizeof err);
    if (rc) print_error("%s: %s\n", text, err);
    assert_int_equal(rc, 0);
    assert_int_equal(n, n_want);
    for (int i = 0; i < n; i++) assert_string_equal(w[i], want[i]);
    lb_split_words_free(w, n);
}

static void expect_refused(const char *text, int max, const char *want)
{
    char *w[16];
    int n = -1;
    char err[128] = "";
    assert_int_equal(lb_split_words(text, w, max, &n, err, sizeof err), -EINVAL);
    assert_int_equal(n, 0);
    assert_string_equal(err, want);
}

static void splits_like_a_shell(void **state)
{
    (void)state;
    expect_words("", NULL, 0);
    expect_words(" \t\n", NULL, 0);
    expect_words("a  b\tc\nd", (const char *[]){"a", "b", "c", "d"}, 4);
    expect_words("'a b' \"c d\"", (const char *[]){"a b", "c d"}, 2);
    expect_words("x'a b'y\"c\"z", (const char *[]){"xa bycz"}, 1);
    expect_words("'' \"\"", (const char *[]){"", ""}, 2);
    expect_words("a\\ b \\'c\\\"", (const char *[]){"a b", "'c\""}, 2);
    expect_words("'\\n\\' x", (const char *[]){"\\n\\", "x"}, 2);
    expect_words("\"\\\" \\\\ \\$ \\` \\n\"", (const char *[]){"\" \\ $ ` \\n"}, 1);
    expect_words("a\\\nb", (const char *[]){"ab"}, 1);
    expect_words("\"a\\\nb\"", (const char *[]){"ab"}, 1);
}

static void expands_nothing(void **state)
{
    (void)state;
    expect_words("$HOME ~ *.c a;b |&", (const char *[]){"$HOME", "~", "*.c", "a;b", "|&"}, 5);
    expect_words("\"$HOME\" `id`", (const char *[]){"$HOME", "`id`"}, 2);
}

static void errors_name_the_position(void **state)
{
    (void)state;
    expect_refused("a 'b", 16, "character 3: the single quote is never closed");
    expect_refused("ab \"c", 16, "character 4: the double quote is never closed");
    expect_refused("a b\\", 16, "character 4: a backslash at the end (escapes nothing)");
    expect_refused("a b c", 2, "more than 2 words");
}

/* What lb_quote_word writes, lb_split_words reads back as the same word. */
static void quoted_words_split_back(void **state)
{
    (void)state;
    const char *words[] = {"plain-word_1.2:{port}", "a b", "it's", "", "$HOME", "\"q\"", "t\tab"};
    char quoted[64];
    assert_string_equal(lb_quote_word(words[0], quoted, sizeof quoted), words[0]);
    assert_string_equal(lb_quote_word(words[2], quoted, sizeof quoted), "'it'\\''s'");
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        lb_quote_word(words[i], quoted, sizeof quoted);
        expect_words(quoted, &words[i], 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(splits_like_a_shell),
        cmocka_unit_test(expands_nothing),
        cmocka_unit_test(errors_name_the_position),
        cmocka_unit_test(quoted_words_split_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
