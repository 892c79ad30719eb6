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
 * kept whole until table_end.  On a terminal (lb_doc.columns set), a
 * table wider than it is fitted to it: the widest column that can give is narrowed, one column at a
 * time, and its cells wrap at spaces onto more lines of the row (no word is split, no header
 * wrapped while another way fits); a table that cannot fit even so is printed one line per row,
 * "label: header value · ...". Every figure is kept either way.  Widths count UTF-8 characters, not
 * bytes
 * ("≥", "×", "µs" are one column each).  Charts have no text form and are
 * left out.  Text from a results file could hold terminal escape
 * sequences: every control character is printed as a space.  The only
 * escapes printed are the twins' colours, when the document asks for
 * colour (lb_doc.color).
 */
#include "report_internal.h"
#include "table.h"
#include "core/color.h"

#include <errno.h>
#include <limits.h>
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

/* True when the N bytes at S are a number ("1", "5,012", "+300", "2.5"):
 * a space after one does not break, so a figure stays with its unit. */
static bool is_number(const char *s, size_t n)
{
    bool digit = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digit = true;
        else if (!strchr("+-.,", s[i]))
            return false;
    }
    return digit;
}

/* The bytes of the unbreakable run at P: a word, and after a number the
 * word that follows it ("1 s", "+300 tasks/s"); *cols its width. */
static size_t unbreakable(const char *p, int *cols)
{
    size_t n = strcspn(p, " ");
    while (is_number(p, n) && p[n] == ' ' && p[n + 1] && p[n + 1] != ' ') {
        size_t prev = n;
        n = prev + 1 + strcspn(p + prev + 1, " ");
        if (is_number(p + prev + 1, n - prev - 1)) break; /* "1 2": two numbers */
    }
    *cols = 0;
    for (size_t i = 0; i < n; i++) *cols += ((unsigned char)p[i] & 0xC0) != 0x80;
    return n;
}

/* table.h: text from column col on, wrapped at spaces (not the one after
 * a number) to columns with continuation lines starting at column indent. */
void lb_text_wrap(FILE *f, const char *text, int col, int indent, int columns)
{
    const char *p = text ? text : "";
    int start = col;
    while (*p) {
        int w;
        size_t word = unbreakable(p, &w);
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
        lb_text_wrap(d->out, text, 0, 0, wrap_columns(d));
        fputc('\n', d->out);
    } else if (level == 3) {
        fputc('\n', d->out);
        put_text(d->out, text);
        fputs(":\n", d->out);
    } else {
        fputs("  ", d->out);
        lb_text_wrap(d->out, text, 2, 6, wrap_columns(d)); /* under the group's text */
    }
}

static void text_para(lb_doc *d, const char *text)
{
    lb_text_wrap(d->out, text, 0, 0, wrap_columns(d));
}

/* "warning: text", the text's first line after the word. */
static void text_warning(lb_doc *d, const char *text)
{
    fputs("warning: ", d->out);
    lb_text_wrap(d->out, text, 9, 0, wrap_columns(d));
}

/* "      label: value", the value's continuation lines under its first
 * word (a hint is a paragraph). */
