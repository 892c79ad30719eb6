/*
 * leakreport_test.c — the leak report: grouping, ages, growth, hints, the
 * results.json object and how the terminal shows it, from hand-made snapshots (no
 * runtime needed: a snapshot is plain data).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "leakreport.h"
#include "report/report_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S(ms) ((rt_time)(ms)*1000000LL)

static const rt_site send_site = {"scenarios/early_return.c", 87, "leaky_fetch"};
static const rt_site spawn_site = {"scenarios/early_return.c", 97, "leaky_serve"};
static const rt_site lock_site = {"scenarios/lock_leak.c", 111, "leaky_record_bump_version"};

static const lb_scenario fake_early_return = {
    .name = "early_return",
    .pattern = 2,
    .title = "early return",
    .fix = "buffer of one",
};

static rt_task_info blocked(uint64_t id, rt_op op, rt_site site, rt_time since)
{
    rt_task_info t = {0};
    t.id = id;
    t.role = op == RT_OP_LOCK ? "worker" : "fetch";
    t.spawn_site = spawn_site;
    t.op = op;
    t.block_site = site;
    t.blocked_since = since;
    t.has_chan = op == RT_OP_SEND;
    t.chan_cap = 0;
    t.chan_send_waiters = 1;
    t.held_bytes = 65536;
    return t;
}

/* Five senders that blocked at 0, 1, 2, 3 and 4 s, two lockers, and the
 * reporting task itself (id 99). */
static size_t sample(rt_task_info *t)
{
    size_t n = 0;
    for (int i = 0; i < 5; i++)
        t[n++] = blocked(10 + (uint64_t)i, RT_OP_SEND, send_site, S(i * 1000));
    t[n++] = blocked(20, RT_OP_LOCK, lock_site, S(2500));
    t[n++] = blocked(21, RT_OP_LOCK, lock_site, S(2500));
    rt_task_info self = {0};
    self.id = 99;
    self.role = "main";
    t[n++] = self;
    return n;
}

static void groups_count_age_and_growth(void **state)
{
    (void)state;
    rt_task_info t[16];
    size_t n = sample(t);
    lb_leak_report r;
    assert_int_equal(lb_leak_group_tasks(t, n, n, 99, S(5000), &r), 0);
    assert_int_equal(r.total, 7);
    assert_int_equal(r.n_groups, 2);
    const lb_leak_group *g = &r.groups[0]; /* the largest first */
    assert_int_equal(g->op, RT_OP_SEND);
    assert_int_equal(g->count, 5);
    assert_int_equal(g->site.line, 87);
    assert_string_equal(g->role, "fetch");
    assert_true(g->oldest_ms > 4999 && g->oldest_ms < 5001);
    assert_true(g->median_ms > 2999 && g->median_ms < 3001);
    /* 4 more tasks joined over 4 s. */
    assert_true(g->growth_per_s > 0.999 && g->growth_per_s < 1.001);
    assert_int_equal(g->held_bytes, 5 * 65536);
    assert_int_equal(g->example_id, 10);
    /* Two tasks that blocked at the same instant: growth unknown. */
    assert_true(r.groups[1].growth_per_s < 0);
}

static void sleeping_loops_have_no_growth(void **state)
{
    (void)state;
    rt_task_info t[3];
    for (int i = 0; i < 3; i++) {
        t[i] = blocked(30 + (uint64_t)i, RT_OP_SLEEP, lock_site, S(100 * i));
        t[i].has_chan = false;
    }
    lb_leak_report r;
    assert_int_equal(lb_leak_group_tasks(t, 3, 3, 99, S(1000), &r), 0);
    assert_int_equal(r.groups[0].count, 3);
    assert_true(r.groups[0].growth_per_s < 0);
}

