/*
 * report.c — what a leakbench report says, and the order things happen in
 * when one is rendered (report.h).
 *
 * lb_report_render: given the results document (built by `run`, or
 * loaded and validated by lb_report_render_file, which writes nothing if
 * that fails), create the output directory, draw the charts (plot.c),
 * then build report.md and report.html in memory through the document
 * interface and write each with temp file + rename.
 *
 * lb_report_write_doc is the content, written once for both formats:
 * the verdict (report_verdict.c: the run's status line and, per scenario,
 * its thresholds' outcome with peak tasks, memory and recovery of both
 * sides), warnings, thresholds, then per scenario its description, the
 * before/after table in the shape of the seed incident write-up, the
 * charts, the request accounting and the leak report (those three from
 * report_scenario.c, which the terminal shares), and finally the
 * environment.  Every number comes from the results file; a metric that
 * was not measured prints as "n/a".
 */
#include "report_internal.h"
#include "core/metric.h"
#include "core/outfile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NOTE 192

static const char *const variants[2] = {"leaky", "graceful"};

/* ------------------------------------------------------- the whole -- */

static bool chart_exists(lb_doc *d, const char *base)
{
    char path[4600];
    struct stat st;
    snprintf(path, sizeof path, "%s/charts/%s.png", d->out_dir, base);
    if (stat(path, &st) != 0) return false;
    snprintf(path, sizeof path, "%s/charts/%s.svg", d->out_dir, base);
    return stat(path, &st) == 0;
}

static void chart(lb_doc *d, const json_t *root, size_t i, lb_chart_kind kind,
                  const lb_chart_info *ci)
{
    char base[160];
    if (ci->outcome != LB_CHARTS_RENDERED) return;
    lb_chart_base(base, sizeof base, root, i, kind);
    if (chart_exists(d, base)) d->ops->chart(d, base, lb_charts[kind].alt);
}

/* A threshold's measured value in its metric's unit ("52.3 ms"). */
static const char *measured(char *buf, size_t n, const json_t *t)
{
    lb_metric_format_ref(lb_jstr(t, "metric"), lb_jnum(t, "value"), buf, n);
    if (!strcmp(buf, "null")) snprintf(buf, n, "n/a");
    return buf;
}

void lb_view_thresholds(lb_doc *d, const json_t *list)
{
    const char *head[5] = {"Scenario", "Metric", "Rule", "Measured", "Verdict"};
    const lb_align align[5] = {LB_LEFT, LB_LEFT, LB_LEFT, LB_RIGHT, LB_LEFT};
    d->ops->heading(d, 2, "Thresholds", "thresholds");
    d->ops->table_begin(d, 5, head, align);
    const json_t *t;
    size_t i;
    json_array_foreach(list, i, t)
    {
        char value[64];
        const char *verdict = lb_jstr(t, "verdict");
        const char *cells[5] = {lb_jstr(t, "scenario") ? lb_jstr(t, "scenario") : "(all)",
                                lb_jstr(t, "metric"), lb_jstr(t, "expr") ? lb_jstr(t, "expr") : "",
                                measured(value, sizeof value, t),
                                !strcmp(verdict, "pass") ? "pass" : "FAIL"};
        d->ops->table_row(d, cells);
    }
    d->ops->table_end(d);
}

