/*
 * results_fixture.h — for the results tests: an lb_results of one
 * scenario, loaded from spec text, with a leaky and a graceful run made
 * by the test's own faker, as `run` would hold them before building the
 * document.
 *
 * Header-only (a static function), like core/test_util.h: test code, not
 * part of the harness.
 */
#ifndef LEAKBENCH_RESULTS_FIXTURE_H
#define LEAKBENCH_RESULTS_FIXTURE_H

#include "results.h"
#include "core/test_util.h"

#include <stdlib.h>
#include <string.h>

typedef void (*lb_test_fake_run)(lb_run_result *run, const lb_scenario_spec *spec, bool leaky);

static inline void lb_test_results_of(lb_results *r, lb_spec *spec, const char *spec_text,
                                      lb_test_fake_run fake)
{
    *spec = lb_test_load_spec("t.json", spec_text);
    memset(r, 0, sizeof *r);
    static char *argv[] = {"leakbench", "run", "t.json"};
    static const char *const paths[] = {"t.json"};
    r->argc = 3;
    r->argv = argv;
    r->n_paths = 1;
    r->spec_paths = paths;
    r->n_scenarios = 1;
    r->scenarios = calloc(1, sizeof *r->scenarios);
    assert_non_null(r->scenarios);
    r->scenarios[0].spec = &spec->items[0];
    for (int v = 0; v < 2; v++) {
        lb_run_result run;
        fake(&run, &spec->items[0], v == 0);
        assert_int_equal(lb_scenario_result_add(&r->scenarios[0], &run), 0);
    }
}

#endif
