/*
 * table.h — what `leakbench run` prints for each scenario when its runs
 * end: a heading line, the before/after table in the seed's shape (peak
 * tasks, memory with its trend, recovery time, leaked tasks, shutdown,
 * guard for the leaky "before fix" and graceful "after fix" twin), the
 * request accounting of every run and the three largest leak groups.
 * The same content as report.md and report.html, from the same code.
 */
#ifndef LEAKBENCH_TABLE_H
#define LEAKBENCH_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Prints one scenario object of the results document (as results.json
 * holds it); prints nothing for a scenario without runs.  With color,
 * table headings and row labels that name a twin are in its colour
 * (core/color.h); paragraphs and fields (the leak report's hints) wrap at
 * columns (the terminal's width; 0: 100).  Returns 0 or -ENOMEM. */
int lb_table_print(FILE *out, const json_t *scenario, bool color, int columns);

/* Prints what comes before the scenarios: the description of each spec
 * or suite file of the run (the document's spec.descriptions), if any,
 * wrapped at columns (as lb_table_print).  Returns 0 or -ENOMEM. */
int lb_table_print_intro(FILE *out, const json_t *doc, int columns);

/* The terminal's one wrapping rule (report_text.c): prints text from
 * column col on (the cursor is there), wrapped at spaces to columns, a
 * figure kept with its unit ("1.5 ms"), continuation lines starting at
 * column indent, and ends the line.  Control characters print as
 * spaces. */
void lb_text_wrap(FILE *out, const char *text, int col, int indent, int columns);

#endif