static void environment(lb_doc *d, const json_t *root)
{
    char buf[512], a[64], b[64];
    const json_t *host = json_object_get(root, "host");
    d->ops->heading(d, 2, "Environment", "environment");
    snprintf(buf, sizeof buf, "%s %s (git %s)",
             lb_jstr_path(root, "tool.name") ? lb_jstr_path(root, "tool.name") : "leakbench",
             lb_jstr_path(root, "tool.version") ? lb_jstr_path(root, "tool.version") : "?",
             lb_jstr_path(root, "tool.git_revision") ? lb_jstr_path(root, "tool.git_revision")
                                                     : "unknown");
    d->ops->field(d, "Tool", buf);
    const json_t *cmd = json_object_get(root, "command");
    if (json_array_size(cmd)) {
        size_t o = 0;
        const json_t *arg;
        size_t i;
        buf[0] = 0;
        json_array_foreach(cmd, i, arg) if (o < sizeof buf) o +=
            snprintf(buf + o, sizeof buf - o, "%s%s", i ? " " : "", json_string_value(arg));
        d->ops->field(d, "Command", buf);
    }
    if (lb_jstr_path(root, "spec.path")) d->ops->field(d, "Spec", lb_jstr_path(root, "spec.path"));
    if (lb_jstr(root, "started_at")) d->ops->field(d, "Started", lb_jstr(root, "started_at"));
    if (lb_jstr(root, "finished_at")) d->ops->field(d, "Finished", lb_jstr(root, "finished_at"));
    if (json_is_object(host)) {
        if (lb_jstr(host, "kernel")) d->ops->field(d, "Kernel", lb_jstr(host, "kernel"));
        snprintf(buf, sizeof buf, "%s, %s CPUs",
                 lb_jstr(host, "cpu_model") ? lb_jstr(host, "cpu_model") : "unknown CPU",
                 lb_fmt_count(a, sizeof a, lb_jnum(host, "cpus")));
        d->ops->field(d, "CPU", buf);
        snprintf(buf, sizeof buf, "%s total, %s available at start",
                 lb_fmt_bytes(a, sizeof a, lb_jnum(host, "mem_total_bytes")),
                 lb_fmt_bytes(b, sizeof b, lb_jnum(host, "mem_available_bytes")));
        d->ops->field(d, "Memory", buf);
        if (lb_jstr(host, "compiler")) d->ops->field(d, "Compiler", lb_jstr(host, "compiler"));
        if (!isnan(lb_jnum(host, "pid_max")))
            d->ops->field(d, "pid_max", lb_fmt_count(a, sizeof a, lb_jnum(host, "pid_max")));
    }
    d->ops->fields_end(d);
}

