/*
 * spec_aa.c — one variant copied over the other (spec_aa.h).
 */
#include "spec_aa.h"

void lb_scenario_spec_make_aa(lb_scenario_spec *s, bool leaky, lb_scenario *storage)
{
    *storage = *s->scenario;
    if (leaky)
        storage->graceful = storage->leaky;
    else
        storage->leaky = storage->graceful;
    s->scenario = storage;
}
