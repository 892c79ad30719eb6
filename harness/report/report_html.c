/*
 * report_html.c — the HTML back-end of the report (report.html).
 *
 * One self-contained file: a small inline stylesheet, no scripts, no
 * external resources, and every chart inlined as the SVG gnuplot drew
 * (charts/<name>.svg).  It opens with the verdict: a status banner and
 * one card per scenario (pass green, fail red, no thresholds grey).  On a
 * narrow screen (checked at 400 px by scripts/check-html) nothing
 * widens the page: tables and charts scroll sideways inside their own
 * box, long words break, and below 40rem a chart keeps at least 800 px
 * of width (gnuplot's 10 px labels at 1000 px stay about 8 px tall)
 * instead of shrinking to an unreadable 37%.  All text is HTML-escaped.  The SVGs are gnuplot's
 * own output, which escapes the text it draws; when inlining, the XML
 * prolog is dropped and every id (and reference to one) gets a per-chart
 * prefix, because gnuplot uses the same ids (gpPt0, gnuplot_canvas...)
 * in every file and ids must be unique in one HTML document.
 */
#include "report_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void html_begin(lb_doc *d, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          d->out);
    lb_escape_html(d->out, title);
    fputs("</title>\n<style>\n"
          "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:72rem;"
          "margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.45}\n"
          "h1,h2,h3{line-height:1.2}h2{border-bottom:1px solid #ddd;padding-bottom:.3rem;"
          "margin-top:2.5rem}\n"
          "p,li,h1,h2,h3{overflow-wrap:anywhere}\n"
          ".scroll{overflow-x:auto;max-width:100%;margin:1rem 0}\n"
          "table{border-collapse:collapse;font-size:.92rem}\n"
          "th,td{border:1px solid #d0d0d0;padding:.35rem .6rem;vertical-align:top}\n"
          "th{background:#f4f4f4}td.r,th.r{text-align:right}\n"
          "ul.fields{list-style:none;padding-left:0}ul.fields li{margin:.2rem 0}\n"
          ".warning{border-left:4px solid #d62728;background:#fff3f3;padding:.6rem 1rem}\n"
          "figure{margin:1rem 0}figure .scroll{margin:0}"
          "figure svg{display:block;width:100%;max-width:100%;height:auto}\n"
          "@media (max-width:40rem){body{margin:1rem auto}figure svg{min-width:800px}"
          "figcaption::after{content:\" (scroll sideways for the whole chart)\"}}\n"
          ".status{font-size:1.15rem;padding:.7rem 1rem;border-radius:6px;border-left:6px solid}\n"
          ".pass{border-color:#2e7d32;background:#edf7ee}.fail{border-color:#c62828;"
          "background:#fdecec}.none{border-color:#9e9e9e;background:#f5f5f5}\n"
          ".pass .badge{color:#1b5e20}.fail .badge{color:#b71c1c}.none .badge{color:#555}\n"
          ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(19rem,100%),1fr));"
          "gap:1rem;margin:1rem 0}\n"
          ".card{border:1px solid #d0d0d0;border-top:6px solid #9e9e9e;border-radius:6px;"
          "padding:.6rem .9rem;background:#fff}\n"
          ".card.pass{border-top-color:#2e7d32}.card.fail{border-top-color:#c62828}\n"
          ".card h3{margin:.2rem 0 .3rem;font-size:1.05rem}.card p{margin:.2rem 0 .5rem}\n"
          ".card table{width:100%;font-size:.88rem}.card th,.card td{border:none;"
          "border-top:1px solid #e4e4e4;padding:.25rem .3rem}\n"
          ".card th{background:none;text-align:left;font-weight:600}"
          ".card thead th{border-top:none}.card th.r{text-align:right}\n"
          ".leaky{color:#b71c1c}.graceful{color:#1f5fa0}.bad{color:#b71c1c}\n"
          "figcaption{font-size:.85rem;color:#555}\n"
          "footer{margin-top:3rem;font-size:.85rem;color:#555}\n"
          "</style>\n</head>\n<body>\n<h1>",
          d->out);
    lb_escape_html(d->out, title);
    fputs("</h1>\n", d->out);
}

