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

#endif
