/*
 * spec_aa.h — turning a scenario spec into an A/A spec (`run --aa
 * VARIANT`): the chosen variant is copied over the other one, so both
 * sides of every repetition run the same code under the same load and
 * their difference is pure noise (ci/aa_noise.h measures it).
 *
 * The copy is made at the level of the spec's variants, whatever they
 * are: for a built-in pair the scenario's variant table (its setup,
 * handle and shutdown functions) is copied into STORAGE and the spec
 * points at the copy; for a target pair (target_spec.h) the variant's
 * program — command, environment, port, readiness, probe, shutdown — is
 * copied over the other's.  The runner never knows it runs an A/A pair,
 * and the spec as run (results "spec") shows both sides the same.
 */
#ifndef LEAKBENCH_SPEC_AA_H
#define LEAKBENCH_SPEC_AA_H

#include "spec.h"

/* Makes s an A/A spec of the leaky (leaky = true) or the graceful
 * variant.  STORAGE receives the copied built-in scenario (unused for a
 * target pair) and must outlive s's runs. */
void lb_scenario_spec_make_aa(lb_scenario_spec *s, bool leaky, lb_scenario *storage);

#endif
