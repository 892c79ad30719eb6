/*
 * goleak.c — a Go target's goroutines grouped into the leak report.
 *
 * How it works: every stack of the final debug=2 profile is placed in a
 * group keyed by (wait reason, site frame, creator function), the site
 * picked by lb_go_site_frame (goleak.h has the rule).  A group's count
 * over time is its site's count in each periodic snapshot (lb_go_series,
 * kept per site hash): the first snapshot gives its baseline, the rest
 * its growth.  Groups with nothing
 * beyond their baseline are dropped; the rest become lb_leak_group rows
 * (count = the excess), sorted by count, folded into "(other)" past
 * LB_LEAK_MAX_GROUPS as the built-in report does.
 */
#include "goleak.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ series -- */

static int grow(void **p, int *cap, int need, size_t size)
{
    if (need <= *cap) return 0;
    int ncap = *cap ? *cap * 2 : 16;
    while (ncap < need) ncap *= 2;
    void *np = realloc(*p, (size_t)ncap * size);
    if (!np) return -ENOMEM;
    *p = np;
    *cap = ncap;
    return 0;
}

static int series_key(const lb_go_series *s, uint64_t key)
{
    for (int k = 0; k < s->n_keys; k++)
        if (s->keys[k] == key) return k;
    return -1;
}

static bool library_frame(const lb_go_frame *f, const char *goroot);

/* The hash of the site frame of a stack (0 for a stack without frames). */
static uint64_t site_key(const lb_go_stack *st, const char *goroot, const char *own_dir)
{
    if (!st->n_frames) return 0;
    bool own;
    return lb_go_frame_hash(&st->frames[lb_go_site_frame(st, goroot, own_dir, &own)]);
}

/* The profile is fetched over HTTP, so it always holds the probe's own
 * request: its handler (running, left out of the report anyway) and its
 * connection's background reader, blocked in IO wait under
 * net/http.(*connReader).backgroundRead.  One such goroutine is the
 * probe's; the index of the stack it is in, or -1. */
static int probe_reader_stack(const lb_go_profile *p)
{
    for (int i = 0; i < p->n_stacks; i++)
        for (int f = 0; f < p->stacks[i].n_frames; f++)
            if (strcmp(p->stacks[i].frames[f].func, "net/http.(*connReader).backgroundRead") == 0)
                return i;
    return -1;
}

int lb_go_series_add(lb_go_series *s, const lb_go_profile *p, double t_s, const char *own_dir)
{
    int probe_own = probe_reader_stack(p);
    char goroot[256];
    lb_go_profile_goroot(p, goroot, sizeof goroot);
    int cap_keys = s->cap_keys;
    if (grow((void **)&s->t_s, &s->cap_snaps, s->n_snaps + 1, sizeof *s->t_s) < 0) return -ENOMEM;
    int snap = s->n_snaps;
    /* Every known key gets a slot for this snapshot (0 until counted). */
    for (int k = 0; k < s->n_keys; k++) {
        int64_t *c = realloc(s->counts[k], (size_t)(snap + 1) * sizeof *c);
        if (!c) return -ENOMEM;
        c[snap] = 0;
        s->counts[k] = c;
    }
    for (int i = 0; i < p->n_stacks; i++) {
        uint64_t key = site_key(&p->stacks[i], goroot, own_dir);
        int k = series_key(s, key);
        if (k < 0) {
            if (grow((void **)&s->keys, &s->cap_keys, s->n_keys + 1, sizeof *s->keys) < 0)
                return -ENOMEM;
            int cc = cap_keys;
            if (grow((void **)&s->counts, &cc, s->n_keys + 1, sizeof *s->counts) < 0)
                return -ENOMEM;
            cap_keys = s->cap_keys;
            int64_t *c = calloc((size_t)snap + 1, sizeof *c);
            if (!c) return -ENOMEM;
            k = s->n_keys++;
            s->keys[k] = key;
            s->counts[k] = c;
        }
        s->counts[k][snap] += p->stacks[i].count - (i == probe_own);
    }
    s->t_s[snap] = t_s;
    s->n_snaps++;
    return 0;
}

