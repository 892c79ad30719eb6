/*
 * loadgen.h — what the load looks like: random numbers, service-time
 * draws and the arrival schedule of the open load models.
 *
 * Everything here is deterministic for a given seed and free of the
 * runtime, so the leaky and the graceful twin of one repetition see the
 * very same requests at the very same offsets, and the schedule can be
 * unit-tested without running anything.
 */
#ifndef LEAKBENCH_LOADGEN_H
#define LEAKBENCH_LOADGEN_H

#include "core/spec.h"

#include <stdbool.h>
#include <stdint.h>

/* xoshiro256** seeded through splitmix64. */
typedef struct lb_rng {
    uint64_t s[4];
} lb_rng;
void lb_rng_seed(lb_rng *r, uint64_t seed);
uint64_t lb_rng_next(lb_rng *r);
double lb_rng_uniform(lb_rng *r); /* [0, 1) */

/* A service time in ms drawn from d (never negative, capped at max_ms). */
double lb_dist_draw_ms(const lb_dist *d, lb_rng *r);

/* What one request asks for, drawn from the spec: its service time, whether
 * it takes the error path, its payload and a random number for the
 * scenario.  The in-process clients (child.c) and the HTTP engine
 * (http_load.c) draw in this order from the same stream, so both transports
 * send the same workload for one seed. */
typedef struct lb_request_draw {
    int64_t service_ns;
    bool inject_error;
    size_t payload_bytes;
    uint64_t rand;
} lb_request_draw;
void lb_request_draw_next(const lb_scenario_spec *s, lb_rng *r, lb_request_draw *out);
/* The seed of the request draws of a run whose repetition seed is seed. */
uint64_t lb_request_draw_seed(uint64_t seed);

/* The arrival rate (per second) at t_ms after the start of the load. */
double lb_rate_at(const lb_scenario_spec *s, double t_ms);

/* Arrival schedule of an open load (constant or Poisson, with stages). */
typedef struct lb_arrivals {
    const lb_scenario_spec *spec;
    lb_rng rng;
    double t_ms; /* offset of the last arrival */
    bool started;
} lb_arrivals;
void lb_arrivals_init(lb_arrivals *a, const lb_scenario_spec *s, uint64_t seed);
/* Sets *at_ms to the next arrival's offset from the start of the load;
 * false once the next arrival would be at or after the load's end. */
bool lb_arrivals_next(lb_arrivals *a, double *at_ms);

#endif
