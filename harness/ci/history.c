/*
 * history.c — history lines (one JSON object per run, appended), their
 * loading, and exports to Bencher's BMF and github-action-benchmark's
 * custom JSON (see history.h).
 */
#include "history.h"
#include "core/metric.h"
#include "core/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

json_t *lb_history_entry(const json_t *results)
{
    const json_t *tool = json_object_get(results, "tool");
    const char *commit = json_string_value(json_object_get(tool, "git_revision"));
    const char *version = json_string_value(json_object_get(tool, "version"));
    const char *date = json_string_value(json_object_get(results, "finished_at"));
    if (!date) date = json_string_value(json_object_get(results, "started_at"));
    const char *spec = json_string_value(json_object_get(json_object_get(results, "spec"), "path"));
    const char *status = json_string_value(json_object_get(results, "status"));
    json_t *metrics = json_object();
    json_t *entry = json_pack("{s:s, s:i, s:s, s:s, s:s?, s:s?, s:s?, s:o}", "schema",
                              "leakbench-history", "schema_version", 1, "commit",
                              commit ? commit : "unknown", "version", version ? version : "unknown",
                              "date", date, "spec", spec, "status", status, "metrics", metrics);
    if (!entry) return NULL;
    const json_t *scenarios = json_object_get(results, "scenarios");
    for (size_t si = 0; si < json_array_size(scenarios); si++) {
        const json_t *s = json_array_get(scenarios, si);
        const char *name = json_string_value(json_object_get(s, "name"));
        if (!name) continue;
        json_t *per_scenario = json_object();
        if (!per_scenario || json_object_set_new(metrics, name, per_scenario)) goto nomem;
        for (size_t vi = 0; vi < 2; vi++) {
            json_t *per_variant = json_object();
            if (!per_variant || json_object_set_new(per_scenario, lb_variants[vi], per_variant))
                goto nomem;
            for (size_t mi = 0; mi < lb_metric_count(); mi++) {
                const lb_metric_def *m = lb_metric_at(mi);
                lb_metric_values v;
                if (lb_metric_collect(s, lb_variants[vi], m, &v)) goto nomem;
                if (v.present)
                    json_object_set_new(per_variant, m->name,
                                        v.has_median ? json_real(v.median) : json_null());
                lb_metric_values_free(&v);
            }
        }
    }
    return entry;
nomem:
    json_decref(entry);
    return NULL;
}

int lb_history_append(const char *path, const json_t *results, char *err, size_t errlen)
{
    json_t *entry = lb_history_entry(results);
    char *line = entry ? json_dumps(entry, JSON_COMPACT) : NULL;
    json_decref(entry);
    if (!line) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    size_t len = strlen(line);
    char *buf = malloc(len + 2);
    if (!buf) {
        free(line);
        return -ENOMEM;
    }
    memcpy(buf, line, len);
    buf[len] = '\n';
    buf[len + 1] = 0;
    free(line);
    int rc = lb_mkdir_parent(path);
    /* Written through whatever the user named (a symlink is followed, a
     * device or FIFO written in place); O_NONBLOCK so that a FIFO with no
     * reader fails at once instead of blocking the run. */
    int fd = rc ? -1 : open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0666);
    if (fd < 0) {
        int e = rc ? -rc : errno;
        snprintf(err, errlen, "%s: cannot open for appending: %s", path,
                 e == ENXIO ? "a FIFO with no reader" : strerror(e));
        free(buf);
        return -e;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    /* One write(2) of the whole line: O_APPEND puts it at the end in one
     * piece even when two runs append at the same time. */
    ssize_t w = write(fd, buf, len + 1);
    int e = w == (ssize_t)(len + 1) ? 0 : w < 0 ? errno : EIO;
    if (!e && regular && fsync(fd) < 0) e = errno; /* devices and FIFOs have nothing to sync */
    if (close(fd) < 0 && !e) e = errno;
    free(buf);
    if (e) {
        snprintf(err, errlen, "%s: append failed: %s", path, strerror(e));
        return -e;
    }
    return 0;
}

/* True (with err set) when an entry names a metric by the name an older
 * leakbench used: its values would silently go missing under the new name. */
