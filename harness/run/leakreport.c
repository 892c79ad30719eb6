/*
 * leakreport.c — groups leaked tasks by blocking operation, site and role.
 *
 * How it works: the snapshot's entries are sorted by (op, blocking site,
 * role) so each group is a contiguous run; for every run the ages (time
 * blocked) are sorted to give the oldest, median and p99; groups are then
 * ordered by count.  If there are more than LB_LEAK_MAX_GROUPS groups the
 * smallest are folded into a last group with role "(other)".  The example
 * of a group is its oldest task.  A group's growth is how fast tasks joined
 * it: (count - 1) over the span between the first and the last block time
 * (unknown for sleeping loops, which block anew on every tick).
 *
 * Hints (lb_leak_hint) read the evidence first — the operation, the state
 * of the channel the example task waits on, whether the call had a context
 * — and then name the likely pattern of the catalogue (README "The leak
 * catalogue") with its fix: the scenario's own when the group blocks in
 * scenarios/<name>.c, else the patterns whose leak signature
 * (lb_scenario.leak, filled in by each scenario file) matches the
 * operation (pattern_by_op below).
 */
#include "leakreport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *nz(const char *s)
{
    return s ? s : "";
}

static int compare_site(const rt_site *a, const rt_site *b)
{
    int c = strcmp(nz(a->file), nz(b->file));
    if (c) return c;
    if (a->line != b->line) return a->line < b->line ? -1 : 1;
    return strcmp(nz(a->func), nz(b->func));
}

static int compare_task_key(const rt_task_info *a, const rt_task_info *b)
{
    if (a->op != b->op) return a->op < b->op ? -1 : 1;
    int c = a->op == RT_OP_RUNNING ? 0 : compare_site(&a->block_site, &b->block_site);
    if (c) return c;
    return strcmp(nz(a->role), nz(b->role));
}

