/*
 * leakreport_json_test.c — a leak report read back from its JSON
 * (lb_leak_report_from_json: results.json's "leaks", `leakbench serve`'s
 * /debug/leaks) is the report that was written, hints kept as written;
 * a malformed object is refused; and subtracting a baseline report keeps
 * only what grew (lb_leak_report_subtract), as a serve target's report is
 * made.
 */
#include "leakreport.h"
#include "core/test_util.h"

#include <string.h>

static lb_leak_group group(int op, const char *file, int line, const char *role, int64_t count)
{
    lb_leak_group g;
    memset(&g, 0, sizeof g);
    g.op = op;
    snprintf(g.site.file, sizeof g.site.file, "%s", file);
    g.site.line = line;
    snprintf(g.site.func, sizeof g.site.func, "f%d", line);
    snprintf(g.role, sizeof g.role, "%s", role);
    snprintf(g.spawn_site.file, sizeof g.spawn_site.file, "%s", file);
    g.spawn_site.line = line + 10;
    g.count = count;
    g.growth_per_s = count > 1 ? 12.5 : -1;
    g.oldest_ms = 30;
    g.median_ms = 20;
    g.p99_ms = 29;
    g.has_chan = op == RT_OP_SEND;
    g.chan_send_waiters = 1;
    g.held_bytes = 4096 * count;
    g.example_id = 7;
    g.example_age_ms = 30;
    return g;
}

static lb_leak_report report(void)
{
    lb_leak_report r;
    memset(&r, 0, sizeof r);
    r.groups[r.n_groups++] = group(RT_OP_SEND, "scenarios/timeout_leak.c", 75, "worker", 197);
    r.groups[r.n_groups++] = group(RT_OP_IO, "harness/run/http_serve.c", 300, "http-accept", 1);
    r.groups[r.n_groups++] = group(RT_OP_RECV, "harness/run/http_serve.c", 200, "main", 1);
    r.total = r.grouped = 199;
    return r;
}

static void reads_back_what_was_written(void **state)
{
    (void)state;
    lb_leak_report r = report();
    json_t *j = lb_leak_report_to_json(&r, NULL);
    lb_leak_report back;
    assert_int_equal(lb_leak_report_from_json(j, &back), 0);
    json_t *again = lb_leak_report_to_json(&back, NULL);
    /* the hints come back as written: the same document */
    assert_true(json_equal(j, again));
    assert_int_equal(back.n_groups, 3);
    assert_int_equal(back.groups[0].op, RT_OP_SEND);
    assert_int_equal(back.groups[0].count, 197);
    assert_string_equal(back.groups[0].site.file, "scenarios/timeout_leak.c");
    assert_true(back.groups[0].hint[0]);
    json_decref(j);
    json_decref(again);
}

static void malformed_is_refused(void **state)
{
    (void)state;
    const char *bad[] = {"[]", "{\"total\": 1}", "{\"total\": \"x\", \"groups\": []}",
                         "{\"total\": 1, \"groups\": [{\"count\": 1}]}",
                         "{\"total\": 1, \"groups\": [{\"op\": \"send\"}]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        lb_leak_report r;
        assert_int_equal(lb_leak_report_from_json(j, &r), -EBADMSG);
        json_decref(j);
    }
}

static void a_baseline_is_subtracted(void **state)
{
    (void)state;
    lb_leak_report end = report(), base;
    memset(&base, 0, sizeof base);
    base.groups[base.n_groups++] =
        group(RT_OP_IO, "harness/run/http_serve.c", 300, "http-accept", 1);
    base.groups[base.n_groups++] = group(RT_OP_RECV, "harness/run/http_serve.c", 200, "main", 1);
    base.groups[base.n_groups++] = group(RT_OP_SEND, "scenarios/timeout_leak.c", 75, "worker", 7);
    lb_leak_report_subtract(&end, &base);
    assert_int_equal(end.n_groups, 1);
    assert_int_equal(end.groups[0].count, 190);
    assert_int_equal(end.total, 190);
    assert_int_equal(end.grouped, 190);
    /* a group at another line is another group */
    lb_leak_report other = report();
    base.groups[2].site.line = 76;
    lb_leak_report_subtract(&other, &base);
    assert_int_equal(other.groups[0].count, 197);
}

/* The accept loop, accepting (running) at ready and waiting in accept at
 * the end, or the other way round, is the same task: not a leak. */
static void a_task_caught_running_is_still_itself(void **state)
{
    (void)state;
    for (int flip = 0; flip < 2; flip++) {
        lb_leak_report end, base;
        memset(&end, 0, sizeof end);
        memset(&base, 0, sizeof base);
        lb_leak_group waiting = group(RT_OP_IO, "harness/run/http_serve.c", 759, "http-accept", 1);
        lb_leak_group running = waiting;
        running.op = RT_OP_RUNNING;
        memset(&running.site, 0, sizeof running.site);
        base.groups[base.n_groups++] = flip ? waiting : running;
        end.groups[end.n_groups++] = flip ? running : waiting;
        end.groups[end.n_groups++] = group(RT_OP_SEND, "scenarios/timeout_leak.c", 75, "worker", 3);
        end.total = end.grouped = 4;
        lb_leak_report_subtract(&end, &base);
        assert_int_equal(end.total, 3);
        assert_int_equal(end.n_groups, 1);
        assert_int_equal(end.groups[0].op, RT_OP_SEND);
    }
    /* two waiting tasks of one kind at different sites stay apart */
    lb_leak_report end, base;
    memset(&end, 0, sizeof end);
    memset(&base, 0, sizeof base);
    base.groups[base.n_groups++] = group(RT_OP_RECV, "scenarios/timeout_leak.c", 60, "worker", 2);
    lb_leak_group send = base.groups[0];
    send.op = RT_OP_SEND;
    send.count = 2;
    end.groups[end.n_groups++] = send;
    lb_leak_report_subtract(&end, &base);
    assert_int_equal(end.total, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_back_what_was_written),
        cmocka_unit_test(malformed_is_refused),
        cmocka_unit_test(a_baseline_is_subtracted),
        cmocka_unit_test(a_task_caught_running_is_still_itself),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
