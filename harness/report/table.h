/*
 * table.h — the terminal's before/after table, in the seed's shape:
 * peak tasks, memory with its trend and recovery time for the leaky
 * ("before fix") and graceful ("after fix") twin, then leaked tasks,
 * shutdown time, guards and the request accounting of every run.
 */
#ifndef LEAKBENCH_TABLE_H
#define LEAKBENCH_TABLE_H

#include "run/results.h"

#include <stdio.h>

void lb_table_print(FILE *out, const lb_scenario_result *s);
/* "4.2 GB", "150 MB", "812 KB" (decimal units, as the seed table). */
void lb_format_bytes(double bytes, char *buf, size_t n);
/* "50,000" */
void lb_format_count(double v, char *buf, size_t n);

#endif
