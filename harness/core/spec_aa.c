/*
 * spec_aa.c — one variant copied over the other (spec_aa.h): the
 * built-in pair's variant table, and a target pair's program (a plain
 * struct, so an assignment copies it whole).
 */
#include "spec_aa.h"

void lb_scenario_spec_make_aa(lb_scenario_spec *s, bool leaky, lb_scenario *storage)
{
    if (s->target.active) {
        if (leaky)
            s->target.graceful = s->target.leaky;
        else
            s->target.leaky = s->target.graceful;
    }
    if (!s->scenario) return; /* a target pair names no built-in one */
    *storage = *s->scenario;
    if (leaky)
        storage->graceful = storage->leaky;
    else
        storage->leaky = storage->graceful;
    s->scenario = storage;
}