static void scenario_section(lb_doc *d, const json_t *root, size_t i, const lb_chart_info *ci)
{
    const json_t *s = json_array_get(json_object_get(root, "scenarios"), i);
    const char *name = lb_jstr(s, "name"), *title = lb_jstr(s, "title");
    char buf[1024], a[64], anchor[80];
    if (title && *title)
        snprintf(buf, sizeof buf, "%s: %s", name, title);
    else
        snprintf(buf, sizeof buf, "%s", name);
    lb_slug(anchor, sizeof anchor, name);
    d->ops->heading(d, 2, buf, anchor);

    if (lb_jstr_path(s, "spec.description"))
        d->ops->field(d, "Description", lb_jstr_path(s, "spec.description"));
    if (!isnan(lb_jnum(s, "pattern")))
        d->ops->field(d, "Leak pattern", lb_fmt_count(a, sizeof a, lb_jnum(s, "pattern")));
    static const struct {
        const char *key, *label;
    } text_fields[] = {{"description", "What leaks"},
                       {"trigger", "Trigger"},
                       {"fix", "The fix"},
                       {"source", "Source"},
                       {"scheduler", "Scheduler"}};
    for (size_t k = 0; k < sizeof text_fields / sizeof text_fields[0]; k++)
        if (lb_jstr(s, text_fields[k].key))
            d->ops->field(d, text_fields[k].label, lb_jstr(s, text_fields[k].key));
    for (int v = 0; v < 2; v++) {
        const json_t *runs = json_object_get(s, "runs"), *run;
        size_t r, o = 0;
        buf[0] = 0;
        json_array_foreach(runs, r, run)
        {
            if (strcmp(lb_jstr(run, "variant"), variants[v]) || o >= sizeof buf) continue;
            char note[NOTE];
            lb_guard_note(note, sizeof note, run);
            o += snprintf(buf + o, sizeof buf - o, "%srep %lld %s%s%s%s", o ? ", " : "",
                          (long long)json_integer_value(json_object_get(run, "rep")),
                          lb_jstr(run, "status"), note[0] ? " (" : "", note, note[0] ? ")" : "");
        }
        if (buf[0]) d->ops->field(d, v ? "Graceful runs" : "Leaky runs", buf);
    }
    const json_t *first = lb_scenario_run(s, "leaky");
    if (!first) first = lb_scenario_run(s, "graceful");
    const json_t *sampler = first ? json_object_get(first, "sampler") : NULL;
    if (json_is_object(sampler)) {
        char every[32], count[32], med[32], max[32];
        snprintf(buf, sizeof buf,
                 "every %s from outside the child (%s samples in the first run%s); lateness "
                 "median %s, max %s",
                 lb_fmt_ms(every, sizeof every, lb_jnum(sampler, "interval_ms")),
                 lb_fmt_count(count, sizeof count, lb_jnum(sampler, "samples")),
                 lb_jbool_path(sampler, "decimated") > 0 ? ", decimated for storage" : "",
                 lb_fmt_ms(med, sizeof med, lb_jnum_path(sampler, "lateness_ms.median")),
                 lb_fmt_ms(max, sizeof max, lb_jnum_path(sampler, "lateness_ms.max")));
        d->ops->field(d, "Sampling", buf);
    }
    d->ops->fields_end(d);

    d->ops->heading(d, 3, lb_jstr_path(root, "aa.variant") ? "A and B" : "Before and after", NULL);
    lb_view_before_after(d, s, true);
    chart(d, root, i, LB_CHART_SUMMARY, ci);
    d->ops->heading(d, 3, "Over time", NULL);
    if (ci->outcome == LB_CHARTS_RENDERED) {
        d->ops->para(d, "First repetition of each variant.  Shaded: load, settle and shutdown "
                        "phases.");
        for (lb_chart_kind k = LB_CHART_TASKS; k <= LB_CHART_STATES; k++) chart(d, root, i, k, ci);
    } else {
        d->ops->para(d, "Charts were not drawn for this report (see the note at the top).");
    }
    chart(d, root, i, LB_CHART_LATENCY, ci);
    d->ops->heading(d, 3, "Request accounting", NULL);
    lb_view_accounting(d, s);
    d->ops->heading(d, 3, "Leak report", NULL);
    lb_view_leak_report(d, s, 0);
}

void lb_view_spec_descriptions(lb_doc *d, const json_t *root)
{
    const json_t *paths = lb_jpath(root, "spec.paths"),
                 *descs = lb_jpath(root, "spec.descriptions");
    size_t n = json_array_size(descs);
    for (size_t i = 0; i < n; i++) {
        const char *text = json_string_value(json_array_get(descs, i));
        const char *path = json_string_value(json_array_get(paths, i));
        if (!text || !*text) continue;
        if (n == 1 || !path) {
            d->ops->para(d, text);
            continue;
        }
        size_t len = strlen(path) + strlen(text) + 3;
        char *both = malloc(len);
        if (!both) continue;
        snprintf(both, len, "%s: %s", path, text);
        d->ops->para(d, both);
        free(both);
    }
}