static void html_heading(lb_doc *d, int level, const char *text, const char *anchor)
{
    fprintf(d->out, "<h%d", level);
    if (anchor) {
        fputs(" id=\"", d->out);
        lb_escape_html(d->out, anchor);
        fputc('"', d->out);
    }
    fputc('>', d->out);
    lb_escape_html(d->out, text);
    fprintf(d->out, "</h%d>\n", level);
}

static void html_para(lb_doc *d, const char *text)
{
    fputs("<p>", d->out);
    lb_escape_html(d->out, text);
    fputs("</p>\n", d->out);
}

static void html_warning(lb_doc *d, const char *text)
{
    fputs("<p class=\"warning\"><strong>Warning:</strong> ", d->out);
    lb_escape_html(d->out, text);
    fputs("</p>\n", d->out);
}

static void html_field(lb_doc *d, const char *label, const char *value)
{
    if (!d->in_list) fputs("<ul class=\"fields\">\n", d->out);
    d->in_list = true;
    fputs("<li><strong>", d->out);
    lb_escape_html(d->out, label);
    fputs(":</strong> ", d->out);
    lb_escape_html(d->out, value);
    fputs("</li>\n", d->out);
}

static void html_fields_end(lb_doc *d)
{
    if (d->in_list) fputs("</ul>\n", d->out);
    d->in_list = false;
}

static void html_table_begin(lb_doc *d, int ncols, const char *const *header, const lb_align *align)
{
    d->ncols = ncols;
    d->align = align;
    fputs("<div class=\"scroll\"><table>\n<thead><tr>", d->out);
    for (int i = 0; i < ncols; i++) {
        fputs(align[i] == LB_RIGHT ? "<th class=\"r\">" : "<th>", d->out);
        lb_escape_html(d->out, header[i]);
        fputs("</th>", d->out);
    }
    fputs("</tr></thead>\n<tbody>\n", d->out);
}

static void html_table_row(lb_doc *d, const char *const *cells)
{
    fputs("<tr>", d->out);
    for (int i = 0; i < d->ncols; i++) {
        fputs(d->align[i] == LB_RIGHT ? "<td class=\"r\">" : "<td>", d->out);
        lb_escape_html(d->out, cells[i]);
        fputs("</td>", d->out);
    }
    fputs("</tr>\n", d->out);
}

static void html_table_end(lb_doc *d)
{
    fputs("</tbody>\n</table></div>\n", d->out);
    d->ncols = 0;
    d->align = NULL;
}

/* Copies an SVG document into the page: from "<svg" on, with every id and
 * id reference prefixed. */
