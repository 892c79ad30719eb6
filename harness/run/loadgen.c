/*
 * loadgen.c — random numbers, service-time distributions and arrival
 * schedules (see loadgen.h).
 *
 * Open models.  "constant" spaces arrivals 1/rate apart; "poisson" draws
 * exponential gaps with mean 1/rate.  With stages the rate at time t is
 * interpolated linearly inside the stage that holds t, from the previous
 * stage's rate (load.rate for the first) to the stage's own.  Arrivals are
 * placed by inverting the cumulative rate (the integral of the piecewise
 * linear rate, quadratic inside a stage): the next arrival is where it has
 * grown by 1 (constant) or by an Exp(1) draw (Poisson) since the last, so
 * a ramp from zero gets exactly as many arrivals as its area.
 */
#include "loadgen.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void lb_rng_seed(lb_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t lb_rng_next(lb_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double lb_rng_uniform(lb_rng *r)
{
    return (double)(lb_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Standard normal by Box-Muller (one of the pair is dropped). */
static double normal(lb_rng *r)
{
    double u1 = 1.0 - lb_rng_uniform(r), u2 = lb_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double lb_dist_draw_ms(const lb_dist *d, lb_rng *r)
{
    double x = 0;
    switch (d->kind) {
    case LB_DIST_FIXED:
        return d->ms;
    case LB_DIST_UNIFORM:
        return d->min_ms + (d->max_ms - d->min_ms) * lb_rng_uniform(r);
    case LB_DIST_EXPONENTIAL:
        x = -log(1.0 - lb_rng_uniform(r)) * d->mean_ms;
        break;
    case LB_DIST_LOGNORMAL:
        x = d->median_ms * exp(d->sigma * normal(r));
        break;
    }
    if (d->max_ms > 0 && x > d->max_ms) x = d->max_ms;
    return x < 0 ? 0 : x;
}

void lb_request_draw_next(const lb_scenario_spec *s, lb_rng *r, lb_request_draw *out)
{
    out->service_ns = (int64_t)(lb_dist_draw_ms(&s->service, r) * 1e6);
    out->inject_error = lb_rng_uniform(r) < s->error_rate;
    out->payload_bytes = (size_t)s->payload_bytes;
    out->rand = lb_rng_next(r);
}

uint64_t lb_request_draw_seed(uint64_t seed)
{
    return seed ^ 0x72657175657374ULL; /* "request" */
}

double lb_rate_at(const lb_scenario_spec *s, double t_ms)
{
    if (s->n_stages == 0) return s->rate;
    double from = s->rate, start = 0;
    for (int i = 0; i < s->n_stages; i++) {
        const lb_stage *st = &s->stages[i];
        if (t_ms < start + st->duration_ms) {
            double f = (t_ms - start) / st->duration_ms;
            return from + (st->rate - from) * f;
        }
        from = st->rate;
        start += st->duration_ms;
    }
    return from;
}

void lb_arrivals_init(lb_arrivals *a, const lb_scenario_spec *s, uint64_t seed)
{
    a->spec = s;
    lb_rng_seed(&a->rng, seed);
    a->t_ms = 0;
    a->started = false;
}

/* End of the segment holding t: its stage's end, or the load's end. */
static double segment_end(const lb_scenario_spec *s, double t_ms, double *end_rate)
{
    double start = 0;
    for (int i = 0; i < s->n_stages; i++) {
        start += s->stages[i].duration_ms;
        if (t_ms < start) {
            *end_rate = s->stages[i].rate;
            return start;
        }
    }
    *end_rate = lb_rate_at(s, t_ms);
    return s->duration_ms;
}

bool lb_arrivals_next(lb_arrivals *a, double *at_ms)
{
    const lb_scenario_spec *s = a->spec;
    double t = a->t_ms;
    /* How much cumulative intensity (expected arrivals) lies between this
     * arrival and the next: exactly 1 for constant spacing, Exp(1) for a
     * Poisson process.  The first arrival is at 0 when the rate is. */
    double need;
    if (!a->started && lb_rate_at(s, 0) > 0)
        need = 0;
    else if (s->model == LB_LOAD_POISSON)
        need = -log(1.0 - lb_rng_uniform(&a->rng));
    else
        need = 1;
    a->started = true;
    while (t < s->duration_ms) {
        double r1;
        double end = segment_end(s, t, &r1);
        if (end > s->duration_ms) end = s->duration_ms;
        double r0 = lb_rate_at(s, t) / 1000, len = end - t; /* per ms */
        r1 /= 1000;
        double area = (r0 + r1) / 2 * len;
        if (area >= need && len > 0) {
            /* Solve r0 g + b g^2 / 2 = need for g, in the form that is
             * stable for b -> 0 and for r0 = 0. */
            double b = (r1 - r0) / len;
            double g = need > 0 ? 2 * need / (r0 + sqrt(r0 * r0 + 2 * b * need)) : 0;
            t += g < len ? g : len;
            if (t >= s->duration_ms) return false;
            a->t_ms = t;
            *at_ms = t;
            return true;
        }
        need -= area;
        t = end;
    }
    return false;
}