static void text_field(lb_doc *d, const char *label, const char *value)
{
    fputs("      ", d->out);
    put_text(d->out, label);
    fputs(": ", d->out);
    int indent = 6 + text_width(label) + 2;
    lb_text_wrap(d->out, value, indent, indent, wrap_columns(d));
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

/* The widest unbreakable run of s (a word, or a figure with its unit),
 * in columns. */
static int longest_word(const char *s)
{
    int best = 0;
    while (s && *s) {
        s += strspn(s, " ");
        int w;
        s += unbreakable(s, &w);
        if (w > best) best = w;
    }
    return best;
}

static const char *cell(const text_table *t, size_t r, int c)
{
    return t->cells[r * (size_t)t->ncols + c];
}

static int table_width(const int *w, int ncols)
{
    int total = 1; /* "|" then " cell |" per column */
    for (int c = 0; c < ncols; c++) total += w[c] + 3;
    return total;
}

/* What narrow_to may not wrap. */
typedef enum keep_whole {
    KEEP_NOTHING,          /* only words (and figures with their units) stay whole */
    KEEP_HEADERS,          /* and the header cells */
    KEEP_HEADERS_A_LABELS, /* and the first column (the rows' labels) */
} keep_whole;

/* Narrows the columns W (their widest cells) until the table is at most
 * ROOM columns wide, always the widest column that can still give, and
 * never below what KEEP holds whole.  True when it fits. */
static bool narrow_to(const text_table *t, int *w, int room, keep_whole keep)
{
    int *floor = calloc((size_t)t->ncols, sizeof *floor);
    if (!floor) return false;
    for (int c = 0; c < t->ncols; c++) {
        for (size_t r = 0; r < t->n_rows; r++) {
            int f = longest_word(cell(t, r, c));
            if (f > floor[c]) floor[c] = f;
        }
        for (size_t r = 0; r < t->n_rows; r++) {
            bool whole =
                (keep >= KEEP_HEADERS && r == 0) || (keep == KEEP_HEADERS_A_LABELS && c == 0);
            if (whole && text_width(cell(t, r, c)) > floor[c]) floor[c] = text_width(cell(t, r, c));
        }
        if (floor[c] > w[c]) floor[c] = w[c];
    }
    while (table_width(w, t->ncols) > room) {
        int pick = -1;
        for (int c = 0; c < t->ncols; c++)
            if (w[c] > floor[c] && (pick < 0 || w[c] > w[pick])) pick = c;
        if (pick < 0) break;
        w[pick]--;
    }
    free(floor);
    return table_width(w, t->ncols) <= room;
}

/* The next line of a cell wrapped at WIDTH columns, from *p on: its
 * length in bytes (and *p moved past it and the spaces after it).  A
 * word wider than WIDTH (never, after narrow_to) is not split. */
static size_t next_line(const char **p, int width)
{
    const char *s = *p, *end = s;
    int col = 0;
    while (*end) {
        int w;
        size_t word = unbreakable(end, &w);
        if (end > s && col + 1 + w > width) break;
        col += (end > s) + w;
        end += word;
        if (!*end) break;
        size_t spaces = strspn(end, " ");
        if (!end[spaces]) break;
        end += spaces;
    }
    size_t n = (size_t)(end - s);
    while (n && s[n - 1] == ' ') n--;
    *p = end + strspn(end, " ");
    return n;
}

/* With colour, the header's cells and each row's label that name a twin
 * ("Before fix (leaky)", "graceful rep 0") are in its colour, every line
 * of them; widths are counted without the escape sequences.  A cell wider
 * than its column wraps at spaces onto the row's next lines. */
static void print_row(FILE *f, const text_table *t, char *const *row, const int *w, bool color,
                      bool header)
{
    const char **rest = malloc((size_t)t->ncols * sizeof *rest);
    if (!rest) return;
    for (int c = 0; c < t->ncols; c++) rest[c] = row[c];
    bool more = true;
    while (more) {
        more = false;
        fputc('|', f);
        for (int c = 0; c < t->ncols; c++) {
            const char *piece = rest[c];
            size_t n = next_line(&rest[c], w[c]);
            int gap = w[c];
            for (size_t i = 0; i < n; i++) gap -= ((unsigned char)piece[i] & 0xC0) != 0x80;
            lb_tone tone = header || c == 0 ? lb_color_variant_named(row[c]) : LB_TONE_COUNT;
            bool paint = color && tone != LB_TONE_COUNT && n;
            fputc(' ', f);
            if (t->align[c] == LB_RIGHT) pad(f, gap, ' ');
            fputs(lb_color_start(paint, tone), f);
            put_span(f, piece, n);
            fputs(lb_color_end(paint), f);
            if (t->align[c] != LB_RIGHT) pad(f, gap, ' ');
            fputs(" |", f);
            more |= *rest[c] != 0;
        }
        fputc('\n', f);
    }
    free(rest);
}

/* A table too wide for the terminal even with its cells wrapped: one
 * line per row, its first cell as the label and every other cell after
 * its header ("  leaky rep 0: Submitted 1,200 · Completed 499 · ..."),
 * wrapped under the label. */
static void print_stacked(lb_doc *d, const text_table *t)
{
    for (size_t r = 1; r < t->n_rows; r++) {
        lb_tone tone = lb_color_variant_named(cell(t, r, 0));
        bool paint = d->color && tone != LB_TONE_COUNT;
        fputs("  ", d->out);
        fputs(lb_color_start(paint, tone), d->out);
        put_text(d->out, cell(t, r, 0));
        fputs(lb_color_end(paint), d->out);
        fputc(':', d->out);
        char *line = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&line, &len);
        if (!m) {
            d->err = -ENOMEM;
            return;
        }
        for (int c = 1; c < t->ncols; c++)
            fprintf(m, "%s%s %s", c > 1 ? " · " : "", cell(t, 0, c), cell(t, r, c));
        if (fclose(m)) {
            free(line);
            d->err = -ENOMEM;
            return;
        }
        int col = 2 + text_width(cell(t, r, 0)) + 1;
        fputc(' ', d->out);
        lb_text_wrap(d->out, line, col + 1, 4, wrap_columns(d));
        free(line);
    }
}

static void text_table_end(lb_doc *d)
{
    text_table *t = d->table;
    d->table = NULL;
    if (!t) return;
    int *w = calloc((size_t)t->ncols, sizeof *w), *natural = calloc((size_t)t->ncols, sizeof *w);
    if (w && natural && t->cells) {
        for (size_t r = 0; r < t->n_rows; r++)
            for (int c = 0; c < t->ncols; c++) {
                int cw = text_width(cell(t, r, c));
                if (cw > natural[c]) natural[c] = cw;
            }
        /* Fit the terminal: wrap cells but keep the headers and the rows'
         * labels whole, else only the headers, else neither, else print
         * one line per row. */
        int room = d->columns > 0 ? wrap_columns(d) : INT_MAX; /* not a terminal: whole */
        bool fits = false;
        for (int keep = KEEP_HEADERS_A_LABELS; !fits && keep >= KEEP_NOTHING; keep--) {
            memcpy(w, natural, (size_t)t->ncols * sizeof *w);
            fits = narrow_to(t, w, room, (keep_whole)keep);
        }
        if (fits) {
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
            print_stacked(d, t);
        }
    } else {
        d->err = -ENOMEM;
    }
    for (size_t i = 0; t->cells && i < t->n_rows * (size_t)t->ncols; i++) free(t->cells[i]);
    free(t->cells);
    free(t);
    free(w);
    free(natural);
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