static int inline_svg(FILE *out, const char *svg, const char *prefix)
{
    const char *p = strstr(svg, "<svg");
    if (!p) return -EINVAL;
    static const char *const refs[] = {"id='", "id=\"", "href='#", "href=\"#", "url(#"};
    while (*p) {
        bool hit = false;
        for (size_t r = 0; r < sizeof refs / sizeof refs[0]; r++) {
            size_t len = strlen(refs[r]);
            /* "id=" must start an attribute, not end one like "grid=". */
            if (!strncmp(p, refs[r], len) &&
                (r > 1 || p == svg || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n')) {
                fwrite(p, 1, len, out);
                fputs(prefix, out);
                p += len;
                hit = true;
                break;
            }
        }
        if (!hit) fputc(*p++, out);
    }
    return 0;
}

static void html_chart(lb_doc *d, const char *base, const char *alt)
{
    char path[4600], prefix[32];
    snprintf(path, sizeof path, "%s/charts/%s.svg", d->out_dir, base);
    FILE *f = fopen(path, "r");
    char *svg = NULL;
    size_t len = 0;
    if (f) {
        FILE *m = open_memstream(&svg, &len);
        char chunk[8192];
        size_t got;
        while (m && (got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, m);
        if (m) fclose(m);
        fclose(f);
    }
    fputs("<figure>\n<div class=\"scroll\">", d->out);
    snprintf(prefix, sizeof prefix, "c%d-", ++d->seq);
    if (!svg || inline_svg(d->out, svg, prefix) < 0) {
        fputs("<p>(chart missing: ", d->out);
        lb_escape_html(d->out, base);
        fputs(".svg)</p>", d->out);
    }
    free(svg);
    fputs("</div>\n<figcaption>", d->out);
    lb_escape_html(d->out, alt);
    fputs("</figcaption>\n</figure>\n", d->out);
}

static const char *state_class(lb_status_state state)
{
    return state == LB_STATUS_PASS ? "pass" : state == LB_STATUS_FAIL ? "fail" : "none";
}

static void html_status(lb_doc *d, lb_status_state state, const char *word, const char *text)
{
    fprintf(d->out, "<p class=\"status %s\"><strong class=\"badge\">", state_class(state));
    lb_escape_html(d->out, word);
    fputs("</strong> &middot; ", d->out);
    lb_escape_html(d->out, text);
    fputs("</p>\n", d->out);
}

static void card_row(lb_doc *d, const char *what, const char *a, const char *b, bool bad_a,
                     bool bad_b)
{
    fputs("<tr><th>", d->out);
    lb_escape_html(d->out, what);
    fputs(bad_a ? "</th><td class=\"r bad\">" : "</th><td class=\"r\">", d->out);
    lb_escape_html(d->out, a);
    fputs(bad_b ? "</td><td class=\"r bad\">" : "</td><td class=\"r\">", d->out);
    lb_escape_html(d->out, b);
    fputs("</td></tr>\n", d->out);
}

static void html_verdicts(lb_doc *d, const lb_scenario_verdict *v, size_t n)
{
    fputs("<div class=\"cards\">\n", d->out);
    for (size_t i = 0; i < n; i++) {
        char anchor[80], peak[64];
        const lb_scenario_side *l = &v[i].side[0], *g = &v[i].side[1];
        lb_slug(anchor, sizeof anchor, v[i].scenario);
        fprintf(d->out, "<section class=\"card %s\">\n<h3><a href=\"#", state_class(v[i].state));
        lb_escape_html(d->out, anchor);
        fputs("\">", d->out);
        lb_escape_html(d->out, v[i].scenario);
        fputs("</a></h3>\n<p><strong class=\"badge\">", d->out);
        lb_escape_html(d->out, v[i].word);
        fputs(v[i].detail[0] ? "</strong> &middot; " : "</strong>", d->out);
        lb_escape_html(d->out, v[i].detail);
        fputs("</p>\n<table>\n<thead><tr><th></th><th class=\"r leaky\">", d->out);
        lb_escape_html(d->out, l->short_label);
        fputs("</th><th class=\"r graceful\">", d->out);
        lb_escape_html(d->out, g->short_label);
        fputs("</th></tr></thead>\n<tbody>\n", d->out);
        snprintf(peak, sizeof peak, "Peak %s", v[i].noun);
        card_row(d, peak, l->peak_tasks, g->peak_tasks, false, false);
        card_row(d, "Peak memory", l->memory, g->memory, false, false);
        card_row(d, "Recovery", l->recovery, g->recovery, l->restart_required, g->restart_required);
        fputs("</tbody>\n</table>\n</section>\n", d->out);
    }
    fputs("</div>\n", d->out);
}

static void html_end(lb_doc *d)
{
    fputs("<footer>Generated by <code>leakbench report</code> from results.json; the charts' "
          "PNG files and gnuplot sources are in charts/.</footer>\n</body>\n</html>\n",
          d->out);
}

const lb_doc_ops lb_doc_html = {
    .begin = html_begin,
    .heading = html_heading,
    .para = html_para,
    .warning = html_warning,
    .field = html_field,
    .fields_end = html_fields_end,
    .table_begin = html_table_begin,
    .table_row = html_table_row,
    .table_end = html_table_end,
    .chart = html_chart,
    .status = html_status,
    .verdicts = html_verdicts,
    .end = html_end,
};
