/*
 * suggest_test.c — the one "did you mean" rule (suggest.h): close names
 * are suggested, exact and far ones are not, short typos are judged by
 * their length, and the closest of several candidates wins.
 */
#include "suggest.h"
#include "test_util.h"

#include <stdint.h>
#include <string.h>

static const char *suggest(const char *typed, const char *const *names)
{
    lb_suggester s;
    lb_suggest_begin(&s, typed, strlen(typed));
    for (; *names; names++) lb_suggest_try(&s, *names);
    return lb_suggest_best(&s);
}

static void edit_distance_counts_edits(void **state)
{
    (void)state;
    assert_int_equal(lb_edit_distance("run", 3, "run", 3), 0);
    assert_int_equal(lb_edit_distance("rn", 2, "run", 3), 1);
    assert_int_equal(lb_edit_distance("reprot", 6, "report", 6), 2);
    assert_int_equal(lb_edit_distance("", 0, "abc", 3), 3);
    char longer[80];
    memset(longer, 'a', sizeof longer);
    assert_true(lb_edit_distance(longer, 64, "a", 1) == SIZE_MAX);
}

static void close_names_are_suggested_far_ones_not(void **state)
{
    (void)state;
    const char *commands[] = {"run", "list", "validate", "report", "compare", "history", NULL};
    assert_string_equal(suggest("rn", commands), "run");
    assert_string_equal(suggest("reprot", commands), "report");
    assert_string_equal(suggest("compar", commands), "compare");
    assert_string_equal(suggest("hisotry", commands), "history");
    assert_null(suggest("run", commands));    /* exact: nothing to suggest */
    assert_null(suggest("x", commands));      /* one letter is no evidence */
    assert_null(suggest("deploy", commands)); /* too far from everything */
    const char *metrics[] = {"peak_tasks", "peak_rss_mib", "final_tasks", NULL};
    assert_string_equal(suggest("peak_taks", metrics), "peak_tasks");
    assert_string_equal(suggest("final_task", metrics), "final_tasks");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(edit_distance_counts_edits),
        cmocka_unit_test(close_names_are_suggested_far_ones_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
