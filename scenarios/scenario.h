/*
 * scenario.h — the contract between the harness and a scenario pair.
 *
 * A scenario is one leak pattern (README "The leak catalogue") written twice
 * against the runtime (runtime/rt.h): a leaky twin that blocks forever
 * under the pattern's trigger and a graceful twin that does the same job
 * and leaves nothing behind.  Each pair is one C file in scenarios/ that
 * ends with LB_SCENARIO(def); a constructor registers it, so adding a pair
 * means one new C file and one spec file, nothing else: the pattern's
 * number, name, description, fix and leak signature (what the leak report
 * says about it) all live in that definition.
 *
 * How the harness drives a variant (inside the child process, as tasks):
 *   1. ready:    state = variant.setup(&env)            (pipeline is built)
 *   2. load:     for every arrival the harness spawns a "client" task that
 *                calls variant.handle(state, &req) and records the outcome
 *                it returns and its latency.
 *   3. settle:   no new arrivals; in-flight requests finish or time out.
 *   4. shutdown: env.root is cancelled; the harness then waits for every
 *                client task it spawned to finish, and only then calls
 *                variant.shutdown(state) (a graceful twin waits for
 *                everything it started; a leaky one may leave tasks
 *                behind — they are the leak).
 * What the harness guarantees to shutdown(): it is called after every
 * handle() call has returned and no client can call handle() any more —
 * or, if some handler has not returned within the spec's
 * shutdown_grace_ms (counted from the cancel; a leaky handler may never
 * return), at the end of that grace period with those handlers still
 * running.  Their requests are then reported as unanswered, and a variant
 * whose handler can outlive the grace period must not free what it uses
 * in shutdown() (scenario_util.h's SC_COUNTED_HANDLER / sc_drain do
 * this).  shutdown() is called exactly once, from the harness's main
 * task.
 * A request's ctx is a child of env.root with the client timeout as its
 * deadline; the harness releases it after handle returns.
 */
#ifndef LEAKBENCH_SCENARIO_H
#define LEAKBENCH_SCENARIO_H

#include "../runtime/rt.h"

/* How a request ended, from the client's point of view.  Every request
 * is counted exactly once in one of these. */
typedef enum lb_outcome {
    LB_COMPLETED = 0, /* got its reply */
    LB_TIMED_OUT,     /* the client gave up at its timeout */
    LB_FAILED,        /* the pipeline answered with an error */
    LB_REJECTED,      /* refused by backpressure / admission control */
    LB_CANCELLED,     /* cancelled by shutdown before it ended */
    LB_OUTCOME_COUNT
} lb_outcome;
const char *lb_outcome_name(lb_outcome o); /* "completed", "timed_out", ... */

typedef struct lb_request {
    uint64_t id;
    rt_ctx *ctx; /* deadline = arrival + client timeout */
    rt_time arrival;
    int64_t service_ns;   /* how long the work takes (drawn per request) */
    int64_t timeout_ns;   /* client timeout */
    bool inject_error;    /* drawn with the spec's error probability */
    size_t payload_bytes; /* what the task doing the work must hold */
    uint64_t rand;        /* a per-request random number for the scenario */
} lb_request;

/* A scenario-specific load knob (e.g. fan-out width), settable in specs
 * under "knobs": {"name": value}.  Values are validated against min/max
 * (and integrality) by the spec loader. */
typedef struct lb_knob {
    const char *name;
    const char *help;
    double def, min, max;
    bool integer;
} lb_knob;

#define LB_MAX_KNOBS 8

typedef struct lb_scenario lb_scenario;

/* How the pattern shows in a leak report (harness/run/leakreport.c): the
 * blocking operations its leaked tasks wait in, and what a hint says when
 * the operation alone points to this pattern and no other.  catalog_test
 * checks that the leaky twin's tasks do block in one of OPS. */
typedef struct lb_leak_signature {
    unsigned ops;      /* LB_OP_BIT(RT_OP_SEND) | ...: where the leaked tasks block */
    bool full_channel; /* senders wait on a full buffered channel (not one nobody reads) */
    const char *name;  /* the pattern's short name: "lock leak" */
    const char *hint;  /* its fix in a few words: "one lock per path, ..." */
} lb_leak_signature;
#define LB_OP_BIT(op) (1u << (op))

/* What a variant is given at setup. */
typedef struct lb_env {
    const lb_scenario *scenario;
    rt_ctx *root;              /* cancelled at shutdown */
    int pool_size;             /* workers for pooled designs */
    int64_t queue_cap;         /* bounded queue capacity */
    size_t payload_bytes;      /* default payload size */
    double knob[LB_MAX_KNOBS]; /* values, in the order of scenario->knobs */
    uint64_t seed;
} lb_env;

typedef struct lb_variant {
    /* Builds the pipeline; returns its state, or NULL on failure. */
    void *(*setup)(const lb_env *env);
    /* Serves one request inside a client task; returns its outcome. */
    lb_outcome (*handle)(void *state, lb_request *req);
    /* Called after env->root is cancelled and every handle() returned
     * (or the grace period ran out; see the top of this file). */
    void (*shutdown)(void *state);
} lb_variant;

struct lb_scenario {
    const char *name;        /* spec key, e.g. "timeout_leak" */
    int pattern;             /* number in the leak catalogue (README) */
    const char *title;       /* "timeout leak (the seed)" */
    const char *trigger;     /* the load knob that triggers the leak */
    const char *source;      /* where the pattern comes from */
    const char *description; /* what the leaky twin does wrong */
    const char *fix;         /* what the graceful twin does instead */
    lb_leak_signature leak;  /* how its leak shows in a leak report */
    const lb_knob *knobs;
    int n_knobs;
    lb_variant leaky, graceful;
};

void lb_scenario_register(const lb_scenario *s);
#define LB_SCENARIO(def)                                                                           \
    static void __attribute__((constructor)) lb_register_##def(void)                               \
    {                                                                                              \
        lb_scenario_register(&def);                                                                \
    }
const lb_scenario *lb_scenario_find(const char *name);
size_t lb_scenario_count(void);
const lb_scenario *lb_scenario_at(size_t i); /* sorted by pattern, then name */

/* Allocates a payload of n bytes and touches every page so it is resident,
 * and records it against the current task (rt_task_hold).  Freeing unmaps
 * it, except that up to LB_PAYLOAD_KEPT freed payloads of at most
 * LB_PAYLOAD_REUSE_MAX bytes stay mapped for the next payload of the same
 * page-rounded size (payload.c says why). */
#define LB_PAYLOAD_REUSE_MAX (64 * 1024)
#define LB_PAYLOAD_KEPT      16
void *lb_payload_new(size_t n);
void lb_payload_free(void *p, size_t n);

#endif