static int compare_ptr(const void *a, const void *b)
{
    return compare_task_key(*(const rt_task_info *const *)a, *(const rt_task_info *const *)b);
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int compare_group_count(const void *a, const void *b)
{
    const lb_leak_group *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return x->oldest_ms > y->oldest_ms ? -1 : x->oldest_ms < y->oldest_ms;
}

static void copy_site(lb_leak_site *dst, const rt_site *src)
{
    snprintf(dst->file, sizeof dst->file, "%s", nz(src->file));
    dst->line = src->line;
    snprintf(dst->func, sizeof dst->func, "%s", nz(src->func));
}

static double rank_value(const double *sorted, size_t n, double q)
{
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

/* Fills g from the n tasks of one group (same op, site and role); ages is
 * scratch space for n values. */
static void summarise_group(lb_leak_group *g, const rt_task_info *const *tasks, size_t n,
                            double *ages, rt_time now)
{
    memset(g, 0, sizeof *g);
    const rt_task_info *first = tasks[0];
    g->op = first->op;
    if (first->op != RT_OP_RUNNING) copy_site(&g->site, &first->block_site);
    snprintf(g->role, sizeof g->role, "%s", nz(first->role));
    copy_site(&g->spawn_site, &first->spawn_site);
    g->count = (int64_t)n;
    const rt_task_info *oldest = first;
    rt_time first_block = RT_FOREVER, last_block = 0;
    for (size_t i = 0; i < n; i++) {
        const rt_task_info *t = tasks[i];
        ages[i] = t->op == RT_OP_RUNNING ? 0 : (double)(now - t->blocked_since) / 1e6;
        if (t->cancellable) g->cancellable = true;
        g->held_bytes += (int64_t)t->held_bytes;
        if (t->op != RT_OP_RUNNING && t->blocked_since < oldest->blocked_since) oldest = t;
        if (t->op != RT_OP_RUNNING) {
            if (t->blocked_since < first_block) first_block = t->blocked_since;
            if (t->blocked_since > last_block) last_block = t->blocked_since;
        }
    }
    /* Growth: the rate at which tasks joined the group while it grew.  A
     * task blocked forever blocked once, when it joined; a sleeping loop
     * re-blocks on every tick, so its block time says nothing of when it
     * joined and its growth stays unknown. */
    g->growth_per_s = -1;
    if (first->op != RT_OP_RUNNING && first->op != RT_OP_SLEEP && g->count >= 2 &&
        last_block > first_block)
        g->growth_per_s = (double)(g->count - 1) / ((double)(last_block - first_block) / 1e9);
    qsort(ages, n, sizeof *ages, compare_double);
    g->oldest_ms = ages[n - 1];
    g->median_ms = rank_value(ages, n, 0.5);
    g->p99_ms = rank_value(ages, n, 0.99);
    g->example_id = oldest->id;
    g->example_age_ms =
        oldest->op == RT_OP_RUNNING ? 0 : (double)(now - oldest->blocked_since) / 1e6;
    /* An io wait's channel is the poller's private wake-up: nothing to show. */
    g->has_chan = oldest->has_chan && oldest->op != RT_OP_IO;
    g->chan_cap = oldest->chan_cap;
    g->chan_len = oldest->chan_len;
    g->chan_send_waiters = oldest->chan_send_waiters;
    g->chan_recv_waiters = oldest->chan_recv_waiters;
    g->chan_closed = oldest->chan_closed;
}

/* Copies the groups (sorted by count) into out, folding those beyond
 * LB_LEAK_MAX_GROUPS - 1 into a last "(other)" group. */
static void keep_largest_groups(lb_leak_report *out, const lb_leak_group *groups, size_t n_groups)
{
    size_t keep = n_groups <= LB_LEAK_MAX_GROUPS ? n_groups : LB_LEAK_MAX_GROUPS - 1;
    memcpy(out->groups, groups, keep * sizeof *groups);
    if (keep < n_groups) {
        lb_leak_group *other = &out->groups[keep];
        memset(other, 0, sizeof *other);
        other->op = -1;
        other->growth_per_s = -1;
        snprintf(other->role, sizeof other->role, "(other)");
        for (size_t i = keep; i < n_groups; i++) {
            other->count += groups[i].count;
            other->held_bytes += groups[i].held_bytes;
            if (groups[i].oldest_ms > other->oldest_ms) other->oldest_ms = groups[i].oldest_ms;
        }
        keep++;
    }
    out->n_groups = (int)keep;
}

int lb_leak_group_tasks(const rt_task_info *tasks, size_t n, size_t total_live, uint64_t self_id,
                        rt_time now, lb_leak_report *out)
{
    memset(out, 0, sizeof *out);
    const rt_task_info **order = malloc((n ? n : 1) * sizeof *order);
    double *ages = malloc((n ? n : 1) * sizeof *ages);
    lb_leak_group *groups = malloc((n ? n : 1) * sizeof *groups);
    if (!order || !ages || !groups) {
        free(order);
        free(ages);
        free(groups);
        return -ENOMEM;
    }
    size_t m = 0;
    bool self_seen = false;
    for (size_t i = 0; i < n; i++) {
        if (tasks[i].id == self_id) {
            self_seen = true;
            continue;
        }
        order[m++] = &tasks[i];
    }
    /* The reporting task is live but not leaked; it may be past the
     * snapshot's capacity, in which case it still counts in total_live. */
    out->total = (int64_t)total_live - (self_seen || total_live > n ? 1 : 0);
    if (out->total < 0) out->total = 0;
    out->grouped = (int64_t)m;
    qsort(order, m, sizeof *order, compare_ptr);

    size_t n_groups = 0;
    for (size_t start = 0; start < m;) {
        size_t end = start + 1;
        while (end < m && compare_task_key(order[start], order[end]) == 0) end++;
        summarise_group(&groups[n_groups++], order + start, end - start, ages, now);
        start = end;
    }
    qsort(groups, n_groups, sizeof *groups, compare_group_count);
    keep_largest_groups(out, groups, n_groups);
    free(order);
    free(ages);
    free(groups);
    return 0;
}

int lb_leak_snapshot(lb_leak_report *out)
{
    size_t cap = (size_t)rt_live_tasks() + 64; /* room for tasks spawned meanwhile */
    rt_task_info *tasks = malloc(cap * sizeof *tasks);
    if (!tasks) return -ENOMEM;
    size_t live = rt_snapshot(tasks, cap);
    size_t n = live < cap ? live : cap;
    int rc = lb_leak_group_tasks(tasks, n, live, rt_task_id(rt_self()), rt_now(), out);
    free(tasks);
    return rc;
}

/* A group has a blocking site when it blocks, or when an external
 * target's group named one (a Go goroutine in a syscall still has a
 * frame); built-in running tasks have none. */
static bool has_site(const lb_leak_group *g)
{
    return g->op > 0 || (g->op == 0 && g->site.file[0]);
}

static const char *op_text(const lb_leak_group *g)
{
    if (g->op_name[0]) return g->op_name;
    return g->op < 0 ? "mixed" : rt_op_name((rt_op)g->op);
}

static json_t *site_json(const lb_leak_site *s)
{
    return json_pack("{s:s, s:i, s:s}", "file", s->file, "line", s->line, "func", s->func);
}

json_t *lb_leak_report_to_json(const lb_leak_report *r, const lb_scenario *sc)
{
    json_t *groups = json_array();
    for (int i = 0; i < r->n_groups; i++) {
        const lb_leak_group *g = &r->groups[i];
        json_t *chan = json_null();
        if (g->has_chan)
            chan = json_pack("{s:I, s:I, s:b, s:I, s:I}", "cap", (json_int_t)g->chan_cap, "len",
                             (json_int_t)g->chan_len, "closed", g->chan_closed, "send_waiters",
                             (json_int_t)g->chan_send_waiters, "recv_waiters",
                             (json_int_t)g->chan_recv_waiters);
        json_t *jg = json_pack(
            "{s:s, s:o, s:s, s:o, s:I, s:{s:f, s:f, s:f}, s:b, s:o, s:I, s:{s:I, s:f}, s:I}", "op",
            op_text(g), "site", has_site(g) ? site_json(&g->site) : json_null(), "role", g->role,
            "spawn_site", g->op < 0 ? json_null() : site_json(&g->spawn_site), "count",
            (json_int_t)g->count, "age_ms", "oldest", g->oldest_ms, "median", g->median_ms, "p99",
            g->p99_ms, "cancellable", g->cancellable, "chan", chan, "held_bytes",
            (json_int_t)g->held_bytes, "example", "task_id", (json_int_t)g->example_id, "age_ms",
            g->example_age_ms, "more_like_it", (json_int_t)(g->count > 0 ? g->count - 1 : 0));
        char hint[512];
        lb_leak_hint(g, sc, hint, sizeof hint);
        json_object_set_new(jg, "growth_per_s",
                            g->growth_per_s >= 0 ? json_real(g->growth_per_s) : json_null());
        json_object_set_new(jg, "hint", json_string(hint));
        if (g->ages_unknown) {
            json_object_set_new(jg, "age_ms", json_null());
            json_object_set_new(json_object_get(jg, "example"), "age_ms", json_null());
        }
        json_array_append_new(groups, jg);
    }
    return json_pack("{s:I, s:I, s:o}", "total", (json_int_t)r->total, "grouped",
                     (json_int_t)r->grouped, "groups", groups);
}

/* ---------------------------------------------------------------- hints -- */

/* What an operation says when it points to several patterns (or none):
 * runtime knowledge, not the catalogue's. */
typedef struct op_advice {
    const char *what; /* the shape of the leak, or NULL */
    const char *fix;
} op_advice;

static op_advice advice_for(int op)
{
    switch (op) {
    case RT_OP_SEND:
        return (op_advice){"a sender nobody receives from",
                           "send in a select on the context, or give the channel the buffer "
                           "every sender needs"};
    case RT_OP_RECV:
        return (op_advice){"a receiver waiting for a close, stop or cancel that never comes",
                           "close or cancel on every path, and receive in a select on the "
                           "context"};
    case RT_OP_SELECT:
        return (op_advice){NULL, "add the request's or the owner's context as a case of the "
                                 "select"};
    case RT_OP_JOIN:
        return (op_advice){NULL, "cancel the group before joining it, and let every child "
                                 "watch its context"};
    case RT_OP_IO:
        return (op_advice){NULL, "give the read or write a context that ends when its request "
                                 "or connection does (a client deadline, the server's shutdown)"};
    default:
        return (op_advice){NULL, "give every blocking call a context that someone cancels"};
    }
}

/* True when pattern SC's leak signature matches the group's operation
 * (and, for a send, whether the channel is a full buffered one). */
static bool signature_matches(const lb_scenario *sc, const lb_leak_group *g)
{
    if (g->op < 0 || !(sc->leak.ops & LB_OP_BIT(g->op))) return false;
    if (g->op != RT_OP_SEND) return true;
    bool full = g->has_chan && g->chan_cap > 0 && g->chan_len >= g->chan_cap;
    return sc->leak.full_channel == full;
}

/* "1-4, 6, 8": sorted pattern numbers with runs as ranges. */
static void format_pattern_list(const int *num, int n, char *out, size_t size)
{
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < n && len < size;) {
        int end = i;
        while (end + 1 < n && num[end + 1] == num[end] + 1) end++;
        if (end > i)
            len +=
                (size_t)snprintf(out + len, size - len, "%s%d-%d", i ? ", " : "", num[i], num[end]);
        else
            len += (size_t)snprintf(out + len, size - len, "%s%d", i ? ", " : "", num[i]);
        i = end + 1;
    }
}

/* The patterns of the registered scenarios (lb_scenario.leak) the
 * group's operation points to, when the scenario's own site cannot say:
 * "pattern 10 (lock leak): <its hint>" when one matches, "patterns 1-4,
 * 6, 8 (<what the operation means>): <the operation's fix>" when several
 * do, the operation's fix alone when none does. */
static void pattern_by_op(const lb_leak_group *g, char *out, size_t n)
{
    const lb_scenario *one = NULL;
    int num[64], matches = 0;
    /* The registry is sorted by pattern; two scenarios of one pattern count once. */
    for (size_t i = 0; i < lb_scenario_count() && matches < 64; i++) {
        const lb_scenario *sc = lb_scenario_at(i);
        if (!signature_matches(sc, g) || (matches && num[matches - 1] == sc->pattern)) continue;
        one = sc;
        num[matches++] = sc->pattern;
    }
    op_advice a = advice_for(g->op);
    if (matches == 1) {
        snprintf(out, n, "pattern %d (%s): %s", one->pattern, one->leak.name, one->leak.hint);
    } else if (matches > 1) {
        char list[256];
        format_pattern_list(num, matches, list, sizeof list);
        snprintf(out, n, "patterns %s (%s): %s", list, a.what ? a.what : "this operation", a.fix);
    } else {
        snprintf(out, n, "%s", a.fix);
    }
}

/* True when the group blocks in the scenario's own source file. */
static bool site_in_scenario(const lb_leak_group *g, const lb_scenario *sc)
{
    if (!sc || g->op <= 0) return false;
    char want[LB_LEAK_STR];
    snprintf(want, sizeof want, "%s.c", sc->name);
    size_t fl = strlen(g->site.file), wl = strlen(want);
    if (fl < wl || strcmp(g->site.file + fl - wl, want)) return false;
    return fl == wl || g->site.file[fl - wl - 1] == '/';
}

void lb_leak_hint(const lb_leak_group *g, const lb_scenario *sc, char *out, size_t n)
{
    if (!n) return;
    if (g->hint[0]) {
        snprintf(out, n, "%s", g->hint);
        return;
    }
    char what[256];
    switch (g->op) {
    case RT_OP_SEND:
        if (g->has_chan && g->chan_cap == 0)
            snprintf(what, sizeof what,
                     "Blocked sending on an unbuffered channel that no receiver is waiting on");
        else if (g->has_chan)
            snprintf(what, sizeof what, "Blocked sending into a %sbuffered channel (%lld of %lld)",
                     g->chan_len >= g->chan_cap ? "full " : "", (long long)g->chan_len,
                     (long long)g->chan_cap);
        else
            snprintf(what, sizeof what, "Blocked in a send");
        break;
    case RT_OP_RECV:
        snprintf(what, sizeof what, "Blocked receiving from a%s channel that nobody sends on%s",
                 g->has_chan && g->chan_closed ? " closed" : "n open",
                 g->has_chan && !g->chan_closed ? " or closes" : "");
        break;
    case RT_OP_SELECT:
        snprintf(what, sizeof what, "Blocked in a select no case of which is ready");
        break;
    case RT_OP_LOCK:
        snprintf(what, sizeof what, "Waiting for a mutex that is never unlocked");
        break;
    case RT_OP_WAITGROUP:
        snprintf(what, sizeof what, "Waiting for a wait group whose counter never reaches zero");
        break;
    case RT_OP_JOIN:
        snprintf(what, sizeof what, "Waiting to join children that never end");
        break;
    case RT_OP_IO:
        snprintf(what, sizeof what, "Waiting for a socket or file descriptor to become ready");
        break;
    case RT_OP_SLEEP:
        snprintf(what, sizeof what, "Sleeping in a loop that nobody stops");
        break;
    case RT_OP_RUNNING:
        snprintf(what, sizeof what, "Still running after shutdown");
        break;
    default:
        snprintf(what, sizeof what, "Tasks of several kinds");
        break;
    }
    const char *escape = g->op <= 0 || g->op == RT_OP_SLEEP ? ""
                         : g->cancellable ? ", under a context that nobody cancelled"
                                          : ", with no cancellation case (no context)";
    if (site_in_scenario(g, sc)) {
        snprintf(out, n, "%s%s. Pattern %d (%s); fix: %s", what, escape, sc->pattern, sc->title,
                 sc->fix);
    } else {
        char likely[512];
        pattern_by_op(g, likely, sizeof likely);
        snprintf(out, n, "%s%s. Likely %s", what, escape, likely);
    }
}

/* --------------------------------------------------------- from JSON -- */

static void site_from_json(const json_t *j, lb_leak_site *s)
{
    memset(s, 0, sizeof *s);
    const char *file = json_string_value(json_object_get(j, "file"));
    const char *func = json_string_value(json_object_get(j, "func"));
    snprintf(s->file, sizeof s->file, "%s", file ? file : "");
    snprintf(s->func, sizeof s->func, "%s", func ? func : "");
    s->line = (int)json_integer_value(json_object_get(j, "line"));
}

static double real_or(const json_t *j, double unknown)
{
    return json_is_number(j) ? json_number_value(j) : unknown;
}

int lb_leak_report_from_json(const json_t *j, lb_leak_report *out)
{
    memset(out, 0, sizeof *out);
    const json_t *groups = json_object_get(j, "groups");
    if (!json_is_object(j) || !json_is_array(groups) ||
        !json_is_integer(json_object_get(j, "total")))
        return -EBADMSG;
    out->total = json_integer_value(json_object_get(j, "total"));
    out->grouped = json_is_integer(json_object_get(j, "grouped"))
                       ? json_integer_value(json_object_get(j, "grouped"))
                       : out->total;
    size_t i;
    const json_t *jg;
    json_array_foreach(groups, i, jg)
    {
        if (out->n_groups == LB_LEAK_MAX_GROUPS) break;
        const char *op = json_string_value(json_object_get(jg, "op"));
        if (!json_is_object(jg) || !op || !json_is_integer(json_object_get(jg, "count")))
            return -EBADMSG;
        lb_leak_group *g = &out->groups[out->n_groups++];
        memset(g, 0, sizeof *g);
        g->op = -1;
        for (int k = 0; k < RT_OP_COUNT; k++)
            if (!strcmp(op, rt_op_name((rt_op)k))) g->op = k;
        if (g->op < 0) snprintf(g->op_name, sizeof g->op_name, "%s", op);
        const char *hint = json_string_value(json_object_get(jg, "hint"));
        const char *role = json_string_value(json_object_get(jg, "role"));
        snprintf(g->hint, sizeof g->hint, "%s", hint ? hint : "");
        snprintf(g->role, sizeof g->role, "%s", role ? role : "");
        site_from_json(json_object_get(jg, "site"), &g->site);
        site_from_json(json_object_get(jg, "spawn_site"), &g->spawn_site);
        g->count = json_integer_value(json_object_get(jg, "count"));
        g->growth_per_s = real_or(json_object_get(jg, "growth_per_s"), -1);
        const json_t *age = json_object_get(jg, "age_ms");
        g->ages_unknown = !json_is_object(age);
        g->oldest_ms = real_or(json_object_get(age, "oldest"), 0);
        g->median_ms = real_or(json_object_get(age, "median"), 0);
        g->p99_ms = real_or(json_object_get(age, "p99"), 0);
        g->cancellable = json_is_true(json_object_get(jg, "cancellable"));
        const json_t *chan = json_object_get(jg, "chan");
        if ((g->has_chan = json_is_object(chan))) {
            g->chan_cap = json_integer_value(json_object_get(chan, "cap"));
            g->chan_len = json_integer_value(json_object_get(chan, "len"));
            g->chan_closed = json_is_true(json_object_get(chan, "closed"));
            g->chan_send_waiters = json_integer_value(json_object_get(chan, "send_waiters"));
            g->chan_recv_waiters = json_integer_value(json_object_get(chan, "recv_waiters"));
        }
        g->held_bytes = json_integer_value(json_object_get(jg, "held_bytes"));
        const json_t *ex = json_object_get(jg, "example");
        g->example_id = (uint64_t)json_integer_value(json_object_get(ex, "task_id"));
        g->example_age_ms = real_or(json_object_get(ex, "age_ms"), 0);
    }
    return 0;
}

static bool same_site(const lb_leak_site *a, const lb_leak_site *b)
{
    return a->line == b->line && !strcmp(a->file, b->file) && !strcmp(a->func, b->func);
}

static bool same_group(const lb_leak_group *a, const lb_leak_group *b)
{
    return a->op == b->op && !strcmp(a->op_name, b->op_name) && same_site(&a->site, &b->site) &&
           !strcmp(a->role, b->role);
}

/* The same kind of task caught mid-work at one of the two snapshots: same
 * role, spawned at the same site, one of them running. */
static bool same_task_caught_running(const lb_leak_group *a, const lb_leak_group *b)
{
    return (a->op == RT_OP_RUNNING || b->op == RT_OP_RUNNING) && !strcmp(a->role, b->role) &&
           same_site(&a->spawn_site, &b->spawn_site);
}

void lb_leak_report_subtract(lb_leak_report *r, const lb_leak_report *base)
{
    /* Each base group's tasks are taken off the exactly matching group
     * first, then off a group of the same kind of task when one of the two
     * was running: a server's accept loop, there at ready, may be accepting
     * (running) at one snapshot and waiting in accept (io) at the other. */
    for (int k = 0; k < base->n_groups; k++) {
        int64_t left = base->groups[k].count;
        for (int pass = 0; pass < 2 && left > 0; pass++)
            for (int i = 0; i < r->n_groups && left > 0; i++) {
                lb_leak_group *g = &r->groups[i];
                bool match = pass == 0 ? same_group(g, &base->groups[k])
                                       : same_task_caught_running(g, &base->groups[k]);
                if (!match || g->count <= 0) continue;
                int64_t take = g->count < left ? g->count : left;
                g->count -= take;
                left -= take;
            }
    }
    int kept = 0;
    r->total = r->grouped = 0;
    for (int i = 0; i < r->n_groups; i++) {
        if (r->groups[i].count <= 0) continue;
        r->groups[kept++] = r->groups[i];
        r->total += r->groups[i].count;
        r->grouped += r->groups[i].count;
    }
    r->n_groups = kept;
}
