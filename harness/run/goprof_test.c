/*
 * goprof_test.c — Go goroutine profiles (goprof.c) and the leak report
 * built from them (goleak.c), on text captured from examples/go-seed
 * (harness/testdata/pprof-*.txt; README there says how) and on hostile
 * input: truncated, garbage, an HTTP 404 page, a huge profile.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/test_util.h"
#include "goleak.h"
#include "goprof.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TESTDATA "harness/testdata/"

/* A copy of a fixture (lb_test_slurp's buffer is reused). */
static char *fixture(const char *name, size_t *n)
{
    char path[256];
    snprintf(path, sizeof path, TESTDATA "%s", name);
    char *s = strdup(lb_test_slurp(path));
    assert_non_null(s);
    *n = strlen(s);
    return s;
}

static void parse_fixture(const char *name, lb_go_profile *p)
{
    size_t n;
    char *text = fixture(name, &n), err[256] = "";
    int rc = lb_go_profile_parse(text, n, p, err, sizeof err);
    if (rc) print_error("%s: %s\n", name, err);
    assert_int_equal(rc, 0);
    free(text);
}

/* The line of examples/go-seed/main.go marked "LEAK SITE". */
static int leak_site_line(void)
{
    int line = -1;
    if (lb_test_marker_lines("examples/go-seed/main.go", "LEAK SITE", &line, 1) != 1)
        fail_msg("no single LEAK SITE marker in examples/go-seed/main.go");
    return line;
}

static const lb_go_stack *stack_with(const lb_go_profile *p, const char *func)
{
    for (int i = 0; i < p->n_stacks; i++)
        if (p->stacks[i].n_frames && strstr(p->stacks[i].frames[0].func, func))
            return &p->stacks[i];
    return NULL;
}

static void debug1_total_and_groups(void **state)
{
    (void)state;
    lb_go_profile p;
    parse_fixture("pprof-leaky-debug1.txt", &p);
    assert_int_equal(p.debug, 1);
    int64_t sum = 0;
    for (int i = 0; i < p.n_stacks; i++) sum += p.stacks[i].count;
    assert_int_equal(sum, p.total);
    const lb_go_stack *s = stack_with(&p, "leakyWork.func1");
    assert_non_null(s);
    assert_true(s->count >= 2);
    assert_string_equal(s->frames[0].func, "main.(*server).leakyWork.func1");
    assert_non_null(strstr(s->frames[0].file, "examples/go-seed/main.go"));
    assert_int_equal(s->frames[0].line, leak_site_line());
    assert_string_equal(s->state, ""); /* debug=1 has no wait state */
    lb_go_profile_free(&p);
}

static void debug2_states_creators_and_keys(void **state)
{
    (void)state;
    lb_go_profile p1, p2;
    parse_fixture("pprof-leaky-debug1.txt", &p1);
    parse_fixture("pprof-leaky-debug2.txt", &p2);
    assert_int_equal(p2.debug, 2);
    const lb_go_stack *s = stack_with(&p2, "leakyWork.func1");
    assert_non_null(s);
    assert_string_equal(s->state, "chan send");
    assert_true(s->has_creator);
    assert_string_equal(s->creator.func, "main.(*server).leakyWork");
    assert_int_equal((int)s->n_waits, (int)s->count);
    /* The same goroutines have the same key in both formats. */
    const lb_go_stack *s1 = lb_go_profile_find(&p1, s->key, NULL);
    assert_non_null(s1);
    /* (captured a moment apart: a request may have leaked in between) */
    assert_true(s1->count >= 1 && s1->count <= s->count);
    /* The accept loop blocks in IO wait inside the standard library. */
    const lb_go_stack *io = stack_with(&p2, "internal/poll.runtime_pollWait");
    assert_non_null(io);
    assert_string_equal(io->state, "IO wait");
    char goroot[256];
    lb_go_profile_goroot(&p2, goroot, sizeof goroot);
    assert_true(goroot[0] == '/');
    assert_non_null(strstr(io->frames[0].file, goroot));
    lb_go_profile_free(&p1);
    lb_go_profile_free(&p2);
}

static void debug2_wait_minutes(void **state)
{
    (void)state;
    lb_go_profile p;
    parse_fixture("pprof-leaky-aged-debug2.txt", &p);
    const lb_go_stack *s = stack_with(&p, "leakyWork.func1");
    assert_non_null(s);
    int aged = 0;
    for (size_t i = 0; i < s->n_waits; i++)
        if (s->wait_minutes[i] >= 1) aged++;
    assert_true(aged >= 1); /* "[chan send, 1 minutes]" */
    /* "[chan send]" (under a minute) is -1: pprof-leaky-debug2.txt */
    lb_go_profile young;
    parse_fixture("pprof-leaky-debug2.txt", &young);
    s = stack_with(&young, "leakyWork.func1");
    assert_non_null(s);
    for (size_t i = 0; i < s->n_waits; i++) assert_int_equal(s->wait_minutes[i], -1);
    lb_go_profile_free(&young);
    lb_go_profile_free(&p);
}

