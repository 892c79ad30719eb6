/*
 * report_text.c — the plain-text back-end of the document interface: what
 * `leakbench run` prints in the terminal (table.c).
 *
 * Headings are lines of their own (a scenario's after a blank line, a
 * section's ending in ':', a leak group's indented), paragraphs are
 * lines, fields are indented "label: value" lines, both wrapped at the
 * document's width (lb_doc.columns: the terminal's; 100 by default, never
 * under TEXT_MIN_COLUMNS), and tables are pipe
 * tables whose columns are as wide as their widest cell, so a table is
 * kept whole until table_end.  Widths count UTF-8 characters, not bytes
 * ("≥", "×", "µs" are one column each).  Charts have no text form and are
 * left out.  Text from a results file could hold terminal escape
 * sequences: every control character is printed as a space.  The only
 * escapes printed are the twins' colours, when the document asks for
 * colour (lb_doc.color).
 */
#include "report_internal.h"
#include "core/color.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Where a field's text wraps by default, and at the narrowest (tables are
 * as wide as their cells). */
#define TEXT_COLUMNS     100
#define TEXT_MIN_COLUMNS 40

typedef struct text_table {
    int ncols;
    const lb_align *align;
    char **cells; /* row-major, the header first; strdup'd */
    size_t n_rows, cap_rows;
} text_table;

/* Prints s with control characters as spaces. */
static void put_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c < 0x20 || c == 0x7f ? ' ' : c, f);
    }
}