void lb_go_series_free(lb_go_series *s)
{
    for (int k = 0; k < s->n_keys; k++) free(s->counts[k]);
    free(s->counts);
    free(s->keys);
    free(s->t_s);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------- wait reasons -- */

static bool has_func_prefix(const lb_go_stack *s, const char *prefix)
{
    size_t n = strlen(prefix);
    for (int i = 0; i < s->n_frames; i++)
        if (strncmp(s->frames[i].func, prefix, n) == 0) return true;
    return false;
}

int lb_go_wait_op(const char *state, const lb_go_stack *s)
{
    static const struct {
        const char *prefix;
        int op;
    } map[] = {
        {"chan send", RT_OP_SEND},      {"chan receive", RT_OP_RECV},
        {"select", RT_OP_SELECT},       {"sleep", RT_OP_SLEEP},
        {"sync.Mutex", RT_OP_LOCK},     {"sync.RWMutex", RT_OP_LOCK},
        {"sync.Cond.Wait", RT_OP_LOCK}, {"sync.WaitGroup.Wait", RT_OP_WAITGROUP},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strncmp(state, map[i].prefix, strlen(map[i].prefix)) == 0) return map[i].op;
    if (strcmp(state, "semacquire") == 0)
        return s && has_func_prefix(s, "sync.(*WaitGroup).Wait") ? RT_OP_WAITGROUP : RT_OP_LOCK;
    return RT_OP_RUNNING;
}

/* -------------------------------------------------------- own code -- */

/* The package path of a function name: "net/http" of
 * "net/http.(*Server).Serve", "main" of "main.main". */
static size_t package_len(const char *func)
{
    const char *slash = strrchr(func, '/');
    const char *dot = strchr(slash ? slash : func, '.');
    return dot ? (size_t)(dot - func) : strlen(func);
}

/* A standard-library package path has no dot in its first element. */
static bool std_package(const char *func)
{
    size_t n = package_len(func);
    const char *slash = memchr(func, '/', n);
    size_t first = slash ? (size_t)(slash - func) : n;
    return !(n == 4 && strncmp(func, "main", 4) == 0) && !memchr(func, '.', first);
}

static bool goroot_of(const lb_go_frame *f, char *out, size_t n)
{
    if (!std_package(f->func)) return false;
    char want[200];
    snprintf(want, sizeof want, "/src/%.*s/", (int)package_len(f->func), f->func);
    const char *at = strstr(f->file, want);
    if (!at) return false;
    snprintf(out, n, "%.*s", (int)(at - f->file + 1), f->file);
    return true;
}

void lb_go_profile_goroot(const lb_go_profile *p, char *out, size_t n)
{
    out[0] = 0;
    for (int i = 0; i < p->n_stacks; i++) {
        const lb_go_stack *s = &p->stacks[i];
        for (int j = 0; j < s->n_frames; j++)
            if (goroot_of(&s->frames[j], out, n)) return;
        if (s->has_creator && goroot_of(&s->creator, out, n)) return;
    }
}

static bool under(const char *file, const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    return strncmp(file, dir, n) == 0 && file[n] == '/';
}

static bool library_frame(const lb_go_frame *f, const char *goroot)
{
    if (strstr(f->file, "/pkg/mod/") || strstr(f->file, "@v")) return true; /* a dependency */
    if (goroot && *goroot) {
        char src[300];
        snprintf(src, sizeof src, "%ssrc", goroot);
        return under(f->file, src);
    }
    return std_package(f->func);
}

int lb_go_site_frame(const lb_go_stack *s, const char *goroot, const char *own_dir, bool *own)
{
    *own = true;
    if (own_dir && *own_dir)
        for (int i = 0; i < s->n_frames; i++)
            if (under(s->frames[i].file, own_dir)) return i;
    for (int i = 0; i < s->n_frames; i++)
        if (!library_frame(&s->frames[i], goroot)) return i;
    *own = false;
    return 0;
}

/* ----------------------------------------------------------- groups -- */

typedef struct ggroup {
    char state[40];
    int op;
    bool own, has_site;
    lb_go_frame site;
    bool has_creator;
    lb_go_frame creator;
    int64_t count;
    uint64_t *keys;
    int n_keys;
    int64_t *waits;
    size_t n_waits;
    int64_t example_id, example_wait;
    int64_t base, excess;
    double growth_per_s;
} ggroup;

static bool same_frame(const lb_go_frame *a, const lb_go_frame *b)
{
    return a->line == b->line && !strcmp(a->file, b->file) && !strcmp(a->func, b->func);
}

static ggroup *find_group(ggroup *g, int n, const char *state, const lb_go_frame *site,
                          const lb_go_stack *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(g[i].state, state) && same_frame(&g[i].site, site) &&
            g[i].has_creator == s->has_creator &&
            (!s->has_creator || !strcmp(g[i].creator.func, s->creator.func)))
            return &g[i];
    return NULL;
}

