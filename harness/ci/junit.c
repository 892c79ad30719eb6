/*
 * junit.c — builds and writes JUnit XML (see junit.h).  Suites and cases
 * are collected in a jansson array and rendered in one pass so that each
 * <testsuite> can carry its tests/failures/skipped counts up front.
 */
#include "junit.h"
#include "core/outfile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lb_junit {
    json_t *suites; /* [{"name": s, "cases": [{classname, name, status, message, detail}]}] */
};

lb_junit *lb_junit_new(void)
{
    lb_junit *j = calloc(1, sizeof *j);
    if (j && !(j->suites = json_array())) {
        free(j);
        return NULL;
    }
    return j;
}

void lb_junit_free(lb_junit *j)
{
    if (!j) return;
    json_decref(j->suites);
    free(j);
}

int lb_junit_suite(lb_junit *j, const char *name)
{
    json_t *s = json_pack("{s:s, s:[]}", "name", name, "cases");
    return s && !json_array_append_new(j->suites, s) ? 0 : -ENOMEM;
}

int lb_junit_case(lb_junit *j, const char *classname, const char *name, lb_junit_status status,
                  const char *message, const char *detail)
{
    if (!json_array_size(j->suites) && lb_junit_suite(j, "leakbench")) return -ENOMEM;
    json_t *cases =
        json_object_get(json_array_get(j->suites, json_array_size(j->suites) - 1), "cases");
    json_t *c =
        json_pack("{s:s, s:s, s:i, s:s, s:s}", "classname", classname, "name", name, "status",
                  (int)status, "message", message ? message : "", "detail", detail ? detail : "");
    return c && !json_array_append_new(cases, c) ? 0 : -ENOMEM;
}

/* Length of a valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n = s[0] >= 0xf0 && s[0] <= 0xf4   ? 4
               : s[0] >= 0xe0                 ? 3
               : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
                                              : 0;
    if (s[0] >= 0xf5) n = 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    return n;
}

void lb_xml_escape(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p;
        if (c == '&')
            fputs("&amp;", f);
        else if (c == '<')
            fputs("&lt;", f);
        else if (c == '>')
            fputs("&gt;", f);
        else if (c == '"')
            fputs("&quot;", f);
        else if (c == '\'')
            fputs("&apos;", f);
        else if (c == '\n' || c == '\t')
            fprintf(f, "&#%d;", c); /* kept in attribute values too */
        else if (c < 0x20 || c == 0x7f)
            fputc('?', f); /* not allowed in XML 1.0 */
        else if (c >= 0x80) {
            size_t n = utf8_len(p);
            if (!n) {
                fputc('?', f);
            } else {
                fwrite(p, 1, n, f);
                p += n;
                continue;
            }
        } else
            fputc(c, f);
        p++;
    }
}

char *lb_junit_render(const lb_junit *j)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    size_t tests = 0, failures = 0, skipped = 0;
    size_t i, k;
    json_t *suite, *c;
    json_array_foreach(j->suites, i, suite)
    {
        json_array_foreach(json_object_get(suite, "cases"), k, c)
        {
            json_int_t st = json_integer_value(json_object_get(c, "status"));
            tests++;
            failures += st == LB_JUNIT_FAILURE;
            skipped += st == LB_JUNIT_SKIPPED;
        }
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites name=\"leakbench\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\">\n",
            tests, failures, skipped);
    json_array_foreach(j->suites, i, suite)
    {
        json_t *cases = json_object_get(suite, "cases");
        size_t st_fail = 0, st_skip = 0;
        json_array_foreach(cases, k, c)
        {
            json_int_t st = json_integer_value(json_object_get(c, "status"));
            st_fail += st == LB_JUNIT_FAILURE;
            st_skip += st == LB_JUNIT_SKIPPED;
        }
        fprintf(f, "  <testsuite name=\"");
        lb_xml_escape(f, json_string_value(json_object_get(suite, "name")));
        fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n",
                json_array_size(cases), st_fail, st_skip);
        json_array_foreach(cases, k, c)
        {
            json_int_t st = json_integer_value(json_object_get(c, "status"));
            const char *msg = json_string_value(json_object_get(c, "message"));
            const char *detail = json_string_value(json_object_get(c, "detail"));
            fprintf(f, "    <testcase classname=\"");
            lb_xml_escape(f, json_string_value(json_object_get(c, "classname")));
            fprintf(f, "\" name=\"");
            lb_xml_escape(f, json_string_value(json_object_get(c, "name")));
            if (st == LB_JUNIT_PASS) {
                fprintf(f, "\"/>\n");
                continue;
            }
            fprintf(f, "\">\n      <%s message=\"", st == LB_JUNIT_FAILURE ? "failure" : "skipped");
            lb_xml_escape(f, msg);
            if (st == LB_JUNIT_FAILURE) {
                const char *cls = json_string_value(json_object_get(c, "classname"));
                fprintf(f, "\" type=\"%s\">",
                        strncmp(cls, "leakbench.compare", 17) ? "threshold" : "regression");
                lb_xml_escape(f, detail);
                fprintf(f, "</failure>\n");
            } else {
                fprintf(f, "\"/>\n");
            }
            fprintf(f, "    </testcase>\n");
        }
        fprintf(f, "  </testsuite>\n");
    }
    fprintf(f, "</testsuites>\n");
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    return buf;
}