void lb_report_write_doc(lb_doc *d, const json_t *root, const lb_chart_info *ci)
{
    const json_t *scenarios = json_object_get(root, "scenarios");
    d->ops->begin(d, "leakbench report");
    lb_view_verdicts(d, root);
    const char *status = lb_jstr(root, "status");
    if (status && !strcmp(status, "interrupted"))
        d->ops->warning(d, "This run was interrupted: its results are partial.");
    if (ci->outcome != LB_CHARTS_RENDERED && ci->message && ci->message[0])
        d->ops->warning(d, ci->message);

    size_t n = json_array_size(scenarios);
    char buf[256];
    const char *aa = lb_jstr_path(root, "aa.variant");
    if (aa)
        snprintf(buf, sizeof buf,
                 "An A/A run: the %s twin of %zu concurrent pipeline%s on both sides (A and B) "
                 "under the same load, to measure the noise between identical runs.",
                 aa, n, n == 1 ? "" : "s");
    else
        snprintf(
            buf, sizeof buf,
            "Leaky and graceful twins of %zu concurrent pipeline%s under the same load: live "
            "tasks and resident memory over time, what is left behind when the load stops, and "
            "how fast each returns to rest.",
            n, n == 1 ? "" : "s");
    d->ops->para(d, buf);
    lb_view_spec_descriptions(d, root);
    const json_t *th = json_object_get(root, "thresholds");
    if (json_array_size(th)) lb_view_thresholds(d, th);
    if (json_is_false(json_object_get(root, "thresholds_evaluated"))) {
        d->ops->heading(d, 2, "Thresholds", "thresholds");
        d->ops->para(d, "Not evaluated: the run was interrupted.");
    }
    for (size_t i = 0; i < n; i++) scenario_section(d, root, i, ci);
    if (n == 0) d->ops->para(d, "The results file lists no scenarios.");
    environment(d, root);
    d->ops->end(d);
}

/* ------------------------------------------------------- rendering -- */

static int write_doc(const lb_doc_ops *ops, const char *out_dir, const char *name,
                     const json_t *root, const lb_chart_info *ci)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return -ENOMEM;
    lb_doc d = {.ops = ops, .out = f, .out_dir = out_dir, .root = root};
    lb_report_write_doc(&d, root, ci);
    if (fclose(f) != 0) {
        free(buf);
        return -ENOMEM;
    }
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    int rc = d.err ? d.err : lb_write_atomic(path, buf, len, err, sizeof err);
    free(buf);
    return rc;
}

int lb_report_render(const json_t *doc, const char *out_dir, const lb_report_opts *opts,
                     lb_report_result *res)
{
    memset(res, 0, sizeof *res);
    int rc = lb_mkdir_p(out_dir);
    if (rc < 0) {
        snprintf(res->message, sizeof res->message, "%s: cannot create directory: %s", out_dir,
                 strerror(-rc));
        return rc;
    }
    bool charts = opts ? opts->charts : true;
    int timeout = opts ? opts->gnuplot_timeout_s : 0;
    char why[1024] = "";
    int plot_rc = lb_plot_render(doc, out_dir, charts, timeout, &res->charts, &res->n_charts,
                                 &res->charts_unwritten, why, sizeof why);
    lb_chart_info ci = {.outcome = res->charts, .message = why};
    rc = write_doc(&lb_doc_markdown, out_dir, "report.md", doc, &ci);
    if (!rc) rc = write_doc(&lb_doc_html, out_dir, "report.html", doc, &ci);
    if (rc) {
        snprintf(res->message, sizeof res->message, "%s: cannot write the report: %s", out_dir,
                 strerror(-rc));
        return rc;
    }
    res->written = true;
    if (why[0]) snprintf(res->message, sizeof res->message, "%s", why);
    /* A failure that left charts out is an error once the report exists. */
    if (plot_rc && res->charts == LB_CHARTS_FAILED) return plot_rc;
    return 0;
}

int lb_report_load(const char *results_path, json_t **doc, lb_report_result *res)
{
    char err[sizeof res->message];
    int rc = lb_results_load(results_path, doc, err, sizeof err);
    if (!rc) return 0;
    memset(res, 0, sizeof *res);
    snprintf(res->message, sizeof res->message, "%s", err);
    if (rc == -ENOMEM) return rc;
    res->input_error = true;
    return -EINVAL;
}

int lb_report_render_file(const char *results_path, const char *out_dir, const lb_report_opts *opts,
                          lb_report_result *res)
{
    json_t *doc = NULL;
    int rc = lb_report_load(results_path, &doc, res);
    if (rc) return rc;
    rc = lb_report_render(doc, out_dir, opts, res);
    json_decref(doc);
    return rc;
}