/* Columns s takes: UTF-8 continuation bytes take none. */
static int text_width(const char *s)
{
    int w = 0;
    for (; s && *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void pad(FILE *f, int n, char c)
{
    for (int i = 0; i < n; i++) fputc(c, f);
}

/* Prints the n bytes at s with control characters as spaces. */
static void put_span(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        fputc(c < 0x20 || c == 0x7f ? ' ' : c, f);
    }
}

/* Where d's paragraphs and fields wrap. */
static int wrap_columns(const lb_doc *d)
{
    if (d->columns <= 0) return TEXT_COLUMNS;
    return d->columns < TEXT_MIN_COLUMNS ? TEXT_MIN_COLUMNS : d->columns;
}

/* Prints text from column col on, wrapped at spaces to columns with
 * continuation lines starting at column indent. */
static void put_wrapped(FILE *f, const char *text, int col, int indent, int columns)
{
    const char *p = text ? text : "";
    int start = col;
    while (*p) {
        size_t word = strcspn(p, " ");
        int w = 0;
        for (size_t i = 0; i < word; i++) w += ((unsigned char)p[i] & 0xC0) != 0x80;
        if (col > start && col + 1 + w > columns) {
            fputc('\n', f);
            pad(f, indent, ' ');
            col = start = indent;
        } else if (col > start) {
            fputc(' ', f);
            col++;
        }
        put_span(f, p, word);
        col += w;
        p += word;
        p += strspn(p, " ");
    }
    fputc('\n', f);
}

static void text_begin(lb_doc *d, const char *title)
{
    (void)d;
    (void)title; /* the terminal shows each scenario's own heading */
}

static void text_heading(lb_doc *d, int level, const char *text, const char *anchor)
{
    (void)anchor;
    if (level <= 2) {
        fputc('\n', d->out);
        put_wrapped(d->out, text, 0, 0, wrap_columns(d));
        fputc('\n', d->out);
    } else if (level == 3) {
        fputc('\n', d->out);
        put_text(d->out, text);
        fputs(":\n", d->out);
    } else {
        fputs("  ", d->out);
        put_wrapped(d->out, text, 2, 6, wrap_columns(d)); /* under the group's text */
    }
}

static void text_para(lb_doc *d, const char *text)
{
    put_wrapped(d->out, text, 0, 0, wrap_columns(d));
}

static void text_warning(lb_doc *d, const char *text)
{
    fputs("warning: ", d->out);
    text_para(d, text);
}

/* "      label: value", the value's continuation lines under its first
 * word (a hint is a paragraph). */
static void text_field(lb_doc *d, const char *label, const char *value)
{
    fputs("      ", d->out);
    put_text(d->out, label);
    fputs(": ", d->out);
    int indent = 6 + text_width(label) + 2;
    put_wrapped(d->out, value, indent, indent, wrap_columns(d));
}

static void text_fields_end(lb_doc *d)
{
    (void)d;
}

static int add_row(text_table *t, const char *const *cells)
{
    if (t->n_rows == t->cap_rows) {
        size_t cap = t->cap_rows ? 2 * t->cap_rows : 16;
        char **grown = realloc(t->cells, cap * (size_t)t->ncols * sizeof *grown);
        if (!grown) return -ENOMEM;
        t->cells = grown;
        t->cap_rows = cap;
    }
    char **row = t->cells + t->n_rows * (size_t)t->ncols;
    for (int i = 0; i < t->ncols; i++) row[i] = strdup(cells[i] ? cells[i] : "");
    t->n_rows++;
    for (int i = 0; i < t->ncols; i++)
        if (!row[i]) return -ENOMEM;
    return 0;
}

static void text_table_begin(lb_doc *d, int ncols, const char *const *header, const lb_align *align)
{
    text_table *t = calloc(1, sizeof *t);
    d->table = t;
    if (!t) {
        d->err = -ENOMEM;
        return;
    }
    t->ncols = ncols;
    t->align = align;
    if (add_row(t, header)) d->err = -ENOMEM;
}

static void text_table_row(lb_doc *d, const char *const *cells)
{
    text_table *t = d->table;
    if (t && add_row(t, cells)) d->err = -ENOMEM;
}

/* With colour, the header's cells and each row's label that name a twin
 * ("Before fix (leaky)", "graceful rep 0") are in its colour; widths are
 * counted without the escape sequences. */
static void print_row(FILE *f, const text_table *t, char *const *row, const int *w, bool color,
                      bool header)
{
    fputc('|', f);
    for (int c = 0; c < t->ncols; c++) {
        int gap = w[c] - text_width(row[c]);
        lb_tone tone = header || c == 0 ? lb_color_variant_named(row[c]) : LB_TONE_COUNT;
        bool paint = color && tone != LB_TONE_COUNT;
        fputc(' ', f);
        if (t->align[c] == LB_RIGHT) pad(f, gap, ' ');
        fputs(lb_color_start(paint, tone), f);
        put_text(f, row[c]);
        fputs(lb_color_end(paint), f);
        if (t->align[c] != LB_RIGHT) pad(f, gap, ' ');
        fputs(" |", f);
    }
    fputc('\n', f);
}

static void text_table_end(lb_doc *d)
{
    text_table *t = d->table;
    d->table = NULL;
    if (!t) return;
    int *w = calloc((size_t)t->ncols, sizeof *w);
    if (w && t->cells) {
        for (size_t r = 0; r < t->n_rows; r++)
            for (int c = 0; c < t->ncols; c++) {
                int cw = text_width(t->cells[r * (size_t)t->ncols + c]);
                if (cw > w[c]) w[c] = cw;
            }
        print_row(d->out, t, t->cells, w, d->color, true);
        fputc('|', d->out);
        for (int c = 0; c < t->ncols; c++) {
            pad(d->out, w[c] + 2, '-');
            fputc('|', d->out);
        }
        fputc('\n', d->out);
        for (size_t r = 1; r < t->n_rows; r++)
            print_row(d->out, t, t->cells + r * (size_t)t->ncols, w, d->color, false);
    } else {
        d->err = -ENOMEM;
    }
    for (size_t i = 0; t->cells && i < t->n_rows * (size_t)t->ncols; i++) free(t->cells[i]);
    free(t->cells);
    free(t);
    free(w);
}

static void text_chart(lb_doc *d, const char *base, const char *alt)
{
    (void)d;
    (void)base;
    (void)alt;
}

static void text_end(lb_doc *d)
{
    (void)d;
}

const lb_doc_ops lb_doc_text = {
    .begin = text_begin,
    .heading = text_heading,
    .para = text_para,
    .warning = text_warning,
    .field = text_field,
    .fields_end = text_fields_end,
    .table_begin = text_table_begin,
    .table_row = text_table_row,
    .table_end = text_table_end,
    .chart = text_chart,
    .end = text_end,
};
