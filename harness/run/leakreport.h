/*
 * leakreport.h — groups the tasks a run leaves behind.
 *
 * At the end of a run the child snapshots its live tasks (rt_snapshot)
 * and groups them by blocking operation, blocking site and role, so that
 * 5,000 identical leaked workers become one line with a count and ages
 * instead of 5,000 lines.  Groups are plain structs with no pointers (site
 * strings are copied) so they can travel in the shared page to the parent,
 * which turns them into the "leaks" object of results.json.
 */
#ifndef LEAKBENCH_LEAKREPORT_H
#define LEAKBENCH_LEAKREPORT_H

#include "runtime/rt.h"
#include "scenarios/scenario.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define LB_LEAK_MAX_GROUPS 32
#define LB_LEAK_STR        96

typedef struct lb_leak_site {
    char file[LB_LEAK_STR];
    int line;
    char func[LB_LEAK_STR / 2];
} lb_leak_site;

typedef struct lb_leak_group {
    int op; /* rt_op */
    /* Set for groups of an external target (goleak.c): the operation as the
     * target names it (Go's wait reason, "chan send", "IO wait"), shown
     * instead of rt_op_name(op); a hint that replaces the computed one; and
     * whether the ages are unknown (written as null).  Empty/false for
     * built-in runs. */
    char op_name[40];
    char hint[400];
    bool ages_unknown;
    lb_leak_site site;
    char role[LB_LEAK_STR / 2];
    lb_leak_site spawn_site;
    int64_t count;
    double growth_per_s;                 /* tasks that joined the group per second while it grew
                                          * (count - 1 over the span of their block times); < 0 when
                                          * unknown (fewer than two tasks, or all at one instant) */
    double oldest_ms, median_ms, p99_ms; /* time blocked, at snapshot time */
    bool cancellable;                    /* any task in the group had a way out */
    bool has_chan;                       /* channel state of the example task */
    int64_t chan_cap, chan_len, chan_send_waiters, chan_recv_waiters;
    bool chan_closed;
    int64_t held_bytes; /* sum of rt_task_hold over the group */
    uint64_t example_id;
    double example_age_ms;
} lb_leak_group;

typedef struct lb_leak_report {
    int64_t total;   /* leaked tasks (live tasks other than the reporting one) */
    int64_t grouped; /* tasks that fit in the snapshot and were grouped */
    int n_groups;    /* groups beyond LB_LEAK_MAX_GROUPS are folded into "other" */
    lb_leak_group groups[LB_LEAK_MAX_GROUPS];
} lb_leak_report;

/*
 * Builds a report from a snapshot of n tasks taken at time now, leaving
 * out the task with id self_id (the one taking the snapshot); total_live
 * is what rt_snapshot returned.  Groups are sorted by count, largest first.
 * Returns 0 or -ENOMEM.
 */
int lb_leak_group_tasks(const rt_task_info *tasks, size_t n, size_t total_live, uint64_t self_id,
                        rt_time now, lb_leak_report *out);

/*
 * Snapshots the live tasks of the running runtime (rt_snapshot) and groups
 * them with lb_leak_group_tasks, leaving out the calling task.  Call from
 * inside a task.  0 or -ENOMEM.
 */
int lb_leak_snapshot(lb_leak_report *out);

/*
 * A one-line hint for a group (g->hint when the group carries its own):
 * what the evidence says (operation, channel
 * state, whether the call had a cancellation case) and the likely pattern
 * of the catalogue (README "The leak catalogue") with its fix.  When the group blocks in the
 * scenario's own file (scenarios/<name>.c) the pattern and fix are the
 * scenario's (lb_scenario.pattern, title, fix); otherwise, or when sc is
 * NULL, they are inferred from the operation.  Always NUL-terminates out.
 */
void lb_leak_hint(const lb_leak_group *g, const lb_scenario *sc, char *out, size_t n);

/* The "leaks" object of results.json; sc (may be NULL) feeds the hints. */
json_t *lb_leak_report_to_json(const lb_leak_report *r, const lb_scenario *sc);

/*
 * The other way: a "leaks" object (results.json's, or what `leakbench
 * serve` answers on GET /debug/leaks) into out.  Each group keeps its hint
 * as written (g->hint), and an operation that is not one of the runtime's
 * as its name (g->op_name).  0, or -EBADMSG when j is not that shape.
 */
int lb_leak_report_from_json(const json_t *j, lb_leak_report *out);

/*
 * What r holds beyond base (a server's own tasks, there from the start,
 * are not leaks): each base group's count is taken off r's group with the
 * same operation, site and role, and what is left of it off a group of
 * the same role and spawn site when one of the two is running (a task
 * caught running at one snapshot and waiting at the other is still the
 * same task).
 * Groups left with nothing are dropped; total and grouped become the sums
 * of what is left.
 */
void lb_leak_report_subtract(lb_leak_report *r, const lb_leak_report *base);

#endif
