/*
 * bench/compare.c — the summary `make bench` prints: leakbench's runtime
 * benchmarks beside their Go twins, measured interleaved in one run.
 *
 * Usage: compare --rounds N [--go-note TEXT] [--markdown] DIR
 *
 * bench/run leaves DIR/rN/PROG.SCHED.json for rounds 1..N, programs
 * rt_bench and sched_coro_bench, schedulers coroutines, threads and go
 * (the Go twins, bench/go/).  Every figure a program prints is either
 * {"median": m, "unit": u, ...} or {"value": v, "unit": u, ...}; a figure
 * present for coroutines and for Go is compared:
 *   - "coroutines" and "go": the median over the rounds of each side's
 *     per-round figure;
 *   - "ratio": the median of the per-round ratios leakbench ÷ Go (each
 *     round's two numbers were measured minutes apart on the same machine,
 *     so their ratio is what survives the machine's drift);
 *   - "better": "higher" for throughputs (units ending in "/s"), "lower"
 *     for times and bytes; "at_or_better_than_go" reads the ratio that way;
 *   - "stalled" and "retried": per side, how many repetitions over all
 *     rounds the stall guard (runtime/bench_util.h) left out of the
 *     medians, and measured again after a machine stall.
 * The threads scheduler's figures are reported as medians over the rounds,
 * with its ping-pong ratio to a bare condition-variable ping-pong measured
 * in the same process.  Without Go (DIR has no *.go.json), "go" is null and
 * "go_note" says why.
 *
 * Prints one JSON object on stdout (with --markdown, the same numbers as
 * the README's table instead); exit status 1 if a round's file is
 * missing or unreadable, 2 on bad usage.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUNDS 32

static const char *const programs[] = {"rt_bench", "sched_coro_bench"};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* DIR/rROUND/PROG.SCHED.json, or NULL (with a message when must_exist). */
static json_t *load(const char *dir, int round, const char *prog, const char *sched,
                    bool must_exist)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/r%d/%s.%s.json", dir, round, prog, sched);
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j && must_exist) fprintf(stderr, "compare: %s: %s\n", path, err.text);
    return j;
}

/* A figure's number: its "median", else its "value"; false if not a figure. */
static bool figure_value(json_t *fig, double *v, const char **unit)
{
    if (!json_is_object(fig)) return false;
    json_t *u = json_object_get(fig, "unit");
    json_t *m = json_object_get(fig, "median");
    if (!m) m = json_object_get(fig, "value");
    if (!json_is_string(u) || !json_is_number(m)) return false;
    *v = json_number_value(m);
    *unit = json_string_value(u);
    return true;
}

static bool higher_is_better(const char *unit)
{
    size_t n = strlen(unit);
    return n >= 2 && strcmp(unit + n - 2, "/s") == 0;
}

/* Sets o's "stalled" and "retried" to {"coroutines": n, "go": n}: how
 * many of the figure's repetitions the stall guard left out of the medians
 * and measured again, summed over the rounds (no "go" without the twins). */
static void set_stall_counts(json_t *o, json_t *const *coro, json_t *const *go, int rounds,
                             const char *key)
{
    json_t *stalled = json_object(), *retried = json_object();
    json_t *const *sides[] = {coro, go};
    const char *names[] = {"coroutines", "go"};
    for (int side = 0; side < 2; side++) {
        if (!sides[side][0]) continue;
        json_int_t s = 0, r = 0;
        for (int i = 0; i < rounds; i++) {
            json_t *fig = json_object_get(sides[side][i], key);
            s += (json_int_t)json_array_size(json_object_get(fig, "stalled"));
            r += json_integer_value(json_object_get(fig, "retried"));
        }
        json_object_set_new(stalled, names[side], json_integer(s));
        json_object_set_new(retried, names[side], json_integer(r));
    }
    json_object_set_new(o, "stalled", stalled);
    json_object_set_new(o, "retried", retried);
}

static json_t *samples_array(const double *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_real(v[i]));
    return a;
}