static void hint_names_the_scenario_pattern_at_its_own_site(void **state)
{
    (void)state;
    rt_task_info t[16];
    size_t n = sample(t);
    lb_leak_report r;
    assert_int_equal(lb_leak_group_tasks(t, n, n, 99, S(5000), &r), 0);
    char hint[512];
    lb_leak_hint(&r.groups[0], &fake_early_return, hint, sizeof hint);
    assert_non_null(strstr(hint, "unbuffered channel"));
    assert_non_null(strstr(hint, "no cancellation case"));
    assert_non_null(strstr(hint, "Pattern 2 (early return)"));
    assert_non_null(strstr(hint, "fix: buffer of one"));
    /* The lock group is in another file: inferred from the operation. */
    lb_leak_hint(&r.groups[1], &fake_early_return, hint, sizeof hint);
    assert_null(strstr(hint, "Pattern 2"));
    assert_non_null(strstr(hint, "pattern 10"));
    /* A full buffered channel points at admission control. */
    lb_leak_group full = r.groups[0];
    full.chan_cap = 16;
    full.chan_len = 16;
    lb_leak_hint(&full, NULL, hint, sizeof hint);
    assert_non_null(strstr(hint, "full buffered channel (16 of 16)"));
    assert_non_null(strstr(hint, "pattern 12"));
    /* A tiny buffer still gets a terminated string. */
    char tiny[8];
    lb_leak_hint(&full, NULL, tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

/* Without the scenario's own site the hint names the patterns whose leak
 * signature (lb_scenario.leak) matches the operation — the same text the
 * report gave when leakreport.c kept its own copy of the catalogue. */
static void hint_from_the_scenarios_leak_signatures(void **state)
{
    (void)state;
    static const struct {
        int op;
        int chan_cap, chan_len;
        const char *likely;
    } cases[] = {
        {RT_OP_SEND, 16, 16,
         "pattern 12 (unbounded spawn into a full queue): admission control; give every send a "
         "deadline and reject what cannot be queued"},
        {RT_OP_SEND, 0, 0,
         "patterns 1-4, 6, 8 (a sender nobody receives from): send in a select on the context, or "
         "give the channel the buffer every sender needs"},
        {RT_OP_RECV, 0, 0,
         "patterns 5, 7, 9 (a receiver waiting for a close, stop or cancel that never comes): "
         "close or cancel on every path, and receive in a select on the context"},
        {RT_OP_SELECT, 0, 0, "add the request's or the owner's context as a case of the select"},
        {RT_OP_LOCK, 0, 0,
         "pattern 10 (lock leak): one lock per path, unlock on every path, and lock with a "
         "context"},
        {RT_OP_WAITGROUP, 0, 0,
         "pattern 11 (wait-group mismatch): add() before spawn, done() in cleanup on every path, "
         "and wait with a context"},
        {RT_OP_JOIN, 0, 0,
         "cancel the group before joining it, and let every child watch its context"},
        {RT_OP_SLEEP, 0, 0,
         "pattern 13 (timer never stopped): let the owner's scope stop and join the loop"},
        {RT_OP_RUNNING, 0, 0,
         "pattern 13 (timer never stopped): let the owner's scope stop and join the loop"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lb_leak_group g;
        memset(&g, 0, sizeof g);
        g.op = cases[i].op;
        g.has_chan = cases[i].op == RT_OP_SEND;
        g.chan_cap = cases[i].chan_cap;
        g.chan_len = cases[i].chan_len;
        char hint[512];
        lb_leak_hint(&g, NULL, hint, sizeof hint);
        const char *likely = strstr(hint, ". Likely ");
        if (!likely || strcmp(likely + 9, cases[i].likely))
            fail_msg("op %d: hint \"%s\", expected \"... Likely %s\"", cases[i].op, hint,
                     cases[i].likely);
    }
}

static void json_has_growth_hint_and_more_like_it(void **state)
{
    (void)state;
    rt_task_info t[16];
    size_t n = sample(t);
    lb_leak_report r;
    assert_int_equal(lb_leak_group_tasks(t, n, n, 99, S(5000), &r), 0);
    json_t *j = lb_leak_report_to_json(&r, &fake_early_return);
    assert_non_null(j);
    json_t *g0 = json_array_get(json_object_get(j, "groups"), 0);
    json_t *g1 = json_array_get(json_object_get(j, "groups"), 1);
    assert_true(json_is_real(json_object_get(g0, "growth_per_s")));
    assert_true(json_is_null(json_object_get(g1, "growth_per_s")));
    assert_int_equal(json_integer_value(json_object_get(g0, "more_like_it")), 4);
    assert_non_null(strstr(json_string_value(json_object_get(g0, "hint")), "Pattern 2"));
    json_decref(j);
}

/* The grouped snapshot as the terminal shows it: through results.json's
 * "leaks" object and the shared leak-report content (report_scenario.c). */
static void terminal_text_shows_site_example_and_the_rest(void **state)
{
    (void)state;
    rt_task_info t[16];
    size_t n = sample(t);
    lb_leak_report r;
    assert_int_equal(lb_leak_group_tasks(t, n, n, 99, S(5000), &r), 0);
    json_t *scenario = json_pack("{s:s, s:[{s:s, s:i, s:s, s:o}]}", "name", "early_return", "runs",
                                 "variant", "leaky", "rep", 0, "status", "completed", "leaks",
                                 lb_leak_report_to_json(&r, &fake_early_return));
    assert_non_null(scenario);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    lb_doc d = {.ops = &lb_doc_text, .out = out};
    lb_view_leak_report(&d, scenario, 1);
    fclose(out);
    json_decref(scenario);
    assert_int_equal(d.err, 0);
    assert_non_null(strstr(text, "leaky, repetition 0: 7 tasks still blocked at the end, in 2 "
                                 "groups by blocking site."));
    assert_non_null(strstr(text, "  #1 5 × send in leaky_fetch (scenarios/early_return.c:87)\n"));
    assert_non_null(strstr(text, "      Growth: 1 tasks/s"));
    assert_non_null(strstr(text, "      Channel: capacity 0, length 0, open, 1 waiting sender, "));
    assert_non_null(strstr(text, "      Example: task 10, blocked 5 s; 4 more like it\n"));
    assert_non_null(strstr(text, "... 1 more group with 2 tasks (all in results.json)."));
    free(text);
}

/* More distinct sites than LB_LEAK_MAX_GROUPS: the smallest are folded
 * into one last "(other)" group that keeps their count and oldest age. */
static void groups_beyond_the_limit_are_folded(void **state)
{
    (void)state;
    enum { SITES = LB_LEAK_MAX_GROUPS + 8 };
    rt_task_info t[2 * SITES];
    size_t n = 0;
    for (int i = 0; i < SITES; i++) {
        rt_site site = {"scenarios/early_return.c", 100 + i, "leaky_fetch"};
        /* The first site has two tasks, so it sorts first. */
        for (int k = 0; k < (i == 0 ? 2 : 1); k++)
            t[n] = blocked(n + 1, RT_OP_SEND, site, S(i)), n++;
    }
    lb_leak_report r;
    assert_int_equal(lb_leak_group_tasks(t, n, n + 1, 999, S(5000), &r), 0);
    assert_int_equal(r.total, SITES + 1);
    assert_int_equal(r.n_groups, LB_LEAK_MAX_GROUPS);
    assert_int_equal(r.groups[0].count, 2);
    const lb_leak_group *other = &r.groups[LB_LEAK_MAX_GROUPS - 1];
    assert_int_equal(other->op, -1);
    assert_string_equal(other->role, "(other)");
    assert_int_equal(other->count, SITES - (LB_LEAK_MAX_GROUPS - 1));
    assert_true(other->held_bytes == 65536 * other->count);
    assert_true(other->oldest_ms > 4900 && other->oldest_ms <= 5000);
}

static void no_leaks_no_groups(void **state)
{
    (void)state;
    rt_task_info self = {0};
    self.id = 1;
    lb_leak_report r;
    assert_int_equal(lb_leak_group_tasks(&self, 1, 1, 1, S(1), &r), 0);
    assert_int_equal(r.total, 0);
    assert_int_equal(r.n_groups, 0);
    json_t *j = lb_leak_report_to_json(&r, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "groups")), 0);
    json_decref(j);
}

static int setup_alarm(void **state)
{
    (void)state;
    alarm(30);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(groups_count_age_and_growth, setup_alarm),
        cmocka_unit_test_setup(sleeping_loops_have_no_growth, setup_alarm),
        cmocka_unit_test_setup(hint_names_the_scenario_pattern_at_its_own_site, setup_alarm),
        cmocka_unit_test_setup(hint_from_the_scenarios_leak_signatures, setup_alarm),
        cmocka_unit_test_setup(json_has_growth_hint_and_more_like_it, setup_alarm),
        cmocka_unit_test_setup(terminal_text_shows_site_example_and_the_rest, setup_alarm),
        cmocka_unit_test_setup(groups_beyond_the_limit_are_folded, setup_alarm),
        cmocka_unit_test_setup(no_leaks_no_groups, setup_alarm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