static void parse_text(const char *text, int want_rc, const char *want_err)
{
    lb_go_profile p;
    char err[256] = "";
    int rc = lb_go_profile_parse(text, strlen(text), &p, err, sizeof err);
    if (rc != want_rc || (want_err && !strstr(err, want_err)))
        print_error("input \"%.60s\": rc %d, error \"%s\"\n", text, rc, err);
    assert_int_equal(rc, want_rc);
    if (want_err) assert_non_null(strstr(err, want_err));
    lb_go_profile_free(&p);
}

static void hostile_inputs(void **state)
{
    (void)state;
    size_t n;
    char *page = fixture("pprof-404.txt", &n); /* a whole HTTP 404 response */
    parse_text(page, -EBADMSG, "line 1:1: not a Go goroutine profile");
    free(page);
    parse_text("", -EBADMSG, "empty");
    parse_text("<html><body>502 Bad Gateway</body></html>", -EBADMSG, "not a Go goroutine");
    parse_text("\x01\x02\xff\xfe garbage", -EBADMSG, "line 1:1");
    parse_text("goroutine profile: total x\n", -EBADMSG, "line 1:26: expected the goroutine total");
    /* Truncated: the counts fall short of the total. */
    parse_text("goroutine profile: total 5\n3 @ 0x1 0x2\n#\t0x1\tmain.f+0x1\t/a/main.go:3\n",
               -EBADMSG, "truncated");
    /* Truncated in the middle of a frame. */
    parse_text("goroutine profile: total 1\n1 @ 0x1\n#\t0x1\tmain.f+0x1\t/a/ma", -EBADMSG,
               "line 3:");
    parse_text("goroutine 1 [chan send]:\nmain.f()\n", -EBADMSG, "expected a frame's location");
    parse_text("goroutine 1 [chan send:\n", -EBADMSG, "line 1:");
    parse_text("goroutine x [select]:\n", -EBADMSG, "line 1:11");
    /* Well-formed edge cases. */
    parse_text("goroutine profile: total 0\n", 0, NULL);
    parse_text("goroutine 7 [running]:\n\tgoroutine running on other thread; stack unavailable\n",
               0, NULL);
    parse_text("goroutine 9 [select, 12 minutes, locked to thread]:\nmain.(*T).f(...)\n"
               "\t/a/main.go:9\ncreated by main.g in goroutine 1\n\t/a/main.go:4 +0x1\n",
               0, NULL);
}

/* A profile with far more distinct stacks than are kept, and a stack far
 * deeper than LB_GO_MAX_FRAMES: bounded, still counted. */
static void huge_profile(void **state)
{
    (void)state;
    size_t cap = 16 << 20, o = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    int stacks = LB_GO_MAX_STACKS + 500;
    for (int i = 0; i < stacks; i++) {
        o += (size_t)snprintf(text + o, cap - o, "goroutine %d [chan receive]:\n", i + 1);
        int depth = i == 0 ? 200 : 2;
        for (int d = 0; d < depth; d++)
            o += (size_t)snprintf(text + o, cap - o, "main.f%d(0x%x)\n\t/a/main.go:%d +0x1\n", d, d,
                                  i * 1000 + d);
        o += (size_t)snprintf(text + o, cap - o, "\n");
    }
    lb_go_profile p;
    char err[256];
    assert_int_equal(lb_go_profile_parse(text, o, &p, err, sizeof err), 0);
    assert_int_equal(p.total, stacks);
    assert_int_equal(p.n_stacks, LB_GO_MAX_STACKS);
    assert_int_equal(p.other, 500);
    assert_int_equal(p.stacks[0].depth, 200);
    assert_int_equal(p.stacks[0].n_frames, LB_GO_MAX_FRAMES);
    lb_go_profile_free(&p);
    free(text);
}