/* Compares every figure of prog that both coroutines and Go report. */
static int compare_program(const char *dir, int rounds, const char *prog, bool with_go,
                           json_t *figures, json_t *threads)
{
    json_t *coro[MAX_ROUNDS] = {0}, *go[MAX_ROUNDS] = {0}, *thr[MAX_ROUNDS] = {0};
    int rc = 0;
    for (int r = 0; r < rounds; r++) {
        coro[r] = load(dir, r + 1, prog, "coroutines", true);
        thr[r] = load(dir, r + 1, prog, "threads", true);
        if (with_go) go[r] = load(dir, r + 1, prog, "go", true);
        if (!coro[r] || !thr[r] || (with_go && !go[r])) rc = 1;
    }
    if (rc) goto out;

    const char *key;
    json_t *fig;
    json_object_foreach(coro[0], key, fig)
    {
        double v;
        const char *unit;
        if (!figure_value(fig, &v, &unit)) continue;
        double cv[MAX_ROUNDS] = {0}, gv[MAX_ROUNDS] = {0}, ratio[MAX_ROUNDS] = {0},
               ratio_sorted[MAX_ROUNDS];
        bool twin = with_go;
        for (int r = 0; r < rounds; r++) {
            const char *u2;
            if (!figure_value(json_object_get(coro[r], key), &cv[r], &u2)) cv[r] = 0;
            if (twin && !figure_value(json_object_get(go[r], key), &gv[r], &u2)) twin = false;
        }
        if (!with_go || twin) {
            json_t *o = json_object();
            json_object_set_new(o, "program", json_string(prog));
            json_object_set_new(o, "figure", json_string(key));
            json_object_set_new(o, "unit", json_string(unit));
            json_object_set_new(o, "better",
                                json_string(higher_is_better(unit) ? "higher" : "lower"));
            double tmp[MAX_ROUNDS] = {0};
            memcpy(tmp, cv, sizeof tmp);
            json_object_set_new(o, "coroutines", json_real(median(tmp, rounds)));
            if (twin) {
                memcpy(tmp, gv, sizeof tmp);
                json_object_set_new(o, "go", json_real(median(tmp, rounds)));
                for (int r = 0; r < rounds; r++) ratio[r] = gv[r] != 0 ? cv[r] / gv[r] : 0;
                memcpy(ratio_sorted, ratio, sizeof ratio);
                double m = median(ratio_sorted, rounds);
                json_object_set_new(o, "ratio", json_real(m));
                json_object_set_new(o, "round_ratios", samples_array(ratio, rounds));
                json_object_set_new(o, "at_or_better_than_go",
                                    json_boolean(higher_is_better(unit) ? m >= 1.0 : m <= 1.0));
            } else {
                json_object_set_new(o, "go", json_null());
            }
            set_stall_counts(o, coro, go, rounds, key);
            json_array_append_new(figures, o);
        }
    }

    /* Threads: every figure's median over the rounds, and the ratio. */
    json_t *t = json_object();
    json_object_foreach(thr[0], key, fig)
    {
        double v, tv[MAX_ROUNDS] = {0};
        const char *unit;
        if (figure_value(fig, &v, &unit)) {
            for (int r = 0; r < rounds; r++)
                if (!figure_value(json_object_get(thr[r], key), &tv[r], &unit)) tv[r] = 0;
            json_object_set_new(t, key, json_real(median(tv, rounds)));
        } else if (strcmp(key, "pingpong_ratio_runtime_over_bare") == 0) {
            for (int r = 0; r < rounds; r++)
                tv[r] = json_number_value(json_object_get(thr[r], key));
            json_object_set_new(t, key, json_real(median(tv, rounds)));
            json_object_set_new(t, "pingpong_ratio_rounds", samples_array(tv, rounds));
        }
    }
    json_object_set_new(threads, prog, t);

out:
    for (int r = 0; r < rounds; r++) {
        json_decref(coro[r]);
        json_decref(go[r]);
        json_decref(thr[r]);
    }
    return rc;
}

static char *read_line(const char *dir, const char *name)
{
    static char buf[2][512];
    static int which;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    char *b = buf[which++ % 2];
    b[0] = 0;
    if (f) {
        if (fgets(b, sizeof buf[0], f)) b[strcspn(b, "\n")] = 0;
        fclose(f);
    }
    return b;
}

/* One top-level key per line, and one line per figure, so that the ratio
 * of every figure reads at a glance. */
static void print_doc(json_t *doc)
{
    const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(5);
    const char *key;
    json_t *v;
    bool first = true;
    printf("{");
    json_object_foreach(doc, key, v)
    {
        printf("%s\n  \"%s\": ", first ? "" : ",", key);
        first = false;
        if (json_is_array(v) || json_is_object(v)) {
            bool is_arr = json_is_array(v);
            printf(is_arr ? "[" : "{");
            size_t i;
            json_t *e;
            const char *k;
            bool f2 = true;
            if (is_arr) {
                json_array_foreach(v, i, e)
                {
                    char *s = json_dumps(e, flags);
                    printf("%s\n    %s", f2 ? "" : ",", s);
                    free(s);
                    f2 = false;
                }
            } else {
                json_object_foreach(v, k, e)
                {
                    char *s = json_dumps(e, flags | JSON_ENCODE_ANY);
                    printf("%s\n    \"%s\": %s", f2 ? "" : ",", k, s);
                    free(s);
                    f2 = false;
                }
            }
            printf(is_arr ? "\n  ]" : "\n  }");
        } else {
            char *s = json_dumps(v, flags | JSON_ENCODE_ANY);
            printf("%s", s);
            free(s);
        }
    }
    printf("\n}\n");
}