static int add_stack(ggroup *g, const lb_go_stack *s, uint64_t key, int discount)
{
    bool known = false;
    for (int k = 0; k < g->n_keys && !known; k++) known = g->keys[k] == key;
    if (!known) {
        uint64_t *keys = realloc(g->keys, (size_t)(g->n_keys + 1) * sizeof *keys);
        if (!keys) return -ENOMEM;
        keys[g->n_keys++] = key;
        g->keys = keys;
    }
    if (s->n_waits) {
        int64_t *w = realloc(g->waits, (g->n_waits + s->n_waits) * sizeof *w);
        if (!w) return -ENOMEM;
        memcpy(w + g->n_waits, s->wait_minutes, s->n_waits * sizeof *w);
        g->waits = w;
        g->n_waits += s->n_waits;
    }
    int64_t oldest = -1;
    for (size_t i = 0; i < s->n_waits; i++)
        if (s->wait_minutes[i] > oldest) oldest = s->wait_minutes[i];
    if (g->count == 0 || oldest > g->example_wait) {
        g->example_id = s->example_id;
        g->example_wait = oldest;
    }
    g->count += s->count - discount;
    return 0;
}

/* The group's count in snapshot i of the series. */
static int64_t count_at(const ggroup *g, const lb_go_series *s, int snap)
{
    int64_t c = 0;
    for (int k = 0; k < g->n_keys; k++) {
        int idx = series_key(s, g->keys[k]);
        if (idx >= 0) c += s->counts[idx][snap];
    }
    return c;
}

/* Baseline, and growth while it grew: the peak minus the lowest count
 * before it, over the time between the last such low and the peak. */