static void wait_reasons_map_to_ops(void **state)
{
    (void)state;
    assert_int_equal(lb_go_wait_op("chan send", NULL), RT_OP_SEND);
    assert_int_equal(lb_go_wait_op("chan send (nil chan)", NULL), RT_OP_SEND);
    assert_int_equal(lb_go_wait_op("chan receive", NULL), RT_OP_RECV);
    assert_int_equal(lb_go_wait_op("select", NULL), RT_OP_SELECT);
    assert_int_equal(lb_go_wait_op("select (no cases)", NULL), RT_OP_SELECT);
    assert_int_equal(lb_go_wait_op("sync.Mutex.Lock", NULL), RT_OP_LOCK);
    assert_int_equal(lb_go_wait_op("sync.Cond.Wait", NULL), RT_OP_LOCK);
    assert_int_equal(lb_go_wait_op("sleep", NULL), RT_OP_SLEEP);
    assert_int_equal(lb_go_wait_op("IO wait", NULL), RT_OP_RUNNING);
    lb_go_stack wg = {0};
    wg.n_frames = 1;
    snprintf(wg.frames[0].func, sizeof wg.frames[0].func, "sync.(*WaitGroup).Wait");
    assert_int_equal(lb_go_wait_op("semacquire", &wg), RT_OP_WAITGROUP);
    assert_int_equal(lb_go_wait_op("semacquire", NULL), RT_OP_LOCK);
}

/* The own-code rule: under own_dir first, else outside GOROOT and the
 * module cache, else the innermost frame (not own). */
static void site_is_first_own_frame(void **state)
{
    (void)state;
    lb_go_stack s = {0};
    const char *files[] = {"/usr/lib/go/src/net/http/server.go",
                           "/root/go/pkg/mod/github.com/x/y@v1/y.go", "/srv/app/handler.go",
                           "/srv/app/main.go"};
    const char *funcs[] = {"net/http.(*conn).serve", "github.com/x/y.Do", "main.handle",
                           "main.main"};
    for (int i = 0; i < 4; i++) {
        snprintf(s.frames[i].func, sizeof s.frames[i].func, "%s", funcs[i]);
        snprintf(s.frames[i].file, sizeof s.frames[i].file, "%s", files[i]);
        s.frames[i].line = i + 1;
    }
    s.n_frames = 4;
    bool own;
    assert_int_equal(lb_go_site_frame(&s, "/usr/lib/go/", NULL, &own), 2);
    assert_true(own);
    assert_int_equal(lb_go_site_frame(&s, "/usr/lib/go/", "/srv/app/", &own), 2);
    /* own_dir wins over the GOROOT rule */
    assert_int_equal(lb_go_site_frame(&s, "/usr/lib/go/", "/root/go/pkg/mod/github.com", &own), 1);
    /* no GOROOT (-trimpath): by package, "main" or a dotted module path;
     * a dependency's file names its version ("@v1") */
    assert_int_equal(lb_go_site_frame(&s, NULL, NULL, &own), 2);
    snprintf(s.frames[1].file, sizeof s.frames[1].file, "github.com/x/y@v1.2.3/y.go");
    assert_int_equal(lb_go_site_frame(&s, NULL, NULL, &own), 2);
    snprintf(s.frames[1].file, sizeof s.frames[1].file, "github.com/me/app/y.go");
    assert_int_equal(lb_go_site_frame(&s, NULL, NULL, &own), 1);
    s.n_frames = 1;
    assert_int_equal(lb_go_site_frame(&s, "/usr/lib/go/", NULL, &own), 0);
    assert_false(own);
}

/* The acceptance check: the top group of go-seed's leaky dump is the
 * handler's goroutine, blocked in its send at the LEAK SITE line. */
static void leaky_report_points_at_the_send(void **state)
{
    (void)state;
    lb_go_profile base, final;
    parse_fixture("pprof-graceful-debug1.txt", &base); /* unrelated: keys do not match */
    parse_fixture("pprof-leaky-debug2.txt", &final);
    lb_go_series series = {0};
    /* baseline: nothing of the leaky stack; then the final counts */
    lb_go_profile empty = {0};
    empty.debug = 1;
    assert_int_equal(lb_go_series_add(&series, &empty, 0.0, NULL), 0);
    assert_int_equal(lb_go_series_add(&series, &base, 1.0, NULL), 0);
    assert_int_equal(lb_go_series_add(&series, &final, 3.0, NULL), 0);
    lb_leak_report r;
    assert_int_equal(lb_go_leak_report(&final, &series, NULL, &r), 0);
    assert_true(r.n_groups >= 1);
    const lb_leak_group *g = &r.groups[0];
    const lb_go_stack *s = stack_with(&final, "leakyWork.func1");
    assert_int_equal(g->count, s->count);
    assert_int_equal(g->op, RT_OP_SEND);
    assert_string_equal(g->op_name, "chan send");
    assert_non_null(strstr(g->site.file, "examples/go-seed/main.go"));
    assert_int_equal(g->site.line, leak_site_line());
    assert_string_equal(g->site.func, "main.(*server).leakyWork.func1");
    assert_string_equal(g->role, "main.(*server).leakyWork");
    assert_false(g->cancellable);
    assert_true(g->ages_unknown); /* captured under a minute after the leak */
    /* from the last low (0 at t = 1 s) to the peak (t = 3 s) */
    assert_near(g->growth_per_s, (double)s->count / 2.0, 1e-9);
    assert_non_null(strstr(g->hint, "pattern 1 (timeout leak)"));
    /* The "leaks" object the report's renderers print. */
    json_t *j = lb_leak_report_to_json(&r, NULL);
    assert_non_null(j);
    json_t *g0 = json_array_get(json_object_get(j, "groups"), 0);
    assert_string_equal(json_string_value(json_object_get(g0, "op")), "chan send");
    assert_true(json_is_null(json_object_get(g0, "age_ms")));
    assert_non_null(strstr(json_string_value(json_object_get(g0, "hint")), "pattern 1"));
    assert_string_equal(json_string_value(json_object_get(g0, "role")), "main.(*server).leakyWork");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(g0, "site"), "line")),
                     leak_site_line());
    json_decref(j);
    lb_go_series_free(&series);
    lb_go_profile_free(&base);
    lb_go_profile_free(&final);
}

