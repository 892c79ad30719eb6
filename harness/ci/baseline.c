/*
 * baseline.c — saving and comparing against named baselines (see
 * baseline.h).
 */
#include "baseline.h"
#include "core/outfile.h"
#include "run/results_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lb_baseline_path(const char *name, char *path, size_t len, char *err, size_t errlen)
{
    size_t n = strlen(name);
    bool ok = n >= 1 && n <= 64 && name[0] != '.';
    for (size_t i = 0; ok && i < n; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
             (name[i] >= '0' && name[i] <= '9') || name[i] == '.' || name[i] == '_' ||
             name[i] == '-';
    if (!ok) {
        snprintf(err, errlen,
                 "baseline name '%.80s': expected 1-64 of A-Z a-z 0-9 . _ - not starting with '.'",
                 name);
        return -EINVAL;
    }
    const char *dir = getenv("LEAKBENCH_BASELINE_DIR");
    if (!dir || !*dir) dir = LB_BASELINE_DIR_DEFAULT;
    if (snprintf(path, len, "%s/%s.json", dir, name) >= (int)len) {
        snprintf(err, errlen, "baseline directory path too long");
        return -ENAMETOOLONG;
    }
    return 0;
}

int lb_baseline_save(const char *name, const json_t *results, char *err, size_t errlen)
{
    char path[4096];
    int rc = lb_baseline_path(name, path, sizeof path, err, errlen);
    if (rc) return rc;
    json_t *copy = json_deep_copy(results);
    if (!copy) return -ENOMEM;
    const json_t *scenarios = json_object_get(copy, "scenarios");
    for (size_t i = 0; i < json_array_size(scenarios); i++) {
        const json_t *runs = json_object_get(json_array_get(scenarios, i), "runs");
        for (size_t r = 0; r < json_array_size(runs); r++)
            json_object_del(json_object_get(json_array_get(runs, r), "samples"), "rows");
    }
    char *text = json_dumps(copy, JSON_INDENT(1));
    json_decref(copy);
    if (!text) return -ENOMEM;
    rc = lb_mkdir_parent(path);
    if (rc)
        snprintf(err, errlen, "%s: cannot create its directory: %s", path, strerror(-rc));
    else
        rc = lb_write_atomic(path, text, strlen(text), err, errlen);
    free(text);
    return rc;
}

int lb_baseline_compare(const char *name, const json_t *results, const lb_compare_opts *opts,
                        lb_comparison *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char path[4096];
    int rc = lb_baseline_path(name, path, sizeof path, err, errlen);
    if (rc) return rc;
    json_t *base;
    rc = lb_results_load(path, &base, err, errlen);
    if (rc) {
        if (rc == -ENOENT)
            snprintf(err, errlen,
                     "baseline '%s' not found (%s); create it with "
                     "`leakbench run --save-baseline %s SPEC`",
                     name, path, name);
        return rc;
    }
    rc = lb_results_check_unique_names(base, path, err, errlen);
    if (!rc) rc = lb_compare(base, results, opts, out);
    json_decref(base);
    return rc;
}