static void measure_growth(ggroup *g, const lb_go_series *s)
{
    g->base = 0;
    g->growth_per_s = -1;
    if (!s || s->n_snaps == 0) return;
    g->base = count_at(g, s, 0);
    int peak = 0;
    int64_t peak_c = g->base;
    for (int i = 1; i < s->n_snaps; i++) {
        int64_t c = count_at(g, s, i);
        if (c > peak_c) {
            peak_c = c;
            peak = i;
        }
    }
    if (s->n_snaps < 2) return;
    if (peak == 0) {
        g->growth_per_s = 0;
        return;
    }
    int low = 0;
    int64_t low_c = g->base;
    for (int i = 0; i < peak; i++) {
        int64_t c = count_at(g, s, i);
        if (c <= low_c) {
            low_c = c;
            low = i;
        }
    }
    double dt = s->t_s[peak] - s->t_s[low];
    g->growth_per_s = dt > 0 ? (double)(peak_c - low_c) / dt : -1;
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int compare_excess(const void *a, const void *b)
{
    const ggroup *x = a, *y = b;
    if (x->excess != y->excess) return x->excess > y->excess ? -1 : 1;
    return strcmp(x->site.file, y->site.file);
}

static const char *short_name(const char *func)
{
    const char *slash = strrchr(func, '/');
    return slash ? slash + 1 : func;
}

/* The hint of a Go group: the evidence, then the likely pattern. */
static void go_hint(const ggroup *g, char *out, size_t n)
{
    const char *where = g->own ? "" : " (no frame in the target's own code: library machinery)";
    const char *pattern;
    switch (g->op) {
    case RT_OP_SEND:
        pattern = "Likely pattern 1 (timeout leak) or 3, 4, 6, 8 (a sender nobody receives "
                  "from): send in a select on the request's context, or give the channel the "
                  "buffer every sender needs";
        break;
    case RT_OP_RECV:
        pattern = "Likely pattern 5, 7 or 9 (a receiver waiting for a close, stop or cancel "
                  "that never comes): close or cancel on every path, receive in a select on "
                  "the context";
        break;
    case RT_OP_SELECT:
        pattern = "No case of the select is ready: add the request's or owner's context "
                  "(ctx.Done()) as a case, and make sure someone cancels it";
        break;
    case RT_OP_LOCK:
        pattern = "Likely pattern 10 (lock leak): unlock on every path (defer), one lock "
                  "order, and signal every condition wait";
        break;
    case RT_OP_WAITGROUP:
        pattern = "Likely pattern 11 (wait-group mismatch): Add before go, Done in a defer";
        break;
    case RT_OP_SLEEP:
        pattern = "Likely pattern 13 (timer never stopped): a loop that nobody stops; give "
                  "it a context or a stop channel its owner closes";
        break;
    default:
        pattern = strcmp(g->state, "IO wait") == 0
                      ? "Waiting for network I/O: connections kept open (idle keep-alive, a "
                        "client that never closes); check what holds them and set timeouts"
                      : "Not blocked on a channel or lock: still running, or in a system call";
        break;
    }
    char text[1024];
    snprintf(text, sizeof text, "%s%s%s; %lld beyond the baseline of %lld. %s", g->state,
             g->op == RT_OP_SEND || g->op == RT_OP_RECV ? " outside a select: no way out" : "",
             where, (long long)g->excess, (long long)g->base, pattern);
    size_t len = strlen(text) < n - 1 ? strlen(text) : n - 1;
    memcpy(out, text, len);
    out[len] = 0;
}

/* Copies s into dst (cap bytes), keeping its end when it is too long:
 * the end of a path or a function name is the part that tells. */
static void copy_tail(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n < cap) {
        memcpy(dst, s, n + 1);
        return;
    }
    memcpy(dst, "...", 3);
    memcpy(dst + 3, s + n - (cap - 4), cap - 3);
}

static void to_site(lb_leak_site *dst, const lb_go_frame *f)
{
    copy_tail(dst->file, sizeof dst->file, f->file);
    dst->line = f->line;
    copy_tail(dst->func, sizeof dst->func, short_name(f->func));
}

static void fill_row(lb_leak_group *row, ggroup *g)
{
    memset(row, 0, sizeof *row);
    row->op = g->op;
    snprintf(row->op_name, sizeof row->op_name, "%s", g->state);
    if (g->has_site) to_site(&row->site, &g->site);
    if (g->has_creator) {
        to_site(&row->spawn_site, &g->creator);
        copy_tail(row->role, sizeof row->role, short_name(g->creator.func));
    } else {
        snprintf(row->role, sizeof row->role, "(no creator: main or a runtime goroutine)");
    }
    row->count = g->excess;
    row->growth_per_s = g->growth_per_s;
    row->cancellable = g->op == RT_OP_SELECT;
    row->example_id = (uint64_t)g->example_id;
    qsort(g->waits, g->n_waits, sizeof *g->waits, compare_i64);
    bool known = g->n_waits && g->waits[g->n_waits - 1] >= 0;
    row->ages_unknown = !known;
    if (known) {
        double to_ms = 60000.0;
        size_t n = g->n_waits;
        /* Go reports whole minutes from one minute on: a goroutine with none
         * waited less, and counts as 0 here (ages are lower bounds). */
#define AGE(i) ((double)(g->waits[(i)] < 0 ? 0 : g->waits[(i)]) * to_ms)
        row->oldest_ms = AGE(n - 1);
        row->median_ms = AGE((size_t)(0.5 * (double)(n - 1) + 0.5));
        row->p99_ms = AGE((size_t)(0.99 * (double)(n - 1) + 0.5));
        row->example_age_ms = (double)(g->example_wait < 0 ? 0 : g->example_wait) * to_ms;
#undef AGE
    }
    go_hint(g, row->hint, sizeof row->hint);
}