int lb_junit_write(const lb_junit *j, const char *path, char *err, size_t errlen)
{
    char *xml = lb_junit_render(j);
    if (!xml) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    int rc = lb_write_user_file(path, xml, strlen(xml), err, errlen);
    free(xml);
    return rc;
}

static void fmt_number(const json_t *v, char *buf, size_t len)
{
    if (json_is_number(v))
        snprintf(buf, len, "%.10g", json_number_value(v));
    else
        snprintf(buf, len, "null");
}

int lb_junit_add_thresholds(lb_junit *j, const json_t *thresholds)
{
    if (lb_junit_suite(j, "leakbench thresholds")) return -ENOMEM;
    size_t i;
    const json_t *t;
    json_array_foreach(thresholds, i, t)
    {
        const char *scenario = json_string_value(json_object_get(t, "scenario"));
        const char *metric = json_string_value(json_object_get(t, "metric"));
        const char *expr = json_string_value(json_object_get(t, "expr"));
        const char *verdict = json_string_value(json_object_get(t, "verdict"));
        const char *reason = json_string_value(json_object_get(t, "reason"));
        char classname[300], name[400], value[64], bound[64], detail[600];
        snprintf(classname, sizeof classname, "leakbench.thresholds.%s",
                 scenario ? scenario : "all");
        snprintf(name, sizeof name, "%s %s", metric ? metric : "?", expr ? expr : "?");
        fmt_number(json_object_get(t, "value"), value, sizeof value);
        fmt_number(json_object_get(t, "bound"), bound, sizeof bound);
        snprintf(detail, sizeof detail, "%s: %s\nvalue: %s\nbound: %s\nexpected: %s %s\n",
                 scenario ? scenario : "?", reason && *reason ? reason : "failed", value, bound,
                 metric ? metric : "?", expr ? expr : "?");
        bool pass = verdict && !strcmp(verdict, "pass");
        if (lb_junit_case(j, classname, name, pass ? LB_JUNIT_PASS : LB_JUNIT_FAILURE,
                          reason && *reason ? reason : NULL, pass ? NULL : detail))
            return -ENOMEM;
    }
    return 0;
}

int lb_junit_add_comparison(lb_junit *j, const lb_comparison *c)
{
    if (lb_junit_suite(j, "leakbench compare")) return -ENOMEM;
    for (size_t i = 0; i < c->n; i++) {
        const lb_compare_row *r = &c->rows[i];
        char classname[300], b[48], n[48], ratio[48], change[48], p[48], detail[800];
        snprintf(classname, sizeof classname, "leakbench.compare.%s.%s", r->scenario, r->variant);
        lb_compare_row_cells(r, b, n, ratio, change, p, sizeof b);
        snprintf(detail, sizeof detail,
                 "base: %s (%zu runs)\nnew: %s (%zu runs)\nratio: %s\nchange: %s\np: %s\n"
                 "verdict: %s (%s)\n",
                 b, r->n_base, n, r->n_new, ratio, change, p, lb_verdict_name(r->verdict), r->note);
        lb_junit_status st = r->info                         ? LB_JUNIT_PASS
                             : r->verdict == LB_REGRESSED    ? LB_JUNIT_FAILURE
                             : r->verdict == LB_INCONCLUSIVE ? LB_JUNIT_SKIPPED
                                                             : LB_JUNIT_PASS;
        char message[400];
        snprintf(message, sizeof message, "%s: %s -> %s (%s); %s", lb_verdict_name(r->verdict), b,
                 n, change, r->note);
        if (lb_junit_case(j, classname, r->metric ? r->metric->name : "scenario", st,
                          st == LB_JUNIT_PASS ? NULL : message, detail))
            return -ENOMEM;
    }
    return 0;
}
