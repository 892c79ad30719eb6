/*
 * merge.c — shards back into one results document (merge.h).
 *
 * Three steps: check_inputs (every shard is one, and all are pieces of
 * the same whole: the first disagreement is the error), find_missing
 * (which indices were not given, with the scenarios they hold) and
 * build (scenarios in suite order, taken from the shard the rule puts
 * each in, then the thresholds evaluated on the result).  Nothing is
 * built until the checks pass, so a refused merge has no output.
 */
#include "merge.h"

#include "core/jsonutil.h"
#include "core/threshold.h"
#include "run/results.h"
#include "run/results_load.h"
#include "shard.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct merge_ctx {
    const char *const *paths;
    const json_t *const *docs;
    size_t n;
    int count; /* shard count */
    const json_t *suite_scenarios;
    size_t *by_index; /* count + 1 slots: input of shard i, or n when not given */
    char *err;
    size_t errlen;
} merge_ctx;

static const json_t *shard_of_doc(const json_t *doc)
{
    return json_object_get(doc, "shard");
}

static int shard_index(const json_t *doc)
{
    return (int)json_integer_value(json_object_get(shard_of_doc(doc), "index"));
}

static int fail(merge_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(merge_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* "null" or the string, for messages. */
static const char *shown(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : "null";
}

/* Input i is a shard whose index and count make sense. */
static int check_one(merge_ctx *c, size_t i)
{
    const char *path = c->paths[i];
    const json_t *s = shard_of_doc(c->docs[i]);
    if (!json_is_object(s))
        return fail(c, "%s: shard: not a shard's results (written by `leakbench run --shard I/N`)",
                    path);
    int index = shard_index(c->docs[i]);
    int count = (int)json_integer_value(json_object_get(s, "count"));
    if (count < 1 || count > LB_SHARD_MAX_COUNT || index < 1 || index > count)
        return fail(c, "%s: shard: %d/%d is not a shard (1 <= index <= count <= %d)", path, index,
                    count, LB_SHARD_MAX_COUNT);
    const char *rule = lb_jstr(s, "rule");
    if (strcmp(rule, LB_SHARD_RULE))
        return fail(c, "%s: shard.rule: \"%s\" is not this leakbench's rule \"%s\"", path, rule,
                    LB_SHARD_RULE);
    if (!json_is_string(json_object_get(c->docs[i], "suite")))
        return fail(c, "%s: suite: missing (every shard names its suite)", path);
    return 0;
}

/* Input i belongs with input 0: same version, suite, commit, shard count,
 * suite contents and A/A-ness. */
static int check_same_whole(merge_ctx *c, size_t i)
{
    const json_t *a = c->docs[0], *b = c->docs[i];
    const char *pa = c->paths[0], *pb = c->paths[i];
    json_int_t va = json_integer_value(json_object_get(a, "schema_version"));
    json_int_t vb = json_integer_value(json_object_get(b, "schema_version"));
    if (va != vb)
        return fail(c, "%s has schema_version %lld, %s has %lld: shards of different versions", pa,
                    (long long)va, pb, (long long)vb);
    const json_t *sa = json_object_get(a, "suite"), *sb = json_object_get(b, "suite");
    if (!json_equal(sa, sb))
        return fail(c, "%s is suite %s, %s is suite %s: shards of different suites", pa, shown(sa),
                    pb, shown(sb));
    const json_t *ca = json_object_get(a, "commit"), *cb = json_object_get(b, "commit");
    bool ca_unknown = !ca || json_is_null(ca), cb_unknown = !cb || json_is_null(cb);
    if (ca_unknown != cb_unknown || (!ca_unknown && !json_equal(ca, cb)))
        return fail(c, "%s is commit %s, %s is commit %s: shards of different commits", pa,
                    shown(ca), pb, shown(cb));
    int na = (int)json_integer_value(json_object_get(shard_of_doc(a), "count"));
    int nb = (int)json_integer_value(json_object_get(shard_of_doc(b), "count"));
    if (na != nb)
        return fail(c, "%s is shard %d/%d, %s is shard %d/%d: different shard counts", pa,
                    shard_index(a), na, pb, shard_index(b), nb);
    if (!json_equal(json_object_get(shard_of_doc(a), "suite_scenarios"),
                    json_object_get(shard_of_doc(b), "suite_scenarios")))
        return fail(c,
                    "%s and %s list different scenarios in suite %s (shard.suite_scenarios): "
                    "shards of different versions of the suite",
                    pa, pb, shown(sa));
    const json_t *fa = json_object_get(shard_of_doc(a), "suite_spec");
    const json_t *fb = json_object_get(shard_of_doc(b), "suite_spec");
    if (!json_equal(fa, fb) && (fa || fb))
        return fail(c,
                    "%s and %s ran suite %s with different specs (shard.suite_spec %s, %s): "
                    "other options (--duration, --reps, ...) or other spec files",
                    pa, pb, shown(sa), shown(fa), shown(fb));
    const json_t *aa = json_object_get(a, "aa"), *ab = json_object_get(b, "aa");
    if ((aa || ab) && !(aa && ab && json_equal(aa, ab)))
        return fail(c, "%s is %s, %s is %s: A/A and ordinary runs do not merge", pa,
                    aa ? "an A/A run" : "not an A/A run", pb, ab ? "an A/A run" : "not an A/A run");
    return 0;
}

/* Every scenario of input i is in the suite, in this shard by the rule,
 * and in no other input. */
static int check_scenarios(merge_ctx *c, size_t i)
{
    const json_t *scenario;
    size_t k;
    int index = shard_index(c->docs[i]);
    json_array_foreach(json_object_get(c->docs[i], "scenarios"), k, scenario)
    {
        const char *name = lb_jstr(scenario, "name");
        for (size_t j = 0; j < i; j++) {
            const json_t *other;
            size_t m;
            json_array_foreach(json_object_get(c->docs[j], "scenarios"), m, other)
            {
                if (!strcmp(lb_jstr(other, "name"), name))
                    return fail(c, "scenario %s is in both %s and %s: overlapping shards", name,
                                c->paths[j], c->paths[i]);
            }
        }
        bool listed = false;
        const json_t *v;
        size_t m;
        json_array_foreach(c->suite_scenarios, m, v) listed |= !strcmp(json_string_value(v), name);
        if (!listed)
            return fail(c, "%s: scenarios[%zu]: %s is not in the suite's shard.suite_scenarios",
                        c->paths[i], k, name);
        if (lb_shard_of(name, c->count) != index)
            return fail(c, "%s: scenarios[%zu]: %s belongs in shard %d/%d, not %d/%d", c->paths[i],
                        k, name, lb_shard_of(name, c->count), c->count, index, c->count);
    }
    return 0;
}

static int check_inputs(merge_ctx *c)
{
    if (c->n == 0) return fail(c, "no results to merge");
    int rc;
    for (size_t i = 0; i < c->n; i++)
        if ((rc = check_one(c, i))) return rc;
    for (size_t i = 1; i < c->n; i++)
        if ((rc = check_same_whole(c, i))) return rc;
    c->count = (int)json_integer_value(json_object_get(shard_of_doc(c->docs[0]), "count"));
    c->suite_scenarios = json_object_get(shard_of_doc(c->docs[0]), "suite_scenarios");
    c->by_index = malloc(((size_t)c->count + 1) * sizeof *c->by_index);
    if (!c->by_index) return -ENOMEM;
    for (int s = 0; s <= c->count; s++) c->by_index[s] = c->n;
    for (size_t i = 0; i < c->n; i++) {
        int index = shard_index(c->docs[i]);
        if (c->by_index[index] != c->n)
            return fail(c, "shard %d/%d given twice: %s and %s", index, c->count,
                        c->paths[c->by_index[index]], c->paths[i]);
        c->by_index[index] = i;
    }
    for (size_t i = 0; i < c->n; i++)
        if ((rc = check_scenarios(c, i))) return rc;
    return 0;
}

/* "2/3 (timer_never_stopped), 3/3 (no scenarios)" into res->missing. */
static void find_missing(merge_ctx *c, lb_merge_result *res)
{
    size_t used = 0, cap = sizeof res->missing;
    res->missing[0] = 0;
    for (int s = 1; s <= c->count; s++) {
        if (c->by_index[s] != c->n) continue;
        used += (size_t)snprintf(res->missing + used, used < cap ? cap - used : 0, "%s%d/%d (",
                                 used ? ", " : "", s, c->count);
        int listed = 0;
        const json_t *v;
        size_t m;
        json_array_foreach(c->suite_scenarios, m, v)
        {
            if (lb_shard_of(json_string_value(v), c->count) != s) continue;
            used += (size_t)snprintf(res->missing + used, used < cap ? cap - used : 0, "%s%s",
                                     listed++ ? ", " : "", json_string_value(v));
        }
        used += (size_t)snprintf(res->missing + used, used < cap ? cap - used : 0, "%s)",
                                 listed ? "" : "no scenarios");
    }
}

/* ------------------------------------------------------------- build -- */

/* The earliest (latest when !earliest) of the shards' KEY timestamps
 * (ISO 8601 UTC strings sort as times). */
static json_t *extreme_time(const merge_ctx *c, const char *key, bool earliest)
{
    const char *best = NULL;
    for (size_t i = 0; i < c->n; i++) {
        const char *t = lb_jstr(c->docs[i], key);
        if (t && (!best || (strcmp(t, best) < 0) == earliest)) best = t;
    }
    return best ? json_string(best) : json_null();
}

static json_t *copy_of(const json_t *doc, const char *key)
{
    const json_t *v = json_object_get(doc, key);
    return v ? json_deep_copy(v) : json_null();
}

static json_t *shard_record(const merge_ctx *c, size_t i)
{
    const json_t *d = c->docs[i];
    json_t *names = json_array();
    const json_t *s;
    size_t k;
    json_array_foreach(json_object_get(d, "scenarios"), k, s)
        json_array_append_new(names, json_string(lb_jstr(s, "name")));
    return json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "index", shard_index(d), "file",
                     c->paths[i], "status", copy_of(d, "status"), "started_at",
                     copy_of(d, "started_at"), "finished_at", copy_of(d, "finished_at"), "command",
                     copy_of(d, "command"), "host", copy_of(d, "host"), "scenarios", names);
}

static json_t *merged_record(const merge_ctx *c)
{
    json_t *shards = json_array(), *missing = json_array();
    for (int s = 1; s <= c->count; s++) {
        if (c->by_index[s] == c->n)
            json_array_append_new(missing, json_integer(s));
        else
            json_array_append_new(shards, shard_record(c, c->by_index[s]));
    }
    return json_pack("{s:i, s:s, s:O, s:o, s:o}", "count", c->count, "rule", LB_SHARD_RULE,
                     "suite_scenarios", c->suite_scenarios, "missing", missing, "shards", shards);
}

/* Scenarios and their specs as run, in suite order: the k-th name of the
 * suite comes from its shard's next scenario (a shard lists its scenarios
 * in suite order; an interrupted one may stop early). */
static int gather_scenarios(const merge_ctx *c, json_t *scenarios, json_t *specs)
{
    size_t *next = calloc(c->n, sizeof *next);
    if (!next) return -ENOMEM;
    const json_t *v;
    size_t m;
    int rc = 0;
    json_array_foreach(c->suite_scenarios, m, v)
    {
        size_t i = c->by_index[lb_shard_of(json_string_value(v), c->count)];
        if (i == c->n) continue; /* a missing shard */
        const json_t *list = json_object_get(c->docs[i], "scenarios");
        const json_t *s = json_array_get(list, next[i]);
        if (!s || strcmp(lb_jstr(s, "name"), json_string_value(v))) continue;
        const json_t *spec = json_array_get(lb_jpath(c->docs[i], "spec.scenarios"), next[i]);
        rc |= json_array_append_new(scenarios, json_deep_copy(s));
        if (spec) rc |= json_array_append_new(specs, json_deep_copy(spec));
        next[i]++;
    }
    if (rc) {
        free(next);
        return -ENOMEM;
    }
    /* A scenario not taken is one its shard lists out of suite order. */
    for (size_t i = 0; i < c->n && !rc; i++) {
        const json_t *left = json_array_get(json_object_get(c->docs[i], "scenarios"), next[i]);
        if (left) {
            snprintf(c->err, c->errlen,
                     "%s: scenarios[%zu]: %s is out of the suite's order (shard.suite_scenarios)",
                     c->paths[i], next[i], lb_jstr(left, "name"));
            rc = -EINVAL;
        }
    }
    free(next);
    return rc;
}

static const char *merged_status(const merge_ctx *c, lb_merge_result *res)
{
    const char *status = "complete";
    for (size_t i = 0; i < c->n; i++) {
        const char *s = lb_jstr(c->docs[i], "status");
        if (s && strcmp(s, "complete")) {
            status = s;
            res->partial = true;
        }
    }
    return status;
}

static int build(const merge_ctx *c, json_t *command, json_t **out, lb_merge_result *res)
{
    const json_t *first = NULL; /* the lowest shard given */
    for (int s = 1; s <= c->count && !first; s++)
        if (c->by_index[s] != c->n) first = c->docs[c->by_index[s]];
    json_t *scenarios = json_array(), *specs = json_array();
    int rc = scenarios && specs ? gather_scenarios(c, scenarios, specs) : -ENOMEM;
    if (rc) {
        json_decref(scenarios);
        json_decref(specs);
        json_decref(command);
        return rc;
    }
    const json_t *spec = json_object_get(first, "spec");
    json_t *doc = json_pack(
        "{s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o}, s:o, s:o, s:o, s:o, s:o}",
        "schema", copy_of(first, "schema"), "schema_version", copy_of(first, "schema_version"),
        "status", merged_status(c, res), "tool", copy_of(first, "tool"), "host",
        copy_of(first, "host"), "started_at", extreme_time(c, "started_at", true), "finished_at",
        extreme_time(c, "finished_at", false), "command", command, "spec", "path",
        copy_of(spec, "path"), "paths", copy_of(spec, "paths"), "scenarios", specs, "scenarios",
        scenarios, "thresholds", json_array(), "suite", copy_of(first, "suite"), "commit",
        copy_of(first, "commit"), "merged", merged_record(c));
    if (!doc) return -ENOMEM; /* json_pack released what it was given */
    if (json_object_get(first, "aa") && json_object_set_new(doc, "aa", copy_of(first, "aa")))
        rc = -ENOMEM;
    /* As in `run --aa`, an A/A run's thresholds are not evaluated: they
     * compare two different twins, and both sides ran the same one. */
    char terr[512];
    if (!rc && !json_object_get(doc, "aa") &&
        (rc = lb_thresholds_apply(doc, &res->thresholds_failed, terr, sizeof terr)))
        snprintf(c->err, c->errlen, "merged results: %s", terr);
    if (!rc) {
        lb_json_round_reals(doc, LB_RESULTS_REAL_DIGITS);
        rc = lb_results_validate(doc, "merged results", c->err, c->errlen);
    }
    if (rc) {
        json_decref(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

int lb_merge_shards(const char *const *paths, const json_t *const *docs, size_t n,
                    bool allow_missing, json_t *command, json_t **out, lb_merge_result *res,
                    char *err, size_t errlen)
{
    merge_ctx c = {paths, docs, n, 0, NULL, NULL, err, errlen};
    memset(res, 0, sizeof *res);
    *out = NULL;
    int rc = check_inputs(&c);
    if (!rc) {
        res->count = c.count;
        res->n_given = (int)n;
        find_missing(&c, res);
        if (res->missing[0] && !allow_missing) {
            snprintf(err, errlen,
                     "missing shards: %s; merge every shard of %s, or pass --allow-missing",
                     res->missing, lb_jstr(docs[0], "suite"));
            rc = -ENOENT;
        }
    }
    if (!rc) {
        rc = build(&c, command, out, res);
        command = NULL; /* build took it */
    }
    json_decref(command);
    free(c.by_index);
    return rc;
}