/* Goroutines there at the baseline are not leaks: a graceful server's
 * pool, accept loop and signal handler. */
static void baseline_goroutines_are_not_reported(void **state)
{
    (void)state;
    lb_go_profile final;
    parse_fixture("pprof-graceful-debug2.txt", &final);
    lb_go_series series = {0};
    assert_int_equal(lb_go_series_add(&series, &final, 0.0, NULL), 0); /* baseline = the end */
    assert_int_equal(lb_go_series_add(&series, &final, 5.0, NULL), 0);
    lb_leak_report r;
    assert_int_equal(lb_go_leak_report(&final, &series, NULL, &r), 0);
    assert_int_equal(r.total, 0);
    assert_int_equal(r.n_groups, 0);
    /* Without a baseline every goroutine counts: the 8 pool workers too. */
    assert_int_equal(lb_go_leak_report(&final, NULL, NULL, &r), 0);
    int64_t waiting = 0; /* running, runnable and syscall are not leaks */
    for (int i = 0; i < final.n_stacks; i++)
        if (strcmp(final.stacks[i].state, "running") && strcmp(final.stacks[i].state, "runnable") &&
            strcmp(final.stacks[i].state, "syscall"))
            waiting += final.stacks[i].count;
    assert_true(waiting < final.total);
    assert_int_equal(r.total, waiting);
    bool workers = false;
    for (int i = 0; i < r.n_groups; i++)
        if (strstr(r.groups[i].site.func, "(*server).worker") && r.groups[i].count == 8)
            workers = r.groups[i].op == RT_OP_SELECT && r.groups[i].cancellable;
    assert_true(workers);
    assert_int_equal(lb_go_leak_report(&(lb_go_profile){.debug = 1}, NULL, NULL, &r), -EINVAL);
    lb_go_series_free(&series);
    lb_go_profile_free(&final);
}

static void aged_report_has_ages(void **state)
{
    (void)state;
    lb_go_profile final;
    parse_fixture("pprof-leaky-aged-debug2.txt", &final);
    lb_leak_report r;
    assert_int_equal(lb_go_leak_report(&final, NULL, NULL, &r), 0);
    const lb_leak_group *g = &r.groups[0];
    assert_string_equal(g->op_name, "chan send");
    assert_false(g->ages_unknown);
    assert_true(g->oldest_ms >= 60000);
    assert_true(g->example_age_ms >= 60000);
    assert_true(g->median_ms <= g->oldest_ms);
    lb_go_profile_free(&final);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(debug1_total_and_groups, lb_test_arm_timeout),
        cmocka_unit_test_setup(debug2_states_creators_and_keys, lb_test_arm_timeout),
        cmocka_unit_test_setup(debug2_wait_minutes, lb_test_arm_timeout),
        cmocka_unit_test_setup(hostile_inputs, lb_test_arm_timeout),
        cmocka_unit_test_setup(huge_profile, lb_test_arm_timeout),
        cmocka_unit_test_setup(wait_reasons_map_to_ops, lb_test_arm_timeout),
        cmocka_unit_test_setup(site_is_first_own_frame, lb_test_arm_timeout),
        cmocka_unit_test_setup(leaky_report_points_at_the_send, lb_test_arm_timeout),
        cmocka_unit_test_setup(baseline_goroutines_are_not_reported, lb_test_arm_timeout),
        cmocka_unit_test_setup(aged_report_has_ages, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
