/*
 * spec.h — scenario and suite files, loaded and validated.
 *
 * A scenario file describes one scenario pair under one load; a suite file
 * lists several ("scenarios": [...]) with shared "defaults".  Loading
 * validates everything before anything runs: a JSON syntax error is
 * reported as "file:line:column: message", a semantic error (unknown key,
 * wrong type, value out of range) as "file: $.json.path: message".  The
 * format is documented field by field in the README ("Spec files").
 */
#ifndef LEAKBENCH_SPEC_H
#define LEAKBENCH_SPEC_H

#include "target_spec.h"
#include "threshold.h"
#include "scenarios/scenario.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum lb_load_model { LB_LOAD_CONSTANT = 0, LB_LOAD_POISSON, LB_LOAD_CLOSED } lb_load_model;
const char *lb_load_model_name(lb_load_model m);

typedef enum lb_dist_kind {
    LB_DIST_FIXED = 0,
    LB_DIST_UNIFORM,
    LB_DIST_EXPONENTIAL,
    LB_DIST_LOGNORMAL
} lb_dist_kind;
const char *lb_dist_name(lb_dist_kind k);

/* A service-time distribution, in milliseconds.  Draws are capped at
 * max_ms when max_ms > 0 (useful for the unbounded distributions). */
typedef struct lb_dist {
    lb_dist_kind kind;
    double ms;        /* fixed */
    double min_ms;    /* uniform */
    double max_ms;    /* uniform upper bound, or cap for the others (0 = none) */
    double mean_ms;   /* exponential */
    double median_ms; /* lognormal: exp(mu) */
    double sigma;     /* lognormal: standard deviation of ln(x) */
} lb_dist;

/* One ramp stage: the rate moves linearly from the previous stage's rate
 * (or load.rate for the first) to `rate` over duration_ms. */
typedef struct lb_stage {
    double duration_ms;
    double rate;
} lb_stage;

#define LB_MAX_STAGES     32
#define LB_MAX_THRESHOLDS 32
#define LB_SPEC_NAME_MAX  64
#define LB_SPEC_DESCRIPTION_MAX 4096 /* "description": free text, shown in reports */

/* How the load reaches the pair: the in-process clients (a client task
 * per request calls the variant's handle), or HTTP/1.1 requests from the
 * load engine (harness/run/http_load.c), to the pair served by
 * `leakbench serve`'s server inside the run's child or to a target that
 * is already listening (url). */
typedef enum lb_transport { LB_TRANSPORT_INPROC = 0, LB_TRANSPORT_HTTP } lb_transport;
const char *lb_transport_name(lb_transport t);
typedef enum lb_listen_kind { LB_LISTEN_TCP = 0, LB_LISTEN_UNIX } lb_listen_kind;
const char *lb_listen_name(lb_listen_kind k);

#define LB_MAX_REQUEST_TEMPLATES     8
#define LB_MAX_REQUEST_HEADERS       16
#define LB_HTTP_DEFAULT_CONNECTIONS  64
#define LB_HTTP_DEFAULT_MAX_RESPONSE (1 << 20)
#define LB_HTTP_DEFAULT_METHOD       "GET"
#define LB_HTTP_DEFAULT_PATH                                                                       \
    "/work?service_ms={service_ms}&payload={payload_bytes}&error={error}&seq={seq}&rep={rep}"

/* One request template (core/request_template.h): validated when the spec
 * is loaded; strings owned by the spec (freed by lb_spec_free). */
typedef struct lb_request_spec {
    char *method, *path, *body; /* body NULL = none */
    int n_headers;
    char *header_name[LB_MAX_REQUEST_HEADERS], *header_value[LB_MAX_REQUEST_HEADERS];
    double weight; /* share of the requests, relative to the other templates */
} lb_request_spec;

typedef struct lb_http_spec {
    lb_transport transport;
    lb_listen_kind listen; /* where the run's own server listens (no url) */
    char url[512];         /* "" = serve the pair in the run's child */
    int connections;       /* keep-alive connection cap; 0 = default (see README) */
    int64_t max_response_bytes;
    int n_requests; /* 0 = the default template (GET LB_HTTP_DEFAULT_PATH) */
    lb_request_spec requests[LB_MAX_REQUEST_TEMPLATES];
} lb_http_spec;

/* The connection cap a run uses: load.connections, else the closed model's
 * client count, else LB_HTTP_DEFAULT_CONNECTIONS. */