static bool renamed_metric_in(const json_t *entry, const char *path, int lineno, char *err,
                              size_t errlen)
{
    const char *scenario, *variant, *name;
    json_t *per_scenario, *per_variant, *value;
    json_object_foreach(json_object_get(entry, "metrics"), scenario, per_scenario)
    {
        json_object_foreach(per_scenario, variant, per_variant)
        {
            json_object_foreach(per_variant, name, value)
            {
                char note[160];
                if (!lb_metric_rename_note(name, strlen(name), note, sizeof note)) continue;
                snprintf(err, errlen,
                         "%s:%d: metrics.%s.%s.%s: %s; rename it in the file, e.g. sed -i "
                         "'s/_rss_mb\"/_rss_mib\"/g; s/rss_slope_mb_per_s/rss_slope_mib_per_s/g'",
                         path, lineno, scenario, variant, name, note);
                return true;
            }
        }
    }
    return false;
}

int lb_history_load(const char *path, json_t **entries, char *err, size_t errlen)
{
    *entries = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -EINVAL;
    }
    json_t *list = json_array();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, rc = list ? 0 : -ENOMEM;
    while (!rc && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (n == 0 || strspn(line, " \t\r\n") == (size_t)n) continue;
        json_error_t jerr;
        json_t *entry = json_loads(line, 0, &jerr);
        if (!entry) {
            snprintf(err, errlen, "%s:%d:%d: %s", path, lineno, jerr.column, jerr.text);
            rc = -EINVAL;
        } else if (!json_is_object(entry) || !json_is_string(json_object_get(entry, "schema")) ||
                   strcmp(json_string_value(json_object_get(entry, "schema")),
                          "leakbench-history") ||
                   !json_is_object(json_object_get(entry, "metrics"))) {
            snprintf(err, errlen,
                     "%s:%d: not a leakbench history line (expected an object with \"schema\": "
                     "\"leakbench-history\" and \"metrics\")",
                     path, lineno);
            json_decref(entry);
            rc = -EINVAL;
        } else if (renamed_metric_in(entry, path, lineno, err, errlen)) {
            json_decref(entry);
            rc = -EINVAL;
        } else if (json_array_append_new(list, entry)) {
            rc = -ENOMEM;
        }
    }
    free(line);
    fclose(f);
    if (rc) {
        json_decref(list);
        return rc;
    }
    *entries = list;
    return 0;
}

json_t *lb_history_bmf(const json_t *entry)
{
    json_t *bmf = json_object();
    const char *scenario;
    const json_t *variants;
    json_object_foreach(json_object_get(entry, "metrics"), scenario, variants)
    {
        for (size_t vi = 0; vi < 2; vi++) {
            const json_t *values = json_object_get(variants, lb_variants[vi]);
            json_t *bench = json_object();
            char name[300];
            snprintf(name, sizeof name, "%s/%s", scenario, lb_variants[vi]);
            const char *metric;
            const json_t *v;
            json_object_foreach((json_t *)values, metric, v)
            {
                if (json_is_number(v))
                    json_object_set_new(bench, metric,
                                        json_pack("{s:f}", "value", json_number_value(v)));
            }
            if (json_object_size(bench))
                json_object_set_new(bmf, name, bench);
            else
                json_decref(bench);
        }
    }
    return bmf;
}

json_t *lb_history_action_benchmark(const json_t *entry, int bigger_is_better)
{
    json_t *list = json_array();
    const char *commit = json_string_value(json_object_get(entry, "commit"));
    const char *date = json_string_value(json_object_get(entry, "date"));
    const char *scenario;
    const json_t *variants;
    json_object_foreach(json_object_get(entry, "metrics"), scenario, variants)
    {
        for (size_t vi = 0; vi < 2; vi++) {
            const json_t *values = json_object_get(variants, lb_variants[vi]);
            for (size_t mi = 0; mi < lb_metric_count(); mi++) {
                const lb_metric_def *m = lb_metric_at(mi);
                if (!m->compared ||
                    m->better != (bigger_is_better ? LB_BETTER_HIGHER : LB_BETTER_LOWER))
                    continue;
                const json_t *v = json_object_get(values, m->name);
                if (!json_is_number(v)) continue;
                char name[300], extra[200];
                snprintf(name, sizeof name, "%s/%s %s", scenario, lb_variants[vi], m->name);
                snprintf(extra, sizeof extra, "commit %s, %s", commit ? commit : "unknown",
                         date ? date : "no date");
                json_array_append_new(list, json_pack("{s:s, s:s, s:f, s:s}", "name", name, "unit",
                                                      m->unit, "value", json_number_value(v),
                                                      "extra", extra));
            }
        }
    }
    return list;
}

void lb_gnuplot_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\'')
            fputs("''", f);
        else if (*p < 0x20 || *p == 0x7f)
            fputc(' ', f);
        else
            fputc(*p, f);
    }
    fputc('\'', f);
}