static void free_groups(ggroup *g, int n)
{
    for (int i = 0; i < n; i++) {
        free(g[i].keys);
        free(g[i].waits);
    }
    free(g);
}

/* Goroutines that are not waiting — among them the probe's own request,
 * which is running while the profile is written — are not leaks. */
static bool making_progress(const char *state)
{
    return !strcmp(state, "running") || !strcmp(state, "runnable") || !strcmp(state, "syscall");
}

int lb_go_leak_report(const lb_go_profile *final, const lb_go_series *series, const char *own_dir,
                      lb_leak_report *out)
{
    memset(out, 0, sizeof *out);
    if (final->debug != 2) return -EINVAL;
    char goroot[256];
    lb_go_profile_goroot(final, goroot, sizeof goroot);
    ggroup *groups = calloc((size_t) final->n_stacks + 1, sizeof *groups);
    if (!groups) return -ENOMEM;
    int n = 0, probe_own = probe_reader_stack(final);
    for (int i = 0; i < final->n_stacks; i++) {
        const lb_go_stack *s = &final->stacks[i];
        if (making_progress(s->state) || (i == probe_own && s->count == 1)) continue;
        bool own;
        int at = lb_go_site_frame(s, goroot, own_dir, &own);
        lb_go_frame none = {{0}, {0}, 0};
        const lb_go_frame *site = s->n_frames ? &s->frames[at] : &none;
        ggroup *g = find_group(groups, n, s->state, site, s);
        if (!g) {
            g = &groups[n++];
            snprintf(g->state, sizeof g->state, "%s", s->state);
            g->op = lb_go_wait_op(s->state, s);
            g->own = own && s->n_frames;
            g->has_site = s->n_frames > 0;
            g->site = *site;
            g->has_creator = s->has_creator;
            if (s->has_creator) g->creator = s->creator;
            g->example_wait = -1;
        }
        if (add_stack(g, s, site_key(s, goroot, own_dir), i == probe_own) < 0) {
            free_groups(groups, n);
            return -ENOMEM;
        }
    }
    int kept = 0;
    for (int i = 0; i < n; i++) {
        measure_growth(&groups[i], series);
        groups[i].excess = groups[i].count - groups[i].base;
        if (groups[i].excess > 0) {
            out->total += groups[i].excess;
            kept++;
        }
    }
    qsort(groups, (size_t)n, sizeof *groups, compare_excess);
    int rows = kept <= LB_LEAK_MAX_GROUPS ? kept : LB_LEAK_MAX_GROUPS - 1;
    for (int i = 0; i < rows; i++) fill_row(&out->groups[i], &groups[i]);
    if (rows < kept) {
        lb_leak_group *other = &out->groups[rows];
        memset(other, 0, sizeof *other);
        other->op = -1;
        other->growth_per_s = -1;
        other->ages_unknown = true;
        snprintf(other->role, sizeof other->role, "(other)");
        for (int i = rows; i < kept; i++) other->count += groups[i].excess;
        rows++;
    }
    out->n_groups = rows;
    out->grouped = out->total;
    free_groups(groups, n);
    return 0;
}
