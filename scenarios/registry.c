/*
 * registry.c — the list of scenario pairs compiled into leakbench.
 *
 * Every scenario file ends with LB_SCENARIO(def), whose constructor calls
 * lb_scenario_register() before main() runs.  The registry is a fixed
 * array kept sorted by pattern number, then name, so `leakbench list` and
 * reports show the catalogue in the catalogue's order (README "The leak catalogue").  It is written
 * only by constructors (single-threaded, before main) and read-only
 * afterwards, so it needs no lock.
 */
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LB_MAX_SCENARIOS 64

static const lb_scenario *registry[LB_MAX_SCENARIOS];
static size_t n_registered;

static int scenario_order(const lb_scenario *a, const lb_scenario *b)
{
    if (a->pattern != b->pattern) return a->pattern < b->pattern ? -1 : 1;
    return strcmp(a->name, b->name);
}

void lb_scenario_register(const lb_scenario *s)
{
    if (n_registered == LB_MAX_SCENARIOS) {
        fprintf(stderr, "%s:%d: too many scenarios (raise LB_MAX_SCENARIOS)\n", __FILE__, __LINE__);
        abort();
    }
    for (size_t i = 0; i < n_registered; i++) {
        if (!strcmp(registry[i]->name, s->name)) {
            fprintf(stderr, "%s:%d: scenario '%s' registered twice\n", __FILE__, __LINE__, s->name);
            abort();
        }
    }
    /* Insertion sort keeps the array ordered as scenarios arrive. */
    size_t i = n_registered++;
    while (i > 0 && scenario_order(s, registry[i - 1]) < 0) {
        registry[i] = registry[i - 1];
        i--;
    }
    registry[i] = s;
}

const lb_scenario *lb_scenario_find(const char *name)
{
    for (size_t i = 0; i < n_registered; i++)
        if (!strcmp(registry[i]->name, name)) return registry[i];
    return NULL;
}

size_t lb_scenario_count(void)
{
    return n_registered;
}

const lb_scenario *lb_scenario_at(size_t i)
{
    return i < n_registered ? registry[i] : NULL;
}

const char *lb_outcome_name(lb_outcome o)
{
    static const char *const names[LB_OUTCOME_COUNT] = {
        [LB_COMPLETED] = "completed", [LB_TIMED_OUT] = "timed_out", [LB_FAILED] = "failed",
        [LB_REJECTED] = "rejected",   [LB_CANCELLED] = "cancelled",
    };
    return (unsigned)o < LB_OUTCOME_COUNT ? names[o] : "unknown";
}
