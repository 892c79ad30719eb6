/*
 * color_test.c — the --color rule (auto, always, never; NO_COLOR, TERM=dumb,
 * not a terminal) and the painting functions with colour on and off: off,
 * every function writes the text unchanged.
 */
#include "color.h"
#include "test_util.h"

#include <errno.h>
#include <string.h>

static void modes_parse(void **state)
{
    (void)state;
    lb_color_mode m = LB_COLOR_NEVER;
    assert_int_equal(lb_color_mode_parse("auto", &m), 0);
    assert_int_equal(m, LB_COLOR_AUTO);
    assert_int_equal(lb_color_mode_parse("always", &m), 0);
    assert_int_equal(m, LB_COLOR_ALWAYS);
    assert_int_equal(lb_color_mode_parse("never", &m), 0);
    assert_int_equal(m, LB_COLOR_NEVER);
    assert_int_equal(lb_color_mode_parse("yes", &m), -EINVAL);
    assert_int_equal(lb_color_mode_parse("Always", &m), -EINVAL);
    assert_int_equal(lb_color_mode_parse("", &m), -EINVAL);
    assert_int_equal(lb_color_mode_parse(NULL, &m), -EINVAL);
}

static void auto_follows_the_terminal_and_no_color(void **state)
{
    (void)state;
    assert_true(lb_color_decide(LB_COLOR_AUTO, NULL, "xterm-256color", true));
    assert_false(lb_color_decide(LB_COLOR_AUTO, NULL, "xterm", false)); /* a pipe or file */
    assert_false(lb_color_decide(LB_COLOR_AUTO, "1", "xterm", true));   /* NO_COLOR */
    assert_true(lb_color_decide(LB_COLOR_AUTO, "", "xterm", true));     /* empty: unset */
    assert_false(lb_color_decide(LB_COLOR_AUTO, NULL, "dumb", true));
    assert_true(lb_color_decide(LB_COLOR_AUTO, NULL, NULL, true));
    /* An explicit choice wins over everything. */
    assert_true(lb_color_decide(LB_COLOR_ALWAYS, "1", "dumb", false));
    assert_false(lb_color_decide(LB_COLOR_NEVER, NULL, "xterm", true));
}

static void painting_on_and_off(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(lb_color_paint(buf, sizeof buf, false, LB_TONE_FAIL, "FAIL"), "FAIL");
    assert_string_equal(lb_color_paint(buf, sizeof buf, true, LB_TONE_FAIL, "FAIL"),
                        "\033[1;31mFAIL\033[0m");
    assert_string_equal(lb_color_paint(buf, sizeof buf, true, LB_TONE_PASS, "pass"),
                        "\033[32mpass\033[0m");
    assert_string_equal(lb_color_paint(buf, sizeof buf, true, LB_TONE_LEAKY, "leaky"),
                        "\033[31mleaky\033[0m");
    assert_string_equal(lb_color_paint(buf, sizeof buf, true, LB_TONE_GRACEFUL, "graceful"),
                        "\033[34mgraceful\033[0m");
    /* No tone: nothing to paint even with colour on. */
    assert_string_equal(lb_color_paint(buf, sizeof buf, true, LB_TONE_COUNT, "x"), "x");
    assert_string_equal(lb_color_start(false, LB_TONE_IMPROVED), "");
    assert_string_equal(lb_color_end(false), "");
    assert_string_equal(lb_color_start(true, LB_TONE_IMPROVED), "\033[32m");
    assert_string_equal(lb_color_start(true, LB_TONE_REGRESSED), "\033[1;31m");
    assert_string_equal(lb_color_end(true), "\033[0m");
}

static void variants_are_found_as_words(void **state)
{
    (void)state;
    assert_int_equal(lb_color_variant_tone("leaky"), LB_TONE_LEAKY);
    assert_int_equal(lb_color_variant_tone("graceful"), LB_TONE_GRACEFUL);
    assert_int_equal(lb_color_variant_tone("Leaky"), LB_TONE_COUNT);
    assert_int_equal(lb_color_variant_named("Before fix (leaky)"), LB_TONE_LEAKY);
    assert_int_equal(lb_color_variant_named("After fix (graceful)"), LB_TONE_GRACEFUL);
    assert_int_equal(lb_color_variant_named("graceful rep 0"), LB_TONE_GRACEFUL);
    assert_int_equal(lb_color_variant_named("graceful beats leaky"), LB_TONE_GRACEFUL);
    assert_int_equal(lb_color_variant_named("leaky_worker"), LB_TONE_COUNT);
    assert_int_equal(lb_color_variant_named("ungraceful"), LB_TONE_COUNT);
    assert_int_equal(lb_color_variant_named("Metric"), LB_TONE_COUNT);
    assert_int_equal(lb_color_variant_named(""), LB_TONE_COUNT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(modes_parse, lb_test_arm_timeout),
        cmocka_unit_test_setup(auto_follows_the_terminal_and_no_color, lb_test_arm_timeout),
        cmocka_unit_test_setup(painting_on_and_off, lb_test_arm_timeout),
        cmocka_unit_test_setup(variants_are_found_as_words, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
