/*
 * progress_test.c — the progress line fitted to the terminal: at every
 * width from 20 to 200 columns it is never wider than the width minus one,
 * keeps what matters most (run i of n, variant, phase and its percentage,
 * then live tasks and RSS, then the ETA) and leaves out the rest in order;
 * the bar shows the phase's share; the non-terminal line has everything
 * and no bar; the terminal width comes from $COLUMNS when the stream is
 * not a terminal; the line a run ends with breaks after a comma to fit.
 */
#include "progress.h"
#include "terminal.h"
#include "core/test_util.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const lb_progress_view load_view = {
    .run_index = 3,
    .run_total = 8,
    .scenario = "timeout_leak",
    .variant = "graceful",
    .rep = 1,
    .phase = LB_PHASE_LOAD,
    .phase_done = 0.52,
    .t_s = 2.34,
    .all_done = 0.31,
    .eta_s = 41.5,
    .has_requests = true,
    .submitted = 1234,
    .timed_out = 685,
    .tasks = 31,
    .rss_bytes = 4972544,
};

static int columns(const char *s)
{
    int w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void never_wider_than_the_terminal(void **state)
{
    (void)state;
    char line[512];
    for (int width = 20; width <= 200; width++) {
        lb_progress_format(&load_view, width, true, line, sizeof line);
        if (columns(line) > width - 1)
            fail_msg("%d columns at width %d: %s", columns(line), width, line);
        assert_null(strchr(line, '\n'));
        /* The most important part survives down to a narrow terminal. */
        if (width < 30) continue;
        assert_true(!strncmp(line, "[3/8] ", 6));
        assert_non_null(strstr(line, " graceful "));
        assert_non_null(strstr(line, "  load "));
        assert_non_null(strstr(line, " 52%"));
        if (width >= 50) assert_non_null(strstr(line, "  tasks 31  RSS 4.74 MiB"));
    }
}

static void what_is_left_out_first(void **state)
{
    (void)state;
    char line[512];
    /* 80 columns: run, variant, phase percentage, requests, tasks, RSS and
     * the ETA; the bar, the scenario and the elapsed time do not fit. */
    lb_progress_format(&load_view, 80, true, line, sizeof line);
    assert_string_equal(line, "[3/8] graceful rep 1  load 52%  req 1,234  tasks 31  RSS 4.74 MiB  "
                              "ETA 41.5 s");
    /* Narrower: requests, then the ETA, then RSS go. */
    lb_progress_format(&load_view, 60, true, line, sizeof line);
    assert_string_equal(line, "[3/8] graceful  load 52%  req 1,234  tasks 31  RSS 4.74 MiB");
    lb_progress_format(&load_view, 50, true, line, sizeof line);
    assert_string_equal(line, "[3/8] graceful  load 52%  tasks 31  RSS 4.74 MiB");
    lb_progress_format(&load_view, 40, true, line, sizeof line);
    assert_string_equal(line, "[3/8] graceful  load 52%  tasks 31");
    /* Wider: the bar, a quarter of the width. */
    lb_progress_format(&load_view, 100, true, line, sizeof line);
    assert_string_equal(line, "[3/8] graceful  load [===========>           ] 52%  req 1,234  "
                              "tasks 31  RSS 4.74 MiB  ETA 41.5 s");
    lb_progress_format(&load_view, 140, true, line, sizeof line);
    assert_string_equal(line, "[3/8] timeout_leak graceful  load [============>           ] 52%  "
                              "req 1,234 (685 timed out)  tasks 31  RSS 4.74 MiB  all 31%  "
                              "ETA 41.5 s");
    /* Below what the first rank needs the line is cut, not wrapped. */
    lb_progress_format(&load_view, 12, true, line, sizeof line);
    assert_string_equal(line, "[3/8] grace");
}

static void the_plain_line_has_everything_but_the_bar(void **state)
{
    (void)state;
    char line[512];
    lb_progress_format(&load_view, 0, false, line, sizeof line);
    assert_string_equal(line, "[3/8] timeout_leak graceful rep 1  load 52% 2.34 s  req 1,234 (685 "
                              "timed out)  tasks 31  RSS 4.74 MiB  all 31%  ETA 41.5 s");
    /* A phase with no planned length has no percentage; before the first
     * run has finished there is no ETA. */
    lb_progress_view v = load_view;
    v.phase = LB_PHASE_SHUTDOWN;
    v.phase_done = NAN;
    v.eta_s = v.all_done = NAN;
    v.timed_out = 0;
    lb_progress_format(&v, 0, false, line, sizeof line);
    assert_string_equal(line,
                        "[3/8] timeout_leak graceful rep 1  shutdown 2.34 s  req 1,234  tasks 31  "
                        "RSS 4.74 MiB");
}

/* A target's samples count no requests, and a go_pprof target's live
 * tasks are goroutines. */
static void a_target_shows_goroutines_and_no_requests(void **state)
{
    (void)state;
    char line[512];
    lb_progress_view v = load_view;
    v.has_requests = false;
    v.live_noun = "goroutines";
    lb_progress_format(&v, 0, false, line, sizeof line);
    assert_string_equal(line, "[3/8] timeout_leak graceful rep 1  load 52% 2.34 s  goroutines 31  "
                              "RSS 4.74 MiB  all 31%  ETA 41.5 s");
}

static void the_bar_fills_with_the_phase(void **state)
{
    (void)state;
    char line[512];
    lb_progress_view v = load_view;
    v.phase_done = 0;
    lb_progress_format(&v, 100, true, line, sizeof line);
    assert_non_null(strstr(line, " load [>                      ] 0% "));
    v.phase_done = 0.25;
    lb_progress_format(&v, 100, true, line, sizeof line);
    assert_non_null(strstr(line, " load [=====>                 ] 25% "));
    v.phase_done = 1;
    lb_progress_format(&v, 100, true, line, sizeof line);
    assert_non_null(strstr(line, " load [=======================] 100% "));
}

static void width_from_columns_when_not_a_terminal(void **state)
{
    (void)state;
    int fd = open("/dev/null", O_WRONLY);
    assert_true(fd >= 0);
    setenv("COLUMNS", "123", 1);
    assert_int_equal(lb_terminal_columns(fd), 123);
    setenv("COLUMNS", "12x", 1);
    assert_int_equal(lb_terminal_columns(fd), 80);
    unsetenv("COLUMNS");
    assert_int_equal(lb_terminal_columns(fd), 80);
    close(fd);
}

/* The line a run ends with, at WIDTH columns on a terminal (0: not one). */
static char *run_done_line(int width, const char *name)
{
    static lb_scenario_spec spec;
    memset(&spec, 0, sizeof spec);
    snprintf(spec.name, sizeof spec.name, "%s", name);
    lb_run_result run;
    memset(&run, 0, sizeof run);
    run.spec = &spec;
    run.metrics.peak_tasks = 68;
    run.metrics.peak_rss = 9.34 * 1024 * 1024;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    lb_progress p;
    lb_progress_init(&p, f, false, 26, 100);
    p.tty = width > 0; /* a memory stream is no terminal: $COLUMNS gives the width */
    p.run_index = 6;
    char cols[16];
    snprintf(cols, sizeof cols, "%d", width);
    setenv("COLUMNS", cols, 1);
    lb_progress_run_done(&p, &run);
    unsetenv("COLUMNS");
    fclose(f);
    return buf;
}

/* The line a run ends with fits the terminal, breaking after a comma, so
 * the terminal never cuts a figure in two ("9.", "34 MiB" on the next
 * line); a short one, or one not on a terminal, stays one line. */
static void run_done_line_fits_the_terminal(void **state)
{
    (void)state;
    char *line = run_done_line(80, "first_response_wins");
    assert_string_equal(line,
                        "[6/26] first_response_wins graceful rep 0: completed, peak tasks 68,\n"
                        "    peak RSS 9.34 MiB\n");
    free(line);
    line = run_done_line(80, "double_send");
    assert_string_equal(line,
                        "[6/26] double_send graceful rep 0: completed, peak tasks 68, peak RSS "
                        "9.34 MiB\n");
    free(line);
    line = run_done_line(0, "first_response_wins");
    assert_string_equal(line,
                        "[6/26] first_response_wins graceful rep 0: completed, peak tasks 68, "
                        "peak RSS 9.34 MiB\n");
    free(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(never_wider_than_the_terminal, lb_test_arm_timeout),
        cmocka_unit_test_setup(what_is_left_out_first, lb_test_arm_timeout),
        cmocka_unit_test_setup(the_plain_line_has_everything_but_the_bar, lb_test_arm_timeout),
        cmocka_unit_test_setup(a_target_shows_goroutines_and_no_requests, lb_test_arm_timeout),
        cmocka_unit_test_setup(the_bar_fills_with_the_phase, lb_test_arm_timeout),
        cmocka_unit_test_setup(width_from_columns_when_not_a_terminal, lb_test_arm_timeout),
        cmocka_unit_test_setup(run_done_line_fits_the_terminal, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