/* A number with a unit, the way the README's table writes it. */
static void md_value(char *buf, size_t n, double v, const char *unit)
{
    if (strcmp(unit, "ns") == 0 && v >= 1000)
        snprintf(buf, n, "%.1f µs", v / 1000);
    else if (strcmp(unit, "ns") == 0)
        snprintf(buf, n, "%.0f ns", v);
    else if (strcmp(unit, "ms") == 0)
        snprintf(buf, n, v < 1 ? "%.3f ms" : "%.2f ms", v);
    else if (strcmp(unit, "bytes") == 0)
        snprintf(buf, n, "%.2f KiB", v / 1024);
    else
        snprintf(buf, n, "%.2f M %s", v / 1e6, unit);
}

/* The README's table: one row per compared figure. */
static void print_markdown(json_t *doc)
{
    printf("| program | figure | coroutines | Go | coroutines ÷ Go | threads |\n");
    printf("|---|---|---:|---:|---:|---:|\n");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "figures"), i, f)
    {
        const char *prog = json_string_value(json_object_get(f, "program"));
        const char *fig = json_string_value(json_object_get(f, "figure"));
        const char *unit = json_string_value(json_object_get(f, "unit"));
        char c[64], g[64] = "—", t[64] = "—", r[32] = "—";
        md_value(c, sizeof c, json_number_value(json_object_get(f, "coroutines")), unit);
        json_t *gv = json_object_get(f, "go");
        if (json_is_number(gv)) md_value(g, sizeof g, json_number_value(gv), unit);
        json_t *rv = json_object_get(f, "ratio");
        if (json_is_number(rv)) snprintf(r, sizeof r, "%.2f", json_number_value(rv));
        json_t *tv = json_object_get(json_object_get(json_object_get(doc, "threads"), prog), fig);
        if (json_is_number(tv)) md_value(t, sizeof t, json_number_value(tv), unit);
        printf("| %s | %s | %s | %s | %s | %s |\n", prog, fig, c, g, r, t);
    }
    json_t *tr = json_object_get(json_object_get(json_object_get(doc, "threads"), "rt_bench"),
                                 "pingpong_ratio_runtime_over_bare");
    if (json_is_number(tr))
        printf("\nthreads: ping-pong ÷ bare condition-variable ping-pong, same run: %.2f\n",
               json_number_value(tr));
}

int main(int argc, char **argv)
{
    int rounds = 0;
    const char *go_note = "", *dir = NULL;
    bool markdown = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--markdown") == 0)
            markdown = true;
        else if (strcmp(argv[i], "--go-note") == 0 && i + 1 < argc)
            go_note = argv[++i];
        else if (!dir)
            dir = argv[i];
        else
            rounds = -1;
    }
    if (!dir || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: compare --rounds N (1..%d) [--go-note TEXT] [--markdown] DIR\n",
                MAX_ROUNDS);
        return 2;
    }
    bool with_go = *go_note == 0;
    json_t *doc = json_object();
    json_object_set_new(doc, "benchmark", json_string("make bench"));
    json_object_set_new(doc, "rounds", json_integer(rounds));
    json_object_set_new(doc, "ratio",
                        json_string("leakbench coroutines / Go, median of the "
                                    "per-round ratios"));
    json_t *first = load(dir, 1, "rt_bench", with_go ? "go" : "coroutines", false);
    json_t *coro = load(dir, 1, "rt_bench", "coroutines", false);
    json_object_set_new(doc, "go",
                        with_go && first ? json_incref(json_object_get(first, "go_version"))
                                         : json_null());
    if (with_go && first)
        json_object_set_new(doc, "gomaxprocs", json_incref(json_object_get(first, "gomaxprocs")));
    else
        json_object_set_new(doc, "go_note", json_string(go_note));
    if (coro) json_object_set_new(doc, "cpus", json_incref(json_object_get(coro, "cpus")));
    json_decref(first);
    json_decref(coro);
    json_object_set_new(doc, "uptime_start", json_string(read_line(dir, "load-start")));
    json_object_set_new(doc, "uptime_end", json_string(read_line(dir, "load-end")));

    json_t *figures = json_array(), *threads = json_object();
    int rc = 0;
    for (size_t p = 0; p < sizeof programs / sizeof *programs; p++)
        rc |= compare_program(dir, rounds, programs[p], with_go, figures, threads);
    json_object_set_new(doc, "figures", figures);
    json_object_set_new(doc, "threads", threads);
    json_object_set_new(doc, "raw", json_string(dir));
    if (markdown)
        print_markdown(doc);
    else
        print_doc(doc);
    json_decref(doc);
    return rc;
}
