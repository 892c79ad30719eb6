/*
 * report_html.c — the HTML back-end of the report (report.html).
 *
 * One self-contained file: a small inline stylesheet, no scripts, no
 * external resources, and every chart inlined as the SVG gnuplot drew
 * (charts/<name>.svg).  All text is HTML-escaped.  The SVGs are gnuplot's
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
          "table{border-collapse:collapse;margin:1rem 0;font-size:.92rem}\n"
          "th,td{border:1px solid #d0d0d0;padding:.35rem .6rem;vertical-align:top}\n"
          "th{background:#f4f4f4}td.r,th.r{text-align:right}\n"
          "ul.fields{list-style:none;padding-left:0}ul.fields li{margin:.2rem 0}\n"
          ".warning{border-left:4px solid #d62728;background:#fff3f3;padding:.6rem 1rem}\n"
          "figure{margin:1rem 0}figure svg{max-width:100%;height:auto}\n"
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
    fputs("<table>\n<thead><tr>", d->out);
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
    fputs("</tbody>\n</table>\n", d->out);
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
    fputs("<figure>\n", d->out);
    snprintf(prefix, sizeof prefix, "c%d-", ++d->seq);
    if (!svg || inline_svg(d->out, svg, prefix) < 0) {
        fputs("<p>(chart missing: ", d->out);
        lb_escape_html(d->out, base);
        fputs(".svg)</p>", d->out);
    }
    free(svg);
    fputs("\n<figcaption>", d->out);
    lb_escape_html(d->out, alt);
    fputs("</figcaption>\n</figure>\n", d->out);
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
    .end = html_end,
};