struct lb_scenario_spec;
int lb_http_connections(const struct lb_scenario_spec *s);

typedef struct lb_guards {
    bool memory_auto;         /* derive from MemAvailable at run time */
    double memory_auto_share; /* share of MemAvailable used when auto (0.5) */
    int64_t memory_bytes;     /* resolved limit (filled at run time when auto) */
    int64_t tasks;            /* 0 = the scheduler's default */
    double wall_ms;           /* 0 = derived: load + settle + grace + 30 s */
} lb_guards;

/* One scenario to run, defaults filled in. */
typedef struct lb_scenario_spec {
    char name[LB_SPEC_NAME_MAX];
    const lb_scenario *scenario;
    char file[4096]; /* the file it came from */
    char path[256];  /* its JSON path in that file ("$" or "$.scenarios[2]") */
    char description[LB_SPEC_DESCRIPTION_MAX]; /* "" when none */

    lb_load_model model;
    double rate;        /* open models: arrivals per second */
    int clients;        /* closed model */
    double think_ms;    /* closed model: pause between a reply and the next request */
    double duration_ms; /* load phase; the sum of the stages when staged */
    int n_stages;
    lb_stage stages[LB_MAX_STAGES];

    lb_dist service;
    double timeout_ms;
    double error_rate;
    int64_t payload_bytes;
    int pool_size;
    int64_t queue_capacity;
    double settle_ms;
    double shutdown_grace_ms;
    double sample_ms;
    lb_guards guards;
    rt_sched_kind scheduler;
    uint64_t seed;
    int repetitions;
    double knob[LB_MAX_KNOBS];
    /* Parsed once, when the spec is loaded (threshold.h): key and
     * expression as written, and the AST that evaluation walks. */
    int n_thresholds;
    lb_threshold thresholds[LB_MAX_THRESHOLDS];
    lb_http_spec http;
    lb_target_spec target; /* a pair of the user's programs instead of `scenario` */
} lb_scenario_spec;

typedef struct lb_spec {
    char path[4096];
    char suite[LB_SPEC_NAME_MAX]; /* "" for a scenario file */
    char description[LB_SPEC_DESCRIPTION_MAX]; /* the suite's, "" when none */
    int n;
    lb_scenario_spec *items;
} lb_spec;

/* Errors are formatted into err (one line, no trailing newline). */
typedef struct lb_spec_error {
    char text[1024];
} lb_spec_error;

/* Loads and validates a scenario or suite file.  0, or -EINVAL (invalid
 * spec, or a device or socket), -ENOENT/-EACCES/-EISDIR (cannot read),
 * -ETIMEDOUT (a FIFO nobody writes to), -EFBIG (over 4 MiB) with err
 * filled. */
int lb_spec_load(const char *path, lb_spec *out, lb_spec_error *err);
/* Same, from a string (tests); name is used in messages. */
int lb_spec_load_string(const char *name, const char *text, lb_spec *out, lb_spec_error *err);
void lb_spec_free(lb_spec *s);

/* Command-line overrides, applied after loading (negative = not given). */
typedef struct lb_spec_overrides {
    double rate;
    double duration_ms;
    double sample_ms;
    int repetitions;
    int scheduler; /* rt_sched_kind, or -1 */
} lb_spec_overrides;
#define LB_SPEC_NO_OVERRIDES ((lb_spec_overrides){-1, -1, -1, -1, -1})
/* 0, or -EINVAL with err filled (e.g. --rate on a closed load). */
int lb_spec_apply_overrides(lb_spec *s, const lb_spec_overrides *o, lb_spec_error *err);

/* The scenario spec as run, defaults filled in, as JSON (new reference). */
json_t *lb_scenario_spec_to_json(const lb_scenario_spec *s);

/* Resolves derived guards for a run: memory from MemAvailable when auto,
 * tasks from the scheduler when 0 (LB_TASKS_DEFAULT_THREADS or
 * LB_TASKS_DEFAULT_COROUTINES), wall time from the phases when 0. */
#define LB_TASKS_DEFAULT_THREADS    10000
#define LB_TASKS_DEFAULT_COROUTINES 1000000
void lb_guards_resolve(const lb_scenario_spec *s, int64_t mem_available_bytes, lb_guards *out);

/* Total load duration and the nominal end of the whole run (ms). */
double lb_spec_expected_ms(const lb_scenario_spec *s);

#endif
